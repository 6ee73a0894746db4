"""Incremental proxy-cost evaluation: price a move of a few nodes without a full recompute.

:class:`IncrementalEvaluator` holds a placement with its per-pin positions and cells, per-net
half-perimeters, raw net routing demand, density grid, macro blockage and the final
congestion maps. :meth:`~IncrementalEvaluator.propose` prices a move with the compiled kernels
of :mod:`placer.cost.move_kernel` (only the nets touching the moved nodes and the cells the
move reaches are visited) and returns a :class:`Move` with the new cost;
:meth:`~IncrementalEvaluator.commit` applies it. Route demand is integer-valued on the
benchmarks (exact); the float sums (weighted HPWL, density, smoothed congestion) are
re-synchronised from scratch every ``resync_every`` commits so rounding never drifts (the
result equals :func:`placer.cost.proxy.evaluate` to ~1e-12 relative while the net weights
span up to about 1e6; wider spans drift more between re-syncs: see
:class:`IncrementalEvaluator`).

This is the hot path of simulated annealing, local search and the RL environment.
"""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np

from netlists.errors import InputError
from netlists.model import (
    MAX_MAGNITUDE,
    ORIENTATIONS,
    Netlist,
    NodeType,
    Placement,
    check_orientation_codes,
    invalid_orientation_codes,
    orient_offsets,
)
from placer.cost.arrays import sorted_unique
from placer.cost.congestion import (
    congestion_cost,
    top_count,
)
from placer.cost.context import CostContext, check_placement, cost_context
from placer.cost.density import density_cost, macro_overlaps
from placer.cost.density import top_count as density_top_count
from placer.cost.grid import cell_rows_cols, cover_counts, overlap_grid
from placer.cost.move_kernel import (
    apply,
    excess_delta,
    price,
    top_mean_congestion,
    top_mean_density,
)
from placer.cost.proxy import (
    CostMaps,
    ProxyCost,
    congestion_maps,
    evaluate,
    hard_macro_blockage,
    net_terms,
)
from placer.cost.topk_kernel import build_candidates, crosses_floor


def _read_only(array: np.ndarray) -> np.ndarray:
    """A read-only view of ``array`` (the array itself stays writable)."""
    view = array.view()
    view.flags.writeable = False
    return view


class ReadOnlyPlacement:
    """For an evaluator that keeps its committed placement as ``_placement``: ``placement`` is
    read-only views of its arrays (a write there left the evaluator's cached arrays stale, its
    figures silently wrong), views of a copy's own arrays once unpickled or deep-copied."""

    _placement: Placement
    placement: Placement

    def _expose_placement(self) -> None:
        own = self._placement
        self.placement = Placement(*(_read_only(a) for a in (own.x, own.y, own.orientation, own.fixed)))

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._expose_placement()


def set_checked_positions(
    netlist: Netlist,
    ctx: CostContext,
    own: Placement,
    nodes: np.ndarray | slice,
    x: np.ndarray | float,
    y: np.ndarray | float,
    orientation: np.ndarray | int | None,
) -> None:
    """Write ``nodes``' positions (and orientations) into an evaluator's ``own`` placement,
    checked as a placement a cost can be computed from; on a refusal (ValueError, or numpy's
    TypeError / IndexError) ``own`` is left as it was."""
    if orientation is not None and np.any(invalid_orientation_codes(orientation)):
        raise InputError(f"orientation codes are whole numbers 0-7, got {orientation!r}")
    before = own.copy()
    try:  # a shape numpy refuses half way (x written, y not) is undone as a bad value is
        own.x[nodes], own.y[nodes] = x, y
        if orientation is not None:
            own.orientation[nodes] = orientation
        check_placement(netlist, ctx, own)
    except Exception:  # (numpy's TypeError for a value of no number type too)
        own.x[:], own.y[:], own.orientation[:] = before.x, before.y, before.orientation
        raise


def csr_groups(keys: np.ndarray, values: np.ndarray, n_keys: int) -> tuple[np.ndarray, np.ndarray]:
    """Group ``values`` by ``keys`` into (ptr, values) CSR arrays, each group in ``values``' order."""
    order = np.argsort(keys, kind="stable")
    ptr = np.zeros(n_keys + 1, dtype=np.int64)
    np.cumsum(np.bincount(keys, minlength=n_keys), out=ptr[1:])
    return ptr, values[order]


