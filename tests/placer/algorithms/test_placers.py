"""Every registered method: legal output, reproducible for a seed, better than a random start."""

from __future__ import annotations

import inspect
import re
import sys
import time

import numpy as np
import pytest

from netlists.generate import generate
from placer.algorithms.base import Placer, Progress, available_placers, get_placer, placer_class
from placer.algorithms.legalize import check_legality, legalize
from placer.cost.proxy import evaluate

# options that make each method quick and reproducible on a tiny design
FAST = {
    "sa": {"max_steps": 600},
    "refine": {"max_steps": 600},
    "global_refine": {"max_steps": 600, "analytical": {"max_iterations": 60}},  # never the clock
    "greedy": {},
}


@pytest.fixture(scope="module")
def design():  # type: ignore[no-untyped-def]
    return generate(10, 30, 12, seed=4)


def _random_start(netlist, placement, seed: int):  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(seed)
    c = netlist.canvas
    p = placement.copy()
    m = netlist.macros
    p.x[m] = rng.uniform(0, c.width, m.size)
    p.y[m] = rng.uniform(0, c.height, m.size)
    return legalize(netlist, p)


def test_registry_lists_the_methods() -> None:
    names = available_placers()
    for name in ("sa", "refine", "greedy"):
        assert name in names
    with pytest.raises(KeyError, match="available"):
        get_placer("nope")


@pytest.mark.parametrize("method", ["sa", "refine", "global_refine", "greedy", "fd", "analytical", "rl"])
def test_every_builtin_method_declares_and_documents_its_options(method: str) -> None:
    cls = placer_class(method)
    assert cls.option_names, f"{method} declares no option names"
    docs = (inspect.getdoc(cls) or "") + (sys.modules[cls.__module__].__doc__ or "")
    if method == "global_refine":  # "Options: those of refine, plus ..."
        docs += inspect.getdoc(placer_class("refine")) or ""
    undocumented = [name for name in cls.option_names if name not in docs]
    assert not undocumented, f"{method}: options not in its docstring: {undocumented}"


def test_a_misspelt_option_is_refused_with_the_known_names() -> None:
    with pytest.raises(TypeError, match=r"sa has no option 'max_step' \(options: .*max_steps"):
        get_placer("sa", max_step=100)
    with pytest.raises(TypeError, match=r"'refine\.max_step' \(refine options: .*max_steps"):
        get_placer("greedy", refine={"max_step": 100})
    with pytest.raises(TypeError, match=r"'analytical\.bin'"):
        get_placer("global_refine", analytical={"bin": 8})
    with pytest.raises(TypeError, match="takes a dict of refine options"):
        get_placer("rl", refine=5)
    refined = get_placer("greedy", soft_refine=True, refine={"max_steps": 100})
    assert refined.options == {"soft_refine": True, "refine": {"max_steps": 100}}


def test_a_method_without_declared_options_takes_any() -> None:
    class Undeclared(Placer):  # e.g. a plugin written before option names existed
        name = "undeclared"

        def run(self, netlist, placement, budget_s, seed, progress):  # type: ignore[no-untyped-def]
            return placement

    assert Undeclared(anything=1).options == {"anything": 1}


@pytest.mark.parametrize("method", sorted(FAST))
def test_output_is_legal_and_input_untouched(design, method: str) -> None:  # type: ignore[no-untyped-def]
    nl, pl = design
    before = pl.copy()  # (x, y, orientation and fixed: x alone missed a method writing the others)
    reports: list[Progress] = []
    out = get_placer(method, **FAST[method]).place(
        nl, pl, budget_s=20, seed=1, progress=reports.append
    )
    assert check_legality(nl, out, pl).legal
    assert pl == before
    assert reports and reports[-1].fraction == 1.0


@pytest.mark.parametrize("method", sorted(FAST))
def test_reproducible_for_a_seed(design, method: str) -> None:  # type: ignore[no-untyped-def]
    """(Kernels warmed first, as the CLI and the batch do: a cold compile inside the first run's
    clock cut global_refine's analytical stage there and not in the second.)"""
    from placer.algorithms.base import warm_up

    nl, pl = design
    warm_up(method, FAST[method])
    a = get_placer(method, **FAST[method]).place(nl, pl, budget_s=20, seed=7)
    b = get_placer(method, **FAST[method]).place(nl, pl, budget_s=20, seed=7)
    assert np.array_equal(a.x, b.x) and np.array_equal(a.y, b.y)


@pytest.mark.parametrize("method", ["sa", "refine"])
def test_improves_on_a_random_start(design, method: str) -> None:  # type: ignore[no-untyped-def]
    nl, pl = design
    start = _random_start(nl, pl, 0)
    # ended by max_steps, not the clock: a cold compile of the kernels inside a 30 s budget
    # (26-115 s here, idle to loaded) left the start unsearched
    out = get_placer(method, max_steps=1500).place(nl, start, budget_s=600, seed=0)
    assert evaluate(nl, out).proxy < evaluate(nl, start).proxy


def test_greedy_beats_random_hard_macro_placements() -> None:
    nl, pl = generate(12, 60, 16, seed=2)
    out = get_placer("greedy", fd=False).place(nl, pl, budget_s=30, seed=0)
    rng = np.random.default_rng(0)
    c = nl.canvas
    h = nl.hard_macros
    random_wl = []
    for _ in range(5):
        p = pl.copy()
        p.x[h] = rng.uniform(0, c.width, h.size)
        p.y[h] = rng.uniform(0, c.height, h.size)
        random_wl.append(evaluate(nl, legalize(nl, p)).wirelength)
    assert evaluate(nl, out).wirelength < min(random_wl)


