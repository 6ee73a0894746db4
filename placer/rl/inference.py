"""Placing a design with a trained policy: deterministic, or the best of N sampled episodes."""

from __future__ import annotations

import errno
import inspect
import json
import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gymnasium as gym
import torch

from envs.macro_placement import MacroPlacementEnv
from envs.macro_placement_checks import NothingToPlace
from envs.macro_placement_obs import GRID_CHANNELS
from netlists.errors import InputError
from netlists.formats.textio import json_loads
from netlists.model import Netlist, Placement
from placer.rl.run_folder import DESIGNS

#: Observation keys of :class:`~placer.rl.policy.PlacementPolicy`.
POLICY_INPUTS = frozenset({"grid", "graph_nodes", "graph_edges"})


class _BufferFailed(Exception):
    """Raised inside SB3's load when building our own rollout buffer failed: :func:`load_model`
    re-raises its cause as it is (a bug of ours), where any other failure of the load is the
    file's and told as bad input."""


def load_model(path: str | Path, device: str = "cpu", tensorboard_log: str | None = None) -> Any:
    """A MaskablePPO model from ``path`` (a ``.zip``, or a run folder: its best.zip, else
    last.zip) on ``device`` (auto, cpu, cuda, cuda:N; see :func:`placer.device.resolve_device`);
    ``tensorboard_log`` for a model that goes on training. Its rollout buffer allocates its rows
    only when a rollout begins (:class:`~placer.rl.buffer.DeferredRolloutBuffer`): a model that
    places designs never fills them. The file is unpickled (by stable-baselines3): load only
    models you trust, as loading one can run code.

    Raises:
        FileNotFoundError: no model there.
        ValueError: the file is no placement policy (damaged, foreign), naming it; a device
            this machine lacks.
    """
    from sb3_contrib import MaskablePPO

    from placer.device import resolve_device
    from placer.rl.buffer import deferred_rollout_buffer

    device = resolve_device(device)  # "cuda" where there is none: refused, not loaded on the CPU
    p = Path(path)
    if p.is_dir():
        p = p / "best.zip" if (p / "best.zip").exists() else p / "last.zip"
    if not p.exists():
        raise FileNotFoundError(errno.ENOENT, "no trained model here", str(p))
    def buffer_of_ours(*args: Any, **kwargs: Any) -> Any:
        """The deferred buffer, any failure of its own marked as ours (see below)."""
        try:
            return deferred_rollout_buffer(*args, **kwargs)
        except Exception as error:
            raise _BufferFailed() from error

    try:
        # (saved models name no buffer class: SB3 would build sb3-contrib's, all its rows)
        model = MaskablePPO.load(p, device=device, tensorboard_log=tensorboard_log,
                                 rollout_buffer_class=buffer_of_ours)
    except _BufferFailed as failed:  # our own buffer's construction: a bug, not the file's
        raise failed.__cause__ from None  # type: ignore[misc]
    except Exception as error:  # a zip of something else, a damaged or foreign file, ...
        raise InputError(
            f"model {p}: cannot be loaded as a trained placement policy "
            f"({type(error).__name__}: {error})"
        ) from None
    model.rollout_buffer_class = type(model.rollout_buffer)  # (a class, as SB3 expects there)
    space = model.observation_space
    if not (isinstance(space, gym.spaces.Dict) and POLICY_INPUTS <= set(space.spaces)):
        raise InputError(
            f"model {p}: not a placement policy (it observes {space}, not "
            f"{', '.join(sorted(POLICY_INPUTS))})"
        )
    grid = space.spaces["grid"].shape or ()  # (gymnasium types a space's shape Optional)
    if len(grid) != 3 or grid[0] != len(GRID_CHANNELS):  # (a model from before the density
        # channel loaded, then failed in SB3's words: "use (6, 64, 64) for the observation shape")
        raise IncompatibleModel(
            f"model {p}: made by an older placer-gym: it observes {grid[0] if grid else 'no'} grid "
            f"channels, this version's environment {len(GRID_CHANNELS)} ({', '.join(GRID_CHANNELS)}); "
            "it can be neither used nor resumed here: train a new model"
        )
    if not weights_finite(model):
        raise InputError(f"model {p}: its weights are not all finite numbers (a diverged training run)")
    return model


