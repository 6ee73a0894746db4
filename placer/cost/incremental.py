"""Incremental proxy-cost evaluation: price a move of a few nodes without a full recompute.

:class:`IncrementalEvaluator` holds a placement with its per-net half-perimeters, raw net
routing demand, density grid and macro blockage. :meth:`~IncrementalEvaluator.propose`
recomputes only the nets touching the moved nodes and the grid rows/columns of the moved
macros, and returns a :class:`Move` with the new cost; :meth:`~IncrementalEvaluator.commit`
applies it. The wirelength sum is re-added over all nets each time (bit-identical to a full
evaluation); route demand is integer-valued on the benchmarks (exact); the float density and
blockage grids are re-synchronised from scratch every ``resync_every`` commits so rounding
never drifts (the result equals :func:`placer.cost.proxy.evaluate` to ~1e-12 relative).

This is the hot path of simulated annealing, local search and the RL environment.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from netlists.model import Netlist, NodeType, Placement
from placer.cost.congestion import congestion_cost, integrate, macro_blockage, route_nets
from placer.cost.context import cost_context
from placer.cost.density import density_cost, macro_overlaps
from placer.cost.grid import cell_rows_cols
from placer.cost.proxy import CostMaps, ProxyCost, congestion_maps, evaluate
from placer.cost.wirelength import net_hpwl


def _csr(keys: np.ndarray, values: np.ndarray, n_keys: int) -> tuple[np.ndarray, np.ndarray]:
    """Group ``values`` by ``keys`` into (ptr, values) CSR arrays."""
    order = np.argsort(keys, kind="stable")
    ptr = np.zeros(n_keys + 1, dtype=np.int64)
    np.cumsum(np.bincount(keys, minlength=n_keys), out=ptr[1:])
    return ptr, values[order]


def _ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Concatenation of ``arange(s, s + l)`` for each pair, vectorised."""
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    offsets = np.cumsum(lengths) - lengths
    return np.repeat(starts - offsets, lengths) + np.arange(total)


@dataclass
class Move:
    """A priced, uncommitted change of some nodes' positions / orientations."""

    nodes: np.ndarray
    x: np.ndarray
    y: np.ndarray
    orientation: np.ndarray
    cost: ProxyCost
    # state after the move
    _nets: np.ndarray
    _entries: np.ndarray
    _ex: np.ndarray
    _ey: np.ndarray
    _rows: np.ndarray
    _cols: np.ndarray
    _hpwl: np.ndarray
    _dens: np.ndarray | None
    _v_raw: np.ndarray
    _h_raw: np.ndarray
    _vm: np.ndarray | None
    _hm: np.ndarray | None

    @property
    def proxy(self) -> float:
        return self.cost.proxy


