"""Optuna's TPE sampler (seeded) over the knob space, driven through ask/tell."""

from __future__ import annotations

from typing import Any

import optuna

from learned_systems.config.knobs import Knob, KnobSpace


def _distribution(knob: Knob) -> optuna.distributions.BaseDistribution:
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
        config = {}
        for knob in self.space.knobs:
            value = params[knob.name]
            config[knob.name] = knob.from_unit(value) if knob.zero_allowed else value
        return config

    def _to_params(self, config: dict[str, Any]) -> dict[str, Any]:
        return {
            k.name: (k.to_unit(config[k.name]) if k.zero_allowed else config[k.name])
            for k in self.space.knobs
        }

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