class IncompatibleModel(InputError):
    """A trained model whose observations this version's environment cannot give (an older
    layout): no checkpoint of its run can be resumed either."""


def weights_finite(model: Any) -> bool:
    """Whether every weight of ``model``'s policy is a finite number (not after divergence)."""
    return all(bool(torch.isfinite(w).all()) for w in model.policy.parameters())


def env_for_model(model: Any, netlist: Netlist, placement: Placement, model_path: str | Path | None = None,
                  note: Callable[[str], None] | None = None, ranks_episodes: bool = True,
                  **overrides: Any) -> MacroPlacementEnv:
    """An environment whose spaces match ``model``'s: sizes from its observation space (they
    win over any file), other options those saved in the model itself (models trained since
    they are); for older models, the run's ``env_kwargs.json``, found beside the model or, for
    ``RUN/checkpoints/step_N.zip``, in ``RUN``; else the defaults, said through ``note``. A
    model copied into another run's folder keeps its own options (that run's file, which
    differs, is said through ``note``). ``ranks_episodes``: the caller ranks sampled episodes
    by the env's objective, so a model saved without its reward weights is said through ``note``."""
    space = model.observation_space
    sizes: dict[str, Any] = {
        "max_grid": int(space["grid"].shape[-1]),
        "max_nodes": int(space["graph_nodes"].shape[0]),
        "max_edges": int(space["graph_edges"].shape[-1]),
    }
    kwargs: dict[str, Any] = {}
    saved = _env_kwargs_file(Path(model_path)) if model_path is not None else None
    own = getattr(model, "env_options", None)
    if isinstance(own, dict):
        kwargs.update(_checked_env_options(own, f"model {model_path}"))
        kwargs.setdefault("soft_macros_placed", False)  # models saved before the option
        if saved is not None and note is not None:
            try:
                beside = {k: v for k, v in _read_env_kwargs(saved).items() if k not in sizes}
            except ValueError:
                beside = {"(unreadable)": True}
            if any(json.loads(json.dumps(kwargs.get(k))) != v for k, v in beside.items()):
                note(f"{saved} differs from the environment options saved in the model (a model "
                     "of another run?): placed with the model's own")  # fmt: skip
        saved = None  # (not the source of the options)
    elif saved is not None:
        kwargs.update(_read_env_kwargs(saved))
        kwargs.setdefault("soft_macros_placed", False)  # models saved before the option
    elif note is not None:
        note("the model carries no environment options and no env_kwargs.json of its run was found "
             "beside it: placed with the environment defaults (order, wire mask, density weight, reward weights)")
    if (isinstance(own, dict) or saved is not None) and note is not None and ranks_episodes and "w_wl" not in kwargs:
        note("the model was saved before models kept their reward weights: its sampled episodes "
             "are ranked by the default weights (the proxy), whatever it was trained with")
    clashing = {k: v for k, v in overrides.items() if k in sizes and v != sizes[k]}
    if clashing:  # the model's network takes inputs of its own sizes only
        name, value = next(iter(clashing.items()))
        raise InputError(f"{name}={value!r}: the model was trained with {name}={sizes[name]}")
    kwargs.update(overrides)
    kwargs.update(sizes)
    if isinstance(kwargs.get("grid"), list):
        kwargs["grid"] = tuple(kwargs["grid"])
    try:
        env = MacroPlacementEnv((netlist, placement), **kwargs)
    except NothingToPlace:
        raise
    except InputError as error:  # the model's settings do not fit this design (a plain
        # ValueError is a bug of ours, not the settings': raised as it is)
        origin = f"its sizes and {saved}" if saved is not None else "its sizes"
        # (the env's own advice, another max_nodes, cannot be taken: the network's inputs
        # have the model's sizes)
        text = re.sub(r" \(pass max_nodes=\d+ or more\)", " (this model takes at most "
                      f"{sizes['max_nodes']}: a model trained with a larger --max-nodes places it)", str(error))  # fmt: skip
        raise InputError(f"the model's environment ({origin}): {text}") from None
    if note is not None and kwargs.get("grid", "auto") == "auto":
        _note_a_coarser_grid(netlist, sizes["max_grid"], note)
    return env


