"""Placement pictures: the figure follows the canvas's shape, colour bars follow their maps,
Bookshelf designs in their own coordinates, orientation notches, readable fonts, titles."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from matplotlib.collections import PatchCollection, PolyCollection
from matplotlib.figure import Figure

from netlists.builder import NetlistBuilder
from netlists.generate import generate
from netlists.model import ORIENTATION_CODE, Canvas, Netlist, NodeType, Placement
from placer.plot import plot_placement


def _design(width: float, height: float, ports: int = 2) -> tuple[Netlist, Placement]:
    """Two hard macros and a soft one on a ``width`` x ``height`` canvas (a 10 x 10 grid)."""
    builder = NetlistBuilder(f"canvas_{width:g}x{height:g}")
    a = builder.add_node("a", NodeType.HARD_MACRO, width=0.1 * width, height=0.1 * height,
                         x=0.2 * width, y=0.3 * height)
    builder.add_node("b", NodeType.HARD_MACRO, width=0.2 * width, height=0.1 * height, x=0.7 * width, y=0.6 * height)
    builder.add_node("s", NodeType.SOFT_MACRO, width=0.1 * width, height=0.1 * height, x=0.5 * width, y=0.5 * height)
    for k in range(ports):
        builder.add_node(f"p{k}", NodeType.PORT, x=0.0, y=(k + 1) * height / (ports + 1))
    builder.add_net(a, list(range(1, 3 + ports)))
    canvas = Canvas(width=width, height=height, cols=10, rows=10, hroutes_per_micron=10.0,
                    vroutes_per_micron=10.0, hrouting_alloc=5.0, vrouting_alloc=5.0, smooth_range=0)
    netlist = builder.build(canvas)
    return netlist, netlist.initial_placement()


def _drawn(fig: Figure):  # type: ignore[no-untyped-def]
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    fig.draw(renderer)
    return renderer


@pytest.mark.parametrize(("width", "height"), [(400.0, 100.0), (100.0, 400.0), (200.0, 200.0)])
def test_the_figure_follows_the_canvas_shape_and_each_bar_its_map(width: float, height: float) -> None:
    """The figure was always 15 x 5.4 inches and the colour bars as tall as the axes' slots:
    on a 4:1 canvas the bars stood four times the maps' height beside a wide empty band, and a
    1:4 canvas left the picture mostly white."""
    fig = plot_placement(*_design(width, height))
    _drawn(fig)
    layout, density, congestion = fig.axes[:3]
    fig_w, fig_h = fig.bbox.width, fig.bbox.height
    maps = [ax.get_window_extent() for ax in (layout, density, congestion)]
    covered = sum(box.width * box.height for box in maps) / (fig_w * fig_h)
    assert covered > 0.3, covered  # (0.16 on the 4:1 canvas, 0.19 on the 1:4 one before)
    for ax in (density, congestion):
        box = ax.get_window_extent()
        bar = ax.images[0].colorbar.ax.get_window_extent()
        assert bar.height == pytest.approx(box.height, rel=0.02)
        assert bar.y0 == pytest.approx(box.y0, abs=1.0)
        assert box.x1 < bar.x0 < box.x1 + 0.2 * fig.dpi  # beside its map
        assert bar.width < 0.3 * fig.dpi  # a bar, not a band (a fixed share of a wide map)
    # no panel over another, and the maps keep the canvas's shape
    for first, second in ((maps[0], maps[1]), (maps[1], maps[2]), (maps[0], maps[2])):
        assert not first.overlaps(second)
    margin = 0.04 * max(width, height)  # (2 % of the longer side on each side)
    assert maps[1].height / maps[1].width == pytest.approx((height + margin) / (width + margin), rel=0.02)


def test_a_square_canvas_keeps_its_three_panels_side_by_side_at_fifteen_inches() -> None:
    """Every shared design is square: its picture stays a row of three panels 15 inches wide."""
    fig = plot_placement(*_design(200.0, 200.0))
    _drawn(fig)
    width, height = fig.get_size_inches()
    assert width == pytest.approx(15.0) and 5.0 < height < 7.0
    tops = {round(ax.get_window_extent().y1) for ax in fig.axes[1:3]}
    assert len(tops) == 1


def test_a_long_legend_leaves_every_panel_its_width() -> None:
    """Under the layout panel, a legend wider than the panel (fixed, overlapping and outside
    macros besides the rest) widened its column, and the maps shrank: it goes below the figure."""
    netlist, placement = _design(200.0, 200.0)
    a, b = (int(i) for i in netlist.hard_macros[:2])
    placement.fixed[a] = True
    placement.x[b], placement.y[b] = placement.x[a], placement.y[a]  # overlapping
    placement.x[int(netlist.soft_macros[0])] = 0.0  # half outside
    fig = plot_placement(netlist, placement)
    _drawn(fig)
    assert len(fig.legends[0].get_texts()) == 7
    widths = [ax.get_window_extent().width for ax in fig.axes[:3]]
    assert max(widths) == pytest.approx(min(widths), rel=0.01)


def test_tick_labels_and_titles_are_readable() -> None:
    """Tick labels were 7 pt on a 15-inch figure: about 5 pixels at a notebook's width."""
    fig = plot_placement(*_design(200.0, 200.0))
    _drawn(fig)
    axes = [*fig.axes[:3], *(ax.images[0].colorbar.ax for ax in fig.axes[1:3])]
    for ax in axes:
        for label in [*ax.get_xticklabels(), *ax.get_yticklabels()]:
            if label.get_text():
                assert label.get_fontsize() >= 9
    for ax in fig.axes[:3]:
        assert ax.title.get_fontsize() >= 10 and ax.xaxis.label.get_fontsize() >= 9
    assert all(t.get_fontsize() >= 9 for t in fig.legends[0].get_texts())


