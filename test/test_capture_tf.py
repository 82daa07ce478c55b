"""TF of the simulated workcell: chaining world -> link_base (/tf_static) and the /tf link
transforms reproduces every arm link's pose; camera frames are the rig's poses."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("mujoco", reason="MuJoCo is not installed")
pytest.importorskip("tf2_msgs", reason="tf2_msgs is not built")

from builtin_interfaces.msg import Time

from gs_common.geometry import make_transform, matrix_to_quat, quat_to_matrix
from gs_common.ros.tf import optical_frame, rig_frames, tf_message
from gs_sim.robot_xarm import ARM_PREFIX
from gs_sim.tf_publisher import BASE_LINK, _body_pose, link_frames
from gs_sim.workcell import Workcell


def test_link_chain_reproduces_link_poses_and_messages_round_trip():
    wc = Workcell()
    model, data = wc.model, wc.data
    base = next(b for b in range(model.nbody) if model.body(b).name == ARM_PREFIX + BASE_LINK)
    world_from = {BASE_LINK: _body_pose(data, base)}
    frames = link_frames(model, data)
    assert [c for _, c, _ in frames][:2] == ["link1", "link2"] and len(frames) >= 8
    for parent, child, t in frames:  # parents come before children (MuJoCo body order)
        world_from[child] = world_from[parent] @ t
    for b in range(model.nbody):
        name = model.body(b).name
        if name.startswith(ARM_PREFIX):
            np.testing.assert_allclose(
                world_from[name.removeprefix(ARM_PREFIX)], _body_pose(data, b), atol=1e-9
            )
    cams = wc.cameras
    msg = tf_message(
        rig_frames([c.name for c in cams], [c.world_from_camera for c in cams]), Time(sec=3)
    )
    for c, ts in zip(cams, msg.transforms):
        assert ts.header.frame_id == "world" and ts.child_frame_id == optical_frame(c.name)
        assert ts.header.stamp.sec == 3
        r = ts.transform.rotation
        q = np.array([r.w, r.x, r.y, r.z])
        tr = ts.transform.translation
        np.testing.assert_allclose(
            make_transform(quat_to_matrix(q), [tr.x, tr.y, tr.z]), c.world_from_camera, atol=1e-9
        )
    assert np.allclose(matrix_to_quat(np.eye(3)), [1, 0, 0, 0])
