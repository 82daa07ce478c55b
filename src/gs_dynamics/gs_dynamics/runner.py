"""Stack runner: the nodes of a stack of config/stacks.yaml, without ``ros2 launch``.

Default (multi-process): every node runs as its own process, started exactly as
``ros2 launch gs_dynamics <stack>.launch.py`` starts it: the package's executable from
``lib/<package>`` with the same ``--ros-args`` (node name, parameter files,
argument-derived parameters, remappings), all from the same stack description
(gs_dynamics.stacks). SIGINT and SIGTERM are forwarded to every node; a node that has not
exited after launch's grace period (5 s) gets SIGTERM, then SIGKILL, as launch does. Each
node's exit is reported; the runner exits 0 when every node exited 0.

``--composed``: every node in this one process on one executor (gs_common.ros.spin), for
debugging with one interpreter, or where the nodes' executables are not installed.

    gs-stack planning source:=sim use_gpu:=auto [--duration 30] [--skip-missing]
    ros2 run gs_dynamics stack planning
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import importlib
import os
import signal
import subprocess
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
    stack: str, overrides: dict[str, str], skip_missing: bool, load=None
) -> tuple[list[tuple[NodeLaunch, object]], list[str]]:
    """The nodes to start as (spec, what ``load(spec)`` returns: the node class for the
    composed mode, the executable for one process per node) and messages about skipped
    ones (``load`` raises MissingNodeError for a node that is not installed)."""
    load = load or load_node_class
    planned, skipped = [], []
    for spec in resolve(stack, overrides):
        try:
            target = load(spec)
        except MissingNodeError as exc:
            if not skip_missing:
                raise
            skipped.append(str(exc))
            continue
        for path in spec.parameter_files:
            if not Path(path).is_file():
                raise StackError(f"node '{spec.name}': parameter file {path} does not exist")
        planned.append((spec, target))
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
    # dies with the runner (the composed mode leaves through os._exit)
    return subprocess.Popen([exe, "-d", str(rviz_config())], preexec_fn=_die_with_parent)


# launch's defaults (launch.actions.ExecuteProcess sigterm_timeout / sigkill_timeout)
SIGTERM_AFTER_S = 5.0
SIGKILL_AFTER_S = 5.0


def executable_path(spec: NodeLaunch) -> Path:
    """``<prefix>/lib/<package>/<executable>``, where ``ros2 launch``/``ros2 run`` look."""
    from ament_index_python.packages import PackageNotFoundError, get_package_prefix

    try:
        prefix = Path(get_package_prefix(spec.package))
    except PackageNotFoundError as exc:
        raise MissingNodeError(
            f"node '{spec.name}': package {spec.package} is not installed"
        ) from exc
    path = prefix / "lib" / spec.package / spec.executable
    if not (path.is_file() and os.access(path, os.X_OK)):
        raise MissingNodeError(f"node '{spec.name}': no executable {path}")
    return path


def _die_with_parent() -> None:
    """In the child: SIGTERM it when the runner dies (even by SIGKILL). Linux only."""
    with contextlib.suppress(OSError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class _Signals:
    """SIGINT/SIGTERM handlers: remember the first signal (it is forwarded to the nodes)."""

    def __init__(self):
        self.received: int | None = None
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self._handle)

    def _handle(self, signum, _frame) -> None:
        if self.received is None:
            self.received = signum


def run_processes(
    stack: str,
    planned: list[tuple[NodeLaunch, Path]],
    ros_args: list[str],
    duration: float,
) -> int:
    """Start one process per node, forward a stop, report every exit. Exit status: 0 when
    every node exited 0, 1 otherwise."""
    signals = _Signals()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    procs: dict[str, subprocess.Popen] = {}
    for spec, exe in planned:
        cmd = [str(exe), *spec.ros_args(), *ros_args]
        procs[spec.name] = subprocess.Popen(
            cmd, env=env, stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent
        )
        print(f"gs-stack: started node '{spec.name}' (pid {procs[spec.name].pid})", flush=True)
    names = ", ".join(f"/{name}" for name in procs) or "none"
    print(
        f"gs-stack: stack '{stack}' running {len(procs)} node(s): {names} (one process each)",
        flush=True,
    )
    deadline = time.monotonic() + duration if duration > 0 else None
    codes: dict[str, int] = {}
    stop_since: float | None = None
    escalated = 0
    while len(codes) < len(procs):
        for name, proc in procs.items():
            if name not in codes and proc.poll() is not None:
                codes[name] = proc.returncode
                how = "stopped" if stop_since is not None else "exited on its own"
                print(
                    f"gs-stack: node '{name}' (pid {proc.pid}) {how} with code {proc.returncode}",
                    flush=True,
                )
        alive = [p for n, p in procs.items() if n not in codes]
        if not alive:
            break
        now = time.monotonic()
        if stop_since is None and (
            signals.received is not None or (deadline is not None and now >= deadline)
        ):
            sig = signals.received or signal.SIGINT
            print(
                f"gs-stack: {signal.Signals(sig).name}: stopping {len(alive)} node(s)", flush=True
            )
            for proc in alive:
                proc.send_signal(sig)
            stop_since = now
        elif stop_since is not None:
            for limit, sig in (
                (SIGTERM_AFTER_S, signal.SIGTERM),
                (SIGTERM_AFTER_S + SIGKILL_AFTER_S, signal.SIGKILL),
            ):
                if escalated < (1 if sig == signal.SIGTERM else 2) and now - stop_since >= limit:
                    escalated += 1
                    left = [n for n in procs if n not in codes]
                    print(
                        f"gs-stack: node(s) {left} still running after {limit:.0f} s: "
                        f"sending {sig.name}",
                        flush=True,
                    )
                    for proc in alive:
                        proc.send_signal(sig)
        time.sleep(0.05)  # polling interval of the supervision loop
    failed = {n: c for n, c in codes.items() if c != 0}
    summary = "all exited 0" if not failed else f"failed: {failed}"
    print(f"gs-stack: stack '{stack}' stopped ({summary})", flush=True)
    return 0 if not failed else 1


def run_composed(
    stack: str, planned: list[tuple[NodeLaunch, type]], ros_args: list[str], args
) -> int:
    """Every node in this process on one GuardedExecutor (see gs_common.ros.spin)."""
    import rclpy
    from rclpy.signals import SignalHandlerOptions

    from gs_common.ros.spin import (
        GuardedExecutor,
        StopRequest,
        exit_process,
        spin_until_stopped,
        stop_nodes,
    )

    rclpy.init(args=[sys.argv[0], *ros_args], signal_handler_options=SignalHandlerOptions.NO)
    stop = StopRequest()
    nodes = []
    try:
        for spec, cls in planned:
            try:
                nodes.append(cls(cli_args=spec.ros_args()))
            except ValueError as exc:  # e.g. a parameter file with an invalid value
                print(f"gs-stack: node '{spec.name}' refused to start: {exc}", file=sys.stderr)
                exit_process(2)
    except KeyboardInterrupt:
        exit_process(0)
    executor = GuardedExecutor(num_threads=args.threads or max(2, len(nodes)))
    for node in nodes:
        executor.add_node(node)
    names = ", ".join(n.get_fully_qualified_name() for n in nodes) or "none"
    print(f"gs-stack: stack '{stack}' running {len(nodes)} node(s): {names}", flush=True)
    deadline = time.monotonic() + args.duration if args.duration > 0 else None
    spin_until_stopped(executor, stop, deadline)
    if stop.signal_name:
        print(f"gs-stack: {stop.signal_name}: stopping", flush=True)
    stop_nodes(executor, nodes, log=lambda m: print(f"gs-stack: {m}", flush=True))
    print(f"gs-stack: stack '{stack}' stopped", flush=True)
    exit_process(0)
    return 0  # not reached


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    # arguments from --ros-args on belong to rclpy (process-wide), the rest to us
    ros_args = argv[argv.index("--ros-args") :] if "--ros-args" in argv else []
    argv = argv[: len(argv) - len(ros_args)]
    parser = argparse.ArgumentParser(
        prog="gs-stack",
        description="Run a gs_dynamics stack's nodes, one process each (like ros2 launch).",
    )
    parser.add_argument("stack", help="stack name from config/stacks.yaml")
    parser.add_argument("arguments", nargs="*", help="stack arguments, e.g. source:=sim")
    parser.add_argument(
        "--duration",
        type=float,
        default=0.0,
        help="stop after this many seconds (0: run until Ctrl-C / SIGTERM)",
    )
    parser.add_argument(
        "--skip-missing",
        action="store_true",
        help="skip nodes whose package is not installed instead of failing",
    )
    parser.add_argument(
        "--composed",
        action="store_true",
        help="run every node in this one process on one executor instead",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=0,
        help="--composed: executor threads (0: one per node, at least 2)",
    )
    args = parser.parse_args(argv)

    try:
        overrides = parse_overrides(args.arguments)
        load = load_node_class if args.composed else executable_path
        planned, skipped = plan_stack(args.stack, overrides, args.skip_missing, load)
    except (StackError, MissingNodeError) as exc:
        print(f"gs-stack: {exc}", file=sys.stderr)
        return 2
    for line in skipped:
        print(f"gs-stack: skipping {line}", file=sys.stderr)
    rviz = start_rviz() if overrides.get("rviz") == "true" else None
    try:
        if args.composed:
            return run_composed(args.stack, planned, ros_args, args)
        return run_processes(args.stack, planned, ros_args, args.duration)
    finally:
        if rviz is not None and rviz.poll() is None:
            rviz.terminate()


if __name__ == "__main__":
    sys.exit(main())
