"""Configurations ranked by the mean score of their trials.

Measurements of a real system are noisy and a tuner may measure one configuration more than
once, so a configuration's standing is its mean score, and one lucky measurement does not stand
for a configuration measured three times. The tuning loop, the ``tune`` command and Optuna's
re-measurement schedule all rank through :class:`ConfigRanking`.
"""

from __future__ import annotations

import dataclasses
import heapq
import statistics
from collections.abc import Callable
from typing import Any

from learned_systems.config.knobs import config_key
from learned_systems.config.trial import TrialResult, mean_and_spread


@dataclasses.dataclass(frozen=True)
class RankedConfig:
    """One configuration's standing: its mean score over its successful trials, those trials
    pooled into one result, and how many trials of it failed."""

    score: float
    result: TrialResult
    measurements: int
    failures: int = 0

    @property
    def standing(self) -> tuple[float, float]:
        """What ranks it: the share of its trials that failed first (a configuration that
        fails now and then is no recommendation, however well it scored when it ran), then
        its mean score."""
        return _standing(self.failures, self.measurements, self.score)


def _standing(failures: int, measurements: int, mean: float) -> tuple[float, float]:
    """A configuration's rank key: minus the share of its trials that failed, then its mean."""
    return (-failures / (failures + measurements), mean)


class ConfigRanking:
    """Configurations ranked by the mean score of their successful trials, after the share of
    their trials that failed (:attr:`RankedConfig.standing`).

    ``canonical`` maps a configuration to the one it runs (e.g. ``KnobSpace.effective``, which
    resets knobs that do not apply): configurations that run the same system pool their
    measurements instead of ranking apart. :meth:`fix` gives a configuration a score of its own
    (the defaults: a tuner's re-measurement of them is no find and counts as their baseline).
    """

    def __init__(self, canonical: Callable[[dict[str, Any]], dict[str, Any]] | None = None) -> None:
        self.canonical = canonical
        self.scores: dict[str, list[float]] = {}
        self.configs: dict[str, dict[str, Any]] = {}
        self.results: dict[str, list[TrialResult]] = {}
        self.failures: dict[str, int] = {}  # failed trials per configuration
        self.best_key: str | None = None
        self._fixed: dict[str, float | None] = {}
        # the best kept by a heap of standings, an entry per change of a configuration (stale
        # ones, of an earlier version, dropped when they surface): a rescan of every
        # configuration at every trial made a resume of 8,000 trials take 55 s
        self._heap: list[tuple[float, float, int, int, str]] = []
        self._version: dict[str, int] = {}
        self._order: dict[str, int] = {}  # first successful trial's order: ties go to the first

    def _key(self, config: dict[str, Any]) -> str:
        return config_key(config if self.canonical is None else self.canonical(config))

    def fix(self, config: dict[str, Any], score: float | None) -> None:
        """Count every successful trial of ``config`` (as it runs) with ``score`` instead of its
        own measurement."""
        self._fixed[self._key(config)] = score

    def as_ranked(self, config: dict[str, Any], score: float | None) -> float | None:
        """The score a trial of ``config`` measured at ``score`` counts with (see :meth:`fix`)."""
        return score if score is None else self._fixed.get(self._key(config), score)

    def mean(self, key: str) -> float:
        return statistics.fmean(self.scores[key])

    def attempts(self, key: str) -> int:
        """Trials of ``key``, failed ones included."""
        return len(self.scores.get(key, ())) + self.failures.get(key, 0)

    def standing(self, key: str) -> tuple[float, float]:
        """What ranks a configuration with a successful trial (:attr:`RankedConfig.standing`)."""
        return _standing(self.failures.get(key, 0), len(self.scores[key]), self.mean(key))

    def add(self, config: dict[str, Any], score: float | None, result: TrialResult | None = None):
        """Count one trial (``None`` score: failed), as ranked (:meth:`as_ranked`); the best
        mean score so far (of the configuration ranked first)."""
        score = self.as_ranked(config, score)
        key = self._key(config)
        self.configs.setdefault(key, dict(config))
        if score is None:
            self.failures[key] = self.failures.get(key, 0) + 1
        else:
            self.scores.setdefault(key, []).append(float(score))
            if result is not None:
                self.results.setdefault(key, []).append(result)
        if key in self.scores:  # (a failure of one never measured well changes no standing)
            self._order.setdefault(key, len(self._order))
            version = self._version[key] = self._version.get(key, 0) + 1
            failed_share, mean = self.standing(key)
            heapq.heappush(self._heap, (-failed_share, -mean, self._order[key], version, key))
            while self._heap[0][3] != self._version[self._heap[0][4]]:
                heapq.heappop(self._heap)  # an older standing of a configuration measured since
            self.best_key = self._heap[0][4]
        return self.best_score

    @property
    def best_score(self) -> float | None:
        return None if self.best_key is None else self.mean(self.best_key)

    @property
    def best_measurements(self) -> int:
        return 0 if self.best_key is None else len(self.scores[self.best_key])

    @property
    def best_failures(self) -> int:
        return 0 if self.best_key is None else self.failures.get(self.best_key, 0)

    def best_result(self) -> TrialResult | None:
        """The best configuration's trials pooled into one result."""
        if self.best_key is None or self.best_key not in self.results:
            return None
        return _pooled(self.results[self.best_key])

    def ranked(self) -> list[RankedConfig]:
        """Every configuration with stored successful trials, best first (ties in the order
        they were first measured)."""
        keys = sorted(self.results, key=self.standing, reverse=True)
        return [RankedConfig(self.mean(key), _pooled(self.results[key]), len(self.scores[key]),
                             self.failures.get(key, 0)) for key in keys]


def _pooled(results: list[TrialResult]) -> TrialResult:
    """One configuration's trials as one result: all their measurements together, and each
    numeric metric the mean over the trials (the last trial's alone disagreed with the mean
    score that ranks the configuration: an index's relative_time and size_pct no longer added
    up to its score)."""
    if len(results) == 1:
        return results[0]
    samples = [x for r in results for x in (r.throughputs or [r.throughput_mean])]
    mean, spread = mean_and_spread(samples)
    return dataclasses.replace(
        results[-1],
        throughput_mean=mean,
        throughput_std=spread,
        throughputs=samples,
        wall_seconds=sum(r.wall_seconds for r in results),
        metrics=_mean_metrics(results),
    )


def _mean_metrics(results: list[TrialResult]) -> dict[str, Any]:
    """The trials' metrics with every number that differs between them averaged (a value every
    trial shares, or that is no number, kept as the last trial has it)."""
    pooled = dict(results[-1].metrics)
    for key, last in pooled.items():
        values = [r.metrics.get(key) for r in results]
        numbers = [v for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
        if len(numbers) == len(values) and any(v != last for v in values):
            pooled[key] = statistics.fmean(numbers)
    return pooled
