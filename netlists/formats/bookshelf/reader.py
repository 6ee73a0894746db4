"""Reading a Bookshelf design: :func:`read_bookshelf` makes a
:class:`~netlists.model.Netlist` and a :class:`~netlists.model.Placement` of the files an ``.aux``
lists, by the mapping :mod:`netlists.formats.bookshelf` describes. The files are parsed by
:mod:`netlists.formats.bookshelf.parse`; here the design is checked as a whole (warnings of what
reads but looks wrong), and node kinds, centres, pins in net order and the canvas are made."""

from __future__ import annotations

import dataclasses
import math
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from netlists.builder import NetlistBuilder
from netlists.defaults import default_canvas
from netlists.errors import NetlistError, warn_netlist
from netlists.formats.bookshelf.coordinates import centres_from_corners
from netlists.formats.bookshelf.grammar import TURNED, footprint_of
from netlists.formats.bookshelf.parse import (
    NetRecord,
    NodeRecord,
    existing_file,
    read_aux,
    read_nets,
    read_nodes,
    read_pl,
    read_scl,
    read_wts,
    unique_name,
)
from netlists.model import Canvas, Netlist, NodeType, Placement, canvas_problem, orient_offsets


def listed_files(aux_path: str | Path) -> list[Path]:
    """The files a Bookshelf ``.aux`` lists (NetlistError as reading the design would)."""
    return list(read_aux(Path(aux_path)).values())


def read_bookshelf(aux_path: str | Path, pl: str | Path | None = None) -> tuple[Netlist, Placement]:
    """Read a Bookshelf design given its ``.aux``; the netlist has its canvas set. ``pl``: another
    placement of the design (a placer's output ``.pl``), read instead of the one the ``.aux``
    lists; it must place every node, as the design's own must.

    Raises:
        NetlistError: naming file, line and expectation on any malformed input.
    """
    aux = Path(aux_path)
    files = read_aux(aux)
    own_pl = files[".pl"]
    if pl is not None:
        files[".pl"] = existing_file(Path(pl))
    raw, kinds = read_nodes(files[".nodes"])
    index = {node.name: i for i, node in enumerate(raw)}
    nets = read_nets(files[".nets"], index, files[".nodes"])
    _warn_of_odd_sizes_and_pins(raw, nets, files[".nodes"], files[".nets"])
    llx, lly, orient, pl_fixed, exact = read_pl(files[".pl"], index, files[".nodes"])
    if files[".pl"] != own_pl:
        _warn_of_moved_fixed_nodes(raw, (llx, lly, orient, pl_fixed), files[".pl"], own_pl, index, files[".nodes"])
    rows, canvas_fields, canvas_line = read_scl(files[".scl"])
    net_weight = read_wts(files[".wts"], nets, index) if ".wts" in files else np.ones(len(nets))

    row_height, (x0, y0, x1, y1) = _row_extent(rows, files[".scl"])
    canvas_w, canvas_h = x1 - x0, y1 - y0
    nodes, pad_sizes = _placed_nodes(
        raw, kinds, index, row_height, (x0, y0, x1, y1), (llx, lly, orient, pl_fixed), exact
    )
    ordered, pins_of, port_weight = _pins_in_net_order(nets, nodes.node_type == int(NodeType.PORT), net_weight)

    design_name = aux.name[: -len(".aux.gz")] if aux.name.lower().endswith(".aux.gz") else aux.stem
    builder = NetlistBuilder(design_name, str(files[".nodes"]))  # its errors name .nodes lines
    taken = set(index)  # pin names must not collide with a node's name ("a/P0" in the .nodes)
    net_node, placement = _add_nodes_and_pins(
        builder, raw, nodes, ordered, pins_of, port_weight, net_weight, (canvas_w, canvas_h), taken
    )
    kept = [k for k, pins in enumerate(ordered) if pins]
    for k in kept:
        builder.add_net(net_node[k][0], net_node[k][1:])
    canvas = _design_canvas(canvas_w, canvas_h, nodes.node_type, canvas_fields, files[".scl"], canvas_line)
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
            "bookshelf_turned": frozenset(raw[i].name for i in np.flatnonzero(np.isin(orient, list(TURNED)))),
        }
    )
    netlist = builder.build(canvas)
    netlist = dataclasses.replace(
        netlist, net_weight=net_weight[kept].astype(np.float64), metadata=dict(netlist.metadata)
    )
    return netlist, placement


