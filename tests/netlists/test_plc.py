"""`.plc` reader/writer: header fields, exact round trip, bad input."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from netlists.designs import builtin_path, load_builtin
from netlists.errors import NetlistError, NetlistWarning
from netlists.formats.plc import read_plc, write_plc
from netlists.io import load_design
from placer.cost.proxy import evaluate

HEADER = (
    "# Columns : 5  Rows : 4\n# Width : 10.5  Height : 8\n# Routes per micron, hor : 1.5  ver : 2\n"
    "# Routes used by macros, hor : 0.5  ver : 0.25\n# Smoothing factor : 1\n# Overlap threshold : 0.01\n"
)


def test_reads_every_header_field_of_builtin() -> None:
    nl, pl = load_builtin()
    c = nl.canvas
    assert c is not None
    assert (c.cols, c.rows, c.width, c.height) == (24, 21, 1433.406, 1433.406)
    assert (c.hroutes_per_micron, c.vroutes_per_micron) == (57.031, 56.818)
    assert (c.hrouting_alloc, c.vrouting_alloc, c.smooth_range) == (39.583, 30.303, 0)
    assert pl.fixed.sum() == 495  # the ports


def test_round_trip_is_exact(tmp_path: Path) -> None:
    nl, pl = load_builtin()
    rng = np.random.default_rng(0)
    m = nl.macros
    pl.x[m] += rng.normal(0, 1e-3, m.size) / 3  # awkward floats
    pl.orientation[nl.hard_macros] = rng.integers(0, 8, nl.hard_macros.size)
    cost = evaluate(nl, pl)
    costs = cost.plc_header()
    out = write_plc(tmp_path / "out.plc", nl, pl, costs=costs)
    canvas, back, header = read_plc(out, nl)
    assert canvas == nl.canvas
    p = nl.placeable
    assert np.array_equal(back.x[p], pl.x[p]) and np.array_equal(back.y[p], pl.y[p])
    assert np.array_equal(back.orientation[nl.hard_macros], pl.orientation[nl.hard_macros])
    assert np.array_equal(back.fixed[p], pl.fixed[p])
    assert set(header.costs) == {"wirelength", "wirelength_cost", "congestion_cost", "density_cost"}
    text = out.read_text()
    for field in ("Columns", "Width", "Area", "Routes per micron", "Routes used by macros",
                  "Smoothing factor", "Overlap threshold", "Wirelength cost", "Density cost"):
        assert f"# {field}" in text
    assert not list(tmp_path.glob("*.tmp*"))


def test_reference_plc_round_trip_keeps_cost(tmp_path: Path) -> None:
    nl, pl = load_design(builtin_path() / "netlist.pb.txt.gz")
    out = write_plc(tmp_path / "a.plc", nl, pl)
    nl2, pl2 = load_design(builtin_path() / "netlist.pb.txt.gz", out)
    assert evaluate(nl2, pl2).proxy == evaluate(nl, pl).proxy


def _tiny_plc(tmp_path: Path, body: str, header: str = HEADER) -> Path:
    p = tmp_path / "t.plc"
    p.write_text(header + body)
    return p


@pytest.mark.parametrize(
    ("body", "header", "expect"),
    [
        ("99999 1 1 N 0\n", HEADER, "out of range"),
        ("1 1 1 N 0\n", HEADER, "not a port or macro"),
        ("0 1 1 N\n", HEADER, "5 fields"),
        ("0 one 1 N 0\n", HEADER, "must be a number"),
        ("2 1 1 NE 0\n", HEADER, "orientation must be one of"),
        ("0 1 1 - 2\n", HEADER, "fixed flag"),
        ("", HEADER.replace("# Smoothing factor : 1\n", ""), "Smoothing factor"),
        ("", HEADER.replace("# Columns : 5  Rows : 4\n", ""), "Columns"),
        ("", HEADER.replace("Width : 10.5", "Width : -3"), "positive size"),
        ("", HEADER + "# HARD_MACROs     :       3\n", "counts 3 HARD_MACROs but netlist"),
        ("", HEADER + "# PORTs :  7\n", "counts 7 PORTs but netlist 'ariane133' has 495"),
        # a count in another case or written as a float was skipped without a word
        ("", HEADER + "# Hard_Macros : 7\n", "counts 7 HARD_MACROs but netlist"),
        ("", HEADER + "# HARD_MACROs : 133.0\n", "the count of HARD_MACROs must be an integer, got '133.0'"),
        ("0 1 1 - 1\n0 2 2 - 1\n", HEADER, r"node 0 \('.*'\) is listed twice \(first at line 7\)"),
        ("", HEADER.replace("hor : 0.5", "hor : -0.5"), "routes used by macros must be from 0 to 1e\\+15"),
        ("", HEADER.replace("5  Rows : 4", "100000000  Rows : 100000000"), "larger than the"),
        ("", HEADER.replace("10.5  Height : 8", "1e-300  Height : 1e-300"), "have no area"),
        ("", HEADER + "# Columns : 2  Rows : 2\n", r"'Columns / Rows' given twice \(first at line 1\)"),
        ("2_0 1 1 - 1\n", HEADER, "node index must be an integer, got '2_0'"),
        ("0 1e308 1 - 1\n", HEADER, "x must be at most 1e\\+15 in size"),
        ("", HEADER.replace("hor : 0.5  ver : 0.25", "hor : 1e308  ver : 1e308"), r"must be at most 1e\+15"),
        # a word too many or a value missing is refused, never read in part
        ("", HEADER.replace("Smoothing factor : 1", "Smoothing factor : 1 5"), r"must read '# Smoothing factor : s'"),
        ("", HEADER.replace("Rows : 4", "Rows : 4 x"), r"'Columns / Rows' must read"),
        ("", HEADER.replace("Height : 8", "Height :"), r"'Width / Height' must read"),
        ("", HEADER.replace("Overlap threshold : 0.01", "Overlap threshold : 0.01 0.02"), r"Overlap threshold : t"),
        ("", HEADER.replace("ver : 0.25", "ver : 0.25 0.3"), r"'Routes used by macros' must read"),
        # named as the header names them (it said "hor routes", "ver macro routes")
        ("", HEADER.replace("hor : 1.5", "hor : x"), r"Routes per micron \(hor\) must be a number"),
        ("", HEADER.replace("ver : 0.25", "ver : y"), r"Routes used by macros \(ver\) must be a number"),
    ],
)
def test_bad_plc_is_a_clear_error(tmp_path: Path, body: str, header: str, expect: str) -> None:
    nl, _ = load_builtin()
    # node 0 is a port, node 1 is a port too in ariane133: find a pin for the pin case
    pin = int(np.flatnonzero(nl.node_type >= 3)[0])
    body = body.replace("1 1 1 N 0", f"{pin} 1 1 N 0")
    path = _tiny_plc(tmp_path, body, header)
    with pytest.raises(NetlistError, match=expect) as info:
        read_plc(path, nl)
    assert str(info.value).startswith(str(path))


def test_a_header_without_an_overlap_threshold_takes_the_formats_default(tmp_path: Path) -> None:
    """Circuit Training's default, 0.004 (kept with the canvas and written back out)."""
    nl, _ = load_builtin()
    header = HEADER.replace("# Overlap threshold : 0.01\n", "")
    canvas, _, _ = read_plc(_tiny_plc(tmp_path, "0 1 1 - 1\n", header), nl)
    assert canvas.overlap_threshold == 0.004
    canvas, _, _ = read_plc(_tiny_plc(tmp_path, "0 1 1 - 1\n"), nl)
    assert canvas.overlap_threshold == 0.01