def test_fixed_macros_do_not_move(design) -> None:  # type: ignore[no-untyped-def]
    nl, pl = design
    p = pl.copy()
    h = nl.hard_macros
    p.fixed[h[:3]] = True
    for method in FAST:
        out = get_placer(method, **FAST[method]).place(nl, p, budget_s=20, seed=0)
        assert np.array_equal(out.x[h[:3]], p.x[h[:3]]), method


def test_soft_macro_refinement_keeps_hard_macros_and_lowers_the_proxy(design) -> None:  # type: ignore[no-untyped-def]
    from placer.algorithms.refine import refine_soft_macros

    netlist, placement = design
    start = get_placer("greedy").place(netlist, placement, 10, seed=0)
    out = refine_soft_macros(netlist, start, 600, seed=0, options={"max_steps": 1500})  # (by its steps)
    hard, soft = netlist.hard_macros, netlist.soft_macros
    assert np.array_equal(out.x[hard], start.x[hard]) and np.array_equal(out.y[hard], start.y[hard])
    assert not np.array_equal(out.x[soft], start.x[soft])
    assert evaluate(netlist, out).proxy < evaluate(netlist, start).proxy
    assert check_legality(netlist, out).legal


def test_greedy_soft_refine_option_only_moves_soft_macros(design) -> None:  # type: ignore[no-untyped-def]
    netlist, placement = design
    plain = get_placer("greedy").place(netlist, placement, 600, seed=0)
    # (600 s: ended by its steps; refine compiled inside a 10 s budget on a cold cache did nothing)
    refined = get_placer("greedy", soft_refine="true", refine={"max_steps": 1500}).place(netlist, placement, 600, seed=0)
    hard = netlist.hard_macros
    assert np.array_equal(plain.x[hard], refined.x[hard]) and np.array_equal(plain.y[hard], refined.y[hard])
    assert evaluate(netlist, refined).proxy < evaluate(netlist, plain).proxy
    with pytest.raises(ValueError, match="true or false"):
        get_placer("greedy", soft_refine="maybe").place(netlist, placement, 10, seed=0)


@pytest.mark.parametrize("method", ["greedy", "analytical"])
def test_a_legal_start_too_dense_to_relegalise_is_kept(method: str, dense_legal_design) -> None:  # type: ignore[no-untyped-def]
    netlist, start = dense_legal_design
    assert check_legality(netlist, start).legal
    notes: list[str] = []
    # analytical by its iteration count, not the clock: how far 1 s got depended on the load
    # (a short run could still be legalised, and the test failed on a busy machine)
    options, budget = ({"max_iterations": 300}, 10.0) if method == "analytical" else ({}, 1.0)
    out = get_placer(method, **options).place(netlist, start, budget_s=budget, seed=0,
                                              progress=lambda p: notes.append(p.message))
    assert check_legality(netlist, out).legal
    assert any("could not be legalised" in n and "kept the given one" in n for n in notes)
    np.testing.assert_array_equal(out.x, start.x)


def test_greedy_never_picks_a_cell_on_a_fixed_macro() -> None:
    netlist, placement = generate(12, 20, 8, seed=11)
    hard = netlist.hard_macros
    placement.fixed[hard[:4]] = True
    raw = get_placer("greedy", fd=False).run(netlist, placement.copy(), 10.0, 0, lambda p: None)
    w, h = netlist.width, netlist.height
    for f in hard[:4]:
        for m in hard[4:]:
            ox = min(raw.x[f] + w[f] / 2, raw.x[m] + w[m] / 2) - max(raw.x[f] - w[f] / 2, raw.x[m] - w[m] / 2)
            oy = min(raw.y[f] + h[f] / 2, raw.y[m] + h[m] / 2) - max(raw.y[f] - h[f] / 2, raw.y[m] - h[m] / 2)
            assert not (ox > 1e-9 and oy > 1e-9), (int(f), int(m))


def test_sa_places_soft_macros_when_no_hard_macro_can_move() -> None:
    """With nothing to anneal, sa used to return the input as it was; its soft-macro step
    still runs (and is kept only if it lowers the cost)."""
    netlist, placement = generate(0, 30, 8, seed=3)
    c = netlist.require_canvas()
    soft = netlist.soft_macros
    rng = np.random.default_rng(0)  # soft macros scattered: plenty for the step to gain
    placement.x[soft] = rng.uniform(0, c.width, soft.size)
    placement.y[soft] = rng.uniform(0, c.height, soft.size)
    before = evaluate(netlist, placement).proxy
    from placer.algorithms.base import warm_up

    warm_up("sa")  # (compiled inside the 5 s budget on a cold cache, the start came back unsearched)
    after = evaluate(netlist, get_placer("sa").place(netlist, placement, budget_s=5, seed=0)).proxy
    assert after < before


