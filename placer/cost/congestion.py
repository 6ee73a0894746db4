"""Congestion term: net routing demand (2-pin and 3-pin rules), smoothing, macro blockage.

Follows ``shared/PROXY_COST.md`` to the letter. Route demand is accumulated with difference
arrays (a segment ``[a, b)`` adds ``+w`` at ``a`` and ``-w`` at ``b``, then a cumulative sum),
which is exact for the integer net weights of the benchmarks.
"""

from __future__ import annotations

import numpy as np

from netlists.model import Canvas
from placer.cost.arrays import sorted_unique
from placer.cost.grid import cell_rows_cols, overlap_grid, signed_overlaps

#: Share of all V and H cell values (together) whose mean is the congestion cost.
TOP_FRACTION = 0.05


def top_count(n_values: int) -> int:
    """How many of ``n_values`` V and H cell values the congestion cost averages (floor of 5 %)."""
    return int(np.floor(TOP_FRACTION * n_values))


class RouteSegments:
    """Horizontal and vertical demand segments, collected then scattered into grids."""

    def __init__(self) -> None:
        self.h: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
        self.v: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []

    def add_h(self, row: np.ndarray, a: np.ndarray, b: np.ndarray, w: np.ndarray) -> None:
        """Demand ``w`` on row ``row`` over columns ``[a, b)``."""
        self.h.append((row, a, b, w))

    def add_v(self, col: np.ndarray, a: np.ndarray, b: np.ndarray, w: np.ndarray) -> None:
        """Demand ``w`` on column ``col`` over rows ``[a, b)``."""
        self.v.append((col, a, b, w))

    def difference_arrays(self, rows: int, cols: int) -> tuple[np.ndarray, np.ndarray]:
        """``(dV, dH)`` as flat difference arrays: dV is (R+1, C), dH is (R, C+1)."""
        dh = np.zeros(rows * (cols + 1))
        if self.h:
            r, a, b, w = (np.concatenate(z) for z in zip(*self.h, strict=True))
            base = r * (cols + 1)
            dh += np.bincount(base + a, weights=w, minlength=dh.size)
            dh -= np.bincount(base + b, weights=w, minlength=dh.size)
        dv = np.zeros((rows + 1) * cols)
        if self.v:
            c, a, b, w = (np.concatenate(z) for z in zip(*self.v, strict=True))
            dv += np.bincount(a * cols + c, weights=w, minlength=dv.size)
            dv -= np.bincount(b * cols + c, weights=w, minlength=dv.size)
        return dv, dh


def integrate(dv: np.ndarray, dh: np.ndarray, rows: int, cols: int) -> tuple[np.ndarray, np.ndarray]:
    """Raw ``(V, H)`` demand grids ``(R, C)`` from difference arrays."""
    v = np.cumsum(dv.reshape(rows + 1, cols), axis=0)[:rows]
    h = np.cumsum(dh.reshape(rows, cols + 1), axis=1)[:, :cols]
    return v, h


