"""Move-based search on the exact proxy cost: the engine behind ``sa`` and ``refine``.

A :class:`SearchState` wraps the :class:`~placer.cost.incremental.IncrementalEvaluator` and
keeps the hard-macro rectangles so every proposed move can be checked for legality (inside the
canvas, no hard-macro overlap) in O(#hard macros) before it is priced. The move kinds are the
ones Circuit Training's simulated-annealing baseline uses (swap, shift, mirror, move, shuffle)
plus three moves used by ``refine``: *hot-spot* shifts a macro picked with probability growing
with the congestion and density of the cell under it, *hot-net* one picked by the congestion
overflow its nets are routed through, and *region* moves a macro into its optimal region (where
its nets are shortest). Acceptance is Metropolis at a temperature that decays
exponentially over the time budget.

The objective is the proxy cost; with ``w_timing > 0`` it is the proxy plus ``w_timing`` times
the timing proxy's ``worst`` (or, with ``timing_metric="tail"``, its ``tail``: the mean of the
worst 10 % of endpoint arrivals, which moves with many wires where ``worst`` moves with one;
:mod:`placer.cost.timing`), each move priced by
:class:`~placer.cost.timing_incremental.IncrementalTiming` beside the proxy evaluator.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from netlists.model import Netlist, NodeType, Placement
from placer.algorithms import options as opt
from placer.algorithms.base import Deadline, Progress, ProgressCallback
from placer.algorithms.legality import OVERLAP_TOL
from placer.algorithms.legalize import GAP
from placer.algorithms.optimal_region import optimal_region
from placer.algorithms.overlap_kernel import hard_free as hard_free_kernel
from placer.cost.congestion import top_count
from placer.cost.density import top_count as density_top_count
from placer.cost.incremental import IncrementalEvaluator, Move
from placer.cost.timing import TIMING_METRICS
from placer.cost.timing_incremental import IncrementalTiming, TimingMove
from placer.interrupts import stop_requested

#: The largest timing weight a search takes (as the RL reward's ``w_timing``).
MAX_TIMING_WEIGHT = 1e6

#: Value checks and requirement of the timing options every search method reads.
TIMING_OPTION_CHECKS = {"w_timing": opt.number(0.0, MAX_TIMING_WEIGHT), "timing_metric": opt.choice(*TIMING_METRICS)}
TIMING_OPTION_REQUIRES = {"timing_metric": "w_timing"}


def timing_options(options: Mapping[str, Any]) -> tuple[float, str]:
    """The objective's timing weight and metric from a method's options (default 0, "worst")."""
    return float(options.get("w_timing", 0.0)), str(options.get("timing_metric", "worst"))

#: Mirror of each orientation about the vertical axis (N <-> FN, S <-> FS, E <-> FE, W <-> FW).
MIRROR = np.array([1, 0, 3, 2, 5, 4, 7, 6], dtype=np.int8)


@dataclass
class SearchStats:
    """Counts of proposed / legal / accepted moves per kind."""

    proposed: dict[str, int] = field(default_factory=dict)
    accepted: dict[str, int] = field(default_factory=dict)
    illegal: dict[str, int] = field(default_factory=dict)

    def count(self, table: dict[str, int], kind: str) -> None:
        table[kind] = table.get(kind, 0) + 1


class SearchState:
    """Evaluator plus legality bookkeeping for hard macros, and the timing evaluator when the
    objective weighs timing (``w_timing > 0``; ``timing_metric`` names the figure weighed)."""

    def __init__(
        self,
        netlist: Netlist,
        placement: Placement,
        rng: np.random.Generator,
        w_timing: float = 0.0,
        timing_metric: str = "worst",
    ) -> None:
        if timing_metric not in TIMING_METRICS:
            raise ValueError(f"timing_metric must be one of {', '.join(TIMING_METRICS)}, got {timing_metric!r}")
        self.netlist = netlist
        self.canvas = netlist.require_canvas()
        self.ev = IncrementalEvaluator(netlist, placement)
        self.rng = rng
        self.w_timing = float(w_timing)
        self.timing_metric = timing_metric
        # the timing proxy beside the proxy cost, only when the objective weighs it
        self.timing = IncrementalTiming(netlist, placement) if self.w_timing > 0 else None
        fixed = placement.fixed
        t = netlist.node_type
        self.hard = np.flatnonzero((t == NodeType.HARD_MACRO) & ~fixed)
        self.soft = np.flatnonzero((t == NodeType.SOFT_MACRO) & ~fixed)
        self.all_hard = netlist.hard_macros
        self._slot = np.full(netlist.n_nodes, -1, dtype=np.int64)
        self._slot[self.all_hard] = np.arange(self.all_hard.size)
        self.half_w = netlist.width / 2
        self.half_h = netlist.height / 2
        c = self.canvas
        self.tol = OVERLAP_TOL * max(c.width, c.height)
        self.gap = GAP * max(c.width, c.height)
        self.cw, self.ch = c.width / c.cols, c.height / c.rows
        degree = np.diff(self.ev._net_ptr)
        # optimal-region scratch: two box edges per net of the node with the most nets
        self.scratch = np.zeros((3, 2 * max(int(degree.max(initial=0)), 1)))  # x, y ends; weights

    @property
    def placement(self) -> Placement:
        return self.ev.placement

    def optimal_region(self, node: int) -> tuple[float, float, float, float, bool]:
        """``(x_lo, x_hi, y_lo, y_hi, found)``: where ``node``'s nets are shortest with every
        other pin where it is now (see :mod:`placer.algorithms.optimal_region`)."""
        ev = self.ev
        p = ev.placement
        return optimal_region(  # type: ignore[no-any-return]
            node,
            ev._net_ptr,
            ev._nets_of,
            ev._net_entries,
            ev.ctx.entry_anchor,
            ev.ctx.net_weight,
            ev._ex,
            ev._ey,
            float(p.x[node]),
            float(p.y[node]),
            self.scratch[0],
            self.scratch[1],
            self.scratch[2],
        )

    # --------------------------------------------------------------- legality
    def inside(self, nodes: np.ndarray, x: np.ndarray, y: np.ndarray) -> bool:
        c = self.canvas
        if nodes.size == 1:  # the common case, in scalars (numpy's overhead dominates here)
            i, e = int(nodes[0]), self.tol
            xi, yi, hw1, hh1 = float(x[0]), float(y[0]), self.half_w[i], self.half_h[i]
            return (
                xi - hw1 >= -e
                and xi + hw1 <= c.width + e
                and yi - hh1 >= -e
                and yi + hh1 <= c.height + e
            )
        hw, hh = self.half_w[nodes], self.half_h[nodes]
        e = self.tol
        return bool(
            np.all(x - hw >= -e)
            and np.all(x + hw <= c.width + e)
            and np.all(y - hh >= -e)
            and np.all(y + hh <= c.height + e)
        )

    def clamp(self, node: int, x: float, y: float) -> tuple[float, float]:
        c = self.canvas
        hw, hh = self.half_w[node], self.half_h[node]
        return min(max(x, hw), c.width - hw), min(max(y, hh), c.height - hh)

    def hard_free(self, nodes: np.ndarray, x: np.ndarray, y: np.ndarray) -> bool:
        """Whether hard macros ``nodes`` at ``(x, y)`` overlap no other hard macro (nor each other)."""
        p = self.placement
        return hard_free_kernel(
            nodes, np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64), self.all_hard,
            self._slot, p.x, p.y, self.half_w, self.half_h, self.tol,
        )  # fmt: skip

    def legal(self, nodes: np.ndarray, x: np.ndarray, y: np.ndarray) -> bool:
        if not self.inside(nodes, x, y):
            return False
        hard = nodes[self._slot[nodes] >= 0]
        if hard.size == 0:
            return True
        sel = self._slot[nodes] >= 0
        return self.hard_free(hard, x[sel], y[sel])

    # ------------------------------------------------------------------ objective
    def objective(self) -> float:
        """The searched objective of the current placement: the proxy cost, plus ``w_timing``
        times the timing proxy's ``timing_metric`` when weighted."""
        if self.timing is None:
            return self.ev.cost.proxy
        return self.ev.cost.proxy + self.w_timing * getattr(self.timing.cost(), self.timing_metric)

    def price(self, mv: Move) -> tuple[float, TimingMove | None]:
        """The objective after ``mv`` (proposed on the current placement), and its timing move."""
        if self.timing is None:
            return mv.proxy, None
        tm = self.timing.propose_trusted(mv.nodes, mv.x, mv.y, mv.orientation)
        return mv.proxy + self.w_timing * getattr(tm.result, self.timing_metric), tm

    def commit(self, mv: Move, tm: TimingMove | None) -> None:
        """Apply ``mv`` (and its timing move from :meth:`price`)."""
        self.ev.commit(mv)
        if tm is not None and self.timing is not None:
            self.timing.commit(tm)

    def set_positions(
        self, nodes: np.ndarray | slice, x: np.ndarray, y: np.ndarray, orientation: np.ndarray | None = None
    ) -> None:
        """Move many nodes at once (a force-directed step, a restored best), timing too."""
        self.ev.set_positions(nodes, x, y, orientation)
        if self.timing is not None:
            self.timing.set_positions(nodes, x, y, orientation)

    # ------------------------------------------------------------------ moves
    def propose_move(
        self, nodes: np.ndarray, x: np.ndarray, y: np.ndarray, orient: np.ndarray | None = None
    ) -> Move | None:
        if not self.legal(nodes, x, y):
            return None
        return self.ev.propose_trusted(nodes, x, y, orient)


