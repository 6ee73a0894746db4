"""A timing proxy for macro placement (our addition; Circuit Training has none).

Model
-----
* **Timing nodes** are ports and macros (pins collapse into their macro). Ports and hard
  macros are *sequential*: every path ends at one and starts at one (arrival 0; or at a soft
  macro no net drives, see Arrival times). Soft macros are clusters of *combinational* logic:
  a path passes through them, unless they lie on a cycle (below).
* **Arcs**: every net gives one arc from its driver to each of its sinks, between the nodes
  they belong to. Its delay is ``wire_delay * manhattan(driver pin, sink pin)`` with pin
  positions as in the proxy cost (hard-macro pin offsets turned by orientation; soft-macro
  pins at the centre), plus ``soft_macro_delay`` when the sink is a soft macro (the logic the
  path passes there, or, for a soft macro taken as sequential below, the logic in front of its
  registers). A net's weight is not read: every net is wire, weight 0 included.
* **Arrival times**: a combinational soft macro's arrival is the largest ``arrival(source) +
  delay`` over its incoming arcs (0 if none: a soft macro no net drives starts paths too, at
  arrival 0, like a sequential node); an endpoint's (a sequential node with an incoming arc)
  likewise.
* **Cycles** can only run through soft macros (a path stops at every sequential node). A
  soft macro on one (in a strongly connected component of more than one soft macro: a
  cluster graph has such loops where the clustered logic holds registers) is taken as
  *sequential*, a path's end and start, like a hard macro: the graph left is acyclic, so
  arrival times are well defined, and the figure depends on the netlist and placement only,
  not on the order of the nodes in the file (keeping only the arcs from lower to higher
  node index, as before 2026-12-04, dropped about half the soft-to-soft arcs of ariane133
  and ibm01 and moved ariane133's worst by up to 40 % with the node order).
* **Self-arcs** (a node driving itself) are dropped for every kind of node: a net listing its
  driver among its sinks, as Circuit Training files often do for ports (278 in ariane133), is
  no path; nor, in this model, is a macro pin driving another pin of the same macro.
* **What it amounts to on clustered designs**: a Circuit Training netlist clusters the standard
  cells into soft macros, so their loops are the rule, not the exception: on the shared suite
  757 of ariane133's 782 soft macros lie on a cycle, 846 of ibm01's 894, 1,829 of ibm17's
  1,844 and all 561 of mempool_tile's. Nearly every path is then one arc between sequential
  nodes (only 14 of ibm17's 143,539 arcs into an endpoint, and none of mempool_tile's, come
  from a soft macro a path passed through), so ``worst`` is close to the longest single
  driver-to-sink wire plus one soft macro's delay (equal to it on ibm17 and mempool_tile;
  0.63 against 0.38 on ariane133, where a few paths pass logic). A cluster of thousands of
  cells holds registers, so this is the model's reading of such a netlist, not an artefact;
  ``tail`` (below) moves with many wires rather than one. The RL reward's timing term is
  ``worst``, or ``tail`` with ``placer train --timing-metric tail``.
* **Outputs**: ``worst`` = the largest endpoint arrival divided by the canvas half-perimeter
  ``W + H``; ``tail`` = the mean of the worst ``max(1, floor(n / 10))`` of the ``n`` endpoint
  arrivals, divided likewise. A design with no endpoint (no arc into a port, a hard macro or a
  soft macro on a cycle) reads 0 for both: weighing timing has no effect on it (``TimingResult.n_endpoints`` is 0).

Parameters (:class:`TimingParams`): ``wire_delay`` per micron (default 1.0, so delays are in
microns of wire) and ``soft_macro_delay`` (default ``None`` = 1 % of ``W + H`` per soft macro
passed).
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np

from netlists.errors import InputError
from netlists.model import Netlist, NodeType, Placement
from placer.cost.context import check_placement, cost_context, per_netlist


@dataclass(frozen=True)
class TimingParams:
    """Delay model parameters (see module docstring)."""

    wire_delay: float = 1.0
    soft_macro_delay: float | None = None

    def __post_init__(self) -> None:
        delays = [("wire_delay", self.wire_delay)]
        if self.soft_macro_delay is not None:
            delays.append(("soft_macro_delay", self.soft_macro_delay))
        for name, value in delays:
            if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
                raise InputError(f"{name} must be a finite number >= 0, got {value!r}")
            if not (np.isfinite(value) and value >= 0):
                raise InputError(f"{name} must be a finite number >= 0, got {value!r}")


#: The version of the model above, stored beside every recorded timing figure (``placer place``'s
#: results, the leaderboard's CSV) so that no table compares the figures of two models:
#: 1 cut the soft macros' cycles by node index (before 2026-12-04, commit 1dc7b0e), 2 takes the
#: soft macros on a cycle as sequential. Raise it whenever a placement's figures change.
TIMING_MODEL = 2

#: The figures of :class:`TimingResult` an objective or a reward may weigh.
TIMING_METRICS = ("worst", "tail")


def check_timing_metric(name: str) -> None:
    """Refuse a ``timing_metric`` that is none of :data:`TIMING_METRICS` (any other name would
    be read as an attribute of :class:`TimingResult`).

    Raises:
        ValueError: naming the metrics there are.
    """
    if name not in TIMING_METRICS:
        raise InputError(f"timing_metric must be one of {', '.join(TIMING_METRICS)}, got {name!r}")


@dataclass(frozen=True)
class TimingResult:
    """Normalised worst path delay, normalised mean of the worst 10 % endpoints, raw worst."""

    worst: float
    tail: float
    worst_delay: float
    n_endpoints: int


@dataclass(frozen=True, eq=False)
class TimingGraph:
    """Placement-independent structure: kept arcs (as net-pin entries) in evaluation order."""

    src_entry: np.ndarray  # driver entry of each arc
    dst_entry: np.ndarray  # sink entry of each arc
    src_node: np.ndarray
    dst_node: np.ndarray
    dst_soft: np.ndarray  # bool: the sink node is a soft macro
    level_ptr: np.ndarray  # arcs into soft macros grouped by the level of their sink
    endpoint_arcs: np.ndarray  # arcs into ports / hard macros (and sequential soft macros)
    endpoints: np.ndarray  # the nodes those arcs end at, sorted
    n_nodes: int


def csr_gather(ptr: np.ndarray, values: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The CSR groups (``ptr``, ``values``) of ``keys`` concatenated, and where each group
    starts in that array."""
    lens = ptr[keys + 1] - ptr[keys]
    starts = np.zeros(keys.size, dtype=np.int64)
    np.cumsum(lens[:-1], out=starts[1:])
    index = np.repeat(ptr[keys] - starts, lens) + np.arange(int(lens.sum()))
    return values[index], starts


