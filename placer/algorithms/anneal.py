"""The annealing loop of the move-based search behind ``sa`` and ``refine``: :func:`anneal`
draws the moves of :mod:`placer.algorithms.search_moves` on a
:class:`~placer.algorithms.search_state.SearchState`, judges each on the state's objective
(plus the optional look-ahead terms), refreshes the hot-spot weights
(:mod:`placer.algorithms.search_heat`) and runs the caller's hook on schedule, and ends on the
best placement seen. Acceptance is Metropolis at a temperature that decays exponentially over
the time budget (over the proposal count with ``max_steps``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from netlists.model import Placement
from placer.algorithms.base import Deadline, Progress, ProgressCallback
from placer.algorithms.search_heat import update_heat
from placer.algorithms.search_moves import MOVES, MoveMaker, SearchContext
from placer.algorithms.search_state import SearchState
from placer.cost.congestion import top_count
from placer.cost.density import top_count as density_top_count
from placer.cost.incremental import Move
from placer.interrupts import stop_requested


@dataclass
class SearchStats:
    """Counts of proposed / legal / accepted moves per kind."""

    proposed: dict[str, int] = field(default_factory=dict)
    accepted: dict[str, int] = field(default_factory=dict)
    illegal: dict[str, int] = field(default_factory=dict)

    def count(self, table: dict[str, int], kind: str) -> None:
        table[kind] = table.get(kind, 0) + 1


@dataclass
class AnnealSchedule:
    """Exponential temperature from ``t0`` to ``t0 * final_ratio`` over the budget;
    ``t0`` is ``start_factor`` times the mean uphill delta of sampled moves."""

    start_factor: float = 1.0
    final_ratio: float = 1e-3
    radius_start: float = 4.0
    radius_end: float = 0.5


def anneal(
    state: SearchState,
    moves: dict[str, float],
    budget_s: float,
    progress: ProgressCallback,
    schedule: AnnealSchedule | None = None,
    pool: np.ndarray | None = None,
    hook_every: float | None = None,
    hook: Callable[[SearchState], object] | None = None,
    heat_every: int = 0,
    max_steps: int | None = None,
    lookahead: float = 0.0,
    lookahead_quantile: float = 0.8,
    density_lookahead: float = 0.0,
    density_lookahead_quantile: float = 0.8,
) -> SearchStats:
    """Metropolis search over ``moves`` (name -> weight) for ``budget_s`` seconds.

    The best placement seen is restored at the end. ``hook`` (e.g. a force-directed update of
    the soft macros) runs each time another ``hook_every`` fraction of the run has passed (what
    it returns is unused); the heat map used by hot-spot moves is refreshed every
    ``heat_every`` proposals. With
    ``max_steps`` the schedule follows the proposal count instead of the clock, so a run is
    reproducible for a seed (the time budget still caps it).

    With ``lookahead > 0`` moves are accepted on the proxy plus a look-ahead congestion term,
    ``0.5 * lookahead * sum(max(C - t, 0)) / k`` over every V and H cell value ``C``, ``t`` the
    ``lookahead_quantile`` of those values (refreshed with the heat map) and ``k`` the number of
    cells the congestion cost averages: the proxy only sees the top 5 % of cells, so cells just
    below them drift up unchecked (moves there are judged by wirelength alone) and become the
    next top cells; the look-ahead keeps pressing them down. ``density_lookahead`` adds the
    same term for the density cost (its top 10 % of cells, proxy weight 0.25 / k each) with
    threshold the ``density_lookahead_quantile`` of the cell densities. The best placement is
    still the one with the lowest objective (:meth:`SearchState.objective`: the proxy, plus the
    weighted timing proxy when ``state.w_timing > 0``); ``progress`` reports that objective in
    ``Progress.best_proxy`` (the proxy itself when timing is not weighed).
    """
    schedule = schedule or AnnealSchedule()
    deadline = Deadline(budget_s)
    stats = SearchStats()
    ctx = _anneal_context(state, pool)
    if ctx.pool.size == 0:
        return stats
    names = list(moves)
    weights = np.array([moves[n] for n in names], dtype=np.float64)
    weights /= weights.sum()
    if heat_every:
        update_heat(state, ctx)
    cur = state.objective()
    t0 = _start_temperature(state, ctx, names, weights, schedule.start_factor, deadline)
    reach, radius_start, radius_end = _radius_range(state, schedule)
    look = _Lookahead.start(state, lookahead, lookahead_quantile, density_lookahead, density_lookahead_quantile)
    run = _AnnealRun(
        state, ctx, stats, deadline, [MOVES[n] for n in names], t0, schedule.final_ratio, reach,
        radius_start, radius_end, look, heat_every, max_steps, hook, hook_every,
        cur=cur, best_cost=cur, start_objective=cur,
        next_hook=hook_every if hook is not None and hook_every else None,
    )  # fmt: skip
    _search(run, weights, progress)
    _note_how_it_ended(run, progress)
    _restore_best(run)
    return stats


def _anneal_context(state: SearchState, pool: np.ndarray | None) -> SearchContext:
    """The moves' context over ``pool`` (default: the movable hard macros) and its hard and
    soft macros, which mirror, shuffle and swap stay within."""
    ctx = SearchContext(pool=pool if pool is not None else state.hard)
    ctx.pool_hard = state.hard[np.isin(state.hard, ctx.pool)]
    ctx.pool_soft = state.soft[np.isin(state.soft, ctx.pool)]
    return ctx


def _start_temperature(
    state: SearchState,
    ctx: SearchContext,
    names: list[str],
    weights: np.ndarray,
    start_factor: float,
    deadline: Deadline,
) -> float:
    """The initial temperature: ``start_factor`` times the mean uphill proxy delta of a sample
    of moves (a small share of the proxy when none goes uphill)."""
    # the proxy's deltas alone: a weighted timing term jumps by whole wire lengths, a max over
    # paths, and set the temperature so high that sa wandered for the whole run and handed
    # back its start
    rng = state.rng
    start_proxy = state.ev.cost.proxy
    ups = []
    for _ in range(40):
        _, mv = MOVES[names[int(rng.choice(len(names), p=weights))]](state, ctx)
        if mv is not None and mv.proxy > start_proxy:
            ups.append(mv.proxy - start_proxy)
        if deadline.expired():  # a move can cost 0.3 s on a grid of millions of cells
            break
    return start_factor * (float(np.mean(ups)) if ups else 1e-3 * max(start_proxy, 1e-9))


def _radius_range(state: SearchState, schedule: AnnealSchedule) -> tuple[float, float, float]:
    """``(reach, radius_start, radius_end)``: the shift radii capped at the grid's larger side
    (a shift never needs to reach past the grid; a radius of 1e300 cells made the shift's
    random range overflow)."""
    c = state.canvas
    reach = float(max(c.cols, c.rows))
    return reach, min(schedule.radius_start, reach), min(schedule.radius_end, reach)


@dataclass
class _Lookahead:
    """The look-ahead congestion and density terms of a move's delta (see :func:`anneal`):
    weights, threshold quantiles, scales and the current thresholds."""

    congestion: float
    congestion_quantile: float
    density: float
    density_quantile: float
    congestion_scale: float
    density_scale: float
    congestion_t: float = 0.0
    density_t: float = 0.0

    @classmethod
    def start(
        cls,
        state: SearchState,
        congestion: float,
        congestion_quantile: float,
        density: float,
        density_quantile: float,
    ) -> _Lookahead:
        """The terms for ``state``'s grid with thresholds read from its current maps."""
        c = state.canvas
        look = cls(
            congestion,
            congestion_quantile,
            density,
            density_quantile,
            congestion_scale=0.5 * congestion / max(top_count(2 * c.rows * c.cols), 1),
            density_scale=0.25 * density / max(density_top_count(c.rows * c.cols), 1),
        )
        look.refresh(state)
        return look

    def refresh(self, state: SearchState) -> None:
        """Re-read the thresholds (the quantiles of the current maps) of the terms in use."""
        if self.congestion > 0:
            self.congestion_t = state.ev.congestion_quantile(self.congestion_quantile)
        if self.density > 0:
            self.density_t = state.ev.density_quantile(self.density_quantile)

    def add(self, state: SearchState, mv: Move, delta: float) -> float:
        """``delta`` plus the terms in use for ``mv`` (added one after the other)."""
        if self.congestion > 0:
            delta += self.congestion_scale * state.ev.congestion_excess_delta(mv, self.congestion_t)
        if self.density > 0:
            delta += self.density_scale * state.ev.density_excess_delta(mv, self.density_t)
        return delta


