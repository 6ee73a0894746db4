"""Legaliser: legal output, minimal displacement of the already-legal, fixed nodes kept."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netlists.designs import load_builtin
from netlists.generate import generate
from placer.algorithms.legalize import _hits, _nearest_legal, check_legality, legalize


def test_legal_placement_is_left_unchanged() -> None:
    nl, pl = generate(8, 10, 6, seed=3)
    assert check_legality(nl, pl).legal
    out = legalize(nl, pl)
    assert np.array_equal(out.x, pl.x) and np.array_equal(out.y, pl.y)


def _random_pile(seed: int):  # type: ignore[no-untyped-def]
    """A design whose hard macros cover about half the canvas, every macro piled in the middle."""
    nl, pl = generate(12, 8, 4, seed=seed % 7)
    rng = np.random.default_rng(seed)
    c = nl.canvas
    m = nl.macros
    pl.x[m] = rng.uniform(-0.2, 1.2, m.size) * c.width / 2 + c.width / 4
    pl.y[m] = rng.uniform(-0.2, 1.2, m.size) * c.height / 2 + c.height / 4
    return nl, pl


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000))
def test_random_pile_becomes_legal(seed: int) -> None:
    nl, pl = _random_pile(seed)
    out = legalize(nl, pl)
    rep = check_legality(nl, out, pl)
    assert rep.legal, rep
    assert not np.shares_memory(out.x, pl.x)


@pytest.mark.parametrize("seed", [5489, 3238])
def test_a_pile_the_largest_first_greedy_fragments_is_still_legalised(seed: int) -> None:
    # the largest-first pass leaves no room for a later macro on these piles (hard macros
    # about 48% of the canvas); 5489 is rescued by the x sweep, 3238 only by corner packing
    nl, pl = _random_pile(seed)
    out = legalize(nl, pl)
    assert check_legality(nl, out, pl).legal


def test_hard_macros_larger_than_the_canvas_are_a_clear_error() -> None:
    nl, pl = generate(6, 2, 2, seed=0)
    c = nl.require_canvas()
    h = nl.hard_macros
    scale = 1.01 * max((nl.width[h] / c.width).max(), (nl.height[h] / c.height).max())
    small = nl.with_canvas(c.replace(width=scale * c.width, height=scale * c.height))
    share = (nl.width[h] * nl.height[h]).sum() / (scale**2 * c.width * c.height)
    assert share > 1.0  # each macro fits the smaller canvas on its own, all together do not
    with pytest.raises(ValueError, match=rf"the hard macros cover {share:.0%} of the canvas: no legal placement fits"):
        legalize(small, pl)


def test_fixed_macros_stay_and_others_move_around_them() -> None:
    nl, pl = generate(6, 4, 4, seed=1)
    h = nl.hard_macros
    pl.fixed[h[0]] = True
    pl.x[h[1:]] = pl.x[h[0]]  # everyone on top of the fixed macro
    pl.y[h[1:]] = pl.y[h[0]]
    out = legalize(nl, pl)
    assert (out.x[h[0]], out.y[h[0]]) == (pl.x[h[0]], pl.y[h[0]])
    assert check_legality(nl, out, pl).legal


def test_builtin_design_macros_outside_canvas_are_brought_in() -> None:
    nl, pl = load_builtin()
    assert check_legality(nl, pl).outside_macros > 0
    out = legalize(nl, pl)
    assert check_legality(nl, out, pl).legal


def test_overlapping_fixed_macros_is_an_error_naming_both() -> None:
    """It named one of the two ('overlaps another fixed macro'): hard to act on in a big design."""
    nl, pl = generate(3, 2, 2, seed=0)
    h = nl.hard_macros
    pl.fixed[h] = True
    pl.x[h] = nl.canvas.width / 2  # (inside the canvas: one sticking out is refused before)
    pl.y[h] = nl.canvas.height / 2
    with pytest.raises(ValueError, match=r"fixed hard macro '(a\d)' overlaps the fixed macro '(a\d)'") as caught:
        legalize(nl, pl)
    first, second = re.findall(r"'(a\d)'", str(caught.value))
    assert first != second


def _nearest_legal_brute_force(x0, y0, w, h, xl, xh, yl, yh, W, H, gap_x, gap_y, tol_x, tol_y):  # type: ignore[no-untyped-def]
    """Every abutting candidate against every placed box, nearest first (the reference)."""
    lo_x, hi_x, lo_y, hi_y = w / 2, W - w / 2, h / 2, H - h / 2
    xs = np.unique(
        np.clip(np.concatenate([[x0, lo_x, hi_x], xl - w / 2 - gap_x, xh + w / 2 + gap_x]), lo_x, hi_x)
    )
    ys = np.unique(
        np.clip(np.concatenate([[y0, lo_y, hi_y], yl - h / 2 - gap_y, yh + h / 2 + gap_y]), lo_y, hi_y)
    )
    cost = (np.abs(xs - x0)[:, None] + np.abs(ys - y0)[None, :]).ravel()
    order = np.argsort(cost, kind="stable")
    cx, cy = xs[order // ys.size], ys[order % ys.size]
    ok = ~_hits(cx, cy, w, h, xl, xh, yl, yh, tol_x, tol_y)
    if not ok.any():
        return None
    k = int(np.argmax(ok))
    return float(cx[k]), float(cy[k])


@pytest.mark.parametrize("seed", range(6))
def test_windowed_nearest_legal_matches_the_exhaustive_search(seed: int) -> None:
    rng = np.random.default_rng(seed)
    W, H, n = 100.0, 80.0, 40
    # a dense random pile of boxes (overlapping each other is fine: they are obstacles)
    cx, cy = rng.uniform(0, W, n), rng.uniform(0, H, n)
    bw, bh = rng.uniform(2, 12, n), rng.uniform(2, 12, n)
    xl, xh, yl, yh = cx - bw / 2, cx + bw / 2, cy - bh / 2, cy + bh / 2
    for _ in range(20):
        w, h = rng.uniform(1, 15), rng.uniform(1, 15)
        x0, y0 = rng.uniform(w / 2, W - w / 2), rng.uniform(h / 2, H - h / 2)
        args = (x0, y0, w, h, xl, xh, yl, yh, W, H, 1e-6, 1e-6 * H / W, 1e-9, 1e-9 * H / W)
        assert _nearest_legal(*args) == _nearest_legal_brute_force(*args)


@pytest.mark.parametrize("seed", range(12))
def test_nearest_legal_matches_the_exhaustive_search_on_a_lattice(seed: int) -> None:
    """Boxes and wanted centres on a quarter-unit lattice: edges coincide exactly, so candidate
    rows sit right at the ends of the row intervals a box blocks (where the search's skips
    over blocked rows must stop), and many candidates tie."""
    rng = np.random.default_rng(100 + seed)
    W, H, n = 40.0, 30.0, int(rng.integers(5, 60))
    cx, cy = rng.integers(0, 160, n) / 4, rng.integers(0, 120, n) / 4
    bw, bh = rng.integers(1, 24, n) / 4, rng.integers(1, 24, n) / 4
    xl, xh, yl, yh = cx - bw / 2, cx + bw / 2, cy - bh / 2, cy + bh / 2
    for _ in range(25):
        w, h = rng.integers(1, 30) / 4, rng.integers(1, 30) / 4
        x0 = rng.integers(int(w * 2), int((W - w / 2) * 4) + 1) / 4
        y0 = rng.integers(int(h * 2), int((H - h / 2) * 4) + 1) / 4
        gap = float(rng.choice([0.0, 1e-6]))
        args = (x0, y0, w, h, xl, xh, yl, yh, W, H, gap, gap * H / W, 1e-9, 1e-9 * H / W)
        assert _nearest_legal(*args) == _nearest_legal_brute_force(*args)


def test_one_macro_wider_than_the_canvas_is_a_clear_error() -> None:
    """Its area fits, its width does not: it used to be clamped to the centre and returned
    sticking out of the canvas as if legal."""
    nl, pl = generate(3, 2, 2, seed=0)
    c = nl.require_canvas()
    wide = nl.hard_macros[0]
    width = nl.width.copy()
    width[wide] = 1.5 * c.width
    import dataclasses

    nl = dataclasses.replace(nl, width=width, height=np.where(np.arange(nl.n_nodes) == wide, 0.01 * c.height, nl.height))
    with pytest.raises(ValueError, match=rf"hard macro {nl.names[wide]} .* is larger than the canvas"):
        legalize(nl, pl)


def test_a_non_finite_position_is_refused() -> None:
    nl, pl = generate(4, 6, 2, seed=0)
    bad = pl.copy()
    bad.y[nl.soft_macros[0]] = np.inf
    with pytest.raises(ValueError, match=r"positions must be finite \(1 node\(s\) are not\)"):
        legalize(nl, bad)


def test_a_macro_as_wide_as_the_canvas_up_to_rounding_is_accepted() -> None:
    """check_legality tolerates 1e-9 of the canvas; the size check must not be stricter (a
    canvas width from row arithmetic, 0.19999999999999998, is as wide as a 0.2 macro)."""
    import dataclasses

    nl, pl = generate(3, 2, 2, seed=0)
    c = nl.require_canvas()
    wide = nl.hard_macros[0]
    width = nl.width.copy()
    width[wide] = c.width * (1 + 1e-12)
    height = np.where(np.arange(nl.n_nodes) == wide, 0.01 * c.height, nl.height)
    nl = dataclasses.replace(nl, width=width, height=height)
    out = legalize(nl, pl)
    assert check_legality(nl, out).outside_macros == 0


def test_integer_positions_and_flags_are_legalised_as_numbers() -> None:
    """Integer x/y cut every legalised position to whole microns (overlaps left), and 0/1
    integer fixed flags indexed nodes 0 and 1 instead of masking."""
    from netlists.model import Placement

    netlist, placement = generate(6, 10, 4, seed=6)
    hard = netlist.hard_macros
    stacked = Placement(np.round(placement.x).astype(np.int64), np.round(placement.y).astype(np.int64),
                        placement.orientation.copy(), placement.fixed.astype(np.int64))
    stacked.x[hard] = int(netlist.canvas.width // 2)
    stacked.y[hard] = int(netlist.canvas.height // 2)
    out = legalize(netlist, stacked)
    assert out.x.dtype == np.float64 and out.fixed.dtype == bool
    assert check_legality(netlist, out).legal


def test_a_fixed_macro_outside_the_canvas_or_a_soft_macro_wider_than_it_is_an_error() -> None:
    """Both gave output that check_legality called illegal, without a word."""
    from netlists.builder import NetlistBuilder
    from netlists.model import Canvas, NodeType

    netlist, placement = generate(6, 10, 4, seed=6)
    placement.x[netlist.hard_macros[0]] = -5.0
    placement.fixed[netlist.hard_macros[0]] = True
    with pytest.raises(ValueError, match=r"fixed macro .* centred at \(-5, [0-9.]+\)\) sticks out of the canvas \(0\.\.[0-9.]+ x 0\.\.[0-9.]+\)"):
        legalize(netlist, placement)  # (where it is and where the canvas is: the message said neither)
    builder = NetlistBuilder("wide_soft")
    builder.add_node("p", NodeType.PORT, x=0.0, y=20.0)
    builder.add_node("h", NodeType.HARD_MACRO, width=5.0, height=5.0, x=10.0, y=10.0)
    builder.add_node("s", NodeType.SOFT_MACRO, width=60.0, height=10.0, x=20.0, y=20.0)
    wide = builder.build(Canvas(width=40.0, height=40.0, cols=4, rows=4))
    with pytest.raises(ValueError, match="soft macro s .* is larger than the canvas"):
        legalize(wide, wide.initial_placement())


def test_macros_that_fill_the_canvas_in_one_direction_are_legalised() -> None:
    """Four rows of a quarter of the canvas height: the 1e-8 safety gaps between abutting
    macros added up past the canvas and every strategy failed with "no legal position left",
    though an exact tiling is legal."""
    import dataclasses

    netlist, placement = generate(16, 0, 4, seed=0, utilisation=0.3)
    c, hard = netlist.require_canvas(), netlist.hard_macros
    width, height = netlist.width.copy(), netlist.height.copy()
    width[hard], height[hard] = 0.95 * c.width / 4, c.height / 4
    netlist = dataclasses.replace(netlist, width=width, height=height)
    piled = placement.copy()
    piled.x[hard], piled.y[hard] = c.width / 2, c.height / 2
    legal = legalize(netlist, piled)
    report = check_legality(netlist, legal)
    assert report.overlapping_pairs == 0 and report.outside_macros == 0


def test_a_placement_of_another_shape_or_design_is_refused_by_name() -> None:
    """check_legality read a placement one entry short as legal and another design's as a
    report of nothing; legalize returned a placement of the wrong length; an (n, 1) column
    raised numpy's IndexError."""
    netlist, placement = generate(4, 8, 4, seed=0)
    other = generate(5, 8, 4, seed=1)[1]
    short = placement.copy()
    short.x = short.x[:-1]
    column = placement.copy()
    column.y = column.y[:, None]
    n = netlist.n_nodes
    for bad, match in ((short, rf"placement.x has shape \({n - 1},\).*another design"),
                       (other, "another design"), (column, r"placement.y has shape .*one-dimensional")):
        with pytest.raises(ValueError, match=match):
            check_legality(netlist, bad)
        with pytest.raises(ValueError, match=match):
            legalize(netlist, bad)
    with pytest.raises(ValueError, match=r"reference.x has shape"):
        check_legality(netlist, placement, reference=other)
    with pytest.raises(TypeError, match="expected a Netlist .* got a str"):
        check_legality("netlist.pb.txt", placement)  # type: ignore[arg-type]
    listed = placement.copy()
    listed.x = list(listed.x)
    assert len(legalize(netlist, listed).x) == n  # lists are arrays to legalize, as to the methods


