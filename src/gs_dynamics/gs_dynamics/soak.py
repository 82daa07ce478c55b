"""Soak benchmark of the planning stack (#11): run it under a steady stream of goals and
camera data for a while and report what it served and how its memory behaved.

    python -m gs_dynamics.soak --duration 600 --out out/soak

Starts `gs-stack planning oracle_state:=true` (one process per node, as users start it) on
its own ROS domain restricted to localhost; the simulator streams its cameras (15 Hz, 4
cameras) all along. This process sends `planner/plan` goals one after another (a cycle of
presets; every ``--execute-every``-th goal executes one push in the simulator, the others
only plan), samples the resident memory of every node process every ``--sample-period``
seconds (psutil, /proc otherwise), counts the messages it receives on the stack's output
topics, and at the end stops the stack with SIGINT and writes:

- ``summary.json``: goals served, results by status, goal latency, dropped/rejected frames
  per node (the last counters the nodes logged, e.g. tracking's "dropped N complete frames
  while busy"), received-topic rates, RSS at start / after 30 s / at the end per node, and
  the nodes' exit codes;
- ``rss.csv`` and ``rss.png``: resident memory of every node process over time.
"""

from __future__ import annotations

import argparse
import collections
import csv
import json
import os
import re
import sys
import time
from pathlib import Path

from gs_dynamics.stack_process import StackProcess, stack_env

# the cycle of goals: (preset, preset_x, preset_yaw)
GOALS = (
    ("translate", 0.02, 0.0),
    ("rotate", 0.0, 0.3),
    ("straight_line", 0.0, 1.5708),
    ("translate", -0.02, 0.0),
)


def rss_bytes(pid: int) -> int | None:
    """Resident set size of ``pid`` in bytes (None: the process is gone)."""
    try:
        import psutil

        return psutil.Process(pid).memory_info().rss
    except ImportError:
        pass
    except Exception:  # psutil.NoSuchProcess and friends
        return None
    try:
        with open(f"/proc/{pid}/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return None


def node_counters(log: str) -> dict[str, dict[str, int]]:
    """The last 'dropped N' / 'rejected N' counter each node logged."""
    out: dict[str, dict[str, int]] = collections.defaultdict(dict)
    for line in log.splitlines():
        for m in re.finditer(r"(dropped|rejected) (\d+)", line):
            node = re.search(r"\[(\w+)\]: ", line)
            if node:
                out[node.group(1)][m.group(1)] = int(m.group(2))
    return dict(out)


def plot_rss(samples: list[dict], names: list[str], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4.5))
    for name in names:
        pts = [(s["t"], s[name] / 2**20) for s in samples if s.get(name) is not None]
        if pts:
            ax.plot(*zip(*pts, strict=True), label=name)
    tot = [(s["t"], s["total"] / 2**20) for s in samples]
    ax.plot(*zip(*tot, strict=True), "k--", label="all nodes")
    ax.set_xlabel("time since the stack was ready [s]")
    ax.set_ylabel("resident memory [MiB]")
    ax.set_title("gs-stack planning oracle_state:=true under a goal stream")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    tmp = path.with_suffix(".tmp.png")
    fig.savefig(tmp, dpi=110)
    os.replace(tmp, path)
    plt.close(fig)


def _write_json(path: Path, data: dict) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n")
    os.replace(tmp, path)