class IncrementalEvaluator:
    """Holds a placement and prices moves / swaps / orientation changes of its nodes.

    Args:
        netlist: netlist with its canvas set.
        placement: starting placement (copied; read the current one from ``.placement``).
        resync_every: commits between full re-synchronisations of the float grids.
    """

    def __init__(self, netlist: Netlist, placement: Placement, resync_every: int = 5000) -> None:
        self.netlist = netlist
        self.ctx = cost_context(netlist)
        self.placement = placement.copy()
        self.resync_every = resync_every
        ctx = self.ctx
        n = netlist.n_nodes
        self._entry_ptr, self._entry_of = _csr(
            ctx.entry_anchor, np.arange(ctx.entry_anchor.size, dtype=np.int64), n
        )
        pairs = np.unique(ctx.entry_anchor * max(ctx.n_nets, 1) + ctx.entry_net)
        self._net_ptr, self._nets_of = _csr(pairs // max(ctx.n_nets, 1), pairs % max(ctx.n_nets, 1), n)
        self._net_len = np.diff(netlist.net_ptr)
        t = netlist.node_type
        self._is_macro = (t == NodeType.HARD_MACRO) | (t == NodeType.SOFT_MACRO)
        self._is_hard = t == NodeType.HARD_MACRO
        c = ctx.canvas
        self._cell_area = (c.width / c.cols) * (c.height / c.rows)
        self._commits = 0
        self.resync()

    # ------------------------------------------------------------------ state
    def resync(self) -> None:
        """Recompute every cached array from the current placement (removes float drift)."""
        ctx, nl, p = self.ctx, self.netlist, self.placement
        c = ctx.canvas
        self._ex, self._ey = ctx.entry_positions(p)
        self._rows, self._cols = cell_rows_cols(c, self._ex, self._ey)
        self._hpwl = net_hpwl(self._ex, self._ey, ctx.net_start)
        seg = route_nets(c, self._rows, self._cols, ctx.entry_net, ctx.n_nets, ctx.net_start, ctx.route_weight)
        self._v_raw, self._h_raw = integrate(*seg.difference_arrays(c.rows, c.cols), c.rows, c.cols)
        m = ctx.macros
        oy, ox = macro_overlaps(c, p.x[m], p.y[m], nl.width[m], nl.height[m])
        self._dens_area = oy.T @ ox
        hard = ctx.hard
        self._vm, self._hm = macro_blockage(c, p.x[hard], p.y[hard], nl.width[hard], nl.height[hard])
        self._cost = self._price(self._hpwl, self._dens_area, self._v_raw, self._h_raw, self._vm, self._hm)

    @property
    def cost(self) -> ProxyCost:
        """Cost of the current placement."""
        return self._cost

    def maps(self) -> CostMaps:
        """Per-cell density and congestion maps of the current placement."""
        v, h = congestion_maps(self.ctx, self._v_raw, self._h_raw, self._vm, self._hm)
        return CostMaps(self._dens_area / self._cell_area, v, h)

    def _price(self, hpwl, dens_area, v_raw, h_raw, vm, hm) -> ProxyCost:  # type: ignore[no-untyped-def]
        ctx = self.ctx
        c = ctx.canvas
        total = float(np.sum(ctx.net_weight * hpwl))
        v, h = congestion_maps(ctx, v_raw, h_raw, vm, hm)
        return ProxyCost(
            wirelength=total / ((c.width + c.height) * ctx.net_cnt),
            density=density_cost(dens_area / self._cell_area),
            congestion=congestion_cost(v, h),
            hpwl=total,
            net_cnt=ctx.net_cnt,
        )

    # ------------------------------------------------------------------ moves
    def propose(
        self,
        nodes: np.ndarray | list[int],
        x: np.ndarray | list[float],
        y: np.ndarray | list[float],
        orientation: np.ndarray | list[int] | None = None,
    ) -> Move:
        """Price moving ``nodes`` (ports or macros) to centres ``(x, y)`` (and orientations)."""
        nodes = np.atleast_1d(np.asarray(nodes, dtype=np.int64))
        x = np.atleast_1d(np.asarray(x, dtype=np.float64))
        y = np.atleast_1d(np.asarray(y, dtype=np.float64))
        p, nl, ctx = self.placement, self.netlist, self.ctx
        c = ctx.canvas
        orient = (
            p.orientation[nodes].copy()
            if orientation is None
            else np.atleast_1d(np.asarray(orientation, dtype=np.int8))
        )
        if np.any(self.netlist.node_type[nodes] >= NodeType.HARD_PIN):
            raise ValueError("only ports and macros can be moved; pins follow their macro")
        if nodes.size > 1 and np.unique(nodes).size != nodes.size:
            raise ValueError("a node appears twice in one move")

        # nets touching the moved nodes, and all their entries
        if nodes.size == 1:
            i = nodes[0]
            nets = self._nets_of[self._net_ptr[i] : self._net_ptr[i + 1]]
        else:
            nets = np.unique(
                np.concatenate([self._nets_of[self._net_ptr[i] : self._net_ptr[i + 1]] for i in nodes])
            )
        starts = ctx.net_start[nets]
        lens = self._net_len[nets]
        entries = _ranges(starts, lens)
        local_start = np.cumsum(lens) - lens
        local_net = np.repeat(np.arange(nets.size), lens)

        # new entry positions: write the move into the placement, read, restore
        old_x, old_y, old_o = p.x[nodes].copy(), p.y[nodes].copy(), p.orientation[nodes].copy()
        p.x[nodes], p.y[nodes], p.orientation[nodes] = x, y, orient
        try:
            ex, ey = ctx.entry_positions(p, entries)
        finally:
            p.x[nodes], p.y[nodes], p.orientation[nodes] = old_x, old_y, old_o
        rows, cols = cell_rows_cols(c, ex, ey)

        hpwl = self._hpwl.copy()
        if nets.size:
            hpwl[nets] = net_hpwl(ex, ey, local_start)

        # routing demand: remove the old routes of these nets, add the new ones
        v_raw, h_raw = self._v_raw, self._h_raw
        if nets.size:
            # one routing pass: the new routes with +w, the old ones with -w
            w = ctx.route_weight[nets]
            k = nets.size
            both = route_nets(
                c,
                np.concatenate([rows, self._rows[entries]]),
                np.concatenate([cols, self._cols[entries]]),
                np.concatenate([local_net, local_net + k]),
                2 * k,
                np.concatenate([local_start, local_start + entries.size]),
                np.concatenate([w, -w]),
            )
            dv, dh = integrate(*both.difference_arrays(c.rows, c.cols), c.rows, c.cols)
            v_raw, h_raw = v_raw + dv, h_raw + dh

        # density and blockage of moved macros
        dens, vm, hm = self._dens_area, self._vm, self._hm
        mac = nodes[self._is_macro[nodes]]
        if mac.size:
            sel = self._is_macro[nodes]
            wm, hmac = nl.width[mac], nl.height[mac]
            oy_o, ox_o = macro_overlaps(c, old_x[sel], old_y[sel], wm, hmac)
            oy_n, ox_n = macro_overlaps(c, x[sel], y[sel], wm, hmac)
            dens = dens + (oy_n.T @ ox_n - oy_o.T @ ox_o)
            hsel = self._is_hard[nodes]
            if np.any(hsel):
                hard = nodes[hsel]
                wh, hh = nl.width[hard], nl.height[hard]
                vm_o, hm_o = macro_blockage(c, old_x[hsel], old_y[hsel], wh, hh)
                vm_n, hm_n = macro_blockage(c, x[hsel], y[hsel], wh, hh)
                vm = vm + (vm_n - vm_o)
                hm = hm + (hm_n - hm_o)
        cost = self._price(hpwl, dens, v_raw, h_raw, vm, hm)
        return Move(
            nodes, x, y, orient, cost, nets, entries, ex, ey, rows, cols, hpwl, dens, v_raw, h_raw, vm, hm
        )

    def commit(self, move: Move) -> None:
        """Apply a move returned by :meth:`propose` (which must be the latest state's)."""
        p = self.placement
        p.x[move.nodes], p.y[move.nodes], p.orientation[move.nodes] = move.x, move.y, move.orientation
        e = move._entries
        self._ex[e], self._ey[e] = move._ex, move._ey
        self._rows[e], self._cols[e] = move._rows, move._cols
        self._hpwl = move._hpwl
        self._v_raw, self._h_raw = move._v_raw, move._h_raw
        if move._dens is not None:
            self._dens_area = move._dens
        if move._vm is not None:
            self._vm, self._hm = move._vm, move._hm
        self._cost = move.cost
        self._commits += 1
        if self.resync_every and self._commits % self.resync_every == 0:
            self.resync()

    # ------------------------------------------------------------ shorthands
    def move(self, node: int, x: float, y: float) -> Move:
        """Price moving one node's centre to ``(x, y)``."""
        return self.propose([node], [x], [y])

    def rotate(self, node: int, orientation: int) -> Move:
        """Price giving one macro another orientation code (see ``netlists.model.ORIENTATIONS``)."""
        p = self.placement
        return self.propose([node], [p.x[node]], [p.y[node]], [orientation])

    def swap(self, i: int, j: int) -> Move:
        """Price exchanging the centres of two nodes."""
        p = self.placement
        if i == j:
            return self.propose([i], [p.x[i]], [p.y[i]])
        return self.propose([i, j], [p.x[j], p.x[i]], [p.y[j], p.y[i]])

    def full_cost(self) -> ProxyCost:
        """A from-scratch evaluation of the current placement (for checks)."""
        return evaluate(self.netlist, self.placement)
