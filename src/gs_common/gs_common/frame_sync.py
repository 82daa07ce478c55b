"""Assemble complete multi-camera frames from individually arriving images (ROS-free).

Messages of one frame share a stamp. A frame is complete when every camera has delivered
every stream for that stamp; only the newest complete frame is kept (older ones are counted
as dropped), and incomplete frames older than ``max_pending`` stamps are discarded, so
memory stays bounded whatever the rates.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass
class FrameSync:
    cameras: Sequence[str]
    streams: Sequence[str] = ("color", "depth", "object_mask", "robot_mask")
    max_pending: int = 8
    dropped: int = 0
    _pending: dict[int, dict[tuple[str, str], Any]] = field(default_factory=dict)
    _latest: tuple[int, dict] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, stamp_ns: int, camera: str, stream: str, data: Any) -> bool:
        """Store one image; True when this completed a frame."""
        with self._lock:
            if self._latest is not None and stamp_ns <= self._latest[0]:
                return False  # older than what is already complete
            frame = self._pending.setdefault(stamp_ns, {})
            frame[(camera, stream)] = data
            if len(frame) < len(self.cameras) * len(self.streams):
                while len(self._pending) > self.max_pending:
                    del self._pending[min(self._pending)]
                return False
            if self._latest is not None:
                self.dropped += 1  # the previous complete frame was never taken
            self._latest = (stamp_ns, self._pending.pop(stamp_ns))
            for s in [s for s in self._pending if s < stamp_ns]:
                del self._pending[s]
            return True

    def take(self) -> tuple[int, dict[tuple[str, str], Any]] | None:
        """The newest complete frame (stamp, {(camera, stream): data}), or None."""
        with self._lock:
            latest, self._latest = self._latest, None
            return latest
