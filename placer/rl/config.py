"""The settings of a training run (:class:`TrainConfig`, stored as ``config.json``) and what
follows from them for the environment and the policy.

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

Memory: the rollout buffer of 1,024 steps x 2 envs holds 285 MB on the default design (the
grid channels, node features and action masks of every row; the design's padded graph and
vector are kept once per design by :mod:`placer.rl.buffer`, where sb3-contrib's buffer held
453 MB, and 957 MB at ``max_edges`` 16,384: ``experiments/bench/rollout_buffer_memory.py``).
A run whose estimated memory exceeds what the machine has free is refused before it starts
(:mod:`placer.rl.memory`, which also holds the hard caps of ``max_grid`` and ``max_nodes``).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from typing import Any

from envs.macro_placement_checks import MAX_WEIGHT
from netlists.errors import InputError, refuse_nul_byte
from netlists.model import Netlist, Placement
from placer.cost.timing import TIMING_METRICS
from placer.device import resolve_device
from placer.rl.memory import MAX_GRID, MAX_NODES, refuse_what_cannot_fit

#: A design as the training takes it: its netlist and its initial placement.
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

#: The largest training seed: numpy's and SB3's generators take 32-bit seeds.
MAX_SEED = 2**32 - 1


class TrainingDiverged(InputError):
    """The policy's weights or outputs stopped being finite numbers during training."""


class ObservationNotFinite(InputError):
    """The environment handed the policy an observation holding NaN or infinity: a fault of
    the environment or its design's data, not of training (torch's refusal of the NaN logits
    that follow read as divergence)."""


