"""What a leaderboard cell and its summary rows say about seeds and scale: a cell's number of
seeds and spread, bold withheld where the lead is within that spread, the geometric mean ratio
to ``initial`` and the pairwise wins (a mean rank over raw proxies hid both)."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from placer.cost.timing import TIMING_MODEL
from placer.leaderboard import build, pivot, summary_rows, write_leaderboard
from placer.leaderboard.table import GEOMEAN_ROW, illegal_pivot, pairwise_wins
from placer.results import ResultStore, RunRecord

INITIAL = {"d1": 1.0, "d2": 2.0, "d3": 4.0}


def record(design: str, method: str, seed: int, proxy: float, overlap_area: float = 0.0) -> RunRecord:
    """An ok run's row of ``proxy`` (its parts a share of it), 5 s budget."""
    base = INITIAL[design]
    run = RunRecord(design=design, method=method, seed=seed, budget_s=5.0, suite="/nowhere",
                    initial_proxy=base, initial_wirelength=base / 10, initial_density=base / 2,
                    initial_congestion=base / 2, version="0.1.0", git_commit="abc")
    run.proxy, run.wirelength, run.density, run.congestion = proxy, proxy / 10, proxy / 2, proxy / 2
    run.timing, run.seconds, run.overlap_area, run.out_of_canvas = 0.5, 4.0, overlap_area, 0
    run.timing_model = TIMING_MODEL
    return run


def runs_of(folder: Path, proxies: dict[tuple[str, str], list[float]]) -> Path:
    """A runs folder with a run per seed of each (design, method)'s ``proxies``."""
    store = ResultStore.in_runs_dir(folder)
    for (design, method), values in proxies.items():
        for seed, proxy in enumerate(values):
            store.write(record(design, method, seed, proxy))
    return folder


def cell(table: pd.DataFrame, design: str, method: str, column: str) -> object:
    row = table[(table["design"] == design) & (table["method"] == method)]
    assert len(row) == 1
    return row.iloc[0][column]


def test_bold_is_withheld_where_the_lead_is_within_the_seeds_spread(tmp_path: Path) -> None:
    """A best of N moves with the draw: sa's best of two (0.70, seeds 0.70 and 0.90) led a
    steady method's 0.72 in bold, as if it had won."""
    runs = runs_of(tmp_path / "runs", {
        ("d1", "sa"): [0.70, 0.90], ("d1", "steady"): [0.72, 0.72],  # lead 0.02 < sd 0.141
        ("d2", "sa"): [1.00, 1.02], ("d2", "steady"): [1.50, 1.50],  # lead 0.5 > sd 0.014
        ("d3", "sa"): [2.00], ("d3", "steady"): [2.00],  # a tie of cells without spread
    })
    table = build(runs)
    sd = pd.Series([0.70, 0.90]).std()
    assert cell(table, "d1", "sa", "proxy_std") == pytest.approx(sd)
    assert bool(cell(table, "d1", "sa", "best")) and not bool(cell(table, "d1", "sa", "clear_best"))
    assert bool(cell(table, "d2", "sa", "clear_best")) and not bool(cell(table, "d2", "steady", "clear_best"))
    assert bool(cell(table, "d3", "sa", "clear_best")) and bool(cell(table, "d3", "steady", "clear_best"))
    paths = write_leaderboard(runs, tmp_path / "page")
    page = paths["markdown"].read_text()
    assert f"| d1 | 1.0000 | 0.7000 (n 2, sd {sd:.4f}) | 0.7200 (n 2, sd 0.0000) |" in page
    assert "| d2 | 2.0000 | **1.0000** (n 2, sd 0.0141) | 1.5000 (n 2, sd 0.0000) |" in page
    assert "| d3 | 4.0000 | **2.0000** | **2.0000** |" in page
    assert "within seed spread, no cell bold: d1." in page
    assert "a best of N favours the methods run with more seeds, or whose seeds vary more" in page
    csv = pd.read_csv(paths["csv"])  # the numbers stay numeric columns
    assert {"proxy", "proxy_std", "seeds", "best", "clear_best"} <= set(csv.columns)
    assert csv["proxy"].dtype == float


def test_a_mean_page_has_no_best_of_n_warning_and_the_same_bold_rule(tmp_path: Path) -> None:
    runs = runs_of(tmp_path / "runs", {("d1", "aa"): [0.5, 0.9], ("d1", "bb"): [0.75, 0.8]})
    page = write_leaderboard(runs, tmp_path / "page", aggregate="mean")["markdown"].read_text()
    assert "a best of N favours" not in page
    assert "| d1 | 1.0000 | 0.7000 (n 2, sd 0.2828) | 0.7750 (n 2, sd 0.0354) |" in page  # 0.075 < 0.28


