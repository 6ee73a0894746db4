"""The immutable netlist model."""

from __future__ import annotations

import copy
import dataclasses
import pickle
import re

import numpy as np
import pytest

from netlists.generate import generate
from netlists.model import Placement


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


def test_a_netlist_built_from_the_callers_arrays_is_not_changed_by_them() -> None:
    """The arrays given were frozen in place, not copied: built from a view of a writable
    array, the netlist changed with it (and every cached cost went stale), and the caller's
    own array was made read-only. Arrays already frozen all the way (another netlist's) are
    kept, so dataclasses.replace copies nothing."""
    import dataclasses

    from placer.cost.proxy import evaluate

    netlist, placement = generate(3, 6, 4, seed=1)
    before = evaluate(netlist, placement).proxy
    mine = np.array(netlist.net_weight)
    view = dataclasses.replace(netlist, net_weight=mine[:])
    own = dataclasses.replace(netlist, net_weight=mine)
    mine[:] = 50.0
    assert mine.flags.writeable  # still the caller's to write
    for twin in (view, own):
        assert np.array_equal(twin.net_weight, netlist.net_weight)
        assert evaluate(twin, placement).proxy == before
    hidden = np.array(netlist.width)  # a read-only view of a writable array changes with it
    frozen_view = hidden[:]
    frozen_view.setflags(write=False)
    assert dataclasses.replace(netlist, width=frozen_view).width is not frozen_view
    buffer = bytearray(np.asarray(netlist.width, dtype=np.float64).tobytes())  # read-only array of a
    over_buffer = np.frombuffer(buffer, dtype=np.float64)  # writable buffer: changes with it
    over_buffer.setflags(write=False)
    twin = dataclasses.replace(netlist, width=over_buffer)
    buffer[:8] = np.float64(999.0).tobytes()
    assert np.array_equal(twin.width, netlist.width)
    same = dataclasses.replace(netlist, name="renamed")
    assert same.x is netlist.x and same.net_pins is netlist.net_pins


def test_lists_given_for_array_fields_become_frozen_arrays_of_their_dtype() -> None:
    """A list was kept as it was: the caller could change it under the netlist, and the cost
    failed deep in numpy ("only integer scalar arrays can be converted to a scalar index")."""
    import dataclasses

    from netlists.model import _ARRAY_DTYPES
    from placer.cost.proxy import evaluate

    netlist, placement = generate(3, 6, 4, seed=1)
    lists = {name: getattr(netlist, name).tolist() for name in _ARRAY_DTYPES}
    twin = dataclasses.replace(netlist, **lists, names=list(netlist.names), side=list(netlist.side))
    lists["width"][0] = 1e6
    for name, dtype in _ARRAY_DTYPES.items():
        value = getattr(twin, name)
        assert value.dtype == dtype and not value.flags.writeable, name
        np.testing.assert_array_equal(value, getattr(netlist, name))
    assert isinstance(twin.names, tuple) and isinstance(twin.side, tuple)
    assert evaluate(twin, placement).proxy == evaluate(netlist, placement).proxy
    floats = dataclasses.replace(netlist, net_pins=netlist.net_pins.astype(np.float64))  # whole: taken
    assert floats.net_pins.dtype == np.int64
    huge = dataclasses.replace(netlist, width=[10**20] * netlist.n_nodes)  # (Python ints past 2**64)
    assert huge.width.dtype == np.float64 and huge.width[0] == 1e20


@pytest.mark.parametrize(
    ("field", "value", "why"),
    [
        ("width", "wide", "got str of shape ()"),
        ("width", None, "got NoneType of shape ()"),
        ("width", ["wide"] * 3, "got values of type <U4"),
        ("net_pins", [1.7, 2.0], "that are not all whole numbers"),  # (it was cut to 1)
        ("node_type", [300, 0], "got values from 0 to 300"),  # (int8: an OverflowError naming nothing)
        ("x", [[1.0, 2.0]], "of shape (1, 2)"),
        ("net_ptr", np.array([0.0, 2.0**63]), "got values from 0.0 to 9.223372036854776e+18"),  # (wrapped round)
    ],
)
def test_an_array_field_that_is_no_such_array_is_refused_naming_it(field: str, value: object, why: str) -> None:
    import dataclasses

    netlist, _ = generate(3, 6, 4, seed=1)
    with pytest.raises(TypeError, match=rf"^Netlist\.{field}: expected a one-dimensional array of ") as refused:
        dataclasses.replace(netlist, **{field: value})
    assert why in str(refused.value)


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


