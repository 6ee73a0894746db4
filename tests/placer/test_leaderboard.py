"""Leaderboard tables from a results database: aggregation, initial reference, marks, files."""

from __future__ import annotations

import os
import sys
from contextlib import closing
from pathlib import Path

import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from placer import leaderboard
from placer.commands.leaderboard import register
from placer.cost.timing import TIMING_MODEL
from placer.leaderboard import build, pivot, summary_rows, write_leaderboard
from placer.leaderboard.table import illegal_pivot
from placer.results import DB_NAME, ResultStore, RunRecord

INITIAL = {"d1": 1.0, "d2": 2.0}
# (design, method, seed) -> proxy; wirelength = proxy / 10, density = congestion = proxy / 2
PROXY = {
    ("d1", "aa", 0): 0.80, ("d1", "aa", 1): 0.60,
    ("d1", "bb", 0): 0.70, ("d1", "bb", 1): 0.70,
    ("d2", "aa", 0): 1.50, ("d2", "aa", 1): 1.70,
    ("d2", "bb", 0): 1.20, ("d2", "bb", 1): 1.40,
}


def record(
    design: str, method: str, seed: int, proxy: float | None, budget: float = 5.0, overlap_area: float = 0.0
) -> RunRecord:
    """A run's row; ``overlap_area`` > 0 makes its placement illegal."""
    base = INITIAL[design]
    r = RunRecord(design=design, method=method, seed=seed, budget_s=budget, suite="/nowhere",
                  initial_proxy=base, initial_wirelength=base / 10, initial_density=base / 2,
                  initial_congestion=base / 2, version="0.1.0", git_commit="abc")
    if proxy is None:
        r.status, r.error = "failed", "RuntimeError: boom\nmore detail"
    else:
        r.proxy, r.wirelength, r.density, r.congestion = proxy, proxy / 10, proxy / 2, proxy / 2
        r.timing, r.seconds, r.overlap_area, r.out_of_canvas = 0.5, 4.0 + seed, overlap_area, 0
        r.timing_model = TIMING_MODEL
    return r


@pytest.fixture
def runs(tmp_path: Path) -> Path:
    store = ResultStore.in_runs_dir(tmp_path / "runs")
    for (design, method, seed), proxy in PROXY.items():
        store.write(record(design, method, seed, proxy))
    store.write(record("d2", "cc", 0, None))  # a method that only failed
    store.write(record("d1", "cc", 0, 0.5))
    return tmp_path / "runs"


def cell(table: pd.DataFrame, design: str, method: str, column: str) -> object:
    row = table[(table["design"] == design) & (table["method"] == method)]
    assert len(row) == 1
    return row.iloc[0][column]


def test_build_keeps_the_best_seed_and_the_initial_reference(runs: Path) -> None:
    table = build(runs)
    assert set(zip(table["design"], table["method"], strict=True)) == {
        ("d1", "initial"), ("d1", "aa"), ("d1", "bb"), ("d1", "cc"),
        ("d2", "initial"), ("d2", "aa"), ("d2", "bb"), ("d2", "cc"),
    }
    assert cell(table, "d1", "aa", "proxy") == 0.60
    assert cell(table, "d1", "aa", "seconds") == 5.0  # the best seed's own run
    assert cell(table, "d1", "aa", "proxy_mean") == pytest.approx(0.70)
    assert cell(table, "d1", "aa", "seeds") == 2
    assert cell(table, "d1", "initial", "proxy") == 1.0
    assert cell(table, "d2", "initial", "wirelength") == pytest.approx(0.2)
    assert cell(table, "d2", "cc", "failed") == 1 and pd.isna(cell(table, "d2", "cc", "proxy"))
    best = table[table["best"]]
    assert set(zip(best["design"], best["method"], strict=True)) == {("d1", "cc"), ("d2", "bb")}


def test_mean_aggregate_and_summary_rows(runs: Path) -> None:
    table = build(runs, aggregate="mean")
    assert cell(table, "d2", "aa", "proxy") == pytest.approx(1.60)
    summary = summary_rows(pivot(table, "proxy"))
    # cc has no ok run on d2, so means and ranks are over d1 only
    assert summary.attrs["n_designs"] == 1
    assert summary.loc["mean", "aa"] == pytest.approx(0.70)
    assert summary.loc["mean rank", "cc"] == 1 and pd.isna(summary.loc["mean rank", "initial"])
    with pytest.raises(ValueError, match="aggregate"):
        build(runs, aggregate="median")


def test_timing_means_do_not_wait_for_the_initial_column(runs: Path) -> None:
    timing = summary_rows(pivot(build(runs), "timing"))  # initial has no timing at all
    assert timing.attrs["n_designs"] == 1  # d1: the one design every method finished
    assert timing.loc["mean", "aa"] == pytest.approx(0.5)
    assert timing.loc["mean rank", ["aa", "bb", "cc"]].tolist() == [2.0, 2.0, 2.0]  # (one timing each: tied)
    assert pd.isna(timing.loc["mean", "initial"])


def test_written_files(runs: Path, tmp_path: Path) -> None:
    paths = write_leaderboard(runs, tmp_path / "board")
    markdown = paths["markdown"].read_text()
    proxy_table = markdown.split("## Proxy")[1].split("##")[0]
    assert "| design | initial | cc | aa | bb |" in proxy_table  # initial, then by mean rank
    # d1: cc's 0.5 leads aa's best of two by 0.1, within aa's seed sd (0.14): no bold
    assert "| d1 | 1.0000 | 0.5000 | 0.6000 (n 2, sd 0.1414) | 0.7000 (n 2, sd 0.0000) |" in proxy_table
    assert "| d2 | 2.0000 | failed | 1.5000 (n 2, sd 0.1414) | **1.2000** (n 2, sd 0.1414) |" in proxy_table
    assert "| **mean rank** | — | 1.00 | 2.00 | 3.00 |" in proxy_table
    assert "`mean` and `mean rank` are over 1 of 2 design(s)." in proxy_table  # d2 lacks cc
    assert "are over 1 of 2 design(s).</p>" in paths["html"].read_text()
    assert "d2 / cc / seed 0: RuntimeError: boom" in markdown and "more detail" not in markdown
    assert "best seed" in markdown
    csv = pd.read_csv(paths["csv"])
    assert len(csv) == 8 and "best" in csv.columns
    assert "<td><b>1.2000</b> (n 2, sd 0.1414)</td>" in paths["html"].read_text()
    assert paths["png"].read_bytes()[:4] == b"\x89PNG"


def test_runs_that_returned_their_start_are_named(tmp_path: Path) -> None:
    """A method whose own result could not be legalised hands back the given placement,
    legalised (its row ok, with a note): the page ranked that cell as the method's own."""
    store = ResultStore.in_runs_dir(tmp_path / "runs")
    for (design, method, seed), proxy in PROXY.items():
        run = record(design, method, seed, proxy)
        if (design, method, seed) == ("d1", "bb", 1):
            run.note = "bb's placement could not be legalised (no cell fits); kept the given one"
        store.write(run)
    markdown = write_leaderboard(tmp_path / "runs", tmp_path / "board")["markdown"].read_text()
    assert ("1 run(s) returned the given placement, legalised, because the method's own result could not be "
            "legalised: d1/bb/seed1; their numbers are the start's, not the method's.") in markdown  # fmt: skip


def test_runs_well_past_their_budget_are_named(tmp_path: Path) -> None:
    """A plugin that slept past its 3 s budget (6 s) was ranked beside methods that stopped on
    time; only the seconds table showed its time, unmarked. A fifth of a second over (set-up on
    a busy machine) is no overrun; a whole second was too loose at 1 s budgets (2 s unnamed)."""
    store = ResultStore.in_runs_dir(tmp_path / "runs")
    for (design, method, seed), proxy in PROXY.items():
        run = record(design, method, seed, proxy)  # 5 s budget, 4-5 s
        if (design, method, seed) == ("d2", "aa", 1):
            run.seconds = 12.04
        if (design, method, seed) == ("d1", "bb", 0):
            run.seconds = 5.9  # under 20 % past
        store.write(run)
    for budget, seconds in ((0.5, 0.65), (100.0, 115.0)):  # past one limit only: no overrun
        run = record("d1", "aa", 0, 0.8, budget=budget)
        run.seconds = seconds
        store.write(run)
    for budget, seconds in ((1.0, 2.0), (2.0, 2.9)):  # past both: named (not with a second's margin)
        run = record("d2", "bb", 0, 1.2, budget=budget)
        run.seconds = seconds
        store.write(run)
    markdown = write_leaderboard(tmp_path / "runs", tmp_path / "board")["markdown"].read_text()
    assert ("3 run(s) took more than 20% past their budget (and over 0.2 s more): d2/aa/seed1 (12.0 s of 5 s), "
            "d2/bb/seed0 (2.0 s of 1 s), d2/bb/seed0 (2.9 s of 2 s); "
            "they are compared with runs that stopped on time.") in markdown  # fmt: skip


def test_several_budgets_are_separate_columns(tmp_path: Path) -> None:
    store = ResultStore.in_runs_dir(tmp_path)
    store.write(record("d1", "aa", 0, 0.9, budget=5.0))
    store.write(record("d1", "aa", 0, 0.8, budget=50.0))
    assert set(build(tmp_path)["method"]) == {"initial", "aa@5s", "aa@50s"}


def test_several_runs_folders_are_pooled_and_a_repeated_run_counts_once(tmp_path: Path) -> None:
    first = ResultStore.in_runs_dir(tmp_path / "a")
    first.write(record("d1", "aa", 0, 0.9))
    first.write(record("d2", "aa", 0, None))  # failed here, finished ok in the second folder
    second = ResultStore.in_runs_dir(tmp_path / "b")
    second.write(record("d1", "aa", 0, 0.9))  # the same run again (a copy): counted once
    second.write(record("d2", "aa", 0, 1.1))
    second.write(record("d1", "bb", 0, 0.7))
    table = build([tmp_path / "a", tmp_path / "b"])
    assert cell(table, "d1", "aa", "proxy") == pytest.approx(0.9)
    assert cell(table, "d1", "aa", "seeds") == 1
    assert cell(table, "d2", "aa", "proxy") == pytest.approx(1.1)
    assert cell(table, "d2", "aa", "failed") == 0
    assert bool(cell(table, "d1", "bb", "best"))
    with pytest.raises(ValueError, match="no runs folder"):
        build([])
    # another run numbered alike (each batch numbers its seeds from 0): the first folder's was
    # kept without a word, so the table hung on the order of the folders
    ResultStore.in_runs_dir(tmp_path / "c").write(record("d1", "aa", 0, 0.1))
    for folders in (["a", "c"], ["c", "a"]):
        with pytest.raises(ValueError, match=r"aa on d1, seed 0 \(5 s\) was run by separate batches into several "
                                             r"folders \(proxy 0\.\d in .*; proxy 0\.\d in .*; each batch's run is its "
                                             r"own, even where the figures agree\): each batch numbers its seeds from 0"):
            build([tmp_path / f for f in folders])
    # the same proxy, another run (other seconds and timing): the kept row hung on the order
    twin = record("d1", "aa", 0, 0.9)
    twin.timing, twin.seconds = 0.1, 40.0
    ResultStore.in_runs_dir(tmp_path / "e").write(twin)
    with pytest.raises(ValueError, match=r"was run by separate batches into several folders \(proxy 0\.9 in .*; proxy 0\.9 in"):
        build([tmp_path / "a", tmp_path / "e"])


def make_app() -> typer.Typer:
    app = typer.Typer()
    register(app)

    @app.callback()
    def _root() -> None:  # keeps "leaderboard" a named sub-command
        pass

    return app


