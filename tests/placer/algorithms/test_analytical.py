"""Analytical (ePlace-style) placer: Poisson solve, improvement, determinism, budget, legality."""

from __future__ import annotations

import math
import re
import time

import numpy as np
import pytest
import torch

from netlists.generate import generate
from placer.algorithms.analytical import Analytical
from placer.algorithms.base import get_placer
from placer.algorithms.electrostatic import Electrostatics, dct_last
from placer.algorithms.legality import check_legality
from placer.cost.proxy import evaluate

CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def random_start():
    netlist, placement = generate(8, 60, 16, seed=5)
    c = netlist.require_canvas()
    m = netlist.macros
    rng = np.random.default_rng(0)
    start = placement.copy()
    start.x[m] = rng.uniform(0, c.width, m.size)
    start.y[m] = rng.uniform(0, c.height, m.size)
    return netlist, start


def test_dct_matches_definition():
    x = torch.tensor(np.random.default_rng(0).normal(size=(3, 7)), dtype=torch.float64)
    n = torch.arange(7, dtype=torch.float64)
    basis = torch.cos(math.pi * n[:, None] * (2 * n[None, :] + 1) / 14)  # (k, n)
    torch.testing.assert_close(dct_last(x), x @ basis.T)


def test_single_charge_field_is_symmetric_and_points_outward():
    solver = Electrostatics(17, 17, 17.0, 17.0, CPU, torch.float64)
    rho = torch.zeros(17, 17, dtype=torch.float64)
    rho[8, 8] = 1.0
    phi, ex, ey = solver.field(rho)
    assert int(torch.argmax(phi)) == 8 * 17 + 8
    assert torch.all(ex[8, 9:] > 0) and torch.all(ex[8, :8] < 0)
    assert torch.all(ey[9:, 8] > 0) and torch.all(ey[:8, 8] < 0)
    torch.testing.assert_close(ex, -ex.flip(1), atol=1e-12, rtol=0)
    torch.testing.assert_close(ey, ex.T, atol=1e-12, rtol=0)


def test_potential_of_a_cosine_mode():
    width, height = 10.0, 6.0
    solver = Electrostatics(12, 20, width, height, CPU, torch.float64)
    xs = (torch.arange(20, dtype=torch.float64) + 0.5) * width / 20
    ys = (torch.arange(12, dtype=torch.float64) + 0.5) * height / 12
    wu, wv = 2 * math.pi / width, math.pi / height
    rho = torch.cos(wv * ys)[:, None] * torch.cos(wu * xs)[None, :]
    torch.testing.assert_close(solver.potential(rho + 3.0), rho / (wu**2 + wv**2))


def run(netlist, start, budget_s=5.0, seed=0, **options):
    return Analytical(device="cpu", **options).run(
        netlist, start.copy(), budget_s, seed, lambda p: None
    )


def test_reduces_wirelength_and_proxy_from_random(random_start):
    netlist, start = random_start
    before = evaluate(netlist, start)
    after = evaluate(netlist, run(netlist, start, max_iterations=300))
    assert after.hpwl < 0.5 * before.hpwl
    assert after.proxy < 0.7 * before.proxy


@pytest.mark.parametrize("options", [{"optimizer": "adam"}, {"wirelength": "lse"}])
def test_options_also_improve(random_start, options):
    netlist, start = random_start
    after = evaluate(netlist, run(netlist, start, max_iterations=150, **options))
    assert after.proxy < evaluate(netlist, start).proxy


def test_deterministic_for_a_seed(random_start):
    netlist, start = random_start
    a = run(netlist, start, seed=3, max_iterations=25)
    b = run(netlist, start, seed=3, max_iterations=25)
    np.testing.assert_array_equal(a.x, b.x)
    np.testing.assert_array_equal(a.y, b.y)


def test_respects_budget(random_start):
    netlist, start = random_start
    t0 = time.perf_counter()
    run(netlist, start, budget_s=0.3, max_iterations=10**6, stop_overflow=0.0)
    # a million iterations take minutes: 6 s leaves a loaded 2-core CI room and still catches
    # a budget that is not read
    assert time.perf_counter() - t0 < 6.0


def test_fixed_nodes_and_ports_stay(random_start):
    netlist, start = random_start
    start = start.copy()
    pinned = netlist.hard_macros[:3]
    start.fixed[pinned] = True
    result = run(netlist, start, max_iterations=40)
    still = np.concatenate([pinned, netlist.ports])
    np.testing.assert_array_equal(result.x[still], start.x[still])
    np.testing.assert_array_equal(result.y[still], start.y[still])
    moved = np.setdiff1d(netlist.macros, pinned)
    assert np.any(result.x[moved] != start.x[moved])


