"""Circuit Training netlist reader/writer: parsing, round trip, every bad-input case, fuzz."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netlists.designs import builtin_path
from netlists.errors import NetlistError
from netlists.formats.circuit_training import (
    _parse_strict,
    parse_netlist,
    read_netlist,
    without_comment_lines,
    write_netlist,
)
from netlists.model import NodeType

GOOD = """# a comment
node {
  name: "__metadata__"
  attr {
    key: "soft_macro_area_bloating_ratio"
    value {
      f: 2.0
    }
  }
}
node {
  name: "p0"
  input: "m0/P0"
  input: "s0/Pin"
  attr {
    key: "side"
    value {
      placeholder: "LEFT"
    }
  }
  attr {
    key: "type"
    value {
      placeholder: "PORT"
    }
  }
  attr {
    key: "x"
    value {
      f: 0.0
    }
  }
  attr {
    key: "y"
    value {
      f: 5.0
    }
  }
}
node {
  name: "m0"
  attr {
    key: "height"
    value {
      f: 2.0
    }
  }
  attr {
    key: "orientation"
    value {
      placeholder: "FS"
    }
  }
  attr {
    key: "type"
    value {
      placeholder: "MACRO"
    }
  }
  attr {
    key: "width"
    value {
      f: 4.0
    }
  }
  attr {
    key: "x"
    value {
      f: 3.0
    }
  }
  attr {
    key: "y"
    value {
      f: 4.0
    }
  }
}
node {
  name: "m0/P0"
  attr {
    key: "macro_name"
    value {
      placeholder: "m0"
    }
  }
  attr {
    key: "type"
    value {
      placeholder: "MACRO_PIN"
    }
  }
  attr {
    key: "x_offset"
    value {
      f: 1.5
    }
  }
  attr {
    key: "y_offset"
    value {
      f: -0.5
    }
  }
}
node {
  name: "s0"
  attr {
    key: "height"
    value {
      f: 1.0
    }
  }
  attr {
    key: "type"
    value {
      placeholder: "macro"
    }
  }
  attr {
    key: "width"
    value {
      f: 1.0
    }
  }
  attr {
    key: "x"
    value {
      f: 7.0
    }
  }
  attr {
    key: "y"
    value {
      f: 7.0
    }
  }
}
node {
  name: "s0/Pin"
  attr {
    key: "macro_name"
    value {
      placeholder: "s0"
    }
  }
  attr {
    key: "type"
    value {
      placeholder: "macro_pin"
    }
  }
}
node {
  name: "s0/Pout"
  input: "p0"
  attr {
    key: "macro_name"
    value {
      placeholder: "s0"
    }
  }
  attr {
    key: "type"
    value {
      placeholder: "macro_pin"
    }
  }
  attr {
    key: "weight"
    value {
      f: 3
    }
  }
}
"""


def test_parses_types_attributes_and_nets() -> None:
    nl = parse_netlist(GOOD, "t")
    assert nl.names == ("p0", "m0", "m0/P0", "s0", "s0/Pin", "s0/Pout")
    assert list(nl.node_type) == [0, 1, 3, 2, 4, 4]
    assert nl.orientation[1] == 3  # FS
    assert nl.pin_macro[2] == 1 and nl.pin_macro[5] == 3
    assert (nl.pin_dx[2], nl.pin_dy[2]) == (1.5, -0.5)
    assert nl.n_nets == 2
    assert list(nl.net(0)) == [0, 2, 4] and list(nl.net(1)) == [5, 0]
    assert list(nl.net_weight) == [1.0, 3.0]
    assert nl.side[0] == "LEFT"
    assert nl.metadata["ct_metadata"] == {"soft_macro_area_bloating_ratio": 2.0}


def test_fast_and_strict_parsers_agree_on_builtin_design(assert_same_netlist) -> None:  # type: ignore[no-untyped-def]
    text = gzip.decompress((builtin_path() / "netlist.pb.txt.gz").read_bytes()).decode()
    assert_same_netlist(parse_netlist(text, "x"), _parse_strict(text, "x", "x"))


def test_other_protobuf_text_layouts_read_the_same(assert_same_netlist) -> None:  # type: ignore[no-untyped-def]
    """One node per line, ``attr: {`` with a colon, fields run together: protobuf text
    allows them all, and they give the same netlist as the canonical layout."""
    reference = parse_netlist(GOOD, "x")
    compact = re.sub(r"\s*\n\s*", " ", GOOD.split("\n", 1)[1])  # drop the comment, join lines
    assert "\n" not in compact
    assert_same_netlist(parse_netlist(compact, "x"), reference)
    colons = GOOD.replace("attr {", "attr: {").replace("value {", "value: {")
    assert_same_netlist(parse_netlist(colons, "x"), reference)
    spaced = re.sub(r"(\w):", r"\1 :", GOOD)  # 'name : "x"', 'f : 1.0': also protobuf text
    assert 'name : "' in spaced and "f : " in spaced
    assert_same_netlist(parse_netlist(spaced, "x"), reference)


def test_lone_cr_line_ends_are_line_ends(tmp_path: Path, assert_same_netlist) -> None:  # type: ignore[no-untyped-def]
    """Old Mac line ends: the file reads the same and errors name their line (a ``#`` comment
    used to swallow the whole file, or every error was at line 1)."""
    path = tmp_path / "netlist.pb.txt"
    path.write_bytes(GOOD.replace("\n", "\r").encode())
    assert_same_netlist(read_netlist(path), parse_netlist(GOOD, "netlist"))
    bad = _mutate('placeholder: "MACRO"\n', 'placeholder: "BLOCK"\n')
    path.write_bytes(bad.replace("\n", "\r").encode())
    with pytest.raises(NetlistError, match="unknown type 'BLOCK'") as info:
        read_netlist(path)
    assert info.value.line == bad[: bad.index("BLOCK")].count("\n") + 1


def test_errors_in_one_line_files_name_the_line(tmp_path: Path) -> None:
    compact = re.sub(r"\s*\n\s*", " ", GOOD.split("\n", 1)[1])
    path = tmp_path / "netlist.pb.txt"
    path.write_text("# header\n" + compact.replace('placeholder: "MACRO"', 'placeholder: "BLOCK"'))
    with pytest.raises(NetlistError, match="unknown type 'BLOCK'") as info:
        read_netlist(path)
    assert info.value.line == 2


@pytest.mark.parametrize("suffix", [".pb.txt", ".pb.txt.gz"])
def test_write_then_read_is_exact(tmp_path: Path, suffix: str, assert_same_netlist) -> None:  # type: ignore[no-untyped-def]
    nl = parse_netlist(GOOD, "t")
    back = read_netlist(write_netlist(nl, tmp_path / f"netlist{suffix}"))
    assert_same_netlist(back, nl)
    assert back.metadata["ct_metadata"] == nl.metadata["ct_metadata"]


def test_builtin_round_trip(tmp_path: Path) -> None:
    nl = read_netlist(builtin_path() / "netlist.pb.txt.gz")
    back = read_netlist(write_netlist(nl, tmp_path / "n.pb.txt"))
    assert back.names == nl.names
    assert np.array_equal(back.net_pins, nl.net_pins) and np.array_equal(back.pin_dx, nl.pin_dx)


def _mutate(old: str, new: str, count: int = 1) -> str:
    assert old in GOOD, old
    return GOOD.replace(old, new, count)


BAD_CASES = {
    "truncated": (GOOD[: GOOD.index('node {\n  name: "s0/Pout"') + 40], "truncated"),
    "unknown node type": (
        _mutate('placeholder: "MACRO"\n', 'placeholder: "BLOCK"\n'),
        "unknown type 'BLOCK'",
    ),
    "missing attribute": (
        _mutate(
            '      placeholder: "PORT"\n    }\n  }\n  attr {\n    key: "x"',
            '      placeholder: "PORT"\n    }\n  }\n  attr {\n    key: "xx"',
        ),
        "lacks the 'x' attribute",
    ),
    "net to unknown node": (
        _mutate('input: "s0/Pin"', 'input: "nowhere"'),
        "'nowhere', which is no node",
    ),
    "number for a text attribute": (
        _mutate('placeholder: "m0"\n', "f: 5\n"),
        "attribute 'macro_name' of node 'm0/P0' must be text (placeholder: \"...\"), got the number 5",
    ),
    "pin of unknown macro": (
        _mutate('placeholder: "m0"\n', 'placeholder: "m9"\n'),
        "unknown macro 'm9'",
    ),
    "non-numeric": (_mutate("f: 4.0\n", "f: four\n"), "must be a number"),
    "fraction in an integer field": (_mutate("f: 4.0\n", "i: 2.5\n"), "attribute 'width' of node 'm0' must be an integer (i:), got '2.5'"),
    "integer too large for a float": (_mutate("f: 4.0\n", "i: " + "9" * 400 + "\n"), "is out of range (an int64"),
    # (past 4,300 digits int() refuses the text: still an integer, out of range, not "no integer")
    "integer too long for int()": (_mutate("f: 4.0\n", "i: " + "9" * 5000 + "\n"), "is out of range (an int64"),
    "negative size": (_mutate("f: 4.0\n", "f: -4.0\n"), "must be a finite number from 0 to 1e+15"),
    "huge size": (_mutate("f: 4.0\n", "f: 1e308\n"), "must be a finite number from 0 to 1e+15"),
    "huge position": (_mutate("f: 7.0\n", "f: -1e16\n"), "of at most 1e+15 in size"),
    "bad orientation": (_mutate('placeholder: "FS"', 'placeholder: "Q"'), "orientation"),
    "garbage line": (
        _mutate('  attr {\n    key: "side"', '  wat\n  attr {\n    key: "side"'),
        "expected one of",
    ),
    "non-finite position": (_mutate("f: 7.0\n", "f: inf\n"), "x of node 's0' must be a finite number"),
    "non-finite pin offset": (_mutate("f: 1.5\n", "f: nan\n"), "x_offset of node 'm0/P0'"),
    "unterminated string ending in an escaped quote": (
        _mutate('name: "s0"', 'name: "s0\\"'),
        "unterminated string after 'name:'",
    ),
    "two names": (_mutate('name: "s0"', 'name: "s0"\n  name: "s1"'), "node 's0' has a second 'name:'"),
    "digit grouping": (_mutate("f: 4.0\n", "f: 4_0.0\n"), "must be a number, got '4_0.0'"),
    "digits other than ASCII": (_mutate("f: 4.0\n", "f: \uff14.0\n"), "must be a number, got '\uff14.0'"),
    "huge weight": (  # 1e308 read, then overflowed the cost into NaN
        _mutate('  attr {\n    key: "side"', '  attr { key: "weight" value { f: 1e308 } }\n  attr {\n    key: "side"'),
        "weight of node 'p0' must be a number from 0 to 1e+15",
    ),
    "attribute without a value": (  # read as missing: 'lacks the x attribute' at the node's line
        _mutate("f: 7.0\n", ""),
        "attribute 'x' of node 's0' has no value (expected f:, i: or placeholder: inside value { })",
    ),
    "pin names a soft macro as hard": (
        _mutate('placeholder: "m0"\n', 'placeholder: "s0"\n'),
        "not a HARD_MACRO",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_CASES))
def test_bad_input_names_file_line_and_expectation(tmp_path: Path, case: str) -> None:
    text, expect = BAD_CASES[case]
    path = tmp_path / "netlist.pb.txt"
    path.write_text(text)
    with pytest.raises(NetlistError) as info:
        read_netlist(path)
    msg = str(info.value)
    assert expect in msg
    assert msg.startswith(f"{path}:"), msg
    assert info.value.line is not None and info.value.line >= 1


@pytest.mark.parametrize("text", ["", "# only a comment\n", GOOD[: GOOD.index('node {\n  name: "p0"')]])
def test_a_netlist_without_nodes_is_refused(tmp_path: Path, text: str) -> None:
    path = tmp_path / "netlist.pb.txt"
    path.write_text(text)
    with pytest.raises(NetlistError, match="no nodes"):
        read_netlist(path)


def test_byte_order_mark_and_bare_file_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "mydesign"
    folder.mkdir()
    (folder / "netlist.pb.txt").write_text("\ufeff" + GOOD, encoding="utf-8")
    monkeypatch.chdir(folder)
    netlist = read_netlist("netlist.pb.txt")  # a bare name still names the design by its folder
    assert netlist.name == "mydesign"
    assert netlist.names == parse_netlist(GOOD).names


def test_corrupt_gzip_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "netlist.pb.txt.gz"
    data = gzip.compress(GOOD.encode())
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(NetlistError, match="corrupt gzip"):
        read_netlist(path)


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(NetlistError, match="no such file"):
        read_netlist(tmp_path / "nope.pb.txt")


# a real file, cut to its first nodes, for fuzzing
_REAL = gzip.decompress((builtin_path() / "netlist.pb.txt.gz").read_bytes()).decode()
_REAL_HEAD = _REAL[: _REAL.index("node {", 60_000)]


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    ops=st.lists(
        st.tuples(
            st.sampled_from(["delete", "dup", "char", "cut", "swap"]),
            st.integers(0, 10**9),
            st.sampled_from(list('{}":#x-1.\n ab')),
        ),
        min_size=1,
        max_size=4,
    )
)
def test_fuzzed_real_file_parses_or_raises_netlist_error(ops) -> None:  # type: ignore[no-untyped-def]
    lines = _REAL_HEAD.split("\n")
    text = _REAL_HEAD
    for op, k, ch in ops:
        lines = text.split("\n")
        i = k % len(lines)
        if op == "delete":
            del lines[i]
        elif op == "dup":
            lines.insert(i, lines[i])
        elif op == "swap" and i + 1 < len(lines):
            lines[i], lines[i + 1] = lines[i + 1], lines[i]
        text = "\n".join(lines)
        if op == "char" and text:
            j = k % len(text)
            text = text[:j] + ch + text[j + 1 :]
        elif op == "cut":
            text = text[: k % (len(text) + 1)]
    try:
        nl = parse_netlist(text, "fuzz", "fuzz.pb.txt")
    except NetlistError as exc:
        assert str(exc).startswith("fuzz.pb.txt")
    else:
        assert nl.n_nodes >= 0 and np.all(nl.width >= 0)
        assert np.all((nl.pin_macro >= 0) == (nl.node_type >= NodeType.HARD_PIN))


def test_names_with_quotes_backslashes_and_escapes_round_trip(tmp_path: Path) -> None:
    import dataclasses

    from netlists.generate import generate

    netlist, _ = generate(2, 2, 2, seed=0)
    names = list(netlist.names)
    names[0] = 'odd "name" with \\ and\na newline, é'
    odd = dataclasses.replace(netlist, names=tuple(names))
    back = read_netlist(write_netlist(odd, tmp_path / "netlist.pb.txt"))
    assert back.names == odd.names
    port = '  attr {{ key: "type" value {{ placeholder: "PORT" }} }}\n  attr {{ key: "x" value {{ f: 1 }} }}\n  attr {{ key: "y" value {{ f: 1 }} }}\n'.format()
    text = 'node {\n  name: "a\\303\\251\\x41\\t"\n' + port + "}\n"  # protobuf's octal UTF-8 bytes
    assert parse_netlist(text).names == ("aéA\t",)
    with pytest.raises(NetlistError, match=r"unknown escape '\\q'"):
        parse_netlist(text.replace("\\t", "\\q"))


def test_nets_the_format_cannot_hold_are_refused_before_writing(tmp_path: Path) -> None:
    """Nets as Bookshelf has them: written as they are they would read back as another design
    (merged nets, a lost net and net_cnt, another weight), so another cost."""
    import dataclasses

    from netlists.builder import NetlistBuilder
    from netlists.model import Canvas

    def design(nets: list[tuple[int, list[int]]], weights: list[float] | None = None):  # type: ignore[no-untyped-def]
        b = NetlistBuilder("nets")
        b.add_node("p", NodeType.PORT, x=0.0, y=5.0)  # 0
        for k, name in enumerate(("a", "c")):  # macros 1 and 3, their pins 2 and 4
            b.add_node(name, NodeType.HARD_MACRO, width=2.0, height=2.0, x=3.0 + 4 * k, y=5.0)
            b.add_node(f"{name}/o", NodeType.HARD_PIN, macro_name=name)
        for driver, sinks in nets:
            b.add_net(driver, sinks)
        netlist = b.build(canvas=Canvas(10.0, 10.0, 2, 2, 1.0, 1.0, 0.0, 0.0, 0, 0.0))
        if weights is not None:  # a weight per net, as Bookshelf's .wts gives
            netlist = dataclasses.replace(netlist, net_weight=np.array(weights))
        return netlist

    refused = [
        (design([(0, [2]), (0, [4])]), "nets 0 and 1 are both driven by 'p'"),
        (design([(2, [4]), (4, [])]), "net 1 \\(driver 'c/o'\\) has no sink"),
        (design([(0, [2, 4])], weights=[3.0]), "net 0 weighs 3.0 but would read back as 1.0"),
    ]
    for netlist, message in refused:
        with pytest.raises(ValueError, match=message):
            write_netlist(netlist, tmp_path / "x.pb.txt")
        assert not (tmp_path / "x.pb.txt").exists()
    write_netlist(design([(0, [2, 4])]), tmp_path / "ok.pb.txt")
    assert read_netlist(tmp_path / "ok.pb.txt").n_nets == 1


def test_weights_round_trip_below_one_and_a_ports_own_weight_is_not_its_nets(tmp_path: Path) -> None:
    """A driver weight below 1 must be written (only weight 1 goes without saying); a port's
    own weight attribute is kept but its net weighs 1 (PROXY_COST.md), so a port weighing 2 on
    a net of weight 1 writes, and one whose net is made to weigh 2 is refused."""
    import dataclasses

    from netlists.builder import NetlistBuilder
    from netlists.model import Canvas

    b = NetlistBuilder("weights")
    port = b.add_node("p", NodeType.PORT, x=0.0, y=5.0, weight=2.0)
    b.add_node("a", NodeType.HARD_MACRO, width=2.0, height=2.0, x=3.0, y=5.0)
    pin = b.add_node("a/o", NodeType.HARD_PIN, macro_name="a", weight=0.5)
    b.add_node("c", NodeType.HARD_MACRO, width=2.0, height=2.0, x=7.0, y=5.0)
    sink = b.add_node("c/i", NodeType.HARD_PIN, macro_name="c")
    b.add_net(port, [pin])
    b.add_net(pin, [sink])
    netlist = b.build(canvas=Canvas(10.0, 10.0, 2, 2, 1.0, 1.0, 0.0, 0.0, 0, 0.0))
    assert list(netlist.net_weight) == [1.0, 0.5]
    back = read_netlist(write_netlist(netlist, tmp_path / "w.pb.txt"))
    assert list(back.net_weight) == [1.0, 0.5]
    assert list(back.weight[[port, pin]]) == [2.0, 0.5]
    heavy = dataclasses.replace(netlist, net_weight=np.array([2.0, 0.5]))
    with pytest.raises(ValueError, match="net 0 weighs 2.0 but would read back as 1.0"):
        write_netlist(heavy, tmp_path / "h.pb.txt")


def test_a_negative_node_weight_is_refused_with_its_line() -> None:
    with pytest.raises(NetlistError, match=r"weight of node 's0/Pout' must be a number from 0 to 1e\+15, got -3") as info:
        parse_netlist(GOOD.replace("      f: 3\n", "      f: -3\n"))
    assert info.value.line is not None

def test_control_characters_in_names_and_attributes_other_nodes_keep_round_trip(tmp_path: Path) -> None:
    """A raw carriage return in a written name read back as a line end (unreadable file); a
    port's width and a soft macro's orientation, which the reader keeps, were not written."""
    import dataclasses

    from netlists.generate import generate

    netlist, _ = generate(2, 2, 2, seed=0)
    names = list(netlist.names)
    names[0] = "a\rb\x00c\x7fd\x1b"
    width, orientation = netlist.width.copy(), netlist.orientation.copy()
    port, soft = int(netlist.ports[0]), int(netlist.soft_macros[0])
    width[port], orientation[soft] = 3.0, 1
    odd = dataclasses.replace(netlist, names=tuple(names), width=width, orientation=orientation)
    back = read_netlist(write_netlist(odd, tmp_path / "netlist.pb.txt"))
    assert back.names == odd.names
    assert back.width[port] == 3.0 and back.orientation[soft] == 1


def test_a_write_that_fails_midway_leaves_the_old_file_whole(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A kill or a full disk while writing left half a netlist where the old one was."""
    import io

    from netlists.formats import textio

    nl = read_netlist(builtin_path() / "netlist.pb.txt.gz")
    path = write_netlist(nl, tmp_path / "netlist.pb.txt")
    old = path.read_bytes()

    class FullDisk(io.StringIO):
        def write(self, text: str) -> int:
            super().write(text[: len(text) // 2])
            raise OSError(28, "No space left on device")

    monkeypatch.setattr(textio, "open_text", lambda p, mode="w": FullDisk())
    with pytest.raises(OSError, match="No space left"):
        write_netlist(nl, path)
    assert path.read_bytes() == old and [p.name for p in tmp_path.iterdir()] == ["netlist.pb.txt"]


def test_a_port_side_that_is_no_side_is_kept_with_one_warning() -> None:
    """A misspelt side ('Left') was read without a word (the cost does not read it)."""
    import warnings

    from netlists.errors import NetlistWarning

    odd = GOOD.replace('placeholder: "LEFT"', 'placeholder: "Left"')
    with pytest.warns(NetlistWarning, match=r"1 port\(s\) have a side other than LEFT, RIGHT, TOP, BOTTOM \(first 'p0': 'Left'\)"):
        nl = parse_netlist(odd, "t")
    assert nl.side[0] == "Left"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        parse_netlist(GOOD, "t")


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('      f: 5.0\n', '      f: 5.0\n    }\n  }\n  attr {\n    key: "y"\n    value {\n      f: 9.0\n',
         r"node 'p0' gives the attribute 'y' twice \(first at line 36\)"),
        ('      f: 5.0\n', '      f: 5.0\n      f: 9.0\n', "attribute 'y' has a second value"),
        ('    key: "y"\n', '    key: "y"\n    key: "x"\n', "attr 'y' has a second 'key:'"),
        ('  name: "p0"\n', '  name: "__metadata__"\n', "takes no type and no inputs"),
        ('# a comment\n', '# a comment\nnode {\n  name: "__metadata__"\n}\n', "a second __metadata__ node"),
    ],
)
def test_a_value_given_twice_or_a_node_named_like_the_metadata_is_refused(old, new, message) -> None:
    """Protobuf refuses a second value of a singular field; the reader took the last one (a
    second width changed the macro, silently), and a node renamed __metadata__ vanished with
    its net, shifting every later index."""
    assert old in GOOD
    with pytest.raises(NetlistError, match=message):
        parse_netlist(GOOD.replace(old, new, 1), "t")


def test_the_writer_refuses_a_node_named_like_the_metadata(tmp_path: Path) -> None:
    import dataclasses

    netlist = parse_netlist(GOOD, "t")
    renamed = dataclasses.replace(netlist, names=("__metadata__", *netlist.names[1:]))
    with pytest.raises(ValueError, match="the name the format keeps for the file's settings"):
        write_netlist(renamed, tmp_path / "n.pb.txt")


def test_a_misspelt_attribute_key_is_named_in_one_warning_and_another_tools_key_passes() -> None:
    """'orientaton' left the macro at N and 'wieght' left the net at weight 1, without a word."""
    import warnings

    from netlists.errors import NetlistWarning

    odd = GOOD.replace('key: "orientation"', 'key: "orientaton"').replace('key: "weight"', 'key: "wieght"')
    with pytest.warns(NetlistWarning, match=r"'orientaton' \(meant 'orientation'\?\), 'wieght' \(meant 'weight'\?\)") as caught:
        parse_netlist(odd, "t")
    assert len(caught) == 1
    with warnings.catch_warnings():  # a key unlike every known one (and the metadata's) is kept quietly
        warnings.simplefilter("error")
        parse_netlist(GOOD.replace('key: "side"', 'key: "sub_type"', 1), "t")


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=" \t#\nab\"", max_size=60))
def test_comment_lines_go_as_a_line_anchored_pattern_would_take_them(text: str) -> None:
    """The fast parser's comment strip (no regular expression: it took 15 % of a big parse)
    removes exactly the lines such a pattern removes: '#' after blanks only, to the newline."""
    assert without_comment_lines(text) == re.sub(r"^[ \t]*#[^\n]*\n?", "", text, flags=re.M)


