"""sensor_msgs/Image memory layout <-> numpy, without ROS.

Supported encodings: ``rgb8``, ``bgr8``, ``rgba8``, ``bgra8``, ``mono8``, ``mono16``,
``16UC1`` (depth in millimetres, as realsense-ros publishes) and ``32FC1`` (depth in metres).
"""

from __future__ import annotations

import numpy as np

#: encoding -> (numpy scalar type, channels)
ENCODINGS: dict[str, tuple[np.dtype, int]] = {
    "rgb8": (np.dtype(np.uint8), 3),
    "bgr8": (np.dtype(np.uint8), 3),
    "rgba8": (np.dtype(np.uint8), 4),
    "bgra8": (np.dtype(np.uint8), 4),
    "mono8": (np.dtype(np.uint8), 1),
    "mono16": (np.dtype(np.uint16), 1),
    "16UC1": (np.dtype(np.uint16), 1),
    "32FC1": (np.dtype(np.float32), 1),
}
DEPTH_ENCODINGS = ("16UC1", "32FC1")


class ImageFormatError(ValueError):
    """An image's encoding, size or buffer is unsupported or inconsistent."""


def _check_encoding(encoding: str) -> tuple[np.dtype, int]:
    if encoding not in ENCODINGS:
        raise ImageFormatError(
            f"unsupported image encoding '{encoding}'; supported: {sorted(ENCODINGS)}"
        )
    return ENCODINGS[encoding]


def decode_image(
    data: bytes, height: int, width: int, step: int, encoding: str, is_bigendian: bool = False
) -> np.ndarray:
    """Image buffer -> (H, W) or (H, W, C) array in the encoding's own channel order."""
    dtype, channels = _check_encoding(encoding)
    if height <= 0 or width <= 0:
        raise ImageFormatError(f"image size must be positive, got {width}x{height}")
    row_bytes = width * channels * dtype.itemsize
    if step < row_bytes:
        raise ImageFormatError(
            f"step {step} is smaller than width {width} x {channels} channels x "
            f"{dtype.itemsize} bytes = {row_bytes} for '{encoding}'"
        )
    if len(data) != step * height:
        raise ImageFormatError(
            f"image data has {len(data)} bytes, expected step {step} x height {height} = "
            f"{step * height}"
        )
    rows = np.frombuffer(data, np.uint8).reshape(height, step)[:, :row_bytes]
    arr = np.ascontiguousarray(rows).view(dtype.newbyteorder(">" if is_bigendian else "<"))
    arr = arr.astype(dtype, copy=False).reshape(height, width, channels)
    return arr[..., 0] if channels == 1 else arr


def encode_image(array: np.ndarray, encoding: str) -> tuple[bytes, int]:
    """(H, W) or (H, W, C) array -> (little-endian data, step) for ``encoding``."""
    dtype, channels = _check_encoding(encoding)
    arr = np.asarray(array)
    expected = 2 if channels == 1 else 3
    shape_text = "(H, W)" if channels == 1 else f"(H, W, {channels})"
    if arr.ndim == 3 and channels == 1 and arr.shape[2] == 1:
        arr = arr[..., 0]
    if arr.ndim != expected or (channels > 1 and arr.shape[2] != channels):
        raise ImageFormatError(
            f"'{encoding}' needs an array of shape {shape_text}, got {arr.shape}"
        )
    if arr.dtype != dtype:
        if dtype.kind in "ui" and arr.dtype.kind == "f":
            raise ImageFormatError(
                f"'{encoding}' needs {dtype} data, got {arr.dtype}; convert explicitly "
                "(e.g. depth metres -> millimetres with depth_to_millimetres)"
            )
        arr = arr.astype(dtype)
    arr = np.ascontiguousarray(arr.astype(dtype.newbyteorder("<"), copy=False))
    return arr.tobytes(), arr.shape[1] * channels * dtype.itemsize


def to_rgb8(array: np.ndarray, encoding: str) -> np.ndarray:
    """(H, W, 3) uint8 RGB view of a colour image in ``encoding``."""
    if encoding in ("rgb8", "rgba8"):
        return np.asarray(array)[..., :3]
    if encoding in ("bgr8", "bgra8"):
        return np.asarray(array)[..., 2::-1]
    if encoding == "mono8":
        return np.repeat(np.asarray(array)[..., None], 3, axis=2)
    raise ImageFormatError(f"cannot convert '{encoding}' to rgb8")


def depth_to_metres(array: np.ndarray, encoding: str, depth_scale: float = 0.001) -> np.ndarray:
    """(H, W) float32 depth [m] with NaN where the sensor had no reading (0 or NaN).

    ``depth_scale`` is metres per unit of ``16UC1`` data (0.001: millimetres).
    """
    if encoding == "16UC1" or encoding == "mono16":
        depth = np.asarray(array, dtype=np.float32) * np.float32(depth_scale)
    elif encoding == "32FC1":
        depth = np.array(array, dtype=np.float32)
    else:
        raise ImageFormatError(
            f"'{encoding}' is not a depth encoding; use one of {list(DEPTH_ENCODINGS)}"
        )
    depth[~(depth > 0)] = np.nan
    return depth


def depth_to_millimetres(depth_m: np.ndarray) -> np.ndarray:
    """(H, W) depth [m] (NaN/inf/<=0 = missing) -> uint16 millimetres (0 = missing)."""
    d = np.asarray(depth_m, dtype=np.float64)
    valid = np.isfinite(d) & (d > 0)
    mm = np.where(valid, np.round(d * 1000.0), 0.0)
    return np.clip(mm, 0, 65535).astype(np.uint16)
