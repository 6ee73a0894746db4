"""The result tables keep every digit in a narrow terminal, and stay aligned under an ASCII
stream.

At COLUMNS=30 ``placer place`` printed "0.0788…" (the digits after it lost from stdout), and
``placer eval`` at 20 "27613…". Under PYTHONIOENCODING=ascii "(µm²)" was written as "(um^2)"
after Rich had laid out the table: that row one column wider than its border.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from placer.cli import app


def _at_width(args: list[str], width: int, monkeypatch: pytest.MonkeyPatch) -> str:
    """The stdout of ``placer ARGS`` with the commands' console ``width`` columns wide (it
    reads COLUMNS once, when made: set here)."""
    from placer.commands import common

    monkeypatch.setattr(common.console, "_width", width)
    result = CliRunner().invoke(app, args, env={"COLUMNS": str(width)})
    assert result.exit_code == 0, result.output
    return result.stdout


def _json_costs() -> dict[str, float]:
    result = CliRunner().invoke(app, ["eval", "default", "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.mark.parametrize("width", [20, 24])
def test_eval_keeps_every_digit_in_a_narrow_terminal(width: int, monkeypatch: pytest.MonkeyPatch) -> None:
    costs = _json_costs()
    out = _at_width(["eval", "default"], width, monkeypatch)
    assert "…" not in out and all(len(line) <= width for line in out.splitlines() if line[:1] in "┏┃┡│└"), out
    for key in ("wirelength", "density", "congestion", "proxy"):
        assert f" {costs[key]:.6f} " in out, (key, out)
    assert f" {costs['hpwl']:.3f} " in out, out


def test_place_keeps_every_digit_in_a_narrow_terminal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    costs = _json_costs()
    out = _at_width(["place", "default", "--algo", "greedy", "--budget-s", "0.2", "--out",
                     str(tmp_path / "p.plc")], 30, monkeypatch)
    assert "…" not in out and all(len(line) <= 30 for line in out.splitlines() if line[:1] in "┏┃┡│└"), out
    for key in ("wirelength", "density", "congestion", "proxy"):
        row = next(line for line in out.splitlines() if f" {costs[key]:.6f} " in line)  # the initial column
        assert len(row.split()) == 7 and len(row.split()[-2]) == 8, row  # (│ LABEL │ 0.xxxxxx │ 0.xxxxxx │)


def test_place_keeps_every_digit_even_where_numbers_must_fold(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    costs = _json_costs()
    out = _at_width(["place", "default", "--algo", "greedy", "--budget-s", "0.2", "--out",
                     str(tmp_path / "p.plc")], 20, monkeypatch)
    assert "…" not in out, out
    # the initial column read down, its pieces joined: every cost's digits there
    column = "".join(line.split("│")[2].strip() for line in out.splitlines() if line.count("│") == 4)
    for key in ("wirelength", "density", "congestion", "proxy"):
        assert f"{costs[key]:.6f}" in column, (key, column)


def test_an_ascii_stream_gets_the_stand_ins_before_the_table_is_laid_out() -> None:
    env = {**os.environ, "PYTHONIOENCODING": "ascii", "COLUMNS": "100"}
    done = subprocess.run([sys.executable, "-m", "placer", "eval", "default"], capture_output=True, text=True,
                          env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    rows = [line for line in done.stdout.splitlines() if line.startswith(("|", "+"))]
    assert any("(um^2)" in row for row in rows), done.stdout
    assert len({len(row) for row in rows}) == 1, done.stdout