def test_the_page_names_the_placer_command_that_wrote_it(runs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """leaderboard.md and .html named no command: a recorded page did not say how to make it
    again. The command line is shown as typed (shell-quoted), its program as ``placer``; a page
    written from Python claims none."""
    import html
    import shlex

    from placer.provenance import environment_prefix

    argv = ["leaderboard", str(runs), "--out", str(tmp_path / "the page"), "--aggregate", "mean"]
    monkeypatch.setattr(sys, "argv", ["/a/venv/bin/placer", *argv])
    result = CliRunner().invoke(make_app(), argv)
    assert result.exit_code == 0, result.output
    command = environment_prefix() + shlex.join(["placer", *argv])
    markdown = (tmp_path / "the page" / "leaderboard.md").read_text().splitlines()
    assert markdown[:4] == ["# Leaderboard", "", f"Made by `{command}`.", ""]
    assert markdown[4].startswith("Generated ")
    page = (tmp_path / "the page" / "leaderboard.html").read_text()
    assert f"<h1>Leaderboard</h1><p>Made by <code>{html.escape(command)}</code>.</p><p>Generated " in page
    assert "Made by" not in write_leaderboard(runs, tmp_path / "from_python")["markdown"].read_text()


def test_cli(runs: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(make_app(), ["leaderboard", str(runs), "--out", str(tmp_path / "b")])
    assert result.exit_code == 0, result.output
    assert "1.2000" in result.output and (tmp_path / "b" / "leaderboard.md").is_file()
    (tmp_path / "none").mkdir()
    missing = runner.invoke(make_app(), ["leaderboard", str(tmp_path / "none")])
    assert missing.exit_code == 2 and "no results database" in missing.output
    other = tmp_path / "other"
    ResultStore.in_runs_dir(other).write(record("d1", "dd", 0, 0.4))
    pooled = runner.invoke(
        make_app(), ["leaderboard", str(runs), str(other), "--out", str(tmp_path / "c")]
    )
    assert pooled.exit_code == 0, pooled.output
    assert "0.4000" in pooled.output and "dd" in pooled.output
    bad = runner.invoke(make_app(), ["leaderboard", str(runs), "--aggregate", "median"])
    assert bad.exit_code == 2 and "--aggregate" in bad.output


def test_keep_adds_the_cells_of_an_earlier_table_that_the_runs_lack(
    runs: Path, tmp_path: Path
) -> None:
    earlier = write_leaderboard(runs, tmp_path / "earlier")["csv"]
    old = pd.read_csv(earlier)
    old.loc[old["method"] == "bb", "method"] = "zz"  # a method with no runs any more
    old.loc[old["method"] == "aa", "proxy"] = 9.0  # the runs' own cells win over kept ones
    old.to_csv(earlier, index=False)
    store = ResultStore.in_runs_dir(tmp_path / "new")
    store.write(record("d1", "aa", 0, 0.9))
    store.write(record("d2", "aa", 0, 1.6))
    paths = write_leaderboard(tmp_path / "new", tmp_path / "page", keep=earlier)
    table = pd.read_csv(paths["csv"])
    assert cell(table, "d1", "aa", "proxy") == pytest.approx(0.9)
    assert cell(table, "d1", "zz", "proxy") == pytest.approx(0.7)
    assert cell(table, "d2", "zz", "proxy") == pytest.approx(1.2)
    assert bool(cell(table, "d2", "zz", "best")) and not bool(cell(table, "d2", "aa", "best"))
    assert "Cells of `cc`, `zz` are kept from an earlier table" in paths["markdown"].read_text()
    import csv

    with open(paths["csv"], newline="") as written:  # seeds and failed stay whole numbers (1.0 before)
        rows = list(csv.DictReader(written))
    assert {r["seeds"] for r in rows} <= {"0", "1", "2", "3"} and {r["failed"] for r in rows} <= {"0", "1"}, rows[0]
    bare = tmp_path / "bare.csv"  # an older table: no counts at all (they were skipped: 3.0 in the runs' rows)
    bare.write_text("design,method,proxy\nd1,yy,0.8\n")
    with open(write_leaderboard(tmp_path / "new", tmp_path / "bare_page", keep=bare)["csv"], newline="") as written:
        rows = list(csv.DictReader(written))
    assert {r["seeds"] for r in rows} <= {"", "0", "1", "2", "3"} and "" in {r["seeds"] for r in rows}, rows


def test_keep_rejects_a_file_that_is_not_a_leaderboard(runs: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match="not a leaderboard CSV"):
        write_leaderboard(runs, tmp_path / "page", keep=bad)
    assert not (tmp_path / "page").exists()  # (an empty --out folder was left)


def test_the_header_counts_seeds_per_column_and_the_html_renders_code(tmp_path: Path) -> None:
    """sa at 1 s (2 seeds) and at 2 s (3 seeds) are two columns: the header said 'up to 5
    seed(s)'; the HTML showed the notes' Markdown backticks as text."""
    store = ResultStore.in_runs_dir(tmp_path / "runs")
    for seed in range(2):
        store.write(record("d1", "sa", seed, 0.9, budget=1.0))
    for seed in range(3):
        store.write(record("d1", "sa", seed, 0.8, budget=2.0))
    paths = write_leaderboard(tmp_path / "runs", tmp_path / "page")
    assert "up to 3 seed(s) per design and method" in paths["markdown"].read_text()
    page = paths["html"].read_text()
    assert "<code>initial.plc</code>" in page and "`" not in page


def test_pooling_one_run_made_with_other_options_is_refused(tmp_path: Path) -> None:
    for folder, options in (("a", '{"scale": 0.3}'), ("b", '{"scale": 0.9}')):
        run = record("d1", "aa", 0, 0.9)
        run.options = options
        ResultStore.in_runs_dir(tmp_path / folder).write(run)
    with pytest.raises(ValueError, match=r"aa \(5 s\) was run with different options \(d1 seed 0"):
        build([tmp_path / "a", tmp_path / "b"])
    # two seeds, each with its own options, in one cell: refused too (they were pooled)
    ResultStore.in_runs_dir(tmp_path / "c").write(record("d1", "aa", 1, 0.8))  # options "{}"
    with pytest.raises(ValueError, match=r"seed 0: \{\"scale\": 0.3\} .*seed 1: \{\} .*one column would mix them"):
        build([tmp_path / "a", tmp_path / "c"])
    # one design's runs with other options than the rest of the column (they were averaged in)
    ResultStore.in_runs_dir(tmp_path / "d").write(record("d2", "aa", 0, 0.8))  # options "{}"
    with pytest.raises(ValueError, match=r"d1 seed 0: \{\"scale\": 0.3\} .*d2 seed 0: \{\} .*one column would mix them"):
        build([tmp_path / "a", tmp_path / "d"])


def test_pooling_runs_of_a_plugin_edited_in_between_is_refused(tmp_path: Path) -> None:
    """Two folders of one plugin method, run before and after an edit of its file (each row
    records the class and the file's digest), were pooled into one column naming neither."""
    for folder, seed, digest in (("a", 0, "7e8a1e80c0f6"), ("b", 1, "1384e10baef6"), ("c", 1, "7e8a1e80c0f6")):
        run = record("d1", "mine", seed, 0.9)
        run.method_source = f"Mine (sha1 {digest}) from /home/me/{folder}/myplug.py"
        ResultStore.in_runs_dir(tmp_path / folder).write(run)
    with pytest.raises(ValueError, match=r"mine \(5 s\) was run by different code \(Mine \(sha1 7e8a1e80c0f6\)"):
        build([tmp_path / "a", tmp_path / "b"])
    table = build([tmp_path / "a", tmp_path / "c"])  # the same code, moved: pooled
    assert cell(table, "d1", "mine", "seeds") == 2


def test_reading_never_writes_and_reads_an_older_file(tmp_path: Path) -> None:
    import sqlite3

    db = tmp_path / "runs" / "results.sqlite"
    ResultStore(db).write(record("d1", "aa", 0, 0.9))
    conn = sqlite3.connect(db)
    with conn:  # an older file: no timing column yet
        conn.execute("ALTER TABLE runs DROP COLUMN timing")
    conn.close()
    before = db.read_bytes()
    table = build(tmp_path / "runs")
    assert cell(table, "d1", "aa", "proxy") == pytest.approx(0.9)
    assert db.read_bytes() == before  # no column added, no journal mode set
    assert sorted(p.name for p in db.parent.iterdir()) == ["results.sqlite"]  # no -shm, -wal
    assert list(ResultStore(db, read_only=True).records())[0].timing is None


def test_a_corrupt_results_database_is_one_line_and_exit_2(runs: Path) -> None:
    (runs / "results.sqlite").write_bytes(b"this is not a database" * 100)
    result = CliRunner().invoke(make_app(), ["leaderboard", str(runs)])
    assert result.exit_code == 2, result.output
    assert "not a readable results database" in result.output
    assert "Traceback" not in result.output


def test_a_method_that_failed_everywhere_leaves_the_others_their_means(tmp_path: Path) -> None:
    store = ResultStore.in_runs_dir(tmp_path)
    for design in ("d1", "d2"):
        store.write(record(design, "aa", 0, 0.8))
        store.write(record(design, "bb", 0, None))  # failed on every design
    summary = summary_rows(pivot(build(tmp_path), "proxy"))
    assert summary.attrs["n_designs"] == 2
    assert summary.loc["mean", "aa"] == pytest.approx(0.8) and summary.loc["mean rank", "aa"] == 1
    assert pd.isna(summary.loc["mean", "bb"])


def test_two_different_designs_sharing_a_name_are_not_pooled(tmp_path: Path) -> None:
    a, b = tmp_path / "a.pb.txt", tmp_path / "b.pb.txt"
    a.write_text("node { name: \"x\" }\n")
    b.write_text("node { name: \"y\" }\n")
    for folder, netlist, method in (("runA", a, "aa"), ("runB", b, "bb")):
        r = record("d1", method, 0, 0.5)
        r.netlist_path = str(netlist)
        ResultStore.in_runs_dir(tmp_path / folder).write(r)
    with pytest.raises(ValueError, match="design 'd1' comes from two different netlists"):
        build([tmp_path / "runA", tmp_path / "runB"])
    b.write_text(a.read_text())  # the same design in two places: pooled
    assert set(build([tmp_path / "runA", tmp_path / "runB"])["method"]) == {"initial", "aa", "bb"}


def test_one_design_file_edited_between_two_folders_runs_is_not_pooled(tmp_path: Path) -> None:
    """Same path, same name, but its initial.plc edited between the runs: the digests differ
    (pooling compared paths only and pooled them, and their `initial` disagreed)."""
    for folder, method, digest in (("runA", "aa", "1" * 64), ("runB", "bb", "2" * 64)):
        r = record("d1", method, 0, 0.5)
        r.netlist_path, r.design_digest = str(tmp_path / "netlist.pb.txt"), digest
        ResultStore.in_runs_dir(tmp_path / folder).write(r)
    failed = record("d1", "cc", 0, None)  # a failed run of a third version measured nothing
    failed.netlist_path, failed.design_digest = str(tmp_path / "netlist.pb.txt"), "3" * 64
    ResultStore.in_runs_dir(tmp_path / "runA").write(failed)
    with pytest.raises(ValueError, match="design 'd1' was placed from two versions of its files"):
        build([tmp_path / "runA", tmp_path / "runB"])
    assert set(build(tmp_path / "runA")["method"]) == {"initial", "aa", "cc"}


def test_an_ok_row_without_a_cost_counts_as_failed(tmp_path: Path) -> None:
    store = ResultStore.in_runs_dir(tmp_path / "runs")
    store.write(record("d1", "aa", 0, 0.5))
    hollow = record("d1", "bb", 0, 0.4)
    hollow.proxy = None  # as another tool or a hand edit could leave it
    store.write(hollow)
    table = build(tmp_path / "runs")
    assert cell(table, "d1", "bb", "failed") == 1 and pd.isna(cell(table, "d1", "bb", "proxy"))
    assert bool(cell(table, "d1", "aa", "best"))


def test_costs_equal_but_for_their_last_bits_tie(tmp_path: Path) -> None:
    store = ResultStore.in_runs_dir(tmp_path / "runs")
    for method, proxy in (("aa", 0.3257826790703804), ("bb", 0.3257826790703805), ("cc", 0.32578267907038055),
                          ("dd", 0.4)):
        store.write(record("d1", method, 0, proxy))
    table = build(tmp_path / "runs")
    assert set(table[table["best"]]["method"]) == {"aa", "bb", "cc"}
    ranks = summary_rows(pivot(table, "proxy")).loc["mean rank"]
    assert (ranks["aa"], ranks["bb"], ranks["cc"], ranks["dd"]) == (2, 2, 2, 4)  # (ranks 1-3 shared)


def test_tied_methods_share_the_mean_of_their_ranks_and_order_no_one_ahead(tmp_path: Path) -> None:
    """Ties shared the lowest rank: two methods tied on a design both ranked 1 beside a third at
    3, so per design the ranks did not sum to n(n+1)/2 and the tied pair gained on the others
    (the recorded page put sa before analytical by two ties of sa with fd)."""
    store = ResultStore.in_runs_dir(tmp_path / "runs")
    for design, costs in (("d1", {"aa": 0.5, "bb": 0.5, "cc": 0.6}), ("d2", {"aa": 0.7, "bb": 0.9, "cc": 0.8})):
        for method, proxy in costs.items():
            store.write(record(design, method, 0, proxy))
    ranks = summary_rows(pivot(build(tmp_path / "runs"), "proxy")).loc["mean rank"]
    assert (ranks["aa"], ranks["bb"], ranks["cc"]) == (1.25, 2.25, 2.5)  # d1: 1.5, 1.5, 3; d2: 1, 3, 2
    assert ranks[["aa", "bb", "cc"]].sum() == 2 * 6 / 2


def test_an_exploded_cost_prints_in_a_few_digits_and_a_binary_keep_file_in_one_line(runs: Path, tmp_path: Path) -> None:
    from placer.cost.proxy import ProxyCost
    from placer.leaderboard import read_leaderboard_csv
    from placer.leaderboard.render import _cell
    from placer.plot import cost_title

    assert _cell(1.234e300, "proxy") == "1.234e+300" and _cell(0.5, "proxy") == "0.5000"
    assert "proxy 2e+300 = wirelength 1e+300" in cost_title("d", ProxyCost(1e300, 2e300, 0.0, 1.0, 1.0))
    binary = tmp_path / "binary.bin"
    binary.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(ValueError) as info:
        read_leaderboard_csv(binary)
    assert str(binary) in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize("rows", ["a,x,old,0.5,1\n", "x,a,old,0.5\nx,a,old,0.6\n"])
def test_a_keep_csv_row_longer_than_its_header_is_refused(tmp_path: Path, rows: str) -> None:
    """pandas took a row's extra leading fields as its index: one such CSV read with every
    column shifted (a method named 0.5, exit 0), another failed in pandas' words (exit 70)."""
    from netlists.errors import InputError
    from placer.leaderboard import read_leaderboard_csv

    kept = tmp_path / "kept.csv"
    kept.write_text("design,method,proxy\n" + rows)
    with pytest.raises(InputError, match="cannot read an earlier leaderboard CSV"):
        read_leaderboard_csv(kept)


def test_one_design_gzipped_twice_is_pooled(tmp_path: Path) -> None:
    """Two gzip copies of one netlist differ in their header bytes (the time written in it)."""
    import gzip

    text = b'node { name: "x" }\n'
    a, b = tmp_path / "a.pb.txt.gz", tmp_path / "b.pb.txt.gz"
    a.write_bytes(gzip.compress(text, mtime=1))
    b.write_bytes(gzip.compress(text, mtime=2))
    assert a.read_bytes() != b.read_bytes()
    for folder, netlist, method in (("runA", a, "aa"), ("runB", b, "bb")):
        r = record("d1", method, 0, 0.5)
        r.netlist_path = str(netlist)
        ResultStore.in_runs_dir(tmp_path / folder).write(r)
    assert set(build([tmp_path / "runA", tmp_path / "runB"])["method"]) == {"initial", "aa", "bb"}


def test_the_terminal_shows_the_tables_without_markdown_marks(tmp_path: Path) -> None:
    """split("## ") cut "### Pairwise wins" too, printing a line holding only "#", and the
    terminal showed the page's escapes and bold marks (``a\\_design``, ``**0.6545**``)."""
    store = ResultStore.in_runs_dir(tmp_path / "runs")
    for (design, method, seed), proxy in PROXY.items():
        r = record(design, method, seed, proxy)
        r.design = f"a_{design}<x>" + "_and_a_long_name" * 4  # (a row past 80 columns)
        store.write(r)
    result = CliRunner().invoke(make_app(), ["leaderboard", str(tmp_path / "runs")])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "#" not in [line.strip() for line in lines] and "\\_" not in result.output and "**" not in result.output
    assert "&lt;" not in result.output and any(line.startswith("| a_d1<x>_and_a_long_name") for line in lines)
    assert any("Pairwise wins" in line for line in lines)
    header = next(line for line in lines if line.startswith("| design |"))
    assert all(line.count("|") == header.count("|") for line in lines if line.startswith("| a_d"))  # (rows whole)
    markdown = (tmp_path / "runs" / "leaderboard.md").read_text()
    assert "a\\_d1&lt;x&gt;\\_and" in markdown and "**" in markdown  # (the page keeps them)


def test_the_terminal_reads_only_the_pages_own_escapes() -> None:
    """Every entity was read (a design "R&D&copy2" showed as "R&D©2") and every backslash
    taken as an escape, inside code spans too (```a\\b``` showed as "ab")."""
    from placer.commands.leaderboard import _terminal_text
    from placer.leaderboard.render import _markdown_note, _markdown_text

    for name in ("R&D&copy2", "a_b*c*", "x\\y", "&lt;", "[l](u)", "a|b"):
        assert _terminal_text(_markdown_text(name)).plain == name
        assert _terminal_text(_markdown_note(f"design {name} ran")).plain == f"design {name} ran"
    assert _terminal_text("R&D&copy2 &quot;").plain == "R&D&copy2 &quot;"  # (no entity the page makes)
    shown = _terminal_text("designs `a\\b` and `x&lt;y` ran, **bold** \\`no code\\`")
    assert shown.plain == "designs `a\\b` and `x<y` ran, bold `no code`"
    assert [shown.plain[span.start:span.end] for span in shown.spans if span.style == "bold"] == ["bold"]


def test_design_names_in_the_tables_notes_are_written_literally(tmp_path: Path) -> None:
    """The `geomean vs initial` note named its designs unescaped in the .md (``a_b_`` as
    emphasis, ``&copy`` an entity); the terminal shows them as named."""
    store = ResultStore.in_runs_dir(tmp_path / "runs")
    zero = _named("R&D&copy2_a_b_", "greedy", 0.5)
    zero.initial_proxy = 0.0  # (no ratio to it: left out of the geomean, by name)
    store.write(zero)
    store.write(_named("plain", "greedy", 0.7))
    result = CliRunner().invoke(make_app(), ["leaderboard", str(tmp_path / "runs")])
    assert result.exit_code == 0, result.output
    markdown = (tmp_path / "runs" / "leaderboard.md").read_text()
    assert "`geomean vs initial` leaves out R&amp;D&amp;copy2\\_a\\_b\\_: its `initial` proxy" in markdown
    assert "leaves out R&D&copy2_a_b_: its `initial` proxy" in result.output


def _named(design: str, method: str, proxy: float) -> RunRecord:
    r = RunRecord(design=design, method=method, seed=0, budget_s=5.0, initial_proxy=1.0,
                  initial_wirelength=0.1, initial_density=0.5, initial_congestion=0.5)
    r.proxy, r.wirelength, r.density, r.congestion = proxy, proxy / 10, proxy / 2, proxy / 2
    r.timing, r.seconds, r.overlap_area, r.out_of_canvas = 0.5, 1.0, 0.0, 0
    return r


def test_designs_called_mean_or_holding_markdown_keep_their_rows(tmp_path: Path) -> None:
    """A design named "mean" lost its row to the summary row; "a|b" split its Markdown row."""
    store = ResultStore.in_runs_dir(tmp_path / "runs")
    for design, proxy in (("mean", 0.8227), ("a|b", 0.7), ("<i>x&y", 0.6)):
        store.write(_named(design, "greedy", proxy))
    markdown = write_leaderboard(tmp_path / "runs")["markdown"].read_text()
    assert "| mean | 1.0000 | **0.8227** |" in markdown  # the design, not bold
    assert "| **mean** |" in markdown  # and the summary row
    assert "| a\\|b | 1.0000 | **0.7000** |" in markdown
    assert "| &lt;i&gt;x&amp;y |" in markdown


def test_markdown_cells_show_backslashes_emphasis_links_and_backticks_as_written(tmp_path: Path) -> None:
    """Table cells escaped ``|`` only: a design x\\|y rendered as x|y, a method *st* in
    italics (and _u_, [l](u), `c` as emphasis, a link, code). Rendered here as GitHub does
    (markdown-it's table rule), every name reads back as written."""
    from html.parser import HTMLParser

    markdown_it = pytest.importorskip("markdown_it")

    class Cells(HTMLParser):
        """Each table cell's text, and the tags met inside cells."""

        def __init__(self) -> None:
            super().__init__()
            self.cells: list[str] = []
            self.inner: list[str] = []
            self.open = False

        def handle_starttag(self, tag: str, attrs: object) -> None:
            if tag in ("td", "th"):
                self.cells.append("")
                self.open = True
            elif self.open:
                self.inner.append(tag)

        def handle_endtag(self, tag: str) -> None:
            self.open = self.open and tag not in ("td", "th")

        def handle_data(self, data: str) -> None:
            if self.open:
                self.cells[-1] += data

    designs = ["x\\|y", "a\\b", "`c`", "[l](http://e.x)", "d_e_f"]
    methods = ["*st*", "_u_", "m\\*n\\"]
    store = ResultStore.in_runs_dir(tmp_path / "runs")
    for design in designs:
        for k, method in enumerate(methods):
            store.write(_named(design, method, 0.5 + k / 10))
    markdown = write_leaderboard(tmp_path / "runs")["markdown"].read_text()
    parser = Cells()
    parser.feed(markdown_it.MarkdownIt("commonmark").enable("table").render(markdown))
    assert set(designs) <= set(parser.cells) and set(methods) <= set(parser.cells), parser.cells
    assert not {"em", "a", "code"} & set(parser.inner), parser.inner  # (strong: the best figures, the summary)


def test_keep_reads_design_names_as_written(tmp_path: Path) -> None:
    """--keep read "007" as 7.0 and "NA" as a missing name: each design split into two rows."""
    store = ResultStore.in_runs_dir(tmp_path / "first")
    for design in ("007", "NA"):
        store.write(_named(design, "greedy", 0.8))
    earlier = write_leaderboard(tmp_path / "first")["csv"]
    store = ResultStore.in_runs_dir(tmp_path / "second")
    for design in ("007", "NA"):
        store.write(_named(design, "fd", 0.9))
    table = pd.read_csv(write_leaderboard(tmp_path / "second", keep=earlier)["csv"], dtype={"design": str},
                        keep_default_na=False)
    assert sorted(set(table["design"])) == ["007", "NA"]
    assert cell(table, "007", "greedy", "proxy") == pytest.approx(0.8)


def test_the_chart_says_so_when_no_method_has_a_result(tmp_path: Path) -> None:
    """Every run failed: the chart said nothing (a tick, no bar, an empty axis)."""
    from placer.leaderboard import bar_figure

    store = ResultStore.in_runs_dir(tmp_path)
    store.write(record("d1", "aa", 0, None))
    table = build(tmp_path)
    texts = [t.get_text() for t in bar_figure(table, ["aa"]).axes[0].texts]
    assert "no successful run to chart" in texts
    store.write(record("d1", "bb", 0, 0.7))
    texts = [t.get_text() for t in bar_figure(build(tmp_path), ["aa", "bb"]).axes[0].texts]
    assert "no successful run to chart" not in texts
    # every run succeeded but no design has every method (folders pooled over other designs)
    other = ResultStore.in_runs_dir(tmp_path / "other")
    other.write(record("d1", "aa", 0, 0.9))
    other.write(record("d2", "bb", 0, 0.7))
    texts = [t.get_text() for t in bar_figure(build(tmp_path / "other"), ["aa", "bb"]).axes[0].texts]
    assert "no design has a result of every method" in texts and "no successful run to chart" not in texts


def test_a_chart_of_failed_runs_has_no_value_axis(tmp_path: Path) -> None:
    """Every run failed: the chart's y axis ran -0.04..0.04 around its "no successful run"
    text, values of nothing."""
    from placer.leaderboard import bar_figure

    store = ResultStore.in_runs_dir(tmp_path)
    store.write(record("d1", "sa", 0, None))
    store.write(record("d2", "sa", 0, None))
    axes = bar_figure(build(tmp_path), ["sa"]).axes[0]
    assert not axes.yaxis.get_visible() and "no successful run to chart" in [t.get_text() for t in axes.texts]
    store.write(record("d1", "aa", 0, 0.7))
    store.write(record("d2", "aa", 0, 0.6))
    axes = bar_figure(build(tmp_path), ["aa", "sa"]).axes[0]
    assert axes.yaxis.get_visible() and axes.get_ylabel() == "mean proxy cost (lower is better)"


def test_the_chart_says_its_budget_aggregation_and_bar_order(tmp_path: Path) -> None:
    """The chart travels without the page: it said neither the budget, nor whether a bar was a
    best seed or a mean over seeds, nor that the bars stand in mean-rank order (not by height)."""
    from placer.leaderboard import bar_figure, method_order

    store = ResultStore.in_runs_dir(tmp_path / "one")
    for seed in (0, 1):
        store.write(record("d1", "aa", seed, 0.8 - 0.1 * seed, budget=600.0))
        store.write(record("d1", "bb", seed, 0.9, budget=600.0))
    best = build(tmp_path / "one")
    figure = bar_figure(best, method_order(best))
    first, *rest = figure.axes[0].get_title().splitlines()  # (broken to the chart's width)
    assert first == "Mean proxy per method over 1 design(s)"
    assert " ".join(rest) == "budget 600 s per run, each cell the best seed; methods ordered by mean rank"
    figure.canvas.draw()
    title = figure.axes[0].title.get_window_extent()
    assert figure.bbox.x0 <= title.x0 and title.x1 <= figure.bbox.x1  # inside a chart of two bars
    kept = best.copy()  # (cells kept from an older table record neither)
    kept.loc[kept["method"] == "bb", ["budget_s", "aggregate"]] = float("nan")
    assert " ".join(bar_figure(kept, method_order(kept)).axes[0].get_title().splitlines()[1:]) == (
        "budget 600 s per run, each cell the best seed (bb: not recorded); methods ordered by mean rank")
    mean = build(tmp_path / "one", aggregate="mean")
    assert "each cell the mean over seeds" in " ".join(bar_figure(mean, method_order(mean)).axes[0].get_title().split())
    other = ResultStore.in_runs_dir(tmp_path / "two")
    other.write(record("d1", "aa", 0, 0.8, budget=5.0))
    other.write(record("d1", "aa", 0, 0.7, budget=50.0))
    mixed = build(tmp_path / "two")
    assert "budgets 5, 50 s, each cell the best seed;" in " ".join(bar_figure(mixed, method_order(mixed)).axes[0].get_title().split())


def test_runs_whose_plc_is_gone_or_uneven_seed_counts_are_named(tmp_path: Path) -> None:
    """A deleted .plc and a best-of-one beside bests-of-two went unmentioned."""
    store = ResultStore.in_runs_dir(tmp_path / "runs")
    for seed in (0, 1):
        store.write(record("d1", "aa", seed, 0.8 - 0.1 * seed))
    gone = record("d1", "bb", 0, 0.7)
    gone.plc_path = "d1/bb/seed0.plc"  # never written here: as if removed by hand
    store.write(gone)
    store.write(record("d1", "bb", 1, None))
    text = write_leaderboard(tmp_path / "runs", tmp_path / "page")["markdown"].read_text()
    assert "1 run(s) no longer have their .plc (removed or replaced): d1/bb/seed0" in text
    assert "Cells from fewer ok seeds than others: d1/bb (1 of 2)." in text


def test_keep_refuses_cells_that_would_share_a_column_at_another_budget_or_aggregation(
    runs: Path, tmp_path: Path
) -> None:
    """A 2 s best seed and 1 s means were mixed in one column under the runs' header."""
    earlier = write_leaderboard(runs, tmp_path / "earlier", aggregate="mean")["csv"]
    store = ResultStore.in_runs_dir(tmp_path / "new")
    store.write(record("d1", "aa", 0, 0.9))  # aa on d1 only: d2's aa would come from the CSV
    with pytest.raises(ValueError, match="'aa' cell of d2 is the mean at 5 s; these runs' 'aa' is the best at 5 s"):
        write_leaderboard(tmp_path / "new", tmp_path / "page", keep=earlier)
    older = pd.read_csv(earlier).drop(columns=["budget_s", "aggregate"])  # a table from before
    older.to_csv(tmp_path / "older.csv", index=False)
    with pytest.raises(ValueError, match="records no budget or aggregation"):
        write_leaderboard(tmp_path / "new", tmp_path / "page", keep=tmp_path / "older.csv")
    same = write_leaderboard(runs, tmp_path / "same")["csv"]  # best at 5 s like the new runs
    table = pd.read_csv(write_leaderboard(tmp_path / "new", tmp_path / "page", keep=same)["csv"])
    assert cell(table, "d2", "aa", "proxy") == pytest.approx(1.5)


def test_kept_cells_take_the_budget_labels_of_runs_at_several_budgets(runs: Path, tmp_path: Path) -> None:
    """Runs at two budgets label their columns aa@5s; the kept table's plain aa (5 s, the same
    runs) became a second column beside them, and its note called it kept from elsewhere."""
    earlier = write_leaderboard(runs, tmp_path / "earlier")["csv"]  # aa, bb, cc at 5 s, plain
    store = ResultStore.in_runs_dir(tmp_path / "new")
    store.write(record("d1", "aa", 0, 0.9))
    store.write(record("d2", "aa", 0, 1.6))
    store.write(record("d1", "aa", 0, 0.8, budget=1.0))
    store.write(record("d2", "aa", 0, 1.4, budget=1.0))
    paths = write_leaderboard(tmp_path / "new", tmp_path / "page", keep=earlier)
    methods = set(pd.read_csv(paths["csv"])["method"])
    assert {"aa@5s", "aa@1s", "bb@5s", "cc@5s"} <= methods and "aa" not in methods and "bb" not in methods
    assert cell(pd.read_csv(paths["csv"]), "d1", "aa@5s", "proxy") == pytest.approx(0.9)  # the runs' own
    # the other way: runs at one budget beside a kept table labelled by budget
    single = ResultStore.in_runs_dir(tmp_path / "single")
    single.write(record("d1", "aa", 0, 0.7))
    single.write(record("d2", "aa", 0, 1.3))
    table = pd.read_csv(write_leaderboard(tmp_path / "single", tmp_path / "page2", keep=paths["csv"])["csv"])
    # one column per method and budget, every one labelled: the page spans two budgets
    assert {"aa@5s", "aa@1s"} <= set(table["method"]) and "aa" not in set(table["method"])
    assert cell(table, "d1", "aa@5s", "proxy") == pytest.approx(0.7)  # the runs' own 5 s cell


def earlier_table_at_5s(tmp_path: Path, method: str, proxy: float) -> Path:
    """The leaderboard.csv of ``method`` run at 5 s on d1 and d2 (for --keep)."""
    store = ResultStore.in_runs_dir(tmp_path / "five")
    for design in ("d1", "d2"):
        store.write(record(design, method, 0, proxy))
    return write_leaderboard(tmp_path / "five", tmp_path / "earlier")["csv"]


def test_kept_cells_at_another_budget_label_every_column(tmp_path: Path) -> None:
    """Runs of one method at 1 s beside kept cells of another at 5 s: both columns stood under
    plain headers, the page header naming 1 s only (pooled folders label them fd@5s, greedy@1s)."""
    earlier = earlier_table_at_5s(tmp_path, "fd", 0.9)
    one = ResultStore.in_runs_dir(tmp_path / "one")
    for design in ("d1", "d2"):
        one.write(record(design, "greedy", 0, 0.8, budget=1.0))
    paths = write_leaderboard(tmp_path / "one", tmp_path / "page", keep=earlier)
    assert set(pd.read_csv(paths["csv"])["method"]) == {"initial", "fd@5s", "greedy@1s"}
    assert "Cells of `fd@5s` are kept from an earlier table" in paths["markdown"].read_text()


def test_the_chart_marks_an_initial_bar_over_illegal_starts(tmp_path: Path) -> None:
    """The table's initial cells and the note carried the † of an illegal given placement; the
    chart's initial bar, a mean over them, did not."""
    from placer.leaderboard import bar_figure

    store = ResultStore.in_runs_dir(tmp_path)
    run = record("d1", "aa", 0, 0.7)
    run.initial_out_of_canvas = 1
    store.write(run)
    figure = bar_figure(build(tmp_path), ["initial", "aa"])
    assert [t.get_text() for t in figure.axes[0].get_xticklabels()] == ["initial†", "aa"]
    assert figure.get_supxlabel().startswith("† its mean counts placements that are not legal")  # said on it
    ResultStore.in_runs_dir(tmp_path / "legal").write(record("d1", "aa", 0, 0.7))  # nothing marked, nothing said
    assert bar_figure(build(tmp_path / "legal"), ["initial", "aa"]).get_supxlabel() == ""


def test_the_chart_labels_an_exploded_mean_without_flattening_the_others(tmp_path: Path) -> None:
    from placer.leaderboard import bar_figure

    store = ResultStore.in_runs_dir(tmp_path)
    store.write(record("d1", "aa", 0, 0.7))
    store.write(record("d1", "bb", 0, 1e300))
    axes = bar_figure(build(tmp_path), ["aa", "bb"]).axes[0]
    assert sorted(p.get_height() for p in axes.patches) == [0.0, 0.7]  # no 1e300 bar
    labels = [t.get_text() for t in axes.texts]
    assert "1e+300" in labels and "0.7000" in labels and max(map(len, labels)) < 10


def test_budgets_apart_by_less_than_g_shows_are_separate_columns(tmp_path: Path) -> None:
    store = ResultStore.in_runs_dir(tmp_path)
    store.write(record("d1", "aa", 0, 0.7, budget=1.0))
    store.write(record("d1", "aa", 0, 0.6, budget=1.0000001))
    assert {"aa@1s", "aa@1.0000001s"} <= set(build(tmp_path)["method"])


def test_failed_runs_in_markdown_are_text(tmp_path: Path) -> None:
    store = ResultStore.in_runs_dir(tmp_path)
    failed = record("d1", "aa", 0, None)
    failed.error = "ValueError: <b>bold</b> | piped"
    store.write(failed)
    store.write(record("d1", "bb", 0, 0.7))
    text = write_leaderboard(tmp_path, tmp_path / "page")["markdown"].read_text()
    assert "&lt;b&gt;bold&lt;/b&gt; \\| piped" in text


def test_an_illegal_placement_is_marked_never_bold_and_ranks_after_every_legal_one(tmp_path: Path) -> None:
    """A plugin returning its input unlegalised (macros out of the canvas) won the table: bold,
    mean rank 1, not a word on the page."""
    store = ResultStore.in_runs_dir(tmp_path / "runs")
    for design in ("d1", "d2"):
        store.write(record(design, "legal", 0, 0.9))
        cheat = record(design, "cheat", 0, 0.5)
        cheat.out_of_canvas = 1
        store.write(cheat)
        # an illegal seed better than its legal one (legal's lead, 0.1, beyond mixed's seed sd 0.057)
        store.write(record(design, "mixed", 0, 0.92, overlap_area=3.0))
        store.write(record(design, "mixed", 1, 1.0))
    table = build(tmp_path / "runs")
    best = table[table["best"]]
    assert set(best["method"]) == {"legal"}
    assert cell(table, "d1", "mixed", "proxy") == pytest.approx(1.0)  # its best legal seed
    ranks = summary_rows(pivot(table, "proxy"), illegal_pivot(table, ["cheat", "legal", "mixed"]))
    assert ranks.loc["mean rank", ["legal", "mixed", "cheat"]].tolist() == [1.0, 2.0, 3.0]
    page = write_leaderboard(tmp_path / "runs", tmp_path / "page")["markdown"].read_text()
    assert "| 0.5000† |" in page and "**0.9000** |" in page and "**0.5000" not in page
    assert "† the placement is not legal (hard macros overlap, or macros stick out of the canvas): d1/cheat, d2/cheat" in page
    # when no method of a design is legal, the lowest proxy is still the best
    alone = ResultStore.in_runs_dir(tmp_path / "alone")
    alone.write(cheat)
    assert bool(cell(build(tmp_path / "alone"), "d2", "cheat", "best"))


def test_an_illegal_initial_placement_is_marked_with_its_own_note(tmp_path: Path) -> None:
    """ariane133's given placement (macros over the canvas edge) read like a legal one."""
    store = ResultStore.in_runs_dir(tmp_path / "runs")
    for design in ("d1", "d2"):
        run = record(design, "aa", 0, 0.9)
        run.initial_out_of_canvas, run.initial_overlap_area = int(design == "d1"), 0.0
        store.write(run)
    table = build(tmp_path / "runs")
    assert leaderboard.illegal_cells(table).tolist() == [True, False, False, False]  # d1's initial only
    page = write_leaderboard(tmp_path / "runs", tmp_path / "page")["markdown"].read_text()
    assert "| d1 | 1.0000† | **0.9000** |" in page and "| d2 | 2.0000 | **0.9000** |" in page
    assert "† under `initial`: the design's given placement is not legal" in page and ": d1;" in page
    assert "† the placement is not legal" not in page  # no method's cell is


def test_options_spelt_1_and_1_0_pool_as_the_batch_takes_them(tmp_path: Path) -> None:
    for seed, options in ((0, '{"w": 1}'), (1, '{"w": 1.0}')):
        run = record("d1", "aa", seed, 0.9 - seed / 10)
        run.options = options
        ResultStore.in_runs_dir(tmp_path / "runs").write(run)
    table = build(tmp_path / "runs")  # was refused: "run with different options"
    assert cell(table, "d1", "aa", "seeds") == 2 and cell(table, "d1", "aa", "options") == '{"w": 1}'


def test_a_metric_no_run_recorded_is_blank_not_a_traceback(tmp_path: Path) -> None:
    store = ResultStore.in_runs_dir(tmp_path / "runs")
    for method in ("aa", "bb"):
        run = record("d1", method, 0, 0.9 if method == "aa" else 0.8)
        run.timing = None  # a row written by another tool, or an older version
        store.write(run)
    for aggregate in ("best", "mean"):  # TypeError: ufunc 'isnan' not supported
        page = write_leaderboard(tmp_path / "runs", tmp_path / aggregate, aggregate=aggregate)["markdown"].read_text()
        assert "## Timing" in page


def test_one_seed_has_no_spread_and_the_page_says_what_mean_rank_ranks_by(runs: Path, tmp_path: Path) -> None:
    table = build(runs)
    assert pd.isna(cell(table, "d1", "cc", "proxy_std"))  # 0.0 read as "no spread at all"
    assert cell(table, "d1", "aa", "proxy_std") == pytest.approx(0.1414213562)
    page = write_leaderboard(runs, tmp_path / "page")["markdown"].read_text()
    assert "`mean rank`, the mean of each design's ranks by the table's figure" in page


def test_keep_refuses_other_options_and_names_the_kept_aggregation_and_a_bad_file(runs: Path, tmp_path: Path) -> None:
    earlier = write_leaderboard(runs, tmp_path / "earlier")["csv"]
    other = pd.read_csv(earlier)
    other.loc[other["method"] == "aa", "options"] = '{"iterations": 5}'
    other.to_csv(tmp_path / "other.csv", index=False)
    store = ResultStore.in_runs_dir(tmp_path / "new")
    store.write(record("d1", "aa", 0, 0.9))  # d2's aa would come from the CSV, other options
    with pytest.raises(ValueError, match=r"'aa' cell of d2 was run with options \{\"iterations\": 5\}; these runs' 'aa' with \{\}"):
        write_leaderboard(tmp_path / "new", tmp_path / "page", keep=tmp_path / "other.csv")
    mean = pd.read_csv(write_leaderboard(runs, tmp_path / "mean", aggregate="mean")["csv"])
    mean[mean["method"] != "aa"].to_csv(tmp_path / "mean.csv", index=False)  # bb, cc: not in the runs
    page = write_leaderboard(tmp_path / "new", tmp_path / "page2", keep=tmp_path / "mean.csv")
    assert "(budget 5 s; each cell the mean over seeds; their commits" in page["markdown"].read_text()
    twice = pd.read_csv(earlier)
    pd.concat([twice, twice.iloc[[3]]]).to_csv(tmp_path / "twice.csv", index=False)
    with pytest.raises(ValueError, match=r"twice.csv: the cell of .* is given 2 times"):
        write_leaderboard(tmp_path / "new", tmp_path / "page", keep=tmp_path / "twice.csv")
    text = pd.read_csv(earlier, dtype=str)
    text.loc[2, "proxy"] = "abc"
    text.to_csv(tmp_path / "text.csv", index=False)
    with pytest.raises(ValueError, match=r"text.csv: line 4: proxy must be a number, got 'abc'"):
        write_leaderboard(tmp_path / "new", tmp_path / "page", keep=tmp_path / "text.csv")
    for bad in ("inf", "-1"):  # (kept, and shown bold as the best cell)
        text.loc[2, "proxy"] = bad
        text.to_csv(tmp_path / "out_of_range.csv", index=False)
        with pytest.raises(ValueError, match=rf"out_of_range.csv: line 4: proxy must be a finite number >= 0, got {bad}"):
            write_leaderboard(tmp_path / "new", tmp_path / "page", keep=tmp_path / "out_of_range.csv")
    text = pd.read_csv(earlier, dtype=str)
    text.loc[2, "seeds"] = "2.5"  # (a TypeError traceback)
    text.to_csv(tmp_path / "fraction.csv", index=False)
    with pytest.raises(ValueError, match=r"fraction.csv: line 4: seeds must be a whole number, got 2.5"):
        write_leaderboard(tmp_path / "new", tmp_path / "page", keep=tmp_path / "fraction.csv")
    text = pd.read_csv(earlier, dtype=str)
    text.loc[1, "design"] = ""  # (a TypeError in pandas' words)
    text.to_csv(tmp_path / "empty.csv", index=False)
    with pytest.raises(ValueError, match=r"empty.csv: line 3: the design is empty"):
        write_leaderboard(tmp_path / "new", tmp_path / "page", keep=tmp_path / "empty.csv")


def test_an_illegal_cell_ranks_just_after_the_legal_ones_beside_a_method_that_always_failed(tmp_path: Path) -> None:
    store = ResultStore.in_runs_dir(tmp_path / "runs")
    store.write(record("d1", "aa", 0, 0.9))
    store.write(record("d1", "bb", 0, 0.5, overlap_area=3.0))
    store.write(record("d1", "cc", 0, None))  # failed everywhere: no rank, and no place ahead
    table = build(tmp_path / "runs")
    ranks = summary_rows(pivot(table, "proxy"), illegal_pivot(table, ["aa", "bb", "cc"])).loc["mean rank"]
    assert (ranks["aa"], ranks["bb"]) == (1.0, 2.0) and pd.isna(ranks["cc"])  # bb was 3


def test_a_best_cell_whose_other_seeds_were_illegal_is_named(tmp_path: Path) -> None:
    """The illegal seed vanished without a trace behind the legal best (proxy_mean counted it)."""
    store = ResultStore.in_runs_dir(tmp_path / "runs")
    store.write(record("d1", "aa", 1, 0.9))
    store.write(record("d1", "aa", 0, 0.5, overlap_area=3.0))
    store.write(record("d2", "aa", 0, 1.2))
    page = write_leaderboard(tmp_path / "runs", tmp_path / "page")["markdown"].read_text()
    assert "Some seeds of these cells are not legal; the cell shows the best legal seed" in page
    assert "d1/aa (1 of 2)" in page and "d2/aa" not in page.split("Some seeds")[1].split("\n")[0]
    mean = write_leaderboard(tmp_path / "runs", tmp_path / "mean", aggregate="mean")["markdown"].read_text()
    assert "Some seeds of these cells" not in mean  # (a mean is marked illegal as it is)


def test_keep_takes_a_kept_cell_that_only_failed(tmp_path: Path) -> None:
    """A failed cell records no options (no ok run): it was refused as a clash ('run with
    options ; these runs' ... with {}')."""
    old = ResultStore.in_runs_dir(tmp_path / "old")
    old.write(record("d1", "aa", 0, 0.9))
    old.write(record("d2", "aa", 0, None))
    earlier = write_leaderboard(tmp_path / "old", tmp_path / "earlier")["csv"]
    new = ResultStore.in_runs_dir(tmp_path / "new")
    new.write(record("d1", "aa", 0, 0.8))
    table = pd.read_csv(write_leaderboard(tmp_path / "new", tmp_path / "page", keep=earlier)["csv"])
    assert cell(table, "d2", "aa", "failed") == 1 and cell(table, "d1", "aa", "proxy") == pytest.approx(0.8)


def test_timing_of_another_or_no_recorded_model_is_blank_or_named(runs: Path, tmp_path: Path) -> None:
    """The timing model changed (1dc7b0e): a table and a --keep mixed both models' figures in
    one column, with nothing to say which was which."""
    store = ResultStore(runs / DB_NAME)
    older = record("d1", "aa", 1, 0.60)  # d1/aa's best seed, from the model before today's
    older.timing_model = TIMING_MODEL - 1
    store.write(older)
    unknown = record("d2", "bb", 0, 1.20)  # d2/bb's best seed, made before models were recorded
    unknown.timing_model = None
    store.write(unknown)
    best = build(runs)
    assert pd.isna(cell(best, "d1", "aa", "timing")) and cell(best, "d1", "bb", "timing") == 0.5
    assert cell(best, "d1", "aa", "timing_model") == TIMING_MODEL - 1
    assert cell(best, "d2", "bb", "timing") == 0.5 and pd.isna(cell(best, "d2", "bb", "timing_model"))
    mean = build(runs, aggregate="mean")  # one seed of another model blanks the mean
    assert pd.isna(cell(mean, "d1", "aa", "timing")) and cell(mean, "d2", "aa", "timing") == 0.5
    paths = write_leaderboard(runs, tmp_path / "page")
    text = paths["markdown"].read_text()
    assert f"d1/aa (model {TIMING_MODEL - 1})" in text and "timing of d2/bb records no timing model" in text

    kept = pd.read_csv(paths["csv"])  # kept cells: one of another model, one with none recorded
    kept.loc[kept["method"] == "bb", "method"] = "zz"
    kept.loc[kept["method"] == "zz", "timing_model"] = TIMING_MODEL - 1
    kept.drop(columns="timing_model").to_csv(tmp_path / "no_model.csv", index=False)
    kept.to_csv(tmp_path / "older.csv", index=False)
    fresh = ResultStore.in_runs_dir(tmp_path / "new")
    fresh.write(record("d1", "aa", 0, 0.9))
    page = write_leaderboard(tmp_path / "new", tmp_path / "page2", keep=tmp_path / "older.csv")
    table = pd.read_csv(page["csv"])
    assert pd.isna(cell(table, "d1", "zz", "timing")) and cell(table, "d1", "aa", "timing") == 0.5
    assert "d1/zz (model" in page["markdown"].read_text()
    page = write_leaderboard(tmp_path / "new", tmp_path / "page3", keep=tmp_path / "no_model.csv")
    assert cell(pd.read_csv(page["csv"]), "d1", "zz", "timing") == 0.5
    assert "d1/cc, d1/zz, d2/aa, d2/zz records no timing model" in page["markdown"].read_text()


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        ("proxy = 1e999", "has proxy inf (expected a finite number)"),  # made sa's mean inf
        ("proxy = 'abc'", "has proxy 'abc' (expected a finite number)"),  # read as failed
        ("status = 'weird'", "has status 'weird' (expected ok or failed)"),
        ("out_of_canvas = 'x'", "has out_of_canvas 'x'"),  # read as legal
        ("budget_s = -1", "has budget_s -1 (expected a number of seconds >= 0)"),  # a column sa@-1s
    ],
)
def test_a_row_no_batch_writes_is_refused_in_one_line(runs: Path, edit: str, message: str) -> None:
    import sqlite3

    with closing(sqlite3.connect(runs / "results.sqlite")) as conn, conn:
        conn.execute(f"UPDATE runs SET {edit} WHERE design = 'd1' AND method = 'aa' AND seed = 0")
    result = CliRunner().invoke(make_app(), ["leaderboard", str(runs)])
    assert result.exit_code == 2 and "Traceback" not in result.output, result.output
    assert "the run d1/aa/seed0 " + message in " ".join(result.output.split())