MoveMaker = Callable[[SearchState, "SearchContext"], tuple[str, Move | None]]


@dataclass
class SearchContext:
    """Per-run knobs that moves read: current shift radius and the hot-spot weights."""

    radius_cells: float = 3.0
    pool: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    heat: np.ndarray | None = None  # per-pool-node heat of the cell under it (for refine)
    heat_cdf: np.ndarray = field(default_factory=lambda: np.zeros(1))
    net_heat_cdf: np.ndarray | None = None  # per-pool-node weight from the nets crossing hot cells
    # the pool's hard and soft macros (mirror, shuffle and swap stay within the pool)
    pool_hard: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    pool_soft: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))


def _pick(state: SearchState, ctx: SearchContext) -> int:
    return int(ctx.pool[state.rng.integers(ctx.pool.size)])


def move_shift(state: SearchState, ctx: SearchContext) -> tuple[str, Move | None]:
    """Shift one macro by up to ``radius_cells`` grid cells (at least a fraction of one)."""
    i = _pick(state, ctx)
    p, rng = state.placement, state.rng
    r = max(ctx.radius_cells, 0.25)
    x = p.x[i] + rng.uniform(-r, r) * state.cw
    y = p.y[i] + rng.uniform(-r, r) * state.ch
    x, y = state.clamp(i, x, y)
    return "shift", state.propose_move(np.array([i]), np.array([x]), np.array([y]))


