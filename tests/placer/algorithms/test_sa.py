"""Simulated annealing's force-directed soft-macro step."""

from __future__ import annotations

import numpy as np
import pytest

from netlists.generate import generate
from placer.algorithms import fd
from placer.algorithms.base import Deadline
from placer.algorithms.legalize import legalize
from placer.algorithms.sa import soft_macro_step
from placer.algorithms.search_state import SearchState
from placer.cost.proxy import evaluate


def test_the_soft_macro_step_keeps_a_force_directed_result_only_where_it_helps(monkeypatch):
    """A worse force-directed soft placement was kept: on ibm01 the anneal then never got back
    below its start (20 s: 1.0177 -> 1.0177; kept only where it helps: 1.0056)."""
    netlist, placement = generate(8, 60, 16, seed=1)
    canvas = netlist.require_canvas()
    seen = set()
    for corner in ((0.0, 0.0), (canvas.width / 2, canvas.height / 2)):  # helps; does not
        state = SearchState(netlist, legalize(netlist, placement), np.random.default_rng(0))
        soft = state.soft
        start, before = state.placement.copy(), state.ev.cost.proxy
        proposal = state.placement.copy()
        proposal.x[soft], proposal.y[soft] = corner
        monkeypatch.setattr(fd, "place_soft_macros", lambda netlist, placement, p=proposal, **_: p.copy())
        soft_macro_step(Deadline(10.0))(state)
        helps = evaluate(netlist, proposal).proxy <= before
        seen.add(helps)
        kept = proposal if helps else start
        np.testing.assert_array_equal(state.placement.x, kept.x)
        np.testing.assert_array_equal(state.placement.y, kept.y)
        assert state.ev.cost.proxy == evaluate(netlist, kept).proxy
    assert seen == {True, False}  # both cases met


def test_a_max_steps_the_budget_cannot_reach_is_noted() -> None:
    """The schedule runs on steps with max_steps: cut by the clock, the anneal never cooled
    (about 35% worse) and the run was not reproducible, with no word of it."""
    from netlists.generate import generate
    from placer.algorithms.base import NoteCollector, get_placer, warm_up

    netlist, placement = generate(6, 30, 8, seed=2)
    warm_up("sa")  # a cold compile took the whole 0.5 s before the first step (run alone)
    notes = NoteCollector()
    get_placer("sa", max_steps=10**9).place(netlist, placement, budget_s=0.5, seed=0, progress=notes)
    assert any("budget ran out after" in n and "of max_steps 1,000,000,000" in n for n in notes.texts)
    reached = NoteCollector()
    get_placer("sa", max_steps=50).place(netlist, placement, budget_s=5.0, seed=0, progress=reached)
    assert not any("budget ran out" in n for n in reached.texts)


def test_a_search_the_budget_never_reached_says_so() -> None:
    """A budget spent before the first proposal (a cold compile in the notebook) handed the
    start back as sa's result without a word."""
    from netlists.generate import generate
    from placer.algorithms.anneal import anneal
    from placer.algorithms.base import NoteCollector

    netlist, placement = generate(6, 30, 8, seed=2)
    state = SearchState(netlist, placement, np.random.default_rng(0))
    notes = NoteCollector()
    anneal(state, {"shift": 1.0}, 0.0, notes)
    assert any("spent before the search's first proposal" in n for n in notes.texts)
    searched = NoteCollector()
    anneal(state, {"shift": 1.0}, 5.0, searched, max_steps=20)
    assert not any("first proposal" in n for n in searched.texts)


def test_a_search_that_found_nothing_better_says_so() -> None:
    """A run that handed back its (legalised) start, every move refused, printed nothing: the
    user read sa's result as searched."""
    from placer.algorithms.base import NoteCollector, get_placer

    netlist, placement = generate(6, 30, 8, seed=2)
    notes = NoteCollector()

    def worse(self, mv):  # type: ignore[no-untyped-def]
        return mv.proxy + 1.0, None  # every move raises the objective

    import pytest

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(SearchState, "price", worse)
        # (600 s: ended by its steps; a cold compile inside 30 s left no time for 300 proposals)
        get_placer("sa", max_steps=300, fd_every=0).place(netlist, placement, budget_s=600, seed=0, progress=notes)
    assert any("no move lowered the objective (300 proposals, 0 accepted)" in n for n in notes.texts), notes.texts
    searched = NoteCollector()
    get_placer("sa", max_steps=300, fd_every=0).place(netlist, placement, budget_s=600, seed=0, progress=searched)
    assert not any("no move lowered" in n for n in searched.texts)


def test_soft_macro_steps_take_at_most_a_quarter_of_a_clock_bound_run(monkeypatch) -> None:
    """On ibm17 ten steps (~0.15 s each) were half of a 3 s run, which then handed back its
    start. A run on max_steps keeps every step (which ran would vary with the machine)."""
    import time

    from placer.algorithms import sa

    netlist, placement = generate(8, 60, 16, seed=1)
    calls = []

    def slow(netlist, placement, **_):  # type: ignore[no-untyped-def]
        calls.append(1)
        time.sleep(0.05)
        return placement.copy()

    monkeypatch.setattr(fd, "place_soft_macros", slow)
    state = SearchState(netlist, legalize(netlist, placement), np.random.default_rng(0))
    for capped, expected in ((True, range(1, 4)), (False, range(8, 9))):
        calls.clear()
        hook = sa.soft_macro_step(Deadline(60.0), capped=capped)
        start = time.perf_counter()
        for _ in range(8):  # back to back: 0.05 s steps with no search between them
            hook(state)
        assert len(calls) in expected, (capped, len(calls), time.perf_counter() - start)


