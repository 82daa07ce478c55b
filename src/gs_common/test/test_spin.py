"""gs_common.ros.spin: a failing callback never takes the process down; a stop is clean.

In-process: GuardedExecutor keeps serving after a callback raises (rclpy's own executor
re-raises it from spin, which ended every node of the process). As a process: run_node
stops within launch's grace period with exit 0 and no abort/context errors on SIGINT and
SIGTERM, even with a callback and a worker thread still busy (the tracking node's case).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

rclpy = pytest.importorskip("rclpy", reason="ROS 2 (rclpy) is not installed")

from rclpy.executors import MultiThreadedExecutor  # noqa: E402

from gs_common.ros.spin import GuardedExecutor  # noqa: E402

pytestmark = pytest.mark.timeout(120)


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        ROS_DOMAIN_ID=str(150 + os.getpid() % 60),
        ROS_AUTOMATIC_DISCOVERY_RANGE="LOCALHOST",
        PYTHONUNBUFFERED="1",
        RCUTILS_COLORIZED_OUTPUT="0",
    )
    return env


@pytest.fixture
def context():
    ctx = rclpy.Context()
    rclpy.init(context=ctx, domain_id=150 + os.getpid() % 60)
    yield ctx
    ctx.try_shutdown()


def _failing_node(context, counts):
    node = rclpy.create_node("flaky", context=context)

    def bad():
        counts["bad"] += 1
        raise ValueError("bad message")

    node.create_timer(0.02, bad)
    node.create_timer(0.02, lambda: counts.__setitem__("good", counts["good"] + 1))
    return node


def _spin(executor, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        executor.spin_once(timeout_sec=0.05)


def test_rclpy_executor_ends_spinning_on_a_callback_error(context):
    """The mechanism the guard replaces: rclpy re-raises a callback's exception."""
    counts = {"bad": 0, "good": 0}
    node = _failing_node(context, counts)
    executor = MultiThreadedExecutor(num_threads=2, context=context)
    executor.add_node(node)
    with pytest.raises(ValueError, match="bad message"):
        _spin(executor, 5.0)
    executor.shutdown(timeout_sec=1.0)
    node.destroy_node()


@pytest.mark.parametrize("inline", [False, True])
def test_guarded_executor_logs_and_keeps_serving(context, inline):
    counts = {"bad": 0, "good": 0}
    node = _failing_node(context, counts)
    other = rclpy.create_node("steady", context=context)
    ticks = []
    other.create_timer(0.02, lambda: ticks.append(1))
    executor = GuardedExecutor(num_threads=2, context=context, inline=inline)
    executor.add_node(node)
    executor.add_node(other)
    _spin(executor, 1.0)
    assert counts["bad"] >= 3
    assert executor.callback_errors >= counts["bad"] - 2  # the last ones may still run
    assert counts["good"] >= 3 and len(ticks) >= 3  # the failing node and the other go on
    assert executor.drain(2.0)
    executor.shutdown(timeout_sec=1.0)
    node.destroy_node()
    other.destroy_node()


NODE_SCRIPT = textwrap.dedent(
    """
    import sys, threading, time
    from rclpy.node import Node
    from std_msgs.msg import String
    from gs_common.ros.spin import run_node

    class Busy(Node):
        '''Like the tracking node: a worker thread that publishes and is busy when asked
        to stop, a task that takes long (like an action goal), and a callback that raises.'''

        def __init__(self):
            super().__init__("busy")
            self.pub = self.create_publisher(String, "busy/out", 10)
            self.stop = threading.Event()
            self.worker = threading.Thread(target=self.work, daemon=True)
            self.worker.start()
            self.create_timer(0.05, self.fail)
            self.once = self.create_timer(0.3, self.start_task)
            self.block = self.create_timer(0.3, self.hold_thread)
            self.get_logger().info("busy ready")

        def work(self):
            while True:  # ignores self.stop while "optimising", then publishes
                time.sleep(0.01)
                self.pub.publish(String(data="x"))
                if self.stop.is_set():
                    time.sleep(30.0)

        def fail(self):
            raise RuntimeError("callback failure " + "injected")

        def slow(self):
            time.sleep(30.0)

        def start_task(self):
            # like an action server's goal: a task of the executor. Both pool threads are
            # busy for a second, so rclpy hands the waiting task to the pool again and
            # again; one run takes 30 s, the others return at once.
            self.once.cancel()
            self.executor.create_task(self.slow)
            time.sleep(1.0)

        def hold_thread(self):
            self.block.cancel()
            time.sleep(1.0)

        def close(self):
            self.stop.set()
            self.worker.join(timeout=20.0)

    sys.exit(run_node(Busy, num_threads=2))
    """
)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=lambda s: s.name)
def test_run_node_stops_cleanly_and_in_time(tmp_path, sig):
    script = tmp_path / "busy_node.py"
    script.write_text(NODE_SCRIPT)
    log = tmp_path / "busy.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, str(script)], env=_env(), stdout=out, stderr=subprocess.STDOUT
        )
        try:
            deadline = time.monotonic() + 60
            while "callback failure injected" not in log.read_text(errors="replace"):
                assert proc.poll() is None, log.read_text()
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.05)  # polling a bounded wait
            time.sleep(2.0)  # several more failures; the slow task is running
            assert proc.poll() is None, "one failing callback ended the process"
            proc.send_signal(sig)
            start = time.monotonic()
            code = proc.wait(timeout=15)
            took = time.monotonic() - start
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    text = log.read_text(errors="replace")
    assert code == 0, text
    assert took < 5.0, f"took {took:.1f} s\n{text}"
    assert "a callback of node /busy raised RuntimeError: callback failure injected" in text
    assert f"{sig.name}: stopping" in text
    assert "callback(s) still running (not waited for)" in text
    for bad in ("terminate called", "context is invalid", "Failed to publish"):
        assert bad not in text, text
