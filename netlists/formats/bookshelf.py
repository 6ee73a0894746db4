"""Bookshelf placement format (ISPD / ICCAD academic suites): ``.aux .nodes .nets .pl .scl [.wts]``.

Files: ``.aux`` names the others (``RowBasedPlacement : d.nodes d.nets d.wts d.pl d.scl``);
``.nodes`` has ``NumNodes``/``NumTerminals`` and ``name width height [terminal|terminal_NI]``;
``.nets`` has ``NumNets``/``NumPins`` and, per net, ``NetDegree : k name`` followed by k lines
``node I|O|B [: dx dy]`` (offsets from the node *centre*, orientation N); ``.pl`` has
``name x y : ORIENT [/FIXED|/FIXED_NI]`` with the *lower-left* corner of the (turned) node;
``.scl`` has ``CoreRow`` blocks (``Coordinate``, ``Height``, ``Sitewidth``, ``Sitespacing``,
``SubrowOrigin``, ``NumSites``); the optional ``.wts`` has ``name weight`` lines (net weights;
lines naming a node are node weights and are ignored).

Mapping into :class:`~netlists.model.Netlist`:

* row height = the largest row ``Height``; a terminal of zero area is a PORT, and so is a pad:
  a terminal with an area that lies wholly outside the rows (I/O pads around the core) or is
  ``terminal_NI`` (allowed to overlap anything), at its centre (its pins meet there; its size
  is kept in ``metadata`` for writing); other terminals and every node taller than the row
  height are hard macros (fixed blockages); the rest are soft macros (standard cells or
  clusters; a cell of double height or more is a hard macro). Terminals are fixed, as are
  ``/FIXED`` and ``/FIXED_NI`` nodes.
* every pin line of a net becomes a pin node ``<node>/P<j>`` (j counts that node's pins in net
  order), placed right after its node: HARD_PIN with the offset for a hard macro, SOFT_PIN for
  a soft macro (offset kept, though the cost puts soft pins at the centre); a port is its own pin.
* a net's driver is its first ``O`` pin (else its first pin); the other pins follow in file
  order. The ``.wts`` weight (1 when absent) goes into ``net_weight`` and the driver's
  ``weight``. (A port may drive several nets; its ``weight`` is that of the first.)
* sizes are the footprint as placed: a node turned E, FE, W or FW gets the ``.nodes`` width
  and height swapped (the cost reads sizes whatever the orientation; writing swaps them back).
  Positions are centres: lower-left + half the footprint, shifted so that the lower-left corner of the rows' bounding box is the origin (the
  sum rounded once). The
  canvas is that bounding box; grid and routing follow :mod:`netlists.defaults`.
* ``metadata`` keeps what the model has no field for, so that writing restores it:
  ``bookshelf_origin`` (the shift), ``bookshelf_rows``, ``bookshelf_row_height``,
  ``bookshelf_net_names``, ``bookshelf_terminals`` (name -> ``terminal``/``terminal_NI``) and
  ``bookshelf_pad_sizes`` (name -> ``.nodes`` width and height of each pad).

Writing lists ports and macros as nodes (ports 0 x 0, ``terminal``; pads with their size and a
``# placer-gym kind : NAME pad`` comment, so they stay ports wherever they lie) and every net pin by its
owner; the driver is written ``O``, the other pins ``I`` (``B`` directions are not kept). Netlists
that did not come from Bookshelf get rows synthesised over the canvas with the tallest soft macro
as row height (so hard macros no taller than that are standard cells to other Bookshelf tools,
which do not read the kind comments below) and net names from their drivers; a macro the reader's height rule would class
otherwise (a hard macro no taller than a row) is named in a ``# placer-gym kind : NAME hard``
comment of the ``.nodes``, which the reader applies, so hard macros stay hard. The canvas grid and routing figures are written as a ``# placer-gym canvas``
comment in the ``.scl`` and read back from it, so for a design read from Bookshelf, read ->
write -> read gives the same netlist, placement and canvas (corners are written so that the
centres read back exactly). A design from another format comes back in Bookshelf's own shape:
ports are fixed terminals and every net pin is its own pin node, so node indices (and the
design's ``.plc`` files) do not carry over.
"""

from __future__ import annotations

import dataclasses
import math
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal, localcontext
from fractions import Fraction
from pathlib import Path

import numpy as np

from netlists.builder import NetlistBuilder
from netlists.defaults import default_canvas
from netlists.errors import NetlistError, NetlistWarning
from netlists.formats.plc import check_writable
from netlists.formats.textio import plain_number, read_text, text_writer, write_atomically
from netlists.model import (
    MAX_MAGNITUDE,
    ORIENTATION_CODE,
    ORIENTATIONS,
    Canvas,
    Netlist,
    NodeType,
    Placement,
    canvas_problem,
    orient_offsets,
)

