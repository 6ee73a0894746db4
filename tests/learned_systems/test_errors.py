"""learned_systems raises the same root classes as every package: its refusals of the caller's
input are InputErrors, its reports of the environment (a program failing, a server that did
not start) Unavailable; a caller tells them from a bug by one test."""

from __future__ import annotations

from collections.abc import Callable

import pytest

import netlists.errors
from learned_systems.config.factory import make_backend
from learned_systems.config.knobs import KnobError
from learned_systems.config.postgres_backend import parse_tps
from learned_systems.config.postgres_server import PostgresUnavailable
from learned_systems.config.trial import TrialResult
from learned_systems.config.workloads import make_workload
from learned_systems.datasets import check_dataset, generate_keys
from learned_systems.errors import REPORTED_ERRORS, InputError, Unavailable
from learned_systems.index.keys import UnsortedKeysError, as_sorted_keys
from learned_systems.results import SettingsMismatch
from learned_systems.sosd import SOSDFormatError
from learned_systems.tuners.registry import check_tuner_name
from learned_systems.validation import finite_number, whole_number


def test_the_classes_are_the_netlist_layers_own() -> None:
    """One class per kind across the packages (a re-export, not a copy)."""
    assert InputError is netlists.errors.InputError and Unavailable is netlists.errors.Unavailable
    assert REPORTED_ERRORS is netlists.errors.REPORTED_ERRORS
    for refusal in (KnobError, SettingsMismatch, SOSDFormatError, UnsortedKeysError):
        assert issubclass(refusal, InputError)
    assert issubclass(PostgresUnavailable, Unavailable)


@pytest.mark.parametrize(
    "refusal",
    [
        lambda: whole_number("trials", 0, 1),
        lambda: finite_number("time_weight", float("nan")),
        lambda: make_backend("mockkv", "ycsb-a"),
        lambda: make_workload("nosuch"),
        lambda: generate_keys("nosuch", 10),
        lambda: check_dataset("nosuch"),
        lambda: as_sorted_keys([[1, 2], [3]]),
        lambda: check_tuner_name("a,b"),
    ],
    ids=["whole-number", "finite-number", "system", "workload", "dataset", "dataset-check", "ragged-keys", "tuner-name"],
)
def test_refusals_of_the_callers_input_are_input_errors(refusal: Callable[[], object]) -> None:
    with pytest.raises(InputError):
        refusal()


def test_a_failing_program_is_reported_as_unavailable() -> None:
    with pytest.raises(Unavailable, match="pgbench counted 3 failed transactions"):
        parse_tps("number of failed transactions: 3 (0.1%)\ntps = 100.0 (without initial connection time)\n")


def test_a_failed_trial_is_recorded_in_the_words_it_was_before() -> None:
    """error_kind: "RuntimeError: server did not start", not "Unavailable: ..." (failures are
    grouped by their first line, with runs stored before the classes existed)."""
    failed = TrialResult.failed("postgres", "tpcb", "durable", {}, Unavailable("server did not start"), 0.0)
    assert failed.error == "RuntimeError: server did not start"
    failed = TrialResult.failed("sqlite", "ycsb-a", "durable", {}, InputError("no room"), 0.0)
    assert failed.error == "ValueError: no room"