@dataclass
class TrainConfig:
    """Everything a training run needs; stored as ``config.json`` in the output folder.

    ``out``, ``netlists``, ``suite`` and ``eval_netlist`` take text or ``os.PathLike`` paths
    (``pathlib.Path``), kept as text."""

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
    keep_checkpoints: int = 0  # the newest K checkpoints/step_N.zip kept (0: every one)
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

    def __post_init__(self) -> None:
        self._paths_as_text()

    def _paths_as_text(self) -> None:
        """``out``, ``suite``, ``eval_netlist`` and ``netlists``' items given as paths
        (``pathlib.Path``, any ``os.PathLike``) as the text config.json stores (``out=Path("x")``
        was refused as no path)."""
        for name in ("out", "suite", "eval_netlist"):
            value = getattr(self, name)
            if isinstance(value, os.PathLike) and isinstance(os.fspath(value), str):
                setattr(self, name, os.fspath(value))
        if isinstance(self.netlists, list | tuple) and any(isinstance(p, os.PathLike) for p in self.netlists):
            self.netlists = type(self.netlists)(
                os.fspath(p) if isinstance(p, os.PathLike) and isinstance(os.fspath(p), str) else p for p in self.netlists
            )

    def validate(self, memory: bool = True) -> None:
        """Refuse settings under which training would crash mid-run, learn from NaN or do
        nothing (each named with what is allowed), before anything is written. Paths given as
        ``os.PathLike`` (set since the config was made) are taken as their text; a path holding
        a NUL byte (a config.json edited by hand) is refused. With ``memory``, sizes whose
        estimated memory exceeds what this machine has free are refused too
        (:func:`placer.rl.memory.refuse_what_cannot_fit`).

        Raises:
            ValueError: the first bad setting.
        """
        self._paths_as_text()
        def whole(name: str, low: int, high: int | None = None) -> None:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < low or high is not None and value > high:
                span = f">= {low}" if high is None else f"from {low} to {high}"
                raise InputError(f"{name} must be a whole number {span}, got {value!r}")
            if name == "seed" and value > MAX_SEED:  # numpy's and SB3's generators: 32 bits
                raise InputError(f"seed must be a whole number from 0 to {MAX_SEED}, got {value!r}")

        def number(name: str, low: float, high: float = math.inf, low_open: bool = False) -> None:
            value = getattr(self, name)
            ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
            ok = ok and (value > low if low_open else value >= low) and value <= high
            if not ok:
                bracket = "(" if low_open else "["
                span = f"{'>' if low_open else '>='} {low:g}" if high == math.inf else f"in {bracket}{low:g}, {high:g}]"
                raise InputError(f"{name} must be a finite number {span}, got {value!r}")  # (not "(0, inf]")

        def text(name: str, optional: bool = False) -> None:
            value = getattr(self, name)
            if not (isinstance(value, str) or optional and value is None):
                kind = "a path or None" if optional else "a path"
                raise InputError(f"{name} must be {kind}, got {value!r}")

        text("out")
        text("suite", optional=True)
        text("eval_netlist", optional=True)
        if not isinstance(self.netlists, list | tuple) or not all(isinstance(p, str) for p in self.netlists):
            raise InputError(f"netlists must be a list of paths, got {self.netlists!r}")
        for name in ("out", "suite", "eval_netlist"):
            if getattr(self, name) is not None:
                refuse_nul_byte(getattr(self, name), name)
        for index, path in enumerate(self.netlists):
            refuse_nul_byte(path, f"netlists[{index}]")
        for name in ("use_wiremask", "soft_macros_placed", "use_graph", "dense_shaping"):
            if not isinstance(getattr(self, name), bool):
                raise InputError(f"{name} must be true or false, got {getattr(self, name)!r}")
        for name, low in (("timesteps", 1), ("n_envs", 1), ("seed", 0), ("threads", 1),
                          ("checkpoint_every", 1), ("eval_every", 1), ("n_steps", 1),
                          ("batch_size", 2), ("n_epochs", 1), ("max_edges", 2), ("generated", 0),
                          ("keep_checkpoints", 0)):  # fmt: skip
            whole(name, low)
        whole("max_grid", 8, MAX_GRID)
        whole("max_nodes", 1, MAX_NODES)
        if self.n_steps * self.n_envs < 2:
            raise InputError("n_steps x n_envs must be >= 2 (a rollout of one step has no advantage spread)")
        if (self.n_steps * self.n_envs) % self.batch_size == 1:  # (NaN, then "training diverged")
            raise InputError(
                f"n_steps x n_envs ({self.n_steps * self.n_envs}) leaves a last minibatch of one row with "
                f"batch_size {self.batch_size}, whose advantages cannot be normalised (NaN): choose a "
                "batch_size that divides n_steps x n_envs, or leaves at least two rows over"
            )
        if self.max_grid % 8:
            raise InputError(f"max_grid must be a multiple of 8, got {self.max_grid}")
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
            raise InputError(f"order must be 'area', 'degree' or 'file', got {self.order!r}")
        if self.vec not in ("dummy", "subproc"):
            raise InputError(f"vec must be 'dummy' or 'subproc', got {self.vec!r}")
        if self.soft_placement not in ("fd", "keep"):
            raise InputError(f"soft_placement must be 'fd' or 'keep', got {self.soft_placement!r}")
        if self.timing_metric not in TIMING_METRICS:
            raise InputError(f"timing_metric must be one of {', '.join(map(repr, TIMING_METRICS))}, "
                             f"got {self.timing_metric!r}")
        if self.timing_metric != "worst" and self.w_timing == 0:  # accepted, then weighing nothing
            raise InputError("timing_metric acts only with w_timing > 0")
        resolve_device(self.device)
        if memory:
            refuse_what_cannot_fit(self)

    def env_kwargs(self) -> dict[str, Any]:
        """The keyword arguments of the training environments (``MacroPlacementEnv``)."""
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


#: The settings a resumed run may change; any other difference from its config.json is refused.
RESUMABLE_CHANGES = frozenset({"out", "timesteps", "device", "time_limit_s", "keep_checkpoints"})


def env_options(config: TrainConfig) -> dict[str, Any]:
    """The environment options a placer needs to rebuild a run's env (:data:`ENV_OPTION_KEYS`)."""
    return {k: v for k, v in config.env_kwargs().items() if k in ENV_OPTION_KEYS}


def policy_kwargs(config: TrainConfig) -> dict[str, Any]:
    """MaskablePPO's ``policy_kwargs`` for ``config``: the graph encoder on or off, the wire-mask prior."""
    return {
        "features_extractor_kwargs": {"use_graph": config.use_graph},
        "wiremask_prior": config.wiremask_prior if config.use_wiremask else 0.0,
    }
