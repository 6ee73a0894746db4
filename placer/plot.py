"""Pictures of a placement: the layout beside its density and congestion maps.

One figure, three panels, all to scale over the canvas:

1. **layout**: hard macros filled (fixed ones grey and hatched, overlapping ones outlined in
   red and crossed in white), each with a white notch in the corner that is its top-left one
   when it is placed N (turned and mirrored with the macro: its orientation), soft macros light
   and translucent in a darker outline, any macro not wholly inside the canvas outlined dashed
   in purple and dotted in black (each outline on a white halo), ports as dots, the
   placement grid (up to :data:`MAX_GRID_LINES` cells a side) and the canvas outline;
2. **density**: the per-cell density map of the proxy cost;
3. **congestion**: the per-cell maximum of the vertical and horizontal congestion maps.

The figure is titled with the design and its cost. Its size follows the canvas's shape (side
by side, or one above the other for a canvas much wider than tall: :func:`panel_grid`), and
each colour bar is as tall as its map. Coordinates are the design file's own: a Bookshelf
design, which the reader shifts so that its rows start at (0, 0), is drawn back where its
``.pl`` puts it, its axes in the file's units (:func:`design_origin`). Figures are built
without pyplot (on the Agg canvas), so plotting never depends on or changes the process's GUI
backend; in a notebook the returned :class:`~matplotlib.figure.Figure` displays itself.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import matplotlib
import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection, PatchCollection, PolyCollection
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.legend_handler import HandlerBase
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Polygon, Rectangle
from matplotlib.transforms import offset_copy

from netlists.formats.textio import write_atomically
from netlists.model import Netlist, Placement, orient_offsets
from placer.algorithms.legality import outside_canvas, overlapping_hard_macros
from placer.cost.proxy import ProxyCost, evaluate

HARD_COLOR = "#1f5fa8"
SOFT_COLOR = "#f2a93b"
PORT_COLOR = "#c0392b"
FIXED_COLOR = "#7f7f7f"
#: Soft macros' outline: their translucent orange fill is 1.2:1 on white, this 5:1.
SOFT_EDGE_COLOR = "#a0620a"
OVERLAP_COLOR = "#e31a1c"
OUTSIDE_COLOR = "#6a3d9a"
#: Non-colour cues of overlapping and outside macros (red or purple on the macros' blue is
#: 1.0 to 1.7:1, and red and blue look alike to protanopes): white crosses over overlapping
#: macros, black dots over macros outside the canvas, each outline on a white halo.
OVERLAP_HATCH, OVERLAP_HATCH_COLOR = "xx", "white"
OUTSIDE_HATCH, OUTSIDE_HATCH_COLOR = "..", "black"
HALO_COLOR = "white"
NOTCH_COLOR = "white"
#: The legend's words for the notch.
NOTCH_LABEL = "notch: top left if placed N"

#: Font sizes in points: tick labels of 7 pt on a 15-inch figure were about 5 pixels high at a
#: notebook's width.
TICK_FONT = 9.0
LABEL_FONT = 10.0
TITLE_FONT = 11.0
LEGEND_FONT = 9.0
SUPTITLE_FONT = 11.0

#: Grids with more cells than this per side are not drawn in the layout panel: a 2048 x 2048
#: grid's lines turned the whole panel solid grey.
MAX_GRID_LINES = 150

#: The orientation notch: a right triangle in the macro's top-left corner as placed N, its legs
#: these shares of the macro's shorter side (the longer along the N top edge, so that a mirror
#: image differs from a turn), turned and mirrored with the macro; a side longer than
#: :data:`NOTCH_MAX_SHARE` of the canvas's longer side counts as that long (the notch of a
#: large block covered a quarter of it).
NOTCH_LEGS = (0.5, 0.3)
NOTCH_MAX_SHARE = 0.12


def design_origin(netlist: Netlist) -> tuple[float, float]:
    """Where the design's file puts the model's (0, 0): the Bookshelf reader shifts a design
    so that its rows' lower-left corner is the origin (``bookshelf_origin`` in its metadata);
    the pictures add it back, so a coordinate of the ``.pl`` can be found on the axes. (0, 0)
    for every other design."""
    origin = cast("tuple[float, float] | None", netlist.metadata.get("bookshelf_origin"))
    if origin is None:
        return 0.0, 0.0
    return float(origin[0]), float(origin[1])


def _counted(count: int, noun: str) -> str:
    """``1 port``, ``2 ports``."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _rectangles(netlist: Netlist, placement: Placement, nodes: np.ndarray) -> list[Rectangle]:
    w, h = netlist.width[nodes], netlist.height[nodes]
    ox, oy = design_origin(netlist)
    x0, y0 = placement.x[nodes] - w / 2 + ox, placement.y[nodes] - h / 2 + oy
    return [Rectangle((float(a), float(b)), float(c), float(d)) for a, b, c, d in zip(x0, y0, w, h, strict=True)]


