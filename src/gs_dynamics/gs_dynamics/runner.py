"""Composed runner: every node of a stack in one process on one MultiThreadedExecutor.

For machines without ``ros2 launch`` (the PyPI install). Reads the same stack description
and parameter files as the launch files (gs_dynamics.stacks), so both start the same
nodes with the same parameters and remappings.

    gs-stack planning source:=sim use_gpu:=auto [--duration 30] [--skip-missing]
    ros2 run gs_dynamics stack planning
"""

from __future__ import annotations

import argparse
import importlib
import signal
import sys
import time
from pathlib import Path

from gs_dynamics.stacks import NodeLaunch, StackError, parse_overrides, resolve


class MissingNodeError(RuntimeError):
    """A node's package is not installed (or its module does not define the class)."""


def load_node_class(spec: NodeLaunch):
    module_name, _, class_name = spec.module.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and module_name.startswith(exc.name):
            raise MissingNodeError(
                f"node '{spec.name}': package {spec.package} is not installed "
                f"(cannot import {module_name})"
            ) from exc
        raise
    try:
        return getattr(module, class_name)
    except AttributeError as exc:
        raise MissingNodeError(f"node '{spec.name}': {module_name} has no {class_name}") from exc


def plan_stack(
    stack: str, overrides: dict[str, str], skip_missing: bool
) -> tuple[list[tuple[NodeLaunch, type]], list[str]]:
    """The nodes to start (spec, class) and messages about skipped ones."""
    planned, skipped = [], []
    for spec in resolve(stack, overrides):
        try:
            cls = load_node_class(spec)
        except MissingNodeError as exc:
            if not skip_missing:
                raise
            skipped.append(str(exc))
            continue
        for path in spec.parameter_files:
            if not Path(path).is_file():
                raise StackError(f"node '{spec.name}': parameter file {path} does not exist")
        planned.append((spec, cls))
    return planned, skipped


def start_rviz():
    """rviz2 with rviz/planning.rviz as a child process (rviz:=true), or None with a hint when
    rviz2 is not installed (the PyPI install has none: use viz:=foxglove)."""
    import shutil
    import subprocess

    from gs_dynamics.stacks import rviz_config

    exe = shutil.which("rviz2")
    if exe is None:
        print(
            "gs-stack: rviz:=true but rviz2 is not installed (full ROS 2 only); the markers "
            "are on viz/*, viz:=foxglove serves them to the Foxglove app",
            file=sys.stderr,
        )
        return None
    return subprocess.Popen([exe, "-d", str(rviz_config())])


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    # arguments from --ros-args on belong to rclpy (process-wide), the rest to us
    ros_args = argv[argv.index("--ros-args") :] if "--ros-args" in argv else []
    argv = argv[: len(argv) - len(ros_args)]
    parser = argparse.ArgumentParser(
        prog="gs-stack", description="Run a gs_dynamics stack's nodes in one process."
    )
    parser.add_argument("stack", help="stack name from config/stacks.yaml")
    parser.add_argument("arguments", nargs="*", help="stack arguments, e.g. source:=sim")
    parser.add_argument(
        "--duration",
        type=float,
        default=0.0,
        help="stop after this many seconds (0: run until Ctrl-C)",
    )
    parser.add_argument(
        "--skip-missing",
        action="store_true",
        help="skip nodes whose package is not installed instead of failing",
    )
    parser.add_argument(
        "--threads", type=int, default=0, help="executor threads (0: one per node, at least 2)"
    )
    args = parser.parse_args(argv)

    try:
        overrides = parse_overrides(args.arguments)
        planned, skipped = plan_stack(args.stack, overrides, args.skip_missing)
    except (StackError, MissingNodeError) as exc:
        print(f"gs-stack: {exc}", file=sys.stderr)
        return 2
    for line in skipped:
        print(f"gs-stack: skipping {line}", file=sys.stderr)

    import rclpy
    from rclpy.executors import ExternalShutdownException, MultiThreadedExecutor

    rviz = start_rviz() if overrides.get("rviz") == "true" else None

    rclpy.init(args=[sys.argv[0], *ros_args])
    nodes = []
    executor = MultiThreadedExecutor(num_threads=args.threads or max(2, len(planned)))
    try:
        for spec, cls in planned:
            try:
                node = cls(cli_args=spec.ros_args())
            except ValueError as exc:  # e.g. a parameter file with an invalid value
                print(f"gs-stack: node '{spec.name}' refused to start: {exc}", file=sys.stderr)
                return 2
            nodes.append(node)
            executor.add_node(node)
        names = ", ".join(n.get_fully_qualified_name() for n in nodes) or "none"
        print(f"gs-stack: stack '{args.stack}' running {len(nodes)} node(s): {names}", flush=True)
        deadline = time.monotonic() + args.duration if args.duration > 0 else None
        signal.signal(signal.SIGTERM, lambda *_: rclpy.try_shutdown())
        while rclpy.ok() and (deadline is None or time.monotonic() < deadline):
            executor.spin_once(timeout_sec=0.1)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        executor.shutdown(timeout_sec=2.0)
        for node in nodes:
            close = getattr(node, "close", None)
            if callable(close):
                close()
            node.destroy_node()
        rclpy.try_shutdown()
        if rviz is not None and rviz.poll() is None:
            rviz.terminate()
    print(f"gs-stack: stack '{args.stack}' stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
