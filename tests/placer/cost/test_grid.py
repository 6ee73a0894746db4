"""Grid geometry of the cost: the cell of a point (PROXY_COST.md) and interval-cell overlaps."""

from __future__ import annotations

import numpy as np
import pytest

from netlists.model import Canvas
from placer.cost.grid import cell_rows_cols, interval_overlaps, signed_overlaps

CANVAS = Canvas(width=10.0, height=6.0, cols=5, rows=3)


def test_a_points_cell_is_floor_of_the_coordinate_over_the_cell_size_clamped() -> None:
    rows, cols = cell_rows_cols(CANVAS, np.array([0.0, 1.99, 2.0, 9.99, -3.0, 1e300]),
                                np.array([0.0, 1.99, 2.0, 5.99, -3.0, 1e300]))
    assert rows.tolist() == [0, 0, 1, 2, 0, 2] and cols.tolist() == [0, 0, 1, 4, 0, 4]


def test_a_nan_coordinate_goes_to_the_first_cell_not_a_negative_index() -> None:
    rows, cols = cell_rows_cols(CANVAS, np.array([np.nan]), np.array([np.nan]))
    assert (rows.tolist(), cols.tolist()) == ([0], [0])


def test_interval_overlaps_sum_to_the_part_inside_the_canvas() -> None:
    lo, hi = np.array([1.0, -2.0, 9.0]), np.array([5.0, 1.0, 12.0])
    ov = interval_overlaps(lo, hi, 5, 2.0)
    np.testing.assert_array_equal(ov[0], [1.0, 2.0, 1.0, 0.0, 0.0])
    np.testing.assert_array_equal(ov.sum(axis=1), [4.0, 1.0, 1.0])  # outside counts nowhere
    signed = signed_overlaps(lo, hi, 5, 2.0)
    assert signed[0, 4] == 5.0 - 8.0 and np.array_equal(np.maximum(signed, 0.0), ov)


def test_overlap_grid_adds_macro_by_macro_in_index_order_and_agrees_with_the_product() -> None:
    from placer.cost.grid import overlap_grid

    rng = np.random.default_rng(3)
    rows = rng.random((40, 6)) * (rng.random((40, 6)) < 0.4)
    cols = rng.random((40, 7)) * (rng.random((40, 7)) < 0.4)
    in_order = np.zeros((6, 7))
    for m in range(40):  # the order the docstring promises, one addition at a time
        for r in np.flatnonzero(rows[m]):
            for c in np.flatnonzero(cols[m]):
                in_order[r, c] += rows[m, r] * cols[m, c]
    assert np.array_equal(overlap_grid(rows, cols), in_order)
    assert np.allclose(overlap_grid(rows, cols), rows.T @ cols, rtol=0, atol=1e-14)
    assert np.array_equal(overlap_grid(np.zeros((0, 3)), np.zeros((0, 4))), np.zeros((3, 4)))
    assert np.array_equal(overlap_grid(np.zeros((5, 2)), np.ones((5, 3))), np.zeros((2, 3)))


# what a process computes with its BLAS on the thread count of its environment
_THREADS_PROBE = """
import hashlib, sys
import numpy as np
import pytest
from netlists.generate import generate
from placer.algorithms.fd import place_soft_macros
from placer.algorithms.grid_state import SequentialGridState
from placer.cost.incremental import IncrementalEvaluator
from placer.cost.proxy import evaluate

netlist, placement = generate(60, 1400, 40, grid=(41, 45), seed=5)
digest = hashlib.sha256()
maps = evaluate(netlist, placement, with_maps=True).maps
for array in (maps.density, maps.vertical, maps.horizontal, IncrementalEvaluator(netlist, placement)._dens_area):
    digest.update(array.tobytes())
soft = place_soft_macros(netlist, placement, seed=0)
digest.update(soft.x.tobytes() + soft.y.tobytes())
state = SequentialGridState(netlist, placement)
for _ in range(30):  # (wire masks of nodes whose nets hold placed macros)
    digest.update(state.wire_mask().tobytes())
    legal = np.flatnonzero(state.legal_mask())
    state.place(*divmod(int(legal[len(legal) // 2]), state.cols))
print(digest.hexdigest())
"""


@pytest.mark.slow  # (over 10 s: `pytest -m "not slow"` leaves it out)
def test_costs_soft_macros_and_wire_masks_are_the_same_bits_at_any_blas_thread_count(thread_probe) -> None:  # type: ignore[no-untyped-def]
    """A BLAS product sums in an order that follows its thread count: the density and
    congestion maps, fd's soft macros (ibm17's placement moved) and the wire mask differed
    between a one-thread batch worker and a command on all cores."""
    assert thread_probe(_THREADS_PROBE, 1) == thread_probe(_THREADS_PROBE, 2) == thread_probe(_THREADS_PROBE, 4)