def test_a_node_index_equal_to_the_node_count_is_out_of_range(tmp_path: Path) -> None:
    """The first index past the last node (an off-by-one would index past the arrays)."""
    nl, _ = load_builtin()
    for index in (nl.n_nodes, nl.n_nodes - 1):
        path = _tiny_plc(tmp_path, f"{index} 1 1 N 0\n")
        if index == nl.n_nodes:
            with pytest.raises(NetlistError, match=rf"node index {index} is out of range: .* has {index} nodes"):
                read_plc(path, nl)
        else:  # the last node, a pin: refused for being a pin, not for its index
            with pytest.raises(NetlistError) as info:
                read_plc(path, nl)
            assert "out of range" not in str(info.value)

def test_indented_header_byte_order_mark_and_any_line_end_read_the_same(tmp_path: Path) -> None:
    nl, _ = load_builtin()
    plain = read_plc(_tiny_plc(tmp_path, "0 1 1 - 1\n"), nl)
    body = "0 1 1 - 1\n"
    crlf, cr = ((HEADER + body).replace("\n", end) for end in ("\r\n", "\r"))  # old Mac: CR only
    for text in ("  " + HEADER.replace("\n#", "\n  #") + body, "\ufeff" + HEADER + body, crlf, cr):
        path = tmp_path / "variant.plc"
        path.write_bytes(text.encode("utf-8"))
        canvas, placement, _ = read_plc(path, nl)
        assert canvas == plain[0]
        assert placement.x[0] == plain[1].x[0] == 1.0


