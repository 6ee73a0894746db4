"""A bug of ours is told as a bug, bad input as bad input.

The commands turned any ValueError or RuntimeError raised inside a run into one line and exit
status 2, as if the user had typed something wrong: numpy's refusal to broadcast two arrays of
ours read as a usage error, with no traceback to report. Now the packages' refusals
(``netlists.errors.REPORTED_ERRORS``) are one line and exit 2, and anything else escaping a
command is one ``placer: internal error:`` line, its traceback and exit status 70.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from netlists.errors import InputError, Unavailable, UnknownName
from placer.cli import app
from placer.commands.common import INTERNAL_ERROR_EXIT, clean_errors

BUG_LINE = "placer: internal error: "


def _broadcast_bug(*args: Any, **kwargs: Any) -> Any:
    """Raise numpy's own ValueError for two arrays that do not broadcast: a bug's, not input's."""
    return np.ones(2) + np.ones(3)


def _torch_like_bug(*args: Any, **kwargs: Any) -> Any:
    raise RuntimeError("mat1 and mat2 shapes cannot be multiplied (4x3 and 4x3)")


def _raising(error: BaseException) -> Callable[[], None]:
    @clean_errors
    def command() -> None:
        raise error

    return command


def _assert_told_as_a_bug(exit_code: int, stderr: str, kind: str, first_line: str) -> None:
    assert exit_code == INTERNAL_ERROR_EXIT == 70, stderr
    bug_lines = [line for line in stderr.splitlines() if line.startswith(BUG_LINE)]
    assert len(bug_lines) == 1, stderr
    assert bug_lines[0].startswith(f"{BUG_LINE}{kind}: {first_line}"), stderr
    assert "please report it with the traceback below" in bug_lines[0]
    assert "Traceback (most recent call last):" in stderr
    assert stderr.rstrip().splitlines()[-1] == f"{kind}: {first_line}"  # (the traceback's own last line)
    assert "placer: error:" not in stderr  # (not told as bad input too)


@pytest.mark.parametrize(
    "error",
    [ValueError("operands could not be broadcast together with shapes (2,) (3,)"),
     RuntimeError("expected scalar type Float but found Double"), TypeError("'NoneType' object is not iterable"),
     KeyError("hpwl"), IndexError("index 7 is out of bounds for axis 0 with size 7")],
    ids=lambda e: type(e).__name__,
)
def test_any_other_exception_in_a_command_is_a_bug_with_its_traceback_and_exit_70(error, capsys) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(typer.Exit) as exit_info:
        _raising(error)()
    first = str(error).splitlines()[0] if str(error) else ""
    _assert_told_as_a_bug(exit_info.value.exit_code, capsys.readouterr().err, type(error).__name__, first)


@pytest.mark.parametrize(
    "error",
    [InputError("trials must be a whole number of at least 1, got 0"),
     Unavailable("PostgreSQL's server binaries are not installed"),
     UnknownName("unknown placement method 'sa '; available: sa, greedy")],
    ids=lambda e: type(e).__name__,
)
def test_the_packages_refusals_stay_one_line_and_exit_2(error, capsys) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(typer.Exit) as exit_info:
        _raising(error)()
    assert exit_info.value.exit_code == 2
    assert capsys.readouterr() == ("", f"placer: error: {error}\n")


