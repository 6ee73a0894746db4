"""Tuners of one's own: registered by name (as the built-ins are) or handed to run_tuning as an
instance; a name or an object the tuning loop cannot use is refused before any measurement."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from learned_systems.config.knobs import KnobSpace
from learned_systems.config.sqlite_backend import sqlite_space
from learned_systems.config.trial import TrialResult
from learned_systems.results import ResultsStore
from learned_systems.tuners import available_tuners, make_tuner, register_tuner, registry
from learned_systems.tuners.random_search import RandomSearch
from learned_systems.tuning import run_tuning


class CountingObjective:
    """A synthetic system over SQLite's space: the score grows with cache_size."""

    system = "synthetic"
    workload = "cache"

    def __init__(self) -> None:
        self.space: KnobSpace = sqlite_space()
        self.calls = 0

    def baselines(self) -> dict[str, dict[str, Any]]:
        return {"default": self.space.defaults()}

    def evaluate(self, config: dict[str, Any]) -> TrialResult:
        self.calls += 1
        full = self.space.validate(config)
        value = float(np.log2(full["cache_size"]))
        return TrialResult(self.system, self.workload, self.space.name, full, True, value, 0.0, [value])

    def score(self, result: TrialResult, reference: TrialResult | None) -> float | None:
        return result.throughput_mean / reference.throughput_mean if result.ok and reference else None


class Coordinate:
    """Changes one knob of the best configuration so far, drawn from its own generator."""

    name = "coord"

    def __init__(self, space: KnobSpace, seed: int, trials: int = 50) -> None:
        self.space, self.rng = space, np.random.default_rng(seed)
        self.best, self.best_score = space.defaults(), None
        self.told: list[float | None] = []
        self.closed = False

    def ask(self) -> dict[str, Any]:
        knob = self.space.knobs[int(self.rng.integers(len(self.space.knobs)))]
        return {**self.best, knob.name: knob.from_unit(self.rng.random())}

    def tell(self, config: dict[str, Any], score: float | None) -> None:
        self.told.append(score)
        if score is not None and (self.best_score is None or score > self.best_score):
            self.best, self.best_score = config, score

    def observe(self, config: dict[str, Any], score: float | None) -> None:
        self.tell(config, score)

    def replay(self, config: dict[str, Any], score: float | None) -> None:
        self.ask()
        self.tell(config, score)

    def close(self) -> None:
        self.closed = True


@pytest.fixture
def own_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """The registry as it is, put back after the test (the tuners it registers gone)."""
    monkeypatch.setattr(registry, "_FACTORIES", dict(registry._FACTORIES))


def test_a_registered_tuner_runs_resumes_and_is_stored_under_its_name(tmp_path, own_registry) -> None:
    """run_tuning took the three built-in names only: 'coord' was "unknown tuner 'coord'", and
    the one way in was patching two module globals of learned_systems.tuning."""
    assert register_tuner("coord", Coordinate) is Coordinate
    assert available_tuners() == ["random", "optuna", "rl", "coord"]
    with ResultsStore(tmp_path / "r.sqlite") as store:
        straight = run_tuning(CountingObjective(), "coord", 6, 4, store, "straight")
        rows = store.rows(run="straight", tuner="coord", role="trial")
        assert straight.tuner == "coord" and len(rows) == 6
        assert [row["config"] for row in rows] == [row["config"] for row in store.rows(run="straight", tuner="coord")]
        partial = run_tuning(CountingObjective(), "coord", 3, 4, store, "resumed")
        objective = CountingObjective()
        resumed = run_tuning(objective, "coord", 6, 4, store, "resumed")
        assert partial.resumed == 0 and resumed.resumed == 3 and objective.calls == 3  # (the defaults stored)
        configs = [[row["config"] for row in store.rows(run=run, tuner="coord", role="trial")]
                   for run in ("straight", "resumed")]  # fmt: skip
        assert configs[0] == configs[1]  # replayed: the resumed run proposes what the straight one did
        assert resumed.best_score == straight.best_score