def orientation_notches(netlist: Netlist, placement: Placement, nodes: np.ndarray) -> np.ndarray:
    """The ``(len(nodes), 3, 2)`` corners of each node's orientation notch (see
    :data:`NOTCH_LEGS`): the N top-left corner of its footprint and its two legs, each turned by
    the node's orientation as its pin offsets are (:func:`~netlists.model.orient_offsets`), so
    N, S, E, W and their mirror images each put it in a corner and direction of their own."""
    w, h = netlist.width[nodes], netlist.height[nodes]
    orientation = np.asarray(placement.orientation)[nodes]
    ones, zeros = np.ones(nodes.size), np.zeros(nodes.size)
    corner_x, corner_y = orient_offsets(-ones, ones, orientation)  # (signs: which corner)
    along_x, along_y = orient_offsets(ones, zeros, orientation)  # the N top edge, inwards
    down_x, down_y = orient_offsets(zeros, -ones, orientation)  # the N left edge, inwards
    ox, oy = design_origin(netlist)
    cx, cy = placement.x[nodes] + corner_x * w / 2 + ox, placement.y[nodes] + corner_y * h / 2 + oy
    canvas = netlist.require_canvas()
    side = np.minimum(np.minimum(w, h), NOTCH_MAX_SHARE * max(canvas.width, canvas.height))
    long_leg, short_leg = NOTCH_LEGS[0] * side, NOTCH_LEGS[1] * side
    xs = np.stack([cx, cx + along_x * long_leg, cx + down_x * short_leg], axis=1)
    ys = np.stack([cy, cy + along_y * long_leg, cy + down_y * short_leg], axis=1)
    return np.stack([xs, ys], axis=2)


class _NotchedBox(HandlerBase):
    """A legend key drawn as a hard macro with its orientation notch (a marker alone did not
    look like the white corner it stands for)."""

    def create_artists(self, legend: Any, orig_handle: Any, xdescent: float, ydescent: float, width: float,
                       height: float, fontsize: float, trans: Any) -> list[Any]:
        x0, y0 = -xdescent, -ydescent
        box = Rectangle((x0, y0), width, height, facecolor=HARD_COLOR, edgecolor="black", alpha=0.85,
                        linewidth=0.6, transform=trans)
        corner = (x0, y0 + height)
        notch = Polygon([corner, (x0 + 0.45 * height * 1.6, y0 + height), (x0, y0 + height * 0.5)],
                        closed=True, facecolor=NOTCH_COLOR, edgecolor="none", transform=trans)
        return [box, notch]


