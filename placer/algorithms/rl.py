"""The ``rl`` placer: hard macros by a trained MaskablePPO policy (see :mod:`placer.rl`).

Options: ``model`` (path to a ``.zip`` or a training run folder; required), ``samples``
(stochastic episodes tried after the deterministic one, best proxy kept; default 0),
``device`` (default "cpu"). Soft macros are placed as in the environment's final reward
(force-directed when available). An infeasible episode (a macro with no legal cell) falls back
to the input placement, which the base class legalises.

The policy code is imported lazily: ``placer.rl`` sits above the algorithms layer.
"""

from __future__ import annotations

from typing import Any

from netlists.model import Netlist, Placement
from placer.algorithms.base import Deadline, Placer, Progress, ProgressCallback, register_placer


@register_placer
class RLPlacer(Placer):
    """Sequential hard-macro placement by a trained policy."""

    name = "rl"

    def __init__(self, model: str | None = None, samples: int = 0, device: str = "cpu", **options: Any) -> None:
        super().__init__(model=model, samples=samples, device=device, **options)
        self.model_path = model
        self.samples = int(samples)
        self.device = device

    def run(
        self, netlist: Netlist, placement: Placement, budget_s: float, seed: int, progress: ProgressCallback
    ) -> Placement:
        if not self.model_path:
            raise ValueError("the rl placer needs option model=PATH (a trained .zip or run folder)")
        from placer.rl.inference import env_for_model, load_model, place_with_policy

        model = load_model(self.model_path, self.device)
        env = env_for_model(model, netlist, placement, self.model_path)
        best, info = place_with_policy(model, env, self.samples, seed, Deadline(budget_s))
        proxy = info.get("cost", {}).get("proxy")
        progress(Progress(1.0, proxy, "rl episode(s) done"))
        if best is None:
            return placement
        return best
