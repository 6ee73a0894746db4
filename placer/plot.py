"""Pictures of a placement: the layout beside its density and congestion maps.

One figure, three panels, all to scale over the canvas:

1. **layout**: hard macros filled (fixed ones grey and hatched, overlapping ones outlined in
   red), soft macros light and translucent, any macro not wholly inside the canvas outlined
   dashed in purple, ports as dots, the placement grid (up to :data:`MAX_GRID_LINES` cells a
   side) and the canvas outline;
2. **density**: the per-cell density map of the proxy cost;
3. **congestion**: the per-cell maximum of the vertical and horizontal congestion maps.

The figure is titled with the design and its cost. Figures are built without pyplot (on the
Agg canvas), so plotting never depends on or changes the process's GUI backend; in a notebook
the returned :class:`~matplotlib.figure.Figure` displays itself.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection, PatchCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle
from matplotlib.transforms import offset_copy

from netlists.formats.textio import write_atomically
from netlists.model import Netlist, Placement
from placer.algorithms.legality import outside_canvas, overlapping_hard_macros
from placer.cost.proxy import ProxyCost, evaluate

HARD_COLOR = "#1f5fa8"
SOFT_COLOR = "#f2a93b"
PORT_COLOR = "#c0392b"
FIXED_COLOR = "#7f7f7f"
OVERLAP_COLOR = "#e31a1c"
OUTSIDE_COLOR = "#6a3d9a"


#: Grids with more cells than this per side are not drawn in the layout panel: a 2048 x 2048
#: grid's lines turned the whole panel solid grey.
MAX_GRID_LINES = 150


def _rectangles(netlist: Netlist, placement: Placement, nodes: np.ndarray) -> list[Rectangle]:
    w, h = netlist.width[nodes], netlist.height[nodes]
    x0, y0 = placement.x[nodes] - w / 2, placement.y[nodes] - h / 2
    return [Rectangle((float(a), float(b)), float(c), float(d)) for a, b, c, d in zip(x0, y0, w, h, strict=True)]


def draw_layout(ax: Axes, netlist: Netlist, placement: Placement, show_grid: bool = True) -> None:
    """Draw macros, ports, grid and canvas of ``placement`` on ``ax`` (to scale)."""
    c = netlist.require_canvas()
    if show_grid and max(c.cols, c.rows) <= MAX_GRID_LINES:  # (denser, the lines turned it grey)
        xs = np.linspace(0.0, c.width, c.cols + 1)
        ys = np.linspace(0.0, c.height, c.rows + 1)
        lines = [((x, 0.0), (x, c.height)) for x in xs] + [((0.0, y), (c.width, y)) for y in ys]
        ax.add_collection(LineCollection(lines, colors="#bbbbbb", linewidths=0.4, zorder=0))
    ax.add_patch(Rectangle((0, 0), c.width, c.height, fill=False, edgecolor="black", linewidth=1.0))
    soft = netlist.soft_macros
    if soft.size:
        ax.add_collection(PatchCollection(
            _rectangles(netlist, placement, soft), facecolor=SOFT_COLOR, edgecolor=SOFT_COLOR,
            alpha=0.25, linewidths=0.3, zorder=1))
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
    overlapping = overlapping_hard_macros(netlist, placement)
    if overlapping.size:  # outlined: the title's count alone did not say which
        ax.add_collection(PatchCollection(
            _rectangles(netlist, placement, overlapping), facecolor="none", edgecolor=OVERLAP_COLOR,
            linewidths=1.2, zorder=4))
    outside = outside_canvas(netlist, placement)
    if outside.size:  # (so are these: a soft macro just past the edge was invisible as such)
        ax.add_collection(PatchCollection(
            _rectangles(netlist, placement, outside), facecolor="none", edgecolor=OUTSIDE_COLOR,
            linestyle="--", linewidths=1.0, zorder=4))
    ports = netlist.ports
    if ports.size:
        ax.scatter(placement.x[ports], placement.y[ports], s=6, color=PORT_COLOR, zorder=3)
    hidden, farthest = _frame(ax, netlist, placement)
    if hidden:  # said on the picture: a panel sized to them showed nothing else
        ax.text(0.5, 0.97, f"{hidden} macro(s) / port(s) beyond this frame, not shown\n"
                f"(up to {farthest:.3g} µm outside the canvas)", transform=ax.transAxes,
                ha="center", va="top", fontsize=7, color=PORT_COLOR, zorder=5,
                bbox={"facecolor": "white", "edgecolor": PORT_COLOR, "alpha": 0.9, "pad": 2})
    # drawn handles, not the collections': matplotlib before 3.9 cannot draw a legend entry of
    # a PatchCollection (it warned and dropped the hard and soft macros from the legend)
    handles = [handle for count, handle in (
        (soft.size, Patch(facecolor=SOFT_COLOR, edgecolor=SOFT_COLOR, alpha=0.25, label="soft macros")),
        (movable.size, Patch(facecolor=HARD_COLOR, edgecolor="black", alpha=0.85, label="hard macros")),
        (fixed.size, Patch(facecolor=FIXED_COLOR, edgecolor="black", hatch="////", alpha=0.85,
                           label="fixed hard macros")),
        (overlapping.size, Patch(facecolor="none", edgecolor=OVERLAP_COLOR, linewidth=1.2,
                                 label="overlapping hard macros")),
        (outside.size, Patch(facecolor="none", edgecolor=OUTSIDE_COLOR, linestyle="--", linewidth=1.0,
                             label="macros outside the canvas")),
        (ports.size, Line2D([], [], marker="o", markersize=3, linestyle="", color=PORT_COLOR, label="ports")),
    ) if count]  # fmt: skip
    if handles:  # the colours say which is which
        # below the axes (over them it hid macros), a fixed distance under the tick labels and
        # the axis label: 10 % of the panel's height put it over them on a flat canvas
        # (matplotlib's stub asks for a Figure; offset_copy reads only dpi_scale_trans, which a
        # SubFigure has too)
        below = offset_copy(ax.transAxes, fig=ax.figure, y=-30, units="points")  # type: ignore[arg-type]
        ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.0), bbox_transform=below,
                  ncols=3, fontsize=7, frameon=False)
    ax.set_title(f"layout: {hard.size} hard, {soft.size} soft macros, {ports.size} ports",
                 fontsize=9)


#: How far past the canvas (a fraction of its width / height) the panels reach to show macros
#: and ports placed outside it; anything farther is counted in the layout panel, not drawn
#: (one port at -1e5 shrank every panel to a line).
MAX_OVERHANG = 0.5


def _frame(ax: Axes, netlist: Netlist, placement: Placement | None = None) -> tuple[int, float]:
    """Axes limits covering the canvas and any macro or port placed outside it (up to
    :data:`MAX_OVERHANG` beyond it), equal aspect. Returns how many macros and ports reach past
    those limits and the farthest distance from the canvas any of them reaches (0, 0.0: none)."""
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
    ax.set_xlim(x_lo - margin, x_hi + margin)
    ax.set_ylim(y_lo - margin, y_hi + margin)
    ax.set_aspect("equal")
    ax.set_xlabel("x (µm)", fontsize=8)
    ax.set_ylabel("y (µm)", fontsize=8)
    ax.tick_params(labelsize=7)
    return hidden, farthest


def draw_map(
    ax: Axes,
    netlist: Netlist,
    values: np.ndarray,
    title: str,
    cmap: str,
    limits: tuple[float, float] | None = None,
    placement: Placement | None = None,
    label: str = "",
) -> None:
    """A per-cell ``(rows, cols)`` map as a heat map over the canvas, with a colour bar
    labelled ``label`` (what a value is; ``limits``: its range, shared by pictures to be
    compared; default the map's own). With
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
    image = ax.imshow(values, origin="lower", extent=(0.0, c.width, 0.0, c.height), cmap=cmap,
                      interpolation="nearest", aspect="equal", vmin=vmin, vmax=vmax)
    ax.add_patch(Rectangle((0, 0), c.width, c.height, fill=False, edgecolor="black", linewidth=1.0))
    _frame(ax, netlist, placement)
    ax.set_title(title, fontsize=9)
    assert ax.figure is not None
    bar = ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    bar.ax.tick_params(labelsize=7)
    if label:
        bar.set_label(label, fontsize=7)


def _number(value: float) -> str:
    """Four decimals, or four significant digits for an exploded cost (not 300 digits)."""
    return f"{value:.4g}" if abs(value) >= 1e6 else f"{value:.4f}"


def cost_title(name: str, cost: ProxyCost) -> str:
    """A plot title: ``name`` and the proxy cost with its three terms."""
    return (f"{name}: proxy {_number(cost.proxy)} = wirelength {_number(cost.wirelength)} "
            f"+ 0.5 x density {_number(cost.density)} + 0.5 x congestion {_number(cost.congestion)}")


def _fitted(title: str, fig: Figure, fontsize: float = 10.0) -> str:
    """``title`` as lines that fit ``fig``'s width: a long design name (a folder path) pushed
    the cost out of the picture. The cost part stays whole on its own line; only the name is
    broken. A line holds as many characters as the title's widest one fits (measured in the
    figure's font: a fixed 0.7 em a character let names of W, M or CJK characters run out)."""
    from matplotlib.font_manager import FontProperties

    canvas = fig.canvas
    assert isinstance(canvas, FigureCanvasAgg)  # (plot_placement attaches one)
    renderer = canvas.get_renderer()
    font = FontProperties(size=fontsize)
    widest = max(renderer.get_text_width_height_descent(c, font, ismath=False)[0] for c in set(title))
    per_line = max(int(0.98 * fig.bbox.width / max(widest, 1.0)), 20)
    if len(title) <= per_line:
        return title
    name, _, cost = title.rpartition(": proxy ")
    lines = textwrap.wrap(name + ":", per_line, break_on_hyphens=False) if name else []
    return "\n".join([*lines, *textwrap.wrap("proxy " + cost, per_line)])


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


def plot_placement(
    netlist: Netlist,
    placement: Placement,
    title: str | None = None,
    width_in: float = 15.0,
    limits: dict[str, tuple[float, float]] | None = None,
) -> Figure:
    """The three-panel figure of ``placement`` (layout, density, congestion), cost in the title;
    ``limits`` (:func:`map_limits`) gives the maps' colour ranges, default each map's own."""
    cost = evaluate(netlist, placement, with_maps=True)
    assert cost.maps is not None
    limits = limits or {}
    fig = Figure(figsize=(width_in, width_in * 0.36), layout="constrained")
    FigureCanvasAgg(fig)
    ax_layout, ax_density, ax_congestion = fig.subplots(1, 3)
    draw_layout(ax_layout, netlist, placement)
    draw_map(ax_density, netlist, cost.maps.density, "density (per cell)", "viridis", limits.get("density"),
             placement, label="macro area / cell area")  # fmt: skip
    congestion = np.maximum(cost.maps.vertical, cost.maps.horizontal)
    draw_map(ax_congestion, netlist, congestion, "congestion (max of V and H, per cell)", "magma",
             limits.get("congestion"), placement, label="routing demand / capacity")
    from placer.algorithms.legality import check_legality

    legality = check_legality(netlist, placement)  # (a cost alone reads as a bar to clear)
    illegal = "" if legality.legal else f"\nnot a legal placement: {legality.problems()}"
    # a name from a folder whose name is not UTF-8 holds surrogates matplotlib cannot draw
    text = cost_title(title or netlist.name, cost).encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    # parse_math=False: a "$" in a design or folder name is text, not TeX markup
    fig.suptitle(_fitted(text, fig) + illegal, fontsize=10, parse_math=False)
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
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # through a temporary renamed over ``path``: a full disk or a kill left the earlier picture
    # a truncated file with a valid header
    write_atomically({path: picture_writer(plot_placement(netlist, placement, title, limits=limits), path, dpi)})
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
