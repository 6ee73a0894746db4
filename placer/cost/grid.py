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
