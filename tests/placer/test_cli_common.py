"""Shared CLI error handling: one line and an exit status, never a traceback or an empty text."""

from __future__ import annotations

import os
import signal
import sqlite3
import sys
import time
from pathlib import Path

import pytest
import typer

from placer.commands.common import clean_errors


def _raising(error: BaseException):  # type: ignore[no-untyped-def]
    @clean_errors
    def command() -> None:
        raise error

    return command


def test_a_rename_failure_names_its_target_and_memory_errors_say_something(capsys) -> None:
    with pytest.raises(typer.Exit) as exit_info:
        _raising(IsADirectoryError(21, "Is a directory", "out/initial.tmp.plc", None, "out/initial.plc"))()
    assert exit_info.value.exit_code == 2
    assert "placer: error: out/initial.plc: Is a directory" in capsys.readouterr().err
    with pytest.raises(typer.Exit):
        _raising(MemoryError())()
    assert "out of memory: a smaller size is needed" in capsys.readouterr().err  # was empty


@pytest.mark.parametrize(
    ("error", "line"),
    [
        (FileNotFoundError("no checkpoint to load in run/"), "no checkpoint to load in run/"),  # no file name
        (FileNotFoundError(2, "No such file or directory", "in/x.plc"), "in/x.plc: No such file or directory"),
        (sqlite3.OperationalError("database is locked"), "results database: database is locked"),
        (sqlite3.DatabaseError("file is not a database"), "results database: file is not a database"),
        # an output write with no file named (a full disk while printing): said as such
        (OSError(28, "No space left on device"), "cannot write the output: No space left on device"),
    ],
)
def test_file_and_results_database_errors_are_one_line_and_exit_2(
    error: BaseException, line: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A FileNotFoundError with only a message is printed as that message (not "None: ..."),
    one with a file name as "FILE: reason"; a SQLite error is named as the results database's."""
    with pytest.raises(typer.Exit) as exit_info:
        _raising(error)()
    assert exit_info.value.exit_code == 2
    assert capsys.readouterr() == ("", f"placer: error: {line}\n")


def test_a_broken_pipe_in_a_command_exits_141_and_drops_what_is_still_buffered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """In process (the subprocess test below covers a real pipe): BrokenPipeError ends the
    command with 141 and no word on stderr, and stdout's descriptor is pointed at /dev/null so
    that what is still buffered is dropped rather than raised again at exit."""
    with open(tmp_path / "stdout.txt", "w") as stdout:
        monkeypatch.setattr(sys, "stdout", stdout)
        with pytest.raises(typer.Exit) as exit_info:
            _raising(BrokenPipeError(32, "Broken pipe"))()
        stdout.write("still buffered\n")
        stdout.flush()
    assert exit_info.value.exit_code == 141
    assert (tmp_path / "stdout.txt").read_text() == ""
    assert capsys.readouterr().err == ""


def test_ctrl_c_and_a_kill_end_a_command_with_a_word_and_130(monkeypatch, capsys) -> None:
    """Typer turned Ctrl-C into a silent exit 130; a kill (SIGTERM) ended the process at once."""
    import placer.cli as cli

    app = typer.Typer()

    handlers = []

    @app.command()
    @clean_errors
    def slow() -> None:
        handlers.append(signal.getsignal(signal.SIGTERM))  # a kill is turned into Ctrl-C here
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(5)
        pytest.fail("Ctrl-C did not stop the command")

    @app.command()
    def other() -> None:  # keeps "slow" a named sub-command
        pass

    monkeypatch.setattr(cli, "app", app)
    monkeypatch.setattr("sys.argv", ["placer", "slow"])
    with pytest.raises(SystemExit) as exit_info:
        cli.main()
    assert exit_info.value.code == 130
    assert "placer: interrupted" in capsys.readouterr().err
    assert handlers and handlers[0] not in (signal.SIG_DFL, signal.SIG_IGN, None)


def test_a_netlist_warning_is_one_line_on_stderr(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import warnings

    from netlists.designs import builtin_path, load_builtin
    from netlists.formats.plc import write_plc
    from placer import cli

    nl, placement = load_builtin()
    lines = write_plc(tmp_path / "full.plc", nl, placement).read_text().splitlines()
    (tmp_path / "cut.plc").write_text("\n".join(lines[:-10]) + "\n")
    monkeypatch.setattr("sys.argv", ["placer", "eval", str(builtin_path()), str(tmp_path / "cut.plc")])
    monkeypatch.setattr(warnings, "showwarning", warnings.showwarning)  # main replaces it
    with warnings.catch_warnings(), pytest.raises(SystemExit) as exit_info:
        warnings.simplefilter("always")
        cli.main()
    assert exit_info.value.code == 0
    err = capsys.readouterr().err
    assert err.startswith("placer: warning: ") and "the other 10 keep" in err
    assert len(err.strip().splitlines()) == 1


def test_a_reader_that_goes_away_is_no_error() -> None:
    """``placer ... | head``: the closed pipe printed "placer: error: Broken pipe"."""
    import subprocess
    import sys

    code = (
        "import typer\n"
        "from placer.commands.common import clean_errors\n"
        "@clean_errors\n"
        "def talk():\n"
        "    for _ in range(10**6):\n"
        "        print('x' * 100)\n"
        "try:\n"
        "    talk()\n"
        "except typer.Exit as stop:\n"
        "    raise SystemExit(stop.exit_code)\n"
    )
    process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None and process.stderr is not None
    process.stdout.readline()
    process.stdout.close()
    assert process.wait(timeout=60) == 141
    assert process.stderr.read() == b""


def test_a_broken_symbolic_link_on_the_way_to_an_output_is_refused_up_front(tmp_path: Path) -> None:
    """demo, plot and generate approved brokenlink/sub (the nearest existing ancestor was
    writable), did all their work, then failed with 'brokenlink: File exists'."""
    from placer.commands.common import UsageError, check_output_file, check_output_folder

    (tmp_path / "brokenlink").symlink_to(tmp_path / "nowhere" / "dir")
    for check, path in ((check_output_folder, tmp_path / "brokenlink" / "sub"),
                        (check_output_file, tmp_path / "brokenlink" / "x.png"),
                        (check_output_file, tmp_path / "brokenlink")):
        with pytest.raises(UsageError, match="broken symbolic link"):
            check(path)
    (tmp_path / "fine").mkdir()
    check_output_folder(tmp_path / "fine" / "sub")  # a real folder on the way: no complaint


def test_placer_version_prints_the_installed_version(tmp_path: Path) -> None:
    """There was no --version: a bug report could not say which release it ran."""
    import subprocess
    import sys

    from placer import __version__

    done = subprocess.run([sys.executable, "-c", "from placer.launch import main; main()", "--version"],
                          capture_output=True, text=True, cwd=tmp_path, timeout=120)  # fmt: skip
    assert (done.returncode, done.stdout) == (0, f"placer-gym {__version__}\n"), done.stderr


@pytest.mark.parametrize("module", ["placer", "placer.launch"])
def test_python_m_runs_the_command_line(tmp_path: Path, module: str) -> None:
    """``python -m placer.launch eval missing`` printed nothing and exited 0 (the module had no
    main block), and ``python -m placer`` was no module: both run the CLI now."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", module, "eval", "missing.pb.txt"],
                          capture_output=True, text=True, cwd=tmp_path, timeout=120)  # fmt: skip
    assert done.returncode == 2 and "missing.pb.txt" in done.stderr, (done.stdout, done.stderr)


def test_placer_without_a_command_prints_its_help_once_and_exits_2(tmp_path: Path) -> None:
    """The help was printed twice (Typer prints it while making the error; it was asked again)."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", "from placer.launch import main; main()"],
                          capture_output=True, text=True, cwd=tmp_path, timeout=120)  # fmt: skip
    assert done.returncode == 2 and (done.stdout + done.stderr).count("Usage:") == 1, done.stdout


