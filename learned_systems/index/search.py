"""Vectorised last-mile search: a branch-free lower-bound search inside bounded windows.

Every query of the batch runs the same number of steps (``ceil(log2(window))``), each step
one gather, one comparison and one select over the whole batch, so numpy does the work in C
without per-query branches. With small windows the gathers touch one or two cache lines per
query, which is where a learned index beats a full binary search over the key array.
"""

from __future__ import annotations

import numpy as np


def bounded_lower_bound(
    keys: np.ndarray, queries: np.ndarray, start: np.ndarray, length: int | np.ndarray
) -> np.ndarray:
    """Lower bound of each query inside ``keys[start : start + length]``.

    Returns, per query, the first index ``i`` in ``[start, start + length)`` with
    ``keys[i] >= query``, or ``start + length`` when there is none. ``length`` is a scalar (all
    windows equal, fastest) or an array; windows must lie inside ``keys`` and be non-empty.
    """
    base = np.asarray(start, dtype=np.int64).copy()
    if np.isscalar(length) or np.ndim(length) == 0:
        remaining = int(length)
        while remaining > 1:
            half = remaining // 2
            probe = base + half
            np.add(base, half, out=base, where=keys.take(probe) < queries)
            remaining -= half
    else:
        remaining = np.asarray(length, dtype=np.int64).copy()
        steps = int(np.ceil(np.log2(max(int(remaining.max(initial=1)), 1))))
        for _ in range(steps):
            half = remaining >> 1
            probe = base + half
            np.add(base, half, out=base, where=keys.take(probe) < queries)
            remaining -= half
    base += keys.take(base) < queries
    return base


def windows_around(predicted: np.ndarray, radius: int, n: int) -> tuple[np.ndarray, int]:
    """Equal-length windows ``[p - radius, p + radius]`` shifted to stay inside ``[0, n)``.

    Shifting (rather than clipping) keeps every window the same length, so the search runs a
    fixed number of steps; a shifted window still contains the true answer.
    """
    length = min(2 * radius + 1, n)
    start = np.clip(predicted - radius, 0, n - length)
    return start, length
