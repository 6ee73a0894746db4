"""Resuming the Optuna tuner from the state stored beside each trial, not by asking TPE again.

A run stopped after k trials and resumed must store the same configurations, and TPE the same
parameters to the bit, as a run never stopped; a store without states (written before they
were kept) resumes by replay as before, and a state that cannot be used falls back to replay
after one warning line.
"""

from __future__ import annotations

import json
import sqlite3
import warnings
from contextlib import closing
from pathlib import Path

import numpy as np
import optuna
import pytest
import typer
from typer.testing import CliRunner

from learned_systems.config.sqlite_backend import sqlite_space
from learned_systems.config.trial import TrialResult
from learned_systems.results import ResultsStore
from learned_systems.tuners.base import ResumeWarning, TunerState
from learned_systems.tuning import run_tuning
from placer.commands import tune as tune_command

TRIALS = 40
SEED = 4


class Stopped(Exception):
    """The objective's stand-in for a kill after a given number of measurements."""


class FakeObjective:
    """A SQLite-space objective (its ``mmap_size`` a float dimension for TPE) priced by a formula:
    fast, deterministic, and failing for one journal mode, so failed trials are resumed too."""

    system = "fake"
    workload = "formula"

    def __init__(self, stop_after: int | None = None) -> None:
        self.space = sqlite_space()
        self.calls = 0
        self.stop_after = stop_after

    def baselines(self) -> dict[str, dict]:
        return {"default": self.space.defaults(), "rule_of_thumb": self.space.validate(self.space.rule_of_thumb)}

    def evaluate(self, config: dict) -> TrialResult:
        self.calls += 1
        if self.stop_after is not None and self.calls > self.stop_after:
            raise Stopped
        full = self.space.validate(config)
        if full["journal_mode"] == "TRUNCATE":
            return TrialResult.failed(self.system, self.workload, self.space.name, full, "did not start")
        value = 100.0 - (np.log2(full["cache_size"]) - 16.0) ** 2 + np.log1p(full["mmap_size"]) / 4.0
        return TrialResult(self.system, self.workload, self.space.name, full, True, value, 0.0, [value])

    def score(self, result: TrialResult, reference: TrialResult | None) -> float | None:
        return None if not result.ok or reference is None else result.throughput_mean / reference.throughput_mean


def _run(path: Path, stop_after_trials: int | None = None, trials: int = TRIALS) -> None:
    """Tune ``trials`` trials into the store at ``path``; stopped (as by a kill) after
    ``stop_after_trials`` trials."""
    stop = None if stop_after_trials is None else 2 + stop_after_trials  # (the two baselines first)
    with ResultsStore(path) as store:
        try:
            run_tuning(FakeObjective(stop), "optuna", trials, SEED, store, "fake")
        except Stopped:
            pass


def _stored(path: Path) -> tuple[list[str], list[str | None]]:
    """The configurations stored (JSON) and TPE's parameters of each trial, as stored."""
    with closing(sqlite3.connect(path)) as conn:
        configs = [row[0] for row in conn.execute(
            "SELECT config FROM trials WHERE role = 'trial' ORDER BY trial")]
        proposals = [row[0] for row in conn.execute("SELECT proposal FROM tuner_states ORDER BY trial")]
    return configs, proposals


@pytest.fixture(scope="module")
def straight(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[str], list[str | None]]:
    """The run never stopped."""
    path = tmp_path_factory.mktemp("straight") / "results.sqlite"
    _run(path)
    return _stored(path)


