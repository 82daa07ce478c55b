"""CPU benchmark of the torch backends (not a test).

    python -m gs_render.bench [--reps 10] [--sizes 1000,5000,20000]

For N cloth Gaussians (:func:`gs_render.scenes.cloth_scene`) seen by the 4-camera
table-corner rig at 160x120 and 320x240 it measures, for the tiled compositor
(``backend="torch"``) and the naive dense one (``backend="dense"``) side by side:

* forward time (``torch.no_grad``) and forward+backward time (loss on rgb, depth and
  alpha; gradients for all five Gaussian tensors), best and median of ``--reps`` runs
  after one warm-up;
* peak memory of one forward+backward: growth of the peak resident set size
  (``ru_maxrss``) of a fresh subprocess over the run (tracemalloc does not see torch's
  allocations). That subprocess runs with ``MALLOC_MMAP_THRESHOLD_=131072`` so that glibc
  returns every large freed tensor to the kernel at once and the peak RSS is the peak of
  live memory, not heap fragmentation; the timing subprocesses use default malloc;
* the dense/tiled time ratio.

Dense runs are skipped where their (pixel, Gaussian) pair count exceeds ``--dense-max-pairs``
(default 4e8): its memory is bounded by chunked checkpointing, so the limit is time (one
forward+backward of 1.5e9 pairs takes minutes)."""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time

import torch

from .api import render
from .cameras import table_corner_rig
from .scenes import cloth_scene

RESOLUTIONS = ((160, 120), (320, 240))
N_CAMS = 4


def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def measure(n: int, width: int, height: int, backend: str, reps: int, tile_size: int | None):
    """Time one configuration in this process (``reps`` = 0: memory run, one fwd+bwd)."""
    scene = cloth_scene(n)
    viewmats, Ks = table_corner_rig(width, height, n_cams=N_CAMS)
    params = [t.clone().requires_grad_(True) for t in scene.tensors()]
    kwargs = {"backend": backend}
    if tile_size is not None:
        kwargs["tile_size"] = tile_size

    def forward():
        with torch.no_grad():
            return render(*params, viewmats, Ks, width, height, **kwargs)

    def forward_backward():
        out = render(*params, viewmats, Ks, width, height, **kwargs)
        (out.rgb.sum() + out.depth.sum() + out.alpha.sum()).backward()
        for p in params:
            p.grad = None
        return out

    if reps == 0:
        rss0 = _maxrss_mb()
        forward_backward()
        return {"peak_mb": _maxrss_mb() - rss0}
    info = forward()
    result = {"visible": int(info.visible.sum()), "dropped": info.n_dropped}
    for name, fn in (("fwd_ms", forward), ("fwd_bwd_ms", forward_backward)):
        fn()  # warm-up
        runs = []
        for _ in range(reps):
            t0 = time.perf_counter()
            fn()
            runs.append(time.perf_counter() - t0)
        result[name] = (min(runs) * 1e3, statistics.median(runs) * 1e3)
    return result


def _run_child(args: argparse.Namespace, n: int, w: int, h: int, backend: str, reps: int):
    cmd = [sys.executable, "-m", "gs_render.bench", "--one", f"{n},{w},{h},{backend}",
           "--reps", str(reps)]  # fmt: skip
    if args.tile_size is not None:
        cmd += ["--tile-size", str(args.tile_size)]
    env = dict(os.environ)
    if reps == 0:
        env["MALLOC_MMAP_THRESHOLD_"] = "131072"
    res = subprocess.run(cmd, capture_output=True, text=True, check=True, env=env)
    return json.loads(res.stdout.strip().splitlines()[-1])


def _measure_both(args: argparse.Namespace, n: int, w: int, h: int, backend: str, reps: int):
    result = _run_child(args, n, w, h, backend, reps)
    result.update(_run_child(args, n, w, h, backend, 0))
    return result


def _fmt(ms: tuple[float, float]) -> str:
    return f"{ms[0]:.0f} ({ms[1]:.0f})"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,5000,20000", help="Gaussian counts")
    parser.add_argument("--reps", type=int, default=10, help="timed runs per measurement")
    parser.add_argument("--dense-reps", type=int, default=2)
    parser.add_argument("--dense-max-pairs", type=float, default=4e8)
    parser.add_argument("--tile-size", type=int, default=None)
    parser.add_argument("--one", help=argparse.SUPPRESS)  # child mode: n,w,h,backend
    args = parser.parse_args(argv)
    if args.one:
        n, w, h, backend = args.one.split(",")
        print(json.dumps(measure(int(n), int(w), int(h), backend, args.reps, args.tile_size)))
        return

    print(f"# gs_render CPU benchmark  {time.strftime('%Y-%m-%d %H:%M')}")
    print(f"# {platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads, tile size {args.tile_size or 'default'}, "
          f"load average at start: {os.getloadavg()[0]:.2f}")  # fmt: skip
    print(
        "# times in ms: best (median) of the timed runs; mem: peak RSS growth of one fwd+bwd in MiB"
    )
    print("| N | image | 4 views: tiled fwd | tiled fwd+bwd | tiled mem | dense fwd "
          "| dense fwd+bwd | dense mem | dense/tiled fwd+bwd |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|")
    for n in (int(s) for s in args.sizes.split(",")):
        for w, h in RESOLUTIONS:
            tiled = _measure_both(args, n, w, h, "torch", args.reps)
            pairs = w * h * tiled["visible"]  # dense work: every pixel x visible Gaussian
            if pairs <= args.dense_max_pairs:
                dense = _measure_both(args, n, w, h, "dense", args.dense_reps)
                dense_cols = (
                    f"{_fmt(dense['fwd_ms'])} | {_fmt(dense['fwd_bwd_ms'])} | "
                    f"{dense['peak_mb']:.0f} | "
                    f"{dense['fwd_bwd_ms'][0] / tiled['fwd_bwd_ms'][0]:.0f}x"
                )
            else:
                dense_cols = f"skipped ({pairs:.1e} pairs) | - | - | -"
            print(f"| {n} | {w}x{h} | {_fmt(tiled['fwd_ms'])} | {_fmt(tiled['fwd_bwd_ms'])} | "
                  f"{tiled['peak_mb']:.0f} | {dense_cols} |", flush=True)  # fmt: skip
    print(f"# load average at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
