"""The proxy cost against the reference values, a literal oracle, and each rule of the spec."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netlists.builder import NetlistBuilder
from netlists.io import load_design
from netlists.model import Canvas, NodeType, Placement
from placer.cost.congestion import route_nets
from placer.cost.proxy import evaluate

REL = 1e-9


def _close(a: float, b: float, rel: float = REL) -> bool:
    return abs(a - b) <= rel * max(abs(b), 1e-300)


# ----------------------------------------------------------------- reference suite
def _reference(benchmarks: Path) -> dict:
    return json.loads((benchmarks / "reference_costs.json").read_text())["benchmarks"]


@pytest.mark.slow  # (over 10 s: `pytest -m "not slow"` leaves it out)
def test_matches_reference_costs_on_every_shared_design(benchmarks_dir: Path) -> None:
    ref = _reference(benchmarks_dir)
    assert len(ref) >= 19
    for name, r in ref.items():
        nl, pl = load_design(benchmarks_dir / r["netlist"], benchmarks_dir / r["plc"])
        cost = evaluate(nl, pl)
        for key in ("wirelength", "density", "congestion", "proxy", "hpwl", "net_cnt"):
            got = cost.proxy if key == "proxy" else getattr(cost, key)
            assert _close(got, r[key]), f"{name} {key}: {got!r} != {r[key]!r}"


# ----------------------------------------------------------------- oracle, random designs
@st.composite
def random_design(draw):  # type: ignore[no-untyped-def]
    cols = draw(st.integers(1, 7))
    rows = draw(st.integers(1, 7))
    W = draw(st.sampled_from([10.0, 12.3, 7.0]))
    H = draw(st.sampled_from([10.0, 9.1, 7.0]))
    cw, ch = W / cols, H / rows
    # coordinates on half-cell lattices (hit grid lines exactly) or anywhere, some outside
    def coord(extent: float, step: float):  # type: ignore[no-untyped-def]
        return st.one_of(
            st.integers(-2, 2 * int(extent / step) + 4).map(lambda k: k * step / 2),
            st.floats(-0.2 * extent, 1.2 * extent, allow_nan=False),
        )

    b = NetlistBuilder("rand")
    n_hard = draw(st.integers(0, 4))
    n_soft = draw(st.integers(0, 3))
    n_ports = draw(st.integers(0, 3))
    pins: list[int] = []
    for k in range(n_ports):
        pins.append(b.add_node(f"p{k}", NodeType.PORT, x=draw(coord(W, cw)), y=draw(coord(H, ch))))
    for k in range(n_hard):
        w = draw(st.sampled_from([cw, cw / 2, 1.5 * cw, 2.3, 0.7]))
        h = draw(st.sampled_from([ch, ch / 2, 2 * ch, 1.9, 0.4]))
        b.add_node(f"h{k}", NodeType.HARD_MACRO, width=w, height=h, x=draw(coord(W, cw)), y=draw(coord(H, ch)),
                   orientation=draw(st.integers(0, 7)))
        for j in range(draw(st.integers(1, 3))):
            pins.append(b.add_node(f"h{k}/P{j}", NodeType.HARD_PIN, macro_name=f"h{k}",
                                   dx=draw(st.floats(-w / 2, w / 2)), dy=draw(st.floats(-h / 2, h / 2))))
    for k in range(n_soft):
        b.add_node(f"s{k}", NodeType.SOFT_MACRO, width=draw(st.floats(0.1, 3)), height=draw(st.floats(0.1, 3)),
                   x=draw(coord(W, cw)), y=draw(coord(H, ch)))
        pins.append(b.add_node(f"s{k}/P", NodeType.SOFT_PIN, macro_name=f"s{k}"))
    if len(pins) >= 2:
        for _ in range(draw(st.integers(1, 6))):
            driver = draw(st.sampled_from(pins))
            sinks = draw(st.lists(st.sampled_from(pins), min_size=1, max_size=6))
            b.weight[driver] = float(draw(st.sampled_from([0, 1, 1, 2, 5])))
            b.add_net(driver, sinks)
    canvas = Canvas(W, H, cols, rows, 11.0, 13.0, 3.0, 4.0, draw(st.integers(0, 3)), 0.0)
    nl = b.build(canvas)
    return nl, nl.initial_placement()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(design=random_design())
def test_vectorised_cost_equals_literal_oracle(design, oracle) -> None:  # type: ignore[no-untyped-def]
    nl, pl = design
    got = evaluate(nl, pl)
    want = oracle(nl, pl)
    for key in ("wirelength", "density", "congestion", "hpwl"):
        assert math.isclose(getattr(got, key), want[key], rel_tol=1e-9, abs_tol=1e-12), key


# ----------------------------------------------------------------- individual rules
CANVAS = Canvas(10.0, 10.0, 5, 5, 1.0, 1.0, 0.0, 0.0, 0, 0.0)


def test_pin_on_top_right_edge_falls_in_last_cell(tiny_builder) -> None:  # type: ignore[no-untyped-def]
    nl, pl = tiny_builder(ports=[("a", 10.0, 10.0), ("b", 9.0, 1.0)], nets=[("a", ["b"], 1.0)], canvas=CANVAS)
    maps = evaluate(nl, pl, with_maps=True).maps
    assert maps is not None
    # a is in cell (4, 4); b in (0, 4): a vertical route on column 4 over rows [0, 4)
    v = maps.vertical * (2.0 * 1.0)  # undo normalisation: cw * vr = 2
    assert np.allclose(v[:4, 4], 1.0) and v[4, 4] == 0 and v[:, :4].sum() == 0
    assert maps.horizontal.sum() == 0


def test_net_within_one_cell_adds_no_congestion(tiny_builder) -> None:  # type: ignore[no-untyped-def]
    # a soft macro drives (a port driver would weigh 1)
    nl, pl = tiny_builder(ports=[("b", 1.5, 1.9), ("c", 1.0, 0.1)], soft=[("a", 0.2, 0.2, 0.5, 0.5)],
                          nets=[("a/P", ["b", "c"], 3.0)], canvas=CANVAS)
    cost = evaluate(nl, pl, with_maps=True)
    assert cost.maps is not None and cost.maps.vertical.sum() == 0 and cost.maps.horizontal.sum() == 0
    assert cost.hpwl == pytest.approx(3.0 * (1.0 + 1.8))


def test_driver_listed_among_its_sinks_routes_once(tiny_builder) -> None:  # type: ignore[no-untyped-def]
    a = tiny_builder(ports=[("a", 1, 1), ("b", 9, 9)], nets=[("a", ["b"], 1.0)], canvas=CANVAS)
    b = tiny_builder(ports=[("a", 1, 1), ("b", 9, 9)], nets=[("a", ["a", "b", "a"], 1.0)], canvas=CANVAS)
    ca, cb = evaluate(*a, with_maps=True), evaluate(*b, with_maps=True)
    assert ca.congestion == cb.congestion and ca.hpwl == cb.hpwl


def test_a_port_driver_weighs_one_whatever_its_weight_attribute(tiny_builder) -> None:  # type: ignore[no-untyped-def]
    """PROXY_COST.md: a net weighs its driver's ``weight``, and ports weigh 1."""
    plain = tiny_builder(ports=[("a", 1, 1), ("b", 9, 1)], nets=[("a", ["b"], 1.0)], canvas=CANVAS)
    weighted = tiny_builder(ports=[("a", 1, 1), ("b", 9, 1)], nets=[("a", ["b"], 3.0)], canvas=CANVAS)
    assert weighted[0].weight[0] == 3.0  # kept on the node (written back to files) ...
    a, b = evaluate(*plain), evaluate(*weighted)
    assert (b.hpwl, b.net_cnt, b.congestion) == (a.hpwl, a.net_cnt, a.congestion) == (8.0, 1.0, a.congestion)


