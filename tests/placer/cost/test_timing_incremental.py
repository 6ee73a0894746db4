"""Incremental timing: every proposed and committed move equals a full timing_cost exactly."""

from __future__ import annotations

import numpy as np
import pytest

from netlists.designs import load_builtin
from netlists.generate import generate
from netlists.model import Canvas, Netlist, Placement
from placer.cost.timing import TimingParams, timing_cost
from placer.cost.timing_incremental import IncrementalTiming

CANVAS = Canvas(10.0, 10.0, 5, 5, 1.0, 1.0, 0.0, 0.0, 0, 0.0)
P = TimingParams(wire_delay=1.0, soft_macro_delay=1.0)


def _same(a, b) -> bool:  # type: ignore[no-untyped-def]
    return (a.worst, a.tail, a.worst_delay, a.n_endpoints) == (b.worst, b.tail, b.worst_delay, b.n_endpoints)


def _random_moves(netlist: Netlist, placement: Placement, params: TimingParams, n: int, seed: int) -> int:
    """Propose ``n`` random moves of one to three nodes (with rotations), commit most; the
    number of mismatches against a full recomputation."""
    rng = np.random.default_rng(seed)
    timing = IncrementalTiming(netlist, placement, params)
    c = netlist.require_canvas()
    movable = netlist.placeable
    wrong = 0
    for _ in range(n):
        nodes = rng.choice(movable, size=int(rng.integers(1, 4)), replace=False)
        x, y = rng.uniform(0, c.width, nodes.size), rng.uniform(0, c.height, nodes.size)
        orient = rng.integers(0, 8, nodes.size)
        before = timing.cost()
        move = timing.propose(nodes, x, y, orient)
        moved = timing.placement.copy()
        moved.x[nodes], moved.y[nodes], moved.orientation[nodes] = x, y, orient
        wrong += not _same(move.result, timing_cost(netlist, moved, params))
        wrong += not _same(timing.cost(), before)  # a proposal leaves the state alone
        if rng.random() < 0.7:
            timing.commit(move)
        wrong += not _same(timing.cost(), timing_cost(netlist, timing.placement, params))
    return wrong


def test_moves_on_the_builtin_design_match_the_full_timing_exactly() -> None:
    netlist, placement = load_builtin()
    assert _random_moves(netlist, placement, TimingParams(), 60, seed=0) == 0


@pytest.mark.parametrize("seed", range(4))
def test_moves_on_generated_designs_with_logic_chains_match_exactly(seed: int) -> None:
    """Small generated designs keep combinational soft macros (paths of several arcs), so the
    arrivals are propagated again on many moves."""
    netlist, placement = generate(4, 30, 8, seed=seed, outputs_per_soft=(0, 2))  # (few outputs: few loops)
    params = TimingParams(wire_delay=0.7, soft_macro_delay=2.5)
    assert IncrementalTiming(netlist, placement).graph.endpoint_arcs[0] >= 30  # arcs into logic
    assert _random_moves(netlist, placement, params, 80, seed) == 0


def test_a_move_along_a_logic_chain_changes_the_path_through_it(tiny_builder) -> None:  # type: ignore[no-untyped-def]
    nl, pl = tiny_builder(
        ports=[("a", 0.0, 0.0), ("b", 3.0, 9.0)],
        soft=[("s1", 1, 1, 3.0, 0.0), ("s2", 1, 1, 3.0, 4.0)],
        nets=[("a", ["s1/P"], 1.0), ("s1/P", ["s2/P"], 1.0), ("s2/P", ["b"], 1.0)],
        canvas=CANVAS,
    )
    timing = IncrementalTiming(nl, pl, P)
    assert timing.cost().worst_delay == pytest.approx(14.0)  # 3 + 1, 4 + 1, 5
    move = timing.move(nl.index("s1"), 3.0, 4.0)  # s1 onto s2: a->s1 7 + 1, s1->s2 0 + 1, s2->b 5
    assert move.result.worst_delay == pytest.approx(14.0) and move.arrival is not None
    timing.commit(move)
    move = timing.move(nl.index("s2"), 3.0, 9.0)  # s2 onto b: 7 + 1, 5 + 1, 0
    assert move.result.worst_delay == pytest.approx(14.0)
    timing.commit(timing.move(nl.index("a"), 3.0, 2.0))  # a->s1 2 + 1, s1->s2 5 + 1, s2->b 0
    assert timing.cost().worst_delay == pytest.approx(9.0)
    assert _same(timing.cost(), timing_cost(nl, timing.placement, P))


