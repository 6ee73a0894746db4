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
    run(netlist, start, max_iterations=1)  # (compiled, as a timed run is after its warm-up)
    t0 = time.perf_counter()
    run(netlist, start, max_iterations=1)  # the set-up and its legalisation, which no clock cuts
    set_up = time.perf_counter() - t0
    t0 = time.perf_counter()
    run(netlist, start, budget_s=0.3, max_iterations=10**6, stop_overflow=0.0)
    # a million iterations take minutes: twice the set-up's time plus 2.3 s leaves a loaded
    # machine room (a fixed 6 s had a margin of 1.4x under load) and still catches a budget
    # that is not read
    assert time.perf_counter() - t0 < 2 * set_up + 2.3


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


# --- DREAMPlace-style operator tests: each operator against its definition ------------------


def _rotated_design(seed: int):  # type: ignore[no-untyped-def]
    """A small generated design with its hard macros in random orientations (so the pin offsets
    the model turns are not all the identity) and the model built from it in float64."""
    from placer.algorithms.electrostatic import _build_model

    netlist, placement = generate(4, 8, 6, seed=seed)
    placement = placement.copy()
    hard = netlist.hard_macros
    placement.orientation[hard] = np.random.default_rng(seed).integers(0, 8, hard.size)
    return netlist, placement, _build_model(netlist, placement, 16, CPU, torch.float64)


@pytest.mark.parametrize("kind", ["wa", "lse"])
def test_smooth_wirelength_gradient_passes_gradcheck(kind):
    """Autograd's gradient of the smooth wirelength (WA, LSE) with respect to the movable
    centres matches central finite differences in float64, at a sharp, a middle and a flat gamma,
    with rotated macros and their pin offsets."""
    from placer.algorithms.electrostatic import smooth_wirelength

    torch.manual_seed(0)
    _, _, model = _rotated_design(0)
    movable = model.movable
    for gamma in (0.5, 5.0, 50.0):

        def wirelength(v, gamma=gamma):  # type: ignore[no-untyped-def]
            return smooth_wirelength(model, model.base_xy.index_put((movable,), v), gamma, kind)

        v0 = model.base_xy[movable].clone().requires_grad_(True)
        assert torch.autograd.gradcheck(wirelength, (v0,), eps=1e-6, atol=1e-5, rtol=1e-4), gamma


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_smooth_wirelength_brackets_the_hpwl_and_converges_to_it(seed):
    """WA <= HPWL <= LSE at every gamma, both within 1e-6 (relative) of the HPWL at gamma 1e-3,
    and the exact HPWL the model reports beside them is placer.cost's."""
    from placer.algorithms.electrostatic import smooth_wirelength

    netlist, placement, model = _rotated_design(seed)
    exact: dict[str, float] = {}
    smooth_wirelength(model, model.base_xy, 1.0, "wa", exact)
    hpwl = exact["hpwl"]
    assert hpwl == pytest.approx(evaluate(netlist, placement).hpwl, rel=1e-12)
    for gamma in (10.0, 1.0, 0.1, 0.01, 1e-3):
        wa = float(smooth_wirelength(model, model.base_xy, gamma, "wa"))
        lse = float(smooth_wirelength(model, model.base_xy, gamma, "lse"))
        assert wa <= hpwl * (1 + 1e-12) and lse >= hpwl * (1 - 1e-12), gamma
    assert wa == pytest.approx(hpwl, rel=1e-6) and lse == pytest.approx(hpwl, rel=1e-6)


def _field_for(netlist, placement, bins):  # type: ignore[no-untyped-def]
    from placer.algorithms.electrostatic import _build_model

    c = netlist.require_canvas()
    model = _build_model(netlist, placement, bins, CPU, torch.float64)
    return model, Electrostatics(bins, bins, c.width, c.height, CPU, torch.float64)


