"""Legalisation: remove hard-macro overlap and bring every macro inside the canvas (legal as
:mod:`placer.algorithms.legality` defines it and checks it).

:func:`legalize` is a greedy minimal-displacement legaliser in the spirit of Tetris-style
macro legalisers: fixed macros first, then the others by decreasing area; each keeps its
position if it is legal there, otherwise it goes to the nearest legal position among the
candidate positions that abut an already placed macro or the canvas edge (the nearest legal
position of a rectangle among axis-aligned obstacles lies on such a coordinate grid).
When that order leaves a macro no room (the placed ones can fragment the free space), the
same greedy runs again with the macros swept in x, then in y, then packed from the lower-left
corner, and all of these once more with macros abutting exactly (the small safety gap left
between abutting macros adds up past the canvas where macros fill it in one direction); only
when all of these fail is it an error.
Soft macros are only clamped into the canvas (they may overlap: they are clusters of cells).

Hard macros piled on one spot (a start with every macro at the origin or the centre) cost the
greedy a search around an ever larger pile: 0.3 s for 400 macros, 3 s for 1,000, 25 s for
2,000. A caller on a budget gives ``time_limit_s``: past it the greedy stops and the movable
hard macros are packed in rows instead (:func:`_shelf_pack`, milliseconds), with a note.

A macro's footprint is its ``width x height`` as the netlist gives them, whatever its
orientation: PROXY_COST.md uses them so ("Macro width/height are used as given, whatever the
orientation"), and so do the cost, the methods and this check. Orientations E, FE, W and FW
turn the pin offsets only; a netlist whose macros are turned gives their turned sizes (the
Bookshelf reader does: a turned macro's size is its footprint). The methods never turn a
macro by 90 degrees themselves (mirroring keeps N/FN/S/FS and E/FE/W/FW apart).
"""

from __future__ import annotations

import math
import numbers
import time
import weakref

import numpy as np
from numba import njit

from netlists.errors import InputError
from netlists.model import Netlist, Placement, check_placement_matches
from placer.algorithms.legality import (
    OVERLAP_TOL,
    LegalityReport,
    axis_tolerances,
    check_finite_positions,
    check_legality,
    check_placeable,
    hard_area_share,
    hard_overlap,
    outside_canvas,
    overlapping_hard_macros,
)

#: The legality checks live in :mod:`placer.algorithms.legality` (no numba); their public names
#: are importable from here too, as they were before that module was split off.
__all__ = ["GAP", "OVERLAP_TOL", "LegalityReport", "LegalizationError", "LegalizationTimeout", "check_finite_positions", "check_legality", "check_placeable",
           "clear_legalize_memory",
           "hard_area_share", "hard_overlap", "legalize", "outside_canvas", "overlapping_hard_macros"]

#: Gap left between macros the legaliser abuts, relative to the canvas's extent along the axis
#: they abut on (as the tolerance is), well above the tolerance so a legalised placement stays
#: legal after a round trip through text.
GAP = 1e-8


class LegalizationError(InputError):
    """No strategy found room for every hard macro: a design's verdict, not a bad argument
    (callers with a fallback catch this alone, so a bug of ours is not taken for it)."""


class LegalizationTimeout(LegalizationError):
    """``legalize(last_resort=False)`` passed its time limit (hard macros piled up): no verdict
    on room, so a caller whose fallback fails too may legalise again without the limit."""


class _OutOfTime(Exception):
    """The greedy passed its time limit (caught in :func:`legalize`)."""


#: The last few legalisations' inputs and results, newest last: ``placer place`` legalises the
#: start once more for its closing note, as the method did before it (and before legalising
#: its own result): a second full run on a pile of macros. Each entry: the key, the netlist (a
#: weak reference: it matches that netlist alone, never one given a dead netlist's reused id),
#: the result, its packing note ("" when the greedy finished) and the time limit it ran under.
_recent: list[tuple[tuple[object, ...], weakref.ref[Netlist], Placement, str, float | None]] = []
_RECENT = 4


