"""A two-stage recursive model index (RMI): a root model picks one of many linear leaf models.

The root (linear or cubic in the normalised key) predicts a position, which selects a leaf;
each leaf is a least-squares line over the constraint points routed to it, in the key's offset
from the leaf's first key (an exact integer difference: keys a few apart in a range of 2^63
stay apart, where the normalised key had rounded ~1000 of them to one number), clamped to the
positions those points span, and stores the largest errors below and above its predictions. A
lookup predicts, then runs the vectorised bounded search inside
``[p - error_below, p + error_above]`` of its leaf.

The root never decreases over the keys (a least-squares cubic that turns back is blended
toward the line until it rises), so every query's answer lies in its leaf's span and the clamped
line errs on it no more than on the training points around it: the windows hold every answer.
Each result is still verified (two comparisons) and a miss, which only float rounding could
cause, falls back to a full binary search (``fallbacks`` counts them). A leaf no key reaches answers with the first position of the
next non-empty leaf, which is exact for absent keys under a monotone root. ``max_error`` is
measured over all leaves.
"""

from __future__ import annotations

import math
import time

import numpy as np

from learned_systems.errors import InputError
from learned_systems.index.keys import as_queries, as_sorted_keys, constraint_points, shaped_like
from learned_systems.index.search import CACHE_BATCH, bounded_lower_bound, build_chunks, in_batches
from learned_systems.validation import whole_number

ROOT_MODELS = ("linear", "cubic")

#: Most leaf models (16.7M; each holds a few float64 parameters).
MAX_MODELS = 2**24


def _polyfit(unit: np.ndarray, positions: np.ndarray, degree: int) -> np.ndarray:
    """Least-squares polynomial coefficients (highest power first); zeros without enough points.

    In one build slice numpy's polyfit; over several, the normal equations summed slice by slice (polyfit's Vandermonde matrix for 20M points took 8x the key array; on ``unit``
    in [0, 1] at degree 3 the normal equations lose ~5 of float64's 16 digits)."""
    if unit.size <= degree:
        return np.zeros(degree + 1)
    parts = build_chunks(unit.size)
    if len(parts) == 1:
        # numpy's polyfit (columns scaled to unit norm, rcond = points x eps), without its
        # RankWarning for few distinct keys (a lower-degree fit is fine): silencing it with
        # warnings.catch_warnings swapped process-wide state, and builds in threads left it
        # silenced for the whole program
        powers = np.vander(unit, degree + 1)
        scale = np.sqrt((powers * powers).sum(axis=0))
        scale[scale == 0] = 1.0
        powers /= scale
        rcond = unit.size * np.finfo(np.float64).eps
        return np.linalg.lstsq(powers, positions, rcond=rcond)[0] / scale
    gram = np.zeros((degree + 1, degree + 1))
    moments = np.zeros(degree + 1)
    for part in parts:  # (numpy's own loops, not BLAS: a BLAS product's summation order, and
        # the root's last bits, followed its thread count past ~1M points, moving keys to other
        # leaves at 3M)
        powers = np.vander(unit[part], degree + 1)
        gram += np.einsum("ni,nj->ij", powers, powers)
        moments += np.einsum("ni,n->i", powers, positions[part])
    return np.linalg.lstsq(gram, moments, rcond=None)[0]  # (min-norm where rank-deficient)


def _rises_on_unit_interval(cubic: np.ndarray) -> bool:
    """Whether the cubic ``a t^3 + b t^2 + c t + d`` never decreases on ``[0, 1]``."""
    a, b, c, _ = cubic
    slopes = [c, 3 * a + 2 * b + c]  # the derivative at both ends
    if a > 0 and 0 < -b / (3 * a) < 1:  # and at its minimum inside
        slopes.append(c - b * b / (3 * a))
    return min(slopes) >= 0


def _fit_root(unit: np.ndarray, positions: np.ndarray, root: str) -> np.ndarray:
    """The root model's coefficients, made to never decrease over the keys.

    A monotone root sends every query to a leaf whose span holds its answer; a cubic that
    turns back sends queries far from their keys (the verification's full searches, up to a
    fifth of the queries on skewed keys). A least-squares cubic that turns back is replaced by
    the nearest rising blend of it and the least-squares line (which rises on sorted keys).
    """
    line = _polyfit(unit, positions, 1)
    if root == "linear":
        return line
    cubic = _polyfit(unit, positions, 3)
    if _rises_on_unit_interval(cubic):
        return cubic
    as_cubic = np.concatenate(([0.0, 0.0], line))
    lo, hi = 0.0, 1.0  # blend weights of the line: lo turns back, hi rises
    for _ in range(50):
        middle = 0.5 * (lo + hi)
        if _rises_on_unit_interval((1 - middle) * cubic + middle * as_cubic):
            hi = middle
        else:
            lo = middle
    return (1 - hi) * cubic + hi * as_cubic


