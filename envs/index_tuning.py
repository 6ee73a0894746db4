"""``placer/IndexTuning-v0``: pick a learned index and its parameters for a key distribution.

Thin adapter over :class:`learned_systems.objectives.IndexObjective`. Each reset draws a
dataset among ``datasets`` (by the env's generator, seeded with ``seed`` when the env is made,
so one ``seed`` draws the same datasets in every process; ``reset(seed=S)`` reseeds it;
``reset(options={"dataset": name})`` picks one, the only
reset option, and may name any known distribution or SOSD key file: a held-out one to test a
trained policy on; a dataset is a generator's name of :data:`learned_systems.datasets.GENERATORS`
or the path of a SOSD key file, read as :func:`learned_systems.datasets.load_keys` reads it)
and observes its CDF sketch plus the last choice (in ``[0, 1]`` per parameter); each step
decodes the action (a point of ``[-1, 1]^5``, one dimension per knob of the default space:
kind, epsilon, recursive epsilon, models, root; a ``space`` of one's own has its own knobs),
each mapped linearly onto ``[0, 1]`` and from there onto its parameter's values as the knob
space does: the two choices of ``kind`` and of ``root`` binned (0 picks the second), the
numbers log-scaled, -1 their lowest; finite values outside are clipped to it, as a Gaussian
policy's are) into index parameters, builds and evaluates the index, and rewards
``-(time_weight * relative lookup time + size_weight * index size in % of the keys)``. The box
is symmetric, as stable-baselines3 expects: PPO's first actions centre on 0, and on a
``[0, 1]`` box half of their values were clipped to each parameter's lowest, its untrained
policy's choice (PPO, 4,096 steps, three seeds: median deterministic return -10.3 on ``[0, 1]``
against -4.7 on ``[-1, 1]``; much of that lead is where the untrained policy starts, which
training did not move on two seeds of three; ``experiments/results/tuning_env_actions.md``).
Rewards span orders of magnitude (about -1 for a good PGM, below -1,000 for the largest RMIs,
whose size is counted in % of the keys): SB3's defaults learn better on them normalised
(``VecNormalize(norm_reward=True)``). ``info`` holds ``config``, ``ok``, ``error`` and
``dataset`` (its label: a generator's name, a key file's name; reset's info too), and for a trial that ran ``relative_time`` (``mode="cost"``: relative search
steps), ``size_pct``, ``max_error``, ``size_bytes``, ``build_seconds`` and ``mode``.
``mode="cost"`` counts search steps instead of timing, so rewards are deterministic (tests);
``mode="measured"`` (default, so the id is registered ``nondeterministic=True``) times lookups
against searchsorted (each configuration measured
once per dataset and reused, so equal actions give equal rewards;
a failed trial aside: it is rewarded below anything seen so far in the episode, see
:data:`FAILED_TRIAL_REWARD`). Measured rewards hold with at most one timing process per core:
six envs vectorised on two cores read one action from -0.3 to -4.0 (preemption between the two
timings skews their ratio); vectorise with ``mode="cost"``, or no more envs than cores.
An episode is truncated after ``horizon`` steps (terminated with ``horizon=1``: a bandit).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np

from learned_systems.config.knobs import KnobSpace
from learned_systems.datasets import cdf_sketch, check_dataset, dataset_label
from learned_systems.objectives import (
    IndexObjective,
    MemoizedObjective,
    check_index_settings,
    check_index_space,
    index_space,
)
from learned_systems.plots import episode_rewards_image
from learned_systems.validation import whole_number
from netlists.errors import InputError
from netlists.lru import LruCache

#: A failed trial's reward is at most this and at most twice the lowest reward seen so far in
#: the episode (a huge RMI scores about -1000 with the default weights: a fixed -10 made failing
#: pay; counted over the env's whole life, the same seed and actions were rewarded differently
#: after another episode had tried a huge index).
FAILED_TRIAL_REWARD = -10.0

#: Datasets whose objective (keys, lookups, measured results) an env keeps at once; more than
#: the built-in generators, so an env over them never drops one.
MOST_DATASETS = 8


class IndexTuningEnv(gym.Env):
    """Choose a learned index and its parameters for a key set: each step builds the index an
    action decodes to over the episode's dataset and rewards its lookup time and size (see the
    module's docstring for the spaces, the reward and ``info``; ``__init__``'s for the
    arguments). Made by ``gym.make("placer/IndexTuning-v0", ...)``."""

    metadata = {"render_modes": ["ansi", "rgb_array"], "render_fps": 1}

    def __init__(
        self,
        datasets: Sequence[str | os.PathLike[str]] = ("lognormal", "uniform", "books", "normal", "clustered"),
        keys: int = 100_000,
        queries: int = 10_000,
        mode: str = "measured",
        time_weight: float = 1.0,
        size_weight: float = 1.0,
        horizon: int = 4,
        sketch_points: int = 32,
        seed: int = 0,
        render_mode: str | None = None,
        space: KnobSpace | None = None,
    ) -> None:
        """Args (defaults in brackets; sized for quick episodes: ``placer tune --system index``
        and :class:`~learned_systems.objectives.IndexObjective` default to 1,000,000 keys and
        100,000 queries):
            datasets: key distributions or SOSD key files drawn at each reset [the five
                generators: lognormal, uniform, books, normal, clustered].
            keys: keys per dataset [100,000]. queries: lookups timed per trial [10,000].
            mode: "measured" (lookups timed against searchsorted) or "cost" (search steps
                counted: deterministic) ["measured"].
            time_weight, size_weight: the reward's weights on relative lookup time and on the
                index size in % of the keys [1.0, 1.0].
            horizon: steps per episode [4]. sketch_points: points of the CDF sketch [32].
            seed: seed of the datasets, the queries and the resets' draws [0] (the copies of a
                vector env made with one seed draw alike: give its ``reset(seed=S)``, which
                seeds copy i with S + i, or each copy its own seed).
            render_mode: None, "ansi" or "rgb_array" [None].
            space: the index kinds and parameters chosen among, one action dimension per knob
                [``index_space()``: PGM and RMI, the five dimensions above]; e.g.
                ``index_space(("pgm", "rmi", "mine"))`` with a kind of one's own registered.
        """
        if isinstance(datasets, str | os.PathLike):  # one name or path, not its letters
            datasets = (datasets,)
        try:
            datasets = tuple(datasets)
        except TypeError:
            raise InputError(
                f"datasets must be a sequence of dataset names, got {datasets!r}"
            ) from None
        if not datasets:
            raise InputError("datasets must name at least one key distribution")
        whole_number("horizon", horizon, 1)
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise InputError(f"unsupported render_mode {render_mode!r}: expected None, 'ansi' or 'rgb_array'")
        check_index_settings(datasets, keys, queries, mode, time_weight, size_weight, seed)
        whole_number("sketch_points", sketch_points, 1)
        space = index_space() if space is None else space
        check_index_space(space, mode)
        self.datasets = tuple(datasets)
        self._objective_args: dict[str, Any] = dict(
            keys=keys,
            queries=queries,
            seed=seed,
            mode=mode,
            time_weight=time_weight,
            size_weight=size_weight,
            space=space,
        )
        self.space = space
        # the resets' draws seeded by ``seed`` (gymnasium seeds only on reset(seed=...): the
        # datasets drawn without one came from fresh entropy, other ones in every process)
        # (int: gymnasium refuses numpy's integers, which check_index_settings takes)
        self._np_random, self._np_random_seed = gym.utils.seeding.np_random(int(seed))
        self.horizon = int(horizon)
        self.sketch_points = int(sketch_points)
        self.render_mode = render_mode
        size = len(self.space.knobs)
        self.action_space = gym.spaces.Box(-1.0, 1.0, (size,), np.float32)
        self.observation_space = gym.spaces.Box(
            0.0, 1.0, (self.sketch_points + 2 + size,), np.float32
        )
        # by dataset name or path, the least recently used dropped past MOST_DATASETS (each holds
        # its keys; a dataset's objective dropped is made again, measuring anew, if it comes back)
        self._objectives: LruCache[str, MemoizedObjective] = LruCache(MOST_DATASETS)
        self._lowest_reward = 0.0
        self.objective: MemoizedObjective | None = None
        self._last_choice = self.space.to_unit(self.space.defaults())
        self._steps = 0
        self._rewards: list[float] = []  # this episode's, for render("rgb_array")
        self._last_info: dict[str, Any] = {}

    def _objective_for(self, dataset: str | os.PathLike[str]) -> MemoizedObjective:
        name = os.fspath(dataset)  # a file given as a str and as a Path: one objective
        got = self._objectives.get(name)
        return got if got is not None else self._objectives.put(
            name, MemoizedObjective(IndexObjective(dataset, **self._objective_args)))

    def _observation(self, objective: MemoizedObjective) -> np.ndarray:
        sketch = cdf_sketch(objective.keys, self.sketch_points)
        return np.concatenate([sketch, self._last_choice]).astype(np.float32)

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        unknown = sorted(set(options or {}) - {"dataset"})
        if unknown:
            raise InputError(f"unknown reset options {unknown}: the only one is 'dataset'")
        dataset = (options or {}).get("dataset")
        if dataset is None:
            dataset = self.datasets[int(self.np_random.integers(len(self.datasets)))]
        check_dataset(dataset)
        self.objective = self._objective_for(dataset)
        self._last_choice = self.space.to_unit(self.space.defaults())
        self._lowest_reward = 0.0  # (per episode: see FAILED_TRIAL_REWARD)
        self._steps = 0
        self._rewards = []
        self._last_info = {}
        return self._observation(self.objective), {"dataset": dataset_label(dataset)}

    def step(self, action: np.ndarray) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        if self.objective is None:
            raise RuntimeError("call reset() before step()")
        if self._steps >= self.horizon:  # as the macro env: an ended episode takes no more steps
            raise RuntimeError(f"the episode ended after {self.horizon} steps: call reset()")
        config = self.space.from_box(action, symmetric=True)
        result = self.objective.evaluate(config)
        score = self.objective.score(result)
        if score is None:
            reward = min(FAILED_TRIAL_REWARD, 2.0 * self._lowest_reward)
        else:
            reward = float(score)
            self._lowest_reward = min(self._lowest_reward, reward)
        self._last_choice = self.space.to_unit(config)
        self._steps += 1
        self._rewards.append(float(reward))
        self._last_info = {
            "config": config,
            "ok": result.ok,
            "error": result.error,
            "dataset": self.objective.workload,
            **result.metrics,
        }
        ended = self._steps >= self.horizon  # a time limit (the observation has no clock), but a
        # one-step episode is a bandit that ends (check_env refused "truncates after 1 step")
        one_step = self.horizon == 1
        return self._observation(self.objective), reward, ended and one_step, ended and not one_step, self._last_info

    def _render_title(self) -> str:
        return f"index on {self.objective.workload}" if self.objective is not None else "index (not reset)"

    def render(self) -> str | np.ndarray | None:
        """``ansi``: the last step's info as text; ``rgb_array``: a chart of the episode's
        rewards and their best so far (:func:`~learned_systems.plots.episode_rewards_image`:
        height x width x 3 with even sides, e.g. 418 x 600 for a one-line title, as H.264
        video needs)."""
        if self.render_mode == "ansi":
            return f"step {self._steps}: {self._last_info}"
        if self.render_mode == "rgb_array":
            return episode_rewards_image(self._rewards, f"{self._render_title()}: step {self._steps} of {self.horizon}")
        return None