def clear_legalize_memory() -> None:
    """Forget the remembered legalisations: for a caller timing the legaliser, or a test that
    changes its internals (a remembered result would answer without them)."""
    _recent.clear()


def _key(placement: Placement, reference: Placement | None, last_resort: bool) -> tuple[object, ...]:
    """What a legalisation depends on besides the netlist, comparable by ``==`` (the netlist is
    compared by identity, its arrays being read-only: the entry's weak reference)."""
    def arrays(p: Placement | None) -> tuple[bytes, ...]:
        if p is None:
            return ()
        return tuple(np.asarray(a).tobytes() for a in (p.x, p.y, p.orientation, p.fixed))

    return (arrays(placement), arrays(reference), last_resort)


def legalize(
    netlist: Netlist,
    placement: Placement,
    reference: Placement | None = None,
    last_resort: bool = True,
    time_limit_s: float | None = None,
    notes: list[str] | None = None,
) -> Placement:
    """A legal placement close to ``placement`` (a new object; the input is not changed).

    Fixed nodes are restored to their ``reference`` position (default: ``placement``'s own).
    ``last_resort=False`` leaves out the last strategy, packing every movable hard macro from
    the lower-left corner: it fits where the others fail, but keeps nothing of where the
    macros were (a caller with a better fallback, such as the given placement, tries that).
    Raises ValueError when ``time_limit_s`` is not None or a finite number >= 0 (InputError), or
    when the macros cannot all fit (fixed ones overlapping or outside the
    canvas, a movable one larger than the canvas; :class:`LegalizationError` where every
    strategy found no room) or a position is not a finite number.

    With ``time_limit_s``, the greedy strategies stop after that many seconds and the movable
    hard macros are packed in rows from the lower-left corner instead (where they fit: else the
    greedy goes on to the end); a note saying so is appended to ``notes``: whether the limit is
    reached depends on the machine's speed, so such a result is not reproducible. Packing keeps
    nothing of where the macros were, so with ``last_resort=False`` the limit raises
    :class:`LegalizationError` instead (the caller's fallback runs). The same inputs as
    one of the last few calls give its result again without the work (a note too, when it had
    one; a result packed in rows only to a call with a time limit no longer than its own).
    """
    # the inputs checked first: a remembered result is no answer to a placement of the wrong shape
    if time_limit_s is not None and not (
        isinstance(time_limit_s, numbers.Real) and not isinstance(time_limit_s, bool)
        and math.isfinite(time_limit_s) and time_limit_s >= 0
    ):  # (-1 packed at once, noting "took over -1 s"; NaN meant no limit at all)
        raise InputError(f"time_limit_s must be None or a finite number of seconds >= 0, got {time_limit_s!r}")
    check_placement_matches(netlist, placement, arrays_only=False)
    if reference is not None:
        check_placement_matches(netlist, reference, arrays_only=False, label="reference")
    key = _key(placement, reference, last_resort)
    _recent[:] = [entry for entry in _recent if entry[1]() is not None]  # (netlists gone)
    for known, owner, result, note, limit in reversed(_recent):
        # a packed placement answers only a call whose limit is no longer than the one it was
        # packed under (a longer limit may let the greedy finish)
        if owner() is netlist and known == key and (
            not note or (time_limit_s is not None and limit is not None and time_limit_s <= limit)
        ):
            if note and notes is not None:
                notes.append(note)
            return result.copy()
    own: list[str] = []
    out = _legalize(netlist, placement, reference, last_resort, time_limit_s, own)
    _recent.append((key, weakref.ref(netlist), out.copy(), own[0] if own else "", time_limit_s))
    del _recent[:-_RECENT]
    if notes is not None:
        notes.extend(own)
    return out


