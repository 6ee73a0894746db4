"""``placer tune``'s reading of a run folder's results database by path."""

from __future__ import annotations

import os
import re
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from placer.commands import tune


def _results_with_rows(folder: Path, rows: int) -> Path:
    """A results database in ``folder`` holding ``rows`` trial rows (the columns counted)."""
    folder.mkdir()
    path = folder / "results.sqlite"
    with closing(sqlite3.connect(path.absolute())) as conn, conn:
        conn.execute("CREATE TABLE trials (role TEXT)")
        conn.executemany("INSERT INTO trials VALUES (?)", [("trial",)] * rows)
    return path


@pytest.mark.parametrize("name", ["q#x", "q?x", "q%23x", "sp ace"])
def test_a_read_only_folder_whose_name_a_uri_must_quote_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    """The read-only URI was built unquoted: a folder "q#x" read 0 of its rows (SQLite opened
    "q", creating an empty file there)."""
    path = _results_with_rows(tmp_path / name, 6)
    monkeypatch.setattr(os, "access", lambda *args, **kwargs: False)  # a folder it cannot write
    assert tune._stored_rows(path) == 6
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]  # (no "q" beside it)


def test_a_relative_folder_named_like_a_uri_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A relative "file:..." name read as a URI (here an empty in-memory database: 0 rows)."""
    monkeypatch.chdir(tmp_path)
    _results_with_rows(tmp_path / "file:run?mode=memory&", 3)
    assert tune._stored_rows(Path("file:run?mode=memory&") / "results.sqlite") == 3


@pytest.mark.parametrize("out", ["file:run1?mode=memory&", "file:other"])
def test_an_out_folder_named_like_a_uri_holds_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, out: str
) -> None:
    """``--out 'file:run1?mode=memory&'`` exited 0 with its trials kept in memory (no file, no
    resume); ``--out file:other`` wrote into ./other's results.sqlite, past other's folder lock."""
    from typer.testing import CliRunner

    from placer.cli import app

    monkeypatch.chdir(tmp_path)
    (tmp_path / "other").mkdir()
    args = ["tune", "--system", "index", "--index-cost", "counted", "--rows", "1000", "--tuner", "random",
            "--trials", "2", "--quiet", "--out", out]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert tune._stored_rows(tmp_path / out / "results.sqlite", trials_only=True) == 2
    assert list((tmp_path / "other").iterdir()) == []


def test_the_plot_title_says_how_each_trial_was_measured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The best-so-far chart's title named the system, workload and score only: two runs of
    other sizes, windows or repeats drew alike."""
    import typer
    from typer.testing import CliRunner

    import learned_systems.plots

    titles: list[str] = []
    monkeypatch.setattr(learned_systems.plots, "plot_best_so_far", lambda curves, path, title, **kw: titles.append(title))
    app = typer.Typer()
    tune.register(app)
    app.callback()(lambda: None)
    result = CliRunner().invoke(app, ["tune", "--system", "index", "--workload", "books", "--tuner", "random",
                                      "--trials", "2", "--rows", "20000", "--index-cost", "counted",
                                      "--out", str(tmp_path / "run")])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert titles[0].splitlines()[-1] == "20,000 keys, 100,000 lookups"  # (a count needs no repeats)
    sqlite = {"rows": 5000, "repeats": 1, "duration_s": 0.2}
    assert tune._measured_with("sqlite", sqlite) == "5,000 rows, 0.2 s windows, 1 measurement per trial"
    postgres = {"rows": 10, "repeats": 3, "duration_s": 2.0}
    assert tune._measured_with("postgres", postgres) == "scale 10, 2 s windows, 3 measurements per trial"
    index = {"rows": 1_000_000, "repeats": 3, "queries": 100_000, "index_cost": "measured"}
    assert tune._measured_with("index", index) == "1,000,000 keys, 100,000 lookups, 3 measurements per trial"