class RMIIndex:
    """Two-stage RMI over sorted uint64 keys: ``root`` model, ``num_models`` linear leaves."""

    def __init__(self, keys, num_models: int = 4096, root: str = "linear") -> None:
        num_models = whole_number("num_models", num_models, 1, MAX_MODELS)
        if root not in ROOT_MODELS:
            raise InputError(f"root must be one of {ROOT_MODELS}, got {root!r}")
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
        positions = ys.astype(np.float64)  # (exact: positions are below 2**53)
        del ys  # (each of these build arrays is 2x the keys: the build's peak was ~15x them)
        unit = np.empty(xs.size, dtype=np.float64)
        for part in build_chunks(xs.size):  # (whole, its clamping held two more such arrays)
            unit[part] = self._normalise(xs[part])
        self._root_coefficients = _fit_root(unit, positions, root)
        del unit  # (the routing below makes it again slice by slice, with the root's temporaries)
        leaves = np.empty(xs.size, dtype=np.int64)
        for part in build_chunks(xs.size):
            leaves[part] = self._leaf_of(self._normalise(xs[part]))
        # each leaf's first key (the largest key value for a leaf no key reaches: its model is
        # a constant, which every offset leaves alone)
        self._anchors = np.full(num_models, np.iinfo(np.uint64).max, dtype=np.uint64)
        np.minimum.at(self._anchors, leaves, xs)
        offsets = self._offsets_in_place(xs, leaves)
        del xs  # (its memory holds the offsets now)
        self._leaf_params, self._leaf_errors = self._fit_leaves(offsets, positions, leaves)
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

    def _offsets(self, keys: np.ndarray, leaves: np.ndarray) -> np.ndarray:
        """Each key's distance above its leaf's first key, as float64 (a key below it, absent
        from the set, answers as that first key does: the leaf's first position)."""
        anchors = self._anchors[leaves]
        return (np.maximum(keys, anchors) - anchors).astype(np.float64)

    def _offsets_in_place(self, keys: np.ndarray, leaves: np.ndarray) -> np.ndarray:
        """:meth:`_offsets` of the build's points, written slice by slice over ``keys``' own
        memory (both 8 bytes a point; each slice is read before it is overwritten): ``keys``
        is consumed. Whole and beside the keys, the offsets and the gathered anchors were two
        more arrays of 2x the key array at the build's peak."""
        offsets = keys.view(np.float64)
        for part in build_chunks(keys.size):
            offsets[part] = self._offsets(keys[part], leaves[part])
        return offsets

    def _leaf_of(self, unit: np.ndarray) -> np.ndarray:
        scale = self.num_models / max(self.keys.size, 1)
        predicted = np.polyval(self._root_coefficients, unit) * scale
        return np.clip(predicted, 0, self.num_models - 1).astype(np.int64)

    def _fit_leaves(
        self, offsets: np.ndarray, positions: np.ndarray, leaves: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Least-squares line per leaf over the keys' offsets (vectorised with bincount): slope,
        intercept, lowest and highest position (float64, ``(models, 4)``); and its largest
        errors below and above (``(models, 2)``, int32 while the keys' positions fit in it:
        with the first key, a leaf takes 48 bytes)."""
        models = self.num_models
        params = np.zeros((models, 4))
        errors = np.zeros((models, 2), np.int32 if self.keys.size < 2**31 else np.int64)
        if offsets.size == 0:
            return params, errors
        counts = np.bincount(leaves, minlength=models).astype(np.float64)
        safe_counts = np.maximum(counts, 1.0)
        mean_x = np.bincount(leaves, offsets, models) / safe_counts
        mean_y = np.bincount(leaves, positions, models) / safe_counts
        variance = np.zeros(models)
        covariance = np.zeros(models)
        for part in build_chunks(offsets.size):  # (whole, the deviations held ~8x the keys)
            leaf = leaves[part]
            dx = offsets[part] - mean_x[leaf]
            dy = positions[part] - mean_y[leaf]
            variance += np.bincount(leaf, dx * dx, models)
            covariance += np.bincount(leaf, dx * dy, models)
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
        # The span clamps a line extrapolated past its leaf's last (or before its first) point:
        # a query there answers with that point's position (see constraint_points), while the
        # unclamped line could run thousands of positions beyond it and miss its window.
        last = np.full(models, -1.0)
        np.maximum.at(last, leaves, positions)
        params[:, 2] = np.where(empty, next_first, first)
        params[:, 3] = np.where(empty, next_first, last)
        below = np.zeros(models, np.int64)
        above = np.zeros(models, np.int64)
        for part in build_chunks(offsets.size):  # (whole, the gathered models held 8x the keys)
            error = self._predict(offsets[part], leaves[part], params) - positions[part].astype(np.int64)
            np.maximum.at(below, leaves[part], error)
            np.maximum.at(above, leaves[part], -error)
        errors[:, 0] = below
        errors[:, 1] = above
        return params, errors

    def _predict(self, offsets: np.ndarray, leaves: np.ndarray, params: np.ndarray) -> np.ndarray:
        rows = params[leaves]
        predicted = offsets * rows[:, 0] + rows[:, 1]
        np.clip(predicted, rows[:, 2], rows[:, 3], out=predicted)
        predicted += 0.5
        return np.floor(predicted, out=predicted).astype(np.int64)

    # -- public API ---------------------------------------------------------------------------
    def __repr__(self) -> str:
        return (f"RMIIndex(keys={self.keys.size}, num_models={self.num_models}, root={self.root!r}, "
                f"max_error={self.max_error}, size_bytes={self.size_bytes})")

    @property
    def max_error(self) -> int:
        """Largest leaf error (below or above) measured on the training points."""
        return int(self.leaf_errors.max(initial=0))

    @property
    def leaf_errors(self) -> np.ndarray:
        """Each leaf's largest errors below and above its predictions, ``(num_models, 2)``."""
        return self._leaf_errors.astype(np.int64)

    @property
    def size_bytes(self) -> int:
        """Bytes of the models (root coefficients, leaf parameters and first keys), not the key
        array."""
        return int(
            self._leaf_params.nbytes
            + self._leaf_errors.nbytes
            + self._anchors.nbytes
            + self._root_coefficients.nbytes
        )

    def lookup(self, queries) -> np.ndarray | np.int64:
        """Lower-bound positions of ``queries`` (same as ``numpy.searchsorted(keys, q, 'left')``,
        one number for one query)."""
        given, queries = queries, as_queries(queries)
        self.fallbacks = 0
        if self.keys.size == 0 or queries.size == 0:
            return shaped_like(given, np.zeros(queries.size, dtype=np.int64))
        return shaped_like(given, in_batches(self._lookup_batch, queries))

    def counted_steps(self, queries) -> float:
        """Mean binary-search steps per lookup of ``queries``, as the lookups run them (the cost
        model of ``IndexObjective(mode="cost")``): each slice :meth:`lookup` searches runs as
        many steps as its longest window needs (the mean of each query's own window
        under-counted it, 5 vs 9 steps), plus the models' evaluation, plus a full search for
        each fallback."""
        if self.keys.size == 0:
            return 0.0
        queries = as_queries(queries)
        if queries.size == 0:
            return 0.0
        total = 0.0
        for first in range(0, queries.size, CACHE_BATCH):  # the slices lookup() searches
            chunk = queries[first : first + CACHE_BATCH]
            _, length = self.windows(chunk)
            total += chunk.size * (math.ceil(math.log2(int(length.max()))) + 1)  # + final compare
        self.lookup(queries)
        fallback = self.fallbacks * math.log2(self.keys.size) / queries.size
        return total / queries.size + 1 + fallback  # + 1: the models' evaluation

    def windows(self, queries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each query's last-mile window ``(start, length)``: its leaf's prediction widened by
        the leaf's error bounds, clipped to the keys (non-empty keys, uint64 queries)."""
        n = self.keys.size
        leaves = self._leaf_of(self._normalise(queries))
        centre = self._predict(self._offsets(queries, leaves), leaves, self._leaf_params)
        errors = self._leaf_errors[leaves].astype(np.int64)
        start = np.clip(centre - errors[:, 0], 0, n - 1)
        stop = np.clip(centre + errors[:, 1] + 1, 1, n)
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