def build_timing_graph(netlist: Netlist) -> TimingGraph:
    """Arcs of every net, with combinational cycles broken as documented above."""
    ctx = cost_context(netlist)
    sizes = np.diff(netlist.net_ptr)
    driver_entry = np.repeat(ctx.net_start, sizes)
    entries = np.arange(ctx.entry_anchor.size)
    sink = entries != driver_entry
    src_e, dst_e = driver_entry[sink], entries[sink]
    src_n, dst_n = ctx.entry_anchor[src_e], ctx.entry_anchor[dst_e]
    keep = src_n != dst_n
    src_e, dst_e, src_n, dst_n = src_e[keep], dst_e[keep], src_n[keep], dst_n[keep]

    t = netlist.node_type
    soft = t == int(NodeType.SOFT_MACRO)
    n = netlist.n_nodes
    comb = soft.copy()  # combinational: soft macros on no cycle
    both_soft = soft[src_n] & soft[dst_n]
    if np.any(both_soft):
        # (imported here: the modules reading only TIMING_MODEL or TIMING_METRICS, e.g. for
        # `placer methods` or the leaderboard, paid ~0.3 s of scipy import for a constant)
        from scipy.sparse import coo_matrix
        from scipy.sparse.csgraph import connected_components

        g = coo_matrix(
            (np.ones(int(both_soft.sum())), (src_n[both_soft], dst_n[both_soft])), shape=(n, n)
        ).tocsr()
        _, comp = connected_components(g, directed=True, connection="strong")
        size = np.bincount(comp, minlength=n)
        comb &= size[comp] == 1  # (self-arcs are dropped above: a lone node is on no cycle)
    dst_soft = soft[dst_n]  # the sink's logic delay
    dst_comb = comb[dst_n]  # the path goes on through the sink
    # levels of combinational soft macros in the acyclic graph (longest distance from an input)
    inner = comb[src_n] & dst_comb
    level = np.zeros(n, dtype=np.int64)
    a_src, a_dst = src_n[inner], dst_n[inner]
    indeg = np.bincount(a_dst, minlength=n)
    order = np.argsort(a_src, kind="stable")
    out_ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(a_src, minlength=n), out=out_ptr[1:])
    out_dst = a_dst[order]
    frontier = np.flatnonzero(comb & (indeg == 0))
    remaining = indeg.copy()
    depth = 0
    while frontier.size:
        level[frontier] = depth
        targets, _ = csr_gather(out_ptr, out_dst, frontier)
        if targets.size == 0:
            break
        np.subtract.at(remaining, targets, 1)
        cand = np.unique(targets)
        frontier = cand[remaining[cand] == 0]
        depth += 1
    into_soft = np.flatnonzero(dst_comb)
    lv = level[dst_n[into_soft]]
    o = np.argsort(lv, kind="stable")
    into_soft = into_soft[o]
    level_ptr = np.searchsorted(lv[o], np.arange(depth + 2), side="left")
    return _graph(src_e, dst_e, src_n, dst_n, dst_soft, dst_comb, into_soft, level_ptr, n)


def _graph(src_e, dst_e, src_n, dst_n, dst_soft, dst_comb, into_soft, level_ptr, n) -> TimingGraph:
    # reorder arcs: arcs into combinational soft macros by level first, then endpoint arcs
    endpoint = np.flatnonzero(~dst_comb)
    order = np.concatenate([into_soft, endpoint])
    return TimingGraph(
        src_entry=src_e[order],
        dst_entry=dst_e[order],
        src_node=src_n[order],
        dst_node=dst_n[order],
        dst_soft=dst_soft[order],
        level_ptr=level_ptr,
        endpoint_arcs=np.arange(into_soft.size, order.size),
        endpoints=np.unique(dst_n[endpoint]),
        n_nodes=n,
    )