def draw_layout(ax: Axes, netlist: Netlist, placement: Placement, show_grid: bool = True,
                legend_columns: int = 3, title_width_in: float = 0.0, figure_legend: bool = False) -> None:
    """Draw macros, ports, grid and canvas of ``placement`` on ``ax`` (to scale), with a
    legend of ``legend_columns`` columns below it (``figure_legend``: below the figure, from its
    left edge, where a row of panels lets it reach under its neighbours); the title is broken
    into lines about ``title_width_in`` inches wide (0: one line)."""
    c = netlist.require_canvas()
    ox, oy = design_origin(netlist)
    if show_grid and max(c.cols, c.rows) <= MAX_GRID_LINES:  # (denser, the lines turned it grey)
        xs = np.linspace(0.0, c.width, c.cols + 1) + ox
        ys = np.linspace(0.0, c.height, c.rows + 1) + oy
        lines = ([((x, oy), (x, oy + c.height)) for x in xs]
                 + [((ox, y), (ox + c.width, y)) for y in ys])  # fmt: skip
        ax.add_collection(LineCollection(lines, colors="#bbbbbb", linewidths=0.4, zorder=0))
    ax.add_patch(Rectangle((ox, oy), c.width, c.height, fill=False, edgecolor="black", linewidth=1.0))
    soft = netlist.soft_macros
    if soft.size:
        ax.add_collection(PatchCollection(
            _rectangles(netlist, placement, soft), facecolor=to_rgba(SOFT_COLOR, 0.25), edgecolor=SOFT_EDGE_COLOR,
            linewidths=0.3, zorder=1))
    hard = netlist.hard_macros
    fixed = hard[np.asarray(placement.fixed, dtype=bool)[hard]]
    movable = np.setdiff1d(hard, fixed)
    if movable.size:
        ax.add_collection(PatchCollection(
            _rectangles(netlist, placement, movable), facecolor=HARD_COLOR, edgecolor="black",
            alpha=0.85, linewidths=0.4, zorder=2))
    if fixed.size:  # (blockages and pre-placed macros: no method moves them)
        ax.add_collection(PatchCollection(
            _rectangles(netlist, placement, fixed), facecolor=FIXED_COLOR, edgecolor="black",
            hatch="////", alpha=0.85, linewidths=0.4, zorder=2))
    if hard.size:  # (a macro turned S looked as one placed N)
        ax.add_collection(PolyCollection(
            list(orientation_notches(netlist, placement, hard)), facecolors=NOTCH_COLOR, edgecolors="none",
            alpha=0.9, zorder=2.5))
    overlapping = overlapping_hard_macros(netlist, placement)
    if overlapping.size:  # outlined: the title's count alone did not say which
        _marked(ax, _rectangles(netlist, placement, overlapping), OVERLAP_COLOR, OVERLAP_HATCH, OVERLAP_HATCH_COLOR,
                linewidths=1.2)
    outside = outside_canvas(netlist, placement)
    if outside.size:  # (so are these: a soft macro just past the edge was invisible as such)
        _marked(ax, _rectangles(netlist, placement, outside), OUTSIDE_COLOR, OUTSIDE_HATCH, OUTSIDE_HATCH_COLOR,
                linestyle="--", linewidths=1.0)
    ports = netlist.ports
    if ports.size:
        ax.scatter(placement.x[ports] + ox, placement.y[ports] + oy, s=6, color=PORT_COLOR, zorder=3)
    hidden, farthest = _frame(ax, netlist, placement)
    title = (f"layout: {hard.size} hard, {soft.size} soft {'macro' if soft.size == 1 else 'macros'}, "
             f"{_counted(int(ports.size), 'port')}")
    title = _wrapped(title, title_width_in, TITLE_FONT) if title_width_in else title
    if hidden:  # said on the picture (a panel sized to them showed nothing else), above the
        # axes: inside, the box hid the macros at the top of the canvas
        note = (f"{hidden} macro(s) / port(s) beyond this frame, not shown\n"
                f"(up to {farthest:.3g} {netlist.length_unit} outside the canvas)")
        ax.annotate(note, xy=(0.5, 1.0), xycoords="axes fraction", xytext=(0, 6), textcoords="offset points",
                    ha="center", va="bottom", fontsize=LEGEND_FONT, color=PORT_COLOR, zorder=5,
                    bbox={"facecolor": "white", "edgecolor": PORT_COLOR, "pad": 2})
        ax.set_title(title, fontsize=TITLE_FONT, pad=12 + 2.6 * LEGEND_FONT)  # (over the note)
    else:
        ax.set_title(title, fontsize=TITLE_FONT)
    # drawn handles, not the collections': matplotlib before 3.9 cannot draw a legend entry of
    # a PatchCollection (it warned and dropped the hard and soft macros from the legend)
    handles = [handle for count, handle in (
        (soft.size, Patch(facecolor=to_rgba(SOFT_COLOR, 0.25), edgecolor=SOFT_EDGE_COLOR, label="soft macros")),
        (movable.size, Patch(facecolor=HARD_COLOR, edgecolor="black", alpha=0.85, label="hard macros")),
        (fixed.size, Patch(facecolor=FIXED_COLOR, edgecolor="black", hatch="////", alpha=0.85,
                           label="fixed hard macros")),
        (hard.size, Patch(label=NOTCH_LABEL)),  # (drawn by _NotchedBox)
        (overlapping.size, _hatched(OVERLAP_HATCH_COLOR, facecolor=HARD_COLOR, edgecolor=OVERLAP_COLOR,
                                    hatch=OVERLAP_HATCH, linewidth=1.2, label="overlapping hard macros")),
        (outside.size, _hatched(OUTSIDE_HATCH_COLOR, facecolor="none", edgecolor=OUTSIDE_COLOR, hatch=OUTSIDE_HATCH,
                                linestyle="--", linewidth=1.0, label="macros outside the canvas")),
        (ports.size, Line2D([], [], marker="o", markersize=3, linestyle="", color=PORT_COLOR, label="ports")),
    ) if count]  # fmt: skip
    notched = {handle: _NotchedBox() for handle in handles if handle.get_label() == NOTCH_LABEL}
    if handles and figure_legend:  # (under the axes, wider than the panel, the constrained layout
        # widened its column for it and every map shrank)
        assert ax.figure is not None
        ax.figure.legend(handles=handles, loc="outside lower left", ncols=legend_columns, fontsize=LEGEND_FONT,
                         frameon=False, handler_map=notched)
    elif handles:  # the colours say which is which
        # below the axes (over them it hid macros), a fixed distance under the tick labels and
        # the axis label: 10 % of the panel's height put it over them on a flat canvas
        # (matplotlib's stub asks for a Figure; offset_copy reads only dpi_scale_trans, which a
        # SubFigure has too)
        below = offset_copy(ax.transAxes, fig=ax.figure, y=-34, units="points")  # type: ignore[arg-type]
        ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.0), bbox_transform=below,
                  ncols=legend_columns, fontsize=LEGEND_FONT, frameon=False, handler_map=notched)