def test_the_legality_checks_are_still_importable_from_legalize() -> None:
    """They moved to the numba-free placer.algorithms.legality; plugins import them from here."""
    import placer.algorithms.legality as legality
    import placer.algorithms.legalize as legalize_module

    for name in ("OVERLAP_TOL", "LegalityReport", "check_finite_positions", "check_legality", "check_placeable",
                 "hard_overlap", "outside_canvas", "overlapping_hard_macros"):
        assert getattr(legalize_module, name) is getattr(legality, name)


def test_hard_area_share_is_the_hard_macros_area_over_the_canvas_area() -> None:
    """Soft macros and ports do not count; the share is what the 'cannot fit' messages quote."""
    from placer.algorithms.legality import hard_area_share

    netlist, _ = load_builtin("ariane133")
    c = netlist.require_canvas()
    h = netlist.hard_macros
    expected = sum(float(netlist.width[i] * netlist.height[i]) for i in h) / (c.width * c.height)
    assert hard_area_share(netlist) == pytest.approx(expected, rel=1e-12)
    assert 0 < hard_area_share(netlist) < 1


def test_both_macros_of_an_overlapping_pair_are_named() -> None:
    """Only the first macro of each pair was found with the column test removed: the legaliser
    and the plot's overlap marks take this list, so the second would be neither moved nor marked."""
    from placer.algorithms.legality import overlapping_hard_macros

    nl, pl = generate(8, 10, 6, seed=3)
    assert check_legality(nl, pl).legal
    h = nl.hard_macros
    area = nl.width[h] * nl.height[h]
    a, b = int(h[np.argmax(area)]), int(h[np.argmin(area)])
    assert nl.width[b] <= nl.width[a] and nl.height[b] <= nl.height[a]
    moved = pl.copy()
    moved.x[b], moved.y[b] = pl.x[a], pl.y[a]  # b inside a: they overlap, and nothing else does
    assert set(overlapping_hard_macros(nl, moved).tolist()) == {a, b}


