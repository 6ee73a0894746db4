"""An interrupt is said once: by the command that handled it, else by the command line's main.

Typer turns a Ctrl-C between its start and the command's own handling (while it parses the
options and runs their callbacks) into exit status 130 with no word; ``placer`` exited 130
saying nothing.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest


def _interrupt(*args: Any, **kwargs: Any) -> Any:
    raise KeyboardInterrupt


def _exit_status(args: list[str], monkeypatch: pytest.MonkeyPatch) -> object:
    from placer import cli

    monkeypatch.setattr(sys, "argv", ["placer", *args])
    with pytest.raises(SystemExit) as ended:
        cli.main()
    return ended.value.code


def test_a_ctrl_c_while_the_options_are_parsed_is_said(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from placer.commands import train

    monkeypatch.setattr(train, "settable_fields", _interrupt)  # (the callback of `--set help`)
    assert _exit_status(["train", "--set", "help"], monkeypatch) == 130
    assert capsys.readouterr().err == "placer: interrupted\n"


def test_a_ctrl_c_a_command_handled_is_said_once(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from placer.algorithms import base

    monkeypatch.setattr(base, "available_placers", _interrupt)  # (inside `placer methods`)
    assert _exit_status(["methods"], monkeypatch) == 130
    assert capsys.readouterr().err == "placer: interrupted\n"


def test_a_commands_own_interrupt_line_is_not_followed_by_another(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from placer.commands import place

    monkeypatch.setattr(place, "_run_method", _interrupt)
    out = tmp_path / "out.plc"
    assert _exit_status(["place", "default", "--algo", "greedy", "--budget-s", "1", "--out", str(out)], monkeypatch) == 130
    assert capsys.readouterr().err == f"placer: interrupted: stopped at once, nothing was written to {out}\n"
