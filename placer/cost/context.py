"""Static, per-netlist arrays every cost kernel needs, computed once and cached.

Pins of nets are flattened into "net-pin entries" (``netlist.net_pins``); for each entry we
keep the node it moves with (its anchor: the owning macro, or the node itself), the offset
to apply for a hard-macro pin, and the net it belongs to.
"""

from __future__ import annotations

import functools
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import numpy as np

from netlists.errors import InputError
from netlists.model import (
    Canvas,
    Netlist,
    NodeType,
    Placement,
    canvas_problem,
    check_is_netlist,
    check_orientation_codes,
    check_placement_matches,
    orient_offsets,
)
from placer.cost.grid import macro_overlaps_problem


@dataclass(frozen=True, eq=False)
class CostContext:
    """Precomputed index arrays of one netlist (see module docstring). It holds no reference
    to the netlist: cached per netlist in a weak dictionary, a context that did kept its key
    alive, and every netlist ever costed stayed in memory (some 17 MB each for ibm17)."""

    canvas: Canvas
    entry_anchor: np.ndarray  # (P,) node index whose position the entry follows
    entry_dx: np.ndarray  # (P,) offset for orientation N (0 unless a hard-macro pin)
    entry_dy: np.ndarray
    entry_has_offset: np.ndarray  # (P,) bool: a hard-macro pin with a nonzero offset
    offset_entries: np.ndarray  # those entries' indices, ascending
    entry_net: np.ndarray  # (P,) net of each entry
    net_start: np.ndarray  # (N,) first entry (the driver) of each net
    net_weight: np.ndarray  # (N,) wirelength weight
    route_weight: np.ndarray  # (N,) max(weight, 1)
    net_cnt: float  # sum of weights, 1 when 0
    hard: np.ndarray  # hard macro node indices
    macros: np.ndarray  # hard and soft macro node indices
    positioned: np.ndarray  # nodes whose position the cost reads (entry anchors and macros)

    @property
    def n_nets(self) -> int:
        return int(self.net_start.shape[0])

    def entry_positions(
        self, placement: Placement, entries: np.ndarray | slice = slice(None)
    ) -> tuple[np.ndarray, np.ndarray]:
        """Absolute x, y of net-pin entries under ``placement``.

        For all entries (the full evaluation's case) the entries with an offset are known in
        advance (:attr:`offset_entries`): no mask over every entry is built (a boolean mask
        and four masked copies took half of ibm17's 2 ms here).
        """
        anchor = self.entry_anchor[entries]
        x = placement.x[anchor].astype(np.float64, copy=False)  # (indexing made a new array)
        y = placement.y[anchor].astype(np.float64, copy=False)
        if isinstance(entries, slice) and entries == slice(None):
            turned = self.offset_entries
        else:
            turned = np.flatnonzero(self.entry_has_offset[entries])
        if turned.size:
            ox, oy = orient_offsets(
                self.entry_dx[entries][turned], self.entry_dy[entries][turned], placement.orientation[anchor[turned]]
            )
            x[turned] += ox
            y[turned] += oy
        return x, y


T = TypeVar("T")


def per_netlist(build: Callable[[Netlist], T]) -> Callable[[Netlist], T]:
    """Cache ``build(netlist)`` for as long as the netlist lives (netlists are immutable).
    ``build``'s value must not refer to the netlist: the weak key would never die."""
    cache: weakref.WeakKeyDictionary[Netlist, T] = weakref.WeakKeyDictionary()

    @functools.wraps(build)
    def cached(netlist: Netlist) -> T:
        check_is_netlist(netlist)  # a path, or the arguments swapped: not a weakref error
        value = cache.get(netlist)
        if value is None:
            value = build(netlist)
            cache[netlist] = value
        return value

    return cached


@per_netlist
def cost_context(netlist: Netlist) -> CostContext:
    """The (cached) :class:`CostContext` of ``netlist``; its canvas must be set."""
    return _build(netlist)


def _build(netlist: Netlist) -> CostContext:
    canvas = netlist.require_canvas()
    problem = canvas_problem(canvas)
    if problem is not None:
        raise InputError(f"netlist {netlist.name!r}: no cost can be computed: {problem[1]}")
    too_many = macro_overlaps_problem(netlist.macros.size, canvas.rows, canvas.cols)
    if too_many is not None:  # (refused before the cost's (macros, rows + cols) arrays are made)
        raise InputError(f"netlist {netlist.name!r}: no cost can be computed: {too_many}")
    pins = netlist.net_pins
    anchor_of_node = netlist.anchor()
    entry_anchor = anchor_of_node[pins]
    hard_pin = netlist.node_type[pins] == int(NodeType.HARD_PIN)
    dx = np.where(hard_pin, netlist.pin_dx[pins], 0.0)
    dy = np.where(hard_pin, netlist.pin_dy[pins], 0.0)
    sizes = np.diff(netlist.net_ptr)
    entry_net = np.repeat(np.arange(netlist.n_nets), sizes)
    w = np.asarray(netlist.net_weight, dtype=np.float64)
    cnt = float(np.sum(w))
    macros = netlist.macros
    has_offset = hard_pin & ((dx != 0) | (dy != 0))
    return CostContext(
        canvas=canvas,
        entry_anchor=entry_anchor,
        entry_dx=dx,
        entry_dy=dy,
        entry_has_offset=has_offset,
        offset_entries=np.flatnonzero(has_offset),
        entry_net=entry_net,
        net_start=np.asarray(netlist.net_ptr[:-1], dtype=np.int64),
        net_weight=w,
        route_weight=np.maximum(w, 1.0),
        net_cnt=cnt if cnt != 0 else 1.0,
        hard=netlist.hard_macros,
        macros=macros,
        positioned=np.union1d(entry_anchor, macros).astype(np.int64),
    )


def check_placement(nl: Netlist, ctx: CostContext, placement: Placement) -> None:
    """Refuse a placement no cost can be computed from: another length than the netlist
    ``nl`` (whose context ``ctx`` is), a non-finite position of a node the cost reads, or an
    orientation code outside 0-7 (the kernels would read past their tables)."""
    check_placement_matches(nl, placement, ("x", "y", "orientation"))  # (the cost reads no flags)
    nodes = ctx.positioned
    bad = ~(np.isfinite(placement.x[nodes]) & np.isfinite(placement.y[nodes]))
    if np.any(bad):
        k = int(nodes[np.argmax(bad)])
        raise InputError(
            f"node {nl.names[k]!r} has a non-finite position "
            f"({placement.x[k]}, {placement.y[k]}); {int(bad.sum())} such node(s) in all"
        )
    check_orientation_codes(nl, placement, ctx.hard)
