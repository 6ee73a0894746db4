"""Compiled kernel (numba) of the hard macros' routing blockage for the full evaluation:
what :func:`placer.cost.congestion.macro_blockage` computes (its numpy form stays the readable
reference; the tests hold the two to the same bits).

The numpy form built a dozen ``(macros, cells)`` masks and arrays and applied the reference
evaluator's corrections with ``np.add.at``: about a quarter of ibm17's full evaluation, once the
rest was compiled. This one builds only the two overlap arrays the sums read and adds in the
same order: the macros' overlap sums first (:func:`placer.cost.grid_kernel.overlap_sum`), then
each flagged macro's correction, macro by macro.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from placer.cost.grid_kernel import cell_index, overlap_sum


@njit(cache=True)
def _blocked_lengths(lo: np.ndarray, hi: np.ndarray, first: np.ndarray, last: np.ndarray, n: int,
                     step: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
    """Per macro and grid interval ``k`` (of ``n``, ``step`` long): the signed overlap
    ``min(hi, (k+1) step) - max(lo, k step)``, that overlap where it is positive and ``k`` lies
    in the macro's cells ``first..last`` (else 0), and whether some such cell gets nothing."""
    m_count = lo.shape[0]
    signed = np.empty((m_count, n))
    blocked = np.zeros((m_count, n))
    some_empty = np.zeros(m_count, np.bool_)
    for m in range(m_count):
        for k in range(n):
            d = min(hi[m], (k + 1.0) * step) - max(lo[m], k * step)
            signed[m, k] = d
            inside = first[m] <= k <= last[m]
            if inside and d > 0:
                blocked[m, k] = d
            elif inside:
                some_empty[m] = True
    return signed, blocked, some_empty


@njit(cache=True)
def blockage_grids(x: np.ndarray, y: np.ndarray, w: np.ndarray, h: np.ndarray, width: float, height: float,
                   R: int, C: int, va: float, ha: float, chunk: int) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Raw ``(Vm, Hm)`` ``(R, C)`` routing demand of hard macros centred at ``x``, ``y`` of size
    ``w`` x ``h`` on a ``width`` x ``height`` canvas, with the reference evaluator's two
    corrections of a macro's top row / rightmost column: ``macro_blockage``'s bits (``chunk``:
    :data:`placer.cost.grid.OVERLAP_CHUNK`)."""
    n = x.shape[0]
    if n == 0:
        return np.zeros((R, C)), np.zeros((R, C))
    cw, ch = width / C, height / R
    xl, xh = x - w / 2, x + w / 2
    yl, yh = y - h / 2, y + h / 2
    r0, c0 = np.empty(n, np.int64), np.empty(n, np.int64)
    r1, c1 = np.empty(n, np.int64), np.empty(n, np.int64)
    for m in range(n):
        r0[m], c0[m] = cell_index(yl[m], ch, R), cell_index(xl[m], cw, C)
        r1[m], c1[m] = cell_index(yh[m], ch, R), cell_index(xh[m], cw, C)
    dx, dxe, x_empty = _blocked_lengths(xl, xh, c0, c1, C, cw)
    dy, dye, y_empty = _blocked_lengths(yl, yh, r0, r1, R, ch)
    rows_blocked = np.empty((n, R))
    cols_blocked = np.empty((n, C))
    for m in range(n):
        for r in range(R):
            rows_blocked[m, r] = 1.0 if dye[m, r] > 0 else 0.0
        for c in range(C):
            cols_blocked[m, c] = 1.0 if dxe[m, c] > 0 else 0.0
    vm = overlap_sum(rows_blocked, dxe * va, chunk)
    hm = overlap_sum(dye * ha, cols_blocked, chunk)
    # a cell that gets nothing counts as dx = dy = 0: partial only where the cell is wider
    # (taller) than the 1e-5 tolerance (as congestion.macro_blockage says)
    nothing_bad_v, nothing_bad_h = abs(0.0 - ch) > 1e-5, abs(0.0 - cw) > 1e-5
    for m in range(n):  # the top-row corrections, macro by macro, after all the sums
        if r1[m] == r0[m] or not dy[m, r1[m]] > 0:
            continue
        bad = x_empty[m] and nothing_bad_v
        for r in (r0[m], r1[m]):
            d = dy[m, r]
            bad = bad or (abs(d - ch) > 1e-5 if d > 0 else nothing_bad_v)
        if bad:
            for c in range(C):
                vm[r1[m], c] += -dxe[m, c] * va
    for m in range(n):  # then the rightmost-column ones
        if c1[m] == c0[m] or not dx[m, c1[m]] > 0:
            continue
        bad = y_empty[m] and nothing_bad_h
        for c in (c0[m], c1[m]):
            d = dx[m, c]
            bad = bad or (abs(d - cw) > 1e-5 if d > 0 else nothing_bad_h)
        if bad:
            for r in range(R):
                hm[r, c1[m]] += -dye[m, r] * ha
    return vm, hm
