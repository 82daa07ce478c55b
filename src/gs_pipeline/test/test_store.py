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


def test_partial_directories_of_a_running_writer_are_kept(tmp_path):
    """Two pipelines sharing a store: one's start must not remove the other's work."""
    import os
    import subprocess
    import sys

    store = Store(tmp_path)
    host = os.uname().nodename
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        dead = subprocess.run(
            [sys.executable, "-c", "import os; print(os.getpid())"],
            capture_output=True,
            text=True,
            check=True,
        )
        (tmp_path / "track" / f".tmp-k4-{host}.{live.pid}-abcd").mkdir(parents=True)
        (tmp_path / "track" / f".tmp-k5-{host}.{dead.stdout.strip()}-abcd").mkdir()
        (tmp_path / "track" / ".tmp-k6-other-host.1-abcd").mkdir()  # recent, another host
        assert store.clean_partial() == 1
        left = sorted(p.name.split("-")[1] for p in (tmp_path / "track").iterdir())
        assert left == ["k4", "k6"]
        assert store.clean_partial(max_age_s=0.0) == 1  # the other host's, when old
    finally:
        live.kill()
        live.wait()
