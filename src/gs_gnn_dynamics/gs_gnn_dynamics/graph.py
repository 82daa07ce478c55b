"""Batched particle graphs as fixed-size neighbour lists.

Every object particle i receives messages from up to ``topk`` object neighbours within
``radius`` (nearest first) and from each tool vertex within ``tool_radius``. Vertices are
indexed [objects 0..N-1, tools N..N+M-1]; a graph is stored per receiver as
``senders`` (B, N, S) int64 with S = topk + M and ``valid`` (B, N, S) bool. Tool
vertices receive nothing (their motion is the action). No loops over particles or edges.
"""

from __future__ import annotations

import dataclasses

import torch


@dataclasses.dataclass
class Graph:
    """senders (B, N, S) int64 into the [objects, tools] vertex list; valid (B, N, S) bool;
    is_tool (B, N, S) bool: the slot's sender is a tool vertex."""

    senders: torch.Tensor
    valid: torch.Tensor
    is_tool: torch.Tensor


def build_graph(
    points: torch.Tensor,
    tools: torch.Tensor,
    mask: torch.Tensor | None,
    radius: float,
    topk: int,
    tool_radius: float,
) -> Graph:
    """Neighbour lists of B graphs.

    points: (B, N, 3) object particles [m]; tools: (B, M, 3) tool vertices [m];
    mask: (B, N) bool valid particles (None: all valid; padded particles neither send
    nor receive).
    """
    b, n, _ = points.shape
    m = tools.shape[1]
    dev = points.device
    if mask is None:
        mask = torch.ones(b, n, dtype=torch.bool, device=dev)
    d = torch.cdist(points, points)  # (B, N, N)
    eye = torch.eye(n, dtype=torch.bool, device=dev)
    bad = eye[None] | ~mask[:, None, :] | ~mask[:, :, None] | (d > radius)
    d = d.masked_fill(bad, float("inf"))
    k = min(topk, max(n - 1, 1))
    dk, obj_idx = torch.topk(d, k, dim=-1, largest=False)  # (B, N, k)
    obj_valid = torch.isfinite(dk)
    if k < topk:  # fewer particles than neighbour slots: pad
        pad = topk - k
        obj_idx = torch.cat([obj_idx, obj_idx.new_zeros(b, n, pad)], -1)
        obj_valid = torch.cat([obj_valid, obj_valid.new_zeros(b, n, pad)], -1)
    dt = torch.cdist(points, tools)  # (B, N, M)
    tool_valid = (dt <= tool_radius) & mask[:, :, None]
    tool_idx = (n + torch.arange(m, device=dev)).expand(b, n, m)
    senders = torch.cat([obj_idx, tool_idx], -1)
    valid = torch.cat([obj_valid, tool_valid], -1)
    is_tool = torch.zeros_like(valid)
    is_tool[..., topk:] = True
    return Graph(senders, valid, is_tool)


def gather_senders(values: torch.Tensor, senders: torch.Tensor) -> torch.Tensor:
    """values (B, V, C) at senders (B, N, S) -> (B, N, S, C)."""
    b, n, s = senders.shape
    c = values.shape[-1]
    flat = senders.reshape(b, n * s, 1).expand(b, n * s, c)
    return values.gather(1, flat).reshape(b, n, s, c)
