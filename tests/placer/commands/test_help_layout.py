"""Every command's ``--help`` at 80 and 70 columns: whole option names, whole choice names,
nothing cut off with an ellipsis."""

from __future__ import annotations

import re

import pytest

from placer import cli
from placer.commands import tune


def _help(capsys: pytest.CaptureFixture[str], args: list[str]) -> str:
    """What ``placer ARGS --help`` prints (as the console script runs it)."""
    cli.command()([*args, "--help"], standalone_mode=False)  # type: ignore[operator]
    return capsys.readouterr().out


def _commands() -> list[str]:
    return sorted(cli.command().commands)  # type: ignore[attr-defined]


def _whole(name: str, text: str) -> bool:
    """Whether ``name`` stands in ``text`` as a whole word (not cut, not run into another)."""
    return re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", text) is not None


@pytest.mark.parametrize("width", [80, 70])
def test_every_commands_help_shows_every_option_name_whole(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, width: int
) -> None:
    """At 70 columns `placer train --help` read `--checkpoint-eve…` and `--no-progress,--…`
    (the --quiet after it hidden)."""
    monkeypatch.setenv("COLUMNS", str(width))
    assert "…" not in _help(capsys, [])
    for name in _commands():
        text = _help(capsys, [name])
        assert "…" not in text, (name, [line for line in text.splitlines() if "…" in line])
        assert max(len(line) for line in text.splitlines()) <= width
        command = cli.command().commands[name]  # type: ignore[attr-defined]
        for param in command.params:
            if param.param_type_name != "option" or getattr(param, "hidden", False):
                continue
            for option in [*param.opts, *param.secondary_opts]:
                assert _whole(option, text), (name, option, width)


@pytest.mark.parametrize("width", [80, 70])
def test_tunes_help_lists_every_workload_name_whole(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, width: int
) -> None:
    """At 80 columns it read `ycsb-a|ycsb-b|ycsb-c|ycsb-f|orders|analy…`."""
    monkeypatch.setenv("COLUMNS", str(width))
    # the panel's lines without its rules, joined: the help of --workload as one text
    text = " ".join(line.strip("│ ") for line in _help(capsys, ["tune"]).splitlines())
    for system in ("sqlite", "postgres", "index"):
        listed = re.search(rf"{system}: (.*?) \(default", text)
        assert listed is not None, (system, text)
        assert {name.strip() for name in listed.group(1).split("|")} == set(tune._workloads(system)), width
