"""gs_gnn_dynamics end to end: the dynamics node in its own process, called over DDS.

Predicts a push with the shipped rope model, receives the published prediction, starts from
the latest observed `tracking/particles`, and sees bad requests rejected with clear
messages while the node keeps serving.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import time

import numpy as np
import pytest
from sensor_msgs.msg import PointCloud2

from gs_common.ros.pointcloud2 import xyz_to_cloud
from gs_common.ros.qos import STATE_QOS
from gs_dynamics_interfaces.msg import PredictedStates, Push
from gs_dynamics_interfaces.srv import PredictRollout
from ros_harness import REPO

pytestmark = pytest.mark.timeout(180)

Response = PredictRollout.Response


@pytest.fixture
def dynamics(process_manager):
    env = {}
    if importlib.util.find_spec("gs_gnn_dynamics") is None:  # not colcon-built yet
        env["PYTHONPATH"] = os.pathsep.join(
            [str(REPO / "src/gs_gnn_dynamics"), os.environ.get("PYTHONPATH", "")]
        )
    proc = process_manager.start(
        "dynamics",
        [
            sys.executable,
            "-m",
            "gs_gnn_dynamics.dynamics_node",
            "--ros-args",
            "--params-file",
            str(REPO / "config/dynamics.yaml"),
            "-p",
            "device:=cpu",
        ],
        env=env,
    )
    proc.wait_for_output("dynamics ready", timeout=60)
    return proc


def _rope(n: int = 30) -> np.ndarray:
    return np.stack([np.linspace(-0.2, 0.2, n), np.zeros(n), np.full(n, 0.008)], 1)


def _request(points=None, pushes=None, latest=False) -> PredictRollout.Request:
    req = PredictRollout.Request(use_latest_observed=latest)
    if points is not None:
        req.state = xyz_to_cloud(np.asarray(points, np.float32))
    req.pushes = (
        pushes
        if pushes is not None
        else [Push(x=0.0, y=-0.05, theta=float(np.pi / 2), length=0.10)]
    )
    return req


def test_predict_service_over_dds(dynamics, rclpy_node):
    t = rclpy_node
    published = []
    t.node.create_subscription(
        PredictedStates, "dynamics/predicted_states", published.append, STATE_QOS
    )
    client = t.node.create_client(PredictRollout, "dynamics/predict")
    assert t.spin_until(client.service_is_ready, 30)

    def call(req):
        return t.wait_future(client.call_async(req), 60)

    # nothing observed yet
    res = call(_request(latest=True))
    assert res.status == Response.STATUS_NO_STATE and "tracking/particles" in res.message

    # a 10 cm push through the middle of a straight rope
    res = call(_request(_rope()))
    assert res.status == Response.STATUS_OK, res.message
    ps = res.predicted_states
    n = ps.num_particles
    assert ps.num_steps == 10 and 8 <= n <= 30 and ps.header.frame_id == "world"
    pos = np.array(ps.positions).reshape(11, n, 3)
    ee = np.array(ps.ee_positions).reshape(11, 3)
    assert np.isfinite(pos).all() and list(ps.push_start_step) == [0]
    assert ee[-1] == pytest.approx([0.0, 0.05, 0.005], abs=1e-5)
    moved = np.linalg.norm(pos[-1] - pos[0], axis=1)
    assert moved.max() > 0.01, f"nothing moved: {moved.max():.4f} m"
    assert abs(pos[0, np.argmax(moved), 0]) < 0.05  # the pushed middle moves most
    assert t.spin_until(lambda: bool(published), 10), "no dynamics/predicted_states"
    assert published[-1].num_steps == 10

    # bad requests: clear errors, node keeps serving
    nan_state = _request(_rope())  # xyz_to_cloud refuses NaN: patch the packed floats
    floats = np.frombuffer(bytes(nan_state.state.data), np.float32).copy()
    floats[3 * nan_state.state.point_step // 4 + 1] = np.nan
    nan_state.state.data = floats.tobytes()
    cases = [
        (nan_state, "non-finite"),
        (_request(np.zeros((0, 3))), "empty"),
        (_request(_rope()[:2]), "at least"),
        (_request(_rope(), pushes=[]), "no pushes"),
        (_request(_rope(), pushes=[Push(x=0.0, y=0.0, theta=0.0, length=-0.1)]), "> 0"),
        # #11 item 6: the field is named (was INTERNAL_ERROR "cannot convert float
        # infinity to integer"); pushes far outside the workspace are rejected
        (
            _request(_rope(), pushes=[Push(x=0.0, y=0.0, theta=0.0, length=1e308)]),
            "pushes[0].length = 1e+308",
        ),
        (
            _request(_rope(), pushes=[Push(x=100.0, y=0.0, theta=0.0, length=0.1)]),
            "pushes[0] start (100.000, 0.000) m is 99.780 m outside the workspace",
        ),
    ]
    for req, msg in cases:
        res = call(req)
        assert res.status == Response.STATUS_INVALID_REQUEST and msg in res.message, res.message
    wrong_frame = _request(_rope())
    wrong_frame.state.header.frame_id = "camera"
    res = call(wrong_frame)
    assert res.status == Response.STATUS_INVALID_REQUEST and "frame_id" in res.message

    # start from the latest observed particles (bounded retries until the state arrived)
    pub = t.node.create_publisher(PointCloud2, "tracking/particles", STATE_QOS)
    assert t.spin_until(lambda: pub.get_subscription_count() > 0, 20)
    shifted = _rope() + np.array([0.0, 0.1, 0.0])
    res = None
    for _ in range(20):
        pub.publish(xyz_to_cloud(shifted.astype(np.float32)))
        res = call(_request(latest=True))
        if res.status != Response.STATUS_NO_STATE:
            break
    assert res.status == Response.STATUS_OK, res.message
    start = np.array(res.predicted_states.positions[:3])
    assert start[1] == pytest.approx(0.1, abs=1e-6)
    assert dynamics.alive()


def test_predicted_images_are_rendered_from_tracked_gaussians(dynamics, rclpy_node):
    from geometry_msgs.msg import Pose
    from sensor_msgs.msg import Image

    from gs_common.camera import CameraIntrinsics
    from gs_common.geometry import look_at, matrix_to_quat
    from gs_common.ros.camera_info import intrinsics_to_camera_info
    from gs_common.ros.image import image_to_numpy
    from gs_common.ros.pointcloud2 import gaussians_to_cloud
    from gs_common.ros.qos import LATCHED_QOS, SENSOR_QOS
    from gs_dynamics_interfaces.msg import CameraRig

    t = rclpy_node
    client = t.node.create_client(PredictRollout, "dynamics/predict")
    assert t.spin_until(client.service_is_ready, 30)
    req = _request(_rope())
    req.render = True
    res = t.wait_future(client.call_async(req), 60)
    assert res.status == Response.STATUS_OK and "no cameras/rig" in res.message

    # one camera above the rope; orange Gaussians along the rope
    pose = look_at([0.0, -0.3, 0.5], [0.0, 0.0, 0.0])
    q = matrix_to_quat(pose[:3, :3])
    p = Pose()
    p.position.x, p.position.y, p.position.z = (float(v) for v in pose[:3, 3])
    p.orientation.w, p.orientation.x, p.orientation.y, p.orientation.z = (float(v) for v in q)
    info = intrinsics_to_camera_info(CameraIntrinsics.from_fov(80, 60, 60.0))
    rig_pub = t.node.create_publisher(CameraRig, "cameras/rig", LATCHED_QOS)
    assert t.spin_until(lambda: rig_pub.get_subscription_count() > 0, 20)

    # #11 items 1 and 4: a camera name that is no valid topic name (killed the process) and
    # a NaN pose / zero quaternion (accepted, then all-black images) are rejected, naming
    # the field; the node keeps serving without a rig
    bad_name = CameraRig(names=["cam0 bad-name"], world_from_camera=[p], color_info=[info])
    nan_pose = Pose()
    nan_pose.position.x = float("nan")
    zero_quat = Pose()
    zero_quat.orientation.w = 0.0  # (x, y, z, w) = 0: no rotation at all
    for bad, text in (
        (bad_name, "names[0] = 'cam0 bad-name'"),
        (CameraRig(names=["cam0"], world_from_camera=[nan_pose], color_info=[info]), "non-finite"),
        (CameraRig(names=["cam0"], world_from_camera=[zero_quat], color_info=[info]), "norm 0"),
    ):
        rig_pub.publish(bad)
        assert t.spin_until(lambda text=text: text in dynamics.output(), 20), dynamics.output()
        res = t.wait_future(client.call_async(req), 60)
        assert res.status == Response.STATUS_OK and "no cameras/rig" in res.message, res.message
        assert dynamics.alive()

    rig = CameraRig(names=["cam0"], world_from_camera=[p], depth_scale=[0.001])
    rig.header.frame_id = "world"
    rig.color_info = [info]
    rig_pub.publish(rig)
    g = np.zeros((60, 14), np.float32)
    g[:, 0:3] = _rope(60)
    g[:, 3] = 1.0
    g[:, 7:10] = 0.006
    g[:, 10] = 0.9
    g[:, 11:14] = [1.0, 0.5, 0.0]
    gpub = t.node.create_publisher(PointCloud2, "tracking/gaussians", SENSOR_QOS)
    images = []
    t.node.create_subscription(Image, "dynamics/predicted_image/cam0", images.append, SENSOR_QOS)
    deadline = time.monotonic() + 60.0  # bounded retries until rig and Gaussians arrived
    while time.monotonic() < deadline:
        gpub.publish(gaussians_to_cloud(g))
        res = t.wait_future(client.call_async(req), 60)
        if "rendered" in res.message and "nothing" not in res.message:
            break
        t.spin_until(lambda: False, 0.2)  # let the node's subscriptions match
    assert res.status == Response.STATUS_OK and "into 1 cameras" in res.message, res.message
    assert t.spin_until(lambda: bool(images), 20), "no dynamics/predicted_image/cam0"
    img = image_to_numpy(images[-1])
    assert img.shape == (60, 80, 3) and images[-1].encoding == "rgb8"
    assert (img[..., 0] > 100).sum() > 20  # the orange rope is in view
