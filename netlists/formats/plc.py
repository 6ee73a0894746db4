"""Circuit Training placement files (``.plc``): header and one line per port / macro.

Body lines read ``<node index> <x> <y> <orientation or -> <fixed 0/1>`` with centre
coordinates. The header carries the canvas, grid and routing parameters the proxy cost needs;
:func:`write_plc` writes every header field the format has (the informational cost lines only
when it is given the costs), in the layout the public
evaluators parse, and floats with ``repr`` so that reading back is exact.
"""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from netlists.errors import InputError, NetlistError, warn_netlist
from netlists.formats.textio import plain_number, read_text, write_text_atomic
from netlists.model import (
    MAX_MAGNITUDE,
    ORIENTATION_CODE,
    ORIENTATIONS,
    Canvas,
    Netlist,
    NodeType,
    Placement,
    canvas_problem,
    check_orientation_codes,
    check_placement_matches,
)

_NUM = r"([-+0-9.eE]+|nan|inf)"
_HEADER_PATTERNS: dict[str, re.Pattern[str]] = {
    "grid": re.compile(r"^#\s*Columns\s*:\s*(\S+)\s+Rows\s*:\s*(\S+)\s*$"),
    "size": re.compile(r"^#\s*Width\s*:\s*(\S+)\s+Height\s*:\s*(\S+)\s*$"),
    "routes": re.compile(r"^#\s*Routes per micron, hor\s*:\s*(\S+)\s+ver\s*:\s*(\S+)\s*$"),
    "alloc": re.compile(r"^#\s*Routes used by macros, hor\s*:\s*(\S+)\s+ver\s*:\s*(\S+)\s*$"),
    "smooth": re.compile(r"^#\s*Smoothing factor\s*:\s*(\S+)\s*$"),
    "overlap": re.compile(r"^#\s*Overlap threshold\s*:\s*(\S+)\s*$"),
}
#: How each field's line starts: a line that starts so but does not match its whole pattern
#: (a value missing, a word too many) is refused rather than read in part or skipped.
_HEADER_STARTS: dict[str, re.Pattern[str]] = {
    "grid": re.compile(r"^#\s*Columns\s*:"),
    "size": re.compile(r"^#\s*Width\s*:"),
    "routes": re.compile(r"^#\s*Routes per micron\b"),
    "alloc": re.compile(r"^#\s*Routes used by macros\b"),
    "smooth": re.compile(r"^#\s*Smoothing factor\b"),
    "overlap": re.compile(r"^#\s*Overlap threshold\b"),
}
_FIELD_LABEL = {
    "grid": "Columns / Rows",
    "size": "Width / Height",
    "routes": "Routes per micron",
    "alloc": "Routes used by macros",
    "smooth": "Smoothing factor",
    "overlap": "Overlap threshold",
}
_HEADER_FORM = {
    "grid": "'# Columns : C  Rows : R'",
    "size": "'# Width : W  Height : H'",
    "routes": "'# Routes per micron, hor : h  ver : v'",
    "alloc": "'# Routes used by macros, hor : a  ver : b'",
    "smooth": "'# Smoothing factor : s'",
    "overlap": "'# Overlap threshold : t'",
}
_REQUIRED_HEADER = ("grid", "size", "routes", "alloc", "smooth")
_COST_PATTERNS = {
    "wirelength": re.compile(r"^#\s*Wirelength\s*:\s*(\S+)"),
    "wirelength_cost": re.compile(r"^#\s*Wirelength cost\s*:\s*(\S+)"),
    "congestion_cost": re.compile(r"^#\s*Congestion cost\s*:\s*(\S+)"),
    "density_cost": re.compile(r"^#\s*Density cost\s*:\s*(\S+)"),
}

