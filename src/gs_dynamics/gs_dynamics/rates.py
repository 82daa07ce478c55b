"""Rates, CPU and latency of every node of a running stack, as one table (issue #17).

    gs-stack-rates --duration 60                       # the planning stack, as `make run`
    gs-stack-rates --duration 60 oracle_masks:=true    # further gs-stack arguments

Starts ``gs-stack planning <arguments>`` (one process per node, as users start it) on its
own ROS domain restricted to localhost, waits ``--warmup`` seconds after the nodes said they
are ready, then for ``--duration`` seconds

- counts the messages of each node's output topic (small topics where possible, so that the
  measuring process itself stays cheap: ``robot/joint_states`` for the simulator's frame
  rate, ``cam0`` masks for robot_model and segmentation, ``tracking/particles``),
- measures their latency (arrival time minus the header stamp = the stamp of the camera
  images the output was computed from; one clock, one machine),
- samples every node process's CPU time (``/proc/<pid>/stat``: % of one core),

stops the stack with SIGINT and prints the table plus the nodes' own counters from their
logs (tracking: tracked / dropped frames and the first-frame initialization time;
segmentation: segmented / dropped). ``--out`` keeps the stack log and ``rates.json``.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import re
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from gs_dynamics.stack_process import StackProcess, stack_env

CLK_TCK = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Probe:
    """An output topic watched for a node: (node, topic, message type name)."""

    node: str
    topic: str
    kind: str  # "joint_state" | "image" | "cloud" | "pose" | "predicted"


# each node's output, watched with the smallest message it publishes at its frame rate
PROBES = (
    Probe("sim", "robot/joint_states", "joint_state"),
    Probe("robot_model", "cameras/cam0/robot_mask", "image"),
    Probe("robot_model", "robot/ee_pose", "pose"),
    Probe("segmentation", "cameras/cam0/object_mask", "image"),
    Probe("segmentation", "perception/object_cloud", "cloud"),
    Probe("tracking", "tracking/particles", "cloud"),
)


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of ``pid`` [s] (None: gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime (fields 14, 15)


def log_counters(log: str) -> dict[str, dict[str, float]]:
    """The last counters each node logged (tracking/segmentation report lines)."""
    out: dict[str, dict[str, float]] = collections.defaultdict(dict)
    patterns = {
        "tracked": r"tracked (\d+) frames",
        "segmented": r"segmented (\d+) frames",
        "dropped": r"dropped (\d+) complete frames",
        "evicted": r"evicted (\d+) incomplete frames",
        "rejected": r"rejected (\d+) images",
        "first_frame_s": r"initialized .* in ([\d.]+) s",
    }
    for line in log.splitlines():
        node = re.search(r"\[(\w+)\]: ", line)
        if not node:
            continue
        for key, pat in patterns.items():
            m = re.search(pat, line)
            if m:
                out[node.group(1)][key] = float(m.group(1))
    return dict(out)


@dataclass
class TopicWindow:
    """Arrivals of one topic within the measuring window."""

    count: int = 0
    first: float | None = None
    last: float | None = None
    latencies: list[float] = field(default_factory=list)  # [s]

    def add(self, now: float, latency: float) -> None:
        self.count += 1
        self.first = now if self.first is None else self.first
        self.last = now
        self.latencies.append(latency)

    def rate(self, window: float) -> float:
        """Messages per second over the window [Hz]."""
        return self.count / window if window > 0 else 0.0

    def latency_ms(self, q: float) -> float | None:
        if not self.latencies:
            return None
        lat = sorted(self.latencies)
        return 1000.0 * lat[min(len(lat) - 1, int(q * (len(lat) - 1) + 0.5))]


def format_table(result: dict) -> str:
    """Node | CPU % of one core | topic | Hz | latency median / p95 [ms] | counters."""
    rows = [
        f"{'node':<13} {'CPU %':>6}  {'output topic':<28} {'Hz':>6} "
        f"{'latency ms (med/p95)':>21}  counters"
    ]
    for node, info in result["nodes"].items():
        topics = info["topics"] or [{"topic": "-", "hz": None, "latency_ms": [None, None]}]
        counters = ", ".join(f"{k} {v:g}" for k, v in info.get("counters", {}).items())
        for i, t in enumerate(topics):
            hz = "-" if t["hz"] is None else f"{t['hz']:.1f}"
            med, p95 = t["latency_ms"]
            lat = "-" if med is None else f"{med:.0f} / {p95:.0f}"
            cpu = f"{info['cpu_percent']:.0f}" if i == 0 and info["cpu_percent"] is not None else ""
            rows.append(
                f"{node if i == 0 else '':<13} {cpu:>6}  {t['topic']:<28} {hz:>6} {lat:>21}  "
                f"{counters if i == 0 else ''}"
            )
    return "\n".join(rows)


def _subscribe(node, probes, windows, measuring):
    from geometry_msgs.msg import PoseStamped
    from sensor_msgs.msg import Image, JointState, PointCloud2

    from gs_common.ros.qos import SENSOR_QOS

    types = {"joint_state": JointState, "image": Image, "cloud": PointCloud2, "pose": PoseStamped}
    clock = node.get_clock()

    def on_msg(msg, key):
        if not measuring[0]:
            return
        stamp = msg.header.stamp.sec + 1e-9 * msg.header.stamp.nanosec
        windows[key].add(time.monotonic(), clock.now().nanoseconds * 1e-9 - stamp)

    for p in probes:
        node.create_subscription(
            types[p.kind], p.topic, lambda m, k=(p.node, p.topic): on_msg(m, k), SENSOR_QOS
        )


def measure(args: argparse.Namespace) -> dict:
    import rclpy
    from rclpy.executors import SingleThreadedExecutor

    out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="gs_rates_"))
    out.mkdir(parents=True, exist_ok=True)
    env = stack_env(args.domain_id)
    command = ["gs-stack", args.stack, *args.stack_args]
    log_path = out / "stack.log"
    stack = StackProcess(command[1:], env, log_path)
    context = rclpy.Context()
    node = None
    windows: dict[tuple[str, str], TopicWindow] = collections.defaultdict(TopicWindow)
    try:
        pids = stack.wait_ready(args.ready_timeout)
        ready_after = stack.ready_after
        rclpy.init(context=context, domain_id=args.domain_id)
        node = rclpy.create_node("stack_rates", context=context)
        executor = SingleThreadedExecutor(context=context)
        executor.add_node(node)
        probes = [p for p in PROBES if p.node in pids]
        measuring = [False]
        _subscribe(node, probes, windows, measuring)
        t_warm = time.monotonic() + args.warmup
        while time.monotonic() < t_warm:
            executor.spin_once(timeout_sec=0.1)
        cpu0 = {n: cpu_seconds(p) for n, p in pids.items()}
        measuring[0] = True
        t0 = time.monotonic()
        print(f"measuring for {args.duration:.0f} s ...", flush=True)
        while time.monotonic() - t0 < args.duration and stack.poll() is None:
            executor.spin_once(timeout_sec=0.1)
        window = time.monotonic() - t0
        measuring[0] = False
        cpu1 = {n: cpu_seconds(p) for n, p in pids.items()}
    finally:
        if node is not None:
            node.destroy_node()
        context.try_shutdown()
        code = stack.stop()
    counters = log_counters(log_path.read_text(errors="replace"))
    nodes = {}
    for name in pids:
        c0, c1 = cpu0.get(name), cpu1.get(name)
        nodes[name] = {
            "pid": pids[name],
            "cpu_percent": None if c0 is None or c1 is None else 100.0 * (c1 - c0) / window,
            "topics": [
                {
                    "topic": p.topic,
                    "hz": windows[(p.node, p.topic)].rate(window),
                    "latency_ms": [
                        windows[(p.node, p.topic)].latency_ms(0.5),
                        windows[(p.node, p.topic)].latency_ms(0.95),
                    ],
                }
                for p in PROBES
                if p.node == name
            ],
            "counters": counters.get(name, {}),
        }
    load = os.getloadavg()
    result = {
        "command": " ".join(command),
        "date_utc": time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
        "window_s": round(window, 1),
        "warmup_s": args.warmup,
        "ready_after_s": round(ready_after, 1),
        "load_average_1_5_15": [round(v, 2) for v in load],
        "cpus": os.cpu_count(),
        "nodes": nodes,
        "stack_exit_code": code,
        "log": str(log_path),
    }
    tmp = out / "rates.json.tmp"
    tmp.write_text(json.dumps(result, indent=2) + "\n")
    os.replace(tmp, out / "rates.json")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="gs-stack-rates", description=__doc__.split("\n\n")[0])
    parser.add_argument("--stack", default="planning", help="stack of config/stacks.yaml")
    parser.add_argument("--duration", type=float, default=60.0, help="measuring window [s]")
    parser.add_argument(
        "--warmup", type=float, default=20.0, help="[s] after the nodes are ready, not measured"
    )
    parser.add_argument("--ready-timeout", type=float, default=300.0, help="[s]")
    parser.add_argument("--out", default="", help="keep stack.log and rates.json here")
    parser.add_argument(
        "--domain-id", type=int, default=100 + os.getpid() % 100, help="ROS_DOMAIN_ID (100-199)"
    )
    parser.add_argument("stack_args", nargs="*", help="gs-stack arguments, e.g. use_gpu:=false")
    args = parser.parse_args(argv)
    if args.duration <= 0 or args.warmup < 0:
        parser.error(
            f"--duration must be > 0 and --warmup >= 0, got {args.duration}, {args.warmup}"
        )
    if not 0 <= args.domain_id <= 232:
        parser.error(f"--domain-id {args.domain_id} is outside 0..232")
    result = measure(args)
    print(
        f"\n{result['command']}: {result['window_s']} s window after {args.warmup:g} s warm-up, "
        f"{result['cpus']} CPUs, load average {result['load_average_1_5_15']}, "
        f"{result['date_utc']} UTC\n"
    )
    print(format_table(result))
    return 0 if result["stack_exit_code"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