def test_torch_running_out_of_memory_is_the_machines_limit_not_a_bug(capsys) -> None:  # type: ignore[no-untyped-def]
    """torch's allocator fails with a RuntimeError, not a MemoryError: a training too large for
    the machine was reported as a bug of ours (exit 70, a traceback)."""
    import torch

    cpu = RuntimeError("[enforce fail at alloc_cpu.cpp:117] data. DefaultCPUAllocator: can't allocate memory: "
                       "you tried to allocate 96000000000 bytes. Error code 12 (Cannot allocate memory)")
    for error in (cpu, torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")):
        with pytest.raises(typer.Exit) as exit_info:
            _raising(error)()
        assert exit_info.value.exit_code == 2
        told = capsys.readouterr().err
        assert told.startswith("placer: error: out of memory: ") and "Traceback" not in told, told


def test_a_commands_own_exit_passes_through(capsys) -> None:  # type: ignore[no-untyped-def]
    """typer.Exit is a RuntimeError: a command's exit 1 or 130 must not read as a bug."""
    with pytest.raises(typer.Exit) as exit_info:
        _raising(typer.Exit(1))()
    assert exit_info.value.exit_code == 1 and capsys.readouterr().err == ""


def _invoke(args: list[str]) -> Any:
    return CliRunner().invoke(app, args, catch_exceptions=False)


def _suite(tmp_path: Path) -> Path:
    from netlists.formats.circuit_training import write_netlist
    from netlists.formats.plc import write_plc
    from netlists.generate import generate

    suite = tmp_path / "suite"
    (suite / "tiny").mkdir(parents=True)
    netlist, placement = generate(n_hard=3, n_soft=2, n_ports=2, seed=1, name="tiny")
    write_netlist(netlist, suite / "tiny" / "netlist.pb.txt")
    write_plc(suite / "tiny" / "initial.plc", netlist, placement)
    return suite


def test_a_bug_inside_a_placement_method_is_not_told_as_the_users_input(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It read "placer: error: greedy on default: operands could not be broadcast ...", exit 2."""
    from placer.algorithms import base

    monkeypatch.setattr(base.Placer, "place", _broadcast_bug)
    result = _invoke(["place", "default", "--algo", "greedy", "--budget-s", "1", "--quiet",
                      "--out", str(tmp_path / "out.plc")])
    _assert_told_as_a_bug(result.exit_code, result.stderr, "ValueError",
                          "operands could not be broadcast together with shapes (2,) (3,)")
    assert not (tmp_path / "out.plc").exists()


def test_a_bug_escaping_a_batch_is_not_told_as_the_users_input(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import placer.batch

    monkeypatch.setattr(placer.batch, "run_batch", _broadcast_bug)
    result = _invoke(["place", "--suite", str(_suite(tmp_path)), "--algo", "greedy", "--seeds", "1",
                      "--budget-s", "1", "--quiet", "--out", str(tmp_path / "runs")])
    _assert_told_as_a_bug(result.exit_code, result.stderr, "ValueError",
                          "operands could not be broadcast together with shapes (2,) (3,)")


def test_a_bug_while_tuning_is_not_told_as_the_users_input(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import learned_systems.objectives

    monkeypatch.setattr(learned_systems.objectives, "IndexObjective", _broadcast_bug)
    result = _invoke(["tune", "--system", "index", "--index-cost", "counted", "--rows", "1000", "--trials", "1",
                      "--tuner", "random", "--quiet", "--out", str(tmp_path / "tune")])
    _assert_told_as_a_bug(result.exit_code, result.stderr, "ValueError",
                          "operands could not be broadcast together with shapes (2,) (3,)")


def test_a_bug_while_training_is_not_told_as_the_users_input(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import placer.rl.train

    monkeypatch.setattr(placer.rl.train, "train", _torch_like_bug)
    result = _invoke(["train", "--netlist", "default", "--out", str(tmp_path / "run"), "--no-progress",
                      "--n-envs", "1", "--set", "n_steps=2", "--timesteps", "2"])
    _assert_told_as_a_bug(result.exit_code, result.stderr, "RuntimeError",
                          "mat1 and mat2 shapes cannot be multiplied (4x3 and 4x3)")


def test_a_bug_while_writing_a_leaderboard_is_not_told_as_the_users_input(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import placer.leaderboard

    runs = tmp_path / "runs"
    runs.mkdir()
    sqlite3.connect(runs / "results.sqlite").close()
    monkeypatch.setattr(placer.leaderboard, "write_leaderboard", _broadcast_bug)
    result = _invoke(["leaderboard", str(runs)])
    _assert_told_as_a_bug(result.exit_code, result.stderr, "ValueError",
                          "operands could not be broadcast together with shapes (2,) (3,)")


def test_a_bug_while_evaluating_is_told_as_a_bug_not_as_a_bare_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    """eval caught no ValueError: the bug escaped as Python's own traceback, exit 1."""
    import placer.cost.proxy

    monkeypatch.setattr(placer.cost.proxy, "evaluate", _broadcast_bug)
    result = _invoke(["eval", "default"])
    _assert_told_as_a_bug(result.exit_code, result.stderr, "ValueError",
                          "operands could not be broadcast together with shapes (2,) (3,)")


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["eval", "BROKEN"], "netlist.pb.txt:4: expected a quoted string"),  # a malformed netlist: file and line
        (["tune", "--system", "index", "--workload", "nosuch", "--trials", "1", "--out", "OUT"],
         "unknown dataset 'nosuch'"),  # an unknown workload
        (["place", "default", "--algo", "sa", "--option", "final_ratio=-1", "--budget-s", "1", "--out", "OUT.plc"],
         "option 'final_ratio' takes a finite number in (0, 1], got -1"),  # a bad option value
        (["place", "default", "--algo", "rl", "--budget-s", "1", "--out", "OUT.plc"],
         "needs option model=PATH"),  # a method refusing to run without its option
        (["train", "--netlist", "default", "--out", "OUT", "--set", "learning_rate=-1"],
         "learning_rate must be a finite number"),  # a training setting out of range
        (["place", "--suite", "SUITE", "--designs", "nosuch", "--algo", "greedy", "--seeds", "1", "--budget-s", "1",
          "--out", "OUT"], "no design called 'nosuch'"),  # a batch refusing its designs
    ],
    ids=["malformed-netlist", "unknown-workload", "bad-option", "method-needs-an-option", "bad-setting", "batch"],
)
def test_real_bad_input_is_still_one_line_and_exit_2(tmp_path: Path, args: list[str], said: str) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "netlist.pb.txt").write_text('node {\n  name: "a"\n  input: \n')
    suite = _suite(tmp_path) if "SUITE" in args else None
    args = [str(broken) if a == "BROKEN" else str(suite) if a == "SUITE" else str(tmp_path / a) if a.startswith("OUT")
            else a for a in args]
    result = _invoke(args)
    assert result.exit_code == 2, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("placer: error: ") and said in lines[0], result.stderr
    assert "Traceback" not in result.output


