"""Design files: which placement file each design file pairs with."""

from __future__ import annotations

from pathlib import Path

from netlists.formats.bookshelf.writer import write_bookshelf
from netlists.generate import generate
from netlists.io import design_files_under, design_start


def test_design_start_pairs_each_design_file_as_design_files_under_does(tmp_path: Path) -> None:
    """--verify digests a run's design from its netlist path alone: the pair must be the one
    the batch made (a Bookshelf design's .pl; an .aux that cannot be read, itself)."""
    netlist, placement = generate(3, 4, 4, seed=1)
    aux = write_bookshelf(netlist, placement, tmp_path / "shelf", "tiny")
    ct = tmp_path / "ct" / "netlist.pb.txt"
    ct.parent.mkdir()
    ct.write_text("")
    (ct.parent / "initial.plc").write_text("")
    broken = tmp_path / "broken" / "b.aux"
    broken.parent.mkdir()
    broken.write_text("this is no aux file\n")
    assert design_start(aux) == aux.parent / "tiny.pl"
    assert design_start(ct) == ct.parent / "initial.plc"
    assert design_start(broken) == broken
    assert design_start(tmp_path / "notes.txt") is None
    assert dict(design_files_under(tmp_path)) == {aux: design_start(aux), ct: design_start(ct), broken: broken}
