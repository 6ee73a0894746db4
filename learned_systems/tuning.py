"""The tuning loop: baselines first, then ``trials`` ask/evaluate/tell rounds, each trial stored
the moment it finishes (with the tuner's state, for a tuner that keeps one); a restarted run
restores or replays what is stored and continues.

A tuner may measure one configuration more than once; configurations are ranked by the mean
score of their trials, so one lucky measurement does not stand for a configuration measured
three times."""

from __future__ import annotations

import functools
import math
import os
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

from learned_systems.config.trial import TrialResult
from learned_systems.errors import InputError, Unavailable, error_kind
from learned_systems.ranking import ConfigRanking, RankedConfig
from learned_systems.results import ResultsStore
from learned_systems.tuners import Tuner, make_tuner
from learned_systems.tuners.base import StoredTrial
from learned_systems.tuners.registry import (
    check_factory_signature,
    check_tuner,
    check_tuner_name,
    tuner_factory,
)
from learned_systems.validation import MAX_SEED, exact_whole_number


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
    #: every configuration measured successfully, best first
    ranked: list[RankedConfig] = field(default_factory=list)
    best_failures: int = 0  # failed trials of the best configuration
    #: each distinct cause of the ``failed`` trials (:func:`failure_cause`, as
    #: :func:`count_failure_causes` groups them) -> its trials
    failure_causes: dict[str, int] = field(default_factory=dict)


#: Measurements of the defaults tried before a run gives up (every score is relative to them).
REFERENCE_ATTEMPTS = 3


def finite_or_none(score: float | None) -> float | None:
    """A score a tuner and the ranking can use: a NaN or infinite one (a custom objective's
    division by zero) counts as a failed trial, like None."""
    return score if score is not None and math.isfinite(score) else None


#: Longest cause :func:`failure_causes_text` shows, and most causes it names.
CAUSE_WIDTH = 120
MOST_CAUSES = 4


def failure_cause(result: TrialResult) -> str:
    """Why a trial counts as failed, in one line: its error's first line ("OperationalError:
    database or disk is full"), or "no finite score" for a measured trial the objective gave
    no finite score."""
    if result.ok:
        return "no finite score"
    lines = str(result.error or "").strip().splitlines()
    return lines[0].strip() if lines else "failed without a message"


#: A PostgreSQL log line's prefix (its default ``log_line_prefix``, "%m [%p] "): the time and
#: the server's pid, which differ in every trial's "server did not start: ..." line.
_LOG_LINE_PREFIX = re.compile(r"\b\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)? \S+ \[\d+\]")


@functools.cache
def _scratch_path() -> re.Pattern[str]:
    """A path into one of the backends' scratch folders (``sqlite-trial-k2j3h_9x/trial.db``):
    its folder's name (the prefix, then tempfile's random letters), then the path inside it."""
    from learned_systems.config.postgres_server import SCRATCH_PREFIX, SOCKET_PREFIX
    from learned_systems.config.sqlite_backend import BUILD_PREFIX, TEMPLATES_PREFIX, TRIAL_PREFIX

    prefixes = (SCRATCH_PREFIX, SOCKET_PREFIX, TEMPLATES_PREFIX, TRIAL_PREFIX, BUILD_PREFIX)
    names = "|".join(re.escape(prefix) for prefix in prefixes)
    return re.compile(rf"(?<![\w.-])({names})[A-Za-z0-9_]+(/[^\s'\",:;()\[\]]*)?")


def _generic_scratch_path(match: re.Match[str]) -> str:
    """A scratch path with what differs from trial to trial as ``*``: the folder's random name,
    the names tempfile gave folders inside it (PostgreSQL's ``trial-XXXXXXXX``) and runs of
    digits or hex (pids, ports, WAL segments)."""
    inside = re.sub(r"(?<=-)[a-z0-9_]{8}(?=/|$)", "*", match.group(2) or "")
    inside = re.sub(r"\d{3,}|[0-9a-f]{8,}", "*", inside)
    return f"{match.group(1)}*{inside}"


def failure_group(cause: str) -> str:
    """``cause`` as failed trials are grouped by it: the paths into the backends' scratch
    folders and a PostgreSQL log line's time and pid made generic (``*``), so that one cause
    met in every trial's own folder counts as one, not once per folder."""
    return _LOG_LINE_PREFIX.sub("* [*]", _scratch_path().sub(_generic_scratch_path, cause))


