"""`gs-stack` as a child process for the stack tools (`gs-stack-rates`, the soak test):
start it in its own session with its output in a log file, wait until every node it started
said it is ready, stop it with SIGINT (SIGKILL after a timeout). ROS-free."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

READY_RE = re.compile(r"\[(\w+)\]: .*\bready\b")
STARTED_RE = re.compile(r"started node '(\w+)' \(pid (\d+)\)")


def stack_env(domain_id: int) -> dict[str, str]:
    """This process's environment for a stack on its own ROS domain, loopback discovery,
    unbuffered and uncoloured logs."""
    return {
        **os.environ,
        "ROS_DOMAIN_ID": str(domain_id),
        "ROS_AUTOMATIC_DISCOVERY_RANGE": "LOCALHOST",
        "PYTHONUNBUFFERED": "1",
        "RCUTILS_COLORIZED_OUTPUT": "0",
    }


class StackProcess:
    """``gs-stack <args>`` started with ``env``, stdout + stderr into ``log_path``."""

    def __init__(self, args: list[str], env: dict[str, str], log_path: Path) -> None:
        gs_stack = shutil.which("gs-stack")
        if gs_stack is None:
            raise SystemExit("gs-stack is not on PATH: run scripts/bootstrap.sh and scripts/env.sh")
        self.log_path = Path(log_path)
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed by stop()
        self.started = time.monotonic()
        self.ready_after = float("nan")
        self.proc = subprocess.Popen(
            [gs_stack, *args],
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )

    def poll(self) -> int | None:
        return self.proc.poll()

    def text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_ready(self, timeout: float) -> dict[str, int]:
        """PIDs of the nodes once every started node logged a line with 'ready' (printed,
        with the seconds since the start: ``ready_after``)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.text()
            pids = {n: int(p) for n, p in STARTED_RE.findall(text)}
            if pids and set(pids) <= set(READY_RE.findall(text)):
                self.ready_after = time.monotonic() - self.started
                print(f"stack ready after {self.ready_after:.0f} s: {pids}", flush=True)
                return pids
            if self.proc.poll() is not None:
                raise SystemExit(f"gs-stack exited with {self.proc.returncode}:\n{text[-4000:]}")
            time.sleep(0.2)  # polling a bounded wait for the nodes' readiness lines
        raise SystemExit(f"the stack was not ready within {timeout} s; see {self.log_path}")

    def stop(self, timeout: float = 30.0) -> int:
        """SIGINT to the whole process group, SIGKILL after ``timeout`` s; the exit code."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGINT)
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            code = self.proc.wait()
        self._log.close()
        return code
