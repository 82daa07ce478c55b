"""Intel RealSense cameras through the SDK (pyrealsense2), ROS-free.

:class:`RealSenseCamera` opens one camera -- a connected device chosen by serial number, or
an SDK recording (``.db3``/``.bag``) played back through the same pipeline -- streams colour
(rgb8) and depth (z16) with depth aligned to colour, maps device timestamps to host time and
reports loss and recovery. :class:`MultiCamera` runs one reader thread per camera and groups
their frames with :class:`gs_capture.grouping.FrameGrouper`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pyrealsense2 as rs

from gs_capture.grouping import FrameGrouper, TimedFrame
from gs_common.camera import CameraIntrinsics


class CameraNotFoundError(RuntimeError):
    """A configured serial number is not connected (the message lists the connected ones)."""


def connected_serials() -> list[str]:
    """Serial numbers of the RealSense devices connected now."""
    return [d.get_info(rs.camera_info.serial_number) for d in rs.context().query_devices()]


@dataclasses.dataclass
class CameraSpec:
    """name: camera name (topics ``cameras/<name>/...``); serial: device serial number, or
    playback: path of an SDK recording to play instead of a device; width/height [px], fps."""

    name: str
    serial: str = ""
    playback: str = ""
    width: int = 640
    height: int = 480
    fps: int = 30
    sync_mode: int = 0  # inter_cam_sync_mode: 0 default, 1 master, 2 slave

    def describe(self) -> str:
        source = f"file {self.playback}" if self.playback else f"serial {self.serial}"
        return f"'{self.name}' ({source})"


@dataclasses.dataclass
class RgbdFrame:
    """One aligned frame. rgb: (H, W, 3) uint8; depth_mm: (H, W) uint16 millimetres
    (0 = no reading), registered to colour; device_ms: device timestamp [ms];
    stamp_s: host time [s]; number: device frame counter."""

    rgb: np.ndarray
    depth_mm: np.ndarray
    device_ms: float
    stamp_s: float
    number: int


class DeviceClock:
    """Maps device timestamps to host time.

    ``hardware_clock`` stamps count on the device; the offset to the host clock is the
    smallest (arrival - device) difference of the last ``window`` frames (the frame with the
    least transport delay), re-estimated continuously so that drift is followed.
    ``system_time`` / ``global_time`` stamps are already host time and are used as they are.
    """

    def __init__(self, window: int = 100) -> None:
        self._diffs: deque[float] = deque(maxlen=window)

    def reset(self) -> None:
        self._diffs.clear()

    def to_host(self, device_ms: float, arrival_s: float, domain) -> float:
        if domain in (rs.timestamp_domain.system_time, rs.timestamp_domain.global_time):
            return device_ms * 1e-3
        self._diffs.append(arrival_s - device_ms * 1e-3)
        return device_ms * 1e-3 + min(self._diffs)


def _to_intrinsics(i) -> CameraIntrinsics:
    return CameraIntrinsics(i.width, i.height, i.fx, i.fy, i.ppx, i.ppy)


class RealSenseCamera:
    """One camera. :meth:`open` then :meth:`read` until it returns None (lost)."""

    def __init__(self, spec: CameraSpec, clock: Callable[[], float] = time.time) -> None:
        self.spec = spec
        self.clock = clock
        self.intrinsics: CameraIntrinsics | None = None
        self.distortion: tuple[str, list[float]] = ("plumb_bob", [0.0] * 5)
        self.depth_scale = 0.001  # m per z16 unit
        self.serial = spec.serial
        self._pipeline = None
        self._align = rs.align(rs.stream.color)
        self._time = DeviceClock()
        self._pace_origin: tuple[float, float] | None = None

    def open(self) -> None:
        """Start streaming. Raises CameraNotFoundError / RuntimeError naming the camera."""
        s = self.spec
        cfg = rs.config()
        if s.playback:
            if not Path(s.playback).is_file():
                raise CameraNotFoundError(f"camera {s.describe()}: file does not exist")
            cfg.enable_device_from_file(s.playback, repeat_playback=False)
        else:
            serials = connected_serials()
            if s.serial not in serials:
                raise CameraNotFoundError(
                    f"camera '{s.name}': serial '{s.serial}' is not connected; connected "
                    f"RealSense devices: {serials or 'none'}"
                )
            cfg.enable_device(s.serial)
            cfg.enable_stream(rs.stream.color, s.width, s.height, rs.format.rgb8, s.fps)
            cfg.enable_stream(rs.stream.depth, s.width, s.height, rs.format.z16, s.fps)
        pipeline = rs.pipeline()
        profile = pipeline.start(cfg)
        dev = profile.get_device()
        if s.playback:
            # The recording's own timeline is when frames were written, not their device
            # timestamps: play on demand and pace by the device timestamps in read().
            dev.as_playback().set_real_time(False)
        self._pace_origin = None
        self.serial = dev.get_info(rs.camera_info.serial_number)
        try:
            depth_sensor = dev.first_depth_sensor()
            self.depth_scale = float(depth_sensor.get_depth_scale())
            if s.sync_mode and depth_sensor.supports(rs.option.inter_cam_sync_mode):
                depth_sensor.set_option(rs.option.inter_cam_sync_mode, float(s.sync_mode))
        except RuntimeError:
            self.depth_scale = 0.001  # a recording without the depth-units option
        color = profile.get_stream(rs.stream.color).as_video_stream_profile()
        ci = color.get_intrinsics()
        self.intrinsics = _to_intrinsics(ci)
        self.distortion = (
            "plumb_bob"
            if ci.model in (rs.distortion.none, rs.distortion.brown_conrady)
            else str(ci.model),
            [float(c) for c in ci.coeffs],
        )
        self._time.reset()
        self._pipeline = pipeline

    def read(self, timeout_s: float) -> RgbdFrame | None:
        """The next aligned frame, or None when none came within ``timeout_s`` or the device
        failed (the caller treats that as loss and calls :meth:`close`)."""
        if self._pipeline is None:
            return None
        try:
            ok, frames = self._pipeline.try_wait_for_frames(int(timeout_s * 1000))
        except RuntimeError:
            return None
        if not ok:
            return None
        frames = self._align.process(frames)
        color, depth = frames.get_color_frame(), frames.get_depth_frame()
        if not color or not depth:
            return None
        if self.spec.playback:
            self._pace(color.get_timestamp())
        arrival = self.clock()
        raw = np.asanyarray(depth.get_data())
        if abs(self.depth_scale - 0.001) < 1e-9:
            depth_mm = raw.copy()
        else:  # e.g. D405 (0.1 mm units): convert to the stack's millimetres
            depth_mm = np.clip(np.round(raw * (self.depth_scale * 1000.0)), 0, 65535)
            depth_mm = depth_mm.astype(np.uint16)
        device_ms = color.get_timestamp()
        stamp = self._time.to_host(device_ms, arrival, color.get_frame_timestamp_domain())
        return RgbdFrame(
            np.asanyarray(color.get_data()).copy(),
            depth_mm,
            device_ms,
            stamp,
            int(color.get_frame_number()),
        )

    def _pace(self, device_ms: float) -> None:
        """Play a recording at its device-timestamp rate (as a live camera delivers it)."""
        now = time.monotonic()
        if self._pace_origin is None:
            self._pace_origin = (now, device_ms)
        due = self._pace_origin[0] + (device_ms - self._pace_origin[1]) * 1e-3
        if due > now:
            time.sleep(due - now)

    def close(self) -> None:
        if self._pipeline is not None:
            with contextlib.suppress(RuntimeError):
                self._pipeline.stop()
            self._pipeline = None


class MultiCamera:
    """Reader thread per camera + frame grouping + loss / re-open handling.

    on_group(stamp_s, frames: list[TimedFrame of RgbdFrame]); on_log(level, message) with
    level in {"info", "warn", "error"}; on_opened(camera) when a camera (re)starts (its
    intrinsics are then valid). A camera that delivers nothing for ``loss_timeout_s`` is
    declared lost; it is re-opened every ``reopen_period_s`` until it works again.
    """

    def __init__(
        self,
        specs: Sequence[CameraSpec],
        tolerance_s: float,
        on_group: Callable[[float, list[TimedFrame]], None],
        on_log: Callable[[str, str], None],
        on_opened: Callable[[RealSenseCamera], None] = lambda cam: None,
        loss_timeout_s: float = 1.0,
        reopen_period_s: float = 2.0,
    ) -> None:
        self.cameras = [RealSenseCamera(s) for s in specs]
        self.grouper = FrameGrouper([s.name for s in specs], tolerance_s, on_group)
        self.on_log, self.on_opened = on_log, on_opened
        self.loss_timeout_s, self.reopen_period_s = loss_timeout_s, reopen_period_s
        self.frames = {s.name: 0 for s in specs}
        self.losses = {s.name: 0 for s in specs}
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def open_all(self) -> None:
        """Open every camera once, in order; raises on the first that cannot be opened."""
        for cam in self.cameras:
            cam.open()
            self.on_opened(cam)

    def start(self) -> None:
        for cam in self.cameras:
            t = threading.Thread(target=self._run, args=(cam,), name=f"rs_{cam.spec.name}")
            t.daemon = True
            t.start()
            self._threads.append(t)

    def _run(self, cam: RealSenseCamera) -> None:
        name = cam.spec.name
        while not self._stop.is_set():
            frame = cam.read(self.loss_timeout_s)
            if frame is not None:
                self.frames[name] += 1
                self.grouper.add(TimedFrame(name, frame.stamp_s, frame))
                continue
            if self._stop.is_set():
                break
            cam.close()
            self.losses[name] += 1
            self.grouper.set_active(name, False)
            self.on_log(
                "error",
                f"camera {cam.spec.describe()} lost (no frame for {self.loss_timeout_s:.1f} s); "
                f"the other cameras keep publishing; re-opening every {self.reopen_period_s:.1f} s",
            )
            while not self._stop.wait(self.reopen_period_s):
                try:
                    cam.open()
                except (RuntimeError, CameraNotFoundError) as exc:
                    self.on_log("warn", f"camera {cam.spec.describe()} still unavailable: {exc}")
                    continue
                self.on_opened(cam)
                self.grouper.set_active(name, True)
                self.on_log("info", f"camera {cam.spec.describe()} is back")
                break

    def stop(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=5.0)
        for cam in self.cameras:
            cam.close()