def test_a_missing_folder_or_a_file_is_named_as_such(tmp_path: Path) -> None:
    """Both read 'no results database (run placer place --suite ... --out X first)'."""
    (tmp_path / "a.plc").write_text("")
    missing = CliRunner().invoke(make_app(), ["leaderboard", str(tmp_path / "nowhere")])
    assert missing.exit_code == 2 and "nowhere: no such folder" in missing.output
    a_file = CliRunner().invoke(make_app(), ["leaderboard", str(tmp_path / "a.plc")])
    assert a_file.exit_code == 2 and "a.plc is a file; expected a runs folder" in " ".join(a_file.output.split())


def test_a_mean_over_seeds_of_a_model_and_of_none_recorded_is_blank(runs: Path, tmp_path: Path) -> None:
    """An older seed (no model recorded) beside a seed of today's model was averaged into one
    timing figure labelled today's model, with no note."""
    store = ResultStore(runs / DB_NAME)
    older = record("d1", "aa", 1, 0.60)
    older.timing_model, older.timing = None, 5.0
    store.write(older)
    mean = build(runs, aggregate="mean")
    assert pd.isna(cell(mean, "d1", "aa", "timing")) and cell(mean, "d1", "aa", "timing_model") == 0
    assert cell(mean, "d1", "bb", "timing") == 0.5  # one model throughout
    text = write_leaderboard(runs, tmp_path / "page", aggregate="mean")["markdown"].read_text()
    assert "d1/aa (seeds of several models)" in text