def test_macros_stacked_on_a_long_thin_canvas_are_pulled_apart(tall_design, per_axis_problems) -> None:  # type: ignore[no-untyped-def]
    """On 10 x 1e10 the tolerance was 10 microns in x too: six 4-wide macros stacked in one
    spot read as overlapping nothing and were left there."""
    netlist, placement = tall_design
    assert per_axis_problems(netlist, placement)[0]  # (stacked: the test is not vacuous)
    out = legalize(netlist, placement)
    assert per_axis_problems(netlist, out) == ([], [])
    assert check_legality(netlist, out).legal


def _stacked(n_hard: int, seed: int = 0):  # type: ignore[no-untyped-def]
    """A generated design with every hard macro at the canvas centre (a common 'unplaced' start)."""
    nl, pl = generate(n_hard, 4, 4, seed=seed)
    c = nl.require_canvas()
    pl.x[nl.hard_macros], pl.y[nl.hard_macros] = c.width / 2, c.height / 2
    return nl, pl


def test_a_pile_past_the_time_limit_is_packed_in_rows_with_a_note() -> None:
    """Piled macros took the greedy seconds (25 s at 2,000), whatever a caller's budget: past
    ``time_limit_s`` (here at once) they are packed in rows, legal, and a note says so."""
    nl, pl = _stacked(300)
    h = nl.hard_macros
    pl.fixed[h[0]] = True  # the rows step past it
    notes: list[str] = []
    out = legalize(nl, pl, time_limit_s=0.0, notes=notes)
    assert check_legality(nl, out, pl).legal
    assert (out.x[h[0]], out.y[h[0]]) == (pl.x[h[0]], pl.y[h[0]])
    assert len(notes) == 1 and "the 299 movable hard macros were packed in rows" in notes[0]
    # packed or not near the limit depends on the machine's speed: said, as budget cuts say it
    assert "the run is not reproducible" in notes[0]
    quiet: list[str] = []  # a legal placement is no work: no note, however short the limit
    assert np.array_equal(legalize(nl, out, time_limit_s=0.0, notes=quiet).x, out.x) and not quiet


