"""Training of the placement policy with sb3-contrib's MaskablePPO, with checkpoints and resume.

Output folder layout (``out``)::

    config.json           the TrainConfig (resume reads it back)
    designs.json          the training designs' names and content digests (a resume on edited
                          designs is refused); api_designs.json instead for train(designs=...)
    env_kwargs.json       environment options a placer needs to rebuild the same env
    .placer.lock          one run per folder at a time (placer.folder_lock)
    last.zip              latest checkpoint (every ``checkpoint_every`` steps, at the end and on Ctrl-C)
    last_state.pkl        what last.zip leaves out for an exact resume (generators, episodes in
                          progress; :mod:`placer.rl.resume`)
    checkpoints/step_N.zip
    best.zip best.plc best.json   best deterministic evaluation so far by the trained objective
                                  (the weighted cost; its placement as .plc)
    curve.csv             steps, mean episode proxy of recent training episodes, eval proxy,
                          eval objective (the weighted cost best.zip is chosen by)
    tb/                   TensorBoard logs (when tensorboard is installed)

Defaults are sized for a 2-core CPU: 2 environments in one process (``DummyVecEnv``), one torch
thread, rollouts of 1024 steps per environment (several episodes of a 250-macro design per
update, so the end-of-episode reward is not judged on one or two episodes), minibatches of 256
(cheaper per sample on a CPU than small ones), 4 epochs, lr 1e-4, entropy 0.001 (over thousands
of cells a larger entropy bonus flattens the policy back to random), GAE lambda 1 (the reward
comes only at the end of a few-hundred-step episode: Monte Carlo returns do not depend on a
young critic), and a wire-mask prior of 20 in the logits (the wire mask is scaled to [0, 1]
over the legal cells): sampled episodes start close to the wire-mask greedy placement and
explore among its best few percent of cells, instead of starting from masked-random ones
(with a prior of 2 to 6 the samples were near random and PPO made the greedy choice worse).
"""

from __future__ import annotations

import csv
import errno
import io
import json
import math
import time
import warnings
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from stable_baselines3.common.callbacks import BaseCallback, CallbackList
from stable_baselines3.common.logger import Logger
from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv, VecEnv

from envs.macro_placement import MAX_WEIGHT, MacroPlacementEnv
from netlists.digest import design_digest
from netlists.formats.textio import text_writer, write_atomically
from netlists.io import design_files_under
from netlists.model import Netlist, Placement
from placer.cost.timing import TIMING_METRICS
from placer.device import resolve_device
from placer.interrupts import interrupts_deferred
from placer.rl.inference import load_model, weights_finite
from placer.rl.progress import PhaseProgressBar, has_progress_bar
from placer.rl.resume import (
    SnapshotMonitor,
    TrainingState,
    apply,
    capture,
    load_state,
    restore_monitor,
    rewind,
    save_state,
)

Design = tuple[Netlist, Placement]

#: Environment options saved beside a model (a placer rebuilds the same env from them).
ENV_OPTION_KEYS = (
    "max_grid",
    "max_nodes",
    "max_edges",
    "order",
    "use_wiremask",
    "density_weight",
    "soft_macros_placed",
    "grid",
    # the reward's weights: a placer ranks sampled episodes by the model's own objective
    "w_wl",
    "w_den",
    "w_cong",
    "w_timing",
    "timing_metric",
)


#: Largest learning rate taken: Adam steps of that size already wreck a network; past it a
#: run's weights blew up to ~1e30 within one update and every output became NaN.
MAX_LEARNING_RATE = 1.0


class TrainingDiverged(ValueError):
    """The policy's weights or outputs stopped being finite numbers during training."""