def test_a_bold_illegal_cell_reads_the_same_in_html_and_markdown(tmp_path: Path) -> None:
    """Where no placement of a design is legal its best is bold and marked: the HTML cell kept
    the closing ** in its text, and the note said such a cell was never bold."""
    store = ResultStore.in_runs_dir(tmp_path / "runs")
    for method, proxy in (("aa", 0.6), ("bb", 0.7)):
        store.write(record("d1", method, 0, proxy, overlap_area=1.5))
    files = write_leaderboard(tmp_path / "runs", tmp_path / "page")
    markdown, page = files["markdown"].read_text(), files["html"].read_text()
    assert "**0.6000**†" in markdown
    assert "<td><b>0.6000</b>†</td>" in page and "**" not in page.split("<table>", 1)[1]
    assert "bold only where no placement of its design is legal" in markdown
    assert "(among all where none is legal)" in markdown


def test_a_cell_with_ok_runs_and_no_timing_of_its_model_is_blank_not_failed(tmp_path: Path) -> None:
    store = ResultStore.in_runs_dir(tmp_path / "runs")
    older = record("d1", "aa", 0, 0.6)
    older.timing_model = TIMING_MODEL - 1  # its timing is blanked: another model's figure
    store.write(older)
    store.write(record("d1", "aa", 1, None))  # and a failed seed beside it
    store.write(record("d1", "bb", 0, 0.7))
    markdown = write_leaderboard(tmp_path / "runs", tmp_path / "page")["markdown"].read_text()
    timing = markdown.split("## Timing", 1)[1].split("##", 1)[0]
    row = next(line for line in timing.splitlines() if line.startswith("| d1 "))
    assert "failed" not in row and "—" in row
    proxy = markdown.split("## Proxy", 1)[1].split("##", 1)[0]
    assert "0.6000" in proxy