@pytest.mark.parametrize("system", ["sqlite", "postgres", "index"])
def test_the_knob_list_is_wrapped_to_80_columns_under_its_values(tmp_path: Path, system: str) -> None:
    """`placer tune --knobs` printed lines of up to ~120 characters (7 over 80 for SQLite), which
    an 80-column terminal broke mid-word; each knob's line now wraps under its values."""
    from typer.testing import CliRunner

    from learned_systems.apply import knob_space
    from placer.cli import app

    result = CliRunner().invoke(app, ["tune", "--system", system, "--knobs", "--out", str(tmp_path / "out")],
                                env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert max(map(len, lines)) <= 80
    assert result.stdout.split() == knob_space(system, False).describe().split()  # every word, whole
    values = re.match(r"\s*\S+\s+", lines[1])
    assert values is not None
    for line in lines[1:]:  # a knob's name at 2 columns, its wrapped lines under its values
        indent = len(line) - len(line.lstrip())
        assert indent in (2, values.end()), line


def _lucky_first_trial(monkeypatch: pytest.MonkeyPatch) -> dict:
    """Index trials timed by a script, not a clock: the first trial's configuration times 100x
    faster than any other in its trial (a lucky draw), and 5x slower when measured again in the
    final rounds; everything else times 1.0 and has no size. Returns the evaluations seen."""
    import learned_systems.report
    from learned_systems.config.knobs import config_key
    from learned_systems.objectives import IndexObjective

    seen: dict = {"trials": [], "final": [], "in_final": False, "stop_at": None, "luckier": None}
    evaluate, final_rounds = IndexObjective.evaluate, learned_systems.report.final_rounds

    def scripted(self, config):  # type: ignore[no-untyped-def]
        result = evaluate(self, config)
        key = config_key(self.space.effective(result.config))
        phase = seen["final"] if seen["in_final"] else seen["trials"]
        if seen["in_final"] and len(phase) == seen["stop_at"]:
            raise KeyboardInterrupt
        phase.append(key)
        lucky = len(seen["trials"]) > 1 and key == seen["trials"][1]  # (0: the defaults)
        at = seen["luckier"]  # (a later trial luckier still, when set)
        luckier = at is not None and len(seen["trials"]) > at and key == seen["trials"][at] and not seen["in_final"]
        time = 0.001 if luckier else (5.0 if seen["in_final"] else 0.01) if lucky else 1.0
        result.metrics.update(relative_time=time, size_pct=0.0)
        return result

    def flagged(*args, **kwargs):  # type: ignore[no-untyped-def]
        seen["in_final"] = True
        try:
            return final_rounds(*args, **kwargs)
        finally:
            seen["in_final"] = False

    monkeypatch.setattr(IndexObjective, "evaluate", scripted)
    monkeypatch.setattr(learned_systems.report, "final_rounds", flagged)
    return seen


def _tune(out: Path, *extra: str):  # type: ignore[no-untyped-def]
    from typer.testing import CliRunner

    from placer.cli import app

    args = ["tune", "--system", "index", "--rows", "1000", "--tuner", "random", "--trials", "4", "--quiet",
            "--out", str(out), *extra]  # fmt: skip
    return CliRunner().invoke(app, args)


def test_the_best_is_chosen_by_interleaved_final_rounds_not_one_lucky_trial(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``best`` was the highest single noisy measurement (three identical runs named random best
    with 64.6, 158.6 and 98.3): each tuner's best and the baselines are measured again, in
    interleaved rounds, and the best chosen by their mean, with n and spread printed and stored;
    --final-repeats 0 keeps the old choice."""
    import json

    seen = _lucky_first_trial(monkeypatch)
    result = _tune(tmp_path / "run", "--final-repeats", "2")
    assert result.exit_code == 0, result.output
    lucky = seen["trials"][1]
    assert seen["final"] == [seen["trials"][0], lucky] * 2  # interleaved: defaults, random; twice
    report = json.loads((tmp_path / "run" / "best_config.json").read_text())
    assert report["best"]["found_by"] == "default" and report["best"]["final"]["n"] == 2
    random = report["final_rounds"]["random"]
    assert (random["n"], random["mean"], random["spread"], random["trial_score"]) == (2, -5.0, 0.0, -0.01)
    assert "  random: -5.000 ± 0.000 (n 2; its trials' -0.010 over 1)" in result.output
    assert "best: default (score -1.000 ± 0.000, mean of 2 final rounds)" in result.output

    seen = _lucky_first_trial(monkeypatch)
    old = _tune(tmp_path / "old", "--final-repeats", "0")
    assert old.exit_code == 0, old.output
    assert seen["final"] == [] and "best: random (score -0.010)" in old.output
    report = json.loads((tmp_path / "old" / "best_config.json").read_text())
    assert report["final_rounds"] is None and "--final-repeats 0" in report["final_rounds_note"]


def test_a_run_killed_in_its_final_rounds_keeps_its_trials_and_resumes_the_rounds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A kill in the final rounds loses neither the trials nor the rounds measured: the rerun
    measures only the rounds left."""
    seen = _lucky_first_trial(monkeypatch)
    seen["stop_at"] = 1  # Ctrl-C as the first round measures random's best
    killed = _tune(tmp_path / "run", "--final-repeats", "2")
    assert killed.exit_code != 0 and "every finished trial is saved" in killed.output
    assert tune._stored_rows(tmp_path / "run" / "results.sqlite", trials_only=True) == 4
    seen.update(trials=seen["trials"], final=[], stop_at=None)
    resumed = _tune(tmp_path / "run", "--final-repeats", "2")
    assert resumed.exit_code == 0, resumed.output
    # the first round had only the defaults: measured again whole (a round falls at one time
    # for every finalist), then the second
    assert seen["final"] == [seen["trials"][0], seen["trials"][1]] * 2
    assert "0 failed, 4 resumed" in resumed.output and "best: default" in resumed.output


def test_a_round_resumed_after_one_finalist_changed_is_measured_again_for_every_finalist(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rerun with more trials whose tuner found a new best kept the defaults' stored round
    from the earlier session beside the new best's round of this one: the round was no longer
    interleaved. The whole round is measured again; a rerun changing nothing measures none."""
    seen = _lucky_first_trial(monkeypatch)
    first = _tune(tmp_path / "run", "--final-repeats", "1")
    assert first.exit_code == 0, first.output
    defaults = seen["trials"][0]
    assert len(seen["final"]) == 2
    # one round has no spread to give (it printed "± 0.000", read as a steady figure)
    assert "  default: -1.000 (n 1;" in first.output and "± 0.000" not in first.output
    assert "(score -1.000, of 1 final round)" in first.output

    seen.update(trials=[], final=[], luckier=2)  # the rerun's third new trial beats the first run's best
    more = _tune(tmp_path / "run", "--final-repeats", "1", "--trials", "8")
    assert more.exit_code == 0, more.output
    assert seen["final"] == [defaults, seen["trials"][2]]  # both finalists, not only random's new best

    seen.update(trials=[], final=[], luckier=None)
    again = _tune(tmp_path / "run", "--final-repeats", "1", "--trials", "8")
    assert again.exit_code == 0, again.output
    assert seen["final"] == []  # every round stored whole: nothing measured again


def test_counted_index_costs_take_no_final_rounds(tmp_path: Path) -> None:
    """A counted cost is the same every time: nothing to measure again."""
    import json

    result = _tune(tmp_path / "run", "--index-cost", "counted")
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "run" / "best_config.json").read_text())
    assert report["final_rounds"] is None and "counted" in report["final_rounds_note"]
    assert "final rounds" not in result.output
    refused = _tune(tmp_path / "other", "--final-repeats", "-1")
    assert refused.exit_code == 2 and "--final-repeats must be a whole number from 0" in refused.output