def _hatched(hatch_color: str, **patch: Any) -> Patch:
    """A legend's :class:`Patch` whose hatch is ``hatch_color``, on matplotlib 3.10 and later.
    On 3.8 and 3.9 (which the project allows) a patch's edge colour sets its hatch colour too,
    so there the legend's "overlapping" and "outside the canvas" swatches are hatched in their
    outline's colour (:data:`OVERLAP_COLOR`, :data:`OUTSIDE_COLOR`) and differ from the map's
    hatching in colour only: their patterns, which tell the two apart, are the same, and the
    map itself (:func:`_marked`'s collections) is hatched in ``hatch_color`` in every
    version."""
    with matplotlib.rc_context({"hatch.color": hatch_color}):
        return Patch(**patch)


def _marked(ax: Axes, rectangles: list[Rectangle], colour: str, hatch: str, hatch_color: str,
            **outline: Any) -> None:
    """Outline ``rectangles`` in ``colour`` over a white halo, hatched in ``hatch_color``: the
    outline's colour is not the only cue (see :data:`OVERLAP_HATCH`)."""
    width = float(outline.pop("linewidths"))
    ax.add_collection(PatchCollection(rectangles, facecolor="none", edgecolor=HALO_COLOR, linewidths=width + 1.6,
                                      zorder=3.9))
    # (a collection's hatch colour is read from the settings when it is made, in every version)
    with matplotlib.rc_context({"hatch.color": hatch_color}):
        ax.add_collection(PatchCollection(rectangles, facecolor="none", edgecolor=colour, hatch=hatch,
                                          linewidths=width, zorder=4, **outline))


#: How far past the canvas (a fraction of its width / height) the panels reach to show macros
#: and ports placed outside it; anything farther is counted in the layout panel, not drawn
#: (one port at -1e5 shrank every panel to a line).
MAX_OVERHANG = 0.5


