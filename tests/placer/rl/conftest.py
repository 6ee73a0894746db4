"""Observation batches of real designs, as the policy receives them, for the RL tests."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from envs.macro_placement import MacroPlacementEnv
from placer.rl.config import TrainConfig
from placer.rl.train import load_designs

#: The built-in designs the batches come from: the embedded generated one and the real ariane133.
DESIGNS = ("default", "ariane133")


def _episode_start(env: MacroPlacementEnv, design: int, steps: int, seed: int) -> list[dict[str, np.ndarray]]:
    """The observations of an episode of ``design``'s first ``steps`` + 1 steps, legal cells
    drawn at random (so the grid, the current macro and the node features move)."""
    obs, _ = env.reset(seed=seed, options={"design": design})
    seen = [obs]
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        obs, *_ = env.step(int(rng.choice(np.flatnonzero(env.action_masks()))))
        seen.append(obs)
    return seen


def _batch(rows: list[dict[str, np.ndarray]]) -> dict[str, torch.Tensor]:
    """Rows stacked into float tensors, as stable-baselines3's preprocessing hands them over."""
    return {key: torch.as_tensor(np.stack([row[key] for row in rows])).float() for key in rows[0]}


@pytest.fixture(scope="session")
def real_batches() -> dict[str, dict[str, torch.Tensor]]:
    """Four rows of each of ``default`` and ``ariane133`` (`placer train`'s default env
    settings), and a mixed batch of both designs' rows interleaved (a multi-design run's)."""
    config = TrainConfig(out="unused", netlists=list(DESIGNS))
    env = MacroPlacementEnv(designs=load_designs(config), **config.env_kwargs())
    rows = {name: _episode_start(env, index, 3, seed=index) for index, name in enumerate(DESIGNS)}
    mixed = [row for pair in zip(rows["default"], rows["ariane133"], strict=True) for row in pair]
    return {**{name: _batch(found) for name, found in rows.items()}, "mixed": _batch(mixed)}
