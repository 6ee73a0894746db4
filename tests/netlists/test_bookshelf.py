"""Bookshelf reader/writer: a hand-checked design, round trips, and clear errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netlists.errors import NetlistError
from netlists.formats.bookshelf import read_bookshelf, write_bookshelf
from netlists.generate import generate
from netlists.model import ORIENTATIONS, Netlist, NodeType, Placement

NODES = """UCLA nodes 1.0
# a comment
NumNodes : 5
NumTerminals : 2
  c0 2 4
  c1 3 4
  m0 10 8
  t0 6 6 terminal
  p0 0 0 terminal
"""
NETS = """UCLA nets 1.0
NumNets : 3
NumPins : 8
NetDegree : 3 n0
  c0 I : 0.5 -1
  m0 O : -2 3
  p0 I
NetDegree : 3 n1
  c1 B : 0 0
  t0 I : 1 1
  c0 I : 0 0
NetDegree : 2 n2
  p0 O : 0 0
  m0 I : 4 -3
"""
WTS = """UCLA wts 1.0
n1 3
c0 1
"""
PL = """UCLA pl 1.0
c0 10 12 : N
c1 20 4 : FS
m0 30 8 : E /FIXED
t0 0 30 : N /FIXED
p0 100 50 : N
"""
ROW = """CoreRow Horizontal
  Coordinate : {y}
  Height : 4
  Sitewidth : 2
  Sitespacing : 2
  Siteorient : 1
  Sitesymmetry : 1
  SubrowOrigin : 1  NumSites : 50
