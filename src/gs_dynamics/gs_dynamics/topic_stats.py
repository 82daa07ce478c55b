"""Message counting and rate statistics (ROS-free core of the stack monitor)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class TopicStats:
    """Arrival statistics of one topic; times in seconds (any monotonic clock)."""

    count: int = 0
    first: float | None = None
    last: float | None = None
    window: list[float] = field(default_factory=list)  # arrival times of the recent window

    def add(self, t: float, window_s: float = 5.0) -> None:
        self.count += 1
        self.first = t if self.first is None else self.first
        self.last = t
        self.window.append(t)
        while self.window and self.window[0] < t - window_s:
            self.window.pop(0)

    def rate(self) -> float:
        """Mean rate [Hz] over the recent window (0 with fewer than two messages)."""
        if len(self.window) < 2 or self.window[-1] <= self.window[0]:
            return 0.0
        return (len(self.window) - 1) / (self.window[-1] - self.window[0])


def format_table(stats: dict[str, TopicStats], now: float) -> str:
    """A fixed-width report: topic, messages received, recent rate, age of the last one."""
    rows = [f"{'topic':<44} {'msgs':>7} {'rate Hz':>8} {'last s ago':>10}"]
    for topic in sorted(stats):
        s = stats[topic]
        age = f"{now - s.last:10.1f}" if s.last is not None else f"{'never':>10}"
        rows.append(f"{topic:<44} {s.count:>7d} {s.rate():>8.1f} {age}")
    return "\n".join(rows)
