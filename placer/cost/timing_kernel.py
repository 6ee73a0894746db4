"""Compiled kernel (numba) that prices the common timing move: one whose changed arcs all end
at path endpoints.

On clustered designs nearly every soft macro is sequential, so a moved node's arcs almost always
run from one path end to another: no combinational arrival changes, and the move only re-times
those arcs and takes the maximum again at the endpoints they reach. :func:`price_endpoint_move`
does that in one call, with the operations of :mod:`placer.cost.timing` on the same operands
(the same pin offsets, delays, sums and maxima), so its figures equal the full evaluation's to
the last bit. A move that changes an arc into combinational logic is handed back (``ok`` False)
to :class:`placer.cost.timing_incremental.IncrementalTiming`'s general path, which propagates
the arrivals again.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def price_endpoint_move(
    nodes: np.ndarray, nx: np.ndarray, ny: np.ndarray, norient: np.ndarray,
    px: np.ndarray, py: np.ndarray, porient: np.ndarray,
    node_ptr: np.ndarray, node_arcs: np.ndarray,
    src_entry: np.ndarray, dst_entry: np.ndarray, src_node: np.ndarray, dst_node: np.ndarray,
    dst_soft: np.ndarray,
    entry_anchor: np.ndarray, entry_dx: np.ndarray, entry_dy: np.ndarray,
    entry_has_offset: np.ndarray, orient_matrix: np.ndarray,
    wire_delay: float, soft_delay: float, n_inner: int,
    delay: np.ndarray, arrival: np.ndarray, arc_time: np.ndarray,
    end_of_node: np.ndarray, end_ptr: np.ndarray, end_arcs: np.ndarray,
    moved_slot: np.ndarray, arc_slot: np.ndarray, endpoint_seen: np.ndarray,
) -> tuple[bool, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Price moving ``nodes`` to ``nx``/``ny``/``norient`` against the committed state.

    Returns ``(ok, arcs, delays, arc_times, endpoints, endpoint_arrival)``: the arcs whose
    delay changes (sorted) with their new delays and arrival times, and the endpoints (positions
    in the evaluator's endpoint list, sorted) whose arrival changes with their new arrivals.
    ``ok`` is False when a changed arc feeds combinational logic: then ``arcs`` and ``delays``
    are every changed arc's (sorted), and the rest empty.
    ``moved_slot`` (per node), ``arc_slot`` (per arc) and ``endpoint_seen`` (per endpoint) are
    scratch arrays: -1, -1 and False on entry and on return. Nothing is checked (node indices,
    orientation codes 0-7: the caller's, as ``propose_trusted``'s); where a NaN reaches an
    endpoint the figures equal numpy's as values, the NaN's sign bit aside.
    """
    for k in range(nodes.size):
        moved_slot[nodes[k]] = k
    total = 0
    for k in range(nodes.size):
        total += node_ptr[nodes[k] + 1] - node_ptr[nodes[k]]
    found = np.empty(total, dtype=np.int64)
    n_found = 0
    for k in range(nodes.size):  # each arc once (one between two moved nodes is listed twice)
        for j in range(node_ptr[nodes[k]], node_ptr[nodes[k] + 1]):
            arc = node_arcs[j]
            if arc_slot[arc] == -1:
                arc_slot[arc] = -2
                found[n_found] = arc
                n_found += 1
    arcs = np.sort(found[:n_found])
    new_delay = np.empty(n_found)
    changed = np.zeros(n_found, dtype=np.bool_)
    ok = True
    ends_x = np.empty(2)
    ends_y = np.empty(2)
    for i in range(n_found):
        arc = arcs[i]
        arc_slot[arc] = -1
        for side in range(2):  # the arc's two pins, with the moved nodes at their new places
            # (written out here, not in a helper taking the arrays: that made the loop ~10x slower)
            entry = src_entry[arc] if side == 0 else dst_entry[arc]
            anchor = entry_anchor[entry]
            slot = moved_slot[anchor]
            if slot >= 0:
                x, y, o = np.float64(nx[slot]), np.float64(ny[slot]), norient[slot]
            else:
                x, y, o = np.float64(px[anchor]), np.float64(py[anchor]), porient[anchor]
            if entry_has_offset[entry]:  # as CostContext.entry_positions turns the pin offset
                ox, oy = entry_dx[entry], entry_dy[entry]
                x += orient_matrix[o, 0] * ox + orient_matrix[o, 1] * oy
                y += orient_matrix[o, 2] * ox + orient_matrix[o, 3] * oy
            ends_x[side], ends_y[side] = x, y
        d = wire_delay * (abs(ends_x[0] - ends_x[1]) + abs(ends_y[0] - ends_y[1]))
        d = d + (soft_delay if dst_soft[arc] else 0.0)
        new_delay[i] = d
        if d != delay[arc]:
            changed[i] = True
            if arc < n_inner:
                ok = False
    for k in range(nodes.size):
        moved_slot[nodes[k]] = -1
    out_arcs, out_delay = arcs[changed], new_delay[changed]
    n_changed = out_arcs.size
    if not ok:  # the changed arcs and their delays: the caller propagates the logic's arrivals
        empty_f = np.empty(0)
        return False, out_arcs, out_delay, empty_f, np.empty(0, dtype=np.int64), empty_f
    out_time = np.empty(n_changed)
    touched = np.empty(n_changed, dtype=np.int64)
    n_touched = 0
    for m in range(n_changed):
        arc = out_arcs[m]
        out_time[m] = arrival[src_node[arc]] + out_delay[m]
        arc_slot[arc] = m
        end = end_of_node[dst_node[arc]]
        if not endpoint_seen[end]:
            endpoint_seen[end] = True
            touched[n_touched] = end
            n_touched += 1
    touched = np.sort(touched[:n_touched])
    new_arrival = np.empty(n_touched)
    for t in range(n_touched):  # each touched endpoint's maximum over its incoming arcs, again
        end = touched[t]
        endpoint_seen[end] = False
        best = np.nan
        for j in range(end_ptr[end], end_ptr[end + 1]):
            arc = end_arcs[j]
            time = out_time[arc_slot[arc]] if arc_slot[arc] >= 0 else arc_time[arc]
            if j == end_ptr[end]:
                best = time
            elif best == best and (time != time or time > best):  # (a NaN wins, as in np.maximum)
                best = time
        new_arrival[t] = best
    for i in range(n_changed):
        arc_slot[out_arcs[i]] = -1
    return True, out_arcs, out_delay, out_time, touched, new_arrival
