"""Optimal region of a node: where its nets' half-perimeter wirelength is smallest.

The classic detailed-placement target (FastPlace-DP's global swap, Pan et al.'s "optimal
region"): with every other pin fixed, a node's total HPWL is piecewise linear in its x (and
y) position and minimal between the two middle values of its nets' bounding-box edges
(each net's box taken over its *other* pins). Moving a macro there shortens its nets, and
since routing demand follows the nets' boxes, it also lowers the demand its nets put on the
grid (the congestion term is mostly total demand on these designs).
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def optimal_region(
    node: int,
    net_ptr: np.ndarray,
    nets_of: np.ndarray,
    net_entries: np.ndarray,
    entry_anchor: np.ndarray,
    ex: np.ndarray,
    ey: np.ndarray,
    scratch_x: np.ndarray,
    scratch_y: np.ndarray,
) -> tuple[float, float, float, float, bool]:
    """``(x_lo, x_hi, y_lo, y_hi, found)``: the median box of ``node``'s nets' boxes over
    their other pins (entry positions ``ex, ey``); ``found`` is False when no net of the node
    has another pin. ``scratch_*`` must hold twice the node's net count."""
    k = 0
    for a in range(net_ptr[node], net_ptr[node + 1]):
        net = nets_of[a]
        xl, xh, yl, yh = np.inf, -np.inf, np.inf, -np.inf
        for e in range(net_entries[net], net_entries[net + 1]):
            if entry_anchor[e] == node:
                continue
            xl = min(xl, ex[e])
            xh = max(xh, ex[e])
            yl = min(yl, ey[e])
            yh = max(yh, ey[e])
        if xl > xh:
            continue
        scratch_x[2 * k] = xl
        scratch_x[2 * k + 1] = xh
        scratch_y[2 * k] = yl
        scratch_y[2 * k + 1] = yh
        k += 1
    if k == 0:
        return 0.0, 0.0, 0.0, 0.0, False
    sx = np.sort(scratch_x[: 2 * k])
    sy = np.sort(scratch_y[: 2 * k])
    return sx[k - 1], sx[k], sy[k - 1], sy[k], True
