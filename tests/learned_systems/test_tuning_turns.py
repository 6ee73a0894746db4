"""Tuners taking turns (``tune_in_turns``, ``placer tune --turn``): the same trials as one go,
in rotating order, so a machine whose speed drifts slows every tuner alike."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from learned_systems.config.knobs import KnobSpace
from learned_systems.errors import InputError
from learned_systems.objectives import IndexObjective
from learned_systems.results import ResultsStore
from learned_systems.tuners import registry
from learned_systems.tuning import DEFAULT_TURN, tune_in_turns
from placer.cli import app
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


def test_on_trial_follows_each_trial_once_and_resumed_counts_the_calls_start(tmp_path: Path) -> None:
    """``on_trial`` sees every trial once, in order, a stored one taken back in its turn (each
    turn passed its run's earlier trials again, as a tuner made anew per turn took them all
    back, and a follower had to rank anew each turn), and a summary's ``resumed`` counts the
    trials stored before the call, not before its last turn."""
    objective = IndexObjective("lognormal", keys=5_000, queries=500, mode="cost")
    with ResultsStore(tmp_path / "store.sqlite") as store:
        tune_in_turns(objective, [("random", 0)], 3, 0, store, "run")
        seen: list[tuple[str, int, int]] = []
        done = tune_in_turns(objective, [("random", 0), ("optuna", 0)], 7, 2, store, "run",
                             on_trial=lambda tuner, seed, index, result, score: seen.append((tuner, seed, index)))
    assert done[("random", 0)].resumed == 3 and done[("optuna", 0)].resumed == 0
    assert [index for tuner, _, index in seen if tuner == "random"] == list(range(7))
    assert [index for tuner, _, index in seen if tuner == "optuna"] == list(range(7))
    assert [tuner for tuner, _, _ in seen[:4]] == ["random", "random", "optuna", "optuna"]  # (in turns of 2)


@pytest.mark.parametrize(
    ("runs", "turn", "error", "words"),
    [
        ([], 5, InputError, "at least one"),
        ([("random", 0), ("annealing", 0)], 5, ValueError, "annealing"),
        ([("random", 0), ("optuna", -1)], 5, ValueError, "seed"),
        ([("random", 0)], -1, ValueError, "turn"),
        ([("random", 0)], 2.5, TypeError, "turn"),
        ([("random", 0), ("optuna", 0), ("random", 0)], 5, InputError, "more than once"),
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


class _Recorded:
    """A tuner of one's own drawing from its own generator, whose ``replay`` (never expected to
    be needed: the run was not resumed) does not move it; each tuner made and each trial
    replayed noted in ``log``."""

    name = "recorded"
    log: list[str] = []

    def __init__(self, space: KnobSpace, seed: int, trials: int) -> None:
        self.space, self.rng = space, np.random.default_rng(seed)
        self.log.append("made")

    def ask(self) -> dict[str, Any]:
        return self.space.sample(self.rng)

    def tell(self, config: dict[str, Any], score: float | None) -> None:
        pass

    def observe(self, config: dict[str, Any], score: float | None) -> None:
        pass

    def replay(self, config: dict[str, Any], score: float | None) -> None:
        self.log.append("replayed")


def test_each_runs_tuner_is_made_once_and_kept_from_its_first_turn_to_its_last(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each turn made its tuner again, which restored or replayed every earlier trial (the RL
    agent relearning them all: 500 trials in turns of 5 replayed ~25,000), and a tuner of one's
    own whose ``replay`` does not move its search proposed its first trials again each turn.
    Made once and kept, no run replays anything and each proposes what one go does."""
    monkeypatch.setattr(registry, "_FACTORIES", dict(registry._FACTORIES))
    monkeypatch.setattr(_Recorded, "log", [])
    registry.register_tuner("recorded", _Recorded)
    objective = IndexObjective("lognormal", keys=5_000, queries=500, mode="cost")
    stored, logs = {}, {}
    for turn in (0, 3):
        _Recorded.log.clear()
        with ResultsStore(tmp_path / f"turn{turn}.sqlite") as store:
            tune_in_turns(objective, [("recorded", 0), ("random", 0), ("optuna", 0)], 10, turn, store, "run")
            stored[turn] = _stored(store)
        logs[turn] = list(_Recorded.log)
    assert logs[3] == logs[0] == ["made"]
    assert stored[3] == stored[0] and len({str(row[4]) for row in stored[0] if row[0] == "recorded"}) == 10


class _Closing(_Recorded):
    """The recorded tuner, noting its seed when made and when closed."""

    name = "closing"

    def __init__(self, space: KnobSpace, seed: int, trials: int) -> None:
        self.space, self.rng, self.seed = space, np.random.default_rng(seed), seed
        self.log.append(f"made {seed}")

    def close(self) -> None:
        self.log.append(f"closed {self.seed}")


def test_each_runs_tuner_is_closed_after_its_last_turn(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``run_tuning`` one run after another (``placer tune --turn 0`` and the benchmark's, "as
    before") closed each run's tuner as its run ended; kept to the end of the call, every
    tuner (an RL agent's thread, a plugin's server) stayed open while the later runs went on.
    Closed after its last turn, once."""
    monkeypatch.setattr(registry, "_FACTORIES", dict(registry._FACTORIES))
    monkeypatch.setattr(_Recorded, "log", [])
    registry.register_tuner("closing", _Closing)
    objective = IndexObjective("lognormal", keys=5_000, queries=500, mode="cost")
    with ResultsStore(tmp_path / "store.sqlite") as store:
        tune_in_turns(objective, [("closing", 0), ("closing", 1)], 3, 0, store, "one go")
        assert _Recorded.log == ["made 0", "closed 0", "made 1", "closed 1"]
        _Recorded.log.clear()
        tune_in_turns(objective, [("closing", 0), ("closing", 1)], 5, 2, store, "turns")
    assert _Recorded.log == ["made 0", "made 1", "closed 0", "closed 1"]  # (rounds to 2, 4, 5: 0 first in the last)


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
        result = CliRunner().invoke(app, [*args, "--turn", turn, "--out", str(out)])
        assert result.exit_code == 0, result.output
        with ResultsStore(out / "results.sqlite") as store:
            stored[turn] = _stored(store)
    assert stored["2"] == stored["0"]
    assert _trial_order(tmp_path / "turn0") == [("random", i) for i in range(5)] + [("optuna", i) for i in range(5)]
    assert _trial_order(tmp_path / "turn2") == [
        ("random", 0), ("random", 1), ("optuna", 0), ("optuna", 1),
        ("optuna", 2), ("optuna", 3), ("random", 2), ("random", 3),
        ("random", 4), ("optuna", 4)]  # fmt: skip
    refused = CliRunner().invoke(app, [*args, "--turn", "-1", "--out", str(tmp_path / "bad")])
    assert refused.exit_code == 2 and "--turn must be a whole number from 0" in refused.output
    assert not (tmp_path / "bad").exists()


def test_the_commands_default_turn_is_the_librarys() -> None:
    """The command writes the default out (importing the tuning loop for it would load the
    tuners at every ``placer --help``)."""
    assert tune_command.DEFAULT_TURN == DEFAULT_TURN