def count_failure_causes(causes: Iterable[str]) -> dict[str, int]:
    """Each distinct cause (:func:`failure_group`) -> how many of ``causes`` it is, named by
    the first one's own text (a real message, not the generic one), in the order first met."""
    counts: Counter[str] = Counter()
    shown: dict[str, str] = {}
    for cause in causes:
        group = failure_group(cause)
        shown.setdefault(group, cause)
        counts[group] += 1
    return {shown[group]: count for group, count in counts.items()}


def failure_causes_text(causes: Mapping[str, int], most: int = MOST_CAUSES, width: int = CAUSE_WIDTH) -> str:
    """``causes`` (cause -> trials) as one line, the most frequent first: "5 x OperationalError:
    database or disk is full; 2 x RuntimeError: ..."; each cause cut to ``width`` characters,
    and past the ``most`` first, the rest counted ("; 3 x 2 other causes")."""
    ranked = sorted(causes.items(), key=lambda item: (-item[1], item[0]))
    parts = [f"{count} x {cause if len(cause) <= width else cause[: width - 3] + '...'}"
             for cause, count in ranked[:most]]
    rest = ranked[most:]
    if rest:
        others = "1 other cause" if len(rest) == 1 else f"{len(rest)} other causes"
        parts.append(f"{sum(count for _, count in rest)} x {others}")
    return "; ".join(parts)


def fixed_to_baselines(
    ranking: ConfigRanking, configs: dict[str, dict[str, Any]], scores: Mapping[str, float | None]
) -> ConfigRanking:
    """``ranking`` with each measured baseline's configuration fixed at its own score: a trial
    that runs as the defaults or the rule of thumb do is no one's find and ranks with that
    baseline's measurement (a luckier re-measurement credited the tuner with it, and
    best_config.json then named the baseline beside a summary naming the tuner). The defaults
    are fixed last: where the rule of thumb runs as the defaults, their own score holds."""
    for role in sorted(configs, key=lambda r: r == "default"):
        if scores.get(role) is not None:
            ranking.fix(configs[role], scores[role])
    return ranking


def check_run_arguments(tuner: str | Tuner, trials: int, seed: int) -> str:
    """Refuse a tuner, trial count or seed no run can take, before any measurement is made
    (an unknown tuner was found only after the baselines had been measured and stored); return
    the name the tuner's trials are stored under: a registered tuner's name, or an instance's
    ``name`` attribute."""
    if isinstance(tuner, str):
        factory = tuner_factory(tuner)  # (ValueError listing the registered names)
        check_factory_signature(tuner, factory)  # (a plugin's wrong one failed after the baselines)
        name = tuner
    else:
        check_tuner(tuner, "the tuner given")
        if not isinstance(getattr(tuner, "name", None), str):
            raise TypeError(
                f"the tuner given ({type(tuner).__name__}) has no name: give it a str attribute "
                "'name', which its trials are stored (and resumed) under"
            )
        name = check_tuner_name(tuner.name)
    exact_whole_number("trials", trials, 1)
    exact_whole_number("seed", seed, 0, MAX_SEED)
    return name


#: What :func:`run_tuning` calls on an objective.
OBJECTIVE_METHODS = ("baselines", "evaluate", "score")


def check_objective(objective: Any) -> None:
    """Refuse what is no objective (InputError naming what to pass instead): a database backend
    given as it is (its ``ConfigObjective`` wrapper scores it), an objective class rather than
    an instance, or an object without a ``space`` and the objective's methods."""
    if isinstance(objective, type):
        raise InputError(
            f"the objective is the class {objective.__name__} itself: pass an instance, e.g. "
            f"{objective.__name__}(...)"
        )
    missing = [name for name in OBJECTIVE_METHODS if not callable(getattr(objective, name, None))]
    if not missing and getattr(objective, "space", None) is not None:
        return
    if callable(getattr(objective, "run_trial", None)):
        raise InputError(
            f"the objective is a backend ({type(objective).__name__}): pass "
            "learned_systems.objectives.ConfigObjective(backend), which scores its trials against the defaults"
        )
    lacks = ", ".join([*missing, *(["space"] if getattr(objective, "space", None) is None else [])])
    raise InputError(
        f"the objective ({type(objective).__name__}) is no objective: it lacks {lacks} (an objective has a "
        "knob space and baselines(), evaluate(config) and score(result, reference): see "
        "learned_systems.objectives.IndexObjective and ConfigObjective)"
    )


