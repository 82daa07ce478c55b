"""Every custom interface crosses a process boundary over real DDS (loopback only)."""

import sys

import pytest
from geometry_msgs.msg import Point, Pose
from rclpy.action import ActionClient

from gs_common.camera import CameraIntrinsics
from gs_common.ros.camera_info import intrinsics_to_camera_info
from gs_common.ros.qos import LATCHED_QOS, STATE_QOS
from gs_dynamics_interfaces.action import ExecutePush, Plan
from gs_dynamics_interfaces.msg import CameraRig, PredictedStates, Push
from gs_dynamics_interfaces.srv import PredictRollout
from ros_harness import REPO

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def peer(process_manager):
    proc = process_manager.start(
        "interface_peer", [sys.executable, str(REPO / "test/peers/interface_peer.py")]
    )
    proc.wait_for_output("interface_peer ready", timeout=30)
    return proc


def echo(t, name, msg_type, msg, qos, timeout=20.0):
    """Publish ``msg`` on echo/<name>/in until its echo arrives on echo/<name>/out."""
    received = []
    t.node.create_subscription(msg_type, f"echo/{name}/out", received.append, qos)
    pub = t.node.create_publisher(msg_type, f"echo/{name}/in", qos)
    assert t.spin_until(lambda: pub.get_subscription_count() > 0, timeout), (
        f"peer never subscribed to echo/{name}/in"
    )
    pub.publish(msg)
    # a volatile publisher may publish before the echo path is matched: republish on a
    # bounded schedule until the echo arrives
    for _ in range(int(timeout / 0.5)):
        if t.spin_until(lambda: bool(received), 0.5):
            break
        pub.publish(msg)
    assert received, f"no echo on echo/{name}/out within {timeout} s"
    return received[0]


def test_topics_round_trip(peer, rclpy_node):
    rig = CameraRig(names=["cam0", "cam1"], depth_scale=[0.001, 0.001])
    rig.header.frame_id = "world"
    rig.world_from_camera = [Pose(), Pose()]
    rig.world_from_camera[1].position.x = 0.5
    rig.color_info = [intrinsics_to_camera_info(CameraIntrinsics.from_fov(320, 240, 58.0))] * 2
    back = echo(rclpy_node, "rig", CameraRig, rig, LATCHED_QOS)
    assert list(back.names) == ["cam0", "cam1"]
    assert back.world_from_camera[1].position.x == 0.5
    assert back.color_info[0].width == 320 and back.color_info[0].k[0] == pytest.approx(
        rig.color_info[0].k[0]
    )

    states = PredictedStates(
        num_steps=1, num_particles=2, positions=[0.1 * i for i in range(12)], cost=[0.25]
    )
    states.pushes = [Push(x=0.1, y=-0.2, theta=1.5, length=0.15)]
    back = echo(rclpy_node, "predicted", PredictedStates, states, STATE_QOS)
    assert list(back.positions) == pytest.approx(states.positions)
    assert back.pushes[0].theta == pytest.approx(1.5) and list(back.cost) == [0.25]

    back = echo(rclpy_node, "push", Push, Push(x=0.3, y=0.0, theta=-0.5, length=0.12), STATE_QOS)
    assert (back.x, back.theta, back.length) == pytest.approx((0.3, -0.5, 0.12))


def test_service_round_trip_and_invalid_request(peer, rclpy_node):
    client = rclpy_node.node.create_client(PredictRollout, "echo/predict")
    assert rclpy_node.spin_until(client.service_is_ready, 20)
    req = PredictRollout.Request(pushes=[Push(x=0.1, y=0.2), Push(x=0.3, y=0.4)])
    res = rclpy_node.wait_future(client.call_async(req), 20)
    assert res.status == PredictRollout.Response.STATUS_OK
    assert res.predicted_states.num_steps == 2
    assert list(res.predicted_states.positions[-3:]) == pytest.approx([0.3, 0.4, 0.0])
    res = rclpy_node.wait_future(client.call_async(PredictRollout.Request()), 20)
    assert res.status == PredictRollout.Response.STATUS_INVALID_REQUEST
    assert "no pushes" in res.message


def send_goal(t, client, goal, feedback):
    assert t.spin_until(client.server_is_ready, 20), "action server not ready"
    handle = t.wait_future(client.send_goal_async(goal, feedback_callback=feedback.append), 20)
    assert handle.accepted
    return handle


def test_action_feedback_result_and_execute_push(peer, rclpy_node):
    client = ActionClient(rclpy_node.node, Plan, "echo/plan")
    feedback = []
    goal = Plan.Goal(
        target_preset="straight_line",
        preset_x=0.1,
        preset_y=0.2,
        preset_yaw=0.3,
        preset_length=0.4,
        max_pushes=3,
    )
    handle = send_goal(rclpy_node, client, goal, feedback)
    result = rclpy_node.wait_future(handle.get_result_async(), 30).result
    assert result.status == Plan.Result.STATUS_SUCCEEDED
    assert "straight_line" in result.message
    assert result.pushes[0].length == pytest.approx(0.4)
    assert [f.feedback.mppi_iteration for f in feedback] == [0, 1, 2]

    push_client = ActionClient(rclpy_node.node, ExecutePush, "echo/execute_push")
    push_feedback = []
    handle = send_goal(
        rclpy_node,
        push_client,
        ExecutePush.Goal(start=Point(x=0.1), end=Point(x=0.2, y=0.05), height=0.01, speed=0.05),
        push_feedback,
    )
    result = rclpy_node.wait_future(handle.get_result_async(), 30).result
    assert result.status == ExecutePush.Result.STATUS_SUCCEEDED
    assert result.final_tip.y == pytest.approx(0.05)


def test_action_cancel_mid_plan(peer, rclpy_node):
    client = ActionClient(rclpy_node.node, Plan, "echo/plan")
    feedback = []
    handle = send_goal(rclpy_node, client, Plan.Goal(max_pushes=10_000), feedback)
    assert rclpy_node.spin_until(lambda: len(feedback) >= 2, 20), "no feedback before cancel"
    rclpy_node.wait_future(handle.cancel_goal_async(), 20)
    result = rclpy_node.wait_future(handle.get_result_async(), 30).result
    assert result.status == Plan.Result.STATUS_CANCELED
    assert "canceled after" in result.message
    assert len(feedback) < 10_000
