"""A scene to draw: the markers the stack's viewers show, for one planning decision. ROS-free.

:func:`simulated_scene` makes the decision the planning stack makes, without ROS: the
simulator's rope (gs_sim workcell, seeded), its control particles (the dynamics model's
FPS), the rope-straightening target of the planner's task, and an MPPI plan of the shipped
dynamics model (gs_mppi_planner), predicted states and all. :func:`scene_markers` turns
that into the same MarkerSpecs the markers node publishes.
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np

from gs_viz import markers as mk

WORKSPACE = mk.SIM_WORKSPACE


@dataclasses.dataclass
class Scene:
    """particles: (N, 3) control particles [m]; target: (M, 3) [m]; plan: the prediction;
    cameras: (names, intrinsics, world_from_camera (C, 4, 4)) or None; edge_radius / topk:
    the model's graph; info: provenance printed under the picture."""

    particles: np.ndarray
    target: np.ndarray
    plan: mk.Plan
    push_height: float
    edge_radius: float
    edge_topk: int
    cameras: tuple | None = None
    workspace: tuple = WORKSPACE
    info: str = ""


def scene_markers(scene: Scene) -> list[mk.MarkerSpec]:
    """Every marker the viewers show for ``scene`` (markers node builders)."""
    (x, y, z_max) = scene.workspace
    out = mk.workspace_markers(x, y, z_max)
    out += mk.target_markers(scene.target)
    edges = mk.graph_edges(scene.particles, scene.edge_radius, scene.edge_topk)
    out += mk.particle_markers(scene.particles, edges)
    out += mk.plan_markers(scene.plan, push_height=scene.push_height)
    if scene.cameras is not None:
        out += mk.camera_markers(*scene.cameras)
    return out


def simulated_scene(
    seed: int = 1000, horizon: int = 2, samples: int = 64, iterations: int = 4, log=print
) -> Scene:
    """One MPPI decision of the rope-straightening task on the simulator's seeded rope."""
    import torch

    from gs_mppi_planner.costs import CostConfig
    from gs_mppi_planner.mppi import MPPIConfig, make_planner
    from gs_mppi_planner.problem import make_problem
    from gs_mppi_planner.push_model import PushModel
    from gs_mppi_planner.targets import preset_target, principal_yaw
    from gs_sim.camera_rig import corner_rig
    from gs_sim.settings import workcell_config
    from gs_sim.workcell import Workcell

    torch.manual_seed(seed)
    wc = Workcell(workcell_config({"object": "rope"}), seed=seed)
    ws = wc.config.workspace
    points = wc.object_points()
    # the task's target: a line through the workspace centre along the rope's main axis
    cx, cy = 0.5 * (ws.x_min + ws.x_max), 0.5 * (ws.y_min + ws.y_max)
    target = preset_target("straight_line", points, cx, cy, principal_yaw(points), 0.0, 60)
    model = PushModel("", "auto")
    particles = model.control_particles(points)
    problem = make_problem(particles, points, target, model.device)
    cfg = MPPIConfig(num_samples=samples, iterations=iterations, horizon=horizon)
    planner = make_planner("mppi", model, CostConfig(), cfg)
    planner.reset(seed)
    t0 = time.monotonic()
    result = planner.plan(problem)
    if log:
        log(
            f"planned {len(result.pushes)} push(es) in {time.monotonic() - t0:.1f} s "
            f"({result.rollouts} rollouts); predicted shape cost {result.shape_cost * 1000:.1f} mm"
        )
    plan = mk.Plan(
        positions=np.asarray(result.states, np.float64),
        ee_positions=np.asarray(result.tool, np.float64),
        pushes=np.asarray(result.pushes, np.float64).reshape(-1, 4),
        push_start_step=np.asarray(result.push_start_step, np.int64),
    )
    rig = corner_rig(wc.config.rig)
    cameras = (
        [c.name for c in rig],
        [c.intrinsics for c in rig],
        np.stack([c.world_from_camera for c in rig]),
    )
    mcfg = model.cfg
    return Scene(
        particles=np.asarray(particles, np.float64),
        target=target,
        plan=plan,
        push_height=mcfg.push_height,
        edge_radius=mcfg.radius,
        edge_topk=mcfg.topk,
        cameras=cameras,
        workspace=((ws.x_min, ws.x_max), (ws.y_min, ws.y_max), ws.z_max),
        info=(
            f"simulated rope, seed {seed}; MPPI plan ({samples} samples x {iterations} "
            f"iterations, horizon {horizon}) with the shipped rope dynamics model"
        ),
    )


def save_scene(scene: Scene, path) -> None:
    """Store a scene as .npz (arrays + JSON metadata), atomically (temp file + rename)."""
    import json
    import os
    import tempfile
    from pathlib import Path

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays = {
        "particles": scene.particles,
        "target": scene.target,
        "positions": scene.plan.positions,
        "ee_positions": scene.plan.ee_positions,
        "pushes": scene.plan.pushes,
        "push_start_step": scene.plan.push_start_step,
    }
    meta = {
        "push_height": scene.push_height,
        "edge_radius": scene.edge_radius,
        "edge_topk": scene.edge_topk,
        "workspace": scene.workspace,
        "info": scene.info,
    }
    if scene.cameras is not None:
        names, intr, poses = scene.cameras
        arrays["camera_poses"] = poses
        meta["cameras"] = [
            {"name": n, **{f: getattr(k, f) for f in ("width", "height", "fx", "fy", "cx", "cy")}}
            for n, k in zip(names, intr, strict=True)
        ]
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), np.uint8)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".npz")
    with os.fdopen(fd, "wb") as f:
        np.savez(f, **arrays)
    os.replace(tmp, path)


def load_scene(path) -> Scene:
    import json

    from gs_common.camera import CameraIntrinsics

    with np.load(path, allow_pickle=False) as z:
        a = {k: z[k] for k in z.files}
    meta = json.loads(a["meta"].tobytes().decode())
    cameras = None
    if "cameras" in meta:
        cams = meta["cameras"]
        cameras = (
            [c["name"] for c in cams],
            [CameraIntrinsics(**{k: v for k, v in c.items() if k != "name"}) for c in cams],
            a["camera_poses"],
        )
    (x, y, z_max) = meta["workspace"]
    return Scene(
        particles=a["particles"],
        target=a["target"],
        plan=mk.Plan(a["positions"], a["ee_positions"], a["pushes"], a["push_start_step"]),
        push_height=meta["push_height"],
        edge_radius=meta["edge_radius"],
        edge_topk=meta["edge_topk"],
        cameras=cameras,
        workspace=(tuple(x), tuple(y), z_max),
        info=meta["info"],
    )