def test_warm_up_runs_a_method_once_per_process_and_never_raises(monkeypatch) -> None:
    """Kernels are built (first run after an install) or loaded before a timed run: the first
    demo after an install spent its whole 10 s budget compiling and improved nothing."""
    import placer.algorithms.base as base

    monkeypatch.setattr(base, "_WARMED", set())
    calls = []
    original = base.Placer.place
    monkeypatch.setattr(base.Placer, "place", lambda self, *a, **k: (calls.append(self.options), original(self, *a, **k))[1])
    assert base.warm_up("refine", {"soft": False}) is True
    assert base.warm_up("refine") is False  # once per process
    assert calls == [{"soft": False, "max_steps": 200}]  # a few hundred moves, then it stops
    assert base.warm_up("rl", {"model": "/nonexistent/model.zip"}) is True  # cannot run: no error
    # an option that spends the rest of the budget is turned off: greedy's soft refinement ran
    # the warm-up's whole 60 s
    assert base.warm_up("greedy", {"soft_refine": True, "refine": {"max_steps": 5}}) is True
    assert calls[-1] == {"soft_refine": False}  # (its refine options, kept, were refused: no warm-up)
    # fd's length options (its warm-up ran a million iterations for 60 s), and those inside a
    # nested method's dict
    assert base.warm_up("fd", {"iterations": 10**6, "repulsions": [0.5, 1, 2]}) is True
    assert calls[-1] == {"iterations": 5, "repulsions": [0.5]}
    assert base.warm_up("global_refine", {"analytical": {"max_iterations": 10**6, "bins": 2048}}) is True
    outer = next(options for options in calls if "analytical" in options)
    assert outer["analytical"] == {"max_iterations": 50, "bins": 16}  # (bins=2048: a minute)


def test_a_thread_asking_for_a_method_another_is_warming_up_waits_for_it(monkeypatch) -> None:
    """The name was marked warm before the warm-up ran: a second thread went straight to its
    timed run and spent its budget waiting on the first thread's compile (a cold cache: 45 s,
    the start handed back unsearched)."""
    import threading
    import time

    import placer.algorithms.base as base

    monkeypatch.setattr(base, "_WARMED", set())
    monkeypatch.setattr(base, "_WARMING", {})
    finished: list[float] = []

    def slow_warm(name, options):  # type: ignore[no-untyped-def]
        time.sleep(0.5)  # a compile
        finished.append(time.monotonic())

    monkeypatch.setattr(base, "_warm", slow_warm)
    returned: list[tuple[bool, float]] = []
    threads = [threading.Thread(target=lambda: returned.append((base.warm_up("sa"), time.monotonic())),
                                daemon=True) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)  # (a deadlock fails, not hangs)
    assert len(finished) == 1 and sorted(ran for ran, _ in returned) == [False, False, True]
    assert all(at >= finished[0] for _, at in returned)  # nobody went on before it was warm


def test_warm_up_gives_a_built_in_method_a_clock_its_cold_compile_cannot_spend(monkeypatch) -> None:
    """The warm-up's 60 s counted the set-up's cold compile (over a minute on a loaded machine):
    refine's search then ran 0 s and compiled its kernels inside the first real budget, handing
    back its start. Built-in methods get a bound of an hour (their short-run options end them);
    a plugin keeps 60 s where a short-run option (max_steps, ...) ends it, else 3 s: a plugin
    honouring its budget spent the whole 60 s before each run."""
    import placer.algorithms.base as base

    class Unnamed(Placer):
        name = "warm_unnamed_plugin"

        def run(self, netlist, placement, budget_s, seed, progress):  # type: ignore[no-untyped-def]
            return placement

    class Named(Unnamed):
        name = "warm_named_plugin"
        option_names = frozenset({"x"})

    class Stoppable(Unnamed):
        name = "warm_stoppable_plugin"
        option_names = frozenset({"x", "max_steps"})

    class Binned(Unnamed):  # options that shorten a built-in method's run but end no plugin's
        name = "warm_binned_plugin"  # (it waited 60 s before each run)
        option_names = frozenset({"bins", "samples", "soft_refine"})

    class Iterated(Unnamed):
        name = "warm_iterated_plugin"
        option_names = frozenset({"iterations"})

    class MaxIterated(Unnamed):
        name = "warm_max_iterated_plugin"
        option_names = frozenset({"max_iterations"})

    plugins = (Unnamed, Named, Stoppable, Binned, Iterated, MaxIterated)
    monkeypatch.setattr(base, "_REGISTRY", {**base._REGISTRY, **{p.name: p for p in plugins}})
    monkeypatch.setattr(base, "_WARMED", set())
    budgets: dict[str, float] = {}
    original = base.Placer.place
    monkeypatch.setattr(base.Placer, "place", lambda self, *a, **k: (budgets.__setitem__(self.name, k["budget_s"]),
                                                                      original(self, *a, **k))[1])
    for name in ("greedy", *(p.name for p in plugins)):
        base.warm_up(name)
    assert budgets == {"greedy": base.WARM_UP_BUDGET_S, Named.name: 3.0, Unnamed.name: 3.0, Stoppable.name: 60.0,
                       Binned.name: 3.0, Iterated.name: 60.0, MaxIterated.name: 60.0}
    assert base.WARM_UP_BUDGET_S >= 600


def test_warm_up_builds_the_legaliser_search_a_real_start_needs(monkeypatch) -> None:
    """The tiny design's start is legal, so the legaliser's search kernel was first compiled
    inside a real run: sa's first run on ariane133 (whose start overlaps) spent its whole
    second there and was stored as an ok, unsearched run."""
    import placer.algorithms.base as base
    import placer.algorithms.legalize as legalize_module

    monkeypatch.setattr(base, "_WARMED", set())
    starts = []
    original = legalize_module.legalize
    monkeypatch.setattr(legalize_module, "legalize", lambda n, p, *a, **k: (starts.append((n, p.copy())), original(n, p, *a, **k))[1])
    assert base.warm_up("sa") is True
    assert any(check_legality(n, p).overlap_area > 0 for n, p in starts)