def test_zero_weight_net_routes_with_weight_one_but_adds_no_wirelength(tiny_builder) -> None:  # type: ignore[no-untyped-def]
    # soft macros drive (a port driver would weigh 1)
    nl, pl = tiny_builder(ports=[("b", 9, 1), ("d", 1, 5)], soft=[("a", 0.2, 0.2, 1, 1), ("c", 0.2, 0.2, 1, 9)],
                          nets=[("a/P", ["b"], 0.0), ("c/P", ["d"], 2.0)], canvas=CANVAS)
    cost = evaluate(nl, pl, with_maps=True)
    assert cost.net_cnt == 2.0 and cost.hpwl == pytest.approx(2.0 * 4.0)
    assert cost.maps is not None
    assert cost.maps.horizontal[0, :4].sum() * 2.0 == pytest.approx(4.0)  # weight 0 -> r = 1


def test_density_with_fewer_than_ten_cells_is_half_mean_of_nonzero(tiny_builder) -> None:  # type: ignore[no-untyped-def]
    canvas = Canvas(3.0, 3.0, 3, 3, 1.0, 1.0, 0.0, 0.0, 0, 0.0)
    nl, pl = tiny_builder(soft=[("m", 1.0, 1.0, 0.5, 0.5), ("n", 1.0, 0.5, 2.5, 2.5)], canvas=canvas)
    assert evaluate(nl, pl).density == pytest.approx(0.5 * (1.0 + 0.5) / 2)


