"""Vectorised kernels of sequential (one macro at a time) grid placement of hard macros.

Shared by the Gymnasium environment (``envs.macro_placement``), the RL placer and any
greedy / wire-mask method. A :class:`SequentialGridState` holds the hard macros placed so far
on the netlist's placement grid and answers, for the macro to place next and for every grid
cell at once:

* :meth:`legal_mask` -- the macro, centred at the cell centre, lies inside the canvas and
  overlaps no placed hard macro (interval tests turned into a 2-D difference array: O(placed +
  cells) per call, touching edges allowed);
* :meth:`wire_mask` -- the increase of weighted HPWL (microns) of the nets of the macro, each
  net's box taken over its *already placed* pins (ports, placed hard macros and, optionally,
  soft macros at their given positions). The increase separates into a per-column plus a
  per-row term, so the whole map costs O(nets of the macro x (rows + cols)) (the "wire mask"
  of MaskPlace / WireMask-EA);
* :meth:`density_mask` -- the soft-macro density the macro would cover (the same in every
  episode: a :class:`~placer.algorithms.density_masks.DensityMaskCache` passed in keeps it
  across them);
* :meth:`occupancy` and :meth:`rudy` -- placed-macro area per cell and a RUDY congestion
  estimate of the placed pins' boxes.

No cost is computed here: the exact proxy cost lives in :mod:`placer.cost`.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

import numpy as np

from netlists.errors import InputError
from netlists.model import Netlist, Placement, orient_offsets
from placer.algorithms.density_masks import DensityMaskCache, DensityMasks
from placer.algorithms.legality import axis_tolerances
from placer.cost.context import cost_context
from placer.cost.density import density_grid, top_count

#: Relative tolerance below which two macros are not said to overlap nor a macro to stick out:
#: x the canvas's width in x, x its height in y (each axis's rounding is relative to its extent).
OVERLAP_EPS = 1e-9

#: Orders in which the hard macros can be placed.
ORDERS = ("area", "degree", "file")


@dataclass(frozen=True, eq=False)
class HardMacroPins:
    """Static per-netlist arrays: for every hard macro, its net-pin entries (CSR).

    ``entries[ptr[i]:ptr[i+1]]`` are the net-pin entries (indices into ``netlist.net_pins``)
    that move with hard macro ``hard[i]``; ``degree[i]`` is the number of distinct nets.
    """

    hard: np.ndarray
    ptr: np.ndarray
    entries: np.ndarray
    degree: np.ndarray


_PINS_CACHE: weakref.WeakKeyDictionary[Netlist, HardMacroPins] = weakref.WeakKeyDictionary()


def hard_macro_pins(netlist: Netlist) -> HardMacroPins:
    """The (cached) :class:`HardMacroPins` of ``netlist``."""
    got = _PINS_CACHE.get(netlist)
    if got is not None:
        return got
    ctx = cost_context(netlist)
    hard = ctx.hard
    slot = np.full(netlist.n_nodes, -1, dtype=np.int64)
    slot[hard] = np.arange(hard.size)
    owner = slot[ctx.entry_anchor]
    keep = np.flatnonzero(owner >= 0)
    order = keep[np.argsort(owner[keep], kind="stable")]
    counts = np.bincount(owner[keep], minlength=hard.size)
    ptr = np.zeros(hard.size + 1, dtype=np.int64)
    np.cumsum(counts, out=ptr[1:])
    degree = np.zeros(hard.size, dtype=np.int64)
    if order.size:
        pair = np.unique(owner[order] * max(ctx.n_nets, 1) + ctx.entry_net[order])
        degree = np.bincount(pair // max(ctx.n_nets, 1), minlength=hard.size)
    got = HardMacroPins(hard=hard, ptr=ptr, entries=order, degree=degree)
    _PINS_CACHE[netlist] = got
    return got


def placement_order(netlist: Netlist, order: str = "area") -> np.ndarray:
    """Hard macro node indices in placing order.

    ``area``: decreasing area (ties: more nets first, then file order) -- big macros first, as
    in Circuit Training; ``degree``: more distinct nets first (ties: larger area);
    ``file``: file order.
    """
    pins = hard_macro_pins(netlist)
    hard = pins.hard
    area = netlist.width[hard] * netlist.height[hard]
    if order == "area":
        idx = np.lexsort((np.arange(hard.size), -pins.degree, -area))
    elif order == "degree":
        idx = np.lexsort((np.arange(hard.size), -area, -pins.degree))
    elif order == "file":
        idx = np.arange(hard.size)
    else:
        raise InputError(f"unknown macro order {order!r}; choose one of {ORDERS}")
    return hard[idx]


def auto_grid(netlist: Netlist, max_grid: int = 64) -> tuple[int, int]:
    """``(cols, rows)`` of a placing grid fine enough for cell-centre placement.

    The canvas grid when its cells are at most 0.65 x the median hard macro side (sqrt of area;
    ibm01: 0.63, it keeps its 45 x 41); otherwise about three cells per median *short* side of
    the hard macros (synthetic designs have about one macro per canvas cell, too coarse to pack
    them at cell centres; ariane133's 2:1 SRAMs at three cells per sqrt-area side left every
    wire-mask-greedy episode without a legal cell for the last macros, as centres snap to whole
    cells along the short side); at most ``max_grid`` per side.
    """
    c = netlist.require_canvas()
    hard = netlist.hard_macros
    sized = hard[(netlist.width[hard] > 0) & (netlist.height[hard] > 0)]  # zero-size ones fit anywhere
    if sized.size == 0:
        return min(c.cols, max_grid), min(c.rows, max_grid)
    side = float(np.median(np.sqrt(netlist.width[sized] * netlist.height[sized])))
    if c.width / c.cols <= 0.65 * side and c.height / c.rows <= 0.65 * side:
        cols, rows = c.cols, c.rows
    else:
        short = float(np.median(np.minimum(netlist.width[sized], netlist.height[sized])))
        cols = max(c.cols, int(np.ceil(3 * c.width / short)))
        rows = max(c.rows, int(np.ceil(3 * c.height / short)))
    cols = _count_where_all_fit(min(cols, max_grid), c.width, netlist.width[hard], max_grid)
    rows = _count_where_all_fit(min(rows, max_grid), c.height, netlist.height[hard], max_grid)
    return cols, rows


def _count_where_all_fit(count: int, length: float, sizes: np.ndarray, most: int) -> int:
    """``count`` cells along a side of ``length``, or the nearest count up to ``most`` at which
    every macro size fits centred on some cell centre (a macro nearly as wide as the canvas
    fits only a centre near the middle: an even count has none there); ``count`` when none."""

    def all_fit(n: int) -> bool:
        cell = length / n
        lo = np.ceil(sizes / 2 / cell - 0.5 - 1e-9)  # first centre index with room on the left
        hi = np.floor((length - sizes / 2) / cell - 0.5 + 1e-9)  # last with room on the right
        return bool(np.all(lo <= hi))

    for step in range(most):
        for n in (count + step, count - step):
            if 1 <= n <= most and all_fit(n):
                return n
    return count


def prefix_sum(grid: np.ndarray) -> np.ndarray:
    """2-D prefix sum with a zero first row and column (for window sums in O(1) each)."""
    out = np.zeros((grid.shape[0] + 1, grid.shape[1] + 1))
    out[1:, 1:] = grid.cumsum(0).cumsum(1)
    return out


def _index_ranges(lo: np.ndarray, hi: np.ndarray, step: float, n: int) -> tuple[np.ndarray, np.ndarray]:
    """First and last cell index ``k`` whose centre ``(k + 0.5) * step`` lies in ``(lo, hi)``."""
    first = np.floor(lo / step - 0.5).astype(np.int64) + 1
    last = np.ceil(hi / step - 0.5).astype(np.int64) - 1
    return np.clip(first, 0, n), np.clip(last, -1, n - 1)


class SequentialGridState:
    """Hard macros placed one by one onto grid-cell centres (see module docstring).

    Args:
        netlist: the design; its canvas sets the grid.
        placement: positions of ports and soft macros, and orientations of all nodes; hard
            macros of ``order`` start unplaced (their positions are ignored), the others (e.g.
            fixed ones) stay where ``placement`` has them and count as placed from the start.
        order: hard macro node indices in placing order (default :func:`placement_order`).
        soft_macros_placed: count soft-macro pins, at their given positions, as placed pins in
            the wire mask (default False: only ports and placed hard macros).
        grid: ``(cols, rows)`` of the placing grid (default: the canvas grid); see
            :func:`auto_grid` for a finer one when macros are small against the canvas cells.
        density_cache: where the density masks of earlier states of the same design (the
            env's earlier episodes) are kept; the masks then come from it, read-only (default
            None: each computed afresh on every call).
    """

    #: (a class default too: a state pickled in a training run's state before the density
    #: masks had an object of their own has none, and makes one on its first mask)
    _density_masks: DensityMasks | None = None
    _density_cached = False

    def __init__(
        self,
        netlist: Netlist,
        placement: Placement,
        order: np.ndarray | None = None,
        soft_macros_placed: bool = False,
        grid: tuple[int, int] | None = None,
        density_cache: DensityMaskCache | None = None,
    ) -> None:
        self.netlist = netlist
        self.canvas = c = netlist.require_canvas()
        self.cols, self.rows = (c.cols, c.rows) if grid is None else (int(grid[0]), int(grid[1]))
        self.cell_w, self.cell_h = c.width / self.cols, c.height / self.rows
        self.col_x = (np.arange(self.cols) + 0.5) * self.cell_w
        self.row_y = (np.arange(self.rows) + 0.5) * self.cell_h
        self._grid_canvas = c.replace(cols=self.cols, rows=self.rows)
        self.ctx = ctx = cost_context(netlist)
        self.pins = hard_macro_pins(netlist)
        self.order = placement_order(netlist) if order is None else np.asarray(order, dtype=np.int64)
        self.placement = placement.copy()
        slot = np.full(netlist.n_nodes, -1, dtype=np.int64)
        slot[self.pins.hard] = np.arange(self.pins.hard.size)
        slot.flags.writeable = False  # handed out as is by :attr:`hard_macro_slot`
        self._slot = slot
        self.step_index = 0
        #: hard macros outside ``order``: in place from the start (obstacles, placed pins)
        self.preplaced = np.setdiff1d(netlist.hard_macros, self.order)
        # placed hard-macro rectangles (centre and size): the pre-placed ones, then in placing order
        k = self._base = self.preplaced.size
        n = k + self.order.size
        pre = self.preplaced
        self._px = np.concatenate([placement.x[pre], np.zeros(n - k)])
        self._py = np.concatenate([placement.y[pre], np.zeros(n - k)])
        self._pw = np.concatenate([netlist.width[pre], np.zeros(n - k)])
        self._ph = np.concatenate([netlist.height[pre], np.zeros(n - k)])
        self._obstacle = np.ones(n, dtype=bool)  # False for macros passed over by :meth:`skip`
        self._occupancy = np.zeros((self.rows, self.cols))
        if k:
            self._occupancy += density_grid(self._grid_canvas, self._px[:k], self._py[:k], self._pw[:k], self._ph[:k])
        # per-net box of placed pins (+inf / -inf when empty)
        self._lo_x = np.full(ctx.n_nets, np.inf)
        self._hi_x = np.full(ctx.n_nets, -np.inf)
        self._lo_y = np.full(ctx.n_nets, np.inf)
        self._hi_y = np.full(ctx.n_nets, -np.inf)
        anchor_type = netlist.node_type[ctx.entry_anchor]
        fixed_kinds = [0] + ([2] if soft_macros_placed else [])  # PORT, SOFT_MACRO
        seed_entries = np.flatnonzero(np.isin(anchor_type, fixed_kinds))
        self._add_entries(seed_entries)
        for node in pre:
            i = slot[node]
            self._add_entries(self.pins.entries[self.pins.ptr[i] : self.pins.ptr[i + 1]])
        # soft-macro density of the given placement on the proxy's density grid (for the density
        # mask: hard macros covering dense soft-macro areas push those cells up)
        soft = netlist.soft_macros
        soft_density = density_grid(c, placement.x[soft], placement.y[soft], netlist.width[soft], netlist.height[soft])
        self._soft_prefix = prefix_sum(soft_density)
        self._density_cached = density_cache is not None
        if density_cache is not None:
            self._density_masks = density_cache.masks(c, self.col_x, self.row_y, self._soft_prefix)
            self._soft_prefix = self._density_masks.soft_prefix  # (the same bits, held once)
        else:
            self._density_masks = DensityMasks(c, self.col_x, self.row_y, self._soft_prefix)
        self._density_top = max(top_count(c.rows * c.cols), 1)
        self.wl_norm = (c.width + c.height) * ctx.net_cnt

    # ------------------------------------------------------------------ queries
    @property
    def done(self) -> bool:
        return self.step_index >= self.order.size

    @property
    def current(self) -> int:
        """Node index of the macro to place next (-1 when all are placed)."""
        return int(self.order[self.step_index]) if not self.done else -1

    @property
    def n_placed(self) -> int:
        return self.step_index

    @property
    def hard_macro_slot(self) -> np.ndarray:
        """Per node, its index in ``pins.hard`` (the hard macro's row in per-macro arrays, such
        as the env's graph node features), -1 for nodes that are not hard macros.

        The state's own array, read-only (no copy: the env reads it every step)."""
        return self._slot

    def legal_mask(self, node: int | None = None) -> np.ndarray:
        """``(rows, cols)`` bool: cells where ``node`` (default: the current macro) fits."""
        node = self.current if node is None else node
        c = self.canvas
        ex, ey = axis_tolerances(c, OVERLAP_EPS)
        w, h = float(self.netlist.width[node]), float(self.netlist.height[node])
        inside_x = (self.col_x - w / 2 >= -ex) & (self.col_x + w / 2 <= c.width + ex)
        inside_y = (self.row_y - h / 2 >= -ey) & (self.row_y + h / 2 <= c.height + ey)
        mask = inside_y[:, None] & inside_x[None, :]
        n = self._base + self.step_index
        if n == 0 or not mask.any():
            return mask
        px, py, pw, ph = self._px[:n], self._py[:n], self._pw[:n], self._ph[:n]
        # centres closer than (w + pw)/2 - ex in x AND (h + ph)/2 - ey in y overlap
        c0, c1 = _index_ranges(px - (w + pw) / 2 + ex, px + (w + pw) / 2 - ex, self.cell_w, self.cols)
        r0, r1 = _index_ranges(py - (h + ph) / 2 + ey, py + (h + ph) / 2 - ey, self.cell_h, self.rows)
        ok = (c0 <= c1) & (r0 <= r1) & self._obstacle[:n]
        c0, c1, r0, r1 = c0[ok], c1[ok] + 1, r0[ok], r1[ok] + 1
        width = self.cols + 1
        idx = np.concatenate([r0 * width + c0, r0 * width + c1, r1 * width + c0, r1 * width + c1])
        sign = np.concatenate([np.ones_like(c0), -np.ones_like(c0), -np.ones_like(c0), np.ones_like(c0)])
        diff = np.bincount(idx, weights=sign, minlength=(self.rows + 1) * width).reshape(self.rows + 1, width)
        blocked = diff.cumsum(axis=0).cumsum(axis=1)[: self.rows, : self.cols] > 0.5
        return mask & ~blocked

    def _macro_offsets(self, node: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Nets and turned pin offsets of the entries of hard macro ``node``."""
        i = self._slot[node]
        e = self.pins.entries[self.pins.ptr[i] : self.pins.ptr[i + 1]]
        ox, oy = orient_offsets(
            self.ctx.entry_dx[e], self.ctx.entry_dy[e], np.full(e.size, self.placement.orientation[node])
        )
        return self.ctx.entry_net[e], ox, oy

    def wire_mask(self, node: int | None = None) -> np.ndarray:
        """``(rows, cols)`` increase of weighted HPWL (microns) if ``node`` goes to each cell."""
        node = self.current if node is None else node
        nets, ox, oy = self._macro_offsets(node)
        if nets.size == 0:
            return np.zeros((self.rows, self.cols))
        uniq, first = np.unique(nets, return_index=True)
        if uniq.size == nets.size:  # one pin per net: no reduction needed
            order = first
            lo_ox, hi_ox, lo_oy, hi_oy = ox[order], ox[order], oy[order], oy[order]
        else:
            srt = np.argsort(nets, kind="stable")
            starts = np.searchsorted(nets[srt], uniq)
            lo_ox, hi_ox = np.minimum.reduceat(ox[srt], starts), np.maximum.reduceat(ox[srt], starts)
            lo_oy, hi_oy = np.minimum.reduceat(oy[srt], starts), np.maximum.reduceat(oy[srt], starts)
        w = self.ctx.net_weight[uniq]
        fx = self._axis_increase(self._lo_x[uniq], self._hi_x[uniq], lo_ox, hi_ox, self.col_x, w)
        fy = self._axis_increase(self._lo_y[uniq], self._hi_y[uniq], lo_oy, hi_oy, self.row_y, w)
        return fy[:, None] + fx[None, :]

    @staticmethod
    def _axis_increase(
        lo: np.ndarray, hi: np.ndarray, off_lo: np.ndarray, off_hi: np.ndarray, centres: np.ndarray, w: np.ndarray
    ) -> np.ndarray:
        """Weighted span increase along one axis, per candidate centre coordinate."""
        new_lo = np.minimum(lo[:, None], centres[None, :] + off_lo[:, None])
        new_hi = np.maximum(hi[:, None], centres[None, :] + off_hi[:, None])
        old = np.where(np.isfinite(lo), hi - lo, 0.0)
        # (numpy's own loop, not BLAS's gemv: its order, and the mask's last bits, would follow
        # the thread count)
        return np.einsum("n,nc->c", w, (new_hi - new_lo) - old[:, None])

    def density_mask(self, node: int | None = None, fresh: bool = False) -> np.ndarray:
        """``(rows, cols)`` soft-macro density (sum of cell fractions of the proxy's density
        grid, soft macros where the given placement has them) that ``node`` (default: the
        current macro) would cover if centred at each cell
        (:func:`~placer.algorithms.density_masks.covered_density`).

        From the ``density_cache`` when the state was given one (a read-only array, shared by
        the episodes of the design); computed afresh otherwise, or when ``fresh``."""
        node = self.current if node is None else node
        w, h = float(self.netlist.width[node]), float(self.netlist.height[node])
        masks = self._density_masks
        if masks is None:  # (a state unpickled from before the masks had an object)
            masks = self._density_masks = DensityMasks(self.canvas, self.col_x, self.row_y, self._soft_prefix)
        if self._density_cached and not fresh:
            return masks.mask(w, h)
        return masks.compute(w, h)

    def cost_mask(
        self, density_weight: float = 0.0, node: int | None = None,
        wire: np.ndarray | None = None, density: np.ndarray | None = None,
    ) -> np.ndarray:
        """``(rows, cols)`` the greedy placer's cell score: the wire mask over ``(W + H) x``
        net count (the proxy's wirelength normaliser) plus ``density_weight`` x the density mask
        over the number of cells the density cost averages. ``wire`` / ``density``: those
        masks of ``node`` when the caller has them already (the RL env computed each twice)."""
        score = (self.wire_mask(node) if wire is None else wire) / self.wl_norm
        if density_weight:
            score = score + density_weight * (self.density_mask(node) if density is None else density) / self._density_top
        return score

    def occupancy(self) -> np.ndarray:
        """``(rows, cols)`` area of placed hard macros per cell over the cell area."""
        return self._occupancy

    def rudy(self) -> np.ndarray:
        """``(rows, cols)`` RUDY estimate: each net with placed pins spreads
        ``weight * (box width + box height)`` uniformly over the cells its box touches
        (microns of wire per cell)."""
        finite = np.flatnonzero(np.isfinite(self._lo_x))
        if finite.size == 0:
            return np.zeros((self.rows, self.cols))
        lo_x, hi_x = self._lo_x[finite], self._hi_x[finite]
        lo_y, hi_y = self._lo_y[finite], self._hi_y[finite]
        c0 = np.clip(np.floor(lo_x / self.cell_w).astype(np.int64), 0, self.cols - 1)
        c1 = np.clip(np.floor(hi_x / self.cell_w).astype(np.int64), 0, self.cols - 1) + 1
        r0 = np.clip(np.floor(lo_y / self.cell_h).astype(np.int64), 0, self.rows - 1)
        r1 = np.clip(np.floor(hi_y / self.cell_h).astype(np.int64), 0, self.rows - 1) + 1
        value = self.ctx.route_weight[finite] * ((hi_x - lo_x) + (hi_y - lo_y)) / ((c1 - c0) * (r1 - r0))
        width = self.cols + 1
        idx = np.concatenate([r0 * width + c0, r0 * width + c1, r1 * width + c0, r1 * width + c1])
        val = np.concatenate([value, -value, -value, value])
        diff = np.bincount(idx, weights=val, minlength=(self.rows + 1) * width).reshape(self.rows + 1, width)
        total = diff.cumsum(axis=0).cumsum(axis=1)[: self.rows, : self.cols]
        return np.maximum(total, 0.0)  # the prefix sums leave -1e-16s where the demand is 0

    def cell_centre(self, row: int, col: int) -> tuple[float, float]:
        return float(self.col_x[col]), float(self.row_y[row])

    # ------------------------------------------------------------------ updates
    def _add_entries(self, entries: np.ndarray) -> None:
        """Grow the boxes of the nets of ``entries`` by their current positions."""
        if entries.size == 0:
            return
        x, y = self.ctx.entry_positions(self.placement, entries)
        nets = self.ctx.entry_net[entries]
        np.minimum.at(self._lo_x, nets, x)
        np.maximum.at(self._hi_x, nets, x)
        np.minimum.at(self._lo_y, nets, y)
        np.maximum.at(self._hi_y, nets, y)

    def skip(self) -> int:
        """Pass over the current macro, which keeps its given position: no obstacle for the
        macros after it (a legaliser fits it in later), but its pins count as placed there.
        Returns its node."""
        if self.done:
            raise RuntimeError("all hard macros are already placed")
        node = self.current
        n = self._base + self.step_index
        self._obstacle[n] = False
        i = self._slot[node]
        self._add_entries(self.pins.entries[self.pins.ptr[i] : self.pins.ptr[i + 1]])
        self.step_index += 1
        return node

    def place(self, row: int, col: int) -> int:
        """Put the current macro's centre at cell ``(row, col)``'s centre; returns its node.

        The caller checks legality (:meth:`legal_mask`); this only records the move.
        """
        if self.done:
            raise RuntimeError("all hard macros are already placed")
        node = self.current
        x, y = self.cell_centre(row, col)
        self.placement.x[node] = x
        self.placement.y[node] = y
        n = self._base + self.step_index
        w, h = float(self.netlist.width[node]), float(self.netlist.height[node])
        self._px[n], self._py[n], self._pw[n], self._ph[n] = x, y, w, h
        self._occupancy += density_grid(self._grid_canvas, np.array([x]), np.array([y]), np.array([w]), np.array([h]))
        i = self._slot[node]
        self._add_entries(self.pins.entries[self.pins.ptr[i] : self.pins.ptr[i + 1]])
        self.step_index += 1
        return node