def _non_square_design(tiny_builder):  # type: ignore[no-untyped-def]
    """Eight overlapping soft macros on a 120 x 40 canvas (generated canvases are square)."""
    from netlists.model import Canvas

    width, height = 120.0, 40.0
    rng = np.random.default_rng(1)
    soft = [
        (f"s{i}", float(rng.uniform(6, 14)), float(rng.uniform(4, 9)),
         float(rng.uniform(10, width - 10)), float(rng.uniform(6, height - 6)))
        for i in range(8)
    ]
    return tiny_builder(ports=[("A", 0, 20)], soft=soft, nets=[("A", ["s0/P", "s1/P"], 1)],
                        canvas=Canvas(width=width, height=height, cols=12, rows=4))


def test_density_map_total_is_the_macro_area(tiny_builder):
    """The density map times the bin area sums to the macros' area: each macro's charge is
    conserved by the footprint stretching and the bin overlaps (generated and non-square
    canvases, coarse and default bins)."""
    from placer.algorithms.analytical import default_bins
    from placer.algorithms.electrostatic import density_map

    designs = [generate(4, 10, 4, seed=s) for s in (0, 1)] + [_non_square_design(tiny_builder)]
    for netlist, placement in designs:
        area = float(np.sum(netlist.width[netlist.macros] * netlist.height[netlist.macros]))
        for bins in (16, default_bins(netlist.macros.size)):
            model, field = _field_for(netlist, placement, bins)
            rho = density_map(model, model.base_xy, field)
            assert float(rho.sum()) * field.bin_w * field.bin_h == pytest.approx(area, rel=1e-9)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_density_gradient_agrees_with_finite_differences_of_the_energy(seed):
    """At the default bins, the ePlace-form density gradient (charge times field, scaled by
    the bin area) matches central differences of the discrete energy N = A/2 sum(rho phi):
    cosine > 0.99 and relative error < 0.1 over all movable macros."""
    from placer.algorithms.analytical import default_bins
    from placer.algorithms.electrostatic import density_gradient, density_map

    netlist, placement = generate(4, 10, 4, seed=seed)
    model, field = _field_for(netlist, placement, default_bins(netlist.macros.size))
    area = field.bin_w * field.bin_h

    def energy(xy):  # type: ignore[no-untyped-def]
        rho = density_map(model, xy, field)
        return 0.5 * area * float((rho * field.potential(rho)).sum())

    xy = model.base_xy
    g = density_gradient(model, xy, field, field.potential(density_map(model, xy, field))) * area
    fd = torch.zeros_like(g)
    h = 1e-4 * field.bin_w
    for i, node in enumerate(model.movable.tolist()):
        for axis in range(2):
            plus, minus = xy.clone(), xy.clone()
            plus[node, axis] += h
            minus[node, axis] -= h
            fd[i, axis] = (energy(plus) - energy(minus)) / (2 * h)
    assert float((g * fd).sum() / (g.norm() * fd.norm())) > 0.99
    assert float((g - fd).norm() / fd.norm()) < 0.1


def test_density_gradient_is_mirror_symmetric_on_a_non_square_canvas(tiny_builder):
    """Mirroring every macro across x = W/2 (y = H/2) negates the gradient's x (y) component
    and keeps the other, to 1e-10 of its scale, at the default bins of a 120 x 40 canvas."""
    from placer.algorithms.analytical import default_bins
    from placer.algorithms.electrostatic import density_gradient, density_map

    netlist, placement = _non_square_design(tiny_builder)
    model, field = _field_for(netlist, placement, default_bins(netlist.macros.size))
    c = netlist.require_canvas()

    def gradient(xy):  # type: ignore[no-untyped-def]
        return density_gradient(model, xy, field, field.potential(density_map(model, xy, field)))

    g = gradient(model.base_xy)
    scale = float(g.abs().max())
    for axis, length in ((0, c.width), (1, c.height)):
        mirrored = model.base_xy.clone()
        mirrored[:, axis] = length - mirrored[:, axis]
        gm = gradient(mirrored)
        assert float((g[:, axis] + gm[:, axis]).abs().max()) <= 1e-10 * scale
        assert float((g[:, 1 - axis] - gm[:, 1 - axis]).abs().max()) <= 1e-10 * scale