def test_density_top_ten_percent_divides_by_k_even_when_fewer_nonzero(tiny_builder) -> None:  # type: ignore[no-untyped-def]
    canvas = Canvas(10.0, 10.0, 10, 10, 1.0, 1.0, 0.0, 0.0, 0, 0.0)  # k = 10
    nl, pl = tiny_builder(soft=[("m", 1.0, 1.0, 0.5, 0.5)], canvas=canvas)
    assert evaluate(nl, pl).density == pytest.approx(0.5 * 1.0 / 10)


def test_macro_outside_canvas_counts_nowhere(tiny_builder) -> None:  # type: ignore[no-untyped-def]
    half_out = tiny_builder(hard=[("h", 2.0, 2.0, 10.0, 5.0, [(0, 0)])], canvas=CANVAS)
    cost = evaluate(*half_out, with_maps=True)
    assert cost.maps is not None and cost.maps.density.sum() * 4.0 == pytest.approx(2.0)
    far = tiny_builder(hard=[("h", 2.0, 2.0, 50.0, 50.0, [(0, 0)])], canvas=CANVAS)
    cost = evaluate(*far, with_maps=True)
    assert cost.maps is not None and cost.maps.density.sum() == 0
    assert cost.maps.vertical.sum() == 0 and cost.maps.horizontal.sum() == 0


def test_a_macro_astronomically_far_out_lands_in_the_edge_cells_like_one_just_outside(tiny_builder) -> None:  # type: ignore[no-untyped-def]
    """Cells are clamped before the cast to integers: at 1e30 (past ~9e18 cells) the cast
    wrapped to the first cell, and the far macro's pin routed from the wrong corner."""
    from placer.cost.incremental import IncrementalEvaluator

    def design(x: float):  # type: ignore[no-untyped-def]
        return tiny_builder(ports=[("a", 1.0, 1.0)], hard=[("h", 2.0, 2.0, x, x, [(0, 0)])],
                            nets=[("a", ["h/P0"], 1.0)], canvas=CANVAS)

    near, far = evaluate(*design(1e3), with_maps=True), evaluate(*design(1e30), with_maps=True)
    assert near.maps is not None and far.maps is not None
    np.testing.assert_array_equal(far.maps.vertical, near.maps.vertical)
    np.testing.assert_array_equal(far.maps.horizontal, near.maps.horizontal)
    assert far.congestion == near.congestion and far.density == near.density
    nl, pl = design(5.0)
    ev = IncrementalEvaluator(nl, pl)
    with pytest.raises(ValueError, match="at most 1e\\+15"):  # propose refuses it, as the readers
        ev.move(int(nl.hard_macros[0]), 1e30, 1e30)
    far_away = np.array([1e30])  # the kernel the placers call unchecked still clamps
    mv = ev.propose_trusted(nl.hard_macros[:1].astype(np.int64), far_away, far_away, None)
    assert (mv.cost.congestion, mv.cost.density) == (far.congestion, far.density)


def test_every_orientation_turns_pin_offsets_as_specified(tiny_builder) -> None:  # type: ignore[no-untyped-def]
    expected = {0: (1, 2), 1: (-1, 2), 2: (-1, -2), 3: (1, -2), 4: (2, -1), 5: (-2, -1), 6: (-2, 1), 7: (2, 1)}
    nl, pl = tiny_builder(ports=[("a", 0.0, 0.0)], hard=[("h", 4.0, 4.0, 5.0, 5.0, [(1.0, 2.0)])],
                          nets=[("a", ["h/P0"], 1.0)], canvas=CANVAS)
    h = nl.index("h")
    for code, (ox, oy) in expected.items():
        pl.orientation[h] = code
        assert evaluate(nl, pl).hpwl == pytest.approx((5 + ox) + (5 + oy)), code


