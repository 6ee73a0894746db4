"""Compiled kernel (numba) of the full evaluation's pass over the nets: every net's
half-perimeter and its routing demand, in one pass over the pin entries.

It computes what :func:`placer.cost.wirelength.net_hpwl` and
:func:`placer.cost.congestion.route_nets` with ``RouteSegments.difference_arrays`` compute
(their numpy forms stay the readable reference; the tests hold the two to the same bits), some
ten times faster: the numpy forms spent most of a full evaluation of the larger designs in
per-net reductions and in sorting and masking the net-cell keys (ibm17: 190,000 entries in
45,000 nets).

Same bits: the half-perimeters are exact (spans of maxima and minima); the demand of a cell
boundary is the sum of the segments starting there minus the sum of those ending there, each
sum taken in the order the numpy form lists its segments (all 2-pin routes net by net, then
each 3-pin case's segments in turn), as ``np.bincount`` adds them. Sums in one fixed order, so
the same bits at any thread count too.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from placer.cost.grid_kernel import cell_index

#: A 3-pin net's segments in the order the numpy form adds them, per axis: (case, segment).
_H_ORDER = ((1, 0), (1, 1), (2, 0), (3, 0), (3, 1), (4, 0))
_V_ORDER = ((1, 0), (1, 1), (2, 0), (3, 0), (4, 0), (4, 1))


@njit(cache=True, inline="always")
def _sort_three(cells: np.ndarray) -> None:
    """Sort ``cells[:3]`` in place (three compare-and-swaps)."""
    if cells[1] < cells[0]:
        cells[0], cells[1] = cells[1], cells[0]
    if cells[2] < cells[1]:
        cells[1], cells[2] = cells[2], cells[1]
    if cells[1] < cells[0]:
        cells[0], cells[1] = cells[1], cells[0]


@njit(cache=True, inline="always")
def _add(plus: np.ndarray, minus: np.ndarray, start: int, end: int, w: float) -> None:
    """One segment into the difference arrays: ``+w`` where it starts, ``-w`` where it ends."""
    plus[start] += w
    minus[end] += w


@njit(cache=True)
def _three_pin_cases(three: np.ndarray, C: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per 3-pin net (its distinct cells sorted by (row, col) in ``three``), its case (1-4 of
    PROXY_COST.md) and its cells sorted by (column, row): ``(case, rows, cols)``."""
    n = three.shape[0]
    case = np.empty(n, np.int64)
    ys = np.empty((n, 3), np.int64)
    xs = np.empty((n, 3), np.int64)
    for k in range(n):
        # by (column, row): three compare-and-swaps (distinct cells: no ties)
        y1, y2, y3 = three[k, 0] // C, three[k, 1] // C, three[k, 2] // C
        x1, x2, x3 = three[k, 0] % C, three[k, 1] % C, three[k, 2] % C
        if (x2, y2) < (x1, y1):
            x1, y1, x2, y2 = x2, y2, x1, y1
        if (x3, y3) < (x2, y2):
            x2, y2, x3, y3 = x3, y3, x2, y2
        if (x2, y2) < (x1, y1):
            x1, y1, x2, y2 = x2, y2, x1, y1
        if x1 < x2 and x2 < x3 and min(y1, y3) < y2 and y2 < max(y1, y3):
            case[k] = 1
        elif x2 == x3 and x1 < x2 and y1 < min(y2, y3):
            case[k] = 2
        elif y2 == y3:
            case[k] = 3
        else:
            case[k] = 4
        ys[k, 0], ys[k, 1], ys[k, 2] = y1, y2, y3
        xs[k, 0], xs[k, 1], xs[k, 2] = x1, x2, x3
    return case, ys, xs


@njit(cache=True)
def _route_three_pin_nets(
    three: np.ndarray,
    weight: np.ndarray,
    C: int,
    R: int,
    plus_v: np.ndarray,
    minus_v: np.ndarray,
    plus_h: np.ndarray,
    minus_h: np.ndarray,
) -> None:
    """The 3-pin routes of PROXY_COST.md, case by case and segment by segment in the order of
    ``_H_ORDER`` / ``_V_ORDER`` (each over the nets in turn), into the difference arrays."""
    case, ys, xs = _three_pin_cases(three, C)
    for want, segment in _H_ORDER:
        for k in range(three.shape[0]):
            if case[k] != want:
                continue
            y1, y2 = ys[k, 0], ys[k, 1]
            x1, x2, x3 = xs[k, 0], xs[k, 1], xs[k, 2]
            if want == 4:  # on the middle row (by (row, col)) over all three columns
                row = three[k, 1] // C
                lo = min(x1, min(x2, x3))
                hi = max(x1, max(x2, x3))
            elif segment == 0:
                row, lo, hi = y1, x1, x2
            else:
                row, lo, hi = y2, x2, x3
            _add(plus_h, minus_h, row * (C + 1) + lo, row * (C + 1) + hi, weight[k])
    for want, segment in _V_ORDER:
        for k in range(three.shape[0]):
            if case[k] != want:
                continue
            y1, y2, y3 = ys[k, 0], ys[k, 1], ys[k, 2]
            x2, x3 = xs[k, 1], xs[k, 2]
            if want == 4:  # the cells by (row, col): first to middle, middle to last
                a1, a2, a3 = three[k, 0] // C, three[k, 1] // C, three[k, 2] // C
                if segment == 0:
                    col, lo, hi = three[k, 0] % C, min(a1, a2), max(a1, a2)
                else:
                    col, lo, hi = three[k, 2] % C, min(a2, a3), max(a2, a3)
            elif want == 2:
                col, lo, hi = x2, y1, max(y2, y3)
            elif segment == 0:
                col, lo, hi = x2, min(y1, y2), max(y1, y2)
            else:
                col, lo, hi = x3, min(y2, y3), max(y2, y3)
            _add(plus_v, minus_v, lo * C + col, hi * C + col, weight[k])