def test_a_results_row_whose_options_are_no_json_is_refused_naming_it(tmp_path: Path) -> None:
    """Garbage in every seed of a cell was read as one more spelling of options: accepted."""
    store = ResultStore.in_runs_dir(tmp_path / "runs")
    for seed in (0, 1):
        run = record("d1", "aa", seed, 0.6)
        run.options = "not json{"
        store.write(run)
    with pytest.raises(ValueError, match=r"the run d1/aa/seed0 has options 'not json\{' \(expected a JSON object\)"):
        build(tmp_path / "runs")
    failed = ResultStore.in_runs_dir(tmp_path / "failed")  # a failed run's options pool with nothing
    broken = record("d1", "aa", 0, None)
    broken.options = "not json{"
    failed.write(broken)
    failed.write(record("d1", "aa", 1, 0.6))
    assert cell(build(tmp_path / "failed"), "d1", "aa", "seeds") == 1


def test_initial_keeps_its_mean_when_every_method_failed(tmp_path: Path) -> None:
    store = ResultStore.in_runs_dir(tmp_path / "runs")
    for design in ("d1", "d2"):
        store.write(record(design, "aa", 0, None))
    summary = summary_rows(pivot(build(tmp_path / "runs"), "proxy"))
    assert summary.at["mean", "initial"] == pytest.approx(1.5)  # was blank: every row dropped
    assert pd.isna(summary.at["mean", "aa"]) and pd.isna(summary.at["mean rank", "aa"])


def test_the_page_is_written_as_one_set_or_not_at_all(runs: Path, tmp_path: Path, monkeypatch) -> None:
    """A full disk between two files left a new table beside an older chart (or a 0-byte .tmp)."""
    from matplotlib.figure import Figure

    out = tmp_path / "page"
    earlier = {name: path.read_bytes() for name, path in write_leaderboard(runs, out).items()}
    ResultStore(runs / DB_NAME).write(record("d1", "dd", 0, 0.3))  # a new cell

    def full_disk(self, fname, **kwargs):  # type: ignore[no-untyped-def]
        Path(fname).write_bytes(b"\x89PNG half")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Figure, "savefig", full_disk)
    with pytest.raises(OSError, match="No space left"):
        write_leaderboard(runs, out)
    files = {"markdown": "leaderboard.md", "csv": "leaderboard.csv", "html": "leaderboard.html", "png": "leaderboard.png"}
    assert {name: (out / file).read_bytes() for name, file in files.items()} == earlier
    assert sorted(p.name for p in out.iterdir()) == sorted(files.values())


def test_a_keep_that_is_a_folder_is_named_as_such(runs: Path, tmp_path: Path) -> None:
    app = typer.Typer()
    register(app)
    (tmp_path / "kept").mkdir()
    result = CliRunner().invoke(app, [str(runs), "--out", str(tmp_path / "page"), "--keep", str(tmp_path / "kept")])
    assert result.exit_code != 0 and "not a file (a folder, a pipe or a device)" in result.output, result.output


