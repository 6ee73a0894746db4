"""``greedy``: a fast deterministic constructive placer; also the RL agent's baseline.

Hard macros are taken by decreasing area (ties by index) and each goes to the centre of the
legal grid cell (inside the canvas, no overlap with macros already placed) that adds least cost:
the increase in normalised weighted HPWL of its nets towards the pins already placed (ports,
soft macros where they are, hard macros placed before it) plus a small weight times the
soft-macro density it would cover (a tie-breaker towards emptier cells). This is the classic
greedy sequential placement (the order and cell choice Circuit Training's environment uses,
scored by a wire-mask as in MaskPlace / WireMask-EA), computed by
:class:`~placer.algorithms.grid_state.SequentialGridState` -- the same cell score as the
placement environment's cost channel, in O(rows + cols) wire work per macro. Soft macros are then re-placed by the
force-directed step when it is available. Deterministic: the seed is not used (except by
the optional soft-macro refinement), and a run the budget cuts short (its hard macros or
its soft-macro step unfinished) says so in a note, as it is then not reproducible.
"""

from __future__ import annotations

import numpy as np

from netlists.model import Netlist, Placement
from placer.algorithms import options as opt
from placer.algorithms.base import (
    Deadline,
    Placer,
    Progress,
    ProgressCallback,
    note_budget_cut,
    option_flag,
    register_placer,
    rescaled,
)
from placer.algorithms.grid_state import SequentialGridState


@register_placer
class Greedy(Placer):
    """Greedy sequential placement of hard macros onto grid cells (see module docstring).

    Options:
        density_weight: weight of the covered soft-macro density term (0.05: a tie-breaker
            that keeps macros off dense soft-macro areas without outweighing wirelength).
        fd: re-place soft macros by the force-directed step afterwards (True).
        soft_refine: then spend the rest of the budget on
            :func:`~placer.algorithms.refine.refine_soft_macros` (False: ``greedy`` stays a
            sub-second constructive placer; True gives it the same soft-macro step as the
            ``rl`` placer's ``soft_refine`` in equal-budget comparisons).
        refine: options of that search (e.g. ``{"max_steps": 2000}``; default none).

    When the budget runs out, the hard macros not reached yet keep their place (the legaliser
    then fits them in); a note then says that the run is not reproducible, as it does when the
    budget cuts the soft-macro step (the force-directed iterations, or ``refine``'s
    ``max_steps``) or leaves it no time.
    """

    name = "greedy"
    option_names = frozenset({"density_weight", "fd", "soft_refine", "refine"})
    option_checks = {"density_weight": opt.number(0.0), "fd": opt.flag(), "soft_refine": opt.flag()}  # < 0 sought density
    nested_options = {"refine": "refine"}
    option_requires = {"refine": "soft_refine"}

    def run(
        self,
        netlist: Netlist,
        placement: Placement,
        budget_s: float,
        seed: int,
        progress: ProgressCallback,
    ) -> Placement:
        deadline = Deadline(budget_s)
        p = placement
        dens_w = float(self.options.get("density_weight", 0.05))
        hard = netlist.hard_macros
        movable = hard[~p.fixed[hard]]
        order = movable[np.lexsort((movable, -(netlist.width[movable] * netlist.height[movable])))]
        # fixed hard macros are outside the order: obstacles and placed pins from the start
        state = SequentialGridState(netlist, p, order=order, soft_macros_placed=True)
        no_cell = 0
        while not state.done:
            if deadline.expired():  # the macros not reached keep their place; legalised after
                break
            legal = state.legal_mask()
            if not legal.any():  # no cell centre fits: it stays; the legaliser finds it room
                state.skip()
                no_cell += 1
                continue
            score = np.where(legal, state.cost_mask(dens_w), np.inf)
            row, col = np.unravel_index(int(np.argmin(score)), score.shape)
            state.place(int(row), int(col))
            if state.n_placed % 20 == 1:
                progress(Progress(state.n_placed / max(order.size, 1) * 0.8))
        p = state.placement
        if no_cell:  # (said nowhere: the macro merely stayed, legalised, as if placed)
            canvas = netlist.require_canvas()
            progress(Progress.noting(
                f"{no_cell:,} of {order.size:,} movable hard macros fit no grid cell (none of the "
                f"{canvas.cols} x {canvas.rows} cell centres holds one inside the "
                "canvas, clear of those placed): they keep their given place, legalised"))  # fmt: skip
        fd, soft_refine = option_flag(self.options.get("fd", True)), option_flag(self.options.get("soft_refine", False))
        soft_to_move = bool(np.any(~p.fixed[netlist.soft_macros]))
        # (a soft-macro refinement without max_steps runs on the clock: no budget repeats it)
        steps = not soft_refine or (self.options.get("refine") or {}).get("max_steps") is not None
        remedy = "a larger budget is" if steps else "a larger budget with refine's max_steps is"
        if not state.done:
            kept = "the rest and the soft macros keep" if fd and soft_to_move else "the rest keep"
            note_budget_cut(progress, f"after {state.n_placed:,} of {order.size:,} hard macros were reached ({kept} their "
                                    "place; the legaliser fits the hard macros in)", remedy)  # fmt: skip
            return p
        if fd and deadline.expired():
            if soft_to_move:
                note_budget_cut(progress, "before the soft macros' force-directed step (they keep their place)",
                              remedy)
            return p
        if fd:
            try:
                from placer.algorithms.fd import place_soft_macros
            except ImportError:  # pragma: no cover
                return p
            step = rescaled(progress, 0.8, 0.9 if soft_refine else 1.0)
            cut: list[str] = []  # (its own note named another remedy; soft_refine's followed it)
            p = place_soft_macros(netlist, p, seed=0, budget_s=deadline.remaining(),
                                  progress=lambda report: cut.append(report.message) if report.note else step(report))
            if cut:
                skipped = ", and soft_refine did not run" if soft_refine else ""
                note_budget_cut(progress, f"during the soft macros' force-directed step (they stopped short of "
                                        f"their spread{skipped})", remedy)  # fmt: skip
                return p
        if soft_refine and deadline.expired():
            if soft_to_move:
                note_budget_cut(progress, "before the soft macros' refinement (soft_refine)", remedy)
            return p
        if soft_refine:
            from placer.algorithms.refine import refine_soft_macros

            p = refine_soft_macros(netlist, p, deadline.remaining(), seed,
                                   rescaled(progress, deadline.fraction(), 1.0), self.options.get("refine"))
        return p

