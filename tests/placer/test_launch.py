"""The console script: a Ctrl-C while the command line loads is one line and exit 130."""

from __future__ import annotations

import importlib.abc
import subprocess
import sys
from pathlib import Path

import pytest

from placer import launch


@pytest.fixture(autouse=True)
def _kill_handlers_restored():  # type: ignore[no-untyped-def]
    """launch.main leaves the finished command's kill handlers (finish_on_kill): not pytest's."""
    import signal

    kept = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGHUP)}
    yield
    for signum, handler in kept.items():
        signal.signal(signum, handler)


class _InterruptedImport(importlib.abc.MetaPathFinder):
    """Raises KeyboardInterrupt when placer.cli is imported: a Ctrl-C while it loads."""

    def find_spec(self, name, path=None, target=None):  # type: ignore[no-untyped-def]
        if name == "placer.cli":
            raise KeyboardInterrupt
        return None


def test_a_ctrl_c_while_the_cli_loads_is_one_line_and_130(monkeypatch, capsys):
    monkeypatch.delitem(sys.modules, "placer.cli", raising=False)
    monkeypatch.setattr(sys, "meta_path", [_InterruptedImport(), *sys.meta_path])
    with pytest.raises(SystemExit) as stopped:
        launch.main()
    assert stopped.value.code == 130
    assert capsys.readouterr().err == "placer: interrupted\n"


def test_the_console_script_runs_the_cli(monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["placer", "methods"])
    with pytest.raises(SystemExit) as ended:
        launch.main()
    assert ended.value.code == 0 and "sa" in capsys.readouterr().out


def test_a_ctrl_c_before_any_command_handles_it_is_one_line_and_130(monkeypatch, capsys):
    """A Ctrl-C while Typer built the commands (after the import) still printed a traceback."""
    import placer.cli

    def interrupted() -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(placer.cli, "main", interrupted)
    with pytest.raises(SystemExit) as stopped:
        launch.main()
    assert stopped.value.code == 130 and capsys.readouterr().err == "placer: interrupted\n"


def test_commands_load_only_the_heavy_modules_they_use() -> None:
    """`placer methods` loaded scipy's graph routines (for a constant of the timing module):
    ~0.2-0.3 s per command; neither command needs torch. (`placer eval` loaded numba for the
    legaliser it never runs; it loads it now for the full cost, whose pass over the nets,
    density and blockage are compiled: about 0.5 s more per command, 12x less CPU per
    evaluation on ibm17.)"""
    import subprocess

    script = (
        "import sys\n"
        "from placer.launch import main\n"
        "sys.argv = ['placer'] + sys.argv[1:]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print('LOADED', ' '.join(m for m in ('numba', 'scipy.sparse.csgraph', 'torch') if m in sys.modules))\n"
    )
    loaded = {}
    for command in (["eval", "ariane133"], ["methods"]):
        out = subprocess.run([sys.executable, "-c", script, *command], capture_output=True, text=True, check=True).stdout
        loaded[command[0]] = out.rsplit("LOADED", 1)[1].split()
    assert "torch" not in loaded["eval"]
    assert "scipy.sparse.csgraph" not in loaded["methods"] and "torch" not in loaded["methods"]


def _placer_with_closed(fd: int, args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """``placer ARGS`` with descriptor ``fd`` closed in it (the shell's ``>&-`` or ``2>&-``:
    closed after the pipes are put in place, so that one reads nothing)."""
    import os

    return subprocess.run([sys.executable, "-m", "placer", *args], preexec_fn=lambda: os.close(fd),
                          capture_output=True, text=True, timeout=300, cwd=cwd)  # fmt: skip


@pytest.mark.parametrize("args", [["--version"], ["--help"], ["methods"], ["eval", "default"]], ids=" ".join)
def test_a_closed_stdout_reads_as_the_null_device(args: list[str], tmp_path: Path) -> None:
    """Python sets a closed stdout to None: every command failed at its first flush with three
    chained AttributeError tracebacks ("'NoneType' object has no attribute 'flush'"), exit 1."""
    done = _placer_with_closed(1, args, tmp_path)
    assert done.returncode == 0 and done.stderr == "", done.stderr


def test_a_closed_stderr_keeps_error_lines_off_stdout(tmp_path: Path) -> None:
    """``print(..., file=None)`` writes to stdout: a refusal's line went there, into the results."""
    done = _placer_with_closed(2, ["eval", "nosuch"], tmp_path)
    assert done.returncode == 2 and done.stdout == ""


def test_the_missing_streams_become_the_null_device_and_others_are_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    monkeypatch.setattr(sys, "stdout", None)
    monkeypatch.setattr(sys, "__stdout__", None)
    stderr = sys.stderr
    launch.null_for_missing_streams()
    assert sys.stdout is not None and sys.stdout is sys.__stdout__ and sys.stderr is stderr
    assert os.path.samefile(sys.stdout.name, os.devnull)
    sys.stdout.close()


def test_with_stdin_and_stdout_closed_no_file_opened_later_takes_their_descriptors(tmp_path: Path) -> None:
    # the null device opened once took descriptor 0 and left 1 free: the next file opened got
    # it, and whatever wrote to descriptor 1 (worker processes, C code) went into that file
    import os

    script = (
        "import os, sys\n"
        "from placer.launch import null_for_missing_streams\n"
        "null_for_missing_streams()\n"
        f"data = open({str(tmp_path / 'data.txt')!r}, 'w')\n"
        "os.write(1, b'to descriptor 1')\n"
        "data.close()\n"
        "null = os.stat(os.devnull)\n"
        "print(all(os.fstat(fd).st_rdev == null.st_rdev for fd in (0, 1)), data.name, file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", script],
                          preexec_fn=lambda: (os.close(0), os.close(1)),  # the shell's <&- >&-
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stderr.split()[0] == "True"
    assert (tmp_path / "data.txt").read_text() == ""
