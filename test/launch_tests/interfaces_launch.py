"""launch_testing version of the interface round trip.

Run by test/test_interfaces_launch.py with the `launch_test` command (launch_testing's
pytest plugin does not load under pytest 9): the launch description starts the interface
peer, the tests check a service round trip and an action with feedback, and after the
shutdown that the peer exited 0. test_interfaces_roundtrip.py covers the same checks
without launch.
"""

import sys
import unittest
from pathlib import Path

import launch.actions
import launch_testing
import launch_testing.asserts
import pytest
import rclpy
from rclpy.action import ActionClient

import launch
from gs_dynamics_interfaces.action import Plan
from gs_dynamics_interfaces.msg import Push
from gs_dynamics_interfaces.srv import PredictRollout

PEER = Path(__file__).resolve().parents[1] / "peers" / "interface_peer.py"


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


@launch_testing.post_shutdown_test()
class TestPeerShutdown(unittest.TestCase):
    def test_exit_code(self, proc_info):
        launch_testing.asserts.assertExitCodes(proc_info)