_EXTENSIONS = (".nodes", ".nets", ".pl", ".scl")
_TURNED = {ORIENTATION_CODE[o] for o in ("E", "FE", "W", "FW")}
_CANVAS_COMMENT = re.compile(r"^#\s*placer-gym canvas\s*:(.*)$")
_CANVAS_FIELDS = (
    "cols", "rows", "hroutes_per_micron", "vroutes_per_micron",
    "hrouting_alloc", "vrouting_alloc", "smooth_range", "overlap_threshold",
)  # fmt: skip
_INTEGER_CANVAS_FIELDS = ("cols", "rows", "smooth_range")
_BAD_NAME = re.compile(r"[\s#:]")
#: Files whose last line, cut inside a number, still reads as a line of the format (no end
#: marker, optional last field): one without a final line end is named in a warning.
_CUT_SILENTLY = (".nodes", ".nets", ".pl", ".wts")
_KIND_COMMENT = re.compile(r"^#\s*placer-gym kind\s*:\s*(\S+)\s+(hard|soft|pad)$")


# ----------------------------------------------------------------------------- reading helpers
def _lines(path: Path, text: str | None = None) -> Iterator[tuple[int, list[str]]]:
    """``(line number, tokens)`` of the meaningful lines of ``path`` (or of its already read
    ``text``): comments, blanks and the ``UCLA <kind> <version>`` header dropped (only as the
    first such line: a node or net may be named ``UCLA_x``)."""
    if text is None:
        text = read_text(path)
    lines = text.split("\n")
    if _kind_suffix(path) in _CUT_SILENTLY and lines[-1].split("#", 1)[0].strip():
        warnings.warn(NetlistWarning(
            f"{path}:{len(lines)}: the file does not end with a line end: was it cut short? (its "
            "last line is read as it stands; a number cut inside it still reads as a number)"
        ), stacklevel=2)
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
class _Node:
    name: str
    width: float
    height: float
    terminal: str  # "", "terminal" or "terminal_NI"
    line: int


@dataclass
class _Net:
    name: str
    line: int
    pins: list[tuple[int, str, float, float, int]] = field(default_factory=list)  # node, dir, dx, dy, line
    degree: int = 0


def _kind_suffix(path: Path) -> str:
    """A Bookshelf file's kind by its suffix, a gzip ``.gz`` after it looked through
    (``d.nodes.gz`` is a ``.nodes``; the readers decompress it)."""
    suffixes = [s.lower() for s in path.suffixes]
    if len(suffixes) >= 2 and suffixes[-1] == ".gz":
        return suffixes[-2]
    return path.suffix.lower()


def is_bookshelf_aux(path: str | Path) -> bool:
    """Whether ``path`` names a Bookshelf ``.aux`` (``.aux.gz`` too)."""
    return _kind_suffix(Path(path)) == ".aux"


def _warn_of_moved_fixed_nodes(
    raw: list[_Node], read: tuple[np.ndarray, ...], pl: Path, own_pl: Path, index: dict[str, int], nodes_file: Path
) -> None:
    """Warn when another ``.pl`` of a design moves, turns or unfixes a node the design's own
    ``.pl`` fixes (a terminal, a pad, a ``/FIXED`` blockage): the placement reads, but it is
    not one of this design (benchmark checkers compare fixed objects with the design's)."""
    llx, lly, orient, fixed = read
    own_x, own_y, own_orient, own_fixed, _ = _read_pl(own_pl, index, nodes_file)
    terminal = np.array([bool(node.terminal) for node in raw], dtype=bool)  # (fixed, flag or not)
    changed = (terminal | own_fixed) & ((llx != own_x) | (lly != own_y) | (orient != own_orient))
    changed |= ~terminal & own_fixed & ~fixed
    if changed.any():
        first = raw[int(np.flatnonzero(changed)[0])].name
        warnings.warn(NetlistWarning(
            f"{pl}: moves, turns or unfixes {int(changed.sum())} node(s) that {own_pl.name} fixes (first: "
            f"{first!r}): not a placement of this design as given"
        ), stacklevel=3)


def _existing_file(path: Path) -> Path:
    """``path``, or a NetlistError when it is a folder or does not exist."""
    if path.is_dir():
        raise NetlistError("is a folder: expected a Bookshelf .pl file", path)
    if not path.exists():
        raise NetlistError("no such file", path)
    return path


def is_bookshelf_pl(path: str | Path) -> bool:
    """Whether ``path`` names a Bookshelf ``.pl`` placement (``.pl.gz`` too)."""
    return _kind_suffix(Path(path)) == ".pl"


def listed_files(aux_path: str | Path) -> list[Path]:
    """The files a Bookshelf ``.aux`` lists (NetlistError as reading the design would)."""
    return list(_read_aux(Path(aux_path)).values())


def _read_aux(aux: Path) -> dict[str, Path]:
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
            kind = _kind_suffix(path)
            if kind in files and files[kind] != path and kind in (*_EXTENSIONS, ".wts"):  # (the last was read unsaid; files
                # of kinds not read, a README or .shapes, may come in any number)
                raise NetlistError(f"lists two {kind} files ({files[kind].name}, {name})", aux, lineno)
            files[kind] = path
    for ext in _EXTENSIONS:
        if ext not in files:
            raise NetlistError(f"expected a {ext} file among the files listed", aux)
    return files


