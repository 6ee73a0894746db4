"""What runs beside training: periodic deterministic evaluations (curve.csv, TensorBoard,
best.zip/best.plc/best.json), checkpoints, the time limit and the divergence check."""

from __future__ import annotations

import csv
import math
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeGuard

import numpy as np
import torch
from stable_baselines3.common.callbacks import BaseCallback

from envs.macro_placement import MacroPlacementEnv
from netlists.errors import InputError
from placer.interrupts import interrupts_deferred
from placer.rl.config import Design, ObservationNotFinite, TrainConfig, TrainingDiverged
from placer.rl.inference import weights_finite
from placer.rl.random_state import RL_GENERATORS
from placer.rl.resume import (
    TrainingState,
    capture,
    pending_values,
    restore_logger_pending,
    rewind,
)
from placer.rl.run_folder import (
    CURVE_COLUMNS,
    curve_number,
    curve_wall_time,
    last_curve_row,
    read_run_json,
    save_best,
    save_checkpoint,
)

#: torch.manual_seed takes seeds below 2**64 (a larger one: "Overflow when unpacking long long").
_TORCH_SEEDS = 2**64


def run_episode(
    model: Any, env: MacroPlacementEnv, deterministic: bool, seed: int, stop: Callable[[], bool] | None = None
) -> dict[str, Any]:
    """One episode of ``model`` on ``env``; returns one dict: the last step's info with
    ``"reward"``, the episode's summed reward, added. A placed episode's info holds ``"cost"``
    and ``"placement"``; an infeasible one (a macro left without a legal cell) holds none of them,
    but ``"infeasible"`` (that macro's name), ``"unplaced"`` and ``"partial_cost"`` (see
    :mod:`envs.macro_placement`). With ``stop`` (e.g. a deadline's ``expired``), an episode it
    interrupts returns ``{}``.
    A sampled episode draws its actions from torch's generator seeded with ``seed`` (the same
    seed, the same episode), and leaves the caller's torch random state as it was. Its seed wraps
    below 2**64, for torch and env.reset alike (seed 2**64, the first sampled episode of a
    place_with_policy seeded 2**64 - 1, crashed torch); seeds in range are as given."""
    if deterministic:
        return _episode(model, env, True, seed, stop)
    seed %= _TORCH_SEEDS
    device = getattr(model, "device", torch.device("cpu"))
    cuda = [device.index or 0] if device.type == "cuda" else []
    # one sampled episode at a time: torch's generator is the process's, and episodes sampled in
    # several threads drew from one another's seeds (a seed gave other placements)
    with RL_GENERATORS, torch.random.fork_rng(devices=cuda):
        torch.manual_seed(seed)
        return _episode(model, env, False, seed, stop)


def _episode(
    model: Any, env: MacroPlacementEnv, deterministic: bool, seed: int, stop: Callable[[], bool] | None
) -> dict[str, Any]:
    obs, _ = env.reset(seed=seed)
    total, done = 0.0, False
    info: dict[str, Any] = {}
    while not done:
        if stop is not None and stop():
            return {}
        keys = keys_not_finite(obs)
        if keys:  # (torch then refused the NaN logits: read as the policy's divergence)
            raise observation_not_finite(keys, "in an episode of the policy", "not of the policy")
        action, _ = model.predict(obs, deterministic=deterministic, action_masks=env.action_masks())
        obs, reward, done, _, info = env.step(int(action))
        total += reward
    return {"reward": total, **info}


