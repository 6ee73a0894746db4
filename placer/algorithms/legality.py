"""Legality checks of a placement: hard-macro overlap, macros outside the canvas, fixed nodes
moved, and whether a design can be placed legally at all.

A placement is **legal** when no two hard macros overlap (with positive area), every macro (hard
and soft) lies inside the canvas, and fixed nodes are where the reference placement has them.
Plain numpy, apart from the legaliser (:mod:`placer.algorithms.legalize`) and its compiled
kernel: ``placer eval`` and ``placer plot`` check legality without loading numba.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from netlists.errors import InputError
from netlists.model import Canvas, Netlist, NodeType, Placement, check_placement_matches

#: Overlap below this length (relative to the canvas's extent along the same axis: its width in
#: x, its height in y) is floating-point noise, not overlap: the published initial placements
#: abut macros with ~1e-13 errors.
OVERLAP_TOL = 1e-9


def axis_tolerances(canvas: Canvas, share: float = OVERLAP_TOL) -> tuple[float, float]:
    """``share`` of the canvas's width and of its height: the tolerances of x and of y.

    A coordinate's rounding noise is relative to its own axis's extent, so each axis gets its
    own. One tolerance from the longer side swallowed whole macros on a long, thin canvas (on
    10 x 1e10 it was 10 in x: a 2 x 2 macro wholly off the canvas, or two stacked ones, passed
    as legal); one from the shorter side would be below rounding on the long axis."""
    return share * canvas.width, share * canvas.height


@dataclass(frozen=True)
class LegalityReport:
    """Summary of a placement's legality (areas in square microns; a Bookshelf design's square
    ``.pl`` units, :attr:`Netlist.area_unit`)."""

    overlap_area: float  # total pairwise overlap area between hard macros
    overlapping_pairs: int
    outside_macros: int  # macros not entirely inside the canvas
    moved_fixed: int  # fixed nodes away from the reference position
    outside_hard: int = 0  # of outside_macros, the hard ones

    @property
    def legal(self) -> bool:
        return self.overlapping_pairs == 0 and self.outside_macros == 0 and self.moved_fixed == 0

    def problems(self) -> str:
        """What makes the placement illegal, in words (for the CLI's notes); fixed nodes moved
        are named where there are any (a placement illegal only by them read "0 macro(s) outside
        the canvas, 0 overlapping hard-macro pair(s)")."""
        words = (f"{self.outside_macros} macro(s) outside the canvas, {self.overlapping_pairs} overlapping "
                 "hard-macro pair(s)")
        return words + (f", {self.moved_fixed} fixed node(s) moved" if self.moved_fixed else "")


def hard_overlap(netlist: Netlist, placement: Placement) -> tuple[float, int]:
    """Total pairwise overlap area of hard macros and the number of overlapping pairs.

    Overlaps thinner than ``OVERLAP_TOL`` x the canvas's width in x, or x its height in y, are
    floating-point noise and not counted.
    """
    total, pairs = 0.0, 0
    for _, _, area in _overlap_chunks(netlist, placement, which=False):
        total += float(area.sum())
        pairs += int(area.size)
    return total, pairs


def overlapping_hard_macros(netlist: Netlist, placement: Placement) -> np.ndarray:
    """Hard macros (node indices, sorted) overlapping another, as :func:`hard_overlap` counts."""
    h = netlist.hard_macros
    hit = np.zeros(h.size, dtype=bool)
    for first, second, _ in _overlap_chunks(netlist, placement):
        hit[first] = hit[second] = True
    return h[hit]


#: Pairs priced at a time by the overlap checks (their temporaries: a dozen arrays of this
#: many numbers, whatever the number of macros or of overlapping pairs).
PAIR_CHUNK = 1 << 20

#: Share of all pairs above which the candidates are priced as dense blocks of rows (as every
#: pair was before the sweep): macros stacked in one spot make nearly every pair a candidate,
#: and gathering each pair's coordinates then costs more than pricing whole rows.
DENSE_SHARE = 0.25


def overlapping_pairs(
    netlist: Netlist, placement: Placement, nodes: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The pairs of ``nodes`` (default the hard macros) that overlap by more than the tolerance
    in both x and y: ``(first, second, area)``, positions in ``nodes``, ``first < second``,
    sorted by ``(first, second)``. Its arrays hold every such pair (the checks above go chunk
    by chunk instead, in bounded memory).

    A sweep, not every pair: along the axis where fewer intervals meet, macros sorted by their
    low edge, each is priced only against the later ones whose low edge lies below its high
    edge (n log n plus those pairs; every pair was priced before, 6 s for 20,000 macros at the
    suite's density). Where most pairs are candidates anyway (stacked macros), rows are priced
    densely as before. A pair is priced by the same expressions either way, so its area is the
    same to the last bit. A macro at a NaN position overlaps nothing (every comparison with NaN
    is false).
    """
    found = [(np.minimum(i, j), np.maximum(i, j), area) for i, j, area in _overlap_chunks(netlist, placement, nodes)]
    if not found:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64), np.empty(0)
    first, second, area = (np.concatenate(parts) for parts in zip(*found, strict=True))
    by_pair = np.lexsort((second, first))
    return first[by_pair], second[by_pair], area[by_pair]


def first_overlapping_pair(netlist: Netlist, placement: Placement, nodes: np.ndarray) -> tuple[int, int] | None:
    """The overlapping pair of ``nodes`` (positions, ``first < second``) that comes first in
    :func:`overlapping_pairs`' order, found chunk by chunk; None when none overlap."""
    best: tuple[int, int] | None = None
    for i, j, _ in _overlap_chunks(netlist, placement, nodes):
        if not i.size:
            continue
        lo, hi = np.minimum(i, j), np.maximum(i, j)
        k = int(np.lexsort((hi, lo))[0])
        if best is None or (int(lo[k]), int(hi[k])) < best:
            best = (int(lo[k]), int(hi[k]))
    return best


def _overlap_chunks(netlist: Netlist, placement: Placement, nodes: np.ndarray | None = None, which: bool = True):
    """``(i, j, area)`` per chunk of priced pairs: positions in ``nodes`` (default the hard
    macros) of the pairs overlapping by more than each axis's tolerance in x and y, and their
    areas (``which=False``: the areas alone, i and j None where finding them would cost more)."""
    tol_x, tol_y = axis_tolerances(netlist.require_canvas())
    h = netlist.hard_macros if nodes is None else nodes
    x, y = placement.x[h], placement.y[h]
    w, hh = netlist.width[h], netlist.height[h]
    finite = np.flatnonzero(np.isfinite(x) & np.isfinite(y))
    n = finite.size
    if n < 2:
        return

    # (the dense rows below price by the same expressions, broadcast; one helper taking the
    # gathered coordinates as arguments held all eight at once: peak memory doubled, 20-30 %
    # slower, so each path writes them out)
    def priced(i: np.ndarray, j: np.ndarray):
        ox = np.minimum(x[i] + w[i] / 2, x[j] + w[j] / 2) - np.maximum(x[i] - w[i] / 2, x[j] - w[j] / 2)
        oy = np.minimum(y[i] + hh[i] / 2, y[j] + hh[j] / 2) - np.maximum(y[i] - hh[i] / 2, y[j] - hh[j] / 2)
        area = np.where((ox > tol_x) & (oy > tol_y), ox * oy, 0.0)
        met = area > 0
        return i[met], j[met], area[met]

    order, counts = _sweep_candidates(finite, ((x - w / 2, x + w / 2), (y - hh / 2, y + hh / 2)))
    if counts.sum() > DENSE_SHARE * n * (n - 1) / 2:  # stacked: blocks of rows against every
        # macro, broadcast (no per-pair gathers), the pairs after the diagonal kept
        xf, yf, wf, hf = x[finite], y[finite], w[finite], hh[finite]
        rows = max(1, PAIR_CHUNK // n)
        for r0 in range(0, n - 1, rows):
            s = slice(r0, min(r0 + rows, n - 1))
            ox = np.minimum(xf[s, None] + wf[s, None] / 2, xf[None, :] + wf[None, :] / 2) - np.maximum(
                xf[s, None] - wf[s, None] / 2, xf[None, :] - wf[None, :] / 2)  # fmt: skip
            oy = np.minimum(yf[s, None] + hf[s, None] / 2, yf[None, :] + hf[None, :] / 2) - np.maximum(
                yf[s, None] - hf[s, None] / 2, yf[None, :] - hf[None, :] / 2)  # fmt: skip
            area = np.where((ox > tol_x) & (oy > tol_y), ox * oy, 0.0)
            met = (area > 0) & (np.arange(n)[None, :] > np.arange(s.start, s.stop)[:, None])
            if not which:
                yield None, None, area[met]
                continue
            rr, cc = np.nonzero(met)
            yield finite[rr + s.start], finite[cc], area[rr, cc]
        return
    bounds = np.cumsum(counts)
    a0 = 0
    while a0 < order.size:
        base = int(bounds[a0 - 1]) if a0 else 0
        a1 = max(int(np.searchsorted(bounds, base + PAIR_CHUNK, side="right")), a0 + 1)
        many = counts[a0:a1]
        if many.sum():
            a = np.repeat(np.arange(a0, a1), many)
            b = a + 1 + np.arange(a.size) - np.repeat(np.cumsum(many) - many, many)
            yield priced(finite[order[a]], finite[order[b]])
        a0 = a1


def _sweep_candidates(
    finite: np.ndarray, axes: tuple[tuple[np.ndarray, np.ndarray], ...]
) -> tuple[np.ndarray, np.ndarray]:
    """For the axis with fewer meeting intervals: the ``finite`` macros' order by low edge and,
    per position in that order, how many later ones start strictly below its high edge (a
    superset of the pairs overlapping by more than a tolerance >= 0 there: the difference of
    two floats is positive exactly when the first is larger)."""
    best: tuple[np.ndarray, np.ndarray] | None = None
    for low, high in axes:
        low, high = low[finite], high[finite]
        order = np.argsort(low, kind="stable")
        ends = np.searchsorted(low[order], high[order], side="left")
        counts = np.maximum(ends - np.arange(order.size) - 1, 0)
        if best is None or counts.sum() < best[1].sum():
            best = (order, counts)
    assert best is not None
    return best


def outside_canvas(netlist: Netlist, placement: Placement, tol: float = OVERLAP_TOL) -> np.ndarray:
    """Macros (node indices) not entirely inside the canvas, up to ``tol`` of the canvas's width
    in x and of its height in y; one at a NaN coordinate is not inside it either (asked as
    'inside?', as every comparison with NaN is false)."""
    c = netlist.require_canvas()
    m = netlist.macros
    x, y, w, h = placement.x[m], placement.y[m], netlist.width[m], netlist.height[m]
    eps_x, eps_y = axis_tolerances(c, tol)
    inside = (
        (x - w / 2 >= -eps_x)
        & (x + w / 2 <= c.width + eps_x)
        & (y - h / 2 >= -eps_y)
        & (y + h / 2 <= c.height + eps_y)
    )
    return m[~inside]


def check_legality(
    netlist: Netlist, placement: Placement, reference: Placement | None = None
) -> LegalityReport:
    """Legality of ``placement``; fixed nodes are checked against ``reference`` when given."""
    check_placement_matches(netlist, placement, ("x", "y"))
    if reference is not None:
        check_placement_matches(netlist, reference, ("x", "y", "fixed"), label="reference")
    area, pairs = hard_overlap(netlist, placement)
    moved = 0
    if reference is not None:
        f = np.flatnonzero(reference.fixed)
        moved = int(
            np.count_nonzero(
                (placement.x[f] != reference.x[f]) | (placement.y[f] != reference.y[f])
            )
        )
    outside = outside_canvas(netlist, placement)
    hard = int(np.count_nonzero(netlist.node_type[outside] == int(NodeType.HARD_MACRO)))
    return LegalityReport(area, pairs, int(outside.size), moved, hard)


def check_finite_positions(netlist: Netlist, placement: Placement) -> None:
    """Refuse a placement with a NaN or infinite coordinate of a port or macro (comparisons
    with NaN are false: such a macro would pass every legality test and poison the cost)."""
    nodes = netlist.placeable
    bad = nodes[~(np.isfinite(placement.x[nodes]) & np.isfinite(placement.y[nodes]))]
    if bad.size:
        i = int(bad[0])
        raise InputError(
            f"node {netlist.names[i]} is at ({float(placement.x[i])!r}, {float(placement.y[i])!r}): positions "
            f"must be finite ({bad.size} node(s) are not)"
        )


def check_placeable(netlist: Netlist, placement: Placement) -> None:
    """Raise ValueError when no legal placement can keep ``placement``'s fixed macros where
    they are: one sticks out of the canvas, two fixed hard macros overlap, a movable macro is
    larger than the canvas, or the hard macros' area is more than the canvas's.
    :func:`legalize` checks this first; the methods do too, before they run, so a design they
    cannot place is refused at once rather than after their budget."""
    c = netlist.require_canvas()
    m = netlist.macros
    fixed = np.asarray(placement.fixed, dtype=bool)
    stuck_out = np.intersect1d(outside_canvas(netlist, placement), m[fixed[m]])
    if stuck_out.size:
        i = int(stuck_out[0])
        w, h = float(netlist.width[i]), float(netlist.height[i])
        raise InputError(
            f"fixed macro {netlist.names[i]} ({w:g} x {h:g} centred at ({float(placement.x[i]):g}, "
            f"{float(placement.y[i]):g})) sticks out of the canvas (0..{c.width:g} x 0..{c.height:g}): "
            "no legal placement keeps it where it is fixed"
        )
    eps_x, eps_y = axis_tolerances(c, 2 * OVERLAP_TOL)  # what check_legality tolerates on both sides
    too_big = m[~fixed[m] & ((netlist.width[m] > c.width + eps_x) | (netlist.height[m] > c.height + eps_y))]
    if too_big.size:
        i = int(too_big[0])
        kind = "hard macro" if netlist.node_type[i] == int(NodeType.HARD_MACRO) else "soft macro"
        raise InputError(
            f"{kind} {netlist.names[i]} ({netlist.width[i]:g} x {netlist.height[i]:g}) is larger "
            f"than the canvas ({c.width:g} x {c.height:g}): no placement of it is legal"
        )
    check_hard_area(netlist)
    pinned = netlist.hard_macros[fixed[netlist.hard_macros]]
    pair = first_overlapping_pair(netlist, placement, pinned)
    if pair is not None:
        i, other = int(pinned[pair[1]]), int(pinned[pair[0]])
        raise InputError(f"fixed hard macro {netlist.names[i]!r} overlaps the fixed macro {netlist.names[other]!r}")


def check_hard_area(netlist: Netlist) -> None:
    """Raise ValueError when the hard macros' area is more than the canvas's: no arrangement
    fits them (every method ran its whole budget to find that; the RL environment trained on
    such a design and its episodes never placed every macro)."""
    share = hard_area_share(netlist)
    if share > 1 + 1e-9:
        raise InputError(f"the hard macros cover {share:.0%} of the canvas: no legal placement fits them")


def hard_area_share(netlist: Netlist) -> float:
    """Total hard-macro area over the canvas area."""
    c = netlist.require_canvas()
    h = netlist.hard_macros
    return float((netlist.width[h] * netlist.height[h]).sum() / (c.width * c.height))
