"""Optimal streaming piecewise-linear segmentation with a maximum error ``eps``.

Each segment holds the longest run of points that one *monotone* line fits within ``eps``
(greedy longest prefix, which is optimal for the number of segments). The set of feasible
lines ``y = a * (x - x0) + b`` of the current run is a convex polygon in the ``(a, b)`` plane;
each new point clips it with two half-planes, and the segment ends when the polygon becomes
empty. The line kept is the polygon's vertex average (a point inside it). The slope is kept
``>= 0`` so that predictions are monotone in the key, which the error guarantee for absent
keys relies on. Each line is then checked on its run in floating point (see :func:`_segment`).
Compiled with numba when available (the pure-Python form gives the same result).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

_numba_njit: Callable[..., Any] | None
try:  # numba makes the sequential sweep ~100x faster; the algorithm does not depend on it.
    from numba import njit as _numba_njit
except ImportError:  # pragma: no cover - exercised only where numba is missing
    _numba_njit = None


def njit(**options):
    """numba's ``njit(**options)``; where ``cache=True`` finds no folder it may write (a read-only
    install with no writable home, imported without ``placer``, which points numba at one
    first) the kernel is compiled for this process only instead of raising at import."""

    def compiled(function):
        if _numba_njit is None:
            return function
        try:
            return _numba_njit(**options)(function)
        except RuntimeError as error:  # "cannot cache function ...: no locator available"
            if "no locator" not in str(error):
                raise
            return _numba_njit(**{**options, "cache": False})(function)

    return compiled


#: More polygon vertices than this closes the segment early (still correct, rarely reached).
_MAX_VERTICES = 256


@njit(cache=True)
def _clip(pa, pb, count, dx, bound, sign, qa, qb):
    """Clip polygon ``(pa, pb)[:count]`` to ``sign * (a * dx + b - bound) <= 0`` into ``qa, qb``.

    Returns the new vertex count, 0 when empty, -1 when it would exceed the buffer.
    """
    kept = 0
    for k in range(count):
        a1 = pa[k]
        b1 = pb[k]
        nxt = k + 1 if k + 1 < count else 0
        a2 = pa[nxt]
        b2 = pb[nxt]
        f1 = sign * (a1 * dx + b1 - bound)
        f2 = sign * (a2 * dx + b2 - bound)
        if kept + 2 > qa.shape[0]:
            return -1
        if f1 <= 0.0:
            qa[kept] = a1
            qb[kept] = b1
            kept += 1
        if (f1 < 0.0 and f2 > 0.0) or (f1 > 0.0 and f2 < 0.0):
            t = f1 / (f1 - f2)
            qa[kept] = a1 + t * (a2 - a1)
            qb[kept] = b1 + t * (b2 - b1)
            kept += 1
    return kept


@njit(cache=True)
def _fit_prefix(xs, ys, eps, i, limit, pa, pb, qa, qb, ra, rb):
    """The longest run ``[i, j)`` with ``j <= limit`` one monotone line fits within ``eps``
    (polygon clipping), and that line: ``(j, slope, intercept)``."""
    x0 = xs[i]
    y0 = ys[i]
    if limit - i < 2:
        return i + 1, 0.0, y0
    dx1 = float(xs[i + 1] - x0)
    a_max = (ys[i + 1] - y0 + 2.0 * eps) / dx1
    pa[0] = 0.0
    pb[0] = y0 - eps
    pa[1] = a_max
    pb[1] = y0 - eps
    pa[2] = a_max
    pb[2] = y0 + eps
    pa[3] = 0.0
    pb[3] = y0 + eps
    vertices = 4
    j = i + 1
    while j < limit:
        dx = float(xs[j] - x0)
        upper = _clip(pa, pb, vertices, dx, ys[j] + eps, 1.0, qa, qb)
        if upper <= 0:
            break
        both = _clip(qa, qb, upper, dx, ys[j] - eps, -1.0, ra, rb)
        if both <= 0:
            break
        for k in range(both):
            pa[k] = ra[k]
            pb[k] = rb[k]
        vertices = both
        j += 1
    sum_a = 0.0
    sum_b = 0.0
    for k in range(vertices):
        sum_a += pa[k]
        sum_b += pb[k]
    return j, max(sum_a / vertices, 0.0), sum_b / vertices


@njit(cache=True)
def _first_violation(xs, ys, eps, i, j, slope, intercept):
    """The first point of ``[i, j)`` the line misses by more than ``eps``, or -1."""
    x0 = xs[i]
    for k in range(i, j):
        if abs(float(xs[k] - x0) * slope + intercept - ys[k]) > eps:
            return k
    return -1


@njit(cache=True)
def _segment(xs, ys, eps):
    """Greedy optimal segmentation of strictly increasing ``xs`` (uint64) with ``ys`` (float).

    Returns ``(starts, slopes, intercepts, count)``: segment ``s`` covers points from
    ``starts[s]`` and predicts ``slopes[s] * (x - xs[starts[s]]) + intercepts[s]``.

    Every segment's line is checked on its points with the prediction's own arithmetic. Where
    keys lie ~1e16 apart the feasible slopes span ~1e-16, the size of the clipping's rounding
    error, and the vertex average can miss a point: the run is then cut before that point and
    fitted again, so the bound holds for every point, not only in exact arithmetic.
    """
    n = xs.shape[0]
    capacity = min(n, 4096)  # grown by doubling: sized n at once, the three outputs were 3x the
    starts = np.empty(capacity, np.int64)  # points (6x the key array) for a few thousand segments
    slopes = np.empty(capacity, np.float64)
    intercepts = np.empty(capacity, np.float64)
    pa = np.empty(_MAX_VERTICES, np.float64)
    pb = np.empty(_MAX_VERTICES, np.float64)
    qa = np.empty(_MAX_VERTICES, np.float64)
    qb = np.empty(_MAX_VERTICES, np.float64)
    ra = np.empty(_MAX_VERTICES, np.float64)
    rb = np.empty(_MAX_VERTICES, np.float64)
    count = 0
    i = 0
    while i < n:
        limit = n
        while True:
            j, slope, intercept = _fit_prefix(xs, ys, eps, i, limit, pa, pb, qa, qb, ra, rb)
            missed = _first_violation(xs, ys, eps, i, j, slope, intercept)
            if missed < 0:
                break
            limit = max(missed, i + 1)  # a single point always fits: slope 0 through it
        if count == capacity:
            capacity = min(n, 2 * capacity)
            starts = _grown(starts, count, capacity)
            slopes = _grown(slopes, count, capacity)
            intercepts = _grown(intercepts, count, capacity)
        starts[count] = i
        slopes[count] = slope
        intercepts[count] = intercept
        count += 1
        i = j
    return starts, slopes, intercepts, count


@njit(cache=True)
def _grown(array, count, capacity):
    """A ``capacity``-long array holding ``array``'s first ``count`` values."""
    grown = np.empty(capacity, array.dtype)
    grown[:count] = array[:count]
    return grown


def segment(
    xs: np.ndarray, ys: np.ndarray, eps: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Segment points ``(xs, ys)`` (``xs`` strictly increasing uint64) within error ``eps``.

    Returns ``(start_indices, slopes, intercepts)``, one entry per segment.
    """
    if xs.size == 0:
        return np.zeros(0, np.int64), np.zeros(0), np.zeros(0)
    starts, slopes, intercepts, count = _segment(
        np.ascontiguousarray(xs, dtype=np.uint64),
        np.ascontiguousarray(ys, dtype=np.float64),
        float(eps),
    )
    return starts[:count].copy(), slopes[:count].copy(), intercepts[:count].copy()
