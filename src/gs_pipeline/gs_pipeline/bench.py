"""``gs-pipeline bench``: wall time of the same pipeline with 1, 2, ... local Ray workers.

Every run starts from an empty store in a temporary directory and runs as its own process
(its own Ray instance), so the figures are whole-job wall times, side by side in one run.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def run_bench(args) -> int:
    rows = []
    for rep in range(args.repeats):
        for workers in args.workers:
            with tempfile.TemporaryDirectory(prefix="gs-pipeline-bench-") as tmp:
                cmd = [
                    sys.executable,
                    "-m",
                    "gs_pipeline.cli",
                    "run",
                    args.config,
                    "--workers",
                    str(workers),
                    "--quiet",
                    "--set",
                    f"cache={tmp}/cache",
                    "--set",
                    f"output={tmp}/models",
                ]
                for item in args.set:
                    cmd += ["--set", item]
                start = time.monotonic()
                proc = subprocess.run(cmd, capture_output=True, text=True)
                wall = time.monotonic() - start
            if proc.returncode != 0:
                print(proc.stdout[-2000:], proc.stderr[-2000:], file=sys.stderr)
                print(f"gs-pipeline bench: run with {workers} workers failed", file=sys.stderr)
                return 1
            rows.append({"repeat": rep, "workers": workers, "wall_s": round(wall, 1)})
            print(f"repeat {rep}: {workers} worker(s): {wall:.1f} s", flush=True)
    print(f"\n{'workers':>7}  {'median wall [s]':>15}  {'speed-up vs first':>17}")
    base = None
    for workers in args.workers:
        med = statistics.median(r["wall_s"] for r in rows if r["workers"] == workers)
        base = base or med
        print(f"{workers:>7}  {med:>15.1f}  {base / med:>16.2f}x")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps({"config": args.config, "runs": rows}, indent=2))
    return 0
