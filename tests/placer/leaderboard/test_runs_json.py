"""The leaderboard's read of the runs' options: text nested past Python's recursion limit is a
damaged row (one line, exit 2), not a bug of ours."""

from __future__ import annotations

from pathlib import Path

import pytest

from placer.leaderboard import build
from placer.results import ResultStore, RunRecord


def test_a_row_of_options_nested_past_the_recursion_limit_is_named_as_damaged(tmp_path: Path) -> None:
    """json's RecursionError escaped the check that names a row's options no JSON object."""
    from netlists.errors import InputError

    store = ResultStore.in_runs_dir(tmp_path / "runs")
    run = RunRecord(design="d1", method="aa", seed=0, budget_s=5.0, suite="/nowhere", initial_proxy=1.0,
                    initial_wirelength=0.1, initial_density=0.5, initial_congestion=0.5, proxy=0.6,
                    wirelength=0.06, density=0.3, congestion=0.3, seconds=4.0, overlap_area=0.0,
                    out_of_canvas=0, options="[" * 100_000)  # fmt: skip
    store.write(run)
    with pytest.raises(InputError, match=r"the run d1/aa/seed0 has options '\[\[\[.*\(expected a JSON object\)"):
        build(tmp_path / "runs")
