"""The planning stack under the real `ros2 launch` and under gs-stack.

* launch_testing (test/launch_tests/planning_launch.py): nodes up, contract topics, the
  plan action, every node stopped by SIGINT with exit 0 and no error lines;
* `ros2 launch gs_dynamics planning.launch.py`, a plan goal running, stopped like a
  terminal's Ctrl-C (SIGINT to the process group) and with SIGTERM to the process group
  (a service manager): every node exits within launch's SIGINT grace period, without
  error lines. With SIGINT launch exits 0 after "process has finished cleanly" of every
  node and no escalation line. On SIGTERM launch itself dies of the signal at once (exit
  -15, launch's design: "using SIGTERM ... can result in orphaned processes"), so there
  the test checks that the nodes' processes are gone within the grace period;
* `gs-stack planning` (one process per node), a plan goal running, stopped with SIGINT
  and with SIGTERM sent to the runner alone: it forwards the signal, reports every node's
  exit, and every node process is gone; `gs-stack sim --composed` (one process) stops
  with exit 0 too.

Skipped with the reason where `ros2 launch`/launch_testing are not installed (the gs-stack
tests need neither).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import time

import pytest

from gs_dynamics.stacks import resolve
from ros_harness import REPO, launch_testing_missing, process_state, run_launch_test

pytestmark = pytest.mark.timeout(560)

# the nodes config/stacks.yaml starts for the planning stack (follows the stack as it grows)
NODES = [n.name for n in resolve("planning", {"oracle_state": "true", "use_gpu": "false"})]
BAD = ["Traceback", "terminate called", "context is invalid", "[ERROR]", "exit code -"]


def test_planning_stack_under_launch_testing(ros_environment, tmp_path):
    run_launch_test(
        REPO / "test" / "launch_tests" / "planning_launch.py",
        ros_environment,
        tmp_path,
        timeout=480,
    )


def _children(pid: int) -> list[int]:
    with open(f"/proc/{pid}/task/{pid}/children") as f:
        return [int(p) for p in f.read().split()]


def _gone(pids: list[int], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not any(os.path.exists(f"/proc/{p}") and process_state(p) != "Z" for p in pids):
            return True
        time.sleep(0.1)  # polling a bounded wait
    return False


def _wait_ready(proc) -> None:
    """Every node of the stack logged its ready line (a node still constructing when the
    stop arrives exits 0 without its "SIGINT: stopping" line, which is right but would
    fail the log checks below)."""
    for name in NODES:
        proc.wait_for_output(re.escape(f"{name} ready"), timeout=120)


def _goal_in_flight(test_node) -> None:
    """Send a plan goal (MPC in the simulator) and return once it was accepted: the stop
    then finds the planner busy in a goal (it used to miss the grace period then)."""
    from rclpy.action import ActionClient

    from gs_dynamics_interfaces.action import Plan

    client = ActionClient(test_node.node, Plan, "planner/plan")
    assert test_node.spin_until(client.server_is_ready, 60), "planner/plan not available"
    goal = Plan.Goal(target_preset="straight_line", execute=True, max_pushes=3)
    handle = test_node.wait_future(client.send_goal_async(goal), 60)
    assert handle.accepted
    test_node.spin_until(lambda: False, 1.0)  # let the planner get into the goal


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=lambda s: s.name)
def test_ros2_launch_stops_every_node_within_the_grace_period(process_manager, rclpy_node, sig):
    reason = launch_testing_missing()
    if reason or shutil.which("ros2") is None:
        pytest.skip(reason or "ros2 is not installed")
    launch = process_manager.start(
        "launch", ["ros2", "launch", "gs_dynamics", "planning.launch.py", "oracle_state:=true"]
    )
    _wait_ready(launch)
    nodes = _children(launch.proc.pid)
    assert len(nodes) == len(NODES), launch.output()
    _goal_in_flight(rclpy_node)
    start = time.monotonic()
    os.killpg(launch.proc.pid, sig)  # launch and its nodes, as a terminal's Ctrl-C does
    code = launch.proc.wait(timeout=30)
    took = time.monotonic() - start
    log = launch.output()
    assert _gone(nodes, 5.0 - min(took, 5.0)), f"node processes left: {nodes}\n{log}"
    for bad in BAD:
        assert bad not in log, log
    if sig == signal.SIGTERM:
        assert code == -signal.SIGTERM, log  # launch's own reaction to SIGTERM
        return
    assert code == 0, log
    assert took < 5.0, f"launch took {took:.1f} s to stop\n{log}"
    assert "sending signal 'SIGTERM'" not in log and "SIGKILL" not in log, log
    assert log.count("process has finished cleanly") == len(NODES), log
    for bad in BAD:
        assert bad not in log, log


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=lambda s: s.name)
def test_gs_stack_runs_one_process_per_node_and_stops_them(process_manager, rclpy_node, sig):
    if shutil.which("gs-stack") is None:
        pytest.skip("gs-stack is not installed (run scripts/bootstrap.sh)")
    stack = process_manager.start("gs-stack", ["gs-stack", "planning", "oracle_state:=true"])
    _wait_ready(stack)
    nodes = _children(stack.proc.pid)
    assert len(nodes) == len(NODES), stack.output()
    _goal_in_flight(rclpy_node)
    stack.proc.send_signal(sig)  # the runner alone: it must forward the stop
    code = stack.proc.wait(timeout=30)
    log = stack.output()
    assert _gone(nodes, 5), f"node processes left: {nodes}\n{log}"
    assert code == 0, log
    for name in NODES:
        assert re.search(rf"node '{name}' \(pid \d+\) stopped with code 0", log), log
        assert f"[{name}]: {sig.name}: stopping" in log, log
    assert "still running after" not in log, log
    for bad in BAD:
        assert bad not in log, log


def test_gs_stack_composed_mode_stops_cleanly(process_manager):
    """The one-process option: the sim stack in this process's executor, SIGINT -> exit 0."""
    if shutil.which("gs-stack") is None:
        pytest.skip("gs-stack is not installed (run scripts/bootstrap.sh)")
    stack = process_manager.start("gs-stack", ["gs-stack", "sim", "--composed"])
    stack.wait_for_output(re.escape("running 1 node(s): /sim"), timeout=120)
    assert _children(stack.proc.pid) == []  # no node processes: all in this one
    stack.proc.send_signal(signal.SIGINT)
    start = time.monotonic()
    code = stack.proc.wait(timeout=30)
    log = stack.output()
    assert code == 0 and time.monotonic() - start < 5.0, log
    assert "stack 'sim' stopped" in log, log
    for bad in BAD:
        assert bad not in log, log
