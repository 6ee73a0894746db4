"""Each Bookshelf file read into raw records, in file order: the ``.aux``'s file list, the
``.nodes`` (:class:`NodeRecord`), the ``.nets`` (:class:`NetRecord`), the ``.pl`` positions, the ``.scl``
rows and canvas comment, the ``.wts`` weights. Tokens, counts and numbers are checked here: any
malformed input is a :class:`~netlists.errors.NetlistError` naming file, line and expectation.
:mod:`netlists.formats.bookshelf.reader` makes a netlist of the records."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from netlists.errors import NetlistError, warn_netlist
from netlists.formats.bookshelf.coordinates import needs_exact
from netlists.formats.bookshelf.grammar import (
    CANVAS_COMMENT,
    CANVAS_FIELDS,
    CUT_SILENTLY,
    EXTENSIONS,
    INTEGER_CANVAS_FIELDS,
    KIND_COMMENT,
    kind_suffix,
)
from netlists.formats.textio import plain_number, read_text
from netlists.model import MAX_MAGNITUDE, ORIENTATION_CODE, ORIENTATIONS


def _lines(path: Path, text: str | None = None) -> Iterator[tuple[int, list[str]]]:
    """``(line number, tokens)`` of the meaningful lines of ``path`` (or of its already read
    ``text``): comments, blanks and the ``UCLA <kind> <version>`` header dropped (only as the
    first such line: a node or net may be named ``UCLA_x``)."""
    if text is None:
        text = read_text(path)
    lines = text.split("\n")
    if kind_suffix(path) in CUT_SILENTLY and lines[-1].split("#", 1)[0].strip():
        warn_netlist(
            f"{path}:{len(lines)}: the file does not end with a line end: was it cut short? (its "
            "last line is read as it stands; a number cut inside it still reads as a number)",
            stacklevel=2,
        )
    first = True
    for lineno, raw in enumerate(lines, 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        tokens = line.replace(":", " : ").split()
        if first and tokens[0] == "UCLA":
            first = False
            continue
        first = False
        yield lineno, tokens


def _number(token: str, what: str, path: Path, line: int) -> float:
    try:
        value = plain_number(token)
    except ValueError:
        raise NetlistError(f"expected a number for {what}, got {token!r}", path, line) from None
    if not math.isfinite(value):
        raise NetlistError(f"expected a finite number for {what}, got {token!r}", path, line)
    if abs(value) > MAX_MAGNITUDE:
        raise NetlistError(
            f"{what} is {token}: expected a magnitude of at most {MAX_MAGNITUDE:g}", path, line
        )
    return value


def _count(tokens: list[str], path: Path, line: int) -> int:
    """The value of a ``Key : <count>`` line."""
    if len(tokens) != 3 or tokens[1] != ":":
        raise NetlistError(f"expected '{tokens[0]} : <count>'", path, line)
    value = _number(tokens[2], tokens[0], path, line)
    if value < 0 or value != int(value):
        raise NetlistError(
            f"expected a non-negative integer for {tokens[0]}, got {tokens[2]!r}", path, line
        )
    return int(value)


def _check_count(
    declared: tuple[int, int] | None, actual: int, key: str, what: str, path: Path
) -> None:
    if declared is None:
        raise NetlistError(f"expected a '{key} : <count>' line", path)
    if declared[0] != actual:
        raise NetlistError(
            f"{key} is {declared[0]} but {actual} {what} are listed", path, declared[1]
        )


@dataclass
class NodeRecord:
    name: str
    width: float
    height: float
    terminal: str  # "", "terminal" or "terminal_NI"
    line: int


@dataclass
class NetRecord:
    name: str
    line: int
    pins: list[tuple[int, str, float, float, int]] = field(default_factory=list)  # node, dir, dx, dy, line
    degree: int = 0


def existing_file(path: Path) -> Path:
    """``path``, or a NetlistError when it is a folder or does not exist."""
    if path.is_dir():
        raise NetlistError("is a folder: expected a Bookshelf .pl file", path)
    if not path.exists():
        raise NetlistError("no such file", path)
    return path


def read_aux(aux: Path) -> dict[str, Path]:
    if aux.is_dir():
        raise NetlistError("is a folder: expected a Bookshelf .aux file", aux)
    if not aux.is_file():
        raise NetlistError("no such file", aux)
    files: dict[str, Path] = {}
    for lineno, tokens in _lines(aux):
        if len(tokens) < 3 or tokens[1] != ":":
            raise NetlistError("expected 'RowBasedPlacement : <files>'", aux, lineno)
        for name in tokens[2:]:
            path = aux.parent / name
            try:
                is_dir, is_file = path.is_dir(), path.is_file()
            except OSError as error:  # a name too long for the file system: not a bare OSError
                raise NetlistError(f"file {name[:60]!r}{'...' if len(name) > 60 else ''} listed here cannot be "
                                   f"looked up ({error.strerror or error})", aux, lineno) from None
            if is_dir:
                raise NetlistError(f"{name!r} listed here is a folder, not a file", aux, lineno)
            if not is_file:
                raise NetlistError(f"file {name!r} listed here does not exist", aux, lineno)
            kind = kind_suffix(path)
            if kind in files and files[kind] != path and kind in (*EXTENSIONS, ".wts"):  # (the last was read unsaid; files
                # of kinds not read, a README or .shapes, may come in any number)
                raise NetlistError(f"lists two {kind} files ({files[kind].name}, {name})", aux, lineno)
            files[kind] = path
    for ext in EXTENSIONS:
        if ext not in files:
            raise NetlistError(f"expected a {ext} file among the files listed", aux)
    return files


def read_nodes(path: Path) -> tuple[list[NodeRecord], dict[str, str]]:
    """The nodes, and the ``# placer-gym kind : NAME hard|soft`` comments by name (macros
    placer-gym wrote whose kind the height rule would get wrong)."""
    nodes: list[NodeRecord] = []
    seen: set[str] = set()
    num_nodes = num_terminals = None
    text = read_text(path)
    kinds: dict[str, str] = {}
    kind_lines: dict[str, int] = {}
    for lineno, raw in enumerate(text.split("\n"), 1):
        match = KIND_COMMENT.match(raw.strip())
        if match:
            kinds[match.group(1)] = match.group(2)
            kind_lines[match.group(1)] = lineno
    for lineno, tok in _lines(path, text):
        key = tok[0].lower()
        if key == "numnodes":
            num_nodes = (_count(tok, path, lineno), lineno)
            continue
        if key == "numterminals":
            num_terminals = (_count(tok, path, lineno), lineno)
            continue
        if len(tok) not in (3, 4):
            raise NetlistError("expected 'name width height [terminal|terminal_NI]'", path, lineno)
        name = tok[0]
        width = _number(tok[1], f"the width of {name!r}", path, lineno)
        height = _number(tok[2], f"the height of {name!r}", path, lineno)
        if width < 0 or height < 0:
            raise NetlistError(
                f"node {name!r} has a negative size {tok[1]} x {tok[2]}", path, lineno
            )
        terminal = ""
        if len(tok) == 4:
            terminal = {"terminal": "terminal", "terminal_ni": "terminal_NI"}.get(
                tok[3].lower(), ""
            )
            if not terminal:
                raise NetlistError(
                    f"expected 'terminal' or 'terminal_NI', got {tok[3]!r}", path, lineno
                )
        if name in seen:
            raise NetlistError(f"node {name!r} is listed twice", path, lineno)
        seen.add(name)
        nodes.append(NodeRecord(name, width, height, terminal, lineno))
    _check_count(num_nodes, len(nodes), "NumNodes", "nodes", path)
    _check_count(
        num_terminals, sum(1 for n in nodes if n.terminal), "NumTerminals", "terminals", path
    )
    for name, lineno in kind_lines.items():
        if name not in seen:
            raise NetlistError(f"the kind comment names {name!r}, which is no node here", path, lineno)
    return nodes, kinds


def read_nets(path: Path, index: dict[str, int], nodes_file: Path) -> list[NetRecord]:
    nets: list[NetRecord] = []
    num_nets = num_pins = None
    current: NetRecord | None = None

    def finish() -> None:
        if current is not None and len(current.pins) != current.degree:
            label = repr(current.name) if current.name else "(no name)"
            raise NetlistError(
                f"net {label} has NetDegree {current.degree} but {len(current.pins)} pin lines",
                path,
                current.line,
            )

    for lineno, tok in _lines(path):
        key = tok[0].lower()
        expecting_pins = current is not None and len(current.pins) < current.degree
        keyword = len(tok) > 1 and tok[1] == ":"  # "Key : ...", never a pin line
        if keyword and key in ("numnets", "numpins"):
            value = (_count(tok, path, lineno), lineno)
            num_nets, num_pins = (value, num_pins) if key == "numnets" else (num_nets, value)
            continue
        if keyword and key == "netdegree":
            finish()
            if len(tok) not in (3, 4) or tok[1] != ":":
                raise NetlistError("expected 'NetDegree : <k> [name]'", path, lineno)
            degree = _number(tok[2], "NetDegree", path, lineno)
            if degree < 0 or degree != int(degree):
                raise NetlistError(
                    f"expected a non-negative integer NetDegree, got {tok[2]!r}", path, lineno
                )
            current = NetRecord(tok[3] if len(tok) == 4 else "", lineno, degree=int(degree))
            nets.append(current)
            continue
        if current is None or not expecting_pins:
            raise NetlistError(
                f"expected 'NetDegree : <k> <name>', got {' '.join(tok)!r}", path, lineno
            )
        node = index.get(tok[0])
        if node is None:
            raise NetlistError(f"unknown node {tok[0]!r} (not in {nodes_file.name})", path, lineno)
        direction = tok[1].upper() if len(tok) > 1 else "B"
        if direction not in ("I", "O", "B"):
            raise NetlistError(f"expected pin direction I, O or B, got {tok[1]!r}", path, lineno)
        dx = dy = 0.0
        if len(tok) > 2:
            if len(tok) != 5 or tok[2] != ":":
                raise NetlistError("expected 'node I|O|B : x_offset y_offset'", path, lineno)
            dx = _number(tok[3], "the x offset", path, lineno)
            dy = _number(tok[4], "the y offset", path, lineno)
        current.pins.append((node, direction, dx, dy, lineno))
    finish()
    _check_count(num_nets, len(nets), "NumNets", "nets", path)
    _check_count(num_pins, sum(len(n.pins) for n in nets), "NumPins", "pins", path)
    _name_unnamed_nets(nets)
    return nets


def _name_unnamed_nets(nets: list[NetRecord]) -> None:
    """Name each net without a name ``net<k>`` (its position), made unique against the names
    the file gives (an unnamed net took a named one's ``.wts`` weight before)."""
    taken = {net.name for net in nets if net.name}
    for k, net in enumerate(nets):
        if not net.name:
            net.name = unique_name(f"net{k}", taken)
            taken.add(net.name)


def unique_name(name: str, taken: set[str]) -> str:
    """``name``, or ``name~1``, ``name~2``, ... whichever ``taken`` lacks first."""
    candidate, count = name, 0
    while candidate in taken:
        count += 1
        candidate = f"{name}~{count}"
    return candidate


def read_pl(
    path: Path, index: dict[str, int], nodes_file: Path
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[tuple[int, int], str]]:
    """Lower-left x, y, orientation codes and fixed flags; every node must be listed once.
    Also the coordinates written with more digits than a float holds, by (node, axis): their
    centres are computed from the exact decimal (see :func:`corners_from_centres`)."""
    n = len(index)
    exact: dict[tuple[int, int], str] = {}
    x = np.zeros(n)
    y = np.zeros(n)
    orient = np.zeros(n, dtype=np.int8)
    fixed = np.zeros(n, dtype=bool)
    seen = np.zeros(n, dtype=bool)
    for lineno, tok in _lines(path):
        node = index.get(tok[0])
        if node is None:
            raise NetlistError(f"unknown node {tok[0]!r} (not in {nodes_file.name})", path, lineno)
        if len(tok) < 3 or (len(tok) > 3 and tok[3] != ":"):
            raise NetlistError("expected 'name x y : ORIENT [/FIXED|/FIXED_NI]'", path, lineno)
        if seen[node]:
            raise NetlistError(f"node {tok[0]!r} is placed twice", path, lineno)
        seen[node] = True
        x[node] = _number(tok[1], f"the x of {tok[0]!r}", path, lineno)
        y[node] = _number(tok[2], f"the y of {tok[0]!r}", path, lineno)
        for axis, value in ((0, x[node]), (1, y[node])):
            if needs_exact(tok[1 + axis], value):
                exact[(node, axis)] = tok[1 + axis]
        oriented = False
        for extra in tok[4:]:
            if extra.upper() in ("/FIXED", "/FIXED_NI"):
                fixed[node] = True
            elif extra.upper() in ORIENTATION_CODE:
                if oriented:
                    raise NetlistError(f"{tok[0]!r} has two orientations", path, lineno)
                oriented = True
                orient[node] = ORIENTATION_CODE[extra.upper()]
            else:
                raise NetlistError(
                    f"expected an orientation ({', '.join(ORIENTATIONS)}) or /FIXED, got {extra!r}",
                    path,
                    lineno,
                )
    if not seen.all():
        names = list(index)
        missing = np.flatnonzero(~seen)
        raise NetlistError(
            f"{len(missing)} of {n} nodes of {nodes_file.name} have no position here, the first "
            f"{names[missing[0]]!r} (is the file truncated?)",
            path,
        )
    return x, y, orient, fixed, exact


_ROW_NUMBERS = ("coordinate", "height", "sitewidth", "sitespacing", "subroworigin", "numsites")


def read_scl(path: Path) -> tuple[list[dict[str, object]], dict[str, float] | None, int]:
    """Rows as dicts (numbers as floats, ``numsites`` int), the placer-gym canvas comment's
    fields (``None`` when absent) and that comment's line."""
    rows: list[dict[str, object]] = []
    core_rows = 0
    num_rows = None
    current: dict[str, object] | None = None
    subrows: list[dict[str, object]] = []  # a row may be split: SubrowOrigin / NumSites pairs
    text = read_text(path)
    for lineno, tok in _lines(path, text):
        key = tok[0].lower()
        if key == "numrows" and current is None:
            num_rows = (_count(tok, path, lineno), lineno)
        elif key == "corerow":
            if current is not None:
                raise NetlistError("expected 'End' before the next CoreRow", path, lineno)
            direction = tok[1] if len(tok) > 1 else "Horizontal"
            if direction.lower() != "horizontal":
                raise NetlistError(
                    f"only 'CoreRow Horizontal' rows are supported, got {direction!r}", path, lineno
                )
            current = {"_line": lineno, "direction": direction}
        elif key == "end":
            if current is None:
                raise NetlistError("'End' without a 'CoreRow'", path, lineno)
            for sub in subrows or [{}]:  # each sub-row a row of its own (same y, height)
                rows.append(_finish_row({**current, **sub}, path))
            core_rows += 1
            current, subrows = None, []
        else:
            if current is None:
                raise NetlistError(
                    f"expected 'CoreRow Horizontal', got {' '.join(tok)!r}", path, lineno
                )
            if len(tok) % 3 != 0 or any(tok[i + 1] != ":" for i in range(0, len(tok), 3)):
                raise NetlistError("expected 'Key : value' pairs", path, lineno)
            for i in range(0, len(tok), 3):
                k = tok[i].lower()
                value = _number(tok[i + 2], tok[i], path, lineno) if k in _ROW_NUMBERS else tok[i + 2]
                if k == "height" and value <= 0:  # type: ignore[operator]
                    raise NetlistError(
                        f"row Height must be positive, got {tok[i + 2]!r}", path, lineno
                    )
                if k in ("subroworigin", "numsites"):
                    if not subrows or k in subrows[-1]:
                        subrows.append({})
                    subrows[-1][k] = value
                    continue
                if k in current:
                    raise NetlistError(f"{tok[i]!r} given twice in one row", path, lineno)
                current[k] = value
    if current is not None:
        raise NetlistError("expected 'End' after the last CoreRow", path, int(current["_line"]))  # type: ignore[call-overload]
    _check_count(num_rows, core_rows, "NumRows", "rows", path)
    if not rows:
        raise NetlistError("expected at least one CoreRow", path)
    canvas_fields = None
    canvas_line = 0
    for lineno, raw in enumerate(text.split("\n"), 1):
        match = CANVAS_COMMENT.match(raw.strip())
        if match:
            values = match.group(1).split()
            if len(values) != len(CANVAS_FIELDS):
                raise NetlistError(
                    f"expected {len(CANVAS_FIELDS)} numbers: {' '.join(CANVAS_FIELDS)}",
                    path,
                    lineno,
                )
            if canvas_fields is not None:
                raise NetlistError(
                    f"a second canvas comment (the first is at line {canvas_line})", path, lineno
                )
            canvas_fields = {
                k: _number(v, k, path, lineno) for k, v in zip(CANVAS_FIELDS, values, strict=True)
            }
            for k in INTEGER_CANVAS_FIELDS:
                if not canvas_fields[k].is_integer():
                    raise NetlistError(f"expected an integer {k}, got {canvas_fields[k]}", path, lineno)
            canvas_line = lineno
    return rows, canvas_fields, canvas_line


def _finish_row(row: dict[str, object], path: Path) -> dict[str, object]:
    line = int(row.pop("_line"))  # type: ignore[call-overload]
    for key, label in (
        ("coordinate", "Coordinate"),
        ("height", "Height"),
        ("subroworigin", "SubrowOrigin"),
        ("numsites", "NumSites"),
    ):
        if key not in row:
            raise NetlistError(f"row lacks '{label} : <value>'", path, line)
    row.setdefault("sitewidth", 1.0)
    row.setdefault("sitespacing", row["sitewidth"])
    row.setdefault("siteorient", "1")
    row.setdefault("sitesymmetry", "1")
    sites = float(row["numsites"])  # type: ignore[arg-type]
    if sites < 0 or sites != int(sites) or float(row["sitespacing"]) < 0:  # type: ignore[arg-type]
        raise NetlistError(
            "expected a non-negative integer NumSites and Sitespacing >= 0", path, line
        )
    row["numsites"] = int(sites)
    return row


def read_wts(path: Path, nets: list[NetRecord], index: dict[str, int]) -> np.ndarray:
    weight = np.ones(len(nets))
    by_name: dict[str, list[int]] = {}
    for k, net in enumerate(nets):
        by_name.setdefault(net.name, []).append(k)
    for lineno, tok in _lines(path):
        if len(tok) != 2:
            raise NetlistError("expected 'net_name weight'", path, lineno)
        value = _number(tok[1], f"the weight of {tok[0]!r}", path, lineno)
        if value < 0:
            raise NetlistError(f"weight of {tok[0]!r} is negative", path, lineno)
        named = by_name.get(tok[0], [])
        if len(named) > 1:
            lines = ", ".join(str(nets[k].line) for k in named)
            raise NetlistError(
                f"net name {tok[0]!r} is given to {len(named)} nets of the .nets file (lines "
                f"{lines}): its weight cannot name one of them", path, lineno,
            )  # fmt: skip
        if named:
            weight[named] = value
        elif tok[0] not in index:  # node weights have no meaning here
            raise NetlistError(f"unknown net {tok[0]!r}", path, lineno)
    return weight
