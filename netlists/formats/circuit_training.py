"""Circuit Training netlist format (``netlist.pb.txt``, protobuf text), plain or gzip.

The file is a sequence of ``node { ... }`` blocks with ``name``, ``input`` lines and
``attr { key: ... value { placeholder|f|i: ... } }`` blocks; see
``shared/benchmarks/README.md``. Circuit Training writes one field per line; a fast path reads
that layout with regular expressions (it is what makes a 29 MB file parse in about a second),
and any other layout goes through a token-based parser, which reads protobuf's text format as
far as these fields need it:

- fields on one line or many, ``#`` comments, an optional ``:`` before a message;
- a message in ``{ }`` or ``< >``, a ``,`` or ``;`` after any field;
- strings in double or single quotes with C escapes, strings next to each other joined
  (``"a" 'b'`` is ``"ab"``);
- an ``f:`` number with protobuf's ``f``/``F`` suffix (``1.5f``); an ``i:`` in decimal,
  hexadecimal (``0x1F``) or C octal (``017``), within int64 as protobuf's ``AttrValue.i``;
- a repeated field's list form (``input: ["a", "b"]``, ``[]`` holding none), its values
  separated by ``,`` only;
- under an attribute key the format does not define (:data:`KNOWN_KEYS`), and under any key
  of the ``__metadata__`` node, a value of any other kind (``s:``, ``b:``, ``list { }``,
  ``shape { }``, ...): skipped whole, not kept.

Refused, naming the file and line, as protobuf refuses them: an ``i:`` outside int64 or no
integer literal (``09``, ``2.5``), a list with a ``,`` before its ``]`` or a ``;`` between its
values (``["a", "b",]``, ``["a"; "b"]``), a node's defined key with a value of another kind than
``placeholder:``, ``f:`` or ``i:``, fields other than those above, and extensions
(``[name]: ...``). A node with ``input`` lines drives one net: the node itself plus the named
sinks.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeGuard

import numpy as np

from netlists.builder import NetlistBuilder
from netlists.errors import InputError, NetlistError, warn_netlist
from netlists.formats.textio import plain_number, read_text, write_text_atomic
from netlists.model import (
    CT_TYPE_NAMES,
    CT_TYPES,
    MAX_MAGNITUDE,
    ORIENTATION_CODE,
    ORIENTATIONS,
    Netlist,
    NodeType,
)

METADATA_NODE = "__metadata__"

_NUMERIC_KEYS = ("width", "height", "x", "y", "x_offset", "y_offset", "weight")
_REQUIRED: dict[NodeType, tuple[str, ...]] = {
    NodeType.PORT: ("x", "y"),
    NodeType.HARD_MACRO: ("width", "height", "x", "y"),
    NodeType.SOFT_MACRO: ("width", "height", "x", "y"),
    NodeType.HARD_PIN: ("macro_name", "x_offset", "y_offset"),
    NodeType.SOFT_PIN: ("macro_name",),
}


def read_netlist(path: str | Path, name: str | None = None) -> Netlist:
    """Read a Circuit Training netlist (``.pb.txt`` or ``.pb.txt.gz``); canvas is left unset.

    Raises:
        NetlistError: on any malformed input, naming file, line and the expectation.
    """
    path = Path(path)
    text = read_text(path)
    if name is None:  # a design is named by its folder (absolute: 'netlist.pb.txt' alone has none)
        name = (
            path.absolute().parent.name
            if path.name.startswith("netlist.")
            else path.name.split(".")[0]
        )
    return parse_netlist(text, name=name, path=str(path))


def parse_netlist(text: str, name: str = "netlist", path: str = "<string>") -> Netlist:
    """Parse netlist text (see :func:`read_netlist`).

    A fast path reads files in Circuit Training's canonical layout with regular expressions;
    anything it does not fully recognise, or any validation error, goes to the strict
    token-based parser, which reads the other layouts the module docstring lists and reports
    the precise file and line.
    """
    try:
        fast = _parse_fast(text, name, path)
    except NetlistError:
        fast = None
    netlist = fast if fast is not None else _parse_strict(text, name, path)
    if netlist.n_nodes == 0:
        raise NetlistError("no nodes: expected 'node { name: ... }' blocks", path)
    _warn_of_odd_sides(netlist, path)
    _warn_of_misspelt_keys(text, path)
    return netlist


#: The attribute keys the format defines (what the readers use, and ``side``, kept as written).
KNOWN_KEYS = (*_NUMERIC_KEYS, "type", "orientation", "macro_name", "side")
#: An attribute key that is none of the known ones (the look-ahead keeps the scan to ~2 % of a read).
_UNKNOWN_KEY_RE = re.compile(
    r'key\s*:\s*"(?!(?:' + "|".join(sorted(KNOWN_KEYS, key=len, reverse=True)) + r')")([^"\n]*)"'
)
#: The same for a key in single quotes (looked for only in a text holding one).
_UNKNOWN_QUOTED_KEY_RE = re.compile(_UNKNOWN_KEY_RE.pattern.replace('"', "'"))


def _warn_of_misspelt_keys(text: str, path: str) -> None:
    """One warning for attribute keys that look like a misspelling of a known one ('wieght'):
    like protobuf, the format keeps any key and the reader ignores the unknown ones, so the
    node silently got the default (weight 1, orientation N) the misspelt value meant to change.
    Keys unlike every known one (another tool's extras) pass in silence."""
    unknown = set(_UNKNOWN_KEY_RE.findall(text))
    if "'" in text:
        unknown.update(_UNKNOWN_QUOTED_KEY_RE.findall(text))
    near = {key: difflib.get_close_matches(key, KNOWN_KEYS, n=1, cutoff=0.75) for key in sorted(unknown)}
    near = {key: match[0] for key, match in near.items() if match}
    if near:
        guesses = ", ".join(f"{key!r} (meant {known!r}?)" for key, known in near.items())
        warn_netlist(
            f"{path}: attribute key(s) the format does not define: {guesses}; "
            "ignored, so those nodes keep the default",
            stacklevel=3,
        )


#: The sides Circuit Training gives a port.
PORT_SIDES = ("LEFT", "RIGHT", "TOP", "BOTTOM")


def _warn_of_odd_sides(netlist: Netlist, path: str) -> None:
    """One warning for ports whose ``side`` is none of :data:`PORT_SIDES` (a misspelling kept
    as it is: the cost does not read it, other tools may)."""
    ports = np.flatnonzero(netlist.node_type == int(NodeType.PORT))
    odd = [int(i) for i in ports if netlist.side[i] and netlist.side[i] not in PORT_SIDES]
    if odd:
        first = odd[0]
        warn_netlist(
            f"{path}: {len(odd)} port(s) have a side other than {', '.join(PORT_SIDES)} "
            f"(first {netlist.names[first]!r}: {netlist.side[first]!r}); kept as written, "
            "unused by the cost",
            stacklevel=3,
        )


def without_comment_lines(text: str) -> str:
    """``text`` without its comment lines (a ``#`` after nothing but blanks, to the line's end
    and its newline). Only each line's first ``#`` is visited: a regular expression anchored at
    every line start took 15 % of ibm17's parse (29 MB, one comment header), and visiting every
    ``#`` went back to its line's start each time (a 1 MB line of ``#`` after text: 21 s)."""
    kept, start, mark = [], 0, text.find("#")
    while mark >= 0:
        line_start = text.rfind("\n", 0, mark) + 1
        line_end = text.find("\n", mark)
        line_end = len(text) if line_end < 0 else line_end + 1
        if text[line_start:mark].strip(" \t"):  # a '#' inside a line's text: no comment line
            mark = text.find("#", line_end)
            continue
        kept.append(text[start:line_start])
        start = line_end
        mark = text.find("#", line_end)
    kept.append(text[start:])
    return "".join(kept)


_NODE_RE = re.compile(
    r'node \{\n[ \t]*name: "([^"\n]*)"\n'
    r'((?:[ \t]*input: "[^"\n]*"\n)*)'
    r'((?:[ \t]*attr \{\n[ \t]*key: "[^"\n]*"\n[ \t]*value \{\n[ \t]*(?:placeholder: "[^"\n]*"|[fi]: [^\n]*)\n[ \t]*\}\n[ \t]*\}\n)*)'
    r"[ \t]*\}"
)
_INPUT_RE = re.compile(r'input: "([^"\n]*)"')
_TRAILING_BLANKS_RE = re.compile(r"[ \t]+\n")
_BLANK_LINES_RE = re.compile(r"\n{2,}")
_ATTR_RE = re.compile(
    r'key: "([^"\n]*)"\n[ \t]*value \{\n[ \t]*(?:placeholder: "([^"\n]*)"|([fi]): ([^\n]*))'
)


#: Protobuf's text-format integer literals, after an optional minus: hexadecimal (``0x1F``),
#: C octal (a leading zero: ``017`` is 15) or decimal without leading zeros.
_PROTOBUF_INT_RE = re.compile(r"-?(?:0[xX][0-9A-Fa-f]+|0[0-7]*|[1-9][0-9]*)")


def protobuf_int(text: str) -> int:
    """An ``i:`` value as protobuf's text format reads it (``0x1F`` is 31, ``017`` is 15, as
    protobuf's own parsers agree); ValueError for anything else (``09``, ``2.5``, ``1_0``)."""
    if not _PROTOBUF_INT_RE.fullmatch(text):
        raise ValueError(text)
    sign, digits = (-1, text[1:]) if text.startswith("-") else (1, text)
    if digits[:2] in ("0x", "0X"):
        return sign * int(digits[2:], 16)
    return sign * int(digits, 8 if len(digits) > 1 and digits[0] == "0" else 10)


#: The range of an ``i:`` (``AttrValue.i`` is an int64; protobuf refuses a value outside it).
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def _in_int64(value: int) -> bool:
    """Whether an ``i:`` holds ``value`` (written outside int64, the reader refuses the file)."""
    return INT64_MIN <= value <= INT64_MAX


def _written_as_int(value: object) -> TypeGuard[int | np.integer[Any]]:
    """Whether :func:`_attr` writes ``value`` as an ``i:``: an int or numpy integer, not a bool."""
    return isinstance(value, int | np.integer) and not isinstance(value, bool)


def _attribute_number(text: str, integer: bool) -> float:
    """An ``f:`` (or, ``integer``, an ``i:``: protobuf's int64 field, where 2.5 is no value)
    attribute's number as a float; ValueError when it is none (an ``i:`` outside int64
    included, as protobuf refuses it)."""
    if integer:
        exact = protobuf_int(text)
        if not _in_int64(exact):
            raise ValueError(text)
        return float(exact)
    try:
        return float(plain_number(text))
    except OverflowError:
        raise ValueError(text) from None


def _parse_fast(text: str, name: str, path: str) -> Netlist | None:
    """Parse canonical layout only; ``None`` when the text is not entirely canonical."""
    if "\\" in text:  # escaped characters in strings: the strict parser decodes them
        return None
    if "#" in text:
        text = without_comment_lines(text)
    # blank lines and trailing blanks mean nothing outside strings, and no string holds a line
    # end: a file whose lines end in \r\r\n (blank lines once read) took the strict parser, ~5x slower
    if " \n" in text or "\t\n" in text:
        text = _TRAILING_BLANKS_RE.sub("\n", text)
    if "\n\n" in text:
        text = _BLANK_LINES_RE.sub("\n", text)
    builder = NetlistBuilder(name, path)
    nodes_inputs: list[tuple[int, list[str], list[int] | None]] = []
    pos = 0
    for m in _NODE_RE.finditer(text):
        if text[pos : m.start()].strip():
            return None
        pos = m.end()
        attrs: dict[str, object] = {}
        found = _ATTR_RE.findall(m.group(3))
        if len({key for key, *_ in found}) != len(found):
            return None  # an attribute given twice: the strict parser refuses it with its line
        for key, ph, kind, num in found:
            if kind:
                try:
                    attrs[key] = _attribute_number(num, integer=kind == "i")
                except ValueError:
                    return None  # the strict parser reports it with its line
            else:
                attrs[key] = ph
        if m.group(1) == METADATA_NODE:  # (the file's settings keep an i: as an int)
            attrs.update((key, protobuf_int(num)) for key, _, kind, num in found if kind == "i")
        inputs = _INPUT_RE.findall(m.group(2)) if m.group(2) else []
        _add_node(builder, m.group(1), inputs, attrs, {}, None, path, nodes_inputs)
    if text[pos:].strip():
        return None
    for idx, sinks, _ in nodes_inputs:
        builder.add_net_by_name(idx, sinks)
    return builder.build()


_ESCAPE_RE = re.compile(r"\\(?:([0-7]{1,3})|x([0-9A-Fa-f]{1,2})|(.))", re.S)
_SIMPLE_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t",
                   "v": "\v", "\\": "\\", "'": "'", '"': '"', "?": "?"}  # fmt: skip


