"""The policy's feature extractor against the observation the environment builds."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import placer.rl.features as features
from envs.macro_placement import MacroPlacementEnv
from envs.macro_placement_obs import GRID_CHANNELS
from netlists.generate import generate
from placer.rl.features import (
    CURRENT_COLUMN,
    VALID_COLUMN,
    WIREMASK_CHANNEL,
    GraphEncoder,
    graph_groups,
    mean_adjacency,
)


def test_the_columns_and_channel_the_encoder_reads_are_the_envs() -> None:
    """Hard-coded indices: a reordered observation would have been read silently wrong."""
    assert GRID_CHANNELS[WIREMASK_CHANNEL] == "wiremask"
    env = MacroPlacementEnv(generate(5, 10, 4, seed=0), max_grid=16, max_nodes=8, max_edges=16)
    obs, _ = env.reset(seed=0)
    nodes = obs["graph_nodes"]
    assert nodes[:5, VALID_COLUMN].tolist() == [1.0] * 5 and not nodes[5:, VALID_COLUMN].any()
    assert nodes[:, CURRENT_COLUMN].sum() == 1.0


def test_one_edge_slot_is_refused() -> None:
    """max_edges=1 kept no edge at all (an undirected edge takes two slots), unsaid."""
    with pytest.raises(ValueError, match="max_edges must be a whole number >= 2, got 1"):
        MacroPlacementEnv(generate(2, 4, 2, seed=0), max_edges=1)


def test_messages_are_a_weighted_mean_however_small_the_weights() -> None:
    """Incoming weights summing under 1e-6 were divided by 1e-6: messages shrank, not averaged."""
    torch.manual_seed(0)
    encoder = GraphEncoder(node_features=8)
    nodes = torch.zeros(1, 3, 8)
    nodes[0, :, VALID_COLUMN] = 1.0
    nodes[0, :, 1:4] = torch.rand(3, 3)
    edges = torch.tensor([[[0, 1, 1, 2], [1, 0, 2, 1]]])
    weights = torch.tensor([[1.0, 1.0, 0.5, 0.5]])
    np.testing.assert_allclose(encoder(nodes, edges, weights).detach().numpy(),
                               encoder(nodes, edges, weights * 1e-8).detach().numpy(), rtol=1e-5, atol=1e-6)


def _per_row_reference(encoder: GraphEncoder, nodes: torch.Tensor, edges: torch.Tensor,
                       weight: torch.Tensor) -> torch.Tensor:
    """The encoder's forward as it was before rows sharing a graph were grouped (kept here as
    the reference): one block-diagonal edge list of every row, a message gathered per edge."""
    B, N, _ = nodes.shape
    valid = nodes[..., VALID_COLUMN : VALID_COLUMN + 1]
    current = nodes[..., CURRENT_COLUMN : CURRENT_COLUMN + 1]
    h = torch.relu(encoder.embed(nodes)) * valid
    offset = (torch.arange(B) * N).view(B, 1)
    keep = weight.reshape(-1) != 0
    src = (edges[:, 0].long() + offset).reshape(-1)[keep]
    dst = (edges[:, 1].long() + offset).reshape(-1)[keep]
    w = weight.reshape(-1)[keep].reshape(-1, 1)
    norm = torch.zeros(B * N, 1).index_add_(0, dst, w)
    norm = torch.where(norm > 0, norm, torch.ones_like(norm))
    for lin_self, lin_nbr in zip(encoder.self_layers, encoder.nbr_layers, strict=True):
        flat = h.reshape(B * N, -1)
        agg = torch.zeros_like(flat).index_add_(0, dst, flat[src] * w) / norm
        h = torch.relu(lin_self(flat) + lin_nbr(agg)).view(B, N, -1) * valid
    mean = h.sum(1) / valid.sum(1).clamp_min(1.0)
    cur = (h * current).sum(1)
    return torch.cat([mean, cur], dim=1)


def _output_and_gradients(forward, encoder: GraphEncoder, nodes: torch.Tensor, edges: torch.Tensor,
                          weight: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """``forward``'s output and the gradients of a loss over it wrt the node features and
    every weight of ``encoder``."""
    encoder.zero_grad()
    nodes = nodes.clone().requires_grad_(True)
    out = forward(nodes, edges, weight)
    (out * torch.linspace(-1.0, 2.0, out.numel()).view_as(out)).sum().backward()
    return out.detach(), [nodes.grad, *(p.grad.clone() for p in encoder.parameters())]


def _assert_close(new: torch.Tensor, old: torch.Tensor, relative: float) -> None:
    """``new`` equals ``old`` within ``relative`` of ``old``'s largest magnitude, element by element."""
    torch.testing.assert_close(new, old, rtol=relative, atol=relative * float(old.detach().abs().max()))