@pytest.mark.parametrize("args", [["--help"], ["eval", "--help"]])
def test_help_into_a_closed_pipe_exits_141_quietly(args: list[str]) -> None:
    """placer --help | head exited 1 (Rich's and Click's broken-pipe handling), unlike the
    commands' own output, which exits 141 there as other tools do."""
    import subprocess

    process = subprocess.Popen([sys.executable, "-m", "placer.cli", *args], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # the reader is gone before a line is written
    assert process.wait(timeout=60) == 141
    assert process.stderr.read() == b""


def test_every_option_name_is_shown_whole_in_help_at_80_columns() -> None:
    """A --progress/--no-progress pair took train's help a second name column, and at 80
    columns (a plain terminal, or help piped) '--checkpoint-every' read '--checkpoint-ev…'."""
    import typer.main
    from typer.testing import CliRunner

    from placer.cli import app

    group = typer.main.get_command(app)
    for name, command in group.commands.items():  # type: ignore[attr-defined]
        done = CliRunner().invoke(app, [name, "--help"], env={"COLUMNS": "80", "TERM": "dumb"})
        assert done.exit_code == 0, (name, done.output)
        assert max(map(len, done.stdout.splitlines())) <= 80, done.stdout  # (the width took)
        shown = set(done.stdout.replace("│", " ").replace(",", " ").split())  # (--a,--b: one option)
        for param in command.params:
            if getattr(param, "hidden", False):
                continue
            for option in [*param.opts, *param.secondary_opts]:
                if option.startswith("--"):
                    assert option in shown, (name, option, done.stdout)


def test_help_paragraphs_have_no_hard_line_breaks() -> None:
    """Typer's Rich help keeps a paragraph's single line breaks, so eval's description, wrapped
    at 100 columns in its docstring, printed 'a macro far off' alone on a line at 80 columns.
    Every paragraph of every command's help is one line (lists aside: lines starting '- ')."""
    import inspect

    import typer.main

    from placer.cli import app

    group = typer.main.get_command(app)
    for name, command in group.commands.items():  # type: ignore[attr-defined]
        for paragraph in inspect.cleandoc(command.help or "").split("\n\n"):
            lines = paragraph.splitlines()
            assert len(lines) <= 1 or all(line.startswith("- ") for line in lines), (name, paragraph)


@pytest.mark.parametrize("args", [["--help"], ["place", "--help"], ["train", "--help"], ["tune", "--help"]])
def test_help_shows_flags_without_a_value_type(monkeypatch, capsys, args: list[str]) -> None:
    """Typer 0.29 printed ``<bool>`` beside every flag (``--resume <bool>``), as if it took a
    value; the flags are listed bare, options with values keep their type."""
    from placer import cli

    monkeypatch.setenv("COLUMNS", "160")
    monkeypatch.setattr("sys.argv", ["placer", *args])
    with pytest.raises(SystemExit) as exit_info:
        cli.main()
    shown = capsys.readouterr().out
    assert exit_info.value.code == 0 and "--help" in shown
    assert "<bool>" not in shown
    if args[0] == "place":
        assert "--resume" in shown and "<float>" in shown  # (--budget-s keeps its type)


@pytest.mark.parametrize(("args", "said"), [
    (["place", "default", "--algo", "sa", "--seed", "-1"], "Input should be greater than or equal to 0, got '-1'"),
    (["place", "default", "--algo", "sa", "--budget-s=abc"], "unable to parse string as a number, got 'abc'"),
    (["place", "default", "--algo", "sa", "--budget-s", "-1"], "got -1.0 (see --help)"),  # (said once, not twice)
])
def test_a_refused_option_value_is_named(monkeypatch, capsys, args: list[str], said: str) -> None:
    """Typer's range and type errors said what was expected but not what was given."""
    from placer import cli

    monkeypatch.setattr("sys.argv", ["placer", *args])
    with pytest.raises(SystemExit) as exit_info:
        cli.main()
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and said in err and err.count("got ") == 1, err


def test_text_a_non_utf8_locale_cannot_pass_on_names_its_path_and_the_cure() -> None:
    """Under LC_ALL=C PYTHONUTF8=0 a non-ASCII --out reached TensorBoard's writer as surrogate
    escapes: "'utf-8' codec can't encode characters in position 15-16: surrogates not allowed"."""
    from placer.commands.common import unencodable

    with pytest.raises(UnicodeEncodeError) as raised:
        "/runs/tr\udcc3\udca2in/tb".encode("utf-8")
    message = unencodable(raised.value)
    assert message.startswith("'/runs/tr\u00e2in/tb' cannot be passed on as text: it is UTF-8 text, but this "
                              "process reads file names as ")
    assert message.endswith("run it under a UTF-8 one (PYTHONUTF8=1, or LC_ALL=C.UTF-8)")
    with pytest.raises(typer.Exit) as exit_info:
        _raising(raised.value)()
    assert exit_info.value.exit_code == 2
    with pytest.raises(UnicodeEncodeError) as other:
        "\u00e9".encode("ascii")
    assert unencodable(other.value) == str(other.value)  # (not a locale matter: as it was)


def test_text_whose_bytes_are_not_utf8_is_not_blamed_on_the_locale() -> None:
    """Under C.UTF-8 a path with a byte 0xff was told "this process reads file names as utf-8
    (a non-UTF-8 locale); run it under a UTF-8 one": the locale was UTF-8, the name was not."""
    from placer.commands.common import unencodable

    with pytest.raises(UnicodeEncodeError) as raised:
        "/tmp/p\udcff dir/suite".encode("utf-8")
    message = unencodable(raised.value)
    assert message == "'/tmp/p\ufffd dir/suite' cannot be passed on as text: it is not UTF-8 text; rename it, or give another path"


def test_too_many_open_files_is_named_with_the_limit_not_as_an_output_that_cannot_be_written(capsys) -> None:  # type: ignore[no-untyped-def]
    """os.pipe() for a batch worker under ulimit -n 16 read "cannot write the output: Too many
    open files"."""
    import errno

    with pytest.raises(typer.Exit) as exit_info:
        _raising(OSError(errno.EMFILE, "Too many open files"))()
    assert exit_info.value.exit_code == 2
    err = capsys.readouterr().err
    assert err.startswith("placer: error: Too many open files: raise this process's limit of open files (ulimit -n")
    assert "cannot write the output" not in err
    with pytest.raises(typer.Exit):
        _raising(OSError(errno.ENFILE, "Too many open files in system"))()
    assert "the system's table of open files is full" in capsys.readouterr().err  # (no ulimit helps)
