"""Optimal region of a node: where its nets' weighted half-perimeter wirelength is smallest.

The classic detailed-placement target (FastPlace-DP's global swap, Pan et al.'s "optimal
region"): with every other pin fixed, a node's total weighted HPWL is convex and piecewise
linear in its x (and y) position. Net ``n`` (weight ``w``) with the node's own pins at offsets
``d`` from its centre and its other pins spanning ``[lo, hi]`` costs
``w * (max(hi, x + max d) - min(lo, x + min d))``: flat between ``lo - min d`` and
``hi - max d`` (either way round) and rising at slope ``w`` outside. The sum is smallest where
the weight of the interval ends passed reaches half of all (the weighted median of the ends;
with equal weights and pins at the centre, between the two middle values). Moving a macro
there shortens its nets, and since routing demand follows the nets' boxes, it also lowers the
demand its nets put on the grid (the congestion term is mostly total demand on these designs).
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def _weighted_median_span(ends: np.ndarray, weights: np.ndarray, k: int) -> tuple[float, float]:
    """The interval minimising ``sum_i weights[i] * dist(x, [ends[2i], ends[2i+1]])`` over the
    first ``k`` intervals (each end carries its interval's weight)."""
    order = np.argsort(ends[: 2 * k], kind="mergesort")
    total = 0.0
    for i in range(k):
        total += weights[i]
    passed = 0.0
    for j in range(2 * k):
        passed += weights[order[j] // 2]
        if passed >= total * (1.0 - 1e-12):  # the slope turns non-negative here
            lo = ends[order[j]]
            flat = passed <= total * (1.0 + 1e-12) and j + 1 < 2 * k  # exactly half: flat after
            return lo, ends[order[j + 1]] if flat else lo
    last = ends[order[2 * k - 1]]
    return last, last


@njit(cache=True)
def optimal_region(
    node: int,
    net_ptr: np.ndarray,
    nets_of: np.ndarray,
    net_entries: np.ndarray,
    entry_anchor: np.ndarray,
    net_weight: np.ndarray,
    ex: np.ndarray,
    ey: np.ndarray,
    node_x: float,
    node_y: float,
    scratch_x: np.ndarray,
    scratch_y: np.ndarray,
    scratch_w: np.ndarray,
) -> tuple[float, float, float, float, bool]:
    """``(x_lo, x_hi, y_lo, y_hi, found)``: where ``node`` (centre now at ``node_x, node_y``)
    gives its nets the least weighted HPWL, every other pin staying at its entry position
    (``ex, ey``; the node's own pins keep their offsets); ``found`` is False when no net of the
    node has another pin or a positive weight. ``scratch_x``/``_y`` must hold twice the
    node's net count, ``scratch_w`` that count."""
    k = 0
    for a in range(net_ptr[node], net_ptr[node + 1]):
        net = nets_of[a]
        if not net_weight[net] > 0:
            continue  # (a weight-0 net pulls nowhere)
        xl, xh, yl, yh = np.inf, -np.inf, np.inf, -np.inf
        dxl, dxh, dyl, dyh = np.inf, -np.inf, np.inf, -np.inf
        for e in range(net_entries[net], net_entries[net + 1]):
            if entry_anchor[e] == node:
                dxl = min(dxl, ex[e] - node_x)
                dxh = max(dxh, ex[e] - node_x)
                dyl = min(dyl, ey[e] - node_y)
                dyh = max(dyh, ey[e] - node_y)
                continue
            xl = min(xl, ex[e])
            xh = max(xh, ex[e])
            yl = min(yl, ey[e])
            yh = max(yh, ey[e])
        if xl > xh or dxl > dxh:
            continue
        scratch_x[2 * k], scratch_x[2 * k + 1] = xl - dxl, xh - dxh
        scratch_y[2 * k], scratch_y[2 * k + 1] = yl - dyl, yh - dyh
        scratch_w[k] = net_weight[net]
        k += 1
    if k == 0:
        return 0.0, 0.0, 0.0, 0.0, False
    x0, x1 = _weighted_median_span(scratch_x, scratch_w, k)
    y0, y1 = _weighted_median_span(scratch_y, scratch_w, k)
    return x0, x1, y0, y1, True
