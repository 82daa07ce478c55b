"""Serialized (CDR) ROS messages <-> rosbag2-layout MCAP episodes, ROS-free.

:class:`RawEpisodeWriter` writes the layout ``gs_sim.episode_writer`` writes (profile
``ros2``, schemas ``pkg/msg/Type`` in ``ros2msg`` encoding with their dependencies, CDR
messages, metadata record ``gs_sim.episode``), so ``gs_common.episode.load_episode``,
``gs-track``, ``gs-dyn`` and ``ros2 bag`` read recordings exactly like simulator episodes.
The file is written as ``<name>.tmp`` and renamed on :meth:`close`: a partly written
episode never has the final name. :func:`iter_raw` reads messages back for replay.

Log time: the message's ``header.stamp`` when its type starts with a std_msgs/Header (so
all messages of one camera frame share the log time, as in simulator episodes), otherwise
the receive time.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import struct
from collections.abc import Iterator, Sequence
from pathlib import Path

from mcap.reader import make_reader
from mcap.writer import Writer

from gs_common.episode import AtomicMcap
from gs_sim.msg_schemas import schema_name, schema_text

EPISODE_METADATA = "gs_sim.episode"
RECORDED_FORMAT = "gs_dynamics.recorded_episode"
RECORDED_VERSION = 1


def has_header(ros_type: str) -> bool:
    """True when the first field of ``pkg/msg/Type`` is a std_msgs/Header."""
    for line in schema_text(_short(ros_type)).splitlines():
        line = line.split("#", 1)[0].strip()
        if not line or "=" in line:
            continue
        return line.split()[0] in ("Header", "std_msgs/Header", "std_msgs/msg/Header")
    return False


def _short(ros_type: str) -> str:
    parts = ros_type.split("/")
    return f"{parts[0]}/{parts[-1]}"


def header_stamp_ns(cdr: bytes) -> int | None:
    """``header.stamp`` [ns] of a little-endian CDR message whose first field is a Header."""
    if len(cdr) < 12 or cdr[1] != 1:  # encapsulation CDR_LE / PL_CDR_LE
        return None
    sec, nsec = struct.unpack_from("<iI", cdr, 4)
    if sec < 0 or nsec >= 1_000_000_000:
        return None
    return sec * 1_000_000_000 + nsec


@dataclasses.dataclass
class TopicStats:
    ros_type: str
    count: int = 0
    first_ns: int | None = None
    last_ns: int | None = None


class RawEpisodeWriter:
    """Writes serialized messages of any ROS type to ``path`` (atomic, see module doc)."""

    def __init__(self, path: str | os.PathLike, metadata: dict | None = None) -> None:
        if Path(path).suffix != ".mcap":
            raise ValueError(f"episode path must end in .mcap, got '{path}'")
        self._out = AtomicMcap(path, Writer)
        self.path, self.tmp, self._writer = self._out.path, self._out.tmp, self._out.writer
        self._writer.start(profile="ros2", library="gs_capture")
        self._schemas: dict[str, int] = {}
        self._channels: dict[str, int] = {}
        self._header: dict[str, bool] = {}
        self.stats: dict[str, TopicStats] = {}
        self._meta = {"format": RECORDED_FORMAT, "version": str(RECORDED_VERSION)}
        self._meta.update(
            {k: v if isinstance(v, str) else json.dumps(v) for k, v in (metadata or {}).items()}
        )

    def add_topic(self, topic: str, ros_type: str, qos_yaml: str = "") -> None:
        """Register ``topic`` of ``ros_type`` (``pkg/msg/Type``); idempotent."""
        if topic in self._channels:
            return
        name = schema_name(_short(ros_type))
        if name not in self._schemas:
            text = schema_text(_short(ros_type))
            self._schemas[name] = self._writer.register_schema(name, "ros2msg", text.encode())
        meta = {"offered_qos_profiles": qos_yaml} if qos_yaml else {}
        self._channels[topic] = self._writer.register_channel(
            topic, "cdr", self._schemas[name], meta
        )
        self._header[topic] = has_header(ros_type)
        self.stats[topic] = TopicStats(name)

    def write(self, topic: str, cdr: bytes, receive_ns: int) -> None:
        """Append one serialized message of a registered topic."""
        log_ns = header_stamp_ns(cdr) if self._header[topic] else None
        if log_ns is None:
            log_ns = receive_ns
        st = self.stats[topic]
        st.count += 1
        st.first_ns = log_ns if st.first_ns is None else min(st.first_ns, log_ns)
        st.last_ns = log_ns if st.last_ns is None else max(st.last_ns, log_ns)
        self._writer.add_message(
            self._channels[topic],
            log_time=log_ns,
            data=bytes(cdr),
            publish_time=receive_ns,
            sequence=st.count,
        )

    def summary(self) -> str:
        lines = [f"{self.path}: {sum(s.count for s in self.stats.values())} messages"]
        for topic, s in sorted(self.stats.items()):
            span = (s.last_ns - s.first_ns) * 1e-9 if s.count else 0.0
            lines.append(f"  {topic} [{s.ros_type}]: {s.count} messages over {span:.2f} s")
        return "\n".join(lines)

    def close(self) -> Path:
        """Finish the file and give it its final name (atomic rename)."""
        meta = dict(self._meta)
        meta["topics"] = json.dumps({t: s.count for t, s in self.stats.items()})
        self._writer.add_metadata(EPISODE_METADATA, meta)
        return self._out.commit()

    def abort(self) -> None:
        self._out.abort()


@dataclasses.dataclass
class RawMessage:
    topic: str
    ros_type: str  # pkg/msg/Type
    log_ns: int
    data: bytes


def episode_topics(path: str | os.PathLike) -> dict[str, str]:
    """{topic: pkg/msg/Type} of an episode file."""
    with open(path, "rb") as f:
        summary = make_reader(f).get_summary()
    if summary is None:
        raise ValueError(f"{path} has no MCAP summary (not finalized?)")
    return {c.topic: summary.schemas[c.schema_id].name for c in summary.channels.values()}


def iter_raw(
    path: str | os.PathLike, topics: Sequence[str] | None = None, start_ns: int | None = None
) -> Iterator[RawMessage]:
    """Messages of ``path`` in log-time order (optionally only ``topics``, from ``start_ns``)."""
    with open(path, "rb") as f:
        reader = make_reader(f)
        for schema, channel, message in reader.iter_messages(
            topics=list(topics) if topics is not None else None, starting_at=start_ns
        ):
            yield RawMessage(channel.topic, schema.name, message.log_time, message.data)


def playback_plan(
    path: str | os.PathLike, topics: Sequence[str], start_offset_s: float = 0.0, rate: float = 1.0
) -> Iterator[tuple[float, RawMessage]]:
    """(seconds after playback start, message) of ``topics`` in log-time order, starting
    ``start_offset_s`` after the first of their messages, time divided by ``rate``."""
    if rate <= 0:
        raise ValueError(f"rate must be > 0, got {rate}")
    first = next(iter_raw(path, topics), None)
    if first is None:
        return
    start_ns = first.log_ns + round(start_offset_s * 1e9)
    for msg in iter_raw(path, topics, start_ns):
        yield (msg.log_ns - start_ns) * 1e-9 / rate, msg


def topic_matches(topic: str, patterns: Sequence[str]) -> bool:
    """``topic`` (with or without leading '/') matches one of the glob ``patterns``
    (``*`` = one name level, ``**`` = any levels)."""
    name = topic.lstrip("/")
    for pat in patterns:
        regex = (
            "^" + re.escape(pat.lstrip("/")).replace(r"\*\*", ".*").replace(r"\*", "[^/]*") + "$"
        )
        if re.match(regex, name):
            return True
    return False
