"""Frame grouping of free-running cameras (stamps never identical)."""

import pytest

from gs_capture.grouping import FrameGrouper, TimedFrame


def _grouper(tol=0.01):
    out = []
    g = FrameGrouper(["a", "b", "c"], tol, lambda s, fr: out.append((s, [f.camera for f in fr])))
    return g, out


def test_groups_within_tolerance_with_one_stamp():
    g, out = _grouper()
    g.add(TimedFrame("b", 1.003, None))
    g.add(TimedFrame("a", 1.000, None))
    assert not out
    assert g.add(TimedFrame("c", 1.008, None))
    assert out == [(1.008, ["a", "b", "c"])]
    # the next frames form the next group; nothing is reused
    for cam, t in (("a", 1.034), ("c", 1.036), ("b", 1.031)):
        g.add(TimedFrame(cam, t, None))
    assert out[-1] == (1.036, ["a", "b", "c"]) and g.groups == 2


def test_frames_too_far_apart_are_dropped_not_grouped():
    g, out = _grouper()
    g.add(TimedFrame("a", 1.000, None))
    g.add(TimedFrame("b", 1.000, None))
    g.add(TimedFrame("c", 1.050, None))  # a and b are too old for c
    assert not out and g.superseded == 2
    g.add(TimedFrame("a", 1.052, None))
    g.add(TimedFrame("b", 1.049, None))
    assert out == [(1.052, ["a", "b", "c"])]


def test_lost_camera_is_left_out_and_taken_back():
    g, out = _grouper()
    g.add(TimedFrame("a", 2.0, None))
    g.add(TimedFrame("b", 2.0, None))
    g.set_active("c", False)  # completes the group of the remaining cameras
    assert out == [(2.0, ["a", "b"])]
    assert not g.add(TimedFrame("c", 2.03, None))  # ignored while lost
    g.set_active("c", True)
    g.add(TimedFrame("a", 2.1, None))
    g.add(TimedFrame("b", 2.1, None))
    assert len(out) == 1  # waits for c again
    g.add(TimedFrame("c", 2.105, None))
    assert out[-1] == (2.105, ["a", "b", "c"])


def test_bad_tolerance_is_rejected():
    with pytest.raises(ValueError, match="tolerance_s"):
        FrameGrouper(["a"], 0.0, lambda s, f: None)
