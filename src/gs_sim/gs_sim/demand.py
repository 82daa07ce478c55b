"""What the simulator has to render: the images that somebody subscribes to (ROS-free).

Rendering is most of the simulator's frame time on a CPU (llvmpipe): on this project's
2-core machine ~6 ms per camera for colour + depth and ~4 ms more for the ground-truth
masks (measured under load, 2026-11-22). The ground-truth masks are subscribed only in
``oracle_masks`` experiments; without subscribers they are not rendered.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence


def _watched(publisher) -> bool:
    return publisher.get_subscription_count() > 0


def camera_demand(
    cameras: Sequence[str],
    color: Mapping[str, object],
    depth: Mapping[str, object],
    masks: Mapping[str, tuple],
) -> list[tuple[bool, bool, bool]]:
    """(rgb, depth, masks) to render per camera, in ``cameras`` order. ``color`` / ``depth``:
    camera -> publisher; ``masks``: camera -> (object, robot) mask publishers (absent:
    masks are not published). A publisher needs ``get_subscription_count()``."""
    out = []
    for cam in cameras:
        want_masks = cam in masks and any(_watched(p) for p in masks[cam])
        out.append((_watched(color[cam]), _watched(depth[cam]), want_masks))
    return out
