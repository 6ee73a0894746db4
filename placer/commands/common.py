"""Helpers shared by CLI commands: clean error reporting and design loading."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import ParamSpec, TypeVar

import typer
from rich.console import Console

from netlists.errors import NetlistError

P = ParamSpec("P")
R = TypeVar("R")

console = Console()
err_console = Console(stderr=True)


class UsageError(Exception):
    """Bad command-line input that is not a file-format problem."""


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print one line on stderr and return the exit to raise."""
    print(f"placer: error: {message}", file=sys.stderr)
    return typer.Exit(code)


def clean_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Turn input errors into one line on stderr and exit status 2 (no traceback)."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except (NetlistError, UsageError) as exc:
            raise fail(str(exc)) from None
        except FileNotFoundError as exc:
            raise fail(f"{exc.filename}: no such file") from None

    return wrapper


def load(netlist: Path, plc: Path | None):  # type: ignore[no-untyped-def]
    """Load a design for a command (see ``netlists.io.load_design``)."""
    from netlists.io import load_design

    if not netlist.exists():
        raise NetlistError("no such file", netlist)
    return load_design(netlist, plc)
