"""sensor_msgs/Image <-> numpy."""

from __future__ import annotations

import numpy as np
from builtin_interfaces.msg import Time
from sensor_msgs.msg import Image

from gs_common.image import decode_image, depth_to_metres, encode_image
from gs_common.ros.stamp import make_header


def numpy_to_image(
    array: np.ndarray, encoding: str, stamp: Time | float | None = None, frame_id: str = ""
) -> Image:
    """Image message of ``array`` ((H, W) or (H, W, C)) in ``encoding`` (see gs_common.image)."""
    data, step = encode_image(array, encoding)
    arr = np.asarray(array)
    msg = Image(
        header=make_header(frame_id, stamp),
        height=arr.shape[0],
        width=arr.shape[1],
        encoding=encoding,
        is_bigendian=0,
        step=step,
    )
    msg.data = data
    return msg


def image_to_numpy(msg: Image) -> np.ndarray:
    """(H, W) or (H, W, C) array of an Image message, in its own encoding and channel order.

    Raises gs_common.image.ImageFormatError naming the problem (encoding, size, step).
    """
    return decode_image(
        bytes(msg.data), msg.height, msg.width, msg.step, msg.encoding, bool(msg.is_bigendian)
    )


def image_to_depth_metres(msg: Image, depth_scale: float = 0.001) -> np.ndarray:
    """(H, W) float32 metric depth of a 16UC1 (mm) or 32FC1 (m) image; NaN = no reading."""
    return depth_to_metres(image_to_numpy(msg), msg.encoding, depth_scale)
