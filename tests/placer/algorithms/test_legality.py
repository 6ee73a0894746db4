"""The legality checks (placer.algorithms.legality) on small hand-made designs, each check's
edge: the tolerance between abutting macros, every canvas side on a non-square canvas, fixed
macros moved in y only, hard against soft macros, and the placeable-design refusals."""

from __future__ import annotations

import pytest

from netlists.builder import NetlistBuilder
from netlists.model import Canvas, NodeType
from placer.algorithms.legality import (
    check_legality,
    check_placeable,
    hard_area_share,
    outside_canvas,
)


def _design(macros: list[tuple[str, NodeType, float, float, float, float]], width: float = 40.0, height: float = 20.0):  # type: ignore[no-untyped-def]
    """A design of ``(name, kind, width, height, x, y)`` macros on a ``width`` x ``height``
    canvas (non-square: a check reading the other side shows), one port so it has a net."""
    builder = NetlistBuilder("legality")
    port = builder.add_node("p", NodeType.PORT, x=0.0, y=1.0)
    for name, kind, w, h, x, y in macros:
        builder.add_node(name, kind, width=w, height=h, x=x, y=y)
    builder.add_net(port, [1])
    netlist = builder.build(Canvas(width, height, 4, 2))
    return netlist, netlist.initial_placement()


HARD, SOFT = NodeType.HARD_MACRO, NodeType.SOFT_MACRO


def test_macros_abutting_up_to_rounding_do_not_overlap() -> None:
    """A sliver of 1e-12 between abutting macros is rounding, not an overlap."""
    netlist, placement = _design([("a", HARD, 10, 10, 5, 5), ("b", HARD, 10, 10, 15 - 1e-12, 5)])
    report = check_legality(netlist, placement)
    assert (report.overlapping_pairs, report.legal) == (0, True)
    placement.x[2] = 15 - 1e-3  # a real overlap
    assert check_legality(netlist, placement).overlapping_pairs == 1


@pytest.mark.parametrize(
    ("x", "y", "outside"),
    [
        (30.0, 10.0, 0),  # right edge at 35 on a 40-wide canvas: inside (its height is 20)
        (36.0, 10.0, 1),  # right edge at 41: out on the right
        (4.0, 10.0, 1),  # left edge at -1
        (20.0, 4.0, 1),  # bottom edge at -1
        (20.0, 16.0, 1),  # top edge at 21 on a 20-high canvas
        (20.0, 15.0, 0),  # top edge at 20 exactly
        (float("nan"), 10.0, 1),  # at NaN: not inside (every comparison was false: 'legal')
        (20.0, float("nan"), 1),
        (float("-inf"), 10.0, 1),
    ],
)
def test_every_canvas_side_is_checked_against_its_own_size(x: float, y: float, outside: int) -> None:
    netlist, placement = _design([("a", HARD, 10, 10, x, y)])
    assert outside_canvas(netlist, placement).size == outside
    assert check_legality(netlist, placement).outside_macros == outside


def test_outside_hard_macros_are_counted_apart_from_soft_ones() -> None:
    netlist, placement = _design([("h", HARD, 10, 10, 20, 10), ("s", SOFT, 4, 4, 20, 10)])
    placement.x[1] = 38.0  # the hard macro out on the right, the soft one inside
    report = check_legality(netlist, placement)
    assert (report.outside_hard, report.outside_macros) == (1, 1)
    placement.x[1], placement.x[2] = 20.0, 39.0  # now only the soft one is out
    report = check_legality(netlist, placement)
    assert (report.outside_hard, report.outside_macros) == (0, 1)


def test_a_fixed_macro_moved_in_y_only_is_moved_and_not_legal() -> None:
    netlist, reference = _design([("a", HARD, 10, 10, 10, 10), ("b", HARD, 10, 10, 30, 10)])
    reference.fixed[1] = True
    placement = reference.copy()
    placement.y[1] += 0.5
    report = check_legality(netlist, placement, reference)
    assert report.moved_fixed == 1 and report.outside_macros == 0 and report.overlapping_pairs == 0
    assert not report.legal
    # (it read "0 macro(s) outside the canvas, 0 overlapping hard-macro pair(s)": no reason)
    assert report.problems().endswith(", 1 fixed node(s) moved")
    placement.y[1] = reference.y[1]
    assert check_legality(netlist, placement, reference).legal


def test_a_macro_taller_than_the_canvas_is_refused_as_unplaceable() -> None:
    """Only a too-wide macro was tested; a too-tall one is refused the same way."""
    netlist, placement = _design([("tall", HARD, 5, 30, 20, 10)])
    with pytest.raises(ValueError, match=r"hard macro tall \(5 x 30\) is larger than the canvas \(40 x 20\)"):
        check_placeable(netlist, placement)


