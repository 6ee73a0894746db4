"""What a tuning run optimises: a knob space, a way to evaluate a configuration, and a score.

* :class:`ConfigObjective` wraps a database backend: score = mean throughput / default throughput.
* :class:`IndexObjective` picks a learned index and its parameters for a key set: score from
  lookup time relative to ``numpy.searchsorted`` and index size relative to the keys (weights
  configurable); ``mode="cost"`` replaces timing with counted search steps (deterministic).
"""

from __future__ import annotations

import dataclasses
import math
import os
import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from learned_systems.config.knobs import KnobError, KnobSpace, config_key
from learned_systems.config.trial import (
    TrialResult,
    WrongAnswerError,
    mean_and_spread,
    programming_errors,
)
from learned_systems.datasets import (
    MAX_KEYS,
    check_dataset,
    dataset_label,
    generate_queries,
    load_keys,
)
from learned_systems.errors import InputError
from learned_systems.index import build_index
from learned_systems.index.kinds import index_kind, kind_knobs
from learned_systems.validation import finite_number, whole_number
from netlists.lru import LruCache


class ConfigObjective:
    """Tune a database backend (SQLite or PostgreSQL); baselines are the defaults and the
    space's rule of thumb."""

    def __init__(self, backend) -> None:
        self.backend = backend
        self.space: KnobSpace = backend.space
        self.system = backend.system
        self.workload = (
            backend.workload.name if hasattr(backend.workload, "name") else str(backend.workload)
        )

    def __repr__(self) -> str:
        return f"ConfigObjective(system={self.system!r}, workload={self.workload!r}, space={self.space.name!r})"

    def baselines(self) -> dict[str, dict[str, Any]]:
        """The configurations measured before any trial: the defaults and the rule of thumb."""
        return {
            "default": self.space.defaults(),
            "rule_of_thumb": self.space.validate(self.space.rule_of_thumb),
        }

    def evaluate(self, config: dict[str, Any]) -> TrialResult:
        """One trial of ``config`` on the backend (its workload measured under it in ``repeats``
        windows, on a fresh copy of the database); a failed trial (a server that did not start,
        a workload error) is a result with ``ok`` False and its error, not an exception (a bug of
        the code is raised)."""
        return self.backend.run_trial(config)

    def score(self, result: TrialResult, reference: TrialResult | None) -> float | None:
        """Throughput relative to the defaults; ``None`` for a failed trial, and for any trial
        while the defaults have no measurement to be relative to (a raw ops/s figure would
        pass for a ratio thousands of times the defaults).

        The defaults are measured once per run and seed, and tuners of that run share it, so
        their scores compare within it. Across seeds or runs the ratio carries that one
        measurement's noise: the fsync-bound defaults of a durable SQLite workload varied up to
        5x between identical trials on this VM's disk. Compare across runs by the re-measured
        ratio to the rule of thumb, interleaved with it (config_tuning_bench.py does), not by
        these scores."""
        if not result.ok:
            return None
        if reference is None or not reference.ok or reference.throughput_mean <= 0:
            return None
        return result.throughput_mean / reference.throughput_mean


#: The index kinds the default space chooses among (learned_systems.index.kinds registers them).
BUILTIN_INDEX_KINDS = ("pgm", "rmi")


def index_space(kinds: Sequence[str] = BUILTIN_INDEX_KINDS) -> KnobSpace:
    """Index parameters over registered ``kinds`` (:func:`~learned_systems.index.register_index_kind`;
    default the built-in PGM and RMI): ``kind``, then each kind's own knobs, applying only when
    it is chosen. Every value is safe, so there is only one space. No rule of thumb beside the
    defaults: the one a user would apply first (a PGM index at epsilon 64, the PGM-index
    library's own default) is the defaults, so it would be measured twice.

    Raises:
        ValueError: no kind, an unregistered one, or two kinds with a knob of one name."""
    return KnobSpace.build("index", kind_knobs(kinds), allow_unsafe=False, guarantee="safe")


#: The default space's knobs (kind, epsilon, epsilon_recursive, num_models, root).
INDEX_KNOBS = index_space().knobs


def counted_steps(index: Any, queries: np.ndarray) -> float:
    """Deterministic cost model: mean binary-search steps per lookup over all levels, as the
    lookups run them: the index's own ``counted_steps(queries)`` (the built-in kinds' say how
    they count).

    Raises:
        TypeError: the index has no such method (a kind of one's own: implement it, or tune in
            mode "measured")."""
    count = getattr(index, "counted_steps", None)
    if not callable(count):
        raise TypeError(_NO_COUNTED_STEPS.format(type(index).__qualname__))
    return float(count(queries))