def _legalize(
    netlist: Netlist,
    placement: Placement,
    reference: Placement | None,
    last_resort: bool,
    time_limit_s: float | None,
    notes: list[str],
) -> Placement:
    """:func:`legalize` without the memory of the last calls (nor its checks of the inputs)."""
    stop_at = time.perf_counter() + time_limit_s if time_limit_s is not None else np.inf
    c = netlist.require_canvas()
    placement = placement.standardised()  # (lists as arrays)
    check_finite_positions(netlist, placement)
    out = placement.copy()
    ref = reference.standardised() if reference is not None else out.copy()
    fixed = ref.fixed.copy()
    out.x[fixed], out.y[fixed], out.orientation[fixed] = (
        ref.x[fixed],
        ref.y[fixed],
        ref.orientation[fixed],
    )
    out.fixed[:] = ref.fixed

    check_placeable(netlist, out)
    # every movable macro inside the canvas
    m = netlist.macros
    movable = m[~fixed[m]]
    w, h = netlist.width[movable], netlist.height[movable]
    out.x[movable] = np.clip(
        out.x[movable], np.minimum(w / 2, c.width / 2), np.maximum(c.width - w / 2, c.width / 2)
    )
    out.y[movable] = np.clip(
        out.y[movable], np.minimum(h / 2, c.height / 2), np.maximum(c.height - h / 2, c.height / 2)
    )

    hard = netlist.hard_macros
    if hard.size == 0:
        return out
    is_fixed = fixed[hard]
    pinned, movable_hard = hard[is_fixed], hard[~is_fixed]
    area = netlist.width[movable_hard] * netlist.height[movable_hard]
    wanted_x, wanted_y = out.x[movable_hard].copy(), out.y[movable_hard].copy()
    # Largest first, each at the nearest legal spot to where it is: the least displacement.
    # Placed macros can fragment the free space so that a later one finds no room although
    # all would fit (6 of 10,000 random piles at half the canvas area in the tests); then the
    # same greedy runs with the macros swept left to right and bottom to top, as Tetris-style
    # legalisers do, which keeps the free space in one piece; and last, bottom-left packing
    # (every macro wanted in the lower-left corner), which gives up closeness to fit at all.
    largest_first = np.argsort(-area, kind="stable")
    attempts = [
        (largest_first, False),
        (np.lexsort((wanted_y, wanted_x)), False),
        (np.lexsort((wanted_x, wanted_y)), False),
        *([(largest_first, True)] if last_resort else []),
    ]
    corner_x = np.minimum(netlist.width[movable_hard] / 2, c.width / 2)
    corner_y = np.minimum(netlist.height[movable_hard] / 2, c.height / 2)
    stuck = ""
    # the strategies again with macros abutting exactly: the safety gaps add up past the canvas
    # where macros fill it in one direction (four rows of a quarter of its height each)
    for gap in (GAP, 0.0):
        for order, packed in attempts:

            def attempt(stop: float, order: np.ndarray = order, packed: bool = packed, gap: float = gap) -> str:
                """The macros placed in ``order`` from their wanted spots (or the corner), until ``stop``."""
                out.x[movable_hard] = corner_x if packed else wanted_x
                out.y[movable_hard] = corner_y if packed else wanted_y
                return _place_in_order(netlist, out, np.concatenate([pinned, movable_hard[order]]), gap, stop)

            try:
                stuck = attempt(stop_at)
            except _OutOfTime:
                if not last_resort:  # packing is the last resort left out: the caller's fallback
                    raise LegalizationTimeout(
                        f"legalisation took over {time_limit_s:.3g} s (hard macros piled up) and packing "
                        "them in rows is left out (whether the limit is reached depends on the machine's "
                        "speed: the run is not reproducible)"
                    ) from None
                if _shelf_pack(netlist, out, pinned, movable_hard):
                    notes.append(
                        f"legalisation took over {time_limit_s:.3g} s (hard macros piled up): the "
                        f"{movable_hard.size} movable hard macros were packed in rows from the lower-left "
                        "corner instead, keeping nothing of where they were (whether the limit is "
                        "reached depends on the machine's speed: the run is not reproducible)"
                    )
                    return out
                stop_at = np.inf  # no room in rows: the greedy, to its end
                stuck = attempt(stop_at)
            if not stuck:
                return out
    tried = "largest first, swept in x, swept in y" + (", packed from the corner" if last_resort else "")
    raise LegalizationError(
        f"no legal position left for hard macro {stuck!r} with any strategy ({tried}): the hard "
        f"macros cover {hard_area_share(netlist):.0%} of the canvas"
    )


