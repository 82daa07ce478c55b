"""The one Gaussian container of the project (tracking, rendering, dynamics, messages).

:class:`Gaussians` holds N 3D Gaussians as torch tensors; :meth:`Gaussians.to_columns` and
:meth:`Gaussians.from_columns` convert explicitly to and from the (N, 14) float32 column
layout of ``tracking/gaussians`` messages (``gs_common.pointcloud.GAUSSIAN_FIELDS``:
x y z, qw qx qy qz, sx sy sz, opacity, r g b), which
``gs_common.ros.pointcloud2.gaussians_to_cloud`` / ``cloud_to_gaussians`` pack.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import torch

#: Column slices of the (N, 14) message layout.
COLUMNS: dict[str, slice] = {
    "means": slice(0, 3),
    "quats": slice(3, 7),
    "scales": slice(7, 10),
    "opacities": slice(10, 11),
    "colors": slice(11, 14),
}
NUM_COLUMNS = 14


@dataclass
class Gaussians:
    """N 3D Gaussians in one frame (world unless said otherwise).

    means (N, 3) m; quats (N, 4) wxyz (unit when produced by this package); scales (N, 3) m
    per axis; opacities (N,) in [0, 1]; colors (N, 3) RGB in [0, 1].
    """

    means: torch.Tensor
    quats: torch.Tensor
    scales: torch.Tensor
    opacities: torch.Tensor
    colors: torch.Tensor

    def __len__(self) -> int:
        return len(self.means)

    def __getitem__(self, name: str) -> torch.Tensor:
        """Attribute by name (``g["means"]``), for code that takes a mapping of tensors."""
        if name not in COLUMNS:
            raise KeyError(f"no Gaussian attribute '{name}'; have {list(COLUMNS)}")
        return getattr(self, name)

    def tensors(self) -> tuple[torch.Tensor, ...]:
        """(means, quats, scales, opacities, colors), the first arguments of ``render``."""
        return tuple(getattr(self, f.name) for f in fields(self))

    def subset(self, keep: torch.Tensor) -> Gaussians:
        """The Gaussians selected by a (N,) bool mask or an index tensor."""
        return Gaussians(*(t[keep] for t in self.tensors()))

    def detach(self) -> Gaussians:
        """Detached copies of every tensor."""
        return Gaussians(*(t.detach().clone() for t in self.tensors()))

    def to(self, device=None, dtype=None) -> Gaussians:
        return Gaussians(*(t.to(device=device, dtype=dtype) for t in self.tensors()))

    def with_pose(self, means: torch.Tensor, quats: torch.Tensor) -> Gaussians:
        """The same Gaussians moved to means (N, 3) and quats (N, 4)."""
        return Gaussians(means, quats, self.scales, self.opacities, self.colors)

    def to_columns(self) -> np.ndarray:
        """(N, 14) float32 columns in the ``tracking/gaussians`` layout (quats normalized)."""
        q = self.quats / self.quats.norm(dim=-1, keepdim=True).clamp_min(1e-12)
        cols = torch.cat([self.means, q, self.scales, self.opacities[:, None], self.colors], 1)
        return cols.detach().cpu().numpy().astype(np.float32)

    @classmethod
    def from_columns(
        cls, columns: np.ndarray, device: str | torch.device = "cpu", dtype=torch.float32
    ) -> Gaussians:
        """Gaussians from (N, 14) columns in the ``tracking/gaussians`` layout.

        Raises ValueError naming the problem for a wrong shape or non-finite values.
        """
        arr = np.asarray(columns)
        if arr.ndim != 2 or arr.shape[1] != NUM_COLUMNS:
            raise ValueError(f"Gaussian columns must be (N, {NUM_COLUMNS}), got {arr.shape}")
        if not np.isfinite(arr).all():
            raise ValueError(f"{int((~np.isfinite(arr)).sum())} non-finite Gaussian column values")
        t = torch.as_tensor(arr, dtype=dtype, device=device)
        parts = {name: t[:, s] for name, s in COLUMNS.items()}
        parts["opacities"] = parts["opacities"][:, 0]
        return cls(**{k: v.contiguous() for k, v in parts.items()})
