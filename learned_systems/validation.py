"""Argument checks shared by the learned-systems modules (indexes, database backends, registries)."""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import numpy as np

from learned_systems.errors import InputError

#: The largest seed a tuner takes: Optuna's sampler and the RL agent take 32-bit seeds.
MAX_SEED = 2**32 - 1


def _is_real(value: object) -> bool:
    """A Python or numpy int or float, not a bool."""
    return isinstance(value, int | np.integer | float | np.floating) and not isinstance(value, bool | np.bool_)


def _shown(value: object) -> str:
    """``repr(value)``, cut to one readable line (10**400 has 401 digits)."""
    text = repr(value)
    return text if len(text) <= 60 else f"{text[:40]}... ({len(text)} characters)"


def whole_number(name: str, value: object, minimum: int, maximum: int | None = None) -> int:
    """``value`` as an int when it is a whole number in ``[minimum, maximum]``; else a
    ValueError naming the parameter (None, NaN, infinity, True, 2.5 and strings included)."""
    ok = _is_real(value)
    if ok and isinstance(value, float | np.floating):
        ok = bool(np.isfinite(value)) and float(value).is_integer()
    number = int(value) if ok else None  # type: ignore[call-overload]
    if number is None or number < minimum or (maximum is not None and number > maximum):
        span = f">= {minimum}" if maximum is None else f"from {minimum} to {maximum}"
        raise InputError(f"{name} must be a whole number {span}, got {_shown(value)}")
    return number


def exact_whole_number(name: str, value: object, low: int, high: int | None = None) -> int:
    """``value`` as an int from ``low`` to ``high`` when it is an int (Python's or numpy's, not a
    bool: 3.0 is refused, as a seed or a trial count given as a float is a caller's slip); a
    TypeError naming the parameter for another type, an InputError for one out of range."""
    if isinstance(value, bool):
        raise TypeError(f"{name} must be a whole number, got {value!r}")
    try:
        number = operator.index(value)  # type: ignore[arg-type]
    except TypeError:
        raise TypeError(f"{name} must be a whole number, got {value!r}") from None
    if number < low or (high is not None and number > high):
        bounds = f"from {low} to {high}" if high is not None else f"of at least {low}"
        raise InputError(f"{name} must be a whole number {bounds}, got {number}")
    return number


def finite_number(name: str, value: object, minimum: float = -np.inf) -> float:
    """``value`` as a float when it is a finite real number ``>= minimum``; else a ValueError
    naming the parameter (None, NaN, infinity, True and strings included)."""
    number = float(value) if _is_real(value) else None  # type: ignore[arg-type]
    if number is None or not np.isfinite(number) or number < minimum:
        span = "" if minimum == -np.inf else f" >= {minimum:g}"
        raise InputError(f"{name} must be a finite number{span}, got {value!r}")
    return number


def positive_seconds(name: str, value: object) -> float:
    """``value`` as a float when it is a finite number of seconds above 0; else a ValueError
    naming the parameter."""
    number = finite_number(name, value)
    if number <= 0:
        raise InputError(f"{name} must be a finite number of seconds > 0, got {value!r}")
    return number


def flag(name: str, value: object) -> bool:
    """``value`` when it is True or False (numpy's included); else a ValueError naming the
    parameter: the text "false" is truthy, and a flag that opens data-losing settings must not
    be switched on by it."""
    if not isinstance(value, bool | np.bool_):
        raise InputError(f"{name} must be True or False, got {value!r}")
    return bool(value)


_Entry = TypeVar("_Entry")


def registered(table: Mapping[str, _Entry], name: object, what: str, adder: str) -> _Entry:
    """The entry of the registry ``table`` called ``name``: a ValueError names the ``what``
    asked for, the registered names and ``adder``, the function that adds one of one's own."""
    entry = table.get(name) if isinstance(name, str) else None
    if entry is None:
        raise InputError(
            f"unknown {what} {name!r}: expected one of {', '.join(map(repr, table))} "
            f"({adder} adds one of one's own)"
        )
    return entry


def refuse_taken_name(what: str, name: str, taken: Callable[..., Any] | None, new: Callable[..., Any]) -> None:
    """Refuse to register ``new`` as ``what`` ``name`` where other code (``taken``) holds the
    name (:func:`same_code` may replace it: its module imported again)."""
    if taken is not None and not same_code(taken, new):
        raise InputError(
            f"{what} {name!r} is already registered by {qualified_name(taken)}; give "
            f"{qualified_name(new)} a name of its own"
        )


def qualified_name(code: Any) -> str:
    """``module.qualname`` of a function or class (a registry names what holds a name so)."""
    return f"{getattr(code, '__module__', '?')}.{getattr(code, '__qualname__', repr(code))}"


def same_code(taken: Callable[..., Any], new: Callable[..., Any]) -> bool:
    """Whether ``new`` may replace ``taken`` in a registry: the same object, or the same
    module-level name (its module imported again after an edit); two lambdas or closures of one
    name are different code."""
    if taken is new:
        return True
    qualified = qualified_name(new)
    return qualified == qualified_name(taken) and "<lambda>" not in qualified and "<locals>" not in qualified
