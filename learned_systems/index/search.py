"""Vectorised last-mile search: a branch-free lower-bound search inside bounded windows.

Every query of the batch runs the same number of steps (``ceil(log2(window))``), each step
one gather, one comparison and one select over the whole batch, so numpy does the work in C
without per-query branches. With small windows the gathers touch one or two cache lines per
query, which is where a learned index beats a full binary search over the key array.
Lookups answer a large batch in slices of :data:`CACHE_BATCH` queries (:func:`in_batches`):
every step writes a few temporaries the size of the slice, and small slices keep them in the
CPU cache instead of streaming them through memory.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

# Queries per slice: a slice's int64 temporaries (128 KiB each) stay in L2. On 10M lognormal
# keys and 1M queries, the PGM lookup (eps=64) went from 295 to 206 ns per query when slices
# came in (index_bench.py run twice the same day, not kept); slices of 4K-64K queries all gave
# about the same. The recorded experiments/results/index_bench.md reads 250 ns (a slower day).
CACHE_BATCH = 16_384

#: Points per slice while an index is built: the per-point temporaries of a fit or an error
#: check stay a few MB, not many times the key array (a 10M-key PGM build peaked at 21x it).
BUILD_CHUNK = 1 << 20


def build_chunks(size: int) -> list[slice]:
    """Consecutive slices covering ``range(size)``, :data:`BUILD_CHUNK` points each (the last
    fewer)."""
    return [slice(lo, min(lo + BUILD_CHUNK, size)) for lo in range(0, size, BUILD_CHUNK)]


def in_batches(
    answer: Callable[[np.ndarray], np.ndarray], queries: np.ndarray, batch: int = CACHE_BATCH
) -> np.ndarray:
    """``answer`` (int64 positions per query) applied to consecutive slices of ``queries``."""
    if queries.size <= batch:
        return answer(queries)
    positions = np.empty(queries.size, dtype=np.int64)
    for first in range(0, queries.size, batch):
        positions[first : first + batch] = answer(queries[first : first + batch])
    return positions


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
        remaining_each = np.asarray(length, dtype=np.int64).copy()
        steps = int(np.ceil(np.log2(max(int(remaining_each.max(initial=1)), 1))))
        for _ in range(steps):
            halves = remaining_each >> 1
            probe = base + halves
            np.add(base, halves, out=base, where=keys.take(probe) < queries)
            remaining_each -= halves
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
