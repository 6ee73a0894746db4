"""Timing proxy on hand-built graphs whose longest path is known."""

from __future__ import annotations

import numpy as np
import pytest

from netlists.model import Canvas
from placer.cost.timing import TimingParams, build_timing_graph, timing_cost

CANVAS = Canvas(10.0, 10.0, 5, 5, 1.0, 1.0, 0.0, 0.0, 0, 0.0)
P = TimingParams(wire_delay=1.0, soft_macro_delay=1.0)


def _chain(tiny_builder, extra_nets=()):  # type: ignore[no-untyped-def]
    return tiny_builder(
        ports=[("a", 0.0, 0.0), ("b", 3.0, 9.0), ("c", 5.0, 5.0)],
        soft=[("s1", 1, 1, 3.0, 0.0), ("s2", 1, 1, 3.0, 4.0)],
        nets=[("a", ["s1/P"], 1.0), ("s1/P", ["s2/P"], 1.0), ("s2/P", ["b"], 1.0), *extra_nets],
        canvas=CANVAS,
    )


def test_chain_through_two_soft_macros(tiny_builder) -> None:  # type: ignore[no-untyped-def]
    nl, pl = _chain(tiny_builder)
    r = timing_cost(nl, pl, P)
    # a->s1: 3 + 1, s1->s2: 4 + 1, s2->b: 5  => 14
    assert r.worst_delay == pytest.approx(14.0)
    assert r.worst == pytest.approx(14.0 / 20.0)
    assert r.n_endpoints == 1


def test_longest_of_parallel_paths_wins(tiny_builder) -> None:  # type: ignore[no-untyped-def]
    nl, pl = _chain(tiny_builder, extra_nets=[("a", ["b"], 1.0)])  # direct a->b: 12
    assert timing_cost(nl, pl, P).worst_delay == pytest.approx(14.0)


def test_soft_macros_on_a_cycle_are_path_ends_whatever_the_node_order(tiny_builder) -> None:  # type: ignore[no-untyped-def]
    """The cycle was cut by node index: listing s2 before s1 dropped the real a-s1-s2-b path
    (14 became 10), and on ariane133 half the soft-to-soft arcs went, the worst moving by up to
    40 % with the file's node order."""
    nl, pl = _chain(tiny_builder, extra_nets=[("s2/P", ["s1/P"], 1.0)])  # s2 -> s1 closes a loop
    g = build_timing_graph(nl)
    s1, s2 = nl.index("s1"), nl.index("s2")
    arcs = set(zip(g.src_node.tolist(), g.dst_node.tolist(), strict=True))
    assert {(s1, s2), (s2, s1)} <= arcs  # every arc kept: s1 and s2 end and start paths
    r = timing_cost(nl, pl, P)
    # a->s1: 3 + 1, s1->s2: 4 + 1, s2->s1: 4 + 1, s2->b: 5 (each a path of its own)
    assert r.worst_delay == pytest.approx(5.0) and r.n_endpoints == 3
    swapped, swapped_pl = tiny_builder(  # the same circuit, s2 listed first
        ports=[("a", 0.0, 0.0), ("b", 3.0, 9.0), ("c", 5.0, 5.0)],
        soft=[("s2", 1, 1, 3.0, 4.0), ("s1", 1, 1, 3.0, 0.0)],
        nets=[("a", ["s1/P"], 1.0), ("s1/P", ["s2/P"], 1.0), ("s2/P", ["b"], 1.0), ("s2/P", ["s1/P"], 1.0)],
        canvas=CANVAS,
    )
    assert timing_cost(swapped, swapped_pl, P) == r


def test_the_builtin_design_times_alike_in_any_node_order() -> None:
    from netlists.builder import NetlistBuilder
    from netlists.designs import load_builtin
    from netlists.model import Placement

    nl, pl = load_builtin()
    order = np.random.default_rng(0).permutation(nl.n_nodes)
    order = np.concatenate([order[nl.pin_macro[order] < 0], order[nl.pin_macro[order] >= 0]])  # macros first
    b = NetlistBuilder(nl.name)
    for i in order:
        m = nl.pin_macro[i]
        b.add_node(nl.names[i], int(nl.node_type[i]), width=float(nl.width[i]), height=float(nl.height[i]),
                   x=float(pl.x[i]), y=float(pl.y[i]), orientation=int(pl.orientation[i]),
                   macro_name=nl.names[m] if m >= 0 else None, dx=float(nl.pin_dx[i]), dy=float(nl.pin_dy[i]),
                   weight=float(nl.weight[i]), side=nl.side[i])
    position = {int(old): k for k, old in enumerate(order)}
    for k in range(nl.n_nets):
        pins = nl.net(k)
        b.add_net(position[int(pins[0])], [position[int(p)] for p in pins[1:]])
    shuffled = b.build(nl.canvas)
    moved = Placement(pl.x[order], pl.y[order], pl.orientation[order], pl.fixed[order])
    a, z = timing_cost(nl, pl), timing_cost(shuffled, moved)
    assert (a.worst_delay, a.n_endpoints) == (z.worst_delay, z.n_endpoints)
    assert a.tail == pytest.approx(z.tail, rel=1e-12)


