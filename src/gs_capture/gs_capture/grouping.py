"""Group the frames of several free-running cameras into multi-camera frames (ROS-free).

Real cameras never share exact timestamps. Each camera's newest frame is kept; whenever every
*active* camera has an unconsumed frame and the stamps of these frames lie within
``tolerance_s`` of each other, they form one group, stamped with the newest member's time so
that downstream consumers (which synchronise on exact stamps) see one frame. A camera that is
lost is removed from the active set (the others keep grouping) and added back when it
returns. Frames whose partners never arrive are superseded by newer ones and counted.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass
class TimedFrame:
    """One camera's frame. stamp_s: host (ROS) time [s]; data: the payload."""

    camera: str
    stamp_s: float
    data: Any


@dataclass
class FrameGrouper:
    """cameras: all camera names; tolerance_s: largest stamp spread inside a group [s];
    on_group(stamp_s, frames) is called (in the adding thread) for every complete group,
    frames in the order of ``cameras`` restricted to the active ones."""

    cameras: Sequence[str]
    tolerance_s: float
    on_group: Callable[[float, list[TimedFrame]], None]
    groups: int = 0
    superseded: int = 0
    _latest: dict[str, TimedFrame] = field(default_factory=dict)
    _active: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        if self.tolerance_s <= 0:
            raise ValueError(f"tolerance_s must be > 0, got {self.tolerance_s}")
        self._active = set(self.cameras)

    @property
    def active(self) -> list[str]:
        with self._lock:
            return [c for c in self.cameras if c in self._active]

    def set_active(self, camera: str, active: bool) -> None:
        """Mark ``camera`` lost (False) or back (True)."""
        with self._lock:
            if active:
                self._active.add(camera)
            else:
                self._active.discard(camera)
                self._latest.pop(camera, None)
            ready = self._take_group()
        if ready is not None:
            self._emit(ready)

    def add(self, frame: TimedFrame) -> bool:
        """Store ``frame``; True when it completed (and emitted) a group."""
        with self._lock:
            if frame.camera not in self._active:
                return False
            if frame.camera in self._latest:
                self.superseded += 1
            self._latest[frame.camera] = frame
            ready = self._take_group()
        if ready is None:
            return False
        self._emit(ready)
        return True

    def _take_group(self) -> list[TimedFrame] | None:
        active = [c for c in self.cameras if c in self._active]
        if not active or any(c not in self._latest for c in active):
            return None
        frames = [self._latest[c] for c in active]
        newest = max(f.stamp_s for f in frames)
        if newest - min(f.stamp_s for f in frames) > self.tolerance_s:
            # drop the frames too old to ever match the newest one
            for f in frames:
                if newest - f.stamp_s > self.tolerance_s:
                    del self._latest[f.camera]
                    self.superseded += 1
            return None
        for c in active:
            del self._latest[c]
        self.groups += 1
        return frames

    def _emit(self, frames: list[TimedFrame]) -> None:
        self.on_group(max(f.stamp_s for f in frames), frames)