def test_geomean_vs_initial_and_pairwise_wins_say_what_a_mean_rank_hides(tmp_path: Path) -> None:
    """A mean rank over raw proxies orders sa before an (2.33 against 2.67) although an is
    lower against each design's start (its geometric mean); the pairwise table shows how
    often each won (sa 2 of 3) and that gr won every design."""
    proxies = {
        # d1, d3: sa a little ahead of an; d2: an far ahead of sa
        ("d1", "gr"): [0.50], ("d1", "sa"): [0.60], ("d1", "an"): [0.61],
        ("d2", "gr"): [1.00], ("d2", "an"): [1.10], ("d2", "sa"): [1.90],
        ("d3", "gr"): [2.00], ("d3", "sa"): [2.50], ("d3", "an"): [2.60],
    }
    runs = runs_of(tmp_path / "runs", proxies)
    table = build(runs)
    wide, illegal = pivot(table, "proxy"), illegal_pivot(table, ["an", "gr", "sa"])
    summary = summary_rows(wide, illegal, versus_initial=True)
    for method in ("gr", "sa", "an"):
        ratios = [proxies[(d, method)][0] / INITIAL[d] for d in ("d1", "d2", "d3")]
        expected = math.exp(sum(map(math.log, ratios)) / 3) - 1
        assert summary.loc[GEOMEAN_ROW, method] == pytest.approx(expected)
    assert summary.attrs["n_geomean"] == 3 and pd.isna(summary.loc[GEOMEAN_ROW, "initial"])
    assert summary.loc["mean rank", "sa"] < summary.loc["mean rank", "an"]  # 2.33 against 2.67
    assert summary.loc[GEOMEAN_ROW, "an"] < summary.loc[GEOMEAN_ROW, "sa"]  # but an is lower here
    wins, shared = pairwise_wins(wide, illegal)
    assert wins.loc["sa", "an"] == 2 and wins.loc["an", "sa"] == 1 and wins.loc["gr", "sa"] == 3
    assert shared.loc["sa", "an"] == 3
    page = write_leaderboard(runs, tmp_path / "page")["markdown"].read_text()
    proxy_table = page.split("## Proxy")[1].split("## Wirelength")[0]
    assert "| design | initial | gr | sa | an |" in proxy_table  # the order rule kept: mean rank
    geomean = f"| **{GEOMEAN_ROW}** | — | " + " | ".join(
        f"{summary.loc[GEOMEAN_ROW, m] * 100:+.1f} %" for m in ("gr", "sa", "an")) + " |"
    assert geomean in proxy_table
    assert "| method | gr | sa | an |" in proxy_table and "| sa | 0/3 | — | 2/3 |" in proxy_table
    assert "which orders the columns and the chart's bars" in page
    assert GEOMEAN_ROW not in page.split("## Wirelength")[1]  # the proxy table's row only


def test_pairwise_wins_put_an_illegal_placement_after_a_legal_one_and_count_ties_for_neither() -> None:
    wide = pd.DataFrame({"aa": [0.5, 1.0, 2.0], "bb": [0.9, 1.0, float("nan")]}, index=["d1", "d2", "d3"])
    illegal = pd.DataFrame({"aa": [True, False, False], "bb": [False, False, False]}, index=wide.index)
    wins, shared = pairwise_wins(wide, illegal)
    assert (wins.loc["aa", "bb"], wins.loc["bb", "aa"], shared.loc["aa", "bb"]) == (0, 1, 2)


def test_geomean_counts_only_designs_with_an_initial_proxy() -> None:
    wide = pd.DataFrame({"initial": [1.0, float("nan")], "aa": [0.5, 3.0]}, index=["d1", "d2"])
    summary = summary_rows(wide, versus_initial=True)
    assert summary.attrs["n_geomean"] == 1 and summary.loc[GEOMEAN_ROW, "aa"] == pytest.approx(-0.5)
    assert GEOMEAN_ROW not in summary_rows(wide).index


