"""Incremental timing proxy: price a move of a few nodes without recomputing every path.

:class:`IncrementalTiming` holds a placement with each arc's delay, the arrival times of the
combinational soft macros and every endpoint's arrival (see :mod:`placer.cost.timing` for the
model). :meth:`~IncrementalTiming.propose` prices a move: only the arcs touching the moved
nodes get new delays; the soft-macro arrivals are propagated again only when one of those arcs
feeds the combinational logic (few arcs on clustered designs, where nearly every soft macro is
sequential); only the endpoints those arcs (or changed arrivals) reach take a new maximum. The
result is exactly :func:`~placer.cost.timing.timing_cost`'s: every number is computed by the
same operations on the same operands (maxima and one sum per arc), so nothing drifts.

The common move, whose changed arcs all end at endpoints, is priced by one compiled kernel
(:mod:`placer.cost.timing_kernel`); a move that changes an arc into the logic goes on in numpy
with the kernel's new delays (``experiments/bench/timing_speed.py`` times both paths on the same
moves: 1.2-3.2x faster on the shared suite, the same figures).

The timing counterpart of :class:`placer.cost.incremental.IncrementalEvaluator`, for search
methods that weigh timing beside the proxy cost.
"""

from __future__ import annotations

import itertools

import numpy as np

from netlists.model import Netlist, Placement
from placer.cost.arrays import sorted_unique
from placer.cost.context import check_placement, cost_context
from placer.cost.incremental import (
    Move,
    ReadOnlyPlacement,
    _orientation_matrix,
    _read_only,
    checked_move,
    csr_groups,
    set_checked_positions,
)
from placer.cost.timing import (
    TimingParams,
    TimingResult,
    arc_delays,
    csr_gather,
    endpoint_arrivals,
    propagate,
    soft_macro_delay,
    summarise,
    timing_graph,
)
from placer.cost.timing_kernel import price_endpoint_move


def _overlaid(base: np.ndarray, keys: np.ndarray, new_keys: np.ndarray, new_values: np.ndarray) -> np.ndarray:
    """``base`` (one value per key of ``keys``, a fresh array: written in place) with the value
    of each key found in the sorted ``new_keys`` replaced by its ``new_values`` one."""
    at = np.searchsorted(new_keys, keys)
    found = at < new_keys.size
    found[found] = new_keys[at[found]] == keys[found]
    base[found] = new_values[at[found]]
    return base


#: Numbers for the evaluators' states, unique across them (a move of one is never current in another).
_STATES = itertools.count(1)


#: A timing move's fields, in its constructor's order.
_TIMING_MOVE_FIELDS = ("nodes", "x", "y", "orientation", "arcs", "delays", "arrival", "endpoint_arcs", "arc_times",
                       "endpoints", "endpoint_arrival", "result", "state")  # fmt: skip