def test_bad_moves_are_refused_as_the_proxy_evaluator_refuses_them() -> None:
    netlist, placement = generate(2, 6, 4, seed=1)
    timing = IncrementalTiming(netlist, placement)
    node = int(netlist.hard_macros[0])
    with pytest.raises(ValueError, match="orientation codes are whole numbers 0-7"):
        timing.propose([node], [1.0], [1.0], [9])
    with pytest.raises(ValueError, match="a node appears twice"):
        timing.propose([node, node], [1.0, 2.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="finite numbers"):
        timing.propose([node], [np.nan], [1.0])
    pin = int(np.flatnonzero(netlist.node_type >= 3)[0])
    with pytest.raises(ValueError, match="pins follow their macro"):
        timing.propose([pin], [1.0], [1.0])


def test_a_move_priced_before_another_commit_is_priced_again_when_committed() -> None:
    """Two proposals, both committed: the second was applied with changes computed against the
    state before the first (the cached figures went wrong until a resync)."""
    netlist, placement = generate(4, 30, 8, seed=0, outputs_per_soft=(0, 2))
    rng = np.random.default_rng(0)
    timing = IncrementalTiming(netlist, placement)
    c = netlist.require_canvas()
    for _ in range(40):
        a, b = rng.choice(netlist.placeable, size=2, replace=False)
        first = timing.move(int(a), rng.uniform(0, c.width), rng.uniform(0, c.height))
        second = timing.move(int(b), rng.uniform(0, c.width), rng.uniform(0, c.height))
        timing.commit(first)
        timing.commit(second)
        assert _same(timing.cost(), timing_cost(netlist, timing.placement))
        old = timing.move(int(a), rng.uniform(0, c.width), rng.uniform(0, c.height))
        soft = netlist.soft_macros
        timing.set_positions(soft, timing.placement.x[soft] + 0.5, timing.placement.y[soft])
        timing.commit(old)
        assert _same(timing.cost(), timing_cost(netlist, timing.placement))


@pytest.mark.parametrize("compiled", [True, False])
def test_a_priced_timing_moves_arrays_cannot_be_edited_before_its_commit(compiled: bool) -> None:
    """A commit writes the move's positions beside the delays priced for them: an edited
    ``move.x`` left the timing figures of the old position on the new one."""
    netlist, placement = generate(4, 30, 8, seed=0, outputs_per_soft=(0, 2))
    timing = IncrementalTiming(netlist, placement, compiled=compiled)
    c = netlist.require_canvas()
    rng = np.random.default_rng(1)
    moves = [timing.move(int(node), rng.uniform(0, c.width), rng.uniform(0, c.height)) for node in netlist.placeable[:6]]
    for move in moves:
        arrays = [move.nodes, move.x, move.y, move.orientation, move.arcs, move.delays, move.endpoint_arcs,
                  move.arc_times, move.endpoints, move.endpoint_arrival]  # fmt: skip
        arrays += [] if move.arrival is None else [move.arrival]
        assert not any(a.flags.writeable for a in arrays)
        with pytest.raises(ValueError, match="read-only"):
            move.x[0] = 1.0
        with pytest.raises(AttributeError):
            move.x = np.array([1.0])  # type: ignore[misc]
    through_logic = [m for m in moves if m.arrival is not None]
    assert through_logic, "no move here changes the logic's arrivals"
    timing.commit(through_logic[0])  # (its arrivals become the evaluator's own, writable, copy)
    assert _same(timing.cost(), timing_cost(netlist, timing.placement))
    again = timing.move(int(netlist.placeable[0]), 1.0, 1.0)
    timing.commit(again)
    assert _same(timing.cost(), timing_cost(netlist, timing.placement))


def test_a_move_touching_as_many_arc_ends_as_the_design_has_entries_is_priced_right(tiny_builder) -> None:  # type: ignore[no-untyped-def]
    """The moved arcs' positions were told from all entries' by their count: two arcs (four
    ends) on a four-entry design were read as every entry's, and the delays came out wrong
    (18 instead of 1)."""
    nl, pl = tiny_builder(
        ports=[("a", 0.0, 0.0), ("b", 1.0, 0.0), ("c", 9.0, 9.0), ("d", 9.0, 8.0)],
        nets=[("a", ["b"], 1.0), ("c", ["d"], 1.0)],
        canvas=CANVAS,
    )
    timing = IncrementalTiming(nl, pl, P)
    move = timing.propose([nl.index("a"), nl.index("c")], [0.0, 9.0], [1.0, 9.0])
    moved = pl.copy()
    moved.y[nl.index("a")] = 1.0
    assert _same(move.result, timing_cost(nl, moved, P)) and move.result.worst_delay == pytest.approx(2.0)


@pytest.mark.parametrize("seed", range(3))
def test_the_compiled_kernel_and_numpy_price_every_move_alike(seed: int, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The compiled common case (every changed arc ends at an endpoint) and its hand-back to
    numpy (a changed arc feeds the logic) give the numpy path's moves to the last bit, both
    taken on these designs, in lockstep over proposals and commits."""
    from placer.cost import timing_incremental

    taken = {True: 0, False: 0}
    kernel = timing_incremental.price_endpoint_move

    def counted(*args):  # type: ignore[no-untyped-def]
        result = kernel(*args)
        taken[bool(result[0])] += 1
        return result

    monkeypatch.setattr(timing_incremental, "price_endpoint_move", counted)
    netlist, placement = generate(6, 40, 10, seed=seed, outputs_per_soft=(0, 3))
    compiled = IncrementalTiming(netlist, placement, P)
    plain = IncrementalTiming(netlist, placement, P, compiled=False)
    rng = np.random.default_rng(seed)
    c = netlist.require_canvas()
    for _ in range(150):
        nodes = rng.choice(netlist.placeable, size=int(rng.integers(1, 4)), replace=False)
        x, y = rng.uniform(0, c.width, nodes.size), rng.uniform(0, c.height, nodes.size)
        orient = rng.integers(0, 8, nodes.size)
        a, b = compiled.propose(nodes, x, y, orient), plain.propose(nodes, x, y, orient)
        assert a.result == b.result
        for field in ("arcs", "delays", "endpoint_arcs", "arc_times", "endpoints", "endpoint_arrival"):
            np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
        assert (a.arrival is None) == (b.arrival is None)
        if rng.random() < 0.7:
            compiled.commit(a)
            plain.commit(b)
    assert taken[True] > 0 and taken[False] > 0


def test_a_placement_of_other_dtypes_is_kept_as_float64_and_int8() -> None:
    """A float32 placement: the compiled path read a moved node unrounded where numpy wrote it
    into the float32 array, and the evaluator then disagreed with its own placement; a float
    orientation code (which check_placement accepts) failed to type in the kernel."""
    netlist, placement = generate(4, 30, 8, seed=0, outputs_per_soft=(0, 2))
    odd = placement.copy()
    odd.x, odd.y = odd.x.astype(np.float32), odd.y.astype(np.float32)
    odd.orientation = odd.orientation.astype(np.float64)
    compiled, plain = IncrementalTiming(netlist, odd, P), IncrementalTiming(netlist, odd, P, compiled=False)
    assert compiled.placement.x.dtype == np.float64 and compiled.placement.orientation.dtype == np.int8
    node, c = int(netlist.hard_macros[0]), netlist.require_canvas()
    a = compiled.propose([node], [c.width / 3], [0.123456789])
    assert a.result == plain.propose([node], [c.width / 3], [0.123456789]).result
    compiled.commit(a)
    assert _same(compiled.cost(), timing_cost(netlist, compiled.placement, P))


def test_the_placement_is_read_only_and_set_positions_refuses_what_no_cost_comes_from() -> None:
    """A write into ``placement`` left the delays stale (worst 0.6250 where timing_cost said
    0.9327, silently); set_positions took a NaN (a NaN worst path), code -1 (read as FW) and
    code 9 (an IndexError after it was written), where the proxy evaluator refuses them."""
    import copy

    netlist, placement = load_builtin()
    timing = IncrementalTiming(netlist, placement)
    with pytest.raises(ValueError, match="read-only"):
        timing.placement.x[netlist.hard_macros[0]] = 0.0
    before = timing.cost()
    h = netlist.hard_macros[:3]
    for bad in ({"x": np.nan}, {"orientation": -1}, {"orientation": 9}):
        x = bad.get("x", timing.placement.x[h])
        with pytest.raises(ValueError):
            timing.set_positions(h, x, timing.placement.y[h], bad.get("orientation"))
        assert _same(timing.cost(), before) and np.array_equal(timing.placement.x, placement.x)
        assert np.array_equal(timing.placement.orientation, placement.orientation)
    timing.set_positions(h, timing.placement.x[h] + 1.0, timing.placement.y[h])
    assert _same(timing.cost(), timing_cost(netlist, timing.placement))
    copied = copy.deepcopy(timing)  # a copy views its own arrays, read-only too
    assert not copied.placement.x.flags.writeable and copied.placement.x.base is not timing.placement.x.base
