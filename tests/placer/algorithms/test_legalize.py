"""Legaliser: legal output, minimal displacement of the already-legal, fixed nodes kept."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netlists.designs import load_builtin
from netlists.generate import generate
from placer.algorithms.legalize import check_legality, legalize


def test_legal_placement_is_left_unchanged() -> None:
    nl, pl = generate(8, 10, 6, seed=3)
    assert check_legality(nl, pl).legal
    out = legalize(nl, pl)
    assert np.array_equal(out.x, pl.x) and np.array_equal(out.y, pl.y)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000))
def test_random_pile_becomes_legal(seed: int) -> None:
    nl, pl = generate(12, 8, 4, seed=seed % 7)
    rng = np.random.default_rng(seed)
    c = nl.canvas
    m = nl.macros
    pl.x[m] = rng.uniform(-0.2, 1.2, m.size) * c.width / 2 + c.width / 4  # piled in the middle
    pl.y[m] = rng.uniform(-0.2, 1.2, m.size) * c.height / 2 + c.height / 4
    out = legalize(nl, pl)
    rep = check_legality(nl, out, pl)
    assert rep.legal, rep
    assert not np.shares_memory(out.x, pl.x)


def test_fixed_macros_stay_and_others_move_around_them() -> None:
    nl, pl = generate(6, 4, 4, seed=1)
    h = nl.hard_macros
    pl.fixed[h[0]] = True
    pl.x[h[1:]] = pl.x[h[0]]  # everyone on top of the fixed macro
    pl.y[h[1:]] = pl.y[h[0]]
    out = legalize(nl, pl)
    assert (out.x[h[0]], out.y[h[0]]) == (pl.x[h[0]], pl.y[h[0]])
    assert check_legality(nl, out, pl).legal


def test_builtin_design_macros_outside_canvas_are_brought_in() -> None:
    nl, pl = load_builtin()
    assert check_legality(nl, pl).outside_macros > 0
    out = legalize(nl, pl)
    assert check_legality(nl, out, pl).legal


def test_overlapping_fixed_macros_is_an_error() -> None:
    nl, pl = generate(3, 2, 2, seed=0)
    h = nl.hard_macros
    pl.fixed[h] = True
    pl.x[h] = pl.x[h[0]]
    pl.y[h] = pl.y[h[0]]
    with pytest.raises(ValueError, match="fixed"):
        legalize(nl, pl)
