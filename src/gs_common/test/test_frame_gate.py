import pytest

from gs_common.frame_gate import StampGate

FRAME = 66_666_667  # ns, a 15 Hz camera


def test_keeps_one_frame_per_period_per_stream():
    gate = StampGate.from_rate(5.0)  # 200 ms buckets: every 3rd frame of a 15 Hz stream
    stamps = [1_000_000_000 + i * FRAME for i in range(30)]
    kept = [s for s in stamps if gate.accept("cam0", s)]
    assert len(kept) == 10
    assert gate.skipped == 20
    # another stream with the same stamps selects the same frames
    assert [s for s in stamps if gate.accept("cam1", s)] == kept


def test_two_gates_pick_the_same_frames_whatever_they_saw_before():
    stamps = [2_000_000_000 + i * FRAME for i in range(45)]
    a, b = StampGate.from_rate(3.0), StampGate.from_rate(3.0)
    kept_a = [s for s in stamps if a.accept("x", s)]
    kept_b = [s for s in stamps[7:] if b.accept("x", s)]  # joined late
    assert kept_b[1:] == [s for s in kept_a if s > kept_b[0]]


def test_zero_rate_accepts_everything_and_time_going_back_restarts():
    gate = StampGate.from_rate(0.0)
    assert all(gate.accept("s", 5) for _ in range(3))
    gate = StampGate(100)
    assert gate.accept("s", 1000) and not gate.accept("s", 1050)
    assert not gate.accept("s", 950)  # one bucket back: an old image, refused
    assert gate.accept("s", 100)  # far back: the source restarted
    with pytest.raises(ValueError, match="max_rate"):
        StampGate.from_rate(-1.0)
