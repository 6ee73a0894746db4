"""Optuna's TPE sampler (seeded) over the knob space, driven through ask/tell.

Ordered numeric choices (``page_size``, ``random_page_cost``) are searched as an integer index
into the choices rather than as unordered categories, so TPE's density model carries what it
learnt about 16 KiB pages over to 8 and 32 KiB; labels and flags stay categorical.
"""

from __future__ import annotations

from typing import Any

import optuna

from learned_systems.config.knobs import Knob, KnobSpace


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

    def __init__(self, space: KnobSpace, seed: int) -> None:
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self.space = space
        self.distributions = {k.name: _distribution(k) for k in space.knobs}
        sampler = optuna.samplers.TPESampler(seed=seed, n_startup_trials=10, multivariate=True)
        self.study = optuna.create_study(direction="maximize", sampler=sampler)
        self._pending: dict[str, optuna.trial.Trial] = {}

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
        params = {}
        for knob in self.space.knobs:
            value = config[knob.name]
            if knob.ordinal:
                value = knob.choices.index(value)
            elif knob.zero_allowed:
                value = knob.to_unit(value)
            params[knob.name] = value
        return params

    def ask(self) -> dict[str, Any]:
        trial = self.study.ask(self.distributions)
        config = self._to_config(trial.params)
        self._pending[repr(sorted(config.items()))] = trial
        return config

    def tell(self, config: dict[str, Any], score: float | None) -> None:
        trial = self._pending.pop(repr(sorted(config.items())))
        if score is None:
            self.study.tell(trial, state=optuna.trial.TrialState.FAIL)
        else:
            self.study.tell(trial, float(score))

    def replay(self, config: dict[str, Any], score: float | None) -> None:
        state = optuna.trial.TrialState.FAIL if score is None else optuna.trial.TrialState.COMPLETE
        self.study.add_trial(
            optuna.trial.create_trial(
                params=self._to_params(config),
                distributions=self.distributions,
                value=None if score is None else float(score),
                state=state,
            )
        )