def test_place_gives_legal_output(random_start):
    netlist, start = random_start
    seen = []
    result = get_placer("analytical", device="cpu").place(
        netlist, start, budget_s=3.0, seed=0, progress=seen.append
    )
    assert check_legality(netlist, result, reference=start).legal
    assert evaluate(netlist, result).proxy < evaluate(netlist, start).proxy
    assert any(p.best_proxy is not None for p in seen)


def test_a_budget_spent_on_set_up_keeps_the_start() -> None:
    """No iteration fits: the three gradient passes before the loop used to run anyway (0.5 s
    at a 0.01 s budget on ibm01) and return the jittered start."""
    import numpy as np

    from netlists.generate import generate
    from placer.algorithms.base import get_placer
    from placer.algorithms.legalize import legalize

    netlist, placement = generate(8, 30, 8, seed=2)
    out = get_placer("analytical").place(netlist, placement, budget_s=0.0, seed=0)
    start = legalize(netlist, placement)
    assert np.array_equal(out.x, start.x) and np.array_equal(out.y, start.y)


def test_a_tiny_hpwl_ref_or_a_huge_bins_is_no_crash(random_start):
    """hpwl_ref = 1e-9 made ePlace's multiplier overflow (OverflowError mid-run); bins had no
    upper bound (a 10**6-bin grid is an out-of-memory crash), now refused when built."""
    netlist, start = random_start
    placed = run(netlist, start, max_iterations=40, hpwl_ref=1e-9)
    assert np.isfinite(placed.x).all() and np.isfinite(placed.y).all()
    with pytest.raises(ValueError, match=r"option 'bins' takes a whole number in \[2, 2048\]"):
        get_placer("analytical", bins=10**6)


def test_a_stage_cut_by_the_clock_is_noted_and_global_refine_says_it_is_not_reproducible(monkeypatch):
    """analytical handed back its start, or stopped far from its overflow target, with no word;
    global_refine with max_steps promised a reproducible run it was not."""
    from placer.algorithms import electrostatic
    from placer.algorithms.base import NoteCollector

    netlist, placement = generate(8, 40, 8, seed=2)
    expired = iter([False, False] + [True] * 10**6)  # two checks, then the budget is gone
    monkeypatch.setattr(electrostatic.Deadline, "expired", lambda self: next(expired))
    notes = NoteCollector()
    get_placer("global_refine", max_steps=50, analytical={"stop_overflow": 1e-9}).place(
        netlist, placement, budget_s=60, seed=0, progress=notes)
    assert any("with max_steps the run is still not reproducible" in n for n in notes.texts), notes.texts
    expired = iter([False, False] + [True] * 10**6)
    notes = NoteCollector()
    get_placer("analytical", stop_overflow=1e-9).place(netlist, placement, budget_s=60, seed=0, progress=notes)
    cut = [n for n in notes.texts if n.startswith("the analytical placement stopped at its budget after")]
    assert cut and "not reproducible" in cut[0], notes.texts
    # without max_steps the stage's share is meant to cut it: no alarm
    expired = iter([False, False] + [True] * 10**6)
    notes = NoteCollector()
    get_placer("global_refine", analytical={"stop_overflow": 1e-9}).place(netlist, placement, budget_s=60, seed=0,
                                                                           progress=notes)
    assert not any("stopped at its budget" in n or "reproducible" in n for n in notes.texts), notes.texts
    # stopped by an interrupt, the note does not blame the budget
    monkeypatch.setattr(electrostatic, "stop_requested", lambda: True)
    notes = NoteCollector()
    expired = iter([False, False] + [True] * 10**6)
    get_placer("analytical", stop_overflow=1e-9).place(netlist, placement, budget_s=60, seed=0, progress=notes)
    assert any("the analytical placement was stopped by an interrupt after" in n for n in notes.texts), notes.texts
    monkeypatch.setattr(electrostatic, "stop_requested", lambda: False)
    monkeypatch.setattr(electrostatic.Deadline, "expired", lambda self: True)  # set-up took it all
    notes = NoteCollector()
    get_placer("analytical").place(netlist, placement, budget_s=60, seed=0, progress=notes)
    assert any("set-up took the whole budget: no iteration ran" in n for n in notes.texts), notes.texts


