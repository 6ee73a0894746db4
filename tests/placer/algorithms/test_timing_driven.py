"""Searches that weigh the timing proxy (``w_timing``): the objective, its bookkeeping, its effect."""

from __future__ import annotations

import numpy as np
import pytest

from netlists.generate import generate
from placer.algorithms.anneal import anneal
from placer.algorithms.base import get_placer
from placer.algorithms.legalize import legalize
from placer.algorithms.search_state import SearchState
from placer.cost.proxy import evaluate
from placer.cost.timing import timing_cost


@pytest.fixture(scope="module")
def design():  # type: ignore[no-untyped-def]
    return generate(24, 120, 48, seed=0)  # the embedded default design


@pytest.mark.parametrize("metric", ["worst", "tail"])
def test_the_objective_adds_the_weighted_timing_figure_and_stays_exact_through_a_search(design, metric: str) -> None:  # type: ignore[no-untyped-def]
    netlist, placement = design
    state = SearchState(netlist, legalize(netlist, placement), np.random.default_rng(0), 2.0, metric)
    start = state.placement.copy()
    figure = getattr(timing_cost(netlist, start), metric)
    assert state.objective() == evaluate(netlist, start).proxy + 2.0 * figure

    def shake(s: SearchState) -> None:  # a hook moving every soft macro at once, as fd's step does
        soft = s.soft
        s.set_positions(soft, s.placement.x[soft] + 0.1, s.placement.y[soft])

    anneal(state, {"shift": 0.5, "swap": 0.5}, 30.0, lambda _p: None, pool=state.hard,
           max_steps=1500, hook=shake, hook_every=0.3)
    final = state.placement
    # the timing evaluator followed every commit, the hook and the restored best
    assert state.timing is not None
    assert state.timing.cost() == timing_cost(netlist, final)
    figure = getattr(timing_cost(netlist, final), metric)
    assert state.objective() == pytest.approx(evaluate(netlist, final).proxy + 2.0 * figure, rel=1e-12)


@pytest.mark.parametrize("method", ["sa", "refine"])
def test_weighing_timing_shortens_the_worst_path(design, method: str) -> None:  # type: ignore[no-untyped-def]
    """The same seeded run (max_steps: reproducible; a budget it never reaches, so that a cold
    compile of the kernels cannot cut it short) with and without the timing term."""
    netlist, placement = design
    plain = get_placer(method, max_steps=3000).place(netlist, placement, budget_s=600, seed=0)
    timed = get_placer(method, max_steps=3000, w_timing=5.0).place(netlist, placement, budget_s=600, seed=0)
    assert timing_cost(netlist, timed).worst < 0.8 * timing_cost(netlist, plain).worst
    again = get_placer(method, max_steps=3000, w_timing=5.0).place(netlist, placement, budget_s=600, seed=0)
    np.testing.assert_array_equal(timed.x, again.x)


@pytest.mark.parametrize("method", ["sa", "refine"])
def test_weighing_the_tail_shortens_the_tail(design, method: str) -> None:  # type: ignore[no-untyped-def]
    netlist, placement = design
    plain = get_placer(method, max_steps=3000).place(netlist, placement, budget_s=600, seed=0)
    timed = get_placer(method, max_steps=3000, w_timing=5.0, timing_metric="tail").place(
        netlist, placement, budget_s=600, seed=0)
    assert timing_cost(netlist, timed).tail < 0.9 * timing_cost(netlist, plain).tail


def test_a_timing_weight_off_its_range_is_refused() -> None:
    for method in ("sa", "refine", "global_refine"):
        with pytest.raises(ValueError, match="w_timing"):
            get_placer(method, w_timing=-1.0)
        with pytest.raises(ValueError, match="w_timing"):
            get_placer(method, w_timing=float("nan"))


@pytest.mark.parametrize(
    ("method", "options", "message"),
    [
        ("sa", {"timing_metric": "tail"}, "option 'timing_metric' acts only with w_timing > 0"),
        ("refine", {"timing_metric": "worst", "w_timing": 0}, "acts only with w_timing > 0"),
        ("global_refine", {"timing_metric": "tail", "w_timing": 0.0}, "acts only with w_timing > 0"),
        ("sa", {"timing_metric": "mean", "w_timing": 1.0}, "'timing_metric' takes one of worst, tail, got 'mean'"),
        # a nested refine's options are checked as the method's own
        ("greedy", {"soft_refine": True, "refine": {"timing_metric": "tail"}},
         "option 'refine.timing_metric' acts only with refine.w_timing > 0"),
    ],
)
def test_a_timing_metric_without_a_weight_or_unknown_is_refused(method: str, options: dict, message: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        get_placer(method, **options)
    with pytest.raises(ValueError, match="timing_metric must be one of worst, tail"):
        SearchState(*generate(2, 4, 2, seed=0), np.random.default_rng(0), 1.0, "mean")


def test_sa_weighing_timing_still_searches_a_suite_design(benchmarks_dir) -> None:  # type: ignore[no-untyped-def]
    """The start temperature came from the weighted objective's deltas: the timing term's jumps
    (whole wire lengths) made it so hot that sa wandered and handed back its (legalised) start."""
    from netlists.io import load_design

    netlist, placement = load_design(benchmarks_dir / "iccad04" / "ibm01")
    start = legalize(netlist, placement)
    result = get_placer("sa", max_steps=5000, w_timing=2.0, fd_every=0).place(netlist, placement, budget_s=600, seed=1)

    def objective(p):  # type: ignore[no-untyped-def]
        return evaluate(netlist, p).proxy + 2.0 * timing_cost(netlist, p).worst

    assert objective(result) < objective(start) - 1e-3


def test_global_refine_picks_its_start_by_the_objective_it_refines(monkeypatch) -> None:
    """The start (given or analytical) was chosen by proxy alone, also when refine then weighs
    timing: here the analytical start has the lower proxy but the far longer worst path."""
    from types import SimpleNamespace

    from placer.algorithms import refine as refine_module

    netlist, placement = generate(4, 12, 4, seed=3)
    given = legalize(netlist, placement)

    def is_given(p) -> bool:  # type: ignore[no-untyped-def]
        return bool(np.array_equal(p.x, given.x) and np.array_equal(p.y, given.y))

    monkeypatch.setattr(refine_module, "evaluate", lambda n, p: SimpleNamespace(proxy=1.0 if is_given(p) else 0.5))
    # worst favours the analytical start, tail the given one
    monkeypatch.setattr(refine_module, "timing_cost", lambda n, p: SimpleNamespace(
        worst=0.0 if is_given(p) else 1.0, tail=1.0 if is_given(p) else 0.0))
    for options, expected in (({"w_timing": 0.0}, "analytical"), ({"w_timing": 5.0}, "given"),
                              ({"w_timing": 5.0, "timing_metric": "tail"}, "analytical")):
        messages = []
        get_placer("global_refine", max_steps=20, analytical={"max_iterations": 5}, **options).place(
            netlist, placement, budget_s=30, seed=0, progress=lambda p, m=messages: m.append(p.message))
        assert f"refine from the {expected} placement" in messages, (options, messages)
