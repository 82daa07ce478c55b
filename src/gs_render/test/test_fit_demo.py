"""Smoke tests of the fitting demo (tiny sizes; the full demo is run by hand)."""

from __future__ import annotations

import numpy as np

from gs_render import fit_demo


def test_fit_demo_reduces_loss_and_writes_outputs(tmp_path):
    res = fit_demo.run(
        ["--out", str(tmp_path), "--iters", "25", "--gaussians", "80", "--width", "48",
         "--height", "36", "--write-targets"]
    )  # fmt: skip
    assert res["loss_after"] < 0.8 * res["loss_before"]
    assert res["psnr_after"] > res["psnr_before"]
    png = (tmp_path / "fit_before_after.png").read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 1000
    fitted = np.load(tmp_path / "fit_result.npz")
    assert fitted["means"].shape == (80, 3) and np.isfinite(fitted["means"]).all()

    # The saved targets feed the --images path (how simulator frames come in).
    targets = np.load(tmp_path / "targets.npz")
    assert targets["images"].shape == (4, 36, 48, 3)
    frames = tmp_path / "frames.npz"
    np.savez(frames, images=(targets["images"] * 255).astype(np.uint8),
             viewmats=targets["viewmats"], Ks=targets["Ks"])  # fmt: skip
    res2 = fit_demo.run(
        ["--out", str(tmp_path / "b"), "--images", str(frames), "--iters", "10",
         "--gaussians", "40"]
    )  # fmt: skip
    assert res2["final"].shape == (4, 36, 48, 3)
    assert res2["loss_after"] < res2["loss_before"]
