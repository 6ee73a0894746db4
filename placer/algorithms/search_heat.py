"""The weights the hot-spot and hot-net moves draw macros with
(:mod:`placer.algorithms.search_moves`): per pool macro, the congestion and density of the
cell under it, and the congestion overflow its nets are routed through. Computed from the
evaluator's whole maps, so the annealing loop refreshes them every so many proposals rather
than per move.
"""

from __future__ import annotations

import numpy as np

from placer.algorithms.search_moves import SearchContext
from placer.algorithms.search_state import SearchState
from placer.cost.congestion import top_count


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
