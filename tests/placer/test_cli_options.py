"""Numeric options out of range: a clean usage error (exit 2) before any work, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from netlists.designs import builtin_path
from placer.cli import app

runner = CliRunner()
ARIANE = str(builtin_path() / "netlist.pb.txt.gz")


def _commands(out: Path) -> dict[str, list[str]]:
    """Each command that takes ``--seed``, with otherwise valid arguments writing under ``out``."""
    return {
        "demo": ["demo", "--budget-s", "0.1", "--out", str(out)],
        "generate": ["generate", str(out), "--hard", "2", "--soft", "2", "--ports", "2"],
        "place": [
            "place",
            ARIANE,
            "--algo",
            "sa",
            "--budget-s",
            "0.1",
            "--out",
            str(out / "p.plc"),
        ],
        "train": ["train", "--out", str(out), "--generated", "1", "--timesteps", "8"],
        "tune": [
            "tune",
            "--system",
            "index",
            "--workload",
            "uniform",
            "--trials",
            "1",
            "--out",
            str(out),
        ],
    }


@pytest.mark.parametrize("command", ["demo", "generate", "place", "train", "tune"])
def test_negative_seed_is_a_usage_error(tmp_path: Path, command: str) -> None:
    out = tmp_path / "out"
    result = runner.invoke(app, [*_commands(out)[command], "--seed", "-1"])
    assert result.exit_code == 2, result.output
    assert "--seed" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert not out.exists()  # rejected before anything was written


def test_negative_demo_budget_is_a_usage_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["demo", "--budget-s", "-1", "--out", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    assert "--budget-s" in result.output
    assert not (tmp_path / "out").exists()
