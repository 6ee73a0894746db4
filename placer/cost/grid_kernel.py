"""Compiled kernels (numba) of :func:`placer.cost.grid.overlap_grid` (the sum over macros of
each macro's row overlaps times its column overlaps, in a fixed order) and of the macros' area
per cell that :func:`placer.cost.density.density_grid` divides by the cell area; and the grid
cell of a coordinate, as the other kernels of the full cost find it.

The numpy form of the sum gathered every nonzero (macro, row, column) product into index and
value arrays for one ``np.bincount`` (2.0 ms of ibm17's density grid, 0.7 ms of its
blockage); this one adds the products straight into the grid, in the same order (macro by
macro, groups of macros as :func:`~placer.cost.grid.overlap_grid` describes), so the same bits.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, inline="always")
def cell_index(v: float, step: float, n: int) -> int:
    """``floor(v / step)`` clamped to ``[0, n - 1]`` before it becomes an integer (NaN: 0), as
    :func:`placer.cost.grid.cell_rows_cols` computes it."""
    k = np.floor(v / step)
    if not k >= 0:
        return 0
    if k > n - 1:
        return n - 1
    return int(k)


@njit(cache=True)
def _add_macros(rows: np.ndarray, cols: np.ndarray, start: int, stop: int, grid: np.ndarray) -> None:
    """Add ``rows[m, r] * cols[m, c]`` into ``grid[r, c]`` for macros ``start`` to ``stop - 1``
    in turn, over their nonzero rows and columns only."""
    n_rows, n_cols = rows.shape[1], cols.shape[1]
    nonzero_cols = np.empty(n_cols, np.int64)
    for m in range(start, stop):
        n_nonzero = 0
        for c in range(n_cols):
            if cols[m, c] != 0:
                nonzero_cols[n_nonzero] = c
                n_nonzero += 1
        if n_nonzero == 0:
            continue
        for r in range(n_rows):
            a = rows[m, r]
            if a == 0:
                continue
            for k in range(n_nonzero):
                c = nonzero_cols[k]
                grid[r, c] += a * cols[m, c]


@njit(cache=True)
def overlap_sum(rows: np.ndarray, cols: np.ndarray, chunk: int) -> np.ndarray:
    """``(R, C)`` grid of ``sum over m of rows[m, r] * cols[m, c]`` (``rows`` ``(M, R)``,
    ``cols`` ``(M, C)``), macro by macro in index order. When the nonzero products of all
    macros exceed ``chunk``, the macros are taken in consecutive groups of at most ``chunk``
    products (at least one macro each), each group summed on its own and then added to the
    grid: the order of the numpy form, which bounded its memory so."""
    n_macros, n_rows = rows.shape
    n_cols = cols.shape[1]
    grid = np.zeros((n_rows, n_cols))
    ends = np.empty(n_macros, np.int64)  # products of macros 0..m
    total = 0
    for m in range(n_macros):
        nr = 0
        for r in range(n_rows):
            if rows[m, r] != 0:
                nr += 1
        nc = 0
        for c in range(n_cols):
            if cols[m, c] != 0:
                nc += 1
        total += nr * nc
        ends[m] = total
    if total <= chunk:
        _add_macros(rows, cols, 0, n_macros, grid)
        return grid
    group = np.empty((n_rows, n_cols))
    start = 0
    while start < n_macros:
        done = ends[start - 1] if start else 0
        stop = max(int(np.searchsorted(ends, done + chunk, side="right")), start + 1)
        group[:, :] = 0.0
        _add_macros(rows, cols, start, stop, group)
        grid += group
        start = stop
    return grid


@njit(cache=True)
def clipped_overlaps(lo: np.ndarray, hi: np.ndarray, n: int, step: float) -> np.ndarray:
    """``(len(lo), n)`` lengths of ``[lo, hi]`` inside each cell ``[k step, (k+1) step]``, 0
    where negative: :func:`placer.cost.grid.interval_overlaps`' bits."""
    out = np.empty((lo.shape[0], n))
    for m in range(lo.shape[0]):
        for k in range(n):
            d = min(hi[m], (k + 1.0) * step) - max(lo[m], k * step)
            out[m, k] = 0.0 if d < 0.0 else d  # (as np.maximum(d, 0.0): NaN stays)
    return out


@njit(cache=True)
def macro_area_grid(x: np.ndarray, y: np.ndarray, w: np.ndarray, h: np.ndarray, cell_w: float, cell_h: float,
                    R: int, C: int, chunk: int) -> np.ndarray:  # fmt: skip
    """``(R, C)`` area of the macros centred at ``x``, ``y`` of size ``w`` x ``h`` in each
    cell: :func:`overlap_sum` of their row and column overlaps (``chunk``:
    :data:`placer.cost.grid.OVERLAP_CHUNK`)."""
    ox = clipped_overlaps(x - w / 2, x + w / 2, C, cell_w)
    oy = clipped_overlaps(y - h / 2, y + h / 2, R, cell_h)
    return overlap_sum(oy, ox, chunk)
