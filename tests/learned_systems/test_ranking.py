"""ConfigRanking: configurations ranked by their mean score, the winner's trials pooled."""

from __future__ import annotations

import pytest

from learned_systems.config.knobs import config_key
from learned_systems.config.trial import TrialResult
from learned_systems.ranking import ConfigRanking


def _result(config: dict, value: float) -> TrialResult:
    return TrialResult("synthetic", "w", "durable", config, True, value, 0.0, [value])


def test_a_lucky_single_measurement_falls_back_once_measured_again():
    ranking = ConfigRanking()
    steady, lucky = {"a": 1, "b": 2}, {"a": 2, "b": 2}
    assert ranking.add(steady, 1.5, _result(steady, 150.0)) == 1.5
    assert ranking.add(lucky, 2.0, _result(lucky, 200.0)) == 2.0
    assert ranking.add({"b": 2, "a": 2}, 0.6) == 1.5  # key order ignored: lucky now averages 1.3
    assert ranking.best_key == config_key(steady) and ranking.best_measurements == 1
    assert ranking.add(steady, 1.7, _result(steady, 170.0)) == pytest.approx(1.6)
    pooled = ranking.best_result()
    assert pooled.throughputs == [150.0, 170.0] and pooled.throughput_mean == pytest.approx(160.0)
    assert ranking.configs[ranking.best_key] == steady


def test_a_configuration_that_fails_now_and_then_ranks_below_every_one_that_never_failed():
    """A failed trial counted for nothing: a configuration that scored well once and then
    failed ten times stayed the best (and Optuna spent every re-measurement on it)."""
    ranking = ConfigRanking()
    flaky, steady = {"a": 1}, {"a": 2}
    ranking.add(flaky, 3.0, _result(flaky, 300.0))
    ranking.add(steady, 1.2, _result(steady, 120.0))
    assert ranking.best_key == config_key(flaky)
    assert ranking.add(flaky, None) == 1.2 and ranking.best_key == config_key(steady)
    assert ranking.attempts(config_key(flaky)) == 2 and ranking.failures == {config_key(flaky): 1}
    first, second = ranking.ranked()
    assert (first.score, first.failures, second.score, second.failures) == (1.2, 0, 3.0, 1)
    ranking.add(steady, None)  # both failed half the time: the score decides again
    assert ranking.best_key == config_key(flaky) and ranking.best_failures == 1


def test_empty_ranking_has_no_best():
    ranking = ConfigRanking()
    assert ranking.add({"a": 1}, None) is None
    assert ranking.best_result() is None and ranking.best_measurements == 0


def test_configurations_that_run_the_same_system_pool_their_measurements():
    """Under kind=pgm the RMI knobs do not apply: two such configurations are one index and
    rank as one (they ranked apart, so a tuner could be credited with the defaults' index)."""
    from learned_systems.objectives import index_space

    space = index_space()
    ranking = ConfigRanking(space.effective)
    first = space.validate({"kind": "pgm", "epsilon": 32, "num_models": 64})
    second = space.validate({"kind": "pgm", "epsilon": 32, "num_models": 8192})
    ranking.add(first, 2.0)
    ranking.add(second, 1.0)
    assert len(ranking.scores) == 1 and ranking.best_measurements == 2
    assert ranking.best_score == pytest.approx(1.5)
    plain = ConfigRanking()
    plain.add(first, 2.0)
    plain.add(second, 1.0)
    assert len(plain.scores) == 2


def test_a_tuners_measurement_of_a_baseline_counts_with_the_baselines_own_score():
    """Only the defaults were fixed: a tuner's luckier measurement of the rule of thumb set its
    best score while best_config.json named the rule of thumb with the baseline's."""
    from learned_systems.tuning import fixed_to_baselines

    defaults, thumb = {"a": 1}, {"a": 2}
    ranking = fixed_to_baselines(ConfigRanking(), {"default": defaults, "rule_of_thumb": thumb},
                                 {"default": 1.0, "rule_of_thumb": 1.2})
    assert ranking.add(thumb, 1.9) == 1.2 and ranking.add(defaults, 1.5) == 1.2
    same = fixed_to_baselines(ConfigRanking(), {"default": defaults, "rule_of_thumb": defaults},
                              {"default": 1.0, "rule_of_thumb": 1.3})  # a rule that runs as the defaults
    assert same.add(defaults, 2.0) == 1.0
    failed = fixed_to_baselines(ConfigRanking(), {"default": defaults, "rule_of_thumb": thumb},
                                {"default": 1.0, "rule_of_thumb": None})  # its measurement failed
    assert failed.add(thumb, 1.9) == 1.9


def test_a_pooled_result_averages_its_trials_metrics():
    """best_config.json's metrics were the last trial's: an index measured twice read
    relative_time 1.06 beside a score of the two trials' mean."""
    ranking = ConfigRanking()
    config = {"kind": "pgm", "eps": 64}
    for relative_time, build in ((1.2, 0.5), (1.0, 0.25)):
        metrics = {"relative_time": relative_time, "size_pct": 0.2, "max_error": 64,
                   "build_seconds": build, "mode": "measured"}
        result = TrialResult("index", "w", "index", config, True, 1 / relative_time, 0.0,
                             [1 / relative_time], metrics=metrics)
        ranking.add(config, -(relative_time + 0.2), result)
    pooled = ranking.best_result().metrics
    assert pooled["relative_time"] == pytest.approx(1.1) and pooled["build_seconds"] == pytest.approx(0.375)
    assert -(pooled["relative_time"] + pooled["size_pct"]) == pytest.approx(ranking.best_score)
    assert (pooled["max_error"], pooled["size_pct"], pooled["mode"]) == (64, 0.2, "measured")


def test_the_best_kept_by_its_heap_is_the_best_of_a_full_pass_after_every_trial() -> None:
    """The best was found by a pass over every configuration at every trial (a resume of 8,000
    trials: 55 s); the heap that keeps it now must agree with that pass after each trial, ties
    (to the configuration first measured) and failures included."""
    import numpy as np

    rng = np.random.default_rng(0)
    for _ in range(30):
        ranking = ConfigRanking()
        ranking.fix({"k": 0}, 1.0)  # a baseline's fixed score, as the tuning loop gives it
        for _ in range(200):
            config = {"k": int(rng.integers(0, 12))}
            score = None if rng.random() < 0.1 else float(rng.choice([0.5, 1.0, 1.5, rng.random() * 2]))
            ranking.add(config, score)
            if ranking.scores:
                assert ranking.best_key == max(ranking.scores, key=ranking.standing)
            else:
                assert ranking.best_key is None


def test_ranking_a_trial_looks_at_its_own_configuration_only() -> None:
    """Each trial ranked every configuration again (16,000 trials: 71 s, 128 million standings
    computed); now a trial computes the standing of the configuration it measured."""
    ranking = ConfigRanking()
    looked = []
    real = ranking.standing
    ranking.standing = lambda key: (looked.append(key), real(key))[1]  # type: ignore[method-assign]
    for i in range(2_000):
        ranking.add({"k": i}, float(i % 97))
    assert len(looked) == 2_000 and ranking.best_score == 96.0
