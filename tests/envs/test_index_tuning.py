"""IndexTuning-v0: registered, passes check_env, deterministic cost mode, rewards follow the trade-off."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import envs  # noqa: F401 - registers the ids
from envs.index_tuning import IndexTuningEnv


def unit(*values: float) -> np.ndarray:
    """The env's action (a point of [-1, 1]^5) for a point of [0, 1]^5, the parameters' scale."""
    return (2.0 * np.array(values, np.float64) - 1.0).astype(np.float32)


def test_registered_and_passes_check_env():
    env = gym.make("placer/IndexTuning-v0", keys=5_000, queries=500, mode="cost")
    assert isinstance(env.unwrapped, IndexTuningEnv)
    check_env(env.unwrapped, skip_render_check=True)


def test_measured_mode_passes_check_env():
    check_env(
        IndexTuningEnv(datasets=("uniform",), keys=3_000, queries=300),  # default: measured
        skip_render_check=True,
    )


def test_observation_is_cdf_sketch_of_the_drawn_dataset():
    env = IndexTuningEnv(
        datasets=("uniform", "lognormal"), keys=10_000, queries=500, sketch_points=16
    )
    obs_uniform, info = env.reset(seed=0, options={"dataset": "uniform"})
    assert info["dataset"] == "uniform"
    assert env.observation_space.contains(obs_uniform)
    # Uniform keys: the inverse CDF is close to the diagonal; lognormal keys are far from it.
    diagonal = np.linspace(0, 1, 16)
    assert np.abs(obs_uniform[:16] - diagonal).max() < 0.05
    obs_lognormal, _ = env.reset(seed=0, options={"dataset": "lognormal"})
    assert np.abs(obs_lognormal[:16] - diagonal).max() > 0.3


def test_cost_mode_is_deterministic_and_truncates_at_horizon():
    env = IndexTuningEnv(datasets=("books",), keys=20_000, queries=2_000, horizon=2, mode="cost")
    env.reset(seed=1)
    action = unit(0.1, 0.5, 0.3, 0.5, 0.2)
    _, first, _, truncated, info = env.step(action)
    assert info["ok"] and info["config"]["kind"] == "pgm" and not truncated
    _, second, _, truncated, _ = env.step(action)
    assert first == second and truncated


def test_the_action_box_is_symmetric_as_sb3_expects():
    """On a [0, 1] box PPO's first actions (centred on 0) were clipped to each parameter's
    lowest half the time (4,096 steps: median return -10.3 against -4.7 on [-1, 1],
    experiments/results/tuning_env_actions.md): -1 is a parameter's lowest value, 0 the middle
    of [0, 1], 1 its highest."""
    import warnings

    from stable_baselines3.common.env_checker import check_env as sb3_check_env

    env = IndexTuningEnv(datasets=("books",), keys=5_000, queries=500, mode="cost")
    assert (env.action_space.low == -1).all() and (env.action_space.high == 1).all()
    env.reset(seed=0)
    space = env.space
    for action, point in ((-1.0, 0.0), (0.0, 0.5), (1.0, 1.0), (-3.0, 0.0)):  # (outside: clipped)
        info = env.step(np.full(5, action, np.float32))[4]
        assert info["config"] == space.from_unit(np.full(5, point)), action
        env.reset(seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # SB3 warned: "use a symmetric and normalized Box action space"
        sb3_check_env(IndexTuningEnv(datasets=("books",), keys=5_000, queries=500, mode="cost"))


def test_size_weight_changes_the_preferred_epsilon():
    """With a heavy size weight a large epsilon (small index) wins; with none, a small one."""
    small_eps = unit(0.1, 0.0, 0.1, 0.5, 0.2)
    large_eps = unit(0.1, 1.0, 0.1, 0.5, 0.2)
    rewards = {}
    for weight in (0.0, 1000.0):
        env = IndexTuningEnv(
            datasets=("clustered",), keys=20_000, queries=2_000, size_weight=weight, mode="cost"
        )
        env.reset(seed=0)
        rewards[weight] = (env.step(small_eps)[1], env.step(large_eps)[1])
    assert rewards[0.0][0] > rewards[0.0][1]
    assert rewards[1000.0][1] > rewards[1000.0][0]


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="mode"):
        IndexTuningEnv(mode="guess")
    with pytest.raises(ValueError, match="datasets"):
        IndexTuningEnv(datasets=())
    refused = [
        ({"datasets": ("bogus",)}, "unknown dataset 'bogus'"),
        ({"keys": 0}, "keys must be a whole number from 1 to"),
        ({"queries": 0}, "queries must be a whole number from 1 to"),
        ({"keys": 10**13}, "keys must be a whole number from 1 to 1000000000"),
        ({"datasets": 5}, "datasets must be a sequence"),
        ({"time_weight": float("nan")}, "time_weight must be a finite number"),
        ({"seed": -1}, "seed must be"),
        ({"render_mode": "human"}, "unsupported render_mode"),
        ({"sketch_points": -3}, "sketch_points must be"),
        # None, infinity and NaN get the same one line, not a raw TypeError or OverflowError
        ({"keys": None}, "keys must be a whole number from 1 to 1000000000, got None"),
        ({"seed": float("inf")}, "seed must be a whole number >= 0, got inf"),
        ({"size_weight": None}, "size_weight must be a finite number >= 0, got None"),
        ({"horizon": None}, "horizon must be a whole number >= 1, got None"),
        ({"sketch_points": float("nan")}, "sketch_points must be a whole number >= 1, got nan"),
    ]
    for setting, message in refused:
        with pytest.raises(ValueError, match=message):
            IndexTuningEnv(**setting)
    one = IndexTuningEnv(datasets="uniform", mode="cost", keys=3000, queries=500)
    assert one.reset(seed=0)[1]["dataset"] == "uniform"  # a name, not its letters


def test_non_finite_actions_are_refused_and_the_env_copies():
    import copy
    import pickle

    from learned_systems.config.knobs import KnobError

    env = IndexTuningEnv(mode="cost", keys=3000, queries=500)
    env.reset(seed=0)
    for bad in (np.nan, np.inf, -np.inf):  # infinity was clipped to a knob's end silently
        with pytest.raises(KnobError, match="action values must be finite numbers"):
            env.step(np.array([0.5, bad, 0.5, 0.5, 0.5], np.float32))
    action = np.full(5, 0.4, np.float32)
    for twin in (copy.deepcopy(env), pickle.loads(pickle.dumps(env))):
        assert twin.step(action)[1] == env.step(action)[1]


def test_a_failed_trial_is_rewarded_below_anything_seen(monkeypatch):
    """A fixed -10 for a failure paid better than a huge RMI (about -1000): failing was a
    choice worth learning."""
    env = IndexTuningEnv(mode="cost", keys=3000, queries=500, size_weight=1000.0)
    env.reset(seed=0)
    _, reward, *_ = env.step(unit(*[0.99] * 5))  # the largest RMI: a big index
    assert reward < -10
    monkeypatch.setattr(env.objective, "score", lambda result: None)
    _, failed, *_ = env.step(np.full(5, 0.5, np.float32))
    assert failed <= 2 * reward


def test_knobs_of_the_other_index_kind_do_not_change_the_measurement():
    """Actions that differ only in the RMI knobs all build the same PGM index: one measurement
    and one reward (measured rewards are noisy, so a fresh one each time would differ)."""
    env = IndexTuningEnv(datasets=("lognormal",), keys=5_000, queries=500, horizon=10)
    env.reset(seed=0)
    rewards, configs = set(), []
    for models in (0.0, 0.3, 0.6, 0.9):
        _, reward, _, _, info = env.step(unit(0.1, 0.5, 0.3, models, 0.8))
        rewards.add(reward)
        configs.append(info["config"])
    assert len(rewards) == 1
    assert len({c["num_models"] for c in configs}) == 4  # each step reports what it was asked
    assert len(env.objective._results) == 1


def test_an_unknown_dataset_in_reset_options_is_refused():
    env = IndexTuningEnv(datasets=("uniform",), keys=1_000, queries=100, mode="cost")
    with pytest.raises(ValueError, match="unknown dataset"):
        env.reset(seed=0, options={"dataset": ""})
    # a list (unhashable) gave a bare TypeError, here and in the constructor
    with pytest.raises(ValueError, match=r"unknown dataset \['uniform'\]"):
        env.reset(seed=0, options={"dataset": ["uniform"]})
    with pytest.raises(ValueError, match=r"unknown dataset \['uniform'\]"):
        IndexTuningEnv(datasets=(["uniform"],), keys=1_000, queries=100, mode="cost")
    with pytest.raises(ValueError, match=r"unknown reset options \['datset'\]"):  # a typo
        env.reset(seed=0, options={"datset": "uniform"})


def test_render_after_reset_shows_no_step_of_the_previous_episode():
    env = IndexTuningEnv(datasets=("uniform", "books"), keys=1_000, queries=100, mode="cost",
                         render_mode="ansi")
    env.reset(seed=0, options={"dataset": "uniform"})
    env.step(np.full(env.action_space.shape, 0.5, np.float32))
    env.reset(seed=0, options={"dataset": "books"})
    assert "uniform" not in env.render()


def test_an_ended_episode_takes_no_more_steps():
    """It went on stepping past its horizon (truncated=True with a reward on step 5 of 4)."""
    env = IndexTuningEnv(datasets=("uniform",), keys=1_000, queries=100, mode="cost", horizon=2)
    env.reset(seed=0)
    action = np.full(env.action_space.shape, 0.5, np.float32)
    assert not env.step(action)[3] and env.step(action)[3]
    with pytest.raises(RuntimeError, match=r"the episode ended after 2 steps: call reset\(\)"):
        env.step(action)
    env.reset(seed=0)
    env.step(action)  # a new episode steps again


def test_a_failed_trials_reward_does_not_depend_on_earlier_episodes(monkeypatch):
    """The lowest reward was kept over the env's life: the same seed and action were rewarded
    -10 in a fresh env and about -63,000 after an episode had tried a huge RMI."""
    env = IndexTuningEnv(mode="cost", keys=3000, queries=500, size_weight=1000.0, horizon=3)
    env.reset(seed=0)
    env.step(unit(*[0.99] * 5))  # a huge index, in an earlier episode
    env.reset(seed=0)
    monkeypatch.setattr(env.objective, "score", lambda result: None)
    assert env.step(np.full(5, 0.5, np.float32))[1] == -10.0  # as the episode's first step anywhere


def test_a_one_step_episode_passes_check_env():
    """horizon=1 truncated after its one step: check_env's 'something has gone very wrong'."""
    from gymnasium.utils.env_checker import check_env

    env = IndexTuningEnv(mode="cost", keys=3000, queries=500, horizon=1)
    check_env(env, skip_render_check=True)
    env.reset(seed=0)
    _, _, terminated, truncated, _ = env.step(np.full(5, 0.4, np.float32))
    assert terminated and not truncated