def move_anywhere(state: SearchState, ctx: SearchContext) -> tuple[str, Move | None]:
    """Move one macro to a uniformly random position inside the canvas."""
    i = _pick(state, ctx)
    c, rng = state.canvas, state.rng
    x, y = state.clamp(i, rng.uniform(0, c.width), rng.uniform(0, c.height))
    return "move", state.propose_move(np.array([i]), np.array([x]), np.array([y]))


def move_swap(state: SearchState, ctx: SearchContext) -> tuple[str, Move | None]:
    """Exchange the centres of two macros of the same kind."""
    i = _pick(state, ctx)
    same = ctx.pool_hard if state._slot[i] >= 0 else ctx.pool_soft
    if same.size < 2:
        return "swap", None
    j = int(same[state.rng.integers(same.size)])
    if i == j:
        return "swap", None
    p = state.placement
    xi, yi = state.clamp(i, p.x[j], p.y[j])
    xj, yj = state.clamp(j, p.x[i], p.y[i])
    return "swap", state.propose_move(np.array([i, j]), np.array([xi, xj]), np.array([yi, yj]))


def move_mirror(state: SearchState, ctx: SearchContext) -> tuple[str, Move | None]:
    """Flip a hard macro about its vertical axis (its pins' x offsets change sign)."""
    if ctx.pool_hard.size == 0:
        return "mirror", None
    i = int(ctx.pool_hard[state.rng.integers(ctx.pool_hard.size)])
    p = state.placement
    o = np.array(
        [MIRROR[p.orientation[i]] if state.rng.random() < 0.5 else MIRROR[p.orientation[i]] ^ 2],
        dtype=np.int8,
    )
    return "mirror", state.propose_move(np.array([i]), np.array([p.x[i]]), np.array([p.y[i]]), o)


