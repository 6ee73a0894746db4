"""A two-stage recursive model index (RMI): a root model picks one of many linear leaf models.

The root (linear or cubic in the normalised key) predicts a position, which selects a leaf;
each leaf is a least-squares line over the constraint points routed to it and stores the
largest errors below and above its predictions. A lookup predicts, then runs the vectorised
bounded search inside ``[p - error_below, p + error_above]`` of its leaf. Unlike the PGM index,
an RMI only bounds the error on points it was trained on; a query absent from the keys may land
in a leaf whose window misses its answer, so each result is verified (two comparisons) and the
misses fall back to a full binary search. A leaf no key reaches answers with the first position
of the next non-empty leaf, which is exact for absent keys under a monotone root. ``max_error`` is measured over all leaves.
"""

from __future__ import annotations

import time
import warnings

import numpy as np

from learned_systems.index.keys import as_queries, as_sorted_keys, constraint_points
from learned_systems.index.search import bounded_lower_bound, in_batches
from learned_systems.validation import whole_number

ROOT_MODELS = ("linear", "cubic")

#: Most leaf models (16.7M; each holds a few float64 parameters).
MAX_MODELS = 2**24


class RMIIndex:
    """Two-stage RMI over sorted uint64 keys: ``root`` model, ``num_models`` linear leaves."""

    def __init__(self, keys, num_models: int = 4096, root: str = "linear") -> None:
        num_models = whole_number("num_models", num_models, 1, MAX_MODELS)
        if root not in ROOT_MODELS:
            raise ValueError(f"root must be one of {ROOT_MODELS}, got {root!r}")
        self.num_models = num_models
        self.root = root
        started = time.perf_counter()
        self.keys = as_sorted_keys(keys)
        self.fallbacks = 0  # queries answered by the verification fallback in the last lookup
        xs, ys = constraint_points(self.keys)
        self._min_key = xs[0] if xs.size else np.uint64(0)
        self._max_key = xs[-1] if xs.size else np.uint64(0)
        self._span = float(xs[-1] - xs[0]) if xs.size else 1.0
        self._span = self._span or 1.0
        positions = ys.astype(np.float64)
        unit = self._normalise(xs)
        degree = 1 if root == "linear" else 3
        if xs.size > degree:
            with warnings.catch_warnings():  # few distinct keys: a lower-degree fit is fine
                warnings.simplefilter("ignore", np.exceptions.RankWarning)
                self._root_coefficients = np.polyfit(unit, positions, degree)
        else:
            self._root_coefficients = np.zeros(degree + 1)
        leaves = self._leaf_of(unit)
        self._leaf_params = self._fit_leaves(unit, positions, leaves)
        self.build_seconds = time.perf_counter() - started

    # -- model pieces -----------------------------------------------------------------------
    def _normalise(self, keys: np.ndarray) -> np.ndarray:
        """Keys to [0, 1], clamped to the training range.

        Clamping matters above the range too: a cubic root extrapolated past its last training
        point can turn back down and send every larger query to a far leaf; clamped, such a
        query lands on the last point ``(max key + 1, n)``, whose leaf window holds ``n``.
        """
        clamped = np.minimum(np.maximum(keys, self._min_key), self._max_key)
        return (clamped - self._min_key).astype(np.float64) / self._span

    def _leaf_of(self, unit: np.ndarray) -> np.ndarray:
        scale = self.num_models / max(self.keys.size, 1)
        predicted = np.polyval(self._root_coefficients, unit) * scale
        return np.clip(predicted, 0, self.num_models - 1).astype(np.int64)

    def _fit_leaves(
        self, unit: np.ndarray, positions: np.ndarray, leaves: np.ndarray
    ) -> np.ndarray:
        """Least-squares line per leaf (vectorised with bincount) and its error bounds."""
        models = self.num_models
        params = np.zeros((models, 4))  # slope, intercept, error below, error above
        if unit.size == 0:
            return params
        counts = np.bincount(leaves, minlength=models).astype(np.float64)
        safe_counts = np.maximum(counts, 1.0)
        mean_x = np.bincount(leaves, unit, models) / safe_counts
        mean_y = np.bincount(leaves, positions, models) / safe_counts
        dx = unit - mean_x[leaves]
        dy = positions - mean_y[leaves]
        variance = np.bincount(leaves, dx * dx, models)
        covariance = np.bincount(leaves, dx * dy, models)
        slope = np.divide(covariance, variance, out=np.zeros(models), where=variance > 0)
        params[:, 0] = slope
        params[:, 1] = mean_y - slope * mean_x
        # An empty leaf only receives keys absent from the set. Under a monotone root they lie
        # between the last training key of the leaves before it and the first of the leaves
        # after it, so their answer is the first position of the next non-empty leaf: a
        # constant model with no error (a non-monotone cubic root may break this; the
        # verification below repairs such misses).
        first = np.full(models, float(self.keys.size))
        np.minimum.at(first, leaves, positions)
        next_first = np.minimum.accumulate(first[::-1])[::-1]
        empty = counts == 0
        params[empty, 0] = 0.0
        params[empty, 1] = next_first[empty]
        predicted = self._predict(unit, leaves, params)
        error = predicted - positions.astype(np.int64)
        below = np.zeros(models, np.int64)
        above = np.zeros(models, np.int64)
        np.maximum.at(below, leaves, error)
        np.maximum.at(above, leaves, -error)
        params[:, 2] = below
        params[:, 3] = above
        return params

    def _predict(self, unit: np.ndarray, leaves: np.ndarray, params: np.ndarray) -> np.ndarray:
        rows = params[leaves]
        predicted = unit * rows[:, 0] + rows[:, 1]
        np.clip(predicted + 0.5, 0, self.keys.size, out=predicted)
        return predicted.astype(np.int64)

    # -- public API ---------------------------------------------------------------------------
    @property
    def max_error(self) -> int:
        """Largest leaf error (below or above) measured on the training points."""
        return int(self._leaf_params[:, 2:].max(initial=0))

    @property
    def size_bytes(self) -> int:
        """Bytes of the models (root coefficients and leaf parameters), not the key array."""
        return int(self._leaf_params.nbytes + self._root_coefficients.nbytes)

    def lookup(self, queries) -> np.ndarray:
        """Lower-bound positions of ``queries`` (same as ``numpy.searchsorted(keys, q, 'left')``)."""
        queries = as_queries(queries)
        self.fallbacks = 0
        if self.keys.size == 0 or queries.size == 0:
            return np.zeros(queries.size, dtype=np.int64)
        return in_batches(self._lookup_batch, queries)

    def windows(self, queries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each query's last-mile window ``(start, length)``: its leaf's prediction widened by
        the leaf's error bounds, clipped to the keys (non-empty keys, uint64 queries)."""
        n = self.keys.size
        unit = self._normalise(queries)
        rows = self._leaf_params[self._leaf_of(unit)]
        predicted = unit * rows[:, 0] + rows[:, 1]
        np.clip(predicted + 0.5, 0, n, out=predicted)
        centre = predicted.astype(np.int64)
        start = np.clip(centre - rows[:, 2].astype(np.int64), 0, n - 1)
        stop = np.clip(centre + rows[:, 3].astype(np.int64) + 1, 1, n)
        return start, np.maximum(stop - start, 1)

    def _lookup_batch(self, queries: np.ndarray) -> np.ndarray:
        """:meth:`lookup` of one cache-sized slice (adds its repairs to ``fallbacks``)."""
        n = self.keys.size
        start, length = self.windows(queries)
        positions = bounded_lower_bound(self.keys, queries, start, length)
        # Verify: keys[pos - 1] < q <= keys[pos]; repair the (rare) misses with a full search.
        below_ok = (positions == 0) | (self.keys.take(np.maximum(positions - 1, 0)) < queries)
        above_ok = (positions == n) | (self.keys.take(np.minimum(positions, n - 1)) >= queries)
        wrong = ~(below_ok & above_ok)
        repaired = int(wrong.sum())
        if repaired:
            positions[wrong] = np.searchsorted(self.keys, queries[wrong], side="left")
            self.fallbacks += repaired
        return positions