def test_the_same_legalisation_again_is_remembered(monkeypatch: pytest.MonkeyPatch) -> None:
    """``placer place`` legalised the start again for its closing note after the method had: a
    pile of macros cost the run twice. The same inputs give the result again, a copy; changed
    inputs are legalised anew."""
    import placer.algorithms.legalize as legalize_module

    calls = []
    real = legalize_module._legalize
    monkeypatch.setattr(legalize_module, "_legalize", lambda *a: calls.append(1) or real(*a))
    nl, pl = _stacked(20, seed=2)
    first = legalize(nl, pl)
    again = legalize(nl, pl.copy())
    assert len(calls) == 1 and again is not first
    assert np.array_equal(first.x, again.x) and np.array_equal(first.y, again.y)
    again.x[:] = 0.0  # the remembered one is not the caller's
    assert np.array_equal(legalize(nl, pl).x, first.x) and len(calls) == 1
    moved = pl.copy()
    moved.x[nl.hard_macros[0]] += 1.0
    legalize(nl, moved)
    legalize(nl, pl, reference=moved)
    assert len(calls) == 3
    # a packed result is no answer to a call without a limit, nor to one with a longer limit
    # (a result packed under 0.5 s was given to a call that had minutes)
    nl2, pl2 = _stacked(30, seed=3)
    notes: list[str] = []
    legalize(nl2, pl2, time_limit_s=0.0, notes=notes)
    legalize(nl2, pl2, time_limit_s=0.0, notes=notes)
    assert len(calls) == 4 and len(notes) == 2  # remembered, its note given again
    greedy = legalize(nl2, pl2, time_limit_s=60.0, notes=notes)
    assert len(calls) == 5 and len(notes) == 2  # the greedy, to its end: no note
    assert np.array_equal(legalize(nl2, pl2).x, greedy.x) and len(calls) == 5  # (it answers any call)
    legalize_module.clear_legalize_memory()
    legalize(nl2, pl2, time_limit_s=0.0)
    legalize(nl2, pl2)
    assert len(calls) == 7


