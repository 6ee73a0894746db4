"""The README's learned-systems example runs as written (keeps the README true)."""

from __future__ import annotations

import os
import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def _python_block(section: str) -> str:
    """The first ```python block after the heading ``section``."""
    text = README.read_text()
    start = text.index(f"## {section}\n")
    match = re.search(r"```python\n(.*?)```", text[start:], flags=re.S)
    assert match, f"no python example under '## {section}'"
    return match.group(1)


def test_learned_systems_example_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    scope: dict = {}
    exec(compile(_python_block("Learned systems"), "README.md", "exec"), scope)  # noqa: S102
    assert scope["positions"].shape == (100_000,)
    assert scope["info"]["ok"] and scope["reward"] > 0
    assert os.listdir(tmp_path) == []  # the example leaves no files behind


def test_cost_example_runs(tmp_path, monkeypatch):
    """It loaded "netlist.pb.txt.gz" from the current folder: pasted as written, it failed."""
    monkeypatch.chdir(tmp_path)
    scope: dict = {}
    exec(compile(_python_block("Using the library"), "README.md", "exec"), scope)  # noqa: S102
    assert scope["ev"].cost.proxy <= scope["evaluate"](scope["netlist"], scope["placement"]).proxy


def test_agent_example_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    scope: dict = {}
    exec(compile(_python_block("Your own placement agent"), "README.md", "exec"), scope)  # noqa: S102
    assert -scope["reward"] == scope["info"]["cost"]["proxy"] and (tmp_path / "greedy.plc").is_file()