class TrainingMonitor(BaseCallback):
    """Checkpoints, evaluation keeping the best placement, learning curve and TB scalars.

    At each rollout boundary (after an update, before the next rollout) it captures the run's
    :class:`~placer.rl.resume.TrainingState`; checkpoints are written there, so a run resumed
    from any checkpoint continues exactly as if it had never stopped."""

    def __init__(
        self,
        config: TrainConfig,
        eval_design: Design,
        resumed: TrainingState | None = None,
    ) -> None:
        """``resumed``: the boundary a resumed run goes on from (its recent episodes, unwritten
        log values and training time), None for a new run or one resumed without its state."""
        super().__init__()
        # a resumed boundary's unwritten log values
        self._log_pending = None if resumed is None else resumed.log_pending
        self.config = config
        self.out = Path(config.out)
        self.eval_env = MacroPlacementEnv(designs=[eval_design], **config.env_kwargs())
        self.recent_proxy: deque[float] = deque(() if resumed is None else resumed.recent_proxy, maxlen=50)
        self.best = self._read_best()
        self.last_eval_step = -1
        self.boundary: TrainingState | None = None  # the latest rollout boundary
        self.in_rollout = False
        self.rewound = False  # rewind_to_boundary ran: the boundary is the model's state
        self._next_ckpt = 0
        self._next_eval = 0
        self._started = time.perf_counter()  # time_limit_s counts from here
        # curve.csv's wall_s runs on across resumes: from the resumed boundary's own time (a
        # Ctrl-C after an update past the curve's last row lost that update's seconds when the
        # clock went on from the row), or from the boundary's own row where that is later (the
        # boundary's time is taken before its evaluation and checkpoint, whose row is kept;
        # rows past the boundary are gone by now); the last row's in a state saved before
        curve_s = curve_wall_time(self.out)
        wall_s = None if resumed is None else resumed.wall_s
        self._t0 = self._started - (curve_s if wall_s is None else max(wall_s, curve_s))

    def _wall_s(self) -> float:
        """The run's training wall time now (curve.csv's wall_s clock)."""
        return time.perf_counter() - self._t0

    def _checkpoint(self, steps: int, state: TrainingState | None = None) -> None:
        """:func:`save_checkpoint` of the model at ``steps``, keeping the run's ``keep_checkpoints``."""
        save_checkpoint(self.model, self.out, steps, state, keep=self.config.keep_checkpoints)

    def _read_best(self) -> float:
        """The best objective so far (runs from before the objective was recorded: their
        proxy, by which they kept their best)."""
        path = self.out / "best.json"
        if not path.exists():
            return math.inf
        record = read_run_json(path)
        best = record.get("objective", record.get("proxy"))

        def number(value: object) -> TypeGuard[int | float]:
            return isinstance(value, int | float) and not isinstance(value, bool)

        # (the run's summary reads the proxy and the step too: a file without them passed here
        # and ended a finished training with a KeyError)
        if not (number(best) and number(record.get("proxy")) and isinstance(record.get("steps"), int)
                and not isinstance(record.get("steps"), bool)):
            raise InputError(f"{path}: damaged (no proxy number or step count); restore it or remove best.*")
        return float(best)

    def _on_training_start(self) -> None:
        restore_logger_pending(self.model, self._log_pending)  # (learn has made its logger)
        self._log_pending = None
        n = self.num_timesteps
        self._next_ckpt = (n // self.config.checkpoint_every + 1) * self.config.checkpoint_every
        # evaluations go on from the curve's last row: a resume from a boundary whose
        # evaluation a Ctrl-C stopped evaluates it (the next was past it: lost for good), and
        # one whose row is there is not evaluated twice (a time limit in the first rollout)
        row = last_curve_row(self.out) if n > 0 else None
        last = None if row is None else int(curve_number(self.out / "curve.csv", row, 0))
        if last is not None:
            self.last_eval_step = last
        every = self.config.eval_every
        self._next_eval = ((n if last is None else last) // every + 1) * every
        self.boundary = capture(self.model, list(self.recent_proxy), self._wall_s())
        if n == 0:
            # a checkpoint at step 0: a run killed (kill -9) before its first periodic one
            # resumes, instead of leaving a folder that can be neither resumed nor reused
            self._checkpoint(0, self.boundary)
            self.evaluate()

    def _on_rollout_start(self) -> None:
        self.boundary = capture(self.model, list(self.recent_proxy), self._wall_s())
        self.in_rollout = True
        # evaluations at boundaries too, labelled with the steps the policy was trained on (one
        # inside a rollout evaluated the last update's policy under a later step count, and
        # its best.zip matched no checkpoint of that step); before the checkpoint, so that a
        # run resumed from it has every evaluation up to its step
        if self.num_timesteps >= self._next_eval:
            every = self.config.eval_every
            self._next_eval = (self.num_timesteps // every + 1) * every
            self.evaluate()
        if self.num_timesteps >= self._next_ckpt:
            every = self.config.checkpoint_every
            self._next_ckpt = (self.num_timesteps // every + 1) * every
            check_sound(self.model, self.out)  # a diverged policy is not saved over a sound one
            self._checkpoint(self.num_timesteps, self.boundary)

    def rewind_to_boundary(self) -> None:
        """Put the model (and the recent episodes) back to the last rollout boundary: a
        rollout the time limit cut short is dropped, to be redone on resume."""
        if self.boundary is None or not self.in_rollout:
            return
        rewind(self.model, self.boundary)
        self.recent_proxy = deque(self.boundary.recent_proxy, maxlen=50)
        self.num_timesteps = self.model.num_timesteps
        self.in_rollout = False
        self.rewound = True

    def _on_rollout_end(self) -> None:
        self.in_rollout = False

    def save_last_boundary(self, completed: bool) -> None:
        """Checkpoint at the latest rollout boundary: now, when ``learn`` ``completed`` with
        an update; else (Ctrl-C anywhere, or the time limit mid-rollout) the last boundary,
        the model rewound to it: the unfinished rollout or update is redone on resume."""
        if self.boundary is None:  # stopped before training started: nothing has changed
            if not (self.out / "last.zip").exists():  # (a resumed run keeps its checkpoint)
                self._checkpoint(self.model.num_timesteps)
            return
        if self.rewound:  # (already at the boundary)
            pass
        elif completed and not self.in_rollout:
            self.boundary = capture(self.model, list(self.recent_proxy), self._wall_s())
        else:
            rewind(self.model, self.boundary)
        self._checkpoint(self.model.num_timesteps, self.boundary)

    def _on_step(self) -> bool:
        for info, done in zip(self.locals.get("infos", []), self.locals.get("dones", []), strict=False):
            if done and "cost" in info:
                self.recent_proxy.append(info["cost"]["proxy"])
                self.logger.record_mean("rollout/ep_proxy", info["cost"]["proxy"])
                self.logger.record_mean("rollout/ep_objective", info["cost"]["objective"])
            elif done and "infeasible" in info:
                self.logger.record_mean("rollout/infeasible", 1.0)
        limit = self.config.time_limit_s
        return not (limit is not None and time.perf_counter() - self._started > limit)

    def evaluate(self) -> float:
        """Deterministic episode on the evaluation design; keeps the best placement by the
        objective trained on (the weighted cost: the proxy under the default weights)."""
        self.last_eval_step = self.num_timesteps
        result = run_episode(self.model, self.eval_env, deterministic=True, seed=self.config.seed)
        proxy = result["cost"]["proxy"] if "cost" in result else math.inf
        objective = result["cost"]["objective"] if "cost" in result else math.inf
        values = {"eval/proxy": proxy, "eval/objective": objective}  # (objective: best.zip's choice)
        if "cost" in result and result["cost"].get("timing") is not None:
            values["eval/timing"] = result["cost"]["timing"]
        mean = float(np.mean(self.recent_proxy)) if self.recent_proxy else math.nan
        with interrupts_deferred():  # the row, its logs and best.* together (a resume trusts the row)
            self._append_curve(mean, proxy, objective)
            _write_now(self.logger, self.num_timesteps, values)
            if objective < self.best:
                self.best = objective
                save_best(self.model, self.eval_env, self.out, result["placement"],
                          {"proxy": proxy, "objective": objective, "steps": self.num_timesteps,
                           "cost": result["cost"], "design": result["design"]})  # fmt: skip
        return proxy

    def _append_curve(self, mean_proxy: float, eval_proxy: float, eval_objective: float) -> None:
        """One row of curve.csv; eval_objective is the weighted cost best.zip is chosen by (the
        proxy under the default weights). A curve begun before that column keeps its four."""
        path = self.out / "curve.csv"
        new = not path.exists() or path.stat().st_size == 0  # (an emptied file gets its header)
        if not new:
            with path.open(newline="") as f:
                header = next(csv.reader(f), CURVE_COLUMNS)
        with path.open("a", newline="") as f:
            w = csv.writer(f)
            if new:
                w.writerow(CURVE_COLUMNS)
            row = [self.num_timesteps, round(self._wall_s(), 2), mean_proxy, eval_proxy, eval_objective]
            w.writerow(row if new or len(header) == len(CURVE_COLUMNS) else row[: len(header)])


def _write_now(logger: Any, step: int, values: dict[str, float]) -> None:
    """Write ``values`` to the logs under ``step`` at once, leaving what SB3 recorded for its
    own next write: recorded only, an evaluation reached TensorBoard at the end of the next
    rollout under that later step count (curve.csv and best.json name the steps the policy was
    trained on), and the last one of a run never did."""
    pending = pending_values(logger)
    for name in pending:
        getattr(logger, name).clear()
    for key, value in values.items():
        logger.record(key, value)
    logger.dump(step)
    for name, kept in pending.items():
        getattr(logger, name).update(kept)


def check_sound(model: Any, out: Path) -> None:
    """Refuse to go on (and to checkpoint) with a policy whose weights are no longer finite or
    whose outputs on the current observations are not numbers: training diverged.

    Raises:
        TrainingDiverged: naming the step and what to do.
    """
    sound = weights_finite(model)
    observation = getattr(model, "_last_obs", None)
    if sound and observation is not None:
        with torch.no_grad():
            obs, _ = model.policy.obs_to_tensor(observation)
            try:
                logits = model.policy.get_distribution(obs).distribution.logits
            except ValueError:  # torch refuses a distribution over NaN logits
                sound = False
            else:
                sound = not bool(torch.isnan(logits).any())
    if not sound or _observation_keys_not_finite(model):
        raise diverged(model, out)


def keys_not_finite(observation: Any) -> list[str]:
    """The keys of ``observation`` (a dict, or ``observation`` for a plain array; None: none)
    whose arrays hold NaN or infinity."""
    if observation is None:
        return []
    items = observation.items() if isinstance(observation, dict) else [("observation", observation)]
    return [key for key, value in items
            if np.issubdtype(np.asarray(value).dtype, np.floating) and not np.isfinite(value).all()]


def observation_not_finite(keys: list[str], where: str, not_of: str) -> ObservationNotFinite:
    """The one-line error of an observation whose ``keys`` hold NaN or infinity, ``where`` it
    was met, and whose fault it is ``not_of``."""
    return ObservationNotFinite(
        f"the environment's observation {where} holds values that are not finite numbers (in "
        f"{', '.join(keys)}): a fault of the environment or its design's data, {not_of}"
    )


def _observation_keys_not_finite(model: Any) -> list[str]:
    """The keys of the model's latest training observation holding NaN or infinity."""
    return keys_not_finite(getattr(model, "_last_obs", None))


def diverged(model: Any, out: Path) -> TrainingDiverged | ObservationNotFinite:
    """The one-line error of a run whose policy stopped being numbers, or, where its weights
    are still finite and its latest observation is not, of the environment that fed it NaN."""
    keys = _observation_keys_not_finite(model) if weights_finite(model) else []
    if keys:
        return observation_not_finite(
            keys, f"at step {model.num_timesteps}",
            f"not of training (the policy's weights are finite); {out / 'last.zip'} holds the last checkpoint",
        )
    lr = model.learning_rate
    return TrainingDiverged(
        f"training diverged by step {model.num_timesteps}: the policy's weights or outputs are not "
        f"finite numbers (learning_rate {lr!r} too high?); {out / 'last.zip'} holds the last sound "
        "checkpoint; start a new run with a lower learning_rate (a resumed run keeps its settings)"
    )
