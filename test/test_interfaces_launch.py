"""The interface round trip under launch_testing (test/launch_tests/interfaces_launch.py).

Runs the `launch_test` command (installed by scripts/bootstrap.sh from ../shared/ros2-cli,
or by a ROS 2 install); skipped with the reason where launch_testing is not installed.
test_interfaces_roundtrip.py covers the same checks without launch.
"""

from __future__ import annotations

import pytest

from ros_harness import REPO, run_launch_test

pytestmark = pytest.mark.timeout(180)


def test_interfaces_under_launch_testing(ros_environment, tmp_path):
    run_launch_test(
        REPO / "test" / "launch_tests" / "interfaces_launch.py", ros_environment, tmp_path
    )