def _row_extent(rows: list[dict[str, Any]], scl: Path) -> tuple[float, tuple[float, float, float, float]]:
    """The row height (the largest row ``Height``) and the rows' bounding box ``(x0, y0, x1,
    y1)``, which becomes the canvas; NetlistError naming ``scl`` unless its area is positive
    and finite."""
    row_height = max(float(r["height"]) for r in rows)
    x0 = min(float(r["subroworigin"]) for r in rows)
    y0 = min(float(r["coordinate"]) for r in rows)
    x1 = max(float(r["subroworigin"]) + int(r["numsites"]) * float(r["sitespacing"]) for r in rows)
    y1 = max(float(r["coordinate"]) + float(r["height"]) for r in rows)
    canvas_w, canvas_h = x1 - x0, y1 - y0
    if not (0 < canvas_w < math.inf and 0 < canvas_h < math.inf):
        raise NetlistError(
            f"rows span {canvas_w} x {canvas_h}: expected a positive, finite area", scl
        )
    return row_height, (x0, y0, x1, y1)


@dataclasses.dataclass
class _PlacedNodes:
    """The ``.nodes`` entries as the model takes them, in file order."""

    node_type: np.ndarray  # NodeType codes (int8)
    width: np.ndarray  # the footprint as placed (0 for a port)
    height: np.ndarray
    cx: np.ndarray  # centres, the rows' lower-left corner the origin
    cy: np.ndarray
    orient: np.ndarray  # orientation codes, as the .pl gives them
    fixed: np.ndarray  # terminals, and /FIXED or /FIXED_NI nodes


def _placed_nodes(
    raw: list[NodeRecord],
    kinds: dict[str, str],
    index: dict[str, int],
    row_height: float,
    extent: tuple[float, float, float, float],
    pl: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    exact: dict[tuple[int, int], str],
) -> tuple[_PlacedNodes, dict[str, tuple[float, float]]]:
    """Each node's type, footprint, centre and fixed flag (the mapping of the package docstring),
    from the ``.nodes`` entries, their ``# placer-gym kind`` comments, the row height, the rows'
    bounding box and the ``.pl`` (lower-left corners, orientations, fixed flags, exact
    corners); also the ``.nodes`` width and height of each pad, by name."""
    x0, y0, x1, y1 = extent
    llx, lly, orient, pl_fixed = pl
    n = len(raw)
    width = np.array([node.width for node in raw])
    height = np.array([node.height for node in raw])
    terminal = np.array([bool(node.terminal) for node in raw])
    node_type = np.full(n, int(NodeType.SOFT_MACRO), dtype=np.int8)
    node_type[(height > row_height) | terminal] = NodeType.HARD_MACRO
    for name, kind in kinds.items():  # placer-gym's record of macros the rule gets wrong
        if kind != "pad":
            node_type[index[name]] = NodeType.HARD_MACRO if kind == "hard" else NodeType.SOFT_MACRO
    foot_w, foot_h = footprint_of(width, height, orient)
    # pads: terminals wholly outside the rows (I/O pads around the core) and terminal_NI ones
    # (allowed to overlap anything) are ports at their centres, not fixed blockages that no
    # legal placement could keep
    outside_rows = (llx + foot_w <= x0) | (llx >= x1) | (lly + foot_h <= y0) | (lly >= y1)
    kind_ni = np.array([node.terminal == "terminal_NI" for node in raw], dtype=bool)
    written_pad = np.array([kinds.get(node.name) == "pad" for node in raw], dtype=bool)  # moved in
    pads = terminal & (width * height > 0) & (outside_rows | kind_ni | written_pad)
    node_type[terminal & ((width * height == 0) | pads)] = NodeType.PORT
    is_port = node_type == int(NodeType.PORT)
    pad_sizes = {raw[i].name: (float(width[i]), float(height[i])) for i in np.flatnonzero(pads)}
    # the model's sizes are the footprint as placed (the cost uses them whatever the
    # orientation): a turned macro's .nodes sizes swapped; ports have none
    width, height = np.where(is_port, 0.0, foot_w), np.where(is_port, 0.0, foot_h)
    cx = centres_from_corners(llx, foot_w / 2, x0)
    cy = centres_from_corners(lly, foot_h / 2, y0)
    for (node, axis), token in exact.items():
        foot, origin, centre = (foot_w, x0, cx) if axis == 0 else (foot_h, y0, cy)
        centre[node] = float(Fraction(token) + Fraction(foot[node] / 2) - Fraction(origin))
    fixed = terminal | pl_fixed
    return _PlacedNodes(node_type, width, height, cx, cy, orient, fixed), pad_sizes