@dataclass
class _AnnealRun:
    """One anneal's set-up and what its steps update: the objective now, the lowest seen, the
    best placement (snapshotted lazily), the proposal count and the next hook point."""

    state: SearchState
    ctx: SearchContext
    stats: SearchStats
    deadline: Deadline
    makers: list[MoveMaker]
    t0: float
    final_ratio: float
    reach: float
    radius_start: float
    radius_end: float
    look: _Lookahead
    heat_every: int
    max_steps: int | None
    hook: Callable[[SearchState], object] | None
    hook_every: float | None
    cur: float
    best_cost: float
    start_objective: float
    # The best placement is snapshotted lazily: only when an uphill move leaves it (rare at the
    # low temperatures of a descent), not at every improvement.
    best: Placement | None = None  # None: the current placement is the best one
    step: int = 0
    next_hook: float | None = None


def _search(run: _AnnealRun, weights: np.ndarray, progress: ProgressCallback) -> None:
    """Propose and judge moves at the scheduled temperature and radius, with the periodic work
    after each, until the budget or ``max_steps`` ends the run."""
    rng = run.state.rng
    max_steps = run.max_steps
    draws = np.zeros(0, dtype=np.int64)  # move kinds drawn in batches (one draw is slow)
    refresh_every = run.heat_every or 2000
    while not run.deadline.expired() and (max_steps is None or run.step < max_steps):
        if run.step % 4096 == 0:
            draws = rng.choice(len(run.makers), size=4096, p=weights)
        kind_index = int(draws[run.step % 4096])
        run.step += 1
        frac = run.step / max_steps if max_steps else run.deadline.fraction()
        temp = run.t0 * run.final_ratio**frac
        run.ctx.radius_cells = min(run.radius_start * (run.radius_end / run.radius_start) ** frac, run.reach)
        _propose(run, kind_index, temp)
        if run.heat_every and run.step % run.heat_every == 0:
            update_heat(run.state, run.ctx)
        if run.step % refresh_every == 0:
            run.look.refresh(run.state)
        _maybe_run_hook(run, frac)
        if run.step % 500 == 0:
            progress(Progress(frac, run.best_cost, f"T={temp:.2e}"))