@per_netlist
def timing_graph(netlist: Netlist) -> TimingGraph:
    """Cached :func:`build_timing_graph`."""
    return build_timing_graph(netlist)


def soft_macro_delay(netlist: Netlist, params: TimingParams) -> float:
    """The delay a path gets passing a soft macro (``params``' or 1 % of ``W + H``)."""
    c = netlist.require_canvas()
    return 0.01 * (c.width + c.height) if params.soft_macro_delay is None else params.soft_macro_delay


def arc_delays(
    g: TimingGraph,
    ex: np.ndarray,
    ey: np.ndarray,
    params: TimingParams,
    soft_delay: float,
    arcs: np.ndarray | slice = slice(None),
    *,
    arcs_only: bool = False,
) -> np.ndarray:
    """Delays of ``arcs`` of ``g`` from entry positions ``ex``/``ey``: every entry's (indexed
    by entry), or with ``arcs_only`` just those of ``arcs``' sources followed by their sinks."""
    src, dst = g.src_entry[arcs], g.dst_entry[arcs]
    if arcs_only:  # (said, not guessed from the length: 2 x arcs can equal the entry count)
        n = src.size
        sx, sy, dx, dy = ex[:n], ey[:n], ex[n:], ey[n:]
    else:
        sx, sy, dx, dy = ex[src], ey[src], ex[dst], ey[dst]
    delay = params.wire_delay * (np.abs(sx - dx) + np.abs(sy - dy))
    return delay + np.where(g.dst_soft[arcs], soft_delay, 0.0)


def propagate(g: TimingGraph, delay: np.ndarray) -> np.ndarray:
    """Arrival times of the combinational soft macros (0 elsewhere), level by level."""
    arrival = np.zeros(g.n_nodes)
    lp = g.level_ptr
    for k in range(lp.size - 1):
        a, b = lp[k], lp[k + 1]
        if a == b:
            continue
        t = arrival[g.src_node[a:b]] + delay[a:b]
        np.maximum.at(arrival, g.dst_node[a:b], t)
    return arrival


def arrival_times(
    netlist: Netlist, placement: Placement, params: TimingParams = TimingParams()
) -> tuple[np.ndarray, np.ndarray]:
    """``(node_arrival, endpoint_arrival_per_arc)``: soft-macro arrivals and endpoint arc times.

    Raises:
        ValueError: a placement no cost can be computed from (as :func:`~placer.cost.proxy.evaluate`).
    """
    ctx = cost_context(netlist)
    check_placement(netlist, ctx, placement)  # orientation -1 read table row 7, 9 an IndexError, NaN a NaN
    g = timing_graph(netlist)
    ex, ey = ctx.entry_positions(placement)
    delay = arc_delays(g, ex, ey, params, soft_macro_delay(netlist, params))
    arrival = propagate(g, delay)
    e = g.endpoint_arcs
    return arrival, arrival[g.src_node[e]] + delay[e]


def summarise(endpoint_arrival: np.ndarray, scale: float) -> TimingResult:
    """``worst`` and ``tail`` of the endpoints' arrival times (one value per endpoint)."""
    if endpoint_arrival.size == 0:
        return TimingResult(0.0, 0.0, 0.0, 0)
    k = max(1, int(np.floor(0.1 * endpoint_arrival.size)))
    # the k largest, largest first (a partition, then a sort of those only: the same array
    # as a full sort's first k, so the same mean to the last bit)
    top = np.partition(endpoint_arrival, endpoint_arrival.size - k)[endpoint_arrival.size - k :]
    top = np.sort(top)[::-1]
    worst = float(top[0])
    return TimingResult(worst / scale, float(np.mean(top)) / scale, worst, int(endpoint_arrival.size))


def timing_cost(
    netlist: Netlist, placement: Placement, params: TimingParams = TimingParams()
) -> TimingResult:
    """Worst and worst-10 % endpoint arrival times, normalised by ``W + H``."""
    _, arc_time = arrival_times(netlist, placement, params)  # (first: it checks the arguments)
    c = netlist.require_canvas()
    g = timing_graph(netlist)
    return summarise(endpoint_arrivals(g, arc_time), c.width + c.height)


def endpoint_arrivals(g: TimingGraph, arc_time: np.ndarray) -> np.ndarray:
    """Each endpoint's arrival (``g.endpoints`` order): the largest time of the endpoint arcs
    into it (``arc_time``, one per arc of ``g.endpoint_arcs``)."""
    per_end = np.full(g.n_nodes, -np.inf)
    np.maximum.at(per_end, g.dst_node[g.endpoint_arcs], arc_time)
    # by the endpoint list, not by finiteness: an arrival that overflowed to inf (coordinates
    # near 1e308) must stay the worst, not vanish and leave a better-looking figure
    return per_end[g.endpoints]
