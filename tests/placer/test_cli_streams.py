"""What the CLI writes where, off a terminal: results on stdout unfolded, progress bars on
stderr, any encoding, and one line for an output that cannot be written."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import typer
from typer.testing import CliRunner

from placer.batch import RunRecord, _BatchProgress
from placer.commands.place import register as register_place


def test_a_suites_progress_bar_is_drawn_on_stderr(capsys) -> None:  # type: ignore[no-untyped-def]
    """It was on stdout: `placer place --suite ... > results.txt` held a line of ━."""
    with _BatchProgress(1, enabled=True) as bar:
        bar.update(RunRecord(design="d1", method="greedy", seed=0, budget_s=1.0, suite="/s", proxy=0.5))
    captured = capsys.readouterr()
    assert captured.out == "" and "placing" in captured.err


def test_a_long_result_line_is_not_folded_off_a_terminal(tmp_path: Path) -> None:
    """Rich folded lines at 80 columns: "wrote" alone, the path split over the next two."""
    app = typer.Typer()
    register_place(app)
    app.callback()(lambda: None)
    out = tmp_path / ("x" * 90) / "r.plc"
    result = CliRunner().invoke(app, ["place", "default", "--algo", "greedy", "--budget-s", "0.5", "--quiet",
                                      "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert f"wrote {out}" in result.output.splitlines()


def test_text_its_encoding_lacks_is_written_as_question_marks(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """demo's and the leaderboard's "†" and "—" raised UnicodeEncodeError (a traceback) under
    PYTHONIOENCODING=latin-1 or ascii."""
    from placer.cli import _tolerant_streams

    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="ascii")
    monkeypatch.setattr(sys, "stdout", stream)
    _tolerant_streams()
    print("initial† — done")
    stream.flush()
    assert raw.getvalue() == b"initial? ? done\n"


def test_version_into_a_full_disk_is_one_line() -> None:
    """`placer --version > /dev/full` ended in a traceback (it fails outside any command)."""
    if not Path("/dev/full").exists():
        import pytest

        pytest.skip("no /dev/full on this system")
    with open("/dev/full", "w") as full:
        done = subprocess.run([sys.executable, "-m", "placer", "--version"], stdout=full, stderr=subprocess.PIPE,
                              text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == ["placer: error: cannot write the output: No space left on device"]


def test_tune_into_a_closed_pipe_exits_as_every_command_does(tmp_path: Path) -> None:
    """tune said `placer: error: [Errno 32] Broken pipe` and exit 2 where the others exit 141."""
    import os

    read, write = os.pipe()
    os.close(read)  # (placer tune ... | true)
    try:
        done = subprocess.run([sys.executable, "-m", "placer", "tune", "--system", "index", "--tuner", "random",
                               "--trials", "1", "--rows", "3000", "--index-cost", "counted", "--quiet", "--out",
                               str(tmp_path / "t")], stdout=write, stderr=subprocess.PIPE, text=True, timeout=300)
    finally:
        os.close(write)
    assert (done.returncode, done.stderr) == (141, "")
