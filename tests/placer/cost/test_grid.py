"""Grid geometry of the cost: the cell of a point (PROXY_COST.md) and interval-cell overlaps."""

from __future__ import annotations

import numpy as np

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
