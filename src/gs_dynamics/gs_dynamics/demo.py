"""`make demo`: bring up the planning stack on a bent rope, straighten it, film it, score it.

Starts the planning stack (`gs-stack planning`, one process per node) like a user's launch
would, on a simulated rope that starts clearly bent (``--shape u`` or ``s``, placed by
``--seed``), and acts as a client from this process: once the planner's observed state
flows, it asks ``planner/plan`` to straighten the rope (a ``straight_line`` goal with
execute=true, like other robot code would send) and prints every push with the error
before it and the error after it, as the planner observed it and as the simulator's ground
truth has it. It writes out/demo/demo.mp4 (a camera's view with the observed, predicted and
target states drawn over it), errors.png and a top-down picture per push.

The planner observes what the cameras see (segmentation + tracking) by default;
``oracle_state:=true`` makes it observe the simulator's ground truth instead, and the
output says ORACLE. Ground truth is otherwise read only to score the run. Without a
planner the demo executes one push across the object through ``robot/execute_push`` and
reports how far the object moved. Nodes whose package is not installed are skipped and
listed. The exit status is 0 only when the goal SUCCEEDED.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import rclpy
from geometry_msgs.msg import Point
from rclpy.action import ActionClient
from rclpy.executors import SingleThreadedExecutor
from rclpy.parameter import Parameter
from sensor_msgs.msg import PointCloud2

from gs_common.names import EXECUTE_PUSH_ACTION, GT_POINTS_TOPIC, PLAN_ACTION
from gs_common.ros.pointcloud2 import cloud_to_xyz
from gs_common.ros.qos import SENSOR_QOS
from gs_dynamics.monitor import StackMonitor
from gs_dynamics_interfaces.action import ExecutePush, Plan


def spin_for(executor, seconds: float, until=lambda: False) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end and not until():
        executor.spin_once(timeout_sec=0.1)
    return until()


def push_across_object(node, executor, timeout: float = 120.0) -> None:
    """Push once through the object's centre, across its main axis; report what moved."""
    latest: list[np.ndarray] = []
    node.create_subscription(
        PointCloud2, GT_POINTS_TOPIC, lambda m: latest.append(cloud_to_xyz(m)), SENSOR_QOS
    )
    client = ActionClient(node, ExecutePush, EXECUTE_PUSH_ACTION)
    if not spin_for(executor, 10.0, lambda: client.server_is_ready() and bool(latest)):
        print(f"{EXECUTE_PUSH_ACTION} or the simulator's ground truth is not available: no push")
        return
    before = latest[-1]
    centre = before.mean(axis=0)
    axis = np.linalg.svd(before[:, :2] - centre[:2])[2][0]
    normal = np.array([-axis[1], axis[0]])
    start, end = centre[:2] - 0.10 * normal, centre[:2] + 0.05 * normal
    goal = ExecutePush.Goal(
        start=Point(x=float(start[0]), y=float(start[1])),
        end=Point(x=float(end[0]), y=float(end[1])),
        height=0.0,
        speed=0.0,
    )
    print(
        f"push: ({start[0]:+.3f}, {start[1]:+.3f}) -> ({end[0]:+.3f}, {end[1]:+.3f}) m "
        "across the object (simulator default height and speed)",
        flush=True,
    )
    sent = client.send_goal_async(goal)
    spin_for(executor, 20.0, sent.done)
    if not sent.done() or not sent.result().accepted:
        print("push: goal was not accepted")
        return
    result_future = sent.result().get_result_async()
    spin_for(executor, timeout, result_future.done)
    if not result_future.done():
        print(f"push: no result within {timeout:.0f} s")
        return
    result = result_future.result().result
    n_before = len(latest)
    spin_for(executor, 5.0, lambda: len(latest) > n_before)
    after = latest[-1]
    moved = np.linalg.norm(after - before, axis=1)
    print(
        f"push: status {result.status} '{result.message}', {result.duration:.2f} s; "
        f"ground-truth object points moved mean {100 * moved.mean():.1f} cm, "
        f"max {100 * moved.max():.1f} cm"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="gs-demo", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--duration",
        type=float,
        default=3.0,
        help="seconds to watch the running stack before planning (at least until the "
        "planner's observed state flows)",
    )
    parser.add_argument(
        "--shape",
        default="u",
        choices=["u", "s", "random"],
        help="the rope's initial curve (the stack's rope_shape argument)",
    )
    parser.add_argument("--seed", type=int, default=0, help="the simulator's seed (pose)")
    parser.add_argument("--camera", default="cam0", help="camera filmed in demo.mp4")
    parser.add_argument(
        "--startup-timeout",
        type=float,
        default=120.0,
        help="seconds to wait for the stack to come up",
    )
    parser.add_argument("--out", default="out/demo", help="where the pictures go")
    parser.add_argument("--max-pushes", type=int, default=8, help="pushes the planner may use")
    parser.add_argument("arguments", nargs="*", help="stack arguments, e.g. source:=sim")
    args = parser.parse_args(argv)
    given = {a.split(":=", 1)[0] for a in args.arguments}
    for key, value in (("rope_shape", args.shape), ("seed", args.seed)):
        if key not in given:
            args.arguments.append(f"{key}:={value}")
    given_args = dict(a.split(":=", 1) for a in args.arguments if ":=" in a)
    oracle = given_args.get("oracle_state") == "true"
    t_start = time.monotonic()

    env = dict(os.environ)
    env.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
    os.environ.update(ROS_AUTOMATIC_DISCOVERY_RANGE=env["ROS_AUTOMATIC_DISCOVERY_RANGE"])
    cmd = [
        sys.executable,
        "-m",
        "gs_dynamics.runner",
        "planning",
        *args.arguments,
        "--skip-missing",
    ]
    print(f"demo: starting {' '.join(cmd[2:])}", flush=True)
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    log_path = out_dir / "stack.log"
    stack = subprocess.Popen(
        cmd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    lines: list[str] = []
    came_up = threading.Event()

    def drain() -> None:
        """Copy the stack's output to stack.log for its whole life (a full pipe would block
        the stack); echo it until the stack reports that it runs."""
        with open(log_path, "w") as log:
            for line in stack.stdout:
                log.write(line)
                log.flush()
                lines.append(line.rstrip())
                if not came_up.is_set():
                    print(f"  [stack] {line.rstrip()}", flush=True)
                    if "running" in line:
                        came_up.set()
        came_up.set()

    threading.Thread(target=drain, name="stack-output", daemon=True).start()
    try:
        came_up.wait(args.startup_timeout)
        if stack.poll() is not None or not any("running" in ln for ln in lines):
            print(f"demo: the stack did not start; see {log_path}", file=sys.stderr)
            return 1
        print(f"demo: the stack is up; its log goes to {log_path}", flush=True)
        started = re.search(r"running (\d+) node", "\n".join(lines))
        skipped = [ln for ln in lines if "skipping" in ln]

        rclpy.init()
        monitor = StackMonitor(parameter_overrides=[Parameter("report_period", value=0.0)])
        executor = SingleThreadedExecutor()
        executor.add_node(monitor)
        plan_client = ActionClient(monitor, Plan, PLAN_ACTION)
        from gs_common.settings import defaults
        from gs_mppi_planner.settings import SETTINGS, STATE_SOURCES

        source = defaults(SETTINGS)["state_source"]  # = config/planner.yaml (tested)
        state_topic = GT_POINTS_TOPIC if oracle else STATE_SOURCES[source]
        observed = threading.Event()
        monitor.create_subscription(PointCloud2, state_topic, lambda _m: observed.set(), SENSOR_QOS)
        spin_for(executor, args.duration)
        print(f"demo: waiting for the planner's observed state on {state_topic}", flush=True)
        spin_for(executor, args.startup_timeout, observed.is_set)
        # the planner's action server: discovery can lag its "ready" line by seconds
        spin_for(executor, 20.0, plan_client.server_is_ready)
        planner_up = plan_client.server_is_ready()

        print("\n===== demo summary =====")
        print(f"nodes running in the stack: {started.group(1) if started else '?'}")
        for ln in skipped:
            print(f"  not installed -> {ln.split('skipping ', 1)[1]}")
        monitor.close()
        if planner_up:
            from gs_evaluation.demo_client import straighten_rope

            print(
                f"\n===== straightening the rope ({given_args['rope_shape']}, seed "
                f"{given_args['seed']}) through "
                "planner/plan, observed via "
                + (
                    "ORACLE: the simulator's ground truth (oracle_state:=true)"
                    if oracle
                    else f"the cameras: {state_topic} (ground truth only scores)"
                ),
                flush=True,
            )
            result = straighten_rope(
                monitor,
                executor,
                args.out,
                max_pushes=args.max_pushes,
                oracle=oracle,
                state_topic=state_topic,
                camera=args.camera,
            )
            if result is None:
                print("demo: the planner did not answer in time", file=sys.stderr)
                return 1
            print("\n===== contract topics over the whole run =====")
            monitor.close()
            took = time.monotonic() - t_start
            if result.status != Plan.Result.STATUS_SUCCEEDED:
                print(f"demo: FAILED to straighten the rope ({took:.0f} s)", file=sys.stderr)
                return 1
            print(f"demo: done in {took:.0f} s; pictures and demo.mp4 in {args.out}")
        else:
            print(f"{PLAN_ACTION} is not served: no planning was run")
            push_across_object(monitor, executor)
        executor.shutdown()
        monitor.destroy_node()
        rclpy.try_shutdown()
        return 0
    finally:
        if stack.poll() is None:
            os.killpg(stack.pid, signal.SIGINT)
            try:
                stack.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(stack.pid, signal.SIGKILL)
                stack.wait()


if __name__ == "__main__":
    sys.exit(main())