def _pins_in_net_order(
    nets: list[NetRecord], is_port: np.ndarray, net_weight: np.ndarray
) -> tuple[list[list[tuple[int, float, float]]], list[list[tuple[int, int, float, float]]], dict[int, float]]:
    """Each net's pins as ``(node, dx, dy)``, its driver (the first ``O`` pin, else the first
    pin) first and the others in file order; each node's pins as ``(net, slot, dx, dy)`` in
    net order (none for a port: it is its own pin); and the weight of each port that drives a
    net (that of the first such net)."""
    # pins of every node, in net order (driver first within a net)
    pins_of: list[list[tuple[int, int, float, float]]] = [
        [] for _ in range(len(is_port))
    ]  # (net, slot, dx, dy)
    ordered: list[list[tuple[int, float, float]]] = []
    for k, net in enumerate(nets):
        if not net.pins:
            ordered.append([])
            continue
        drv = next((j for j, p in enumerate(net.pins) if p[1] == "O"), 0)
        driver_first = [net.pins[drv]] + net.pins[:drv] + net.pins[drv + 1 :]
        ordered.append([(p[0], p[2], p[3]) for p in driver_first])
        for slot, (node, dx, dy) in enumerate(ordered[-1]):
            if not is_port[node]:
                pins_of[node].append((k, slot, dx, dy))

    port_weight: dict[int, float] = {}  # a port driving several nets weighs as its first
    for k, pins in enumerate(ordered):
        if pins and is_port[pins[0][0]]:
            port_weight.setdefault(pins[0][0], float(net_weight[k]))
    return ordered, pins_of, port_weight


def _add_nodes_and_pins(
    builder: NetlistBuilder,
    raw: list[NodeRecord],
    nodes: _PlacedNodes,
    ordered: list[list[tuple[int, float, float]]],
    pins_of: list[list[tuple[int, int, float, float]]],
    port_weight: dict[int, float],
    net_weight: np.ndarray,
    canvas_size: tuple[float, float],
    taken: set[str],
) -> tuple[list[list[int]], Placement]:
    """Add every node to ``builder``, each macro followed by its pin nodes ``<node>/P<j>`` (a
    suffix ``~k`` where that name is ``taken``, which grows); returns the builder index of
    each net's pins by ``ordered``'s slots, and the placement of every node the builder
    holds."""
    canvas_w, canvas_h = canvas_size
    node_type, width, height = nodes.node_type, nodes.width, nodes.height
    cx, cy, orient, fixed = nodes.cx, nodes.cy, nodes.orient, nodes.fixed
    net_node: list[list[int]] = [[0] * len(p) for p in ordered]
    place_x: list[float] = []
    place_y: list[float] = []
    place_o: list[int] = []
    place_fixed: list[bool] = []
    raw_to_index = np.zeros(len(raw), dtype=np.int64)
    for i, node in enumerate(raw):
        t = NodeType(int(node_type[i]))
        kwargs: dict[str, object] = {"width": float(width[i]), "height": float(height[i])}
        if t is NodeType.PORT:  # (t is a member: compared by identity, see NodeType)
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
        if t is NodeType.PORT:
            continue
        pin_type = NodeType.HARD_PIN if t is NodeType.HARD_MACRO else NodeType.SOFT_PIN
        pdx = np.array([p[2] for p in pins_of[i]])
        pdy = np.array([p[3] for p in pins_of[i]])
        if t is NodeType.HARD_MACRO:
            ox, oy = orient_offsets(pdx, pdy, np.full(pdx.shape, orient[i]))
        else:
            ox, oy = np.zeros_like(pdx), np.zeros_like(pdy)
        for j, (k, slot, dx, dy) in enumerate(pins_of[i]):
            pin_name = unique_name(f"{node.name}/P{j}", taken)
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

    is_port = node_type == int(NodeType.PORT)
    for k, pins in enumerate(ordered):
        for slot, (node_k, _, _) in enumerate(pins):
            if is_port[node_k]:
                net_node[k][slot] = raw_to_index[node_k]
    placement = Placement(
        x=np.array(place_x), y=np.array(place_y),
        orientation=np.array(place_o, dtype=np.int8), fixed=np.array(place_fixed, dtype=bool),
    )  # fmt: skip
    return net_node, placement