@pytest.mark.parametrize(
    ("change", "expect"),
    [
        ({"cols": 2.5}, r"grid columns and rows must be whole numbers, got 2.5 x"),
        ({"rows": True}, r"grid columns and rows must be whole numbers, got .* x True"),
        ({"smooth_range": float("nan")}, r"smoothing factor must be a whole number >= 0, got nan"),
        ({"smooth_range": 1.5}, r"smoothing factor must be a whole number >= 0, got 1.5"),
    ],
)
def test_a_canvas_built_through_the_api_with_no_whole_grid_or_smoothing_is_named(change, expect) -> None:  # type: ignore[no-untyped-def]
    """The readers only ever make whole numbers; an API caller's cols=2.5 failed deep in numpy
    with a cast error, smooth_range=nan in int(), and smooth_range=1.5 was taken as 1."""
    from netlists.model import canvas_problem
    from placer.cost.proxy import evaluate

    netlist, placement = generate(3, 6, 4, seed=5)
    canvas = netlist.require_canvas()
    assert canvas_problem(canvas) is None
    assert canvas_problem(canvas.replace(cols=np.int64(canvas.cols))) is None  # numpy's integers count
    problem = canvas_problem(canvas.replace(**change))
    assert problem is not None and re.search(expect, problem[1])
    with pytest.raises(ValueError, match=expect):
        evaluate(netlist.with_canvas(canvas.replace(**change)), placement)


def test_a_netlists_repr_is_its_counts_canvas_and_grid_not_every_name() -> None:
    """repr(netlist) held every node's name: 1 MB for ariane133, a notebook cell's output."""
    from netlists.designs import load_builtin

    netlist, placement = load_builtin()
    text = repr(netlist)
    counts = netlist.counts()
    c = netlist.require_canvas()
    assert len(text) < 250 and text.startswith(f"Netlist(name={netlist.name!r}, nodes={netlist.n_nodes}, ")
    assert f"hard_macros={counts['hard_macros']}, soft_macros={counts['soft_macros']}, ports={counts['ports']}" in text
    assert f"nets={netlist.n_nets}" in text and f"grid={c.cols} cols x {c.rows} rows" in text
    assert netlist.names[-1] not in text
    assert "canvas=None" in repr(dataclasses.replace(netlist, canvas=None))


def test_a_placements_repr_shows_its_size_and_a_few_positions() -> None:
    big = Placement(np.arange(5000.0), np.arange(5000.0) + 0.5, np.zeros(5000, np.int8), np.arange(5000) < 7)
    assert repr(big) == ("Placement(nodes=5000, fixed=7, x=[0, 1, 2, ..., 4997, 4998, 4999], "
                         "y=[0.5, 1.5, 2.5, ..., 4997.5, 4998.5, 4999.5])")
    small = Placement(np.array([1.25, 2.0]), np.array([3.0, 4.0]), np.zeros(2, np.int8), np.zeros(2, bool))
    assert repr(small) == "Placement(nodes=2, fixed=0, x=[1.25, 2], y=[3, 4])"


@pytest.mark.parametrize(
    ("routes", "alloc", "expect"),
    [
        ((5e-324, 5e-324), None, r"a grid cell's routing capacity .* must be at least 1e-15, got \d.*e-323 \(routes per micron 4.94066e-324"),
        ((1e-300, 1e-300), None, r"a grid cell's routing capacity .* must be at least 1e-15"),
        ((1e-12, 1e-12), (1e15, 1e15), r"routes used by macros may be at most 1e\+15 times the routes per micron"),
    ],
)
def test_a_routing_capacity_that_overflows_the_congestion_is_refused_naming_its_line(
    tmp_path, routes, alloc, expect  # type: ignore[no-untyped-def]
) -> None:
    """Routes per micron of 5e-324 were taken: eval printed congestion and proxy inf with exit
    0, the incremental evaluator NaN, the env a reward of -inf; at 1e-300 the congestion was
    3e300 and refine's heat (its square) overflowed into an OverflowError traceback."""
    from netlists.formats.circuit_training import write_netlist
    from netlists.formats.plc import write_plc
    from netlists.io import load_design
    from netlists.model import canvas_problem

    netlist, placement = generate(3, 6, 4, seed=5)
    canvas = netlist.require_canvas()
    hr, vr = routes
    changed = canvas.replace(hroutes_per_micron=hr, vroutes_per_micron=vr)
    if alloc is not None:
        changed = changed.replace(hrouting_alloc=alloc[0], vrouting_alloc=alloc[1])
    problem = canvas_problem(changed)
    assert problem is not None and re.search(expect, problem[1])
    assert canvas_problem(canvas.replace(hroutes_per_micron=1e-3, vroutes_per_micron=1e-3)) is None  # small but sound
    write_netlist(netlist, tmp_path / "netlist.pb.txt")
    write_plc(tmp_path / "initial.plc", netlist, placement)
    plc = (tmp_path / "initial.plc").read_text().splitlines()
    line = next(i for i, text in enumerate(plc) if text.startswith("# Routes per micron"))
    plc[line] = f"# Routes per micron, hor : {hr!r} ver : {vr!r}"
    if alloc is not None:
        used = next(i for i, text in enumerate(plc) if text.startswith("# Routes used by macros"))
        plc[used] = f"# Routes used by macros, hor : {alloc[0]!r} ver : {alloc[1]!r}"
    (tmp_path / "initial.plc").write_text("\n".join(plc) + "\n")
    with pytest.raises(ValueError, match=rf"initial\.plc:\d+: {expect}"):
        load_design(tmp_path)