def test_runs_only_a_wal_holds_are_warned_of_when_the_folder_cannot_be_written(tmp_path: Path, monkeypatch) -> None:
    """A read-only runs folder whose -wal holds committed runs but whose -shm is gone was read
    without them, silently (SQLite's immutable read ignores the WAL)."""
    import shutil
    import sqlite3

    import placer.results as results

    runs = tmp_path / "live"
    store = ResultStore.in_runs_dir(runs)
    store.write(record("d1", "aa", 0, 0.9))
    holder = sqlite3.connect(runs / "results.sqlite")  # keeps the WAL from being merged on close
    holder.execute("SELECT 1 FROM runs").fetchall()
    store.write(record("d1", "aa", 1, 0.8))  # committed to the WAL only
    copy = tmp_path / "copy"
    copy.mkdir()
    for name in ("results.sqlite", "results.sqlite-wal"):  # no -shm: as a read-only mount may hold
        shutil.copy(runs / name, copy / name)
    holder.close()
    assert (copy / "results.sqlite-wal").stat().st_size > 0
    monkeypatch.setattr(results.os, "access", lambda path, mode: False)  # a folder this user cannot write
    connect = sqlite3.connect

    def read_only_connect(database, *args, **kwargs):  # type: ignore[no-untyped-def]
        if "mode=ro" in str(database):  # as SQLite answers without a -shm it may create
            raise sqlite3.OperationalError("unable to open database file")
        return connect(database, *args, **kwargs)

    monkeypatch.setattr(results.sqlite3, "connect", read_only_connect)
    with pytest.warns(results.ResultsWarning, match="results.sqlite-wal holds runs not yet copied") as warned:
        list(ResultStore(copy / "results.sqlite", read_only=True).records())
    assert len(warned) == 1  # once per store, though every read opens a connection


def test_budget_labels_name_the_notes_columns_and_only_known_budgets(tmp_path: Path) -> None:
    """After kept cells labelled the columns (aa@1s), the some-seeds-illegal note still named
    d1/aa; a kept cell of a known budget beside one of none (a table that kept an older one)
    must still be labelled, and the note must not give the other that budget."""
    earlier = earlier_table_at_5s(tmp_path, "zz", 0.95)
    one = ResultStore.in_runs_dir(tmp_path / "one")
    for design in ("d1", "d2"):
        one.write(record(design, "aa", 0, 0.9, budget=1.0))
        one.write(record(design, "aa", 1, 0.5, budget=1.0, overlap_area=2.0))  # an illegal seed
    page = write_leaderboard(tmp_path / "one", tmp_path / "page", keep=earlier)["markdown"].read_text()
    assert "d1/aa@1s (1 of 2)" in page and "d1/aa (" not in page
    older = pd.read_csv(earlier).drop(columns=["budget_s"])  # a table from before budgets were kept
    older.to_csv(tmp_path / "older.csv", index=False)
    table = pd.read_csv(write_leaderboard(tmp_path / "one", tmp_path / "page2", keep=tmp_path / "older.csv")["csv"])
    assert set(table["method"]) == {"initial", "aa", "zz"}  # one known budget: nothing to tell apart
    # a kept table holding cells of a known budget (zz, 5 s) and of none (yy, kept from an older
    # one): the known ones are labelled, zz@5s beside aa@1s; yy stays plain, named in the note
    mixed = pd.read_csv(earlier)
    unknown = mixed[mixed["method"] == "zz"].assign(method="yy", budget_s=float("nan"))
    pd.concat([mixed, unknown]).to_csv(tmp_path / "mixed.csv", index=False)
    paths = write_leaderboard(tmp_path / "one", tmp_path / "page3", keep=tmp_path / "mixed.csv")
    assert set(pd.read_csv(paths["csv"])["method"]) == {"initial", "aa@1s", "zz@5s", "yy"}
    assert "budget 5 s; each cell the best seed; `yy`: budget not recorded" in paths["markdown"].read_text()


def test_names_a_spreadsheet_would_run_are_guarded_in_the_csv_and_read_back_as_named(tmp_path: Path) -> None:
    """A method or design named =HYPERLINK(...) went into leaderboard.csv as a formula; --keep
    reads the guarded names back as they were."""
    formula, dashed = '=HYPERLINK("http://x","y")', "-d"
    store = ResultStore.in_runs_dir(tmp_path / "first")
    store.write(_named(dashed, formula, 0.8))
    store.write(_named("'quoted", "greedy", 0.7))
    earlier = write_leaderboard(tmp_path / "first")["csv"]
    raw = pd.read_csv(earlier, dtype=str, keep_default_na=False)
    assert set(raw["method"]) == {"'" + formula, "greedy", "initial"} and set(raw["design"]) == {"'" + dashed, "''quoted"}
    store = ResultStore.in_runs_dir(tmp_path / "second")
    store.write(_named(dashed, "fd", 0.9))
    from placer.leaderboard import read_leaderboard_csv

    kept = read_leaderboard_csv(write_leaderboard(tmp_path / "second", keep=earlier)["csv"])
    assert cell(kept, dashed, formula, "proxy") == pytest.approx(0.8)
    assert cell(kept, "'quoted", "greedy", "proxy") == pytest.approx(0.7)


def test_every_text_column_a_spreadsheet_would_run_is_guarded_and_read_back(tmp_path: Path) -> None:
    """The guard covered the design and method names only: a host, CPU model or commit the
    machine or a plugin recorded (the run facts' columns) went into the CSV as a formula. Every
    text column is guarded, and read back as it was."""
    from placer.leaderboard import read_leaderboard_csv

    host, model, commit = '=HYPERLINK("http://x","y")', "+cpu", "@abc"
    runs = _facts_runs(tmp_path, {key: {"host": host, "cpu_model": model, "git_commit": commit}
                                  for key in PROXY})
    csv = write_leaderboard(runs, tmp_path / "board")["csv"]
    raw = pd.read_csv(csv, dtype=str, keep_default_na=False)
    ran = raw[raw["method"] != "initial"]
    assert set(ran["host"]) == {"'" + host} and set(ran["cpu_model"]) == {"'" + model}
    assert set(ran["git_commit"]) == {"'" + commit}
    unsafe = [v for column in raw.columns for v in raw[column] if v.startswith(("=", "+", "-", "@"))]
    assert unsafe == []
    back = read_leaderboard_csv(csv)
    assert cell(back, "d1", "aa", "host") == host and cell(back, "d1", "aa", "cpu_model") == model
    assert cell(back, "d1", "aa", "git_commit") == commit


def test_names_with_tex_or_line_breaks_stay_plain_text_in_the_chart_and_the_markdown(tmp_path: Path) -> None:
    """A method named m$\\undefinedcmd{$ stopped the whole page in matplotlib's TeX parser (and
    $x$ was drawn in italics); a design name's line break split its Markdown row."""
    store = ResultStore.in_runs_dir(tmp_path)
    store.write(_named("odd\nname", "m$\\undefinedcmd{$", 0.8))
    store.write(_named("odd\nname", "greedy", 0.9))
    paths = write_leaderboard(tmp_path)
    assert paths["png"].stat().st_size > 0
    lines = paths["markdown"].read_text().splitlines()
    rows = [line for line in lines if line.startswith("| odd")]
    assert rows and all(line.startswith("| odd\\\\nname |") for line in rows)  # (a backslash, escaped)
    assert not [line for line in lines if line.startswith("name")]  # no row or note split in two


def test_a_carriage_return_in_a_name_and_an_older_csvs_quote_read_back_as_written(tmp_path: Path) -> None:
    """pandas quoted a name's \\n but not its \\r, which split the row (--keep then read 'the
    method is empty'); a name 'x of a CSV written before the formula guard stays 'x."""
    from placer.leaderboard import read_leaderboard_csv

    store = ResultStore.in_runs_dir(tmp_path / "runs")
    store.write(_named("x\ry", "m\rn", 0.8))
    kept = read_leaderboard_csv(write_leaderboard(tmp_path / "runs")["csv"])
    assert cell(kept, "x\ry", "m\rn", "proxy") == pytest.approx(0.8)
    old = tmp_path / "old.csv"
    old.write_text("design,method,proxy\n'x,'y,0.5\n")
    table = read_leaderboard_csv(old)
    assert (table["design"][0], table["method"][0]) == ("'x", "'y")


def test_verify_refuses_runs_whose_stored_figures_are_not_their_files(tmp_path: Path, design_writer, cli_app) -> None:  # type: ignore[no-untyped-def]
    """A results.sqlite edited by hand (proxy 0.5 for a .plc costing 1.148) was ranked as it
    stood, in bold; placement_quality.py caught it, the leaderboard could not."""
    import sqlite3

    from placer.batch import find_designs, make_tasks, run_batch

    design_writer(tmp_path / "suite" / "tiny_a", 1)
    design_writer(tmp_path / "suite" / "tiny_b", 2)
    runs = tmp_path / "runs"
    run_batch(make_tasks(find_designs(tmp_path / "suite"), ["greedy", "fd"], [0], runs, 2.0), runs,
              show_progress=False)  # fmt: skip
    app = cli_app(register)
    done = CliRunner().invoke(app, ["leaderboard", str(runs), "--verify", "--out", str(tmp_path / "ok")])
    assert done.exit_code == 0, done.output
    assert "Verified: each of the 4 ok runs' .plc was evaluated afresh" in (tmp_path / "ok" / "leaderboard.md").read_text()
    with closing(sqlite3.connect(runs / DB_NAME)) as db, db:
        db.execute("UPDATE runs SET proxy = 0.5 WHERE design = 'tiny_a' AND method = 'greedy'")
        db.execute("UPDATE runs SET overlap_area = 0, out_of_canvas = 1 WHERE design = 'tiny_b' AND method = 'fd'")
    done = CliRunner().invoke(app, ["leaderboard", str(runs), "--verify", "--out", str(tmp_path / "bad")])
    assert done.exit_code == 2 and not (tmp_path / "bad").exists(), done.output
    message = " ".join(done.output.split())
    assert "--verify: 2 run(s) whose stored figures are not their .plc's: tiny_a/greedy/seed0 in" in message
    assert "(stored proxy 0.5, its .plc " in message
    assert "tiny_b/fd/seed0 in" in message and "its stored overlap and canvas figures are not its placement's" in message
    assert CliRunner().invoke(app, ["leaderboard", str(runs), "--out", str(tmp_path / "unchecked")]).exit_code == 0


def test_verify_names_a_cost_off_by_a_millionth_a_swapped_plc_and_a_plc_moved_off_the_canvas(tmp_path: Path, design_writer, cli_app) -> None:  # type: ignore[no-untyped-def]
    """Each check of --verify on its own (the first test's edits would pass a looser cost
    tolerance, and never touched a file)."""
    import sqlite3

    from netlists.formats.plc import read_plc, write_plc
    from netlists.io import load_design
    from placer.batch import find_designs, make_tasks, run_batch
    from placer.cost.proxy import evaluate
    from placer.results import ATTEMPT_LABEL

    design_writer(tmp_path / "suite" / "tiny_a", 1)
    runs = tmp_path / "runs"
    run_batch(make_tasks(find_designs(tmp_path / "suite"), ["greedy", "fd", "sa"], [0], runs, 2.0), runs,
              show_progress=False)  # fmt: skip
    rows = {r.method: r for r in ResultStore.in_runs_dir(runs).records()}
    with closing(sqlite3.connect(runs / DB_NAME)) as db, db:  # a millionth off
        db.execute("UPDATE runs SET proxy = proxy * (1 + 1e-6) WHERE method = 'greedy'")
        # sa's .plc replaced by fd's, its row given fd's cost: the file is another run's
        db.execute("UPDATE runs SET proxy = ? WHERE method = 'sa'", (rows["fd"].proxy,))
    (runs / rows["sa"].plc_path).write_bytes((runs / rows["fd"].plc_path).read_bytes())
    netlist, _ = load_design(tmp_path / "suite" / "tiny_a" / "netlist.pb.txt")
    _, moved, _ = read_plc(runs / rows["fd"].plc_path, netlist)  # fd's .plc: a macro off the canvas,
    moved.x[netlist.hard_macros[0]] = -50.0  # its row still saying inside (cost made to match)
    write_plc(runs / rows["fd"].plc_path, netlist, moved, comments=[f"{ATTEMPT_LABEL} {rows['fd'].plc_attempt}"])

    with closing(sqlite3.connect(runs / DB_NAME)) as db, db:
        db.execute("UPDATE runs SET proxy = ? WHERE method = 'fd'", (evaluate(netlist, moved).proxy,))
    done = CliRunner().invoke(cli_app(register), ["leaderboard", str(runs), "--verify", "--out", str(tmp_path / "b")])
    message = " ".join(done.output.split())
    assert done.exit_code == 2 and "--verify: 3 run(s)" in message, done.output
    assert "tiny_a/greedy/seed0 in" in message and "stored proxy" in message
    assert "tiny_a/sa/seed0 in" in message and "its .plc is another run's" in message
    assert "tiny_a/fd/seed0 in" in message and "its stored overlap and canvas figures are not its placement's" in message


