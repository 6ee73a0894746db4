"""The tuning loop: baselines first, then ``trials`` ask/evaluate/tell rounds, each trial stored
the moment it finishes; a restarted run replays what is stored and continues.

A tuner may measure one configuration more than once; configurations are ranked by the mean
score of their trials, so one lucky measurement does not stand for a configuration measured
three times."""

from __future__ import annotations

import dataclasses
import statistics
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from learned_systems.config.trial import TrialResult
from learned_systems.results import ResultsStore
from learned_systems.tuners import make_tuner


@dataclass
class TuningSummary:
    """Outcome of one tuner and seed: baselines, best configuration (its mean score over its
    trials; ``best_result`` pools their measurements), best-so-far curve of those means."""

    tuner: str
    seed: int
    baselines: dict[str, TrialResult]
    baseline_scores: dict[str, float | None]
    best_config: dict[str, Any] | None
    best_score: float | None
    best_result: TrialResult | None
    best_so_far: list[float | None]
    failed: int
    resumed: int
    best_measurements: int = 0


class ConfigRanking:
    """Configurations ranked by the mean score of their successful trials."""

    def __init__(self) -> None:
        self.scores: dict[str, list[float]] = {}
        self.results: dict[str, list[TrialResult]] = {}
        self.best_key: str | None = None

    def add(self, config: dict[str, Any], score: float | None, result: TrialResult | None = None):
        """Count one trial (``None`` score: failed, ignored); the best mean score so far."""
        if score is not None:
            key = repr(sorted(config.items()))
            self.scores.setdefault(key, []).append(score)
            if result is not None:
                self.results.setdefault(key, []).append(result)
            self.best_key = max(self.scores, key=lambda k: statistics.fmean(self.scores[k]))
        return self.best_score

    @property
    def best_score(self) -> float | None:
        return None if self.best_key is None else statistics.fmean(self.scores[self.best_key])

    @property
    def best_measurements(self) -> int:
        return 0 if self.best_key is None else len(self.scores[self.best_key])

    def best_result(self) -> TrialResult | None:
        """The best configuration's trials pooled into one result."""
        if self.best_key is None or self.best_key not in self.results:
            return None
        return _pooled(self.results[self.best_key])


def _pooled(results: list[TrialResult]) -> TrialResult:
    """One configuration's trials as one result: all their measurements together."""
    if len(results) == 1:
        return results[0]
    samples = [x for r in results for x in (r.throughputs or [r.throughput_mean])]
    return dataclasses.replace(
        results[-1],
        throughput_mean=statistics.fmean(samples),
        throughput_std=statistics.stdev(samples),
        throughputs=samples,
        wall_seconds=sum(r.wall_seconds for r in results),
    )


def run_tuning(
    objective,
    tuner_name: str,
    trials: int,
    seed: int,
    store: ResultsStore,
    run: str,
    on_trial: Callable[[int, TrialResult, float | None], None] | None = None,
) -> TuningSummary:
    """Tune ``objective`` with ``tuner_name`` for ``trials`` trials, storing into ``store``."""
    baselines: dict[str, TrialResult] = {}
    for role, config in objective.baselines().items():
        stored = store.rows(run=run, tuner="baseline", seed=seed, role=role)
        if stored:
            baselines[role] = ResultsStore.to_result(stored[0])
        else:
            baselines[role] = objective.evaluate(config)
            store.add(run, "baseline", seed, 0, role, baselines[role], None)
    reference = baselines.get("default")
    baseline_scores = {
        role: objective.score(result, reference) for role, result in baselines.items()
    }

    tuner = make_tuner(tuner_name, objective.space, seed, trials)
    for role, result in baselines.items():
        tuner.observe(result.config, baseline_scores[role])
    ranking = ConfigRanking()
    curve: list[float | None] = []
    failed = 0
    previous = store.rows(run=run, tuner=tuner_name, seed=seed, role="trial")[:trials]
    try:
        for row in previous:
            tuner.replay(row["config"], row["score"])
        for index in range(trials):
            if index < len(previous):
                result, score = ResultsStore.to_result(previous[index]), previous[index]["score"]
            else:
                config = tuner.ask()
                result = objective.evaluate(config)
                score = objective.score(result, reference)
                store.add(run, tuner_name, seed, index, "trial", result, score)
                tuner.tell(config, score)
            failed += score is None
            curve.append(ranking.add(result.config, score, result))
            if on_trial is not None:
                on_trial(index, result, score)
    finally:
        close = getattr(tuner, "close", None)
        if close is not None:
            close()
    best = ranking.best_result()
    return TuningSummary(
        tuner_name,
        seed,
        baselines,
        baseline_scores,
        best.config if best else None,
        ranking.best_score,
        best,
        curve,
        failed,
        len(previous),
        ranking.best_measurements,
    )
