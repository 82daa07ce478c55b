import numpy as np
import pytest

from gs_common.pointcloud import (
    GAUSSIAN_FIELDS,
    CloudFormatError,
    FieldSpec,
    pack_points,
    unpack_points,
)


def test_pack_unpack_round_trip_gaussian_layout():
    cols = np.random.default_rng(0).normal(size=(7, len(GAUSSIAN_FIELDS))).astype(np.float32)
    data, fields, step = pack_points(cols, GAUSSIAN_FIELDS)
    assert step == 4 * 14 and len(data) == 7 * step
    back = unpack_points(data, fields, step, step * 7, 7, 1, False, GAUSSIAN_FIELDS)
    assert np.array_equal(back, cols)
    xyz = unpack_points(data, fields, step, step * 7, 7, 1, False)
    assert np.array_equal(xyz, cols[:, :3])


def test_unpack_handles_padding_row_step_big_endian_and_float64():
    # an organized 2x3 cloud: x,y,z float64 big-endian + 4 bytes padding, 8 bytes per row pad
    pts = np.arange(18, dtype=np.float64).reshape(6, 3)
    point_step, width, height = 28, 3, 2
    row_step = point_step * width + 8
    buf = bytearray(row_step * height)
    for i, p in enumerate(pts):
        r, c = divmod(i, width)
        off = r * row_step + c * point_step
        buf[off : off + 24] = p.astype(">f8").tobytes()
    fields = [FieldSpec("x", 0, 8), FieldSpec("y", 8, 8), FieldSpec("z", 16, 8)]
    out = unpack_points(bytes(buf), fields, point_step, row_step, width, height, True)
    assert out.dtype == np.float32
    assert np.array_equal(out, pts.astype(np.float32))


def test_malformed_clouds_are_rejected_with_reason():
    data, fields, step = pack_points(np.zeros((3, 3)))
    with pytest.raises(CloudFormatError, match="expected row_step"):
        unpack_points(data[:-1], fields, step, step * 3, 3, 1, False)
    with pytest.raises(CloudFormatError, match="lacks fields"):
        unpack_points(data, fields[:2], step, step * 3, 3, 1, False)
    with pytest.raises(CloudFormatError, match="does not fit"):
        unpack_points(data, [FieldSpec("x", 10, 7), *fields[1:]], step, step * 3, 3, 1, False)
    with pytest.raises(CloudFormatError, match="datatype 42"):
        unpack_points(data, [FieldSpec("x", 0, 42), *fields[1:]], step, step * 3, 3, 1, False)
    with pytest.raises(CloudFormatError, match="non-finite value nan in field 'y' of point 1"):
        pack_points(np.array([[0, 0, 0], [0, np.nan, 0]]))


def test_empty_cloud_is_an_empty_array():
    data, fields, step = pack_points(np.zeros((0, 3)))
    assert unpack_points(data, fields, step, 0, 0, 1, False).shape == (0, 3)
