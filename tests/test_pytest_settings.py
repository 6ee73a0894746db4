"""pyproject's pytest settings: a hung or thread-failing test fails instead of hanging CI or
passing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def test_every_test_has_a_time_limit_past_a_stack_dump(pytestconfig: pytest.Config) -> None:
    """No per-test limit: a deadlocked ``join()`` hung the run until CI killed it, with no stack."""
    try:
        limit = float(pytestconfig.getini("timeout"))
    except ValueError:  # (pytest's "unknown configuration value")
        pytest.fail("pytest-timeout is not installed: pip install -e '.[dev]'")
    assert 0 < float(pytestconfig.getini("faulthandler_timeout")) < limit


def test_an_exception_in_a_tests_thread_fails_the_test(tmp_path: Path) -> None:
    """pytest only warned of an exception in a thread a test started, and the test passed."""
    test = tmp_path / "test_thread.py"
    test.write_text(
        "import threading\n\n"
        "def test_it():\n"
        "    def fail():\n"
        "        raise ValueError('in a thread')\n"
        "    thread = threading.Thread(target=fail)\n"
        "    thread.start()\n"
        "    thread.join()\n"
    )
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-c", str(PYPROJECT), "--rootdir", str(tmp_path), "-o", "addopts=",
         "-p", "no:cacheprovider", "-q", str(test)],
        capture_output=True, text=True, check=False, cwd=tmp_path, timeout=300,
    )
    assert run.returncode == 1 and "1 failed" in run.stdout and "ValueError: in a thread" in run.stdout, run.stdout
