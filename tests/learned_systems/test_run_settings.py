"""The settings a tuning run records: every measurement parameter its scores depend on, so that
a resume measured otherwise is refused, while a run stored before a parameter was recorded
resumes as the parameter's value then."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from typer.testing import CliRunner

from learned_systems.config.trial import TrialResult
from learned_systems.objectives import ConfigObjective, IndexObjective
from learned_systems.results import ResultsStore, SettingsMismatch
from learned_systems.run_settings import (
    MEASUREMENT_PARAMETERS_BEFORE,
    run_settings,
    settings_before,
)
from learned_systems.tuning import run_tuning
from placer.cli import app

#: The index run of ``placer tune --system index --index-cost counted --rows 2000``.
INDEX_ARGS = ["tune", "--system", "index", "--index-cost", "counted", "--rows", "2000", "--tuner", "random", "--quiet"]


def _objective(system: str, tmp_path: Path, **asked: Any) -> Any:
    """A small objective of ``system`` measured with the parameters ``asked`` (else defaults)."""
    if system == "index":
        return IndexObjective("lognormal", keys=2_000, mode="cost", **asked)
    if system == "sqlite":
        from learned_systems.config.factory import make_backend

        return ConfigObjective(make_backend("sqlite", "ycsb-a", rows=2_000, template_dir=tmp_path, **asked))
    import inspect

    from learned_systems.config.postgres_backend import PostgresBackend
    from learned_systems.config.postgres_knobs import postgres_space

    clients = inspect.signature(PostgresBackend).parameters["clients"].default
    backend = SimpleNamespace(**{"scale": 1, "duration_s": 1, "warmup_s": 1, "clients": clients, **asked})  # (no server)
    return SimpleNamespace(backend=backend, space=postgres_space())


@pytest.mark.parametrize("system, asked", [
    ("index", {"queries": 3_000}), ("index", {"time_weight": 2.0}), ("index", {"size_weight": 0.5}),
    ("sqlite", {"ops_per_transaction": 5}), ("sqlite", {"min_transactions": 7}),
    ("postgres", {"clients": 16}),
])
def test_a_run_measured_with_other_parameters_is_not_resumed(tmp_path, system, asked):
    """The lookups timed, the score's weights, a transaction's size, a window's fewest
    transactions and pgbench's clients were not recorded: a run made from Python with other
    ones resumed under placer tune's, its old scores ranked with new ones measured otherwise."""
    mine, theirs = _objective(system, tmp_path, **asked), _objective(system, tmp_path)
    (key, value), = asked.items()
    try:
        settings = run_settings(system, mine, 3)
        assert settings[key] == value and run_settings(system, theirs, 3)[key] == MEASUREMENT_PARAMETERS_BEFORE[key]
        with ResultsStore(tmp_path / "results.sqlite") as store:
            store.claim_settings("run", settings, absent=settings_before())
            store.add("run", "baseline", 0, 0, "default", TrialResult(system, "w", "s", {}, True, 1.0), 1.0)
            store.claim_settings("run", run_settings(system, mine, 3), absent=settings_before())  # the same: resumed
            with pytest.raises(SettingsMismatch, match=rf"\({key} {value!r} then, {MEASUREMENT_PARAMETERS_BEFORE[key]!r} now\)"):
                store.claim_settings("run", run_settings(system, theirs, 3), absent=settings_before())
    finally:
        for objective in (mine, theirs):
            getattr(getattr(objective, "backend", None), "close", lambda: None)()


def test_placer_tune_refuses_a_run_that_python_measured_over_other_lookups(tmp_path):
    out = tmp_path / "out"
    objective = IndexObjective("lognormal", keys=2_000, queries=2_000, mode="cost")
    run = f"index-lognormal-{objective.space.name}"
    with ResultsStore(out / "results.sqlite") as store:
        store.claim_settings(run, run_settings("index", objective, 3), absent=settings_before())
        run_tuning(objective, "random", 2, 0, store, run)
    refused = CliRunner().invoke(app, [*INDEX_ARGS, "--trials", "3", "--out", str(out)])
    assert refused.exit_code == 2 and "queries 2000 then, 100000 now" in refused.stderr, refused.output


def _forget(results: Path, keys: tuple[str, ...]) -> None:
    """Remove ``keys`` from every run's stored settings, as a store made before they were kept."""
    with closing(sqlite3.connect(results)) as conn, conn:
        for run, text in conn.execute("SELECT run, settings FROM run_settings").fetchall():
            stored = json.loads(text)
            assert set(keys) <= set(stored)  # (recorded now)
            conn.execute("UPDATE run_settings SET settings = ? WHERE run = ?",
                         (json.dumps({k: v for k, v in stored.items() if k not in keys}), run))


@pytest.mark.parametrize("system", ["index", "sqlite"])
def test_a_run_stored_before_the_parameters_were_recorded_resumes_as_it_was_measured(tmp_path, system):
    """Stored without them, a run's parameters are those every placer tune run had then: it
    resumes under the same command, and is refused to a run measured otherwise."""
    out = tmp_path / "out"
    args = [*INDEX_ARGS] if system == "index" else [
        "tune", "--system", "sqlite", "--workload", "ycsb-b", "--tuner", "random", "--rows", "2000",
        "--duration", "0.02", "--repeats", "1", "--quiet"]  # fmt: skip
    first = CliRunner().invoke(app, [*args, "--trials", "1", "--out", str(out)])
    assert first.exit_code == 0, first.output
    keys = ("queries", "time_weight", "size_weight") if system == "index" else ("ops_per_transaction", "min_transactions")
    _forget(out / "results.sqlite", keys)
    resumed = CliRunner().invoke(app, [*args, "--trials", "2", "--out", str(out)])
    assert resumed.exit_code == 0 and "1 resumed" in resumed.stdout, resumed.output
    other = {"queries": 2_000} if system == "index" else {"min_transactions": 7}
    objective = _objective(system, tmp_path, **other)
    try:
        run = f"{system}-{objective.workload if system == 'index' else 'ycsb-b'}-{objective.space.name}"
        with ResultsStore(out / "results.sqlite") as store, pytest.raises(SettingsMismatch) as refused:
            store.claim_settings(run, run_settings(system, objective, 1), absent=settings_before())
        (key, value), = other.items()
        assert f"{key} {MEASUREMENT_PARAMETERS_BEFORE[key]!r} then, {value!r} now" in str(refused.value)
    finally:
        getattr(getattr(objective, "backend", None), "close", lambda: None)()