def test_the_console_script_tells_a_bug_with_its_traceback_and_exit_70(tmp_path: Path) -> None:
    """End to end, as a user runs it: the bug line, the traceback on stderr, status 70."""
    code = ("import sys, numpy as np, placer.cost.proxy as proxy\n"
            "proxy.evaluate = lambda *a, **k: np.ones(2) + np.ones(3)\n"
            "from placer.launch import main\nsys.argv = ['placer', 'eval', 'default']\nmain()\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    _assert_told_as_a_bug(done.returncode, done.stderr, "ValueError",
                          "operands could not be broadcast together with shapes (2,) (3,)")
    assert BUG_LINE not in done.stdout


def test_a_bug_outside_every_commands_handling_is_told_as_a_bug(monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    """An option's callback runs while the command line is parsed, before the command's own
    handling: its bug escaped as Python's traceback, exit 1."""
    from placer import cli
    from placer.commands import train

    monkeypatch.setattr(train, "settable_fields", _broadcast_bug)  # (what `--set help` lists)
    monkeypatch.setattr("sys.argv", ["placer", "train", "--set", "help"])
    with pytest.raises(SystemExit) as exit_info:
        cli.main()
    _assert_told_as_a_bug(exit_info.value.code, capsys.readouterr().err, "ValueError",
                          "operands could not be broadcast together with shapes (2,) (3,)")
