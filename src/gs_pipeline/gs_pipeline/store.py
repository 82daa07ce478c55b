"""Content-addressed store of stage outputs: ``<root>/<stage>/<key>/``.

A key is the hash of everything that determines an output (the stage, its settings, the
keys of its inputs, the stage's format version). An entry is written into a temporary
directory beside its final place and renamed into place when complete, so a directory
``<stage>/<key>`` always holds a whole output: a crash leaves at most a ``.tmp-*`` directory
that the next run removes. On a cluster the root must be a path every node sees.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

MANIFEST = "entry.json"


class Store:
    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)

    def entry(self, stage: str, key: str) -> Path:
        return self.root / stage / key

    def has(self, stage: str, key: str) -> bool:
        return (self.entry(stage, key) / MANIFEST).is_file()

    def manifest(self, stage: str, key: str) -> dict:
        return json.loads((self.entry(stage, key) / MANIFEST).read_text())

    @contextlib.contextmanager
    def writing(self, stage: str, key: str, info: dict) -> Iterator[Path]:
        """A temporary directory to write an entry into; published atomically (rename) when
        the block ends without an exception, removed otherwise. ``info`` is stored in the
        entry's manifest (with the wall time the block took)."""
        final = self.entry(stage, key)
        final.parent.mkdir(parents=True, exist_ok=True)
        owner = f"{os.uname().nodename}.{os.getpid()}"  # clean_partial spares live writers
        tmp = final.parent / f".tmp-{key}-{owner}-{uuid.uuid4().hex[:8]}"
        tmp.mkdir()
        start = time.monotonic()
        try:
            yield tmp
            manifest = {
                **info,
                "stage": stage,
                "key": key,
                "seconds": round(time.monotonic() - start, 2),
                "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                "host": os.uname().nodename,
            }
            (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2, default=str))
            try:
                os.rename(tmp, final)
            except OSError:
                # another worker published the same key first (same inputs, same output)
                if not self.has(stage, key):
                    raise
                shutil.rmtree(tmp, ignore_errors=True)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise

    def clean_partial(self, max_age_s: float = 86400.0) -> int:
        """Remove temporary directories left by interrupted runs; returns how many. One
        whose writer still runs (another pipeline sharing this store, on this host) is
        kept; one written on another host is removed only when older than ``max_age_s``."""
        removed = 0
        if self.root.is_dir():
            for tmp in self.root.glob("*/.tmp-*"):
                if _writer_alive(tmp.name, max_age_s, tmp):
                    continue
                shutil.rmtree(tmp, ignore_errors=True)
                removed += 1
        return removed


def _writer_alive(name: str, max_age_s: float, path: Path) -> bool:
    """Whether the process that writes the temporary entry ``name``
    (``.tmp-<key>-<host>.<pid>-<random>``) may still be running."""
    _key, _, rest = name.removeprefix(".tmp-").partition("-")  # keys are hex: no "-"
    owner, _, _random = rest.rpartition("-")  # host names may hold "-"
    host, _, pid = owner.rpartition(".")
    if not host or not pid.isdigit():
        return False  # an old-style name: written before owners were recorded
    if host != os.uname().nodename:
        try:
            return time.time() - path.stat().st_mtime < max_age_s
        except OSError:
            return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