def test_a_design_without_movable_hard_macros_ends_early_with_a_note() -> None:
    """sa ran one soft-macro step and returned long before its budget, without a word."""
    from netlists.generate import generate
    from placer.algorithms.base import get_placer

    netlist, placement = generate(4, 6, 4, seed=1)
    placement.fixed[netlist.hard_macros] = True
    notes = []
    get_placer("sa").place(netlist, placement, budget_s=5.0, seed=0, progress=lambda p: notes.append(p.message))
    assert any("no movable hard macro to anneal: sa ran one force-directed step" in n for n in notes)
    notes.clear()  # without the soft-macro step (fd_every=0) it says it ran none
    get_placer("sa", fd_every=0).place(netlist, placement, budget_s=5.0, seed=0, progress=lambda p: notes.append(p.message))
    assert any("no movable hard macro to anneal: sa ends before its budget" in n for n in notes)


def test_a_start_of_macros_piled_on_one_spot_keeps_to_a_short_budget() -> None:
    """2,000 hard macros stacked at the centre took the legaliser 25 s before a 1 s sa run
    began (and ``placer place`` as long again for its note): past half the budget (at least
    0.5 s) the start is packed in rows, and a note says so."""
    import time

    from placer.algorithms.base import get_placer, warm_up

    nl, pl = generate(2000, 4, 4, seed=0)
    c = nl.require_canvas()
    pl.x[nl.hard_macros], pl.y[nl.hard_macros] = c.width / 2, c.height / 2
    warm_up("sa")
    notes: list[str] = []
    began = time.perf_counter()
    out = get_placer("sa").place(nl, pl, budget_s=1.0, progress=lambda p: p.note and notes.append(p.note))
    assert time.perf_counter() - began < 10.0  # (generous: about 1.5 s; it was 25 s)
    assert any("the start: legalisation took over 0.5 s" in n and "packed in rows" in n for n in notes), notes
    assert legalize(nl, out).x.tolist() == out.x.tolist()  # legal


def test_the_note_of_a_design_without_movable_hard_macros_says_what_happened() -> None:
    """It said "ran one force-directed step of the soft macros" where there were none, or no
    budget was left for one (nothing moved)."""
    from placer.algorithms.base import get_placer

    def notes_of(netlist, placement, budget_s: float) -> list[str]:  # type: ignore[no-untyped-def]
        notes: list[str] = []
        get_placer("sa").place(netlist, placement, budget_s=budget_s, seed=0,
                               progress=lambda p: p.note and notes.append(p.note))  # fmt: skip
        return [n for n in notes if n.startswith("no movable hard macro to anneal")]

    no_soft, placement = generate(4, 0, 4, seed=1)
    placement.fixed[no_soft.hard_macros] = True
    said = notes_of(no_soft, placement, 5.0)
    assert said and "has no soft macro to move either" in said[0] and "force-directed" not in said[0]
    netlist, placement = generate(4, 6, 4, seed=1)
    placement.fixed[netlist.hard_macros] = True
    said = notes_of(netlist, placement, 0.0)
    assert said and "had no budget left for a force-directed step" in said[0] and "ran one" not in said[0]
    said = notes_of(netlist, placement, 5.0)
    assert said and "ran one force-directed step of the soft macros (" in said[0] and "kept" in said[0]


@pytest.mark.parametrize("step", ["the real one", "back where they were", "reversed, refused"])
def test_the_lone_soft_steps_note_says_kept_only_where_the_soft_macros_moved(
        monkeypatch: pytest.MonkeyPatch, step: str) -> None:
    """The note on a design without movable hard macros says the force-directed step was kept
    where it moved the soft macros, not where it put them back where they were (kept, equal
    objective) or was refused (a higher objective)."""
    from placer.algorithms.base import get_placer

    def back(netlist, placement, seed=0, budget_s=None):  # type: ignore[no-untyped-def]
        return placement.copy()

    def reversed_(netlist, placement, seed=0, budget_s=None):  # type: ignore[no-untyped-def]
        new, soft = placement.copy(), netlist.soft_macros
        new.x[soft], new.y[soft] = placement.x[soft][::-1], placement.y[soft][::-1]
        return new

    if step != "the real one":
        monkeypatch.setattr(fd, "place_soft_macros", back if step.startswith("back") else reversed_)
    netlist, placement = generate(4, 6, 4, seed=1)
    placement.fixed[netlist.hard_macros] = True
    notes: list[str] = []
    out = get_placer("sa").place(netlist, placement, budget_s=5.0, seed=0,
                                 progress=lambda p: p.note and notes.append(p.note))  # fmt: skip
    said = [n for n in notes if n.startswith("no movable hard macro to anneal")]
    soft = netlist.soft_macros
    moved = not (np.array_equal(out.x[soft], placement.x[soft]) and np.array_equal(out.y[soft], placement.y[soft]))
    assert moved == (step == "the real one")
    what = "(kept: it lowered the objective)" if moved else "(not kept: it did not lower the objective)"
    assert said and what in said[0], said
