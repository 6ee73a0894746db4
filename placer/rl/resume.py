"""Exact resume of a training run: everything besides the model that decides what happens next.

A PPO run is a pure function of its state at a rollout boundary (after an update, before the
next rollout): the model (policy, optimiser, step count, saved by stable-baselines3 in the
``.zip``) plus what the ``.zip`` leaves out, captured here as a :class:`TrainingState`:

* the global random generators stable-baselines3 draws from (torch samples the actions, numpy
  shuffles the minibatches, Python's ``random`` for completeness);
* each environment as it stands mid-episode (its design, partial placement, own generator and
  its ``Monitor`` statistics), pickled with the training designs as references, so a state file
  holds the episodes in progress, not copies of the netlists;
* the last observation and episode-start flags the next rollout begins from, and the recent
  episode proxies behind ``curve.csv``'s training mean;
* what the logger holds unwritten: SB3 writes an update's losses at the end of the next
  rollout, so without them a resume lost one TensorBoard point of every ``train/*`` scalar.

Restoring all of it after ``MaskablePPO.load`` makes a resumed run bit-identical to one that
was never stopped (for the same config; checked by ``tests/placer/rl/test_training.py``).
"""

from __future__ import annotations

import copy
import io
import pickle
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from stable_baselines3.common.monitor import Monitor

from netlists.formats.textio import write_atomically
from placer.rl.random_state import generator_states, set_generator_states

#: Bumped when the layout of :class:`TrainingState` changes; other versions are not used.
STATE_VERSION = 2

#: The SB3 logger's dicts of values recorded and not yet written.
LOGGER_PENDING = ("name_to_value", "name_to_count", "name_to_excluded")


class SnapshotMonitor(Monitor):
    """A ``Monitor`` that can hand out its whole state (wrapped env included) as bytes.

    It runs wherever the env runs (a ``SubprocVecEnv`` worker too, through ``env_method``).
    The env's prepared designs are pickled as references (``("design", k, part)``), resolved
    against the same designs on restore (:func:`restore_monitor`)."""

    def snapshot(self) -> bytes:
        buffer = io.BytesIO()
        _DesignPickler(buffer, _design_parts(self)).dump(self)
        return buffer.getvalue()


def restore_monitor(blob: bytes, fresh: SnapshotMonitor) -> SnapshotMonitor:
    """The monitor pickled in ``blob``, its design references resolved to ``fresh``'s designs
    (``fresh`` is a new monitor over the same training designs, in the same order)."""
    return _DesignUnpickler(io.BytesIO(blob), _design_parts(fresh)).load()


def _design_parts(monitor: Monitor) -> dict[tuple[int, str], Any]:
    """The large immutable per-design objects of ``monitor``'s env, by (index, part): the
    prepared design and the per-netlist caches an episode's state holds (its cost context is
    most of an ibm17 episode's bytes)."""
    from placer.algorithms.grid_state import hard_macro_pins
    from placer.cost.context import cost_context

    parts: dict[tuple[int, str], Any] = {}
    for k, static in enumerate(getattr(monitor.unwrapped, "prepared_designs", ())):
        parts[(k, "static")] = static
        parts[(k, "netlist")] = static.netlist
        parts[(k, "placement")] = static.placement
        parts[(k, "cost_context")] = cost_context(static.netlist)
        parts[(k, "pins")] = hard_macro_pins(static.netlist)
    return parts


class _DesignPickler(pickle.Pickler):
    def __init__(self, file: io.BytesIO, parts: dict[tuple[int, str], Any]) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self._refs = {id(obj): key for key, obj in parts.items()}

    def persistent_id(self, obj: Any) -> tuple[int, str] | None:
        return self._refs.get(id(obj))


class _DesignUnpickler(pickle.Unpickler):
    def __init__(self, file: io.BytesIO, parts: dict[tuple[int, str], Any]) -> None:
        super().__init__(file)
        self._parts = parts

    def persistent_load(self, pid: Any) -> Any:
        try:
            return self._parts[tuple(pid)]
        except KeyError:
            raise pickle.UnpicklingError(f"the saved episode refers to design part {pid!r}, which these designs lack") from None


@dataclass
class TrainingState:
    """What a model ``.zip`` leaves out, at one rollout boundary (see the module docstring)."""

    steps: int
    n_updates: int
    rng: dict[str, Any]
    last_obs: Any
    last_episode_starts: np.ndarray
    ep_info_buffer: list[dict[str, Any]]
    envs: list[bytes]
    recent_proxy: list[float]
    # the model's own parameters at the boundary: kept in memory only, to rewind a model
    # stopped mid-update (a Ctrl-C during ``train()``); the saved ``.zip`` holds them on disk
    policy: dict[str, torch.Tensor] | None = field(default=None, repr=False)
    optimizer: dict[str, Any] | None = field(default=None, repr=False)
    version: int = STATE_VERSION
    #: the logger's unwritten values (:data:`LOGGER_PENDING`); None in states saved before
    #: they were kept (read as a class default: the layout is otherwise the same)
    log_pending: dict[str, dict[str, Any]] | None = None
    #: the run's training wall time at this boundary (curve.csv's wall_s clock), so a resume
    #: goes on from it; None in states saved before it was kept (the curve's last row then)
    wall_s: float | None = None