#: Node counts a header may state ("# HARD_MACROs : 133"), by their key in ``Netlist.counts()``.
#: The label in any case and any value (a count read as ``7.0`` or ``Hard_Macros`` was
#: skipped without a word: no check, no truncation warning); the value must be a whole number.
_COUNT_PATTERN = re.compile(r"^#\s*(HARD_MACROs|SOFT_MACROs|PORTs)\s*:\s*(\S*)\s*$", re.IGNORECASE)
_COUNT_KEY = {"HARD_MACROs": "hard_macros", "SOFT_MACROs": "soft_macros", "PORTs": "ports"}
_COUNT_LABEL = {label.lower(): label for label in _COUNT_KEY}

#: Overlap threshold when a header omits it (Circuit Training's default).
DEFAULT_OVERLAP_THRESHOLD = 0.004


@dataclass
class PlcHeader:
    """What a ``.plc`` header says besides the canvas: recorded costs and free-form lines."""

    costs: dict[str, float] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)
    listed: np.ndarray | None = None  # node indices the body lists, in file order


def _number(text: str, what: str, path: str, line: int, integer: bool = False) -> float:
    try:
        value = plain_number(text, integer)
    except ValueError:
        kind = "an integer" if integer else "a number"
        raise NetlistError(f"{what} must be {kind}, got {text!r}", path, line) from None
    if not integer and not np.isfinite(value):
        raise NetlistError(f"{what} must be finite, got {text!r}", path, line)
    if not integer and abs(value) > MAX_MAGNITUDE:
        raise NetlistError(f"{what} must be at most {MAX_MAGNITUDE:g} in size, got {text!r}", path, line)
    return value


def parse_header(lines: list[str], path: str) -> tuple[Canvas, PlcHeader]:
    """Canvas and recorded costs from the ``#`` lines of a ``.plc`` (line numbers 1-based).

    Raises:
        NetlistError: a required field missing or given twice, a value that is not a number,
            or a canvas no cost can be computed with (see :func:`netlists.model.canvas_problem`).
    """
    found: dict[str, tuple[tuple[str, ...], int]] = {}
    header = PlcHeader()
    for lineno, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line.startswith("#"):
            continue
        header.lines.append(line)
        for key, pat in _HEADER_PATTERNS.items():
            m = pat.match(line)
            if m:
                if key in found:
                    raise NetlistError(
                        f"header field {_FIELD_LABEL[key]!r} given twice (first at line "
                        f"{found[key][1]})",
                        path,
                        lineno,
                    )
                found[key] = (m.groups(), lineno)
                break
            if _HEADER_STARTS[key].match(line):
                raise NetlistError(
                    f"header field {_FIELD_LABEL[key]!r} must read {_HEADER_FORM[key]}, got "
                    f"{line[:120]!r}",
                    path,
                    lineno,
                )
        else:
            for key, pat in _COST_PATTERNS.items():
                m = pat.match(line)
                if m:
                    try:
                        header.costs[key] = float(m.group(1))
                    except ValueError:
                        pass
                    break
    for key in _REQUIRED_HEADER:
        if key not in found:
            raise NetlistError(f"header lacks the field {_HEADER_FORM[key]}", path)
    (cols_s, rows_s), ln = found["grid"]
    cols = int(_number(cols_s, "Columns", path, ln, integer=True))
    rows = int(_number(rows_s, "Rows", path, ln, integer=True))
    (w_s, h_s), ln = found["size"]
    width = _number(w_s, "Width", path, ln)
    height = _number(h_s, "Height", path, ln)
    (hr_s, vr_s), ln = found["routes"]
    hr, vr = _number(hr_s, "Routes per micron (hor)", path, ln), _number(vr_s, "Routes per micron (ver)", path, ln)
    (ha_s, va_s), ln = found["alloc"]
    ha, va = (
        _number(ha_s, "Routes used by macros (hor)", path, ln),
        _number(va_s, "Routes used by macros (ver)", path, ln),
    )
    (s_s,), ln = found["smooth"]
    smooth = int(_number(s_s, "Smoothing factor", path, ln, integer=True))
    overlap = DEFAULT_OVERLAP_THRESHOLD
    if "overlap" in found:
        (o_s,), ln = found["overlap"]
        overlap = _number(o_s, "Overlap threshold", path, ln)
    canvas = Canvas(width, height, cols, rows, hr, vr, ha, va, smooth, overlap)
    problem = canvas_problem(canvas)
    if problem is not None:
        group, message = problem
        raise NetlistError(message, path, found[group][1])
    return canvas, header


