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
embedding with zeros (ablation). The rows of a batch that share a graph (one design's) aggregate
with one sparse matrix product (:class:`GraphEncoder`). Edges that are not whole node indices
(an observation normaliser's output) are refused (:func:`node_indices`).
"""

from __future__ import annotations

import gymnasium as gym
import torch
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor
from torch import nn

#: The memory layout of the policy's convolution weights and of the grid they read. Channels
#: last (NHWC) lets oneDNN's convolutions skip their layout conversions: a PPO update step takes
#: 0.74-0.83 x the time of the contiguous (NCHW) layout on the default design, ariane133 and
#: both mixed, at 64 and 256 rows (``experiments/results/policy_update_speed.md``). Only
#: strides change: every tensor keeps its logical (N, C, H, W) order, so models saved in either
#: layout load into the other (``load_state_dict`` copies values into the layout of the
#: parameters it fills) and a saved Adam state in the other layout steps as before.
CONV_MEMORY_FORMAT = torch.channels_last
WIREMASK_CHANNEL = 2  # index in envs.macro_placement_obs.GRID_CHANNELS (checked by the tests)
#: Columns of envs.macro_placement_obs's node features the encoder reads: the node is a real one
#: (not padding), and it is the macro being placed now.
VALID_COLUMN, CURRENT_COLUMN = 0, 7


#: The most distinct graphs :class:`GraphEncoder` groups a batch's rows by (one sparse product
#: each); the rows of any further graphs take the per-row path together. One design's batches
#: have one graph; a multi-design run's have one per design in the minibatch.
MAX_GRAPH_GROUPS = 8


class GraphEncoder(nn.Module):
    """Weighted mean message passing over a batch of padded graphs (pure torch).

    The rows of a batch that carry the same graph (edge list and weights: every row of a
    single-design run's minibatch) are encoded together, aggregating with one sparse
    ``(max_nodes x max_nodes)`` mean adjacency of their graph multiplied against their node
    embeddings laid out ``(max_nodes, rows x hidden)``, never a dense one. The per-row path
    gathers one message per kept edge and row, a ``(rows x edges, hidden)`` tensor a layer
    (ariane133: 1,718 kept edges x 256 rows), and sums them with ``index_add_``: grouped, a PPO
    update step on a 256-row ariane133 minibatch takes 0.84 x the time, on the default design
    (94 edges) 0.97 x (``experiments/results/policy_update_speed.md``). The two paths differ only
    in summation order (float rounding). ``group_by_graph = False`` sends every row through the
    per-row path (the form before; the tests and that benchmark compare the two).
    """

    def __init__(self, node_features: int, hidden: int = 32, layers: int = 2) -> None:
        super().__init__()
        self.embed = nn.Linear(node_features, hidden)
        self.self_layers = nn.ModuleList(nn.Linear(hidden, hidden) for _ in range(layers))
        self.nbr_layers = nn.ModuleList(nn.Linear(hidden, hidden, bias=False) for _ in range(layers))
        self.out_dim = 2 * hidden
        self.group_by_graph = True

    def forward(self, nodes: torch.Tensor, edges: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
        """``nodes (B, N, F)``, ``edges (B, 2, E)``, ``weight (B, E)`` -> ``(B, 2 * hidden)``."""
        if not self.group_by_graph or nodes.shape[0] == 0:
            return self._per_row(nodes, edges, weight)
        groups, rest = graph_groups(edges, weight, MAX_GRAPH_GROUPS)
        if len(groups) == 1 and rest.numel() == 0:  # (a single-design batch: no reordering)
            return self._one_graph(nodes, edges[0], weight[0])
        parts = [self._one_graph(nodes[rows], edges[rows[0]], weight[rows[0]]) for rows in groups]
        if rest.numel():
            parts.append(self._per_row(nodes[rest], edges[rest], weight[rest]))
            groups.append(rest)
        return torch.cat(parts)[torch.argsort(torch.cat(groups))]

    def _one_graph(self, nodes: torch.Tensor, edges: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
        """:meth:`forward` of rows that all carry the graph ``edges (2, E)``, ``weight (E,)``."""
        B, N, _ = nodes.shape
        adjacency = mean_adjacency(edges, weight, N)
        by_node = nodes.transpose(0, 1)  # (N, B, F): a node's rows side by side, so that one
        # (N x N) product aggregates every row, its right-hand side (N, B x hidden) a plain view
        valid = by_node[..., VALID_COLUMN : VALID_COLUMN + 1]
        current = by_node[..., CURRENT_COLUMN : CURRENT_COLUMN + 1]
        h = torch.relu(self.embed(by_node)) * valid
        for lin_self, lin_nbr in zip(self.self_layers, self.nbr_layers, strict=True):
            agg = torch.sparse.mm(adjacency, h.reshape(N, -1)).view(N, B, -1)
            h = torch.relu(lin_self(h) + lin_nbr(agg)) * valid
        mean = h.sum(0) / valid.sum(0).clamp_min(1.0)
        cur = (h * current).sum(0)
        return torch.cat([mean, cur], dim=1)

    def _per_row(self, nodes: torch.Tensor, edges: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
        """:meth:`forward` over one block-diagonal edge list of all rows (any graphs)."""
        B, N, _ = nodes.shape
        valid = nodes[..., VALID_COLUMN : VALID_COLUMN + 1]
        current = nodes[..., CURRENT_COLUMN : CURRENT_COLUMN + 1]
        h = torch.relu(self.embed(nodes)) * valid
        # the padding edges (weight 0, 58 % of ariane133's 4,096 slots) carry nothing: left out,
        # they no longer cost two (B x E) x hidden tensors a layer (`placer train --netlist
        # ariane133 --timesteps 2048 --set n_steps=512`: 90.8 / 93.8 s -> 75.7 / 72.8 s, old and
        # new code alternated on an idle machine, all 83 policy tensors bit-identical)
        keep = weight.reshape(-1) != 0
        kept = keep.nonzero().flatten()  # (row * E + slot of each kept edge, in order)
        offset = kept.div(edges.shape[2], rounding_mode="floor") * N  # (its row's first node)
        src = node_indices(edges[:, 0].reshape(-1)[kept], N) + offset
        dst = node_indices(edges[:, 1].reshape(-1)[kept], N) + offset
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


def graph_groups(edges: torch.Tensor, weight: torch.Tensor, max_groups: int) -> tuple[list[torch.Tensor], torch.Tensor]:
    """The batch's rows grouped by graph: up to ``max_groups`` index tensors, each of the rows
    whose ``edges (B, 2, E)`` and ``weight (B, E)`` equal (by ``==``) those of its first row,
    in the order of their first rows, and the rows left over (of further graphs)."""
    B = edges.shape[0]
    flat_edges = edges.reshape(B, -1)
    if _rows_equal(flat_edges) and _rows_equal(weight):  # (the common case, checked without
        # the masks below: 5 ms, not 9, on a 256-row minibatch)
        return [torch.arange(B, device=edges.device)], torch.zeros(0, dtype=torch.long, device=edges.device)
    unassigned = torch.ones(B, dtype=torch.bool, device=edges.device)
    groups: list[torch.Tensor] = []
    while len(groups) < max_groups:
        left = unassigned.nonzero().flatten()
        if left.numel() == 0:
            break
        first = left[0]
        same = unassigned & (flat_edges == flat_edges[first]).all(1) & (weight == weight[first]).all(1)
        same[first] = True  # (a row holding NaN equals not even itself: a group of its own)
        groups.append(same.nonzero().flatten())
        unassigned &= ~same
    return groups, unassigned.nonzero().flatten()


def _rows_equal(batch: torch.Tensor) -> bool:
    """Whether every row of ``batch`` equals its first (by ``==``)."""
    return torch.equal(batch, batch[:1].expand_as(batch))


def mean_adjacency(edges: torch.Tensor, weight: torch.Tensor, n_nodes: int) -> torch.Tensor:
    """The sparse ``(n_nodes x n_nodes)`` matrix that averages a node's incoming messages: entry
    ``(dst, src)`` is the edge's weight over the sum of ``dst``'s incoming weights (a node with
    none, or only weight-0 padding slots, gets no entry: a zero message). ``edges (2, E)`` (the
    observation's, source then destination, float or int) and ``weight (E,)``; never dense."""
    keep = weight != 0
    src, dst, w = node_indices(edges[0][keep], n_nodes), node_indices(edges[1][keep], n_nodes), weight[keep]
    norm = torch.zeros(n_nodes, dtype=w.dtype, device=w.device).index_add_(0, dst, w)
    norm = torch.where(norm > 0, norm, torch.ones_like(norm))
    return torch.sparse_coo_tensor(
        torch.stack([dst, src]), w / norm[dst], (n_nodes, n_nodes), check_invariants=True
    ).coalesce()


def node_indices(values: torch.Tensor, n_nodes: int) -> torch.Tensor:
    """``values`` (an observation's ``graph_edges``, float as SB3 hands them over, or int) as
    node indices (int64), refused unless each is a whole number from 0 to ``n_nodes - 1``:
    ``.long()`` alone truncated the edges an observation normaliser had rescaled (SB3's
    ``VecNormalize(norm_obs=True)`` normalises every key), silently joining them all to node 0.
    A few comparisons per real edge: on 256-row batches the per-row path's index preparation
    took 7.0 / 18.5 ms against 11.2 / 18.4 ms before (default design / ariane133, it now gathers
    the real edges before converting them) and a forward pass as long as before, within noise."""
    indices = values.long()
    bad = (indices < 0) | (indices >= n_nodes)
    if values.is_floating_point():
        bad |= indices != values  # (NaN and values past int64 too)
    if bool(bad.any()):
        value = values[bad].flatten()[0].item()
        raise ValueError(
            f"graph_edges must hold whole node indices from 0 to {n_nodes - 1}, got {value!r}: an "
            "observation normaliser rescaled them? SB3's VecNormalize(norm_obs=True) normalises every "
            "key; give it norm_obs_keys=['macro', 'design'] (graph_edges, graph_edge_weight and "
            "graph_nodes must stay as the env gives them: help(envs.macro_placement))"
        )
    return indices


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
        #: the layout the grid takes before the convolutions (:data:`CONV_MEMORY_FORMAT`; set
        #: with the weights' by :meth:`placer.rl.policy.PlacementPolicy.lay_out_convolutions`)
        self.conv_memory_format = CONV_MEMORY_FORMAT
        lay_out_convolutions(self, CONV_MEMORY_FORMAT)
        vec_dim = _shape(observation_space["macro"])[0] + _shape(observation_space["design"])[0]
        self.global_mlp = nn.Sequential(
            nn.Linear(vec_dim + self.graph.out_dim + coarse_channels, global_dim), nn.ReLU(),
            nn.Linear(global_dim, global_dim), nn.ReLU(),
        )

    def forward(self, obs: dict[str, torch.Tensor]) -> torch.Tensor:
        grid = obs["grid"].contiguous(memory_format=self.conv_memory_format)
        B = grid.shape[0]
        coarse = self.down(grid)
        fine = torch.cat([self.fine(grid), grid[:, WIREMASK_CHANNEL : WIREMASK_CHANNEL + 1]], dim=1)
        if self.use_graph:
            g = self.graph(obs["graph_nodes"], obs["graph_edges"], obs["graph_edge_weight"])
        else:
            g = torch.zeros(B, self.graph.out_dim, device=grid.device)
        pooled = coarse.mean(dim=(2, 3))
        glob = self.global_mlp(torch.cat([obs["macro"], obs["design"], g, pooled], dim=1))
        # (flatten gives the logical (C, H, W) order whatever the layout: a copy for channels last)
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


def lay_out_convolutions(module: nn.Module, memory_format: torch.memory_format) -> None:
    """Lay out the weights of every convolution and transposed convolution under ``module`` in
    ``memory_format`` (in place: the same parameter objects, so an optimiser built over them
    keeps them)."""
    for layer in module.modules():
        if isinstance(layer, nn.Conv2d | nn.ConvTranspose2d):
            layer.to(memory_format=memory_format)  # type: ignore[call-overload]  # (not in torch's stubs)