@dataclass
class TrainConfig:
    """Everything a training run needs; stored as ``config.json`` in the output folder."""

    out: str
    netlists: list[str] = field(default_factory=list)  # design files / folders
    suite: str | None = None  # a folder of design folders (each with netlist.pb.txt[.gz])
    generated: int = 0  # number of synthetic training designs
    eval_netlist: str | None = None  # default: the first training design
    timesteps: int = 100_000
    n_envs: int = 2
    device: str = "auto"
    seed: int = 0
    threads: int = 1
    time_limit_s: float | None = None  # stop training after this wall time (experiments)
    vec: str = "dummy"  # or "subproc"
    checkpoint_every: int = 10_000
    eval_every: int = 5_000
    n_steps: int = 1024
    batch_size: int = 256
    n_epochs: int = 4
    learning_rate: float = 1e-4
    ent_coef: float = 0.001
    gamma: float = 1.0
    gae_lambda: float = 1.0
    # environment
    max_grid: int = 64
    max_nodes: int = 256
    max_edges: int = 4096
    order: str = "area"
    use_wiremask: bool = True
    density_weight: float = 0.05
    soft_macros_placed: bool = True
    use_graph: bool = True
    wiremask_prior: float = 20.0
    dense_shaping: bool = False
    soft_placement: str = "fd"
    w_wl: float = 1.0
    w_den: float = 0.5
    w_cong: float = 0.5
    w_timing: float = 0.0
    timing_metric: str = "worst"

    def validate(self) -> None:
        """Refuse settings under which training would crash mid-run, learn from NaN or do
        nothing (each named with what is allowed), before anything is written.

        Raises:
            ValueError: the first bad setting.
        """
        def whole(name: str, low: int) -> None:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError(f"{name} must be a whole number >= {low}, got {value!r}")

        def number(name: str, low: float, high: float = math.inf, low_open: bool = False) -> None:
            value = getattr(self, name)
            ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
            ok = ok and (value > low if low_open else value >= low) and value <= high
            if not ok:
                bracket = "(" if low_open else "["
                raise ValueError(f"{name} must be a finite number in {bracket}{low:g}, {high:g}], got {value!r}")

        def text(name: str, optional: bool = False) -> None:
            value = getattr(self, name)
            if not (isinstance(value, str) or optional and value is None):
                kind = "a path or None" if optional else "a path"
                raise ValueError(f"{name} must be {kind}, got {value!r}")

        text("out")
        text("suite", optional=True)
        text("eval_netlist", optional=True)
        if not isinstance(self.netlists, list | tuple) or not all(isinstance(p, str) for p in self.netlists):
            raise ValueError(f"netlists must be a list of paths, got {self.netlists!r}")
        for name in ("use_wiremask", "soft_macros_placed", "use_graph", "dense_shaping"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be true or false, got {getattr(self, name)!r}")
        for name, low in (("timesteps", 1), ("n_envs", 1), ("seed", 0), ("threads", 1),
                          ("checkpoint_every", 1), ("eval_every", 1), ("n_steps", 1),
                          ("batch_size", 2), ("n_epochs", 1), ("max_grid", 8), ("max_nodes", 1),
                          ("max_edges", 2), ("generated", 0)):  # fmt: skip
            whole(name, low)
        if self.n_steps * self.n_envs < 2:
            raise ValueError("n_steps x n_envs must be >= 2 (a rollout of one step has no advantage spread)")
        if self.max_grid % 8:
            raise ValueError(f"max_grid must be a multiple of 8, got {self.max_grid}")
        number("learning_rate", 0.0, MAX_LEARNING_RATE, low_open=True)
        number("ent_coef", 0.0)
        number("gamma", 0.0, 1.0, low_open=True)
        number("gae_lambda", 0.0, 1.0)
        number("wiremask_prior", 0.0, 1e6)  # (float32 logits: 1e39 became -inf, then NaN)
        for name in ("density_weight", "w_wl", "w_den", "w_cong", "w_timing"):
            number(name, 0.0, MAX_WEIGHT)  # (negative: a worse cost rewarded; the env's range)
        if self.time_limit_s is not None:
            number("time_limit_s", 0.0, low_open=True)
        if self.order not in ("area", "degree", "file"):
            raise ValueError(f"order must be 'area', 'degree' or 'file', got {self.order!r}")
        if self.vec not in ("dummy", "subproc"):
            raise ValueError(f"vec must be 'dummy' or 'subproc', got {self.vec!r}")
        if self.soft_placement not in ("fd", "keep"):
            raise ValueError(f"soft_placement must be 'fd' or 'keep', got {self.soft_placement!r}")
        if self.timing_metric not in TIMING_METRICS:
            raise ValueError(f"timing_metric must be one of {', '.join(map(repr, TIMING_METRICS))}, "
                             f"got {self.timing_metric!r}")
        if self.timing_metric != "worst" and self.w_timing == 0:  # accepted, then weighing nothing
            raise ValueError("timing_metric acts only with w_timing > 0")
        resolve_device(self.device)

    def env_kwargs(self) -> dict[str, Any]:
        return {
            "max_grid": self.max_grid,
            "max_nodes": self.max_nodes,
            "max_edges": self.max_edges,
            "order": self.order,
            "use_wiremask": self.use_wiremask,
            "density_weight": self.density_weight,
            "soft_macros_placed": self.soft_macros_placed,
            "dense_shaping": self.dense_shaping,
            "soft_placement": self.soft_placement,
            "w_wl": self.w_wl,
            "w_den": self.w_den,
            "w_cong": self.w_cong,
            "w_timing": self.w_timing,
            "timing_metric": self.timing_metric,
        }


def generated_designs(n: int, seed: int = 0, hard: tuple[int, int] = (8, 24)) -> list[Design]:
    """``n`` synthetic designs, sizes drawn from ``hard`` (soft = 4 x hard, ports = 2 x hard),
    design ``k`` with seed ``seed + k``."""
    from netlists.generate import generate

    rng = np.random.default_rng(seed)
    out = []
    for k in range(n):
        h = int(rng.integers(hard[0], hard[1] + 1))
        out.append(generate(h, 4 * h, 2 * h, seed=seed + k))
    return out


def find_suite(folder: str | Path) -> list[Path]:
    """The netlists of the design folders under ``folder``: those holding a
    ``netlist.pb.txt[.gz]`` and an ``initial.plc``, or one Bookshelf ``.aux`` (as ``placer
    place --suite`` finds them)."""
    root = Path(folder)
    if not root.is_dir():
        raise FileNotFoundError(errno.ENOENT, "no such folder", str(root))
    found = [netlist for netlist, _ in design_files_under(root)]
    if not found:
        raise FileNotFoundError(
            errno.ENOENT, "no design (a folder with netlist.pb.txt[.gz] and initial.plc, or one Bookshelf .aux) "
            "under this folder", str(root)
        )
    return found


def load_designs(config: TrainConfig) -> list[Design]:
    """Training designs named by the config (files, suite, generated)."""
    from netlists.io import load_design

    paths = [Path(p) for p in config.netlists]
    if config.suite:
        paths += find_suite(config.suite)
    designs = [load_design(p) for p in paths]
    designs += generated_designs(config.generated, config.seed)
    if not designs:
        raise ValueError("no training design: give --netlist, --suite or --generated")
    return designs


def make_vec_env(
    designs: Sequence[Design],
    config: TrainConfig,
    seed: int,
    n_envs: int | None = None,
    snapshots: Sequence[bytes] | None = None,
) -> VecEnv:
    """``n_envs`` monitored environments over ``designs``, seeded ``seed + rank``; with
    ``snapshots`` (one per env, from :meth:`SnapshotMonitor.snapshot`) each env continues the
    episode saved in its snapshot instead."""

    def factory(rank: int) -> Callable[[], SnapshotMonitor]:
        def make() -> SnapshotMonitor:
            env = MacroPlacementEnv(designs=list(designs), **config.env_kwargs())
            env.reset(seed=seed + rank)
            fresh = SnapshotMonitor(env)
            return fresh if snapshots is None else restore_monitor(snapshots[rank], fresh)

        return make

    n = len(snapshots) if snapshots is not None else n_envs or config.n_envs
    cls = SubprocVecEnv if config.vec == "subproc" and n > 1 else DummyVecEnv
    vec = cls([factory(r) for r in range(n)])
    vec.seed(seed)
    return vec


def policy_kwargs(config: TrainConfig) -> dict[str, Any]:
    return {
        "features_extractor_kwargs": {"use_graph": config.use_graph},
        "wiremask_prior": config.wiremask_prior if config.use_wiremask else 0.0,
    }


def run_episode(
    model: Any, env: MacroPlacementEnv, deterministic: bool, seed: int, stop: Callable[[], bool] | None = None
) -> dict[str, Any]:
    """One episode of ``model`` on ``env``; returns the final info (with ``cost``) and reward.
    With ``stop`` (e.g. a deadline's ``expired``), an episode it interrupts returns ``{}``.
    A sampled episode draws its actions from torch's generator seeded with ``seed`` (the same
    seed, the same episode), and leaves the caller's torch random state as it was."""
    if deterministic:
        return _episode(model, env, True, seed, stop)
    device = getattr(model, "device", torch.device("cpu"))
    cuda = [device.index or 0] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=cuda):
        torch.manual_seed(seed)
        return _episode(model, env, False, seed, stop)


