"""Run a pipeline config as a DAG of Ray tasks, skipping every output already in the store.

    generate(episode i) ──> track(episode i) ──┐
    generate(episode j) ──> track(episode j) ──┼──> train ──> evaluate ──> model directory
    recorded file k ─────> track(file k) ──────┘

One Ray task per episode for generation and tracking (a track task starts as soon as its
episode exists), then one training and one evaluation task. Ray does the scheduling, the
retries (``retries`` per task, for crashes and exceptions) and the hand-over of results;
outputs are files in the content-addressed store (``gs_pipeline.store``), so a re-run skips
what is done and redoes exactly what a changed setting or input invalidates. An episode that
still fails after its retries is reported and left out; the others go on.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import yaml

from gs_pipeline import stages
from gs_pipeline.config import PipelineConfig, file_hash, stable_hash
from gs_pipeline.store import Store

STAGES = ("generate", "track", "train", "evaluate")
_REMOTE = None  # the Ray remote function of _run_task, made on first use


@dataclasses.dataclass
class Episode:
    """One episode of a set: where it comes from, its store key once it exists."""

    role: str  # "train" | "heldout"
    key: str
    origin: dict  # {"seed": s, "index": i} or {"file": path}
    path: Path | None = None  # the episode file once it exists
    track_key: str = ""
    trajectories: Path | None = None
    error: str = ""


@dataclasses.dataclass
class StageReport:
    ran: list[str] = dataclasses.field(default_factory=list)
    cached: list[str] = dataclasses.field(default_factory=list)
    failed: dict[str, str] = dataclasses.field(default_factory=dict)  # key -> error

    def line(self, stage: str) -> str:
        return (
            f"{stage:9s} ran {len(self.ran):3d}  cached {len(self.cached):3d}  "
            f"failed {len(self.failed):3d}"
        )


@dataclasses.dataclass
class PipelineResult:
    ok: bool
    stages: dict[str, StageReport]
    model_dir: Path | None = None
    version: str = ""
    message: str = ""
    eval_summary: list[str] = dataclasses.field(default_factory=list)


def start_ray(workers: int | None = None, address: str | None = None) -> None:
    """Connect to the cluster at ``address``, or start a local Ray instance with
    ``workers`` CPUs (default: all cores). No dashboard, no usage reporting."""
    import ray

    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    if ray.is_initialized():
        return
    if address:
        ray.init(address=address, configure_logging=False)
    else:
        ray.init(
            num_cpus=workers or os.cpu_count(),
            include_dashboard=False,
            configure_logging=False,
            log_to_driver=False,
        )


def _run_task(
    stage: str, key: str, info: dict, store_root: str, fn: str, args: tuple, cpus, *_deps
):
    """Body of every Ray task: run ``stages.<fn>`` into the store entry (atomic). ``_deps``:
    upstream results, passed only so that Ray runs this task after them."""
    stages.limit_threads(cpus)
    store = Store(store_root)
    if not store.has(stage, key):  # another run may have finished it meanwhile
        with store.writing(stage, key, info) as tmp:
            info.update(getattr(stages, fn)(*args, out_dir=tmp))
    return store.manifest(stage, key)


class _Progress:
    """One tqdm bar per stage (with ETA), or nothing."""

    def __init__(self, enabled: bool):
        self.bars = {}
        self.enabled = enabled

    def start(self, stage: str, total: int, done: int) -> None:
        if not self.enabled or total == 0:
            return
        from tqdm import tqdm

        bar = tqdm(total=total, desc=f"{stage:9s}", unit="task", position=len(self.bars))
        bar.update(done)
        self.bars[stage] = bar

    def update(self, stage: str) -> None:
        if stage in self.bars:
            self.bars[stage].update(1)

    def close(self) -> None:
        for bar in self.bars.values():
            bar.close()


class Pipeline:
    def __init__(self, cfg: PipelineConfig, progress: bool = True, log: Callable = print):
        self.cfg = cfg
        self.store = Store(cfg.path(cfg.cache))
        self.log = log
        self.progress = _Progress(progress)
        self.reports = {s: StageReport() for s in STAGES}
        self.retries = cfg.retries

    # ---- keys ------------------------------------------------------------------------
    def _episodes(self) -> list[Episode]:
        cfg, out = self.cfg, []
        for role, eset in (("train", cfg.train_episodes), ("heldout", cfg.heldout_episodes)):
            if eset.source == "sim":
                for i in range(eset.count):
                    key = stable_hash(
                        {
                            "stage": "generate",
                            "version": stages.STAGE_VERSIONS["generate"],
                            "settings": cfg.generate_settings(),
                            "seed": eset.seed,
                            "index": i,
                            "pushes": eset.pushes,
                        }
                    )
                    out.append(Episode(role, key, {"seed": eset.seed, "index": i}))
            else:
                for f in cfg.episode_files(eset, f"episodes.{role}"):
                    out.append(Episode(role, "file-" + file_hash(f), {"file": str(f)}, path=f))
        return out

    def _track_key(self, ep: Episode) -> str:
        return stable_hash(
            {
                "stage": "track",
                "version": stages.STAGE_VERSIONS["track"],
                "episode": ep.key,
                "settings": self.cfg.track_settings(),
            }
        )

    # ---- Ray -------------------------------------------------------------------------
    def _submit(self, stage: str, key: str, info: dict, fn: str, args: tuple, deps=()):
        global _REMOTE
        import ray

        if _REMOTE is None:
            _REMOTE = ray.remote(_run_task)
        res = getattr(self.cfg.resources, stage)
        remote = _REMOTE.options(
            num_cpus=res.num_cpus,
            num_gpus=res.num_gpus,
            max_retries=self.retries,
            retry_exceptions=True,
            name=f"{stage}:{key}",
        )
        # ``deps`` (upstream refs) are arguments only so that Ray orders the tasks and
        # propagates an upstream failure.
        return remote.remote(stage, key, info, str(self.store.root), fn, args, res.num_cpus, *deps)

    def _wait_all(self, pending: dict) -> dict:
        """Wait for ``{ref: (stage, key)}``; returns ``{key: manifest or Exception}``."""
        import ray

        results = {}
        refs = list(pending)
        while refs:
            done, refs = ray.wait(refs, num_returns=1, timeout=1.0)
            for ref in done:
                stage, key = pending[ref]
                try:
                    results[key] = ray.get(ref)
                    self.reports[stage].ran.append(key)
                except Exception as exc:  # the task's exception, after its retries
                    results[key] = exc
                    self.reports[stage].failed[key] = _short_error(exc)
                self.progress.update(stage)
        return results

    # ---- the DAG ---------------------------------------------------------------------
    def run(self) -> PipelineResult:
        cfg = self.cfg
        removed = self.store.clean_partial()
        if removed:
            self.log(f"removed {removed} partial outputs of an interrupted run")
        episodes = self._episodes()
        gen_refs, track_refs, pending = {}, {}, {}

        # generation: one task per simulated episode not in the store
        to_generate = [e for e in episodes if "seed" in e.origin]
        self.progress.start(
            "generate",
            len(to_generate),
            sum(self.store.has("generate", e.key) for e in to_generate),
        )
        for ep in to_generate:
            if self.store.has("generate", ep.key):
                ep.path = self.store.entry("generate", ep.key) / stages.EPISODE_FILE
                self.reports["generate"].cached.append(ep.key)
                continue
            eset = cfg.train_episodes if ep.role == "train" else cfg.heldout_episodes
            ref = self._submit(
                "generate",
                ep.key,
                {"origin": ep.origin, "object": cfg.object},
                "generate",
                (cfg.generate_settings(), eset.seed, ep.origin["index"], eset.pushes),
            )
            gen_refs[ep.key] = ref
            pending[ref] = ("generate", ep.key)
            ep.path = self.store.entry("generate", ep.key) / stages.EPISODE_FILE

        # tracking: training episodes (and recorded held-out ones, which have no ground
        # truth); each starts when its episode exists
        to_track = [
            e
            for e in episodes
            if cfg.tracking.enabled and (e.role == "train" or "file" in e.origin)
        ]
        for ep in to_track:
            ep.track_key = self._track_key(ep)
        self.progress.start(
            "track", len(to_track), sum(self.store.has("track", e.track_key) for e in to_track)
        )
        for ep in to_track:
            ep.trajectories = self.store.entry("track", ep.track_key) / stages.TRAJECTORIES_FILE
            if self.store.has("track", ep.track_key):
                self.reports["track"].cached.append(ep.track_key)
                continue
            deps = (gen_refs[ep.key],) if ep.key in gen_refs else ()
            ref = self._submit(
                "track",
                ep.track_key,
                {"episode": ep.key, "origin": ep.origin},
                "track",
                (str(ep.path), cfg.track_settings()),
                deps,
            )
            track_refs[ep.track_key] = ref
            pending[ref] = ("track", ep.track_key)

        results = self._wait_all(pending)
        for ep in episodes:
            for key in (ep.key, ep.track_key):
                if isinstance(results.get(key), Exception):
                    ep.error = self.reports["generate" if key == ep.key else "track"].failed[key]

        # training on every training episode that made it through
        usable = [e for e in episodes if e.role == "train" and not e.error]
        if not usable:
            return self._finish(False, "no training episode made it through", episodes)
        inputs = [e.trajectories if cfg.tracking.enabled else e.path for e in usable]
        input_keys = [e.track_key if cfg.tracking.enabled else e.key for e in usable]
        train_key = stable_hash(
            {
                "stage": "train",
                "version": stages.STAGE_VERSIONS["train"],
                "inputs": input_keys,
                "settings": cfg.train_settings(),
            }
        )
        heldout = [e for e in episodes if e.role == "heldout" and not e.error]
        eval_inputs = [e.trajectories if "file" in e.origin else e.path for e in heldout]
        eval_key = stable_hash(
            {
                "stage": "evaluate",
                "version": stages.STAGE_VERSIONS["evaluate"],
                "model": train_key,
                "inputs": [e.track_key or e.key for e in heldout],
                "settings": cfg.eval_settings(),
            }
        )
        pending = {}
        self.progress.start("train", 1, int(self.store.has("train", train_key)))
        train_ref = None
        if self.store.has("train", train_key):
            self.reports["train"].cached.append(train_key)
        else:
            train_ref = self._submit(
                "train",
                train_key,
                {"inputs": input_keys, "ground_truth": not cfg.tracking.enabled},
                "train",
                ([str(p) for p in inputs], cfg.train_settings()),
            )
            pending[train_ref] = ("train", train_key)
        checkpoint = str(self.store.entry("train", train_key) / stages.CHECKPOINT_STEM)
        if heldout:
            self.progress.start("evaluate", 1, int(self.store.has("evaluate", eval_key)))
            if self.store.has("evaluate", eval_key):
                self.reports["evaluate"].cached.append(eval_key)
            else:
                ref = self._submit(
                    "evaluate",
                    eval_key,
                    {"model": train_key},
                    "evaluate",
                    (checkpoint, [str(p) for p in eval_inputs], cfg.eval_settings()),
                    (train_ref,) if train_ref is not None else (),
                )
                pending[ref] = ("evaluate", eval_key)
        self._wait_all(pending)
        if train_key in self.reports["train"].failed:
            return self._finish(
                False, f"training failed: {self.reports['train'].failed[train_key]}", episodes
            )
        return self._assemble(train_key, eval_key if heldout else "", episodes)

    # ---- the model directory -----------------------------------------------------------
    def _assemble(self, train_key: str, eval_key: str, episodes: list[Episode]):
        """``<output>/<name>/<version>/`` (atomic) and the ``current`` link to it."""
        cfg = self.cfg
        base = cfg.path(cfg.output) / cfg.name
        final = base / train_key[:12]
        tmp = base / f".tmp-{uuid.uuid4().hex[:8]}"
        tmp.mkdir(parents=True)
        train_dir = self.store.entry("train", train_key)
        for name in ("model.safetensors", "model.json", "log.jsonl", "loss.png", "train.log"):
            shutil.copy2(train_dir / name, tmp / name)
        summary: list[str] = []
        evaluated = bool(eval_key) and self.store.has("evaluate", eval_key)
        if evaluated:
            eval_dir = self.store.entry("evaluate", eval_key)
            for name in ("eval.json", "eval.png"):
                shutil.copy2(eval_dir / name, tmp / name)
            summary = self.store.manifest("evaluate", eval_key).get("summary", [])
        (tmp / "pipeline.yaml").write_text(yaml.safe_dump(cfg.to_dict(), sort_keys=False))
        records = [_episode_record(e, self.store) for e in episodes]
        (tmp / "episodes.json").write_text(json.dumps(records, indent=2))
        tracking = _tracking_summary(records)
        if tracking:
            summary = [tracking["line"], *summary]
        manifest = {
            "version": train_key[:12],
            "train_key": train_key,
            "eval_key": eval_key if evaluated else "",
            "trained_on": "simulator ground truth (oracle)"
            if not cfg.tracking.enabled
            else "tracked particles",
            "checkpoint": "model",
            "tracking_error": tracking,
            "stages": {s: dataclasses.asdict(r) for s, r in self.reports.items()},
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2))
        if final.exists():
            old = base / f".old-{uuid.uuid4().hex[:8]}"
            os.rename(final, old)
            os.rename(tmp, final)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(tmp, final)
        link = base / f".current-{uuid.uuid4().hex[:8]}"
        os.symlink(final.name, link)
        os.replace(link, base / "current")
        failed = sum(len(r.failed) for r in self.reports.values())
        message = f"model {final} (checkpoint {final / 'model'})"
        if failed:
            message += f"; {failed} task(s) failed and were left out (see manifest.json)"
        if not evaluated:
            message += "; not evaluated (no held-out episode made it through)"
        result = PipelineResult(True, self.reports, final, train_key[:12], message, summary)
        self.progress.close()
        return result

    def _finish(self, ok: bool, message: str, episodes: list[Episode]) -> PipelineResult:
        self.progress.close()
        for ep in episodes:
            if ep.error:
                message += f"\n  {ep.role} episode {ep.origin}: {ep.error}"
        return PipelineResult(ok, self.reports, message=message)


def _episode_record(ep: Episode, store: Store) -> dict:
    record = {
        "role": ep.role,
        "key": ep.key,
        **ep.origin,
        "track_key": ep.track_key,
        "status": "failed: " + ep.error if ep.error else "ok",
    }
    if ep.track_key and store.has("track", ep.track_key):
        info = store.manifest("track", ep.track_key)
        keep = ("mte_3d_mm", "delta_avg_3d", "frames", "seconds_per_frame")
        record["tracking"] = {k: info[k] for k in keep if k in info}
    return record


def _tracking_summary(records: list[dict]) -> dict:
    """Tracking error of the tracked episodes that have ground truth (simulated ones):
    3D MTE mean and sample sd [mm] over episodes, and a line for the summary."""
    import numpy as np

    mte = [r["tracking"]["mte_3d_mm"] for r in records if "mte_3d_mm" in r.get("tracking", {})]
    if not mte:
        return {}
    sd = float(np.std(mte, ddof=1)) if len(mte) > 1 else 0.0
    return {
        "mte_3d_mm_mean": float(np.mean(mte)),
        "mte_3d_mm_sd": sd,
        "episodes": len(mte),
        "line": f"tracking: 3D MTE {np.mean(mte):.2f} +- {sd:.2f} mm over {len(mte)} "
        "tracked episodes (against their simulator ground truth)",
    }


def _short_error(exc: Exception) -> str:
    """The last line of a (Ray-wrapped) task error: the exception type and message."""
    text = str(exc).strip().splitlines()
    return text[-1] if text else type(exc).__name__


def run_pipeline(
    cfg: PipelineConfig,
    workers: int | None = None,
    address: str | None = None,
    progress: bool = True,
    log: Callable = print,
) -> PipelineResult:
    start_ray(workers, address)
    return Pipeline(cfg, progress, log).run()