_NO_COUNTED_STEPS = (
    "mode='cost' scores an index by its counted_steps(queries) method (the mean binary-search "
    "steps per lookup its lookups run), which {} lacks: implement it, or use mode='measured'"
)


def check_index_space(space: KnobSpace, mode: str) -> None:
    """Refuse an index space no trial could build from: without a categorical ``kind`` knob,
    choosing an unregistered kind, or (``mode="cost"``) a kind whose index class cannot count
    its search steps (found before any measurement, not at the first such trial).

    Raises:
        ValueError: naming what is missing.
        TypeError: ``space`` is no KnobSpace."""
    if not isinstance(space, KnobSpace):
        raise TypeError(f"an index space is a learned_systems.config.knobs.KnobSpace, got {type(space).__name__}")
    kind = next((k for k in space.knobs if k.name == "kind"), None)
    if kind is None or not kind.categorical:
        raise InputError(
            "an index space needs a knob 'kind' choosing among registered index kinds "
            "(learned_systems.objectives.index_space(kinds) builds one)"
        )
    for name in kind.choices:
        build = index_kind(name).build
        if mode == "cost" and isinstance(build, type) and not callable(getattr(build, "counted_steps", None)):
            raise InputError(f"index kind {name!r}: " + _NO_COUNTED_STEPS.format(build.__qualname__))


def check_index_settings(
    datasets: Sequence[str | os.PathLike[str]],
    keys: int,
    queries: int,
    mode: str,
    time_weight: float,
    size_weight: float,
    seed: int,
) -> None:
    """Refuse index-tuning settings under which every trial would fail or score NaN.

    Raises:
        ValueError: naming the first bad setting and what is allowed.
    """
    for dataset in datasets:
        check_dataset(dataset)
    whole_number("keys", keys, 1, MAX_KEYS)
    whole_number("queries", queries, 1, MAX_KEYS)
    if mode not in ("measured", "cost"):
        counted = " (placer tune's --index-cost counted is mode='cost')" if mode == "counted" else ""
        raise InputError(f"mode must be 'measured' or 'cost'{counted}, got {mode!r}")
    finite_number("time_weight", time_weight, 0.0)
    finite_number("size_weight", size_weight, 0.0)
    whole_number("seed", seed, 0)


def index_parameters(config: dict[str, Any], space: KnobSpace | None = None) -> tuple[str, dict[str, Any]]:
    """The index kind and the :func:`~learned_systems.index.build_index` parameters of a
    configuration of ``space`` (default :func:`index_space`), validated first (knobs not given
    take their defaults): the knobs that apply when ``kind`` is the one chosen (those of the
    other kinds dropped). A partial configuration read a bare ``KeyError: 'epsilon'`` and an
    unknown kind came back as it was, with no parameters.

    Raises:
        KnobError: an unknown knob or kind, or a value outside its knob's range.
    """
    space = index_space() if space is None else space
    if not isinstance(config, Mapping):  # (dict(None) read a bare TypeError)
        raise KnobError(f"an index configuration is a dict of knob values, got {type(config).__name__}")
    return validated_index_parameters(space.validate(dict(config)), space)


def validated_index_parameters(full: Mapping[str, Any], space: KnobSpace) -> tuple[str, dict[str, Any]]:
    """:func:`index_parameters` of a configuration ``space.validate`` has already given (every
    knob present and in range): for callers that validated it themselves, not validated again."""
    kind = full["kind"]
    return kind, {k.name: full[k.name] for k in space.knobs if k.applies_when == ("kind", kind)}


