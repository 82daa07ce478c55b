"""launch_testing version of the interface round trip (runs where launch_testing exists).

On a full ROS 2 install (docker/) `launch_testing`'s pytest plugin runs this file: the
launch description starts the interface peer, the test checks a service round trip and an
action with feedback. The PyPI install has no launch_testing: the module is then reported
as skipped with that reason, and test_interfaces_roundtrip.py covers the same checks.
"""

import sys
import unittest
from pathlib import Path

import pytest

launch_testing = pytest.importorskip(
    "launch_testing",
    reason="launch_testing is not installed (PyPI ROS 2 wheels); the same "
    "checks run in test_interfaces_roundtrip.py",
)

import launch.actions  # noqa: E402
import rclpy  # noqa: E402
from rclpy.action import ActionClient  # noqa: E402

import launch  # noqa: E402
from gs_dynamics_interfaces.action import Plan  # noqa: E402
from gs_dynamics_interfaces.msg import Push  # noqa: E402
from gs_dynamics_interfaces.srv import PredictRollout  # noqa: E402

PEER = Path(__file__).resolve().parent / "peers" / "interface_peer.py"


@pytest.mark.launch_test
def generate_test_description():
    peer = launch.actions.ExecuteProcess(cmd=[sys.executable, str(PEER)], output="screen")
    return launch.LaunchDescription([peer, launch_testing.actions.ReadyToTest()]), {"peer": peer}


class TestInterfacesOverLaunch(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        rclpy.init()
        cls.node = rclpy.create_node("launch_interface_test")

    @classmethod
    def tearDownClass(cls):
        cls.node.destroy_node()
        rclpy.shutdown()

    def _wait(self, future, timeout=20.0):
        rclpy.spin_until_future_complete(self.node, future, timeout_sec=timeout)
        self.assertTrue(future.done(), "no answer in time")
        return future.result()

    def test_service(self):
        client = self.node.create_client(PredictRollout, "echo/predict")
        self.assertTrue(client.wait_for_service(timeout_sec=20.0))
        res = self._wait(client.call_async(PredictRollout.Request(pushes=[Push(x=0.2)])))
        self.assertEqual(res.status, PredictRollout.Response.STATUS_OK)

    def test_action_feedback(self):
        client = ActionClient(self.node, Plan, "echo/plan")
        self.assertTrue(client.wait_for_server(timeout_sec=20.0))
        feedback = []
        handle = self._wait(
            client.send_goal_async(Plan.Goal(max_pushes=3), feedback_callback=feedback.append)
        )
        result = self._wait(handle.get_result_async()).result
        self.assertEqual(result.status, Plan.Result.STATUS_SUCCEEDED)
        self.assertEqual(len(feedback), 3)