def test_a_long_line_of_hashes_after_text_is_kept_in_time_linear_in_its_length() -> None:
    """Every '#' of a line that is no comment went back to its line's start: a 1 MB line of
    '#' after text took 21 s (quadratic); each line is now passed once."""
    import time

    long_line = 'name: "a" ' + "#" * 4_000_000
    text = f"# header\n{long_line}\n  # a comment\n{long_line}"
    started = time.process_time()
    stripped = without_comment_lines(text)
    assert time.process_time() - started < 2.0  # (linear: ~10 ms; quadratic: hours)
    assert stripped == f"{long_line}\n{long_line}"



def test_an_input_naming_no_node_is_reported_at_its_own_line(tmp_path: Path) -> None:
    """It was reported at its node's first line (up to ~20 input lines above it)."""
    text = _mutate('input: "s0/Pin"', 'input: "nowhere"')
    path = tmp_path / "netlist.pb.txt"
    path.write_text(text)
    with pytest.raises(NetlistError, match="'nowhere', which is no node") as info:
        read_netlist(path)
    assert info.value.line == text[: text.index('input: "nowhere"')].count("\n") + 1


def test_blank_lines_and_trailing_blanks_keep_the_fast_parser(assert_same_netlist, monkeypatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Lines ending in ``\\r\\r\\n`` (a blank line after each once read) or with trailing blanks
    went to the strict parser, ~5x slower on a real design; they read the same, on the fast path."""
    import netlists.formats.circuit_training as ct

    text = gzip.decompress((builtin_path() / "netlist.pb.txt.gz").read_bytes()).decode()
    reference = parse_netlist(text, "x")

    def no_strict(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("the strict parser was used")

    monkeypatch.setattr(ct, "_parse_strict", no_strict)
    odd = tmp_path / "netlist.pb.txt"
    odd.write_bytes(text.replace("\n", " \t\r\r\n").encode())
    assert_same_netlist(read_netlist(odd, "x"), reference)


def test_sides_of_any_node_and_integer_settings_round_trip_and_unknown_keys_are_dropped(tmp_path: Path) -> None:
    """The writer wrote ``side`` on ports only (the reader keeps any node's) and every
    ``__metadata__`` number as ``f:`` (``i: 7`` came back ``f: 7.0``); keys the format does not
    define are not kept (said in netlist_text's docstring). Both parsers read ``i:`` alike."""
    from netlists.formats.circuit_training import netlist_text

    big = 2**60 + 1  # (no float holds it)
    meta = ('  attr {\n    key: "steps"\n    value {\n      i: 7\n    }\n  }\n'
            f'  attr {{\n    key: "seed"\n    value {{\n      i: {big}\n    }}\n  }}\n'
            '  attr {\n    key: "tag"\n    value {\n      placeholder: "v1"\n    }\n  }\n')  # fmt: skip
    text = GOOD.replace('  name: "__metadata__"\n', '  name: "__metadata__"\n' + meta, 1)
    text = text.replace('  name: "m0"\n', '  name: "m0"\n  attr {\n    key: "side"\n    value {\n'
                        '      placeholder: "TOP"\n    }\n  }\n  attr {\n    key: "vendor_extra"\n'
                        '    value {\n      f: 4.0\n    }\n  }\n', 1)  # fmt: skip
    settings = {"soft_macro_area_bloating_ratio": 2.0, "steps": 7, "seed": big, "tag": "v1"}
    for read in (parse_netlist, lambda t, name: _parse_strict(t, name, "<string>")):
        netlist = read(text, "t")
        assert netlist.metadata["ct_metadata"] == settings
        types = {k: type(v) for k, v in settings.items()}
        assert {k: type(v) for k, v in netlist.metadata["ct_metadata"].items()} == types
        m0 = netlist.names.index("m0")
        assert netlist.side[m0] == "TOP"
        written = netlist_text(netlist)
        assert "i: 7\n" in written and f"i: {big}\n" in written and "f: 2.0\n" in written
        assert "vendor_extra" not in written
        back = read_netlist(write_netlist(netlist, tmp_path / "netlist.pb.txt"))
        assert back.metadata["ct_metadata"] == settings and back.side == netlist.side
        assert {k: type(v) for k, v in back.metadata["ct_metadata"].items()} == types
        assert netlist_text(back) == written


#: Forms protobuf's text format allows that the token parser reads (the module docstring's
#: list): each read as GOOD is. The strings are replaced in GOOD everywhere they occur.
OTHER_FORMS = {
    "single quotes": [('name: "s0"', "name: 's0'"), ('placeholder: "macro_pin"', "placeholder: 'macro_pin'"),
                      ('key: "x"', "key: 'x'")],
    "escapes in single quotes": [('name: "s0/Pin"', "name: 's0/P\\x69n'"), ('input: "s0/Pin"', "input: 's0/P\\151n'")],
    "strings next to each other": [('name: "s0/Pout"', "name: \"s0\" '/Po'\n  \"ut\"")],
    "separators": [("f: 7.0\n", "f: 7.0,\n"), ('placeholder: "PORT"\n', 'placeholder: "PORT";\n'),
                   ("    }\n  }\n}\n", "    };\n  },\n};\n"), ('input: "m0/P0"', 'input: "m0/P0",')],
    "angle brackets": [("value {\n      f: 7.0\n    }", "value <\n      f: 7.0\n    >"),
                       ('node {\n  name: "s0/Pin"\n  attr {\n    key: "macro_name"\n    value {\n      placeholder: "s0"\n    }\n  }',
                        'node <\n  name: "s0/Pin"\n  attr <\n    key: "macro_name"\n    value: <\n      placeholder: "s0"\n    >\n  >'),
                       ('      placeholder: "macro_pin"\n    }\n  }\n}\nnode {\n  name: "s0/Pout"',
                        '      placeholder: "macro_pin"\n    }\n  }\n>\nnode {\n  name: "s0/Pout"')],
    "a float suffix": [("f: 7.0\n", "f: 7.0f\n"), ("f: 1.5\n", "f: 1.5F\n"), ("f: 3\n", "f: 3f\n")],
    "a hex integer": [("f: 3\n", "i: 0x3\n")],
    "a repeated field's list form": [('  input: "m0/P0"\n  input: "s0/Pin"', '  input: ["m0/P0", \'s0/\' "Pin"]')],
    "lists over lines, one empty": [
        ('  input: "m0/P0"\n  input: "s0/Pin"', '  input: []\n  input: [\n    "m0/P0"\n  ];\n  input: [\n"s0/Pin"\n]')],
    "an octal integer": [("f: 3\n", "i: 03\n")],
    "other kinds of value under another tool's keys": [(
        '  attr {\n    key: "side"',
        '  attr { key: "note" value { s: "a" \'b\' } }\n  attr { key: "on" value { b: true } }\n'
        '  attr { key: "kind" value: < type: DT_FLOAT > }\n'
        '  attr { key: "shape" value { shape { dim { size: 3 }, dim: < size: -1 > } } }\n'
        '  attr { key: "many" value { list { i: [1, 2, 0x3]; s: ["a}", "b>"] func [{ name: "f" }, <>] } } }\n'
        '  attr {\n    key: "side"',
    )],
}


@pytest.mark.parametrize(
    ("literal", "value"), [("017", 15), ("0x1F", 31), ("0X1f", 31), ("-0x10", -16), ("-012", -10), ("0", 0), ("-7", -7), ("10", 10),
                          ("9223372036854775807", 2**63 - 1), ("-0x8000000000000000", -(2**63))]
)
def test_an_i_value_reads_as_protobufs_integer_literal(literal: str, value: int) -> None:
    """protobuf's text format reads a leading zero as octal and 0x as hexadecimal: ``i: 017``
    read as 17 gave a weight protobuf's own parsers read as 15 (in the file's settings too)."""
    meta = f'  attr {{ key: "seed" value {{ i: {literal} }} }}\n'
    as_weight = 0 <= value <= 10**6  # (a weight's bound; the others in the file's settings only)
    text = GOOD.replace("f: 3\n", f"i: {literal}\n" if as_weight else "f: 3\n").replace(
        '  name: "__metadata__"\n', '  name: "__metadata__"\n' + meta, 1)
    netlist = parse_netlist(text, "x")
    assert netlist.metadata["ct_metadata"]["seed"] == value
    if as_weight:
        assert netlist.weight[netlist.names.index("s0/Pout")] == value


@pytest.mark.parametrize("form", sorted(OTHER_FORMS))
def test_other_forms_protobuf_text_allows_read_as_the_canonical_file(form: str, assert_same_netlist) -> None:  # type: ignore[no-untyped-def]
    """Refused before, though legal protobuf text: single quotes, joined strings, ',' and ';'
    separators, '< >' messages, a float's f suffix, and an unknown key's s:, b:, list {} value
    (the reader ignores unknown keys, whatever their value)."""
    import warnings

    text = GOOD
    for old, new in OTHER_FORMS[form]:
        assert old in text, old
        text = text.replace(old, new)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # (no misspelt-key warning either)
        assert_same_netlist(parse_netlist(text, "x"), parse_netlist(GOOD, "x"))


def test_a_single_quoted_string_holds_double_quotes_and_a_joined_one_its_parts_bytes() -> None:
    """Inside '...' a " is plain; strings next to each other are joined as bytes, so an
    escaped UTF-8 character split between two of them reads whole."""
    meta = ('  attr { key: "greeting" value { placeholder: \'say "hi"\' } }\n'
            '  attr { key: "word" value { placeholder: "caf\\303" \'\\251\' } }\n')  # fmt: skip
    text = GOOD.replace('  name: "__metadata__"\n', '  name: "__metadata__"\n' + meta, 1)
    settings = parse_netlist(text, "x").metadata["ct_metadata"]
    assert settings["greeting"] == 'say "hi"' and settings["word"] == "caf\u00e9"


#: Forms still refused, each at its own line: (replaced, replacement, what the error says, the
#: error's line within the replacement).
REFUSED_FORMS = {
    "an octal integer with a digit past 7": (
        "f: 3\n", "i: 09\n", "attribute 'weight' of node 's0/Pout' must be an integer (i:), got '09'", 0),
    "an s: value of a key the format defines": (
        "f: 7.0\n", 's: "7"\n', "attribute 'x' of node 's0' takes f:, i: or placeholder:, got 's:'", 0),
    "a list of inputs left open": (
        '  input: "m0/P0"\n  input: "s0/Pin"', '  input: ["m0/P0", "s0/Pin"',
        "expected ',' or ']' in the list after 'input:', got 'attr'", 1),
    "a list of inputs without its commas": (
        '  input: "m0/P0"\n  input: "s0/Pin"', "  input: ['m0/P0' [",
        "expected ',' or ']' in the list after 'input:', got '['", 0),
    "a number in a list of inputs": ('input: "m0/P0"', "input: [3]",
                                     "expected a quoted string or ']' in the list after 'input:', got '3'", 0),
    "a ',' before a list's ']'": ('input: "m0/P0"', 'input: ["m0/P0",]',
                                  "a ',' before the ']' of the list after 'input:' (protobuf refuses it)", 0),
    "a ',' before a list's ']' over lines": (
        '  input: "m0/P0"\n  input: "s0/Pin"', '  input: [\n"m0/P0",\n"s0/Pin",\n]',
        "a ',' before the ']' of the list after 'input:'", 2),
    "a ';' between a list's values": ('  input: "m0/P0"\n  input: "s0/Pin"', '  input: ["m0/P0"; "s0/Pin"]',
                                      "expected ',' or ']' in the list after 'input:', got ';'", 0),
    "a list of inputs left open after a comma": (
        '  input: "m0/P0"\n  input: "s0/Pin"', '  input: ["m0/P0", "s0/Pin",',
        "expected a quoted string after ',' in the list after 'input:' (opened at line", 1),
    "an i: above int64": ("f: 3\n", f"i: {2**63}\n", f"attribute 'weight' of node 's0/Pout': i: {2**63} is out of range", 0),
    "an i: below int64": ("f: 3\n", "i: -0x8000000000000001\n", "i: -0x8000000000000001 is out of range", 0),
    "a separator after no value": ("value {\n      f: 7.0", "value {,\n      f: 7.0", "expected one of 'name:'", 0),
    "two separators": ("f: 7.0\n", "f: 7.0,;\n", "expected one of 'name:'", 0),
    "a '<' closed by '}'": ("value {\n      f: 7.0\n    }", "value <\n      f: 7.0\n    }", "expected '>' to close the block, got '}'", 2),
    "an extension": ("f: 7.0\n", "[ext.f]: 7.0\n", "expected one of 'name:'", 0),
    "a value of an unknown kind beside a number": ("f: 7.0\n", 'f: 7.0 s: "x"\n', "attribute 'x' has a second value", 0),
    "an unterminated single-quoted string": ('name: "s0"', "name: 's0", "unterminated string after 'name:'", 0),
    "a string after a separator": (
        'name: "s0"', 'name: "s", "0"', "expected one of 'name:', 'input:', 'attr {', 'key:', 'value {', "
        "'placeholder:', 'f:', 'i:' or '}', got '\"0\"'", 0),
    "a hex float with an F": ("f: 7.0\n", "f: 0x1F\n", "attribute 'x' of node 's0' must be a number, got '0x1F'", 0),
    "a string after a separator in a value": (
        'placeholder: "s0"', 'placeholder: "s"; "0"', "expected one of 'name:'", 0),
    "an unclosed list in an unknown key's value": (
        '  attr {\n    key: "side"', '  attr { key: "many" value { list { i: [1, 2 } } }\n  attr {\n    key: "side"',
        "'}' closes no block here (in the value of 'list')", 0),
}


@pytest.mark.parametrize("form", sorted(REFUSED_FORMS))
def test_forms_the_reader_does_not_take_are_refused_at_their_line(tmp_path: Path, form: str) -> None:
    old, new, message, offset = REFUSED_FORMS[form]
    text = _mutate(old, new)
    path = tmp_path / "netlist.pb.txt"
    path.write_text(text)
    with pytest.raises(NetlistError) as info:
        read_netlist(path)
    line = text[: text.index(new)].count("\n") + 1 + offset
    assert str(info.value) == f"{path}:{line}: {message}" or (
        str(info.value).startswith(f"{path}:{line}: ") and message in str(info.value)), str(info.value)


def test_a_misspelt_key_in_single_quotes_is_named_too() -> None:
    from netlists.errors import NetlistWarning

    with pytest.warns(NetlistWarning, match=r"'wieght' \(meant 'weight'\?\)"):
        parse_netlist(GOOD.replace('key: "weight"', "key: 'wieght'"), "t")


@pytest.mark.parametrize("value", [2**63, -(2**63) - 1, np.uint64(2**64 - 1)])
def test_a_setting_outside_int64_is_refused_by_the_writer_not_left_for_the_reader(tmp_path: Path, value) -> None:  # type: ignore[no-untyped-def]
    """A code-built netlist's integer setting outside int64 was written as ``i:`` and the
    reader then refused the file (protobuf's AttrValue.i is an int64): the writer refuses it,
    naming the setting, and writes nothing; int64's own ends are written and read back."""
    from netlists.errors import InputError

    nl = parse_netlist(GOOD, "t")
    nl.metadata["ct_metadata"] = {"huge": value}
    with pytest.raises(InputError, match="setting 'huge' .* outside the format's int64"):
        write_netlist(nl, tmp_path / "n.pb.txt")
    assert not (tmp_path / "n.pb.txt").exists()
    nl.metadata["ct_metadata"] = {"smallest": -(2**63), "largest": 2**63 - 1}
    assert read_netlist(write_netlist(nl, tmp_path / "m.pb.txt")).metadata["ct_metadata"] == {
        "smallest": -(2**63), "largest": 2**63 - 1}


def test_a_numpy_float_setting_is_written_as_a_number(tmp_path: Path) -> None:
    """A code-built netlist's float32 setting (numpy floats other than float64 are no Python
    float) was written as text, ``placeholder: "1.5"``, and read back as the string '1.5'."""
    nl = parse_netlist(GOOD, "t")
    nl.metadata["ct_metadata"] = {"half": np.float32(1.5), "tenth": np.float16(0.1), "plain": np.float64(2.25)}
    back = read_netlist(write_netlist(nl, tmp_path / "n.pb.txt")).metadata["ct_metadata"]
    assert back == {"half": 1.5, "tenth": float(np.float16(0.1)), "plain": 2.25}
    assert all(type(value) is float for value in back.values()), back


def test_integer_settings_are_written_as_i_and_a_bool_as_text(tmp_path: Path) -> None:
    """The writer's int test (an int or numpy integer, not a bool: a bool is an int) decides
    both what is written as ``i:`` and what the int64 check covers: a numpy integer setting
    reads back an int, a bool its text."""
    nl = parse_netlist(GOOD, "t")
    nl.metadata["ct_metadata"] = {"count": np.int32(7), "plain": -3, "flag": True}
    path = write_netlist(nl, tmp_path / "n.pb.txt")
    text = path.read_text()
    assert "i: 7\n" in text and "i: -3\n" in text and 'placeholder: "True"' in text
    back = read_netlist(path).metadata["ct_metadata"]
    assert back == {"count": 7, "plain": -3, "flag": "True"} and type(back["count"]) is int
