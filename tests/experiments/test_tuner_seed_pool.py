"""experiments/bench/tuner_seed_pool.py: Optuna against random search over pooled seeds."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "experiments" / "bench" / "tuner_seed_pool.py"


def _results(path: Path, seeds: list[int], random: list[float | None], optuna: list[float | None],
             workload: str = "orders") -> Path:
    """A results file shaped as config_tuning_bench.py writes it (the fields the pool reads)."""
    record = {"workload": workload, "system": "sqlite",
              "tuners": {"random": {"seeds": seeds, "remeasured_vs_rule": random},
                         "optuna": {"seeds": seeds, "remeasured_vs_rule": optuna},
                         "rl": {"seeds": seeds[:1], "remeasured_vs_rule": [9.0]}}}  # fmt: skip
    path.write_text(json.dumps({"meta": {}, "workloads": [record]}))
    return path


def _pool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=120)


def test_seeds_of_two_runs_are_pooled_and_tested_together(tmp_path: Path) -> None:
    """Three seeds a side cannot reach p < 0.05; the seeds of a second run pooled with the
    first's give the exact rank test over all of them (here every Optuna seed above every random
    one that was measured, one having failed: p = 2 / C(11, 5) = 0.004), medians over them, and
    the failed seed shown as such."""
    first = _results(tmp_path / "a.json", [0, 1, 2], [1.0, 1.1, None], [1.5, 1.6, 1.7])
    second = _results(tmp_path / "b.json", [3, 4, 5], [1.2, 1.3, 1.4], [1.8, 1.9, 2.0])
    done = _pool(str(first), str(second), "--out", str(tmp_path / "pool.md"))
    assert done.returncode == 0, done.stderr
    row = next(line for line in (tmp_path / "pool.md").read_text().splitlines() if line.startswith("| orders"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[1:6] == ["6 / 6", "1.20 / 1.75", "yes", "0.004", "0.004"], cells
    assert "2: failed" in cells[6] and "5: 2.00" in cells[7] and "9.0" not in row  # (rl is not pooled)
    stored = json.loads((tmp_path / "pool.json").read_text())
    assert stored["orders"]["optuna"]["5"] == 2.0 and stored["orders"]["random"]["2"] is None


def test_a_seed_in_two_files_or_a_file_of_another_kind_is_refused_in_one_line(tmp_path: Path) -> None:
    """Pooling a run with itself would count its seeds twice (a smaller p for nothing)."""
    first = _results(tmp_path / "a.json", [0, 1, 2], [1.0, 1.1, 1.2], [1.5, 1.6, 1.7])
    again = _pool(str(first), str(first))
    assert again.returncode == 2 and "orders random seed 0 is also in" in again.stderr
    other = tmp_path / "other.json"
    other.write_text('{"rows": []}')
    wrong = _pool(str(other))
    assert wrong.returncode == 2 and "not config_tuning_bench.py's results" in wrong.stderr
    for done in (again, wrong):
        assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr


@pytest.mark.parametrize(("first", "second", "smallest"), [(3, 3, 0.1), (6, 6, 2 / 924), (2, 3, 0.2)])
def test_the_smallest_p_is_one_split_each_way(first: int, second: int, smallest: float) -> None:
    sys.path.insert(0, str(SCRIPT.parent))
    try:
        import tuner_seed_pool
    finally:
        sys.path.remove(str(SCRIPT.parent))
    assert tuner_seed_pool.smallest_p(first, second) == pytest.approx(smallest)


def test_the_reading_above_the_table_is_written_from_its_rows(tmp_path: Path) -> None:
    """The words over the table come from the figures (the command that writes the table writes
    its reading): verdicts per workload, what passes 0.05 and the Bonferroni bound for the
    workloads tested at once, the seeds whose best fell below the rule of thumb, and the failed
    ones; each pooled file named with the command its records name."""
    first = _results(tmp_path / "a.json", [0, 1, 2], [1.0, 0.9, None], [1.5, 1.6, 1.7])
    second = _results(tmp_path / "b.json", [0, 1, 2], [1.5, 1.6, 1.7], [1.2, 0.8, 1.4], workload="ycsb-b")
    records = json.loads(second.read_text())
    records["workloads"][0]["command"] = "python experiments/bench/config_tuning_bench.py --seeds 0 1 2"
    second.write_text(json.dumps(records))
    done = _pool(str(first), str(second), "--out", str(tmp_path / "pool.md"))
    assert done.returncode == 0, done.stderr
    text = (tmp_path / "pool.md").read_text()
    assert "`" + str(second) + "` from `python experiments/bench/config_tuning_bench.py --seeds 0 1 2`" in text
    assert f"`{first}` from its records name no command" in text
    reading = next(line for line in text.splitlines() if line.startswith("3 seeds a side over 2 workloads"))
    assert "above random search's on orders, a tie (within 2 %) on none, below on ycsb-b" in reading
    # 3 a side: the least p is 0.10, so nothing passes 0.05 (nor 0.05 / 2 = 0.025)
    assert "p < 0.05 on none, below the Bonferroni bound 0.05 / 2 = 0.0250 on none" in reading
    assert "Random search: 1 seed(s) whose best, re-measured, was below the rule of thumb (orders seed 1 (0.90)), 1 failed" in reading
    assert "Optuna: 1 seed(s) whose best, re-measured, was below the rule of thumb (ycsb-b seed 1 (0.80))." in reading


def test_a_p_below_a_thousandth_is_printed_in_figures_not_as_naught(tmp_path: Path) -> None:
    """Nine seeds a side can give p = 2 / C(18, 9) = 4.1e-05, printed 0.000 to three decimals."""
    low = [1.0 + k / 100 for k in range(9)]
    files = [_results(tmp_path / "a.json", list(range(9)), low, [2.0 + v for v in low])]
    done = _pool(*map(str, files), "--out", str(tmp_path / "pool.md"))
    assert done.returncode == 0, done.stderr
    row = next(line for line in (tmp_path / "pool.md").read_text().splitlines() if line.startswith("| orders"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[4:6] == ["4.1e-05", "4.1e-05"], cells


def test_a_seed_just_below_the_rule_reads_below_it(tmp_path: Path) -> None:
    """0.996x the rule, listed as below it, read "(1.00)" to two decimals."""
    done = _pool(str(_results(tmp_path / "a.json", [0, 1, 2], [0.996, 1.2, 1.3], [1.5, 1.6, 1.7])),
                 "--out", str(tmp_path / "pool.md"))  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "below the rule of thumb (orders seed 0 (0.996))" in (tmp_path / "pool.md").read_text()
