"""design_digest: equal for the same design read twice, different after any edit."""

from __future__ import annotations

import dataclasses

import numpy as np

from netlists.digest import design_digest
from netlists.formats.circuit_training import write_netlist
from netlists.formats.plc import write_plc
from netlists.generate import generate
from netlists.io import load_design


def test_the_same_design_read_twice_has_one_digest_and_any_edit_changes_it(tmp_path):
    netlist, placement = generate(4, 8, 6, seed=2)
    write_netlist(netlist, tmp_path / "netlist.pb.txt")
    write_plc(tmp_path / "initial.plc", netlist, placement)
    first = design_digest(*load_design(tmp_path / "netlist.pb.txt"))
    assert first == design_digest(*load_design(tmp_path / "netlist.pb.txt"))
    assert len(first) == 64

    moved = placement.copy()
    moved.x[0] += 1.0
    fixed = placement.copy()
    fixed.fixed[0] = not fixed.fixed[0]
    wider = dataclasses.replace(netlist.canvas, width=netlist.canvas.width + 1.0)
    heavier = dataclasses.replace(netlist, net_weight=np.asarray(netlist.net_weight) * 2.0)
    renamed = dataclasses.replace(netlist, name="other")
    base = design_digest(netlist, placement)
    variants = {
        design_digest(netlist, moved),
        design_digest(netlist, fixed),
        design_digest(netlist.with_canvas(wider), placement),
        design_digest(heavier, placement),
        design_digest(renamed, placement),
        design_digest(netlist),
    }
    assert base not in variants and len(variants) == 6
    # provenance is not content
    assert design_digest(dataclasses.replace(netlist, metadata={"path": "/elsewhere"}), placement) == base


def test_equal_numbers_of_other_types_are_the_same_design() -> None:
    """A canvas of numpy numbers, or an int64 orientation, gave another digest for the same
    design (a resume keyed by it would have called the design edited)."""
    netlist, placement = generate(4, 8, 6, seed=2)
    canvas = netlist.canvas
    numpy_canvas = dataclasses.replace(canvas, width=np.float64(canvas.width), cols=np.int64(canvas.cols))
    wide_codes = dataclasses.replace(placement, orientation=placement.orientation.astype(np.int64))
    base = design_digest(netlist, placement)
    assert design_digest(netlist.with_canvas(numpy_canvas), placement) == base
    assert design_digest(netlist, wide_codes) == base
    assert design_digest(netlist.with_canvas(dataclasses.replace(canvas, cols=canvas.cols + 1)), placement) != base
