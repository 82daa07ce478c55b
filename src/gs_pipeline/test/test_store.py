"""The content-addressed store publishes whole entries only."""

from __future__ import annotations

import pytest

from gs_pipeline.store import Store


def test_entry_is_published_atomically(tmp_path):
    store = Store(tmp_path)
    with store.writing("track", "k1", {"episode": "e"}) as tmp:
        (tmp / "out.txt").write_text("data")
        assert not store.has("track", "k1")  # not visible before the block ends
    assert store.has("track", "k1")
    assert (store.entry("track", "k1") / "out.txt").read_text() == "data"
    m = store.manifest("track", "k1")
    assert m["episode"] == "e" and m["key"] == "k1" and m["seconds"] >= 0


def test_failed_write_leaves_nothing(tmp_path):
    store = Store(tmp_path)
    with pytest.raises(RuntimeError), store.writing("train", "k2", {}) as tmp:
        (tmp / "half.bin").write_bytes(b"x")
        raise RuntimeError("crash midway")
    assert not store.has("train", "k2")
    assert list((tmp_path / "train").iterdir()) == []


def test_partial_directories_of_a_killed_run_are_removed(tmp_path):
    store = Store(tmp_path)
    (tmp_path / "track" / ".tmp-k3-abcd").mkdir(parents=True)
    assert store.clean_partial() == 1
    assert not (tmp_path / "track" / ".tmp-k3-abcd").exists()
