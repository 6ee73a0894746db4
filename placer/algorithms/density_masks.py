"""Density masks of sequential grid placement, and a bounded cache of them across episodes.

The density mask of a hard macro (:meth:`~placer.algorithms.grid_state.SequentialGridState.density_mask`)
is the soft-macro density it would cover centred at each placing-grid cell. It depends only on
the canvas, the placing grid, the soft macros' density (their sizes and the positions the
given placement has them at) and the macro's width and height: never on the hard macros
placed so far. So one episode's masks are the next one's (an env computing them afresh every
step spent about a tenth of its step time on them on ibm01 and ariane133; measured with
``experiments/bench/env_speed.py`` against the code before, figures in the commit message).

* :func:`covered_density` computes one mask;
* :class:`DensityMasks` holds what a design's masks are computed from and remembers the masks
  it computed, one per macro size (the SRAMs of ariane133 share one);
* :class:`DensityMaskCache` keeps the :class:`DensityMasks` of the few designs used last,
  found by their content (canvas, grid and soft-macro density, bit for bit), not by the
  objects' identity: a generator handing out a new copy of the same design finds it again, and
  one of fresh designs holds at most ``capacity`` designs' masks, however long it runs.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from netlists.errors import InputError
from netlists.lru import LruCache
from netlists.model import Canvas

#: Designs whose masks a :class:`DensityMaskCache` keeps by default (the least recently used go).
DEFAULT_CAPACITY = 4


def covered_density(
    canvas: Canvas, col_x: np.ndarray, row_y: np.ndarray, soft_prefix: np.ndarray, width: float, height: float
) -> np.ndarray:
    """``(rows, cols)``: the soft-macro density (sum of cell fractions of the proxy's density
    grid, whose 2-D prefix sum is ``soft_prefix``) that a ``width x height`` macro centred at
    each placing-grid cell (centres ``col_x`` and ``row_y``) would cover.

    The covered density-grid rows depend only on the placing-grid row and the columns only on
    its column, so the map is four gathers of the prefix sum (O(rows + cols) index work, then
    O(rows x cols) gathers)."""
    cw, ch = canvas.width / canvas.cols, canvas.height / canvas.rows
    r0 = np.clip(np.floor((row_y - height / 2) / ch).astype(int), 0, canvas.rows - 1)
    r1 = np.clip(np.ceil((row_y + height / 2) / ch).astype(int), 1, canvas.rows)
    c0 = np.clip(np.floor((col_x - width / 2) / cw).astype(int), 0, canvas.cols - 1)
    c1 = np.clip(np.ceil((col_x + width / 2) / cw).astype(int), 1, canvas.cols)
    pre = soft_prefix
    return pre[np.ix_(r1, c1)] - pre[np.ix_(r0, c1)] - pre[np.ix_(r1, c0)] + pre[np.ix_(r0, c0)]


class DensityMasks:
    """The density masks of one design on one placing grid, each macro size's computed once.

    Args:
        canvas: the design's canvas (its grid is the proxy's density grid).
        col_x, row_y: the placing grid's cell centres.
        soft_prefix: 2-D prefix sum of the soft macros' density on the density grid.
    """

    def __init__(self, canvas: Canvas, col_x: np.ndarray, row_y: np.ndarray, soft_prefix: np.ndarray) -> None:
        self.canvas, self.col_x, self.row_y, self.soft_prefix = canvas, col_x, row_y, soft_prefix
        self._masks: dict[tuple[float, float], np.ndarray] = {}

    def compute(self, width: float, height: float) -> np.ndarray:
        """A freshly computed mask of a ``width x height`` macro (nothing remembered)."""
        return covered_density(self.canvas, self.col_x, self.row_y, self.soft_prefix, width, height)

    def mask(self, width: float, height: float) -> np.ndarray:
        """The mask of a ``width x height`` macro, computed on the first call for that size;
        read-only, as every later call hands out the same array."""
        key = (float(width), float(height))
        got = self._masks.get(key)
        if got is None:
            got = self.compute(*key)
            got.flags.writeable = False
            self._masks[key] = got
        return got

    @property
    def nbytes(self) -> int:
        """Bytes of the masks remembered."""
        return sum(m.nbytes for m in self._masks.values())

    def __len__(self) -> int:
        return len(self._masks)

    def __getstate__(self) -> dict[str, Any]:
        # a pickled env (a training run's saved state) leaves the masks out: they are
        # recomputed, bit for bit the same, after the restore
        return {**self.__dict__, "_masks": {}}


class DensityMaskCache:
    """The :class:`DensityMasks` of the ``capacity`` designs used last (see the module docstring).

    A design is found by the bits of its canvas size, density grid, placing grid and
    soft-macro density prefix sum, so a design changed in any way that moves a mask is another
    design. Memory: at most ``capacity`` designs x (distinct hard-macro sizes) x rows x cols x
    8 bytes; a pickled cache is empty.
    """

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        if capacity < 1:
            raise InputError(f"capacity must be at least 1, got {capacity}")
        self._designs: LruCache[tuple[Any, ...], DensityMasks] = LruCache(int(capacity))

    @property
    def capacity(self) -> int:
        """The most designs held (fixed when the cache is made)."""
        return self._designs.most

    def masks(self, canvas: Canvas, col_x: np.ndarray, row_y: np.ndarray, soft_prefix: np.ndarray) -> DensityMasks:
        """The design's :class:`DensityMasks`, the cached one when its content was seen among
        the last ``capacity`` designs (the least recently used is dropped for a new one)."""
        key = (
            float(canvas.width), float(canvas.height), int(canvas.cols), int(canvas.rows),
            col_x.tobytes(), row_y.tobytes(), soft_prefix.shape, soft_prefix.dtype.str, soft_prefix.tobytes(),
        )  # fmt: skip
        got = self._designs.get(key)
        return got if got is not None else self._designs.put(key, DensityMasks(canvas, col_x, row_y, soft_prefix))

    @property
    def nbytes(self) -> int:
        """Bytes of the masks held, all designs together."""
        return sum(d.nbytes for d in self._designs.values())

    def __len__(self) -> int:
        return len(self._designs)

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_designs": LruCache(self._designs.most)}
