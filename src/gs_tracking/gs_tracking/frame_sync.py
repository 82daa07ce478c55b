"""Moved to :mod:`gs_common.frame_sync` (shared with gs_segmentation); re-exported here."""

from gs_common.frame_sync import FrameSync, FrameWorker, StampError

__all__ = ["FrameSync", "FrameWorker", "StampError"]
