"""The compiled pass over the nets gives the numpy forms' bits: half-perimeters and demand."""

from __future__ import annotations

import numpy as np
import pytest

from netlists.model import Canvas
from placer.cost.congestion import route_nets
from placer.cost.grid import cell_rows_cols
from placer.cost.net_kernel import net_pass
from placer.cost.wirelength import net_hpwl


def _numpy_forms(canvas: Canvas, x: np.ndarray, y: np.ndarray, starts: np.ndarray, weight: np.ndarray):  # type: ignore[no-untyped-def]
    sizes = np.diff(np.append(starts, x.size))
    entry_net = np.repeat(np.arange(starts.size), sizes)
    rows, cols = cell_rows_cols(canvas, x, y)
    dv, dh = route_nets(canvas, rows, cols, entry_net, starts.size, starts, weight).difference_arrays(
        canvas.rows, canvas.cols
    )
    return net_hpwl(x, y, starts), dv, dh


def _random_nets(seed: int, n_nets: int = 3000):  # type: ignore[no-untyped-def]
    """``(canvas, x, y, starts, weight)``: nets of 1-40 pins (most of 3) on a grid of 2-5
    cells a side, pins partly outside the canvas or on cell boundaries, weights from 1 to 2."""
    rng = np.random.default_rng(seed)
    rows, cols = int(rng.integers(2, 6)), int(rng.integers(2, 6))
    canvas = Canvas(width=float(rng.uniform(5, 50)), height=float(rng.uniform(5, 50)), cols=cols, rows=rows)
    sizes = rng.choice([1, 2, 3, 3, 3, 3, 3, 4, 5, 7, 40], size=n_nets)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    n = int(sizes.sum())
    x = rng.uniform(-0.2, 1.2, n) * canvas.width
    y = rng.uniform(-0.2, 1.2, n) * canvas.height
    snap = rng.random(n) < 0.3  # on cell boundaries and the canvas edges, exactly
    x[snap] = rng.integers(0, cols + 1, snap.sum()) * (canvas.width / cols)
    y[snap] = rng.integers(0, rows + 1, snap.sum()) * (canvas.height / rows)
    return canvas, x, y, starts, rng.uniform(1.0, 2.0, starts.size)


@pytest.mark.parametrize("seed", range(8))
def test_net_pass_equals_the_numpy_forms_bit_for_bit(seed: int) -> None:
    """Nets sharing cells and cell boundaries (all four 3-pin cases arise), with weights that
    are not whole numbers: a boundary's sum depends on the order of its additions (with these
    seeds, swapping any two neighbouring groups of the numpy form's segments changes some
    bits)."""
    canvas, x, y, starts, weight = _random_nets(seed)
    rows, cols = canvas.rows, canvas.cols
    want_hpwl, want_dv, want_dh = _numpy_forms(canvas, x, y, starts, weight)
    hpwl, dv, dh = net_pass(x, y, starts, weight, canvas.width / cols, canvas.height / rows, rows, cols)
    assert np.array_equal(hpwl, want_hpwl)
    assert np.array_equal(dv, want_dv) and np.array_equal(dh, want_dh)
    assert dv.shape == ((rows + 1) * cols,) and dh.shape == (rows * (cols + 1),)


def test_net_pass_routes_each_three_pin_case_as_the_numpy_form() -> None:
    """One net per 3-pin case of PROXY_COST.md (and its mirror images), each alone."""
    canvas = Canvas(width=5.0, height=5.0, cols=5, rows=5)
    cases = [[(0, 0), (2, 2), (4, 4)], [(0, 0), (2, 3), (4, 3)], [(3, 0), (1, 2), (1, 4)],
             [(0, 2), (2, 0), (4, 4)], [(4, 0), (2, 2), (0, 4)], [(4, 4), (2, 3), (0, 3)]]  # fmt: skip
    for cells in cases:
        for driver in range(3):
            order = [cells[driver]] + [c for k, c in enumerate(cells) if k != driver]
            y = np.array([r + 0.5 for r, _ in order])
            x = np.array([c + 0.5 for _, c in order])
            starts, weight = np.array([0]), np.array([1.5])
            want = _numpy_forms(canvas, x, y, starts, weight)
            got = net_pass(x, y, starts, weight, 1.0, 1.0, 5, 5)
            assert all(np.array_equal(a, b) for a, b in zip(got, want, strict=True)), (cells, driver)
            assert np.any(got[1] != 0) or np.any(got[2] != 0)


def test_net_pass_of_no_nets_and_of_one_cell_nets_routes_nothing() -> None:
    hpwl, dv, dh = net_pass(np.zeros(0), np.zeros(0), np.zeros(0, dtype=np.int64), np.zeros(0), 1.0, 1.0, 2, 3)
    assert hpwl.size == 0 and not dv.any() and not dh.any()
    x, y = np.array([0.1, 0.9, 0.5, 2.5]), np.array([0.2, 0.8, 0.5, 0.5])
    hpwl, dv, dh = net_pass(x, y, np.array([0, 3]), np.ones(2), 1.0, 1.0, 2, 3)
    assert hpwl.tolist() == [(0.9 - 0.1) + (0.8 - 0.2), 0.0] and not dv.any() and not dh.any()
