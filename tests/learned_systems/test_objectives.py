"""The index objective: its deterministic cost model counts the search steps the lookups run,
and a bug inside a trial is raised, not recorded as a failed configuration."""

from __future__ import annotations

import math

import numpy as np
import pytest

from learned_systems import objectives
from learned_systems.config.trial import WrongAnswerError
from learned_systems.datasets import generate_keys, generate_queries
from learned_systems.index import RMIIndex
from learned_systems.index import rmi as rmi_module
from learned_systems.objectives import counted_steps


def test_rmi_cost_counts_the_steps_each_slice_really_searches(monkeypatch):
    """A slice of queries is searched for as many steps as its longest window needs; the mean
    of each query's own window counted 5 steps where 9 ran (cubic: 4 where 11 ran), ranking
    a cubic RMI with large leaf errors above a linear one."""
    keys = generate_keys("lognormal", 200_000, seed=0)
    queries = generate_queries(keys, 40_000, seed=1)
    ran: list[tuple[int, int]] = []
    real = rmi_module.bounded_lower_bound

    def counting(keys_, queries_, start, length):  # type: ignore[no-untyped-def]
        ran.append((queries_.size, math.ceil(math.log2(max(int(np.max(length)), 1)))))
        return real(keys_, queries_, start, length)

    for root in ("linear", "cubic"):
        index = RMIIndex(keys, num_models=2**16, root=root)
        ran.clear()
        monkeypatch.setattr(rmi_module, "bounded_lower_bound", counting)
        index.lookup(queries)
        monkeypatch.setattr(rmi_module, "bounded_lower_bound", real)
        searched = sum(size * (steps + 1) for size, steps in ran) / queries.size  # + final compare
        fallback = index.fallbacks * math.log2(keys.size) / queries.size
        assert counted_steps(index, queries) == searched + 1 + fallback


def test_measured_ratios_time_searchsorted_back_to_back_with_the_index(monkeypatch):
    """searchsorted was timed once, when the objective was made, and every ratio after divided
    by it: a machine that slowed down (load, clock) read as slower indexes (10 % in an audit).
    A clock that ticks a fixed step per reading makes every timed span one step: a machine twice
    as slow (two units per step) must read the same ratios (real timings made this test flaky)."""
    from learned_systems import objectives

    clock = {"now": 0.0, "step": 1.0}

    def ticking() -> float:
        clock["now"] += clock["step"]
        return clock["now"]

    monkeypatch.setattr(objectives.time, "perf_counter", ticking)
    objective = objectives.IndexObjective("lognormal", keys=20_000, queries=2_000, repeats=3)
    config = objective.space.validate({"kind": "pgm"})
    before = objective.evaluate(config)
    clock["step"] = 2.0  # twice as slow from here on
    after = objective.evaluate(config)
    assert before.metrics["relative_time"] == after.metrics["relative_time"] == 1.0  # (was 2.0)
    assert after.throughputs == [1.0, 1.0, 1.0]


def test_the_timed_relative_time_is_the_median_ratio_so_one_slow_repeat_moves_it_little(monkeypatch):
    """relative_time is the median of the repeats' ratios (the docstring's promise): one repeat
    slowed by the machine (ratios 1, 1, 5) leaves it at 1, where the mean read 7/3."""
    clock = {"now": 0.0}

    def ticking() -> float:  # one unit per reading: every timed span is 1 ...
        clock["now"] += 1.0
        return clock["now"]

    real_build = objectives.build_index
    lookups: list[int] = []

    def build_with_a_slow_last_lookup(kind, keys, **params):  # type: ignore[no-untyped-def]
        index = real_build(kind, keys, **params)
        real_lookup = index.lookup

        def lookup(queries):  # type: ignore[no-untyped-def]
            lookups.append(queries.size)
            if len(lookups) == 4:  # ... but the third timed lookup's, 5 (the first is the check)
                clock["now"] += 4.0
            return real_lookup(queries)

        index.lookup = lookup
        return index

    monkeypatch.setattr(objectives.time, "perf_counter", ticking)
    monkeypatch.setattr(objectives, "build_index", build_with_a_slow_last_lookup)
    objective = objectives.IndexObjective("lognormal", keys=20_000, queries=2_000, repeats=3)
    result = objective.evaluate(objective.space.validate({"kind": "pgm"}))
    assert len(lookups) == 4 and result.throughputs == [1.0, 1.0, 0.2]  # the ratios were 1, 1, 5
    assert result.metrics["relative_time"] == 1.0