def check_run_name(run: object) -> str:
    """``run`` if it is a non-empty str (None failed in SQLite after the defaults were measured)."""
    if not isinstance(run, str) or not run.strip():
        raise InputError(f"run must be a non-empty name (a str its trials are stored and resumed under), got {run!r}")
    return run


def check_stored_run(store: ResultsStore, run: str, objective: Any) -> None:
    """Refuse resuming ``run`` when its stored rows were measured on another system or workload
    than ``objective``'s (their baselines and trials were taken as this objective's: a uniform
    key set's scores ranked beside lognormal ones), or, where the run's settings are stored (a
    run of ``placer tune``), under other settings (key count, repeats, durations, ...)."""
    system, workload = getattr(objective, "system", None), getattr(objective, "workload", None)
    for stored_system, stored_workload in store.measured_as(run):
        if (system is not None and stored_system != str(system)) or (
            workload is not None and stored_workload != str(workload)
        ):
            raise InputError(
                f"{store.path} holds run {run!r} measured on {stored_system} {stored_workload!r}, not on this "
                f"objective's {system} {workload!r}: resuming it would rank its stored baselines and trials "
                "as this objective's; name another run (or another results file)"
            )
    from learned_systems.run_settings import UNCHOSEN_SETTINGS, objective_settings, settings_before

    found = objective_settings(objective)
    if found is not None:
        settings, ignored = found
        store.check_settings(run, settings, absent=settings_before(), ignore=ignored, fixed=UNCHOSEN_SETTINGS)


def run_tuning(
    objective: Any,
    tuner: str | Tuner,
    trials: int,
    seed: int,
    store: ResultsStore | str | os.PathLike[str],
    run: str,
    on_trial: Callable[[int, TrialResult, float | None], None] | None = None,
) -> TuningSummary:
    """Tune ``objective`` with ``tuner`` for ``trials`` trials, storing into ``store``.

    ``objective``: an :class:`~learned_systems.objectives.IndexObjective`, a
    :class:`~learned_systems.objectives.ConfigObjective` (a backend wrapped: ``ConfigObjective(
    make_backend("sqlite", "ycsb-a"))``) or an object of one's own with their ``space``,
    ``baselines()``, ``evaluate(config)`` and ``score(result, reference)``.

    ``tuner``: a registered tuner's name (:func:`~learned_systems.tuners.available_tuners`),
    made here over ``objective.space`` with ``seed``; or a tuner instance, used as it is (its
    own seed), its trials stored and resumed under its ``name``. Either way the run closes it
    (``close()``, where it has one) when it ends.

    ``seed`` seeds the tuner only: an ``IndexObjective`` draws its keys and queries from its
    own ``seed`` (``placer tune --seed S`` sets both: ``IndexObjective(..., seed=S)`` and
    ``run_tuning(..., seed=S, ...)`` repeat its run from Python).

    ``store``: an open :class:`~learned_systems.results.ResultsStore`, or the path of one
    (opened here and closed at the end). ``run`` names the run in it: a run name stored
    already resumes that run (the baselines and trials of this tuner and seed are taken back,
    not measured again, and the run continues to ``trials``), so the objective must be the one
    it was measured on: stored rows of another system or workload, or (for a run ``placer
    tune`` made, which records them) other settings, are refused; a new objective needs a new
    run name.

    ``on_trial(index, result, score)`` follows each trial with its score as ranked: a trial that
    runs as the defaults do counts with the defaults' own score (the store keeps its measured
    one).

    Raises:
        ValueError, TypeError: an unknown tuner, a tuner instance without the tuner's methods or
            a name, trials or seed no run can take, no objective (a backend not wrapped in
            ``ConfigObjective``), an empty run name, or a stored run of another objective
            (before any measurement); a stored trial that cannot be scored again (edited or
            damaged, naming it).
        RuntimeError: the defaults could not be measured (every score is relative to them;
            the trials done are kept).
    """
    tuner_name = check_run_arguments(tuner, trials, seed)
    check_run_name(run)
    check_objective(objective)
    if isinstance(store, str | os.PathLike):
        with ResultsStore(os.fspath(store)) as opened:
            return run_tuning(objective, tuner, trials, seed, opened, run, on_trial)
    if not all(callable(getattr(store, name, None)) for name in ("rows", "add", "measured_as")):
        raise InputError(
            f"store must be a learned_systems.results.ResultsStore or the path of one, got {type(store).__name__}"
        )
    session = _Session(objective, tuner, tuner_name, trials, seed, store, run, on_trial)
    try:
        session.advance(trials)
    finally:
        session.close()
    return session.summary()