def test_a_tuner_instance_runs_under_its_name_and_is_closed(tmp_path) -> None:
    """An instance was "unknown tuner <__main__.GreedyCoordinate object at 0x...>"."""
    tuner = Coordinate(sqlite_space(), seed=1)
    with ResultsStore(tmp_path / "r.sqlite") as store:
        summary = run_tuning(CountingObjective(), tuner, 5, 9, store, "run")
        assert summary.tuner == "coord" and summary.seed == 9
        assert len(store.rows(run="run", tuner="coord", seed=9, role="trial")) == 5
    assert len(tuner.told) == 1 + 5 and tuner.closed  # the defaults observed, five trials told


class Nameless(Coordinate):
    name = None  # type: ignore[assignment]


class Unnamed:
    def ask(self):  # type: ignore[no-untyped-def]
        return {}

    tell = observe = replay = ask


class Silent(Coordinate):
    observe = None  # type: ignore[assignment]


@pytest.mark.parametrize(
    ("make", "error", "words"),
    [
        (lambda: Nameless(sqlite_space(), 0), TypeError, "has no name: give it a str attribute 'name'"),
        (lambda: Unnamed(), TypeError, "has no name"),
        (lambda: Silent(sqlite_space(), 0), TypeError, "Silent lacks observe"),
        (lambda: object(), TypeError, "object lacks ask, tell, observe, replay"),
        (lambda: type("Baseline", (Coordinate,), {"name": "baseline"})(sqlite_space(), 0), ValueError,
         "tuner name 'baseline' cannot be used"),
        (lambda: type("Commas", (Coordinate,), {"name": "a,b"})(sqlite_space(), 0), ValueError,
         "tuner name 'a,b' cannot be used"),
    ],
)
def test_a_tuner_instance_the_loop_cannot_use_is_refused_before_measuring(make, error, words, tmp_path) -> None:
    objective = CountingObjective()
    with ResultsStore(tmp_path / "r.sqlite") as store:
        with pytest.raises(error, match=words):
            run_tuning(objective, make(), 3, 0, store, "run")
        assert store.rows(run="run") == []
    assert objective.calls == 0


def test_the_builtin_tuners_are_registered_factories() -> None:
    """One registry for all: make_tuner was an if-chain over three names."""
    assert available_tuners()[:3] == ["random", "optuna", "rl"]
    assert isinstance(make_tuner("random", sqlite_space(), 3), RandomSearch)
    with pytest.raises(ValueError, match="unknown tuner 'grid': expected one of 'random', 'optuna', 'rl'.*register_tuner"):
        make_tuner("grid", sqlite_space(), 0)


@pytest.mark.parametrize("name", ["", "baseline", "default", "rule_of_thumb", "-x", "a b", "a..b", "a,b"])
def test_a_name_no_tuner_may_take_is_refused(name: str, own_registry) -> None:
    with pytest.raises(ValueError, match="cannot be used"):
        register_tuner(name, Coordinate)
    assert name not in available_tuners()


def test_a_taken_name_is_refused_and_the_same_factory_again_is_not(own_registry) -> None:
    """A plugin naming its tuner 'random' would have run in place of random search."""
    with pytest.raises(ValueError, match="tuner 'random' is already registered by .*_random_search"):
        register_tuner("random", Coordinate)

    @register_tuner("coord")
    def coordinate(space: KnobSpace, seed: int, trials: int) -> Coordinate:
        return Coordinate(space, seed, trials)

    assert register_tuner("coord", coordinate) is coordinate  # (its module loaded again)
    assert isinstance(make_tuner("coord", sqlite_space(), 0), Coordinate)
    with pytest.raises(TypeError, match="must be callable"):
        register_tuner("other", 3)  # type: ignore[call-overload]


def test_a_factory_that_makes_no_tuner_is_named(own_registry) -> None:
    register_tuner("broken", lambda space, seed, trials: {"ask": None})
    with pytest.raises(TypeError, match="what tuner 'broken''s factory returned is no tuner: dict lacks ask"):
        make_tuner("broken", sqlite_space(), 0)


