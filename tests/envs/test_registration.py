"""The ids ``envs`` registers: their flags, and making them in spawned vector-env workers."""

from __future__ import annotations

import functools

import gymnasium as gym
import numpy as np
from gymnasium.vector import AsyncVectorEnv

import envs  # noqa: F401  (registers the ids in this process only)


def test_a_spawned_worker_makes_the_env_from_the_envs_colon_id() -> None:
    """A spawned worker (SB3's SubprocVecEnv with spawn or forkserver, AsyncVectorEnv with
    context="spawn": macOS's default) starts a fresh interpreter that runs ``import envs`` only
    when the main script does so at its top level (here pytest's does not), so "placer/..." may
    be unknown there; "envs:placer/..." imports envs first (as docs/setup.md says)."""
    make = functools.partial(gym.make, "envs:placer/IndexTuning-v0", datasets=("uniform",), mode="cost",
                             keys=1_000, queries=100)
    vec = AsyncVectorEnv([make, make], context="spawn")
    try:
        obs, _ = vec.reset(seed=0)
        assert obs.shape == (2, *vec.single_observation_space.shape)  # type: ignore[misc]
        _, rewards, *_ = vec.step(np.zeros((2, *vec.single_action_space.shape), np.float32))  # type: ignore[misc]
        assert np.isfinite(rewards).all()
    finally:
        vec.close()


def test_the_timed_envs_are_registered_nondeterministic() -> None:
    """ConfigTuning-v0 times a database and IndexTuning-v0 times lookups by default: the same
    seed and actions may give other rewards, which the registry said they never would.
    MacroPlacement-v0's rewards follow from the seed and the actions."""
    flags = {name: gym.spec(f"placer/{name}").nondeterministic
             for name in ("ConfigTuning-v0", "IndexTuning-v0", "MacroPlacement-v0")}
    assert flags == {"ConfigTuning-v0": True, "IndexTuning-v0": True, "MacroPlacement-v0": False}