def _demand(rows_cols: list[tuple[int, int]], src: int = 0) -> tuple[np.ndarray, np.ndarray]:
    canvas = Canvas(5.0, 5.0, 5, 5, 1.0, 1.0, 0.0, 0.0, 0, 0.0)
    r = np.array([rc[0] for rc in rows_cols])
    c = np.array([rc[1] for rc in rows_cols])
    seg = route_nets(canvas, r, c, np.zeros(len(r), dtype=np.int64), 1, np.array([src]), np.array([1.0]))
    from placer.cost.congestion import integrate

    return integrate(*seg.difference_arrays(5, 5), 5, 5)


def _cells(grid: np.ndarray) -> set[tuple[int, int]]:
    return {(int(a), int(b)) for a, b in zip(*np.nonzero(grid), strict=True)}


def test_three_pin_case_1_staircase() -> None:
    v, h = _demand([(0, 0), (2, 2), (4, 4)])  # x1<x2<x3, y2 strictly between
    assert _cells(h) == {(0, 0), (0, 1), (2, 2), (2, 3)}
    assert _cells(v) == {(0, 2), (1, 2), (2, 4), (3, 4)}


def test_three_pin_case_2_two_cells_in_one_column_above() -> None:
    v, h = _demand([(0, 0), (2, 3), (4, 3)])
    assert _cells(h) == {(0, 0), (0, 1), (0, 2)}
    assert _cells(v) == {(0, 3), (1, 3), (2, 3), (3, 3)}


def test_three_pin_case_3_last_two_on_one_row() -> None:
    v, h = _demand([(3, 0), (1, 2), (1, 4)])
    assert _cells(h) == {(3, 0), (3, 1), (1, 2), (1, 3)}
    assert _cells(v) == {(1, 2), (2, 2)}


def test_three_pin_case_4_fallback_by_rows() -> None:
    v, h = _demand([(0, 2), (2, 0), (4, 4)])  # y2 not between, x2 != x3, y2 != y3
    # sorted by (row, col): (0,2), (2,0), (4,4): H on row 2 over [0, 4); V col 2 rows [0,2); V col 4 rows [2,4)
    assert _cells(h) == {(2, 0), (2, 1), (2, 2), (2, 3)}
    assert _cells(v) == {(0, 2), (1, 2), (2, 4), (3, 4)}


def test_more_than_three_cells_route_star_from_source() -> None:
    v, h = _demand([(2, 2), (0, 0), (4, 4), (0, 4)])
    assert h[2, 0] == 1 and h[2, 1] == 1 and h[2, 2] == 2 and h[2, 3] == 2
    assert v[0, 0] == 1 and v[1, 0] == 1 and v[2, 4] == 1 and v[3, 4] == 1 and v[0, 4] == 1


def test_macro_corner_on_grid_line_uses_floor_cell_and_corrections(tiny_builder, oracle) -> None:  # type: ignore[no-untyped-def]
    canvas = Canvas(10.0, 10.0, 5, 5, 1.0, 1.0, 3.0, 4.0, 1, 0.0)
    # corners exactly on grid lines at x = 2, 6 and y = 4, 8
    nl, pl = tiny_builder(hard=[("h", 4.0, 4.0, 4.0, 6.0, [(0, 0)])], canvas=canvas)
    got = evaluate(nl, pl)
    want = oracle(nl, pl)
    assert got.congestion == pytest.approx(want["congestion"], rel=1e-12)


def test_placement_defaults_come_from_netlist_when_plc_omits_nodes(tmp_path: Path, tiny_builder) -> None:  # type: ignore[no-untyped-def]
    nl, pl = tiny_builder(ports=[("a", 1, 1), ("b", 9, 9)], nets=[("a", ["b"], 1.0)], canvas=CANVAS)
    plc = tmp_path / "x.plc"
    plc.write_text(
        "# Columns : 5  Rows : 5\n# Width : 10  Height : 10\n# Routes per micron, hor : 1  ver : 1\n"
        "# Routes used by macros, hor : 0  ver : 0\n# Smoothing factor : 0\n0 3 3 - 0\n"
    )
    from netlists.formats.plc import read_plc

    _, placed, _ = read_plc(plc, nl)
    assert isinstance(placed, Placement)
    assert (placed.x[0], placed.x[1]) == (3.0, 9.0)


