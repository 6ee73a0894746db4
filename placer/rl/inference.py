"""Placing a design with a trained policy: deterministic, or the best of N sampled episodes."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import torch

from envs.macro_placement import MacroPlacementEnv
from netlists.model import Netlist, Placement


def load_model(path: str | Path, device: str = "cpu") -> Any:
    """A MaskablePPO model from ``path`` (a ``.zip``, or a run folder: its best.zip, else last.zip)."""
    from sb3_contrib import MaskablePPO

    p = Path(path)
    if p.is_dir():
        p = p / "best.zip" if (p / "best.zip").exists() else p / "last.zip"
    if not p.exists():
        raise FileNotFoundError(str(p))
    return MaskablePPO.load(p, device=device)


def env_for_model(model: Any, netlist: Netlist, placement: Placement, model_path: str | Path | None = None,
                  **overrides: Any) -> MacroPlacementEnv:
    """An environment whose spaces match ``model``'s (sizes from its observation space, other
    options from ``env_kwargs.json`` beside the model when present)."""
    space = model.observation_space
    kwargs: dict[str, Any] = {
        "max_grid": int(space["grid"].shape[-1]),
        "max_nodes": int(space["graph_nodes"].shape[0]),
        "max_edges": int(space["graph_edges"].shape[-1]),
    }
    if model_path is not None:
        folder = Path(model_path)
        folder = folder if folder.is_dir() else folder.parent
        saved = folder / "env_kwargs.json"
        if saved.exists():
            options = json.loads(saved.read_text())
            options.setdefault("soft_macros_placed", False)  # models saved before the option
            kwargs.update(options)
    kwargs.update(overrides)
    if isinstance(kwargs.get("grid"), list):
        kwargs["grid"] = tuple(kwargs["grid"])
    return MacroPlacementEnv((netlist, placement), **kwargs)


def place_with_policy(
    model: Any,
    env: MacroPlacementEnv,
    samples: int = 0,
    seed: int = 0,
    deadline: Any | None = None,
) -> tuple[Placement | None, dict[str, Any]]:
    """Run the deterministic episode, then up to ``samples`` stochastic ones (seeded
    ``seed + k``, stopping early when ``deadline.expired()``); the best by proxy wins.

    Returns the best final placement (None when every episode was infeasible) and its info.
    """
    from placer.rl.train import run_episode

    best: tuple[float, Placement | None, dict[str, Any]] = (math.inf, None, {})
    for k in range(samples + 1):
        if k and deadline is not None and deadline.expired():
            break
        torch.manual_seed(seed + k)
        result = run_episode(model, env, deterministic=(k == 0), seed=seed + k)
        proxy = result["cost"]["proxy"] if "cost" in result else math.inf
        if proxy < best[0] or best[1] is None and "placement" in result:
            best = (proxy, result.get("placement"), result)
    return best[1], best[2]
