"""Optuna's first import keeps none of its caller's frames (learned_systems.tuners.optuna_module).

Each check runs in a fresh process: only the first import of a module runs its body, so only
the first can keep what is on the stack."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

#: A module that keeps a deferred ImportError, traceback included, as optuna's ``try_import`` does.
_KEEPS_ITS_ERROR = """
try:
    import a_module_that_is_not_installed
except ImportError as error:
    KEPT = error
"""

#: Whether an object made in the importing function outlives its call (prints "kept"/"freed").
_IMPORT_INSIDE_A_CALL = """
import gc, sys, weakref
from learned_systems.tuners.optuna_module import import_on_own_stack

class Sentinel:
    pass

def load(name, own_stack):
    sentinel = Sentinel()
    if own_stack:
        import_on_own_stack(name)
    else:
        __import__(name)
    return weakref.ref(sentinel)

kept = load(sys.argv[1], sys.argv[2] == "own")
gc.collect()
print("kept" if kept() is not None else "freed")
"""


def _run(code: str, *args: str, cwd: Path | None = None) -> str:
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          timeout=300, cwd=cwd)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


def test_a_module_keeping_its_import_error_keeps_no_frame_of_the_caller(tmp_path: Path) -> None:
    (tmp_path / "keeps_its_error.py").write_text(_KEEPS_ITS_ERROR)
    # the stand-in does keep the frames of a plain import's caller (the check can see a leak)
    assert _run(_IMPORT_INSIDE_A_CALL, "keeps_its_error", "plain", cwd=tmp_path) == "kept"
    assert _run(_IMPORT_INSIDE_A_CALL, "keeps_its_error", "own", cwd=tmp_path) == "freed"


def test_an_import_error_reaches_the_caller() -> None:
    from learned_systems.tuners.optuna_module import import_on_own_stack

    with pytest.raises(ModuleNotFoundError, match="a_module_that_is_not_installed"):
        import_on_own_stack("a_module_that_is_not_installed")


def test_the_first_optuna_tuning_run_keeps_no_frame_of_its_caller(tmp_path: Path) -> None:
    """The first ``run_tuning(..., "optuna")`` of a process kept its caller's frames, and the
    objective they held, until exit (optuna's deferred redis ImportError's traceback)."""
    code = """
import gc, sys, weakref
from learned_systems.objectives import IndexObjective
from learned_systems.tuning import run_tuning

def tune(store):
    objective = IndexObjective("lognormal", keys=2000, queries=200, seed=0, mode="cost")
    run_tuning(objective, "optuna", 1, 0, store, "run0")
    return weakref.ref(objective)

assert "optuna" not in sys.modules  # the first import is the one that matters
kept = tune(sys.argv[1])
assert "optuna" in sys.modules
gc.collect()
print("kept" if kept() is not None else "freed")
"""
    assert _run(code, str(tmp_path / "results.sqlite")) == "freed"
