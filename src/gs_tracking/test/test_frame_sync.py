"""FrameSync: complete frames, time tolerance, bounded state, no stall on bogus stamps."""

import pytest

from gs_tracking.frame_sync import FrameSync, StampError

CAMS = ("cam0", "cam1", "cam2")
STREAMS = ("color", "depth", "object_mask", "robot_mask")
MS = 1_000_000
PERIOD = 66 * MS  # 15 FPS


def send_frame(sync, stamp, jitter=0, now=None):
    done = False
    for i, cam in enumerate(CAMS):
        for s in STREAMS:
            done = sync.add(stamp + i * jitter, cam, s, (cam, s, stamp), now_ns=now) or done
    return done


def test_complete_frames_and_dropped_count():
    sync = FrameSync(CAMS, STREAMS)
    assert send_frame(sync, 10 * PERIOD)
    assert send_frame(sync, 11 * PERIOD)  # the first one was never taken
    stamp, images = sync.take()
    assert stamp == 11 * PERIOD and len(images) == len(CAMS) * len(STREAMS)
    assert sync.dropped == 1 and sync.take() is None


def test_stamps_within_tolerance_form_one_frame():
    sync = FrameSync(CAMS, STREAMS, tolerance_ns=5 * MS)
    assert send_frame(sync, 100 * PERIOD, jitter=2 * MS)
    assert sync.pending == 0
    loose = FrameSync(CAMS, STREAMS, tolerance_ns=0)
    assert not send_frame(loose, 100 * PERIOD, jitter=2 * MS)


def test_future_stamps_do_not_stall_the_stream():
    """One image per topic stamped far in the future (each with its own stamp, never
    completing) must not keep real frames from completing (issue #11, item 5)."""
    sync = FrameSync(CAMS, STREAMS, max_pending=8)
    future = 10**18
    for i, cam in enumerate(CAMS):
        for j, s in enumerate(STREAMS):
            sync.add(future + (i * 4 + j) * 10**9, cam, s, None)
    completed = sum(send_frame(sync, (200 + k) * PERIOD) for k in range(5))
    assert completed == 5
    assert sync.pending <= sync.max_pending


def test_a_complete_future_frame_does_not_stall_the_stream():
    sync = FrameSync(CAMS, STREAMS)
    assert send_frame(sync, 10**18)
    sync.take()
    assert send_frame(sync, 300 * PERIOD)  # time went backwards by far more than 2 s: reset
    assert sync.take()[0] == 300 * PERIOD and sync.resets == 1
    assert not send_frame(sync, 300 * PERIOD - 10 * MS)  # a late, slightly older frame: ignored


def test_stamps_ahead_of_the_clock_are_rejected_with_names():
    sync = FrameSync(CAMS, STREAMS)
    now = 1000 * 10**9
    with pytest.raises(StampError, match=r"cameras/cam1 depth: stamp .* ahead of the clock"):
        sync.add(now + 3600 * 10**9, "cam1", "depth", None, now_ns=now)
    assert sync.pending == 0
    assert send_frame(sync, now - 5 * MS, now=now)


def test_pending_state_is_bounded():
    sync = FrameSync(CAMS, STREAMS, max_pending=4, tolerance_ns=0)
    for k in range(100):
        sync.add(k * PERIOD, "cam0", "color", None)  # never completes
    assert sync.pending == 4 and sync.evicted == 96
    with pytest.raises(ValueError, match="max_pending"):
        FrameSync(CAMS, STREAMS, max_pending=0)


def test_frame_worker_processes_every_frame_and_survives_failures():
    import threading

    from gs_tracking.frame_sync import FrameWorker

    sync = FrameSync(["cam0"], ("color",))
    handled = threading.Semaphore(0)
    seen, skipped, errors = [], [], []

    def process(stamp, images):
        try:
            value = images[("cam0", "color")]
            if value == "bad":
                raise ValueError("bad frame")
            if value == "bug":
                raise RuntimeError("bug")
            seen.append(value)
        finally:
            handled.release()

    worker = FrameWorker("test", sync.take, process, (ValueError,), skipped.append, errors.append)
    try:
        for i, value in enumerate(("a", "bad", "bug", "b")):
            assert sync.add((i + 1) * PERIOD, "cam0", "color", value)
            worker.wake()
            assert handled.acquire(timeout=10.0), f"frame {value!r} was not processed"
    finally:
        worker.close()
    assert seen == ["a", "b"]  # the worker kept running after a skipped and a failed frame
    assert [str(e) for e in skipped] == ["bad frame"] and [str(e) for e in errors] == ["bug"]