def route_nets(
    canvas: Canvas,
    rows: np.ndarray,
    cols: np.ndarray,
    entry_net: np.ndarray,
    n_nets: int,
    src_entry: np.ndarray,
    weight: np.ndarray,
) -> RouteSegments:
    """Route segments of nets given per entry (pin) cells: the numpy form of the demand that
    :func:`placer.cost.net_kernel.net_pass` computes for the evaluators (the same bits).

    Args:
        canvas: the grid the cells index (its column count linearises them).
        rows, cols: grid cell of every entry.
        entry_net: local net id (0..n_nets-1) of every entry, non-decreasing.
        n_nets: how many nets the entries belong to.
        src_entry: index (into the entry arrays) of each net's driver.
        weight: routing weight ``max(weight, 1)`` of each net.
    """
    C = canvas.cols
    RC = canvas.rows * C
    seg = RouteSegments()
    if n_nets == 0:
        return seg
    cell = rows * C + cols
    uniq = sorted_unique(entry_net * RC + cell)
    unet = uniq // RC
    ucell = uniq - unet * RC
    count = np.bincount(unet, minlength=n_nets)
    src = cell[src_entry]

    # |G| = 2 and |G| > 3: a 2-pin route from the source to every other distinct cell.
    two = (count[unet] != 3) & (ucell != src[unet])
    if np.any(two):
        nets = unet[two]
        s = src[nets]
        t = ucell[two]
        _route_two(seg, s // C, s % C, t // C, t % C, weight[nets])

    three = count[unet] == 3
    if np.any(three):
        c3 = ucell[three].reshape(-1, 3)  # sorted by (row, col) within each net
        w3 = weight[unet[three][::3]]
        _route_three(seg, c3 // C, c3 % C, w3, canvas.rows)
    return seg


def _route_two(
    seg: RouteSegments, sr: np.ndarray, sc: np.ndarray, tr: np.ndarray, tc: np.ndarray, w: np.ndarray
) -> None:
    seg.add_h(sr, np.minimum(sc, tc), np.maximum(sc, tc), w)
    seg.add_v(tc, np.minimum(sr, tr), np.maximum(sr, tr), w)


def _route_three(seg: RouteSegments, r: np.ndarray, c: np.ndarray, w: np.ndarray, n_rows: int) -> None:
    """The four 3-pin cases of PROXY_COST.md; ``r``, ``c`` are (n, 3) sorted by (row, col)."""
    order = np.argsort(c * n_rows + r, axis=1, kind="stable")  # sort by (col, row)
    y = np.take_along_axis(r, order, axis=1)
    x = np.take_along_axis(c, order, axis=1)
    x1, x2, x3 = x[:, 0], x[:, 1], x[:, 2]
    y1, y2, y3 = y[:, 0], y[:, 1], y[:, 2]
    case1 = (x1 < x2) & (x2 < x3) & (np.minimum(y1, y3) < y2) & (y2 < np.maximum(y1, y3))
    case2 = ~case1 & (x2 == x3) & (x1 < x2) & (y1 < np.minimum(y2, y3))
    case3 = ~case1 & ~case2 & (y2 == y3)
    case4 = ~case1 & ~case2 & ~case3

    m = case1
    if np.any(m):
        seg.add_h(y1[m], x1[m], x2[m], w[m])
        seg.add_h(y2[m], x2[m], x3[m], w[m])
        seg.add_v(x2[m], np.minimum(y1[m], y2[m]), np.maximum(y1[m], y2[m]), w[m])
        seg.add_v(x3[m], np.minimum(y2[m], y3[m]), np.maximum(y2[m], y3[m]), w[m])
    m = case2
    if np.any(m):
        seg.add_h(y1[m], x1[m], x2[m], w[m])
        seg.add_v(x2[m], y1[m], np.maximum(y2[m], y3[m]), w[m])
    m = case3
    if np.any(m):
        seg.add_h(y1[m], x1[m], x2[m], w[m])
        seg.add_h(y2[m], x2[m], x3[m], w[m])
        seg.add_v(x2[m], np.minimum(y1[m], y2[m]), np.maximum(y1[m], y2[m]), w[m])
    m = case4
    if np.any(m):
        # re-sorted by (row, col): the input order
        ry, rx = r[m], c[m]
        a1, a2, a3 = ry[:, 0], ry[:, 1], ry[:, 2]
        b1, b3 = rx[:, 0], rx[:, 2]
        seg.add_h(a2, rx.min(axis=1), rx.max(axis=1), w[m])
        seg.add_v(b1, np.minimum(a1, a2), np.maximum(a1, a2), w[m])
        seg.add_v(b3, np.minimum(a2, a3), np.maximum(a2, a3), w[m])


def smooth(v: np.ndarray, h: np.ndarray, s: int) -> tuple[np.ndarray, np.ndarray]:
    """Spread each ``V[r, c]`` over columns ``[c-s, c+s]`` and each ``H[r, c]`` over rows
    ``[r-s, r+s]`` (inside the grid), in equal parts."""
    if s <= 0:
        return v.copy(), h.copy()
    return _spread(v, s, axis=1), _spread(h, s, axis=0)


#: The largest smoothing reach spread by shifted sums (``2 * reach + 1`` passes over the grid,
#: the bits every recorded cost was made with: the benchmarks use 0 and 2); a wider reach is
#: spread by running sums in a fixed number of passes (a header's range of 2,048 on a 2,048-cell
#: grid took 33 s, and one of 65,536 more than ten minutes). The incremental evaluator's kernel
#: switches at the same reach.
SPREAD_LOOP_REACH = 16


def _spread(a: np.ndarray, s: int, axis: int) -> np.ndarray:
    """Each value of ``a`` spread in equal parts over the cells within ``s`` of it along
    ``axis`` (inside the grid): work proportional to the grid's cells for any ``s``."""
    n = a.shape[axis]
    k = np.arange(n)
    count = np.minimum(n - 1, k + s) - np.maximum(0, k - s) + 1
    shape = [1, 1]
    shape[axis] = n
    share = a / count.reshape(shape)
    reach = min(s, n - 1)  # a shift of n or more cells lands outside
    if reach <= SPREAD_LOOP_REACH:
        return _spread_shifted(share, reach, axis)
    return _spread_running(share, reach, axis)


def _spread_shifted(share: np.ndarray, reach: int, axis: int) -> np.ndarray:
    """Sum of ``share`` over each cell's window of ``reach`` cells either side along ``axis``,
    as ``2 * reach + 1`` shifted additions (the order every recorded cost was summed in)."""
    n = share.shape[axis]
    out = np.zeros_like(share)
    for d in range(-reach, reach + 1):
        if axis == 1:
            if d >= 0:
                out[:, d:] += share[:, : n - d]
            else:
                out[:, :d] += share[:, -d:]
        else:
            if d >= 0:
                out[d:, :] += share[: n - d, :]
            else:
                out[:d, :] += share[-d:, :]
    return out


def _spread_running(share: np.ndarray, reach: int, axis: int) -> np.ndarray:
    """What :func:`_spread_shifted` sums, as the difference of running sums along ``axis`` at
    each window's ends: a fixed number of passes for any reach (rounding of the order of the
    row's or column's total times 1e-16 each; a window of zeros stays exactly 0)."""
    n = share.shape[axis]
    k = np.arange(n)
    lo, hi = np.maximum(0, k - reach), np.minimum(n - 1, k + reach) + 1
    running = np.zeros((share.shape[0] + 1, share.shape[1]) if axis == 0 else (share.shape[0], share.shape[1] + 1))
    np.cumsum(share, axis=axis, out=running[1:, :] if axis == 0 else running[:, 1:])
    return np.take(running, hi, axis=axis) - np.take(running, lo, axis=axis)


def macro_blockage(
    canvas: Canvas, x: np.ndarray, y: np.ndarray, w: np.ndarray, h: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Raw ``(Vm, Hm)`` routing demand of hard macros (before normalisation), per the spec,
    including the reference evaluator's two corrections of the top row / rightmost column.
    The numpy form of what :func:`placer.cost.blockage_kernel.blockage_grids` computes for the
    evaluators (the same bits)."""
    R, C = canvas.rows, canvas.cols
    cw, ch = canvas.width / C, canvas.height / R
    va, ha = canvas.vrouting_alloc, canvas.hrouting_alloc
    if x.size == 0:
        return np.zeros((R, C)), np.zeros((R, C))
    xl, xh = x - w / 2, x + w / 2
    yl, yh = y - h / 2, y + h / 2
    r0, c0 = cell_rows_cols(canvas, xl, yl)
    r1, c1 = cell_rows_cols(canvas, xh, yh)
    kc = np.arange(C)
    kr = np.arange(R)
    in_c = (kc[None, :] >= c0[:, None]) & (kc[None, :] <= c1[:, None])
    in_r = (kr[None, :] >= r0[:, None]) & (kr[None, :] <= r1[:, None])
    dx = signed_overlaps(xl, xh, C, cw)
    dy = signed_overlaps(yl, yh, R, ch)
    posx = in_c & (dx > 0)
    posy = in_r & (dy > 0)
    dxe = np.where(posx, dx, 0.0)
    dye = np.where(posy, dy, 0.0)
    vm = overlap_grid(posy.astype(np.float64), dxe * va)  # (the same bits at any thread count)
    hm = overlap_grid(dye * ha, posx.astype(np.float64))

    m = np.arange(x.size)
    # A cell that gets nothing counts as dx = dy = 0, which the tests below find partial only
    # where a cell is wider (taller) than their 1e-5 tolerance: never on cells of 1e-5 or less.
    nothing_bad_v, nothing_bad_h = abs(0.0 - ch) > 1e-5, abs(0.0 - cw) > 1e-5
    any_x_bad = np.any(in_c & ~posx, axis=1) & nothing_bad_v  # a block column getting nothing
    any_y_bad = np.any(in_r & ~posy, axis=1) & nothing_bad_h

    def row_bad(r: np.ndarray) -> np.ndarray:
        d = dy[m, r]
        return np.where(d > 0, np.abs(d - ch) > 1e-5, nothing_bad_v)

    def col_bad(c: np.ndarray) -> np.ndarray:
        d = dx[m, c]
        return np.where(d > 0, np.abs(d - cw) > 1e-5, nothing_bad_h)

    flag_v = (r1 != r0) & (any_x_bad | row_bad(r0) | row_bad(r1))
    flag_v &= dy[m, r1] > 0
    if np.any(flag_v):
        np.add.at(vm, r1[flag_v], -dxe[flag_v] * va)
    flag_h = (c1 != c0) & (any_y_bad | col_bad(c0) | col_bad(c1))
    flag_h &= dx[m, c1] > 0
    if np.any(flag_h):
        np.add.at(hm.T, c1[flag_h], -dye[flag_h] * ha)
    return vm, hm


def congestion_cost(v_total: np.ndarray, h_total: np.ndarray) -> float:
    """Mean of the largest ``floor(0.05 * 2 R C)`` values of V and H together (max if 0)."""
    allv = np.concatenate([v_total.ravel(), h_total.ravel()])
    k = top_count(allv.size)
    if k == 0:
        return float(np.max(allv))
    top = np.partition(allv, allv.size - k)[allv.size - k :]
    return float(np.sum(np.sort(top)[::-1])) / k
