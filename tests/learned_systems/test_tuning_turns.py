"""Tuners taking turns (``tune_in_turns``, ``placer tune --turn``): the same trials as one go,
in rotating order, so a machine whose speed drifts slows every tuner alike."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from learned_systems.errors import InputError
from learned_systems.objectives import IndexObjective
from learned_systems.results import ResultsStore
from learned_systems.tuning import DEFAULT_TURN, tune_in_turns
from placer.commands import tune as tune_command


def _stored(store: ResultsStore) -> list[tuple]:
    return sorted(((r["tuner"], r["seed"], r["trial"], r["role"], r["config"], r["score"]) for r in store.rows()),
                  key=str)  # fmt: skip


def test_turns_propose_what_one_go_does_and_rotate_the_order(tmp_path: Path) -> None:
    """The benchmark ran each tuner and seed's 50 trials in one go, one after another, so a
    machine whose load changed put one tuner in the slow hour (a replication measured Optuna's
    trials at a fifth of random search's throughput). In turns of a few trials, round after
    round, each turn resuming its run, every run proposes and scores what one go does (a
    deterministic objective: counted search steps), and each round starts one run later."""
    objective = IndexObjective("lognormal", keys=5_000, queries=500, mode="cost")
    runs = [("random", 0), ("optuna", 0), ("optuna", 1), ("rl", 0)]
    stored, turns = {}, {}
    for turn in (0, 8):  # (past Optuna's 10 random start trials, into its re-measurements and final share)
        order: list[tuple[str, int, int]] = []
        with ResultsStore(tmp_path / f"turn{turn}.sqlite") as store:
            summaries = tune_in_turns(objective, runs, 22, turn, store, "run",
                                      on_turn=lambda *called, _order=order: _order.append(called))  # fmt: skip
            stored[turn] = _stored(store)
        turns[turn] = order
        assert set(summaries) == set(runs) and all(len(s.best_so_far) == 22 for s in summaries.values())
        assert all(s.resumed == 0 for s in summaries.values())  # nothing was stored before this call
    assert stored[8] == stored[0] and len(stored[0]) >= 4 * 22
    assert turns[0] == [(t, s, 22) for t, s in runs]
    rotated = runs + runs[1:] + runs[:1] + runs[2:] + runs[:2]
    assert turns[8] == [(t, s, upto) for (t, s), upto in zip(rotated, [8] * 4 + [16] * 4 + [22] * 4, strict=True)]


def test_each_turn_passes_its_runs_trials_in_order_and_resumed_counts_the_calls_start(tmp_path: Path) -> None:
    """``on_trial`` sees each turn's earlier trials again, then its new ones (a follower ranks
    anew each turn), and a summary's ``resumed`` counts the trials stored before the call, not
    before its last turn (which had every trial but the last few)."""
    objective = IndexObjective("lognormal", keys=5_000, queries=500, mode="cost")
    with ResultsStore(tmp_path / "store.sqlite") as store:
        tune_in_turns(objective, [("random", 0)], 3, 0, store, "run")
        seen: list[tuple[str, int, int]] = []
        done = tune_in_turns(objective, [("random", 0), ("optuna", 0)], 7, 2, store, "run",
                             on_trial=lambda tuner, seed, index, result, score: seen.append((tuner, seed, index)))
    assert done[("random", 0)].resumed == 3 and done[("optuna", 0)].resumed == 0
    random_turns = [index for tuner, _, index in seen if tuner == "random"]
    assert random_turns == [0, 1] + [0, 1, 2, 3] + [0, 1, 2, 3, 4, 5] + list(range(7))
    optuna_turns = [index for tuner, _, index in seen if tuner == "optuna"]
    assert optuna_turns == random_turns


@pytest.mark.parametrize(
    ("runs", "turn", "error", "words"),
    [
        ([], 5, InputError, "at least one"),
        ([("random", 0), ("annealing", 0)], 5, ValueError, "annealing"),
        ([("random", 0), ("optuna", -1)], 5, ValueError, "seed"),
        ([("random", 0)], -1, ValueError, "turn"),
        ([("random", 0)], 2.5, TypeError, "turn"),
    ],
)
def test_bad_runs_or_turns_are_refused_before_anything_is_measured(
    runs: list, turn: object, error: type[Exception], words: str, tmp_path: Path
) -> None:
    """A bad tuner or seed in a later run was found at its first turn, after the others had
    measured their baselines and trials."""
    objective = IndexObjective("lognormal", keys=5_000, queries=500, mode="cost")
    with ResultsStore(tmp_path / "store.sqlite") as store:
        with pytest.raises(error, match=words):
            tune_in_turns(objective, runs, 4, turn, store, "run")  # type: ignore[arg-type]
        assert store.rows() == []


def _app() -> typer.Typer:
    app = typer.Typer()
    tune_command.register(app)

    @app.command()
    def version() -> None:  # a second command, so "tune" stays a named sub-command
        typer.echo("0")

    return app


def _trial_order(out: Path) -> list[tuple[str, int]]:
    with closing(sqlite3.connect(out / "results.sqlite")) as conn:
        return conn.execute("SELECT tuner, trial FROM trials WHERE role = 'trial' ORDER BY rowid").fetchall()


def test_placer_tune_runs_several_tuners_in_turns_with_the_same_trials_as_one_go(tmp_path: Path) -> None:
    """``placer tune --tuner a,b`` ran a's trials, then b's: on a machine whose speed drifts
    one tuner got the slow half. By default now they take turns of ``--turn`` trials; the
    trials and scores are those of one go (``--turn 0``)."""
    args = ["tune", "--system", "index", "--workload", "lognormal", "--rows", "5000", "--trials", "5",
            "--tuner", "random,optuna", "--index-cost", "counted", "--quiet"]
    stored = {}
    for turn in ("0", "2"):
        out = tmp_path / f"turn{turn}"
        result = CliRunner().invoke(_app(), [*args, "--turn", turn, "--out", str(out)])
        assert result.exit_code == 0, result.output
        with ResultsStore(out / "results.sqlite") as store:
            stored[turn] = _stored(store)
    assert stored["2"] == stored["0"]
    assert _trial_order(tmp_path / "turn0") == [("random", i) for i in range(5)] + [("optuna", i) for i in range(5)]
    assert _trial_order(tmp_path / "turn2") == [
        ("random", 0), ("random", 1), ("optuna", 0), ("optuna", 1),
        ("optuna", 2), ("optuna", 3), ("random", 2), ("random", 3),
        ("random", 4), ("optuna", 4)]  # fmt: skip
    refused = CliRunner().invoke(_app(), [*args, "--turn", "-1", "--out", str(tmp_path / "bad")])
    assert refused.exit_code == 2 and "--turn must be a whole number from 0" in refused.output
    assert not (tmp_path / "bad").exists()


def test_the_commands_default_turn_is_the_librarys() -> None:
    """The command writes the default out (importing the tuning loop for it would load the
    tuners at every ``placer --help``)."""
    assert tune_command.DEFAULT_TURN == DEFAULT_TURN
