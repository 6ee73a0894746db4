"""An environment variable a library refuses as it loads is named with its remedy (exit 2).

``NUMBA_NUM_THREADS=0`` (numba's "Number of threads specified must be > 0.") and an unknown
``MPLBACKEND`` (matplotlib's "Key backend: 'bogus' is not a valid value", from plot, demo and
tune) were told as a bug of ours: "placer: internal error: ValueError ... please report it",
a traceback and exit status 70.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from placer.commands.common import environment_problem


@pytest.mark.parametrize(
    ("variable", "value", "command", "told"),
    [
        ("NUMBA_NUM_THREADS", "0", ["eval", "default"],
         "NUMBA_NUM_THREADS='0': numba needs at least one thread; set it to a whole number of 1 or more, or unset it"),
        ("MPLBACKEND", "bogus", ["plot", "default", "--out", "{tmp}/p.png"],
         "MPLBACKEND='bogus' is not a backend matplotlib knows; set it to one (Agg writes files only), or unset it"),
        ("MPLBACKEND", "bogus", ["demo", "--out", "{tmp}/demo"],
         "MPLBACKEND='bogus' is not a backend matplotlib knows; set it to one (Agg writes files only), or unset it"),
    ],
)
def test_a_refused_variable_is_named_not_reported_as_a_bug(
    tmp_path: Path, variable: str, value: str, command: list[str], told: str
) -> None:
    env = {**os.environ, variable: value}
    args = [arg.format(tmp=tmp_path) for arg in command]
    done = subprocess.run([sys.executable, "-m", "placer", *args], capture_output=True, text=True, env=env,
                          timeout=300)
    assert (done.returncode, done.stderr) == (2, f"placer: error: {told}\n")


def test_the_same_message_raised_elsewhere_is_not_taken_for_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NUMBA_NUM_THREADS", "0")
    monkeypatch.setenv("MPLBACKEND", "bogus")
    for text in ("Number of threads specified must be > 0.", "Key backend: 'bogus' is not a valid value"):
        try:
            raise ValueError(text)  # (raised here, not inside numba or matplotlib: a bug's)
        except ValueError as error:
            assert environment_problem(error) is None