def test_verify_evaluates_each_plc_on_its_own_headers_canvas(tmp_path: Path, design_writer, cli_app) -> None:  # type: ignore[no-untyped-def]
    """--verify evaluated a run's .plc on its design's initial.plc canvas, not the one the
    file's header gives (as placer eval reads it): a header edited since (grid, routing)
    changed the file's cost and still passed."""
    import re

    from netlists.io import load_design
    from placer.batch import find_designs, make_tasks, run_batch
    from placer.cost.proxy import evaluate

    design_writer(tmp_path / "suite" / "tiny_a", 1)
    runs = tmp_path / "runs"
    run_batch(make_tasks(find_designs(tmp_path / "suite"), ["greedy", "fd"], [0], runs, 2.0), runs,
              show_progress=False)  # fmt: skip
    rows = {r.method: r for r in ResultStore.in_runs_dir(runs).records()}
    plc = runs / rows["greedy"].plc_path
    text = plc.read_text()
    cols, grid_rows = map(int, re.search(r"Columns : (\d+)  Rows : (\d+)", text).groups())  # type: ignore[union-attr]
    edited = re.sub(r"Columns : \d+  Rows : \d+", f"Columns : {cols + 3}  Rows : {grid_rows + 2}", text)
    edited = re.sub(r"Routes per micron, hor : \S+", "Routes per micron, hor : 0.5", edited)
    plc.write_text(edited)
    netlist, placement = load_design(tmp_path / "suite" / "tiny_a" / "netlist.pb.txt", plc)  # (eval's reading)
    assert evaluate(netlist, placement).proxy != pytest.approx(rows["greedy"].proxy, rel=1e-9)
    done = CliRunner().invoke(cli_app(register), ["leaderboard", str(runs), "--verify", "--out", str(tmp_path / "b")])
    message = " ".join(done.output.split())
    assert done.exit_code == 2 and "--verify: 1 run(s)" in message and not (tmp_path / "b").exists(), done.output
    assert "tiny_a/greedy/seed0 in" in message and "stored proxy" in message
    assert f"its .plc {plc} has another canvas in its header than its design" in message
    assert f"cols {cols} in the design, {cols + 3} in the .plc" in message
    assert f"rows {grid_rows} in the design, {grid_rows + 2} in the .plc" in message
    assert "hroutes_per_micron" in message and "vroutes_per_micron" not in message
    assert "tiny_a/fd/seed0" not in message


def test_verify_names_a_run_it_cannot_check_and_passes_a_folder_with_nothing_to_check(tmp_path: Path, design_writer, cli_app) -> None:  # type: ignore[no-untyped-def]
    """A moved suite said only '.../netlist.pb.txt: no such file' (not that --verify read it,
    nor for which run); a folder whose runs all failed ended in a KeyError traceback."""
    import shutil

    from placer.batch import find_designs, make_tasks, run_batch

    design_writer(tmp_path / "suite" / "tiny_a", 1)
    runs = tmp_path / "runs"
    run_batch(make_tasks(find_designs(tmp_path / "suite"), ["greedy"], [0], runs, 2.0), runs, show_progress=False)
    app = cli_app(register)
    shutil.move(tmp_path / "suite", tmp_path / "moved")
    done = CliRunner().invoke(app, ["leaderboard", str(runs), "--verify", "--out", str(tmp_path / "a")])
    message = " ".join(done.output.split())
    assert done.exit_code == 2 and "--verify: the run tiny_a/greedy/seed0 in" in message, done.output
    assert "cannot be checked" in message and "nothing written" in message and not (tmp_path / "a").exists()
    assert "no such file" in message and "changed since" not in message  # (moved, not edited)
    failed = tmp_path / "failed"
    ResultStore.in_runs_dir(failed).write(record("d1", "aa", 0, None))
    ResultStore.in_runs_dir(failed).write(record("d1", "bb", 0, 0.7))  # ok, but no .plc recorded
    done = CliRunner().invoke(app, ["leaderboard", str(failed), "--verify", "--out", str(tmp_path / "b")])
    assert done.exit_code == 0, done.output
    assert "Verified: no ok run has a .plc to check." in (tmp_path / "b" / "leaderboard.md").read_text()


def test_verify_says_a_design_changed_and_reads_nothing_a_row_points_elsewhere(tmp_path: Path, design_writer, cli_app) -> None:  # type: ignore[no-untyped-def]
    """A design edited after its runs had them refused as untrue (the design, not the run,
    had changed); a row edited to name no design ended in a TypeError traceback, and rows whose
    .plc or design path led elsewhere (/etc/passwd) had those files read and quoted."""
    import sqlite3

    from placer.batch import find_designs, make_tasks, run_batch

    design_writer(tmp_path / "suite" / "tiny_a", 1)
    runs = tmp_path / "runs"
    run_batch(make_tasks(find_designs(tmp_path / "suite"), ["greedy"], [0], runs, 2.0), runs, show_progress=False)
    app = cli_app(register)

    def verify(update: str | None = None, args: tuple[object, ...] = ()) -> str:
        if update is not None:
            with closing(sqlite3.connect(runs / DB_NAME)) as db, db:
                db.execute(update, args)
        done = CliRunner().invoke(app, ["leaderboard", str(runs), "--verify", "--out", str(tmp_path / "page")])
        assert done.exit_code == 2 and not (tmp_path / "page").exists(), done.output
        return " ".join(done.output.split())

    outside = tmp_path / "secret.txt"
    outside.write_text("root:x:0:0\n")
    row = ResultStore.in_runs_dir(runs).records()[0]
    assert "its .plc path '../secret.txt' leads outside its runs folder" in verify(
        "UPDATE runs SET plc_path = '../secret.txt'")
    assert "leads outside" in verify("UPDATE runs SET plc_path = ?", (str(outside),))
    with closing(sqlite3.connect(runs / DB_NAME)) as db, db:
        db.execute("UPDATE runs SET plc_path = ?", (row.plc_path,))
    message = verify("UPDATE runs SET netlist_path = ?", (str(outside),))
    assert "names no design file (a netlist.pb.txt[.gz] or a Bookshelf .aux)" in message and "root:" not in message
    assert "it records no design path" in verify("UPDATE runs SET netlist_path = NULL")
    with closing(sqlite3.connect(runs / DB_NAME)) as db, db:
        db.execute("UPDATE runs SET netlist_path = ?", (row.netlist_path,))
    netlist = Path(row.netlist_path)
    netlist.write_text(netlist.read_text().replace("f: 1", "f: 1.5", 1))  # the design edited since
    message = verify()
    assert "its design's files at" in message and "changed since the run" in message
    assert "stored figures are not" not in message


def test_columns_whose_short_labels_match_get_bars_of_their_own(tmp_path: Path) -> None:
    """The chart cut labels at 28 characters, budget first: three budgets of one long-named
    method became one label and their bars were drawn over each other."""
    from placer.leaderboard import bar_figure

    long = "an_extremely_long_plugin_method_name_for_testing_widths"
    store = ResultStore.in_runs_dir(tmp_path)
    for budget, proxy in ((5.0, 0.7), (50.0, 0.6), (500.0, 0.5)):
        store.write(record("d1", long, 0, proxy, budget=budget))
    table = build(tmp_path)
    methods = [m for m in table["method"].unique() if m != "initial"]
    axes = bar_figure(table, methods).axes[0]
    labels = [t.get_text() for t in axes.get_xticklabels()]
    assert len(set(labels)) == 3 and all(label.endswith(("@5s", "@50s", "@500s")) for label in labels)
    assert sorted(p.get_x() for p in axes.patches) == sorted({p.get_x() for p in axes.patches})  # apart


def test_failed_runs_are_named_by_their_column_and_notes_are_literal_markdown(tmp_path: Path) -> None:
    """Two budgets' failures read alike ('d1 / aa / seed 0'); a method named x<i>y opened live
    HTML in the Markdown notes (the tables escaped it)."""
    store = ResultStore.in_runs_dir(tmp_path / "runs")
    store.write(record("d1", "aa", 0, None, budget=5.0))
    store.write(record("d1", "aa", 0, None, budget=50.0))
    store.write(record("d1", "x<i>y", 0, 0.7, budget=5.0))
    store.write(record("d1", "x<i>y", 1, 0.7, budget=5.0))
    store.write(record("d1", "x<i>y", 0, 0.7, budget=50.0))
    text = write_leaderboard(tmp_path / "runs", tmp_path / "page")["markdown"].read_text()
    assert "- d1 / aa@5s / seed 0: RuntimeError: boom" in text and "- d1 / aa@50s / seed 0: RuntimeError: boom" in text
    notes = text.split("## ")[0]
    assert "x&lt;i&gt;y" in notes and "x<i>y" not in notes


@pytest.mark.parametrize("note", [
    "Cells of `p```, `<img src=x onerror=alert(1)>` are kept from an earlier table",
    "Timing of d`<img src=x onerror=alert(1)>`` is blank",
    "Cells from fewer ok seeds than others: d1/a**b, d1/c**d and x<i>y@50s",
])
def test_no_name_in_a_note_becomes_markdown_markup(note: str) -> None:
    """A backtick in a name unpaired the note's code spans and let a tag through raw; `**` in
    names made the text between them bold."""
    from markdown_it import MarkdownIt

    from placer.leaderboard.render import _markdown_note

    rendered = MarkdownIt("commonmark").render(_markdown_note(note))
    assert "<img" not in rendered and "<i>" not in rendered and "<strong>" not in rendered, rendered
    assert MarkdownIt("commonmark").render(_markdown_note("**Note:** see `x`")).startswith("<p><strong>Note:</strong>")


def test_the_timing_model_is_written_as_a_whole_number_fresh_and_kept(runs: Path, tmp_path: Path) -> None:
    """leaderboard.csv wrote the timing model as 2.0 (the initial rows' blanks made the column
    float), and so did a table made again with --keep."""
    import csv

    first = write_leaderboard(runs, tmp_path / "first")["csv"]
    with first.open() as lines:
        rows = list(csv.DictReader(lines))
    assert {r["timing_model"] for r in rows if r["method"] != "initial" and r["proxy"]} == {str(TIMING_MODEL)}
    assert {r["timing_model"] for r in rows if r["method"] == "initial"} == {""}
    store = ResultStore.in_runs_dir(tmp_path / "other")
    store.write(record("d1", "zz", 0, 0.9))
    again = write_leaderboard(tmp_path / "other", tmp_path / "again", keep=first)["csv"]
    with again.open() as lines:
        kept = list(csv.DictReader(lines))
    assert {r["timing_model"] for r in kept if r["method"] != "initial" and r["proxy"]} == {str(TIMING_MODEL)}


def test_a_runs_folder_without_runs_says_holds_and_several_say_hold(tmp_path: Path) -> None:
    """It read "hold(s) no runs" for one folder and for several."""
    for names in (["a"], ["a", "b"]):
        folders = [tmp_path / name for name in names]
        for folder in folders:
            ResultStore.in_runs_dir(folder)  # an empty results database
        with pytest.raises(ValueError, match=f"{'holds' if len(names) == 1 else 'hold'} no runs$"):
            write_leaderboard(folders if len(folders) > 1 else folders[0], tmp_path / "page")


def test_only_the_runs_the_tables_show_have_their_plc_opened(tmp_path: Path, monkeypatch) -> None:
    """Every ok run's .plc was opened to name the lost ones (7-11 s of a 100,000-row page): with the best seed per cell only those seeds' files back a figure on the page; with
    the mean over seeds every ok run's does."""
    import placer.leaderboard.render as render

    store = ResultStore.in_runs_dir(tmp_path / "runs")
    for design, method, seed, proxy in [("d1", "aa", 0, 0.8), ("d1", "aa", 1, 0.6), ("d1", "bb", 0, 0.7),
                                        ("d1", "bb", 1, 0.9), ("d2", "aa", 0, 1.5), ("d2", "aa", 1, 1.4)]:
        run = record(design, method, seed, proxy)
        run.plc_path = f"{design}/{method}/seed{seed}.plc"
        if (design, method, seed) not in {("d1", "aa", 0), ("d1", "bb", 0)}:  # those two lost
            (tmp_path / "runs" / run.plc_path).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / "runs" / run.plc_path).write_text("# a placement\n")
        store.write(run)
    opened = []
    real = render.plc_of_row_is_there

    def counted(runs_dir, plc_path, plc_attempt):  # type: ignore[no-untyped-def]
        opened.append(plc_path)
        return real(runs_dir, plc_path, plc_attempt)

    monkeypatch.setattr(render, "plc_of_row_is_there", counted)
    best = write_leaderboard(tmp_path / "runs", tmp_path / "best")["markdown"].read_text()
    assert sorted(opened) == ["d1/aa/seed1.plc", "d1/bb/seed0.plc", "d2/aa/seed1.plc"]  # the best seeds
    assert "1 run(s) no longer have their .plc (removed or replaced): d1/bb/seed0;" in best
    opened.clear()
    mean = write_leaderboard(tmp_path / "runs", tmp_path / "mean", aggregate="mean")["markdown"].read_text()
    assert len(opened) == 6  # every ok run is in a mean
    assert "2 run(s) no longer have their .plc (removed or replaced): d1/aa/seed0, d1/bb/seed0;" in mean