def test_the_memory_checks_the_inputs_first_and_forgets_netlists_gone() -> None:
    """A placement of the wrong shape whose bytes matched a remembered one got the remembered
    result instead of the error; and entries of netlists gone stayed until pushed out."""
    import gc

    import placer.algorithms.legalize as legalize_module

    nl, pl = _stacked(20, seed=4)
    legalize(nl, pl)
    column = pl.copy()
    column.x = column.x.reshape(-1, 1)  # the same bytes, a column
    with pytest.raises(ValueError, match="one-dimensional arrays"):
        legalize(nl, column)
    with pytest.raises(ValueError, match="one-dimensional arrays"):
        legalize(nl, pl, reference=column)
    gone, pl_gone = _stacked(10, seed=5)
    legalize(gone, pl_gone)
    del gone
    gc.collect()
    legalize(nl, pl)
    assert all(owner() is not None for _, owner, *_ in legalize_module._recent)


def _under_a_wide_pinned_macro(height_share: float):  # type: ignore[no-untyped-def]
    """19 movable hard macros of a tenth of the canvas's width over a pinned one nearly as wide
    as the canvas in its lower-left corner: a row beside it has no room."""
    import dataclasses

    nl, pl = generate(20, 4, 4, seed=0)
    c, h = nl.require_canvas(), nl.hard_macros
    w, hh = nl.width.copy(), nl.height.copy()
    w[h], hh[h] = 0.1 * c.width, 0.05 * c.height
    w[h[0]], hh[h[0]] = 0.95 * c.width, height_share * c.height
    nl = dataclasses.replace(nl, width=w, height=hh)
    pl.fixed[h[0]] = True
    pl.x[h[0]], pl.y[h[0]] = w[h[0]] / 2, hh[h[0]] / 2
    pl.x[h[1:]], pl.y[h[1:]] = c.width * 0.5, c.height * 0.9
    return nl, pl


