"""Compiled kernels (numba) for the top-k means of a move's priced cost, from a candidate set.

The density and congestion costs average the largest values of a grid map (the top 10 % of
cells, the top 5 % of V and H values together). When a move changes cells at or above the
current k-th largest value, pricing it needs the new top-k; a full recomputation partitions
every value of the map (about 60-90 % of the proposals of a hot-spot search need it on the IBM
designs). Instead the evaluator keeps a *candidate set*: every value at or above a floor, the
``keep``-th largest value (``keep`` somewhat above k), so every other value lies below the
floor. A move changes only the values inside its box; when at least k candidates lie outside
the box, the new top-k is among those candidates and the box's new values, so the kernel
partitions only them. The multiset of the top k values, and so its sorted sum, is the one the
full recomputation finds: the result is bit-for-bit the same (tested).

The set stays valid while no committed move carries a value across the floor
(:func:`crosses_floor`); otherwise the evaluator rebuilds it (:func:`build_candidates`).
Maps are addressed as a stack of ``n_maps`` (1 or 2) ``R x C`` arrays: index
``m * R * C + r * C + c``.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def build_candidates(
    m0: np.ndarray, m1: np.ndarray, n_maps: int, keep: int, cand: np.ndarray
) -> tuple[int, float]:
    """Fill ``cand`` with the indices of every value >= the ``keep``-th largest of the
    ``n_maps`` stacked maps; returns ``(count, floor)`` (count 0 when ``keep`` is 0)."""
    n = m0.size
    total = n_maps * n
    if keep <= 0 or total == 0:
        return 0, np.inf
    values = np.empty(total)
    values[:n] = m0.ravel()
    if n_maps == 2:
        values[n:] = m1.ravel()
    if keep >= total:
        floor = -np.inf
    else:
        floor = np.partition(values, total - keep)[total - keep]
    count = 0
    for idx in range(total):
        if values[idx] >= floor:
            cand[count] = idx
            count += 1
    return count, floor


@njit(cache=True)
def crosses_floor(
    m0: np.ndarray,
    m1: np.ndarray,
    d0: np.ndarray,
    d1: np.ndarray,
    n_maps: int,
    box: np.ndarray,
    floor: float,
) -> bool:
    """Whether adding the deltas ``d0`` (and ``d1``) inside ``box`` moves a value of ``m0``
    (and ``m1``) from one side of ``floor`` to the other (then the candidates are stale)."""
    for r in range(box[0], box[1] + 1):
        for c in range(box[2], box[3] + 1):
            if _crosses(m0[r, c], d0[r, c], floor):
                return True
            if n_maps == 2 and _crosses(m1[r, c], d1[r, c], floor):
                return True
    return False


@njit(cache=True, inline="always")
def _crosses(value: float, delta: float, floor: float) -> bool:
    """Whether ``value + delta`` lies on the other side of ``floor`` than ``value``."""
    return delta != 0.0 and (value >= floor) != (value + delta >= floor)


@njit(cache=True)
def gather_top_values(
    m0: np.ndarray,
    m1: np.ndarray,
    d0: np.ndarray,
    d1: np.ndarray,
    n_maps: int,
    box: np.ndarray,
    cand: np.ndarray,
    n_cand: int,
    need_outside: int,
    divisor: float,
    buf: np.ndarray,
) -> int:
    """Into ``buf``: the values of the candidates outside ``box`` and the new
    values (map + delta) of every cell inside it, each divided by ``divisor`` (as the full
    recomputation does, so the values are the same floats); returns their count, or -1 when fewer than
    ``need_outside`` candidates lie outside the box (the caller recomputes in full)."""
    C = m0.shape[1]
    n = m0.size
    r0, r1, c0, c1 = box[0], box[1], box[2], box[3]
    count = 0
    for q in range(n_cand):
        idx = cand[q]
        rc = idx % n
        r, c = rc // C, rc % C
        if r0 <= r <= r1 and c0 <= c <= c1:
            continue
        buf[count] = (m0[r, c] if idx < n else m1[r, c]) / divisor
        count += 1
    if count < need_outside:
        return -1
    for r in range(r0, r1 + 1):
        for c in range(c0, c1 + 1):
            buf[count] = (m0[r, c] + d0[r, c]) / divisor
            count += 1
            if n_maps == 2:
                buf[count] = (m1[r, c] + d1[r, c]) / divisor
                count += 1
    return count


@njit(cache=True)
def top_sum(buf: np.ndarray, count: int, k: int) -> float:
    """Sum of the ``k`` largest of ``buf[:count]``, added in descending order (the order of
    the full recomputations in :mod:`placer.cost.move_kernel`)."""
    part = np.partition(buf[:count], count - k)
    return float(np.sort(part[count - k :])[::-1].sum())


@njit(cache=True)
def top_sum_if_positive(buf: np.ndarray, count: int, k: int) -> tuple[float, bool]:
    """``(top_sum(buf, count, k), whether the (k+1)-th largest is > 0)``: the density cost
    takes its top k among the nonzero cells only, so the sum is its numerator only when more
    than k cells are positive (else the caller recomputes in full)."""
    part = np.partition(buf[:count], count - k - 1)
    positive = part[count - k - 1] > 0.0
    return float(np.sort(part[count - k :])[::-1].sum()), positive
