"""The compiled hard-macro blockage gives the bits of the numpy form, corrections included."""

from __future__ import annotations

import numpy as np
import pytest

from netlists.model import Canvas
from placer.cost.blockage_kernel import blockage_grids
from placer.cost.congestion import macro_blockage


def _both(canvas: Canvas, x: np.ndarray, y: np.ndarray, w: np.ndarray, h: np.ndarray, chunk: int):  # type: ignore[no-untyped-def]
    got = blockage_grids(x, y, w, h, canvas.width, canvas.height, canvas.rows, canvas.cols,
                         canvas.vrouting_alloc, canvas.hrouting_alloc, chunk)  # fmt: skip
    return got, macro_blockage(canvas, x, y, w, h)


@pytest.mark.parametrize("seed", range(10))
def test_blockage_grids_equal_macro_blockage_bit_for_bit(seed: int) -> None:
    """Random macros overlapping one another (non-integer sums: their order shows), partly or
    wholly outside the canvas, of zero width or height, with edges on cell lines (where the
    corrections of a top row / rightmost column apply), on cells above and below the
    corrections' 1e-5 tolerance."""
    rng = np.random.default_rng(seed)
    rows, cols = int(rng.integers(1, 25)), int(rng.integers(1, 25))
    x_scale = 1e-5 if seed % 5 == 4 else 1.0  # cells narrower, lower or both than the tolerance
    y_scale = 1e-5 if seed % 5 in (3, 4) else 1.0
    canvas = Canvas(width=float(rng.uniform(5, 60)) * x_scale, height=float(rng.uniform(5, 60)) * y_scale,
                    cols=cols, rows=rows, hroutes_per_micron=10.0, vroutes_per_micron=10.0,
                    hrouting_alloc=float(rng.uniform(0.1, 9)), vrouting_alloc=float(rng.uniform(0.1, 9)))  # fmt: skip
    cw, ch = canvas.width / cols, canvas.height / rows
    n = 150
    w = rng.uniform(0, 0.5, n) * canvas.width * (rng.random(n) > 0.1)
    h = rng.uniform(0, 0.5, n) * canvas.height * (rng.random(n) > 0.1)
    x = rng.uniform(-0.3, 1.3, n) * canvas.width
    y = rng.uniform(-0.3, 1.3, n) * canvas.height
    on_lines = rng.random(n) < 0.4  # whole cells wide and tall, corners on cell lines
    w[on_lines] = rng.integers(1, 4, on_lines.sum()) * cw
    h[on_lines] = rng.integers(1, 4, on_lines.sum()) * ch
    x[on_lines] = rng.integers(0, cols + 1, on_lines.sum()) * cw + w[on_lines] / 2
    y[on_lines] = rng.integers(0, rows + 1, on_lines.sum()) * ch + h[on_lines] / 2
    (vm, hm), (want_vm, want_hm) = _both(canvas, x, y, w, h, 1 << 22)
    assert np.array_equal(vm, want_vm) and np.array_equal(hm, want_hm)
    assert vm.shape == hm.shape == (rows, cols)


def test_blockage_grids_take_the_overlap_groups_of_the_numpy_form(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Under a small OVERLAP_CHUNK the macros are summed in groups, as the numpy form does."""
    from placer.cost import grid

    rng = np.random.default_rng(11)
    canvas = Canvas(width=30.0, height=20.0, cols=13, rows=9, hrouting_alloc=2.7, vrouting_alloc=3.1)
    x, y = rng.uniform(0, 30, 60), rng.uniform(0, 20, 60)
    w, h = rng.uniform(1, 12, 60), rng.uniform(1, 9, 60)
    for chunk in (1, 7, 50):
        monkeypatch.setattr(grid, "OVERLAP_CHUNK", chunk)
        (vm, hm), (want_vm, want_hm) = _both(canvas, x, y, w, h, chunk)
        assert np.array_equal(vm, want_vm) and np.array_equal(hm, want_hm), chunk


def test_blockage_grids_of_no_macros_or_no_allocation_are_zero() -> None:
    canvas = Canvas(width=10.0, height=10.0, cols=4, rows=3)  # routing allocations 0
    none = np.zeros(0)
    vm, hm = blockage_grids(none, none, none, none, 10.0, 10.0, 3, 4, 1.0, 1.0, 1 << 22)
    assert vm.shape == hm.shape == (3, 4) and not vm.any() and not hm.any()
    one = np.array([5.0])
    (vm, hm), (want_vm, want_hm) = _both(canvas, one, one, one * 0.9, one * 1.3, 1 << 22)
    assert np.array_equal(vm, want_vm) and np.array_equal(hm, want_hm) and not vm.any()


def test_a_cell_exactly_as_tall_as_the_tolerance_gets_no_top_row_correction() -> None:
    """The corrections' tolerance is strict: on cells exactly 1e-5 tall, a block column getting
    nothing (the macro's right edge on a column line) does not make the top row partial, in
    the kernel as in the numpy form (4 x 2 cells of 1 x 1e-5)."""
    canvas = Canvas(width=4.0, height=2e-5, cols=4, rows=2, hroutes_per_micron=10.0, vroutes_per_micron=10.0,
                    hrouting_alloc=1.0, vrouting_alloc=1.0)  # fmt: skip
    assert canvas.cell_height == 1e-5
    x, y = np.array([1.5]), np.array([0.85e-5])  # columns 1..2 (edge on the line x = 2), rows 0..1
    w, h = np.array([1.0]), np.array([1.3e-5])
    (vm, hm), (want_vm, want_hm) = _both(canvas, x, y, w, h, 1 << 22)
    assert np.array_equal(vm, want_vm) and np.array_equal(hm, want_hm)
    assert vm[1, 1] > 0  # (the top row kept its demand: no correction took it away)