def test_a_cells_n_and_sd_are_of_the_seeds_its_figure_is_chosen_from(tmp_path: Path) -> None:
    """A best-seed cell shows its best legal seed, but its (n, sd) counted an illegal seed too:
    sa's 0.90 x 3 legal and one illegal 0.30 gave sd 0.30, withholding fd's bold (0.80 x 3,
    a clear lead over 0.90) as "within seed spread". The n and sd are the legal seeds'; a
    mean page, whose figure is every seed's mean, keeps every seed."""
    store = ResultStore.in_runs_dir(tmp_path / "runs")
    for seed in range(3):
        store.write(record("d1", "fd", seed, 0.80))
        store.write(record("d1", "sa", seed, 0.90))
    store.write(record("d1", "sa", 3, 0.30, overlap_area=5.0))  # not legal
    table = build(tmp_path / "runs")
    assert bool(cell(table, "d1", "fd", "clear_best"))
    page = write_leaderboard(tmp_path / "runs", tmp_path / "page")["markdown"].read_text()
    assert "| d1 | 1.0000 | **0.8000** (n 3, sd 0.0000) | 0.9000 (n 3, sd 0.0000) |" in page
    assert "within seed spread" not in page
    assert (cell(table, "d1", "sa", "seeds"), cell(table, "d1", "sa", "spread_seeds")) == (4, 3)  # (ok runs: 4)
    assert cell(table, "d1", "sa", "spread_std") == pytest.approx(0.0)

    mean = build(tmp_path / "runs", aggregate="mean")
    assert cell(mean, "d1", "sa", "spread_seeds") == 4
    assert cell(mean, "d1", "sa", "spread_std") == pytest.approx(pd.Series([0.9, 0.9, 0.9, 0.3]).std())


def test_the_reading_notes_explain_only_what_the_page_shows(tmp_path: Path) -> None:
    """A page of one method explained "Pairwise wins" with no such table; one whose cells are
    one seed each warned that a best of N favours methods with more seeds; a mean page showed
    (n, sd) without saying what they are."""
    one = write_leaderboard(runs_of(tmp_path / "one", {("d1", "sa"): [0.7, 0.8], ("d2", "sa"): [1.0, 1.1]}),
                            tmp_path / "one_page")["markdown"].read_text()
    assert "Pairwise wins" not in one and "a best of N favours" in one
    single = write_leaderboard(runs_of(tmp_path / "single", {("d1", "sa"): [0.7], ("d1", "fd"): [0.8]}),
                               tmp_path / "single_page")["markdown"].read_text()
    assert "a best of N favours" not in single and "(n " not in single and "Pairwise wins" in single
    mean = write_leaderboard(tmp_path / "one", tmp_path / "mean_page", aggregate="mean")["markdown"].read_text()
    assert "0.7500** (n 2, sd 0.0707)" in mean
    assert "Each cell is the mean over its seeds. Proxy cells of several seeds give their number and the " \
           "sample standard deviation" in " ".join(mean.split())


def test_a_design_whose_initial_proxy_is_0_is_named_as_left_out_of_the_geomean(tmp_path: Path) -> None:
    """A design whose initial proxy is 0 has no ratio to it: the page said the geomean was
    "over the 0 of them with an initial proxy", though every design had one."""
    store = ResultStore.in_runs_dir(tmp_path / "runs")
    for method, proxy in (("sa", 0.5), ("fd", 0.6)):
        run = record("d1", method, 0, proxy)
        run.initial_proxy = 0.0
        store.write(run)
    page = write_leaderboard(tmp_path / "runs", tmp_path / "page")["markdown"].read_text()
    assert "`geomean vs initial` leaves out d1: its `initial` proxy is 0 (no ratio to it)." in page
    assert "over the 0 of them" not in page


def test_pairwise_wins_are_each_pairs_counts_over_its_shared_designs() -> None:
    """The pairs counted all at once (a pandas loop per pair took 5.9 s for 100 methods) give
    each pair's own counts: checked pair by pair on a table with gaps, ties and illegal cells."""
    import numpy as np

    draw = np.random.default_rng(3)
    methods = ["initial", *(f"m{i}" for i in range(7))]
    figures = draw.integers(0, 5, size=(30, len(methods))).astype(float)  # (few values: ties)
    figures[draw.random(figures.shape) < 0.2] = np.nan
    wide = pd.DataFrame(figures, index=[f"d{i}" for i in range(30)], columns=methods)
    illegal = pd.DataFrame(draw.random(figures.shape) < 0.2, index=wide.index, columns=methods)
    wins, shared = pairwise_wins(wide, illegal)
    assert list(wins.index) == list(wins.columns) == methods[1:]
    for a in methods[1:]:
        for b in methods[1:]:
            both = [d for d in wide.index if not (np.isnan(wide.at[d, a]) or np.isnan(wide.at[d, b]))] if a != b else []
            ahead = [d for d in both if (illegal.at[d, a], wide.at[d, a]) < (illegal.at[d, b], wide.at[d, b])]
            assert (shared.at[a, b], wins.at[a, b]) == (len(both), len(ahead)), (a, b)