class TimingMove:
    """A priced move: the new positions and everything :meth:`IncrementalTiming.commit` sets.

    Every field is read-only, its arrays read-only views: a commit applies what was priced for
    exactly these positions (an edited ``move.x`` was committed beside the delays priced for the
    old one). The arrays underneath stay writable for the compiled kernel (numba reads a
    read-only array's type through its slow path). Fields: ``nodes``, ``x``, ``y``,
    ``orientation``; ``arcs`` whose delay changes and their ``delays``; ``arrival``, the new
    soft-macro arrivals (None: unchanged); ``endpoint_arcs`` whose arrival changes and their
    ``arc_times``; ``endpoints`` (positions in :attr:`IncrementalTiming.endpoints`) whose arrival
    changes and their ``endpoint_arrival``; the ``result``; the evaluator's ``state`` it was
    priced on (see :meth:`IncrementalTiming.commit`).
    """

    __slots__ = tuple(f"_{name}" for name in _TIMING_MOVE_FIELDS)

    def __init__(
        self, nodes: np.ndarray, x: np.ndarray, y: np.ndarray, orientation: np.ndarray, arcs: np.ndarray,
        delays: np.ndarray, arrival: np.ndarray | None, endpoint_arcs: np.ndarray, arc_times: np.ndarray,
        endpoints: np.ndarray, endpoint_arrival: np.ndarray, result: TimingResult, state: int,
    ) -> None:
        self._nodes, self._x, self._y, self._orientation = nodes, x, y, orientation
        self._arcs, self._delays, self._arrival = arcs, delays, arrival
        self._endpoint_arcs, self._arc_times = endpoint_arcs, arc_times
        self._endpoints, self._endpoint_arrival = endpoints, endpoint_arrival
        self._result, self._state = result, state

    nodes = property(lambda self: _read_only(self._nodes), doc="The moved nodes.")
    x = property(lambda self: _read_only(self._x), doc="Their new centres' x.")
    y = property(lambda self: _read_only(self._y), doc="Their new centres' y.")
    orientation = property(lambda self: _read_only(self._orientation), doc="Their new orientation codes.")
    arcs = property(lambda self: _read_only(self._arcs), doc="The arcs whose delay changes.")
    delays = property(lambda self: _read_only(self._delays), doc="Their new delays.")
    arrival = property(lambda self: None if self._arrival is None else _read_only(self._arrival),
                       doc="The new soft-macro arrivals (None: unchanged).")
    endpoint_arcs = property(lambda self: _read_only(self._endpoint_arcs), doc="Endpoint arcs whose arrival changes.")
    arc_times = property(lambda self: _read_only(self._arc_times), doc="Their new arrival times.")
    endpoints = property(lambda self: _read_only(self._endpoints), doc="Endpoints whose arrival changes.")
    endpoint_arrival = property(lambda self: _read_only(self._endpoint_arrival), doc="Their new arrivals.")
    result = property(lambda self: self._result, doc="The timing proxy with the move applied.")
    state = property(lambda self: self._state, doc="The evaluator's state it was priced on.")

    def __repr__(self) -> str:
        return f"TimingMove(nodes={self._nodes!r}, x={self._x!r}, y={self._y!r}, result={self._result!r})"