def test_warm_up_builds_the_full_costs_kernels(monkeypatch) -> None:
    """The full proxy cost's pass over the nets and its macro blockage are compiled kernels:
    a method whose warm-up run evaluates no cost (greedy) left them to compile (seconds on a
    cold cache) in the first timed run that evaluates one."""
    import placer.algorithms.base as base
    import placer.cost.proxy as proxy_module

    monkeypatch.setattr(base, "_WARMED", set())
    evaluated = []
    original = proxy_module.evaluate
    monkeypatch.setattr(proxy_module, "evaluate", lambda n, p, *a, **k: (evaluated.append(n.name), original(n, p, *a, **k))[1])
    assert base.warm_up("greedy") is True
    assert evaluated


@pytest.mark.parametrize("method", ["greedy", "analytical"])
def test_a_result_only_corner_packing_can_legalise_gives_way_to_the_legal_start(method: str) -> None:
    """On a tight design the legaliser's last resort (every macro packed from the corner) fit
    the method's result: both methods returned the same corner packing, worse than the legal
    input, without a note."""
    from placer.cost.proxy import evaluate

    netlist, start = generate(10, 0, 4, seed=1, utilisation=1.0)
    assert check_legality(netlist, start).legal
    notes: list[str] = []
    options, budget = ({"max_iterations": 300}, 10.0) if method == "analytical" else ({}, 2.0)  # not the clock
    out = get_placer(method, **options).place(netlist, start, budget_s=budget, seed=0,
                                              progress=lambda p: notes.append(p.message))
    assert check_legality(netlist, out).legal
    assert evaluate(netlist, out).proxy <= evaluate(netlist, start).proxy
    assert any("kept the given one" in n for n in notes)


@pytest.mark.parametrize("method", ["greedy", "analytical", "global_refine", "sa"])
def test_a_placement_that_does_not_fit_the_netlist_is_refused_before_the_run(method: str) -> None:
    """Orientation 9 was an IndexError in three methods; a short placement ran and returned
    something evaluate() refused."""
    from netlists.model import Placement

    netlist, placement = generate(6, 10, 4, seed=6)
    turned = placement.copy()
    turned.orientation[netlist.hard_macros[0]] = 9
    with pytest.raises(ValueError, match="orientation code 9; codes are whole numbers 0-7"):
        get_placer(method).place(netlist, turned, budget_s=0.3, seed=0)
    short = Placement(placement.x[:-3], placement.y[:-3], placement.orientation[:-3], placement.fixed[:-3])
    with pytest.raises(ValueError, match="a placement of another design"):
        get_placer(method).place(netlist, short, budget_s=0.3, seed=0)


def test_analytical_spreads_macros_that_no_net_pulls() -> None:
    """With no wirelength gradient the density weight started at 0 and stayed there."""
    from netlists.builder import NetlistBuilder
    from netlists.model import Canvas, NodeType
    from placer.cost.proxy import evaluate

    builder = NetlistBuilder("no_nets")
    builder.add_node("p", NodeType.PORT, x=0.0, y=50.0)
    for k in range(30):
        builder.add_node(f"s{k}", NodeType.SOFT_MACRO, width=8.0, height=8.0, x=50.0 + k % 3, y=50.0 + k % 5)
    netlist = builder.build(Canvas(width=100.0, height=100.0, cols=10, rows=10))
    start = netlist.initial_placement()
    out = get_placer("analytical", device="cpu").place(netlist, start, budget_s=5.0, seed=0)
    assert evaluate(netlist, out).density < 0.5 * evaluate(netlist, start).density


def test_global_refine_with_max_steps_does_not_cut_its_global_stage_by_the_clock(design, monkeypatch):
    """With max_steps (promised reproducible) the analytical stage still stopped at a quarter
    of the budget: 24-27 iterations run to run, final proxies 1.37 / 1.27 / 1.28 for one seed."""
    from placer.algorithms.analytical import Analytical

    budgets = []
    real = Analytical.place

    def spy(self, netlist, placement, budget_s, *args, **kwargs):  # type: ignore[no-untyped-def]
        budgets.append(budget_s)
        return real(self, netlist, placement, budget_s, *args, **kwargs)

    monkeypatch.setattr(Analytical, "place", spy)
    netlist, placement = design
    small = {"analytical": {"max_iterations": 5}}
    get_placer("global_refine", max_steps=50, **small).place(netlist, placement, budget_s=8.0, seed=0)
    get_placer("global_refine", **small).place(netlist, placement, budget_s=0.2, seed=0)
    assert budgets[0] > 0.9 * 8.0 and budgets[1] <= 0.25 * 0.2  # the whole run budget; its share


def test_the_last_report_is_the_cost_of_the_placement_returned(design):
    """analytical's last report was the cost of its result before legalisation (ibm01: 1.661
    shown, 1.392 delivered)."""
    from placer.cost.proxy import evaluate

    netlist, placement = design
    reports: list[Progress] = []
    out = get_placer("analytical", max_iterations=20).place(netlist, placement, budget_s=5.0, seed=0,
                                                            progress=reports.append)
    assert reports[-1].fraction == 1.0 and reports[-1].best_proxy == evaluate(netlist, out).proxy