class _Session:
    """One tuner and seed's run of :func:`run_tuning`, taken a turn at a time: made, it has the
    baselines (measured or taken back from ``store``) and a tuner that has restored or replayed
    the stored trials; :meth:`advance` runs the trials up to an index, :meth:`summary` sums them
    up, :meth:`close` closes the tuner. :func:`tune_in_turns` keeps one per run from its first
    turn to its last: a tuner made again each turn restored or replayed every trial before the
    turn's (the RL agent relearning them all: ~25,000 replayed steps for 500 trials in turns of
    5, whose ``placer tune`` of three tuners took 110 s of CPU against one go's 43), and a tuner
    of one's own whose ``replay`` does not repeat its search proposed its first trials again
    each turn. ``run_tuning`` checks the arguments first."""

    def __init__(
        self, objective: Any, tuner: str | Tuner, tuner_name: str, trials: int, seed: int, store: ResultsStore,
        run: str, on_trial: Callable[[int, TrialResult, float | None], None] | None,
    ) -> None:
        self.objective, self.tuner_name, self.trials, self.seed = objective, tuner_name, trials, seed
        self.store, self.run, self.on_trial = store, run, on_trial
        self._closed = False
        self.curve: list[float | None] = []
        self.causes: list[str] = []  # (failure_cause of each failed trial)
        if not isinstance(tuner, str):  # a caller's tuner: closed however the set-up ends (one whose
            self.tuner = tuner  # run stopped at its defaults or at a stored run's check was left open)
        try:
            check_stored_run(store, run, objective)
            self.baselines = self._baselines()
            self.reference = self.baselines.get("default")
            self.baseline_scores = {
                role: finite_or_none(objective.score(result, self.reference))
                for role, result in self.baselines.items()
            }
            for role, result in self.baselines.items():  # their rows get the scores the run reports (they
                store.add(run, "baseline", seed, 0, role, result, self.baseline_scores[role])  # read NULL)
            if isinstance(tuner, str):
                self.tuner = make_tuner(tuner_name, objective.space, seed, trials)
            for role, result in self.baselines.items():
                self.tuner.observe(result.config, self.baseline_scores[role])
            self.ranking = fixed_to_baselines(
                ConfigRanking(objective.space.effective), {r: b.config for r, b in self.baselines.items()},
                self.baseline_scores,
            )
            self.previous = store.rows(run=run, tuner=tuner_name, seed=seed, role="trial")[:trials]
            self.checkpoint = getattr(self.tuner, "checkpoint", None)  # (a tuner that stores its state per trial)
            self._take_back_stored()
        except BaseException:
            self.close()
            raise

    def _baselines(self) -> dict[str, TrialResult]:
        """Each baseline's result: stored, else measured and stored (the defaults up to
        :data:`REFERENCE_ATTEMPTS` times: every score is relative to them)."""
        objective, store, run, seed = self.objective, self.store, self.run, self.seed
        baselines: dict[str, TrialResult] = {}
        for role, config in objective.baselines().items():
            # one row per role (each measurement replaces the one before)
            rows = store.rows(run=run, tuner="baseline", seed=seed, role=role)
            stored = ResultsStore.to_result(rows[0]) if rows else None
            if stored is not None and (stored.ok or role != "default"):
                baselines[role] = stored
                continue
            # every score is relative to the defaults: a failed measurement of them is tried again
            for _ in range(max(REFERENCE_ATTEMPTS - (stored is not None), 1)):
                baselines[role] = objective.evaluate(config)
                store.add(run, "baseline", seed, 0, role, baselines[role], None)
                if baselines[role].ok or role != "default":
                    break
            if role == "default" and not baselines[role].ok:
                raise Unavailable(
                    f"the defaults could not be measured ({baselines[role].error}) after "
                    f"{REFERENCE_ATTEMPTS} attempts: every score is relative to them, so the run "
                    "stops here (the trials done are kept; rerun to resume once the cause is fixed: "
                    "a server that cannot start or a workload that cannot load fails every attempt)"
                )
        return baselines

    def _take_back_stored(self) -> None:
        """Hand the stored trials back to the tuner: restored from their states, else replayed."""
        stored_scores = []
        for row in self.previous:
            try:
                self.objective.space.validate(row["config"])  # (an unknown knob named the user's input)
                stored_scores.append(finite_or_none(self.objective.score(ResultsStore.to_result(row),
                                                                         self.reference)))  # fmt: skip
            except (KeyError, TypeError, ValueError) as error:  # a row edited or damaged
                raise InputError(
                    f"{self.store.path}: stored trial {row['trial']} of {self.tuner_name} seed {self.seed} "
                    f"cannot be scored again ({error_kind(error)}: {error})"
                ) from None
        if not _restored(self.tuner, self.store, self.run, self.tuner_name, self.seed, self.previous, stored_scores):
            for row, stored_score in zip(self.previous, stored_scores, strict=True):
                self.tuner.replay(row["config"], stored_score)

    def advance(self, upto: int) -> None:
        """Run the trials from the next one up to index ``upto`` (at most ``trials``): stored
        ones taken back, the others asked, measured and stored."""
        objective, store = self.objective, self.store
        for index in range(len(self.curve), min(upto, self.trials)):
            if index < len(self.previous):
                # scored again against this run's defaults, not taken from the store: a store
                # written while the defaults failed holds raw throughput as scores
                result = ResultsStore.to_result(self.previous[index])
                score = finite_or_none(objective.score(result, self.reference))
            else:
                config = self.tuner.ask()
                result = objective.evaluate(config)
                score = finite_or_none(objective.score(result, self.reference))
                state = self.checkpoint() if self.checkpoint is not None else None
                store.add(self.run, self.tuner_name, self.seed, index, "trial", result, score, state)
                self.tuner.tell(config, score)
            if score is None:
                self.causes.append(failure_cause(result))
            self.curve.append(self.ranking.add(result.config, score, result))
            if self.on_trial is not None:
                self.on_trial(index, result, self.ranking.as_ranked(result.config, score))

    def close(self) -> None:
        """Close the tuner (``close()``, where it has one), once."""
        if self._closed:
            return
        self._closed = True
        close = getattr(getattr(self, "tuner", None), "close", None)  # (none made yet: nothing to close)
        if close is not None:
            close()

    def summary(self) -> TuningSummary:
        """The run so far: its baselines, best and best-so-far curve."""
        best = self.ranking.best_result()
        return TuningSummary(
            self.tuner_name,
            self.seed,
            self.baselines,
            self.baseline_scores,
            best.config if best else None,
            self.ranking.best_score,
            best,
            list(self.curve),
            len(self.causes),
            len(self.previous),
            self.ranking.best_measurements,
            self.ranking.ranked(),
            self.ranking.best_failures,
            count_failure_causes(self.causes),
        )