def _propose(run: _AnnealRun, kind_index: int, temp: float) -> None:
    """Draw one move of the kind ``kind_index`` and accept it by Metropolis at ``temp``,
    keeping the best objective (and placement) seen."""
    state, stats = run.state, run.stats
    kind, mv = run.makers[kind_index](state, run.ctx)
    stats.count(stats.proposed, kind)
    if mv is None:  # no legal move drawn; the periodic work still runs
        stats.count(stats.illegal, kind)
        return
    value, tm = state.price(mv)
    delta = run.look.add(state, mv, value - run.cur)
    if delta <= 0 or state.rng.random() < math.exp(-delta / max(temp, 1e-300)):
        if run.best is None and value > run.best_cost:
            run.best = state.placement.copy()
        state.commit(mv, tm)
        run.cur = value
        stats.count(stats.accepted, kind)
        if run.cur < run.best_cost - 1e-15 or (run.best is not None and run.cur <= run.best_cost):
            run.best_cost = min(run.best_cost, run.cur)
            run.best = None


def _maybe_run_hook(run: _AnnealRun, frac: float) -> None:
    """Run the hook once another ``hook_every`` fraction of the run has passed (the best
    placement snapshotted first: the hook may raise the objective)."""
    if not (run.next_hook is not None and run.hook is not None and frac >= run.next_hook):
        return
    state = run.state
    if run.best is None:
        run.best = state.placement.copy()
    run.hook(state)
    run.cur = state.objective()
    if run.cur <= run.best_cost:
        run.best_cost, run.best = run.cur, None
    run.next_hook += run.hook_every  # type: ignore[operator]


def _note_how_it_ended(run: _AnnealRun, progress: ProgressCallback) -> None:
    """Note a run the budget cut (before its first proposal or short of ``max_steps``) and one
    that lowered nothing."""
    step, max_steps = run.step, run.max_steps
    if stop_requested():
        pass  # an interrupt ended it: the budget's notes would blame the budget (the caller says why)
    elif step == 0:
        progress(Progress.noting(
            "the budget was spent before the search's first proposal (set-up, or compiling the "
            "kernels on a first run, took it): the placement is the start, unsearched"))  # fmt: skip
    elif max_steps is not None and step < max_steps:  # the schedule ran on steps, not the clock
        progress(Progress.noting(
            f"the budget ran out after {step:,} of max_steps {max_steps:,} proposals: the run "
            "stopped before it cooled and is not reproducible (a larger budget or smaller "
            "max_steps is)"))  # fmt: skip
    if step > 0 and run.best_cost >= run.start_objective:  # (a result equal to its start said nothing)
        accepted = sum(run.stats.accepted.values())
        # what would help: a longer run only where moves could be made at all (a swap among
        # one macro never can), and more steps, not budget, where max_steps ended it
        if sum(run.stats.illegal.values()) >= step:
            remedy = ("no proposal was a move the placement allows (e.g. a swap needs two movable "
                      "macros): a longer run would not find one either")  # fmt: skip
        elif max_steps is not None and step >= max_steps:
            remedy = "a larger max_steps may find one"
        else:
            remedy = "a larger budget may find one"
        progress(Progress.noting(
            f"no move lowered the objective ({step:,} proposals, {accepted:,} accepted): the "
            f"placement is the search's start; {remedy}"))  # fmt: skip


def _restore_best(run: _AnnealRun) -> None:
    """Put back the best placement seen (or resync the evaluator when it is the current one)."""
    state, best = run.state, run.best
    if best is not None:
        state.set_positions(slice(None), best.x, best.y, best.orientation)
    else:
        state.ev.resync()
