"""The per-netlist caches (cost context, timing graph, force-directed arrays, hard-macro pins)
hold a netlist only while it lives."""

from __future__ import annotations

import gc
import weakref

import numpy as np

from envs.macro_placement import MacroPlacementEnv
from netlists.generate import generate
from placer.algorithms.base import get_placer
from placer.algorithms.grid_state import hard_macro_pins
from placer.cost.incremental import IncrementalEvaluator
from placer.cost.proxy import evaluate
from placer.cost.timing import timing_cost


def test_a_costed_netlist_is_freed_once_its_user_lets_go() -> None:
    """The cached CostContext held its netlist, the weak dictionary's key, so the entry never
    died: every netlist ever costed stayed in memory with its caches (some 17 MB per load of
    ibm17; a gym env on generated designs grew without bound, a batch worker kept its suite)."""
    netlist, placement = generate(6, 12, 6, seed=0)
    evaluate(netlist, placement)
    timing_cost(netlist, placement)
    hard_macro_pins(netlist)
    evaluator = IncrementalEvaluator(netlist, placement)
    evaluator.commit(evaluator.move(int(netlist.hard_macros[0]), 10.0, 10.0))
    for method in ("fd", "sa", "greedy", "refine", "analytical"):
        get_placer(method).place(netlist, placement, budget_s=0.5, seed=0)
    env = MacroPlacementEnv(netlist=(netlist, placement))
    env.reset(seed=0)
    while not env.step(int(np.flatnonzero(env.action_masks())[0]))[2]:
        pass
    alive = weakref.ref(netlist)
    del netlist, placement, evaluator, env
    gc.collect()
    assert alive() is None


def test_entry_positions_of_all_entries_are_those_of_each_entry_asked_for_alone() -> None:
    """All entries at once read the offset entries known in advance; a subset builds its own:
    the same positions either way, in every orientation of the hard macros."""
    from netlists.model import orient_offsets
    from placer.cost.context import cost_context

    netlist, placement = generate(12, 20, 8, seed=3)
    ctx = cost_context(netlist)
    assert ctx.offset_entries.size and np.array_equal(ctx.offset_entries, np.flatnonzero(ctx.entry_has_offset))
    rng = np.random.default_rng(0)
    placement.orientation[ctx.hard] = rng.integers(0, 8, ctx.hard.size)
    x, y = ctx.entry_positions(placement)
    ox, oy = orient_offsets(ctx.entry_dx, ctx.entry_dy, placement.orientation[ctx.entry_anchor])
    assert np.array_equal(x, placement.x[ctx.entry_anchor] + ox) and np.array_equal(y, placement.y[ctx.entry_anchor] + oy)
    some = rng.choice(ctx.entry_anchor.size, 40, replace=False)
    for entries in (some, np.sort(some), slice(3, 50), slice(None, None, 2)):
        sub_x, sub_y = ctx.entry_positions(placement, entries)
        assert np.array_equal(sub_x, x[entries]) and np.array_equal(sub_y, y[entries]), entries
    int_placement = type(placement)(placement.x.astype(np.int64), placement.y.astype(np.int64),
                                    placement.orientation, placement.fixed)  # fmt: skip
    ix, _ = ctx.entry_positions(int_placement)
    assert ix.dtype == np.float64 and np.array_equal(ix, placement.x.astype(np.int64)[ctx.entry_anchor] + ox)


def test_more_macro_overlaps_than_the_bound_are_refused_by_every_cost_path(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The cost keeps every macro's overlap with every grid row and column: a header's
    4,194,304 x 1 grid on ariane133 asked for ~30 GB before any check; now an input error
    (exit 2) naming the counts, from the cost context every cost path builds first."""
    import pytest

    from netlists.errors import InputError
    from placer.cost import grid

    netlist, placement = generate(6, 12, 6, seed=0)
    canvas = netlist.require_canvas()
    overlaps = netlist.macros.size * (canvas.rows + canvas.cols)
    monkeypatch.setattr(grid, "MAX_MACRO_OVERLAPS", overlaps - 1)
    with pytest.raises(InputError, match=rf"its {netlist.macros.size} macros on a grid of {canvas.cols} x "
                                         rf"{canvas.rows} need {overlaps} macro-row and macro-column overlaps"):
        evaluate(netlist, placement)
    with pytest.raises(InputError, match="use a grid with fewer rows and columns"):
        IncrementalEvaluator(netlist, placement)
    monkeypatch.setattr(grid, "MAX_MACRO_OVERLAPS", overlaps)
    evaluate(netlist, placement)  # (at the bound: computed)


def test_the_macro_overlap_bound_passes_the_shared_designs_at_the_largest_grid() -> None:
    from placer.cost.grid import macro_overlaps_problem

    assert macro_overlaps_problem(2768, 2048, 2048) is None  # ibm10's macros at 2048 x 2048
    assert macro_overlaps_problem(915, 16, 262144) is not None  # ariane133 at 262144 x 16 (2.2 GB)
