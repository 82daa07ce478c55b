"""The particle GNN (propagation network as in GS-Dynamics §3.3), batched over B graphs.

Vertex inputs: the last k motions of the vertex, the commanded motion of the next step
(zero for object particles, the end-effector displacement for the tool), object/tool
one-hot, height above the table. Edge inputs: relative position, distance,
object-object / object-tool one-hot. Encoders, ``mp_steps`` rounds of message passing
with shared edge / vertex propagators (residual), a decoder to each object particle's
motion for the next step.
"""

from __future__ import annotations

import torch
from torch import nn

from gs_gnn_dynamics.config import DynamicsConfig
from gs_gnn_dynamics.graph import Graph, build_graph, gather_senders


def mlp(sizes: list[int]) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


class ParticleDynamics(nn.Module):
    """One model step: object motions (B, N, 3) [m] from the current state and history."""

    def __init__(self, cfg: DynamicsConfig):
        super().__init__()
        cfg.validate()
        self.cfg = cfg
        h = cfg.hidden
        vertex_in = 3 * cfg.history + 3 + 2 + 1
        edge_in = 3 + 1 + 2
        self.vertex_encoder = mlp([vertex_in, h, h])
        self.edge_encoder = mlp([edge_in, h, h])
        self.edge_propagator = mlp([3 * h, h, h])
        self.vertex_propagator = mlp([2 * h, h, h])
        self.decoder = mlp([h, h, 3])

    def graph(self, points: torch.Tensor, tools: torch.Tensor, mask: torch.Tensor | None):
        c = self.cfg
        return build_graph(points, tools, mask, c.radius, c.topk, c.tool_radius)

    def forward(
        self,
        points: torch.Tensor,
        point_history: torch.Tensor,
        tools: torch.Tensor,
        tool_history: torch.Tensor,
        tool_action: torch.Tensor,
        mask: torch.Tensor | None = None,
        graph: Graph | None = None,
    ) -> torch.Tensor:
        """Predicted object motions (B, N, 3) [m] for the next step.

        points: (B, N, 3) [m]; point_history: (B, k, N, 3) past motions [m], last = most
        recent; tools: (B, M, 3); tool_history: (B, k, M, 3); tool_action: (B, M, 3) the
        tools' displacement during the next step [m]; mask: (B, N) bool valid particles.
        """
        c = self.cfg
        b, n, _ = points.shape
        m = tools.shape[1]
        if graph is None:
            graph = self.graph(points, tools, mask)
        s = 1.0 / c.motion_scale
        pos = torch.cat([points, tools], 1)  # (B, V, 3)
        hist = torch.cat([point_history, tool_history], 2)  # (B, k, V, 3)
        hist = hist.permute(0, 2, 1, 3).reshape(b, n + m, -1) * s
        action = torch.cat([torch.zeros_like(points), tool_action], 1) * s
        kind = torch.zeros(b, n + m, 2, dtype=points.dtype, device=points.device)
        kind[:, :n, 0] = 1.0
        kind[:, n:, 1] = 1.0
        height = (pos[..., 2:3] * s).clamp(-10.0, 10.0)
        h_in = self.vertex_encoder(torch.cat([hist, action, kind, height], -1))  # (B, V, H)

        rel = (points[:, :, None, :] - gather_senders(pos, graph.senders)) / c.radius
        dist = rel.norm(dim=-1, keepdim=True)
        tool_slot = graph.is_tool[..., None].to(points.dtype)
        e_in = self.edge_encoder(torch.cat([rel, dist, 1.0 - tool_slot, tool_slot], -1))
        valid = graph.valid[..., None].to(points.dtype)  # (B, N, S, 1)

        # edge_propagator(cat[e, h_recv, h_send]) with its first linear layer split by input
        # block: the receiver / sender parts are computed per vertex and gathered, the edge
        # part once per model step (same parameters and result, far less edge-level work)
        lin1, lin2 = self.edge_propagator[0], self.edge_propagator[2]
        w_e, w_r, w_s = lin1.weight.split(c.hidden, dim=1)
        e_pre = e_in @ w_e.T + lin1.bias  # (B, N, S, H)
        h_obj, h_tool = h_in[:, :n], h_in[:, n:]
        for _ in range(c.mp_steps):
            send = torch.cat([h_obj, h_tool], 1) @ w_s.T  # (B, V, H)
            pre = e_pre + (h_obj @ w_r.T)[:, :, None] + gather_senders(send, graph.senders)
            msg = lin2(torch.relu(pre))  # (B, N, S, H)
            agg = (torch.relu(msg) * valid).sum(2)  # (B, N, H)
            h_obj = h_obj + self.vertex_propagator(torch.cat([h_in[:, :n], agg], -1))
        motion = self.decoder(h_obj) * c.motion_scale
        if mask is not None:
            motion = motion * mask[..., None].to(motion.dtype)
        return motion