def test_header_counts_that_match_are_accepted(tmp_path: Path) -> None:
    nl, _ = load_builtin()
    counts = "# HARD_MACROs : 133\n# SOFT_MACROs : 782\n# PORTs : 495\n# STDCELLs : 0\n"
    with pytest.warns(NetlistWarning, match="lists 1 of the 1410 ports and macros"):  # below
        canvas, _, _ = read_plc(_tiny_plc(tmp_path, "0 1 1 - 1\n", HEADER + counts), nl)
    assert (canvas.cols, canvas.rows) == (5, 4)


def test_a_body_shorter_than_its_header_counts_is_read_with_a_warning(tmp_path: Path) -> None:
    """A .plc cut off at a line end scored a mix of its positions and the netlist's with no
    word; a body that omits nodes stays valid (the spec: they keep the netlist's positions)."""
    import warnings

    nl, placement = load_builtin()
    full = write_plc(tmp_path / "full.plc", nl, placement).read_text().splitlines()
    cut = tmp_path / "cut.plc"
    cut.write_text("\n".join(full[:-100]) + "\n")
    with pytest.warns(NetlistWarning, match=r"cut.plc: lists 1310 of the 1410 .* the other 100 keep"):
        read_plc(cut, nl)
    one_short = tmp_path / "one_short.plc"  # the smallest shortfall is worth the warning too
    one_short.write_text("\n".join(full[:-1]) + "\n")
    with pytest.warns(NetlistWarning, match=r"one_short.plc: lists 1409 of the 1410 .* the other 1 keep"):
        read_plc(one_short, nl)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        read_plc(tmp_path / "full.plc", nl)  # complete: no warning
        partial = tmp_path / "partial.plc"  # no counts in its header: nothing to fall short of
        partial.write_text("\n".join(line for line in full[:-100] if "MACROs" not in line) + "\n")
        read_plc(partial, nl)


def test_a_plc_of_another_design_is_refused(tmp_path: Path) -> None:
    from netlists.generate import generate

    other, other_placement = generate(3, 2, 2, seed=0)
    path = write_plc(tmp_path / "other.plc", other, other_placement)
    nl, _ = load_builtin()
    with pytest.raises(NetlistError, match=r"another netlist") as info:
        read_plc(path, nl)
    assert str(info.value).startswith(f"{path}:")  # names the header line


def test_a_failed_write_leaves_no_temporary_file(tmp_path: Path) -> None:
    nl, pl = load_builtin()
    target = tmp_path / "taken.plc"
    target.mkdir()  # the final rename cannot replace a folder
    with pytest.raises(OSError):
        write_plc(target, nl, pl)
    assert not (tmp_path / "taken.plc.tmp").exists()


def test_costs_not_given_get_no_header_line(tmp_path: Path) -> None:
    nl, pl = load_builtin()
    text = write_plc(tmp_path / "bare.plc", nl, pl).read_text()
    assert "Wirelength" not in text and "cost :" not in text  # no made-up zeros
    assert read_plc(tmp_path / "bare.plc", nl)[2].costs == {}


def test_a_gz_name_writes_a_compressed_file_that_reads_back(tmp_path: Path) -> None:
    nl, pl = load_builtin()
    out = write_plc(tmp_path / "out.plc.gz", nl, pl)
    assert out.read_bytes()[:2] == b"\x1f\x8b"  # gzip magic: the temporary file was compressed too
    _, back, _ = read_plc(out, nl)
    assert np.array_equal(back.x[nl.placeable], pl.x[nl.placeable])
    assert not list(tmp_path.glob("*.tmp*"))


def test_costs_under_other_names_are_refused_not_dropped(tmp_path: Path) -> None:
    """ProxyCost.as_dict() names its terms wirelength (the normalised cost), density and
    congestion: passed as costs, the header read "Wirelength : 0.275" for an HPWL of 6633 and
    had no density or congestion line, silently."""
    nl, pl = load_builtin()
    cost = evaluate(nl, pl)
    with pytest.raises(ValueError, match="unknown 'congestion', 'density', 'hpwl', 'net_cnt', 'proxy'"):
        write_plc(tmp_path / "x.plc", nl, pl, costs=cost.as_dict())
    assert not (tmp_path / "x.plc").exists()
    header = read_plc(write_plc(tmp_path / "y.plc", nl, pl, costs=cost.plc_header()), nl)[2]
    assert header.costs["wirelength"] == pytest.approx(cost.hpwl, abs=1e-3)


