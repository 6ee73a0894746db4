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

from netlists.model import Netlist, NodeType, Placement, check_placement_matches

#: Overlap below this length (relative to the canvas size) in x or y is floating-point noise,
#: not overlap: the published initial placements abut macros with ~1e-13 errors.
OVERLAP_TOL = 1e-9


@dataclass(frozen=True)
class LegalityReport:
    """Summary of a placement's legality (areas in square microns)."""

    overlap_area: float  # total pairwise overlap area between hard macros
    overlapping_pairs: int
    outside_macros: int  # macros not entirely inside the canvas
    moved_fixed: int  # fixed nodes away from the reference position
    outside_hard: int = 0  # of outside_macros, the hard ones

    @property
    def legal(self) -> bool:
        return self.overlapping_pairs == 0 and self.outside_macros == 0 and self.moved_fixed == 0

    def problems(self) -> str:
        """What makes the placement illegal, in words (for the CLI's notes)."""
        return (f"{self.outside_macros} macro(s) outside the canvas, {self.overlapping_pairs} overlapping "
                "hard-macro pair(s)")


def hard_overlap(netlist: Netlist, placement: Placement) -> tuple[float, int]:
    """Total pairwise overlap area of hard macros and the number of overlapping pairs.

    Overlaps thinner than ``OVERLAP_TOL`` x canvas size in x or y are floating-point noise and
    not counted.
    """
    total, pairs = 0.0, 0
    for _, area in _overlap_blocks(netlist, placement):
        total += float(area.sum())
        pairs += int(np.count_nonzero(area))
    return total, pairs


def overlapping_hard_macros(netlist: Netlist, placement: Placement) -> np.ndarray:
    """Hard macros (node indices, sorted) overlapping another, as :func:`hard_overlap` counts."""
    h = netlist.hard_macros
    hit = np.zeros(h.size, dtype=bool)
    for rows, area in _overlap_blocks(netlist, placement):
        met = area > 0
        hit[rows] |= met.any(axis=1)
        hit |= met.any(axis=0)
    return h[hit]


def _overlap_blocks(netlist: Netlist, placement: Placement, nodes: np.ndarray | None = None):  # type: ignore[no-untyped-def]
    """For blocks of ``nodes`` (default the hard macros; positions in ``nodes``): ``(rows,
    area)`` with ``area[r, j]`` the overlap of row ``r``'s macro with macro ``j`` for ``j``
    after it, else 0; blocks of rows keep memory bounded on large designs."""
    c = netlist.require_canvas()
    tol = OVERLAP_TOL * max(c.width, c.height)
    h = netlist.hard_macros if nodes is None else nodes
    if h.size < 2:
        return
    x, y = placement.x[h], placement.y[h]
    w, hh = netlist.width[h], netlist.height[h]
    for start in range(0, h.size, 512):
        s = slice(start, min(start + 512, h.size))
        ox = np.minimum(x[s, None] + w[s, None] / 2, x[None, :] + w[None, :] / 2) - np.maximum(
            x[s, None] - w[s, None] / 2, x[None, :] - w[None, :] / 2
        )
        oy = np.minimum(y[s, None] + hh[s, None] / 2, y[None, :] + hh[None, :] / 2) - np.maximum(
            y[s, None] - hh[s, None] / 2, y[None, :] - hh[None, :] / 2
        )
        area = np.where((ox > tol) & (oy > tol), ox * oy, 0.0)
        rows = np.arange(s.start, s.stop)
        upper = np.arange(h.size)[None, :] > rows[:, None]
        yield rows, np.where(upper, area, 0.0)


def outside_canvas(netlist: Netlist, placement: Placement, tol: float = 1e-9) -> np.ndarray:
    """Macros (node indices) not entirely inside the canvas; one at a NaN coordinate is not
    inside it either (asked as 'inside?', as every comparison with NaN is false)."""
    c = netlist.require_canvas()
    m = netlist.macros
    x, y, w, h = placement.x[m], placement.y[m], netlist.width[m], netlist.height[m]
    eps = tol * max(c.width, c.height)
    inside = (
        (x - w / 2 >= -eps)
        & (x + w / 2 <= c.width + eps)
        & (y - h / 2 >= -eps)
        & (y + h / 2 <= c.height + eps)
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
    hard = int(np.count_nonzero(netlist.node_type[outside] == NodeType.HARD_MACRO))
    return LegalityReport(area, pairs, int(outside.size), moved, hard)


def check_finite_positions(netlist: Netlist, placement: Placement) -> None:
    """Refuse a placement with a NaN or infinite coordinate of a port or macro (comparisons
    with NaN are false: such a macro would pass every legality test and poison the cost)."""
    nodes = netlist.placeable
    bad = nodes[~(np.isfinite(placement.x[nodes]) & np.isfinite(placement.y[nodes]))]
    if bad.size:
        i = int(bad[0])
        raise ValueError(
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
        raise ValueError(
            f"fixed macro {netlist.names[i]} sticks out of the canvas: no legal placement keeps it "
            "where it is fixed"
        )
    eps = 2e-9 * max(c.width, c.height)  # what check_legality tolerates on both sides
    too_big = m[~fixed[m] & ((netlist.width[m] > c.width + eps) | (netlist.height[m] > c.height + eps))]
    if too_big.size:
        i = int(too_big[0])
        kind = "hard macro" if netlist.node_type[i] == NodeType.HARD_MACRO else "soft macro"
        raise ValueError(
            f"{kind} {netlist.names[i]} ({netlist.width[i]:g} x {netlist.height[i]:g}) is larger "
            f"than the canvas ({c.width:g} x {c.height:g}): no placement of it is legal"
        )
    share = hard_area_share(netlist)
    if share > 1 + 1e-9:  # (no arrangement fits: every method ran its whole budget to find that)
        raise ValueError(f"the hard macros cover {share:.0%} of the canvas: no legal placement fits them")
    pinned = netlist.hard_macros[fixed[netlist.hard_macros]]
    for rows, area in _overlap_blocks(netlist, placement, pinned):
        if area.any():
            row, later = np.argwhere(area > 0)[0]
            i, other = int(pinned[later]), int(pinned[rows[row]])
            raise ValueError(f"fixed hard macro {netlist.names[i]!r} overlaps the fixed macro {netlist.names[other]!r}")


def hard_area_share(netlist: Netlist) -> float:
    """Total hard-macro area over the canvas area."""
    c = netlist.require_canvas()
    h = netlist.hard_macros
    return float((netlist.width[h] * netlist.height[h]).sum() / (c.width * c.height))
