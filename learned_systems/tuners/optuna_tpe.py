"""Optuna's TPE sampler (seeded) over the knob space, driven through ask/tell, with re-measurement.

Ordered numeric choices (``page_size``, ``random_page_cost``) are searched as an integer index
into the choices rather than as unordered categories, so TPE's density model carries what it
learnt about 16 KiB pages over to 8 and 32 KiB; labels and flags stay categorical.

Measurements of a real system are noisy (10-20 % between runs of one SQLite configuration
here), so the best of many single measurements is mostly the luckiest one. After its random
start the tuner therefore spends every ``remeasure_every``-th trial, and its last
``final_share`` of trials, on measuring again the proposal with the best mean so far (at most
``max_measurements`` times each), as SMAC's intensification does; the tuning loop ranks
configurations by their mean. The budget stays the same: a re-measurement is one trial.

TPE's start is ``startup_trials`` (10) completed trials before it models anything, and each
baseline the tuning loop reports to it with a score counts among them: a database run reports
two (defaults, rule of thumb), so its first eight proposals are random and the ninth is TPE's;
an index run reports the defaults alone, so TPE proposes from the tenth (the re-measurement
and random-slot schedules count from ``startup_trials``). The recorded benchmark results ran
this way.

TPE alone can also lock on too early: when its random start trials happen to miss a
setting that matters (here, no parallel query workers on a 2-core machine), its density model
gives that region almost no mass and 40 more proposals never visit it. Like SMAC's interleaved
random configurations, every ``random_every``-th trial after the start is therefore a uniform
sample of the space (seeded; its stream restored or replayed on resume) instead of a TPE
proposal; TPE learns from it.

Resuming: with each trial the tuning loop stores the tuner's :meth:`checkpoint` (its random
streams and TPE's exact parameters, JSON, never a pickle: see
:mod:`learned_systems.tuners.optuna_state`), and a resumed run's :meth:`restore` adds the stored
trials to the study and sets the streams back, so it proposes the same bits as a run never
stopped without asking TPE again for every stored proposal (that replay took 72-133 s for
1,000 trials on a loaded 2-core VM, the restore 3-5 s: ``experiments/bench/tuner_resume_speed.py``).
A store without states (written before they were kept) resumes by :meth:`replay`,
as one whose state cannot be used does, after a one-line :class:`ResumeWarning`.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from learned_systems.config.knobs import Knob, KnobSpace, config_key
from learned_systems.ranking import ConfigRanking
from learned_systems.tuners.base import ResumeWarning, StoredTrial, TunerState
from learned_systems.tuners.optuna_module import optuna
from learned_systems.tuners.optuna_state import (
    StateError,
    decode_params,
    decode_sampler,
    encode_params,
    encode_sampler,
    sampler_streams,
)


@contextmanager
def _optuna_quiet() -> Iterator[None]:
    """Optuna's INFO lines (a study made, every trial finished) left out while the tuner calls
    it, where the program left Optuna's level at its default (INFO): the level is Optuna's
    process-wide setting, and is put back afterwards (it was set to WARNING for good, over a
    level the program had chosen)."""
    level = optuna.logging.get_verbosity()
    if level != optuna.logging.INFO:
        yield
        return
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        yield
    finally:
        optuna.logging.set_verbosity(level)


def _distribution(knob: Knob) -> optuna.distributions.BaseDistribution:
    if knob.ordinal:
        return optuna.distributions.IntDistribution(0, len(knob.choices) - 1)
    if knob.categorical:
        return optuna.distributions.CategoricalDistribution(list(knob.choices))
    if knob.zero_allowed:  # "0 = off" plus a log range: searched as a unit interval
        return optuna.distributions.FloatDistribution(0.0, 1.0)
    return optuna.distributions.IntDistribution(knob.low, knob.high, log=knob.log)


class OptunaTPE:
    name = "optuna"

    def __init__(
        self,
        space: KnobSpace,
        seed: int,
        trials: int = 50,
        startup_trials: int = 10,
        remeasure_every: int = 5,
        final_share: float = 0.12,
        max_measurements: int = 3,
        random_every: int = 5,
    ) -> None:
        self.space = space
        self.distributions = {k.name: _distribution(k) for k in space.knobs}
        with warnings.catch_warnings():  # optuna < 4 calls multivariate experimental, on every run
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            sampler = optuna.samplers.TPESampler(seed=seed, n_startup_trials=startup_trials, multivariate=True)
        with _optuna_quiet():
            self.study = optuna.create_study(direction="maximize", sampler=sampler)
        self.trials = int(trials)
        self.startup_trials = int(startup_trials)
        self.remeasure_every = int(remeasure_every)
        self.final_trials = max(int(round(final_share * trials)), 1) if final_share > 0 else 0
        self.max_measurements = int(max_measurements)
        self.random_every = int(random_every)
        self._rng = np.random.default_rng([seed, 1])  # its own stream, not random search's
        self.seed = seed
        self._asked = 0
        self._own = ConfigRanking(space.effective)  # the tuner's own proposals (not the baselines)
        self._pending: dict[str, optuna.trial.Trial | None] = {}
        self._streams = sampler_streams(sampler)  # (None: this optuna keeps them elsewhere)
        self._last_proposal: dict[str, Any] | None = None  # TPE's parameters of the last ask

    def _to_config(self, params: dict[str, Any]) -> dict[str, Any]:
        """Optuna's parameters -> knob values (inverse of :meth:`_to_params`)."""
        config = {}
        for knob in self.space.knobs:
            value = params[knob.name]
            if knob.ordinal:
                value = knob.choices[value]
            elif knob.zero_allowed:
                value = knob.from_unit(value)
            config[knob.name] = value
        return config

    def _to_params(self, config: dict[str, Any]) -> dict[str, Any]:
        """TPE's parameters of ``config``; knobs it lacks (a store written before a knob was
        added) take their defaults, as everywhere else a configuration is read."""
        config = self.space.validate(config)
        params = {}
        for knob in self.space.knobs:
            value = config[knob.name]
            if knob.ordinal:
                value = knob.choices.index(value)
            elif knob.zero_allowed:
                value = knob.to_unit(value)
            params[knob.name] = value
        return params

    def _in_final_share(self) -> bool:
        """Whether this trial is among the last ``final_share``, kept for confirmations."""
        return self._asked >= self.trials - self.final_trials

    def _remeasure_candidate(self) -> dict[str, Any] | None:
        """The configuration to measure again at this trial, or None for a new TPE proposal."""
        index = self._asked
        if index < self.startup_trials or self._own.best_key is None:
            return None
        final = self._in_final_share()
        periodic = (
            self.remeasure_every > 0
            and (index - self.startup_trials) % self.remeasure_every == self.remeasure_every - 1
        )
        if not (final or periodic):
            return None
        # a configuration that failed is measured no more (its failures rank it down, and one
        # that fails now and then took every re-measurement: its failures never counted)
        own = self._own
        open_ = [k for k in own.scores if own.attempts(k) < self.max_measurements and not own.failures.get(k)]
        if not open_:
            return None
        best = max(open_, key=own.mean)
        if periodic and not final and best != self._own.best_key:
            return None  # mid-run, only the incumbent is worth a trial
        return dict(self._own.configs[best])

    def _random_slot(self) -> bool:
        """Whether this trial's new proposal is an interleaved uniform sample (when no
        re-measurement takes the trial): every ``random_every``-th trial after the start, offset
        from the periodic re-measurements, and never among the final confirmations."""
        index = self._asked
        if self.random_every <= 0 or index < self.startup_trials or self._in_final_share():
            return False
        return (index - self.startup_trials) % self.random_every == self.random_every // 2

    def _record(self, config: dict[str, Any], score: float | None) -> None:
        self._asked += 1
        self._own.add(self.space.validate(config), score)

    def ask(self) -> dict[str, Any]:
        self._last_proposal = None
        again = self._remeasure_candidate()
        if again is not None:
            self._pending[config_key(again)] = None
            return again
        if self._random_slot():
            sampled = self.space.sample(self._rng)
            self._pending[config_key(sampled)] = None
            return sampled
        trial = self._ask()
        config = self._to_config(trial.params)
        self._pending[config_key(config)] = trial
        self._last_proposal = dict(trial.params)
        return config

    def checkpoint(self) -> TunerState | None:
        """What to store beside the trial just asked for: TPE's parameters of it (None for a
        re-measurement or a uniform sample) and the random streams as they are now (a ``tell``
        draws nothing from them); None where this optuna's sampler keeps its streams elsewhere."""
        if self._streams is None:
            return None
        proposal = None if self._last_proposal is None else encode_params(self._last_proposal)
        return TunerState(proposal, encode_sampler(self._streams, self._rng))

    def restore(self, trials: list[StoredTrial]) -> bool:
        """Take the stored trials back without asking TPE again: each is added to the study as
        it was told (TPE's own parameters where it proposed it), and the random streams are set
        to those stored with the last trial. False, with nothing changed, for a store without
        states (written before they were kept, or whose last state lies past ``trials``: a
        shorter rerun), and after a one-line :class:`ResumeWarning` for a state that cannot be
        used (unreadable, another optuna version, a proposal that is not its trial's
        configuration): the caller then replays the trials as before."""
        if self._streams is None or not trials:
            return False
        states = [trial.state for trial in trials]
        last = states[-1]
        if last is None or last.sampler is None or any(state is None for state in states):
            return False
        try:
            streams, uniform = decode_sampler(last.sampler)
            frozen = [self._stored(index, trial) for index, trial in enumerate(trials)]
        except StateError as error:
            warnings.warn(
                f"optuna seed {self.seed}: the stored sampler state cannot be used ({error}); "
                f"resuming by asking TPE again for the {len(trials)} stored trials instead (slower)",
                ResumeWarning,
                stacklevel=2,
            )
            return False
        with _optuna_quiet():
            self.study.add_trials(frozen)
        for stream, state in zip(self._streams, streams, strict=True):
            stream.set_state(state)
        self._rng.bit_generator.state = uniform
        for trial in trials:
            self._record(trial.config, trial.score)
        return True

    def _stored(self, index: int, trial: StoredTrial) -> optuna.trial.FrozenTrial:
        """The study's trial for stored ``trial``, as :meth:`tell` gave it; a StateError where
        its stored proposal is not TPE's parameters of its configuration."""
        assert trial.state is not None
        if trial.state.proposal is None:  # re-measured or sampled: added as tell() adds it
            return self._frozen(self._to_params(trial.config), trial.score)
        stored = decode_params(trial.state.proposal)
        try:
            if set(stored) != set(self.distributions):
                raise ValueError(f"parameters {sorted(stored)}")
            params = {name: stored[name] for name in self.distributions}  # (in the study's order)
            proposed = self.space.validate(self._to_config(params))
            if config_key(proposed) != config_key(self.space.validate(trial.config)):
                raise ValueError("another configuration")
            return self._frozen(params, trial.score)
        except (KeyError, IndexError, TypeError, ValueError) as error:  # (a KnobError is a ValueError)
            raise StateError(f"stored trial {index}'s proposal does not fit it ({error})") from None

    def tell(self, config: dict[str, Any], score: float | None) -> None:
        """The score of a trial of ``config`` (None: it failed). A configuration :meth:`ask` did
        not propose (measured by the caller's own choice) is taken as one of this tuner's trials
        too, as the random and RL tuners take it: added to TPE's study as it stands (it raised
        KeyError with the configuration's knobs)."""
        trial = self._pending.pop(config_key(config), None)
        self._record(config, score)
        if trial is None:  # re-measured or sampled: one more observation for TPE's model
            self._add(config, score)
        else:
            self._tell_trial(trial, score)

    def observe(self, config: dict[str, Any], score: float | None) -> None:
        """A configuration measured outside the search (a baseline): TPE learns from it; it is
        not one of the tuner's proposals, so it is never re-measured."""
        if score is not None:
            self._add(config, score)

    def replay(self, config: dict[str, Any], score: float | None) -> None:
        """Feed back a stored trial, taking the path :meth:`ask` took for it, so that the
        resumed run proposes what the uninterrupted one would have.

        A TPE proposal is asked for again: ``add_trial`` alone would leave the sampler's random
        stream where it was, and the resumed run would repeat its first proposals. With the same
        seed and history the sampler proposes the stored configuration again; when it does not
        (a store written by another version), that proposal is dropped and the stored trial is
        added as it is."""
        if self._remeasure_candidate() is None:
            if self._random_slot():
                self.space.sample(self._rng)  # advance the stream exactly as the original run did
            else:
                trial = self._ask()
                proposed = self.space.validate(self._to_config(trial.params))
                if config_key(proposed) == config_key(self.space.validate(config)):
                    self._record(config, score)
                    self._tell_trial(trial, score)
                    return
                self._tell_trial(trial, None)  # (dropped: told as failed)
        self._record(config, score)
        self._add(config, score)

    def _ask(self) -> optuna.trial.Trial:
        """TPE's next proposal (its log lines quiet)."""
        with _optuna_quiet():
            return self.study.ask(self.distributions)

    def _tell_trial(self, trial: optuna.trial.Trial, score: float | None) -> None:
        with _optuna_quiet():
            if score is None:
                self.study.tell(trial, state=optuna.trial.TrialState.FAIL)
            else:
                self.study.tell(trial, float(score))

    def _add(self, config: dict[str, Any], score: float | None) -> None:
        trial = self._frozen(self._to_params(config), score)
        with _optuna_quiet():
            self.study.add_trial(trial)

    def _frozen(self, params: dict[str, Any], score: float | None) -> optuna.trial.FrozenTrial:
        """A finished trial of ``params`` (failed where ``score`` is None) to add to the study."""
        state = optuna.trial.TrialState.FAIL if score is None else optuna.trial.TrialState.COMPLETE
        return optuna.trial.create_trial(
            params=params,
            distributions=self.distributions,
            value=None if score is None else float(score),
            state=state,
        )