def test_hard_macros_covering_just_over_the_canvas_are_refused() -> None:
    """The limit is the canvas's area: 101 % is refused, 99 % is not (a looser bound passed)."""
    over = [(f"h{k}", HARD, 20.0, 10.1, 10.0 + 20 * (k % 2), 5.0) for k in range(4)]  # 808 of 800
    netlist, placement = _design(over)
    assert hard_area_share(netlist) == pytest.approx(1.01)
    with pytest.raises(ValueError, match="the hard macros cover 101% of the canvas"):
        check_placeable(netlist, placement)
    under = [(f"h{k}", HARD, 20.0, 9.9, 10.0 + 20 * (k % 2), 5.0 + 10 * (k // 2)) for k in range(4)]
    netlist, placement = _design(under)
    check_placeable(netlist, placement)  # no refusal


def _every_pair(netlist, placement, nodes):  # type: ignore[no-untyped-def]
    """The overlapping pairs by pricing every pair (the checks' former way; the reference)."""
    import numpy as np

    from placer.algorithms.legality import axis_tolerances

    tol_x, tol_y = axis_tolerances(netlist.require_canvas())
    x, y, w, h = placement.x[nodes], placement.y[nodes], netlist.width[nodes], netlist.height[nodes]
    ox = np.minimum(x[:, None] + w[:, None] / 2, x[None, :] + w[None, :] / 2) - np.maximum(
        x[:, None] - w[:, None] / 2, x[None, :] - w[None, :] / 2)  # fmt: skip
    oy = np.minimum(y[:, None] + h[:, None] / 2, y[None, :] + h[None, :] / 2) - np.maximum(
        y[:, None] - h[:, None] / 2, y[None, :] - h[None, :] / 2)  # fmt: skip
    area = np.triu(np.where((ox > tol_x) & (oy > tol_y), ox * oy, 0.0), k=1)
    first, second = np.nonzero(area > 0)
    return first, second, area[first, second]


@pytest.mark.parametrize("dense_share", [0.0, 2.0])  # rows priced densely always / never
@pytest.mark.parametrize("seed", range(12))
def test_the_sweep_finds_the_pairs_and_areas_pricing_every_pair_finds(
    seed: int, dense_share: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The checks priced every pair of hard macros (13 s and 0.5 GB for 20,000); the sweep
    prices only pairs whose intervals meet along one axis, and must miss none: random layouts
    with abutting edges (exact and within rounding), stacked duplicates, a column where every
    x interval meets (the sweep takes y there), slivers at the tolerance and a NaN position."""
    import numpy as np

    import placer.algorithms.legality as legality
    from placer.algorithms.legality import OVERLAP_TOL, overlapping_pairs

    monkeypatch.setattr(legality, "DENSE_SHARE", dense_share)
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 300))
    size = rng.choice([1.0, 2.0, 2.5], size=(n, 2))
    grid = rng.integers(0, 12, size=(n, 2)) * 2.5  # on a lattice: edges abut exactly
    jitter = rng.choice([0.0, 0.0, 1e-12, -1e-12, OVERLAP_TOL * 40 * 1.5, rng.random()], size=(n, 2))
    centre = grid + size / 2 + jitter
    if seed % 3 == 0:
        centre[:, 0] = 5.0  # one column: every x interval meets
    if seed % 6 == 5:
        centre[: n // 2] = 20.0  # half of them stacked in one spot
    macros = [(f"m{k}", HARD, *size[k], *centre[k]) for k in range(n)]
    netlist, placement = _design(macros, width=40.0, height=40.0)
    if seed % 4 == 1:
        placement.x[netlist.hard_macros[0]] = np.nan
    h = netlist.hard_macros
    got, want = overlapping_pairs(netlist, placement), _every_pair(netlist, placement, h)
    for a, b in zip(got, want, strict=True):
        assert np.array_equal(a, b)  # the same pairs, the same areas to the last bit
    assert seed % 3 != 0 or got[0].size > n  # (the column overlaps a lot: not vacuous)
    report = check_legality(netlist, placement)
    assert report.overlapping_pairs == want[0].size
    assert report.overlap_area == pytest.approx(float(want[2].sum()), rel=1e-12, abs=0.0)


def test_the_sweep_in_chunks_finds_what_one_pass_finds(monkeypatch: pytest.MonkeyPatch) -> None:
    """Candidates are priced in chunks of PAIR_CHUNK (bounded memory): chunk edges lose nothing."""
    import numpy as np

    import placer.algorithms.legality as legality

    rng = np.random.default_rng(5)
    macros = [(f"m{k}", HARD, 3.0, 3.0, *rng.uniform(2, 38, size=2)) for k in range(200)]
    netlist, placement = _design(macros, width=40.0, height=40.0)
    whole = legality.overlapping_pairs(netlist, placement)
    monkeypatch.setattr(legality, "PAIR_CHUNK", 7)
    for a, b in zip(legality.overlapping_pairs(netlist, placement), whole, strict=True):
        assert np.array_equal(a, b)
    monkeypatch.setattr(legality, "DENSE_SHARE", 0.0)  # dense rows, several blocks of them
    for a, b in zip(legality.overlapping_pairs(netlist, placement), whole, strict=True):
        assert np.array_equal(a, b)
    assert whole[0].size > 100


def test_stacked_macros_are_checked_in_bounded_memory_and_the_first_pair_is_named() -> None:
    """The sweep first kept every overlapping pair (three arrays of each) and sorted them: 8,000
    macros stacked in one spot took 19 s and 2.8 GB in placer eval (3.4 s and 0.35 GB before
    it). The checks now go chunk by chunk; a stack prices its rows densely."""
    import tracemalloc

    import numpy as np

    from placer.algorithms.legality import (
        first_overlapping_pair,
        hard_overlap,
        overlapping_hard_macros,
    )

    n = 3000
    netlist, placement = _design([(f"m{k}", HARD, 2.0, 2.0, 20.0, 20.0) for k in range(n)], width=40.0, height=40.0)
    tracemalloc.start()
    area, pairs = hard_overlap(netlist, placement)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert (pairs, area) == (n * (n - 1) // 2, pytest.approx(4.0 * n * (n - 1) / 2))
    assert peak < 150e6  # (about 76 MB: chunks of 2**20 pairs; keeping every pair took 360 MB)
    assert np.array_equal(overlapping_hard_macros(netlist, placement), netlist.hard_macros)
    assert first_overlapping_pair(netlist, placement, netlist.hard_macros) == (0, 1)
    apart, start = _design([("a", HARD, 2.0, 2.0, 5.0, 5.0), ("b", HARD, 2.0, 2.0, 7.0, 5.0)], width=40.0, height=40.0)
    assert first_overlapping_pair(apart, start, apart.hard_macros) is None  # (a chunk without any: IndexError)


# A long, thin canvas: a tolerance taken from the longer side (1e-9 x 1e10 = 10 microns) on both
# axes swallowed whole macros across the short one.
TALL = {"width": 10.0, "height": 1e10}


def test_a_macro_wholly_off_a_long_thin_canvas_is_outside() -> None:
    """A 2 x 2 macro centred at x = -3 (its right edge at -2) read as inside."""
    netlist, placement = _design([("off", HARD, 2, 2, -3.0, 5e9)], **TALL)
    assert outside_canvas(netlist, placement).size == 1
    report = check_legality(netlist, placement)
    assert (report.outside_macros, report.legal) == (1, False)
    placement.x[1] = 5.0  # inside: not a refusal of every macro there
    assert check_legality(netlist, placement).legal


def test_stacked_macros_on_a_long_thin_canvas_overlap() -> None:
    """Two 2 x 1000 macros at one point overlapped by 2 in x, under the old 10: 'legal'."""
    netlist, placement = _design([("a", HARD, 2, 1000, 5.0, 5e9), ("b", HARD, 2, 1000, 5.0, 5e9)], **TALL)
    report = check_legality(netlist, placement)
    assert (report.overlapping_pairs, report.overlap_area, report.legal) == (1, 2000.0, False)
    placement.x[2] = 7.0  # side by side in x: they abut
    assert check_legality(netlist, placement).legal


def test_the_long_axis_keeps_a_tolerance_above_its_rounding() -> None:
    """At y ~ 5e9 a double's spacing is ~1e-6: macros abutting there up to rounding in y do not
    overlap (a tolerance from the short side, 1e-8, would take that sliver for an overlap)."""
    top = 5e9 + 500 - 1e-6
    netlist, placement = _design([("a", HARD, 4, 1000, 5.0, 5e9), ("b", HARD, 4, 1000, 5.0, top + 500)], **TALL)
    assert check_legality(netlist, placement).legal
    placement.y[2] = 5e9 + 900  # a real overlap of 100 in y (the tolerance there: 10)
    assert check_legality(netlist, placement).overlapping_pairs == 1


def test_a_macro_wider_than_a_long_thin_canvas_is_refused_as_unplaceable() -> None:
    """10.5 wide on a 10-wide canvas passed the size check (its slack was 2e-9 x 1e10 = 20)."""
    netlist, placement = _design([("wide", HARD, 10.5, 10, 5.0, 5e9)], **TALL)
    with pytest.raises(ValueError, match=r"hard macro wide \(10.5 x 10\) is larger than the canvas"):
        check_placeable(netlist, placement)