def test_write_plc_refuses_what_would_not_read_back(tmp_path) -> None:
    """A soft macro's orientation -1 was written as FW (the names indexed from the end) and a
    NaN position as nan, which load_design then refused."""
    import numpy as np

    from netlists.designs import load_builtin
    from netlists.formats.plc import write_plc

    nl, pl = load_builtin("ariane133")
    soft = int(nl.soft_macros[0])
    odd = pl.standardised()
    odd.orientation[soft] = -1
    with pytest.raises(ValueError, match="orientation code -1; codes are whole numbers 0-7"):
        write_plc(tmp_path / "a.plc", nl, odd)
    odd = pl.standardised()
    odd.x[soft] = np.nan
    with pytest.raises(ValueError, match="non-finite position"):
        write_plc(tmp_path / "a.plc", nl, odd)
    assert not (tmp_path / "a.plc").exists()


def test_a_byte_order_mark_inside_a_plc_is_no_text(tmp_path) -> None:
    """A header line starting with U+FEFF (files pasted together) was read as a body line and
    the header said to lack a field that was there."""
    import numpy as np

    from netlists.designs import load_builtin

    netlist, _ = load_builtin("ariane133")
    original = builtin_path("ariane133") / "initial.plc"
    lines = original.read_text().split("\n")
    at = next(i for i, line in enumerate(lines) if line.startswith("# Routes used by macros"))
    lines[at] = "\ufeff" + lines[at]
    (tmp_path / "bom.plc").write_text("\n".join(lines))
    canvas, placement, _ = read_plc(tmp_path / "bom.plc", netlist)
    expected_canvas, expected, _ = read_plc(original, netlist)
    assert canvas == expected_canvas and np.array_equal(placement.x, expected.x)


def test_a_count_line_after_the_body_is_checked_like_the_other_header_lines(tmp_path) -> None:
    """Header fields after the body were read (a canvas field there took effect) while count
    lines there were ignored: a wrong port count slipped through."""
    from netlists.designs import load_builtin

    netlist, _ = load_builtin("ariane133")
    text = (builtin_path("ariane133") / "initial.plc").read_text()
    (tmp_path / "late.plc").write_text(text.rstrip("\n") + f"\n# PORTs : {netlist.ports.size + 7}\n")
    with pytest.raises(NetlistError, match="the header counts"):
        read_plc(tmp_path / "late.plc", netlist)


def test_a_name_with_a_line_break_is_refused_before_writing(tmp_path: Path) -> None:
    """The header's next line was read back as a body line: a .plc that did not read back."""
    import dataclasses

    nl, pl = load_builtin()
    with pytest.raises(ValueError, match=re.escape(f"the file name {'a' + chr(10) + 'b.plc'!r} holds a line break")):
        write_plc(tmp_path / "a\nb.plc", nl, pl)
    with pytest.raises(ValueError, match=re.escape(f"the design name {'x' + chr(10) + 'y'!r} holds a line break")):
        write_plc(tmp_path / "ok.plc", dataclasses.replace(nl, name="x\ny"), pl)
    assert not any(tmp_path.iterdir())
    # a comment is free text (a plugin's path in 'Method code: ...'): its line breaks become spaces
    written = write_plc(tmp_path / "ok.plc", nl, pl, comments=["Method code: /tmp/a\nb.py\r"])
    assert "# Method code: /tmp/a b.py" in written.read_text().splitlines()
    assert read_plc(written, nl)[1] == read_plc(builtin_path() / "initial.plc", nl)[1]


def test_a_netlist_without_initial_plc_says_where_a_placement_comes_from(tmp_path: Path) -> None:
    """'pass a .plc file' fit no command alone: place takes it as --plc, train not at all (it
    needs the design's initial.plc beside the netlist)."""
    from netlists.formats.circuit_training import write_netlist

    netlist, _ = load_builtin("ariane133")
    path = tmp_path / "netlist.pb.txt"
    write_netlist(netlist, path)
    with pytest.raises(NetlistError, match=r"put the design's initial\.plc there or pass a \.plc \(eval's and plot's "
                       r"second argument, place's --plc\)"):
        load_design(path)


