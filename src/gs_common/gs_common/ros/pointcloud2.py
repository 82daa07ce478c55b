"""sensor_msgs/PointCloud2 <-> numpy."""

from __future__ import annotations

import numpy as np
from builtin_interfaces.msg import Time
from sensor_msgs.msg import PointCloud2, PointField

from gs_common.names import WORLD_FRAME
from gs_common.pointcloud import (
    GAUSSIAN_FIELDS,
    XYZ_FIELDS,
    pack_points,
    unpack_cloud_message,
)
from gs_common.ros.stamp import make_header


def array_to_cloud(
    columns: np.ndarray,
    names: tuple[str, ...],
    frame_id: str = WORLD_FRAME,
    stamp: Time | float | None = None,
) -> PointCloud2:
    """Unorganized cloud (height 1) of float32 ``columns`` (N, len(names))."""
    data, fields, point_step = pack_points(columns, names)
    n = len(columns)
    msg = PointCloud2(
        header=make_header(frame_id, stamp),
        height=1,
        width=n,
        is_bigendian=False,
        point_step=point_step,
        row_step=point_step * n,
        is_dense=True,
    )
    msg.fields = [
        PointField(name=f.name, offset=f.offset, datatype=f.datatype, count=1) for f in fields
    ]
    msg.data = data
    return msg


def cloud_to_array(msg: PointCloud2, names: tuple[str, ...]) -> np.ndarray:
    """(N, len(names)) float32 columns of a cloud (any padding, steps and endianness).

    Raises gs_common.pointcloud.CloudFormatError naming the problem.
    """
    return unpack_cloud_message(msg, names)


def xyz_to_cloud(
    points: np.ndarray, frame_id: str = WORLD_FRAME, stamp: Time | float | None = None
) -> PointCloud2:
    """Cloud with fields x y z of (N, 3) points [m]."""
    return array_to_cloud(points, XYZ_FIELDS, frame_id, stamp)


def cloud_to_xyz(msg: PointCloud2) -> np.ndarray:
    """(N, 3) float32 points of a cloud with x y z fields."""
    return cloud_to_array(msg, XYZ_FIELDS)


def gaussians_to_cloud(
    gaussians: np.ndarray, frame_id: str = WORLD_FRAME, stamp: Time | float | None = None
) -> PointCloud2:
    """Cloud in the `tracking/gaussians` layout from (N, 14) columns GAUSSIAN_FIELDS."""
    return array_to_cloud(gaussians, GAUSSIAN_FIELDS, frame_id, stamp)


def cloud_to_gaussians(msg: PointCloud2) -> np.ndarray:
    """(N, 14) columns GAUSSIAN_FIELDS of a `tracking/gaussians` cloud."""
    return cloud_to_array(msg, GAUSSIAN_FIELDS)