def test_overlap_grid_sums_macros_in_groups_under_its_chunk_and_refuses_mismatched_inputs(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A few huge macros on a fine grid held every (macro, cell) product at once (about 4 GB for
    20 canvas-sized macros on a 2048 x 2048 grid); mismatched inputs gave a grid of a sort."""
    import threading

    import placer.cost.grid as grid

    rng = np.random.default_rng(4)
    rows, cols = rng.random((30, 8)), rng.random((30, 9))
    whole = grid.overlap_grid(rows, cols)
    monkeypatch.setattr(grid, "OVERLAP_CHUNK", 100)  # 72 products a macro: one or two a group
    grouped = grid.overlap_grid(rows, cols)
    by_hand = np.zeros((8, 9))
    for start in range(0, 30):  # one macro a group: each group's products >= 72 > 100 / 2
        by_hand += 0.0 + np.outer(rows[start], cols[start])  # (a group's sum starts from 0)
    assert np.allclose(grouped, whole, rtol=1e-15, atol=0) and np.array_equal(grouped, by_hand)
    monkeypatch.setattr(grid, "OVERLAP_CHUNK", 10)  # each macro alone over the chunk: one a group
    finished: list[np.ndarray] = []
    worker = threading.Thread(target=lambda: finished.append(grid.overlap_grid(rows, cols)), daemon=True)
    worker.start()
    worker.join(timeout=30)  # (a group must take at least one macro: it looped for good)
    assert finished and np.array_equal(finished[0], by_hand)
    with pytest.raises(ValueError, match=r"expected \(M, R\) and \(M, C\) arrays, got \(2, 3\) and \(3, 4\)"):
        grid.overlap_grid(np.ones((2, 3)), np.ones((3, 4)))


def test_the_fixed_order_sums_call_no_blas_product() -> None:
    """This machine's OpenBLAS gives the same bits at 1 and 2 threads for the smaller products
    (the Poisson solve, the wire mask, the RMI root's gram matrix), so the thread probes cannot
    tell a product put back there: the sources are checked instead."""
    import ast
    import inspect
    import textwrap

    from learned_systems.index.rmi import _polyfit
    from placer.algorithms.fd import PoissonField
    from placer.algorithms.grid_state import SequentialGridState
    from placer.cost.grid_kernel import _add_macros, overlap_sum

    for function in (PoissonField.potential, SequentialGridState._axis_increase, _polyfit,
                     overlap_sum.py_func, _add_macros.py_func):  # fmt: skip
        tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
        products = [node for node in ast.walk(tree) if isinstance(node, ast.BinOp) and isinstance(node.op, ast.MatMult)]
        calls = [node.func.attr for node in ast.walk(tree)
                 if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                 and node.func.attr in ("dot", "matmul", "tensordot", "inner")]  # fmt: skip
        assert not products and not calls, (function, calls)



def _in_groups(rows: np.ndarray, cols: np.ndarray, chunk: int) -> np.ndarray:
    """overlap_grid's documented order, by hand: macro after macro (each macro's products
    added as one outer product, elementwise, no BLAS), in groups of at most ``chunk`` nonzero
    products (at least one macro), each group summed from zero and then added to the grid."""
    products = np.count_nonzero(rows, axis=1) * np.count_nonzero(cols, axis=1)
    grid = np.zeros((rows.shape[1], cols.shape[1]))
    if products.sum() <= chunk:
        for m in range(rows.shape[0]):
            grid += np.outer(rows[m], cols[m])
        return grid
    start = 0
    while start < rows.shape[0]:
        stop, total = start, 0
        while stop < rows.shape[0] and (stop == start or total + products[stop] <= chunk):
            total += products[stop]
            stop += 1
        group = np.zeros_like(grid)
        for m in range(start, stop):
            group += np.outer(rows[m], cols[m])
        grid += group
        start = stop
    return grid


@pytest.mark.parametrize("seed", range(6))
def test_the_density_grid_is_summed_in_the_documented_order_bit_for_bit(seed: int) -> None:
    """Macros partly or wholly outside the canvas, of zero width or height, on cell lines:
    the compiled sum gives the bits of the documented order, in one group and in many, and
    the compiled density grid those of overlap_grid over macro_overlaps."""
    from placer.cost import grid
    from placer.cost.density import density_grid, macro_overlaps
    from placer.cost.grid_kernel import clipped_overlaps, macro_area_grid, overlap_sum

    rng = np.random.default_rng(seed)
    canvas = Canvas(width=float(rng.uniform(10, 100)), height=float(rng.uniform(10, 100)),
                    cols=int(rng.integers(1, 30)), rows=int(rng.integers(1, 30)))  # fmt: skip
    n = 200
    x = rng.uniform(-0.3, 1.3, n) * canvas.width
    y = rng.uniform(-0.3, 1.3, n) * canvas.height
    w = rng.uniform(0, 0.4, n) * canvas.width * (rng.random(n) > 0.1)  # some of zero width
    h = rng.uniform(0, 0.4, n) * canvas.height * (rng.random(n) > 0.1)
    on_lines = rng.random(n) < 0.3
    x[on_lines] = np.round(x[on_lines] / (canvas.width / canvas.cols)) * (canvas.width / canvas.cols)
    oy, ox = macro_overlaps(canvas, x, y, w, h)
    assert np.array_equal(grid.overlap_grid(oy, ox), _in_groups(oy, ox, grid.OVERLAP_CHUNK))
    for chunk in (1, 17, 400):
        got = overlap_sum(oy, ox, chunk)
        assert np.array_equal(got, _in_groups(oy, ox, chunk)), chunk
    # the density grid, compiled in one kernel: its overlaps and sums are the numpy forms' bits
    cw, ch = canvas.width / canvas.cols, canvas.height / canvas.rows
    assert np.array_equal(clipped_overlaps(x - w / 2, x + w / 2, canvas.cols, cw), ox)
    for chunk in (1, 400, grid.OVERLAP_CHUNK):
        area = macro_area_grid(x, y, w, h, cw, ch, canvas.rows, canvas.cols, chunk)
        assert np.array_equal(area, _in_groups(oy, ox, chunk)), chunk
    assert np.array_equal(density_grid(canvas, x, y, w, h), _in_groups(oy, ox, grid.OVERLAP_CHUNK) / (cw * ch))


def test_a_huge_grid_is_summed_in_groups_under_the_real_chunk() -> None:
    """Canvas-sized macros on a 2048 x 2048 grid: over 4M products each, one macro a group."""
    from placer.cost import grid
    from placer.cost.density import density_grid, macro_overlaps

    canvas = Canvas(width=2048.0, height=2048.0, cols=2048, rows=2048)
    x, y = np.array([1024.0, 1000.3, 1100.7, 5.0]), np.array([1024.0, 1040.1, 990.2, 7.0])
    w, h = np.array([2048.0, 2040.5, 2100.0, 3.5]), np.array([2048.0, 2047.5, 2000.0, 2.5])
    oy, ox = macro_overlaps(canvas, x, y, w, h)
    products = np.count_nonzero(oy, axis=1) * np.count_nonzero(ox, axis=1)
    assert products.sum() > grid.OVERLAP_CHUNK  # (the grouped path)
    got = grid.overlap_grid(oy, ox)
    assert np.array_equal(got, _in_groups(oy, ox, grid.OVERLAP_CHUNK))
    assert np.array_equal(density_grid(canvas, x, y, w, h), got / 1.0)
    assert np.allclose(got.sum(), float(np.sum(oy.sum(axis=1) * ox.sum(axis=1))), rtol=1e-12)


def test_the_kernels_cell_index_is_cell_rows_cols() -> None:
    """The compiled kernels find a coordinate's cell as cell_rows_cols does: on cell lines,
    outside the canvas, astronomically far, NaN."""
    from placer.cost.grid_kernel import cell_index

    values = np.array([0.0, 1.99, 2.0, 9.99, 10.0, 12.0, -3.0, -1e-300, 1e300, -1e300, np.nan, 4.000000000000001])
    rows, cols = cell_rows_cols(CANVAS, values, values)
    assert [cell_index(v, CANVAS.width / CANVAS.cols, CANVAS.cols) for v in values] == cols.tolist()
    assert [cell_index(v, CANVAS.height / CANVAS.rows, CANVAS.rows) for v in values] == rows.tolist()


def test_cover_counts_are_the_macros_overlapping_each_cell_as_the_product_counts_them() -> None:
    """The incremental evaluator's cover map, summed without BLAS (whose threads slowed its
    re-sync a hundredfold on a busy machine): the count the 0/1 product gives, bit for bit."""
    from placer.cost.grid import OVERLAP_CHUNK, cover_counts, overlap_grid

    rng = np.random.default_rng(5)
    rows = rng.random((300, 9)) * (rng.random((300, 9)) < 0.3)
    cols = rng.random((300, 11)) * (rng.random((300, 11)) < 0.3)
    rows[7] = 0.0  # a macro outside the canvas: covers nothing
    product = (rows > 0).T.astype(np.float64) @ (cols > 0).astype(np.float64)
    counts = cover_counts(rows, cols)
    assert counts.dtype == np.float64 and counts.shape == (9, 11)
    assert np.array_equal(counts, product) and counts.max() > 1  # cells with several macros
    # a negative or zero overlap is no cover (the unclipped overlaps some callers hold)
    assert np.array_equal(cover_counts(rows - 0.5, cols), ((rows - 0.5) > 0).T.astype(float) @ (cols > 0))
    assert np.array_equal(cover_counts(np.zeros((0, 3)), np.zeros((0, 4))), np.zeros((3, 4)))
    assert OVERLAP_CHUNK > 0 and np.array_equal(overlap_grid(rows > 0, cols > 0), product)
