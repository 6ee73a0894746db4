"""The Optuna tuner's sampler: quiet on every optuna release the project allows."""

from __future__ import annotations

import warnings

import optuna
import pytest

from learned_systems.config.sqlite_backend import sqlite_space
from learned_systems.tuners.optuna_tpe import OptunaTPE


def test_the_multivariate_sampler_warns_no_user(monkeypatch: pytest.MonkeyPatch) -> None:
    """optuna 3.5 (the lowest allowed) warned 'multivariate option is an experimental feature'
    with its source line on every placer tune --tuner optuna; a sampler that warns so (as
    that release's does) leaks nothing, and other warnings still pass."""
    made = optuna.samplers.TPESampler

    def sampler_of_old_optuna(*args: object, **kwargs: object) -> optuna.samplers.TPESampler:
        warnings.warn("multivariate option is an experimental feature", optuna.exceptions.ExperimentalWarning,
                      stacklevel=2)
        return made(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(optuna.samplers, "TPESampler", sampler_of_old_optuna)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        tuner = OptunaTPE(sqlite_space(), seed=0, trials=4)
        tuner.ask()
    assert [str(w.message) for w in caught] == []
    assert isinstance(tuner.study.sampler, made)