@dataclass(frozen=True)
class Frame:
    """What the panels span, in the model's coordinates (the origin not added): the canvas
    and the macros and ports placed outside it, up to :data:`MAX_OVERHANG` beyond it, with a
    margin; ``hidden`` macros and ports lie wholly beyond it, the farthest ``farthest`` from
    the canvas (0, 0.0: none)."""

    x_lo: float
    x_hi: float
    y_lo: float
    y_hi: float
    hidden: int = 0
    farthest: float = 0.0

    @property
    def aspect(self) -> float:
        """Height over width."""
        return (self.y_hi - self.y_lo) / (self.x_hi - self.x_lo)


def frame_of(netlist: Netlist, placement: Placement | None = None) -> Frame:
    """The :class:`Frame` the panels of ``placement`` span (the canvas alone without one)."""
    c = netlist.require_canvas()
    x_lo, x_hi, y_lo, y_hi = 0.0, c.width, 0.0, c.height
    shown = np.concatenate([netlist.macros, netlist.ports])
    hidden, farthest = 0, 0.0
    if placement is not None and shown.size:
        w, h = netlist.width[shown] / 2, netlist.height[shown] / 2  # ports: zero size
        lo_x, hi_x = placement.x[shown] - w, placement.x[shown] + w
        lo_y, hi_y = placement.y[shown] - h, placement.y[shown] + h
        reach_x, reach_y = MAX_OVERHANG * c.width, MAX_OVERHANG * c.height

        def limits(drawn: np.ndarray) -> tuple[float, float, float, float]:
            """The canvas and the ``drawn`` rectangles, at most the reach past the canvas."""
            return (max(float(np.min(lo_x[drawn], initial=0.0)), -reach_x),
                    min(float(np.max(hi_x[drawn], initial=c.width)), c.width + reach_x),
                    max(float(np.min(lo_y[drawn], initial=0.0)), -reach_y),
                    min(float(np.max(hi_y[drawn], initial=c.height)), c.height + reach_y))

        x_lo, x_hi, y_lo, y_hi = limits(np.ones(shown.size, dtype=bool))
        # wholly past the limits (one partly inside is drawn, cut at the frame)
        beyond = (hi_x < x_lo) | (lo_x > x_hi) | (hi_y < y_lo) | (lo_y > y_hi)
        hidden = int(np.count_nonzero(beyond))
        if hidden:  # the limits again from what is drawn (one far off in y widened x for nothing)
            x_lo, x_hi, y_lo, y_hi = limits(~beyond)
            out = np.maximum.reduce([-lo_x, hi_x - c.width, -lo_y, hi_y - c.height])
            farthest = float(np.max(out[beyond]))
    margin = 0.02 * max(c.width, c.height)
    return Frame(x_lo - margin, x_hi + margin, y_lo - margin, y_hi + margin, hidden, farthest)


def _frame(ax: Axes, netlist: Netlist, placement: Placement | None = None) -> tuple[int, float]:
    """Set ``ax`` to :func:`frame_of` (in the file's coordinates, :func:`design_origin`),
    equal aspect, axes labelled in the design's units; returns how many macros and ports lie
    beyond it and the farthest distance from the canvas any of them reaches."""
    frame = frame_of(netlist, placement)
    ox, oy = design_origin(netlist)
    ax.set_xlim(frame.x_lo + ox, frame.x_hi + ox)
    ax.set_ylim(frame.y_lo + oy, frame.y_hi + oy)
    ax.set_aspect("equal")
    unit = netlist.length_unit  # (µm, or a Bookshelf design's .pl units)
    ax.set_xlabel(f"x ({unit})", fontsize=LABEL_FONT)
    ax.set_ylabel(f"y ({unit})", fontsize=LABEL_FONT)
    ax.tick_params(labelsize=TICK_FONT)
    return frame.hidden, frame.farthest


