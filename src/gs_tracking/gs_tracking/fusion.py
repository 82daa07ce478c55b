"""Moved to :mod:`gs_common.fusion` (shared with gs_segmentation); re-exported here."""

from gs_common.fusion import EmptyCloudError, backproject_masked, fuse_views

__all__ = ["EmptyCloudError", "backproject_masked", "fuse_views"]