def _restored(
    tuner: Tuner, store: ResultsStore, run: str, tuner_name: str, seed: int, previous: list[dict[str, Any]],
    scores: list[float | None],
) -> bool:
    """Whether ``tuner`` took the ``previous`` trials back from the states stored beside them
    (a tuner without states, or states that cannot serve: False, and the caller replays)."""
    restore = getattr(tuner, "restore", None)
    if restore is None or not previous:
        return False
    states = store.tuner_states(run, tuner_name, seed)
    trials = [StoredTrial(row["config"], score, states.get(int(row["trial"])))
              for row, score in zip(previous, scores, strict=True)]
    return bool(restore(trials))


#: Trials each tuner and seed runs in its turn when several share a machine, unless told otherwise.
DEFAULT_TURN = 5


def tune_in_turns(
    objective: Any,
    runs: Sequence[tuple[str, int]],
    trials: int,
    turn: int,
    store: ResultsStore,
    run: str,
    on_turn: Callable[[str, int, int], None] | None = None,
    on_trial: Callable[[str, int, int, TrialResult, float | None], None] | None = None,
) -> dict[tuple[str, int], TuningSummary]:
    """Run every (tuner name, seed) of ``runs`` to ``trials`` trials, ``turn`` trials at a time
    in rotating order (each round starts one run later), so that a machine whose speed drifts
    (other jobs starting or ending) slows every tuner alike: one tuner's 50 trials after
    another's put a whole tuner in a slow hour (a replication on a loaded VM measured Optuna's
    trials at a fifth of random search's throughput). Each run's tuner is made for all
    ``trials`` (Optuna times its closing re-measurements by them) at its first turn, taking
    back what ``store`` holds of it, and kept to its last turn, so every run proposes what one
    go would (a tuner made again each turn restored or replayed every earlier trial: the RL
    agent relearned them all, a cost growing with the square of ``trials``). ``turn`` 0 (or a
    single run, which has no one to take turns with): each run in one go, one after another.

    ``on_turn(tuner, seed, upto)`` is called as a turn starts (it runs the trials up to
    ``upto``); ``on_trial(tuner, seed, index, result, score)`` follows every trial once, as
    :func:`run_tuning`'s ``on_trial`` does (a stored trial taken back included, in its turn).
    Returns each run's summary after its last turn, ``resumed`` counting the trials stored
    before this call. Each run's tuner is closed after its last turn, and however the call ends.
    """
    if not runs:
        raise InputError("runs must name at least one (tuner name, seed)")
    for name, seed in runs:  # every run refused before the first measurement, not at its turn
        if not isinstance(name, str):
            raise TypeError(f"runs take registered tuners' names (each run makes its tuner), got {name!r}")
        check_run_arguments(name, trials, seed)
    twice = [pair for pair, count in Counter(tuple(pair) for pair in runs).items() if count > 1]
    if twice:  # (two tuners of one name and seed would write over each other's trials)
        raise InputError(f"runs name {twice[0]!r} more than once: each (tuner name, seed) runs once")
    exact_whole_number("turn", turn, 0)
    check_run_name(run)
    check_objective(objective)
    step = trials if turn == 0 or len(runs) == 1 else turn
    sessions: dict[tuple[str, int], _Session] = {}
    with ExitStack() as closing:  # (every tuner made so far, however the call ends)
        for round_index, upto in enumerate(range(step, trials + step, step)):
            upto = min(upto, trials)
            shift = round_index % len(runs)
            for name, seed in [*runs[shift:], *runs[:shift]]:
                if on_turn is not None:
                    on_turn(name, seed, upto)
                session = sessions.get((name, seed))
                if session is None:
                    follow = None if on_trial is None else functools.partial(on_trial, name, seed)
                    session = sessions[(name, seed)] = _Session(objective, name, name, trials, seed, store, run,
                                                                follow)  # fmt: skip
                    closing.callback(session.close)
                session.advance(upto)
                if upto == trials:  # its last turn: closed now, as one go closed each run's (a tuner holding
                    session.close()  # a thread or a server let go before the next run, not after them all)
    return {pair: session.summary() for pair, session in sessions.items()}


