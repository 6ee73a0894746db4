"""A Ctrl-C is not lost in the netlist layer's loops over nodes.

numpy looks an Enum member's ``__array_ufunc__`` up (for ``types[i] == NodeType.PORT``,
``types[i] in (NodeType.HARD_MACRO, ...)``, ``array == NodeType.PORT``) through Python code:
Python 3.11's ``EnumType.__getattr__``. A signal landing there raises KeyboardInterrupt inside
that lookup, and numpy drops it: ``placer generate --hard 3000 --soft 3000`` ran to the end,
exit 0, after a Ctrl-C in 5 of 8 tries. Where a signal lands cannot be chosen, so these tests
watch for the lookup itself: the generator, the writers and readers of every format and the
cost must make numpy run no Python code of an Enum (``tests/test_static_checks.py`` keeps
members out of comparisons in all the packages).
"""

from __future__ import annotations

import enum
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from netlists.formats.bookshelf import read_bookshelf, write_bookshelf
from netlists.formats.circuit_training import netlist_text, parse_netlist
from netlists.formats.plc import plc_text, read_plc, write_plc
from netlists.generate import generate
from netlists.graph import to_tensors


@pytest.fixture
def enum_lookups(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Where (file:line) numpy looked an attribute of an Enum class up through Python code."""
    original = vars(enum.EnumType).get("__getattr__")
    if original is None:  # (Python 3.12 on: no Python code runs in numpy's lookup)
        pytest.skip("this Python's Enum classes run no Python code when numpy looks them up")
    seen: list[str] = []

    def watched(cls: type, name: str) -> object:
        if name.startswith("__array"):
            caller = sys._getframe(1)  # (numpy's C code has no frame: the line that called it)
            seen.append(f"{caller.f_code.co_filename}:{caller.f_lineno} ({cls.__name__}.{name})")
        return original(cls, name)

    monkeypatch.setattr(enum.EnumType, "__getattr__", watched)
    yield seen


def test_the_watch_sees_the_lookup_a_lost_ctrl_c_needs(enum_lookups: list[str]) -> None:
    import numpy as np

    from netlists.model import NodeType

    types = np.zeros(3, dtype=np.int8)
    assert types[0] == NodeType.PORT and enum_lookups  # (the old loop's comparison)
    enum_lookups.clear()
    assert types[0] == int(NodeType.PORT) and not enum_lookups


def test_generating_writing_and_reading_a_design_runs_no_enum_code_inside_numpy(
    enum_lookups: list[str], tmp_path: Path
) -> None:
    netlist, placement = generate(n_hard=6, n_soft=6, n_ports=4, seed=3)
    text = netlist_text(netlist)
    read_back = parse_netlist(text, netlist.name)
    write_plc(tmp_path / "initial.plc", netlist, placement)
    read_plc(tmp_path / "initial.plc", read_back)
    plc_text(netlist, placement, "initial.plc")
    aux = write_bookshelf(netlist, placement, tmp_path / "bookshelf", "design")
    read_bookshelf(aux)
    netlist.counts(), repr(netlist), netlist.macros, netlist.placeable, netlist.ports
    to_tensors(netlist, placement)
    assert not enum_lookups, "\n".join(enum_lookups)


def test_costing_and_searching_a_design_runs_no_enum_code_inside_numpy(enum_lookups: list[str]) -> None:
    from placer.algorithms.base import get_placer
    from placer.cost.proxy import evaluate

    netlist, placement = generate(n_hard=6, n_soft=6, n_ports=4, seed=3)
    evaluate(netlist, placement)
    get_placer("sa", max_steps=50).place(netlist, placement, budget_s=5.0, seed=0)
    assert not enum_lookups, "\n".join(enum_lookups)
