"""The density masks' cache: the same bits as masks computed afresh, found again by a later state
of the same design (even a fresh copy of it), another design for moved soft macros, bounded by
its capacity, and left out of pickles."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from netlists.generate import generate
from netlists.model import Canvas
from placer.algorithms.density_masks import DensityMaskCache
from placer.algorithms.grid_state import SequentialGridState, auto_grid, prefix_sum


def _state(design, cache: DensityMaskCache | None) -> SequentialGridState:  # type: ignore[no-untyped-def]
    netlist, placement = design
    return SequentialGridState(netlist, placement, soft_macros_placed=True, grid=auto_grid(netlist, 32),
                               density_cache=cache)  # fmt: skip


def test_cached_masks_are_the_fresh_ones_bit_for_bit_shared_and_read_only() -> None:
    design = generate(10, 40, 12, seed=4)
    netlist = design[0]
    cached, uncached = _state(design, DensityMaskCache()), _state(design, None)
    for node in netlist.hard_macros:
        got = cached.density_mask(int(node))
        assert np.array_equal(got, uncached.density_mask(int(node)))
        assert np.array_equal(got, cached.density_mask(int(node), fresh=True))
        assert cached.density_mask(int(node)) is got  # computed once
        assert not got.flags.writeable  # (shared: a caller writing into it would change the next episode's)
        assert uncached.density_mask(int(node)) is not uncached.density_mask(int(node))


def test_a_later_state_of_the_same_design_even_a_fresh_copy_reuses_its_masks() -> None:
    """What an env's next episode does: a new state, the masks kept from the last one."""
    cache = DensityMaskCache()
    first = _state(generate(8, 30, 12, seed=6), cache)
    node = int(first.current)
    mask = first.density_mask()
    again = _state(generate(8, 30, 12, seed=6), cache)  # new objects, the same content
    assert again.density_mask(node) is mask
    assert np.array_equal(again.density_mask(node, fresh=True), mask)
    assert len(cache) == 1


def test_moved_soft_macros_make_another_design() -> None:
    netlist, placement = generate(8, 30, 12, seed=6)
    cache = DensityMaskCache()
    before = _state((netlist, placement), cache)
    moved = placement.copy()
    soft = netlist.soft_macros
    moved.x[soft] = netlist.require_canvas().width - moved.x[soft]  # mirrored
    after = _state((netlist, moved), cache)
    assert len(cache) == 2
    masks = [(after.density_mask(int(n)), after.density_mask(int(n), fresh=True), before.density_mask(int(n)))
             for n in netlist.hard_macros]  # fmt: skip
    assert all(np.array_equal(got, fresh) for got, fresh, _ in masks)
    assert not all(np.array_equal(got, old) for got, _, old in masks)


def test_the_cache_keeps_the_designs_used_last_and_no_more() -> None:
    cache = DensityMaskCache(capacity=2)
    designs = [generate(6, 20, 8, seed=seed) for seed in range(5)]
    kept = {}
    for seed, design in enumerate(designs):
        state = _state(design, cache)
        kept[seed] = (int(state.current), state.density_mask())
        assert len(cache) == min(seed + 1, 2)
    for seed in (3, 4):  # the last two are found again
        node, mask = kept[seed]
        assert _state(designs[seed], cache).density_mask(node) is mask
    node, mask = kept[0]  # the first was dropped: computed again, to the same bits
    again = _state(designs[0], cache).density_mask(node)
    assert again is not mask and np.array_equal(again, mask)
    assert len(cache) == 2


def test_a_pickle_leaves_the_masks_out_and_the_restored_state_computes_the_same_ones() -> None:
    cache = DensityMaskCache()
    state = _state(generate(10, 40, 12, seed=4), cache)
    size_before = len(pickle.dumps((cache, state)))
    masks = {int(n): state.density_mask(int(n)) for n in state.order}
    assert len(pickle.dumps((cache, state))) == size_before  # (a training run's saved state stays small)
    restored_cache, restored = pickle.loads(pickle.dumps((cache, state)))
    assert len(restored_cache) == 0
    assert restored._density_masks is not None and len(restored._density_masks) == 0
    for node, mask in masks.items():
        assert np.array_equal(restored.density_mask(node), mask)


def test_a_state_pickled_before_the_masks_had_an_object_still_gives_them() -> None:
    state = _state(generate(6, 20, 8, seed=1), None)
    want = state.density_mask()
    del state.__dict__["_density_masks"], state.__dict__["_density_cached"]  # as an older version pickled it
    restored = pickle.loads(pickle.dumps(state))
    assert np.array_equal(restored.density_mask(), want)


def test_a_capacity_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="capacity must be at least 1, got 0"):
        DensityMaskCache(capacity=0)


def test_one_design_on_two_placing_grids_is_two_designs_each_with_its_grids_masks() -> None:
    """The placing grid is part of what a design is found by: the same netlist on a
    coarser grid must not be handed the finer grid's masks."""
    netlist, placement = design = generate(10, 40, 12, seed=4)
    cache = DensityMaskCache()
    fine = _state(design, cache)
    coarse = SequentialGridState(netlist, placement, soft_macros_placed=True, grid=(7, 5), density_cache=cache)
    assert (fine.cols, fine.rows) != (7, 5)
    node = int(fine.current)
    fine_mask, coarse_mask = fine.density_mask(node), coarse.density_mask(node)
    assert len(cache) == 2
    assert fine_mask.shape == (fine.rows, fine.cols) and coarse_mask.shape == (5, 7)
    assert np.array_equal(coarse_mask, coarse.density_mask(node, fresh=True))


def test_a_design_used_again_is_kept_before_one_used_only_earlier() -> None:
    """Least recently used, not first in first out: with room for two, A B A C drops B."""
    cache = DensityMaskCache(capacity=2)
    a, b, c = (generate(6, 20, 8, seed=seed) for seed in range(3))
    first_a = _state(a, cache)
    node, mask = int(first_a.current), first_a.density_mask()
    b_state = _state(b, cache)
    b_node, b_mask = int(b_state.current), b_state.density_mask()
    assert _state(a, cache).density_mask(node) is mask  # A used again
    _state(c, cache).density_mask()
    assert len(cache) == 2
    assert _state(a, cache).density_mask(node) is mask  # A kept
    assert _state(b, cache).density_mask(b_node) is not b_mask  # B was the one dropped


def test_two_soft_densities_with_the_same_total_are_two_designs() -> None:
    """A design is found by the soft density's bits, not by a summary of them: a unit of density
    in cell (row 0, col 1) or in cell (row 1, col 0) of a 4 x 4 grid gives prefix sums of equal
    totals (each cell counted 3 x 4 times), yet two entries, each with its own masks."""
    canvas = Canvas(width=4.0, height=4.0, cols=4, rows=4)
    centres = np.arange(4) + 0.5
    right, above = np.zeros((4, 4)), np.zeros((4, 4))
    right[0, 1] = above[1, 0] = 1.0
    prefixes = [prefix_sum(right), prefix_sum(above)]
    assert prefixes[0].sum() == prefixes[1].sum()
    cache = DensityMaskCache()
    masks = [cache.masks(canvas, centres, centres, prefix).mask(1.0, 1.0) for prefix in prefixes]
    assert len(cache) == 2
    for mask, density in zip(masks, (right, above), strict=True):
        assert np.array_equal(mask, density)  # (a cell-sized macro covers its own cell's density)