def test_a_counted_index_trial_is_not_labelled_a_timed_speed():
    """Counted trials stored 'x searchsorted speed', which read as a measured lookup speed."""
    from learned_systems import objectives

    counted = objectives.IndexObjective("lognormal", keys=5_000, queries=500, mode="cost")
    result = counted.evaluate(counted.space.defaults())
    assert result.ok and result.unit == "x fewer search steps (counted)"
    assert result.throughput_mean == 1 / result.metrics["relative_time"]


def _objective() -> objectives.IndexObjective:
    return objectives.IndexObjective("uniform", keys=3_000, queries=300, mode="cost")


@pytest.mark.parametrize("bug", [TypeError("unsupported operand type(s) for +: 'int' and 'NoneType'"),
                                 AttributeError("'NoneType' object has no attribute 'keys'"), KeyError("root")])
def test_a_programming_error_building_an_index_is_raised_not_a_failed_trial(monkeypatch, bug):
    """A TypeError building every RMI was recorded as 7 failed trials: the tuner was steered to
    PGMs and the run exited 0 with a best configuration, the cause only in results.sqlite."""
    real = objectives.build_index

    def buggy(kind, keys, **params):  # type: ignore[no-untyped-def]
        if kind == "rmi":
            raise bug
        return real(kind, keys, **params)

    monkeypatch.setattr(objectives, "build_index", buggy)
    objective = _objective()
    assert objective.evaluate({"kind": "pgm"}).ok  # the kind the bug spares is measured
    with pytest.raises(type(bug)) as raised:
        objective.evaluate({"kind": "rmi"})
    assert raised.value is bug


def test_an_index_that_cannot_be_built_is_still_a_failed_trial(monkeypatch):
    """Out of memory or a value the build refuses is the configuration's failure: recorded."""
    def too_big(kind, keys, **params):  # type: ignore[no-untyped-def]
        raise MemoryError("Unable to allocate 2.00 GiB for an array")

    monkeypatch.setattr(objectives, "build_index", too_big)
    result = _objective().evaluate({"kind": "rmi"})
    assert not result.ok and result.error == "MemoryError: Unable to allocate 2.00 GiB for an array"


def test_an_index_answering_wrong_positions_is_raised_as_a_bug(monkeypatch):
    """Wrong lookups are a correctness bug of the index: they were a RuntimeError recorded as a
    failed configuration, which only steered the tuner away from it."""
    real = objectives.build_index

    class OffByOne:
        def __init__(self, index) -> None:  # type: ignore[no-untyped-def]
            self.index = index

        def lookup(self, queries: np.ndarray) -> np.ndarray:
            found = self.index.lookup(queries).copy()
            found[:3] += 1
            return found

    monkeypatch.setattr(objectives, "build_index", lambda kind, keys, **p: OffByOne(real(kind, keys, **p)))
    with pytest.raises(WrongAnswerError, match=r"the pgm index .* wrong positions for 3 of 300 lookups"):
        _objective().evaluate({"kind": "pgm"})
    assert issubclass(WrongAnswerError, AssertionError)  # an internal error, never input's


def test_a_numba_kernel_that_does_not_compile_is_raised_not_a_failed_trial(monkeypatch):
    """numba's TypingError is no TypeError: an index kind whose kernel does not compile was
    recorded as a failed configuration every time the tuner chose it."""
    import numba
    from numba.core.errors import TypingError

    from learned_systems.index import kinds

    @numba.njit(cache=False)
    def shifted(keys):  # type: ignore[no-untyped-def]
        return keys + "one"  # no such addition: numba refuses to type it

    class BrokenKernelIndex:
        def __init__(self, keys):  # type: ignore[no-untyped-def]
            self.shifted = shifted(keys)

    monkeypatch.setattr(kinds, "_KINDS", dict(kinds._KINDS))
    kinds.register_index_kind("broken_kernel", BrokenKernelIndex)
    objective = objectives.IndexObjective("uniform", keys=3_000, queries=300, mode="measured",
                                          space=objectives.index_space(("pgm", "broken_kernel")))
    with pytest.raises(TypingError):
        objective.evaluate({"kind": "broken_kernel"})
    assert objective.evaluate({"kind": "pgm"}).ok


