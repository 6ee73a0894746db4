"""Array helpers of the cost modules: the distinct keys by a sort, not numpy's hash table."""

from __future__ import annotations

import ast
import inspect
import textwrap

import numpy as np

from placer.cost.arrays import sorted_unique


def test_sorted_unique_is_what_np_unique_returns_on_integer_keys() -> None:
    rng = np.random.default_rng(7)
    cases = [
        np.zeros(0, dtype=np.int64),
        np.array([5], dtype=np.int64),
        np.full(9, -3, dtype=np.int64),
        rng.integers(-50, 50, 1000),
        rng.integers(0, 2**62, 500),
        np.repeat(np.arange(300), 4)[::-1].copy(),
    ]
    for keys in cases:
        got = sorted_unique(keys)
        want = np.unique(keys)
        assert got.dtype == want.dtype and np.array_equal(got, want)
    keys = np.array([3, 1, 3])
    sorted_unique(keys)
    assert keys.tolist() == [3, 1, 3]  # its input is left as it was


def test_the_cost_paths_find_distinct_keys_by_a_sort_not_np_unique() -> None:
    """numpy 2.3+'s np.unique of integers (a hash table) took 160 ms of ibm17's full cost,
    against 6 ms for a sort: a full evaluation cost three times what it did."""
    from placer.cost.congestion import route_nets
    from placer.cost.incremental import IncrementalEvaluator
    from placer.cost.timing_incremental import IncrementalTiming

    # (and the incremental timing's numpy path, per move: 321 us against 21 us at 2,000 keys)
    for function in (route_nets, IncrementalEvaluator.__init__, IncrementalTiming._changed_arcs,
                     IncrementalTiming._propose_through_logic):
        tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
        calls = [node for node in ast.walk(tree)
                 if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "unique"]  # fmt: skip
        assert not calls, function
