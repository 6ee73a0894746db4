"""The code's static checks run as tests: ruff's lint rules and mypy's type check, each with
the settings in ``pyproject.toml``, so the README's ``pytest`` (and so CI) keeps both clean.

Both tools come with the ``dev`` extra; where one is missing (an install without it) its test
is skipped with a message saying how to install it. mypy checks from an empty cache in a
temporary folder (about 45 s of one core), so no run depends on, or leaves, cache files.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run_tool(module: str, *args: str) -> subprocess.CompletedProcess[str]:
    """``python -m module args`` from the project's root; skipped when it is not installed."""
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{module} is not installed (pip install -e '.[dev]' installs it)")
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )


@pytest.mark.slow
def test_ruff_finds_nothing() -> None:
    result = _run_tool("ruff", "check", "--no-cache", "--quiet", ".")
    assert result.returncode == 0, f"ruff check . found:\n{result.stdout}{result.stderr}"


@pytest.mark.slow
def test_mypy_finds_nothing(tmp_path: Path) -> None:
    result = _run_tool("mypy", "--cache-dir", str(tmp_path / "mypy-cache"))
    assert result.returncode == 0, f"mypy found:\n{result.stdout}{result.stderr}"
