"""The compiled overlap test of a move against a plain rectangle-by-rectangle reference."""

from __future__ import annotations

import numpy as np
import pytest

from placer.algorithms.overlap_kernel import hard_free


def reference(nodes, x, y, px, py, hw, hh, tol_x, tol_y) -> bool:  # type: ignore[no-untyped-def]
    """Overlap of two centred rectangles along one axis, then both axes, over every pair."""
    moved = {int(n): (float(a), float(b)) for n, a, b in zip(nodes, x, y, strict=True)}

    def box(i: int) -> tuple[float, float, float, float]:
        cx, cy = moved.get(i, (px[i], py[i]))
        return cx - hw[i], cx + hw[i], cy - hh[i], cy + hh[i]

    for i in moved:
        for j in range(px.size):
            if j == i or (j in moved and j < i):
                continue  # (a pair of moved macros once)
            a, b = box(i), box(j)
            ox = min(a[1], b[1]) - max(a[0], b[0])
            oy = min(a[3], b[3]) - max(a[2], b[2])
            if ox > tol_x and oy > tol_y:
                return False
    return True


@pytest.mark.parametrize(("tol_x", "tol_y"), [(1e-6, 1e-6), (1e-6, 0.3), (0.3, 1e-6)])
def test_the_kernel_agrees_with_the_reference_on_random_moves_and_touching_edges(tol_x: float, tol_y: float) -> None:
    """Each axis against its own tolerance (one far above the other: a mix-up shows)."""
    rng = np.random.default_rng(0)
    n = 40
    hard = np.arange(n, dtype=np.int64)
    slot = np.arange(n, dtype=np.int64)
    disagreements, legal = 0, 0
    for trial in range(3000):
        # a grid of unit squares, touching edge to edge; moves land on grid points half the time
        px = (np.arange(n) % 8).astype(np.float64) * 2.0 + 1.0
        py = (np.arange(n) // 8).astype(np.float64) * 2.0 + 1.0
        hw = np.full(n, 1.0) if trial % 2 else rng.uniform(0.2, 1.0, n)
        hh = np.full(n, 1.0) if trial % 2 else rng.uniform(0.2, 1.0, n)
        nodes = rng.choice(n, size=int(rng.integers(1, 4)), replace=False).astype(np.int64)
        if rng.random() < 0.5:
            x = rng.integers(0, 9, nodes.size) * 2.0 + 1.0
            y = rng.integers(0, 6, nodes.size) * 2.0 + 1.0
        else:
            x, y = rng.uniform(0, 18, nodes.size), rng.uniform(0, 12, nodes.size)
        got = hard_free(nodes, x, y, hard, slot, px, py, hw, hh, tol_x, tol_y)
        disagreements += got != reference(nodes, x, y, px, py, hw, hh, tol_x, tol_y)
        legal += got
    assert disagreements == 0
    assert 100 < legal < 2900  # both answers met often


def test_moved_macros_are_checked_against_each_other_not_their_old_places() -> None:
    px, py = np.array([1.0, 3.0, 10.0]), np.array([1.0, 1.0, 10.0])
    half = np.ones(3)
    hard = slot = np.arange(3, dtype=np.int64)
    swap = np.array([0, 1], dtype=np.int64)
    assert hard_free(swap, np.array([3.0, 1.0]), np.array([1.0, 1.0]), hard, slot, px, py, half, half, 1e-9, 1e-9)
    onto = np.array([5.0, 5.5]), np.array([5.0, 5.0])
    assert not hard_free(swap, *onto, hard, slot, px, py, half, half, 1e-9, 1e-9)
    assert not hard_free(np.array([0], dtype=np.int64), np.array([10.5]), np.array([10.0]), hard, slot, px, py,
                         half, half, 1e-9, 1e-9)
