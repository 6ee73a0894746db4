"""Compiled kernels (numba) that price and apply a move of a few nodes incrementally.

The same rules as the full evaluator (``shared/PROXY_COST.md``), applied to the difference a
move makes: the nets touching the moved nodes are re-measured and re-routed (old routes
subtracted, new ones added, 2-pin / 3-pin / star rules), the moved macros' density and
hard-macro blockage are taken out of their old cells and put into their new ones, and the
change of the smoothed congestion is spread over the affected cells only. The top-k means of
density and congestion are recomputed only when a changed cell reaches the current k-th
largest value (otherwise the top-k set, and so the cost, is provably unchanged).

Work per proposal is proportional to the pins and grid cells the move touches, not to the
design: this is what lets local search and annealing try millions of moves.
:class:`placer.cost.incremental.IncrementalEvaluator` owns the state and calls these kernels;
its tests compare every result with a full evaluation.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from placer.cost.congestion import SPREAD_LOOP_REACH, TOP_FRACTION
from placer.cost.density import TOP_FRACTION as DENSITY_TOP_FRACTION
from placer.cost.topk_kernel import gather_top_values, top_sum, top_sum_if_positive

# Orientation matrices (m0, m1, m2, m3): offset (m0*dx + m1*dy, m2*dx + m3*dy), in the order
# of netlists.model.ORIENTATIONS; the evaluator derives them from netlists.model.orient_offsets.


@njit(cache=True, inline="always")
def _cell(v: float, step: float, n: int) -> int:
    """``floor(v / step)`` clamped to ``[0, n - 1]`` (in floating point first: a coordinate
    past ~9e18 cells would wrap to a negative integer)."""
    return _floor_clamped(v, step, 0, n - 1)


@njit(cache=True, inline="always")
def _floor_clamped(v: float, step: float, lo: int, hi: int) -> int:
    """``floor(v / step)`` clamped to ``[lo, hi]`` before it becomes an integer (NaN: ``lo``)."""
    k = np.floor(v / step)
    if not k >= lo:  # also NaN, which int() would turn into -2**63
        return lo
    if k > hi:
        return hi
    return int(k)


@njit(cache=True, inline="always")
def _overlap(lo: float, hi: float, k: int, step: float) -> float:
    """Signed length of ``[lo, hi]`` inside grid interval ``k`` (``[k*step, (k+1)*step]``)."""
    return min(hi, (k + 1) * step) - max(lo, k * step)


@njit(cache=True)
def _route_two(
    s: int, t: int, w: float, C: int, dV: np.ndarray, dH: np.ndarray, box: np.ndarray
) -> None:
    sr, sc = s // C, s % C
    tr, tc = t // C, t % C
    a, b = min(sc, tc), max(sc, tc)
    for c in range(a, b):
        dH[sr, c] += w
    a2, b2 = min(sr, tr), max(sr, tr)
    for r in range(a2, b2):
        dV[r, tc] += w
    _grow(box, min(sr, tr), max(sr, tr), min(sc, tc), max(sc, tc))


@njit(cache=True, inline="always")
def _grow(box: np.ndarray, r0: int, r1: int, c0: int, c1: int) -> None:
    if r0 < box[0]:
        box[0] = r0
    if r1 > box[1]:
        box[1] = r1
    if c0 < box[2]:
        box[2] = c0
    if c1 > box[3]:
        box[3] = c1


@njit(cache=True)
def _hseg(row: int, a: int, b: int, w: float, dH: np.ndarray) -> None:
    for c in range(a, b):
        dH[row, c] += w


@njit(cache=True)
def _vseg(col: int, a: int, b: int, w: float, dV: np.ndarray) -> None:
    for r in range(a, b):
        dV[r, col] += w


@njit(cache=True)
def _route_three(
    u: np.ndarray, w: float, C: int, R: int, dV: np.ndarray, dH: np.ndarray, box: np.ndarray
) -> None:
    """The four 3-pin cases; ``u`` holds the three distinct cells sorted by (row, col)."""
    r = np.empty(3, np.int64)
    c = np.empty(3, np.int64)
    for k in range(3):
        r[k] = u[k] // C
        c[k] = u[k] % C
    key = c * R + r
    order = np.argsort(key, kind="mergesort")
    y1, y2, y3 = r[order[0]], r[order[1]], r[order[2]]
    x1, x2, x3 = c[order[0]], c[order[1]], c[order[2]]
    _grow(
        box,
        min(r[0], min(r[1], r[2])),
        max(r[0], max(r[1], r[2])),
        min(c[0], min(c[1], c[2])),
        max(c[0], max(c[1], c[2])),
    )
    if x1 < x2 and x2 < x3 and min(y1, y3) < y2 and y2 < max(y1, y3):
        _hseg(y1, x1, x2, w, dH)
        _hseg(y2, x2, x3, w, dH)
        _vseg(x2, min(y1, y2), max(y1, y2), w, dV)
        _vseg(x3, min(y2, y3), max(y2, y3), w, dV)
    elif x2 == x3 and x1 < x2 and y1 < min(y2, y3):
        _hseg(y1, x1, x2, w, dH)
        _vseg(x2, y1, max(y2, y3), w, dV)
    elif y2 == y3:
        _hseg(y1, x1, x2, w, dH)
        _hseg(y2, x2, x3, w, dH)
        _vseg(x2, min(y1, y2), max(y1, y2), w, dV)
    else:
        a1, a2, a3 = r[0], r[1], r[2]  # the input order: sorted by (row, col)
        b1, b3 = c[0], c[2]
        _hseg(a2, min(c[0], min(c[1], c[2])), max(c[0], max(c[1], c[2])), w, dH)
        _vseg(b1, min(a1, a2), max(a1, a2), w, dV)
        _vseg(b3, min(a2, a3), max(a2, a3), w, dV)


@njit(cache=True)
def _route_net(
    net: int,
    use_new: bool,
    w: float,
    net_ptr: np.ndarray,
    er: np.ndarray,
    ec: np.ndarray,
    slot: np.ndarray,
    m_r: np.ndarray,
    m_c: np.ndarray,
    cells: np.ndarray,
    C: int,
    R: int,
    dV: np.ndarray,
    dH: np.ndarray,
    box: np.ndarray,
) -> None:
    a, b = net_ptr[net], net_ptr[net + 1]
    n = b - a
    for k in range(n):
        e = a + k
        s = slot[e]
        if use_new and s >= 0:
            cells[k] = m_r[s] * C + m_c[s]
        else:
            cells[k] = er[e] * C + ec[e]
    src = cells[0]  # the driver is the first entry of its net
    u = cells[:n]
    u.sort()
    nu = 0
    for k in range(n):
        if k == 0 or u[k] != u[k - 1]:
            u[nu] = u[k]
            nu += 1
    if nu <= 1:
        return
    if nu == 3:
        _route_three(u[:3], w, C, R, dV, dH, box)
        return
    for k in range(nu):
        if u[k] != src:
            _route_two(src, u[k], w, C, dV, dH, box)


@njit(cache=True)
def _star_update(
    net: int,
    w: float,
    net_ptr: np.ndarray,
    er: np.ndarray,
    ec: np.ndarray,
    slot: np.ndarray,
    m_r: np.ndarray,
    m_c: np.ndarray,
    C: int,
    dV: np.ndarray,
    dH: np.ndarray,
    box: np.ndarray,
) -> bool:
    """Re-route a net whose only moved pin is not its driver by its one changed route.

    A net of other than three distinct cells is routed as a star from its driver's cell to
    each other distinct cell, so moving one sink from cell ``o`` to cell ``n`` only removes
    the route to ``o`` (if no other pin is in ``o``) and adds the route to ``n`` (if no other
    pin was in ``n``): two routes instead of all of them. Returns False (nothing done) when
    the rule does not apply (the driver or several pins moved, or three distinct cells before
    or after the move); the caller then re-routes the whole net.
    """
    a, b = net_ptr[net], net_ptr[net + 1]
    if slot[a] >= 0:
        return False
    moved = -1
    for e in range(a + 1, b):
        if slot[e] >= 0:
            if moved >= 0:
                return False
            moved = e
    if moved < 0:
        return False
    old = er[moved] * C + ec[moved]
    sl = slot[moved]
    new = m_r[sl] * C + m_c[sl]
    old_taken = False  # another pin is in the old / new cell
    new_taken = False
    seen = np.empty(4, np.int64)  # the first distinct cells of the other pins (up to 4)
    distinct = 0
    for e in range(a, b):
        if e == moved:
            continue
        cell = er[e] * C + ec[e]
        if cell == old:
            old_taken = True
        if cell == new:
            new_taken = True
        if distinct < 4:
            fresh = True
            for q in range(distinct):
                if seen[q] == cell:
                    fresh = False
            if fresh:
                seen[distinct] = cell
                distinct += 1
    if distinct < 4:
        n_old = distinct + (0 if old_taken else 1)
        n_new = distinct + (0 if new_taken else 1)
        if n_old == 3 or n_new == 3:
            return False
    src = er[a] * C + ec[a]
    if not old_taken:
        _route_two(src, old, -w, C, dV, dH, box)
    if not new_taken:
        _route_two(src, new, w, C, dV, dH, box)
    return True


@njit(cache=True, inline="always")
def _rect_cells(
    xl: float, xh: float, yl: float, yh: float, cw: float, ch: float, R: int, C: int
) -> tuple[int, int, int, int]:
    """``(c0, c1, r0, r1)``: the cells a rectangle may overlap, one more on each side than its
    corners' cells: a cell edge ``k * cw`` can round a hair past ``xl`` (``3 * 1.3 > 3.9``),
    and the full evaluator, which measures every cell, then gives that neighbour a 4e-16 sliver
    that the per-cell overlap test here must see as well (empty ones are skipped)."""
    c0 = _floor_clamped(xl, cw, 1, C) - 1
    c1 = _floor_clamped(xh, cw, -1, C - 2) + 1
    r0 = _floor_clamped(yl, ch, 1, R) - 1
    r1 = _floor_clamped(yh, ch, -1, R - 2) + 1
    return c0, c1, r0, r1


@njit(cache=True)
def _add_rect_area(
    x: float,
    y: float,
    w: float,
    h: float,
    sign: float,
    cw: float,
    ch: float,
    R: int,
    C: int,
    dD: np.ndarray,
    dN: np.ndarray,
    box: np.ndarray,
) -> None:
    """Area of the rectangle centred at (x, y) in every cell, times ``sign``, into ``dD``, and
    ``sign`` into ``dN`` for every cell it covers (a positive area)."""
    xl, xh, yl, yh = x - w / 2, x + w / 2, y - h / 2, y + h / 2
    c0, c1, r0, r1 = _rect_cells(xl, xh, yl, yh, cw, ch, R, C)
    if c0 > c1 or r0 > r1:
        return
    _grow(box, r0, r1, c0, c1)
    for r in range(r0, r1 + 1):
        oy = _overlap(yl, yh, r, ch)
        if oy <= 0.0:
            continue
        for c in range(c0, c1 + 1):
            ox = _overlap(xl, xh, c, cw)
            if ox > 0.0:
                dD[r, c] += sign * (oy * ox)
                dN[r, c] += sign


@njit(cache=True)
def _empty_left_cells(
    x: float,
    y: float,
    w: float,
    h: float,
    cw: float,
    ch: float,
    R: int,
    C: int,
    dens: np.ndarray,
    cover: np.ndarray,
    dD: np.ndarray,
    dN: np.ndarray,
) -> None:
    """Make the cells of the rectangle a macro leaves that no macro covers after the move
    exactly empty, as in a fresh evaluation: the added and subtracted areas leave rounding
    crumbs (2.8e-17) that would count as nonzero cells (the density of a grid under 10 cells
    is the mean over its nonzero cells)."""
    c0, c1, r0, r1 = _rect_cells(x - w / 2, x + w / 2, y - h / 2, y + h / 2, cw, ch, R, C)
    for r in range(r0, r1 + 1):
        for c in range(c0, c1 + 1):
            if dN[r, c] != 0.0 and cover[r, c] + dN[r, c] == 0.0:
                dD[r, c] = -dens[r, c]


@njit(cache=True)
def _add_blockage(
    x: float,
    y: float,
    w: float,
    h: float,
    sign: float,
    cw: float,
    ch: float,
    R: int,
    C: int,
    va: float,
    ha: float,
    dVm: np.ndarray,
    dHm: np.ndarray,
    box: np.ndarray,
) -> None:
    """One hard macro's raw routing blockage (with the reference's two corrections), times
    ``sign``, into ``dVm`` / ``dHm``: the single-macro form of ``congestion.macro_blockage``."""
    xl, xh, yl, yh = x - w / 2, x + w / 2, y - h / 2, y + h / 2
    r0, c0 = _cell(yl, ch, R), _cell(xl, cw, C)
    r1, c1 = _cell(yh, ch, R), _cell(xh, cw, C)
    _grow(box, min(r0, r1), max(r0, r1), min(c0, c1), max(c0, c1))
    # a cell that gets nothing counts as dx = dy = 0: partial only where the cell is wider
    # (taller) than the 1e-5 tolerance (congestion.macro_blockage says the same)
    nothing_bad_v = abs(0.0 - ch) > 1e-5
    nothing_bad_h = abs(0.0 - cw) > 1e-5
    any_x_bad = False
    for c in range(c0, c1 + 1):
        if not (_overlap(xl, xh, c, cw) > 0.0):
            any_x_bad = nothing_bad_v
    any_y_bad = False
    for r in range(r0, r1 + 1):
        if not (_overlap(yl, yh, r, ch) > 0.0):
            any_y_bad = nothing_bad_h
    for r in range(r0, r1 + 1):
        dy = _overlap(yl, yh, r, ch)
        if dy <= 0.0:
            continue
        for c in range(c0, c1 + 1):
            dx = _overlap(xl, xh, c, cw)
            if dx > 0.0:
                dVm[r, c] += sign * (dx * va)
                dHm[r, c] += sign * (dy * ha)
    dy0 = _overlap(yl, yh, r0, ch)
    dy1 = _overlap(yl, yh, r1, ch)
    dx0 = _overlap(xl, xh, c0, cw)
    dx1 = _overlap(xl, xh, c1, cw)
    row_bad0 = abs(dy0 - ch) > 1e-5 if dy0 > 0.0 else nothing_bad_v
    row_bad1 = abs(dy1 - ch) > 1e-5 if dy1 > 0.0 else nothing_bad_v
    col_bad0 = abs(dx0 - cw) > 1e-5 if dx0 > 0.0 else nothing_bad_h
    col_bad1 = abs(dx1 - cw) > 1e-5 if dx1 > 0.0 else nothing_bad_h
    if r1 != r0 and (any_x_bad or row_bad0 or row_bad1) and dy1 > 0.0:
        for c in range(c0, c1 + 1):
            dx = _overlap(xl, xh, c, cw)
            if dx > 0.0:
                dVm[r1, c] -= sign * (dx * va)
    if c1 != c0 and (any_y_bad or col_bad0 or col_bad1) and dx1 > 0.0:
        for r in range(r0, r1 + 1):
            dy = _overlap(yl, yh, r, ch)
            if dy > 0.0:
                dHm[r, c1] -= sign * (dy * ha)


@njit(cache=True)
def top_mean_congestion(vt: np.ndarray, ht: np.ndarray) -> tuple[float, float]:
    """``(cost, threshold)``: mean of the largest floor(0.05 * 2RC) of V and H together, and
    the smallest of those values (the max and itself when the count is 0)."""
    n = vt.size
    allv = np.empty(2 * n)
    allv[:n] = vt.ravel()
    allv[n:] = ht.ravel()
    k = int(np.floor(TOP_FRACTION * allv.size))  # congestion.top_count, inside the kernel
    if k == 0:
        m = allv.max()
        return m, m
    part = np.partition(allv, allv.size - k)
    top = np.sort(part[allv.size - k :])[::-1]
    return top.sum() / k, top[k - 1]


@njit(cache=True)
def top_mean_density(
    area: np.ndarray, cell_area: float, cover: np.ndarray
) -> tuple[float, float, bool]:
    """``(cost, threshold, exact_threshold)``: the density cost of PROXY_COST.md, the smallest
    value among the top cells, and whether that threshold alone decides (more nonzero cells
    than the count: otherwise every nonzero cell is in the sum). A cell is nonzero when some
    macro covers it (``cover``, a count per cell), as in a fresh evaluation: added and
    subtracted areas can leave a 4e-16 sliver at 0, or a crumb where nothing is."""
    flat = area.ravel() / cell_area
    nz = flat[cover.ravel() > 0.0]
    if flat.size < 10:
        if nz.size == 0:
            return 0.0, 0.0, False
        return 0.5 * nz.mean(), 0.0, False
    k = int(np.floor(DENSITY_TOP_FRACTION * flat.size))  # density.top_count, inside the kernel
    if nz.size > k:
        part = np.partition(nz, nz.size - k)
        top = np.sort(part[nz.size - k :])[::-1]
        return 0.5 * top.sum() / k, top[k - 1], True
    if nz.size == 0:
        return 0.0, 0.0, False
    top = np.sort(nz)[::-1]
    return 0.5 * top.sum() / k, 0.0, False


@njit(cache=True, inline="always")
def _clear_deltas(
    dV: np.ndarray,
    dH: np.ndarray,
    dVm: np.ndarray,
    dHm: np.ndarray,
    dD: np.ndarray,
    dVt: np.ndarray,
    dHt: np.ndarray,
    dN: np.ndarray,
    box: np.ndarray,
    R: int,
    C: int,
) -> None:
    """Zero the previous move's deltas inside its box (inclusive), then empty the box: only
    the cells a move reached are ever nonzero, so clearing them is all a new move needs."""
    if box[1] >= box[0]:
        for r in range(box[0], box[1] + 1):
            for c in range(box[2], box[3] + 1):
                dV[r, c] = 0.0
                dH[r, c] = 0.0
                dVm[r, c] = 0.0
                dHm[r, c] = 0.0
                dD[r, c] = 0.0
                dVt[r, c] = 0.0
                dHt[r, c] = 0.0
                dN[r, c] = 0.0
    box[0], box[1], box[2], box[3] = R, -1, C, -1


@njit(cache=True, inline="always")
def _moved_entries(
    nodes: np.ndarray,
    nx: np.ndarray,
    ny: np.ndarray,
    no: np.ndarray,
    ent_ptr: np.ndarray,
    ent_of: np.ndarray,
    entry_dx: np.ndarray,
    entry_dy: np.ndarray,
    entry_has: np.ndarray,
    orient_m: np.ndarray,
    cw: float,
    ch: float,
    R: int,
    C: int,
    slot: np.ndarray,
    m_ent: np.ndarray,
    m_ex: np.ndarray,
    m_ey: np.ndarray,
    m_r: np.ndarray,
    m_c: np.ndarray,
) -> int:
    """The new position and cell of every pin entry of the moved nodes (offsets turned by the
    new orientation) into ``m_ex, m_ey, m_r, m_c``, and ``slot[e]`` its index there, so the
    net step can tell a moved entry from a still one; returns how many."""
    n_ent = 0
    for k in range(nodes.size):
        i = nodes[k]
        o = no[k]
        for q in range(ent_ptr[i], ent_ptr[i + 1]):
            e = ent_of[q]
            x, y = nx[k], ny[k]
            if entry_has[e]:
                dx, dy = entry_dx[e], entry_dy[e]
                x += orient_m[o, 0] * dx + orient_m[o, 1] * dy
                y += orient_m[o, 2] * dx + orient_m[o, 3] * dy
            slot[e] = n_ent
            m_ent[n_ent] = e
            m_ex[n_ent] = x
            m_ey[n_ent] = y
            m_r[n_ent] = _cell(y, ch, R)
            m_c[n_ent] = _cell(x, cw, C)
            n_ent += 1
    return n_ent


@njit(cache=True, inline="always")
def _touched_nets(
    nodes: np.ndarray,
    nn_ptr: np.ndarray,
    nn_of: np.ndarray,
    net_mark: np.ndarray,
    m_nets: np.ndarray,
) -> int:
    """The distinct nets of the moved nodes into ``m_nets`` (marked in ``net_mark`` so a net
    shared by two moved nodes is counted once), in first-seen order; returns how many."""
    n_nets = 0
    for k in range(nodes.size):
        i = nodes[k]
        for q in range(nn_ptr[i], nn_ptr[i + 1]):
            net = nn_of[q]
            if not net_mark[net]:
                net_mark[net] = True
                m_nets[n_nets] = net
                n_nets += 1
    return n_nets


@njit(cache=True, inline="always")
def _net_deltas(
    n_nets: int,
    m_nets: np.ndarray,
    net_ptr: np.ndarray,
    net_w: np.ndarray,
    route_w: np.ndarray,
    ex: np.ndarray,
    ey: np.ndarray,
    er: np.ndarray,
    ec: np.ndarray,
    hpwl: np.ndarray,
    slot: np.ndarray,
    m_ex: np.ndarray,
    m_ey: np.ndarray,
    m_r: np.ndarray,
    m_c: np.ndarray,
    m_hpwl: np.ndarray,
    cells: np.ndarray,
    C: int,
    R: int,
    dV: np.ndarray,
    dH: np.ndarray,
    box: np.ndarray,
) -> float:
    """Each touched net's new half-perimeter into ``m_hpwl`` and, where a pin changes cell, its
    route change into ``dV, dH`` (one star route when :func:`_star_update` applies, else the
    whole net out and back in); returns the weighted HPWL delta."""
    dwl = 0.0
    for j in range(n_nets):
        net = m_nets[j]
        a, b = net_ptr[net], net_ptr[net + 1]
        x_lo, x_hi, y_lo, y_hi = np.inf, -np.inf, np.inf, -np.inf
        recell = False  # does a pin of this net change grid cell? (else its routes stay)
        for e in range(a, b):
            sl = slot[e]
            if sl >= 0:
                x, y = m_ex[sl], m_ey[sl]
                if m_r[sl] != er[e] or m_c[sl] != ec[e]:
                    recell = True
            else:
                x, y = ex[e], ey[e]
            x_lo, x_hi = min(x_lo, x), max(x_hi, x)
            y_lo, y_hi = min(y_lo, y), max(y_hi, y)
        new_h = (x_hi - x_lo) + (y_hi - y_lo) if b > a else 0.0
        m_hpwl[j] = new_h
        dwl += net_w[net] * new_h - net_w[net] * hpwl[net]
        if recell:
            w = route_w[net]
            if not _star_update(net, w, net_ptr, er, ec, slot, m_r, m_c, C, dV, dH, box):
                _route_net(
                    net, False, -w, net_ptr, er, ec, slot, m_r, m_c, cells, C, R, dV, dH, box
                )
                _route_net(net, True, w, net_ptr, er, ec, slot, m_r, m_c, cells, C, R, dV, dH, box)
    return dwl


@njit(cache=True, inline="always")
def _unmark(
    n_ent: int,
    m_ent: np.ndarray,
    slot: np.ndarray,
    n_nets: int,
    m_nets: np.ndarray,
    net_mark: np.ndarray,
) -> None:
    """Reset ``slot`` and ``net_mark`` for the moved entries and touched nets only, so the
    next move finds them clear without a pass over the whole netlist."""
    for q in range(n_ent):
        slot[m_ent[q]] = -1
    for j in range(n_nets):
        net_mark[m_nets[j]] = False


@njit(cache=True, inline="always")
def _macro_deltas(
    nodes: np.ndarray,
    nx: np.ndarray,
    ny: np.ndarray,
    px: np.ndarray,
    py: np.ndarray,
    width: np.ndarray,
    height: np.ndarray,
    is_macro: np.ndarray,
    is_hard: np.ndarray,
    cw: float,
    ch: float,
    R: int,
    C: int,
    va: float,
    ha: float,
    dD: np.ndarray,
    dN: np.ndarray,
    dVm: np.ndarray,
    dHm: np.ndarray,
    box: np.ndarray,
) -> tuple[bool, bool]:
    """Each moved macro's area (and cover count) out of its old cells and into its new ones
    in ``dD, dN``, and a hard macro's routing blockage likewise in ``dVm, dHm``; returns
    ``(moved_area, hard_moved)``, which say whether density / blockage can have changed."""
    moved_area = False
    hard_moved = False
    for k in range(nodes.size):
        i = nodes[k]
        if is_macro[i]:
            moved_area = True
            _add_rect_area(px[i], py[i], width[i], height[i], -1.0, cw, ch, R, C, dD, dN, box)
            _add_rect_area(nx[k], ny[k], width[i], height[i], 1.0, cw, ch, R, C, dD, dN, box)
            if is_hard[i]:
                hard_moved = True
                _add_blockage(
                    px[i], py[i], width[i], height[i], -1.0, cw, ch, R, C, va, ha, dVm, dHm, box
                )
                _add_blockage(
                    nx[k], ny[k], width[i], height[i], 1.0, cw, ch, R, C, va, ha, dVm, dHm, box
                )
    return moved_area, hard_moved


@njit(cache=True, inline="always")
def _empty_left(
    nodes: np.ndarray,
    px: np.ndarray,
    py: np.ndarray,
    width: np.ndarray,
    height: np.ndarray,
    is_macro: np.ndarray,
    cw: float,
    ch: float,
    R: int,
    C: int,
    dens: np.ndarray,
    cover: np.ndarray,
    dD: np.ndarray,
    dN: np.ndarray,
) -> None:
    """:func:`_empty_left_cells` for every moved macro's old rectangle, once all the area
    deltas are in (a cell is empty only after every moved macro has left or entered it)."""
    for k in range(nodes.size):
        i = nodes[k]
        if is_macro[i]:
            _empty_left_cells(px[i], py[i], width[i], height[i], cw, ch, R, C, dens, cover, dD, dN)


@njit(cache=True, inline="always")
def spread_deltas_shifted(
    dV: np.ndarray,
    dH: np.ndarray,
    dVt: np.ndarray,
    dHt: np.ndarray,
    r0: int,
    r1: int,
    c0: int,
    c1: int,
    s: int,
    R: int,
    C: int,
    vcap: float,
    hcap: float,
) -> None:
    """Add to ``dVt, dHt`` the raw changes ``dV, dH`` of the box ``[r0, r1] x [c0, c1]``, each
    spread in equal parts over the cells within ``s`` of it (V along its row, H along its
    column): every change added to each of its ``2s+1`` cells, the order the full evaluator's
    shifted sums take (:func:`placer.cost.congestion._spread_shifted`)."""
    for r in range(r0, r1 + 1):
        for c in range(c0, c1 + 1):
            d = dV[r, c]
            if d != 0.0:
                lo, hi = max(0, c - s), min(C - 1, c + s)
                share = (d / vcap) / (hi - lo + 1)
                for cc in range(lo, hi + 1):
                    dVt[r, cc] += share
            d = dH[r, c]
            if d != 0.0:
                lo, hi = max(0, r - s), min(R - 1, r + s)
                share = (d / hcap) / (hi - lo + 1)
                for rr in range(lo, hi + 1):
                    dHt[rr, c] += share


@njit(cache=True)
def spread_deltas_running(
    dV: np.ndarray,
    dH: np.ndarray,
    dVt: np.ndarray,
    dHt: np.ndarray,
    r0: int,
    r1: int,
    c0: int,
    c1: int,
    s: int,
    R: int,
    C: int,
    vcap: float,
    hcap: float,
) -> None:
    """What :func:`spread_deltas_shifted` adds, as a running sum along each row (column) of
    the box that the changes enter and leave: work in proportion to the cells within ``s`` of
    the box, not to the changes times ``2s+1`` (a header's range of 2,048 made each change
    touch 4,097 cells). Where no change is in reach the sum is reset to an exact 0."""
    for r in range(r0, r1 + 1):
        acc, inside, enter, leave = 0.0, 0, c0, c0
        for c in range(max(c0 - s, 0), min(c1 + s, C - 1) + 1):
            while enter <= min(c + s, c1):  # the changes within s to the right come in
                d = dV[r, enter]
                if d != 0.0:
                    acc += (d / vcap) / (min(C - 1, enter + s) - max(0, enter - s) + 1)
                    inside += 1
                enter += 1
            while leave < c - s:  # and those more than s to the left go out
                d = dV[r, leave]
                if d != 0.0:
                    acc -= (d / vcap) / (min(C - 1, leave + s) - max(0, leave - s) + 1)
                    inside -= 1
                leave += 1
            if inside == 0:
                acc = 0.0
            else:
                dVt[r, c] += acc
    for c in range(c0, c1 + 1):
        acc, inside, enter, leave = 0.0, 0, r0, r0
        for r in range(max(r0 - s, 0), min(r1 + s, R - 1) + 1):
            while enter <= min(r + s, r1):
                d = dH[enter, c]
                if d != 0.0:
                    acc += (d / hcap) / (min(R - 1, enter + s) - max(0, enter - s) + 1)
                    inside += 1
                enter += 1
            while leave < r - s:
                d = dH[leave, c]
                if d != 0.0:
                    acc -= (d / hcap) / (min(R - 1, leave + s) - max(0, leave - s) + 1)
                    inside -= 1
                leave += 1
            if inside == 0:
                acc = 0.0
            else:
                dHt[r, c] += acc


@njit(cache=True, inline="always")
def _congestion_delta(
    dV: np.ndarray,
    dH: np.ndarray,
    dVm: np.ndarray,
    dHm: np.ndarray,
    dVt: np.ndarray,
    dHt: np.ndarray,
    box: np.ndarray,
    s: int,
    R: int,
    C: int,
    vcap: float,
    hcap: float,
    hard_moved: bool,
) -> None:
    """Widen ``box`` by the smoothing reach ``s`` and put the change of the final congestion
    maps there into ``dVt, dHt``: each raw route change spread over its ``2s+1`` neighbours
    (V along the row, H along the column), plus the blockage change when a hard macro moved."""
    # the raw changes lie in the box as it is; smoothing spreads V along rows and H along
    # columns by s cells
    b0, b1, b2, b3 = box[0], box[1], box[2], box[3]
    box[0] = max(box[0] - s, 0)
    box[1] = min(box[1] + s, R - 1)
    box[2] = max(box[2] - s, 0)
    box[3] = min(box[3] + s, C - 1)
    r0, r1, c0, c1 = box[0], box[1], box[2], box[3]
    # (switched on s, where congestion._spread switches on each axis's min(s, n - 1): they differ
    # only on an axis of n <= SPREAD_LOOP_REACH + 1 cells under a wider s, where each window
    # covers the whole line, no change ever leaves the running sum, and both kernels add the
    # same shares in the same order: the same bits)
    if s <= SPREAD_LOOP_REACH:
        spread_deltas_shifted(dV, dH, dVt, dHt, b0, b1, b2, b3, s, R, C, vcap, hcap)
    else:
        spread_deltas_running(dV, dH, dVt, dHt, b0, b1, b2, b3, s, R, C, vcap, hcap)
    if hard_moved:
        for r in range(r0, r1 + 1):
            for c in range(c0, c1 + 1):
                dVt[r, c] += dVm[r, c] / vcap
                dHt[r, c] += dHm[r, c] / hcap


@njit(cache=True, inline="always")
def _congestion_cost(
    vt: np.ndarray,
    ht: np.ndarray,
    dVt: np.ndarray,
    dHt: np.ndarray,
    box: np.ndarray,
    cong_now: float,
    cong_t: float,
    cong_cand: np.ndarray,
    cand_n: np.ndarray,
    topk_buf: np.ndarray,
) -> tuple[float, bool]:
    """``(cost, recomputed)``: the congestion cost after the move. Recomputed (from the
    candidate set, else from the full maps) only when a changed cell reaches the current
    threshold ``cong_t``; otherwise the top-k set is unchanged and ``cong_now`` stands."""
    r0, r1, c0, c1 = box[0], box[1], box[2], box[3]
    cong = cong_now
    need = False
    for r in range(r0, r1 + 1):
        for c in range(c0, c1 + 1):
            d = dVt[r, c]
            if d != 0.0 and max(vt[r, c], vt[r, c] + d) >= cong_t:
                need = True
            d = dHt[r, c]
            if d != 0.0 and max(ht[r, c], ht[r, c] + d) >= cong_t:
                need = True
    if need:
        k = int(np.floor(TOP_FRACTION * 2 * vt.size))
        count = -1
        if k > 0:
            count = gather_top_values(
                vt, ht, dVt, dHt, 2, box, cong_cand, cand_n[0], k, 1.0, topk_buf
            )
        if count >= 0:
            cong = top_sum(topk_buf, count, k) / k
        else:
            cong, _ = top_mean_congestion(vt + dVt, ht + dHt)
    return cong, need


@njit(cache=True, inline="always")
def _density_cost(
    dens: np.ndarray,
    cover: np.ndarray,
    dD: np.ndarray,
    dN: np.ndarray,
    box: np.ndarray,
    dens_now: float,
    dens_t_area: float,
    dens_t_exact: bool,
    cell_area: float,
    dens_cand: np.ndarray,
    cand_n: np.ndarray,
    topk_buf: np.ndarray,
) -> tuple[float, bool]:
    """``(cost, recomputed)``: the density cost after a move of macros. Recomputed (from the
    candidate set, else in full) when the threshold does not decide alone, a changed cell
    reaches it, or a cell turns nonzero or empty; otherwise ``dens_now`` stands."""
    r0, r1, c0, c1 = box[0], box[1], box[2], box[3]
    dcost = dens_now
    need = not dens_t_exact
    if not need:
        t_area = dens_t_area
        for r in range(r0, r1 + 1):
            for c in range(c0, c1 + 1):
                d = dD[r, c]
                if d != 0.0 and max(dens[r, c], dens[r, c] + d) >= t_area:
                    need = True
                dn = dN[r, c]
                if dn != 0.0 and (cover[r, c] == 0.0 or cover[r, c] + dn == 0.0):
                    need = True  # a cell turns nonzero or empty: the count changes
    if need:
        k = int(np.floor(DENSITY_TOP_FRACTION * dens.size))
        count = -1
        if dens.size >= 10 and k > 0:
            count = gather_top_values(
                dens, dens, dD, dD, 1, box, dens_cand, cand_n[1], k + 1, cell_area, topk_buf
            )
        positive = False
        if count >= 0:
            top, positive = top_sum_if_positive(topk_buf, count, k)
            dcost = 0.5 * top / k
        if not positive:
            dcost, _, _ = top_mean_density(dens + dD, cell_area, cover + dN)
    return dcost, need


@njit(cache=True)
def price(
    nodes: np.ndarray,
    nx: np.ndarray,
    ny: np.ndarray,
    no: np.ndarray,
    # netlist structure
    ent_ptr: np.ndarray,
    ent_of: np.ndarray,
    nn_ptr: np.ndarray,
    nn_of: np.ndarray,
    net_ptr: np.ndarray,
    entry_dx: np.ndarray,
    entry_dy: np.ndarray,
    entry_has: np.ndarray,
    orient_m: np.ndarray,
    width: np.ndarray,
    height: np.ndarray,
    is_macro: np.ndarray,
    is_hard: np.ndarray,
    net_w: np.ndarray,
    route_w: np.ndarray,
    # grid: cw, ch, vcap (cw * vroutes), hcap (ch * hroutes), va, ha, cell area
    geo: np.ndarray,
    R: int,
    C: int,
    s: int,
    # state
    px: np.ndarray,
    py: np.ndarray,
    ex: np.ndarray,
    ey: np.ndarray,
    er: np.ndarray,
    ec: np.ndarray,
    hpwl: np.ndarray,
    dens: np.ndarray,
    cover: np.ndarray,
    vt: np.ndarray,
    ht: np.ndarray,
    cong_now: float,
    cong_t: float,
    dens_now: float,
    dens_t_area: float,
    dens_t_exact: bool,
    # scratch (also read by apply)
    slot: np.ndarray,
    m_ent: np.ndarray,
    m_ex: np.ndarray,
    m_ey: np.ndarray,
    m_r: np.ndarray,
    m_c: np.ndarray,
    net_mark: np.ndarray,
    m_nets: np.ndarray,
    m_hpwl: np.ndarray,
    cells: np.ndarray,
    dV: np.ndarray,
    dH: np.ndarray,
    dVm: np.ndarray,
    dHm: np.ndarray,
    dD: np.ndarray,
    dVt: np.ndarray,
    dHt: np.ndarray,
    dN: np.ndarray,
    box: np.ndarray,
    counts: np.ndarray,
    # top-k candidate sets (see placer.cost.topk_kernel): indices, [n congestion, n density]
    cong_cand: np.ndarray,
    dens_cand: np.ndarray,
    cand_n: np.ndarray,
    topk_buf: np.ndarray,
) -> tuple[float, float, float, int]:
    """Price moving ``nodes`` to ``(nx, ny, no)``: ``(weighted HPWL delta, density cost,
    congestion cost, flags)``; flags bit 0 / 1: density / congestion top-k were recomputed.
    Leaves the move's deltas in the scratch arrays for :func:`apply`.

    Its steps are the ``inline="always"`` helpers above: called as separate functions they
    made the first compile 35 % longer (25 -> 34 s) and a price up to a few % slower; inlined,
    both are as they were when this was one function."""
    cw, ch, vcap, hcap, va, ha, cell_area = geo[0], geo[1], geo[2], geo[3], geo[4], geo[5], geo[6]
    _clear_deltas(dV, dH, dVm, dHm, dD, dVt, dHt, dN, box, R, C)
    n_ent = _moved_entries(
        nodes, nx, ny, no, ent_ptr, ent_of, entry_dx, entry_dy, entry_has, orient_m,
        cw, ch, R, C, slot, m_ent, m_ex, m_ey, m_r, m_c,
    )  # fmt: skip
    n_nets = _touched_nets(nodes, nn_ptr, nn_of, net_mark, m_nets)
    dwl = _net_deltas(
        n_nets, m_nets, net_ptr, net_w, route_w, ex, ey, er, ec, hpwl,
        slot, m_ex, m_ey, m_r, m_c, m_hpwl, cells, C, R, dV, dH, box,
    )  # fmt: skip
    _unmark(n_ent, m_ent, slot, n_nets, m_nets, net_mark)
    moved_area, hard_moved = _macro_deltas(
        nodes, nx, ny, px, py, width, height, is_macro, is_hard,
        cw, ch, R, C, va, ha, dD, dN, dVm, dHm, box,
    )  # fmt: skip
    counts[0], counts[1] = n_ent, n_nets
    if box[1] < box[0]:
        return dwl, dens_now, cong_now, 0
    if moved_area:
        _empty_left(nodes, px, py, width, height, is_macro, cw, ch, R, C, dens, cover, dD, dN)
    _congestion_delta(dV, dH, dVm, dHm, dVt, dHt, box, s, R, C, vcap, hcap, hard_moved)
    flags = 0
    cong, recomputed = _congestion_cost(
        vt, ht, dVt, dHt, box, cong_now, cong_t, cong_cand, cand_n, topk_buf
    )
    if recomputed:
        flags |= 2
    dcost = dens_now
    if moved_area:
        dcost, recomputed = _density_cost(
            dens, cover, dD, dN, box, dens_now, dens_t_area, dens_t_exact,
            cell_area, dens_cand, cand_n, topk_buf,
        )  # fmt: skip
        if recomputed:
            flags |= 1
    return dwl, dcost, cong, flags


@njit(cache=True)
def apply(
    nodes: np.ndarray,
    nx: np.ndarray,
    ny: np.ndarray,
    no: np.ndarray,
    px: np.ndarray,
    py: np.ndarray,
    po: np.ndarray,
    ex: np.ndarray,
    ey: np.ndarray,
    er: np.ndarray,
    ec: np.ndarray,
    hpwl: np.ndarray,
    v_raw: np.ndarray,
    h_raw: np.ndarray,
    vm: np.ndarray,
    hm: np.ndarray,
    dens: np.ndarray,
    cover: np.ndarray,
    vt: np.ndarray,
    ht: np.ndarray,
    m_ent: np.ndarray,
    m_ex: np.ndarray,
    m_ey: np.ndarray,
    m_r: np.ndarray,
    m_c: np.ndarray,
    m_nets: np.ndarray,
    m_hpwl: np.ndarray,
    dV: np.ndarray,
    dH: np.ndarray,
    dVm: np.ndarray,
    dHm: np.ndarray,
    dD: np.ndarray,
    dVt: np.ndarray,
    dHt: np.ndarray,
    dN: np.ndarray,
    box: np.ndarray,
    counts: np.ndarray,
) -> None:
    """Commit the move last priced by :func:`price` into the state arrays."""
    for k in range(nodes.size):
        i = nodes[k]
        px[i], py[i], po[i] = nx[k], ny[k], no[k]
    for q in range(counts[0]):
        e = m_ent[q]
        ex[e], ey[e], er[e], ec[e] = m_ex[q], m_ey[q], m_r[q], m_c[q]
    for j in range(counts[1]):
        hpwl[m_nets[j]] = m_hpwl[j]
    if box[1] < box[0]:
        return
    for r in range(box[0], box[1] + 1):
        for c in range(box[2], box[3] + 1):
            v_raw[r, c] += dV[r, c]
            h_raw[r, c] += dH[r, c]
            vm[r, c] += dVm[r, c]
            hm[r, c] += dHm[r, c]
            dens[r, c] += dD[r, c]
            cover[r, c] += dN[r, c]
            vt[r, c] += dVt[r, c]
            ht[r, c] += dHt[r, c]


@njit(cache=True)
def excess_delta(
    vt: np.ndarray,
    ht: np.ndarray,
    dVt: np.ndarray,
    dHt: np.ndarray,
    box: np.ndarray,
    threshold: float,
) -> float:
    """Change of ``sum(max(V - t, 0)) + sum(max(H - t, 0))`` over the congestion maps that the
    last priced move (its deltas ``dVt, dHt`` inside ``box``) would make."""
    total = 0.0
    for r in range(box[0], box[1] + 1):
        for c in range(box[2], box[3] + 1):
            d = dVt[r, c]
            if d != 0.0:
                total += max(vt[r, c] + d - threshold, 0.0) - max(vt[r, c] - threshold, 0.0)
            d = dHt[r, c]
            if d != 0.0:
                total += max(ht[r, c] + d - threshold, 0.0) - max(ht[r, c] - threshold, 0.0)
    return total