def read_plc(
    path: str | Path, netlist: Netlist, base: Placement | None = None
) -> tuple[Canvas, Placement, PlcHeader]:
    """Read a ``.plc`` for ``netlist``; nodes it omits keep ``base``'s positions, orientations
    and fixed flags (default: the netlist's own positions, not fixed; a Bookshelf design passes
    its ``.pl`` placement, so a fixed terminal left out stays fixed).

    Raises:
        NetlistError: bad header, header node counts that are not ``netlist``'s, a body line
            that is not ``index x y orient fixed``, an index that is not a port or macro of
            ``netlist`` or is listed twice, a bad orientation.
    """
    path = Path(path)
    # a byte-order mark inside the file (files pasted together) is no text; str.strip keeps
    # it, and a header line starting with one was read as a body line
    lines = read_text(path).replace("\ufeff", "").split("\n")
    canvas, header = parse_header(lines, str(path))
    counted = _check_header_counts(lines, netlist, str(path))
    placement = netlist.initial_placement() if base is None else base.copy()
    n = netlist.n_nodes
    types = netlist.node_type
    first_pin_code = int(NodeType.HARD_PIN)  # (pins' codes are this and above)
    listed: list[int] = []
    listed_at = np.zeros(n, dtype=np.int64)  # line that placed each node, 0 = not yet
    spath = str(path)
    for lineno, line in enumerate(lines, start=1):
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        parts = s.split()
        if len(parts) != 5:
            raise NetlistError(
                f"expected 'index x y orientation fixed' (5 fields), got {len(parts)}: {s!r}",
                spath,
                lineno,
            )
        idx = int(_number(parts[0], "node index", spath, lineno, integer=True))
        if not 0 <= idx < n:
            raise NetlistError(
                f"node index {idx} is out of range: netlist {netlist.name!r} has {n} nodes "
                "(does this .plc belong to another netlist?)",
                spath,
                lineno,
            )
        if listed_at[idx]:
            raise NetlistError(
                f"node {idx} ({netlist.names[idx]!r}) is listed twice (first at line "
                f"{listed_at[idx]})",
                spath,
                lineno,
            )
        listed_at[idx] = lineno
        type_code = int(types[idx])
        if type_code >= first_pin_code:
            raise NetlistError(
                f"node {idx} ({netlist.names[idx]!r}) is a {NodeType(type_code).name}, not a port or macro "
                "(does this .plc belong to another netlist?)",
                spath,
                lineno,
            )
        x = _number(parts[1], "x", spath, lineno)
        y = _number(parts[2], "y", spath, lineno)
        o = parts[3]
        if o != "-":
            code = ORIENTATION_CODE.get(o)
            if code is None:
                raise NetlistError(
                    f"orientation must be one of {', '.join(ORIENTATIONS)} or '-', got {o!r}",
                    spath,
                    lineno,
                )
            placement.orientation[idx] = code
        if parts[4] not in ("0", "1"):
            raise NetlistError(f"fixed flag must be 0 or 1, got {parts[4]!r}", spath, lineno)
        placement.x[idx] = x
        placement.y[idx] = y
        placement.fixed[idx] = parts[4] == "1"
        listed.append(idx)
    header.listed = np.array(listed, dtype=np.int64)
    missing = netlist.placeable.size - len(listed)
    if counted and missing > 0:  # the header says which design; the body stops short of it
        warn_netlist(
            f"{path}: lists {len(listed)} of the {netlist.placeable.size} ports and macros "
            f"its header counts; the other {missing} keep the "
            f"{'netlist' if base is None else 'design'}'s positions"
            f"{'' if base is None else ', orientations and fixed flags'} (a truncated file?)",
            stacklevel=2,
        )
    return canvas, placement, header


