"""Checks of method option values, declared per method (``Placer.option_checks``).

A value of the wrong kind used to surface deep inside a run as a raw ``TypeError`` or, worse,
run quietly (``max_steps=-5``, ``start_factor=nan``); each check here refuses it when the method
is built, naming the option and what it takes. A check returns nothing: the method still reads
the value it was given (so a run's stored options are exactly what the user passed).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from netlists.errors import InputError

#: ``check(name, value)`` raises ValueError naming the option when ``value`` is not allowed.
OptionCheck = Callable[[str, Any], None]


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _finite(value: int | float) -> bool:
    """``math.isfinite`` that says False for an int past the float range (10**400) instead of
    raising OverflowError."""
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def number(low: float = -math.inf, high: float = math.inf, *, low_open: bool = False) -> OptionCheck:
    """A finite real number in ``[low, high]`` (``(low, high]`` with ``low_open``)."""

    def check(name: str, value: Any) -> None:
        ok = _is_number(value) and _finite(value) and value <= high
        ok = ok and (value > low if low_open else value >= low)
        if not ok:
            if high == math.inf and low == -math.inf:
                span = "(any)"
            elif high == math.inf:  # "in (0, inf]" read as if infinity were allowed
                span = f"{'>' if low_open else '>='} {low:g}"
            else:
                span = f"in {'(' if low_open else '['}{low:g}, {high:g}]"
            raise InputError(f"option {name!r} takes a finite number{'' if span == '(any)' else ' ' + span}, "
                             f"got {value!r}")

    return check


def whole(low: int, high: int | None = None, *, none_ok: bool = False) -> OptionCheck:
    """A whole number ``>= low`` (and ``<= high`` when given; or None, the method's default,
    with ``none_ok``)."""

    def check(name: str, value: Any) -> None:
        if value is None and none_ok:
            return
        integral = _is_number(value) and _finite(value) and float(value).is_integer()
        if not (integral and value >= low and (high is None or value <= high)):
            extra = " (or none)" if none_ok else ""
            span = f">= {low}" if high is None else f"in [{low}, {high}]"
            raise InputError(f"option {name!r} takes a whole number {span}{extra}, got {value!r}")

    return check


def flag() -> OptionCheck:
    """True or false (also the text ``true``/``false``/``1``/``0``/``yes``/``no``)."""
    from placer.algorithms.base import option_flag

    def check(name: str, value: Any) -> None:
        if isinstance(value, str):
            try:
                option_flag(value)
            except ValueError:
                raise InputError(f"option {name!r} takes true or false, got {value!r}") from None
        elif not isinstance(value, bool | int) or value not in (0, 1):
            raise InputError(f"option {name!r} takes true or false, got {value!r}")

    check.is_flag = True  # type: ignore[attr-defined]
    return check


def is_flag(check: OptionCheck) -> bool:
    """Whether ``check`` is a :func:`flag` check (an on/off switch, not a number)."""
    return bool(getattr(check, "is_flag", False))


def takes_text(check: OptionCheck) -> bool:
    """Whether an option checked by ``check`` is text (a path, a device, a word): the CLI then
    reads its value as written (a run folder called ``123`` is no number)."""
    return bool(getattr(check, "takes_text", False))


def _text_check(check: OptionCheck) -> OptionCheck:
    check.takes_text = True  # type: ignore[attr-defined]
    return check


def choice(*allowed: str) -> OptionCheck:
    """One of the given words."""

    def check(name: str, value: Any) -> None:
        if value not in allowed:
            raise InputError(f"option {name!r} takes one of {', '.join(allowed)}, got {value!r}")

    return _text_check(check)


def text(*, none_ok: bool = False) -> OptionCheck:
    """Any text (a path, a device name), or None (the method's default) with ``none_ok``."""

    def check(name: str, value: Any) -> None:
        if not (isinstance(value, str) or (value is None and none_ok)):
            raise InputError(f"option {name!r} takes text, got {value!r}")

    return _text_check(check)


def device() -> OptionCheck:
    """A torch device name: auto, cpu, cuda or cuda:N. Whether the machine has it is checked
    where the method runs (:func:`placer.device.resolve_device`: "cuda" without CUDA is then
    refused, not run on the CPU), since a batch may run on other machines."""

    def check(name: str, value: Any) -> None:
        from placer.device import check_device_name  # imports torch: only when one is given

        if not isinstance(value, str):
            raise InputError(f"option {name!r} takes a device name, got {value!r}")
        try:
            check_device_name(value)
        except ValueError as error:
            raise InputError(f"option {name!r}: {error}") from None

    return _text_check(check)


def numbers(low: float = 0.0, *, low_open: bool = False) -> OptionCheck:
    """A non-empty list of finite numbers, each ``>= low`` (``> low`` with ``low_open``)."""
    each = number(low, low_open=low_open)

    def check(name: str, value: Any) -> None:
        if isinstance(value, str | bytes) or not isinstance(value, Sequence) or not value:
            raise InputError(f"option {name!r} takes a non-empty list of numbers, got {value!r}")
        for k, item in enumerate(value):
            each(f"{name}[{k}]", item)  # option 'repulsions[0]' takes ...: an item, not the list

    return check


def move_weights(moves: Iterable[str]) -> OptionCheck:
    """A dict of move name -> finite weight >= 0, some weight positive."""
    known = sorted(moves)

    def check(name: str, value: Any) -> None:
        if not isinstance(value, Mapping) or not value:
            raise InputError(
                f"option {name!r} takes a dict of move weights (moves: {', '.join(known)}), got {value!r}"
            )
        unknown = sorted(str(k) for k in value if k not in known)
        if unknown:
            raise InputError(
                f"option {name!r}: no move {', '.join(map(repr, unknown))} (moves: {', '.join(known)})"
            )
        for move, weight in value.items():
            number(0.0)(f"{name}.{move}", weight)
        if not any(weight > 0 for weight in value.values()):
            raise InputError(f"option {name!r}: every weight is 0, so no move could be drawn")
        if not math.isfinite(sum(float(weight) for weight in value.values())):
            raise InputError(f"option {name!r}: the weights add up past the float range; use smaller ones "
                             "(only their ratios count)")

    return check

