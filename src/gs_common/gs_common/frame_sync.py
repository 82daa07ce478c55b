"""Assemble complete multi-camera frames from individually arriving images (ROS-free).

Every (camera, stream) image carries a stamp. Images whose stamps lie within
``tolerance_ns`` of a pending frame's stamp join that frame (cameras that are not hardware
synchronized stamp a few milliseconds apart); a frame is complete when every camera has
delivered every stream. Only the newest complete frame is kept for the consumer (a complete
frame that was never taken is counted as dropped).

Bounded and stall-free whatever arrives:

- at most ``max_pending`` incomplete frames are kept; when full, the frame that was updated
  least recently is evicted (not the oldest stamp: a few bogus stamps that never complete
  would otherwise evict every real frame as it arrives);
- with a clock (``now_ns`` given to :meth:`add`), a stamp more than ``max_future_ns`` ahead of
  it is rejected with :class:`StampError` naming the camera, stream and stamp;
- an image older than the last complete frame is normally ignored, but one older by more
  than ``max_regression_ns`` means time went backwards (a restarted source, or a bogus
  future frame completed earlier): the synchronizer resets instead of stalling.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any


class StampError(ValueError):
    """An image stamp that cannot belong to the live stream."""


@dataclass
class FrameSync:
    """cameras / streams: what makes a frame complete; stamps in integer nanoseconds."""

    cameras: Sequence[str]
    streams: Sequence[str] = ("color", "depth", "object_mask", "robot_mask")
    max_pending: int = 8
    tolerance_ns: int = 5_000_000  # 5 ms
    max_future_ns: int = 2_000_000_000  # 2 s ahead of the clock
    max_regression_ns: int = 2_000_000_000  # 2 s behind the last complete frame
    dropped: int = 0  # complete frames replaced before they were taken
    evicted: int = 0  # incomplete frames evicted
    resets: int = 0  # time-went-backwards resets
    _pending: OrderedDict[int, dict[tuple[str, str], Any]] = field(default_factory=OrderedDict)
    _latest: tuple[int, dict] | None = None
    _last_complete: int | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        if self.max_pending < 1:
            raise ValueError(f"max_pending must be >= 1, got {self.max_pending}")
        if self.tolerance_ns < 0:
            raise ValueError(f"tolerance_ns must be >= 0, got {self.tolerance_ns}")

    def _key(self, stamp_ns: int, slot: tuple[str, str]) -> int:
        """The pending frame this image joins: nearest stamp within tolerance that does not
        hold this (camera, stream) yet; else the image's own stamp (a new frame)."""
        best, best_d = stamp_ns, None
        for s, frame in self._pending.items():
            d = abs(s - stamp_ns)
            if d <= self.tolerance_ns and slot not in frame and (best_d is None or d < best_d):
                best, best_d = s, d
        return best

    def add(
        self, stamp_ns: int, camera: str, stream: str, data: Any, now_ns: int | None = None
    ) -> bool:
        """Store one image; True when this completed a frame.

        Raises StampError when ``now_ns`` is given and the stamp is more than
        ``max_future_ns`` ahead of it (the image is not stored).
        """
        if now_ns is not None and stamp_ns - now_ns > self.max_future_ns:
            raise StampError(
                f"cameras/{camera} {stream}: stamp {stamp_ns * 1e-9:.3f} s is "
                f"{(stamp_ns - now_ns) * 1e-9:.3f} s ahead of the clock "
                f"(limit {self.max_future_ns * 1e-9:g} s)"
            )
        with self._lock:
            last = self._last_complete
            if last is not None and stamp_ns <= last:
                if last - stamp_ns <= self.max_regression_ns:
                    return False  # older than what is already complete
                self._pending.clear()  # time went backwards: start over
                self._last_complete = None
                self.resets += 1
            slot = (camera, stream)
            key = self._key(stamp_ns, slot)
            frame = self._pending.pop(key, {})
            frame[slot] = data
            if len(frame) < len(self.cameras) * len(self.streams):
                self._pending[key] = frame  # (re)inserted last = most recently updated
                while len(self._pending) > self.max_pending:
                    self._pending.popitem(last=False)
                    self.evicted += 1
                return False
            if self._latest is not None:
                self.dropped += 1  # the previous complete frame was never taken
            self._latest = (key, frame)
            self._last_complete = key
            for s in [s for s in self._pending if s < key]:
                del self._pending[s]
            return True

    def take(self) -> tuple[int, dict[tuple[str, str], Any]] | None:
        """The newest complete frame (stamp, {(camera, stream): data}), or None."""
        with self._lock:
            latest, self._latest = self._latest, None
            return latest

    @property
    def pending(self) -> int:
        """Number of incomplete frames held."""
        with self._lock:
            return len(self._pending)


class FrameWorker:
    """Processes the newest complete frame on a thread of its own, at the rate ``process``
    sustains: call :meth:`wake` when an image completed a frame; frames completed while
    ``process`` runs replace each other (``take`` gives the newest, e.g.
    :meth:`FrameSync.take`), they never queue.

    ``take()``: the newest frame (stamp_ns, images) or None; ``process(stamp_ns, images)``.
    An exception of a ``skip`` type goes to ``on_skip(exc)`` (a frame that cannot be used),
    any other to ``on_error(exc)``; the worker keeps running either way.
    """

    def __init__(
        self,
        name: str,
        take: Callable[[], tuple[int, dict] | None],
        process: Callable[[int, dict], None],
        skip: tuple[type[Exception], ...],
        on_skip: Callable[[Exception], None],
        on_error: Callable[[Exception], None],
    ) -> None:
        self._take, self._process = take, process
        self._skip, self._on_skip, self._on_error = skip, on_skip, on_error
        self._wake, self._stop = threading.Event(), threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def close(self, timeout: float = 5.0) -> None:
        """Stop after the frame in progress (waits at most ``timeout`` seconds)."""
        self._stop.set()
        self._thread.join(timeout=timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            if not self._wake.wait(0.2):
                continue
            self._wake.clear()
            frame = self._take()
            if frame is None:
                continue
            try:
                self._process(*frame)
            except self._skip as exc:
                self._on_skip(exc)
            except Exception as exc:  # keep serving; the next frame may be fine
                self._on_error(exc)