def test_the_density_gradient_is_smooth_across_bin_boundaries():
    """Read through the exact overlaps, a macro's density gradient depended on the potential
    at its footprint's edges only and jumped (by as much as its whole value) each time an edge crossed a bin."""
    from netlists.generate import default_design
    from placer.algorithms.electrostatic import _build_model, density_gradient, density_map

    netlist, placement = default_design()
    model = _build_model(netlist, placement, 32, torch.device("cpu"), torch.float64)
    field = Electrostatics(32, 32, netlist.canvas.width, netlist.canvas.height, torch.device("cpu"), torch.float64)
    phi = field.potential(density_map(model, model.base_xy, field))  # held: only the macro slides
    node = int(model.movable[0])
    forces = []
    for dx in np.linspace(0.0, 3 * field.bin_w, 61):  # three bins in steps of a twentieth
        xy = model.base_xy.clone()
        xy[node, 0] += dx
        forces.append(float(density_gradient(model, xy, field, phi)[0, 0]))
    steps = np.abs(np.diff(forces)) / np.max(np.abs(forces))
    assert steps.max() < 0.1  # (the edges' form: constant, then a jump of the whole value)


def test_analytical_moves_the_macros_by_that_gradient(random_start, monkeypatch):
    """(The smooth form above is the one the descent uses, not only a function beside it.)"""
    import placer.algorithms.electrostatic as electrostatic

    calls = []
    real = electrostatic.density_gradient
    monkeypatch.setattr(electrostatic, "density_gradient", lambda *a: calls.append(1) or real(*a))
    get_placer("analytical", max_iterations=5).place(*random_start, budget_s=60, seed=0)
    assert len(calls) >= 5


def test_a_density_weight_that_cannot_lower_the_overflow_stops_growing_before_infinity(random_start):
    """Multiplied every iteration with no cap, it reached infinity and the positions NaN: the
    whole run was thrown away ('could not be legalised (... at (nan, nan))')."""
    netlist, start = random_start
    notes = []
    result = get_placer(
        "analytical", stop_overflow=0.0, density_growth=2.5, max_iterations=900
    ).place(netlist, start, budget_s=600, seed=0, progress=lambda p: notes.append(p.message))
    assert np.isfinite(result.x).all() and not any("could not be legalised" in n for n in notes)
    assert any(n.startswith("900 iterations") for n in notes)



def _overflow(netlist, placement) -> float:  # type: ignore[no-untyped-def]
    """The density overflow of ``placement`` as the run measures it, from its own pieces."""
    from placer.algorithms.analytical import default_bins
    from placer.algorithms.electrostatic import _build_model, density_map

    bins = default_bins(netlist.macros.size)
    model = _build_model(netlist, placement, bins, torch.device("cpu"), torch.float64)
    c = netlist.require_canvas()
    field = Electrostatics(bins, bins, c.width, c.height, torch.device("cpu"), torch.float64)
    rho = density_map(model, model.base_xy, field)
    excess = float((rho - 1.0).clamp(min=0).sum()) * field.bin_w * field.bin_h
    return excess / model.movable_area


@pytest.mark.parametrize("optimizer", ["nesterov", "adam"])
def test_a_converged_run_returns_a_placement_below_the_stop_overflow_and_reports_its_own(optimizer: str):
    """Both optimisers stopped on the overflow where their last gradient was taken (Nesterov's
    look-ahead point, Adam's point before its step) but returned another point: Nesterov
    reported 0.099 of a placement at 0.1026, over the stop at 0.1; Adam 0.100 of one at 0.096."""
    netlist, placement = generate(8, 60, 16, seed=5)
    rng = np.random.default_rng(5)
    m, c = netlist.macros, netlist.require_canvas()
    placement.x[m], placement.y[m] = rng.uniform(0, c.width, m.size), rng.uniform(0, c.height, m.size)
    said: list[str] = []
    method = Analytical(device="cpu", max_iterations=400, optimizer=optimizer)
    out = method.run(netlist, placement, 60.0, 0, lambda p: said.append(p.message))
    iterations, reported = re.fullmatch(r"(\d+) iterations, overflow ([\d.]+)", said[-1]).groups()
    assert int(iterations) < 400
    assert _overflow(netlist, out) < 0.1 and f"{_overflow(netlist, out):.3f}" == reported


def test_a_target_density_below_one_is_refused():
    """Every node is a macro, its own interior at density 1: below 1 each macro's interior
    counted as overflow and the stop was out of reach (all 400 iterations, the density weight
    grown 3e8-fold)."""
    with pytest.raises(ValueError, match=r"option 'target_density' takes a finite number >= 1, got 0.8"):
        Analytical(target_density=0.8)
    Analytical(target_density=1.5)  # above 1: a looser stop, taken