class IndexObjective:
    """Choose an index for one key set. ``score = -(time_weight * relative_time +
    size_weight * 100 * index_bytes / key_bytes)``; relative_time is measured lookup time over
    ``numpy.searchsorted`` ("measured": the median over ``repeats`` of the index's time over
    searchsorted's, the two timed back to back each round, so that a drifting machine moves
    both; several timing processes sharing a core skew it, see :mod:`envs.index_tuning`) or
    counted steps over ``log2(n) + 1``, the steps of a full binary search ("cost"; its
    conventions differ from the measured cost: PGM's small top-level search counts in full and
    RMI's verification not at all, so the two modes can rank PGM and RMI differently).

    A result's throughput figures are per-repeat speeds (searchsorted's time over the
    index's): ``throughput_mean`` is their mean, as the databases report a mean; the score's
    ``relative_time`` (in ``metrics``) is the median of the time ratios, so one slow repeat
    moves the score less, and ``1 / relative_time`` differs from ``throughput_mean`` by the
    repeats' spread.

    ``space`` (default :func:`index_space`, PGM and RMI): the kinds and parameters searched,
    e.g. ``index_space(("pgm", "rmi", "mine"))`` with a kind of one's own registered
    (:func:`~learned_systems.index.register_index_kind`); checked by
    :func:`check_index_space` before any key is loaded.

    ``mode="cost"`` is ``placer tune --index-cost counted``. ``seed`` draws the keys of a
    generated dataset and the queries (seed + 1); ``placer tune --seed S`` passes S both here
    and to the tuner (:func:`~learned_systems.tuning.run_tuning`'s ``seed``): from Python,
    ``IndexObjective(..., seed=S)`` with ``run_tuning(objective, tuner, trials, S, ...)``
    repeats its run. A configuration (a tuning run's ``best_config``) holds every kind's
    knobs; :func:`index_parameters` gives the chosen kind and its ``build_index`` parameters."""

    system = "index"

    def __init__(
        self,
        dataset: str | os.PathLike[str] = "lognormal",
        keys: int = 1_000_000,
        queries: int = 100_000,
        seed: int = 0,
        mode: str = "measured",
        time_weight: float = 1.0,
        size_weight: float = 1.0,
        repeats: int = 3,
        space: KnobSpace | None = None,
    ) -> None:
        check_index_settings([dataset], keys, queries, mode, time_weight, size_weight, seed)
        whole_number("repeats", repeats, 1)
        space = index_space() if space is None else space
        check_index_space(space, mode)
        self.space = space
        self.dataset = dataset
        self.workload = dataset_label(dataset)
        self.mode = mode
        self.time_weight = float(time_weight)
        self.size_weight = float(size_weight)
        self.repeats = int(repeats)
        self.seed = int(seed)
        self.keys = load_keys(dataset, keys, seed=seed)
        self.queries = generate_queries(self.keys, queries, seed=seed + 1)
        self.expected = np.searchsorted(self.keys, self.queries)

    def __repr__(self) -> str:
        kinds = next((k.choices for k in self.space.knobs if k.name == "kind"), ())
        return (f"IndexObjective(dataset={self.workload!r}, keys={self.keys.size}, queries={self.queries.size}, "
                f"seed={self.seed}, mode={self.mode!r}, time_weight={self.time_weight:g}, "
                f"size_weight={self.size_weight:g}, repeats={self.repeats}, kinds={list(kinds)})")

    def baselines(self) -> dict[str, dict[str, Any]]:
        """The defaults only (see :func:`index_space`)."""
        return {"default": self.space.defaults()}

    def _relative_times(self, index: Any) -> list[float]:
        """The index's lookup time over searchsorted's, one ratio per repeat, each timed back
        to back (a baseline timed once at the start put a drift of 10 % on every ratio after)."""
        ratios = []
        for _ in range(self.repeats):
            started = time.perf_counter()
            np.searchsorted(self.keys, self.queries)
            baseline = time.perf_counter() - started
            started = time.perf_counter()
            index.lookup(self.queries)
            ratios.append((time.perf_counter() - started) / max(baseline, 1e-12))
        return ratios

    def evaluate(self, config: dict[str, Any]) -> TrialResult:
        """Build the index ``config`` names (knobs not given take their defaults) over the keys,
        check its lookups against ``numpy.searchsorted`` and measure it (see the class's
        docstring): a result whose ``metrics`` hold ``relative_time``, ``size_pct``,
        ``max_error``, ``size_bytes``, ``build_seconds`` and ``mode``. A build that fails (too
        large for memory, parameters the kind refuses) is a result with ``ok`` False; a wrong
        lookup or another bug of the code is raised.

        Raises:
            KnobError: a knob the space does not have, or a value it does not take."""
        full = self.space.validate(config)
        started = time.perf_counter()
        try:
            kind, params = validated_index_parameters(full, self.space)
            index = build_index(kind, self.keys, **params)
            found = index.lookup(self.queries)
            if not np.array_equal(found, self.expected):
                same_shape = np.shape(found) == self.expected.shape
                wrong = np.count_nonzero(np.asarray(found) != self.expected) if same_shape else "some"
                raise WrongAnswerError(
                    f"the {kind} index {params} returned wrong positions for {wrong} of "
                    f"{self.expected.size} lookups on {self.workload} (a bug in the index, not "
                    "a property of the configuration)"
                )
            if self.mode == "cost":
                steps = counted_steps(index, self.queries)
                relative_time = steps / max(math.log2(max(self.keys.size, 2)) + 1, 1.0)
                samples = [relative_time]
            else:
                samples = self._relative_times(index)
                relative_time = float(np.median(samples))
        except programming_errors():
            raise  # a bug of ours (a wrong lookup included), not the configuration's failure
        except Exception as error:  # e.g. MemoryError for a huge RMI, a ValueError of a build
            return TrialResult.failed(
                self.system,
                self.workload,
                self.space.name,
                full,
                error,
                time.perf_counter() - started,
            )
        # (of the keys as searched, 8 bytes each: a *_uint32 SOSD file's keys are widened on
        # reading, so its share of the file's own 4-byte keys is twice this)
        size_pct = 100.0 * index.size_bytes / max(self.keys.nbytes, 1)
        per_second = [1.0 / max(s, 1e-12) for s in samples]  # lookups per searchsorted-time
        mean, spread = mean_and_spread(per_second)  # the sample spread, as the databases report
        return TrialResult(
            self.system,
            self.workload,
            self.space.name,
            full,
            ok=True,
            throughput_mean=mean,
            throughput_std=spread,
            throughputs=per_second,
            # (counted: binary search's steps over the index's, nothing timed)
            unit="x searchsorted speed" if self.mode != "cost" else "x fewer search steps (counted)",
            wall_seconds=time.perf_counter() - started,
            metrics={
                "relative_time": relative_time,
                "size_pct": size_pct,
                "max_error": index.max_error,
                "size_bytes": index.size_bytes,
                "build_seconds": index.build_seconds,
                "mode": self.mode,
            },
        )

    def score(self, result: TrialResult, reference: TrialResult | None = None) -> float | None:
        """``-(time_weight * relative_time + size_weight * size_pct)``, higher is better (about
        -1 for a good PGM index); None for a failed trial. ``reference`` is unused: an index's
        score is relative to ``numpy.searchsorted`` and the key bytes, not to the defaults."""
        if not result.ok:
            return None
        return -(
            self.time_weight * result.metrics["relative_time"]
            + self.size_weight * result.metrics["size_pct"]
        )