def pending_values(logger: Any) -> dict[str, dict[str, Any]]:
    """A copy of what ``logger`` (SB3's) has recorded and not yet written."""
    return {name: dict(getattr(logger, name)) for name in LOGGER_PENDING}


def logger_pending(model: Any) -> dict[str, dict[str, Any]] | None:
    """:func:`pending_values` of ``model``'s logger (None before it has one)."""
    logger = getattr(model, "_logger", None)
    return None if logger is None else pending_values(logger)


def restore_logger_pending(model: Any, pending: dict[str, dict[str, Any]] | None) -> None:
    """Put the unwritten values of a saved boundary back into ``model``'s logger (the one
    ``learn`` has set up: a logger made before it is replaced)."""
    for name, values in (pending or {}).items():
        getattr(model.logger, name).update(values)


def capture(model: Any, recent_proxy: list[float], wall_s: float | None = None) -> TrainingState:
    """The state of ``model`` (and its envs) now, at ``wall_s`` seconds of training; call it at
    a rollout boundary only."""
    rng = generator_states(cuda=torch.cuda.is_available())
    return TrainingState(
        steps=int(model.num_timesteps),
        n_updates=int(model._n_updates),
        rng=rng,
        last_obs=copy.deepcopy(model._last_obs),
        last_episode_starts=np.array(model._last_episode_starts, copy=True),
        ep_info_buffer=list(model.ep_info_buffer or ()),
        envs=list(model.get_env().env_method("snapshot")),
        recent_proxy=list(recent_proxy),
        policy={k: v.detach().clone() for k, v in model.policy.state_dict().items()},
        optimizer=copy.deepcopy(model.policy.optimizer.state_dict()),
        log_pending=logger_pending(model),
        wall_s=wall_s,
    )


def rewind(model: Any, state: TrainingState) -> None:
    """Put ``model``'s parameters and counters back to ``state`` (undoes a partial rollout or
    a partial update before the model is saved)."""
    if state.policy is not None:
        model.policy.load_state_dict(state.policy)
    if state.optimizer is not None:
        model.policy.optimizer.load_state_dict(state.optimizer)
    model.num_timesteps = state.steps
    model._n_updates = state.n_updates


def apply(model: Any, state: TrainingState) -> None:
    """Restore the generators, next observation and episode statistics of ``state`` into a
    freshly loaded ``model`` (its envs are rebuilt with :func:`restore_monitor`)."""
    set_generator_states(state.rng)
    model._last_obs = copy.deepcopy(state.last_obs)
    model._last_episode_starts = np.array(state.last_episode_starts, copy=True)
    model.ep_info_buffer.clear()
    model.ep_info_buffer.extend(state.ep_info_buffer)
    model._n_updates = state.n_updates


def save_state(path: Path, state: TrainingState) -> None:
    """Write ``state`` (without the in-memory parameter copies) atomically to ``path``."""
    on_disk = copy.copy(state)
    on_disk.policy = on_disk.optimizer = None

    def write(temporary: Path) -> None:
        with temporary.open("xb") as f:
            pickle.dump(on_disk, f, protocol=pickle.HIGHEST_PROTOCOL)

    write_atomically({path: write})


def load_state(path: Path) -> TrainingState | None:
    """The state saved at ``path`` (a pickle: only a run folder one trusts is resumed, as
    loading it can run code); None when there is none, it is unreadable or from another
    version, so the caller resumes without it (the caller checks that its step count is the
    model's: a run killed between writing the two leaves them apart)."""
    return read_state(path)[0]


def read_state(path: Path) -> tuple[TrainingState | None, str]:
    """:func:`load_state`'s state, and why there is none (``""`` where there is one, or no
    file): the error reading it, or the version it is from."""
    if not path.exists():
        return None, ""
    try:
        with path.open("rb") as f:
            state = pickle.load(f)
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, ValueError,
            TypeError, IndexError, KeyError) as error:  # damaged bytes fail in any of these
        return None, f"damaged: {type(error).__name__}: {error}"
    if not isinstance(state, TrainingState):
        return None, f"damaged: it holds a {type(state).__name__}, not a training state"
    if state.version != STATE_VERSION:
        return None, f"from another version: state version {state.version}, this one reads {STATE_VERSION}"
    return state, ""
