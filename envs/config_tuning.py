"""``placer/ConfigTuning-v0``: tune the knobs of a real database (SQLite by default).

Thin adapter over :mod:`learned_systems.config`: the backend copies a fresh database per trial,
applies the knobs and measures the workload; this env only maps actions to configurations and
results to rewards. Reward = mean throughput / mean throughput of the defaults (measured on the
first reset, and again while that failed). Each configuration is measured once per env and its
result reused (a failed one is measured again), so the
same action gives the same reward within an env; another env (or run) measures again, so the
id is registered ``nondeterministic=True``. A failed trial (bad start, workload error) gives reward 0 and ``info["ok"] =
False``, not an exception; a programming error inside a trial (a TypeError, KeyError, ...: a bug,
not the configuration's) is raised. While the defaults cannot be measured every reward is 0:
``reset`` and ``step`` say so in ``info["reference_ok"]`` (False) and why in
``info["reference_error"]`` (the failed trial's error; None once measured). The knob space is
durable unless ``allow_unsafe=True``; every info dict names the space used. ``workload`` None runs the system's default (SQLite ycsb-a,
PostgreSQL tpcb).

An episode ends (``terminated``) after ``horizon`` steps, which the observation counts.

``action_mode="box"`` (default, for SB3 agents): one value in ``[-1, 1]`` per knob (finite
values outside are clipped to it; -1 is a knob's lowest value or first choice: categorical
knobs are binned, numeric ones mapped linearly or log-scaled). The box is symmetric, as
stable-baselines3 expects: PPO's first actions centre on 0, and on a ``[0, 1]`` box half of
their values were clipped to each knob's lowest. ``action_mode="dict"``: the mixed space
itself, ``Discrete`` for categorical knobs and ``Box(0, 1)`` for numeric ones (for agents of
one's own). The observation shows the last configuration in ``[0, 1]`` per knob.

Measurements hold with one env measuring at a time per core: every env measures its own
defaults when first reset and keeps that measurement, so two envs vectorised on two cores
(busy with each other) measured references 690 and 830 ops/s against 1,076 and 1,060 one
after the other, and rewarded one action 1.45 and 1.17. Vectorise with as many envs as idle
cores, or tune through ``placer tune``, which measures one trial at a time.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import gymnasium as gym
import numpy as np

from learned_systems.config.factory import check_backend_options, make_backend, parameter_names
from learned_systems.config.knobs import KnobError
from learned_systems.config.trial import TrialResult
from learned_systems.objectives import ConfigObjective, MemoizedObjective
from learned_systems.plots import episode_rewards_image
from learned_systems.validation import whole_number
from netlists.errors import InputError

#: The arguments that build a backend, with their defaults: given beside ``backend=``, they would
#: be ignored (the backend passed in already holds its own).
_BACKEND_ARGUMENTS = {"system": "sqlite", "workload": None, "rows": None, "duration_s": 0.5, "repeats": 3,
                      "seed": 0}


def _check_passed_backend(
    backend, system, workload, rows, duration_s, repeats, allow_unsafe, seed, backend_options
) -> None:
    """Refuse arguments a ``backend`` passed in would silently override, and an unsafe space the
    caller did not open (the knob space is durable unless ``allow_unsafe=True``)."""
    given = dict(system=system, workload=workload, rows=rows, duration_s=duration_s, repeats=repeats, seed=seed)
    ignored = [name for name, default in _BACKEND_ARGUMENTS.items() if given[name] != default]
    if "system" in ignored and system == getattr(backend, "system", None):  # says what it is
        ignored.remove("system")
    ignored += sorted(backend_options)
    if ignored:
        raise InputError(
            f"{', '.join(ignored)} build a backend: with backend= passed in they would be ignored "
            "(set them on the backend instead)"
        )
    opened = bool(getattr(getattr(backend, "space", None), "allow_unsafe", False))
    if opened != bool(allow_unsafe):
        raise InputError(
            f"the backend's knob space is {'unsafe' if opened else 'durable'} but allow_unsafe="
            f"{allow_unsafe!r}: pass allow_unsafe={opened} to use it"
        )


class ConfigTuningEnv(gym.Env):
    """Tune a database's knobs: each step runs the workload under the configuration an action
    decodes to and rewards its throughput over the defaults' (see the module's docstring for the
    spaces, the reward and ``info``; ``__init__``'s for the arguments). Made by
    ``gym.make("placer/ConfigTuning-v0", ...)``."""

    metadata = {"render_modes": ["ansi", "rgb_array"], "render_fps": 1}

    def __init__(
        self,
        system: str = "sqlite",
        workload: str | None = None,
        rows: int | None = None,
        duration_s: float = 0.5,
        repeats: int = 3,
        allow_unsafe: bool = False,
        horizon: int = 10,
        action_mode: str = "box",
        backend=None,
        seed: int = 0,
        render_mode: str | None = None,
        **backend_options: Any,
    ) -> None:
        """Args (defaults in brackets; windows shorter than ``placer tune``'s 1 s, for quick
        episodes):
            system: "sqlite" or "postgres" ["sqlite"].
            workload: the system's workload [None: SQLite ycsb-a, PostgreSQL tpcb].
            rows: SQLite rows or pgbench scale [None: 200,000 rows; scale 10].
            duration_s: seconds per measured window [0.5; PostgreSQL rounds it to whole
                seconds, halves up: 1]. repeats: measured windows per trial [3].
            allow_unsafe: open the knobs that trade durability for speed [False].
            horizon: steps per episode [10]. action_mode: "box" or "dict" ["box"].
            backend: a backend of one's own (then the arguments that build one are refused)
                [None: built from the arguments above].
            seed: seed of the workload's data and operations [0].
            render_mode: None, "ansi" or "rgb_array" [None].
            backend_options: the system's further options (SQLite ``ops_per_transaction`` [20];
                PostgreSQL ``clients`` [4] and ``warmup_s`` [1]).
        """
        if action_mode not in ("box", "dict"):
            raise InputError(f"action_mode must be 'box' or 'dict', got {action_mode!r}")
        whole_number("horizon", horizon, 1)
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise InputError(f"unsupported render_mode {render_mode!r}: expected None, 'ansi' or 'rgb_array'")
        self._owns_backend = backend is None  # one passed in belongs to the caller
        # (the env's own parameters named, not only make_backend's: duration=0.2 was "unknown
        # option 'duration' for sqlite: expected one of ['ops_per_transaction']")
        own = parameter_names(ConfigTuningEnv.__init__)
        through = [name for name in parameter_names(make_backend) if name not in own]  # (template_dir, ...)
        check_backend_options(system if backend is None else getattr(backend, "system", system),
                              set(backend_options) - set(through), own + through, "ConfigTuning-v0")
        if backend is not None:
            _check_passed_backend(
                backend, system, workload, rows, duration_s, repeats, allow_unsafe, seed, backend_options
            )
        else:
            backend = make_backend(
                system,
                workload,
                rows=rows,
                duration_s=duration_s,
                repeats=repeats,
                allow_unsafe=allow_unsafe,
                seed=seed,
                **backend_options,
            )
        self.objective = MemoizedObjective(ConfigObjective(backend))
        self.space = self.objective.space
        self.horizon = int(horizon)
        self.action_mode = action_mode
        self.render_mode = render_mode
        size = len(self.space.knobs)
        if action_mode == "box":
            self.action_space = gym.spaces.Box(-1.0, 1.0, (size,), np.float32)
        else:
            self.action_space = gym.spaces.Dict(
                {
                    k.name: gym.spaces.Discrete(len(k.choices))
                    if k.categorical
                    else gym.spaces.Box(0.0, 1.0, (1,), np.float32)
                    for k in self.space.knobs
                }
            )
        # Last configuration (unit vector), its reward squashed to [0, 1), episode progress.
        self.observation_space = gym.spaces.Box(0.0, 1.0, (size + 2,), np.float32)
        self.reference: TrialResult | None = None
        self._steps = 0
        self._rewards: list[float] = []  # this episode's, for render("rgb_array")
        self._last = np.zeros(size + 2, np.float32)
        self._last_info: dict[str, Any] = {}
        self._closed = False

    def decode(self, action) -> dict[str, Any]:
        """The configuration an action stands for."""
        if self.action_mode == "box":
            return self.space.from_box(action, symmetric=True)
        if not isinstance(action, Mapping):
            raise KnobError(
                f"action_mode='dict' takes a dict of knob values, got {type(action).__name__}"
            )
        return self.space.from_mixed(action)

    def _measure_reference(self) -> TrialResult:
        """Measure the defaults when they have no good measurement yet (a failed one is tried
        again: rewards are relative to it); the reference, as ``self.reference`` now holds."""
        if self.reference is None or not self.reference.ok:
            self.reference = self.objective.evaluate(self.space.defaults())
        return self.reference

    def run_config(self, config: dict[str, Any]) -> tuple[TrialResult, float]:
        """Measure one configuration (bad knob values raise ``KnobError``) and its reward:
        throughput over the defaults', 0 for a failed trial and while the defaults could not
        be measured (``info["reference_ok"]`` says which)."""
        self._check_open()  # (a closed env's backend rebuilt its template where no sweep looks)
        self._measure_reference()
        result = self.objective.evaluate(config)
        score = self.objective.score(result, self.reference)
        return result, 0.0 if score is None else float(score)

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("this environment is closed (its scratch databases are gone): make a new one")

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[np.ndarray, dict[str, Any]]:
        self._check_open()
        if options:
            raise InputError(f"unknown reset options {sorted(options)}: this env takes none")
        super().reset(seed=seed)
        reference = self._measure_reference()
        self._steps = 0
        self._rewards = []
        self._last_info = {}
        self._last = np.append(self.space.to_unit(self.space.defaults()), [0.5, 0.0]).astype(
            np.float32
        )
        return self._last.copy(), {
            "space": self.space.name,
            "reference_ok": reference.ok,
            "reference_throughput": reference.throughput_mean,
            "reference_error": reference.error,
        }

    def step(self, action: np.ndarray) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        self._check_open()
        if self.reference is None:
            raise RuntimeError("call reset() before step()")
        if self._steps >= self.horizon:  # as the macro env: an ended episode takes no more steps
            raise RuntimeError(f"the episode ended after {self.horizon} steps: call reset()")
        config = self.decode(action)
        result, reward = self.run_config(config)
        self._steps += 1
        self._rewards.append(float(reward))
        self._last = np.append(
            self.space.to_unit(result.config or config),
            [reward / (1.0 + reward), self._steps / self.horizon],
        ).astype(np.float32)
        self._last = np.clip(self._last, 0.0, 1.0)
        self._last_info = {
            "config": result.config,
            "ok": result.ok,
            "error": result.error,
            "space": result.space,
            "throughput_mean": result.throughput_mean,
            "throughput_std": result.throughput_std,
            "unit": result.unit,
            "reference_ok": self.reference.ok,
            "reference_error": self.reference.error,
        }
        # the observation shows the episode's progress (steps / horizon), so its end is part of
        # the task: terminated, not truncated (check_env refused horizon=1 as "truncates after 1 step")
        return self._last.copy(), reward, self._steps >= self.horizon, False, self._last_info

    def __copy__(self) -> ConfigTuningEnv:
        """A shallow copy shares the original's backend, and its ownership as it is."""
        clone = self.__class__.__new__(self.__class__)
        clone.__dict__.update(self.__dict__)
        return clone

    def __setstate__(self, state: dict[str, Any]) -> None:
        """A deep copy or an unpickled env owns the backend cloned with it, into scratch files of
        its own (its close() left them on disk when the original's backend had been passed in);
        shallow copies do not come here (:meth:`__copy__`)."""
        self.__dict__.update(state)
        self._owns_backend = True

    def close(self) -> None:
        """Remove the scratch files of the backend this env made, now rather than at garbage
        collection (a backend passed in is left to its owner)."""
        close = getattr(self.objective.inner.backend, "close", None)
        if self._owns_backend and close is not None:
            close()
        self._closed = True
        super().close()

    def _render_title(self) -> str:
        return f"{self.objective.system} {self.objective.workload}"

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