def test_sb3_make_vec_env_builds_it_and_rgb_array_draws_the_episode():
    """SB3's make_vec_env asks every env for render_mode="rgb_array" (retrying without it only on
    a TypeError): the env refused the mode with a ValueError, so the helper could not build it."""
    from stable_baselines3.common.env_util import make_vec_env

    vec = make_vec_env("placer/IndexTuning-v0", n_envs=2, seed=0,
                       env_kwargs=dict(datasets=("uniform",), keys=1_000, queries=100, mode="cost"))
    vec.reset()
    vec.step(np.full((2, *vec.action_space.shape), 0.5, np.float32))
    vec.close()
    env = IndexTuningEnv(datasets=("uniform",), keys=1_000, queries=100, mode="cost", render_mode="rgb_array")
    env.reset(seed=0)
    empty = env.render()
    assert empty.dtype == np.uint8 and empty.ndim == 3 and empty.shape[2] == 3
    env.step(np.full(env.action_space.shape, 0.5, np.float32))
    drawn = env.render()
    assert drawn.shape == empty.shape and not np.array_equal(drawn, empty)  # the step is drawn
    assert drawn.shape[0] % 2 == 0 and drawn.shape[1] % 2 == 0  # (417 rows made unplayable H.264 videos)
    env.reset(seed=0)
    assert np.array_equal(env.render(), empty)  # a new episode starts an empty chart