def _unescape(body: str, path: str, line: int) -> str:
    """A protobuf text string's content with its C-style escapes decoded (octal and hex
    escapes are bytes of the UTF-8 text, as protobuf writes non-ASCII names)."""
    if "\\" not in body:
        return body
    return _utf8_text(_unescaped_bytes(body, path, line), path, line)


def _utf8_text(data: bytes, path: str, line: int) -> str:
    """A string's bytes (escapes decoded) as text; an error naming the line where they are not UTF-8."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise NetlistError("escaped bytes in a string are not UTF-8 text", path, line) from None


def _unescaped_bytes(body: str, path: str, line: int) -> bytes:
    """The bytes of a string's content, its escapes decoded (see :func:`_unescape`)."""
    out = bytearray()
    last = 0
    for match in _ESCAPE_RE.finditer(body):
        out += body[last : match.start()].encode("utf-8")
        octal, hexa, char = match.groups()
        if octal:
            out.append(int(octal, 8) & 0xFF)
        elif hexa:
            out.append(int(hexa, 16))
        elif char in _SIMPLE_ESCAPES:
            out += _SIMPLE_ESCAPES[char].encode("utf-8")
        else:
            raise NetlistError(f"unknown escape '\\{char}' in a string", path, line)
        last = match.end()
    out += body[last:].encode("utf-8")
    return bytes(out)