def _design_canvas(
    canvas_w: float, canvas_h: float, node_type: np.ndarray, canvas_fields: dict[str, float] | None,
    scl: Path, canvas_line: int,
) -> Canvas:
    """The canvas over the rows: the ``.scl``'s canvas comment's grid and routing, else the
    defaults for this many macros; NetlistError naming ``scl`` (and the comment's line) when
    no grid fits or the comment's figures are not a canvas."""
    n_macros = int(np.sum((node_type == int(NodeType.HARD_MACRO)) | (node_type == int(NodeType.SOFT_MACRO))))
    try:
        canvas = _canvas(canvas_w, canvas_h, n_macros, canvas_fields)
    except ValueError as exc:  # default routing of rows too small (or large) to price
        raise NetlistError(
            f"rows span {canvas_w} x {canvas_h}, which no default grid fits: {exc}",
            scl,
        ) from None
    problem = canvas_problem(canvas)
    if problem is not None:  # only a canvas comment can make it so: row extents are checked
        raise NetlistError(problem[1], scl, canvas_line or None)
    return canvas


def _canvas(width: float, height: float, n_macros: int, fields: dict[str, float] | None) -> Canvas:
    if fields is None:
        return default_canvas(width, height, n_macros)
    return Canvas(
        width=width, height=height, cols=int(fields["cols"]), rows=int(fields["rows"]),
        hroutes_per_micron=fields["hroutes_per_micron"], vroutes_per_micron=fields["vroutes_per_micron"],
        hrouting_alloc=fields["hrouting_alloc"], vrouting_alloc=fields["vrouting_alloc"],
        smooth_range=int(fields["smooth_range"]), overlap_threshold=fields["overlap_threshold"],
    )  # fmt: skip


def _side(x: float, y: float, width: float, height: float) -> str:
    distances = (x, width - x, y, height - y)
    return ("LEFT", "RIGHT", "BOTTOM", "TOP")[int(np.argmin(distances))]


#: A pin more than this share of its node's size (or 1e-6) outside the node's edge is named in
#: a warning: real suites overhang a little, a mistyped offset by far.
PIN_OVERHANG = 1.0


def _warn_of_odd_sizes_and_pins(raw: list[NodeRecord], nets: list[NetRecord], nodes_file: Path, nets_file: Path) -> None:
    """Warn (naming the first few by file and line) of movable nodes of zero size (no macro of
    any kind: they read as soft macros of no area) and of pins far outside their node (an offset
    of 11697 for 11.697 read silently, doubling the proxy)."""
    empty = [node for node in raw if not node.terminal and node.width * node.height == 0]
    if empty:
        shown = ", ".join(f"{n.name!r} (line {n.line})" for n in empty[:3])
        warn_netlist(
            f"{nodes_file}: {len(empty)} movable node(s) of zero size, e.g. {shown}: read as soft "
            "macros of no area",
            stacklevel=3,
        )
    far = []
    for net in nets:
        for node, _, dx, dy, line in net.pins:
            w, h = raw[node].width, raw[node].height
            if raw[node].terminal and w * h == 0:
                continue  # a port: its pins are read at its centre
            if abs(dx) > w / 2 + max(PIN_OVERHANG * w, 1e-6) or abs(dy) > h / 2 + max(PIN_OVERHANG * h, 1e-6):
                far.append(f"line {line}: {raw[node].name!r} offset ({dx:g}, {dy:g}) on a {w:g} x {h:g} node")
    if far:
        warn_netlist(
            f"{nets_file}: {len(far)} pin(s) lie far outside their node, e.g. " + "; ".join(far[:3])
            + " (a mistyped offset?)",
            stacklevel=3,
        )


def _warn_of_moved_fixed_nodes(
    raw: list[NodeRecord], read: tuple[np.ndarray, ...], pl: Path, own_pl: Path, index: dict[str, int], nodes_file: Path
) -> None:
    """Warn when another ``.pl`` of a design moves, turns or unfixes a node the design's own
    ``.pl`` fixes (a terminal, a pad, a ``/FIXED`` blockage): the placement reads, but it is
    not one of this design (benchmark checkers compare fixed objects with the design's)."""
    llx, lly, orient, fixed = read
    own_x, own_y, own_orient, own_fixed, _ = read_pl(own_pl, index, nodes_file)
    terminal = np.array([bool(node.terminal) for node in raw], dtype=bool)  # (fixed, flag or not)
    changed = (terminal | own_fixed) & ((llx != own_x) | (lly != own_y) | (orient != own_orient))
    changed |= ~terminal & own_fixed & ~fixed
    if changed.any():
        first = raw[int(np.flatnonzero(changed)[0])].name
        warn_netlist(
            f"{pl}: moves, turns or unfixes {int(changed.sum())} node(s) that {own_pl.name} fixes (first: "
            f"{first!r}): not a placement of this design as given",
            stacklevel=3,
        )