def move_shuffle(state: SearchState, ctx: SearchContext) -> tuple[str, Move | None]:
    """Permute the centres of four hard macros."""
    if ctx.pool_hard.size < 4:
        return "shuffle", None
    nodes = state.rng.choice(ctx.pool_hard, 4, replace=False)
    perm = state.rng.permutation(4)
    p = state.placement
    x, y = p.x[nodes][perm].copy(), p.y[nodes][perm].copy()
    for k, i in enumerate(nodes.tolist()):
        x[k], y[k] = state.clamp(i, x[k], y[k])
    return "shuffle", state.propose_move(nodes, x, y)


def _shift_weighted(state: SearchState, ctx: SearchContext, cdf: np.ndarray) -> Move | None:
    """Shift (as :func:`move_shift`) a pool macro drawn with the weights whose cumsum is ``cdf``."""
    rng = state.rng
    i = int(ctx.pool[min(int(np.searchsorted(cdf, rng.uniform(0, cdf[-1]))), ctx.pool.size - 1)])
    p = state.placement
    r = max(ctx.radius_cells, 0.25)
    x = p.x[i] + rng.uniform(-r, r) * state.cw
    y = p.y[i] + rng.uniform(-r, r) * state.ch
    x, y = state.clamp(i, x, y)
    return state.propose_move(np.array([i]), np.array([x]), np.array([y]))


def move_region(state: SearchState, ctx: SearchContext) -> tuple[str, Move | None]:
    """Move a macro to a random point of its optimal region (see
    :mod:`placer.algorithms.optimal_region`), the box where its nets are shortest."""
    return "region", _to_region(state, _pick(state, ctx))


def _to_region(state: SearchState, i: int) -> Move | None:
    """Price moving macro ``i`` to a uniform random point of its optimal region."""
    x0, x1, y0, y1, found = state.optimal_region(i)
    if not found:
        return None
    rng = state.rng
    x, y = state.clamp(i, rng.uniform(x0, x1), rng.uniform(y0, y1))
    return state.propose_move(np.array([i]), np.array([x]), np.array([y]))


def move_hotspot(state: SearchState, ctx: SearchContext) -> tuple[str, Move | None]:
    """Shift a macro picked with probability growing with the heat (congestion + density) of
    the cell under it: the moves go where the top-k terms of the proxy are decided."""
    if ctx.heat is None:
        return move_shift(state, ctx)
    return "hotspot", _shift_weighted(state, ctx, ctx.heat_cdf)


def move_hotnet(state: SearchState, ctx: SearchContext) -> tuple[str, Move | None]:
    """Shift a macro whose nets are routed through the most congested cells (picked with
    probability growing with that routed overflow): the macros that *cause* a hot spot are
    often not the ones sitting on it, since a 2-pin route runs along its driver's row and its
    sink's column."""
    if ctx.net_heat_cdf is None:
        return move_shift(state, ctx)
    return "hotnet", _shift_weighted(state, ctx, ctx.net_heat_cdf)


MOVES: dict[str, MoveMaker] = {
    "shift": move_shift,
    "move": move_anywhere,
    "swap": move_swap,
    "mirror": move_mirror,
    "shuffle": move_shuffle,
    "hotspot": move_hotspot,
    "hotnet": move_hotnet,
    "region": move_region,
}


@dataclass
class AnnealSchedule:
    """Exponential temperature from ``t0`` to ``t0 * final_ratio`` over the budget;
    ``t0`` is ``start_factor`` times the mean uphill delta of sampled moves."""

    start_factor: float = 1.0
    final_ratio: float = 1e-3
    radius_start: float = 4.0
    radius_end: float = 0.5


def update_heat(state: SearchState, ctx: SearchContext) -> None:
    """Recompute the per-macro heat from the current congestion and density maps: macros on
    the hottest 20 % of cells weigh (heat)^2, the others a twentieth of that."""
    maps = state.ev.maps()
    heat_map = np.maximum(maps.vertical, maps.horizontal) + 0.5 * maps.density
    c = state.canvas
    p = state.placement
    rows = np.clip((p.y[ctx.pool] / state.ch).astype(np.int64), 0, c.rows - 1)
    cols = np.clip((p.x[ctx.pool] / state.cw).astype(np.int64), 0, c.cols - 1)
    h = heat_map[rows, cols]
    thresh = np.quantile(heat_map, 0.8)
    ctx.heat = np.where(h >= thresh, h**2, 0.05 * h**2) + 1e-12
    ctx.heat_cdf = np.cumsum(ctx.heat)
    ctx.net_heat_cdf = np.cumsum(net_heat(state, maps.vertical, maps.horizontal)[ctx.pool] + 1e-12)