def _read_nodes(path: Path) -> tuple[list[_Node], dict[str, str]]:
    """The nodes, and the ``# placer-gym kind : NAME hard|soft`` comments by name (macros
    placer-gym wrote whose kind the height rule would get wrong)."""
    nodes: list[_Node] = []
    seen: set[str] = set()
    num_nodes = num_terminals = None
    text = read_text(path)
    kinds: dict[str, str] = {}
    kind_lines: dict[str, int] = {}
    for lineno, raw in enumerate(text.split("\n"), 1):
        match = _KIND_COMMENT.match(raw.strip())
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
        nodes.append(_Node(name, width, height, terminal, lineno))
    _check_count(num_nodes, len(nodes), "NumNodes", "nodes", path)
    _check_count(
        num_terminals, sum(1 for n in nodes if n.terminal), "NumTerminals", "terminals", path
    )
    for name, lineno in kind_lines.items():
        if name not in seen:
            raise NetlistError(f"the kind comment names {name!r}, which is no node here", path, lineno)
    return nodes, kinds


def _read_nets(path: Path, index: dict[str, int], nodes_file: Path) -> list[_Net]:
    nets: list[_Net] = []
    num_nets = num_pins = None
    current: _Net | None = None

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
            current = _Net(tok[3] if len(tok) == 4 else "", lineno, degree=int(degree))
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


#: A pin more than this share of its node's size (or 1e-6) outside the node's edge is named in
#: a warning: real suites overhang a little, a mistyped offset by far.
PIN_OVERHANG = 1.0


def _warn_of_odd_sizes_and_pins(raw: list[_Node], nets: list[_Net], nodes_file: Path, nets_file: Path) -> None:
    """Warn (naming the first few by file and line) of movable nodes of zero size (no macro of
    any kind: they read as soft macros of no area) and of pins far outside their node (an offset
    of 11697 for 11.697 read silently, doubling the proxy)."""
    empty = [node for node in raw if not node.terminal and node.width * node.height == 0]
    if empty:
        shown = ", ".join(f"{n.name!r} (line {n.line})" for n in empty[:3])
        warnings.warn(NetlistWarning(
            f"{nodes_file}: {len(empty)} movable node(s) of zero size, e.g. {shown}: read as soft "
            "macros of no area"), stacklevel=3)
    far = []
    for net in nets:
        for node, _, dx, dy, line in net.pins:
            w, h = raw[node].width, raw[node].height
            if raw[node].terminal and w * h == 0:
                continue  # a port: its pins are read at its centre
            if abs(dx) > w / 2 + max(PIN_OVERHANG * w, 1e-6) or abs(dy) > h / 2 + max(PIN_OVERHANG * h, 1e-6):
                far.append(f"line {line}: {raw[node].name!r} offset ({dx:g}, {dy:g}) on a {w:g} x {h:g} node")
    if far:
        warnings.warn(NetlistWarning(
            f"{nets_file}: {len(far)} pin(s) lie far outside their node, e.g. " + "; ".join(far[:3])
            + " (a mistyped offset?)"), stacklevel=3)


def _name_unnamed_nets(nets: list[_Net]) -> None:
    """Name each net without a name ``net<k>`` (its position), made unique against the names
    the file gives (an unnamed net took a named one's ``.wts`` weight before)."""
    taken = {net.name for net in nets if net.name}
    for k, net in enumerate(nets):
        if not net.name:
            net.name = _unique(f"net{k}", taken)
            taken.add(net.name)


def _unique(name: str, taken: set[str]) -> str:
    """``name``, or ``name~1``, ``name~2``, ... whichever ``taken`` lacks first."""
    candidate, count = name, 0
    while candidate in taken:
        count += 1
        candidate = f"{name}~{count}"
    return candidate


def _read_pl(
    path: Path, index: dict[str, int], nodes_file: Path
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[tuple[int, int], str]]:
    """Lower-left x, y, orientation codes and fixed flags; every node must be listed once.
    Also the coordinates written with more digits than a float holds, by (node, axis): their
    centres are computed from the exact decimal (see :func:`_corners`)."""
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
            if _needs_exact(tok[1 + axis], value):
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


def _read_scl(path: Path) -> tuple[list[dict[str, object]], dict[str, float] | None, int]:
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
        match = _CANVAS_COMMENT.match(raw.strip())
        if match:
            values = match.group(1).split()
            if len(values) != len(_CANVAS_FIELDS):
                raise NetlistError(
                    f"expected {len(_CANVAS_FIELDS)} numbers: {' '.join(_CANVAS_FIELDS)}",
                    path,
                    lineno,
                )
            if canvas_fields is not None:
                raise NetlistError(
                    f"a second canvas comment (the first is at line {canvas_line})", path, lineno
                )
            canvas_fields = {
                k: _number(v, k, path, lineno) for k, v in zip(_CANVAS_FIELDS, values, strict=True)
            }
            for k in _INTEGER_CANVAS_FIELDS:
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
    if float(row["height"]) <= 0:  # type: ignore[arg-type]
        raise NetlistError(f"row Height must be positive, got {row['height']}", path, line)
    sites = float(row["numsites"])  # type: ignore[arg-type]
    if sites < 0 or sites != int(sites) or float(row["sitespacing"]) < 0:  # type: ignore[arg-type]
        raise NetlistError(
            "expected a non-negative integer NumSites and Sitespacing >= 0", path, line
        )
    row["numsites"] = int(sites)
    return row