class IncrementalTiming(ReadOnlyPlacement):
    """The timing proxy of a placement kept up to date move by move (see module doc).

    ``placement`` is copied; :attr:`placement` is the committed state. ``compiled`` (default)
    prices a move whose changed arcs all end at endpoints with the compiled kernel
    (:mod:`placer.cost.timing_kernel`, the same figures); False prices every move with numpy (a
    baseline for the benchmark and the tests).
    """

    def __init__(
        self, netlist: Netlist, placement: Placement, params: TimingParams | None = None, compiled: bool = True
    ) -> None:
        self.netlist = netlist
        self.compiled = compiled
        self.params = params = params if params is not None else TimingParams()
        self._ctx = cost_context(netlist)
        check_placement(netlist, self._ctx, placement)
        self.graph = g = timing_graph(netlist)
        c = netlist.require_canvas()
        self._scale = c.width + c.height
        self._soft_delay = soft_macro_delay(netlist, params)
        # float64 positions and int8 codes, as the proxy evaluator keeps them (the kernel read a
        # float32 placement's moved nodes unrounded, and a float orientation code failed in it)
        self._placement = placement.standardised()
        self._expose_placement()
        n_arcs = g.src_node.size
        arc_ids = np.arange(n_arcs)
        # arcs by node they touch (an arc between two moved nodes is listed once per node)
        self._node_ptr, self._node_arcs = csr_groups(
            np.concatenate([g.src_node, g.dst_node]), np.concatenate([arc_ids, arc_ids]), g.n_nodes
        )
        self._n_inner = int(g.endpoint_arcs[0]) if g.endpoint_arcs.size else n_arcs  # arcs into logic
        ends = g.endpoint_arcs
        self.endpoints = g.endpoints
        self._end_of_node = np.full(g.n_nodes, -1, dtype=np.int64)
        self._end_of_node[self.endpoints] = np.arange(self.endpoints.size)
        # endpoint arcs by endpoint (position in self.endpoints) and by source node
        self._end_ptr, self._end_arcs = csr_groups(self._end_of_node[g.dst_node[ends]], ends, self.endpoints.size)
        self._out_ptr, self._out_arcs = csr_groups(g.src_node[ends], ends, g.n_nodes)
        # the compiled common case's arrays, in the types it is compiled for, and its scratch
        ctx = self._ctx
        whole = lambda a: np.ascontiguousarray(a, dtype=np.int64)  # noqa: E731
        self._kernel_graph = (
            whole(self._node_ptr), whole(self._node_arcs), whole(g.src_entry), whole(g.dst_entry),
            whole(g.src_node), whole(g.dst_node), np.ascontiguousarray(g.dst_soft, dtype=np.bool_),
            whole(ctx.entry_anchor), np.ascontiguousarray(ctx.entry_dx, dtype=np.float64),
            np.ascontiguousarray(ctx.entry_dy, dtype=np.float64),
            np.ascontiguousarray(ctx.entry_has_offset, dtype=np.bool_), _orientation_matrix(),
            float(params.wire_delay), float(self._soft_delay), self._n_inner,
        )
        self._kernel_ends = (whole(self._end_of_node), whole(self._end_ptr), whole(self._end_arcs))
        self._moved_slot = np.full(g.n_nodes, -1, dtype=np.int64)
        self._arc_slot = np.full(n_arcs, -1, dtype=np.int64)
        self._endpoint_seen = np.zeros(self.endpoints.size, dtype=np.bool_)
        self.resync()

    def resync(self) -> None:
        """Recompute every delay and arrival from the committed placement."""
        self._state = next(_STATES)
        g = self.graph
        ex, ey = self._ctx.entry_positions(self._placement)
        self._delay = arc_delays(g, ex, ey, self.params, self._soft_delay)
        self._arrival = propagate(g, self._delay)
        self._arc_time = np.full(g.src_node.size, -np.inf)
        e = g.endpoint_arcs
        self._arc_time[e] = self._arrival[g.src_node[e]] + self._delay[e]
        self._endpoint_arrival = endpoint_arrivals(g, self._arc_time[e])
        self._result = summarise(self._endpoint_arrival, self._scale)

    def cost(self) -> TimingResult:
        """The timing proxy of the committed placement."""
        return self._result

    def propose(
        self,
        nodes: np.ndarray | list[int],
        x: np.ndarray | list[float],
        y: np.ndarray | list[float],
        orientation: np.ndarray | list[int] | None = None,
    ) -> TimingMove:
        """The timing proxy with ``nodes`` (ports or macros) at centres ``x``, ``y`` (and
        ``orientation``); the committed state is unchanged. Checked as
        :func:`placer.cost.incremental.checked_move` checks."""
        nodes, x, y, orient = checked_move(self.netlist, self._placement, nodes, x, y, orientation)
        return self.propose_trusted(nodes, x, y, orient)

    def propose_trusted(
        self, nodes: np.ndarray, x: np.ndarray, y: np.ndarray, orientation: np.ndarray | None
    ) -> TimingMove:
        """:meth:`propose` without its checks, for search loops whose moves are already checked
        (those of :meth:`placer.cost.incremental.IncrementalEvaluator.propose_trusted`): node
        indices in range, orientation codes 0-7 and finite coordinates are the caller's to ensure
        (the compiled path reads whatever it is given). The move keeps the arrays: leave them
        unchanged until it is committed or dropped (it hands out read-only views of them)."""
        p = self._placement
        orient = p.orientation[nodes] if orientation is None else orientation
        if not self.compiled:
            arcs, delays = self._changed_arcs(nodes, x, y, orient)
            return self._propose_through_logic(nodes, x, y, orient, arcs, delays)
        ok, arcs, delays, arc_times, touched, touched_arrival = price_endpoint_move(
            nodes, x, y, orient, p.x, p.y, p.orientation, *self._kernel_graph,
            self._delay, self._arrival, self._arc_time, *self._kernel_ends,
            self._moved_slot, self._arc_slot, self._endpoint_seen,
        )
        if ok:  # (the common case: no changed arc feeds the logic)
            endpoint_arrival = self._endpoint_arrival.copy()
            endpoint_arrival[touched] = touched_arrival
            return TimingMove(
                nodes, x, y, orient, arcs, delays, None, arcs, arc_times, touched, touched_arrival,
                summarise(endpoint_arrival, self._scale), self._state,
            )  # fmt: skip
        return self._propose_through_logic(nodes, x, y, orient, arcs, delays)

    def propose_priced(self, move: Move) -> TimingMove:
        """:meth:`propose_trusted` of a move the proxy evaluator priced (a search's: its nodes,
        positions and orientations, checked there), read from the arrays under its read-only
        views (the kernel reads a read-only array's type through numba's slow path)."""
        return self.propose_trusted(move._nodes, move._x, move._y, move._orientation)

    def _changed_arcs(
        self, nodes: np.ndarray, x: np.ndarray, y: np.ndarray, orient: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """The arcs (sorted) whose delay the move changes, and their new delays (numpy)."""
        p = self._placement
        g = self.graph
        arcs = sorted_unique(csr_gather(self._node_ptr, self._node_arcs, nodes)[0]) if nodes.size else nodes
        # the arcs' entries under the moved positions (set in place, read, put back)
        old = p.x[nodes].copy(), p.y[nodes].copy(), p.orientation[nodes].copy()
        p.x[nodes], p.y[nodes], p.orientation[nodes] = x, y, orient
        try:
            entries = np.concatenate([g.src_entry[arcs], g.dst_entry[arcs]])
            ex, ey = self._ctx.entry_positions(p, entries)
        finally:
            p.x[nodes], p.y[nodes], p.orientation[nodes] = old
        delays = arc_delays(g, ex, ey, self.params, self._soft_delay, arcs, arcs_only=True)
        changed = delays != self._delay[arcs]
        return arcs[changed], delays[changed]

    def _propose_through_logic(
        self, nodes: np.ndarray, x: np.ndarray, y: np.ndarray, orient: np.ndarray, arcs: np.ndarray,
        delays: np.ndarray,
    ) -> TimingMove:
        """The move whose changed ``arcs`` (sorted) get ``delays``, priced in numpy: the logic's
        arrivals propagated again when one of them feeds it, then the endpoints they reach."""
        g = self.graph
        arrival = None
        from_logic = np.empty(0, dtype=np.int64)
        if arcs.size and arcs.min() < self._n_inner:  # the logic's arrivals may change
            delay = self._delay[: self._n_inner].copy()  # (propagate reads the arcs into logic only)
            inner = arcs < self._n_inner
            delay[arcs[inner]] = delays[inner]
            arrival = propagate(g, delay)
            moved_logic = np.flatnonzero(arrival != self._arrival)
            if moved_logic.size:
                from_logic = csr_gather(self._out_ptr, self._out_arcs, moved_logic)[0]
            else:
                arrival = None
        ends = np.union1d(arcs[arcs >= self._n_inner], from_logic)
        source = self._arrival if arrival is None else arrival
        arc_times = source[g.src_node[ends]] + _overlaid(self._delay[ends], ends, arcs, delays)

        # the endpoints those arcs end at: their maximum over every incoming arc, again
        touched = sorted_unique(self._end_of_node[g.dst_node[ends]])
        endpoint_arrival = self._endpoint_arrival.copy()
        if touched.size:
            incoming, starts = csr_gather(self._end_ptr, self._end_arcs, touched)
            times = _overlaid(self._arc_time[incoming], incoming, ends, arc_times)
            endpoint_arrival[touched] = np.maximum.reduceat(times, starts)
        return TimingMove(
            nodes, x, y, orient, arcs, delays, arrival, ends, arc_times, touched,
            endpoint_arrival[touched], summarise(endpoint_arrival, self._scale), self._state,
        )  # fmt: skip

    def commit(self, move: TimingMove) -> None:
        """Apply ``move``; one priced before another commit or :meth:`set_positions` is priced
        again on the current state first (its changes were computed against the old one)."""
        if move._state != self._state:
            move = self.propose(move._nodes, move._x, move._y, move._orientation)
        p = self._placement
        p.x[move._nodes], p.y[move._nodes], p.orientation[move._nodes] = move._x, move._y, move._orientation
        self._delay[move._arcs] = move._delays
        if move._arrival is not None:
            self._arrival = move._arrival
        self._arc_time[move._endpoint_arcs] = move._arc_times
        self._endpoint_arrival[move._endpoints] = move._endpoint_arrival
        self._result = move._result
        self._state = next(_STATES)

    def set_positions(
        self, nodes: np.ndarray | slice, x: np.ndarray, y: np.ndarray, orientation: np.ndarray | None = None
    ) -> None:
        """Move many nodes at once (e.g. every soft macro after a force-directed step) and
        recompute from scratch (cheaper than pricing a move of that many).

        Raises:
            ValueError: a position or orientation no cost can be computed from (the evaluator
                is left as it was; a NaN gave a NaN worst path, code 9 an IndexError after it
                was written).
        """
        set_checked_positions(self.netlist, self._ctx, self._placement, nodes, x, y, orientation)
        self.resync()

    def move(self, node: int, x: float, y: float) -> TimingMove:
        """:meth:`propose` for one node moved to ``(x, y)``."""
        return self.propose([node], [x], [y])
