"""Fixtures of the netlists tests."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from netlists.model import Netlist


def _assert_same_netlist(a: Netlist, b: Netlist) -> None:
    assert a.names == b.names
    assert a.side == b.side
    for field in (
        "node_type",
        "width",
        "height",
        "x",
        "y",
        "orientation",
        "pin_macro",
        "pin_dx",
        "pin_dy",
        "weight",
        "net_driver",
        "net_ptr",
        "net_pins",
        "net_weight",
    ):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field), err_msg=field)
    assert a.canvas == b.canvas


@pytest.fixture
def assert_same_netlist() -> Callable[[Netlist, Netlist], None]:
    """Asserts that two netlists have the same names, sides, arrays and canvas."""
    return _assert_same_netlist