def test_the_objectives_reprs_say_what_they_tune(tmp_path):
    from learned_systems.config.factory import make_backend
    from learned_systems.objectives import ConfigObjective, IndexObjective

    index = IndexObjective("uniform", keys=3000, queries=200, seed=4, mode="cost")
    assert repr(index) == ("IndexObjective(dataset='uniform', keys=3000, queries=200, seed=4, mode='cost', "
                           "time_weight=1, size_weight=1, repeats=3, kinds=['pgm', 'rmi'])")
    backend = make_backend("sqlite", "ycsb-b", rows=1000, duration_s=0.05, repeats=1, template_dir=tmp_path)
    try:
        assert repr(ConfigObjective(backend)) == "ConfigObjective(system='sqlite', workload='ycsb-b', space='durable')"
    finally:
        backend.close()


def test_mode_counted_is_refused_naming_mode_cost():
    """The CLI's --index-cost counted is mode="cost" here; "counted" was refused without saying so."""
    from learned_systems.errors import InputError
    from learned_systems.objectives import IndexObjective

    with pytest.raises(InputError, match=r"mode must be 'measured' or 'cost' \(placer tune's --index-cost counted "
                                         r"is mode='cost'\), got 'counted'"):
        IndexObjective("uniform", keys=1000, mode="counted")


def test_an_array_of_keys_given_as_the_dataset_is_named_in_one_short_line():
    """IndexObjective(my_keys) printed every key in its "unknown dataset" error."""
    from learned_systems.errors import InputError
    from learned_systems.objectives import IndexObjective

    keys = generate_keys("uniform", 50_000, seed=0)
    with pytest.raises(InputError) as caught:
        IndexObjective(keys, keys=1000)  # type: ignore[arg-type]
    message = str(caught.value)
    assert len(message) < 300 and "an array of 50,000 values" in message
    assert "learned_systems.sosd.write_sosd(path, keys)" in message


def test_the_memo_keeps_its_most_recent_results_and_measures_a_dropped_one_again():
    """Every configuration measured was kept for the objective's life: a long PPO run over
    continuous actions added one result per step for good. The memo keeps ``most`` results,
    the least recently asked for dropped first; a dropped one is measured again when asked."""

    class Counting:
        system, workload = "index", "counting"

        def __init__(self) -> None:
            self.inner = objectives.IndexObjective("uniform", keys=2_000, queries=200, mode="cost")
            self.space = self.inner.space
            self.calls = 0

        def evaluate(self, config):  # type: ignore[no-untyped-def]
            self.calls += 1
            return self.inner.evaluate(config)

    inner = Counting()
    memo = objectives.MemoizedObjective(inner, most=2)
    space = inner.space
    configs = [space.validate({**space.defaults(), "epsilon": eps}) for eps in (16, 32, 64)]
    for config in (configs[0], configs[1], configs[0], configs[2]):  # configs[1] least recent
        memo.evaluate(config)
    assert inner.calls == 3 and len(memo._results) == 2
    memo.evaluate(configs[0])
    memo.evaluate(configs[2])
    assert inner.calls == 3  # both kept
    memo.evaluate(configs[1])
    assert inner.calls == 4  # dropped, measured again
    assert objectives.MemoizedObjective(inner).most == objectives.MOST_MEMOIZED
    with pytest.raises(ValueError, match="most must be a whole number >= 1, got 0"):
        objectives.MemoizedObjective(inner, most=0)


def test_index_parameters_validate_and_fill_in_the_defaults() -> None:
    """A partial configuration read a bare ``KeyError: 'epsilon'`` and an unknown kind came back
    as it was, with no parameters; how_to_apply validated the same input."""
    from learned_systems.config.knobs import KnobError

    kind, params = objectives.index_parameters({"kind": "pgm"})
    assert kind == "pgm" and params["epsilon"] == 64 and "num_models" not in params  # (RMI's knobs dropped)
    kind, params = objectives.index_parameters({})
    assert kind == objectives.index_space().defaults()["kind"] and params
    for config in ({"kind": "nope"}, {"kind": "pgm", "epsilon": 1}, {"kind": "pgm", "bogus": 3}, None, "pgm"):
        with pytest.raises(KnobError):
            objectives.index_parameters(config)
