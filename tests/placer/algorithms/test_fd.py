"""Force-directed soft-macro placement: improves on random soft macros, moves only them."""

from __future__ import annotations

import time

import numpy as np
import pytest

from netlists.generate import generate
from placer.algorithms.base import NoteCollector, get_placer
from placer.algorithms.fd import PoissonField, place_soft_macros
from placer.algorithms.legality import check_legality
from placer.cost.proxy import evaluate


@pytest.fixture(scope="module")
def design():
    netlist, placement = generate(12, 150, 24, seed=3)
    return netlist, placement


def random_soft(netlist, placement, seed=0):
    c = netlist.require_canvas()
    soft = netlist.soft_macros
    rng = np.random.default_rng(seed)
    p = placement.copy()
    p.x[soft] = rng.uniform(0, c.width, soft.size)
    p.y[soft] = rng.uniform(0, c.height, soft.size)
    return p


def test_beats_random_soft_placement(design):
    netlist, placement = design
    start = random_soft(netlist, placement)
    result = place_soft_macros(netlist, start, seed=0)
    assert evaluate(netlist, result).proxy < 0.7 * evaluate(netlist, start).proxy


def test_beats_clustered_start(design):
    netlist, placement = design
    c = netlist.require_canvas()
    start = placement.copy()
    soft = netlist.soft_macros
    start.x[soft] = 0.5 * c.width
    start.y[soft] = 0.5 * c.height
    result = place_soft_macros(netlist, start, seed=0)
    assert evaluate(netlist, result).proxy < evaluate(netlist, start).proxy


def test_moves_only_free_soft_macros_and_keeps_input(design):
    netlist, placement = design
    start = random_soft(netlist, placement, seed=1)
    pinned = netlist.soft_macros[:5]
    start.fixed[pinned] = True
    before = start.copy()
    result = place_soft_macros(netlist, start, seed=0)
    np.testing.assert_array_equal(start.x, before.x)
    np.testing.assert_array_equal(start.y, before.y)
    others = np.setdiff1d(np.arange(netlist.n_nodes), netlist.soft_macros)
    np.testing.assert_array_equal(result.x[others], before.x[others])
    np.testing.assert_array_equal(result.y[pinned], before.y[pinned])
    free = np.setdiff1d(netlist.soft_macros, pinned)
    assert np.any(result.x[free] != before.x[free])
    c = netlist.require_canvas()
    w, h = netlist.width[free], netlist.height[free]
    assert np.all(result.x[free] - w / 2 >= -1e-9) and np.all(
        result.x[free] + w / 2 <= c.width + 1e-9
    )
    assert np.all(result.y[free] - h / 2 >= -1e-9) and np.all(
        result.y[free] + h / 2 <= c.height + 1e-9
    )


def test_seeded_and_fast(design):
    netlist, placement = design
    start = random_soft(netlist, placement)
    place_soft_macros(netlist, start, seed=7)  # warm the per-netlist caches
    t0 = time.perf_counter()
    a = place_soft_macros(netlist, start, seed=7)
    elapsed = time.perf_counter() - t0
    b = place_soft_macros(netlist, start, seed=7)
    np.testing.assert_array_equal(a.x, b.x)
    np.testing.assert_array_equal(a.y, b.y)
    assert elapsed < 0.5  # tens of ms unloaded


def test_budget_stops_early(design, monkeypatch):
    """On a clock that moves 10 ms per reading, a 50 ms budget allows a handful of the 10,000
    iterations (the test checked only that a placement came back: ignoring the budget passed)."""
    import types

    import placer.algorithms.fd as fd

    netlist, placement = design
    start = random_soft(netlist, placement)
    ticks = iter(range(10**9))
    monkeypatch.setattr(fd, "time", types.SimpleNamespace(perf_counter=lambda: next(ticks) * 0.01))
    calls = []
    real = fd._window_overlaps
    monkeypatch.setattr(fd, "_window_overlaps", lambda *a: calls.append(1) or real(*a))
    result = place_soft_macros(netlist, start, iterations=10_000, budget_s=0.05)
    assert 0 < len(calls) // 2 <= 10  # two calls per iteration
    assert np.any(result.x[netlist.soft_macros] != start.x[netlist.soft_macros])


