import numpy as np
import pytest

from gs_common.image import (
    ImageFormatError,
    decode_image,
    depth_to_metres,
    depth_to_millimetres,
    encode_image,
    to_rgb8,
)


@pytest.mark.parametrize(
    "encoding, shape, dtype",
    [
        ("rgb8", (4, 5, 3), np.uint8),
        ("bgr8", (4, 5, 3), np.uint8),
        ("16UC1", (4, 5), np.uint16),
        ("32FC1", (4, 5), np.float32),
        ("mono8", (4, 5), np.uint8),
    ],
)
def test_encode_decode_round_trip(encoding, shape, dtype):
    arr = (np.random.default_rng(0).random(shape) * 200).astype(dtype)
    data, step = encode_image(arr, encoding)
    assert np.array_equal(decode_image(data, shape[0], shape[1], step, encoding), arr)


def test_decode_with_row_padding_and_big_endian():
    arr = np.arange(6, dtype=np.uint16).reshape(2, 3) * 1000
    rows = [arr[r].astype(">u2").tobytes() + b"\0\0" for r in range(2)]
    out = decode_image(b"".join(rows), 2, 3, 8, "16UC1", is_bigendian=True)
    assert np.array_equal(out, arr)


def test_bad_images_name_the_problem():
    with pytest.raises(ImageFormatError, match="unsupported image encoding 'yuv422'"):
        decode_image(b"", 1, 1, 2, "yuv422")
    with pytest.raises(ImageFormatError, match="expected step"):
        decode_image(b"\0" * 10, 2, 2, 6, "rgb8")
    with pytest.raises(ImageFormatError, match="shape"):
        encode_image(np.zeros((2, 2)), "rgb8")
    with pytest.raises(ImageFormatError, match="depth_to_millimetres"):
        encode_image(np.zeros((2, 2), np.float32), "16UC1")


def test_depth_conversions_mark_missing_readings():
    mm = np.array([[0, 1000], [1500, 65535]], np.uint16)
    m = depth_to_metres(mm, "16UC1")
    assert np.isnan(m[0, 0]) and m[0, 1] == pytest.approx(1.0) and m[1, 0] == pytest.approx(1.5)
    back = depth_to_millimetres(np.array([[np.nan, 1.0], [-1.0, 0.2504]]))
    assert back.tolist() == [[0, 1000], [0, 250]]


def test_bgr_to_rgb_swaps_channels():
    bgr = np.zeros((1, 1, 3), np.uint8)
    bgr[0, 0] = [1, 2, 3]
    assert to_rgb8(bgr, "bgr8")[0, 0].tolist() == [3, 2, 1]