End
"""
SCL = "UCLA scl 1.0\nNumRows : 12\n" + "".join(ROW.format(y=2 + 4 * r) for r in range(12))
SCL_WITH_CANVAS = SCL.replace("\n", "\n# placer-gym canvas : {} 1 1 0 0 1 0.004\n", 1)
FILES = {"d.nodes": NODES, "d.nets": NETS, "d.wts": WTS, "d.pl": PL, "d.scl": SCL}
AUX = "RowBasedPlacement : d.nodes d.nets d.wts d.pl d.scl\n"


def write_design(folder: Path, **changes: str) -> Path:
    for name, text in {**FILES, **changes}.items():
        (folder / name).write_text(text)
    aux = folder / "d.aux"
    aux.write_text(changes.get("d.aux", AUX))
    return aux


ARRAYS = ("node_type", "width", "height", "x", "y", "orientation", "pin_macro", "pin_dx", "pin_dy",
          "weight", "net_driver", "net_ptr", "net_pins", "net_weight")  # fmt: skip


def assert_same(a: tuple[Netlist, Placement], b: tuple[Netlist, Placement]) -> None:
    (na, pa), (nb, pb) = a, b
    assert na.names == nb.names
    assert na.side == nb.side
    for f in ARRAYS:
        np.testing.assert_array_equal(getattr(na, f), getattr(nb, f), err_msg=f)
    assert na.canvas == nb.canvas
    for key in ("bookshelf_origin", "bookshelf_rows", "bookshelf_net_names", "bookshelf_terminals"):
        assert na.metadata[key] == nb.metadata[key], key
    for f in ("x", "y", "orientation", "fixed"):
        np.testing.assert_array_equal(getattr(pa, f), getattr(pb, f), err_msg=f)


def test_hand_checked_design(tmp_path: Path) -> None:
    netlist, placement = read_bookshelf(write_design(tmp_path))
    assert netlist.name == "d"
    # every node followed by its pins; pins numbered per node in net order (driver first)
    assert netlist.names == (
        "c0", "c0/P0", "c0/P1", "c1", "c1/P0", "m0", "m0/P0", "m0/P1", "t0", "t0/P0", "p0",
    )  # fmt: skip
    S, H, P, HP, SP = (
        NodeType.SOFT_MACRO,
        NodeType.HARD_MACRO,
        NodeType.PORT,
        NodeType.HARD_PIN,
        NodeType.SOFT_PIN,
    )
    assert netlist.node_type.tolist() == [S, SP, SP, S, SP, H, HP, HP, H, HP, P]
    # nets: driver = first O pin (else first pin), then the others in file order
    assert [netlist.net(k).tolist() for k in range(3)] == [[6, 1, 10], [4, 9, 2], [10, 7]]
    np.testing.assert_array_equal(netlist.net_weight, [1, 3, 1])
    assert netlist.weight[4] == 3 and netlist.weight[6] == 1
    np.testing.assert_array_equal(netlist.pin_dx[[1, 6, 7, 9]], [0.5, -2, 4, 1])
    np.testing.assert_array_equal(netlist.pin_dy[[1, 6, 7, 9]], [-1, 3, -3, 1])
    # canvas = rows' bounding box (x 1..101, y 2..50) moved to the origin
    canvas = netlist.require_canvas()
    assert (canvas.width, canvas.height) == (100, 48)
    assert netlist.metadata["bookshelf_origin"] == (1.0, 2.0)
    assert netlist.metadata["bookshelf_row_height"] == 4
    assert (canvas.cols, canvas.rows) == (3, 1)  # 4 macros -> ~2 cells per side of a square
    # centres: lower-left + half the footprint (m0 turned E: 8 wide, 10 high) - origin
    macros = [0, 3, 5, 8, 10]
    np.testing.assert_array_equal(placement.x[macros], [10, 20.5, 33, 2, 99])
    np.testing.assert_array_equal(placement.y[macros], [12, 4, 11, 31, 48])
    assert [ORIENTATIONS[o] for o in placement.orientation[macros]] == ["N", "FS", "E", "N", "N"]
    # sizes are the footprints as placed: m0 (10 x 8 in the .nodes) turned E covers 8 x 10 (the
    # cost and the legaliser read sizes whatever the orientation: they drew 10 x 8)
    assert (netlist.width[5], netlist.height[5]) == (8, 10)
    assert placement.fixed[macros].tolist() == [False, False, True, True, True]
    # hard pin m0/P0 (offset (-2, 3)) turned E -> (3, 2); soft pins sit at the centre
    assert (placement.x[6], placement.y[6]) == (36, 13)
    assert (placement.x[1], placement.y[1]) == (10, 12)
    assert netlist.side[10] == "TOP"
    np.testing.assert_array_equal(netlist.x, placement.x)


def test_round_trip_is_exact(tmp_path: Path) -> None:
    first = read_bookshelf(write_design(tmp_path))
    aux = write_bookshelf(*first, tmp_path / "out", "again")
    assert aux == tmp_path / "out" / "again.aux"
    second = read_bookshelf(aux)
    assert_same(first, second)
    third = read_bookshelf(write_bookshelf(*second, tmp_path / "out2", "again"))
    assert_same(second, third)
    # origin restored in the written coordinates
    pl = (tmp_path / "out" / "again.pl").read_text()
    assert "m0 30 8 : E /FIXED" in pl and "p0 100 50 : N /FIXED" in pl
    assert "  m0 10 8\n" in (tmp_path / "out" / "again.nodes").read_text()  # N sizes again
    assert "CoreRow Horizontal" in (tmp_path / "out" / "again.scl").read_text()


def test_generated_netlist_survives_bookshelf(tmp_path: Path) -> None:
    netlist, placement = generate(6, 20, 8, seed=1)
    back, back_placement = read_bookshelf(write_bookshelf(netlist, placement, tmp_path, "g"))
    assert back.canvas == netlist.canvas
    assert back.n_nets == netlist.n_nets
    np.testing.assert_array_equal(np.diff(back.net_ptr), np.diff(netlist.net_ptr))
    np.testing.assert_array_equal(back.net_weight, netlist.net_weight)
    for i in netlist.placeable:
        j = back.index(netlist.names[i])
        assert back_placement.x[j] == pytest.approx(placement.x[i], abs=1e-9)
        assert back_placement.y[j] == pytest.approx(placement.y[i], abs=1e-9)
        assert back.width[j] == netlist.width[i]
    soft_h = netlist.height[netlist.soft_macros].max()
    for i in netlist.hard_macros:
        if netlist.height[i] > soft_h:
            assert back.node_type[back.index(netlist.names[i])] == NodeType.HARD_MACRO
    # and from there on the round trip is exact
    again = read_bookshelf(write_bookshelf(back, back_placement, tmp_path / "2", "g"))
    assert_same((back, back_placement), again)


@pytest.mark.parametrize(
    ("changes", "file", "line", "expect"),
    [
        (
            {"d.aux": "RowBasedPlacement : d.nodes d.nets d.pl d.scl missing.pl\n"},
            "d.aux",
            1,
            "'missing.pl' listed here does not exist",
        ),
        (
            {"d.aux": "RowBasedPlacement : d.nodes d.nets d.pl\n"},
            "d.aux",
            None,
            "expected a .scl file",
        ),
        (  # a name longer than the file system takes raised a bare OSError (and ended a suite run)
            {"d.aux": "RowBasedPlacement : d.nodes d.nets d.pl d.scl" + "x" * 300 + "\n"},
            "d.aux",
            1,
            "listed here cannot be looked up (File name too long)",
        ),
        (
            {"d.nodes": NODES.replace("NumNodes : 5", "NumNodes : 6")},
            "d.nodes",
            3,
            "NumNodes is 6 but 5 nodes",
        ),
        (
            {"d.nodes": NODES.replace("NumTerminals : 2", "NumTerminals : 1")},
            "d.nodes",
            4,
            "NumTerminals is 1 but 2",
        ),
        (
            {"d.nodes": NODES.replace("c1 3 4", "c1 3 abc")},
            "d.nodes",
            6,
            "expected a number for the height of 'c1'",
        ),
        ({"d.nodes": NODES.replace("c1 3 4", "c1 -3 4")}, "d.nodes", 6, "negative size"),
        (
            {"d.nodes": NODES.replace("c1 3 4", "c1 3 4 fixed")},
            "d.nodes",
            6,
            "expected 'terminal' or 'terminal_NI'",
        ),
        (
            {"d.nets": NETS.replace("t0 I : 1 1", "zz I : 1 1")},
            "d.nets",
            10,
            "unknown node 'zz' (not in d.nodes)",
        ),
        (
            {"d.nets": NETS.replace("t0 I : 1 1", "t0 I : 1 one")},
            "d.nets",
            10,
            "expected a number for the y offset",
        ),
        (
            {"d.nets": NETS.replace("t0 I : 1 1", "t0 X : 1 1")},
            "d.nets",
            10,
            "pin direction I, O or B",
        ),
        (
            {"d.nets": NETS.replace("NetDegree : 3 n1", "NetDegree : 4 n1")},
            "d.nets",
            8,
            "NetDegree 4 but 3 pin lines",
        ),
        (
            {"d.nets": NETS.replace("NetDegree : 2 n2", "NetDegree : 1 n2")},
            "d.nets",
            14,
            "expected 'NetDegree : <k> <name>'",
        ),
        (
            {"d.nets": NETS.replace("NumPins : 8", "NumPins : 9")},
            "d.nets",
            3,
            "NumPins is 9 but 8 pins",
        ),
        ({"d.pl": PL.replace("c1 20 4", "q9 20 4")}, "d.pl", 3, "unknown node 'q9'"),
        (
            {"d.pl": PL.replace("c1 20 4", "c1 twenty 4")},
            "d.pl",
            3,
            "expected a number for the x of 'c1'",
        ),
        ({"d.pl": PL.replace(": FS", ": XX")}, "d.pl", 3, "expected an orientation"),
        ({"d.wts": "UCLA wts 1.0\nnope 2\n"}, "d.wts", 2, "unknown net 'nope'"),
        (
            {"d.scl": SCL.replace("NumRows : 12", "NumRows : 11")},
            "d.scl",
            2,
            "NumRows is 11 but 12 rows",
        ),
        (
            {"d.scl": SCL.rsplit("End", 1)[0]},
            "d.scl",
            None,
            "expected 'End' after the last CoreRow",
        ),
        (
            {"d.scl": SCL.replace("  Height : 4\n", "", 1)},
            "d.scl",
            3,
            "row lacks 'Height : <value>'",
        ),
        ({"d.pl": PL.replace("m0 30 8 : E /FIXED\n", "")}, "d.pl", None, "1 of 5 nodes of d.nodes have no position here, the first 'm0'"),
        ({"d.pl": "UCLA pl 1.0\n"}, "d.pl", None, "5 of 5 nodes"),
        ({"d.scl": SCL.replace("CoreRow Horizontal", "CoreRow Vertical", 1)}, "d.scl", 3, "only 'CoreRow Horizontal'"),
        ({"d.pl": PL.replace("c1 20 4 : FS", "c1 20 4 : FS N")}, "d.pl", 3, "'c1' has two orientations"),
        ({"d.scl": SCL.replace("  Height : 4\n", "  Height : 4\n  Height : 8\n", 1)}, "d.scl", 6, "'Height' given twice in one row"),
        ({"d.scl": SCL_WITH_CANVAS.format("0 4")}, "d.scl", 2, "at least one column and row"),
        ({"d.scl": SCL_WITH_CANVAS.format("4.5 4")}, "d.scl", 2, "expected an integer cols"),
        ({"d.scl": SCL_WITH_CANVAS.format("4 4").replace(" 1 1 0 0", " 0 1 0 0")}, "d.scl", 2, "routes per micron"),
        ({"d.scl": SCL_WITH_CANVAS.format("4 4").replace(" 0 0 1 ", " -1 0 1 ")}, "d.scl", 2, "routes used by macros"),
        ({"d.scl": SCL_WITH_CANVAS.format("4 4").replace(" 0 0 1 ", " 0 0 -2 ")}, "d.scl", 2, "smoothing factor"),
    ],
)
def test_bad_input_names_file_line_and_expectation(
    tmp_path: Path, changes: dict[str, str], file: str, line: int | None, expect: str
) -> None:
    aux = write_design(tmp_path, **changes)
    with pytest.raises(NetlistError) as info:
        read_bookshelf(aux)
    err = info.value
    assert Path(err.path or "").name == file
    if line is not None:
        assert err.line == line
    assert expect in str(err)


#: Edits of a Bookshelf copy of ``generate(2, 3, 2, seed=1)`` written by ``write_bookshelf``:
#: (file, regex whose first match is replaced, replacement, line of the error relative to the
#: line where the match starts or None for an error naming no line, the error's reason).
WRITTEN_EDITS = [
    ("d.aux", r"RowBasedPlacement :", "RowBasedPlacement", 0, "expected 'RowBasedPlacement : <files>'"),
    ("d.nodes", r"NumNodes : 7", "NumNodes 7", 0, "expected 'NumNodes : <count>'"),
    ("d.nodes", r"NumNodes : 7", "NumNodes : 7.5", 0, "expected a non-negative integer for NumNodes, got '7.5'"),
    ("d.nodes", r"NumTerminals : 2\n", "", None, "expected a 'NumTerminals : <count>' line"),
    ("d.nodes", r"  a0 16.75 27.43", "  a0 16.75", 0, "expected 'name width height [terminal|terminal_NI]'"),
    ("d.nodes", r"  a0 16.75", "  a0 inf", 0, "expected a finite number for the width of 'a0', got 'inf'"),
    ("d.nodes", r"  Grp_2 ", "  Grp_1 ", 0, "node 'Grp_1' is listed twice"),
    ("d.nodes", r"  port_0 ", "# placer-gym kind : ghost hard\n  port_0 ", 0,
     "the kind comment names 'ghost', which is no node here"),
    ("d.nets", r"NetDegree : 2 a0/P5", "NetDegree : 2 a0/P5 extra", 0, "expected 'NetDegree : <k> [name]'"),
    ("d.nets", r"NetDegree : 2 a0/P5", "NetDegree : -2 a0/P5", 0, "expected a non-negative integer NetDegree, got '-2'"),
    ("d.nets", r"  a0 O : -5.032", "  a0 Q : -5.032", 0, "expected pin direction I, O or B, got 'Q'"),
    ("d.nets", r"  a0 O : -5.032", "  a0 O -5.032", 0, "expected 'node I|O|B : x_offset y_offset'"),
    ("d.pl", r"  a0 15.055 .*", "  a0 15.055", 0, "expected 'name x y : ORIENT [/FIXED|/FIXED_NI]'"),
    ("d.pl", r"  a1 ", "  a0 ", 0, "node 'a0' is placed twice"),
    ("d.scl", r"End\n", "", 0, "expected 'End' before the next CoreRow"),  # the CoreRow now here
    ("d.scl", r"End\n", "End\nEnd\n", 1, "'End' without a 'CoreRow'"),
    ("d.scl", r"CoreRow Horizontal\n", "\n", 1, "expected 'CoreRow Horizontal', got 'Coordinate : 0'"),
    ("d.scl", r"End\n\Z", "", -8, "expected 'End' after the last CoreRow"),  # named at its CoreRow
    ("d.scl", r"  Height : 5.94", "  Height 5.94", 0, "expected 'Key : value' pairs"),
    ("d.scl", r"  Height : 5.94", "  Height : 0", 0, "row Height must be positive, got '0'"),
    ("d.scl", r"  Height : 5.94", "  Height : -5.94", 0, "row Height must be positive, got '-5.94'"),
    ("d.scl", r"NumSites : 4686", "NumSites : 4686.5", -7,
     "expected a non-negative integer NumSites and Sitespacing >= 0"),
    ("d.scl", r"(?s)NumRows : 8.*", "NumRows : 0\n", None, "expected at least one CoreRow"),
    ("d.scl", r"canvas : 3 3 ", "canvas : 3 ", 0,
     "expected 8 numbers: cols rows hroutes_per_micron vroutes_per_micron hrouting_alloc "
     "vrouting_alloc smooth_range overlap_threshold"),
    ("d.scl", r"NumRows", "# placer-gym canvas : 3 3 1 1 1 1 2 0.004\nNumRows", 0,
     "a second canvas comment (the first is at line 3)"),
    ("d.wts", r"  Grp_0/Poutput_2 4", "  Grp_0/Poutput_2 4 5", 0, "expected 'net_name weight'"),
    ("d.wts", r"  Grp_0/Poutput_2 4", "  Grp_0/Poutput_2 -4", 0, "weight of 'Grp_0/Poutput_2' is negative"),
    ("d.wts", r"  Grp_0/Poutput_2 4", "  Grp_0/Poutput_2 nan", 0,
     "expected a finite number for the weight of 'Grp_0/Poutput_2', got 'nan'"),
]


@pytest.mark.parametrize(
    ("file", "pattern", "replacement", "offset", "reason"), WRITTEN_EDITS,
    ids=[f"{e[0]}-{k}" for k, e in enumerate(WRITTEN_EDITS)],
)
def test_broken_copies_of_a_written_design_name_file_line_and_reason(
    tmp_path: Path, file: str, pattern: str, replacement: str, offset: int | None, reason: str
) -> None:
    """Each malformed edit of a design the project's own writer wrote (bad count lines,
    duplicate nodes and placements, bad NetDegree lines and pin directions, missing CoreRow or
    End, rows of height <= 0, negative or non-finite weights, ...) is a NetlistError naming the
    edited file, the line (where the error is tied to one) and exactly this reason."""
    import re

    aux = write_bookshelf(*generate(2, 3, 2, seed=1), tmp_path, "d")
    read_bookshelf(aux)  # the unedited copy reads
    path = tmp_path / file
    text = path.read_text()
    match = re.search(pattern, text)
    assert match is not None, f"{pattern!r} is not in the written {file}: the writer changed"
    path.write_text(text[: match.start()] + replacement + text[match.end() :])
    with pytest.raises(NetlistError) as info:
        read_bookshelf(aux)
    err = info.value
    assert err.path == str(path)
    edited_line = text.count("\n", 0, match.start()) + 1
    assert err.line == (None if offset is None else edited_line + offset)
    assert err.reason == reason
    where = str(path) if offset is None else f"{path}:{err.line}"
    assert str(err) == f"{where}: {reason}"


def test_another_pl_that_is_a_folder_is_named_as_one(tmp_path: Path) -> None:
    """A placement given beside the design (``pl=``) that is a folder is refused naming it, not
    read as a missing file or a traceback."""
    aux = write_bookshelf(*generate(2, 3, 2, seed=1), tmp_path, "d")
    (tmp_path / "other.pl").mkdir()
    with pytest.raises(NetlistError) as info:
        read_bookshelf(aux, pl=tmp_path / "other.pl")
    assert info.value.path == str(tmp_path / "other.pl")
    assert info.value.line is None
    assert info.value.reason == "is a folder: expected a Bookshelf .pl file"


def test_byte_order_marks_and_a_valid_canvas_comment_are_read(tmp_path: Path) -> None:
    plain = read_bookshelf(write_design(tmp_path))
    marked = tmp_path / "marked"
    marked.mkdir()
    boms = {name: "\ufeff" + text for name, text in FILES.items()}
    assert_same(plain, read_bookshelf(write_design(marked, **boms)))
    commented = tmp_path / "commented"
    commented.mkdir()
    netlist, _ = read_bookshelf(write_design(commented, **{"d.scl": SCL_WITH_CANVAS.format("4 3")}))
    assert netlist.canvas is not None and (netlist.canvas.cols, netlist.canvas.rows) == (4, 3)


def test_missing_aux_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(NetlistError, match="no such file"):
        read_bookshelf(tmp_path / "none.aux")


@st.composite
def designs(draw: st.DrawFn) -> dict[str, str]:
    """Random small Bookshelf designs with half-integer sizes and integer coordinates."""
    n = draw(st.integers(1, 8))
    nodes, pl = [], []
    n_term = 0
    for i in range(n):
        kind = draw(st.sampled_from(["cell", "macro", "terminal", "port"]))
        w = draw(st.integers(1, 20)) / 2
        h = {
            "cell": 4,
            "macro": draw(st.integers(9, 30)) / 2,
            "terminal": draw(st.integers(1, 10)),
            "port": 0,
        }[kind]
        if kind == "port":
            w = 0
        flag = " terminal" if kind in ("terminal", "port") else ""
        n_term += bool(flag)
        nodes.append(f"o{i} {w} {h}{flag}")
        orient = draw(st.sampled_from(ORIENTATIONS))
        fixed = " /FIXED" if flag or draw(st.booleans()) else ""
        pl.append(f"o{i} {draw(st.integers(-5, 60))} {draw(st.integers(-5, 60))} : {orient}{fixed}")
    nets, n_pins = [], 0
    n_nets = draw(st.integers(0, 6))
    for k in range(n_nets):
        degree = draw(st.integers(1, 5))
        nets.append(f"NetDegree : {degree} net_{k}")
        for _ in range(degree):
            node = draw(st.integers(0, n - 1))
            d = draw(st.sampled_from("IOB"))
            dx, dy = draw(st.integers(-8, 8)) / 4, draw(st.integers(-8, 8)) / 4
            nets.append(f"o{node} {d} : {dx} {dy}")
        n_pins += degree
    wts = [f"net_{k} {draw(st.integers(0, 5))}" for k in range(n_nets) if draw(st.booleans())]
    rows = "".join(ROW.format(y=3 + 4 * r) for r in range(15))
    return {
        "d.nodes": f"NumNodes : {n}\nNumTerminals : {n_term}\n" + "\n".join(nodes) + "\n",
        "d.nets": f"NumNets : {n_nets}\nNumPins : {n_pins}\n" + "\n".join(nets) + "\n",
        "d.pl": "\n".join(pl) + "\n",
        "d.wts": "\n".join(wts) + "\n",
        "d.scl": "NumRows : 15\n" + rows,
    }


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(design=designs())
@pytest.mark.filterwarnings("ignore:.*lie far outside their node")  # (drawn offsets: off by design)
def test_random_designs_round_trip(tmp_path: Path, design: dict[str, str]) -> None:
    first = read_bookshelf(write_design(tmp_path, **design))
    netlist, placement = first
    assert netlist.counts()["net_pins"] == sum(
        int(row.split()[2]) for row in design["d.nets"].splitlines() if row.startswith("NetDegree")
    )
    second = read_bookshelf(write_bookshelf(netlist, placement, tmp_path / "w", "d"))
    assert_same(first, second)


def test_proxy_cost_survives_the_round_trip(tmp_path: Path) -> None:
    proxy = pytest.importorskip("placer.cost.proxy")
    netlist, placement = generate(8, 40, 12, seed=3)
    back, back_placement = read_bookshelf(write_bookshelf(netlist, placement, tmp_path, "g"))
    before = proxy.evaluate(netlist, placement)
    after = proxy.evaluate(back, back_placement)
    assert after.wirelength == pytest.approx(before.wirelength, rel=1e-12)
    assert after.density == pytest.approx(before.density, rel=1e-12)
    assert after.congestion == pytest.approx(before.congestion, rel=1e-12)


def test_names_bookshelf_cannot_hold_are_refused_before_writing(tmp_path: Path) -> None:
    import dataclasses

    netlist, placement = generate(2, 2, 2, seed=0)
    macro = int(netlist.macros[0])
    names = list(netlist.names)
    names[macro] = "two words"
    spaced = dataclasses.replace(netlist, names=tuple(names))
    with pytest.raises(ValueError, match="'two words' cannot be written to Bookshelf"):
        write_bookshelf(spaced, placement, tmp_path / "out", "d")
    assert not (tmp_path / "out").exists()


def test_hard_macros_no_taller_than_a_row_stay_hard(tmp_path: Path) -> None:
    import dataclasses

    from placer.cost.proxy import evaluate

    netlist, placement = generate(4, 8, 4, seed=1)
    height = netlist.height.copy()
    tallest_hard = height[netlist.hard_macros].max()
    height[netlist.soft_macros[0]] = 2 * tallest_hard  # rows now taller than every hard macro
    tall_soft = dataclasses.replace(netlist, height=height)
    aux = write_bookshelf(tall_soft, placement, tmp_path, "d")
    assert "# placer-gym kind :" in (tmp_path / "d.nodes").read_text()
    back, back_placement = read_bookshelf(aux)
    assert (back.node_type == NodeType.HARD_MACRO).sum() == tall_soft.hard_macros.size
    assert evaluate(back, back_placement).proxy == pytest.approx(evaluate(tall_soft, placement).proxy, rel=1e-12)


def test_positions_read_back_bit_for_bit_after_a_write(tmp_path: Path) -> None:
    """Centres come back exactly: the plain corner ``x - w/2 + x0`` misses by an ulp for some
    positions (ibm01 has such soft macros), enough to move a macro centred on a grid line into
    the cell below. Where no float corner reads back exactly, the exact decimal is written."""
    netlist, placement = generate(6, 40, 8, seed=3)
    rng = np.random.default_rng(7)
    c = netlist.require_canvas()
    placeable = netlist.placeable
    long_corners = 0
    for trial in range(10):
        moved = placement.copy()
        moved.x[placeable] = rng.uniform(0, c.width, placeable.size)
        moved.y[placeable] = rng.integers(0, c.rows + 1, placeable.size) * (c.height / c.rows)  # grid lines
        aux = write_bookshelf(netlist, moved, tmp_path / f"t{trial}", "d")
        back_netlist, back = read_bookshelf(aux)
        order = [back_netlist.index(netlist.names[i]) for i in placeable]
        np.testing.assert_array_equal(back.x[order], moved.x[placeable])
        np.testing.assert_array_equal(back.y[order], moved.y[placeable])
        tokens = [t for line in aux.with_suffix(".pl").read_text().splitlines()[2:] for t in line.split()[1:3]]
        long_corners += sum(len(t) > 24 for t in tokens)
    assert long_corners > 0  # the case no float corner can carry did occur


def test_a_node_or_net_named_like_the_header_is_read(tmp_path: Path) -> None:
    renamed = {
        "d.nets": NETS.replace("n1", "UCLA_n1"),
        "d.wts": WTS.replace("n1", "UCLA_n1"),
    }
    netlist, _ = read_bookshelf(write_design(tmp_path, **renamed))
    assert 3.0 in netlist.net_weight  # the weight of UCLA_n1 was not dropped with the header


def test_numbers_whose_sums_or_areas_would_overflow_are_refused(tmp_path: Path) -> None:
    """Rows, sizes and positions near 1e308 used to overflow the extent, area and centre
    arithmetic (an OverflowError traceback, or infinities); any magnitude past 1e15 is refused
    on its line."""
    cases = {
        "spacing": {"d.scl": SCL.replace("Sitespacing : 2", "Sitespacing : 1e300")},
        "size": {"d.nodes": NODES.replace("m0 10 8", "m0 1e308 1e308")},
        "x": {"d.pl": PL.replace("m0 30 8", "m0 1.5e308 8")},
        "long": {"d.pl": PL.replace("m0 30 8", "m0 1" + "0" * 308 + " 8")},
    }
    for name, changes in cases.items():
        (tmp_path / name).mkdir()
        with pytest.raises(NetlistError, match="expected a magnitude of at most 1e\\+15") as info:
            read_bookshelf(write_design(tmp_path / name, **changes))
        assert info.value.line is not None


def test_rows_too_thin_for_a_default_grid_are_refused_on_the_scl(tmp_path: Path) -> None:
    """A row 1e-200 high used to divide by zero choosing the default grid, and 1e-307 to give
    an error without the file."""
    for height in ("1e-200", "1e-307"):
        thin = (
            "UCLA scl 1.0\nNumRows : 1\nCoreRow Horizontal\n  Coordinate : 0\n"
            f"  Height : {height}\n  Sitespacing : 1e-200\n  SubrowOrigin : 0  NumSites : 1\nEnd\n"
        )
        (tmp_path / height).mkdir()
        with pytest.raises(NetlistError, match="no default grid fits") as info:
            read_bookshelf(write_design(tmp_path / height, **{"d.scl": thin}))
        assert Path(info.value.path or "").name == "d.scl"


def test_digit_grouping_is_not_a_number(tmp_path: Path) -> None:
    with pytest.raises(NetlistError, match="expected a number for the x of 'c1', got '2_0'"):
        read_bookshelf(write_design(tmp_path, **{"d.pl": PL.replace("c1 20 4", "c1 2_0 4")}))


def test_lines_end_only_at_line_ends(tmp_path: Path) -> None:
    """A form feed or vertical tab (which str.splitlines breaks at) inside a comment stays in
    the comment, and errors after it keep their line numbers; lone CR line ends are lines."""
    plain = read_bookshelf(write_design(tmp_path))
    (tmp_path / "ff").mkdir()
    fed = NODES.replace("UCLA nodes 1.0\n", "UCLA nodes 1.0\n# see\x0cpage 2 \x0b x\n")
    assert_same(plain, read_bookshelf(write_design(tmp_path / "ff", **{"d.nodes": fed})))
    (tmp_path / "bad").mkdir()
    bad = fed.replace("c1 3 4", "c1 3 abc")
    with pytest.raises(NetlistError) as info:
        read_bookshelf(write_design(tmp_path / "bad", **{"d.nodes": bad}))
    assert info.value.line == 7
    (tmp_path / "cr").mkdir()
    cr = {name: text.replace("\n", "\r") for name, text in FILES.items()}
    assert_same(plain, read_bookshelf(write_design(tmp_path / "cr", **cr)))
    (tmp_path / "crbad").mkdir()
    with pytest.raises(NetlistError) as info:
        read_bookshelf(write_design(tmp_path / "crbad", **{"d.nodes": bad.replace("\n", "\r")}))
    assert info.value.line == 7


def test_folders_are_not_reported_as_missing_files(tmp_path: Path) -> None:
    (tmp_path / "x.aux").mkdir()
    with pytest.raises(NetlistError, match="is a folder"):
        read_bookshelf(tmp_path / "x.aux")
    (tmp_path / "d").mkdir()
    aux = write_design(tmp_path / "d")
    (tmp_path / "d" / "d.wts").unlink()
    (tmp_path / "d" / "d.wts").mkdir()
    with pytest.raises(NetlistError, match="'d.wts' listed here is a folder"):
        read_bookshelf(aux)


def test_exact_corners_far_from_the_origin_and_odd_tokens_read_right(tmp_path: Path) -> None:
    """Rows at x = 2**44: an exact corner can be a short token (24 characters), which the
    reader must still sum exactly; a long token with a huge exponent is an ordinary float (its
    exact value would have a million digits)."""
    far = SCL.replace("SubrowOrigin : 1", "SubrowOrigin : 17592186045128")
    netlist, placement = read_bookshelf(write_design(tmp_path, **{"d.scl": far}))
    rng = np.random.default_rng(3)
    placeable = netlist.placeable
    for trial in range(20):
        moved = placement.copy()
        moved.x[placeable] = rng.integers(0, 10**6, placeable.size) / 2.0 ** rng.integers(1, 12, placeable.size)
        back_netlist, back = read_bookshelf(write_bookshelf(netlist, moved, tmp_path / f"t{trial}", "d"))
        np.testing.assert_array_equal(back.x[placeable], moved.x[placeable])
    (tmp_path / "odd").mkdir()
    odd = PL.replace("p0 100 50 : N", "p0 100 0.0e-00000000000000999999999 : N")
    _, read = read_bookshelf(write_design(tmp_path / "odd", **{"d.pl": odd}))  # at once, not minutes
    assert np.isfinite(read.y).all()
    (tmp_path / "long").mkdir()
    long = PL.replace("p0 100 50 : N", "p0 100 0." + "0" * 5000 + "5 : N")  # past int parsing's limit
    _, read = read_bookshelf(write_design(tmp_path / "long", **{"d.pl": long}))
    assert np.isfinite(read.y).all()


def test_an_upper_case_aux_name_is_read_as_bookshelf(tmp_path: Path) -> None:
    from netlists.io import read_any_netlist

    aux = write_design(tmp_path)
    upper = aux.rename(tmp_path / "D.AUX")
    netlist, placement = read_any_netlist(upper)
    assert placement is not None
    assert_same(read_bookshelf(upper), (netlist, placement))


def test_a_wts_weight_names_one_net_or_is_refused(tmp_path: Path) -> None:
    """An unnamed net was named net<k> and took the weight of a net the file names so; a name
    given to two nets spread one weight over both."""
    unnamed = NETS.replace("NetDegree : 3 n0", "NetDegree : 3").replace("NetDegree : 3 n1", "NetDegree : 3 net0")
    (tmp_path / "a").mkdir()
    netlist, _ = read_bookshelf(write_design(tmp_path / "a", **{"d.nets": unnamed, "d.wts": "UCLA wts 1.0\nnet0 3\n"}))
    names = netlist.metadata["bookshelf_net_names"]
    assert len(set(names)) == len(names) and names[1] == "net0"
    assert sorted(netlist.net_weight.tolist()) == [1.0, 1.0, 3.0]
    twice = NETS.replace("NetDegree : 3 n1", "NetDegree : 3 n0")
    (tmp_path / "b").mkdir()
    with pytest.raises(NetlistError, match=r"net name 'n0' is given to 2 nets .*lines 4, 8") as info:
        read_bookshelf(write_design(tmp_path / "b", **{"d.nets": twice, "d.wts": "UCLA wts 1.0\nn0 3\n"}))
    assert Path(info.value.path or "").name == "d.wts"


def test_a_node_named_like_a_pin_of_another_is_read(tmp_path: Path) -> None:
    """Nodes 'm0' and 'm0/P0' were refused as a duplicate 'm0/P0' (the reader's pin name)."""
    nodes = NODES.replace("NumNodes : 5", "NumNodes : 6").replace("  c1 3 4\n", "  c1 3 4\n  m0/P0 3 4\n")
    pl = PL.replace("c1 20 4 : FS\n", "c1 20 4 : FS\nm0/P0 40 4 : N\n")
    netlist, placement = read_bookshelf(write_design(tmp_path, **{"d.nodes": nodes, "d.pl": pl}))
    assert len(set(netlist.names)) == len(netlist.names) and "m0/P0" in netlist.names
    (tmp_path / "back").mkdir()
    back, _ = read_bookshelf(write_bookshelf(netlist, placement, tmp_path / "back", "d"))
    assert back.n_nets == netlist.n_nets


def test_a_design_folder_and_gzipped_files_are_read(tmp_path: Path) -> None:
    """A folder holding one .aux read "holds no netlist.pb.txt"; d.aux.gz went to the Circuit
    Training reader and d.nodes.gz listed in an .aux was "expected a .nodes file"."""
    import gzip

    from netlists.io import load_design

    (tmp_path / "plain").mkdir()
    aux = write_design(tmp_path / "plain")
    expected = read_bookshelf(aux)
    assert_same(load_design(tmp_path / "plain"), expected)
    zipped = tmp_path / "zipped"
    zipped.mkdir()
    for name, text in FILES.items():
        (zipped / f"{name}.gz").write_bytes(gzip.compress(text.encode()))
    listed = " ".join(f"{n}.gz" for n in FILES)
    (zipped / "d.aux.gz").write_bytes(gzip.compress(f"RowBasedPlacement : {listed}\n".encode()))
    assert_same(load_design(zipped / "d.aux.gz"), expected)
    assert load_design(zipped / "d.aux.gz")[0].name == "d"
    assert_same(load_design(zipped), expected)
    (zipped / "e.aux").write_text(AUX)
    with pytest.raises(NetlistError, match="but 2 .aux files: name one"):
        load_design(zipped)


def test_a_row_split_into_sub_rows_is_read_and_spans_them_all(tmp_path: Path) -> None:
    """Several SubrowOrigin / NumSites pairs in one CoreRow (legal Bookshelf) were refused."""
    split = ROW.replace("  SubrowOrigin : 1  NumSites : 50\n",
                        "  SubrowOrigin : 1  NumSites : 20\n  SubrowOrigin : 61  NumSites : 25\n")
    scl = "UCLA scl 1.0\nNumRows : 12\n" + "".join(
        (split if r == 5 else ROW).format(y=2 + 4 * r) for r in range(12))  # fmt: skip
    netlist, placement = read_bookshelf(write_design(tmp_path, **{"d.scl": scl}))
    assert netlist.require_canvas().width == 110  # x from 1 to 61 + 25 x 2
    back = read_bookshelf(write_bookshelf(netlist, placement, tmp_path / "out", "d"))
    assert_same((netlist, placement), back)
    with pytest.raises(NetlistError, match="'Height' given twice in one row"):
        read_bookshelf(write_design(tmp_path, **{"d.scl": scl.replace("Height : 4\n", "Height : 4\n  Height : 4\n", 1)}))


def test_pads_outside_the_rows_and_ni_terminals_are_ports_that_stay_ports(tmp_path: Path) -> None:
    """A pad outside the core rows, or a terminal_NI overlapping a fixed macro, was a fixed
    hard macro no legal placement could keep: placer place refused the whole design."""
    from placer.algorithms.base import get_placer
    from placer.algorithms.legality import check_legality

    nodes = NODES.replace("NumTerminals : 2", "NumTerminals : 4") + "  pad 4 4 terminal\n  ni 6 6 terminal_NI\n"
    nodes = nodes.replace("NumNodes : 5", "NumNodes : 7")
    # rows span x 1..101, y 2..50 (t0 moved wholly inside them: partly out, it blocks no legal
    # placement could keep)
    pl = PL.replace("t0 0 30", "t0 2 30") + "pad 101 60 : N /FIXED\nni 28 6 : N /FIXED_NI\n"
    nets = NETS.replace("NumNets : 3", "NumNets : 4").replace("NumPins : 8", "NumPins : 10")
    nets += "NetDegree : 2 n3\n  pad O : 1 1\n  ni I : 0 0\n"
    netlist, placement = read_bookshelf(write_design(tmp_path, **{"d.nodes": nodes, "d.pl": pl, "d.nets": nets}))
    pad, ni, t0 = (netlist.names.index(n) for n in ("pad", "ni", "t0"))
    assert netlist.node_type[[pad, ni]].tolist() == [NodeType.PORT, NodeType.PORT]
    assert netlist.node_type[t0] == NodeType.HARD_MACRO  # a terminal inside the rows blocks
    assert (placement.x[pad], placement.y[pad]) == (102, 60)  # centre (101 + 2, 60 + 2) - origin
    placed = get_placer("sa").place(netlist, placement, budget_s=0.3, seed=0)
    assert check_legality(netlist, placed).legal
    moved = placement.copy()
    moved.x[pad], moved.y[pad] = 50.0, 20.0  # into the rows: still a pad when read back
    out = write_bookshelf(netlist, moved, tmp_path / "out", "d")
    assert "  pad 4 4 terminal\n" in (tmp_path / "out" / "d.nodes").read_text()
    back, back_placement = read_bookshelf(out)
    assert back.node_type[back.names.index("pad")] == NodeType.PORT
    assert (back_placement.x[back.names.index("pad")], back_placement.y[back.names.index("pad")]) == (50, 20)


def test_a_file_cut_inside_its_last_number_is_named_in_a_warning(tmp_path: Path) -> None:
    """Cut inside its last line, a .pl or .nodes still read (the orientation is optional, the
    node count matched) and the design was scored with the shortened number, without a word."""
    from netlists.errors import NetlistWarning

    netlist, placement = generate(3, 6, 2, seed=0)
    aux = write_bookshelf(netlist, placement, tmp_path, "d")
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", NetlistWarning)  # the writer ends every file with a line end
        read_bookshelf(aux)
    for ext in (".pl", ".nodes"):
        path = tmp_path / f"d{ext}"
        whole = path.read_text()
        path.write_text(whole.rstrip("\n")[:-2])  # cut inside the last line's last number
        with pytest.warns(NetlistWarning, match=rf"d\{ext}:\d+: the file does not end with a line end"):
            read_bookshelf(aux)
        path.write_text(whole)
    # gzipped too (its suffix is .gz: it was not looked at)
    import gzip

    cut = (tmp_path / "d.pl").read_text().rstrip("\n")[:-2]
    (tmp_path / "d.pl").unlink()
    with gzip.open(tmp_path / "d.pl.gz", "wt") as fh:
        fh.write(cut)
    (tmp_path / "d.aux").write_text((tmp_path / "d.aux").read_text().replace("d.pl", "d.pl.gz"))
    with pytest.warns(NetlistWarning, match=r"d\.pl\.gz:\d+: the file does not end with a line end"):
        read_bookshelf(aux)


def test_a_placement_that_would_not_read_back_is_refused_and_an_old_design_survives(tmp_path: Path) -> None:
    """A nan position was written as 'NaN', which the reader refuses; a failed write (here a
    name the locale cannot encode was the case) left empty or half-new files in place of the
    folder's design: every file is now UTF-8 and renamed into place once all are written."""
    netlist, placement = generate(3, 6, 2, seed=0)
    aux = write_bookshelf(netlist, placement, tmp_path, "d")
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    broken = placement.copy()
    broken.x[netlist.hard_macros[0]] = np.nan
    with pytest.raises(ValueError, match="non-finite position"):
        write_bookshelf(netlist, broken, tmp_path, "d")
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before

    import netlists.formats.textio as textio  # (the files are written through its open_text)

    calls = []

    def failing_open(path, mode="w"):  # type: ignore[no-untyped-def]
        calls.append(path)
        if len(calls) == 4:  # the fourth file fails (a full disk)
            raise OSError(28, "No space left on device")
        return open(path, mode, encoding="utf-8")

    moved = placement.copy()
    moved.x[netlist.hard_macros[0]] += 1.0
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(textio, "open_text", failing_open)
        with pytest.raises(OSError, match="No space"):
            write_bookshelf(netlist, moved, tmp_path, "d")
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before  # no temporary left
    names = list(netlist.names)
    names[netlist.hard_macros[0]] = "mém_0"  # written as UTF-8 whatever the locale
    import dataclasses

    renamed = dataclasses.replace(netlist, names=type(netlist.names)(names))
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("locale.getpreferredencoding", lambda *a: "ascii")
        aux = write_bookshelf(renamed, placement, tmp_path, "d")
    assert "mém_0" in read_bookshelf(aux)[0].names


def test_two_files_of_a_kind_a_pin_far_off_its_node_and_an_empty_movable_node_are_named(tmp_path: Path) -> None:
    """All three read silently: the .aux's last .nodes won; an offset of 11697 for 11.697
    doubled the proxy; a movable node of zero size became a soft macro of no area."""
    import warnings

    from netlists.errors import NetlistWarning

    aux = write_bookshelf(*generate(4, 8, 4, seed=1), tmp_path, "d")
    text = aux.read_text()
    (tmp_path / "e.nodes").write_text((tmp_path / "d.nodes").read_text())
    aux.write_text(text.rstrip("\n") + " e.nodes\n")
    with pytest.raises(NetlistError, match=r"d.aux:\d+: lists two .nodes files \(d.nodes, e.nodes\)"):
        read_bookshelf(aux)
    aux.write_text(text)
    nets = (tmp_path / "d.nets").read_text().splitlines()
    at = next(i for i, line in enumerate(nets) if line.strip().startswith("a0 ") and ":" in line)
    name, direction, _, dx, dy = nets[at].split()
    nets[at] = f"  {name} {direction} : {float(dx) * 1000 + 5000:g} {dy}"
    (tmp_path / "d.nets").write_text("\n".join(nets) + "\n")
    nodes = (tmp_path / "d.nodes").read_text().splitlines()
    soft = next(i for i, line in enumerate(nodes) if line.split()[:1] == ["Grp_0"])
    nodes[soft] = "  Grp_0 0 0"
    (tmp_path / "d.nodes").write_text("\n".join(nodes) + "\n")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", NetlistWarning)
        read_bookshelf(aux)
    said = " ".join(str(w.message) for w in caught)
    assert f"d.nets: 1 pin(s) lie far outside their node, e.g. line {at + 1}: 'a0'" in said
    assert f"d.nodes: 1 movable node(s) of zero size, e.g. 'Grp_0' (line {soft + 1})" in said


def test_files_of_kinds_not_read_may_be_listed_twice(tmp_path: Path) -> None:
    """A README and a LICENSE (kinds not read) were refused as 'two  files'."""
    aux = write_bookshelf(*generate(4, 8, 4, seed=1), tmp_path, "d")
    for name in ("README", "LICENSE", "x.shapes", "y.shapes"):
        (tmp_path / name).write_text("not read\n")
    aux.write_text(aux.read_text().rstrip("\n") + " README LICENSE x.shapes y.shapes d.nodes\n")
    read_bookshelf(aux)  # (d.nodes named twice is one file: 'two .nodes files (d.nodes, d.nodes)')


def test_nodes_a_plc_leaves_out_keep_their_pl_position_and_fixed_flag(tmp_path: Path) -> None:
    """A .plc given for a Bookshelf design that leaves out a fixed terminal and a /FIXED macro:
    they kept their positions but lost their fixed flags, and a placer moved them."""
    from netlists.formats.plc import write_plc
    from netlists.io import load_design

    aux = write_design(tmp_path)
    netlist, pl = load_design(aux)
    moved = pl.copy()
    moved.x[0] += 1.0
    plc = write_plc(tmp_path / "all.plc", netlist, moved)
    kept = [line for line in plc.read_text().splitlines() if line.split()[0] not in ("5", "8")]
    partial = tmp_path / "partial.plc"
    partial.write_text("\n".join(kept) + "\n")
    with pytest.warns(UserWarning, match="keep the design's positions, orientations and fixed flags"):
        _, placement = load_design(aux, partial)
    assert placement.x[0] == pl.x[0] + 1.0  # listed: read from the .plc
    for node in (5, 8):  # left out: as the .pl has them, fixed included
        assert (placement.x[node], placement.y[node], placement.orientation[node]) == (
            pl.x[node], pl.y[node], pl.orientation[node])
        assert placement.fixed[node]


def test_another_pl_of_the_design_is_read_in_place_of_its_own(tmp_path: Path) -> None:
    """`placer eval d.aux out.pl` (a placer's output) failed with a .plc header error: a
    Bookshelf design could only be scored at its own .pl."""
    from netlists.io import load_design

    nl, pl = generate(4, 8, 4, seed=2, name="d")
    aux = write_bookshelf(nl, pl, tmp_path / "d", "d")
    own_nl, own = read_bookshelf(aux)
    moved = own.copy()
    m = own_nl.macros[~own.fixed[own_nl.macros]][0]
    moved.x[m] += 1.0
    other = write_bookshelf(own_nl, moved, tmp_path / "other", "d").with_suffix(".pl")
    for design in (aux, aux.parent):
        got_nl, got = load_design(design, other)
        macros = own_nl.macros
        assert np.array_equal(got.x[macros], moved.x[macros]) and got.x[m] != own.x[m]
        assert got_nl.names == own_nl.names
    with pytest.raises(NetlistError, match="no such file"):
        load_design(aux, tmp_path / "missing.pl")
    (tmp_path / "ct").mkdir()
    from netlists.formats.circuit_training import write_netlist

    write_netlist(nl, tmp_path / "ct" / "netlist.pb.txt")
    with pytest.raises(NetlistError, match="places a Bookshelf design"):
        load_design(tmp_path / "ct" / "netlist.pb.txt", other)
    with pytest.raises(NetlistError, match="places a Bookshelf design"):
        load_design("default", other)


def test_another_pl_moving_what_the_design_fixes_is_warned_of(tmp_path: Path) -> None:
    """Another tool's .pl could move pads or /FIXED blockages and read as a legal, cheaper
    placement of the design without a word."""
    import warnings

    from netlists.errors import NetlistWarning
    from netlists.io import load_design

    nl, pl = generate(4, 8, 4, seed=2, name="d")
    pl.fixed[nl.hard_macros[0]] = True
    aux = write_bookshelf(nl, pl, tmp_path / "d", "d")
    own_nl, own = read_bookshelf(aux)
    same = write_bookshelf(own_nl, own, tmp_path / "same", "d").with_suffix(".pl")
    with warnings.catch_warnings():
        warnings.simplefilter("error", NetlistWarning)
        load_design(aux, same)  # the design's fixed nodes where it fixes them: no warning
    for change in ("move port", "unfix macro", "turn fixed macro"):
        other = own.copy()
        if change == "move port":
            other.x[own_nl.ports[0]] += 3.0
        elif change == "unfix macro":
            other.fixed[own_nl.hard_macros[0]] = False
        else:
            other.orientation[own_nl.hard_macros[0]] = ORIENTATIONS.index("FN")
        path = write_bookshelf(own_nl, other, tmp_path / change.replace(" ", "_"), "d").with_suffix(".pl")
        with pytest.warns(NetlistWarning, match=r"moves, turns or unfixes 1 node\(s\) that d.pl fixes"):
            load_design(aux, path)


def test_a_pl_is_not_written_for_a_macro_turned_against_the_designs_pl(tmp_path: Path) -> None:
    """The .nodes keeps its sizes: a macro turned from E to N in a .plc came back from the
    written .pl with another footprint and centre than the cost used."""
    from netlists.formats.bookshelf import pl_text

    nl, pl = generate(4, 8, 4, seed=2, name="d")
    m = next(int(i) for i in nl.hard_macros if nl.width[i] != nl.height[i])
    pl.orientation[m] = ORIENTATIONS.index("E")
    own_nl, own = read_bookshelf(write_bookshelf(nl, pl, tmp_path / "d", "d"))
    assert pl_text(own_nl, own)  # turned as read: fine, and so is a mirror of it
    own.orientation[m] = ORIENTATIONS.index("FW")
    assert pl_text(own_nl, own)
    own.orientation[m] = ORIENTATIONS.index("N")
    with pytest.raises(ValueError, match=f"macro {own_nl.names[m]} is turned by 90 degrees"):
        pl_text(own_nl, own)
    with pytest.raises(ValueError, match="was not read from Bookshelf"):
        pl_text(nl, pl)


def test_a_tiny_soft_macro_does_not_make_millions_of_rows(tmp_path: Path) -> None:
    """Rows were as high as the tallest soft macro: one 1e-6 high on a canvas 100 high made 1e8
    rows (out of memory). The rows are at least 1/10,000 of the canvas's height, and the design
    reads back the same (kinds, sizes, positions)."""
    import dataclasses

    netlist, placement = generate(3, 2, 4, seed=2)
    soft = netlist.soft_macros
    width, height = netlist.width.copy(), netlist.height.copy()
    width[soft], height[soft] = 1e-6, 1e-6
    tiny = dataclasses.replace(netlist, width=width, height=height)
    aux = write_bookshelf(tiny, placement, tmp_path, "d")
    scl = (tmp_path / "d.scl").read_text()
    assert scl.count("CoreRow") <= 10_001
    back, back_placement = read_bookshelf(aux)
    assert (back.node_type == NodeType.HARD_MACRO).sum() == tiny.hard_macros.size
    assert (back.node_type == NodeType.SOFT_MACRO).sum() == soft.size
    by_name = {name: i for i, name in enumerate(back.names)}
    for i in np.concatenate([tiny.hard_macros, soft]):
        j = by_name[tiny.names[i]]
        assert (back.width[j], back.height[j]) == (tiny.width[i], tiny.height[i])
        assert (back_placement.x[j], back_placement.y[j]) == (placement.x[i], placement.y[i])