def test_write_plc_takes_list_fields_and_names_a_wrong_length(tmp_path: Path) -> None:
    """A placement holding lists failed in Placement.__len__ ('list' object has no attribute
    'shape'); everything after the length check reads lists as arrays."""
    import dataclasses

    netlist, placement = load_builtin("ariane133")
    listed = dataclasses.replace(placement, x=placement.x.tolist(), orientation=placement.orientation.tolist())
    _, back, _ = read_plc(write_plc(tmp_path / "l.plc", netlist, listed), netlist)
    nodes = netlist.placeable
    assert np.array_equal(back.x[nodes], placement.x[nodes])
    assert np.array_equal(back.orientation[netlist.macros], placement.orientation[netlist.macros])
    with pytest.raises(ValueError, match=r"placement.y has shape \(3,\), but the .* nodes of 'ariane133'"):
        write_plc(tmp_path / "s.plc", netlist, dataclasses.replace(placement, y=[1.0, 2.0, 3.0]))


def test_threads_reading_damaged_files_each_record_their_own_warning(tmp_path: Path) -> None:
    """netlist_warnings_recorded swapped process-wide state (warnings.catch_warnings): threads
    reading at once lost one another's warnings ([1, 1, 1, 0]) and left the warnings module
    patched, so later warnings of the program were never shown."""
    import threading
    import warnings

    from netlists.errors import netlist_warnings_recorded

    nl, placement = load_builtin()
    full = write_plc(tmp_path / "full.plc", nl, placement).read_text().splitlines()
    paths = []
    for k in range(4):
        path = tmp_path / f"cut{k}.plc"
        path.write_text("\n".join(full[: -10 - k]) + "\n")
        paths.append(path)
    filters, show = list(warnings.filters), warnings.showwarning
    recorded: dict[int, list[str]] = {}

    def read(k: int) -> None:
        for _ in range(5):
            with netlist_warnings_recorded() as texts:
                read_plc(paths[k], nl)
            recorded.setdefault(k, []).extend(texts)

    threads = [threading.Thread(target=read, args=(k,), daemon=True) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)  # (a deadlock fails, not hangs)
    assert {k: len(texts) for k, texts in recorded.items()} == {k: 5 for k in range(4)}
    assert all(f"cut{k}.plc: lists" in text for k, texts in recorded.items() for text in texts)
    assert warnings.filters == filters and warnings.showwarning is show


def test_a_shown_recording_shows_each_warning_past_the_warnings_filters(tmp_path: Path) -> None:
    """The CLI's recording (show=True) showed every warning as the block collected it; going
    through warnings.warn, an 'error' filter made the report a traceback and the default filter
    showed a repeat once."""
    import warnings

    from netlists.errors import netlist_warnings_recorded

    nl, placement = load_builtin()
    full = write_plc(tmp_path / "full.plc", nl, placement).read_text().splitlines()
    cut = tmp_path / "cut.plc"
    cut.write_text("\n".join(full[:-10]) + "\n")
    shown: list[str] = []
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.showwarning = lambda message, *rest: shown.append(str(message))  # type: ignore[assignment]
        with netlist_warnings_recorded(show=True) as texts:
            read_plc(cut, nl)
            read_plc(cut, nl)
    assert len(texts) == 2 and shown == texts


def test_the_date_line_is_utc_and_says_so(tmp_path: Path) -> None:
    """The header's Date was local time with no zone: the same run read 23:36 under
    TZ=Pacific/Kiritimati against results.sqlite's 09:36+00:00, and the day before under UTC+14."""
    import datetime as dt
    import os
    import time

    nl, placement = load_builtin()
    zone = os.environ.get("TZ")
    os.environ["TZ"] = "Pacific/Kiritimati"
    time.tzset()
    try:
        before = dt.datetime.now(dt.UTC).replace(microsecond=0, tzinfo=None)
        text = write_plc(tmp_path / "p.plc", nl, placement).read_text()
    finally:
        if zone is None:
            os.environ.pop("TZ")
        else:
            os.environ["TZ"] = zone
        time.tzset()
    line = next(line for line in text.splitlines() if "Date :" in line)
    assert line.endswith(" UTC")
    written = dt.datetime.strptime(line.split("Date : ")[1][:-4], "%Y-%m-%d %H:%M:%S")
    assert abs((written - before).total_seconds()) < 60
