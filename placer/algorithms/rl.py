"""The ``rl`` placer: hard macros by a trained MaskablePPO policy (see :mod:`placer.rl`).

Options: ``model`` (path to a ``.zip`` or a training run folder; required; a model is a
pickle: load only one you trust, it can run code), ``samples``
(stochastic episodes tried after the deterministic one; the one with the lowest objective of
the model's reward is kept: the proxy, unless the model was trained with other weights or a
timing weight (a model saved before models kept their weights: the proxy, said in a note); default 0;
the budget stops them too, and a note then says the run is not reproducible),
``device`` (cpu, cuda, cuda:N or auto; default "cpu"), ``soft_refine`` (default False), ``sample_share`` (default 0.5) and
``refine`` (options of the soft-macro search, e.g. ``{"max_steps": 2000}`` for a reproducible
run, a note saying when the budget cut it short of them; default none).
Soft macros are placed force-directed (the environment's default final placement), whatever
the run trained with: its ``soft_placement`` is not applied here;
with ``soft_refine`` the episodes stop at ``sample_share`` of the budget, counted from the
run's start (the model's load included), and the rest goes to
:func:`~placer.algorithms.refine.refine_soft_macros` on the best episode's placement (the
policy's hard macros stay). An infeasible episode (a macro with no legal cell) falls back to
the input placement, which the base class legalises. A design with no movable hard macro
keeps its hard macros; with ``soft_refine`` its soft macros are still refined.

The policy code is imported lazily: ``placer.rl`` sits above the algorithms layer.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

from netlists.errors import InputError
from netlists.model import Netlist, Placement
from placer.algorithms import options as opt
from placer.algorithms.base import (
    Deadline,
    Placer,
    Progress,
    ProgressCallback,
    option_flag,
    register_placer,
)


def _check_model_path(model: str | None) -> str:
    """``model``, or, before any work, a refusal of a model option that cannot name a trained
    policy: missing, a path that does not exist, a run folder without ``best.zip`` or
    ``last.zip``, or a file that is not a zip archive (SB3 saves models as zip files)."""
    if not model:
        raise InputError("the rl placer needs option model=PATH (a trained .zip or run folder)")
    path = Path(model)
    if path.is_dir():
        if not ((path / "best.zip").is_file() or (path / "last.zip").is_file()):
            raise InputError(f"model={model}: the folder holds no best.zip or last.zip")
    elif not path.is_file():
        raise InputError(f"model={model}: no such file or folder")
    elif not zipfile.is_zipfile(path):
        raise InputError(f"model={model}: not a trained model (expected a .zip saved by placer train)")
    return model


@register_placer
class RLPlacer(Placer):
    """Sequential hard-macro placement by a trained policy."""

    name = "rl"
    option_names = frozenset(
        {"model", "samples", "device", "soft_refine", "sample_share", "refine"}
    )
    nested_options = {"refine": "refine"}
    option_requires = {"refine": "soft_refine"}
    option_checks = {
        "model": opt.text(none_ok=True),
        "samples": opt.whole(0),
        "device": opt.device(),
        "soft_refine": opt.flag(),
        "sample_share": opt.number(0.0, 1.0),
    }

    def __init__(
        self,
        model: str | None = None,
        samples: int = 0,
        device: str = "cpu",
        soft_refine: bool = False,
        sample_share: float = 0.5,
        refine: dict[str, Any] | None = None,
        **options: Any,
    ) -> None:
        super().__init__(
            model=model,
            samples=samples,
            device=device,
            soft_refine=soft_refine,
            sample_share=sample_share,
            refine=refine,
            **options,
        )
        self.refine_options = dict(refine or {})
        self.samples = int(samples)
        self.device = device
        self.soft_refine = option_flag(soft_refine)
        self.sample_share = float(sample_share)
        if not 0.0 < self.sample_share <= 1.0:
            raise InputError(f"sample_share must be in (0, 1], got {sample_share!r}")
        if self.sample_share != 0.5 and not self.soft_refine:  # (0.5: the default, given or not)
            raise InputError("option 'sample_share' acts only with soft_refine=true")
        self.model_path = _check_model_path(model)

    def run(
        self, netlist: Netlist, placement: Placement, budget_s: float, seed: int, progress: ProgressCallback
    ) -> Placement:
        from placer.device import resolve_device, torch_threads

        # resolved here, where it runs: SB3 would quietly run "cuda" on a CPU-only machine
        device = resolve_device(self.device)
        # one torch thread, as in a batch worker: the policy's convolutions split their sums by
        # thread (logits 1e-6 apart between 1 and 2 threads: a near tie would pick another cell)
        with torch_threads(device, 1):
            return self._run(netlist, placement, budget_s, seed, progress, device)

    def _run(
        self, netlist: Netlist, placement: Placement, budget_s: float, seed: int, progress: ProgressCallback,
        device: str,
    ) -> Placement:
        from placer.rl.random_state import RL_GENERATORS, global_random_state_kept

        deadline = Deadline(budget_s)
        # (SB3's load reseeds the process's generators, and its first import draws from
        # Python's: rich picks a random style id; not while another thread samples an episode)
        with RL_GENERATORS, global_random_state_kept():
            from envs.macro_placement_checks import NothingToPlace
            from placer.rl.inference import env_for_model, load_model, model_notes, place_and_refine

            model = load_model(self.model_path, device)
        for text in model_notes(model, self.model_path, netlist):
            progress(Progress.noting(text))
        try:
            env = env_for_model(model, netlist, placement, self.model_path,
                                note=lambda text: progress(Progress.noting(text)), ranks_episodes=self.samples > 0)
            best, info = place_and_refine(
                model, env, deadline, self.samples, seed, self.soft_refine, self.sample_share,
                progress, self.refine_options,
            )  # fmt: skip
        except NothingToPlace as reason:  # other errors (a model too small for it) propagate
            if self.soft_refine and netlist.soft_macros.size and not deadline.expired():
                from placer.algorithms.refine import refine_soft_macros

                # what soft_refine asks for still applies to the soft macros (as sa does)
                progress(Progress.noting(f"the policy cannot place this design ({reason}); kept its hard "
                                         "macros and refined the soft macros"))
                return refine_soft_macros(netlist, placement, deadline.remaining(), seed, progress,
                                          self.refine_options)
            progress(Progress.noting(f"the policy cannot place this design ({reason}); kept the given placement"))
            return placement
        if best is None:  # every episode ended with a macro that had no legal cell
            progress(Progress.noting("every episode of the policy was infeasible (a macro found no legal "
                                     "cell); kept the given placement"))
            return placement
        if self.soft_refine and not info.get("refined") and netlist.soft_macros.size:
            progress(Progress.noting(f"the episodes took the whole {budget_s:.3g} s budget: the soft "
                                     "macros were not refined (a larger budget refines them)"))  # fmt: skip
        return best