def test_a_factory_of_the_wrong_signature_is_refused_before_anything_is_measured(tmp_path, own_registry) -> None:
    """A plugin's `__init__(self, space)` failed with a traceback after the baselines had been
    measured and stored (the second review)."""

    class OneArgument(Coordinate):
        def __init__(self, space: KnobSpace) -> None:  # type: ignore[override]
            super().__init__(space, 0)

    register_tuner("one_argument", OneArgument)
    objective = CountingObjective()
    with ResultsStore(tmp_path / "r.sqlite") as store:
        with pytest.raises(TypeError, match=r"tuner 'one_argument': its factory .*OneArgument must take \(space, seed, trials\)"):
            run_tuning(objective, "one_argument", 3, 0, store, "run")
        assert objective.calls == 0 and store.rows(run="run") == []


def test_two_lambdas_or_closures_of_one_name_are_different_code(own_registry) -> None:
    """Re-registering under a taken name was allowed for any factory of the same qualified name,
    so a second lambda silently replaced the first (the second review); a module's own factory
    registered again (its module imported afresh) still is."""
    from learned_systems.index import kinds, register_index_kind

    register_tuner("lam", lambda space, seed, trials: Coordinate(space, seed))
    with pytest.raises(ValueError, match="already registered by"):
        register_tuner("lam", lambda space, seed, trials: Coordinate(space, seed + 1))
    assert register_tuner("coord2", Coordinate) is register_tuner("coord2", Coordinate)
    saved = dict(kinds._KINDS)
    try:
        def builder(n):  # type: ignore[no-untyped-def]
            return lambda keys, **params: n
        register_index_kind("closure_kind", builder(1))
        with pytest.raises(ValueError, match="already registered by"):
            register_index_kind("closure_kind", builder(2))
    finally:
        kinds._KINDS.clear()
        kinds._KINDS.update(saved)


def test_a_tuners_code_is_kept_as_it_registered(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The code that runs is the code as loaded: the file edited afterwards does not change what
    a run records (placer tune refuses a resume of trials made by other code)."""
    import importlib.util
    import sys

    monkeypatch.setattr(registry, "_FACTORIES", dict(registry._FACTORIES))
    source = tmp_path / "loaded_tuner_plugin.py"
    text = ("from learned_systems.tuners import register_tuner\n"
            "from learned_systems.tuners.random_search import RandomSearch\n"
            "register_tuner('loaded', lambda space, seed, trials: RandomSearch(space, seed))\n")
    source.write_text(text)
    spec = importlib.util.spec_from_file_location("loaded_tuner_plugin", source)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "loaded_tuner_plugin", module)
    spec.loader.exec_module(module)
    source.write_text(text + "# edited after it loaded\n")
    assert registry.loaded_tuner_text("loaded") == text.encode()
    assert not registry.is_builtin_tuner("loaded") and registry.is_builtin_tuner("random")
    assert registry.loaded_tuner_text("random") is None  # (the package's version is its code)


@pytest.mark.parametrize(("seed", "trials", "error", "said"), [
    (-1, 10, ValueError, "seed must be a whole number from 0 to 4294967295, got -1"),
    (2**33, 10, ValueError, "seed must be a whole number from 0 to 4294967295"),
    (3.0, 10, TypeError, "seed must be a whole number, got 3.0"),
    (True, 10, TypeError, "seed must be a whole number, got True"),
    (0, 0, ValueError, "trials must be a whole number of at least 1, got 0"),
])  # fmt: skip
def test_make_tuner_checks_seed_and_trials_as_run_tuning_does(seed: object, trials: object, error: type,
                                                                said: str) -> None:
    """make_tuner passed them on unchecked: numpy said "expected non-negative integer" for -1 and
    Optuna "Seed must be between 0 and 2**32 - 1" for 2**33, naming neither the argument nor
    the call; run_tuning refused the same values in its own words."""
    import re

    for name in ("random", "optuna"):
        with pytest.raises(error, match=re.escape(said)):
            make_tuner(name, sqlite_space(), seed, trials)  # type: ignore[arg-type]
    assert make_tuner("random", sqlite_space(), np.int64(2**32 - 1), 5) is not None  # (numpy ints are ints)
