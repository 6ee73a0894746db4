"""Grid geometry shared by the cost kernels: the cell of a point, interval-cell overlaps."""

from __future__ import annotations

import numpy as np

from netlists.model import Canvas


def cell_rows_cols(canvas: Canvas, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Grid cell of points, per PROXY_COST.md: ``floor(y / ch)``, ``floor(x / cw)``, clamped.

    ``cw = W / C`` and ``ch = H / R`` are computed first and the coordinate divided by them
    (``floor(y * R / H)`` rounds differently on some benchmark coordinates).
    """
    cw = canvas.width / canvas.cols
    ch = canvas.height / canvas.rows
    # clamped before the cast: a coordinate past ~9e18 cells would wrap to the first cell
    # (fmax / fmin also send NaN to the first cell instead of a negative index)
    row = np.fmin(np.fmax(np.floor(np.asarray(y) / ch), 0), canvas.rows - 1).astype(np.int64)
    col = np.fmin(np.fmax(np.floor(np.asarray(x) / cw), 0), canvas.cols - 1).astype(np.int64)
    return row, col


def interval_overlaps(lo: np.ndarray, hi: np.ndarray, n: int, step: float) -> np.ndarray:
    """``(len(lo), n)`` lengths of ``[lo, hi]`` inside each cell ``[k*step, (k+1)*step]``.

    Negative values (no overlap) are clipped to 0, so parts outside the canvas count nowhere.
    """
    k = np.arange(n, dtype=np.float64)
    left = k * step
    right = (k + 1) * step
    ov = np.minimum(hi[:, None], right[None, :]) - np.maximum(lo[:, None], left[None, :])
    np.maximum(ov, 0.0, out=ov)
    return ov


def signed_overlaps(lo: np.ndarray, hi: np.ndarray, n: int, step: float) -> np.ndarray:
    """Like :func:`interval_overlaps` but unclipped: ``min(hi, right) - max(lo, left)``."""
    k = np.arange(n, dtype=np.float64)
    left = k * step
    right = (k + 1) * step
    return np.minimum(hi[:, None], right[None, :]) - np.maximum(lo[:, None], left[None, :])


#: Most (macro, cell) products :func:`overlap_grid` forms at once (about 200 MB of index and
#: value arrays): macros covering huge numbers of cells (a file may declare a 2048 x 2048 grid)
#: are summed in groups, one group after another, so memory stays bounded.
OVERLAP_CHUNK = 1 << 22


def overlap_grid(rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """``(R, C)``: the sum over macros ``m`` of ``rows[m, r] * cols[m, c]`` (what ``rows.T @
    cols`` computes), added macro by macro in index order over the nonzero entries only.

    A BLAS product's summation order follows its thread count: the density grid, and every
    cost and search decision after it, differed in the last bits between a one-thread batch
    worker and a command running on all cores (and from machine to machine). This sum is the
    same bits everywhere. Its work grows with the cells each macro covers (a few per macro on
    the shared designs: a few ms on ibm17, about twice a one-thread product's time); macros
    are taken in groups of at most :data:`OVERLAP_CHUNK` products.

    Raises:
        ValueError: ``rows`` and ``cols`` of different macro counts.
    """
    if rows.ndim != 2 or cols.ndim != 2 or rows.shape[0] != cols.shape[0]:
        raise ValueError(f"overlap_grid: expected (M, R) and (M, C) arrays, got {rows.shape} and {cols.shape}")
    n_rows, n_cols = rows.shape[1], cols.shape[1]
    products = np.count_nonzero(rows, axis=1) * np.count_nonzero(cols, axis=1)
    ends = np.cumsum(products)
    if ends.size == 0 or ends[-1] <= OVERLAP_CHUNK:
        return _overlap_sum(rows, cols)
    grid = np.zeros((n_rows, n_cols))
    start = 0
    while start < rows.shape[0]:  # groups in macro order, each adding to the grid in turn
        done = ends[start - 1] if start else 0
        stop = max(int(np.searchsorted(ends, done + OVERLAP_CHUNK, side="right")), start + 1)
        grid += _overlap_sum(rows[start:stop], cols[start:stop])
        start = stop
    return grid


def _overlap_sum(rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """:func:`overlap_grid` of one group of macros, in one ``bincount``."""
    n_macros, n_rows = rows.shape
    n_cols = cols.shape[1]
    row_macro, row = np.nonzero(rows)  # (macro-major order: np.nonzero is row-major)
    col_macro, col = np.nonzero(cols)
    cols_per_macro = np.bincount(col_macro, minlength=n_macros)
    first_col = np.cumsum(cols_per_macro) - cols_per_macro  # each macro's first nonzero column
    repeats = cols_per_macro[row_macro]  # each nonzero (m, r) meets every nonzero (m, c)
    total = int(repeats.sum())
    if total == 0:
        return np.zeros((n_rows, n_cols))
    row_entry = np.repeat(np.arange(row_macro.size), repeats)
    within = np.arange(total) - np.repeat(np.cumsum(repeats) - repeats, repeats)
    col_entry = first_col[row_macro][row_entry] + within
    values = rows[row_macro, row][row_entry] * cols[col_macro, col][col_entry]
    cells = row[row_entry] * n_cols + col[col_entry]
    return np.bincount(cells, weights=values, minlength=n_rows * n_cols).reshape(n_rows, n_cols)
