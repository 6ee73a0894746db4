"""The optimal region is where a node's nets are shortest (checked by brute force)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from netlists.generate import generate
from placer.algorithms.search_moves import SearchContext, move_region
from placer.algorithms.search_state import SearchState


def _hpwl_of_node_nets(state: SearchState, node: int, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Weighted HPWL of ``node``'s nets with its centre moved to each ``(xs[i], ys[j])`` (its
    pins keep their offsets), at ``[i, j]``: each net's pins, spanned in numpy for every x and
    every y at once (a reference independent of the evaluator's incremental arithmetic)."""
    ev = state.ev
    ctx = ev.ctx
    dx = np.asarray(xs, dtype=np.float64)[:, None] - state.placement.x[node]
    dy = np.asarray(ys, dtype=np.float64)[:, None] - state.placement.y[node]
    total = np.zeros((dx.shape[0], dy.shape[0]))
    for net in ev._nets_of[ev._net_ptr[node] : ev._net_ptr[node + 1]]:
        a, b = ev._net_entries[net], ev._net_entries[net + 1]
        mine = ctx.entry_anchor[a:b] == node
        px = np.where(mine, ev._ex[a:b] + dx, ev._ex[a:b])  # [x position, pin]
        py = np.where(mine, ev._ey[a:b] + dy, ev._ey[a:b])
        span_x = px.max(axis=1) - px.min(axis=1)
        span_y = py.max(axis=1) - py.min(axis=1)
        total += ctx.net_weight[net] * (span_x[:, None] + span_y[None, :])
    return total


def _hpwl_at(state: SearchState, node: int, x: float, y: float) -> float:
    """:func:`_hpwl_of_node_nets` at one point."""
    return float(_hpwl_of_node_nets(state, node, np.array([x]), np.array([y]))[0, 0])


@pytest.mark.parametrize("weighted", [False, True])
def test_optimal_region_minimises_the_node_nets_wirelength(weighted: bool) -> None:
    """With net weights and the macro's own pin offsets: it took every net alike and every pin
    at the centre, and aimed beside the optimum of hard macros with weighted nets."""
    netlist, placement = generate(8, 40, 16, seed=3)
    if weighted:
        weights = np.random.default_rng(5).choice([0.0, 0.5, 1.0, 3.0, 10.0], netlist.n_nets)
        netlist = dataclasses.replace(netlist, net_weight=weights)
    state = SearchState(netlist, placement, np.random.default_rng(0))
    c = netlist.canvas
    assert c is not None
    checked = 0
    for node in np.concatenate([state.hard, state.soft])[:12].tolist():
        x0, x1, y0, y1, found = state.optimal_region(node)
        if not found:
            continue
        checked += 1
        assert x0 <= x1 and y0 <= y1
        inside = _hpwl_at(state, node, (x0 + x1) / 2, (y0 + y1) / 2)
        xs = np.linspace(-c.width / 2, 1.5 * c.width, 81)  # (pin offsets can put it off the canvas)
        ys = np.linspace(-c.height / 2, 1.5 * c.height, 81)
        grid_best = float(_hpwl_of_node_nets(state, node, xs, ys).min())
        assert inside <= grid_best + 1e-9
        # every point of the region is optimal (HPWL is flat there)
        corner = _hpwl_at(state, node, x0, y1)
        assert abs(corner - inside) <= 1e-9 * max(1.0, inside)
    assert checked >= 5


def test_region_move_proposes_a_legal_priced_move_inside_the_canvas() -> None:
    netlist, placement = generate(8, 40, 16, seed=4)
    state = SearchState(netlist, placement, np.random.default_rng(1))
    ctx = SearchContext(pool=np.concatenate([state.hard, state.soft]))
    priced = 0
    for _ in range(50):
        kind, mv = move_region(state, ctx)
        assert kind == "region"
        if mv is None:
            continue
        priced += 1
        assert state.inside(mv.nodes, mv.x, mv.y)
        fresh = state.ev.propose(mv.nodes, mv.x, mv.y)
        assert abs(fresh.proxy - mv.proxy) < 1e-12
    assert priced > 0
