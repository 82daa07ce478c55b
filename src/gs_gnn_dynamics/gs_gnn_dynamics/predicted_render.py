"""Action-conditioned prediction of Gaussians and images (GS-Dynamics §3.4).

The predicted control-particle trajectory moves every Gaussian by LBS step by step
(:func:`deform_trajectory`); :func:`render_predicted` draws the predicted Gaussians of chosen
steps into cameras with ``gs_render.render`` (imported lazily: gs_render is optional).
"""

from __future__ import annotations

import torch

from gs_gnn_dynamics.lbs import lbs_deform


def deform_trajectory(
    ctrl: torch.Tensor, means: torch.Tensor, quats: torch.Tensor, k_blend: int = 4, k_rot: int = 6
) -> tuple[torch.Tensor, torch.Tensor]:
    """Gaussians along a particle trajectory ctrl (T + 1, N, 3) [m], starting from means
    (G, 3) [m] and quats (G, 4) wxyz at step 0. Returns (means (T + 1, G, 3), quats
    (T + 1, G, 4)); each step blends from the previous step's particles and Gaussians."""
    out_m, out_q = [means], [quats]
    for t in range(ctrl.shape[0] - 1):  # sequential in time only
        m, q = lbs_deform(ctrl[t], ctrl[t + 1], out_m[-1], out_q[-1], k_blend, k_rot)
        out_m.append(m)
        out_q.append(q)
    return torch.stack(out_m), torch.stack(out_q)


def render_predicted(
    ctrl: torch.Tensor,
    gaussians: dict[str, torch.Tensor],
    viewmats: torch.Tensor,
    ks: torch.Tensor,
    width: int,
    height: int,
    steps: list[int] | None = None,
    **render_kwargs,
):
    """Render the predicted Gaussians at ``steps`` (default: the last) into C cameras.

    gaussians: means (G, 3), quats (G, 4), scales (G, 3), opacities (G,), colors (G, 3) of
    step 0; viewmats (C, 4, 4) world-to-camera; ks (C, 3, 3). Returns {step: RenderOutput}.
    """
    from gs_render import render

    means, quats = deform_trajectory(ctrl, gaussians["means"], gaussians["quats"])
    steps = [ctrl.shape[0] - 1] if steps is None else steps
    return {
        s: render(
            means[s],
            quats[s],
            gaussians["scales"],
            gaussians["opacities"],
            gaussians["colors"],
            viewmats,
            ks,
            width,
            height,
            **render_kwargs,
        )
        for s in steps
    }
