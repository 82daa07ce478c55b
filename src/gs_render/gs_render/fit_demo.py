"""Fit a few hundred Gaussians to multi-view images with Adam (CPU demo).

    python -m gs_render.fit_demo --out DIR [--images frames.npz] [--iters 400]

Without ``--images`` the targets are renders of a hidden ground-truth scene: a coloured
rope (an S-shaped curve of elongated Gaussians, red to green to blue) lying on a table,
seen by the 4-camera table-corner rig; the table is the uniform background colour. With
``--images`` the targets come from an npz holding ``images`` (C, H, W, 3) (uint8 or float
in [0, 1]), ``viewmats`` (C, 4, 4) world-to-camera (OpenCV axes), ``Ks`` (C, 3, 3) and
optionally ``background`` (3,), e.g. simulator frames (``--write-targets`` writes that
file for the synthetic scene).

The model starts from Gaussians scattered at random over the table (grey, opacity 0.3,
1.5 cm) and optimises means, colours, opacities, scales and quaternions (colours and
opacities through sigmoids, scales through exp) on the mean absolute RGB error over all
views. Prints loss and PSNR before and after, writes ``DIR/fit_before_after.png`` (one
row per camera: target | initial | fitted) and ``DIR/fit_result.npz`` (fitted Gaussians).
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import numpy as np
import torch

from gs_common.device import resolve_device

from .api import render
from .cameras import table_corner_rig
from .png import image_grid, write_png
from .scenes import rope_scene

TABLE_COLOUR = (0.62, 0.55, 0.45)


def psnr(pred: torch.Tensor, target: torch.Tensor) -> float:
    """Peak signal-to-noise ratio in dB of images in [0, 1]."""
    mse = torch.mean((pred - target) ** 2).item()
    return 10.0 * math.log10(1.0 / max(mse, 1e-12))


def synthetic_targets(width: int, height: int) -> dict[str, torch.Tensor]:
    """Render the hidden rope scene into the 4-camera rig."""
    viewmats, Ks = table_corner_rig(width, height)
    background = torch.tensor(TABLE_COLOUR)
    with torch.no_grad():
        out = render(*rope_scene().tensors(), viewmats, Ks, width, height, background=background)
    return {"images": out.rgb, "viewmats": viewmats, "Ks": Ks, "background": background}


def load_targets(path: str | Path) -> dict[str, torch.Tensor]:
    """Read an ``--images`` npz (see module docstring)."""
    data = np.load(path)
    images = torch.as_tensor(data["images"])
    images = images.float() / 255.0 if images.dtype == torch.uint8 else images.float()
    background = data["background"] if "background" in data else images[:, 0, 0].mean(0)
    return {
        "images": images,
        "viewmats": torch.as_tensor(data["viewmats"]).float(),
        "Ks": torch.as_tensor(data["Ks"]).float(),
        "background": torch.as_tensor(background).float(),
    }


class GaussianModel(torch.nn.Module):
    """Unconstrained parameters of N Gaussians; :meth:`activated` gives render inputs."""

    def __init__(self, n: int, seed: int = 0, extent: tuple[float, float] = (0.25, 0.15)):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        means = (torch.rand(n, 3, generator=g) - 0.5) * 2 * torch.tensor([*extent, 0.0])
        means[:, 2] = 0.03 * torch.rand(n, generator=g)
        self.means = torch.nn.Parameter(means)
        self.quat = torch.nn.Parameter(torch.tensor([1.0, 0.0, 0.0, 0.0]).repeat(n, 1))
        self.log_scales = torch.nn.Parameter(torch.full((n, 3), math.log(0.015)))
        self.opacity_logit = torch.nn.Parameter(torch.full((n,), math.log(0.3 / 0.7)))
        self.color_logit = torch.nn.Parameter(torch.zeros(n, 3))

    def activated(self) -> tuple[torch.Tensor, ...]:
        """(means, quats, scales, opacities, colors) as :func:`gs_render.render` wants."""
        return (
            self.means,
            self.quat,
            torch.exp(self.log_scales),
            torch.sigmoid(self.opacity_logit),
            torch.sigmoid(self.color_logit),
        )


def fit(
    targets: dict[str, torch.Tensor],
    n_gaussians: int,
    iters: int,
    seed: int = 0,
    device: str | torch.device = "cpu",
) -> dict[str, object]:
    """Optimise a :class:`GaussianModel` against ``targets``; returns images and metrics."""
    dev = resolve_device(device)
    targets = {k: v.to(dev) for k, v in targets.items()}
    images, viewmats, Ks = targets["images"], targets["viewmats"], targets["Ks"]
    background = targets["background"]
    height, width = images.shape[1:3]
    model = GaussianModel(n_gaussians, seed).to(dev)
    optim = torch.optim.Adam(
        [
            {"params": [model.means], "lr": 2e-3},
            {"params": [model.quat], "lr": 1e-2},
            {"params": [model.log_scales], "lr": 2e-2},
            {"params": [model.opacity_logit], "lr": 5e-2},
            {"params": [model.color_logit], "lr": 5e-2},
        ]
    )
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(optim, iters, eta_min=0.0)

    def draw() -> torch.Tensor:
        out = render(*model.activated(), viewmats, Ks, width, height, background=background)
        return out.rgb

    with torch.no_grad():
        initial = draw()
    t0 = time.perf_counter()
    for _ in range(iters):
        loss = (draw() - images).abs().mean()
        optim.zero_grad(set_to_none=True)
        loss.backward()
        optim.step()
        sched.step()
    seconds = time.perf_counter() - t0
    with torch.no_grad():
        final = draw()
    return {
        "model": model,
        "initial": initial,
        "final": final,
        "loss_before": (initial - images).abs().mean().item(),
        "loss_after": (final - images).abs().mean().item(),
        "psnr_before": psnr(initial, images),
        "psnr_after": psnr(final, images),
        "seconds": seconds,
    }


def run(argv: list[str] | None = None) -> dict[str, object]:
    """Parse ``argv``, fit, print and write the outputs; returns :func:`fit`'s result."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, help="output directory")
    parser.add_argument("--images", help="npz with images, viewmats, Ks [, background]")
    parser.add_argument("--gaussians", type=int, default=300)
    parser.add_argument("--iters", type=int, default=400)
    parser.add_argument("--width", type=int, default=160)
    parser.add_argument("--height", type=int, default=120)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu", help='"cpu", "cuda" or "auto"')
    parser.add_argument("--write-targets", action="store_true",
                        help="also save the target views as DIR/targets.npz")  # fmt: skip
    args = parser.parse_args(argv)
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(args.seed)

    if args.images:
        targets = load_targets(args.images)
    else:
        targets = synthetic_targets(args.width, args.height)
    if args.write_targets:
        np.savez(out_dir / "targets.npz", **{k: v.numpy() for k, v in targets.items()})
    n_cams, height, width = targets["images"].shape[:3]
    device = resolve_device(args.device)
    print(
        f"fitting {args.gaussians} Gaussians to {n_cams} views of {width}x{height}, "
        f"{args.iters} Adam steps, torch {torch.__version__} on {device}"
    )
    res = fit(targets, args.gaussians, args.iters, args.seed, args.device)
    print(f"before: L1 {res['loss_before']:.4f}  PSNR {res['psnr_before']:.2f} dB")
    print(
        f"after:  L1 {res['loss_after']:.4f}  PSNR {res['psnr_after']:.2f} dB  "
        f"({res['seconds']:.1f} s, {1e3 * res['seconds'] / max(args.iters, 1):.0f} ms/step)"
    )

    rows = [
        [t[c].detach().cpu().numpy() for t in (targets["images"], res["initial"], res["final"])]
        for c in range(n_cams)
    ]
    png = out_dir / "fit_before_after.png"
    write_png(png, image_grid(rows))
    means, quats, scales, opacities, colors = (
        t.detach().cpu().numpy() for t in res["model"].activated()
    )
    np.savez(out_dir / "fit_result.npz", means=means, quats=quats, scales=scales,
             opacities=opacities, colors=colors)  # fmt: skip
    print(f"wrote {png} (rows: cameras; columns: target | initial | fitted)")
    return res


def main() -> None:
    """Console-script entry point (``gs-render-fit-demo``)."""
    run()


if __name__ == "__main__":
    main()