#: Results a :class:`MemoizedObjective` keeps by default (an index trial's result is ~1 kB).
MOST_MEMOIZED = 100_000


class MemoizedObjective:
    """Wraps an objective so a configuration is measured once and its result reused (a failed
    measurement is not kept: the next request measures again).

    Real measurements are noisy; reusing the first measurement makes equal configurations give
    equal rewards (what Gymnasium's determinism check and most tuners expect) and saves trials.
    Configurations are equal when they differ only in knobs that do not apply
    (:meth:`KnobSpace.effective`); the result returned names the configuration asked for.
    """

    def __init__(self, objective, most: int = MOST_MEMOIZED) -> None:
        self.inner = objective
        self.space = objective.space
        self.system = objective.system
        self.workload = objective.workload
        # (a long PPO run over continuous actions added one result per step for good)
        self._results: LruCache[str, TrialResult] = LruCache(whole_number("most", most, 1))

    @property
    def most(self) -> int:
        """The most results kept, the least recently asked for dropped first; one dropped is
        measured again if asked."""
        return self._results.most

    def __getattr__(self, name: str):
        # only reached for names the wrapper lacks; while copy or pickle rebuild it, 'inner'
        # itself is missing, and looking it up through here would recurse without end
        if name == "inner" or (name.startswith("__") and name.endswith("__")):
            raise AttributeError(name)
        return getattr(self.inner, name)

    def baselines(self) -> dict[str, dict[str, Any]]:
        """The wrapped objective's baselines."""
        return self.inner.baselines()

    def evaluate(self, config: dict[str, Any]) -> TrialResult:
        """The wrapped objective's result for ``config``, measured at its first request (and
        again while it fails), then reused under the name of the configuration asked for."""
        full = self.space.validate(config)
        key = config_key(self.space.effective(full))
        result = self._results.get(key)
        if result is None:
            result = self.inner.evaluate(full)
            if not result.ok:  # a failure may be passing (a server slow to start): not kept
                return result
            self._results.put(key, result)
        return dataclasses.replace(result, config=full)

    def score(self, result: TrialResult, reference: TrialResult | None = None) -> float | None:
        """The wrapped objective's score."""
        return self.inner.score(result, reference)
