"""Write RealSense SDK recordings of synthetic frames (no hardware needed).

``pyrealsense2.software_device`` injects colour (rgb8) and depth (z16) frames with given
intrinsics, device timestamps and a depth scale; ``pyrealsense2.recorder`` stores them in a
``.db3`` file that the SDK plays back through a normal pipeline
(``rs.config.enable_device_from_file``), i.e. the same code path as a connected camera from
``pipeline.start`` on. Used by the tests and to try the capture node on a machine without
cameras.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyrealsense2 as rs

from gs_common.camera import CameraIntrinsics


def _rs_intrinsics(intr: CameraIntrinsics):
    i = rs.intrinsics()
    i.width, i.height = intr.width, intr.height
    i.fx, i.fy, i.ppx, i.ppy = intr.fx, intr.fy, intr.cx, intr.cy
    i.model = rs.distortion.brown_conrady
    i.coeffs = [0.0] * 5
    return i


def default_frame(k: int, intr: CameraIntrinsics) -> tuple[np.ndarray, np.ndarray]:
    """Frame ``k``: a colour ramp whose red channel is ``k % 256`` and a plane 0.6 m away
    (z16 millimetres) -- enough to check values, order and alignment end to end."""
    h, w = intr.height, intr.width
    rgb = np.zeros((h, w, 3), np.uint8)
    rgb[..., 0] = k % 256
    rgb[..., 1] = (np.arange(w) * 255 // max(w - 1, 1)).astype(np.uint8)[None, :]
    rgb[..., 2] = (np.arange(h) * 255 // max(h - 1, 1)).astype(np.uint8)[:, None]
    depth = np.full((h, w), 600, np.uint16)
    return rgb, depth


def write_recording(
    path: str | os.PathLike,
    serial: str,
    intrinsics: CameraIntrinsics,
    num_frames: int,
    fps: int = 30,
    frame_fn: Callable[[int, CameraIntrinsics], tuple[np.ndarray, np.ndarray]] = default_frame,
    depth_scale: float = 0.001,
    t0_ms: float = 0.0,
    pace_s: float = 0.01,
) -> Path:
    """Record ``num_frames`` frames of a software camera with serial ``serial`` to ``path``.

    frame_fn(k, intrinsics) -> (rgb (H, W, 3) uint8, depth (H, W) uint16 in depth_scale
    units); device timestamps are ``t0_ms + k * 1000 / fps`` ms (hardware clock).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    dev = rs.software_device()
    dev.register_info(rs.camera_info.serial_number, serial)
    dev.register_info(rs.camera_info.name, "gs_capture software camera")
    color_sensor = dev.add_sensor("RGB Camera")
    depth_sensor = dev.add_sensor("Stereo Module")
    ri = _rs_intrinsics(intrinsics)
    streams = []
    for uid, (kind, fmt, bpp) in enumerate(
        ((rs.stream.color, rs.format.rgb8, 3), (rs.stream.depth, rs.format.z16, 2))
    ):
        vs = rs.video_stream()
        vs.type, vs.index, vs.uid = kind, 0, uid
        vs.width, vs.height, vs.fps, vs.bpp, vs.fmt = ri.width, ri.height, fps, bpp, fmt
        vs.intrinsics = ri
        sensor = color_sensor if kind == rs.stream.color else depth_sensor
        streams.append(sensor.add_video_stream(vs))
    color_p, depth_p = streams
    identity = rs.extrinsics()
    identity.rotation = [1.0, 0, 0, 0, 1.0, 0, 0, 0, 1.0]
    identity.translation = [0.0, 0.0, 0.0]
    depth_p.register_extrinsics_to(color_p, identity)
    depth_sensor.add_read_only_option(rs.option.depth_units, depth_scale)
    dev.create_matcher(rs.matchers.default)
    recorder = rs.recorder(str(path), dev)
    sink = rs.frame_queue(4 * num_frames + 8)
    color_sensor.open(color_p)
    depth_sensor.open(depth_p)
    color_sensor.start(sink)
    depth_sensor.start(sink)
    for k in range(num_frames):
        rgb, depth = frame_fn(k, intrinsics)
        t = t0_ms + k * 1000.0 / fps
        for sensor, profile, data, bpp in (
            (color_sensor, color_p, np.ascontiguousarray(rgb, np.uint8), 3),
            (depth_sensor, depth_p, np.ascontiguousarray(depth, np.uint16), 2),
        ):
            f = rs.software_video_frame()
            f.pixels, f.bpp, f.stride = data, bpp, intrinsics.width * bpp
            f.timestamp, f.domain, f.frame_number = t, rs.timestamp_domain.hardware_clock, k
            f.profile = profile.as_video_stream_profile()
            if sensor is depth_sensor:
                f.depth_units = depth_scale
            sensor.on_video_frame(f)
        time.sleep(pace_s)  # the recorder writes asynchronously: do not outrun it
    time.sleep(0.1)
    for sensor in (color_sensor, depth_sensor):
        sensor.stop()
        sensor.close()
    del recorder  # finalizes the file
    return path


def main(argv=None) -> int:
    """``python -m gs_capture.synthetic --out cam0.db3 --serial 100 --frames 90``: a
    recording to try the capture node without a camera (serials: ``file:cam0.db3``)."""
    import argparse

    ap = argparse.ArgumentParser(prog="python -m gs_capture.synthetic", description=main.__doc__)
    ap.add_argument("--out", required=True, help=".db3 file to write")
    ap.add_argument("--serial", default="100")
    ap.add_argument("--frames", type=int, default=90)
    ap.add_argument("--fps", type=int, default=30)
    ap.add_argument("--width", type=int, default=64)
    ap.add_argument("--height", type=int, default=48)
    ap.add_argument("--fovy-deg", type=float, default=42.5)
    a = ap.parse_args(argv)
    intr = CameraIntrinsics.from_fov(a.width, a.height, a.fovy_deg)
    print(write_recording(a.out, a.serial, intr, a.frames, a.fps))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
