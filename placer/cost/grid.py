"""Grid geometry shared by the cost kernels: the cell of a point, interval-cell overlaps."""

from __future__ import annotations

import numpy as np

from netlists.model import Canvas
from placer.cost.grid_kernel import overlap_sum


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


#: Most (macro, cell) products :func:`overlap_grid` sums as one group: macros covering huge
#: numbers of cells (a file may declare a 2048 x 2048 grid) are summed in groups, one group
#: after another. The numpy form this bounded the memory of (about 200 MB of index and value
#: arrays a group); the compiled sum needs none, and keeps the groups for the same bits.
OVERLAP_CHUNK = 1 << 22


#: Most (macro, grid row or column) overlaps a cost may hold: the macros times the grid's rows
#: plus its columns. The full cost and the incremental evaluator's re-sync keep every macro's
#: overlap with every row and column (a few arrays of this many floats, 256 MiB each at the
#: bound); a header's grid of 4,194,304 x 1 on ariane133's 915 macros asked for ~30 GB before
#: any check. The shared designs at a 2,048 x 2,048 grid hold at most 11.3 million.
MAX_MACRO_OVERLAPS = 1 << 25


def macro_overlaps_problem(n_macros: int, rows: int, cols: int) -> str | None:
    """Why ``n_macros`` macros on a ``rows`` x ``cols`` grid are too many overlaps for the
    cost's per-macro arrays (:data:`MAX_MACRO_OVERLAPS`), or None when they are not."""
    overlaps = n_macros * (rows + cols)
    if overlaps <= MAX_MACRO_OVERLAPS:
        return None
    gib = overlaps * 8 / 2**30
    return (f"its {n_macros} macros on a grid of {cols} x {rows} need {overlaps} macro-row and "
            f"macro-column overlaps ({gib:.1f} GiB an array), more than the {MAX_MACRO_OVERLAPS} "
            "the cost allows: use a grid with fewer rows and columns")


def overlap_grid(rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """``(R, C)``: the sum over macros ``m`` of ``rows[m, r] * cols[m, c]`` (what ``rows.T @
    cols`` computes), added macro by macro in index order over the nonzero entries only.

    A BLAS product's summation order follows its thread count: the density grid, and every
    cost and search decision after it, differed in the last bits between a one-thread batch
    worker and a command running on all cores (and from machine to machine). This sum is the
    same bits everywhere. Its work grows with the cells each macro covers (a few per macro on
    the shared designs); macros are taken in groups of at most :data:`OVERLAP_CHUNK`
    products, each group summed alone and then added to the grid. Compiled
    (:func:`placer.cost.grid_kernel.overlap_sum`).

    Raises:
        ValueError: ``rows`` and ``cols`` of different macro counts.
    """
    if rows.ndim != 2 or cols.ndim != 2 or rows.shape[0] != cols.shape[0]:
        raise ValueError(f"overlap_grid: expected (M, R) and (M, C) arrays, got {rows.shape} and {cols.shape}")
    return overlap_sum(
        np.asarray(rows, dtype=np.float64), np.asarray(cols, dtype=np.float64), OVERLAP_CHUNK
    )


def cover_counts(rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """``(R, C)``: how many macros overlap each cell by a positive area (``rows``, ``cols``:
    the macros' ``(M, R)`` and ``(M, C)`` overlaps, as :func:`overlap_grid` takes them).

    The count of ``(rows > 0).T @ (cols > 0)``, summed by :func:`overlap_grid` (exact: whole
    numbers) rather than by a BLAS product: OpenBLAS's threads, on a machine whose cores were
    busy, took 130 ms of ibm17's incremental re-sync (0.8 ms on one thread;
    ``experiments/bench/resync_speed.py``)."""
    return overlap_grid(np.asarray(rows) > 0, np.asarray(cols) > 0)
