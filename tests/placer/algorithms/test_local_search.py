"""The move engine's hot-net weighting points at the nets routed through hot cells."""

from __future__ import annotations

import numpy as np
import pytest

from netlists.generate import generate
from netlists.model import Canvas
from placer.algorithms.search_heat import net_heat
from placer.algorithms.search_state import SearchState


def test_net_heat_counts_the_overflow_each_net_is_routed_through() -> None:
    netlist, placement = generate(8, 40, 16, seed=5)
    state = SearchState(netlist, placement, np.random.default_rng(0))
    ev, c = state.ev, netlist.canvas
    assert c is not None
    R, C, s = c.rows, c.cols, int(c.smooth_range)
    v, h = np.zeros((R, C)), np.zeros((R, C))
    hot_r, hot_c = R // 2, C // 2
    h[hot_r, hot_c] = 1.0  # one hot horizontal cell, everything else cold
    heat = net_heat(state, v, h)

    # brute force: a net is hot when its driver row is within the smoothing range of the hot
    # row and its pins' columns span the hot column
    ctx = ev.ctx
    ends = np.append(ctx.net_start[1:], ctx.entry_net.size)
    expected = np.zeros(netlist.n_nodes)
    for n, (a, b) in enumerate(zip(ctx.net_start, ends, strict=True)):
        cols = ev._cols[a:b]
        if abs(int(ev._rows[a]) - hot_r) <= s and cols.min() <= hot_c <= cols.max():
            np.add.at(expected, ctx.entry_anchor[a:b], ctx.route_weight[n])
    assert expected.any(), "the test design should route some net through the hot cell"
    np.testing.assert_allclose(heat, expected)


@pytest.mark.parametrize(("lookahead", "density_lookahead"), [(0.0, 0.0), (0.5, 0.0), (0.5, 1.0)])
def test_anneal_ends_on_the_best_placement_it_saw_even_when_it_wandered_uphill(
    lookahead: float, density_lookahead: float
) -> None:
    from placer.algorithms.anneal import AnnealSchedule, anneal
    from placer.cost.proxy import evaluate

    netlist, placement = generate(8, 40, 16, seed=6)
    state = SearchState(netlist, placement, np.random.default_rng(2))
    start = state.ev.cost.proxy
    seen: list[float] = []
    original_commit = state.ev.commit

    def commit_and_record(move):  # type: ignore[no-untyped-def]
        original_commit(move)
        seen.append(state.ev.cost.proxy)

    state.ev.commit = commit_and_record  # type: ignore[method-assign]
    hot = AnnealSchedule(start_factor=50.0, final_ratio=0.5)  # accepts many uphill moves
    pool = np.concatenate([state.hard, state.soft])
    moves = {"shift": 1.0, "region": 1.0}
    anneal(
        state,
        moves,
        60.0,
        lambda p: None,
        hot,
        pool=pool,
        max_steps=3000,
        lookahead=lookahead,
        density_lookahead=density_lookahead,
    )
    assert seen and max(seen) > min(seen), "the hot run should have gone uphill at times"
    best = min([start, *seen])
    assert abs(state.ev.cost.proxy - best) < 1e-12
    assert abs(evaluate(netlist, state.placement).proxy - best) < 1e-9


def test_a_drawn_move_that_is_illegal_still_counts_for_the_periodic_refreshes(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """An illegal draw used to skip the step's refreshes: a step count that is a multiple of
    ``heat_every`` but fell on an illegal draw never refreshed the heat map."""
    import placer.algorithms.anneal as search  # where anneal looks update_heat up
    from netlists.generate import generate
    from placer.algorithms.anneal import anneal
    from placer.algorithms.legalize import legalize

    netlist, placement = generate(30, 60, 16, seed=2, utilisation=0.7)
    state = SearchState(netlist, legalize(netlist, placement), np.random.default_rng(0))
    calls = []
    original = search.update_heat
    monkeypatch.setattr(search, "update_heat", lambda s, c: (calls.append(1), original(s, c)))
    stats = anneal(state, {"shift": 1.0, "swap": 1.0}, 600.0, lambda p: None,
                   pool=np.concatenate([state.hard, state.soft]), heat_every=500, max_steps=20000)
    assert sum(stats.illegal.values()) > 0  # the case at hand: some draws were illegal
    assert len(calls) == 1 + 20000 // 500  # once at the start, then every 500 steps


def test_shift_radii_past_the_grid_are_capped_not_overflowed() -> None:
    """radius_start 1e-300 to radius_end 1e300 cells: the radius grew past the float range and
    the shift's random range overflowed (OverflowError); a shift never needs to cross more
    than the grid."""
    from placer.algorithms.base import get_placer
    from placer.algorithms.legality import check_legality

    netlist, placement = generate(6, 20, 8, seed=4)
    placed = get_placer("refine", radius_start=1e-300, radius_end=1e300, max_steps=400).place(
        netlist, placement, budget_s=30, seed=0)
    assert check_legality(netlist, placed).overlap_area == 0.0


def _no_better_notes(state: SearchState, moves: dict[str, float], max_steps: int) -> list[str]:
    from placer.algorithms.anneal import anneal

    notes: list[str] = []
    anneal(state, moves, 30.0, lambda p: p.note and notes.append(p.note), pool=state.hard, max_steps=max_steps)
    return [n for n in notes if n.startswith("no move lowered the objective")]


def test_a_run_no_move_could_change_does_not_ask_for_a_larger_budget(tiny_builder) -> None:  # type: ignore[no-untyped-def]
    """"a larger budget may find one" was said of a swap-only run with one movable macro (no
    proposal is ever a move) and of a run max_steps ended (the budget was not what ended it)."""
    netlist, placement = tiny_builder(
        ports=[("A", 0.0, 50.0)],
        hard=[("h0", 10.0, 10.0, 30.0, 50.0, [(0.0, 0.0)]), ("h1", 10.0, 10.0, 70.0, 50.0, [(0.0, 0.0)])],
        nets=[("A", ["h0/P0", "h1/P0"], 1)],
        canvas=Canvas(100.0, 100.0, 4, 4),
    )
    placement.fixed[netlist.hard_macros[1]] = True  # one movable macro: nothing to swap it with
    said = _no_better_notes(SearchState(netlist, placement, np.random.default_rng(0)), {"swap": 1.0}, 50)
    assert said and "no proposal was a move the placement allows" in said[0] and "budget" not in said[0]
    # a mirror of a macro whose only pin is at its centre changes nothing: accepted, never lower
    said = _no_better_notes(SearchState(netlist, placement, np.random.default_rng(0)), {"mirror": 1.0}, 50)
    assert said and said[0].endswith("a larger max_steps may find one")
