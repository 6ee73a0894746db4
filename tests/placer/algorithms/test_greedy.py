"""``greedy`` says when its budget cut the run short: such a run is not reproducible."""

from __future__ import annotations

import numpy as np
import pytest

import placer.algorithms.anneal as anneal_module
import placer.algorithms.greedy as greedy_module
from netlists.generate import generate
from placer.algorithms.base import Deadline, NoteCollector, get_placer


@pytest.fixture(scope="module")
def design():  # type: ignore[no-untyped-def]
    return generate(10, 30, 12, seed=4)


def _movable_hard(netlist, placement) -> int:  # type: ignore[no-untyped-def]
    return int(np.count_nonzero(~placement.fixed[netlist.hard_macros]))


class _ExpiresAfter(Deadline):
    """A deadline whose ``expired()`` turns true after its first ``calls`` checks: a cut at a
    known point, whatever the machine's speed."""

    def __init__(self, budget_s: float, calls: int) -> None:
        super().__init__(budget_s)
        self.calls_left = calls

    def expired(self) -> bool:
        self.calls_left -= 1
        return self.calls_left < 0


def _not_reproducible(notes: NoteCollector) -> list[str]:
    return [text for text in notes.texts if "not reproducible" in text]


def test_a_run_the_budget_cut_among_the_hard_macros_says_so(design) -> None:  # type: ignore[no-untyped-def]
    """ibm06 at --budget-s 0.05 placed 131 of its 178 hard macros, another count in every run,
    with no word: greedy's docs call it deterministic."""
    netlist, placement = design
    notes = NoteCollector()
    get_placer("greedy").place(netlist, placement, 0.0, seed=0, progress=notes)
    said = _not_reproducible(notes)
    assert len(said) == 1 and f"after 0 of {_movable_hard(netlist, placement)} hard macros" in said[0], notes.texts


def test_a_run_the_budget_cut_before_the_soft_macro_step_says_so(design, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    netlist, placement = design
    checks = _movable_hard(netlist, placement)  # one check per hard macro, then the soft step's
    monkeypatch.setattr(greedy_module, "Deadline", lambda budget_s: _ExpiresAfter(budget_s, checks))
    notes = NoteCollector()
    get_placer("greedy").place(netlist, placement, 60.0, seed=0, progress=notes)
    said = _not_reproducible(notes)
    assert len(said) == 1 and "before the soft macros' force-directed step" in said[0], notes.texts


def test_a_force_directed_step_the_budget_cut_says_so(design, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The step was given only the time left and stopped silently mid-way."""

    class NoTimeLeft(Deadline):
        def expired(self) -> bool:
            return False

        def remaining(self) -> float:
            return 0.0

    netlist, placement = design
    monkeypatch.setattr(greedy_module, "Deadline", NoTimeLeft)
    notes = NoteCollector()
    get_placer("greedy").place(netlist, placement, 60.0, seed=0, progress=notes)
    said = _not_reproducible(notes)
    assert len(said) == 1 and "during the soft macros' force-directed step" in said[0], notes.texts
    # with soft_refine: one note, not the step's and then soft_refine's with opposite remedies
    for refine, remedy in (({"max_steps": 100}, "(a larger budget is)"), (None, "with refine's max_steps is")):
        notes = NoteCollector()
        get_placer("greedy", soft_refine=True, refine=refine).place(netlist, placement, 60.0, seed=0, progress=notes)
        said = _not_reproducible(notes)
        assert len(said) == 1 and "soft_refine did not run" in said[0] and remedy in said[0], notes.texts


def test_soft_refine_cut_short_of_max_steps_says_so(design, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """refine's own note was dropped: greedy called it without a progress callback (default
    design, 2 s: proxies 0.793395 and 0.790837 in two runs, no note)."""
    netlist, placement = design
    # the search's 40 start-temperature checks, then 60 proposals of its 10**9
    monkeypatch.setattr(anneal_module, "Deadline", lambda budget_s: _ExpiresAfter(budget_s, 100))
    notes = NoteCollector()
    get_placer("greedy", soft_refine=True, refine={"max_steps": 10**9}).place(
        netlist, placement, 60.0, seed=0, progress=notes)
    assert any("of max_steps 1,000,000,000 proposals" in text for text in _not_reproducible(notes)), notes.texts


def test_a_soft_refine_with_no_time_left_says_so(design, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    netlist, placement = design
    checks = _movable_hard(netlist, placement) + 1  # the hard macros' and the force-directed step's
    monkeypatch.setattr(greedy_module, "Deadline", lambda budget_s: _ExpiresAfter(budget_s, checks))
    notes = NoteCollector()
    get_placer("greedy", soft_refine=True, refine={"max_steps": 100}).place(
        netlist, placement, 60.0, seed=0, progress=notes)
    said = _not_reproducible(notes)
    assert len(said) == 1 and "before the soft macros' refinement" in said[0], notes.texts
    assert "(a larger budget is)" in said[0]
    notes = NoteCollector()  # without max_steps the refinement runs on the clock: no budget repeats it
    get_placer("greedy", soft_refine=True).place(netlist, placement, 60.0, seed=0, progress=notes)
    assert "with refine's max_steps" in _not_reproducible(notes)[0], notes.texts


def test_a_run_the_budget_did_not_cut_says_nothing_of_it(design) -> None:  # type: ignore[no-untyped-def]
    netlist, placement = design
    notes = NoteCollector()
    first = get_placer("greedy", soft_refine=True, refine={"max_steps": 200}).place(
        netlist, placement, 600.0, seed=0, progress=notes)
    again = get_placer("greedy", soft_refine=True, refine={"max_steps": 200}).place(netlist, placement, 600.0, seed=0)
    assert not _not_reproducible(notes), notes.texts
    np.testing.assert_array_equal(first.x, again.x)
    np.testing.assert_array_equal(first.y, again.y)


def test_hard_macros_no_grid_cell_fits_are_named_in_a_note(tiny_builder) -> None:  # type: ignore[no-untyped-def]
    """On a 2 x 2 grid of a 100 x 100 canvas, a 60 x 30 macro centred on a cell centre (25 or
    75) sticks out of the canvas: greedy kept all three at their start, legalised, and said
    nothing, as if it had placed them."""
    from netlists.model import Canvas

    hard = [(f"h{k}", 60.0, 30.0, 50.0, y, [(0.0, 0.0)]) for k, y in enumerate((16.0, 50.0, 84.0))]
    netlist, placement = tiny_builder(
        ports=[("A", 0.0, 90.0)], hard=hard, nets=[("A", ["h0/P0", "h2/P0"], 1)], canvas=Canvas(100.0, 100.0, 2, 2)
    )
    notes = NoteCollector()
    out = get_placer("greedy").place(netlist, placement, budget_s=5.0, progress=notes)
    said = [t for t in notes.texts if "fit no grid cell" in t]
    assert said and said[0].startswith("3 of 3 movable hard macros fit no grid cell"), notes.texts
    assert "(none of the 2 x 2 cell centres holds one inside the canvas" in said[0]  # the canvas's grid
    h = netlist.hard_macros
    assert np.array_equal(out.x[h], placement.x[h]) and np.array_equal(out.y[h], placement.y[h])  # kept


def test_a_run_where_every_macro_found_a_cell_has_no_such_note(design) -> None:  # type: ignore[no-untyped-def]
    notes = NoteCollector()
    get_placer("greedy").place(*design, budget_s=5.0, progress=notes)
    assert not [t for t in notes.texts if "fit no grid cell" in t]
