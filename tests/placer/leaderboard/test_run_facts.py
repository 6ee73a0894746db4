"""The run facts the leaderboard CSV gives each cell (:func:`with_run_facts`), read straight
from a runs frame: the values a cell's seeds record, each once, in their order."""

from __future__ import annotations

import numpy as np
import pandas as pd

from placer.leaderboard.run_facts import ok_runs_with_facts, with_run_facts


def _runs(rows: list[dict[str, object]]) -> pd.DataFrame:
    """ok runs of one budget with the fields :func:`with_run_facts` reads (unset: None)."""
    base = {"status": "ok", "budget_s": 10.0, "proxy": 1.0, "seconds": 4.0, "cpu_s": 4.0, "load_1m": None,
            "jobs": None, "host": None, "cpu_count": None, "cpu_model": None, "git_commit": None,
            "git_dirty": None, "overlap_area": 0.0, "out_of_canvas": 0}
    return pd.DataFrame([{**base, **row} for row in rows])


def test_each_cell_gets_the_distinct_values_its_seeds_record_in_their_order() -> None:
    """A cell's commits and machine facts: each value once, in the seeds' order, whole numbers
    as such, blank ("" or None) left out; a cell none of whose seeds recorded a commit blank,
    one whose other seeds did says ``none`` beside them."""
    runs = _runs([
        {"design": "d1", "method": "aa", "seed": 0, "git_commit": "def", "jobs": 2.0, "host": "h2"},
        {"design": "d1", "method": "aa", "seed": 1, "git_commit": "abc", "jobs": 4.0, "host": ""},
        {"design": "d1", "method": "aa", "seed": 2, "git_commit": "def", "jobs": 2.0, "host": "h1"},
        {"design": "d1", "method": "aa", "seed": 3, "git_commit": None, "host": "h2"},
        {"design": "d1", "method": "bb", "seed": 0, "git_commit": "abc", "git_dirty": 1, "cpu_model": "cpu A"},
        {"design": "d2", "method": "aa", "seed": 0},
        {"design": "d2", "method": "aa", "seed": 1, "git_commit": ""},
    ])
    table = pd.DataFrame({"design": ["d1", "d1", "d2", "d2"], "method": ["aa", "bb", "aa", "initial"]},
                         index=[5, 6, 7, 8])
    facts = with_run_facts(table, ok_runs_with_facts(runs)).set_index(["design", "method"])
    assert list(with_run_facts(table, ok_runs_with_facts(runs)).index) == [5, 6, 7, 8]  # the table's rows, in its order
    assert facts.loc[("d1", "aa"), "git_commit"] == "def abc none"
    assert facts.loc[("d1", "aa"), "jobs"] == "2 4"
    assert facts.loc[("d1", "aa"), "host"] == "h2 h1"
    assert facts.loc[("d1", "bb"), "git_commit"] == "abc+dirty"
    assert facts.loc[("d1", "bb"), "cpu_model"] == "cpu A"
    for column in ("git_commit", "jobs", "host", "cpu_count"):  # recorded by none of the cell's seeds
        assert pd.isna(facts.loc[("d2", "aa"), column])
    assert facts.loc[("d2", "initial")].drop("cpu_s").isna().all()
    assert np.isclose(facts.loc[("d1", "aa"), "cpu_ratio"], 1.0)


def test_runs_recording_no_facts_leave_every_column_blank() -> None:
    """Runs made before the facts were recorded (every column empty) make blank columns."""
    runs = _runs([{"design": "d1", "method": "aa", "seed": s} for s in range(3)])
    facts = with_run_facts(pd.DataFrame({"design": ["d1"], "method": ["aa"]}), ok_runs_with_facts(runs))
    assert facts[["git_commit", "jobs", "host", "cpu_count", "cpu_model"]].isna().all().all()


def test_only_ok_runs_are_read_also_when_none_is_ok() -> None:
    """With no ok run, the method labels assigned to the empty frame brought every failed run
    back as a row of nothing (a commit ``none`` on a host not recorded), which the quality page
    then described as the runs' making."""
    runs = _runs([{"design": "d1", "method": "aa", "seed": 0, "git_commit": "abc"},
                  {"design": "d1", "method": "aa", "seed": 1, "git_commit": "abc"}])
    assert ok_runs_with_facts(runs.assign(status="failed")).empty
    mixed = runs.assign(status=["failed", "ok"])
    assert list(ok_runs_with_facts(mixed).index) == [1]