def _shelf_pack(netlist: Netlist, out: Placement, pinned: np.ndarray, movable: np.ndarray) -> bool:
    """Pack the ``movable`` hard macros in rows (shelves) from the lower-left corner, tallest
    first, each row as high as its first macro, stepping past the ``pinned`` ones and keeping
    the gap the greedy keeps from them (so the result stays legal after a round trip through
    text); False (and ``out`` partly changed) when they do not all fit. Linear in the macros
    (times the pinned ones): the fallback when the greedy runs out of time.

    A row whose first macro finds no room beside the pinned ones starts again above the lowest
    of the pinned macros in its band (no room is skipped: they all block the band up to there):
    each step moves past a pinned macro or a row, so the loop ends, in steps linear in the
    macros and the pinned ones (a row stepped only by the gap took minutes)."""
    c = netlist.require_canvas()
    gap_x, gap_y = axis_tolerances(c, GAP)
    tol_x, tol_y = axis_tolerances(c)
    # the pinned boxes grown by the gap: a macro outside them keeps the gap
    pxl = out.x[pinned] - netlist.width[pinned] / 2 - gap_x
    pxh = out.x[pinned] + netlist.width[pinned] / 2 + gap_x
    pyl = out.y[pinned] - netlist.height[pinned] / 2 - gap_y
    pyh = out.y[pinned] + netlist.height[pinned] / 2 + gap_y
    x = y = row_h = 0.0
    for i in movable[np.argsort(-netlist.height[movable], kind="stable")].tolist():
        w, h = float(netlist.width[i]), float(netlist.height[i])
        while True:
            if x > 0 and x + w > c.width + tol_x:  # a new row above this one
                if row_h > 0:
                    y = y + row_h + gap_y
                else:  # nothing fits in this row: above the lowest pinned macro in its band
                    band = np.minimum(y + h, pyh) - np.maximum(y, pyl) > 0
                    if not band.any():
                        return False  # (cannot happen: a pinned macro in the band moved x)
                    y = float(pyh[band].min())
                x, row_h = 0.0, 0.0
            if y + h > c.height + tol_y or x + w > c.width + tol_x:
                return False
            hit = np.minimum(x + w, pxh) - np.maximum(x, pxl) > 0
            hit &= np.minimum(y + h, pyh) - np.maximum(y, pyl) > 0
            if not hit.any():
                break
            x = float(pxh[hit].max())  # past the pinned macros in the way (and their gap)
        out.x[i], out.y[i] = x + w / 2, y + h / 2
        x, row_h = x + w + gap_x, max(row_h, h)
    return True