def test_a_step_the_budget_cut_says_so_to_its_progress(design, monkeypatch):
    """greedy's soft-macro step stopped at the time left without a word, so a run differing
    from the last one said nothing of it."""
    import types

    import placer.algorithms.fd as fd

    netlist, placement = design
    start = random_soft(netlist, placement)
    ticks = iter(range(10**9))
    monkeypatch.setattr(fd, "time", types.SimpleNamespace(perf_counter=lambda: next(ticks) * 0.01))
    notes = NoteCollector()
    place_soft_macros(netlist, start, iterations=10_000, budget_s=0.05, progress=notes)
    assert len(notes.texts) == 1 and "of 10,000 force-directed iterations" in notes.texts[0], notes.texts
    assert "not reproducible" in notes.texts[0]
    notes = NoteCollector()
    place_soft_macros(netlist, start, iterations=3, budget_s=60, progress=notes)  # all 3 run
    assert notes.texts == []


def test_field_points_away_from_a_charge():
    solver = PoissonField(17, 17, 17.0, 17.0)
    rho = np.zeros((17, 17))
    rho[8, 8] = 1.0
    ex, ey = solver.field(rho)
    assert np.all(ex[8, 9:] > 0) and np.all(ex[8, :8] < 0)
    assert np.all(ex[7:10, 9:13] > 0)
    np.testing.assert_allclose(ex, -ex[:, ::-1], atol=1e-12)
    np.testing.assert_allclose(ey, ex.T, atol=1e-12)


def test_registered_placer_is_legal_and_not_worse(design):
    netlist, placement = design
    start = random_soft(netlist, placement)
    seen = []
    result = get_placer("fd").place(netlist, start, budget_s=2.0, seed=0, progress=seen.append)
    assert check_legality(netlist, result, reference=start).legal
    assert evaluate(netlist, result).proxy < evaluate(netlist, start).proxy
    assert seen and seen[-1].fraction == 1.0


def test_fd_reports_the_cost_of_what_it_returns_from_an_illegal_start() -> None:
    """ariane133's initial.plc has macros outside the canvas: fd compared and reported costs
    of placements the final legalisation then changed (best 0.7109 reported, 0.7530 returned)."""
    from netlists.designs import load_builtin
    from placer.algorithms.legality import check_legality
    from placer.cost.proxy import evaluate

    netlist, placement = load_builtin()
    assert check_legality(netlist, placement).outside_macros > 0
    reports: list[float] = []
    out = get_placer("fd", iterations=10, repulsions=[0.5]).place(
        netlist, placement, budget_s=60, seed=0, progress=lambda p: reports.append(p.best_proxy)
    )
    reported = [r for r in reports if r is not None]
    assert reported[-1] == evaluate(netlist, out).proxy


