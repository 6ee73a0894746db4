"""Default grid and routing parameters for netlists that come without a ``.plc`` header.

Bookshelf designs and synthetic netlists have no Circuit Training header, so the proxy cost
needs a grid and routing figures invented for them. The rules live here, in one place:

* **Grid**: about one macro per cell. With ``n`` = ceil(sqrt(#hard + #soft macros)), the cell
  is a square of side ``sqrt(W * H) / n``; ``cols = round(W / side)``, ``rows = round(H / side)``,
  each clamped to ``[1, 128]`` (128 is Circuit Training's largest grid). A square canvas thus
  gets ``n x n`` cells; ibm01 (1140 macros) would get 34 x 34 (its header has 45 x 41).
* **Routing**: expressed per grid cell, so congestion does not depend on the length unit.
  The track counts per cell and the share a hard macro blocks are those of the ICCAD04
  benchmark ibm01 (65.957 / 106.957 routes per micron over 0.562 x 0.51 cells, i.e. about 37
  horizontal and 54.5 vertical tracks per cell; hard macros use 30.304 / 65.957 and
  71.304 / 106.957 of them). Smoothing range 2 and overlap threshold 0.004, as in ICCAD04.
"""

from __future__ import annotations

import math

import numpy as np

from netlists.errors import InputError
from netlists.model import Canvas, canvas_problem

MAX_GRID = 128
#: Horizontal / vertical routing tracks per grid cell (ibm01: 65.957 * 23.04/41, 106.957 * 22.95/45).
H_TRACKS_PER_CELL = 37.0
V_TRACKS_PER_CELL = 54.5
#: Share of the tracks a hard macro blocks (ibm01: 30.304/65.957 and 71.304/106.957).
H_MACRO_ALLOC_SHARE = 30.304 / 65.957
V_MACRO_ALLOC_SHARE = 71.304 / 106.957
SMOOTH_RANGE = 2
OVERLAP_THRESHOLD = 0.004


def default_grid(width: float, height: float, n_macros: int) -> tuple[int, int]:
    """``(cols, rows)`` with roughly square cells and about one macro per cell (see module doc)."""
    if not (width > 0 and height > 0):
        raise InputError(f"canvas must have a positive size, got {width} x {height}")
    n = max(1, math.ceil(math.sqrt(max(n_macros, 1))))
    area = width * height
    if 0 < area < math.inf:
        side = math.sqrt(area) / n
    else:  # the product under- or overflows: the same side, without the product
        side = math.sqrt(width) * math.sqrt(height) / n
    cols = min(MAX_GRID, max(1, round(width / side)))
    rows = min(MAX_GRID, max(1, round(height / side)))
    return cols, rows


def default_canvas(
    width: float, height: float, n_macros: int, grid: tuple[int, int] | None = None
) -> Canvas:
    """A canvas of ``width x height`` with the default grid (unless ``grid``) and routing."""
    cols, rows = grid if grid is not None else default_grid(width, height, n_macros)
    if any(isinstance(v, bool) or not isinstance(v, (int, np.integer)) for v in (cols, rows)):
        raise InputError(f"grid must be whole numbers of columns and rows, got {cols} x {rows}")
    if cols < 1 or rows < 1:
        raise InputError(f"grid must have at least one column and row, got {cols} x {rows}")
    cell_w = width / cols
    cell_h = height / rows
    hroutes = H_TRACKS_PER_CELL / cell_h
    vroutes = V_TRACKS_PER_CELL / cell_w
    canvas = Canvas(
        width=float(width),
        height=float(height),
        cols=int(cols),
        rows=int(rows),
        hroutes_per_micron=hroutes,
        vroutes_per_micron=vroutes,
        hrouting_alloc=hroutes * H_MACRO_ALLOC_SHARE,
        vrouting_alloc=vroutes * V_MACRO_ALLOC_SHARE,
        smooth_range=SMOOTH_RANGE,
        overlap_threshold=OVERLAP_THRESHOLD,
    )
    problem = canvas_problem(canvas)
    if problem is not None:
        raise InputError(problem[1])
    return canvas
