"""``sa``: simulated annealing, Circuit Training's published baseline.

Follows the simulated-annealing baseline of Mirhoseini et al., "A graph placement methodology
for fast chip design" (Nature 2021) and its open re-implementation by the TILOS MacroPlacement
project: hard macros are perturbed by five moves (swap two macros, shift one to a neighbouring
position, mirror one, move one anywhere, shuffle four), accepted by the Metropolis rule at an
exponentially decaying temperature, and the soft macros are re-placed by the force-directed
step every so often. Every move is priced exactly by the incremental proxy-cost evaluator and
kept legal (inside the canvas, no hard-macro overlap).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from netlists.model import Netlist, Placement
from placer.algorithms import options as opt
from placer.algorithms.anneal import AnnealSchedule, anneal
from placer.algorithms.base import (
    Deadline,
    Placer,
    Progress,
    ProgressCallback,
    legalize_start,
    register_placer,
)
from placer.algorithms.search_moves import MOVES
from placer.algorithms.search_state import (
    TIMING_OPTION_CHECKS,
    TIMING_OPTION_REQUIRES,
    SearchState,
    timing_options,
)

#: The largest share of an ``sa`` run its force-directed soft-macro steps may take.
MAX_SOFT_STEP_SHARE = 0.25


def soft_macro_step(deadline: Deadline, capped: bool = True) -> Callable[[SearchState], bool] | None:
    """A hook that re-places the soft macros by the force-directed placer (if installed),
    within what is left of ``deadline``, and keeps the result only where it lowers the search's
    objective (the proxy, plus the weighted timing proxy with ``w_timing``)
    (a worse one, kept, left the anneal above its start for good: ibm01 at 20 s ended at its
    initial 1.0177, with this rule at 1.0056). ``capped``: a step is skipped while the steps
    so far took over :data:`MAX_SOFT_STEP_SHARE` of the run's time (not for a run on
    ``max_steps``: which steps ran would then vary with the machine's speed). The hook returns
    whether the soft macros moved (a step ran, was kept, and placed them elsewhere)."""
    try:
        from placer.algorithms.fd import place_soft_macros
    except ImportError:  # pragma: no cover - fd ships with the package
        return None

    started = time.perf_counter()
    spent = [0.0]  # seconds in the step so far

    def hook(state: SearchState) -> bool:
        budget = deadline.remaining()
        if budget <= 0:
            return False
        # at most a quarter of the run: on ibm17 a step (force-directed placement and two
        # evaluator re-syncs when refused) takes ~0.15 s, and ten of them were half of a 3 s
        # run, which then handed back its start
        if capped and spent[0] > MAX_SOFT_STEP_SHARE * (time.perf_counter() - started):
            return False
        clock = time.perf_counter()
        try:
            return _soft_step(state, budget)
        finally:
            spent[0] += time.perf_counter() - clock

    def _soft_step(state: SearchState, budget: float) -> bool:
        seed = int(state.rng.integers(2**31))
        new = place_soft_macros(state.netlist, state.placement, seed=seed, budget_s=budget)
        soft = state.soft
        before_x, before_y, before = state.placement.x[soft], state.placement.y[soft], state.objective()
        state.set_positions(soft, new.x[soft], new.y[soft])
        if state.objective() > before:  # kept only where it helps: a worse soft placement
            state.set_positions(soft, before_x, before_y)  # left the anneal above its start for good
            return False
        # (kept, but a step that put every soft macro back where it was moved nothing)
        p = state.placement
        return not (np.array_equal(p.x[soft], before_x) and np.array_equal(p.y[soft], before_y))

    return hook


def _soft_step_alone(state: SearchState, hook: Callable[[SearchState], bool] | None, deadline: Deadline) -> str:
    """Run the soft-macro step once on a design with no movable hard macro, and the note saying
    what happened (it said "ran one force-directed step" where there was no soft macro to move
    or no budget left, and nothing moved)."""
    head = "no movable hard macro to anneal: sa"
    if state.soft.size == 0:
        return f"{head} has no soft macro to move either, and ends before its budget"
    if hook is None:  # (fd_every=0, or no force-directed placer)
        return f"{head} ends before its budget (refine searches soft macros too)"
    if deadline.remaining() <= 0:
        return f"{head} had no budget left for a force-directed step of the soft macros (refine searches them too)"
    kept = hook(state)  # (it keeps its placement only where the objective is no higher)
    what = "kept: it lowered the objective" if kept else "not kept: it did not lower the objective"
    return (f"{head} ran one force-directed step of the soft macros ({what}) and ends before its "
            "budget (refine searches soft macros too)")  # fmt: skip


@register_placer
class SimulatedAnnealing(Placer):
    """Simulated annealing over hard macros with periodic force-directed soft-macro steps.

    Options:
        moves: weights of swap / shift / mirror / move / shuffle (default 0.2/0.4/0.1/0.2/0.1).
        start_factor: initial temperature as a multiple of the mean uphill delta (0.1: hot
            enough to climb out of the start, cool enough to end below it within minutes).
        final_ratio: final / initial temperature (1e-3).
        fd_every: fraction of the run between force-directed soft-macro steps (0.1; 0 = never);
            a step's soft placement is kept only where it lowers the objective.
        max_steps: stop after this many proposals (None: run to the budget); makes a run
            reproducible for a seed.
        w_timing: weight of the timing proxy in the objective (0: the proxy alone); see
            :mod:`placer.algorithms.search_state`.
        timing_metric: the timing figure weighed, ``worst`` (default) or ``tail`` (the mean
            of the worst 10 % of endpoints).
    """

    name = "sa"
    option_names = frozenset({"moves", "start_factor", "final_ratio", "fd_every", "max_steps", *TIMING_OPTION_CHECKS})
    option_checks = {
        "moves": opt.move_weights(MOVES),
        "start_factor": opt.number(0.0, low_open=True),
        "final_ratio": opt.number(0.0, 1.0, low_open=True),
        "fd_every": opt.number(0.0, 1.0),
        "max_steps": opt.whole(1, none_ok=True),
        **TIMING_OPTION_CHECKS,
    }
    option_requires = TIMING_OPTION_REQUIRES

    def run(self, netlist: Netlist, placement: Placement, budget_s: float, seed: int, progress: ProgressCallback) -> Placement:
        o = self.options
        moves = o.get("moves", {"swap": 0.2, "shift": 0.4, "mirror": 0.1, "move": 0.2, "shuffle": 0.1})
        schedule = AnnealSchedule(
            start_factor=float(o.get("start_factor", 0.1)), final_ratio=float(o.get("final_ratio", 1e-3))
        )
        fd_every = float(o.get("fd_every", 0.1))
        deadline = Deadline(budget_s)  # the set-up (legaliser, evaluator) counts too
        start = legalize_start(netlist, placement, budget_s, progress)
        state = SearchState(netlist, start, np.random.default_rng(seed), *timing_options(o))
        hook = soft_macro_step(deadline, capped=o.get("max_steps") is None) if fd_every > 0 else None
        if state.hard.size == 0:  # nothing to anneal: the soft-macro step alone, if it helps
            progress(Progress.noting(_soft_step_alone(state, hook, deadline)))
            return state.placement.copy()
        anneal(state, moves, deadline.remaining(), progress, schedule, pool=state.hard,
               hook_every=fd_every if hook else None, hook=hook, max_steps=o.get("max_steps"))
        return state.placement.copy()
