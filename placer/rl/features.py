"""Feature extractor of the placement policy: a CNN over the grid channels and a graph encoder
over the macro graph, fused (for stable-baselines3 / sb3-contrib MaskablePPO).

The extractor returns one flat tensor, the concatenation of

* ``coarse``: CNN features at 1/8 of the grid resolution, ``(coarse_channels, G/8, G/8)``;
* ``fine``: full-resolution features ``(fine_channels, G, G)`` whose last channel is the
  wire-mask channel itself (a skip connection the policy head uses as a prior, as MaskPlace
  and WireMask-EA rank cells by wire mask);
* ``global``: an MLP over the current-macro and design vectors and the graph embedding.

:class:`placer.rl.policy.PlacementPolicy` splits it again (:meth:`PlacementFeatures.split`).

Graph encoder: ``graph_layers`` rounds of weighted mean message passing over the padded edge
list (``h <- relu(W_self h + W_nbr * sum_j w_ij h_j / sum_j w_ij)``), read out as the mean over
valid nodes concatenated with the current macro's embedding. ``use_graph=False`` replaces the
embedding with zeros (ablation).
"""

from __future__ import annotations

import gymnasium as gym
import torch
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor
from torch import nn

WIREMASK_CHANNEL = 2  # index in envs.macro_placement_obs.GRID_CHANNELS (checked by the tests)
#: Columns of envs.macro_placement_obs's node features the encoder reads: the node is a real one
#: (not padding), and it is the macro being placed now.
VALID_COLUMN, CURRENT_COLUMN = 0, 7


class GraphEncoder(nn.Module):
    """Weighted mean message passing over a batch of padded graphs (pure torch)."""

    def __init__(self, node_features: int, hidden: int = 32, layers: int = 2) -> None:
        super().__init__()
        self.embed = nn.Linear(node_features, hidden)
        self.self_layers = nn.ModuleList(nn.Linear(hidden, hidden) for _ in range(layers))
        self.nbr_layers = nn.ModuleList(nn.Linear(hidden, hidden, bias=False) for _ in range(layers))
        self.out_dim = 2 * hidden

    def forward(self, nodes: torch.Tensor, edges: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
        """``nodes (B, N, F)``, ``edges (B, 2, E)``, ``weight (B, E)`` -> ``(B, 2 * hidden)``."""
        B, N, _ = nodes.shape
        valid = nodes[..., VALID_COLUMN : VALID_COLUMN + 1]
        current = nodes[..., CURRENT_COLUMN : CURRENT_COLUMN + 1]
        h = torch.relu(self.embed(nodes)) * valid
        offset = (torch.arange(B, device=nodes.device) * N).view(B, 1)
        # the padding edges (weight 0, 58 % of ariane133's 4,096 slots) carry nothing: left out,
        # they no longer cost two (B x E) x hidden tensors a layer (`placer train --netlist
        # ariane133 --timesteps 2048 --set n_steps=512`: 90.8 / 93.8 s -> 75.7 / 72.8 s, old and
        # new code alternated on an idle machine, all 83 policy tensors bit-identical)
        keep = weight.reshape(-1) != 0
        src = (edges[:, 0].long() + offset).reshape(-1)[keep]
        dst = (edges[:, 1].long() + offset).reshape(-1)[keep]
        w = weight.reshape(-1)[keep].reshape(-1, 1)
        norm = torch.zeros(B * N, 1, device=nodes.device).index_add_(0, dst, w)
        norm = torch.where(norm > 0, norm, torch.ones_like(norm))  # (a clamp at 1e-6 shrank, not
        # averaged, the messages of a node whose weights were all under it)
        for lin_self, lin_nbr in zip(self.self_layers, self.nbr_layers, strict=True):
            flat = h.reshape(B * N, -1)
            agg = torch.zeros_like(flat).index_add_(0, dst, flat[src] * w) / norm
            h = torch.relu(lin_self(flat) + lin_nbr(agg)).view(B, N, -1) * valid
        mean = h.sum(1) / valid.sum(1).clamp_min(1.0)
        cur = (h * current).sum(1)
        return torch.cat([mean, cur], dim=1)


def _shape(space: gym.Space) -> tuple[int, ...]:
    """The shape of a part of the env's observation (every part a Box: gymnasium types a
    space's shape Optional, for spaces that have none)."""
    assert space.shape is not None
    return space.shape


class PlacementFeatures(BaseFeaturesExtractor):
    """CNN + graph encoder over the ``MacroPlacementEnv`` observation (see module docstring)."""

    def __init__(
        self,
        observation_space: gym.spaces.Dict,
        coarse_channels: int = 32,
        fine_channels: int = 4,
        global_dim: int = 64,
        graph_hidden: int = 32,
        graph_layers: int = 2,
        use_graph: bool = True,
    ) -> None:
        in_ch, G, G2 = _shape(observation_space["grid"])
        if G != G2 or G % 8:
            raise ValueError(f"grid must be square with a side divisible by 8, got {G} x {G2}")
        self.grid_side = G
        self.coarse_side = G // 8
        self.coarse_channels, self.fine_channels, self.global_dim = coarse_channels, fine_channels, global_dim
        coarse_len = coarse_channels * self.coarse_side**2
        fine_len = fine_channels * G * G
        super().__init__(observation_space, features_dim=coarse_len + fine_len + global_dim)
        self.use_graph = use_graph
        self.fine = nn.Sequential(nn.Conv2d(in_ch, 16, 3, padding=1), nn.ReLU(), nn.Conv2d(16, fine_channels - 1, 3, padding=1), nn.ReLU())
        self.down = nn.Sequential(
            nn.Conv2d(in_ch, 16, 3, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(16, 32, 3, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(32, coarse_channels, 3, stride=2, padding=1), nn.ReLU(),
        )
        node_features = _shape(observation_space["graph_nodes"])[1]
        self.graph = GraphEncoder(node_features, graph_hidden, graph_layers)
        vec_dim = _shape(observation_space["macro"])[0] + _shape(observation_space["design"])[0]
        self.global_mlp = nn.Sequential(
            nn.Linear(vec_dim + self.graph.out_dim + coarse_channels, global_dim), nn.ReLU(),
            nn.Linear(global_dim, global_dim), nn.ReLU(),
        )

    def forward(self, obs: dict[str, torch.Tensor]) -> torch.Tensor:
        grid = obs["grid"]
        B = grid.shape[0]
        coarse = self.down(grid)
        fine = torch.cat([self.fine(grid), grid[:, WIREMASK_CHANNEL : WIREMASK_CHANNEL + 1]], dim=1)
        if self.use_graph:
            g = self.graph(obs["graph_nodes"], obs["graph_edges"], obs["graph_edge_weight"])
        else:
            g = torch.zeros(B, self.graph.out_dim, device=grid.device)
        pooled = coarse.mean(dim=(2, 3))
        glob = self.global_mlp(torch.cat([obs["macro"], obs["design"], g, pooled], dim=1))
        return torch.cat([coarse.flatten(1), fine.flatten(1), glob], dim=1)

    def split(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Inverse of the concatenation: ``(coarse (B,C,s,s), fine (B,F,G,G), global (B,D))``."""
        B, s, G = z.shape[0], self.coarse_side, self.grid_side
        a = self.coarse_channels * s * s
        b = a + self.fine_channels * G * G
        return (
            z[:, :a].view(B, self.coarse_channels, s, s),
            z[:, a:b].view(B, self.fine_channels, G, G),
            z[:, b:],
        )
