"""Decimate camera streams by stamp, so that every node picks the SAME frames (ROS-free).

A node that cannot process every camera frame (robot masks, segmentation, tracking on a
CPU) should not spend time decoding frames it will drop, and the nodes of a pipeline
should drop the same ones: tracking needs the object mask (segmentation) and the robot mask
(robot_model) of exactly the frame it tracks. :class:`StampGate` accepts, per stream, the
first image whose stamp falls into each ``period`` of the stamp clock (bucket
``stamp // period``); nodes with the same period therefore select the same frames without
talking to each other, whatever their own speed.
"""

from __future__ import annotations

import threading
from collections.abc import Hashable


class StampGate:
    """Accept at most one image per stream and ``period_ns`` of stamp time.

    period_ns: bucket length [ns] of the stamp clock; 0 accepts everything. A stamp more
    than one bucket older than the last accepted one of its stream means time went
    backwards (a restarted source, a replay): the stream starts over and is accepted.
    """

    def __init__(self, period_ns: int) -> None:
        if period_ns < 0:
            raise ValueError(f"period_ns must be >= 0, got {period_ns}")
        self.period_ns = int(period_ns)
        self.skipped = 0  # images refused (counted for the nodes' rate logs)
        self._last: dict[Hashable, int] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_rate(cls, max_rate_hz: float) -> StampGate:
        """Gate for at most ``max_rate_hz`` frames per second of stamp time (0: no limit)."""
        if max_rate_hz < 0:
            raise ValueError(f"max_rate must be >= 0 Hz, got {max_rate_hz}")
        return cls(0 if max_rate_hz == 0 else round(1e9 / max_rate_hz))

    def accept(self, stream: Hashable, stamp_ns: int) -> bool:
        """True when ``stamp_ns`` opens a new bucket for ``stream`` (the image is used)."""
        if self.period_ns == 0:
            return True
        bucket = stamp_ns // self.period_ns
        with self._lock:
            last = self._last.get(stream)
            if last is None or bucket > last or bucket < last - 1:
                self._last[stream] = bucket
                return True
            self.skipped += 1
            return False