@pytest.mark.parametrize("batch", ["default", "ariane133", "mixed"])
def test_grouped_rows_give_the_per_row_outputs_and_gradients(real_batches, batch: str) -> None:
    """On real observations (one design's rows; both designs' interleaved) the encoder equals
    the per-row form it replaced within float rounding: its output, and the gradients wrt the
    node features and every Linear weight, in the rows' order."""
    obs = real_batches[batch]
    torch.manual_seed(0)
    encoder = GraphEncoder(obs["graph_nodes"].shape[-1])
    args = (obs["graph_nodes"], obs["graph_edges"], obs["graph_edge_weight"])
    new, new_grads = _output_and_gradients(encoder, encoder, *args)
    old, old_grads = _output_and_gradients(lambda *a: _per_row_reference(encoder, *a), encoder, *args)
    _assert_close(new, old, 1e-5)
    for new_grad, old_grad in zip(new_grads, old_grads, strict=True):
        _assert_close(new_grad, old_grad, 1e-5)


def test_rows_sharing_a_graph_gather_no_message_per_edge_and_row(real_batches, monkeypatch) -> None:
    """The per-row form gathered a hidden vector per kept edge and row (ariane133's 1,718 edges
    x 256 rows x 32 floats a layer, forward and backward) and summed them with ``index_add_``;
    rows with one graph now aggregate with one sparse product: the only sum over edges left is
    the graph's normalisation, over one row's kept edges (each design's in a mixed batch)."""
    summed: list[int] = []
    index_add = torch.Tensor.index_add_
    monkeypatch.setattr(torch.Tensor, "index_add_", lambda t, dim, index, source: (
        summed.append(index.numel()), index_add(t, dim, index, source))[1])
    kept = {name: int((real_batches[name]["graph_edge_weight"][0] != 0).sum()) for name in ("default", "ariane133")}
    for batch, expected in (("ariane133", {kept["ariane133"]}), ("mixed", set(kept.values()))):
        obs = real_batches[batch]
        encoder = GraphEncoder(obs["graph_nodes"].shape[-1])
        summed.clear()
        encoder(obs["graph_nodes"], obs["graph_edges"], obs["graph_edge_weight"]).sum().backward()
        assert set(summed) == expected, batch


def test_graphs_beyond_the_group_limit_take_the_per_row_path_in_order(real_batches, monkeypatch) -> None:
    """With room for one group only, a mixed batch's first design is grouped and the other's
    rows go the per-row path; the rows come back in their own order."""
    monkeypatch.setattr(features, "MAX_GRAPH_GROUPS", 1)
    obs = real_batches["mixed"]
    groups, rest = graph_groups(obs["graph_edges"], obs["graph_edge_weight"], 1)
    assert [g.tolist() for g in groups] == [[0, 2, 4, 6]] and rest.tolist() == [1, 3, 5, 7]
    torch.manual_seed(0)
    encoder = GraphEncoder(obs["graph_nodes"].shape[-1])
    args = (obs["graph_nodes"], obs["graph_edges"], obs["graph_edge_weight"])
    _assert_close(encoder(*args), _per_row_reference(encoder, *args), 1e-5)


def test_a_graph_of_65536_nodes_is_aggregated_sparse() -> None:
    """max_nodes may reach 65,536 (placer.rl.memory's cap): a dense (N x N) adjacency would be
    16 GiB. Two rows of one graph of that size, a ring over its first 1,000 nodes, encode as the
    per-row form does."""
    torch.manual_seed(0)
    N, ring = 65_536, 1_000
    nodes = torch.zeros(2, N, 8)
    nodes[:, :ring, VALID_COLUMN] = 1.0
    nodes[:, :ring, 1:4] = torch.rand(2, ring, 3)
    nodes[0, 5, CURRENT_COLUMN] = nodes[1, 17, CURRENT_COLUMN] = 1.0
    src = torch.arange(ring)
    edges = torch.stack([torch.cat([src, (src + 1) % ring]), torch.cat([(src + 1) % ring, src])]).float()
    edges = torch.cat([edges, torch.zeros(2, 48)], dim=1).expand(2, -1, -1)  # (padding slots too)
    weight = torch.cat([torch.rand(2 * ring), torch.zeros(48)]).expand(2, -1)
    encoder = GraphEncoder(8)
    _assert_close(encoder(nodes, edges, weight), _per_row_reference(encoder, nodes, edges, weight), 1e-5)
    assert mean_adjacency(edges[0], weight[0], N).is_sparse