def _orientation_matrix() -> np.ndarray:
    """``(8, 4)`` rows ``(a, b, c, d)``: an offset (dx, dy) turns into (a dx + b dy, c dx + d dy)."""
    codes = np.arange(len(ORIENTATIONS))
    one, zero = np.ones(codes.size), np.zeros(codes.size)
    ax, ay = orient_offsets(one, zero, codes)
    bx, by = orient_offsets(zero, one, codes)
    return np.ascontiguousarray(np.stack([ax, bx, ay, by], axis=1), dtype=np.float64)


#: Pricing tokens, unique across evaluators: a move priced by another evaluator (of the same
#: netlist, say) never passes for this one's latest pricing, whose deltas its scratch holds.
_PRICINGS = itertools.count(1)


def checked_move(
    netlist: Netlist,
    placement: Placement,
    nodes: np.ndarray | list[int],
    x: np.ndarray | list[float],
    y: np.ndarray | list[float],
    orientation: np.ndarray | list[int] | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A move's ``(nodes, x, y, orientation)`` as fresh int64 / float64 / int8 arrays, checked:
    distinct ports or macros, one length, finite coordinates of at most ``MAX_MAGNITUDE``,
    orientation codes 0-7 (``None``: the nodes' own in ``placement``).

    Raises:
        ValueError: naming what is wrong.
    """
    given = np.asarray(nodes)
    has_bool = given.dtype.kind == "b" or (  # (a list mixing bools and ints reads as ints)
        not isinstance(nodes, np.ndarray) and any(isinstance(v, bool | np.bool_) for v in np.ravel(np.asarray(nodes, dtype=object))))
    if has_bool or (given.size and given.dtype.kind not in "iu"):  # (48.7 moved node 48, True node 1,
        # [True, 29] became [1, 29])
        raise InputError(f"node indices must be integers (no floats or bools), got {given.tolist()!r}")
    nodes = np.array(given, dtype=np.int64, ndmin=1)
    x = np.array(x, dtype=np.float64, ndmin=1)
    y = np.array(y, dtype=np.float64, ndmin=1)
    if np.any((nodes < 0) | (nodes >= netlist.n_nodes)):
        raise InputError(f"node indices are 0-{netlist.n_nodes - 1}, got {nodes.tolist()}")
    if orientation is None:
        orient = placement.orientation[nodes]
    else:
        codes = np.array(orientation, ndmin=1)
        if codes.shape == nodes.shape and np.any(invalid_orientation_codes(codes)):
            raise InputError(f"orientation codes are whole numbers 0-7, got {codes.tolist()}")
        orient = codes.astype(np.int8)
    shapes = {a.shape for a in (nodes, x, y, orient)}
    if len(shapes) != 1 or nodes.ndim != 1:
        raise InputError(
            "nodes, x, y and orientation must be flat and of one length, got shapes "
            f"{nodes.shape}, {x.shape}, {y.shape}, {orient.shape}"
        )
    if np.any(netlist.node_type[nodes] >= int(NodeType.HARD_PIN)):
        raise InputError("only ports and macros can be moved; pins follow their macro")
    if nodes.size > 1 and np.unique(nodes).size != nodes.size:
        raise InputError("a node appears twice in one move")
    if not (np.all(np.abs(x) <= MAX_MAGNITUDE) and np.all(np.abs(y) <= MAX_MAGNITUDE)):
        # as the file readers: far beyond, the running wirelength sum loses its small terms
        raise InputError(
            f"a move's coordinates must be finite numbers of at most {MAX_MAGNITUDE:g} in size"
        )
    return nodes, x, y, orient


class Move:
    """A priced, uncommitted change of some nodes' positions / orientations.

    ``nodes``, ``x``, ``y`` and ``orientation`` are read-only views: a commit applies the costs
    priced for exactly these positions (an edited ``move.x`` was committed with the old
    position's deltas, the evaluator's figures wrong until its next resync); to try other
    positions, price a new move. The move keeps its arrays writable underneath, for the compiled
    kernels: numba reads a read-only array's type through its slow path, 20-40 us a move.
    """

    __slots__ = ("_nodes", "_x", "_y", "_orientation", "cost", "_token", "_dwl", "_flags")

    def __init__(
        self, nodes: np.ndarray, x: np.ndarray, y: np.ndarray, orientation: np.ndarray, cost: ProxyCost,
        token: int, dwl: float, flags: int,
    ) -> None:
        self._nodes, self._x, self._y, self._orientation = nodes, x, y, orientation
        self.cost = cost
        self._token = token  # the evaluator's pricing that left this move's deltas in its scratch arrays
        self._dwl = dwl  # change of the weighted HPWL
        self._flags = flags  # bit 0 / 1: density / congestion top-k recomputed

    @property
    def nodes(self) -> np.ndarray:
        """The moved nodes (read-only)."""
        return _read_only(self._nodes)

    @property
    def x(self) -> np.ndarray:
        """Their new centres' x (read-only)."""
        return _read_only(self._x)

    @property
    def y(self) -> np.ndarray:
        """Their new centres' y (read-only)."""
        return _read_only(self._y)

    @property
    def orientation(self) -> np.ndarray:
        """Their new orientation codes (read-only)."""
        return _read_only(self._orientation)

    @property
    def proxy(self) -> float:
        """The proxy cost with the move applied."""
        return self.cost.proxy

    def __repr__(self) -> str:
        return (f"Move(nodes={self._nodes!r}, x={self._x!r}, y={self._y!r}, orientation={self._orientation!r}, "
                f"cost={self.cost!r})")


class IncrementalEvaluator(ReadOnlyPlacement):
    """Holds a placement and prices moves / swaps / orientation changes of its nodes.

    Pricing runs the compiled kernels of :mod:`placer.cost.move_kernel`: the work is
    proportional to the pins and cells a move touches. Committing the latest priced move is
    immediate; committing an older one prices it again first.

    Precision: the routing and density maps are running sums, exact to rounding (about 1e-15
    of the cost) while the net weights stay within a few orders of magnitude of one another.
    Weights spanning many more (1e9 beside 1.1, which the readers take) lose the light nets'
    low bits in the sums: 1e-8 of the congestion at 1e9, 1e-5 at 1e12, until :meth:`resync`
    (every ``resync_every`` commits). A term that should be exactly 0 may read as about
    1e-16, either sign.

    Args:
        netlist: netlist with its canvas set.
        placement: starting placement (copied; read the current one from ``.placement``).
        resync_every: commits between full re-synchronisations of the float state.
        topk_candidates: price the density and congestion top-k from candidate sets of the
            largest values (:mod:`placer.cost.topk_kernel`; same results, fewer values
            partitioned) instead of from the whole maps.
    """

    def __init__(
        self,
        netlist: Netlist,
        placement: Placement,
        resync_every: int = 5000,
        topk_candidates: bool = True,
    ) -> None:
        self.netlist = netlist
        self.ctx = cost_context(netlist)
        check_placement(netlist, self.ctx, placement)
        # (soft macros too: their codes are kept and written into .plc files)
        check_orientation_codes(netlist, placement, netlist.macros)
        p = placement.copy()
        self._placement = Placement(  # the evaluator's own, written by commits
            np.ascontiguousarray(p.x, dtype=np.float64),
            np.ascontiguousarray(p.y, dtype=np.float64),
            np.ascontiguousarray(p.orientation, dtype=np.int8),
            p.fixed,
        )
        self._expose_placement()
        self.resync_every = resync_every
        ctx = self.ctx
        n = netlist.n_nodes
        self._entry_ptr, self._entry_of = csr_groups(
            ctx.entry_anchor, np.arange(ctx.entry_anchor.size, dtype=np.int64), n
        )
        pairs = sorted_unique(ctx.entry_anchor * max(ctx.n_nets, 1) + ctx.entry_net)
        self._net_ptr, self._nets_of = csr_groups(
            pairs // max(ctx.n_nets, 1), pairs % max(ctx.n_nets, 1), n
        )
        self._net_entries = np.append(ctx.net_start, ctx.entry_anchor.size).astype(np.int64)
        t = netlist.node_type
        self._is_macro = (t == int(NodeType.HARD_MACRO)) | (t == int(NodeType.SOFT_MACRO))
        self._is_hard = t == int(NodeType.HARD_MACRO)
        self._width = np.ascontiguousarray(netlist.width, dtype=np.float64)
        self._height = np.ascontiguousarray(netlist.height, dtype=np.float64)
        c = ctx.canvas
        cw, ch = c.width / c.cols, c.height / c.rows
        self._cell_area = cw * ch
        self._geo = np.array(
            [
                cw,
                ch,
                cw * c.vroutes_per_micron,
                ch * c.hroutes_per_micron,
                c.vrouting_alloc,
                c.hrouting_alloc,
                self._cell_area,
            ],
            dtype=np.float64,
        )
        self._orient = _orientation_matrix()
        P, N, R, C = ctx.entry_anchor.size, ctx.n_nets, c.rows, c.cols
        max_net = int(np.max(np.diff(self._net_entries))) if N else 1
        self._slot = np.full(P, -1, dtype=np.int64)
        self._m_ent = np.zeros(P, dtype=np.int64)
        self._m_ex, self._m_ey = np.zeros(P), np.zeros(P)
        self._m_r, self._m_c = np.zeros(P, dtype=np.int64), np.zeros(P, dtype=np.int64)
        self._net_mark = np.zeros(max(N, 1), dtype=np.bool_)
        self._m_nets = np.zeros(max(N, 1), dtype=np.int64)
        self._m_hpwl = np.zeros(max(N, 1))
        self._cells = np.zeros(max(max_net, 1), dtype=np.int64)
        dV, dH, dVm, dHm, dD, dVt, dHt, dN = (np.zeros((R, C)) for _ in range(8))
        self._deltas = (dV, dH, dVm, dHm, dD, dVt, dHt, dN)  # (eight: the kernels' eight arguments)
        self._zero_map = np.zeros((R, C))  # stays zero: the unused map of density_excess_delta
        self._box = np.array([0, -1, 0, -1], dtype=np.int64)
        self._counts = np.zeros(2, dtype=np.int64)
        self._token = next(_PRICINGS)
        self._commits = 0
        # top-k candidate sets: about twice the top count of each cost (0: always in full)
        n_cells = R * C
        self._keep = (
            (
                min(2 * n_cells, 2 * top_count(2 * n_cells) + 32),
                min(n_cells, 2 * density_top_count(n_cells) + 32),
            )
            if topk_candidates
            else (0, 0)
        )
        self._cong_cand = np.zeros(2 * n_cells, dtype=np.int64)
        self._dens_cand = np.zeros(n_cells, dtype=np.int64)
        self._cand_n = np.zeros(2, dtype=np.int64)
        self._cand_floor = [np.inf, np.inf]
        self._topk_buf = np.zeros(4 * n_cells)
        self.resync()
        self._warm_up()

    def __repr__(self) -> str:
        return (f"IncrementalEvaluator(netlist={self.netlist.name!r}, proxy={self._cost.proxy!r}, "
                f"commits={self._commits}, resync_every={self.resync_every})")

    def _warm_up(self) -> None:
        """Price and commit a no-op move, so that the kernels are compiled (the first time in a
        process, about 20 s without numba's cache) here and not inside a search's time budget."""
        movable = np.flatnonzero(self._is_macro | (self.netlist.node_type == int(NodeType.PORT)))
        if movable.size == 0:
            return
        i = movable[:1]
        p = self._placement
        self.commit(self._price(i, p.x[i].copy(), p.y[i].copy(), p.orientation[i].copy()))
        self._commits = 0

    # ------------------------------------------------------------------ state
    def set_positions(
        self,
        nodes: np.ndarray | slice,
        x: np.ndarray | float,
        y: np.ndarray | float,
        orientation: np.ndarray | int | None = None,
    ) -> None:
        """Set ``nodes``' centres (and orientations) without pricing, then recompute every
        cached array (:meth:`resync`): for wholesale changes such as restoring a best
        placement or a soft-macro pass; single moves go through :meth:`propose`/:meth:`commit`.

        Raises:
            ValueError: a position or orientation no cost can be computed from (the evaluator
                is left as it was).
        """
        set_checked_positions(self.netlist, self.ctx, self._placement, nodes, x, y, orientation)
        self.resync()

    def resync(self) -> None:
        """Recompute every cached array from the current placement (removes float drift)."""
        ctx, nl, p = self.ctx, self.netlist, self._placement
        c = ctx.canvas
        self._ex, self._ey = ctx.entry_positions(p)
        # (the compiled net pass finds these cells again: 1-7 % of a re-sync, well under 1 % of
        # an sa run, in experiments/bench/resync_speed.py: not worth handing them over)
        self._rows, self._cols = cell_rows_cols(c, self._ex, self._ey)
        self._hpwl, self._v_raw, self._h_raw = net_terms(ctx, self._ex, self._ey)
        self._v_raw, self._h_raw = (
            np.ascontiguousarray(self._v_raw),
            np.ascontiguousarray(self._h_raw),
        )
        m = ctx.macros
        oy, ox = macro_overlaps(c, p.x[m], p.y[m], nl.width[m], nl.height[m])
        self._dens_area = np.ascontiguousarray(overlap_grid(oy, ox))
        # macros covering each cell (a positive area): a cell is nonzero exactly when some do
        self._cover = np.ascontiguousarray(cover_counts(oy, ox))
        self._vm, self._hm = hard_macro_blockage(nl, ctx, p)
        self._vm, self._hm = np.ascontiguousarray(self._vm), np.ascontiguousarray(self._hm)
        vt, ht = congestion_maps(ctx, self._v_raw, self._h_raw, self._vm, self._hm)
        self._vt, self._ht = np.ascontiguousarray(vt), np.ascontiguousarray(ht)
        self._total = float(np.sum(ctx.net_weight * self._hpwl))
        self._total_peak = abs(self._total)  # the largest running total since this sum
        self._cost = ProxyCost(
            wirelength=self._total / ((c.width + c.height) * ctx.net_cnt),
            density=density_cost(self._dens_area / self._cell_area),
            congestion=congestion_cost(vt, ht),
            hpwl=self._total,
            net_cnt=ctx.net_cnt,
        )
        self._refresh_thresholds(3)
        self._rebuild_candidates(3)
        self._token = next(_PRICINGS)

    def _resum_wirelength(self) -> None:
        """Sum the weighted wirelength afresh from the per-net HPWLs: once the total falls far
        below its largest value since the last sum (a node from a far start brought back, in
        one move or in steps), the running sum keeps the far terms' rounding error, which can
        exceed the whole remaining total."""
        ctx, c = self.ctx, self.ctx.canvas
        self._total = float(np.sum(ctx.net_weight * self._hpwl))
        self._total_peak = abs(self._total)
        self._cost = dataclasses.replace(
            self._cost,
            wirelength=self._total / ((c.width + c.height) * ctx.net_cnt),
            hpwl=self._total,
        )

    def _rebuild_candidates(self, which: int) -> None:
        """Rebuild the density (bit 0) / congestion (bit 1) top-k candidate sets."""
        if which & 1:
            n, self._cand_floor[1] = build_candidates(
                self._dens_area, self._dens_area, 1, self._keep[1], self._dens_cand
            )
            self._cand_n[1] = n
        if which & 2:
            n, self._cand_floor[0] = build_candidates(
                self._vt, self._ht, 2, self._keep[0], self._cong_cand
            )
            self._cand_n[0] = n

    def _refresh_thresholds(self, which: int) -> None:
        if which & 1:
            _, threshold, self._dens_exact = top_mean_density(self._dens_area, self._cell_area, self._cover)
            # compared in area units inside the kernel: threshold * cell_area can round one step
            # above the threshold cell's own area (1993.0 -> 1993.0000000000002), and a drop of
            # that cell then went unnoticed; the smallest area of a cell at the threshold is
            # exact (or lower: a recompute more, never one missed)
            area = self._dens_area.ravel()
            at = area[area / self._cell_area == threshold]
            self._dens_t_area = float(at.min()) if at.size else threshold * self._cell_area
        if which & 2:
            _, self._cong_t = top_mean_congestion(self._vt, self._ht)

    @property
    def cost(self) -> ProxyCost:
        """Cost of the current placement."""
        return self._cost

    def maps(self) -> CostMaps:
        """Per-cell density and congestion maps of the current placement."""
        v, h = congestion_maps(self.ctx, self._v_raw, self._h_raw, self._vm, self._hm)
        return CostMaps(self._dens_area / self._cell_area, v, h)

    # ------------------------------------------------------------------ moves
    def propose(
        self,
        nodes: np.ndarray | list[int],
        x: np.ndarray | list[float],
        y: np.ndarray | list[float],
        orientation: np.ndarray | list[int] | None = None,
    ) -> Move:
        """Price moving ``nodes`` (ports or macros) to centres ``(x, y)`` (and orientations).

        The arrays are copied, so the caller may reuse its buffers before committing.
        """
        nodes, x, y, orient = checked_move(self.netlist, self._placement, nodes, x, y, orientation)
        return self._price(nodes, x, y, orient)

    def propose_trusted(
        self, nodes: np.ndarray, x: np.ndarray, y: np.ndarray, orientation: np.ndarray | None
    ) -> Move:
        """:meth:`propose` without its input checks or copies, for search loops that build
        their moves from distinct movable macros as int64 / float64 / int8 arrays of one length
        (saves their cost on millions of proposals). The move keeps the arrays: leave them
        unchanged until it is committed or dropped (it hands out read-only views of them)."""
        orient = self._placement.orientation[nodes] if orientation is None else orientation
        return self._price(nodes, x, y, orient)

    def _price(self, nodes: np.ndarray, x: np.ndarray, y: np.ndarray, orient: np.ndarray) -> Move:
        ctx, p, c = self.ctx, self._placement, self.ctx.canvas
        dwl, dens, cong, flags = price(
            nodes,
            x,
            y,
            orient,
            self._entry_ptr,
            self._entry_of,
            self._net_ptr,
            self._nets_of,
            self._net_entries,
            ctx.entry_dx,
            ctx.entry_dy,
            ctx.entry_has_offset,
            self._orient,
            self._width,
            self._height,
            self._is_macro,
            self._is_hard,
            ctx.net_weight,
            ctx.route_weight,
            self._geo,
            c.rows,
            c.cols,
            c.smoothing_reach,
            p.x,
            p.y,
            self._ex,
            self._ey,
            self._rows,
            self._cols,
            self._hpwl,
            self._dens_area,
            self._cover,
            self._vt,
            self._ht,
            self._cost.congestion,
            self._cong_t,
            self._cost.density,
            self._dens_t_area,
            self._dens_exact,
            self._slot,
            self._m_ent,
            self._m_ex,
            self._m_ey,
            self._m_r,
            self._m_c,
            self._net_mark,
            self._m_nets,
            self._m_hpwl,
            self._cells,
            *self._deltas,
            self._box,
            self._counts,
            self._cong_cand,
            self._dens_cand,
            self._cand_n,
            self._topk_buf,
        )
        self._token = next(_PRICINGS)
        total = self._total + dwl
        cost = ProxyCost(
            wirelength=total / ((c.width + c.height) * ctx.net_cnt),
            density=dens,
            congestion=cong,
            hpwl=total,
            net_cnt=ctx.net_cnt,
        )
        return Move(nodes, x, y, orient, cost, self._token, dwl, flags)

    def congestion_quantile(self, q: float) -> float:
        """The ``q`` quantile of all V and H cell congestion values (a look-ahead threshold)."""
        return float(np.quantile(np.concatenate([self._vt.ravel(), self._ht.ravel()]), q))

    def congestion_excess(self, threshold: float) -> float:
        """``sum(max(C - threshold, 0))`` over every cell's V and H congestion ``C``: how far
        the cells above ``threshold`` stick out (a smooth look-ahead of the top-k mean)."""
        return float(
            np.maximum(self._vt - threshold, 0.0).sum()
            + np.maximum(self._ht - threshold, 0.0).sum()
        )

    def congestion_excess_delta(self, move: Move, threshold: float) -> float:
        """Change of :meth:`congestion_excess` that ``move`` makes; ``move`` must be the latest
        priced one (its deltas are still in the scratch maps)."""
        if move._token != self._token:
            raise ValueError("only the latest priced move's excess can be read")
        dvt, dht = self._deltas[5], self._deltas[6]
        return float(excess_delta(self._vt, self._ht, dvt, dht, self._box, threshold))

    def density_quantile(self, q: float) -> float:
        """The ``q`` quantile of the cell densities (a look-ahead threshold)."""
        return float(np.quantile(self._dens_area, q)) / self._cell_area

    def density_excess(self, threshold: float) -> float:
        """``sum(max(D - threshold, 0))`` over every cell's density ``D``: the density
        counterpart of :meth:`congestion_excess`."""
        return float(np.maximum(self._dens_area / self._cell_area - threshold, 0.0).sum())

    def density_excess_delta(self, move: Move, threshold: float) -> float:
        """Change of :meth:`density_excess` that ``move`` makes; ``move`` must be the latest
        priced one. Runs the congestion excess kernel on the density area map, with an empty
        second map (its zero deltas are skipped)."""
        if move._token != self._token:
            raise ValueError("only the latest priced move's excess can be read")
        area_delta = excess_delta(
            self._dens_area,
            self._zero_map,
            self._deltas[4],
            self._zero_map,
            self._box,
            threshold * self._cell_area,
        )
        return float(area_delta) / self._cell_area

    def commit(self, move: Move) -> None:
        """Apply a move returned by :meth:`propose` (or :meth:`move`) on the current placement."""
        if move._token != self._token:  # another move was priced since: price this one again,
            # checked as a new proposal (a move of another design's evaluator could name nodes
            # that are pins here, or past this design's end: out of bounds in the kernels)
            move = self.propose(move._nodes, move._x, move._y, move._orientation)
        p = self._placement
        d = self._deltas
        stale = 0  # candidate sets whose floor a value of this move crosses
        if self._cand_n[1] and crosses_floor(
            self._dens_area, self._dens_area, d[4], d[4], 1, self._box, self._cand_floor[1]
        ):
            stale |= 1
        if self._cand_n[0] and crosses_floor(
            self._vt, self._ht, d[5], d[6], 2, self._box, self._cand_floor[0]
        ):
            stale |= 2
        apply(
            move._nodes,
            move._x,
            move._y,
            move._orientation,
            p.x,
            p.y,
            p.orientation,
            self._ex,
            self._ey,
            self._rows,
            self._cols,
            self._hpwl,
            self._v_raw,
            self._h_raw,
            self._vm,
            self._hm,
            self._dens_area,
            self._cover,
            self._vt,
            self._ht,
            self._m_ent,
            self._m_ex,
            self._m_ey,
            self._m_r,
            self._m_c,
            self._m_nets,
            self._m_hpwl,
            *self._deltas,
            self._box,
            self._counts,
        )
        self._total += move._dwl
        self._cost = move.cost
        self._total_peak = max(self._total_peak, abs(self._total))
        # the sum's rounding is ~1e-16 of its peak: re-summed before it reaches 1e-13 of today's
        if self._total_peak > 1e3 * abs(self._total):  # a far node came back, the sum cancelled
            self._resum_wirelength()
        self._refresh_thresholds(move._flags)
        self._rebuild_candidates(stale)
        self._token = next(_PRICINGS)  # the scratch arrays are spent
        self._commits += 1
        if self.resync_every and self._commits % self.resync_every == 0:
            self.resync()

    # ------------------------------------------------------------ shorthands
    def move(self, node: int, x: float, y: float) -> Move:
        """Price moving one node's centre to ``(x, y)``."""
        return self.propose([node], [x], [y])

    def rotate(self, node: int, orientation: int) -> Move:
        """Price giving one macro another orientation code (see ``netlists.model.ORIENTATIONS``)."""
        p = self._placement
        return self.propose([node], [p.x[node]], [p.y[node]], [orientation])

    def swap(self, i: int, j: int) -> Move:
        """Price exchanging the centres of two nodes."""
        p = self._placement
        if i == j:
            return self.propose([i], [p.x[i]], [p.y[i]])
        return self.propose([i, j], [p.x[j], p.x[i]], [p.y[j], p.y[i]])

    def full_cost(self) -> ProxyCost:
        """A from-scratch evaluation of the current placement (for checks)."""
        return evaluate(self.netlist, self.placement)
