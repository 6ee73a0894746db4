"""What the CLI writes where, off a terminal: results on stdout unfolded, progress bars on
stderr, any encoding, and one line for an output that cannot be written."""

from __future__ import annotations

import io
import re
import subprocess
import sys
from pathlib import Path

import pytest
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
    plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", result.output)  # (colours, under pytest -s in a terminal)
    assert f"wrote {out}" in plain.splitlines()


def test_text_its_encoding_lacks_is_written_as_plain_stand_ins_or_question_marks(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """demo's and the leaderboard's "†" and "—" raised UnicodeEncodeError (a traceback) under
    PYTHONIOENCODING=latin-1 or ascii."""
    from placer.cli import _tolerant_streams

    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="ascii")
    monkeypatch.setattr(sys, "stdout", stream)
    _tolerant_streams()
    print("initial† — done, 3.5 µm², ≥ 2 ✓")  # (µm read "?m")
    stream.flush()
    assert raw.getvalue() == b"initial+ - done, 3.5 um^2, >= 2 ?\n"


def test_version_into_a_full_disk_is_one_line() -> None:
    """`placer --version > /dev/full` ended in a traceback (it fails outside any command)."""
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full on this system")
    with open("/dev/full", "w") as full:
        done = subprocess.run([sys.executable, "-m", "placer", "--version"], stdout=full, stderr=subprocess.PIPE,
                              text=True, timeout=120, env=_buffered_env())
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == ["placer: error: cannot write the output: No space left on device"]


def _buffered_env() -> dict[str, str]:
    """The environment without PYTHONUNBUFFERED (set on the project's machines, not in a plain
    shell): stdout then holds the output until it is flushed, where a write fails."""
    import os

    return {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}


@pytest.mark.parametrize("args", [["--version"], ["eval", "default", "--json"], ["info", "default"]],
                         ids=lambda a: " ".join(a))
def test_buffered_output_into_a_full_disk_or_a_closed_pipe_sets_the_status(args: list[str]) -> None:
    """Without PYTHONUNBUFFERED the write failed at the interpreter's exit: "Exception ignored
    ... OSError" and status 120, where the commands say one line and exit 2 (full disk) or exit
    141 quietly (closed pipe)."""
    import os

    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full on this system")
    command = [sys.executable, "-m", "placer", *args]
    with open("/dev/full", "w") as full:
        done = subprocess.run(command, stdout=full, stderr=subprocess.PIPE, text=True, timeout=120,
                              env=_buffered_env())
    assert (done.returncode, done.stderr) == (2, "placer: error: cannot write the output: No space left on device\n")
    read, write = os.pipe()
    os.close(read)
    try:
        done = subprocess.run(command, stdout=write, stderr=subprocess.PIPE, text=True, timeout=120,
                              env=_buffered_env())
    finally:
        os.close(write)
    assert (done.returncode, done.stderr) == (141, "")


def test_tune_into_a_closed_pipe_exits_as_every_command_does(tmp_path: Path) -> None:
    """tune said `placer: error: [Errno 32] Broken pipe` and exit 2 where the others exit 141."""
    import os

    read, write = os.pipe()
    os.close(read)  # (placer tune ... | true)
    try:
        done = subprocess.run([sys.executable, "-m", "placer", "tune", "--system", "index", "--tuner", "random",
                               "--trials", "1", "--rows", "3000", "--index-cost", "counted", "--quiet", "--out",
                               str(tmp_path / "t")], stdout=write, stderr=subprocess.PIPE, text=True, timeout=300,
                              env=_buffered_env())
    finally:
        os.close(write)
    assert (done.returncode, done.stderr) == (141, "")


def test_the_leaderboard_under_an_ascii_stdout_writes_its_dash_as_a_plain_one(tmp_path: Path) -> None:
    """`PYTHONIOENCODING=ascii placer leaderboard ...` ended in a UnicodeEncodeError traceback
    on the mean-rank row's "—" (after its files were written)."""
    import os

    from placer.cost.timing import TIMING_MODEL
    from placer.results import ResultStore, RunRecord

    row = RunRecord(design="d1", method="aa", seed=0, budget_s=5.0, suite="/nowhere", initial_proxy=1.0,
                    initial_wirelength=0.1, initial_density=0.5, initial_congestion=0.5, proxy=0.9, wirelength=0.09,
                    density=0.45, congestion=0.45, timing=0.5, timing_model=TIMING_MODEL, seconds=1.0,
                    overlap_area=0.0, out_of_canvas=0)
    ResultStore.in_runs_dir(tmp_path / "runs").write(row)
    done = subprocess.run([sys.executable, "-m", "placer", "leaderboard", str(tmp_path / "runs"), "--out",
                           str(tmp_path / "page")], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONIOENCODING": "ascii"}, encoding="ascii", errors="strict")
    assert done.returncode == 0, done.stderr
    assert "?" not in done.stdout and "Traceback" not in done.stderr  # ("—" stands as "-")


def test_an_os_error_outside_any_command_names_its_file(monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    import errno

    import pytest

    import placer.cli as cli

    def failing(**kwargs):  # type: ignore[no-untyped-def]
        raise OSError(errno.EACCES, "Permission denied", "/somewhere/f")

    monkeypatch.setattr(cli, "command", lambda: failing)  # (main runs the command cli.command() builds)
    with pytest.raises(SystemExit) as ended:
        cli.main()
    assert ended.value.code == 2
    assert capsys.readouterr().err == "placer: error: /somewhere/f: Permission denied\n"


def _one_design_args(tmp_path: Path) -> list[str]:
    return ["place", "default", "--algo", "greedy", "--budget-s", "0.5", "--out", str(tmp_path / "r.plc")]


def test_a_single_run_draws_no_bar_off_a_terminal_and_on_one_draws_it_on_stderr(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Off a terminal its (transient) bar left a blank line; on one, it was drawn on stdout."""
    import rich.console

    app = typer.Typer()
    register_place(app)
    app.callback()(lambda: None)
    off = CliRunner().invoke(app, _one_design_args(tmp_path))
    assert off.exit_code == 0 and off.stderr == "", off.output
    monkeypatch.setattr(rich.console.Console, "is_terminal", property(lambda console: console.stderr))
    on = CliRunner().invoke(app, _one_design_args(tmp_path))
    assert on.exit_code == 0, on.output
    assert "0:00:0" in on.stderr and "0:00:0" not in on.stdout  # (the bar's elapsed-time column)


def test_the_commands_console_folds_no_text_line_and_keeps_table_titles_centred() -> None:
    """Text lines are never folded (a terminal wraps them itself, a path stays whole); soft
    wrapping everything off a terminal had moved table titles to the left edge."""
    from rich.table import Table

    from placer.commands.common import _CommandConsole

    for terminal in (True, False):
        out = io.StringIO()
        console = _CommandConsole(file=out, width=40, force_terminal=terminal, color_system=None, markup=False)
        console.print("wrote " + "x" * 60 + "/r.plc")
        table = Table(title="A centred title")
        table.add_column("term")
        table.add_row("wirelength, density and congestion")
        console.print(table)
        lines = out.getvalue().splitlines()
        assert lines[0] == "wrote " + "x" * 60 + "/r.plc", terminal
        assert lines[1].startswith(" ") and lines[1].strip() == "A centred title", lines[1]
