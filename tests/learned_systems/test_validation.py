"""The shared argument checks: whole numbers, finite numbers, seconds and flags."""

from __future__ import annotations

import numpy as np
import pytest

from learned_systems.validation import finite_number, flag, positive_seconds, whole_number


def test_whole_numbers_in_range_are_taken_as_ints_whatever_their_type() -> None:
    assert whole_number("n", 3, 1) == 3 and isinstance(whole_number("n", np.int64(3), 1), int)
    assert whole_number("n", 4.0, 1, 4) == 4 and whole_number("n", np.float32(2.0), 0) == 2


@pytest.mark.parametrize("value", [True, 2.5, float("nan"), float("inf"), None, "3", 0, 11, np.bool_(True)])
def test_anything_else_is_refused_naming_the_parameter_and_the_span(value: object) -> None:
    with pytest.raises(ValueError, match=r"^n must be a whole number from 1 to 10, got "):
        whole_number("n", value, 1, 10)


def test_a_huge_value_is_shown_in_one_readable_line() -> None:
    with pytest.raises(ValueError, match=r"got 1000000000000000000000000000000000000000\.\.\. \(401 characters\)"):
        whole_number("n", 10**400, 1, 10)


def test_finite_numbers_seconds_and_flags() -> None:
    assert finite_number("x", np.float64(-2.5)) == -2.5 and finite_number("x", 3, minimum=3) == 3.0
    for bad in (float("nan"), float("-inf"), True, "1", None):
        with pytest.raises(ValueError, match="x must be a finite number"):
            finite_number("x", bad)
    with pytest.raises(ValueError, match="x must be a finite number >= 0, got -1"):
        finite_number("x", -1, minimum=0)
    assert positive_seconds("t", 0.5) == 0.5
    with pytest.raises(ValueError, match="t must be a finite number of seconds > 0, got 0"):
        positive_seconds("t", 0)
    assert flag("f", np.bool_(False)) is False and flag("f", True) is True
    for bad in ("false", 0, 1, None):  # the text "false" is truthy: never read as a switch
        with pytest.raises(ValueError, match="f must be True or False"):
            flag("f", bad)