@pytest.mark.parametrize("grouped", [False, True])
def test_padding_edges_are_never_gathered_and_change_nothing(monkeypatch, grouped: bool) -> None:
    """The weight-0 padding slots (58 % of ariane133's) were gathered and summed in every layer:
    two (B x E) x hidden tensors each for nothing. Left out, the output and the gradients are
    those of the graph without them, exactly, in the per-row path (rows of different graphs
    beyond the group limit) and the grouped one (each row's graph a sparse matrix of its kept
    edges only: the normalisation's sum is over its three)."""
    torch.manual_seed(0)
    encoder = GraphEncoder(node_features=8)
    encoder.group_by_graph = grouped
    nodes = torch.zeros(2, 4, 8)
    nodes[:, :, VALID_COLUMN] = 1.0
    nodes[:, :, 1:4] = torch.rand(2, 4, 3)
    real = torch.tensor([[[0, 1, 2], [1, 2, 3]], [[3, 2, 1], [0, 0, 0]]])
    padded = torch.cat([real, torch.zeros(2, 2, 5, dtype=torch.long)], dim=2)
    weights = torch.tensor([[1.0, 0.5, 0.25], [0.75, 1.0, 0.5]])
    padded_weights = torch.cat([weights, torch.zeros(2, 5)], dim=1)
    gathered = []
    index_add = torch.Tensor.index_add_
    monkeypatch.setattr(torch.Tensor, "index_add_", lambda t, dim, index, source: (
        gathered.append(index.numel()), index_add(t, dim, index, source))[1])
    plain = encoder(nodes, real, weights)
    plain.sum().backward()
    plain_grads = [p.grad.clone() for p in encoder.parameters()]
    encoder.zero_grad()
    with_padding = encoder(nodes, padded, padded_weights)
    with_padding.sum().backward()
    assert torch.equal(plain, with_padding)
    assert all(torch.equal(a, p.grad) for a, p in zip(plain_grads, encoder.parameters(), strict=True))
    assert set(gathered) == ({3} if grouped else {6})  # the real edges, in every index_add_ of both calls


@pytest.mark.parametrize("grouped", [False, True])
@pytest.mark.parametrize("change", ["normalised", "one past the last node", "negative", "not a number"])
def test_edges_that_are_no_node_indices_are_refused_naming_norm_obs_keys(
    real_batches, grouped: bool, change: str
) -> None:
    """VecNormalize(norm_obs=True) normalises graph_edges too, and ``.long()`` truncated the
    rescaled indices (mostly to node 0) without a word: edges that are not whole node indices
    of the padded graph are refused, in both paths, naming the remedy."""
    batch = real_batches["default"]
    nodes, edges, weight = batch["graph_nodes"], batch["graph_edges"].clone(), batch["graph_edge_weight"]
    N = nodes.shape[1]
    if change == "normalised":  # (as VecNormalize's running mean and variance make them)
        edges = (edges - edges.mean()) / edges.std()
    else:
        edges[:, 1, 0] = {"one past the last node": N, "negative": -1, "not a number": float("nan")}[change]
    assert weight[:, 0].all()  # (the changed slot is a real edge, not padding)
    encoder = GraphEncoder(node_features=nodes.shape[2])
    encoder.group_by_graph = grouped
    with pytest.raises(ValueError, match=r"^graph_edges must hold whole node indices from 0 to \d+, got .*norm_obs_keys"):
        encoder(nodes, edges, weight)


def test_int_and_whole_float_edges_give_the_same_encoding(real_batches) -> None:
    """The check lets through what the env gives (int64) and SB3's float copy of it alike."""
    batch = real_batches["mixed"]
    encoder = GraphEncoder(node_features=batch["graph_nodes"].shape[2])
    as_float = encoder(batch["graph_nodes"], batch["graph_edges"], batch["graph_edge_weight"])
    as_int = encoder(batch["graph_nodes"], batch["graph_edges"].long(), batch["graph_edge_weight"])
    assert torch.equal(as_float, as_int)


def test_training_under_vec_normalize_needs_norm_obs_keys() -> None:
    """The audit's case: MaskablePPO with the placement policy under VecNormalize(norm_obs=True)
    trained on edges all joined to node 0; now it stops with the remedy, and the keys the env's
    documentation names (macro, design) train."""
    from sb3_contrib import MaskablePPO
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.logger import Logger
    from stable_baselines3.common.vec_env import VecNormalize

    from placer.rl.policy import PlacementPolicy

    settings = {"netlist": generate(4, 8, 4, seed=0), "max_grid": 16, "max_nodes": 8, "max_edges": 32,
                "soft_placement": "keep"}

    def model(**normalise: object) -> MaskablePPO:
        vec = VecNormalize(make_vec_env(MacroPlacementEnv, n_envs=2, seed=0, env_kwargs=settings),
                           norm_reward=False, **normalise)
        ppo = MaskablePPO(PlacementPolicy, vec, n_steps=8, batch_size=8, n_epochs=1, seed=0, device="cpu")
        ppo.set_logger(Logger(folder=None, output_formats=[]))  # (SB3's own left /tmp/SB3-<time> folders)
        return ppo

    refused = model(norm_obs=True)
    with pytest.raises(ValueError, match="norm_obs_keys=\\['macro', 'design'\\]"):
        refused.learn(16)
    trained = model(norm_obs=True, norm_obs_keys=["macro", "design"]).learn(16)
    for ppo in (refused, trained):  # their logs went nowhere: no folder made
        assert ppo.logger.get_dir() is None and ppo.logger.output_formats == []