def test_a_smoothing_range_past_the_grid_costs_what_the_whole_grid_does() -> None:
    """Beyond the grid's size a wider range spreads over the same cells; it must neither change
    the cost nor take time in proportion to the range (10**9 used to loop 2 * 10**9 times)."""
    from netlists.generate import generate

    nl, pl = generate(6, 20, 8, seed=3)
    c = nl.require_canvas()
    whole = max(c.cols, c.rows)
    costs = [evaluate(nl.with_canvas(c.replace(smooth_range=s)), pl).congestion for s in (whole, whole + 1, 10**9)]
    assert costs[0] == costs[1] == costs[2]
    assert costs[0] != evaluate(nl.with_canvas(c.replace(smooth_range=1)), pl).congestion


def test_placements_no_cost_can_be_computed_from_are_refused(tiny_builder) -> None:  # type: ignore[no-untyped-def]
    from placer.cost.incremental import IncrementalEvaluator

    nl, p = tiny_builder(ports=[("a", 0.0, 0.0)], hard=[("h", 4.0, 4.0, 5.0, 5.0, [(1.0, 2.0)])],
                         nets=[("a", ["h/P0"], 1.0)], canvas=CANVAS)
    h = int(nl.hard_macros[0])
    bad_nan = p.copy()
    bad_nan.x[h] = np.nan
    bad_inf_y = p.copy()  # (a check of x alone passed every test)
    bad_inf_y.y[h] = np.inf
    bad_orient = p.copy()
    bad_orient.orientation[h] = 9
    short = Placement(p.x[:-1], p.y[:-1], p.orientation[:-1], p.fixed[:-1])
    for bad, match in ((bad_nan, "non-finite position"), (bad_inf_y, "non-finite position"), (bad_orient, "orientation code 9"),
                       (short, r"placement.x has shape \(2,\), but the 3 nodes")):
        with pytest.raises(ValueError, match=match):
            evaluate(nl, bad)
        with pytest.raises(ValueError, match=match):
            IncrementalEvaluator(nl, bad)


def test_a_canvas_no_cost_can_be_computed_on_is_refused(tiny_builder) -> None:  # type: ignore[no-untyped-def]
    import dataclasses

    nl, p = tiny_builder(ports=[("a", 1.0, 1.0), ("b", 9.0, 1.0)], nets=[("a", ["b"], 1.0)],
                         canvas=CANVAS)
    for change, match in (({"vroutes_per_micron": 0.0}, "routes per micron"),
                          ({"width": -5.0}, "positive size of at most"), ({"cols": 0}, "grid")):
        broken = nl.with_canvas(dataclasses.replace(nl.require_canvas(), **change))
        with pytest.raises(ValueError, match=match):
            evaluate(broken, p)


def test_a_cell_that_gets_no_blockage_is_partial_only_above_the_tolerance() -> None:
    """PROXY_COST.md: a visited cell that gets nothing counts as dx = dy = 0, and a correction
    fires only on |dy - ch| > 1e-5 (|dx - cw|): on cells of 1e-5 or less it never fires. Such
    a cell was always taken as partial, and the top row's blockage subtracted (congestion 0.225
    instead of 0.3). Here the macro's right edge lies on a grid line: column 2 is visited but
    gets nothing."""
    from netlists.builder import NetlistBuilder
    from netlists.model import Canvas, NodeType
    from placer.cost.incremental import IncrementalEvaluator

    u = 2.0**-18  # a cell's side, exact in binary
    canvas = Canvas(width=8 * u, height=8 * u, cols=8, rows=8, hroutes_per_micron=1e6,
                    vroutes_per_micron=1e6, hrouting_alloc=3e5, vrouting_alloc=5e5, smooth_range=0)
    builder = NetlistBuilder("tiny")
    builder.add_node("m", NodeType.HARD_MACRO, width=1.5 * u, height=1.0 * u, x=1.25 * u, y=1.0 * u)
    netlist = builder.build(canvas)
    placement = netlist.initial_placement()
    cost = evaluate(netlist, placement, with_maps=True)
    assert np.allclose(cost.maps.vertical[:2, :2], [[0.25, 0.5], [0.25, 0.5]])  # row 1 kept
    assert cost.congestion == pytest.approx(0.3, rel=1e-12)
    moved = placement.copy()
    moved.x[0], moved.y[0] = 4.25 * u, 4.0 * u
    ev = IncrementalEvaluator(netlist, moved)  # the kernel's form, moved back onto the case
    ev.commit(ev.move(0, 1.25 * u, 1.0 * u))
    assert ev.cost.congestion == pytest.approx(0.3, rel=1e-12)