def _note_a_coarser_grid(netlist: Netlist, max_grid: int, note: Callable[[str], None]) -> None:
    """Say when a model's ``max_grid``, below the environment's default, caps the design's
    placing grid (a small model placed a larger design on its coarse grid without a word); the
    default itself caps most designs' targets by design (enough for every ICCAD04 design)."""
    import inspect

    from placer.algorithms.grid_state import auto_grid

    default = int(inspect.signature(MacroPlacementEnv.__init__).parameters["max_grid"].default)
    if max_grid >= default:
        return
    capped, own = auto_grid(netlist, max_grid), auto_grid(netlist, default)
    if capped != own:
        note(f"the model's max_grid {max_grid} places {netlist.name} on a {capped[0]} x {capped[1]} "
             f"grid, coarser than the {own[0]} x {own[1]} of the default max_grid {default} (a model "
             f"trained with --max-grid {default} places it on that)")


def _read_env_kwargs(path: Path) -> dict[str, Any]:
    """A run's saved environment options, refused in one line naming the file when unreadable
    or naming options the environment does not take."""
    try:
        saved = json_loads(path.read_text())
    except (OSError, ValueError) as error:
        raise InputError(f"{path}: not readable JSON ({error})") from None
    return _checked_env_options(saved, str(path))


def _checked_env_options(saved: object, where: str) -> dict[str, Any]:
    """``saved`` when it is a dict of options the environment takes; else ValueError naming
    ``where`` they came from."""
    if not isinstance(saved, dict):
        raise InputError(f"{where}: expected a JSON object of environment options")
    sources = {"self", "netlist", "designs", "generator"}  # the design comes from the caller
    known = set(inspect.signature(MacroPlacementEnv.__init__).parameters) - sources
    unknown = sorted(set(saved) - known)
    if unknown:
        raise InputError(f"{where}: unknown environment option(s) {unknown}")
    return dict(saved)


def _env_kwargs_file(model_path: Path) -> Path | None:
    """The ``env_kwargs.json`` of the run a model belongs to (None when there is none)."""
    return _run_file(model_path, "env_kwargs.json")


def _run_file(model_path: Path, name: str) -> Path | None:
    """The file ``name`` of the run a model belongs to (None when there is none); the path
    resolved first, so ``step_N.zip`` named from inside ``checkpoints/`` or through a link
    finds its run too."""
    model_path = model_path.resolve()
    folder = model_path if model_path.is_dir() else model_path.parent
    for candidate in (folder, folder.parent if folder.name == "checkpoints" else None):
        if candidate is not None and (candidate / name).is_file():
            return candidate / name
    return None


def model_notes(model: Any, model_path: str | Path, netlist: Netlist) -> list[str]:
    """What someone placing ``netlist`` with a model should be told: that it is its run's
    untrained policy (no evaluation of the run beat step 0, so its best.zip is the starting
    network), or that its run trained on other designs (its ``designs.json``) than this one."""
    notes = []
    if int(getattr(model, "num_timesteps", -1)) == 0:
        notes.append("the model is an untrained policy, saved at step 0 (a run's best.zip is when no later "
                     "evaluation beat it: a run of a few thousand steps rarely moves it off the wire-mask "
                     "greedy placement)")
    record = _run_file(Path(model_path), DESIGNS)
    try:
        names = json.loads(record.read_text()).get("names") if record is not None else None
    except (OSError, ValueError, AttributeError):
        names = None  # (an unreadable record: nothing to say)
    if isinstance(names, list) and names and netlist.name not in names:
        shown = ", ".join(map(str, names[:3])) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
        notes.append(f"the model was trained on {shown}, not on {netlist.name} (its run's designs.json)")
    return notes


