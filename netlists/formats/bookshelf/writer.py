"""Writing Bookshelf: :func:`bookshelf_texts` makes the text of each file of a design (rows and
net names synthesised for a netlist that did not come from Bookshelf, see
:mod:`netlists.formats.bookshelf`), :func:`write_bookshelf` writes them all or none, and
:func:`pl_text` writes a placement alone as a ``.pl`` of a design read from Bookshelf."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, cast

import numpy as np

from netlists.errors import InputError
from netlists.formats.bookshelf.coordinates import corners_from_centres
from netlists.formats.bookshelf.grammar import BAD_NAME, CANVAS_FIELDS, TURNED, footprint_of
from netlists.formats.plc import check_writable
from netlists.formats.textio import text_writer, write_atomically
from netlists.model import ORIENTATIONS, Canvas, Netlist, NodeType, Placement


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


def bookshelf_texts(netlist: Netlist, placement: Placement, design_name: str) -> dict[str, str]:
    """The text of each file :func:`write_bookshelf` writes, by file name (same errors)."""
    canvas = netlist.require_canvas()
    for i in netlist.placeable:
        if BAD_NAME.search(netlist.names[i]) or not netlist.names[i]:
            raise InputError(
                f"node {netlist.names[i]!r} cannot be written to Bookshelf: names may not be "
                "empty or hold whitespace, '#' or ':'"
            )
    check_writable(netlist, placement)  # a nan position its own reader refuses
    texts: dict[str, str] = {}
    # (the metadata the reader stores, netlists.formats.bookshelf's docstring: typed here)
    x0, y0 = cast("tuple[float, float]", netlist.metadata.get("bookshelf_origin", (0.0, 0.0)))
    rows = cast("list[dict[str, Any]]", netlist.metadata.get("bookshelf_rows")) or _synthesised_rows(
        netlist, canvas, x0, y0
    )
    terminals = dict(cast("dict[str, str]", netlist.metadata.get("bookshelf_terminals", {})))
    names = netlist.names
    types = netlist.node_type
    port, hard_macro = int(NodeType.PORT), int(NodeType.HARD_MACRO)  # (ints: see NodeType)
    placeable = netlist.placeable
    header = "# written by placer-gym (netlists.formats.bookshelf)"

    kind = {}
    for i in placeable:
        if types[i] == port:
            kind[i] = terminals.get(names[i], "terminal")
        else:
            kind[i] = terminals.get(names[i], "")
    lines = ["UCLA nodes 1.0", header, "", f"NumNodes : {placeable.size}",
             f"NumTerminals : {sum(1 for k in kind.values() if k)}", ""]  # fmt: skip
    # .nodes sizes are those of orientation N: a turned macro's footprint turned back; pads
    # (ports read from terminals with an area) get theirs again
    pad_sizes = dict(
        cast("dict[str, tuple[float, float]]", netlist.metadata.get("bookshelf_pad_sizes", {}))
    )
    size_w, size_h = netlist.width.copy(), netlist.height.copy()
    for i in placeable:
        if types[i] == port:
            size_w[i], size_h[i] = pad_sizes.get(names[i], (0.0, 0.0))
    node_w, node_h = size_w, size_h
    turned = np.isin(placement.orientation, list(TURNED)) & (types != port)
    node_w, node_h = np.where(turned, size_h, size_w), np.where(turned, size_w, size_h)
    # macros the reader's height rule would class otherwise: named in comments it reads back
    row_height = max(float(r["height"]) for r in rows)
    for i in placeable:
        if types[i] == port:
            if names[i] in pad_sizes:  # a pad stays a port wherever it lies now
                lines.append(f"# placer-gym kind : {names[i]} pad")
            continue
        read_hard = bool(kind[i]) or node_h[i] > row_height
        if read_hard != (types[i] == hard_macro):
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
    for weighted in np.flatnonzero(netlist.net_weight != 1.0):
        lines.append(f"  {net_names[weighted]} {_fmt(netlist.net_weight[weighted])}")
    texts[f"{design_name}.wts"] = "\n".join(lines) + "\n"

    orient = placement.orientation[placeable]
    width, height = footprint_of(node_w[placeable], node_h[placeable], orient)  # as placed
    llx, exact_x = corners_from_centres(placement.x[placeable], width / 2, x0)  # (sizes: the footprint)
    lly, exact_y = corners_from_centres(placement.y[placeable], height / 2, y0)
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

    values = [getattr(canvas, f) for f in CANVAS_FIELDS]
    lines = ["UCLA scl 1.0", header, "# placer-gym canvas : " + " ".join(_fmt(v) for v in values), "",
             f"NumRows : {len(rows)}", ""]  # fmt: skip
    for row in rows:
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
        raise InputError(f"design {netlist.name!r} was not read from Bookshelf: a .pl places a Bookshelf "
                         "design; write a .plc")  # fmt: skip
    read_turned = netlist.metadata.get("bookshelf_turned", frozenset())
    for i in netlist.macros:
        turned = int(placement.orientation[i]) in TURNED
        if netlist.width[i] != netlist.height[i] and turned != (netlist.names[i] in read_turned):  # type: ignore[operator]
            raise InputError(
                f"macro {netlist.names[i]} is turned by 90 degrees against the .pl the design was read with (now "
                f"{ORIENTATIONS[int(placement.orientation[i])]}): with the design's .nodes, a .pl "
                "would give it another footprint than the one the cost used; write a .plc"
            )


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


#: The thinnest synthesised row, as a share of the canvas's height: at most 10,000 rows.
MIN_ROW_SHARE = 1e-4


def _synthesised_rows(
    netlist: Netlist, canvas: Canvas, x0: float, y0: float
) -> list[dict[str, Any]]:
    """Rows over the canvas; row height = the tallest soft macro (see module doc), but at least
    :data:`MIN_ROW_SHARE` of the canvas's height: a soft macro 1e-6 high on a canvas 100 high
    made 1e8 rows (gigabytes of ``.scl``). A row taller than the rule's changes only which
    hard macros need a ``# placer-gym kind`` comment to read back hard."""
    soft = netlist.height[netlist.soft_macros]
    hard = netlist.height[netlist.hard_macros]
    if soft.size and soft.max() > 0:
        row_height = float(soft.max())
    elif hard.size and hard.min() > 0:
        row_height = float(hard.min()) / 2
    else:
        row_height = canvas.height / 10
    row_height = max(row_height, canvas.height * MIN_ROW_SHARE)
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
    if len(set(drivers)) == len(drivers) and all(d and not BAD_NAME.search(d) for d in drivers):
        return drivers
    return [f"net{k}" for k in range(netlist.n_nets)]