def test_one_port_is_one_port() -> None:
    """The layout's title said "1 ports"."""
    one = plot_placement(*_design(200.0, 200.0, ports=1)).axes[0].get_title()
    two = plot_placement(*_design(200.0, 200.0, ports=2)).axes[0].get_title()
    assert one.endswith("1 port") and two.endswith("2 ports")


def test_the_note_of_objects_beyond_the_frame_sits_above_the_layout_not_over_it() -> None:
    """The "beyond this frame" box was drawn inside the axes, over the macros at the top of
    the canvas; it is above them now, and under the panel's title."""
    netlist, placement = generate(6, 20, 8, seed=1)
    placement.x[int(netlist.ports[0])] = -1e5
    fig = plot_placement(netlist, placement)
    renderer = _drawn(fig)
    layout = fig.axes[0]
    note = next(t for t in layout.texts if "beyond this frame" in t.get_text())
    box = note.get_window_extent(renderer)
    axes_box = layout.get_window_extent(renderer)
    assert box.y0 >= axes_box.y1  # wholly above the axes
    assert box.y1 <= layout.title.get_window_extent(renderer).y0 + 1e-6  # and under the title


def _notch(layout, netlist: Netlist, placement: Placement, node: int) -> np.ndarray:  # type: ignore[no-untyped-def]
    """The notch drawn for hard macro ``node``: its three corners relative to the macro's
    centre, in halves of its width and height."""
    notches = [c for c in layout.collections if isinstance(c, PolyCollection) and not isinstance(c, PatchCollection)]
    assert len(notches) == 1
    index = int(np.flatnonzero(netlist.hard_macros == node)[0])
    corners = notches[0].get_paths()[index].vertices[:3]
    centre = np.array([placement.x[node], placement.y[node]])
    return (corners - centre) / (np.array([netlist.width[node], netlist.height[node]]) / 2)


def test_each_orientation_puts_the_notch_in_a_corner_and_direction_of_its_own() -> None:
    """A macro placed S (ariane133's 1095 after greedy) looked like one placed N: the layout
    panel showed no orientation. The notch sits in the N top-left corner, turned and mirrored
    with the macro."""
    netlist, placement = _design(200.0, 200.0)
    node = int(netlist.hard_macros[0])
    shapes = {}
    for name, code in ORIENTATION_CODE.items():
        placement.orientation[node] = code
        shapes[name] = _notch(plot_placement(netlist, placement).axes[0], netlist, placement, node)
    np.testing.assert_allclose(shapes["N"][0], [-1.0, 1.0])  # top left
    np.testing.assert_allclose(shapes["S"][0], [1.0, -1.0])  # bottom right: turned half way
    np.testing.assert_allclose(shapes["FN"][0], [1.0, 1.0])  # top right: mirrored
    assert len({tuple(np.round(shape, 6).ravel()) for shape in shapes.values()}) == 8
    for shape in shapes.values():  # inside the footprint drawn
        assert np.all(np.abs(shape) <= 1.0 + 1e-9)


def test_the_notches_cost_one_collection_for_every_hard_macro() -> None:
    """Drawn as one collection (ibm17 has 760 hard macros), fixed ones included."""
    netlist, placement = generate(12, 20, 8, seed=2)
    placement.fixed[int(netlist.hard_macros[0])] = True
    layout = plot_placement(netlist, placement).axes[0]
    notches = [c for c in layout.collections if isinstance(c, PolyCollection) and not isinstance(c, PatchCollection)]
    assert len(notches) == 1 and len(notches[0].get_paths()) == netlist.hard_macros.size


NODES = """UCLA nodes 1.0
NumNodes : 3
NumTerminals : 1
  c0 2 4
  m0 10 8
  p0 0 0 terminal
"""
NETS = """UCLA nets 1.0
NumNets : 1
NumPins : 3
NetDegree : 3 n0
  c0 I : 0 0
  m0 O : 0 0
  p0 I
"""
PL = """UCLA pl 1.0
c0 10 12 : N
m0 30 8 : S
p0 100 50 : N
"""
ROW = """CoreRow Horizontal
  Coordinate : {y}
  Height : 4
  Sitewidth : 2
  Sitespacing : 2
  Siteorient : 1
  Sitesymmetry : 1
  SubrowOrigin : 1  NumSites : 50
End
"""