def _check_header_counts(lines: list[str], netlist: Netlist, path: str) -> bool:
    """Refuse a ``.plc`` whose header counts hard macros, soft macros or ports differently from
    ``netlist``: it was written for another design, and its canvas and positions would give a
    cost for nothing. Counts the header does not state are not checked. True when the header
    states all three (it describes the whole design)."""
    counts = netlist.counts()  # what write_plc writes into these header lines
    stated_labels: set[str] = set()
    for lineno, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line.startswith("#"):  # (every comment line, as parse_header reads them: a
            continue  # count after the body was ignored while a canvas field there was read)
        match = _COUNT_PATTERN.match(line)
        if not match:
            continue
        label = _COUNT_LABEL[match.group(1).lower()]
        stated = int(_number(match.group(2), f"the count of {label}", path, lineno, integer=True))
        stated_labels.add(label)
        actual = counts[_COUNT_KEY[label]]
        if stated != actual:
            raise NetlistError(
                f"the header counts {stated} {label} but netlist {netlist.name!r} has {actual} "
                "(does this .plc belong to another netlist?)",
                path,
                lineno,
            )
    return stated_labels == set(_COUNT_KEY)


def _fmt(v: float) -> str:
    return repr(float(v))


#: The cost lines a ``.plc`` header holds: ``write_plc``'s ``costs`` key, label, format.
_HEADER_COSTS = (
    ("wirelength", "Wirelength", ".3f"),
    ("wirelength_cost", "Wirelength cost", ".4f"),
    ("congestion_cost", "Congestion cost", ".4f"),
    ("density_cost", "Density cost", ".4f"),
)


def check_writable(netlist: Netlist, placement: Placement) -> None:
    """Refuse a placement whose file would not read back as it is: a non-finite position
    (written as ``nan``, which the reader refuses) or a macro orientation code that is no code
    (-1 was written as FW, indexing the names from the end).

    Raises:
        ValueError: naming the first such node.
    """
    check_placement_matches(netlist, placement, arrays_only=False)  # (lists are read as arrays)
    nodes = np.asarray(netlist.placeable)
    bad = ~(np.isfinite(np.asarray(placement.x, dtype=np.float64)[nodes])
            & np.isfinite(np.asarray(placement.y, dtype=np.float64)[nodes]))  # fmt: skip
    if np.any(bad):
        k = int(nodes[np.argmax(bad)])
        raise InputError(f"node {netlist.names[k]!r} has a non-finite position "
                         f"({placement.x[k]}, {placement.y[k]}): not written")  # fmt: skip
    check_orientation_codes(netlist, placement, nodes[netlist.node_type[nodes] != int(NodeType.PORT)], ": not written")


def check_header_names(design_name: str, file_name: str) -> None:
    """Refuse (ValueError) a design or file name a ``.plc`` header cannot hold: one with a line
    break (the header's next line read as a body line). Callers check before long work (a
    placement run), so that its result is not lost at the write."""
    for what, text in (("design name", design_name), ("file name", file_name)):
        if "\n" in text or "\r" in text:
            raise InputError(f"the {what} {text!r} holds a line break: a .plc header cannot hold it")


def write_plc(
    path: str | Path,
    netlist: Netlist,
    placement: Placement,
    canvas: Canvas | None = None,
    costs: dict[str, float] | None = None,
    comments: list[str] | None = None,
    dated: bool = True,
    file_name: str | None = None,
) -> Path:
    """Write :func:`plc_text` to ``path`` through a temporary file renamed over it, so a reader
    never sees half a file; ``file_name`` defaults to ``path``'s name."""
    path = Path(path)
    text = plc_text(netlist, placement, file_name or path.name, canvas, costs, comments, dated)
    return write_text_atomic(path, text)