def _read_wts(path: Path, nets: list[_Net], index: dict[str, int]) -> np.ndarray:
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


def _footprint(
    width: np.ndarray, height: np.ndarray, orient: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    turned = np.isin(orient, list(_TURNED))
    return np.where(turned, height, width), np.where(turned, width, height)


def _side(x: float, y: float, width: float, height: float) -> str:
    distances = (x, width - x, y, height - y)
    return ("LEFT", "RIGHT", "BOTTOM", "TOP")[int(np.argmin(distances))]


# ---------------------------------------------------------------------------------- reader
def read_bookshelf(aux_path: str | Path, pl: str | Path | None = None) -> tuple[Netlist, Placement]:
    """Read a Bookshelf design given its ``.aux``; the netlist has its canvas set. ``pl``: another
    placement of the design (a placer's output ``.pl``), read instead of the one the ``.aux``
    lists; it must place every node, as the design's own must.

    Raises:
        NetlistError: naming file, line and expectation on any malformed input.
    """
    aux = Path(aux_path)
    files = _read_aux(aux)
    own_pl = files[".pl"]
    if pl is not None:
        files[".pl"] = _existing_file(Path(pl))
    raw, kinds = _read_nodes(files[".nodes"])
    index = {node.name: i for i, node in enumerate(raw)}
    nets = _read_nets(files[".nets"], index, files[".nodes"])
    _warn_of_odd_sizes_and_pins(raw, nets, files[".nodes"], files[".nets"])
    llx, lly, orient, pl_fixed, exact = _read_pl(files[".pl"], index, files[".nodes"])
    if files[".pl"] != own_pl:
        _warn_of_moved_fixed_nodes(raw, (llx, lly, orient, pl_fixed), files[".pl"], own_pl, index, files[".nodes"])
    rows, canvas_fields, canvas_line = _read_scl(files[".scl"])
    net_weight = _read_wts(files[".wts"], nets, index) if ".wts" in files else np.ones(len(nets))

    row_height = max(float(r["height"]) for r in rows)  # type: ignore[arg-type]
    x0 = min(float(r["subroworigin"]) for r in rows)  # type: ignore[arg-type]
    y0 = min(float(r["coordinate"]) for r in rows)  # type: ignore[arg-type]
    x1 = max(float(r["subroworigin"]) + int(r["numsites"]) * float(r["sitespacing"]) for r in rows)  # type: ignore[arg-type]
    y1 = max(float(r["coordinate"]) + float(r["height"]) for r in rows)  # type: ignore[arg-type]
    canvas_w, canvas_h = x1 - x0, y1 - y0
    if not (0 < canvas_w < math.inf and 0 < canvas_h < math.inf):
        raise NetlistError(
            f"rows span {canvas_w} x {canvas_h}: expected a positive, finite area", files[".scl"]
        )

    n = len(raw)
    width = np.array([node.width for node in raw])
    height = np.array([node.height for node in raw])
    terminal = np.array([bool(node.terminal) for node in raw])
    node_type = np.full(n, int(NodeType.SOFT_MACRO), dtype=np.int8)
    node_type[(height > row_height) | terminal] = NodeType.HARD_MACRO
    for name, kind in kinds.items():  # placer-gym's record of macros the rule gets wrong
        if kind != "pad":
            node_type[index[name]] = NodeType.HARD_MACRO if kind == "hard" else NodeType.SOFT_MACRO
    foot_w, foot_h = _footprint(width, height, orient)
    # pads: terminals wholly outside the rows (I/O pads around the core) and terminal_NI ones
    # (allowed to overlap anything) are ports at their centres, not fixed blockages that no
    # legal placement could keep
    outside_rows = (llx + foot_w <= x0) | (llx >= x1) | (lly + foot_h <= y0) | (lly >= y1)
    kind_ni = np.array([node.terminal == "terminal_NI" for node in raw], dtype=bool)
    written_pad = np.array([kinds.get(node.name) == "pad" for node in raw], dtype=bool)  # moved in
    pads = terminal & (width * height > 0) & (outside_rows | kind_ni | written_pad)
    node_type[terminal & ((width * height == 0) | pads)] = NodeType.PORT
    is_port = node_type == NodeType.PORT
    pad_sizes = {raw[i].name: (float(width[i]), float(height[i])) for i in np.flatnonzero(pads)}
    # the model's sizes are the footprint as placed (the cost uses them whatever the
    # orientation): a turned macro's .nodes sizes swapped; ports have none
    width, height = np.where(is_port, 0.0, foot_w), np.where(is_port, 0.0, foot_h)
    cx = _centres(llx, foot_w / 2, x0)
    cy = _centres(lly, foot_h / 2, y0)
    for (node, axis), token in exact.items():
        foot, origin, centre = (foot_w, x0, cx) if axis == 0 else (foot_h, y0, cy)
        centre[node] = float(Fraction(token) + Fraction(foot[node] / 2) - Fraction(origin))
    fixed = terminal | pl_fixed

    # pins of every node, in net order (driver first within a net)
    pins_of: list[list[tuple[int, int, float, float]]] = [
        [] for _ in range(n)
    ]  # (net, slot, dx, dy)
    ordered: list[list[tuple[int, float, float]]] = []
    for k, net in enumerate(nets):
        if not net.pins:
            ordered.append([])
            continue
        drv = next((j for j, p in enumerate(net.pins) if p[1] == "O"), 0)
        pins = [net.pins[drv]] + net.pins[:drv] + net.pins[drv + 1 :]
        ordered.append([(p[0], p[2], p[3]) for p in pins])
        for slot, (node, dx, dy) in enumerate(ordered[-1]):
            if not is_port[node]:
                pins_of[node].append((k, slot, dx, dy))

    port_weight: dict[int, float] = {}  # a port driving several nets weighs as its first
    for k, pins in enumerate(ordered):
        if pins and is_port[pins[0][0]]:
            port_weight.setdefault(pins[0][0], float(net_weight[k]))

    design_name = aux.name[: -len(".aux.gz")] if aux.name.lower().endswith(".aux.gz") else aux.stem
    builder = NetlistBuilder(design_name, str(files[".nodes"]))  # its errors name .nodes lines
    taken = set(index)  # pin names must not collide with a node's name ("a/P0" in the .nodes)
    net_node: list[list[int]] = [[0] * len(p) for p in ordered]
    place_x: list[float] = []
    place_y: list[float] = []
    place_o: list[int] = []
    place_fixed: list[bool] = []
    raw_to_index = np.zeros(n, dtype=np.int64)
    for i, node in enumerate(raw):
        t = NodeType(int(node_type[i]))
        kwargs: dict[str, object] = {"width": float(width[i]), "height": float(height[i])}
        if t == NodeType.PORT:
            kwargs = {
                "side": _side(cx[i], cy[i], canvas_w, canvas_h),
                "weight": port_weight.get(i, 1.0),
            }
        idx = builder.add_node(
            node.name,
            t,
            x=float(cx[i]),
            y=float(cy[i]),
            orientation=int(orient[i]),
            line=node.line,
            **kwargs,  # type: ignore[arg-type]
        )
        place_x.append(float(cx[i]))
        place_y.append(float(cy[i]))
        place_o.append(int(orient[i]))
        place_fixed.append(bool(fixed[i]))
        raw_to_index[i] = idx
        if t == NodeType.PORT:
            continue
        pin_type = NodeType.HARD_PIN if t == NodeType.HARD_MACRO else NodeType.SOFT_PIN
        pdx = np.array([p[2] for p in pins_of[i]])
        pdy = np.array([p[3] for p in pins_of[i]])
        if t == NodeType.HARD_MACRO:
            ox, oy = orient_offsets(pdx, pdy, np.full(pdx.shape, orient[i]))
        else:
            ox, oy = np.zeros_like(pdx), np.zeros_like(pdy)
        for j, (k, slot, dx, dy) in enumerate(pins_of[i]):
            pin_name = _unique(f"{node.name}/P{j}", taken)
            taken.add(pin_name)
            pin = builder.add_node(
                pin_name, pin_type, macro_name=node.name, dx=dx, dy=dy,
                x=float(cx[i] + ox[j]), y=float(cy[i] + oy[j]),
                weight=float(net_weight[k]) if slot == 0 else 1.0,
            )  # fmt: skip
            net_node[k][slot] = pin
            place_x.append(float(cx[i] + ox[j]))
            place_y.append(float(cy[i] + oy[j]))
            place_o.append(0)
            place_fixed.append(bool(fixed[i]))

    for k, pins in enumerate(ordered):
        for slot, (node, _, _) in enumerate(pins):
            if is_port[node]:
                net_node[k][slot] = raw_to_index[node]
    kept = [k for k, pins in enumerate(ordered) if pins]
    for k in kept:
        builder.add_net(net_node[k][0], net_node[k][1:])
    n_macros = int(np.sum((node_type == NodeType.HARD_MACRO) | (node_type == NodeType.SOFT_MACRO)))
    try:
        canvas = _canvas(canvas_w, canvas_h, n_macros, canvas_fields)
    except ValueError as exc:  # default routing of rows too small (or large) to price
        raise NetlistError(
            f"rows span {canvas_w} x {canvas_h}, which no default grid fits: {exc}",
            files[".scl"],
        ) from None
    problem = canvas_problem(canvas)
    if problem is not None:  # only a canvas comment can make it so: row extents are checked
        raise NetlistError(problem[1], files[".scl"], canvas_line or None)
    builder.metadata.update(
        {
            "bookshelf_origin": (x0, y0),
            "bookshelf_rows": [dict(r) for r in rows],
            "bookshelf_row_height": row_height,
            "bookshelf_net_names": tuple(nets[k].name for k in kept),
            "bookshelf_terminals": {node.name: node.terminal for node in raw if node.terminal},
            "bookshelf_pad_sizes": pad_sizes,
            # macros the .pl read turned by 90 degrees (their footprint is the .nodes size
            # swapped): a .pl alone can only be written for them turned as here (pl_text)
            "bookshelf_turned": frozenset(raw[i].name for i in np.flatnonzero(np.isin(orient, list(_TURNED)))),
        }
    )
    netlist = builder.build(canvas)
    netlist = dataclasses.replace(
        netlist, net_weight=net_weight[kept].astype(np.float64), metadata=dict(netlist.metadata)
    )
    placement = Placement(
        x=np.array(place_x), y=np.array(place_y),
        orientation=np.array(place_o, dtype=np.int8), fixed=np.array(place_fixed, dtype=bool),
    )  # fmt: skip
    return netlist, placement


def _canvas(width: float, height: float, n_macros: int, fields: dict[str, float] | None) -> Canvas:
    if fields is None:
        return default_canvas(width, height, n_macros)
    return Canvas(
        width=width, height=height, cols=int(fields["cols"]), rows=int(fields["rows"]),
        hroutes_per_micron=fields["hroutes_per_micron"], vroutes_per_micron=fields["vroutes_per_micron"],
        hrouting_alloc=fields["hrouting_alloc"], vrouting_alloc=fields["vrouting_alloc"],
        smooth_range=int(fields["smooth_range"]), overlap_threshold=fields["overlap_threshold"],
    )  # fmt: skip


# ---------------------------------------------------------------------------------- writer
#: A plain decimal (no exponent): the form :func:`_corners` writes exact corners in.
_PLAIN_DECIMAL = re.compile(r"^[+-]?\d+(\.\d+)?$")


#: Longer than any exact corner (a float's exact decimal has at most 767 significant digits,
#: plus zeros after the point): a longer token is read as a float, not summed exactly.
_LONGEST_EXACT = 1500


def _needs_exact(token: str, value: float) -> bool:
    """Whether a coordinate token is an exact corner written by :func:`_corners`: a binary
    fraction (a whole number, or decimals ending in 5) that no float equals; every such token
    has at least 16 significant digits. Its centre is then summed from the exact value. A
    float's shortest ``repr`` is not one (it only rounds to its float), and tokens with an
    exponent are read as floats (a huge exponent would make the exact value astronomically long)."""
    if not 16 <= len(token) <= _LONGEST_EXACT or _PLAIN_DECIMAL.match(token) is None:
        return False
    if "." in token and not token.endswith("5"):  # k / 2**m with m decimals ends in 5
        return False
    if Decimal(token) == Decimal(value):
        return False
    denominator = Fraction(token).denominator
    return denominator & (denominator - 1) == 0  # a power of two


def _centres(corner: np.ndarray, half: np.ndarray, origin: float) -> np.ndarray:
    """``corner + half - origin`` rounded once (``math.fsum``): the centre of each node."""
    return np.array(
        [math.fsum((c, h, -origin)) for c, h in zip(corner.tolist(), half.tolist(), strict=True)],
        dtype=np.float64,
    )


def _corners(center: np.ndarray, half: np.ndarray, origin: float) -> tuple[np.ndarray, dict[int, str]]:
    """Lower-left corners that read back as exactly ``center``: floats (``center - half +
    origin`` rounded once), and, by position, the exact decimal of the corner where no float
    reads back exactly (about one position in a hundred; e.g. a macro whose corner lies far
    further from the origin than its centre), which the reader sums exactly."""
    corner = _centres(center, -half, -origin)
    exact: dict[int, str] = {}
    with localcontext() as context:
        context.prec = 2200  # enough for the exact sum of any three floats
        for k in np.flatnonzero(_centres(corner, half, origin) != center):
            value = Decimal(float(center[k])) - Decimal(float(half[k])) + Decimal(float(origin))
            exact[int(k)] = format(value.normalize(), "f") if value else "0"
    return corner, exact


def _fmt(value: float) -> str:
    """Integers without a fraction, other numbers exactly (``repr``)."""
    v = float(value)
    if v.is_integer() and abs(v) < 2**53:
        return str(int(v))
    return repr(v)


def _exact_length(start: float, end: float) -> float:
    """A length ``L`` with ``start + L == end`` in floating point, when a few ulps can find one."""
    length = end - start
    for _ in range(4):
        got = start + length
        if got == end:
            break
        length = math.nextafter(length, math.inf if got < end else -math.inf)
    return length


def _synthesised_rows(
    netlist: Netlist, canvas: Canvas, x0: float, y0: float
) -> list[dict[str, object]]:
    """Rows over the canvas; row height = the tallest soft macro (see module doc)."""
    soft = netlist.height[netlist.soft_macros]
    hard = netlist.height[netlist.hard_macros]
    if soft.size and soft.max() > 0:
        row_height = float(soft.max())
    elif hard.size and hard.min() > 0:
        row_height = float(hard.min()) / 2
    else:
        row_height = canvas.height / 10
    n_rows = max(1, math.ceil(canvas.height / row_height - 1e-9))
    n_sites, spacing = 1, canvas.width
    for site in (1.0, 0.1, 0.01, 0.001):
        count = round(canvas.width / site)
        if count < 1 or abs(count * site - canvas.width) > 1e-9 * canvas.width:
            continue
        for candidate in (site, canvas.width / count):  # a round site, else the exact quotient
            if count * candidate == canvas.width:
                n_sites, spacing = count, candidate
                break
        else:
            continue
        break
    origin_x = x0
    rows = []
    for r in range(n_rows):
        bottom = y0 + r * row_height
        h = row_height if r < n_rows - 1 else _exact_length(bottom - y0, canvas.height)
        rows.append(
            {
                "direction": "Horizontal", "coordinate": bottom, "height": h, "sitewidth": spacing,
                "sitespacing": spacing, "siteorient": "1", "sitesymmetry": "1",
                "subroworigin": origin_x, "numsites": n_sites,
            }
        )  # fmt: skip
    return rows


def _net_names(netlist: Netlist) -> list[str]:
    names = netlist.metadata.get("bookshelf_net_names")
    if isinstance(names, tuple | list) and len(names) == netlist.n_nets and len(set(names)) == len(names):
        return [str(s) for s in names]  # (names given twice could not carry a .wts weight)
    drivers = [netlist.names[d] for d in netlist.net_driver]
    if len(set(drivers)) == len(drivers) and all(d and not _BAD_NAME.search(d) for d in drivers):
        return drivers
    return [f"net{k}" for k in range(netlist.n_nets)]


def write_bookshelf(
    netlist: Netlist, placement: Placement, directory: str | Path, design_name: str
) -> Path:
    """Write ``design_name.{aux,nodes,nets,pl,scl,wts}`` into ``directory``; returns the ``.aux``.

    The files are written in UTF-8 and renamed into place together at the end.

    Raises:
        ValueError: a node name Bookshelf cannot hold (whitespace, ``#`` or ``:`` would split or
            end its line), or a non-finite position or orientation code that is no code
            (neither would read back), naming the node.
    """
    texts = bookshelf_texts(netlist, placement, design_name)
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    # every file (UTF-8, as the reader reads them) written before any is renamed into place: a
    # kill or a full disk leaves the folder's earlier design whole (renames alone can be cut
    # between two files)
    write_atomically({directory / name: text_writer(text) for name, text in texts.items()})
    return directory / f"{design_name}.aux"


def pl_text(netlist: Netlist, placement: Placement, comments: list[str] | None = None) -> str:
    """``placement`` as the ``.pl`` of ``netlist``, a design read from Bookshelf: its nodes
    under their names, in its own coordinates (the origin shift undone), so that other
    Bookshelf tools, and :func:`read_bookshelf`'s ``pl=``, read it with the design's files.
    ``comments`` go under the header as ``#`` lines.

    Raises:
        ValueError: for a netlist that did not come from Bookshelf (its node names and
            coordinates mean nothing to a Bookshelf design), or what :func:`write_bookshelf`
            refuses.
    """
    check_pl_writable(netlist, placement)
    text = bookshelf_texts(netlist, placement, "design")["design.pl"]
    head, rest = text.split("\n", 1)
    extra = "".join(f"# {' '.join(line.split())}\n" for line in comments or [])  # one line each
    return f"{head}\n{extra}{rest}"


def check_pl_writable(netlist: Netlist, placement: Placement) -> None:
    """Raise ValueError unless ``placement`` can be written as a ``.pl`` of ``netlist`` alone
    (:func:`pl_text`): the design was read from Bookshelf, and no macro is turned by 90 degrees
    against the ``.pl`` it was read with (the ``.nodes`` sizes stay, so such a ``.pl`` would
    give it another footprint than the cost used)."""
    if "bookshelf_origin" not in netlist.metadata:
        raise ValueError(f"design {netlist.name!r} was not read from Bookshelf: a .pl places a Bookshelf "
                         "design; write a .plc")  # fmt: skip
    read_turned = netlist.metadata.get("bookshelf_turned", frozenset())
    for i in netlist.macros:
        turned = int(placement.orientation[i]) in _TURNED
        if netlist.width[i] != netlist.height[i] and turned != (netlist.names[i] in read_turned):  # type: ignore[operator]
            raise ValueError(
                f"macro {netlist.names[i]} is turned by 90 degrees against the .pl the design was read with (now "
                f"{ORIENTATIONS[int(placement.orientation[i])]}): with the design's .nodes, a .pl "
                "would give it another footprint than the one the cost used; write a .plc"
            )


def bookshelf_texts(netlist: Netlist, placement: Placement, design_name: str) -> dict[str, str]:
    """The text of each file :func:`write_bookshelf` writes, by file name (same errors)."""
    canvas = netlist.require_canvas()
    for i in netlist.placeable:
        if _BAD_NAME.search(netlist.names[i]) or not netlist.names[i]:
            raise ValueError(
                f"node {netlist.names[i]!r} cannot be written to Bookshelf: names may not be "
                "empty or hold whitespace, '#' or ':'"
            )
    check_writable(netlist, placement)  # a nan position its own reader refuses
    texts: dict[str, str] = {}
    x0, y0 = netlist.metadata.get("bookshelf_origin", (0.0, 0.0))  # type: ignore[misc]
    rows = netlist.metadata.get("bookshelf_rows") or _synthesised_rows(netlist, canvas, x0, y0)
    terminals: dict[str, str] = dict(netlist.metadata.get("bookshelf_terminals", {}))  # type: ignore[call-overload]
    names = netlist.names
    types = netlist.node_type
    placeable = netlist.placeable
    header = "# written by placer-gym (netlists.formats.bookshelf)"

    kind = {}
    for i in placeable:
        if types[i] == NodeType.PORT:
            kind[i] = terminals.get(names[i], "terminal")
        else:
            kind[i] = terminals.get(names[i], "")
    lines = ["UCLA nodes 1.0", header, "", f"NumNodes : {placeable.size}",
             f"NumTerminals : {sum(1 for k in kind.values() if k)}", ""]  # fmt: skip
    # .nodes sizes are those of orientation N: a turned macro's footprint turned back; pads
    # (ports read from terminals with an area) get theirs again
    pad_sizes: dict[str, tuple[float, float]] = dict(netlist.metadata.get("bookshelf_pad_sizes", {}))  # type: ignore[call-overload]
    size_w, size_h = netlist.width.copy(), netlist.height.copy()
    for i in placeable:
        if types[i] == NodeType.PORT:
            size_w[i], size_h[i] = pad_sizes.get(names[i], (0.0, 0.0))
    node_w, node_h = size_w, size_h
    turned = np.isin(placement.orientation, list(_TURNED)) & (types != NodeType.PORT)
    node_w, node_h = np.where(turned, size_h, size_w), np.where(turned, size_w, size_h)
    # macros the reader's height rule would class otherwise: named in comments it reads back
    row_height = max(float(r["height"]) for r in rows)  # type: ignore[arg-type]
    for i in placeable:
        if types[i] == NodeType.PORT:
            if names[i] in pad_sizes:  # a pad stays a port wherever it lies now
                lines.append(f"# placer-gym kind : {names[i]} pad")
            continue
        read_hard = bool(kind[i]) or node_h[i] > row_height
        if read_hard != (types[i] == NodeType.HARD_MACRO):
            lines.append(f"# placer-gym kind : {names[i]} {'hard' if not read_hard else 'soft'}")
    for i in placeable:
        w, h = node_w[i], node_h[i]
        lines.append(f"  {names[i]} {_fmt(w)} {_fmt(h)}" + (f" {kind[i]}" if kind[i] else ""))
    texts[f"{design_name}.nodes"] = "\n".join(lines) + "\n"

    net_names = _net_names(netlist)
    lines = [
        "UCLA nets 1.0",
        header,
        "",
        f"NumNets : {netlist.n_nets}",
        f"NumPins : {netlist.net_pins.size}",
        "",
    ]
    for k in range(netlist.n_nets):
        pins = netlist.net(k)
        lines.append(f"NetDegree : {pins.size} {net_names[k]}")
        for slot, p in enumerate(pins):
            owner = int(netlist.pin_macro[p]) if netlist.pin_macro[p] >= 0 else int(p)
            dx, dy = (netlist.pin_dx[p], netlist.pin_dy[p]) if owner != p else (0.0, 0.0)
            lines.append(f"  {names[owner]} {'O' if slot == 0 else 'I'} : {_fmt(dx)} {_fmt(dy)}")
    texts[f"{design_name}.nets"] = "\n".join(lines) + "\n"

    lines = ["UCLA wts 1.0", header, ""]
    for k in np.flatnonzero(netlist.net_weight != 1.0):
        lines.append(f"  {net_names[k]} {_fmt(netlist.net_weight[k])}")
    texts[f"{design_name}.wts"] = "\n".join(lines) + "\n"

    orient = placement.orientation[placeable]
    width, height = _footprint(node_w[placeable], node_h[placeable], orient)  # as placed
    llx, exact_x = _corners(placement.x[placeable], width / 2, x0)  # (sizes: the footprint)
    lly, exact_y = _corners(placement.y[placeable], height / 2, y0)
    lines = ["UCLA pl 1.0", header, ""]
    for j, i in enumerate(placeable):
        flag = ""
        if kind[i] == "terminal_NI":
            flag = " /FIXED_NI"
        elif kind[i] or placement.fixed[i]:
            flag = " /FIXED"
        lines.append(
            f"  {names[i]} {exact_x.get(j) or _fmt(llx[j])} {exact_y.get(j) or _fmt(lly[j])} : "
            f"{ORIENTATIONS[int(orient[j])]}{flag}"
        )
    texts[f"{design_name}.pl"] = "\n".join(lines) + "\n"

    values = [getattr(canvas, f) for f in _CANVAS_FIELDS]
    lines = ["UCLA scl 1.0", header, "# placer-gym canvas : " + " ".join(_fmt(v) for v in values), "",
             f"NumRows : {len(rows)}", ""]  # fmt: skip
    for row in rows:  # type: ignore[union-attr]
        lines += [
            f"CoreRow {row['direction']}",
            f"  Coordinate : {_fmt(row['coordinate'])}",
            f"  Height : {_fmt(row['height'])}",
            f"  Sitewidth : {_fmt(row['sitewidth'])}",
            f"  Sitespacing : {_fmt(row['sitespacing'])}",
            f"  Siteorient : {row['siteorient']}",
            f"  Sitesymmetry : {row['sitesymmetry']}",
            f"  SubrowOrigin : {_fmt(row['subroworigin'])}  NumSites : {int(row['numsites'])}",
            "End",
        ]
    texts[f"{design_name}.scl"] = "\n".join(lines) + "\n"

    files = " ".join(f"{design_name}{ext}" for ext in (".nodes", ".nets", ".wts", ".pl", ".scl"))
    texts[f"{design_name}.aux"] = f"RowBasedPlacement : {files}\n"
    return texts