def test_a_diverged_soft_macro_run_never_wins_and_does_not_crash(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The cost refuses non-finite positions: a trial that diverged to NaN is skipped (its
    cost is NaN), not raised out of the placer."""
    import placer.algorithms.fd as fd_module

    netlist, placement = generate(3, 6, 4, seed=1)

    def diverged(netlist, placement, **_):  # type: ignore[no-untyped-def]
        out = placement.copy()
        out.x[netlist.soft_macros] = np.nan
        return out

    monkeypatch.setattr(fd_module, "place_soft_macros", diverged)
    result = get_placer("fd").place(netlist, placement, 5, seed=0)
    assert np.all(np.isfinite(result.x[netlist.soft_macros]))


def test_proxy_or_nan_prices_finite_placements_and_marks_diverged_ones() -> None:
    from placer.algorithms.base import proxy_or_nan

    netlist, placement = generate(3, 6, 4, seed=1)
    assert proxy_or_nan(netlist, placement) == evaluate(netlist, placement).proxy
    diverged = placement.copy()
    diverged.y[int(netlist.hard_macros[0])] = np.inf
    assert np.isnan(proxy_or_nan(netlist, diverged))


def test_a_start_no_repulsion_improves_is_noted(monkeypatch):
    """fd handed back its (legalised) start with no word when no strength lowered the proxy."""
    from netlists.generate import generate
    from placer.algorithms import fd as fd_module
    from placer.algorithms.base import NoteCollector, get_placer

    netlist, placement = generate(4, 16, 6, seed=1)
    monkeypatch.setattr(fd_module, "proxy_or_nan", lambda n, p: float("nan"))  # nothing ever wins
    notes = NoteCollector()
    get_placer("fd", repulsions=[0.5, 1.0]).place(netlist, placement, budget_s=30, seed=0, progress=notes)
    assert any("no repulsion strength tried (2 of 2) lowered the proxy" in n for n in notes.texts), notes.texts


def test_a_design_without_movable_soft_macros_is_named_as_such_and_attraction_is_a_fraction() -> None:
    """It said no repulsion strength lowered the proxy (none could: nothing to place); and an
    attraction above 1, documented as a fraction of the way, was taken."""
    from netlists.generate import generate
    from placer.algorithms.base import get_placer

    netlist, placement = generate(4, 6, 4, seed=1)
    placement.fixed[netlist.soft_macros] = True
    notes = []
    get_placer("fd").place(netlist, placement, budget_s=5.0, seed=0, progress=lambda p: notes.append(p.message))
    assert any("no movable soft macro" in n for n in notes) and not any("repulsion strength" in n for n in notes)
    with pytest.raises(ValueError, match="attraction"):
        get_placer("fd", attraction=1.5)


# --- operator tests: the Poisson solve, the charge map and the spring equilibria ------------


@pytest.mark.parametrize("rows, cols", [(12, 20), (7, 13), (3, 3), (2, 2), (5, 64)])
def test_poisson_field_matches_analytical_electrostatics(rows, cols):
    """fd's PoissonField and analytical's Electrostatics solve the same Neumann Poisson
    equation: the same potential and field (to 1e-12) on a random density, odd grids included."""
    import torch

    from placer.algorithms.electrostatic import Electrostatics

    rho = np.random.default_rng(0).random((rows, cols))
    ours = PoissonField(rows, cols, 10.0, 7.0)
    theirs = Electrostatics(rows, cols, 10.0, 7.0, torch.device("cpu"), torch.float64)
    phi, ex, ey = (t.numpy() for t in theirs.field(torch.tensor(rho)))
    np.testing.assert_allclose(ours.potential(rho), phi, rtol=0, atol=1e-12)
    fx, fy = ours.field(rho)
    np.testing.assert_allclose(fx, ex, rtol=0, atol=1e-12)
    np.testing.assert_allclose(fy, ey, rtol=0, atol=1e-12)


@pytest.mark.parametrize("seed", [0, 1])
def test_the_charge_map_totals_the_macro_area(seed, monkeypatch):
    """The density fd hands its Poisson solve, times the bin area, is the macros' area (on a
    7 x 13 grid: bins that are not square)."""
    import placer.algorithms.fd as fd

    netlist, placement = generate(6, 40, 8, seed=seed, grid=(7, 13))
    seen = []
    real = fd.PoissonField.field

    def spy(self, rho):  # type: ignore[no-untyped-def]
        seen.append((rho.copy(), self.bin_w * self.bin_h))
        return real(self, rho)

    monkeypatch.setattr(fd.PoissonField, "field", spy)
    place_soft_macros(netlist, placement, iterations=3)
    rho, bin_area = seen[0]
    area = float(np.sum(netlist.width[netlist.macros] * netlist.height[netlist.macros]))
    assert float(rho.sum()) * bin_area == pytest.approx(area, rel=1e-9)


def _canvas():  # type: ignore[no-untyped-def]
    from netlists.model import Canvas

    return Canvas(width=100.0, height=100.0, cols=10, rows=10)


def test_a_soft_macro_between_two_ports_ends_at_their_midpoint(tiny_builder):
    """With no repulsion, one soft macro on two 2-pin nets to ports settles at their midpoint."""
    netlist, placement = tiny_builder(
        ports=[("A", 10, 50), ("B", 90, 30)], soft=[("s", 2, 2, 80, 80)],
        nets=[("A", ["s/P"], 1), ("B", ["s/P"], 1)], canvas=_canvas())
    s = list(netlist.names).index("s")
    out = place_soft_macros(netlist, placement, iterations=200, repulsion=0.0)
    assert (out.x[s], out.y[s]) == pytest.approx((50.0, 40.0), abs=1e-6)


def test_a_chain_of_two_soft_macros_ends_at_thirds(tiny_builder):
    """A - s1 - s2 - B with equal springs: s1 and s2 settle at 1/3 and 2/3 of the way."""
    netlist, placement = tiny_builder(
        ports=[("A", 10, 50), ("B", 90, 50)], soft=[("s1", 2, 2, 50, 90), ("s2", 2, 2, 50, 10)],
        nets=[("A", ["s1/P"], 1), ("s1/P", ["s2/P"], 1), ("s2/P", ["B"], 1)], canvas=_canvas())
    names = list(netlist.names)
    i1, i2 = names.index("s1"), names.index("s2")
    out = place_soft_macros(netlist, placement, iterations=300, repulsion=0.0)
    assert (out.x[i1], out.y[i1]) == pytest.approx((10 + 80 / 3, 50.0), abs=1e-3)
    assert (out.x[i2], out.y[i2]) == pytest.approx((10 + 160 / 3, 50.0), abs=1e-3)


def test_a_soft_macro_is_pulled_to_a_hard_macros_pin_not_its_centre(tiny_builder):
    """Tied to a hard macro's pin at offset (8, 8) and to a port, a soft macro settles at the
    midpoint of the pin and the port; the hard macro never moves, nor does a fixed soft macro."""
    netlist, placement = tiny_builder(
        ports=[("A", 90, 50)], hard=[("h", 20, 20, 30, 50, [(8.0, 8.0)])], soft=[("s", 2, 2, 70, 20)],
        nets=[("h/P0", ["s/P"], 1), ("A", ["s/P"], 1)], canvas=_canvas())
    names = list(netlist.names)
    s, h = names.index("s"), names.index("h")
    out = place_soft_macros(netlist, placement, iterations=300, repulsion=0.0)
    assert (out.x[s], out.y[s]) == pytest.approx((64.0, 54.0), abs=1e-3)  # between (38, 58) and (90, 50)
    assert (out.x[h], out.y[h]) == (placement.x[h], placement.y[h])
    pinned = placement.copy()
    pinned.fixed[s] = True
    out = place_soft_macros(netlist, pinned, iterations=50)
    assert (out.x[s], out.y[s]) == (pinned.x[s], pinned.y[s])
    assert (out.x[h], out.y[h]) == (pinned.x[h], pinned.y[h])


def test_weighted_and_multi_pin_nets_give_the_stiffness_weighted_mean(tiny_builder):
    """Clique springs: a weight-3 two-pin net pulls with stiffness 3, a weight-1 three-pin net
    with 1/2 to each other pin; the soft macro settles at the stiffness-weighted mean."""
    netlist, placement = tiny_builder(
        ports=[("A", 10, 50), ("B", 90, 50), ("C", 50, 90)], soft=[("s", 2, 2, 50, 10)],
        nets=[("s/P", ["A"], 3), ("B", ["s/P", "C"], 1)], canvas=_canvas())
    s = list(netlist.names).index("s")
    out = place_soft_macros(netlist, placement, iterations=300, repulsion=0.0)
    expected = ((3 * 10 + 0.5 * 90 + 0.5 * 50) / 4, (3 * 50 + 0.5 * 50 + 0.5 * 90) / 4)
    assert (out.x[s], out.y[s]) == pytest.approx(expected, abs=1e-3)


def test_the_fd_method_cut_by_its_budget_says_so(design, monkeypatch):
    """The registered fd stopped its repulsion trials at half its budget and each trial's
    iterations at its end without a word (greedy's, rl's and sa's cuts are noted): two runs of
    one seed then differed silently."""
    import types

    from placer.algorithms import fd as fd_module
    from placer.algorithms.base import Deadline

    netlist, placement = design
    ticks = iter(range(10**9))  # each trial's iterations cut by a clock that runs fast
    with monkeypatch.context() as patch:
        patch.setattr(fd_module, "time", types.SimpleNamespace(perf_counter=lambda: next(ticks) * 0.01))
        notes = NoteCollector()
        get_placer("fd", iterations=10_000).place(netlist, placement, budget_s=0.5, seed=0, progress=notes)
    assert [n for n in notes.texts if "of 10,000 force-directed iterations" in n and "not reproducible" in n], notes.texts

    class HalfSpent(Deadline):  # past half the budget after the first trial: the rest skipped
        def fraction(self) -> float:
            return 0.75

    monkeypatch.setattr(fd_module, "Deadline", HalfSpent)
    notes = NoteCollector()
    get_placer("fd", iterations=5).place(netlist, placement, budget_s=30, seed=0, progress=notes)
    assert [n for n in notes.texts if "after 1 of 5 repulsion strengths: the run is not reproducible" in n], notes.texts
    notes = NoteCollector()
    monkeypatch.setattr(fd_module, "Deadline", Deadline)
    get_placer("fd", iterations=5).place(netlist, placement, budget_s=30, seed=0, progress=notes)
    assert not [n for n in notes.texts if "budget ran out" in n], notes.texts  # a whole run says nothing
