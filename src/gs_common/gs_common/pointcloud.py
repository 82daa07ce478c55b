"""PointCloud2 memory layout <-> numpy, without ROS.

A PointCloud2 is a (height x width) grid of fixed-size records of ``point_step`` bytes,
rows ``row_step`` bytes apart, with named scalar fields at byte offsets. This module turns
that layout into named float32/… columns and back; :mod:`gs_common.ros.pointcloud2` wraps it
around the message class.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# sensor_msgs/PointField datatypes -> numpy scalar types
DATATYPES: dict[int, np.dtype] = {
    1: np.dtype(np.int8),
    2: np.dtype(np.uint8),
    3: np.dtype(np.int16),
    4: np.dtype(np.uint16),
    5: np.dtype(np.int32),
    6: np.dtype(np.uint32),
    7: np.dtype(np.float32),
    8: np.dtype(np.float64),
}
FLOAT32 = 7

XYZ_FIELDS: tuple[str, ...] = ("x", "y", "z")
#: `tracking/gaussians` layout (DESIGN.md section 4): position [m], rotation quaternion wxyz,
#: per-axis scale [m], opacity [0, 1], colour rgb [0, 1]; all float32.
GAUSSIAN_FIELDS: tuple[str, ...] = (
    "x",
    "y",
    "z",
    "qw",
    "qx",
    "qy",
    "qz",
    "sx",
    "sy",
    "sz",
    "opacity",
    "r",
    "g",
    "b",
)


class CloudFormatError(ValueError):
    """A point cloud's layout is inconsistent or lacks requested fields."""


@dataclass(frozen=True)
class FieldSpec:
    """One sensor_msgs/PointField: ``name`` at byte ``offset`` of type ``datatype``."""

    name: str
    offset: int
    datatype: int
    count: int = 1


def _record_dtype(fields: list[FieldSpec], point_step: int, is_bigendian: bool) -> np.dtype:
    names, formats, offsets = [], [], []
    for f in fields:
        if f.datatype not in DATATYPES:
            raise CloudFormatError(f"field '{f.name}' has unknown datatype {f.datatype}")
        if f.count != 1:
            raise CloudFormatError(f"field '{f.name}' has count {f.count}; only 1 is supported")
        base = DATATYPES[f.datatype].newbyteorder(">" if is_bigendian else "<")
        if f.offset < 0 or f.offset + base.itemsize > point_step:
            raise CloudFormatError(
                f"field '{f.name}' (offset {f.offset}, {base.itemsize} bytes) does not fit in "
                f"point_step {point_step}"
            )
        names.append(f.name)
        formats.append(base)
        offsets.append(f.offset)
    if len(set(names)) != len(names):
        raise CloudFormatError(f"duplicate field names in {names}")
    return np.dtype(
        {"names": names, "formats": formats, "offsets": offsets, "itemsize": point_step}
    )


def unpack_points(
    data: bytes,
    fields: list[FieldSpec],
    point_step: int,
    row_step: int,
    width: int,
    height: int,
    is_bigendian: bool,
    names: tuple[str, ...] = XYZ_FIELDS,
) -> np.ndarray:
    """Columns ``names`` of a cloud as an (N, len(names)) float32 array, N = width * height.

    Raises CloudFormatError naming the problem when the buffer size, steps or fields are
    inconsistent, or a requested field is missing.
    """
    n = width * height
    if point_step <= 0 and n > 0:
        raise CloudFormatError(f"point_step must be positive, got {point_step}")
    if row_step < point_step * width:
        raise CloudFormatError(
            f"row_step {row_step} is smaller than point_step {point_step} x width {width}"
        )
    if len(data) != row_step * height:
        raise CloudFormatError(
            f"data has {len(data)} bytes, expected row_step {row_step} x height {height}"
            f" = {row_step * height}"
        )
    present = {f.name for f in fields}
    missing = [name for name in names if name not in present]
    if missing:
        raise CloudFormatError(f"cloud lacks fields {missing}; it has {sorted(present)}")
    if n == 0:
        return np.zeros((0, len(names)), np.float32)
    wanted = [f for f in fields if f.name in names]
    dtype = _record_dtype(wanted, point_step, is_bigendian)
    buf = np.frombuffer(data, np.uint8).reshape(height, row_step)[:, : point_step * width]
    records = np.ascontiguousarray(buf).view(dtype).reshape(n)
    return np.stack([records[name].astype(np.float32) for name in names], axis=1)


def pack_points(
    columns: np.ndarray, names: tuple[str, ...] = XYZ_FIELDS
) -> tuple[bytes, list[FieldSpec], int]:
    """Pack an (N, len(names)) array as little-endian float32 records.

    Returns (data, fields, point_step). Rejects non-finite values (a cloud consumer cannot
    tell a NaN point from a missing one) with a CloudFormatError naming the column.
    """
    arr = np.asarray(columns, dtype=np.float32)
    if arr.ndim != 2 or arr.shape[1] != len(names):
        raise CloudFormatError(
            f"expected an (N, {len(names)}) array for fields {list(names)}, got shape {arr.shape}"
        )
    bad = ~np.isfinite(arr)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise CloudFormatError(
            f"non-finite value {arr[row, col]} in field '{names[col]}' of point {row} "
            f"({int(bad.any(1).sum())} points affected)"
        )
    fields = [FieldSpec(name, 4 * i, FLOAT32) for i, name in enumerate(names)]
    return np.ascontiguousarray(arr.astype("<f4")).tobytes(), fields, 4 * len(names)


def unpack_cloud_message(msg, names: tuple[str, ...] = XYZ_FIELDS) -> np.ndarray:
    """:func:`unpack_points` of anything shaped like a sensor_msgs/PointCloud2 (a ROS message
    or a decoded MCAP record), without importing ROS."""
    fields = [FieldSpec(f.name, f.offset, f.datatype, f.count) for f in msg.fields]
    return unpack_points(
        bytes(msg.data),
        fields,
        msg.point_step,
        msg.row_step,
        msg.width,
        msg.height,
        bool(msg.is_bigendian),
        names,
    )