@njit(cache=True)
def net_pass(
    x: np.ndarray,
    y: np.ndarray,
    net_start: np.ndarray,
    route_weight: np.ndarray,
    cell_w: float,
    cell_h: float,
    R: int,
    C: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(hpwl, dV, dH)`` of the nets whose pin entries are ``x``, ``y``, net ``k`` being the
    entries from ``net_start[k]`` (its driver) up to the next net's start.

    ``hpwl`` is each net's ``(max x - min x) + (max y - min y)`` (a net with no entries takes
    its start entry alone, as ``np.maximum.reduceat`` does); ``dV`` ((R+1) x C) and ``dH``
    (R x (C+1)), flat, are the routing demand's difference arrays (PROXY_COST.md's 2-pin,
    3-pin and star rules, each route weighing ``route_weight[k]``), what
    ``route_nets(...).difference_arrays(R, C)`` returns.
    """
    n_nets = net_start.shape[0]
    n_entries = x.shape[0]
    hpwl = np.zeros(n_nets)
    plus_v = np.zeros((R + 1) * C)
    minus_v = np.zeros((R + 1) * C)
    plus_h = np.zeros(R * (C + 1))
    minus_h = np.zeros(R * (C + 1))
    widest = 1
    for k in range(n_nets):
        end = net_start[k + 1] if k + 1 < n_nets else n_entries
        widest = max(widest, end - net_start[k])
    cells = np.empty(widest, np.int64)  # a net's distinct cells, in the order first met
    last_net = np.full(R * C, -1, np.int64)  # the last net met in each cell
    three = np.empty((n_nets, 3), np.int64)
    three_weight = np.empty(n_nets)
    n_three = 0
    for k in range(n_nets):
        start = net_start[k]
        end = net_start[k + 1] if k + 1 < n_nets else n_entries
        x_lo = x_hi = x[start]
        y_lo = y_hi = y[start]
        distinct = 0
        for e in range(start, max(end, start + 1)):
            if x[e] > x_hi:
                x_hi = x[e]
            if x[e] < x_lo:
                x_lo = x[e]
            if y[e] > y_hi:
                y_hi = y[e]
            if y[e] < y_lo:
                y_lo = y[e]
            cell = cell_index(y[e], cell_h, R) * C + cell_index(x[e], cell_w, C)
            if last_net[cell] != k:
                last_net[cell] = k
                cells[distinct] = cell
                distinct += 1
        hpwl[k] = (x_hi - x_lo) + (y_hi - y_lo)
        if end <= start or distinct < 2:  # (no entries, or all in one cell: no route)
            continue
        if distinct == 3:  # routed after every 2-pin route, case by case (the numpy order)
            _sort_three(cells)  # by (row, col)
            three[n_three, 0], three[n_three, 1], three[n_three, 2] = cells[0], cells[1], cells[2]
            three_weight[n_three] = route_weight[k]
            n_three += 1
            continue
        # A star from the driver's cell (the first met) to every other one. The numpy form
        # takes them in ascending order, this one as met: the same bits, as every route of a
        # net adds the same weight (a cell boundary gets this net's additions in a row).
        w = route_weight[k]
        sr, sc = cells[0] // C, cells[0] % C
        for i in range(1, distinct):
            tr, tc = cells[i] // C, cells[i] % C
            _add(plus_h, minus_h, sr * (C + 1) + min(sc, tc), sr * (C + 1) + max(sc, tc), w)
            _add(plus_v, minus_v, min(sr, tr) * C + tc, max(sr, tr) * C + tc, w)
    _route_three_pin_nets(three[:n_three], three_weight[:n_three], C, R, plus_v, minus_v, plus_h, minus_h)
    return hpwl, plus_v - minus_v, plus_h - minus_h