def draw_map(
    ax: Axes,
    netlist: Netlist,
    values: np.ndarray,
    title: str,
    cmap: str,
    limits: tuple[float, float] | None = None,
    placement: Placement | None = None,
    label: str = "",
    bar_width: float = 0.05,
) -> None:
    """A per-cell ``(rows, cols)`` map as a heat map over the canvas, with a colour bar
    labelled ``label`` (what a value is; ``limits``: its range, shared by pictures to be
    compared; default the map's own) as tall as the map and ``bar_width`` of its width. With
    ``placement``, the axes span what the layout panel of that placement spans (macros outside
    the canvas included), so that the panels line up."""
    c = netlist.require_canvas()
    vmin: float | None = None  # (None: the map's own)
    vmax: float | None = None
    if limits is not None:
        vmin, vmax = limits[0], limits[1]
    elif values.size and np.ptp(values) == 0:  # a flat map (all 0: no macro on the canvas) got a
        level = float(values.flat[0])  # mid-scale colour and a -0.1..0.1 bar; from 0 instead
        vmin, vmax = min(level, 0.0), level if level > 0 else 1.0
    elif values.size:  # from 0: the darkest cell read as empty when it held the map's minimum
        vmin = min(float(values.min()), 0.0)
    ox, oy = design_origin(netlist)
    image = ax.imshow(values, origin="lower", extent=(ox, ox + c.width, oy, oy + c.height), cmap=cmap,
                      interpolation="nearest", aspect="equal", vmin=vmin, vmax=vmax)
    ax.add_patch(Rectangle((ox, oy), c.width, c.height, fill=False, edgecolor="black", linewidth=1.0))
    _frame(ax, netlist, placement)
    ax.set_title(title, fontsize=TITLE_FONT)
    assert ax.figure is not None
    # an inset of the map's axes: beside the map and as tall as it, whatever the figure's shape
    # (one sized to the axes' slot was four times the map's height on a flat canvas)
    bar = ax.figure.colorbar(image, cax=ax.inset_axes((1.0 + 0.6 * bar_width, 0.0, bar_width, 1.0)))
    bar.ax.tick_params(labelsize=TICK_FONT)
    if label:
        bar.set_label(label, fontsize=LABEL_FONT)


def _number(value: float) -> str:
    """Four decimals, or four significant digits for an exploded cost (not 300 digits)."""
    return f"{value:.4g}" if abs(value) >= 1e6 else f"{value:.4f}"


def cost_title(name: str, cost: ProxyCost) -> str:
    """A plot title: ``name`` and the proxy cost with its three terms."""
    return (f"{name}: proxy {_number(cost.proxy)} = wirelength {_number(cost.wirelength)} "
            f"+ 0.5 x density {_number(cost.density)} + 0.5 x congestion {_number(cost.congestion)}")


def _fitted(title: str, fig: Figure, fontsize: float = SUPTITLE_FONT) -> str:
    """``title`` as lines that fit ``fig``'s width: a long design name (a folder path) pushed
    the cost out of the picture. The cost part stays whole on its own line; only the name is
    broken, a word wider than the line where it fills it. Each line is measured in the figure's
    font (a fixed 0.7 em a character let names of W, M or CJK characters run out; a count of the
    widest character's width broke a plain name early, "budget 1 s):" alone on a line)."""
    from matplotlib.font_manager import FontProperties

    canvas = fig.canvas
    assert isinstance(canvas, FigureCanvasAgg)  # (plot_placement attaches one)
    renderer = canvas.get_renderer()
    font = FontProperties(size=fontsize)
    room = 0.98 * fig.bbox.width

    def fits(text: str) -> bool:
        return renderer.get_text_width_height_descent(text, font, ismath=False)[0] <= room

    if fits(title):
        return title
    name, _, cost = title.rpartition(": proxy ")
    return "\n".join([*(_width_wrapped(name + ":", fits) if name else []), *_width_wrapped("proxy " + cost, fits)])


def _width_wrapped(text: str, fits: Callable[[str], bool]) -> list[str]:
    """``text`` broken at spaces into lines as long as ``fits`` allows; a word too wide for a
    line of its own is cut where it fills one."""
    lines: list[str] = []
    line = ""
    for word in text.split():
        if fits(f"{line} {word}" if line else word):
            line = f"{line} {word}" if line else word
            continue
        if line:
            lines.append(line)
        while len(word) > 1 and not fits(word):
            low, high = 1, len(word) - 1  # the longest head of the word that fits (at least 1)
            while low < high:
                middle = (low + high + 1) // 2
                low, high = (middle, high) if fits(word[:middle]) else (low, middle - 1)
            lines.append(word[:low])
            word = word[low:]
        line = word
    return [*lines, *([line] if line else [])]