def stored_baseline_scores(store: ResultsStore, run: str, objective: Any) -> dict[int, dict[str, float]]:
    """Each seed's baseline scores (role -> score against that seed's own measurement of the
    defaults) as stored in ``run``; roles that failed are left out, and seeds whose defaults
    failed."""
    by_seed: dict[int, dict[str, TrialResult]] = {}
    for row in store.rows(run=run, tuner="baseline"):
        by_seed.setdefault(int(row["seed"]), {})[row["role"]] = ResultsStore.to_result(row)
    scores: dict[int, dict[str, float]] = {}
    for seed, results in by_seed.items():
        default = results.get("default")
        if default is None or not default.ok:
            continue
        scores[seed] = {role: float(score) for role, result in results.items()
                        if result.ok and (score := objective.score(result, default)) is not None
                        and math.isfinite(score)}  # fmt: skip
    return scores


def stored_best_so_far(
    store: ResultsStore,
    run: str,
    objective: Any,
    skip: set[tuple[str, int]] | None = None,
    baselines: dict[int, dict[str, float]] | None = None,
) -> dict[tuple[str, int], list[float | None]]:
    """Each stored ``(tuner, seed)``'s best-so-far curve in ``run`` (those in ``skip`` left
    out), ranked as :func:`run_tuning` ranked it (baselines fixed at their own scores) and
    measuring nothing: a finished run's curves drawn again, or an earlier command's. In the
    store's order (by tuner, then seed). ``baselines``: :func:`stored_baseline_scores` of
    ``run`` where the caller has them already (else read here)."""
    if baselines is None:
        baselines = stored_baseline_scores(store, run, objective)
    rankings: dict[tuple[str, int], ConfigRanking] = {}
    curves: dict[tuple[str, int], list[float | None]] = {}
    for row in store.rows(run=run, role="trial"):
        key = (str(row["tuner"]), int(row["seed"]))
        if skip and key in skip:
            continue
        if key not in rankings:
            rankings[key] = fixed_to_baselines(
                ConfigRanking(objective.space.effective), objective.baselines(), baselines.get(key[1], {})
            )
        curves.setdefault(key, []).append(rankings[key].add(row["config"], row["score"]))
    return curves
