"""The immutable netlist model."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

from netlists.generate import generate


@pytest.mark.parametrize(
    "clone", [lambda n: n, lambda n: pickle.loads(pickle.dumps(n)), copy.deepcopy, copy.copy]
)
def test_netlist_arrays_stay_read_only_through_pickling_and_copies(clone) -> None:  # type: ignore[no-untyped-def]
    netlist, _ = generate(3, 2, 2, seed=1)
    twin = clone(netlist)
    np.testing.assert_array_equal(twin.width, netlist.width)
    assert not twin.width.flags.writeable and not twin.net_pins.flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        twin.x[0] = 1.0


def test_a_net_index_out_of_range_is_an_error_not_an_empty_net() -> None:
    netlist, _ = generate(3, 2, 2, seed=1)
    assert netlist.net(0).size >= 2
    for k in (-1, netlist.n_nets):
        with pytest.raises(IndexError, match="out of range"):
            netlist.net(k)


def test_index_follows_names_replaced_on_a_copy() -> None:
    """dataclasses.replace shares metadata, where the name lookup was cached: the copy with
    other names answered with the old positions."""
    import dataclasses

    from netlists.designs import load_builtin

    nl, _ = load_builtin("ariane133")
    names = list(nl.names)
    assert nl.index(names[0]) == 0
    names[0], names[1] = names[1], names[0]
    swapped = dataclasses.replace(nl, names=tuple(names))
    assert swapped.index(names[0]) == 0 and nl.index(names[0]) == 1