def _episode(
    model: Any, env: MacroPlacementEnv, deterministic: bool, seed: int, stop: Callable[[], bool] | None
) -> dict[str, Any]:
    obs, _ = env.reset(seed=seed)
    total, done, info = 0.0, False, {}
    while not done:
        if stop is not None and stop():
            return {}
        action, _ = model.predict(obs, deterministic=deterministic, action_masks=env.action_masks())
        obs, reward, done, _, info = env.step(int(action))
        total += reward
    return {"reward": total, **info}


class TrainingMonitor(BaseCallback):
    """Checkpoints, evaluation keeping the best placement, learning curve and TB scalars.

    At each rollout boundary (after an update, before the next rollout) it captures the run's
    :class:`~placer.rl.resume.TrainingState`; checkpoints are written there, so a run resumed
    from any checkpoint continues exactly as if it had never stopped."""

    def __init__(self, config: TrainConfig, eval_design: Design, recent_proxy: Sequence[float] = ()) -> None:
        super().__init__()
        self.config = config
        self.out = Path(config.out)
        self.eval_env = MacroPlacementEnv(designs=[eval_design], **config.env_kwargs())
        self.recent_proxy: deque[float] = deque(recent_proxy, maxlen=50)
        self.best = self._read_best()
        self.last_eval_step = -1
        self.boundary: TrainingState | None = None  # the latest rollout boundary
        self.in_rollout = False
        self.rewound = False  # rewind_to_boundary ran: the boundary is the model's state
        self._next_ckpt = 0
        self._next_eval = 0
        self._started = time.perf_counter()  # time_limit_s counts from here
        self._t0 = self._started - curve_wall_time(self.out)  # curve.csv's wall_s runs on across resumes

    def _read_best(self) -> float:
        """The best objective so far (runs from before the objective was recorded: their
        proxy, by which they kept their best)."""
        path = self.out / "best.json"
        if not path.exists():
            return math.inf
        record = read_run_json(path)
        best = record.get("objective", record.get("proxy"))
        if isinstance(best, bool) or not isinstance(best, int | float):
            raise ValueError(f"{path}: damaged (no proxy number); restore it or remove best.*")
        return float(best)

    def _on_training_start(self) -> None:
        n = self.num_timesteps
        self._next_ckpt = (n // self.config.checkpoint_every + 1) * self.config.checkpoint_every
        # evaluations go on from the curve's last row: a resume from a boundary whose
        # evaluation a Ctrl-C stopped evaluates it (the next was past it: lost for good), and
        # one whose row is there is not evaluated twice (a time limit in the first rollout)
        row = last_curve_row(self.out) if n > 0 else None
        last = None if row is None else int(_curve_number(self.out / "curve.csv", row, 0))
        if last is not None:
            self.last_eval_step = last
        every = self.config.eval_every
        self._next_eval = ((n if last is None else last) // every + 1) * every
        self.boundary = capture(self.model, list(self.recent_proxy))
        if n == 0:
            # a checkpoint at step 0: a run killed (kill -9) before its first periodic one
            # resumes, instead of leaving a folder that can be neither resumed nor reused
            save_checkpoint(self.model, self.out, 0, self.boundary)
            self.evaluate()

    def _on_rollout_start(self) -> None:
        self.boundary = capture(self.model, list(self.recent_proxy))
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
            save_checkpoint(self.model, self.out, self.num_timesteps, self.boundary)

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
                save_checkpoint(self.model, self.out, self.model.num_timesteps)
            return
        if self.rewound:  # (already at the boundary)
            pass
        elif completed and not self.in_rollout:
            self.boundary = capture(self.model, list(self.recent_proxy))
        else:
            rewind(self.model, self.boundary)
        save_checkpoint(self.model, self.out, self.model.num_timesteps, self.boundary)

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
                _save_model(self.model, self.out / "best.zip")
                self.eval_env.write_plc(self.out / "best.plc", result["placement"])
                write_run_json(self.out / "best.json", {"proxy": proxy, "objective": objective,
                                                     "steps": self.num_timesteps, "cost": result["cost"],
                                                     "design": result["design"]})
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
            row = [self.num_timesteps, round(time.perf_counter() - self._t0, 2), mean_proxy, eval_proxy, eval_objective]
            w.writerow(row if new or len(header) == len(CURVE_COLUMNS) else row[: len(header)])


def _write_now(logger: Any, step: int, values: dict[str, float]) -> None:
    """Write ``values`` to the logs under ``step`` at once, leaving what SB3 recorded for its
    own next write: recorded only, an evaluation reached TensorBoard at the end of the next
    rollout under that later step count (curve.csv and best.json name the steps the policy was
    trained on), and the last one of a run never did."""
    pending = {name: dict(getattr(logger, name)) for name in ("name_to_value", "name_to_count", "name_to_excluded")}
    for name in pending:
        getattr(logger, name).clear()
    for key, value in values.items():
        logger.record(key, value)
    logger.dump(step)
    for name, kept in pending.items():
        getattr(logger, name).update(kept)


def env_options(config: TrainConfig) -> dict[str, Any]:
    """The environment options a placer needs to rebuild a run's env (:data:`ENV_OPTION_KEYS`)."""
    return {k: v for k, v in config.env_kwargs().items() if k in ENV_OPTION_KEYS}


def write_run_json(path: Path, data: Any) -> None:
    """``data`` as JSON at ``path``, atomically; a full disk names the file and leaves no
    temporary (a fixed ``NAME.tmp`` was left behind and the error named no file)."""
    write_atomically({path: text_writer(json.dumps(data, indent=2, default=str))})


def _save_model(model: Any, path: Path) -> None:
    """``model.save`` through a temporary name, so a reader never sees half a zip; a failed
    save (a full disk) removes its partial file and names the file it was writing."""
    tmp = path.with_name(path.stem + ".tmp.zip")
    try:
        model.save(tmp)
        tmp.replace(path)
    except OSError as error:
        tmp.unlink(missing_ok=True)
        raise OSError(error.errno, f"cannot save the model ({error.strerror or error})", str(path)) from None


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
    if not sound:
        raise diverged(model, out)


def diverged(model: Any, out: Path) -> TrainingDiverged:
    """The one-line error of a run whose policy stopped being numbers."""
    lr = model.learning_rate
    return TrainingDiverged(
        f"training diverged by step {model.num_timesteps}: the policy's weights or outputs are not "
        f"finite numbers (learning_rate {lr!r} too high?); {out / 'last.zip'} holds the last sound "
        "checkpoint; start a new run with a lower learning_rate (a resumed run keeps its settings)"
    )


#: Beside ``last.zip``: the :class:`~placer.rl.resume.TrainingState` of the same step.
LAST_STATE = "last_state.pkl"


def save_checkpoint(model: Any, out: Path, steps: int, state: TrainingState | None = None) -> Path:
    """Write ``checkpoints/step_N.zip`` and ``last.zip`` (atomically), and ``state`` (the
    training state at these steps) as ``last_state.pkl`` first; without ``state`` an earlier
    ``last_state.pkl`` is removed (it belongs to an older step)."""
    from placer.interrupts import interrupts_deferred

    with interrupts_deferred():  # a second Ctrl-C waits for the save it would break
        (out / "checkpoints").mkdir(parents=True, exist_ok=True)
        _save_model(model, out / "checkpoints" / f"step_{steps}.zip")
        if state is not None:
            save_state(out / LAST_STATE, state)
        else:
            (out / LAST_STATE).unlink(missing_ok=True)
        _save_model(model, out / "last.zip")
    return out / "last.zip"


#: Names of the designs a run was given through ``train(designs=...)``: they are in memory, not
#: files its config.json could name, so only the API can resume such a run.
API_DESIGNS = "api_designs.json"

#: Names and content digests of a run's training designs, in order: a resume over other designs,
#: or over one edited in place, is refused (its saved episodes refer to the designs by position,
#: and the evaluation design would change).
DESIGNS = "designs.json"

#: The columns of a run's curve.csv (one row per evaluation).
CURVE_COLUMNS = ["steps", "wall_s", "train_mean_proxy", "eval_proxy", "eval_objective"]

#: Files a run writes into its folder; a new run refuses a folder holding any of them (also its
#: checkpoints/ and tb/ folders: left by `rm RUN/*`, they mixed an old run's checkpoints and
#: TensorBoard curve into the new one's).
RUN_FILES = ("config.json", "last.zip", "best.json", "best.zip", "best.plc", "curve.csv", API_DESIGNS, LAST_STATE,
             DESIGNS, "env_kwargs.json", "checkpoints", "tb")

#: The settings a resumed run may change; any other difference from its config.json is refused.
RESUMABLE_CHANGES = frozenset({"out", "timesteps", "device", "time_limit_s"})


def _check_resumable(out: Path, config: TrainConfig, designs: Sequence[Design], eval_design: Design) -> None:
    """Refuse resuming ``out`` with settings or designs other than the run's own (the model
    keeps its own, so config.json would then describe another run; a changed suite would put
    saved episodes on other designs).

    Raises:
        ValueError: naming the first differences.
    """
    saved_path = out / "config.json"
    if saved_path.exists():
        saved = read_run_json(saved_path)
        now = json.loads(json.dumps(asdict(config)))  # tuples as lists, as stored
        changed = [k for k in now if k not in RESUMABLE_CHANGES and k in saved and saved[k] != now[k]]
        if changed:
            detail = ", ".join(f"{k} ({saved[k]!r} -> {now[k]!r})" for k in changed[:4])
            raise ValueError(
                f"{out}: a resumed run keeps its own settings, but {detail} differ from its "
                f"config.json; only {', '.join(sorted(RESUMABLE_CHANGES - {'out'}))} may change"
            )
    names_path = out / DESIGNS
    if names_path.exists():
        saved_designs = read_run_json(names_path)
        before = saved_designs.get("names", [])
        now_names = [netlist.name for netlist, _ in designs]
        if before != now_names:
            # a suite's Bookshelf folders are designs since 2026-12-05: a run begun before saw none
            # (said where they are the whole difference)
            added = [nl.name for nl, _ in designs if "bookshelf_origin" in nl.metadata and nl.name not in before]
            since = (f" (the suite's Bookshelf designs, {', '.join(added)}, are found since 2026-12-05; "
                     "a run begun before did not train on them: move them out of the suite to resume)"
                     if config.suite and added and [n for n in now_names if n not in added] == before else "")  # fmt: skip
            raise ValueError(
                f"{out}: the training designs changed since the run started (was "
                f"{', '.join(before)}; now {', '.join(now_names)}){since}: restore them or start a new run"
            )
        digests = saved_designs.get("digests")  # (absent in runs from before the digests)
        if digests is not None:
            edited = [name for name, digest, (netlist, placement) in zip(before, digests, designs, strict=False)
                      if digest != design_digest(netlist, placement)]
            if edited:
                raise ValueError(
                    f"{out}: {', '.join(edited)} changed since the run started (same name, other "
                    "content: its netlist or initial placement was edited): restore it or start a new run"
                )
        evaluated = saved_designs.get("eval")  # (absent in runs from before it was recorded)
        if isinstance(evaluated, dict) and evaluated.get("digest") != design_digest(*eval_design):
            raise ValueError(
                f"{out}: the evaluation design {evaluated.get('name')} changed since the run "
                "started (its netlist or initial placement was edited): the curve and best.* would "
                "compare placements of two designs; restore it or start a new run"
            )


def read_run_json(path: Path) -> dict[str, Any]:
    """A JSON object the run wrote; a damaged one is named with what to do."""
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"{path}: damaged ({error}); restore it or start a new run") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: damaged (not a JSON object); restore it or start a new run")
    return data


def last_curve_row(out: Path) -> list[str] | None:
    """The last row of a run's curve.csv (None: no curve, or no row yet)."""
    path = out / "curve.csv"
    if not path.exists():
        return None
    with path.open(newline="") as f:
        rows = [r for r in list(csv.reader(f))[1:] if r]
    return rows[-1] if rows else None


def curve_wall_time(out: Path) -> float:
    """The wall seconds of a run's last curve row (0 without one): its training time so far
    (curve.csv's wall_s runs on across resumes)."""
    row = last_curve_row(out)
    return _curve_number(out / "curve.csv", row, 1) if row is not None and len(row) > 1 else 0.0


def _curve_number(path: Path, row: list[str], column: int) -> float:
    """One number of a curve.csv row; a damaged row is named with its file."""
    try:
        return float(row[column])
    except (IndexError, ValueError):
        raise ValueError(f"{path}: damaged row {','.join(row)!r}; restore the file or remove the row") from None


def _designs_record(designs: Sequence[Design], eval_design: Design) -> dict[str, Any]:
    """What designs.json holds: the training designs' names and content digests, in order,
    and the evaluation design's."""
    return {
        "names": [netlist.name for netlist, _ in designs],
        "digests": [design_digest(netlist, placement) for netlist, placement in designs],
        "eval": {"name": eval_design[0].name, "digest": design_digest(*eval_design)},
    }


def _resume_point(out: Path) -> tuple[Path, TrainingState | None]:
    """The model to resume from and its training state.

    Normally ``last.zip`` and ``last_state.pkl`` of the same step. A run killed after writing
    the state of step N but before ``last.zip`` of step N leaves ``last.zip`` one checkpoint
    behind; ``checkpoints/step_N.zip`` (written, atomically, before the state) then goes with
    the state, so the resume stays exact."""
    last = out / "last.zip"
    state = load_state(out / LAST_STATE)
    if state is not None:
        matching = out / "checkpoints" / f"step_{state.steps}.zip"
        if matching.exists():
            return matching, state
    return last, state


def _purge_tensorboard_after(tb: Path, steps: int) -> None:
    """Hide from TensorBoard what a stopped run logged past ``steps``, as curve.csv drops its
    rows (the resumed run logs those steps again: TensorBoard showed both): a session start at
    ``steps + 1`` in the folder SB3 goes on writing, which TensorBoard reads as a restart
    there and drops the earlier events from that step on."""
    if not tb.is_dir() or not _has_tensorboard():
        return
    from stable_baselines3.common.utils import get_latest_run_id
    from torch.utils.tensorboard import SummaryWriter

    folder = tb / f"ppo_{get_latest_run_id(str(tb), 'ppo')}"  # (SB3's, with reset_num_timesteps off)
    if folder.is_dir():
        SummaryWriter(log_dir=str(folder), purge_step=steps + 1).close()


def _drop_curve_rows_after(path: Path, steps: int) -> None:
    """Remove learning-curve rows past ``steps`` (written after the checkpoint a killed run
    resumes from: they will be measured again)."""
    if not path.exists():
        return
    with path.open(newline="") as f:
        rows = list(csv.reader(f))
    kept = rows[:1] + [r for r in rows[1:] if r and _curve_number(path, r, 0) <= steps]
    if len(kept) != len(rows):
        text = io.StringIO(newline="")
        csv.writer(text).writerows(kept)
        write_atomically({path: text_writer(text.getvalue())})


def train(
    config: TrainConfig, progress_bar: bool = True, designs: Sequence[Design] | None = None, resume: bool = False
) -> Path:
    """Train (or, with ``resume``, continue from ``out/last.zip``) and return ``out``.

    Ctrl-C (or SIGTERM under :func:`placer.interrupts.sigterm_as_interrupt`) saves ``last.zip``
    and re-raises ``KeyboardInterrupt``. Without ``resume`` a folder holding an earlier run's
    files is refused (no silent overwrite, no best placement taken over from another design).
    Checkpoints are taken at rollout boundaries with the state :mod:`placer.rl.resume` saves,
    so a resumed run with the same config is bit-identical to a run that was never stopped
    (Ctrl-C and the time limit drop the unfinished rollout: at most ``n_steps x n_envs`` steps
    are redone). Evaluations run at the first rollout boundary at or past each multiple of
    ``eval_every``, and at the end. A run that ended at its ``timesteps`` or its
    ``time_limit_s`` and is then extended has had one more evaluation (at its old end) than an
    unbroken run: its ``best.*`` may come from that one. A checkpoint without that state (written by an older version) resumes with
    fresh episode seeds (``seed + steps done``). One run per folder at a time.
    ``designs`` given here are in memory, not files ``config.json`` could name: such a run
    (its folder gets ``api_designs.json``) resumes only through this function with them again.

    Raises:
        ValueError: bad settings (:meth:`TrainConfig.validate`), no training design, a resume
            without the ``designs`` the run was started with.
        FileExistsError, FileNotFoundError: an earlier run without ``resume``, nothing to resume.
        FolderBusy: another run is writing into ``out``.
    """
    from sb3_contrib import MaskablePPO

    from placer.folder_lock import exclusive_folder
    from placer.rl.policy import PlacementPolicy

    config.validate()
    torch.set_num_threads(max(1, config.threads))
    out = Path(config.out)
    last = out / "last.zip"
    with exclusive_folder(out):
        earlier = [name for name in RUN_FILES if (out / name).exists()]
        if earlier and not resume:
            if last.exists():
                raise FileExistsError(
                    f"{out} already holds a run ({', '.join(earlier)}): resume it (--resume; "
                    "resume=True from Python), or use another --out"
                )
            raise FileExistsError(
                f"{out} holds files of an earlier run without a checkpoint to resume "
                f"({', '.join(earlier)}): remove them or use another --out"
            )
        if resume and not last.exists():
            raise FileNotFoundError(
                errno.ENOENT,
                "nothing to resume: no last.zip (a run killed before its first checkpoint; "
                "remove the folder and start again)",
                str(last),
            )
        from_api = designs is not None
        if resume and not from_api and (out / API_DESIGNS).exists():
            names = read_run_json(out / API_DESIGNS).get("names", [])
            raise ValueError(
                f"{out} was trained on designs given to train(designs=...) ({', '.join(names)}), "
                "which its config.json cannot name: resume it the same way, "
                "train(config, designs=..., resume=True)"
            )
        designs = list(designs) if designs is not None else load_designs(config)
        if config.eval_netlist:
            from netlists.io import load_design

            eval_design = load_design(config.eval_netlist)
        else:
            eval_design = designs[0]
        if resume:
            _check_resumable(out, config, designs, eval_design)
        device = resolve_device(config.device)
        tb = str(out / "tb") if _has_tensorboard() else None
        state: TrainingState | None = None
        if resume:
            source, state = _resume_point(out)
            try:
                model = load_model(source, device=device, tensorboard_log=tb)
            except ValueError as error:
                raise ValueError(
                    f"{error}; to resume from an earlier checkpoint, copy one of "
                    f"{out / 'checkpoints'}/step_*.zip over last.zip and remove {LAST_STATE}"
                ) from None
            if config.timesteps < model.num_timesteps:  # (its config.json would say it ended there)
                raise ValueError(
                    f"{out} is at step {model.num_timesteps}: timesteps {config.timesteps} would "
                    f"train nothing; give more than {model.num_timesteps} to go on"
                )
            if config.timesteps == model.num_timesteps:  # finished: said so, not run as if trained
                print(f"{out} has finished: step {model.num_timesteps} of {config.timesteps}; "
                      "nothing to train (give more timesteps to go on)")
                return out
            # (a run saved at step 0 evaluates step 0 again when it starts: drop that row too)
            kept_through = model.num_timesteps or -1
            _drop_curve_rows_after(out / "curve.csv", kept_through)
            _purge_tensorboard_after(out / "tb", kept_through)
            why = f"no saved training state for step {model.num_timesteps}"
            if state is None and (out / LAST_STATE).exists():  # (damaged: said, not read as missing)
                why = f"{out / LAST_STATE} is unreadable (damaged, or from another version)"
            if state is not None and state.steps != model.num_timesteps:
                state = None  # an older version's state, or one whose model is gone
            if state is not None and len(state.envs) != config.n_envs:
                why = f"the saved training state holds {len(state.envs)} envs' episodes, not {config.n_envs}"
                state = None  # another n_envs: the saved episodes do not map onto these envs
            if state is None:
                print(f"{out}: {why}: resuming with fresh episode seeds (not bit-identical to an "
                      "unbroken run)")
                vec = make_vec_env(designs, config, config.seed + model.num_timesteps)
                model.set_env(vec)
            else:
                vec = make_vec_env(designs, config, config.seed, snapshots=state.envs)
                model.set_env(vec)
                apply(model, state)
        else:
            vec = make_vec_env(designs, config, config.seed)
            model = MaskablePPO(
                PlacementPolicy,
                vec,
                n_steps=config.n_steps,
                batch_size=config.batch_size,
                n_epochs=config.n_epochs,
                learning_rate=config.learning_rate,
                ent_coef=config.ent_coef,
                gamma=config.gamma,
                gae_lambda=config.gae_lambda,
                policy_kwargs=policy_kwargs(config),
                tensorboard_log=tb,
                seed=config.seed,
                device=device,
                verbose=0,
            )
        # saved inside every .zip (SB3 keeps plain attributes): a model copied away from its run
        # folder is still placed with the environment it was trained in
        model.env_options = env_options(config)
        monitor = TrainingMonitor(config, eval_design, state.recent_proxy if state is not None else ())
        resumed = f", resuming at step {model.num_timesteps}" if resume else ""
        print(f"training on {device}; run folder {out}{resumed}")  # once every check has passed
        # written once the designs load and the model and the evaluation env build: a run that
        # fails before leaves no config.json behind to block its corrected rerun
        write_run_json(out / "config.json", asdict(config))
        record = _designs_record(designs, eval_design)
        if from_api:
            write_run_json(out / API_DESIGNS, {"names": record["names"]})
        saved_designs = read_run_json(out / DESIGNS) if resume and (out / DESIGNS).exists() else None
        if saved_designs is None:
            write_run_json(out / DESIGNS, record)
        elif "eval" not in saved_designs:  # a run from before: recorded from now on
            write_run_json(out / DESIGNS, {**saved_designs, "eval": record["eval"]})
        write_run_json(out / "env_kwargs.json", env_options(config))
        if tb is None:  # otherwise SB3 makes an empty tempdir/SB3-<time> folder on every learn()
            model.set_logger(Logger(folder=None, output_formats=[]))
        # learn() runs whole rollouts: ask for what it will run, so its progress bar adds up
        rollout = config.n_steps * config.n_envs
        remaining = -(-(config.timesteps - model.num_timesteps) // rollout) * rollout
        # the bar made here, not by learn(): an interrupt closes it before saying what was saved
        # (learn() left its bar live, and the messages were drawn into it)
        bar = PhaseProgressBar() if progress_bar and has_progress_bar() else None
        try:
            if remaining > 0:
                with warnings.catch_warnings():  # tqdm's note that its rich bar is "experimental"
                    warnings.filterwarnings("ignore", message="rich is experimental")  # (every run)
                    model.learn(
                        remaining,
                        callback=CallbackList([monitor, *([bar] if bar is not None else [])]),
                        reset_num_timesteps=False,
                        tb_log_name="ppo",
                    )
                # the time limit stops a rollout: the model goes back to its last boundary;
                # then the final evaluation, of that model when the time limit stopped it (its
                # last steps were never evaluated: up to eval_every steps of training lost to
                # best.zip; resumed, the run has this one evaluation more than an unbroken one)
                monitor.rewind_to_boundary()
                if monitor.last_eval_step != model.num_timesteps:
                    monitor.evaluate()
                check_sound(model, out)  # (the final update may be the one that diverged)
                monitor.save_last_boundary(completed=True)  # not after a crash: no broken last.zip
                if model.num_timesteps < config.timesteps:  # the time limit ended it early
                    limit = config.time_limit_s
                    why = f"by time_limit_s ({limit:g} s) " if limit is not None else ""
                    print(f"stopped {why}at step {model.num_timesteps} of {config.timesteps}: "
                          f"saved {last}; resume to go on (placer train: --resume, with --set "
                          "time_limit_s=... for more time; train(config, resume=True) from Python)")
        except ValueError as error:
            _close_bar(bar)  # (before the one-line error: it was drawn into the live bar)
            _close_after_interrupt(vec)
            if isinstance(error, TrainingDiverged):  # (said already, by check_sound)
                raise
            # a NaN policy output met inside SB3's rollout or an evaluation episode
            if not weights_finite(model) or "found invalid values" in str(error):
                raise diverged(model, out) from None
            raise
        except KeyboardInterrupt:
            _close_bar(bar)
            monitor.save_last_boundary(completed=False)
            print(f"interrupted: saved {last} at step {model.num_timesteps} (the last completed update; "
                  "the steps after it are run again on resume)")
            _close_after_interrupt(vec)
            raise
        except BaseException:
            _close_bar(bar)
            _close_after_interrupt(vec)
            raise
        vec.close()
    return out


def _close_after_interrupt(vec: VecEnv) -> None:
    """Close ``vec`` while an exception is on its way out. A Ctrl-C reaches ``SubprocVecEnv``'s
    workers too (same process group): they are gone, and closing them fails on the broken pipe;
    that failure must not replace the interrupt (the run is saved; exit 130, not an error)."""
    try:
        vec.close()
    except (OSError, EOFError):
        pass


def _has_tensorboard() -> bool:
    try:
        import tensorboard  # noqa: F401
    except ImportError:
        return False
    return True


def _close_bar(bar: PhaseProgressBar | None) -> None:
    """Close a progress bar that ``learn()`` left live by raising (it closes it only at a
    normal end), so that the next line is not drawn into it."""
    if bar is not None and getattr(bar, "pbar", None) is not None:
        bar.pbar.close()