def _quote(text: str) -> str:
    """``text`` as a protobuf text string literal (inverse of :func:`_unescape`): control
    characters as three-digit octal escapes (a raw carriage return read back as a line end)."""
    return '"' + _CONTROL_RE.sub(_escape_char, text) + '"'


_CONTROL_RE = re.compile(r'[\\"\x00-\x1f\x7f]')


def _escape_char(match: re.Match[str]) -> str:
    char = match.group()
    if char in '\\"':
        return "\\" + char
    return "\\n" if char == "\n" else f"\\{ord(char):03o}"


_STRING_RE = re.compile(r'"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'')
_TOKEN_RE = re.compile(
    _STRING_RE.pattern + r'|[{}<>\[\],;]|[^\s{}<>\[\],;"\'#:]+:?|:|#[^\n]*|\n|[ \t\r\f\v]+|["\'][^\n]*'
)
_EXPECTED_FIELD = "expected one of 'name:', 'input:', 'attr {', 'key:', 'value {', 'placeholder:', 'f:', 'i:' or '}'"
#: What opens a message, and what closes it (``<`` ... ``>`` is protobuf's other form).
_CLOSER = {"{": "}", "<": ">"}
#: The first characters of tokens after which a ``,`` or ``;`` ends no field (an opening
#: delimiter, a separator, a lone ``:``): there it is refused, after a value it is dropped.
_NO_VALUE_ENDS = frozenset("{<[,;:")
#: Tokens that join the one before (``:``) or end its field (``,``, ``;``).
_JOINERS = frozenset((":", ",", ";"))


def _tokens(text: str, after_separator: dict[int, tuple[str, int]] | None = None) -> list[tuple[str, int]]:
    """Significant tokens with their 1-based line: strings, braces (``{}``, ``<>``, ``[]``),
    ``field:`` and bare words. A ``,`` or ``;`` right after a field's value (protobuf's optional
    separators) is dropped; one anywhere else is kept, for the parser to refuse. The index of
    each token that follows a dropped separator goes in ``after_separator``, with that
    separator and its line: the separator ended the field, so a string there is joined to none
    before it (and in a list only a ``,`` separates values)."""
    out: list[tuple[str, int]] = []
    line = 1
    dropped_at = -1  # len(out) when a separator was last dropped (a second one there is kept)
    dropped = ("", 0)  # (that separator and its line)
    for m in _TOKEN_RE.finditer(text):
        tok = m.group()
        if tok == "\n":
            line += 1
            continue
        if tok[0] in " \t\r\f\v#":
            continue
        if tok in _JOINERS and out and len(out) != dropped_at:
            if tok == ":" and _is_bare_field(out[-1][0]):
                out[-1] = (out[-1][0] + ":", out[-1][1])  # 'name : "x"' is 'name: "x"'
                continue
            if tok != ":" and out[-1][0][0] not in _NO_VALUE_ENDS and not out[-1][0].endswith(":"):
                dropped_at = len(out)  # (after a value: a separator; after a ',', '{' or 'field:' it is kept)
                dropped = (tok, line)
                continue
        if len(out) == dropped_at and after_separator is not None:
            after_separator[len(out)] = dropped
        out.append((tok, line))
    return out


def _is_bare_field(token: str) -> bool:
    """A field name without its colon yet (not a string, delimiter or ``field:``)."""
    return token[0] not in "\"'{}<>[],;" and not token.endswith(":")


def _is_string(token: str) -> bool:
    """Whether ``token`` begins a string (``"`` or ``'``; maybe unterminated)."""
    return token[:1] in ('"', "'")


class _TokenStream:
    """The strict parser's cursor over :func:`_tokens`: what comes next, and the steps that
    consume a string or a brace, each error naming the file and the token's line."""

    def __init__(self, text: str, path: str) -> None:
        self.after_separator: dict[int, tuple[str, int]] = {}  # (tokens a dropped ',' or ';' came before)
        self.toks = _tokens(text, self.after_separator)
        self.n = len(self.toks)
        self.pos = 0
        self.path = path
        self.last_line = text.count("\n") + 1  # where 'end of file' is reported

    def at_end(self) -> bool:
        """Whether every token has been consumed."""
        return self.pos >= self.n

    def peek(self) -> tuple[str, int]:
        """The next token and its line, without consuming it (``""`` at the end of the file)."""
        return self.toks[self.pos] if self.pos < self.n else ("", self.last_line)

    def skip(self) -> None:
        """Consume the next token (past the end too: the next read then reports the end)."""
        self.pos += 1

    def take_string(self, what: str) -> str:
        """Consume a quoted string (after the field ``what``; ``"..."`` or ``'...'``, and
        strings next to each other joined into one, as protobuf does) and return its decoded
        content."""
        tok, line = self.peek()
        if len(tok) < 2 or tok[-1] != tok[0] or tok[0] not in "\"'" or _STRING_RE.fullmatch(tok) is None:
            self._check_string(tok, line, what)  # (raises)
        self.pos += 1
        if not self._joined_string_next():
            return _unescape(tok[1:-1], self.path, line)
        parts = [tok[1:-1]]  # strings next to each other: one string
        while self._joined_string_next():
            self._check_string(*self.toks[self.pos], what)
            parts.append(self.toks[self.pos][0][1:-1])
            self.pos += 1
        return _utf8_text(b"".join(_unescaped_bytes(p, self.path, line) for p in parts), self.path, line)

    def _joined_string_next(self) -> bool:
        """Whether a string to join to the one before comes next (none after a separator:
        ``name: "p", "1"`` is no name "p1")."""
        return self.pos < self.n and _is_string(self.toks[self.pos][0]) and self.pos not in self.after_separator

    def _check_string(self, tok: str, line: int, what: str) -> None:
        """Refuse a token that is no whole string where the field ``what`` takes one (none
        else)."""
        if _is_string(tok) and _STRING_RE.fullmatch(tok) is None:
            raise NetlistError(f"unterminated string after {what!r}: {tok}", self.path, line)
        if not (len(tok) >= 2 and _is_string(tok) and tok[-1] == tok[0]):
            raise NetlistError(
                f"expected a quoted string after {what!r}, got {tok or 'end of file'!r}",
                self.path,
                line,
            )

    def open_block(self, field: str) -> str:
        """Consume ``{`` or ``<`` (after ``field`` / ``field:``); the token that closes it."""
        tok, line = self.peek()
        if tok not in _CLOSER:
            raise NetlistError(
                f"expected '{{' after {field!r}, got {tok or 'end of file'!r}", self.path, line
            )
        self.pos += 1
        return _CLOSER[tok]

    def next_in_block(self, node_start: int, closer: str = "}") -> tuple[str, int] | None:
        """Consume the next token inside a block of the node opened at line ``node_start``:
        the token and its line, or None at the block's ``closer`` (the other closer is refused:
        protobuf closes ``{`` with ``}`` and ``<`` with ``>``)."""
        if self.pos >= self.n:
            raise NetlistError(
                f"file ends inside the node opened at line {node_start} (truncated?)",
                self.path,
                self.last_line,
            )
        tok, line = self.toks[self.pos]
        self.pos += 1
        if tok == closer:
            return None
        if tok in ("}", ">"):
            raise NetlistError(f"expected {closer!r} to close the block, got {tok!r}", self.path, line)
        return tok, line

    def skip_value(self, field: str, node_start: int) -> None:
        """Consume the value of a field the reader does not read (``field``: ``s:``, ``b:``,
        ``list``, ...): one string (or several joined), word or number after ``field:``, a
        list ``[...]`` of them or of messages, or a message ``{...}`` / ``<...>``, whatever it
        holds (its strings checked whole, its delimiters matched)."""
        tok, line = self.peek()
        if tok in _CLOSER or tok == "[":
            closers = []
            while True:
                tok, line = self.peek()
                if not tok:
                    raise NetlistError(f"file ends inside the node opened at line {node_start} (truncated?)",
                                       self.path, self.last_line)  # fmt: skip
                self.pos += 1
                if tok in _CLOSER or tok == "[":
                    closers.append(_CLOSER.get(tok, "]"))
                elif tok in ("}", ">", "]"):
                    if tok != closers.pop():
                        raise NetlistError(f"{tok!r} closes no block here (in the value of {field!r})",
                                           self.path, line)  # fmt: skip
                    if not closers:
                        return
                elif _is_string(tok) and _STRING_RE.fullmatch(tok) is None:
                    raise NetlistError(f"unterminated string in the value of {field!r}: {tok}", self.path, line)
        elif not field.endswith(":"):
            raise NetlistError(f"expected '{{' after {field!r}, got {tok or 'end of file'!r}", self.path, line)
        elif _is_string(tok):
            self.take_string(field)
        elif tok and tok[0] not in "}>],;":
            self.pos += 1  # a number or a word (true, DT_FLOAT)
        else:
            raise NetlistError(f"expected a value after {field!r}, got {tok or 'end of file'!r}", self.path, line)


@dataclasses.dataclass
class _StrictNode:
    """One ``node { }`` block as the strict parser read it, before :func:`_add_node` checks it."""

    start: int  # the line of its 'node'
    name: str | None = None
    inputs: list[str] = dataclasses.field(default_factory=list)
    input_lines: list[int] = dataclasses.field(default_factory=list)
    attrs: dict[str, object] = dataclasses.field(default_factory=dict)
    attr_lines: dict[str, int] = dataclasses.field(default_factory=dict)
    # attributes whose only value is of a kind the reader does not read (s:, b:, list { }):
    # key -> (that field, its line); skipped on a key the format does not define, else refused
    skipped: dict[str, tuple[str, int]] = dataclasses.field(default_factory=dict)


def _parse_strict(text: str, name: str, path: str) -> Netlist:
    """Token-based parser of the layouts the module docstring lists, with precise error
    locations."""
    builder = NetlistBuilder(name, path)
    stream = _TokenStream(text, path)
    nodes_inputs: list[tuple[int, list[str], list[int] | None]] = []
    while not stream.at_end():
        node = _strict_node(stream)
        if node.name != METADATA_NODE:  # (an i: read as an int: a node's numbers are floats)
            node.attrs = {k: float(v) if isinstance(v, int) else v for k, v in node.attrs.items()}
            for key, (field, line) in node.skipped.items():
                if key in KNOWN_KEYS:  # (an unknown key's value is ignored, whatever its kind)
                    raise NetlistError(f"attribute {key!r} of node {node.name!r} takes f:, i: or placeholder:, "
                                       f"got {field!r}", path, line)  # fmt: skip
        _add_node(builder, node.name, node.inputs, node.attrs, node.attr_lines, node.start, path,
                  nodes_inputs, node.input_lines)  # fmt: skip
    for idx, sinks, lines in nodes_inputs:
        builder.add_net_by_name(idx, sinks, lines)
    return builder.build()


def _strict_node(stream: _TokenStream) -> _StrictNode:
    """Read one ``node { ... }`` block: its name, inputs (with their lines) and attributes
    (with the lines of their values), refusing a second ``name:`` and any other field."""
    tok, line = stream.peek()
    if tok not in ("node", "node:"):
        raise NetlistError(f"expected 'node {{', got {tok!r}", stream.path, line)
    node = _StrictNode(start=line)
    stream.skip()
    closer = stream.open_block("node")
    while (item := stream.next_in_block(node.start, closer)) is not None:
        tok, line = item
        if tok == "name:":
            if node.name is not None:  # protobuf refuses a second value of a singular field
                raise NetlistError(f"node {node.name!r} has a second 'name:'", stream.path, line)
            node.name = stream.take_string("name:")
        elif tok == "input:":
            for input_line in _input_lines(stream, line):
                node.input_lines.append(input_line)
                node.inputs.append(stream.take_string("input:"))
        elif tok in ("attr", "attr:"):
            _strict_attr(stream, node, line)
        else:
            raise NetlistError(f"{_EXPECTED_FIELD}, got {tok!r}", stream.path, line)
    return node


def _input_lines(stream: _TokenStream, field_line: int) -> Iterator[int]:
    """The line of each string after an ``input:`` field at ``field_line``, yielded with the
    stream at that string for the caller to take: one, or each of a repeated field's list form
    (protobuf's ``input: ["a/P0", "b/P1"]``; ``[]`` holds none), whose ``]`` is consumed. As in
    protobuf, only ``,`` separates a list's values, and none comes before its ``]``."""
    bracket, opened = stream.peek()
    if bracket != "[":
        yield field_line
        return
    stream.skip()
    tok, line = stream.peek()
    if tok == "]":
        stream.skip()
        return
    while True:
        if not _is_string(tok):  # (an unterminated string: the caller's take names it)
            raise NetlistError(f"expected a quoted string or ']' in the list after 'input:', got "
                               f"{tok or 'end of file'!r}", stream.path, line)  # fmt: skip
        yield line
        tok, line = stream.peek()
        separator = stream.after_separator.get(stream.pos)  # (the tokens drop a ',' after a value)
        if separator is None:
            if tok == "]":
                stream.skip()
                return
            raise NetlistError(f"expected ',' or ']' in the list after 'input:', got {tok or 'end of file'!r}",
                               stream.path, line)  # fmt: skip
        if separator[0] != ",":
            raise NetlistError(f"expected ',' or ']' in the list after 'input:', got {separator[0]!r}",
                               stream.path, separator[1])  # fmt: skip
        if tok == "]":
            raise NetlistError("a ',' before the ']' of the list after 'input:' (protobuf refuses it)",
                               stream.path, separator[1])  # fmt: skip
        if not _is_string(tok):
            raise NetlistError(f"expected a quoted string after ',' in the list after 'input:' (opened at "
                               f"line {opened}, left open?), got {tok or 'end of file'!r}",
                               stream.path, line)  # fmt: skip


def _strict_attr(stream: _TokenStream, node: _StrictNode, attr_start: int) -> None:
    """Read one ``attr { key: ... value { ... } }`` block (its ``attr`` at line
    ``attr_start``) into ``node``'s attributes; a block without its key or its value, or a key
    the node already has, is refused (protobuf refuses a second value of a singular field)."""
    path = stream.path
    closer = stream.open_block("attr")
    key: str | None = None
    value: object = None
    value_line = attr_start
    skipped: tuple[str, int] | None = None  # (a value of a kind not read: its field and line)
    while (item := stream.next_in_block(node.start, closer)) is not None:
        tok, line = item
        if tok == "key:":
            if key is not None:  # (protobuf refuses a second value of a singular
                # field; the last one silently won)
                raise NetlistError(f"attr {key!r} has a second 'key:'", path, line)
            key = stream.take_string("key:")
        elif tok in ("value", "value:"):
            value, value_line, skipped = _strict_value(stream, node, key, value, value_line, skipped)
        else:
            raise NetlistError(f"{_EXPECTED_FIELD}, got {tok!r}", path, line)
    if key is None:
        raise NetlistError("attr block without a 'key'", path, attr_start)
    if key in node.attrs or key in node.skipped:  # (the last one silently won: a second width, type, x ...)
        first = node.attr_lines[key] if key in node.attrs else node.skipped[key][1]
        raise NetlistError(
            f"node {node.name!r} gives the attribute {key!r} twice (first at line {first})", path, attr_start,
        )  # fmt: skip
    if skipped is not None:  # a value of a kind not read: ignored, or refused on a known key
        node.skipped[key] = skipped
        return
    if value is None:  # (read as no attribute: 'lacks the x attribute' at the node's line)
        raise NetlistError(f"attribute {key!r} of node {node.name!r} has no value (expected "
                           "f:, i: or placeholder: inside value { })", path, attr_start)  # fmt: skip
    node.attrs[key] = value
    node.attr_lines[key] = value_line


#: A field's name (with its colon or not), as protobuf's text format spells one.
_FIELD_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*:?")


def _strict_value(
    stream: _TokenStream, node: _StrictNode, key: str | None, value: object, value_line: int,
    skipped: tuple[str, int] | None,
) -> tuple[object, int, tuple[str, int] | None]:
    """Read one ``value { ... }`` block of the attribute ``key``: the attribute's value, its
    line and the field and line of a value of a kind not read (``s:``, ``b:``, ``list { }``:
    skipped whole), given those read so far (an attr may hold several value blocks, but only
    one value in all: protobuf's one-of)."""
    closer = stream.open_block("value")
    while (item := stream.next_in_block(node.start, closer)) is not None:
        tok, line = item
        known = tok == "f:" or tok == "placeholder:" or tok == "i:"
        if not known and _FIELD_NAME_RE.fullmatch(tok) is None:  # (a string, a number, a delimiter)
            raise NetlistError(f"{_EXPECTED_FIELD}, got {tok!r}", stream.path, line)
        if value is not None or skipped is not None:
            raise NetlistError(f"attribute {key!r} has a second value", stream.path, line)
        if tok == "placeholder:":
            value, value_line = stream.take_string("placeholder:"), line
        elif known:
            value, value_line = _strict_number(stream, tok, key, node.name)
        else:
            stream.skip_value(tok, node.start)
            skipped = (tok, line)
    return value, value_line, skipped


def _strict_number(
    stream: _TokenStream, field: str, key: str | None, node_name: str | None
) -> tuple[float | int, int]:
    """Consume the number after ``field`` (``f:`` or ``i:``) of the attribute ``key``: its
    value (an ``i:``'s an exact int, which the ``__metadata__`` node keeps) and line, or an
    error naming the attribute, the node and what was expected."""
    num, num_line = stream.peek()
    written = num  # (what an error names: '0x1F', not the '0x1' left without its F)
    stream.skip()
    if field == "f:" and len(num) > 1 and num[-1] in "fF" and num[-2] in "0123456789.":
        num = num[:-1]  # protobuf's float suffix (1.5f; 'inf' is no number with one)
    of = f" of node {node_name!r}" if node_name is not None else ""
    if field == "i:":  # (parsed once: an integer, in int64 or outside it, or none)
        try:
            exact: int | None = protobuf_int(num)
        except ValueError:  # (none, or an integer int() refuses: over 4,300 digits, far outside)
            exact = None
        if exact is not None and _in_int64(exact):
            return exact, num_line
        if exact is not None or _PROTOBUF_INT_RE.fullmatch(num):
            raise NetlistError(f"attribute {key!r}{of}: i: {written} is out of range (an int64: "
                               f"{INT64_MIN} to {INT64_MAX})", stream.path, num_line)  # fmt: skip
    else:
        try:
            return _attribute_number(num, integer=False), num_line  # (refuses what no float holds)
        except ValueError:
            pass
    kind = "an integer (i:)" if field == "i:" else "a number"
    raise NetlistError(
        f"attribute {key!r}{of} must be {kind}, got {written or 'end of file'!r}",
        stream.path,
        num_line,
    )


def _add_node(
    builder: NetlistBuilder,
    node_name: str | None,
    inputs: list[str],
    attrs: dict[str, object],
    attr_lines: dict[str, int],
    node_start: int | None,
    path: str,
    nodes_inputs: list[tuple[int, list[str], list[int] | None]],
    input_lines: list[int] | None = None,
) -> None:
    """Validate one parsed node and append it to ``builder`` (its net is resolved later;
    ``input_lines``: the line of each input, where the reader knows them)."""
    if node_name is None:
        raise NetlistError("node has no 'name'", path, node_start)
    if node_name == METADATA_NODE:
        # the file's settings, not a node: one with a type or inputs (a node renamed) vanished
        # with its net and shifted every later index; a second one replaced the first
        if "type" in attrs or inputs:
            raise NetlistError(f"the {METADATA_NODE} node holds the file's settings: it takes no "
                               "type and no inputs (a node of that name?)", path, node_start)  # fmt: skip
        if "ct_metadata" in builder.metadata:
            raise NetlistError(f"a second {METADATA_NODE} node", path, node_start)
        builder.metadata["ct_metadata"] = dict(attrs)
        return
    type_text = attrs.get("type")
    if type_text is None:
        raise NetlistError(f"node {node_name!r} lacks the 'type' attribute", path, node_start)
    ntype = CT_TYPES.get(str(type_text))
    if ntype is None:
        raise NetlistError(
            f"node {node_name!r} has unknown type {type_text!r}; expected one of "
            + ", ".join(CT_TYPES),
            path,
            attr_lines.get("type", node_start),
        )
    for req in _REQUIRED[ntype]:
        if req not in attrs:
            raise NetlistError(
                f"{type_text} node {node_name!r} lacks the {req!r} attribute", path, node_start
            )
    for k in _NUMERIC_KEYS:
        v = attrs.get(k)
        if v is not None and not isinstance(v, float):
            raise NetlistError(
                f"attribute {k!r} of node {node_name!r} must be a number, got {v!r}",
                path,
                attr_lines.get(k),
            )
    for k in ("macro_name", "side", "orientation"):  # (a number there became the text "5.0")
        v = attrs.get(k)
        if v is not None and not isinstance(v, str):
            raise NetlistError(
                f"attribute {k!r} of node {node_name!r} must be text (placeholder: \"...\"), got the number {v:g}",
                path,
                attr_lines.get(k),
            )
    for k in ("x", "y", "x_offset", "y_offset"):
        v = attrs.get(k)
        if v is not None and not abs(v) <= MAX_MAGNITUDE:  # type: ignore[arg-type]
            raise NetlistError(
                f"{k} of node {node_name!r} must be a finite number of at most "
                f"{MAX_MAGNITUDE:g} in size, got {v}",
                path,
                attr_lines.get(k),
            )
    width = attrs.get("width", 0.0)
    height = attrs.get("height", 0.0)
    for k, v in (("width", width), ("height", height)):
        if not 0.0 <= v <= MAX_MAGNITUDE:  # type: ignore[operator]
            raise NetlistError(
                f"{k} of node {node_name!r} must be a finite number from 0 to {MAX_MAGNITUDE:g}, got {v}",
                path,
                attr_lines.get(k),
            )
    orient_text = attrs.get("orientation", "N")
    orient = ORIENTATION_CODE.get(str(orient_text))
    if orient is None:
        raise NetlistError(
            f"orientation of node {node_name!r} must be one of {', '.join(ORIENTATIONS)}, "
            f"got {orient_text!r}",
            path,
            attr_lines.get("orientation"),
        )
    weight = attrs.get("weight", 1.0)
    if not 0.0 <= weight <= MAX_MAGNITUDE:  # type: ignore[operator]  # 1e308 overflowed the cost
        raise NetlistError(
            f"weight of node {node_name!r} must be a number from 0 to {MAX_MAGNITUDE:g}, got {weight}",
            path,
            attr_lines.get("weight"),
        )
    macro_name = attrs.get("macro_name")
    idx = builder.add_node(
        node_name,
        ntype,
        width=width,  # type: ignore[arg-type]
        height=height,  # type: ignore[arg-type]
        x=attrs.get("x", 0.0),  # type: ignore[arg-type]
        y=attrs.get("y", 0.0),  # type: ignore[arg-type]
        orientation=orient,
        macro_name=None if macro_name is None else str(macro_name),
        dx=attrs.get("x_offset", 0.0),  # type: ignore[arg-type]
        dy=attrs.get("y_offset", 0.0),  # type: ignore[arg-type]
        weight=weight,  # type: ignore[arg-type]
        side=str(attrs.get("side", "")),
        line=node_start,
    )
    if inputs:
        nodes_inputs.append((idx, list(inputs), input_lines))


def _fmt(v: float) -> str:
    return repr(float(v))


def _check_writable(netlist: Netlist) -> None:
    """Refuse a netlist the format cannot hold as it is (e.g. one read from Bookshelf), where
    the file read back would score another cost: a net is a driver pin's ``input:`` list, so
    two nets with one driver would merge, a net of one pin would vanish (and ``net_cnt`` with
    it), and a net weighs its driver's weight (a port's: 1)."""
    names = netlist.names
    if METADATA_NODE in names:  # read back as the file's settings: the node would vanish
        raise InputError(f"{netlist.name}: a node is called {METADATA_NODE!r}, the name the format "
                         "keeps for the file's settings; rename it")  # fmt: skip
    meta = netlist.metadata.get("ct_metadata")
    for key, value in (meta.items() if isinstance(meta, dict) else ()):
        if _written_as_int(value) and not _in_int64(int(value)):  # (written, the reader refused the file)
            raise InputError(f"{netlist.name}: setting {key!r} = {int(value)} is outside the format's int64 "
                             f"({INT64_MIN} to {INT64_MAX}); the file could not be read back")  # fmt: skip
    drivers = netlist.net_driver
    sizes = np.diff(netlist.net_ptr)
    order = np.argsort(drivers, kind="stable")
    repeated = np.flatnonzero(drivers[order][1:] == drivers[order][:-1])
    if repeated.size:
        first, second = int(order[repeated[0]]), int(order[repeated[0] + 1])
        raise InputError(
            f"{netlist.name}: nets {first} and {second} are both driven by {names[drivers[first]]!r}; "
            "the Circuit Training format has one net per driver pin, so they would merge"
        )
    lone = np.flatnonzero(sizes < 2)
    if lone.size:
        raise InputError(
            f"{netlist.name}: net {int(lone[0])} (driver {names[drivers[lone[0]]]!r}) has no sink; "
            "the Circuit Training format cannot hold it, and dropping it would change net_cnt"
        )
    read_back = np.where(netlist.node_type[drivers] == int(NodeType.PORT), 1.0, netlist.weight[drivers])
    off = np.flatnonzero(read_back != netlist.net_weight)
    if off.size:
        k = int(off[0])
        raise InputError(
            f"{netlist.name}: net {k} weighs {float(netlist.net_weight[k])!r} but would read back "
            f"as {float(read_back[k])!r} (a net weighs its driver's weight, a port's is 1)"
        )


def write_netlist(netlist: Netlist, path: str | Path) -> Path:
    """Write :func:`netlist_text` to ``path`` (gzip when the name ends in ``.gz``) through a
    temporary file renamed over it: a kill never leaves half a netlist."""
    return write_text_atomic(path, netlist_text(netlist))


def netlist_text(netlist: Netlist) -> str:
    """``netlist`` as Circuit Training text.

    Positions and orientations written are the netlist's own (``Netlist.x/y/orientation``);
    floats are written with ``repr`` so that reading back is exact. The ``__metadata__`` node's
    settings are written as read (an ``i:`` stays an ``i:``). Attribute keys the format does
    not define (:data:`KNOWN_KEYS`; another tool's extras) are not kept by the reader, so they
    are not written back.

    Raises:
        ValueError: a netlist whose nets the format cannot hold as they are (two nets with one
            driver, a net without sinks, a net weight other than its driver's): written, it
            would read back as another design with another cost.
    """
    _check_writable(netlist)
    out: list[str] = []
    meta = netlist.metadata.get("ct_metadata")
    if isinstance(meta, dict) and meta:
        out.append('node {\n  name: "' + METADATA_NODE + '"\n')
        for k in sorted(meta):
            out.append(_attr(k, meta[k]))
        out.append("}\n")
    sinks_of: dict[int, list[int]] = {}
    for k in range(netlist.n_nets):
        pins = netlist.net(k)
        sinks_of.setdefault(int(pins[0]), []).extend(int(p) for p in pins[1:])
    names = netlist.names
    types = netlist.node_type.tolist()  # (plain ints, compared with ints: see NodeType)
    hard_macro, soft_macro = int(NodeType.HARD_MACRO), int(NodeType.SOFT_MACRO)
    pin_codes = (int(NodeType.HARD_PIN), int(NodeType.SOFT_PIN))
    type_names = {int(t): name for t, name in CT_TYPE_NAMES.items()}
    for i in range(netlist.n_nodes):
        t = types[i]
        out.append(f"node {{\n  name: {_quote(names[i])}\n")
        for s in sinks_of.get(i, ()):
            out.append(f"  input: {_quote(names[s])}\n")
        attrs: dict[str, object] = {"type": type_names[t]}
        # a macro's size and a hard macro's orientation always; any other node's only where
        # it has one (the reader keeps them: a port's width, a soft macro's orientation)
        macro = t in (hard_macro, soft_macro)
        for key, value in (("width", netlist.width[i]), ("height", netlist.height[i])):
            if macro or value != 0.0:
                attrs[key] = float(value)
        if t == hard_macro or netlist.orientation[i] != 0:
            attrs["orientation"] = ORIENTATIONS[int(netlist.orientation[i])]
        if netlist.side[i]:  # (a port's, and any other node's the reader kept)
            attrs["side"] = netlist.side[i]
        if t in pin_codes:
            attrs["macro_name"] = names[int(netlist.pin_macro[i])]
            attrs["x_offset"] = float(netlist.pin_dx[i])
            attrs["y_offset"] = float(netlist.pin_dy[i])
        if netlist.weight[i] != 1.0:
            attrs["weight"] = float(netlist.weight[i])
        attrs["x"] = float(netlist.x[i])
        attrs["y"] = float(netlist.y[i])
        for k in sorted(attrs):
            out.append(_attr(k, attrs[k]))
        out.append("}\n")
    return "".join(out)


def _attr(key: str, value: object) -> str:
    """One ``attr { }`` block: a float as ``f:``, an int (not a bool) as ``i:``, else text (a
    numpy float32 setting of a code-built netlist was written as text and read back a string)."""
    if isinstance(value, float | np.floating):
        body = f"f: {_fmt(float(value))}"
    elif _written_as_int(value):
        body = f"i: {int(value)}"
    else:
        body = f"placeholder: {_quote(str(value))}"
    return f"  attr {{\n    key: {_quote(key)}\n    value {{\n      {body}\n    }}\n  }}\n"
