"""Density term: per-cell macro area over cell area, mean of the densest 10 % of cells."""

from __future__ import annotations

import numpy as np

from netlists.model import Canvas
from placer.cost import grid as cost_grid
from placer.cost.grid import interval_overlaps
from placer.cost.grid_kernel import macro_area_grid

#: Share of the grid cells whose mean density is the density cost.
TOP_FRACTION = 0.1


def top_count(n_cells: int) -> int:
    """How many of ``n_cells`` cells the density cost averages (floor of 10 %)."""
    return int(np.floor(TOP_FRACTION * n_cells))


def macro_overlaps(
    canvas: Canvas, x: np.ndarray, y: np.ndarray, w: np.ndarray, h: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per macro, its overlap length with every grid row ``(M, R)`` and column ``(M, C)``.

    The overlap area of a macro with cell ``(r, c)`` is ``oy[m, r] * ox[m, c]``.
    """
    ox = interval_overlaps(x - w / 2, x + w / 2, canvas.cols, canvas.width / canvas.cols)
    oy = interval_overlaps(y - h / 2, y + h / 2, canvas.rows, canvas.height / canvas.rows)
    return oy, ox


def density_grid(canvas: Canvas, x: np.ndarray, y: np.ndarray, w: np.ndarray, h: np.ndarray) -> np.ndarray:
    """``(R, C)`` occupied area per cell divided by the cell area (all macros given):
    ``overlap_grid(*macro_overlaps(...)) / cell area``, compiled in one kernel
    (:func:`placer.cost.grid_kernel.macro_area_grid`, the same bits)."""
    cw, ch = canvas.width / canvas.cols, canvas.height / canvas.rows
    x, y, w, h = (np.asarray(a, dtype=np.float64) for a in (x, y, w, h))
    area = macro_area_grid(x, y, w, h, cw, ch, canvas.rows, canvas.cols, cost_grid.OVERLAP_CHUNK)
    return area / (cw * ch)


def density_cost(grid: np.ndarray) -> float:
    """0.5 x (sum of the ``floor(0.1 R C)`` largest nonzero cells) / that count.

    With fewer than 10 cells: 0.5 x mean of the nonzero cells.
    """
    flat = grid.ravel()
    nz = flat[flat != 0.0]
    if flat.size < 10:
        return 0.5 * float(np.mean(nz)) if nz.size else 0.0
    k = top_count(flat.size)
    if nz.size > k:
        top = np.partition(nz, nz.size - k)[nz.size - k :]
    else:
        top = nz
    return 0.5 * float(np.sum(np.sort(top)[::-1])) / k
