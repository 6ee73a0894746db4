"""The search state's legality checks of a proposed move (placer.algorithms.search_state)."""

from __future__ import annotations

import numpy as np

from placer.algorithms.legalize import legalize
from placer.algorithms.search_state import SearchState


def test_moves_onto_a_macro_or_off_a_long_thin_canvas_are_refused(tall_design) -> None:  # type: ignore[no-untyped-def]
    """On 10 x 1e10 the tolerance was 10 microns in x too: a 4-wide macro could be moved onto
    another, or wholly off the canvas's left side, and the move was legal."""
    netlist, placement = tall_design
    start = legalize(netlist, placement)
    state = SearchState(netlist, start, np.random.default_rng(0))
    a, b = (np.array([int(i)], dtype=np.int64) for i in netlist.hard_macros[:2])
    assert not state.legal(a, start.x[b], start.y[b])  # onto b
    assert not state.legal(a, np.array([-3.0]), start.y[a])  # right edge at -1
    assert not state.legal(a, np.array([12.0]), start.y[a])  # left edge at 10
    both = np.concatenate([a, b])
    assert not state.legal(both, np.array([5.0, 5.0]), np.array([5e9, 5e9]))  # a pair stacked
    assert state.legal(a, np.array([2.0]), start.y[a])  # its own column, moved in x: fine