def _gaps_from_pinned_kept(nl, out, pinned: np.ndarray) -> bool:  # type: ignore[no-untyped-def]
    """Whether every other hard macro is at least the legaliser's gap (less rounding) from the
    ``pinned`` ones, in x or in y."""
    from placer.algorithms.legality import axis_tolerances
    from placer.algorithms.legalize import GAP

    gap_x, gap_y = axis_tolerances(nl.require_canvas(), GAP)
    others = np.setdiff1d(nl.hard_macros, pinned)
    half_w, half_h = nl.width / 2, nl.height / 2
    for p in pinned:
        apart_x = np.abs(out.x[others] - out.x[p]) - half_w[others] - half_w[p]
        apart_y = np.abs(out.y[others] - out.y[p]) - half_h[others] - half_h[p]
        if np.any((apart_x < 0.99 * gap_x) & (apart_y < 0.99 * gap_y)):
            return False
    return True


def test_rows_blocked_by_a_pinned_macro_start_above_it_at_once() -> None:
    """A row whose first macro found no room beside a pinned macro started the next one a gap
    higher (a row of height 0): packing under a pinned macro 0.1 of the canvas high took 85 s.
    The rows now start above it, fast, legal, the gap from it kept."""
    import time

    import placer.algorithms.legalize as legalize_module

    for height_share in (0.4, 0.1):
        nl, pl = _under_a_wide_pinned_macro(height_share)
        legalize_module.clear_legalize_memory()
        notes: list[str] = []
        began = time.perf_counter()
        out = legalize(nl, pl, time_limit_s=0.0, notes=notes)
        assert time.perf_counter() - began < 5.0
        assert len(notes) == 1 and "packed in rows" in notes[0]
        assert check_legality(nl, out, pl).legal
        pinned = nl.hard_macros[:1]
        assert _gaps_from_pinned_kept(nl, out, pinned)
        assert np.all(out.y[nl.hard_macros[1:]] > height_share * nl.require_canvas().height)


