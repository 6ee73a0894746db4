"""The policy's feature extractor against the observation the environment builds."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from envs.macro_placement import MacroPlacementEnv
from envs.macro_placement_obs import GRID_CHANNELS
from netlists.generate import generate
from placer.rl.features import CURRENT_COLUMN, VALID_COLUMN, WIREMASK_CHANNEL, GraphEncoder


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


def test_padding_edges_are_never_gathered_and_change_nothing(monkeypatch) -> None:
    """The weight-0 padding slots (58 % of ariane133's) were gathered and summed in every layer:
    two (B x E) x hidden tensors each for nothing. Left out, the output and the gradients are
    those of the graph without them, exactly."""
    torch.manual_seed(0)
    encoder = GraphEncoder(node_features=8)
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
    assert set(gathered) == {6}  # the six real edges, in every index_add_ of both calls
