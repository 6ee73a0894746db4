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


def test_an_unknown_name_is_an_input_error_and_still_a_key_error() -> None:
    """``except InputError`` missed ``get_placer("nope")`` and ``load_builtin("x")`` (a KeyError
    only), where the batch's own check of the same name raised an InputError."""
    from netlists.designs import load_builtin
    from placer.algorithms.base import get_placer

    assert issubclass(UnknownName, InputError) and issubclass(UnknownName, KeyError)
    for lookup in (lambda: get_placer("nope"), lambda: load_builtin("nope")):
        with pytest.raises(InputError, match="nope") as caught:
            lookup()
        assert isinstance(caught.value, KeyError) and error_kind(caught.value) == "UnknownName"


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


def test_start_refused_words_the_systems_thread_and_process_limits_and_nothing_else() -> None:
    """The refusal a package raises when a thread or process could not start for the system's
    limit: Python's "can't start new thread" and fork's EAGAIN; any other error is not one."""
    import errno

    from netlists.errors import Unavailable, start_refused

    thread = start_refused(RuntimeError("can't start new thread"), "worker 2 of 4", "try fewer --jobs")
    assert isinstance(thread, Unavailable) and str(thread) == (
        "cannot start worker 2 of 4: the system's limit on threads/processes was met (can't start new thread); "
        "try fewer --jobs")
    fork = start_refused(BlockingIOError(errno.EAGAIN, "Resource temporarily unavailable"), "pgbench", "end some")
    assert isinstance(fork, Unavailable) and "(Resource temporarily unavailable); end some" in str(fork)
    for other in (RuntimeError("cannot join thread before it is started"), OSError(errno.ENOENT, "No such file"),
                  ValueError("can't start new thread"), KeyboardInterrupt()):
        assert start_refused(other, "worker 1 of 1", "") is None


def test_refuse_nul_byte_names_where_the_path_was_read() -> None:
    """A stored path with a NUL byte, which open() and os.stat refuse as "embedded null byte"."""
    from netlists.errors import refuse_nul_byte

    refuse_nul_byte("runs/d/sa/seed0.plc", "results.sqlite: plc_path")  # (a path: taken)
    with pytest.raises(InputError, match=r"^run/config.json: netlists\[2\] holds a NUL byte; not a path$"):
        refuse_nul_byte("a\x00b", "run/config.json: netlists[2]")
