"""SequentialGridState: passing over a macro (skip), the separable density mask and the
hard-macro slot map."""

from __future__ import annotations

import numpy as np
import pytest

from netlists.generate import generate
from placer.algorithms.grid_state import SequentialGridState, placement_order, prefix_sum
from placer.cost.context import cost_context
from placer.cost.density import density_grid


def _macros_sharing_a_net(netlist) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """Two hard macros with a net in common."""
    ctx = cost_context(netlist)
    hard = set(netlist.hard_macros.tolist())
    for net in range(ctx.n_nets):
        entries = np.flatnonzero(ctx.entry_net == net)
        anchors = sorted({int(a) for a in ctx.entry_anchor[entries]} & hard)
        if len(anchors) >= 2:
            return anchors[0], anchors[1]
    raise AssertionError("no two hard macros share a net")


def test_a_skipped_macro_blocks_nothing_but_its_pins_count_where_it_stands():
    netlist, placement = generate(12, 30, 12, seed=3)
    skipped, nxt = _macros_sharing_a_net(netlist)
    rest = [int(m) for m in placement_order(netlist) if m not in (skipped, nxt)]
    first = rest[0]
    state = SequentialGridState(netlist, placement, order=np.array([first, skipped, nxt]))
    state.place(2, 3)
    legal_before, wire_before = state.legal_mask(node=nxt), state.wire_mask(node=nxt)
    assert state.skip() == skipped and state.current == nxt
    np.testing.assert_array_equal(state.legal_mask(), legal_before)  # no obstacle where it stands
    assert (state.placement.x[skipped], state.placement.y[skipped]) == (
        placement.x[skipped],
        placement.y[skipped],
    )
    assert not np.allclose(state.wire_mask(), wire_before)
    # its pins count exactly as those of a macro already in place there
    fixed_there = SequentialGridState(netlist, placement, order=np.array([first, nxt]))
    fixed_there.place(2, 3)
    np.testing.assert_allclose(state.wire_mask(), fixed_there.wire_mask(), rtol=0, atol=1e-9)


def test_density_mask_matches_window_sums_of_the_soft_density_on_a_finer_placing_grid():
    netlist, placement = generate(10, 40, 12, seed=8)
    state = SequentialGridState(netlist, placement, grid=(37, 29))
    c = netlist.require_canvas()
    soft = netlist.soft_macros
    prefix = prefix_sum(
        density_grid(
            c, placement.x[soft], placement.y[soft], netlist.width[soft], netlist.height[soft]
        )
    )
    cw, ch = c.width / c.cols, c.height / c.rows
    node = int(netlist.hard_macros[0])
    w, h = netlist.width[node], netlist.height[node]
    got = state.density_mask(node=node)
    for r in range(0, 29, 4):
        for col in range(0, 37, 5):
            x, y = state.col_x[col], state.row_y[r]
            r0, r1 = (
                max(int(np.floor((y - h / 2) / ch)), 0),
                min(int(np.ceil((y + h / 2) / ch)), c.rows),
            )
            c0, c1 = (
                max(int(np.floor((x - w / 2) / cw)), 0),
                min(int(np.ceil((x + w / 2) / cw)), c.cols),
            )
            want = prefix[r1, c1] - prefix[r0, c1] - prefix[r1, c0] + prefix[r0, c0]
            assert abs(got[r, col] - want) < 1e-12, (r, col)


def test_the_cost_mask_from_masks_given_equals_the_one_it_computes():
    """The RL env hands cost_mask the wire and density masks it already has (each was computed
    twice per step): the score must be the same to the last bit."""
    netlist, placement = generate(12, 30, 12, seed=3)
    state = SequentialGridState(netlist, placement)
    state.place(1, 1)
    for weight in (0.0, 0.7):
        given = state.cost_mask(weight, wire=state.wire_mask(), density=state.density_mask())
        np.testing.assert_array_equal(given, state.cost_mask(weight))


def test_hard_macro_slot_maps_each_hard_macro_to_its_row_and_cannot_be_written():
    netlist, placement = generate(12, 30, 12, seed=3)
    state = SequentialGridState(netlist, placement)
    slot = state.hard_macro_slot
    hard = state.pins.hard
    np.testing.assert_array_equal(slot[hard], np.arange(hard.size))
    others = np.setdiff1d(np.arange(netlist.n_nodes), hard)
    assert others.size and np.all(slot[others] == -1)
    with pytest.raises(ValueError, match="read-only"):
        slot[hard[0]] = 5
    state.place(*np.argwhere(state.legal_mask())[0])
    assert state.hard_macro_slot is slot  # the state's own array: no copy per step


def test_a_cell_on_a_placed_macro_is_not_legal_on_a_long_thin_canvas(tall_design) -> None:  # type: ignore[no-untyped-def]
    """On 10 x 1e10 the tolerance was 10 microns in x too: every 4-wide macro's x overlap was
    taken for rounding, and greedy stacked the macros on one cell."""
    netlist, placement = tall_design
    state = SequentialGridState(netlist, placement)
    first = state.legal_mask()
    row, col = map(int, np.argwhere(first)[0])
    state.place(row, col)
    after = state.legal_mask()
    assert not after[row, col]
    assert after.any() and after.sum() < first.sum()