def test_hard_macro_is_a_path_endpoint_and_start(tiny_builder) -> None:  # type: ignore[no-untyped-def]
    nl, pl = tiny_builder(
        ports=[("a", 0.0, 0.0), ("b", 10.0, 10.0)],
        hard=[("h", 2, 2, 5.0, 5.0, [(1.0, 0.0), (0.0, 1.0)])],
        nets=[("a", ["h/P0"], 1.0), ("h/P1", ["b"], 1.0)],
        canvas=CANVAS,
    )
    r = timing_cost(nl, pl, P)
    # a -> h/P0 at (6, 5): 11 ; h/P1 at (5, 6) -> b: 9; paths stop at the macro
    assert r.worst_delay == pytest.approx(11.0)
    assert r.n_endpoints == 2
    assert r.tail == pytest.approx(11.0 / 20.0)  # worst 10 % of 2 endpoints = the worst one


def test_soft_macro_delay_default_scales_with_canvas(tiny_builder) -> None:  # type: ignore[no-untyped-def]
    nl, pl = _chain(tiny_builder)
    r = timing_cost(nl, pl)  # default: 1 % of W + H = 0.2 per soft macro
    assert r.worst_delay == pytest.approx(3 + 4 + 5 + 2 * 0.2)


def test_an_arrival_that_overflows_stays_the_worst(tiny_builder) -> None:  # type: ignore[no-untyped-def]
    """Endpoints are picked by a mask, not by finiteness: an endpoint 1e308 away overflowed
    to inf and was dropped, so the timing looked better (or, with every endpoint dropped,
    raised IndexError)."""
    nl, pl = _chain(tiny_builder, extra_nets=[("a", ["c"], 1.0)])
    pl.x[nl.names.index("c")] = pl.y[nl.names.index("c")] = 1.7e308  # |dx| + |dy| overflows
    with np.errstate(over="ignore"):
        r = timing_cost(nl, pl, P)
    assert r.worst == np.inf and r.n_endpoints == 2
    pl.x[nl.names.index("s1")] = pl.y[nl.names.index("s1")] = (
        1.7e308  # every path passes it: every arrival is inf
    )
    with np.errstate(over="ignore", invalid="ignore"):
        assert timing_cost(nl, pl, P).worst_delay == np.inf


def test_a_node_driving_itself_is_no_path(tiny_builder) -> None:  # type: ignore[no-untyped-def]
    """A net listing its driver among its sinks (Circuit Training files do this for ports)."""
    nl, pl = _chain(tiny_builder, extra_nets=[("b", ["b"], 1.0)])
    assert timing_cost(nl, pl, P) == timing_cost(*_chain(tiny_builder), P)


@pytest.mark.parametrize(
    "bad", [dict(wire_delay=-1.0), dict(soft_macro_delay=-10.0), dict(wire_delay=float("nan"))]
)
def test_negative_or_nan_delays_are_refused(bad) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match="must be a finite number >= 0"):
        TimingParams(**bad)
    with pytest.raises(ValueError, match="must be a finite number >= 0"):
        TimingParams(wire_delay=True)
    assert TimingParams(np.float32(2.0), np.int64(1)).wire_delay == 2.0  # numpy numbers are numbers


def test_a_placement_no_cost_can_read_is_refused_like_evaluate() -> None:
    """Orientation -1 was read as the last table row, 9 an IndexError, a NaN a NaN result."""
    from netlists.generate import generate

    netlist, placement = generate(4, 8, 6, seed=2)
    macro = netlist.hard_macros[0]
    for change, message in ((("orientation", -1), "orientation code -1"), (("orientation", 9), "orientation code 9"),
                            (("x", float("nan")), "non-finite position")):
        bad = placement.copy()
        getattr(bad, change[0])[macro] = change[1]
        with pytest.raises(ValueError, match=message):
            timing_cost(netlist, bad)


def test_timing_cost_names_swapped_arguments_and_a_placement_of_another_length() -> None:
    """Given (placement, netlist), it said "'Placement' object has no attribute
    'require_canvas'", where evaluate and check_legality name what they expected."""
    import dataclasses

    from netlists.designs import load_builtin

    netlist, placement = load_builtin("ariane133")
    with pytest.raises(TypeError, match="expected a Netlist"):
        timing_cost(placement, netlist)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"placement.x has shape \(2,\)"):
        timing_cost(netlist, dataclasses.replace(placement, x=placement.x[:2]))