def test_each_options_text_is_parsed_once_however_many_runs_share_it(tmp_path: Path, monkeypatch) -> None:
    """Every run's options were parsed and respelled row by row (~12 of the 40 s that 100,000
    rows took to load): once per distinct text now, with the same refusals."""
    import placer.leaderboard.runs as runs_module

    store = ResultStore.in_runs_dir(tmp_path / "runs")
    for seed in range(12):
        for method, options in (("aa", '{"moves": {"swap": 1.0}}'), ("bb", "{}")):
            run = record("d1", method, seed, 0.5 + 0.01 * seed)
            run.options = options
            store.write(run)
    parsed, respelled = [], []
    real_parse, real_respell = runs_module._json_or_none, runs_module.canonical_options
    monkeypatch.setattr(runs_module, "_json_or_none", lambda text: parsed.append(text) or real_parse(text))
    monkeypatch.setattr(runs_module, "canonical_options", lambda text: respelled.append(text) or real_respell(text))
    runs = runs_module.load_runs(tmp_path / "runs")
    assert len(runs) == 24
    assert sorted(parsed) == sorted(respelled) == sorted(["{}", '{"moves": {"swap": 1.0}}'])
    bad = record("d1", "aa", 12, 0.4)
    bad.options = "not json"
    store.write(bad)
    with pytest.raises(ValueError, match=r"the run d1/aa/seed12 has options 'not json' \(expected a JSON object\)"):
        runs_module.load_runs(tmp_path / "runs")
    other = record("d1", "aa", 13, 0.4)
    other.options = '{"moves": {"swap": 2}}'
    store.write(other)
    store.write(record("d1", "aa", 12, 0.4))  # (the bad row replaced: options "{}", another spelling)
    with pytest.raises(ValueError, match="aa \\(5 s\\) was run with different options"):
        runs_module.load_runs(tmp_path / "runs")


def test_a_lost_plc_of_a_seed_no_table_shows_is_named_by_its_presence_alone(tmp_path: Path, monkeypatch) -> None:
    """Under the best seed per cell only the shown seeds' files are opened, and a removed .plc of
    another seed went unsaid while the CSV's proxy_mean still counted that run: it is named in
    a note of its own, found by whether the file is there (never opened); the mean view, which
    opens every ok run's file, names it with the shown ones as before."""
    import placer.leaderboard.render as render

    store = ResultStore.in_runs_dir(tmp_path / "runs")
    for design, method, seed, proxy in [("d1", "aa", 0, 0.8), ("d1", "aa", 1, 0.6), ("d1", "aa", 2, 0.7),
                                        ("d1", "bb", 0, 0.7), ("d1", "bb", 1, 0.9)]:
        run = record(design, method, seed, proxy)
        run.plc_path, run.plc_attempt = f"{design}/{method}/seed{seed}.plc", f"{seed:032x}"
        if (design, method, seed) not in {("d1", "aa", 0), ("d1", "bb", 1)}:  # those two removed
            (tmp_path / "runs" / run.plc_path).parent.mkdir(parents=True, exist_ok=True)
            # (seed 2's file is another run's: a file is there, which is all this note checks)
            (tmp_path / "runs" / run.plc_path).write_text(f"# placer-gym attempt {seed % 2:032x}\n")
        store.write(run)
    opened = []
    real = render.plc_of_row_is_there
    monkeypatch.setattr(render, "plc_of_row_is_there", lambda *row: opened.append(row[1]) or real(*row))
    best = write_leaderboard(tmp_path / "runs", tmp_path / "best")["markdown"].read_text()
    assert sorted(opened) == ["d1/aa/seed1.plc", "d1/bb/seed0.plc"]  # the best seeds only
    assert "no longer have their .plc (removed or replaced)" not in best  # (both shown files are theirs)
    assert ("2 run(s) of seeds no table shows no longer have their .plc (removed; only whether the file is "
            "there was checked): d1/aa/seed0, d1/bb/seed1; they still count in the CSV's `proxy_mean`, "
            "`proxy_std` and `seeds`.") in best
    mean = write_leaderboard(tmp_path / "runs", tmp_path / "mean", aggregate="mean")["markdown"].read_text()
    assert ("3 run(s) no longer have their .plc (removed or replaced): d1/aa/seed0, d1/aa/seed2, d1/bb/seed1;"
            in mean) and "seeds no table shows" not in mean


def test_runs_are_read_in_chunks_into_the_same_table_each_repeated_text_held_once(tmp_path: Path, monkeypatch) -> None:
    """A folder's rows were read whole, each text once per row (~3.1 KB a row at the page's
    peak): read a few rows at a time, the table is the same, and a design, suite or commit
    that many runs share is one string."""
    import placer.results as results

    store = ResultStore.in_runs_dir(tmp_path / "runs")
    for (design, method, seed), proxy in PROXY.items():
        store.write(record(design, method, seed, proxy))
    store.write(record("d2", "cc", 0, None))
    whole = leaderboard.load_runs(tmp_path / "runs")
    monkeypatch.setattr(results, "ROW_CHUNK", 2)
    chunked = leaderboard.load_runs(tmp_path / "runs")
    pd.testing.assert_frame_equal(chunked, whole)
    for column in ("design", "suite", "git_commit", "version", "runs_dir"):
        assert len({id(v) for v in chunked[column].tolist()}) == chunked[column].nunique(), column


def test_a_page_of_a_batch_still_running_says_it_holds_only_the_runs_finished(runs: Path, tmp_path: Path) -> None:
    # a leaderboard of a live batch read as complete: every cell had the same seed count, and a
    # design not begun yet was simply absent
    from placer.folder_lock import exclusive_folder

    with exclusive_folder(runs):  # the batch writing into it
        paths = write_leaderboard(runs, tmp_path / "live")
    note = f"{runs}</code> was being written by pid {os.getpid()} when this page was made: it holds only the runs finished by then"
    assert f"`{runs}` was being written by pid {os.getpid()}" in paths["markdown"].read_text(encoding="utf-8")
    assert note in paths["html"].read_text(encoding="utf-8")
    with exclusive_folder(runs):
        said = CliRunner().invoke(make_app(), ["leaderboard", str(runs), "--out", str(tmp_path / "cli")])
    assert said.exit_code == 0, said.output
    assert f"note: {runs} is being written by pid {os.getpid()}: the page holds only the runs finished so far" in " ".join(said.output.split())
    done = write_leaderboard(runs, tmp_path / "done")  # the batch ended: no note
    assert "was being written by" not in done["markdown"].read_text(encoding="utf-8")


def _facts_runs(tmp_path: Path, edit: dict[tuple[str, str, int], dict[str, object]]) -> Path:
    """The :data:`PROXY` runs, each on host ``h1`` with as many CPU seconds as wall seconds,
    some fields changed per run by ``edit``."""
    store = ResultStore.in_runs_dir(tmp_path / "runs")
    for key, proxy in PROXY.items():
        r = record(*key, proxy)
        r.cpu_s, r.host, r.cpu_count, r.cpu_model, r.load_1m, r.jobs = r.seconds, "h1", 4, "cpu A", 0.5, 2
        for field_name, value in edit.get(key, {}).items():
            setattr(r, field_name, value)
        store.write(r)
    return tmp_path / "runs"


def test_a_column_made_at_two_commits_is_named_and_the_csv_gives_each_cells_commits(tmp_path: Path) -> None:
    """One column holding runs of two commits (a folder resumed after the code changed) read as
    one method's: the header listed both commits for the page. The page names the column and
    its commits; the CSV gives each cell the commits of its seeds."""
    runs = _facts_runs(tmp_path, {("d1", "aa", 1): {"git_commit": "def"},
                                  ("d2", "bb", 0): {"git_dirty": 1}})
    paths = write_leaderboard(runs, tmp_path / "board")
    markdown = paths["markdown"].read_text()
    note = next(line for line in markdown.splitlines() if "more than one version of the code" in line)
    assert "`aa`: abc (3 runs), def (1 run)" in note  # (bb: abc and abc with uncommitted changes)
    assert "`bb`: abc (3 runs), abc+dirty (1 run)" in note
    assert "uncommitted changes" in markdown
    csv = pd.read_csv(paths["csv"], keep_default_na=False)
    assert cell(csv, "d1", "aa", "git_commit") == "abc def"  # its two seeds' commits
    assert cell(csv, "d2", "aa", "git_commit") == "abc"
    assert cell(csv, "d2", "bb", "git_commit") == "abc+dirty abc"
    assert cell(csv, "d1", "initial", "git_commit") == ""

    one = write_leaderboard(_facts_runs(tmp_path / "one", {}), tmp_path / "board1")["markdown"].read_text()
    assert "more than one version of the code" not in one and "uncommitted" not in one


def test_cells_whose_runs_shared_their_cpu_are_named_and_the_csv_gives_the_machine(tmp_path: Path) -> None:
    """The budget is wall-clock: a run given half a CPU searched half as long as its neighbours,
    unsaid. A run whose CPU seconds are well below its wall seconds is named with its cell;
    the CSV gives the shown seed's CPU seconds, ratio and load and the seeds' jobs and host."""
    runs = _facts_runs(tmp_path, {("d1", "aa", 1): {"cpu_s": 2.5, "load_1m": 7.5}})  # 2.5 of 5 s
    paths = write_leaderboard(runs, tmp_path / "board")
    markdown = paths["markdown"].read_text()
    note = next(line for line in markdown.splitlines() if "shared their CPU" in line)
    assert "d1/aa (1 of 2 seed(s), CPU/wall down to 0.50)" in note
    assert "d2/aa" not in note and "d1/bb" not in note
    assert "more than one machine" not in markdown  # one host
    csv = pd.read_csv(paths["csv"])
    assert cell(csv, "d1", "aa", "cpu_s") == 2.5 and cell(csv, "d1", "aa", "cpu_ratio") == 0.5  # the best seed's
    assert cell(csv, "d1", "aa", "load_1m") == 7.5
    assert cell(csv, "d1", "bb", "cpu_ratio") == 1.0
    assert (cell(csv, "d1", "aa", "host"), cell(csv, "d1", "aa", "jobs"), cell(csv, "d1", "aa", "cpu_count"),
            cell(csv, "d1", "aa", "cpu_model")) == ("h1", 2, 4, "cpu A")
    mean = pd.read_csv(write_leaderboard(runs, tmp_path / "mean", aggregate="mean")["csv"])
    assert cell(mean, "d1", "aa", "cpu_ratio") == pytest.approx((4.0 + 2.5) / (4.0 + 5.0))


def test_runs_from_several_hosts_are_said(tmp_path: Path) -> None:
    runs = _facts_runs(tmp_path, {("d2", "bb", 1): {"host": "h2", "cpu_model": "cpu B", "cpu_count": 64}})
    paths = write_leaderboard(runs, tmp_path / "board")
    note = next(line for line in paths["markdown"].read_text().splitlines() if "more than one machine" in line)
    assert "7 runs on h1 (cpu A, 4 CPUs), 1 run on h2 (cpu B, 64 CPUs)" in note
    assert cell(pd.read_csv(paths["csv"]), "d2", "bb", "host") == "h1 h2"


def test_runs_recorded_before_the_machine_columns_make_the_page_and_leave_them_blank(tmp_path: Path) -> None:
    """A runs folder written by older code (no CPU, host or jobs columns) still makes its page,
    with blank machine columns and no note on shared CPUs or hosts."""
    import sqlite3

    runs = _facts_runs(tmp_path, {})
    with closing(sqlite3.connect(runs / DB_NAME)) as conn, conn:
        for column in ("cpu_s", "git_dirty", "host", "cpu_count", "cpu_model", "load_1m", "jobs"):
            conn.execute(f"ALTER TABLE runs DROP COLUMN {column}")
    paths = write_leaderboard(runs, tmp_path / "board")  # (it reads the file as it is: read-only)
    markdown = paths["markdown"].read_text()
    assert "shared their CPU" not in markdown and "more than one machine" not in markdown
    csv = pd.read_csv(paths["csv"])
    assert cell(csv, "d1", "aa", "git_commit") == "abc" and pd.isna(cell(csv, "d1", "aa", "cpu_s"))
    assert csv["host"].isna().all() and csv["jobs"].isna().all()


def test_the_html_page_names_its_language_tables_and_row_headers(runs: Path, tmp_path: Path) -> None:
    """leaderboard.html had no lang, no table captions, and design names as plain cells: a
    screen reader read a cell without its design."""
    from html.parser import HTMLParser

    class Tags(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.tags: list[tuple[str, dict[str, str | None]]] = []
            self.data: list[str] = []

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            self.tags.append((tag, dict(attrs)))

        def handle_data(self, data: str) -> None:
            if self.tags and self.tags[-1][0] == "th" and self.tags[-1][1].get("scope") == "row":
                self.data.append(data)

    parser = Tags()
    parser.feed(write_leaderboard(runs, tmp_path / "page")["html"].read_text())
    assert ("html", {"lang": "en"}) in parser.tags
    tags = [tag for tag, _ in parser.tags]
    assert tags.count("table") == tags.count("caption") > 0
    assert all(tags[k + 1] == "caption" for k, tag in enumerate(tags) if tag == "table")
    assert {"d1", "d2"} <= set(parser.data)
    assert all(attrs.get("scope") in ("row", "col") for tag, attrs in parser.tags if tag == "th")


def test_the_charts_footnote_is_at_least_8_pt_and_inside_the_picture(tmp_path: Path) -> None:
    """It was 7 pt dimgrey at 120 dpi (12 pixels high)."""
    from placer.leaderboard import bar_figure

    store = ResultStore.in_runs_dir(tmp_path)
    run = record("d1", "aa", 0, 0.7)
    run.initial_out_of_canvas = 1
    store.write(run)
    figure = bar_figure(build(tmp_path), ["initial", "aa"])
    footnote = figure._supxlabel
    assert footnote is not None and footnote.get_fontsize() >= 8
    figure.canvas.draw()
    box = footnote.get_window_extent()
    assert figure.bbox.x0 - 1 <= box.x0 and box.x1 <= figure.bbox.x1 + 1
