"""Helpers for integration tests that run ROS 2 nodes as separate OS processes.

- every test gets its own ROS_DOMAIN_ID and discovery restricted to localhost;
- processes are started in their own process group, their output captured to a log file,
  readiness is awaited with bounded timeouts (never sleeps), and every process is ended
  (SIGINT, then SIGKILL) when the test finishes; their logs are shown when a test fails.
"""

from __future__ import annotations

import contextlib
import importlib.util
import itertools
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# Domain IDs 1..100 (FastDDS ports stay below 65535); offset by pid so that concurrent
# test runs on one machine rarely collide, and unique within a run.
_DOMAIN_IDS = itertools.cycle(range(1, 101))
for _ in range(os.getpid() % 100):
    next(_DOMAIN_IDS)


def next_domain_id() -> int:
    return next(_DOMAIN_IDS)


def ros_env(domain_id: int) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        ROS_DOMAIN_ID=str(domain_id),
        ROS_AUTOMATIC_DISCOVERY_RANGE="LOCALHOST",
        PYTHONUNBUFFERED="1",
        RCUTILS_COLORIZED_OUTPUT="0",
    )
    env.pop("ROS_STATIC_PEERS", None)
    return env


class ManagedProcess:
    """A child process whose combined output goes to ``log_path``."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log_path: Path):
        self.name, self.argv, self.log_path = name, argv, log_path
        self._log = open(log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            argv,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            cwd=REPO,
        )

    def output(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(errors="replace")

    def wait_for_output(self, pattern: str, timeout: float = 30.0) -> re.Match:
        """Wait until the output matches ``pattern`` (regex); fail if the process exits."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            match = regex.search(self.output())
            if match:
                return match
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"{self.name} exited with {self.proc.returncode} before printing "
                    f"/{pattern}/:\n{self.output()[-4000:]}"
                )
            time.sleep(0.05)  # polling interval of a bounded wait, not synchronization
        raise AssertionError(
            f"{self.name} did not print /{pattern}/ within {timeout} s:\n{self.output()[-4000:]}"
        )

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self, timeout: float = 10.0) -> int:
        """SIGINT the process group, then SIGKILL after ``timeout``; returns the exit code.

        The whole group is signalled even when its leader has already exited: processes it
        started (a launch's nodes) may still be running."""
        deadline = time.monotonic() + timeout
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGINT)
        while time.monotonic() < deadline and (
            self.proc.poll() is None or _group_alive(self.proc.pid)
        ):
            time.sleep(0.05)  # polling a bounded wait
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=5)
        if not self._log.closed:
            self._log.close()
        return self.proc.returncode


def process_state(pid: int) -> str:
    """The state letter of ``pid`` in /proc (R, S, Z, ...), "X" when it no longer exists."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "X"


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


class ProcessManager:
    """Starts processes for one test and guarantees they are all ended afterwards."""

    def __init__(self, env: dict[str, str], log_dir: Path):
        self.env, self.log_dir = env, log_dir
        self.processes: list[ManagedProcess] = []

    def start(
        self, name: str, argv: list[str], env: dict[str, str] | None = None
    ) -> ManagedProcess:
        proc = ManagedProcess(name, argv, {**self.env, **(env or {})}, self.log_dir / f"{name}.log")
        self.processes.append(proc)
        return proc

    def start_python(self, name: str, module: str, *args: str) -> ManagedProcess:
        return self.start(name, [sys.executable, "-m", module, *args])

    def stop_all(self) -> None:
        for proc in reversed(self.processes):
            proc.stop()

    def logs(self) -> str:
        return "\n".join(
            f"----- {p.name} ({' '.join(p.argv)}) -----\n{p.output()[-6000:]}"
            for p in self.processes
        )


def ros_param(value) -> str:
    """``value`` as a ``-p name:=value`` literal (bools as true / false)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def start_sim(
    process_manager: ProcessManager,
    *ros_args: str,
    name: str = "sim",
    params_file: Path | None = None,
    env: dict[str, str] | None = None,
    **params,
) -> ManagedProcess:
    """Start gs_sim's node in its own process: ``--params-file`` first when given, then
    ``-p key:=value`` for every keyword parameter (in order), then ``ros_args`` (remaps,
    namespace); ``MUJOCO_GL`` from this environment (default egl), ``env`` added. Does not
    wait for the node (``proc.wait_for_output("sim ready")``)."""
    argv = [sys.executable, "-m", "gs_sim.sim_node", "--ros-args"]
    if params_file is not None:
        argv += ["--params-file", str(params_file)]
    for key, value in params.items():
        argv += ["-p", f"{key}:={ros_param(value)}"]
    argv += list(ros_args)
    gl = {"MUJOCO_GL": os.environ.get("MUJOCO_GL", "egl")}
    return process_manager.start(name, argv, env={**gl, **(env or {})})


def spin_until(node, predicate: Callable[[], bool], timeout: float, executor=None) -> bool:
    """Spin ``node`` until ``predicate()`` is true or ``timeout`` seconds pass."""
    import rclpy

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        if executor is not None:
            executor.spin_once(timeout_sec=0.05)
        else:
            rclpy.spin_once(node, timeout_sec=0.05, executor=None)
    return predicate()


def launch_testing_missing() -> str | None:
    """Why launch tests cannot run here (None: they can)."""
    if importlib.util.find_spec("launch_testing") is None or shutil.which("launch_test") is None:
        return (
            "launch_testing is not installed (PyPI-only ROS 2 without ../shared/ros2-cli; "
            "scripts/bootstrap.sh installs it from there)"
        )
    if importlib.util.find_spec("composition_interfaces") is None:
        return "composition_interfaces is not built (run scripts/bootstrap.sh)"
    return None


def run_launch_test(
    path: Path, env: dict[str, str], log_dir: Path, args: tuple[str, ...] = (), timeout=150.0
) -> str:
    """Run a launch_testing file with the `launch_test` command; fail with its output
    unless every test (active and post-shutdown) passed. Returns the output."""
    import pytest

    reason = launch_testing_missing()
    if reason:
        pytest.skip(reason)
    proc = ManagedProcess(
        path.stem, ["launch_test", str(path), *args], env, log_dir / f"{path.stem}.log"
    )
    try:
        code = proc.proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        code = proc.stop(timeout=10.0)
        raise AssertionError(
            f"launch_test {path.name} did not finish in {timeout} s:\n{proc.output()[-6000:]}"
        ) from None
    finally:
        proc.stop()
    output = proc.output()
    assert code == 0, f"launch_test {path.name} failed ({code}):\n{output[-8000:]}"
    return output
