"""The packages' root error classes: a refusal of the caller's input (InputError) or of the
environment (Unavailable) is told apart from a bug's plain ValueError or RuntimeError."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from netlists.defaults import default_canvas
from netlists.errors import (
    REPORTED_ERRORS,
    InputError,
    NetlistError,
    Unavailable,
    UnknownName,
    error_kind,
)
from netlists.generate import default_design, generate
from netlists.graph import to_networkx
from netlists.io import require_suite_folder


def test_the_root_classes_are_the_builtin_ones_they_stand_for() -> None:
    """Every ``except ValueError`` and ``pytest.raises(ValueError)`` written before still catches them."""
    assert issubclass(InputError, ValueError) and issubclass(NetlistError, InputError)
    assert issubclass(Unavailable, RuntimeError) and not issubclass(Unavailable, ValueError)
    assert set(REPORTED_ERRORS) == {InputError, Unavailable, UnknownName}
    assert not isinstance(ValueError("operands could not be broadcast"), REPORTED_ERRORS)


@pytest.mark.parametrize(
    ("error", "kind"),
    [(InputError("x"), "ValueError"), (Unavailable("x"), "RuntimeError"), (NetlistError("x", "f"), "NetlistError"),
     (ValueError("x"), "ValueError"), (KeyError("x"), "KeyError")],
)
def test_a_recorded_error_is_named_as_before_the_classes_existed(error: Exception, kind: str) -> None:
    """A batch's failed run and a failed trial record "ValueError: ..." for a refusal, as they did."""
    assert error_kind(error) == kind


def _no_canvas() -> None:
    netlist, _ = default_design()
    netlist.with_canvas(None).require_canvas()  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "refusal",
    [
        lambda: generate(n_hard=-1),
        lambda: generate(n_hard=0, n_soft=0),
        lambda: generate(utilisation=2.0),
        lambda: generate(seed=-1),
        _no_canvas,
        lambda: to_networkx(default_design()[0], expansion="x"),
        lambda: default_canvas(0.0, 10.0, 4),
        lambda: require_suite_folder(Path(__file__)),
    ],
    ids=["negative-count", "no-macro", "utilisation", "seed", "no-canvas", "expansion", "canvas-size", "suite-file"],
)
def test_the_netlist_layers_refusals_of_its_callers_input_are_input_errors(refusal: Callable[[], object]) -> None:
    with pytest.raises(InputError):
        refusal()