def _drawn(seed: int | np.integer, reset_seed: int | None = None) -> list[str]:
    """The datasets 20 resets of a fresh env made with ``seed`` draw (the first reset given
    ``reset_seed``)."""
    env = gym.make("placer/IndexTuning-v0", keys=2_000, queries=100, mode="cost", seed=seed)
    first = env.reset(seed=reset_seed)[1]["dataset"]
    return [first, *(env.reset()[1]["dataset"] for _ in range(19))]


def test_the_seed_seeds_the_resets_draws():
    """The docstring calls ``seed`` the seed of the resets' draws, but a reset without a seed
    drew from fresh entropy: two envs of one seed, in one process or two, drew other datasets."""
    assert _drawn(0) == _drawn(0)
    assert _drawn(0) != _drawn(1)  # (5 datasets, 20 draws: equal by chance about once in 1e14)
    assert _drawn(0, reset_seed=7) == _drawn(1, reset_seed=7)  # reset(seed=...) still reseeds
    assert _drawn(np.int64(3)) == _drawn(3)  # (a numpy integer, which the settings check takes,
    # met gymnasium's "Seed must be a python integer")
    # a vector env's copies of one seed draw alike; its reset(seed=S) seeds each its own
    vec = gym.make_vec("placer/IndexTuning-v0", num_envs=3, vectorization_mode="sync",
                       keys=2_000, queries=100, mode="cost", seed=0)
    drawn = [list(vec.reset(seed=5)[1]["dataset"]) for _ in range(1)] + [list(vec.reset()[1]["dataset"]) for _ in range(6)]
    vec.close()
    assert any(len(set(copies)) > 1 for copies in drawn), drawn


def test_the_env_keeps_the_objectives_of_its_most_recent_datasets(monkeypatch: pytest.MonkeyPatch) -> None:
    """An objective (its keys, lookups and measured results) was kept for every dataset ever
    passed to ``reset(options=...)``: a run over many key files held them all. The env keeps the
    most recent ``MOST_DATASETS``; a dropped one is made again if it comes back."""
    import envs.index_tuning as module

    monkeypatch.setattr(module, "MOST_DATASETS", 2)
    env = IndexTuningEnv(datasets=("uniform", "normal", "books"), keys=1_000, queries=100, mode="cost")
    for name in ("uniform", "normal", "uniform", "books"):
        env.reset(seed=0, options={"dataset": name})
    assert list(env._objectives) == ["uniform", "books"]
    kept = env._objectives.get("uniform")
    env.reset(seed=0, options={"dataset": "uniform"})
    assert env._objectives.get("uniform") is kept and env.objective is kept