def test_a_small_net_far_from_the_origin_keeps_its_digits() -> None:
    """HPWL is (max x - min x) + (max y - min y) as the spec groups it: adding max y before
    taking min y off lost 6e-8 of a 1e-7 net at y = 90 (and disagreed with the incremental
    kernel's grouping)."""
    from placer.cost.wirelength import net_hpwl

    x, y = np.array([0.1, 0.1 + 1e-7]), np.array([90.0, 90.0])
    assert net_hpwl(x, y, np.array([0]))[0] == (0.1 + 1e-7) - 0.1


def test_arguments_swapped_or_a_path_for_the_netlist_are_refused_by_name(tiny_builder) -> None:  # type: ignore[no-untyped-def]
    """evaluate(placement, netlist) raised "unhashable type", a path "cannot create weak reference"."""
    nl, p = tiny_builder(ports=[("a", 0.0, 0.0)], hard=[("h", 4.0, 4.0, 5.0, 5.0, [(1.0, 2.0)])],
                         nets=[("a", ["h/P0"], 1.0)], canvas=CANVAS)
    with pytest.raises(TypeError, match="expected a Netlist .* got a Placement"):
        evaluate(p, nl)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="expected a Netlist .* got a str"):
        evaluate("netlist.pb.txt", p)  # type: ignore[arg-type]
    column = p.copy()
    column.x = column.x[:, None]
    with pytest.raises(ValueError, match=r"placement.x has shape \(3, 1\).*one-dimensional"):
        evaluate(nl, column)


@pytest.mark.parametrize("gap", [1e-4, 1e-6])
def test_a_macro_edge_just_inside_a_row_is_partial_only_past_the_tolerance(oracle, gap: float) -> None:  # type: ignore[no-untyped-def]
    """PROXY_COST.md's 1e-5: a top edge 1e-4 inside a row boundary leaves that row partial (its
    blockage taken off again), 1e-6 inside counts as reaching it. A tolerance of 1e-3 passed
    every test before this one."""
    from netlists.builder import NetlistBuilder
    from netlists.model import Canvas, NodeType

    def design(height: float):  # type: ignore[no-untyped-def]
        canvas = Canvas(10.0, 10.0, 10, 10, 1.0, 1.0, 0.5, 0.5, 0, 0.0)
        builder = NetlistBuilder("edge")  # bottom edge on the row boundary y = 4
        builder.add_node("m", NodeType.HARD_MACRO, width=1.5, height=height, x=5.0, y=4.0 + height / 2)
        netlist = builder.build(canvas)
        return netlist, netlist.initial_placement()

    netlist, placement = design(2.0 - gap)
    ours = evaluate(netlist, placement).congestion
    assert ours == pytest.approx(oracle(netlist, placement)["congestion"], rel=1e-12, abs=1e-15)
    reaching = evaluate(*design(2.0)).congestion  # the top edge on the boundary y = 6
    assert (abs(ours - reaching) < 1e-4 * reaching) == (gap < 1e-5), (ours, reaching)


def test_costs_with_maps_compare_by_value_and_show_the_proxy() -> None:
    """``==`` on two costs with maps raised numpy's "truth value of an array is ambiguous", and
    the repr left out the proxy itself."""
    from netlists.designs import load_builtin

    netlist, placement = load_builtin()
    a, b = evaluate(netlist, placement, with_maps=True), evaluate(netlist, placement, with_maps=True)
    assert a == b and a.maps == b.maps and a.maps is not b.maps
    plain = evaluate(netlist, placement)
    assert plain == evaluate(netlist, placement) and a != plain  # (with maps and without differ)
    moved = placement.copy()
    moved.x[netlist.hard_macros[0]] += 1.0
    assert evaluate(netlist, moved, with_maps=True) != a
    rows, cols = a.maps.density.shape
    assert repr(a).startswith(f"ProxyCost(proxy={a.proxy!r}, wirelength={a.wirelength!r}, ")
    assert repr(a).endswith(f"maps=CostMaps({rows} rows x {cols} cols))") and "array" not in repr(a)