def plc_text(
    netlist: Netlist,
    placement: Placement,
    file_name: str,
    canvas: Canvas | None = None,
    costs: dict[str, float] | None = None,
    comments: list[str] | None = None,
    dated: bool = True,
) -> str:
    """``placement`` of ``netlist`` as a ``.plc`` text with a complete header.

    ``dated=False`` leaves out the header's ``Date`` line, so equal inputs give equal files.
    ``file_name`` is the name the header gives the file (a file written under a staging name
    and moved later names its final one).

    Every port and macro is listed. ``costs`` may give ``wirelength`` (weighted HPWL),
    ``wirelength_cost``, ``congestion_cost`` and ``density_cost`` for the header
    (``placer.cost.proxy.ProxyCost.plc_header()`` gives them; another key is refused); they are
    informational only, and a cost not given has no header line.
    """
    taken = [key for key, _, _ in _HEADER_COSTS]
    unknown = sorted(set(costs or {}) - set(taken))
    if unknown:  # (a ProxyCost.as_dict() names its terms otherwise: use ProxyCost.plc_header())
        raise InputError(
            f"write_plc costs: unknown {', '.join(map(repr, unknown))}; the header takes "
            f"{', '.join(taken)}"
        )
    check_header_names(netlist.name, file_name)
    canvas = canvas or netlist.require_canvas()
    costs = costs or {}
    counts = netlist.counts()
    area = float(np.sum(netlist.width[netlist.macros] * netlist.height[netlist.macros]))
    hdr = [
        "Placement file for Circuit Training",
        f"Source input file(s) : {netlist.name}",
        f"This file : {file_name}",
        # (in UTC, said: local time without a zone read as another day elsewhere)
        *([f"Date : {_dt.datetime.now(_dt.UTC).strftime('%Y-%m-%d %H:%M:%S')} UTC"] if dated else []),
        f"Columns : {canvas.cols}  Rows : {canvas.rows}",
        f"Width : {_fmt(canvas.width)}  Height : {_fmt(canvas.height)}",
        f"Area : {_fmt(area)}",
        *(
            f"{label} : {costs[key]:{digits}}"  # only the costs given: no made-up zeros
            for key, label, digits in _HEADER_COSTS
            if key in costs
        ),
        "Project : circuit_training",
        f"Block : {netlist.name}",
        f"Routes per micron, hor : {_fmt(canvas.hroutes_per_micron)}  ver : {_fmt(canvas.vroutes_per_micron)}",
        f"Routes used by macros, hor : {_fmt(canvas.hrouting_alloc)}  ver : {_fmt(canvas.vrouting_alloc)}",
        f"Smoothing factor : {int(canvas.smooth_range)}",
        f"Overlap threshold : {_fmt(canvas.overlap_threshold)}",
        "",
        "Counts of node types:",
        f"HARD_MACROs     :       {counts['hard_macros']}",
        f"HARD_MACRO_PINs :       {counts['hard_macro_pins']}",
        f"MACROs          :       {counts['hard_macros'] + counts['soft_macros']}",
        f"MACRO_PINs      :       {counts['hard_macro_pins'] + counts['soft_macro_pins']}",
        f"PORTs           :       {counts['ports']}",
        f"SOFT_MACROs     :       {counts['soft_macros']}",
        f"SOFT_MACRO_PINs :       {counts['soft_macro_pins']}",
        "STDCELLs        :       0",
        "",
    ]
    for c in comments or []:  # free text: a line break in it (a plugin's path) written as a space
        hdr.append(" ".join(c.splitlines()))
    out = ["# " + h if h else "#" for h in hdr]
    types = netlist.node_type
    port = int(NodeType.PORT)  # (an int: a numpy value compared with a member lost a Ctrl-C)
    check_writable(netlist, placement)
    for i in netlist.placeable:
        orient = "-" if types[i] == port else ORIENTATIONS[int(placement.orientation[i])]
        out.append(
            f"{i} {_fmt(placement.x[i])} {_fmt(placement.y[i])} {orient} {int(bool(placement.fixed[i]))}"
        )
    return "\n".join(out) + "\n"
