"""Fixtures for cross-package integration tests (see ros_harness.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from ros_harness import ProcessManager, next_domain_id, ros_env, spin_until


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    manager = item.funcargs.get("process_manager") if hasattr(item, "funcargs") else None
    if report.failed and manager is not None:
        report.sections.append(("node process logs", manager.logs()))


@pytest.fixture
def domain_id() -> int:
    return next_domain_id()


@pytest.fixture
def ros_environment(domain_id, monkeypatch) -> dict[str, str]:
    """Environment of this test's processes; also applied to the test process itself."""
    env = ros_env(domain_id)
    for key in ("ROS_DOMAIN_ID", "ROS_AUTOMATIC_DISCOVERY_RANGE"):
        monkeypatch.setenv(key, env[key])
    return env


@pytest.fixture
def process_manager(ros_environment, tmp_path):
    manager = ProcessManager(ros_environment, tmp_path)
    yield manager
    manager.stop_all()


class TestNode:
    """An rclpy context + node in the test process, on the test's domain."""

    __test__ = False  # a helper, not a test class (modules import it)

    def __init__(self, name: str, domain_id: int):
        import rclpy
        from rclpy.executors import SingleThreadedExecutor

        self.context = rclpy.Context()
        rclpy.init(context=self.context, domain_id=domain_id)
        self.node = rclpy.create_node(name, context=self.context)
        self.executor = SingleThreadedExecutor(context=self.context)
        self.executor.add_node(self.node)

    def spin_until(self, predicate, timeout: float) -> bool:
        return spin_until(self.node, predicate, timeout, self.executor)

    def wait_future(self, future, timeout: float):
        assert self.spin_until(future.done, timeout), f"no answer within {timeout} s"
        return future.result()

    def close(self) -> None:
        self.executor.shutdown()
        self.node.destroy_node()
        self.context.try_shutdown()


@pytest.fixture
def rclpy_node(ros_environment, domain_id):
    pytest.importorskip("rclpy", reason="ROS 2 (rclpy) is not installed")
    node = TestNode("integration_test", domain_id)
    yield node
    node.close()
