"""cameras/rig validation (gs_common.ros.rig.rig_from_msg): a rig with bad names, NaN poses,
zero quaternions, bad intrinsics or a depth_scale of the wrong length is rejected with a
message naming the field (#11 items 1 and 4)."""

import numpy as np
import pytest

pytest.importorskip("gs_dynamics_interfaces", reason="interfaces not built")

from geometry_msgs.msg import Pose

from gs_common.camera import CameraIntrinsics
from gs_common.ros.camera_info import intrinsics_to_camera_info
from gs_common.ros.rig import rig_from_msg
from gs_dynamics_interfaces.msg import CameraRig


def _rig(n=2) -> CameraRig:
    msg = CameraRig()
    msg.names = [f"cam{i}" for i in range(n)]
    intr = CameraIntrinsics(fx=100.0, fy=100.0, cx=16.0, cy=12.0, width=32, height=24)
    msg.color_info = [intrinsics_to_camera_info(intr) for _ in range(n)]
    for i in range(n):
        p = Pose()
        p.position.x, p.orientation.w = 0.1 * i, 1.0
        msg.world_from_camera.append(p)
    msg.depth_scale = [0.001] * n
    return msg


def test_good_rig():
    names, intr, poses = rig_from_msg(_rig())
    assert names == ["cam0", "cam1"] and len(intr) == 2 and poses.shape == (2, 4, 4)
    assert np.allclose(poses[1, :3, 3], [0.1, 0, 0])


def _bad(field):
    msg = _rig()
    if field == "name":
        msg.names[1] = "cam0 bad-name"
    elif field == "duplicate":
        msg.names[1] = "cam0"
    elif field == "nan_pose":
        msg.world_from_camera[0].position.y = float("nan")
    elif field == "zero_quat":
        msg.world_from_camera[1].orientation.w = 0.0
    elif field == "far_pose":
        msg.world_from_camera[1].position.z = 1e308
    elif field == "depth_scale":
        msg.depth_scale = [0.001]
    elif field == "k":
        msg.color_info[0].k[0] = float("nan")
    return msg


@pytest.mark.parametrize(
    "field, text",
    [
        ("name", "names[1] = 'cam0 bad-name'"),
        ("duplicate", "duplicates"),
        ("nan_pose", "world_from_camera[0] has non-finite"),
        ("zero_quat", "world_from_camera[1].orientation has norm 0"),
        ("far_pose", "world_from_camera[1].position [0.1, 0.0, 1e+308] is more than 100 m"),
        ("depth_scale", "depth_scale has 1 values for 2 cameras"),
        ("k", "color_info[0].k"),
    ],
)
def test_bad_rigs_are_rejected_naming_the_field(field, text):
    with pytest.raises(ValueError) as exc:
        rig_from_msg(_bad(field))
    assert text in str(exc.value)