def _place_in_order(
    netlist: Netlist, out: Placement, order: np.ndarray, gap_share: float = GAP, stop_at: float = np.inf
) -> str:
    """Place the hard macros of ``order`` one by one in ``out``: each stays if legal among the
    ones before it, else moves to the nearest legal position, ``gap_share`` of the canvas's
    width (abutting in x) or height (in y) away from the macros it abuts. Returns "" when all
    found one, else the name of the first that found none. The fixed ones come first and stay:
    :func:`check_placeable` has refused any two of them overlapping, by the same test. Raises
    :class:`_OutOfTime` past ``stop_at`` (a ``time.perf_counter()`` reading)."""
    c = netlist.require_canvas()
    box = np.empty((4, order.size))  # xl, xh, yl, yh of the macros placed so far
    gap_x, gap_y = axis_tolerances(c, gap_share)
    tol_x, tol_y = axis_tolerances(c)
    for k, i in enumerate(order.tolist()):
        wi, hi = float(netlist.width[i]), float(netlist.height[i])
        xl, xh, yl, yh = box[0, :k], box[1, :k], box[2, :k], box[3, :k]
        x0, y0 = float(out.x[i]), float(out.y[i])
        if k and _hits(np.array([x0]), np.array([y0]), wi, hi, xl, xh, yl, yh, tol_x, tol_y)[0]:
            if time.perf_counter() > stop_at:
                raise _OutOfTime
            found = _nearest_legal(x0, y0, wi, hi, xl, xh, yl, yh, c.width, c.height, gap_x, gap_y, tol_x, tol_y)
            if found is None:
                return str(netlist.names[i])
            x0, y0 = found
            out.x[i], out.y[i] = x0, y0
        box[:, k] = (x0 - wi / 2, x0 + wi / 2, y0 - hi / 2, y0 + hi / 2)
    return ""


def _hits(cx, cy, w, h, xl, xh, yl, yh, tol_x, tol_y):
    """For each candidate centre, whether a w x h box there overlaps any placed box by more
    than ``tol_x`` in x and ``tol_y`` in y."""
    ox = np.minimum(cx[:, None] + w / 2, xh[None, :]) - np.maximum(cx[:, None] - w / 2, xl[None, :])
    oy = np.minimum(cy[:, None] + h / 2, yh[None, :]) - np.maximum(cy[:, None] - h / 2, yl[None, :])
    return np.any((ox > tol_x) & (oy > tol_y), axis=1)


@njit(cache=True)
def _nearest_free(xs, ys, x0, y0, radius, searched, w, h, xl, xh, yl, yh, tol_x, tol_y):
    """The candidate centre ``(xs[i], ys[j])`` with Manhattan distance to ``(x0, y0)`` in
    ``(searched, radius]`` where a ``w x h`` box overlaps no placed box (by more than ``tol_x``
    in x and ``tol_y`` in y), nearest first, ties to the lower ``i`` then ``j``; ``(-1, -1)``
    when there is none. ``xs`` and ``ys`` are sorted.

    The same answer as testing the candidates in sorted order with :func:`_hits`, at a fraction
    of the tests: columns ``xs[i]`` are visited nearest first and the search stops at the first
    column farther than the best free candidate found; in a column, the boxes the candidate
    box meets in x are gathered once, and the rows ``ys[j]`` are walked outward from ``y0``
    until the first free one (the column's best), each test starting with the box that
    blocked the row before (in a crowded region the same box blocks many rows in a row).
    Costs are compared as computed, so rounding ties still go to the lower ``i``, then ``j``.
    Testing every candidate against the boxes made legalising ibm17's spread placement take
    20 s vectorised and 0.8 s compiled.
    """
    half_w = w / 2
    half_h = h / 2
    jumps = h > 4 * tol_y  # blocked rows come in intervals (for boxes and macros above the tolerance)
    nx, ny, nb = xs.shape[0], ys.shape[0], xl.shape[0]
    best_i, best_j = -1, -1
    best_cost = np.inf
    cols = np.empty(nb, dtype=np.int64)
    ix = np.searchsorted(xs, x0)  # columns walked outward: left pointer ix - 1, right ix
    jy = np.searchsorted(ys, y0)
    left, right = ix - 1, ix
    while left >= 0 or right < nx:
        # the nearer of the two next columns; ties to the left (lower index)
        if right >= nx or (left >= 0 and x0 - xs[left] <= xs[right] - x0):
            i = left
            left -= 1
        else:
            i = right
            right += 1
        dx = abs(xs[i] - x0)
        if dx > radius or dx > best_cost:
            break  # every column left is at least as far
        # boxes met in x by a candidate box centred on this column
        k = 0
        for b in range(nb):
            if min(xs[i] + half_w, xh[b]) - max(xs[i] - half_w, xl[b]) > tol_x:
                cols[k] = b
                k += 1
        last = 0  # position in cols of the box that blocked the previous row
        down, up = jy - 1, jy
        while down >= 0 or up < ny:
            going_up = not (up >= ny or (down >= 0 and y0 - ys[down] <= ys[up] - y0))
            if going_up:
                j = up
                up += 1
            else:
                j = down
                down -= 1
            cost = dx + abs(ys[j] - y0)
            if cost > radius or cost > best_cost:
                break  # rows farther out cost more
            if cost <= searched:
                continue  # checked (and blocked) in a smaller window
            free = True
            for t in range(k):
                b = cols[(last + t) % k]
                if min(ys[j] + half_h, yh[b]) - max(ys[j] - half_h, yl[b]) > tol_y:
                    free = False
                    last = (last + t) % k
                    if jumps and yh[b] - yl[b] > 4 * tol_y:
                        # the rows a box blocks form one interval, (yl - h/2 + tol_y, yh + h/2 - tol_y)
                        # (the overlap is concave in the row): skip the rest of it in this
                        # direction, short of its ends by far more than rounding, where the
                        # rows are tested as usual
                        margin = 1e-12 * (abs(yl[b]) + abs(yh[b]) + h)
                        if going_up:
                            up = max(up, np.searchsorted(ys, yh[b] + half_h - tol_y - margin))
                        else:
                            down = min(
                                down,
                                np.searchsorted(ys, yl[b] - half_h + tol_y + margin, side="right")
                                - 1,
                            )
                    break
            if free and (
                cost < best_cost
                or (cost == best_cost and (i < best_i or (i == best_i and j < best_j)))
            ):
                best_i, best_j, best_cost = i, j, cost  # the walk goes on only through equal costs
    return best_i, best_j


