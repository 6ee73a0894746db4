"""The move kinds of the search behind ``sa`` and ``refine``: each draws one change of the
placement of a :class:`~placer.algorithms.search_state.SearchState` and returns it priced (or
``None`` when the drawn move is illegal), reading the run's knobs from a :class:`SearchContext`.

The move kinds are the ones Circuit Training's simulated-annealing baseline uses (swap, shift,
mirror, move, shuffle) plus three moves used by ``refine``: *hot-spot* shifts a macro picked
with probability growing with the congestion and density of the cell under it, *hot-net* one
picked by the congestion overflow its nets are routed through (the weights of both from
:mod:`placer.algorithms.search_heat`), and *region* moves a macro into its optimal region
(where its nets are shortest). :data:`MOVES` names them for the options and
:func:`placer.algorithms.anneal.anneal`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from placer.algorithms.search_state import SearchState
from placer.cost.incremental import Move

#: Mirror of each orientation about the vertical axis (N <-> FN, S <-> FS, E <-> FE, W <-> FW).
MIRROR = np.array([1, 0, 3, 2, 5, 4, 7, 6], dtype=np.int8)


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