def _box_sums(
    grid: np.ndarray, r0: np.ndarray, r1: np.ndarray, c0: np.ndarray, c1: np.ndarray
) -> np.ndarray:
    """Sums of ``grid`` over the inclusive boxes ``[r0, r1] x [c0, c1]`` (integral image)."""
    R, C = grid.shape
    ii = np.zeros((R + 1, C + 1))
    ii[1:, 1:] = grid.cumsum(0).cumsum(1)
    r0, r1 = np.clip(r0, 0, R - 1), np.clip(r1, 0, R - 1)
    c0, c1 = np.clip(c0, 0, C - 1), np.clip(c1, 0, C - 1)
    return ii[r1 + 1, c1 + 1] - ii[r0, c1 + 1] - ii[r1 + 1, c0] + ii[r0, c0]


def net_heat(state: SearchState, v: np.ndarray, h: np.ndarray) -> np.ndarray:
    """Per node, the congestion overflow its nets are routed through.

    A cell's overflow is how far it exceeds the smallest value of the top 5 % (the cells the
    congestion cost averages). A net's horizontal routes run along its driver's rows (within
    the smoothing range) between its leftmost and rightmost pin columns, its vertical routes
    along its pins' columns between its lowest and highest rows: the overflow inside those
    boxes, times the net's routing weight, is the net's heat, and a node's heat is the sum
    over its nets (computed on bounding boxes: a cheap upper estimate, refreshed with the maps).
    """
    ev = state.ev
    ctx = ev.ctx
    c = ctx.canvas
    both = np.concatenate([v.ravel(), h.ravel()])
    k = max(top_count(both.size), 1)
    t = np.partition(both, both.size - k)[both.size - k]
    ov, oh = np.maximum(v - t, 0.0), np.maximum(h - t, 0.0)
    if not (ov.any() or oh.any()):
        ov, oh = (v >= t).astype(float), (h >= t).astype(float)
    starts = ctx.net_start
    if starts.size == 0:
        return np.zeros(state.netlist.n_nodes)
    rmin = np.minimum.reduceat(ev._rows, starts)
    rmax = np.maximum.reduceat(ev._rows, starts)
    cmin = np.minimum.reduceat(ev._cols, starts)
    cmax = np.maximum.reduceat(ev._cols, starts)
    s = c.smoothing_reach
    dr = ev._rows[starts]
    heat = _box_sums(oh, dr - s, dr + s, cmin, cmax) + _box_sums(ov, rmin, rmax, cmin - s, cmax + s)
    heat *= ctx.route_weight
    per_entry = heat[ctx.entry_net]
    return np.bincount(ctx.entry_anchor, weights=per_entry, minlength=state.netlist.n_nodes)


def anneal(
    state: SearchState,
    moves: dict[str, float],
    budget_s: float,
    progress: ProgressCallback,
    schedule: AnnealSchedule | None = None,
    pool: np.ndarray | None = None,
    hook_every: float | None = None,
    hook: Callable[[SearchState], None] | None = None,
    heat_every: int = 0,
    max_steps: int | None = None,
    lookahead: float = 0.0,
    lookahead_quantile: float = 0.8,
    density_lookahead: float = 0.0,
    density_lookahead_quantile: float = 0.8,
) -> SearchStats:
    """Metropolis search over ``moves`` (name -> weight) for ``budget_s`` seconds.

    The best placement seen is restored at the end. ``hook`` (e.g. a force-directed update of
    the soft macros) runs each time another ``hook_every`` fraction of the run has passed; the
    heat map used by hot-spot moves is refreshed every ``heat_every`` proposals. With
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
    hook: Callable[[SearchState], None] | None
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
        progress(Progress.noting(
            f"no move lowered the objective ({step:,} proposals, {accepted:,} accepted): the "
            "placement is the search's start; a larger budget may find one"))  # fmt: skip


def _restore_best(run: _AnnealRun) -> None:
    """Put back the best placement seen (or resync the evaluator when it is the current one)."""
    state, best = run.state, run.best
    if best is not None:
        state.set_positions(slice(None), best.x, best.y, best.orientation)
    else:
        state.ev.resync()