@pytest.mark.parametrize("name", ["initial", "a/b", "../up", "sa@1s", "a,b", ".hidden", "two words"])
def test_a_method_name_that_would_break_runs_folders_or_the_leaderboard_is_refused(name: str) -> None:
    """'initial' collided with the leaderboard's reference column (a pandas reshape error);
    '/' and '..' put .plc files outside the method's folder; ',' and '@' broke --algo lists and
    budget labels."""
    from placer.algorithms.base import register_placer

    class Named(Placer):
        def run(self, netlist, placement, budget_s, seed, progress):  # type: ignore[no-untyped-def]
            return placement

    Named.name = name
    with pytest.raises(ValueError, match=f"method name {name!r} cannot be used"):
        register_placer(Named)


def test_analytical_refuses_a_smoothing_that_flattens_every_net() -> None:
    """gamma_factor=1e300 made the smoothing infinite: the wirelength pulled nothing, silently."""
    with pytest.raises(ValueError, match=r"'gamma_factor' takes a finite number in \(0, 10000\]"):
        get_placer("analytical", gamma_factor=1e300)
    get_placer("analytical", gamma_factor=1e4)


@pytest.mark.parametrize("problem", ["fixed outside", "fixed overlap"])
@pytest.mark.parametrize("name", [n for n in available_placers() if n != "rl"])  # (rl needs a model;
def test_a_design_no_legal_placement_keeps_is_refused_before_the_method_runs(  # same Placer.place)
    name: str, problem: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """global_refine and analytical spent 6-7 s (greedy and fd 2 s) before the legaliser
    refused a fixed macro sticking out of the canvas; a budget of minutes went the same way."""
    netlist, placement = generate(6, 10, 4, seed=6)
    a, b = netlist.hard_macros[:2]
    placement.fixed[[a, b]] = True
    if problem == "fixed outside":
        placement.x[a] = -5.0
    else:
        placement.x[b], placement.y[b] = placement.x[a], placement.y[a]
    method = get_placer(name)

    def never(*args: object) -> None:
        raise AssertionError("the method ran")

    monkeypatch.setattr(method, "run", never)
    with pytest.raises(ValueError, match="sticks out of the canvas|overlaps the fixed macro"):
        method.place(netlist, placement, budget_s=60.0, seed=0)


@pytest.mark.parametrize("max_steps", [None, 300])
def test_global_refine_with_no_global_share_runs_no_global_placement(design, monkeypatch, max_steps) -> None:  # type: ignore[no-untyped-def]
    """global_share=0 still built and ran the analytical stage, and said its set-up took the
    whole budget."""
    from placer.algorithms.analytical import Analytical
    from placer.algorithms.base import warm_up

    warm_up("refine")  # a cold compile took the whole 1 s (a fresh clone's first use, in a worker)

    def never(*args: object) -> None:
        raise AssertionError("the analytical stage ran")

    monkeypatch.setattr(Analytical, "run", never)
    netlist, placement = design
    notes = []
    options = {"global_share": 0.0, **({"max_steps": max_steps} if max_steps else {})}
    result = get_placer("global_refine", **options).place(
        netlist, placement, budget_s=1.0, seed=0, progress=lambda p: notes.append(p.message))
    assert check_legality(netlist, result).legal and "refine from the given placement" in notes
    assert not any("set-up" in n for n in notes)


def test_hard_macros_larger_in_all_than_the_canvas_are_refused_before_the_method_runs(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Every method ran its whole budget before the legaliser found no arrangement fits."""
    from netlists.builder import NetlistBuilder
    from netlists.model import Canvas, NodeType

    builder = NetlistBuilder("too_much")
    builder.add_node("p", NodeType.PORT, x=0.0, y=5.0)
    for k in range(3):  # three 6 x 6 macros on a 10 x 10 canvas: 108 %
        builder.add_node(f"h{k}", NodeType.HARD_MACRO, width=6.0, height=6.0, x=5.0, y=5.0)
    netlist = builder.build(Canvas(10.0, 10.0, 2, 2))
    placement = netlist.initial_placement()
    method = get_placer("sa")
    monkeypatch.setattr(method, "run", lambda *a: (_ for _ in ()).throw(AssertionError("the method ran")))
    with pytest.raises(ValueError, match="the hard macros cover 108% of the canvas"):
        method.place(netlist, placement, budget_s=60.0, seed=0)


@pytest.mark.parametrize(
    ("seed", "error", "words"),
    [(-1, ValueError, "seed must be a whole number >= 0, got -1"), (1.5, TypeError, "got 1.5"),
     (None, TypeError, "got None"), (True, TypeError, "got True")],
)  # fmt: skip
def test_a_seed_no_run_can_take_is_refused_by_name(seed: object, error: type, words: str) -> None:
    """seed=-1 failed 11 frames deep in numpy without naming the seed, 1.5 inside SeedSequence,
    and None ran a placement no seed repeats."""
    netlist, placement = generate(3, 6, 4, seed=1)
    for name in ("sa", "greedy"):
        with pytest.raises(error, match=words):
            get_placer(name).place(netlist, placement, budget_s=0.2, seed=seed)  # type: ignore[arg-type]
    get_placer("sa").place(netlist, placement, budget_s=0.2, seed=np.int64(3))  # (numpy ints: fine)


def test_an_unknown_method_or_design_reads_without_quotes_and_is_still_a_keyerror() -> None:
    """``get_placer("sa ")`` raised ``KeyError: "unknown placement method 'sa '; ..."``: str() of
    a KeyError quotes its message (so did the built-in designs')."""
    from netlists.designs import builtin_path

    with pytest.raises(KeyError) as method:
        get_placer("sa ")
    assert str(method.value).startswith("unknown placement method 'sa '; available: ")
    with pytest.raises(KeyError) as design:
        builtin_path("nope")
    assert str(design.value).startswith("unknown built-in design 'nope'; built-in: ")


@pytest.mark.parametrize("name", ["sa", "refine", "fd"])
def test_a_method_run_in_threads_gives_each_seed_what_it_gives_alone(name: str, in_threads) -> None:  # type: ignore[no-untyped-def]
    """docs/library.md tells library users the placers may run in several threads of one program;
    a run ended by its step count (not the clock) repeats its seed there bit for bit."""
    netlist, placement = generate(10, 40, 12, seed=4)
    options = {"iterations": 20} if name == "fd" else {"max_steps": 1500}

    def run(seed: int) -> tuple[bytes, bytes]:
        result = get_placer(name, **options).place(netlist, placement, 600, seed=seed)
        return result.x.tobytes(), result.y.tobytes()

    assert in_threads(run, range(3)) == {seed: run(seed) for seed in range(3)}


def test_built_in_methods_are_found_by_their_registration_not_a_list(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A new method module in placer/algorithms was unknown to the CLI until added to a
    hand-kept list of modules (which also named one that never existed)."""
    from placer.algorithms.base import builtin_method_modules

    found = builtin_method_modules()
    assert found == ["analytical", "fd", "greedy", "refine", "rl", "sa"]
    classes = {name: placer_class(name).__module__ for name in available_placers()}
    assert {module.rsplit(".", 1)[1] for module in classes.values() if module.startswith("placer.algorithms.")} == set(found)
    (tmp_path / "mine.py").write_text("from placer.algorithms.base import register_placer\n\n@register_placer\nclass Mine: ...\n")
    (tmp_path / "helper.py").write_text("def register_placer_like(): ...\n")
    assert builtin_method_modules(tmp_path) == ["mine"]


def test_a_warm_up_failing_on_a_bug_names_its_cause_and_a_refused_design_stays_silent(monkeypatch) -> None:
    """`except Exception: pass` hid every warm-up failure (the excepts audit: a TypeError in
    the short-run options put the kernel loading inside the first timed budget without a
    word): a programming error is a WarmUpWarning naming it; a method refusing the tiny design
    (ValueError, as an rl model for other sizes) is still not warmed in silence."""
    import warnings

    import placer.algorithms.base as base

    monkeypatch.setattr(base, "_WARMED", set())

    def broken(cls, options):  # type: ignore[no-untyped-def]
        raise TypeError("a bug of ours")

    original = base._short_run_options
    monkeypatch.setattr(base, "_short_run_options", broken)
    with pytest.warns(base.WarmUpWarning, match=r"the warm-up of sa failed \(TypeError: a bug of ours\)"):
        assert base.warm_up("sa") is True
    monkeypatch.setattr(base, "_short_run_options", original)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert base.warm_up("rl", {"model": "/nonexistent/model.zip"}) is True  # refused: silent


def test_only_a_legaliser_finding_no_room_falls_back_to_the_given_placement(monkeypatch) -> None:
    """Any ValueError from legalising a method's result replaced it with the given placement
    and an `ok` note (the excepts audit: a numpy broadcast error of ours read as "could not be
    legalised"); only LegalizationError does now, other errors propagate."""
    import placer.algorithms.legalize as legalize_module
    from placer.algorithms.legalize import LegalizationError

    netlist, placement = generate(6, 12, 6, seed=3)
    real = legalize_module.legalize

    def failing(kind):  # type: ignore[no-untyped-def]
        def legalize(nl, p, reference=None, last_resort=True, **limits):  # type: ignore[no-untyped-def]
            if reference is not None:  # the method's result; the fallback runs the real one
                raise kind("operands could not be broadcast together")
            return real(nl, p, reference=reference, last_resort=last_resort, **limits)
        return legalize

    monkeypatch.setattr(legalize_module, "legalize", failing(LegalizationError))
    notes = []
    result = get_placer("greedy").place(netlist, placement, budget_s=5, seed=0, progress=notes.append)
    assert any("could not be legalised" in (p.note or "") for p in notes)
    assert result.x.shape == placement.x.shape
    monkeypatch.setattr(legalize_module, "legalize", failing(ValueError))
    with pytest.raises(ValueError, match="operands could not be broadcast") as raised:
        get_placer("greedy").place(netlist, placement, budget_s=5, seed=0)
    assert not isinstance(raised.value, LegalizationError)


def test_a_placers_repr_is_its_class_method_name_and_options() -> None:
    assert repr(get_placer("sa", max_steps=10)) == "SimulatedAnnealing(name='sa', max_steps=10)"
    assert repr(get_placer("greedy")) == "Greedy(name='greedy')"


@pytest.mark.parametrize("method", ["greedy", "sa"])
def test_a_long_thin_design_is_placed_legally(method: str, tall_design, per_axis_problems) -> None:  # type: ignore[no-untyped-def]
    """On 10 x 1e10 the tolerance was 10 microns in x too: greedy stacked the six 4-wide macros
    on one cell, sa kept them stacked as given, and the checker called both legal."""
    netlist, placement = tall_design
    options = {"max_steps": 2000} if method == "sa" else {}
    out = get_placer(method, **options).place(netlist, placement, budget_s=600, seed=0)
    assert per_axis_problems(netlist, out) == ([], [])
    assert check_legality(netlist, out).legal


def test_a_result_past_the_legalisers_time_limit_falls_back_to_the_given_placement(monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: E501
    """A method's result the legaliser ran out of time on was packed in rows (keeping nothing of
    it) although ``place`` asks for no packing: it now falls back to the given placement,
    legalised, with a note."""
    import placer.algorithms.base as base_module
    import placer.algorithms.legalize as legalize_module

    class Piler(Placer):
        name = "piler"

        def run(self, netlist, placement, budget_s, seed, progress):  # type: ignore[no-untyped-def]
            c = netlist.require_canvas()
            placement.x[netlist.hard_macros], placement.y[netlist.hard_macros] = c.width / 2, c.height / 2
            return placement

    netlist, start = generate(300, 4, 4, seed=0)
    assert check_legality(netlist, start).legal
    monkeypatch.setattr(base_module, "legalize_time_limit", lambda budget_s: 0.0)
    legalize_module.clear_legalize_memory()
    notes: list[str] = []
    out = Piler().place(netlist, start, 1.0, seed=0, progress=lambda p: notes.append(p.message))
    assert check_legality(netlist, out).legal
    assert any("could not be legalised" in n and "kept the given one" in n for n in notes), notes
    np.testing.assert_array_equal(out.x, start.x)


def test_the_fallback_after_a_time_limit_gets_the_limits_time_left_and_a_given_placement_without_room_the_result(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Past the limit on the method's result, the given placement was legalised with the whole
    limit again (a piled result ran 1.5x its budget); and where the given placement had no
    room, the result's timeout was raised as if it had none: now it is legalised to its end."""
    import placer.algorithms.base as base_module
    import placer.algorithms.legalize as legalize_module
    from placer.algorithms.legalize import LegalizationError, LegalizationTimeout

    netlist, start = generate(30, 4, 4, seed=0)
    limits: list[float | None] = []
    real = legalize_module.legalize
    given_has_room = True

    def legalize(nl, p, reference=None, last_resort=True, time_limit_s=None, notes=None):  # type: ignore[no-untyped-def]
        limits.append(time_limit_s)
        if len(limits) == 1:
            time.sleep(0.2)
            raise LegalizationTimeout("took over the limit")
        if len(limits) == 2 and not given_has_room:
            raise LegalizationError("no room")
        return real(nl, p, reference=reference, last_resort=last_resort, time_limit_s=time_limit_s, notes=notes)

    monkeypatch.setattr(legalize_module, "legalize", legalize)
    monkeypatch.setattr(base_module, "legalize_time_limit", lambda budget_s: 0.5)
    notes: list[str] = []
    get_placer("greedy").place(netlist, start, budget_s=1.0, seed=0, progress=lambda p: notes.append(p.message))
    assert limits[0] == 0.5 and limits[1] is not None and 0.0 <= limits[1] <= 0.3, limits
    assert any("kept the given one" in n for n in notes)
    limits.clear()
    notes.clear()
    given_has_room = False
    out = get_placer("greedy").place(netlist, start, budget_s=1.0, seed=0, progress=lambda p: notes.append(p.message))
    assert limits[2] is None and check_legality(netlist, out).legal  # the result, to its end
    assert not any("kept the given one" in n for n in notes)
    limits.clear()

    def no_room_at_all(nl, p, reference=None, last_resort=True, time_limit_s=None, notes=None):  # type: ignore[no-untyped-def]
        limits.append(time_limit_s)
        raise LegalizationError("no room" if len(limits) == 1 else "none here either")

    monkeypatch.setattr(legalize_module, "legalize", no_room_at_all)
    with pytest.raises(LegalizationError, match=r"^no room; the given placement could not be legalised either \(none here either\)$"):
        get_placer("greedy").place(netlist, start, budget_s=1.0, seed=0)


def test_a_run_well_past_its_budget_says_so_and_one_on_time_does_not(design) -> None:  # type: ignore[no-untyped-def]
    """A step a method cannot cut short (one cost evaluation on a 2,048 x 2,048 grid takes
    longer than a 1 s budget) made runs 4-11x their budget with no word outside the
    leaderboard; the run's own notes now say it, with the factor."""
    netlist, start = design

    class Slow(Placer):
        name = "slow"

        def run(self, netlist, placement, budget_s, seed, progress):  # type: ignore[no-untyped-def]
            if budget_s < 1.0:
                time.sleep(0.6)  # one step past the whole budget
            return placement

    notes: list[str] = []
    Slow().place(netlist, start, budget_s=0.1, seed=0, progress=lambda p: notes.append(p.message))
    late = [n for n in notes if "its budget of 0.1 s" in n]
    assert len(late) == 1 and "slow took" in late[0] and "x its budget" in late[0], notes
    notes.clear()
    Slow().place(netlist, start, budget_s=5.0, seed=0, progress=lambda p: notes.append(p.message))
    assert not any("its budget of" in n for n in notes), notes


class _OnTime(Placer):
    """Hands its start back at once (a run well inside any budget)."""

    name = "on_time"

    def run(self, netlist, placement, budget_s, seed, progress):  # type: ignore[no-untyped-def]
        return placement


def test_the_overrun_note_counts_the_final_evaluation_as_the_callers_seconds_do(design, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """``place`` evaluates the legal result once more before it returns (the cost it reports):
    ``placer place``'s seconds and a batch row's, which the leaderboard names overruns by,
    include that evaluation, while the note was timed before it. On a 2,048 x 2,048 grid it
    alone outlasts a 1 s budget, so the leaderboard named runs their own notes did not."""
    import placer.cost.proxy as proxy

    netlist, start = design
    evaluate_now = proxy.evaluate

    def slow_evaluate(*args, **kwargs):  # type: ignore[no-untyped-def]
        time.sleep(0.6)  # (only place's own, last evaluation: legalize and this method evaluate nothing)
        return evaluate_now(*args, **kwargs)

    monkeypatch.setattr(proxy, "evaluate", slow_evaluate)
    notes: list[str] = []
    began = time.perf_counter()
    _OnTime().place(netlist, start, budget_s=0.1, seed=0, progress=lambda p: notes.append(p.message))
    assert time.perf_counter() - began > 0.6
    assert any("on_time took" in n and "its budget of 0.1 s" in n for n in notes), notes


def _sleeping(method: str, seconds: float) -> Placer:
    """A method called ``method`` whose run sleeps ``seconds`` and returns its start: one step
    it cannot cut short."""

    class Sleeping(Placer):
        name = method

        def run(self, netlist, placement, budget_s, seed, progress):  # type: ignore[no-untyped-def]
            time.sleep(seconds)
            return placement

    return Sleeping()


def test_the_overrun_note_of_a_budget_of_0_reads_as_a_sentence(design, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """With no factor to give for a budget of 0 s the note read "took 0.6 s its budget of 0 s"."""
    netlist, start = design

    notes: list[str] = []
    _sleeping("slow", 0.6).place(netlist, start, budget_s=0.0, seed=0, progress=lambda p: notes.append(p.note or ""))
    late = [n for n in notes if n.startswith("slow took")]
    assert len(late) == 1 and re.match(r"slow took \d+\.\d s on a budget of 0 s: ", late[0]), late


def test_a_methods_first_run_past_its_budget_names_the_kernels_loading(design) -> None:  # type: ignore[no-untyped-def]
    """From Python a method's first run loads (after an install, compiles) its kernels inside
    its budget: ``sa``'s first call of 1 s took 25 s on a cold cache, and the note put it down
    to a step it cannot cut short. The first run's note names the loading and ``warm_up``; a
    later run's names the step."""
    netlist, start = design

    notes: list[list[str]] = []
    for _ in range(2):
        notes.append([])
        _sleeping("first_slow", 0.6).place(netlist, start, budget_s=0.1, seed=0, progress=lambda p: notes[-1].append(p.note or ""))
    first, later = ([n for n in run if n.startswith("first_slow took")] for run in notes)
    assert len(first) == 1 and "first run in this process" in first[0] and "warm_up('first_slow')" in first[0]
    assert len(later) == 1 and "first run" not in later[0] and "a step it cannot cut short" in later[0]


def test_a_stage_past_its_share_of_a_run_on_time_is_not_noted(design) -> None:  # type: ignore[no-untyped-def]
    """global_refine runs analytical as a stage through its ``place``: the stage's own overrun
    note ("analytical took 1.8 s, 7.6x its budget of 0.2375 s") reached the user with the
    stage's share as "its budget", also when the whole run ended on time."""
    netlist, start = design

    class Outer(Placer):
        name = "outer"

        def run(self, netlist, placement, budget_s, seed, progress):  # type: ignore[no-untyped-def]
            return _sleeping("stage", 0.5).place(netlist, placement, budget_s * 0.05, seed, progress)

    _sleeping("stage", 0.5).place(netlist, start, budget_s=5.0, seed=0)  # (its first run not the one checked)
    notes: list[str] = []
    Outer().place(netlist, start, budget_s=5.0, seed=0, progress=lambda p: notes.append(p.note or ""))
    assert not any("took" in n for n in notes), notes
    Outer().place(netlist, start, budget_s=0.2, seed=0, progress=lambda p: notes.append(p.note or ""))
    assert [n.split(" took")[0] for n in notes if " took " in n] == ["outer"], notes


def test_a_first_runs_note_names_the_options_warm_up_needs(design) -> None:  # type: ignore[no-untyped-def]
    """The first run's note advised ``warm_up('rl')``: a method that needs an option (``rl``'s
    model) refuses the warm-up's run without it, which ``warm_up`` passes over in silence, so
    the advice warmed nothing. Given options, the note names them in the call."""
    netlist, start = design

    class NeedsModel(Placer):
        name = "needs_model"
        option_names = frozenset({"model"})

        def run(self, netlist, placement, budget_s, seed, progress):  # type: ignore[no-untyped-def]
            if not self.options.get("model"):
                raise ValueError("needs_model needs option model=PATH")
            time.sleep(0.6)
            return placement

    notes: list[str] = []
    NeedsModel(model="m.zip").place(netlist, start, budget_s=0.1, seed=0, progress=lambda p: notes.append(p.note or ""))
    late = [n for n in notes if n.startswith("needs_model took")]
    assert len(late) == 1 and "first run in this process" in late[0], notes
    assert "warm_up('needs_model', options), options those it runs with," in late[0], late