def _nearest_legal(x0, y0, w, h, xl, xh, yl, yh, W, H, gap_x, gap_y, tol_x, tol_y):
    """Nearest (Manhattan) legal centre among abutting candidate coordinates (None: none).

    Searched in growing windows: candidates within Manhattan radius ``r`` of the wanted centre
    are checked, nearest first, only against the placed boxes that can reach them, and ``r``
    doubles until a legal one turns up. Same answer as checking every candidate against every
    box (ties go to the lower x, then the lower y), without the quadratic cost on designs with
    hundreds of overlapping macros.
    """
    lo_x, hi_x = min(w / 2, W / 2), max(W - w / 2, W / 2)
    lo_y, hi_y = min(h / 2, H / 2), max(H - h / 2, H / 2)
    xs_all = np.unique(
        np.clip(np.concatenate([[x0, lo_x, hi_x], xl - w / 2 - gap_x, xh + w / 2 + gap_x]), lo_x, hi_x)
    )
    ys_all = np.unique(
        np.clip(np.concatenate([[y0, lo_y, hi_y], yl - h / 2 - gap_y, yh + h / 2 + gap_y]), lo_y, hi_y)
    )
    widest = abs(W) + abs(H)
    radius = max(w, h, widest / 64)
    searched = -1.0  # candidates with cost <= searched were already checked
    while True:
        xs = xs_all[np.abs(xs_all - x0) <= radius]
        ys = ys_all[np.abs(ys_all - y0) <= radius]
        near = (xh > x0 - radius - w / 2) & (xl < x0 + radius + w / 2)
        near &= (yh > y0 - radius - h / 2) & (yl < y0 + radius + h / 2)
        bxl, bxh, byl, byh = xl[near], xh[near], yl[near], yh[near]
        i, j = _nearest_free(xs, ys, x0, y0, radius, searched, w, h, bxl, bxh, byl, byh, tol_x, tol_y)
        if i >= 0:
            return float(xs[i]), float(ys[j])
        if radius >= widest:
            return None
        searched = radius
        radius = min(2 * radius, widest)