def test_packed_rows_keep_the_gap_from_a_pinned_macro() -> None:
    """The rows tested pinned macros for overlap beyond the tolerance only: a macro under a
    pinned one a fraction of the tolerance above the row kept no gap from it (the greedy keeps
    one, so a placement stays legal after a round trip through text)."""
    import dataclasses

    from placer.algorithms.legality import axis_tolerances
    from placer.algorithms.legalize import _shelf_pack

    nl, pl = generate(20, 4, 4, seed=0)
    c, h = nl.require_canvas(), nl.hard_macros
    w, hh = nl.width.copy(), nl.height.copy()
    w[h], hh[h] = 0.1 * c.width, 0.05 * c.height
    nl = dataclasses.replace(nl, width=w, height=hh)
    _, tol_y = axis_tolerances(c)
    pl.fixed[h[0]] = True  # its bottom half a tolerance above the first row's top
    pl.x[h[0]], pl.y[h[0]] = 0.5 * c.width, 0.05 * c.height + 0.5 * tol_y + 0.025 * c.height
    out = pl.copy()
    assert _shelf_pack(nl, out, h[:1], h[1:])
    assert check_legality(nl, out, pl).legal
    assert _gaps_from_pinned_kept(nl, out, h[:1])


def test_without_the_last_resort_the_time_limit_raises_instead_of_packing() -> None:
    """``last_resort=False`` leaves out packing (it keeps nothing of where the macros were), yet
    past the time limit the macros were packed in rows all the same; now that is a
    LegalizationError, for the caller's fallback."""
    import placer.algorithms.legalize as legalize_module

    nl, pl = _stacked(300)
    legalize_module.clear_legalize_memory()
    notes: list[str] = []
    with pytest.raises(legalize_module.LegalizationError, match="packing them in rows is left out"):
        legalize(nl, pl, last_resort=False, time_limit_s=0.0, notes=notes)
    assert not notes


def test_clear_legalize_memory_forgets_the_remembered_calls(monkeypatch: pytest.MonkeyPatch) -> None:
    """A test patching the legaliser's internals got a remembered result, untouched by them."""
    import placer.algorithms.legalize as legalize_module

    calls = []
    real = legalize_module._legalize
    monkeypatch.setattr(legalize_module, "_legalize", lambda *a: calls.append(1) or real(*a))
    nl, pl = _stacked(20, seed=6)
    legalize(nl, pl)
    legalize(nl, pl)
    assert len(calls) == 1
    legalize_module.clear_legalize_memory()
    legalize(nl, pl)
    assert len(calls) == 2


def test_the_memory_answers_only_the_netlist_it_legalised(monkeypatch: pytest.MonkeyPatch) -> None:
    """The memory knows a netlist by identity (its weak reference): an equal netlist, another
    object, is legalised anew; the same one again is not."""
    import placer.algorithms.legalize as legalize_module

    calls = []
    real = legalize_module._legalize
    monkeypatch.setattr(legalize_module, "_legalize", lambda *a: calls.append(a[0]) or real(*a))
    legalize_module.clear_legalize_memory()
    nl, pl = _stacked(12, seed=6)
    twin, twin_pl = _stacked(12, seed=6)  # the same design and placement, another netlist
    assert np.array_equal(pl.x, twin_pl.x) and np.array_equal(twin.width, nl.width)
    first = legalize(nl, pl)
    other = legalize(twin, pl)
    legalize(nl, pl)
    assert [c is nl for c in calls] == [True, False]
    assert np.array_equal(first.x, other.x) and np.array_equal(first.y, other.y)


@pytest.mark.parametrize("limit", [-1.0, float("nan"), float("inf"), "5", True])
def test_a_time_limit_that_is_no_finite_number_of_seconds_is_refused(limit: object) -> None:
    """-1 packed the macros at once with the note "took over -1 s", NaN meant no limit, where
    Placer.place refuses the same values for its budget."""
    from netlists.errors import InputError

    netlist, placement = generate(3, 6, 4, seed=5)
    with pytest.raises(InputError, match="time_limit_s must be None or a finite number of seconds >= 0"):
        legalize(netlist, placement, time_limit_s=limit)  # type: ignore[arg-type]
    assert check_legality(netlist, legalize(netlist, placement, time_limit_s=np.float32(5.0))).legal  # type: ignore[arg-type]