@pytest.mark.parametrize("density_weight", [0.1, 10.0, 1000.0])
def test_a_preconditioned_step_lowers_wirelength_plus_density(random_start, density_weight):
    """A step of 1e-3 bin along analytical's preconditioned direction (WA gradient plus lambda
    times the density gradient, over max(1, pins + lambda * charge)) lowers WL + lambda * N,
    at a light, a balanced and a heavy density weight."""
    from placer.algorithms.analytical import default_bins
    from placer.algorithms.electrostatic import density_gradient, density_map, smooth_wirelength

    netlist, start = random_start
    model, field = _field_for(netlist, start, default_bins(netlist.macros.size))
    bin_size = 0.5 * (field.bin_w + field.bin_h)
    gamma = 40.0 * bin_size
    v0 = torch.minimum(torch.maximum(model.base_xy[model.movable], model.lo), model.hi)

    def parts(v):  # type: ignore[no-untyped-def]
        xy = model.base_xy.index_put((model.movable,), v)
        rho = density_map(model, xy, field)
        energy = 0.5 * float((rho.detach() * field.potential(rho.detach())).sum())
        return smooth_wirelength(model, xy, gamma, "wa"), energy, xy, rho

    v = v0.clone().requires_grad_(True)
    wl, energy, xy, rho = parts(v)
    (g_wl,) = torch.autograd.grad(wl, v)
    with torch.no_grad():
        g_den = density_gradient(model, xy.detach(), field, field.potential(rho.detach()))
    lam = density_weight * float(g_wl.abs().sum()) / float(g_den.abs().sum())
    pre = torch.clamp(model.pins_per_movable + lam * model.charge_per_movable, min=1.0)[:, None]
    d = (g_wl + lam * g_den) / pre
    step = 1e-3 * bin_size / float(d.abs().max())
    wl1, energy1, _, _ = parts((v0 - step * d).detach())
    assert float(wl1) + lam * energy1 < float(wl.detach()) + lam * energy


@pytest.mark.parametrize("wall", ["left", "right", "bottom", "top"])
def test_a_lone_macro_at_a_canvas_wall_is_pushed_inward(wall):
    """A single charged macro whose footprint touches a wall gets a density gradient whose
    descent direction (minus the gradient) points into the canvas, normal to that wall."""
    from placer.algorithms.electrostatic import density_gradient, density_map

    netlist, placement = generate(4, 10, 4, seed=0)
    model, field = _field_for(netlist, placement, 32)
    c = netlist.require_canvas()
    node = int(model.movable[0])
    k = int((model.macros == node).nonzero()[0, 0])
    only = torch.zeros_like(model.charge_scale)
    only[k] = model.charge_scale[k]
    model.charge_scale = only  # only this macro carries charge
    xy = model.base_xy.clone()
    xy[node] = torch.tensor([c.width / 2, c.height / 2], dtype=torch.float64)
    axis, at, inward = {
        "left": (0, float(model.half_w[k]), 1.0),
        "right": (0, c.width - float(model.half_w[k]), -1.0),
        "bottom": (1, float(model.half_h[k]), 1.0),
        "top": (1, c.height - float(model.half_h[k]), -1.0),
    }[wall]
    xy[node, axis] = at
    g = density_gradient(model, xy, field, field.potential(density_map(model, xy, field)))[0]
    assert -inward * float(g[axis]) > 0
    assert abs(float(g[1 - axis])) < 1e-9 * abs(float(g[axis]))


def test_the_result_does_not_depend_on_the_callers_torch_threads():
    """torch split the density map's matrix product by thread: `placer place` (a thread per
    core) and a batch worker (one thread) gave placements apart by 1e-10 after 200 iterations
    on ariane133, and by 857 um after global_refine's 20,000 steps (an audit's runs). The run
    uses one thread unless told otherwise, and puts the caller's count back."""
    import torch

    from netlists.io import load_design

    netlist, start = load_design("ariane133")
    before = torch.get_num_threads()
    try:
        results = []
        for threads in (2, 1):
            torch.set_num_threads(threads)
            results.append(run(netlist, start, budget_s=600, max_iterations=50))
            assert torch.get_num_threads() == threads  # the caller's count, put back
    finally:
        torch.set_num_threads(before)
    np.testing.assert_array_equal(results[0].x, results[1].x)
    np.testing.assert_array_equal(results[0].y, results[1].y)