def place_with_policy(
    model: Any,
    env: MacroPlacementEnv,
    samples: int = 0,
    seed: int = 0,
    deadline: Any | None = None,
    progress: Callable[[Any], None] | None = None,
) -> tuple[Placement | None, dict[str, Any]]:
    """Run the deterministic episode, then up to ``samples`` stochastic ones (episode ``k``
    seeded ``seed + k``, which :func:`~placer.rl.monitor.run_episode` wraps below 2**64 for
    torch; stopping when ``deadline.expired()``, also within an episode, which is then
    dropped); the best by the model's own objective wins (the weighted cost its reward is minus
    of: the proxy, unless it was trained with other weights or a timing weight). When the
    deadline stops the sampled episodes short of ``samples``, ``progress`` (a placing method's
    callback) gets a note saying so (a run cut by the clock is not reproducible; not said when
    an interrupt stopped it).

    Returns the best final placement and its info; ``(None, {})`` when every episode was
    infeasible (a macro found no legal cell).
    """
    from placer.algorithms.base import note_budget_cut
    from placer.rl.monitor import run_episode

    best: tuple[float, Placement | None, dict[str, Any]] = (math.inf, None, {})
    sampled = 0  # sampled episodes run to their end
    for k in range(samples + 1):
        if k and deadline is not None and deadline.expired():
            break
        # a sampled episode stops with the deadline (the deterministic one always completes)
        stop = deadline.expired if k and deadline is not None else None
        result = run_episode(model, env, deterministic=(k == 0), seed=seed + k, stop=stop)
        sampled += bool(k and result)
        objective = result["cost"]["objective"] if "cost" in result else math.inf
        if objective < best[0] or best[1] is None and "placement" in result:
            best = (objective, result.get("placement"), result)
    if sampled < samples and progress is not None:
        note_budget_cut(progress, f"after {sampled:,} of the {samples:,} sampled episodes (samples)",
                        "a larger budget or fewer samples is")
    return best[1], best[2]


def place_and_refine(
    model: Any,
    env: MacroPlacementEnv,
    deadline: Any,
    samples: int = 0,
    seed: int = 0,
    soft_refine: bool = False,
    sample_share: float = 0.5,
    progress: Any | None = None,
    refine_options: dict[str, Any] | None = None,
) -> tuple[Placement | None, dict[str, Any]]:
    """The ``rl`` placer's pipeline: episodes (:func:`place_with_policy`) until ``sample_share``
    of ``deadline``'s budget when ``soft_refine`` (else until the deadline), then the soft
    macros of the best episode refined for the rest of the budget (``refine_options``: options
    of :func:`~placer.algorithms.refine.refine_soft_macros`). The share is counted on
    ``deadline``'s clock, from its start: what ran before this call (the ``rl`` placer's model
    load and environment build) comes out of the episodes' share, not the refinement's, and
    past the share only the deterministic episode runs.

    Returns the placement (None when every episode was infeasible) and the best episode's info
    with ``fd_proxy`` (its proxy with force-directed soft macros), ``proxy`` (the final one),
    ``episodes_s`` and ``refined`` (whether the refine step ran: the episodes can take the
    whole budget, in a fresh process's first episode for one). ``progress`` also gets the notes
    of a run the budget cut short (the sampled episodes before ``samples``, the refinement
    before its ``max_steps``): such a run is not reproducible.
    """
    from placer.algorithms.base import Deadline, Progress, rescaled
    from placer.algorithms.refine import refine_soft_macros
    from placer.cost.proxy import evaluate

    report = progress or (lambda _p: None)
    # (a fresh Deadline of the whole share, made here, gave the episodes the time the model's
    # load had already spent: the refinement got less than its share, or the run overran)
    share_left = max(deadline.budget_s * sample_share - deadline.elapsed(), 0.0)
    episodes = Deadline(share_left) if soft_refine else deadline
    best, info = place_with_policy(model, env, samples, seed, episodes, report)
    info = dict(info)
    info["episodes_s"] = deadline.elapsed()
    fd_proxy = info.get("cost", {}).get("proxy", math.inf)
    info["fd_proxy"] = info["proxy"] = fd_proxy
    info["refined"] = False
    report(Progress(deadline.fraction(), fd_proxy if best is not None else None, "rl episode(s) done"))
    if best is None or not soft_refine or deadline.expired():
        return best, info
    netlist = env.netlist
    assert netlist is not None
    best = refine_soft_macros(netlist, best, deadline.remaining(), seed,
                              rescaled(report, deadline.fraction(), 1.0), refine_options)
    info["proxy"] = evaluate(netlist, best).proxy
    info["placement"] = best
    info["refined"] = True
    report(Progress(1.0, info["proxy"], "soft macros refined"))
    return best, info