def _bookshelf(folder: Path) -> Path:
    """A Bookshelf design whose rows start at (1, 2) (the reader moves them to (0, 0))."""
    scl = "UCLA scl 1.0\nNumRows : 12\n" + "".join(ROW.format(y=2 + 4 * r) for r in range(12))
    for suffix, text in ((".nodes", NODES), (".nets", NETS), (".pl", PL), (".scl", scl)):
        (folder / f"d{suffix}").write_text(text)
    (folder / "d.aux").write_text("RowBasedPlacement : d.nodes d.nets d.pl d.scl\n")
    return folder / "d.aux"


def test_a_bookshelf_design_is_drawn_in_its_files_coordinates_and_units(tmp_path: Path) -> None:
    """The reader moves a Bookshelf design's rows to (0, 0): c0, at (10, 12) in the .pl, was
    drawn at (9, 10) on axes labelled µm, so no coordinate of the file could be found on them."""
    from netlists.io import load_design

    netlist, placement = load_design(_bookshelf(tmp_path))
    assert netlist.metadata["bookshelf_origin"] == (1.0, 2.0)
    fig = plot_placement(netlist, placement)
    layout, density = fig.axes[:2]
    soft = [c for c in layout.collections if isinstance(c, PatchCollection) and c.get_zorder() == 1]
    np.testing.assert_allclose(soft[0].get_paths()[0].vertices.min(axis=0), [10.0, 12.0])  # c0's .pl corner
    hard = [c for c in layout.collections if isinstance(c, PatchCollection) and c.get_zorder() == 2]
    np.testing.assert_allclose(hard[0].get_paths()[0].vertices.min(axis=0), [30.0, 8.0])
    np.testing.assert_allclose(layout.collections[-1].get_offsets()[0], [100.0, 50.0])  # the port
    canvas = netlist.require_canvas()
    assert density.images[0].get_extent() == [1.0, 1.0 + canvas.width, 2.0, 2.0 + canvas.height]
    assert density.get_xlim() == layout.get_xlim() and layout.get_xlim()[0] < 1.0 < layout.get_xlim()[1]
    for ax in fig.axes[:3]:
        assert "µm" not in ax.get_xlabel() + ax.get_ylabel()
        assert ax.get_xlabel() == "x (.pl units)" and ax.get_ylabel() == "y (.pl units)"


def test_a_circuit_training_design_keeps_its_coordinates_in_microns() -> None:
    fig = plot_placement(*generate(3, 6, 4, seed=1))
    assert fig.axes[0].get_xlabel() == "x (µm)" and fig.axes[1].images[0].get_extent()[0] == 0.0


def test_placer_plot_titles_a_picture_with_the_placement_file_and_what_made_it(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The default title was the design's name alone: which placement, which method and seed,
    the picture did not say."""
    import typer
    from typer.testing import CliRunner

    import placer.plot
    from netlists.formats.circuit_training import write_netlist
    from netlists.formats.plc import write_plc
    from placer.commands.plot import register
    from placer.provenance import placed_by

    app = typer.Typer()
    register(app)
    app.callback()(lambda: None)
    netlist, placement = generate(3, 6, 4, seed=1, name="tiny_title")
    write_netlist(netlist, tmp_path / "netlist.pb.txt")
    write_plc(tmp_path / "initial.plc", netlist, placement)
    write_plc(tmp_path / "seed3.plc", netlist, placement,
              comments=[placed_by("0.1.0", "greedy", 3, 1.5, {})])  # as placer place writes it
    titles = []
    real = placer.plot.plot_placement
    monkeypatch.setattr(placer.plot, "plot_placement",
                        lambda nl, pl, title=None, **kw: titles.append(title) or real(nl, pl, title, **kw))
    for args in ([str(tmp_path / "netlist.pb.txt"), str(tmp_path / "seed3.plc")], [str(tmp_path / "netlist.pb.txt")],
                 [str(tmp_path / "netlist.pb.txt"), "--title", "mine"]):
        result = CliRunner().invoke(app, ["plot", *args, "--out", str(tmp_path / "p.png")])
        assert result.exit_code == 0, result.output
    name = tmp_path.name  # (a design is named by its folder)
    assert titles == [f"{name} / seed3.plc (method greedy, seed 3, budget 1.5 s)", f"{name} / initial.plc", "mine"]


def test_a_bookshelf_designs_default_title_names_its_pl(tmp_path: Path) -> None:
    from netlists.io import placement_file

    aux = _bookshelf(tmp_path)
    assert placement_file(aux) == tmp_path / "d.pl" and placement_file(tmp_path) == tmp_path / "d.pl"
    assert placement_file("default") is None
    assert placement_file(aux, tmp_path / "other.pl") == tmp_path / "other.pl"