def map_limits(netlist: Netlist, placements: Iterable[Placement]) -> dict[str, tuple[float, float]]:
    """One colour range per map (``density``, ``congestion``) over several placements of a
    design, for :func:`plot_placement` pictures meant to be compared: each picture scaled to
    its own maximum made a cooler placement look as hot as a hotter one."""
    highs = {"density": 0.0, "congestion": 0.0}
    for placement in placements:
        maps = evaluate(netlist, placement, with_maps=True).maps
        assert maps is not None
        highs["density"] = max(highs["density"], float(maps.density.max(initial=0.0)))
        congestion = np.maximum(maps.vertical, maps.horizontal)
        highs["congestion"] = max(highs["congestion"], float(congestion.max(initial=0.0)))
    return {name: (0.0, high if high > 0 else 1.0) for name, high in highs.items()}


#: A frame less tall than this share of its width has its three panels one above the other
#: (side by side, a 4:1 canvas left maps an inch high in a wide empty band).
STACK_BELOW = 1 / 3
#: Inches around a panel's map in a row of three (tick labels, axis label, colour bar) and
#: across a stacked one; the tallest a map is drawn side by side, and stacked.
_PANEL_MARGIN_IN = 1.4
_STACKED_MARGIN_IN = 1.8
_MAX_SIDE_BY_SIDE_IN = 7.0
_MAX_STACKED_IN = 3.6
_BAR_IN = 0.16  # a colour bar's width


@dataclass(frozen=True)
class PanelGrid:
    """How :func:`plot_placement` lays its three panels out: ``rows`` x ``cols`` in a figure of
    ``size`` inches, each map about ``map_in`` inches (width, height)."""

    rows: int
    cols: int
    size: tuple[float, float]
    map_in: tuple[float, float]


def panel_grid(aspect: float, width_in: float = 15.0) -> PanelGrid:
    """The layout of the three panels for a frame of ``aspect`` (height over width) in a figure
    about ``width_in`` inches wide: side by side, each map as wide as a third of the figure
    allows and as tall as its shape makes it (at most :data:`_MAX_SIDE_BY_SIDE_IN`, the figure
    then narrower); one above the other below :data:`STACK_BELOW`, each map the figure's width
    (at most :data:`_MAX_STACKED_IN` tall). The figure's height follows: a fixed 15 x 5.4 inches
    left a tall canvas's maps in a mostly white picture."""
    aspect = float(np.clip(aspect, 1e-3, 1e3)) if np.isfinite(aspect) else 1.0
    if aspect < STACK_BELOW:
        map_w = min(width_in - _STACKED_MARGIN_IN, _MAX_STACKED_IN / aspect)
        map_h = map_w * aspect
        # per panel: its title and tick labels and x label; once: the title and the legend
        return PanelGrid(3, 1, (map_w + _STACKED_MARGIN_IN, 3 * (map_h + 1.1) + 1.4), (map_w, map_h))
    map_w = (width_in - 3 * _PANEL_MARGIN_IN) / 3
    map_h = map_w * aspect
    if map_h > _MAX_SIDE_BY_SIDE_IN:
        map_h = _MAX_SIDE_BY_SIDE_IN
        map_w = map_h / aspect
    # the title (two lines) and the panel titles above, tick labels, x label and legend below
    return PanelGrid(1, 3, (3 * (map_w + _PANEL_MARGIN_IN), map_h + 2.2), (map_w, map_h))


def _wrapped(text: str, width_in: float, fontsize: float) -> str:
    """``text`` broken into lines about ``width_in`` inches wide (a panel title wider than a
    narrow panel ran over its neighbour's)."""
    per_line = max(int(width_in * 72 / (0.6 * fontsize)), 16)
    return "\n".join(textwrap.wrap(text, per_line, break_on_hyphens=False)) or text


