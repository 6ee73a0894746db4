"""``refine``: local search on the exact proxy cost, aimed at congestion and density.

The approach of the strongest recent macro placers on the proxy cost (e.g. the exact-proxy
local search that won the 2026 Partcl/HRT challenge): start from any placement, make many
small moves priced exactly by the incremental evaluator, and spend the moves where the cost
is: macros sitting on the most congested or densest grid cells, and macros whose nets are
routed through the most congested cells, are picked more often for a small shift; and macros
are moved into their optimal region (the box where their nets are shortest: shorter nets put
less demand on the routing grid). Moves are judged on the proxy plus a look-ahead term that
also presses down the cells just below the top 5 % the congestion cost averages (see
:func:`~placer.algorithms.anneal.anneal`); the result is the lowest-proxy placement.
Hard and soft macros both move (soft macros carry most of the density and much of the routing
demand); hard macros stay legal after every move.
Acceptance is Metropolis at a low, decaying temperature, so the search mostly descends.

``global_refine`` is the classic global-then-detailed flow (as in DREAMPlace's pipeline): the
``analytical`` global placement first, legalised, then ``refine`` from whichever of it and the
given placement has the lower proxy, for the rest of the budget.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from netlists.model import Netlist, Placement
from placer.algorithms import options as opt
from placer.algorithms.analytical import CUT_BY_THE_BUDGET, SETUP_TOOK_THE_BUDGET
from placer.algorithms.anneal import AnnealSchedule, anneal
from placer.algorithms.base import (
    Deadline,
    Placer,
    Progress,
    ProgressCallback,
    get_placer,
    legalize_start,
    option_flag,
    register_placer,
    rescaled,
)
from placer.algorithms.search_moves import MOVES
from placer.algorithms.search_state import (
    TIMING_OPTION_CHECKS,
    TIMING_OPTION_REQUIRES,
    SearchState,
    timing_options,
)
from placer.cost.proxy import evaluate
from placer.cost.timing import timing_cost

#: The options ``refine``'s search reads (``refine``, ``global_refine``, and the soft-macro step
#: of ``greedy`` and ``rl``).
REFINE_OPTIONS = frozenset(
    {
        "moves",
        "start_factor",
        "final_ratio",
        "radius_start",
        "radius_end",
        "heat_every",
        "soft",
        "max_steps",
        "lookahead",
        "lookahead_quantile",
        "density_lookahead",
        "density_lookahead_quantile",
        *TIMING_OPTION_CHECKS,
    }
)

#: Value checks of :data:`REFINE_OPTIONS`.
REFINE_CHECKS = {
    "moves": opt.move_weights(MOVES),
    "start_factor": opt.number(0.0, low_open=True),
    "final_ratio": opt.number(0.0, 1.0, low_open=True),
    "radius_start": opt.number(0.0, low_open=True),
    "radius_end": opt.number(0.0, low_open=True),
    "heat_every": opt.whole(0),
    "soft": opt.flag(),
    "max_steps": opt.whole(1, none_ok=True),
    "lookahead": opt.number(0.0),
    "lookahead_quantile": opt.number(0.0, 1.0),
    "density_lookahead": opt.number(0.0),
    "density_lookahead_quantile": opt.number(0.0, 1.0),
    **TIMING_OPTION_CHECKS,
}


@register_placer
class Refine(Placer):
    """Hot-spot-biased exact-proxy local search over hard and soft macros.

    Options:
        moves: weights of shift / hotspot / hotnet / mirror / region (0.42/0.27/0.27/0.04/0.2,
            normalised); any move of :data:`~placer.algorithms.search_moves.MOVES` may be
            named. Swaps are left out by default: on the IBM designs about 2 in 1,000 were
            accepted, for almost no gain. Region moves (a macro into its optimal region) are
            accepted 2.1-4.3x as often as shifts (``experiments/results/search_speed.md``); in
            a 90 s run on ibm01/03/08/10 (measured when they were added, not kept as a
            table) they lowered the proxy by 0.006 on average.
        start_factor: initial temperature, multiple of the mean uphill delta (0.002).
        final_ratio: final / initial temperature (1e-3).
        radius_start, radius_end: largest shift at the start and at the end, in grid cells (2.0
            and 0.3; geometric in between).
        heat_every: proposals between refreshes of the congestion/density heat map (2000; 0:
            no heat map, so hot-spot and hot-net moves become plain shifts, and the
            look-ahead thresholds refresh every 2000 proposals).
        soft: also move soft macros (True).
        max_steps: stop after this many proposals (None: run to the budget); makes a run
            reproducible for a seed.
        lookahead, lookahead_quantile: weight (0.5; 0 turns it off) and threshold quantile
            (0.8) of the look-ahead congestion term of
            :func:`~placer.algorithms.anneal.anneal`. With it, ``global_refine`` at 60 s
            per design went 27.8 % below ``initial`` on the shared suite, 25.5 % without it
            in the run before (``experiments/results/placement_quality_60s.md`` at 6f9d953 and
            at 34c2eba; both from the analytical start of 2026-12-01, before the
            analytical changes of 2026-12-05); with today's start 28.6 % (that file now,
            recorded at e707b19).
        density_lookahead, density_lookahead_quantile: the same term for the density cost
            (weight 0.0, i.e. off; quantile 0.8). Measured once with ``global_refine`` at 90 s
            on ibm01/03/08/10 (sum of proxies; not kept as a table): 0 -> 3.3340, 0.5 ->
            3.3375, 1.0 -> 3.3565; it lowers density but congestion rises more, so it stays
            off by default.
        w_timing: weight of the timing proxy in the objective (0: the proxy alone; the best
            placement kept is the lowest objective).
        timing_metric: the timing figure weighed, ``worst`` (the worst path; default) or
            ``tail`` (the mean of the worst 10 % of endpoints: it moves with many wires, where
            any weight on ``worst`` only refuses moves lengthening the one worst path).
    """

    name = "refine"
    option_names = REFINE_OPTIONS
    option_checks = REFINE_CHECKS
    option_requires = TIMING_OPTION_REQUIRES

    def run(
        self,
        netlist: Netlist,
        placement: Placement,
        budget_s: float,
        seed: int,
        progress: ProgressCallback,
    ) -> Placement:
        deadline = Deadline(budget_s)  # the set-up (legaliser, evaluator) counts too
        start = legalize_start(netlist, placement, budget_s, progress)
        return _refine(netlist, start, deadline, seed, progress, self.options)


def _refine(
    netlist: Netlist,
    start: Placement,
    deadline: Deadline,
    seed: int,
    progress: ProgressCallback,
    options: dict[str, Any],
) -> Placement:
    """The ``refine`` search from the legal placement ``start`` with ``options``, until
    ``deadline`` (its evaluator's set-up included)."""
    o = options
    moves = o.get(
        "moves", {"shift": 0.42, "hotspot": 0.27, "hotnet": 0.27, "mirror": 0.04, "region": 0.2}
    )
    schedule = AnnealSchedule(
        start_factor=float(o.get("start_factor", 0.002)),
        final_ratio=float(o.get("final_ratio", 1e-3)),
        radius_start=float(o.get("radius_start", 2.0)),
        radius_end=float(o.get("radius_end", 0.3)),
    )
    state = SearchState(netlist, start, np.random.default_rng(seed), *timing_options(o))
    if o.get("pool") == "soft":
        pool = state.soft
    else:
        pool = np.concatenate([state.hard, state.soft]) if option_flag(o.get("soft", True)) else state.hard
    anneal(
        state,
        moves,
        deadline.remaining(),
        progress,
        schedule,
        pool=pool,
        heat_every=int(o.get("heat_every", 2000)),
        max_steps=o.get("max_steps"),
        lookahead=float(o.get("lookahead", 0.5)),
        lookahead_quantile=float(o.get("lookahead_quantile", 0.8)),
        density_lookahead=float(o.get("density_lookahead", 0.0)),
        density_lookahead_quantile=float(o.get("density_lookahead_quantile", 0.8)),
    )
    return state.placement.copy()


def refine_soft_macros(
    netlist: Netlist,
    placement: Placement,
    budget_s: float,
    seed: int = 0,
    progress: ProgressCallback | None = None,
    options: dict[str, Any] | None = None,
) -> Placement:
    """``refine``'s search over the soft macros only (hard macros stay where they are).

    The soft-macro step after a hard-macro placer (the RL policy, ``greedy``): the
    force-directed step places soft macros in milliseconds but leaves density and congestion
    well above what the exact-proxy search reaches in seconds (ibm01, ``greedy``'s hard macros:
    FD 1.348, then 5 s of this 1.087, 20 s 1.032). ``placement`` is legalised first (as
    ``refine`` does; a legal one is unchanged); ``options`` are ``refine``'s (``soft`` is ignored).
    """
    o = dict(options or {})
    o["pool"] = "soft"
    o.setdefault("moves", {"shift": 0.42, "hotspot": 0.27, "hotnet": 0.27, "region": 0.2})  # no mirror
    deadline = Deadline(budget_s)
    start = legalize_start(netlist, placement, budget_s, progress)
    return _refine(netlist, start, deadline, seed, progress or (lambda _p: None), o)


@register_placer
class GlobalRefine(Placer):
    """``analytical`` global placement, then ``refine`` (see module docstring).

    Options: those of ``refine``, plus
        global_share: at most this fraction of the budget for the global placement (0.25; it
            usually stops earlier, when its density overflow is low; 0: none, refine from the
            given placement). With ``max_steps`` (a reproducible run) the global placement is
            not cut by this share but runs to its own end (its iterations or convergence), the
            whole budget still capping it.
        analytical: options of the ``analytical`` stage (a dict; default its own defaults).
    """

    name = "global_refine"
    option_names = REFINE_OPTIONS | {"global_share", "analytical"}
    option_checks = {**REFINE_CHECKS, "global_share": opt.number(0.0, 1.0)}
    option_requires = TIMING_OPTION_REQUIRES
    nested_options = {"analytical": "analytical"}

    def run(
        self,
        netlist: Netlist,
        placement: Placement,
        budget_s: float,
        seed: int,
        progress: ProgressCallback,
    ) -> Placement:
        deadline = Deadline(budget_s)
        share = float(self.options.get("global_share", 0.25))
        stage = get_placer("analytical", **dict(self.options.get("analytical") or {}))  # null: none
        # cut by the clock, the stage's length (and then the whole run) would vary run to run
        stage_budget = budget_s if self.options.get("max_steps") is not None else budget_s * share
        stage_progress = rescaled(progress, 0.0, share)
        cut = []

        def watched(p: Progress) -> None:  # (a stage cut by the clock differs run to run)
            if p.note is not None and p.note.startswith((CUT_BY_THE_BUDGET, SETUP_TOOK_THE_BUDGET)):
                cut.append(p.note)
                if p.note.startswith(CUT_BY_THE_BUDGET):
                    return  # its share of the budget is meant to cut it: no alarm (max_steps: below)
            stage_progress(p)

        # (share 0: no global placement; it was built and run on no budget, and said the
        # set-up took the whole budget)
        spread = stage.place(netlist, placement, stage_budget, seed, watched) if share > 0 else None
        if cut and self.options.get("max_steps") is not None:
            progress(Progress.noting(
                "the analytical stage was cut by the budget, not by its own end: with max_steps "
                "the run is still not reproducible (give analytical.max_iterations small enough "
                "to finish within the budget)"))  # fmt: skip
        starts = {"given": legalize_start(netlist, placement, budget_s, progress), **({"analytical": spread} if spread is not None else {})}
        w_timing, metric = timing_options(self.options)  # by the objective refine searches

        def objective(start: Placement) -> float:
            cost = evaluate(netlist, start).proxy
            return cost + w_timing * getattr(timing_cost(netlist, start), metric) if w_timing > 0 else cost

        costs = {name: objective(start) for name, start in starts.items()}
        start_name = min(costs, key=costs.__getitem__)  # a tie keeps the given placement
        used = deadline.fraction()
        progress(Progress(used, costs[start_name], f"refine from the {start_name} placement"))
        refine_options = {
            k: v for k, v in self.options.items() if k not in ("global_share", "analytical")
        }
        return _refine(
            netlist,
            starts[start_name],
            deadline,
            seed,
            rescaled(progress, used, 1.0),
            refine_options,
        )