def soak(args: argparse.Namespace) -> dict:
    import rclpy
    from rclpy.action import ActionClient
    from rclpy.executors import SingleThreadedExecutor
    from sensor_msgs.msg import Image, PointCloud2
    from tqdm import tqdm

    from gs_common import names
    from gs_common.ros.qos import SENSOR_QOS, STATE_QOS
    from gs_dynamics_interfaces.action import Plan
    from gs_dynamics_interfaces.msg import PredictedStates

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    env = stack_env(args.domain_id)
    os.environ.update({k: env[k] for k in ("ROS_DOMAIN_ID", "ROS_AUTOMATIC_DISCOVERY_RANGE")})
    log_path = out / "stack.log"
    stack = StackProcess(["planning", "oracle_state:=true", *args.stack_args], env, log_path)
    context = rclpy.Context()
    node = None
    try:
        # RSS from the moment the node processes exist (the old figure: 546 MiB at start)
        pids = stack.wait_ready(args.ready_timeout)
        ready_after = stack.ready_after
        rclpy.init(context=context, domain_id=args.domain_id)
        node = rclpy.create_node("soak_client", context=context)
        executor = SingleThreadedExecutor(context=context)
        executor.add_node(node)
        received = collections.Counter()
        for topic, typ, qos in (
            (names.color_image_topic("cam0"), Image, SENSOR_QOS),
            (names.TRACKING_PARTICLES, PointCloud2, SENSOR_QOS),
            (names.PREDICTED_STATES, PredictedStates, STATE_QOS),
            (names.GT_POINTS_TOPIC, PointCloud2, SENSOR_QOS),
        ):
            node.create_subscription(typ, topic, lambda _m, t=topic: received.update([t]), qos)
        client = ActionClient(node, Plan, names.PLAN_ACTION)
        deadline = time.monotonic() + 60
        while not client.server_is_ready() and time.monotonic() < deadline:
            executor.spin_once(timeout_sec=0.1)
        if not client.server_is_ready():
            raise SystemExit(f"{names.PLAN_ACTION} is not available")

        samples: list[dict] = []
        statuses: collections.Counter = collections.Counter()
        latencies: list[float] = []
        failures: list[str] = []
        no_response = 0
        t0 = time.monotonic()
        next_sample = t0
        goal = None  # (handle future or result future, kind, sent_at)
        sent = 0
        bar = tqdm(total=int(args.duration), unit="s", desc="soak", mininterval=5)
        while (now := time.monotonic()) - t0 < args.duration or goal is not None:
            if now >= next_sample:
                sample = {"t": round(now - t0, 1)}
                for name, pid in pids.items():
                    sample[name] = rss_bytes(pid)
                sample["total"] = sum(v for k, v in sample.items() if k in pids and v)
                samples.append(sample)
                next_sample += args.sample_period
                bar.n = min(int(now - t0), int(args.duration))
                bar.set_postfix(goals=sent, rss_mib=f"{sample['total'] / 2**20:.0f}")
                bar.refresh()
            if goal is None and now - t0 < args.duration:
                preset, x, yaw = GOALS[sent % len(GOALS)]
                execute = args.execute_every > 0 and sent % args.execute_every == 0
                msg = Plan.Goal(
                    target_preset=preset, preset_x=x, preset_yaw=yaw, execute=execute,
                    max_pushes=1,
                )  # fmt: skip
                goal = ["sent", client.send_goal_async(msg), now]
                sent += 1
            elif goal is not None and goal[1].done():
                if goal[0] == "sent":
                    handle = goal[1].result()
                    if not handle.accepted:
                        statuses["REJECTED"] += 1
                        goal = None
                    else:
                        goal = ["accepted", handle.get_result_async(), goal[2]]
                else:
                    res = goal[1].result().result
                    name = _status_name(res.status)
                    statuses[name] += 1
                    latencies.append(now - goal[2])
                    if name not in ("SUCCEEDED", "MAX_PUSHES") and len(failures) < 20:
                        failures.append(f"{name}: {res.message}")
                    goal = None
            elif goal is not None and now - goal[2] > args.goal_timeout:
                no_response += 1
                failures.append(f"no {'goal response' if goal[0] == 'sent' else 'result'}")
                goal = None
            if stack.poll() is not None:
                failures.append(f"gs-stack exited with {stack.proc.returncode}")
                break
            executor.spin_once(timeout_sec=0.05)
        bar.close()
        elapsed = time.monotonic() - t0
        alive = {n: rss_bytes(p) is not None for n, p in pids.items()}
    finally:
        if node is not None:
            node.destroy_node()
        context.try_shutdown()
        code = stack.stop()

    text = log_path.read_text(errors="replace")
    exits = {
        n: int(c)
        for n, c in re.findall(r"node '(\w+)' \(pid \d+\) stopped with code (-?\d+)", text)
    }

    def rss_at(t: float) -> dict[str, float]:
        s = min(samples, key=lambda s: abs(s["t"] - t))
        return {k: round(v / 2**20, 1) for k, v in s.items() if k != "t" and v is not None}

    with open(out / "rss.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["t", *pids, "total"])
        writer.writeheader()
        writer.writerows(samples)
    plot_rss(samples, list(pids), out / "rss.png")
    lat = sorted(latencies)
    summary = {
        "command": "gs-stack planning oracle_state:=true " + " ".join(args.stack_args),
        "duration_s": round(elapsed, 1),
        "ready_after_s": round(ready_after, 1),
        "goals_sent": sent,
        "goals_served": sum(statuses.values()),
        "results": dict(statuses),
        "goals_without_answer": no_response,
        "failures": failures,
        "goal_latency_s": {
            "median": round(lat[len(lat) // 2], 2) if lat else None,
            "p95": round(lat[int(0.95 * (len(lat) - 1))], 2) if lat else None,
            "max": round(lat[-1], 2) if lat else None,
        },
        "node_counters": node_counters(text),
        "received_hz": {k: round(v / elapsed, 2) for k, v in received.items()},
        "rss_mib": {"start": rss_at(0), "after_30s": rss_at(30), "end": rss_at(elapsed)},
        "nodes_alive_at_end": alive,
        "exit_codes": exits,
        "stack_exit_code": code,
    }
    _write_json(out / "summary.json", summary)
    return summary


def _status_name(status: int) -> str:
    from gs_dynamics_interfaces.action import Plan

    names = {
        getattr(Plan.Result, k): k.removeprefix("STATUS_")
        for k in dir(Plan.Result)
        if k.startswith("STATUS_")
    }
    return names.get(status, f"UNKNOWN({status})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=600.0, help="seconds (default 600)")
    parser.add_argument("--out", default="out/soak", help="output directory")
    parser.add_argument("--sample-period", type=float, default=5.0, help="RSS sample period [s]")
    parser.add_argument(
        "--execute-every", type=int, default=4, help="every N-th goal executes a push (0: never)"
    )
    parser.add_argument("--goal-timeout", type=float, default=300.0, help="[s] per goal")
    parser.add_argument("--ready-timeout", type=float, default=300.0, help="[s]")
    parser.add_argument(
        "--domain-id", type=int, default=100 + os.getpid() % 100, help="ROS_DOMAIN_ID (100-199)"
    )
    parser.add_argument(
        "stack_args", nargs="*", help="further gs-stack arguments, e.g. use_gpu:=false"
    )
    args = parser.parse_args(argv)
    if args.duration <= 0 or args.sample_period <= 0:
        parser.error("--duration and --sample-period must be > 0")
    if not 0 <= args.domain_id <= 232:
        parser.error(f"--domain-id {args.domain_id} is outside 0..232")
    summary = soak(args)
    print(json.dumps(summary, indent=2))
    ok = (
        summary["stack_exit_code"] == 0
        and all(summary["nodes_alive_at_end"].values())
        and summary["goals_without_answer"] == 0
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