def plot_placement(
    netlist: Netlist,
    placement: Placement,
    title: str | None = None,
    width_in: float = 15.0,
    limits: dict[str, tuple[float, float]] | None = None,
) -> Figure:
    """The three-panel figure of ``placement`` (layout, density, congestion), cost in the title,
    shaped by the canvas (:func:`panel_grid`, about ``width_in`` inches wide); ``limits``
    (:func:`map_limits`) gives the maps' colour ranges, default each map's own. The figure's
    label (``get_label()``) is the title's text unbroken: the cost line, then the legality
    problems of an illegal placement."""
    cost = evaluate(netlist, placement, with_maps=True)
    assert cost.maps is not None
    limits = limits or {}
    grid = panel_grid(frame_of(netlist, placement).aspect, width_in)
    fig = Figure(figsize=grid.size, layout="constrained")
    FigureCanvasAgg(fig)
    ax_layout, ax_density, ax_congestion = fig.subplots(grid.rows, grid.cols)
    map_w, map_h = grid.map_in
    title_width = map_w + (0.0 if grid.rows == 1 else _STACKED_MARGIN_IN)
    # side by side, the legend goes below the figure (under the layout panel it widened its
    # column, and every map shrank); stacked, between the layout and the density panels
    stacked = grid.rows > 1
    draw_layout(ax_layout, netlist, placement, legend_columns=4 if stacked else (3 if map_w > 2.6 else 2),
                title_width_in=title_width + 0.8, figure_legend=not stacked)
    bar_width = _BAR_IN / map_w
    for ax, values, name, cmap, label in (
        (ax_density, cost.maps.density, "density", "viridis", "macro area / cell area"),
        (ax_congestion, np.maximum(cost.maps.vertical, cost.maps.horizontal), "congestion", "magma",
         "routing demand / capacity"),
    ):
        heading = "density (per cell)" if name == "density" else "congestion (max of V and H, per cell)"
        if map_h < 2.2:  # (on a short bar the label ran past its ends)
            label = label.replace(" / ", "\n/ ")
        draw_map(ax, netlist, values, _wrapped(heading, title_width + 0.8, TITLE_FONT), cmap, limits.get(name),
                 placement, label=label, bar_width=bar_width)
    from placer.algorithms.legality import check_legality

    legality = check_legality(netlist, placement)  # (a cost alone reads as a bar to clear)
    illegal = "" if legality.legal else f"\nnot a legal placement: {legality.problems()}"
    # a name from a folder whose name is not UTF-8 holds surrogates matplotlib cannot draw
    text = cost_title(title or netlist.name, cost).encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    # parse_math=False: a "$" in a design or folder name is text, not TeX markup
    fig.suptitle(_fitted(text, fig) + illegal, fontsize=SUPTITLE_FONT, parse_math=False)
    fig.set_label(text + illegal)  # (the title unbroken: what placer plot prints beside the picture)
    return fig


def save_placement_plot(
    path: str | Path,
    netlist: Netlist,
    placement: Placement,
    title: str | None = None,
    dpi: int = 120,
    limits: dict[str, tuple[float, float]] | None = None,
) -> Path:
    """Write :func:`plot_placement` to ``path`` (PNG, PDF, SVG by its suffix); ``limits`` as
    there."""
    return save_picture(plot_placement(netlist, placement, title, limits=limits), path, dpi)


def save_picture(figure: Figure, path: str | Path, dpi: int = 120) -> Path:
    """Write ``figure`` (:func:`plot_placement`'s) to ``path`` as :func:`picture_writer` does,
    its folder made: the one writer of a lone picture (``placer plot`` repeated it)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # through a temporary renamed over ``path``: a full disk or a kill left the earlier picture
    # a truncated file with a valid header
    write_atomically({path: picture_writer(figure, path, dpi)})
    return path


def picture_writer(figure: Figure, path: Path, dpi: int = 120) -> Callable[[Path], None]:
    """A :func:`~netlists.formats.textio.write_atomically` writer of ``figure`` in ``path``'s
    format (by its suffix; PNG without one), so a picture joins a set of files written as one.

    The picture is cut to what is drawn (``bbox_inches="tight"``): the layout panel's legend
    hangs below its axes, and in two rows the constrained layout cut its second row off. Its
    bytes depend on the figure alone (no date in a PDF or SVG)."""
    from learned_systems.plots import save_reproducibly

    image_format = path.suffix[1:].lower() or "png"

    def write(temporary: Path) -> None:
        save_reproducibly(figure, temporary, image_format, dpi, bbox_inches="tight", pad_inches=0.05)

    return write
