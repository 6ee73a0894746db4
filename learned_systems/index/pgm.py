"""A PGM-style index: piecewise-linear levels with a guaranteed error bound, built recursively.

Level 0 segments the keys' constraint points (see :mod:`learned_systems.index.keys`) within
``epsilon``; level ``l + 1`` indexes the first keys of level ``l``'s segments within
``epsilon_recursive``, until a level has at most ``top_size`` segments, whose first keys are
searched directly. A lookup walks down the levels, each one a prediction followed by a bounded,
vectorised last-mile search in a window of ``2 * radius + 1`` entries, where ``radius`` is the
error measured on the level's constraint points after the build (``<= epsilon``: the segmentation
checks every line on its points in floating point, see :mod:`learned_systems.index.segmentation`).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from learned_systems.index.keys import (
    UINT64_MAX,
    as_queries,
    as_sorted_keys,
    constraint_points,
    shaped_like,
)
from learned_systems.index.search import (
    bounded_lower_bound,
    build_chunks,
    in_batches,
    windows_around,
)
from learned_systems.index.segmentation import segment
from learned_systems.validation import whole_number


@dataclass(frozen=True)
class _Level:
    """One level: segments over ``keys`` (the data keys, or the first keys of the level below)."""

    keys: np.ndarray  # the sorted array this level predicts positions in
    first_keys: np.ndarray  # uint64 first x of each segment
    params: np.ndarray  # float64 (segments, 4): slope, intercept, lowest and highest position
    radius: int  # measured maximum |predicted - true| position over the constraint points

    def predict(self, queries: np.ndarray, segment_ids: np.ndarray) -> np.ndarray:
        """Predicted (clamped, rounded) positions of ``queries`` in their segments."""
        rows = self.params[segment_ids]
        offsets = np.maximum(queries, self.first_keys[segment_ids]) - self.first_keys[segment_ids]
        predicted = offsets.astype(np.float64) * rows[:, 0] + rows[:, 1]
        np.clip(predicted, rows[:, 2], rows[:, 3], out=predicted)
        predicted += 0.5
        return np.floor(predicted, out=predicted).astype(np.int64)


def _fit_level(keys: np.ndarray, epsilon: int) -> _Level:
    """Segment one sorted array within ``epsilon`` and measure the error actually achieved."""
    xs, ys = constraint_points(keys)
    ys = ys.astype(np.float64)  # (exact below 2**53; the segmentation reads floats: one copy, not two)
    # Fit within eps + 0.45 so the *rounded* prediction is within eps even after float rounding.
    starts, slopes, intercepts = segment(xs, ys, epsilon + 0.45)
    first_keys = xs[starts]
    lowest = ys[starts]
    highest = np.empty_like(lowest)
    highest[:-1] = ys[starts[1:]]
    highest[-1] = keys.size
    params = np.column_stack([slopes, intercepts, lowest, highest])
    level = _Level(keys=keys, first_keys=first_keys, params=params, radius=0)
    radius = 0
    for part in build_chunks(xs.size):  # (the whole at once held ~16x the key array)
        segment_of_point = np.searchsorted(starts, np.arange(part.start, part.stop), side="right") - 1
        errors = np.abs(level.predict(xs[part], segment_of_point) - ys[part])
        radius = max(radius, int(errors.max(initial=0)))
    return _Level(keys, first_keys, params, radius)


#: Largest error bound taken: any bound at or above the number of keys gives one segment, and
#: the fit works in float64, exact for whole numbers up to 2**53.
MAX_EPSILON = 2**53


class PGMIndex:
    """Piecewise geometric model index over sorted uint64 keys with error bound ``epsilon``."""

    def __init__(
        self,
        keys,
        epsilon: int = 64,
        epsilon_recursive: int = 8,
        top_size: int = 256,
    ) -> None:
        self.epsilon = whole_number("epsilon", epsilon, 0, MAX_EPSILON)
        self.epsilon_recursive = whole_number("epsilon_recursive", epsilon_recursive, 0, MAX_EPSILON)
        top_size = whole_number("top_size", top_size, 1)
        started = time.perf_counter()
        self.keys = as_sorted_keys(keys)
        self.levels: list[_Level] = []
        if self.keys.size:
            current = self.keys
            eps = self.epsilon
            while True:
                level = _fit_level(current, eps)
                if self.levels and 2 * level.first_keys.size > current.size:
                    # an upper level that does not halve the keys it indexes costs more bytes
                    # (and search steps) than a binary search over those keys: stop below it
                    break
                self.levels.append(level)
                if level.first_keys.size <= top_size:
                    break
                current, eps = level.first_keys, self.epsilon_recursive
        self.build_seconds = time.perf_counter() - started

    def __repr__(self) -> str:
        return (f"PGMIndex(keys={self.keys.size}, epsilon={self.epsilon}, epsilon_recursive={self.epsilon_recursive}, "
                f"levels={len(self.levels)}, segments={self.num_segments}, size_bytes={self.size_bytes})")

    @property
    def max_error(self) -> int:
        """Largest |predicted - true| position on the key level (guaranteed ``<= epsilon``)."""
        return self.levels[0].radius if self.levels else 0

    @property
    def size_bytes(self) -> int:
        """Bytes of the index structure itself (segment keys and models), not the key array."""
        return int(sum(level.first_keys.nbytes + level.params.nbytes for level in self.levels))

    @property
    def num_segments(self) -> int:
        """Segments on the key level."""
        return int(self.levels[0].first_keys.size) if self.levels else 0

    def lookup(self, queries) -> np.ndarray | np.int64:
        """Lower-bound positions of ``queries`` (same as ``numpy.searchsorted(keys, q, 'left')``,
        one number for one query)."""
        given, queries = queries, as_queries(queries)
        if self.keys.size == 0 or queries.size == 0:
            return shaped_like(given, np.zeros(queries.size, dtype=np.int64))
        return shaped_like(given, in_batches(self._lookup_batch, queries))

    def counted_steps(self, queries) -> float:
        """Binary-search steps of every lookup (the cost model of ``IndexObjective(mode="cost")``):
        the top level's search over its first keys, then each level's window, whatever the
        queries (each step counted with its final compare)."""
        if not self.levels:
            return 0.0
        steps = math.ceil(math.log2(max(self.levels[-1].first_keys.size, 1))) + 1
        for level in self.levels:
            steps += math.ceil(math.log2(min(2 * level.radius + 1, level.keys.size))) + 1
        return float(steps)

    def _lookup_batch(self, queries: np.ndarray) -> np.ndarray:
        """:meth:`lookup` of one cache-sized slice of a non-empty batch over non-empty keys."""
        depth = len(self.levels)
        # Level l finds its segment as upper_bound(first_keys, q) - 1 = lower_bound(., q + 1) - 1,
        # so the query grows by one per level; the few queries within `depth` of the maximum
        # key value are answered directly below instead.
        near_max = queries > UINT64_MAX - np.uint64(depth)
        safe = np.minimum(queries, UINT64_MAX - np.uint64(depth)) if near_max.any() else queries
        # The top level is small (at most `top_size` first keys unless segmenting stopped
        # shrinking): cache-resident, where numpy's own binary search beats the stepped one.
        positions = np.searchsorted(self.levels[-1].first_keys, safe + np.uint64(depth))
        for level_index in range(depth - 1, -1, -1):
            level = self.levels[level_index]
            shifted = safe + np.uint64(level_index)
            segment_ids = positions - 1
            np.maximum(segment_ids, 0, out=segment_ids)
            predicted = level.predict(shifted, segment_ids)
            start, length = windows_around(predicted, level.radius, level.keys.size)
            positions = bounded_lower_bound(level.keys, shifted, start, length)
        if near_max.any():
            positions[near_max] = np.searchsorted(self.keys, queries[near_max], side="left")
        return positions
