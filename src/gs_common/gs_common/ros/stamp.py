"""builtin_interfaces/Time helpers."""

from __future__ import annotations

from builtin_interfaces.msg import Time
from std_msgs.msg import Header


def seconds_to_stamp(t: float) -> Time:
    """Time message for ``t`` seconds (non-negative, finite)."""
    if not t >= 0.0:
        raise ValueError(f"stamp must be a non-negative number of seconds, got {t}")
    sec = int(t)
    return Time(sec=sec, nanosec=min(round((t - sec) * 1e9), 999_999_999))


def stamp_to_seconds(stamp: Time) -> float:
    return stamp.sec + stamp.nanosec * 1e-9


def stamp_to_ns(stamp: Time) -> int:
    """The stamp as integer nanoseconds (exact: the key frame sync and gating compare)."""
    return stamp.sec * 1_000_000_000 + stamp.nanosec


def make_header(frame_id: str, stamp: Time | float | None = None) -> Header:
    """Header with ``frame_id``; ``stamp`` as a Time, seconds, or None (zero)."""
    if stamp is None:
        stamp = Time()
    elif not isinstance(stamp, Time):
        stamp = seconds_to_stamp(float(stamp))
    return Header(frame_id=frame_id, stamp=stamp)