@pytest.fixture
def tpe_asks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the proposals asked of Optuna (one entry per ``Study.ask``)."""
    calls: list[int] = []
    real = optuna.study.Study.ask

    def counted(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(optuna.study.Study, "ask", counted)
    return calls


@pytest.mark.parametrize("stop", [3, 12, 17, 30, 38])  # random start, after it, a uniform slot, final share
def test_a_resumed_run_proposes_the_same_bits_without_asking_tpe_again(stop, straight, tpe_asks, tmp_path):
    path = tmp_path / "results.sqlite"
    _run(path, stop_after_trials=stop)
    assert len(_stored(path)[0]) == stop
    tpe_asks.clear()
    with warnings.catch_warnings():
        warnings.simplefilter("error", ResumeWarning)
        _run(path)
    configs, proposals = _stored(path)
    assert configs == straight[0]
    assert proposals == straight[1]  # TPE's parameters, floats included, to the last digit
    # TPE was asked only for the new trials' proposals, none for the stored ones
    assert len(tpe_asks) == sum(p is not None for p in proposals[stop:])


def test_the_sampler_state_is_kept_with_the_newest_trial_only(straight, tmp_path):
    path = tmp_path / "results.sqlite"
    _run(path, stop_after_trials=7)
    with closing(sqlite3.connect(path)) as conn:
        kept = conn.execute("SELECT trial FROM tuner_states WHERE sampler IS NOT NULL").fetchall()
        state = json.loads(conn.execute("SELECT sampler FROM tuner_states WHERE trial = 6").fetchone()[0])
    assert kept == [(6,)]
    assert state["optuna"] == optuna.__version__  # plain JSON numbers, no pickle


def test_a_store_written_without_states_resumes_by_replay_as_before(straight, tpe_asks, tmp_path):
    path = tmp_path / "results.sqlite"
    _run(path, stop_after_trials=17)
    with closing(sqlite3.connect(path)) as conn, conn:  # the file as an older placer-gym left it
        conn.execute("DROP TABLE tuner_states")
    tpe_asks.clear()
    with warnings.catch_warnings():
        warnings.simplefilter("error", ResumeWarning)  # an old store is no cause for a warning
        _run(path)
    configs, proposals = _stored(path)
    assert configs == straight[0] and proposals == straight[1][17:]  # (states kept from then on)
    # replayed: TPE asked again for its stored proposals as well as for the new ones
    assert len(tpe_asks) == sum(p is not None for p in straight[1])


def test_a_store_written_without_states_stopped_again_resumes_by_replay(straight, tpe_asks, tmp_path):
    """An old store resumed and stopped again holds states for its newer trials only: the next
    resume replays them all again, quietly, and still repeats the run never stopped."""
    path = tmp_path / "results.sqlite"
    _run(path, stop_after_trials=17)
    with closing(sqlite3.connect(path)) as conn, conn:  # the file as an older placer-gym left it
        conn.execute("DROP TABLE tuner_states")
    # resumed by this version and stopped again after 8 more trials (_run's count takes in the
    # two baselines, which a resume takes from the store)
    _run(path, stop_after_trials=8 - 2)
    assert len(_stored(path)[0]) == 25
    tpe_asks.clear()
    with warnings.catch_warnings():
        warnings.simplefilter("error", ResumeWarning)
        _run(path)
    configs, proposals = _stored(path)
    assert configs == straight[0] and proposals == straight[1][17:]
    assert len(tpe_asks) == sum(p is not None for p in straight[1])  # replayed


def test_a_shorter_rerun_replays_quietly(straight, tpe_asks, tmp_path):
    """A rerun asking fewer trials than stored finds no sampler state with its last trial (the
    state is kept with the newest trial only): it replays, and that is no cause for a warning."""
    path = tmp_path / "results.sqlite"
    _run(path, stop_after_trials=20)
    tpe_asks.clear()
    with warnings.catch_warnings():
        warnings.simplefilter("error", ResumeWarning)
        _run(path, trials=10)
    assert _stored(path)[0] == straight[0][:20]  # nothing added, nothing lost
    assert len(tpe_asks) == sum(p is not None for p in straight[1][:10])  # replayed


def _damage(path: Path, how: str) -> None:
    """Spoil the stored state of ``path``'s last trial (or one proposal) as ``how`` says."""
    with closing(sqlite3.connect(path)) as conn, conn:
        (text,) = conn.execute("SELECT sampler FROM tuner_states WHERE sampler IS NOT NULL").fetchone()
        state = json.loads(text)
        if how == "not json":
            text = text[: len(text) // 2]
        elif how == "nested too deep":  # past Python's recursion limit: json raised RecursionError
            text = "[" * 100_000
        elif how == "another optuna":
            text = json.dumps({**state, "optuna": "2.10.0"})
        elif how == "short stream":
            text = json.dumps({**state, "tpe": {**state["tpe"], "keys": state["tpe"]["keys"][:40]}})
        elif how == "another layout":
            text = json.dumps({**state, "format": 99})
        if how == "foreign proposal":  # a proposal that is not its trial's configuration
            (trial, proposal), *_ = conn.execute(
                "SELECT trial, proposal FROM tuner_states WHERE proposal IS NOT NULL ORDER BY trial").fetchall()
            params = json.loads(proposal)
            params["cache_size"] = params["cache_size"] + 1
            conn.execute("UPDATE tuner_states SET proposal = ? WHERE trial = ?", (json.dumps(params), trial))
        else:
            conn.execute("UPDATE tuner_states SET sampler = ? WHERE sampler IS NOT NULL", (text,))


@pytest.mark.parametrize("how", ["not json", "nested too deep", "another optuna", "short stream", "another layout", "foreign proposal"])
def test_a_state_that_cannot_be_used_falls_back_to_replay_with_one_warning(how, straight, tpe_asks, tmp_path):
    path = tmp_path / "results.sqlite"
    _run(path, stop_after_trials=17)
    _damage(path, how)
    tpe_asks.clear()
    with pytest.warns(ResumeWarning) as caught:
        _run(path)
    notices = [w for w in caught if issubclass(w.category, ResumeWarning)]
    assert len(notices) == 1
    message = str(notices[0].message)
    assert "\n" not in message and "cannot be used" in message and "17 stored trials" in message
    assert _stored(path)[0] == straight[0]  # replay, with this optuna, repeats the run
    assert len(tpe_asks) == sum(p is not None for p in straight[1])


def test_the_cli_says_a_spoilt_state_in_one_line_and_goes_on(tmp_path, capfd, monkeypatch):
    """Through ``placer tune``: one ``placer: warning:`` line, no traceback, exit status 0."""
    from placer import cli

    app = typer.Typer()
    tune_command.register(app)
    app.command()(lambda: None)  # a second command, so "tune" stays a named sub-command
    out = tmp_path / "out"
    args = ["tune", "--system", "index", "--index-cost", "counted", "--rows", "1000", "--tuner", "optuna",
            "--seed", "0", "--quiet", "--out", str(out)]
    assert CliRunner().invoke(app, [*args, "--trials", "12"]).exit_code == 0
    _damage(out / "results.sqlite", "not json")
    monkeypatch.setattr(warnings, "showwarning", warnings.showwarning)  # replaced below
    cli._one_line_warnings()
    with warnings.catch_warnings():
        warnings.simplefilter("default")
        result = CliRunner().invoke(app, [*args, "--trials", "14"])
    assert result.exit_code == 0, result.output
    err = capfd.readouterr().err + result.stderr
    lines = [line for line in err.splitlines() if line.startswith("placer: warning:")]
    assert len(lines) == 1 and "optuna seed 0: the stored sampler state cannot be used" in lines[0]
    assert "Traceback" not in err
    assert "12 resumed" in result.stdout


def test_a_trial_and_its_state_are_stored_in_one_commit(tmp_path):
    """A state that cannot be written leaves no trial behind it (nor the other way round), and
    renaming a run takes its states along."""
    result = TrialResult("fake", "w", "durable", {"cache_size": 1}, ok=True, throughput_mean=1.0)
    with ResultsStore(tmp_path / "results.sqlite") as store:
        store.add("run", "optuna", 0, 0, "trial", result, 1.0, TunerState('{"a": 1}', "{}"))
        with pytest.raises(sqlite3.Error):  # (a value SQLite cannot bind, after the trial's row)
            store.add("run", "optuna", 0, 1, "trial", result, 1.0, TunerState(object(), "{}"))  # type: ignore[arg-type]
        assert [row["trial"] for row in store.rows(run="run")] == [0]
        assert store.tuner_states("run", "optuna", 0) == {0: TunerState('{"a": 1}', "{}")}
        store.add("run", "optuna", 0, 1, "trial", result, 1.0, TunerState(None, "{}"))
        assert store.tuner_states("run", "optuna", 0) == {0: TunerState('{"a": 1}', None), 1: TunerState(None, "{}")}
        store.rename_run("run", "renamed", "durable")
        assert store.tuner_states("renamed", "optuna", 0) == {0: TunerState('{"a": 1}', None), 1: TunerState(None, "{}")}
