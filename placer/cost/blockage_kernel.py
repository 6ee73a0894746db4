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
def _edge_corrections(first: np.ndarray, last: np.ndarray, along: np.ndarray, step: float, other_empty: np.ndarray,
                      nothing_bad: bool, other_blocked: np.ndarray, alloc: float, out: np.ndarray) -> None:  # fmt: skip
    """The reference evaluator's correction of each macro's last row (or column) of cells, one
    axis: where a macro spans more than one cell along it (``first``..``last``), covers its last
    cell and a partial first or last cell (or an empty cell across, ``other_empty``) flags it,
    ``out[last, j]`` loses ``other_blocked[m, j] * alloc`` for every ``j``, macro by macro."""
    for m in range(first.shape[0]):
        if last[m] == first[m] or not along[m, last[m]] > 0:
            continue
        bad = other_empty[m] and nothing_bad
        for k in (first[m], last[m]):
            d = along[m, k]
            bad = bad or (abs(d - step) > 1e-5 if d > 0 else nothing_bad)
        if bad:
            for j in range(out.shape[1]):
                out[last[m], j] += -other_blocked[m, j] * alloc


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
    # the top-row corrections, macro by macro, after all the sums; then the rightmost-column
    # ones (written into hm through its transpose: hm.T[c, r] is hm[r, c])
    _edge_corrections(r0, r1, dy, ch, x_empty, nothing_bad_v, dxe, va, vm)
    _edge_corrections(c0, c1, dx, cw, y_empty, nothing_bad_h, dye, ha, hm.T)
    return vm, hm
