"""Placement pictures: three panels to scale, cost in the title, PNG written, clean CLI errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import typer
from matplotlib.collections import PatchCollection
from typer.testing import CliRunner

from netlists.formats.circuit_training import write_netlist
from netlists.formats.plc import write_plc
from netlists.generate import generate
from placer.commands.plot import register
from placer.cost.proxy import evaluate
from placer.plot import plot_placement, save_placement_plot


def make_app() -> typer.Typer:
    app = typer.Typer()
    register(app)

    @app.callback()
    def _root() -> None:  # keeps "plot" a named sub-command
        pass

    return app


def _layout_legend(fig):  # type: ignore[no-untyped-def]
    """The layout panel's legend: below the figure where the panels are side by side (under the
    panel it widened its column), under the panel where they are stacked."""
    legend = fig.legends[0] if fig.legends else fig.axes[0].get_legend()
    assert legend is not None
    return legend


def test_figure_has_layout_and_both_maps_with_cost_title() -> None:
    netlist, placement = generate(4, 10, 6, seed=3, name="tiny_plot")
    fig = plot_placement(netlist, placement)
    axes = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
    assert len(axes) == 3
    layout, density, congestion = axes
    cost = evaluate(netlist, placement, with_maps=True)
    assert "tiny_plot" in fig.get_suptitle() and f"{cost.proxy:.4f}" in fig.get_suptitle()
    # hard and soft macros as rectangle collections, ports as one scatter of dots
    collections = [c for c in layout.collections if isinstance(c, PatchCollection)]
    assert sorted(len(c.get_paths()) for c in collections) == [4, 10]
    assert layout.collections[-1].get_offsets().shape == (6, 2)
    # heat maps are the cost maps, drawn over the canvas
    canvas = netlist.require_canvas()
    np.testing.assert_array_equal(density.images[0].get_array(), cost.maps.density)
    np.testing.assert_array_equal(
        congestion.images[0].get_array(), np.maximum(cost.maps.vertical, cost.maps.horizontal)
    )
    assert density.images[0].get_extent() == [0.0, canvas.width, 0.0, canvas.height]


def test_each_colour_bar_says_what_its_values_are() -> None:
    netlist, placement = generate(4, 10, 6, seed=3, name="tiny_plot")
    fig = plot_placement(netlist, placement)
    bars = [ax.images[0].colorbar.ax for ax in fig.axes[1:3]]  # (insets of their maps' axes)
    assert [bar.get_ylabel() for bar in bars] == ["macro area / cell area", "routing demand / capacity"]


def test_cli_writes_png_and_reports_bad_input(tmp_path: Path) -> None:
    netlist, placement = generate(3, 6, 4, seed=1, name="tiny_cli_plot")
    write_netlist(netlist, tmp_path / "netlist.pb.txt")
    write_plc(tmp_path / "initial.plc", netlist, placement)
    out = tmp_path / "pic.png"
    runner = CliRunner()
    result = runner.invoke(make_app(), ["plot", str(tmp_path / "netlist.pb.txt"), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    missing = runner.invoke(make_app(), ["plot", str(tmp_path / "nope.pb.txt"), "--out", str(out)])
    assert missing.exit_code == 2 and "no such file" in missing.output
    bad_suffix = runner.invoke(
        make_app(), ["plot", str(tmp_path / "netlist.pb.txt"), "--out", str(tmp_path / "x.txt")]
    )
    assert bad_suffix.exit_code == 2 and "--out must be a file name ending in" in bad_suffix.output
    (tmp_path / "pictures").mkdir()  # it said the name must end in .png
    folder = runner.invoke(make_app(), ["plot", str(tmp_path / "netlist.pb.txt"), "--out", str(tmp_path / "pictures")])
    assert folder.exit_code == 2 and "is a folder" in folder.output


def test_a_dollar_in_the_title_is_drawn_as_text(tmp_path: Path) -> None:
    netlist, placement = generate(2, 2, 2, seed=3, name="tiny_plot")
    out = save_placement_plot(tmp_path / "t.png", netlist, placement, title=r"$\foo{$")
    assert out.stat().st_size > 0  # TeX parsing raised here
    # "cost $5 and $6" drew as TeX without an error (italic "5 and 6"): the title is plain text
    title = plot_placement(netlist, placement, title="cost $5 and $6")._suptitle
    assert title is not None and not title.get_parse_math()


def test_cli_refuses_a_plc_position_past_1e15_in_one_line(tmp_path: Path) -> None:
    netlist, placement = generate(2, 2, 2, seed=3, name="tiny_far")
    placement.x[int(netlist.hard_macros[0])] = 1e308
    write_netlist(netlist, tmp_path / "netlist.pb.txt")
    write_plc(tmp_path / "far.plc", netlist, placement)
    result = CliRunner().invoke(make_app(), [
        "plot", str(tmp_path / "netlist.pb.txt"), str(tmp_path / "far.plc"),
        "--out", str(tmp_path / "far.png")])  # fmt: skip
    assert result.exit_code == 2 and "must be at most 1e+15" in result.output


def test_a_port_outside_the_canvas_is_inside_the_frame_and_the_layout_has_a_legend() -> None:
    """A port moved off the canvas was drawn outside the axes (its dot was missing)."""
    netlist, placement = generate(3, 6, 4, seed=1, name="tiny_port_out")
    port = int(netlist.ports[0])
    placement.x[port] = -0.3 * netlist.require_canvas().width  # (within MAX_OVERHANG)
    fig = plot_placement(netlist, placement)
    layout = fig.axes[0]
    assert layout.get_xlim()[0] < placement.x[port] and not layout.texts
    legend = _layout_legend(fig)
    assert legend is not None
    assert sorted(t.get_text() for t in legend.get_texts()) == ["hard macros", "notch: top left if placed N", "ports", "soft macros"]


def test_one_object_far_off_the_canvas_is_counted_not_framed_and_maps_start_at_zero() -> None:
    """A port at -1e5 sized every panel to it: the canvas and the maps were a flat line. The
    density map's darkest colour was its minimum, not 0 (read as an empty cell)."""
    netlist, placement = generate(6, 20, 8, seed=1)
    canvas = netlist.require_canvas()
    placement.x[int(netlist.ports[0])] = -1e5
    fig = plot_placement(netlist, placement)
    layout, density = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"][:2]
    assert layout.get_xlim()[0] >= -0.6 * canvas.width
    notes = [t.get_text() for t in layout.texts]
    assert any("1 macro(s) / port(s) beyond this frame, not shown" in t and "1e+05" in t for t in notes), notes
    image = density.images[0]
    assert float(np.min(image.get_array())) > 0 and image.norm.vmin == 0.0
    # a macro straddling the limit is drawn (cut at the frame), so it is not counted as unseen
    hard = int(netlist.hard_macros[0])
    placement.x[hard] = -0.5 * canvas.width
    notes = [t.get_text() for t in plot_placement(netlist, placement).axes[0].texts]
    assert any(t.startswith("1 macro(s) / port(s) beyond") for t in notes), notes
    # one far off in y only: x keeps to the canvas (it was widened for a macro not drawn)
    placement.x[hard], placement.y[hard] = 1.4 * canvas.width, 3 * canvas.height
    placement.x[int(netlist.ports[0])] = canvas.width / 2
    layout = plot_placement(netlist, placement).axes[0]
    assert layout.get_xlim()[1] < 1.1 * canvas.width and layout.texts


def test_a_flat_map_is_scaled_from_zero_not_around_its_value() -> None:
    """With every macro off the canvas the density map is all 0: it was drawn mid-scale with a
    -0.1..0.1 colour bar, as if there were density, some of it negative."""
    netlist, placement = generate(2, 4, 2, seed=1)
    canvas = netlist.require_canvas()
    off = placement.copy()
    off.x[netlist.hard_macros] = 3 * canvas.width
    off.x[netlist.soft_macros] = 3 * canvas.width
    fig = plot_placement(netlist, off)
    density = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"][1].images[0]
    assert not np.any(density.get_array())
    assert density.norm.vmin == 0.0 and density.norm.vmax == 1.0


def test_pictures_to_compare_share_one_colour_range_per_map() -> None:
    """Each picture scaled to its own maximum made a cooler placement look as hot."""
    from placer.plot import map_limits

    netlist, placement = generate(4, 10, 6, seed=3)
    spread = placement.copy()
    spread.x[netlist.soft_macros] = netlist.require_canvas().width / 2  # soft macros piled up
    limits = map_limits(netlist, [placement, spread])
    for p in (placement, spread):
        fig = plot_placement(netlist, p, limits=limits)
        density, congestion = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"][1:]
        assert (density.images[0].norm.vmin, density.images[0].norm.vmax) == limits["density"]
        assert (congestion.images[0].norm.vmin, congestion.images[0].norm.vmax) == limits["congestion"]
    dens = [evaluate(netlist, p, with_maps=True).maps.density.max() for p in (placement, spread)]
    assert limits["density"] == (0.0, max(dens))


def test_the_panels_line_up_and_the_legend_clears_the_axis_text_on_a_flat_canvas() -> None:
    """A macro off the canvas widened the layout panel only (the maps' cells no longer lined up
    with it); on a flat canvas the legend, placed at 10 % of the panel's height below it, was
    printed over the x-axis label and ticks."""
    from netlists.builder import NetlistBuilder
    from netlists.model import Canvas, NodeType

    builder = NetlistBuilder("flat")  # a 300 x 90 canvas, one macro off it to the right
    builder.add_node("a", NodeType.HARD_MACRO, width=20.0, height=20.0, x=320.0, y=45.0)
    builder.add_node("b", NodeType.HARD_MACRO, width=30.0, height=30.0, x=15.0, y=15.0)
    builder.add_node("p", NodeType.PORT, x=0.0, y=90.0)
    canvas = Canvas(width=300.0, height=90.0, cols=10, rows=3, hroutes_per_micron=10.0,
                    vroutes_per_micron=10.0, hrouting_alloc=5.0, vrouting_alloc=5.0, smooth_range=0)
    netlist = builder.build(canvas)
    fig = plot_placement(netlist, netlist.initial_placement())
    layout, density, congestion = fig.axes[:3]
    assert density.get_xlim() == layout.get_xlim() == congestion.get_xlim()
    assert density.get_ylim() == layout.get_ylim()
    renderer = fig.canvas.get_renderer()
    fig.draw(renderer)
    legend = layout.get_legend().get_window_extent(renderer)
    axis_text = layout.xaxis.get_tightbbox(renderer)
    assert legend.y1 <= axis_text.y0 + 1e-6  # wholly below the ticks and the "x (µm)" label


def test_the_title_says_when_the_placement_is_not_legal() -> None:
    """ariane133 as shipped (36 macros over the canvas edge) was pictured with its cost only."""
    from netlists.designs import load_builtin
    from placer.plot import plot_placement

    netlist, placement = load_builtin("ariane133")
    title = plot_placement(netlist, placement).get_suptitle()
    assert "not a legal placement: 36 macro(s) outside the canvas" in title
    legal = generate(4, 8, 4, seed=0)
    assert "not a legal" not in plot_placement(*legal).get_suptitle()


def test_a_failed_picture_write_leaves_the_earlier_picture_whole(tmp_path, monkeypatch) -> None:
    """savefig wrote over the final name: a full disk left a truncated PNG with a valid header."""
    from matplotlib.figure import Figure

    from netlists.generate import generate
    from placer.plot import save_placement_plot

    netlist, placement = generate(3, 6, 4, seed=1)
    path = save_placement_plot(tmp_path / "p.png", netlist, placement)
    before = path.read_bytes()

    def full_disk(self, fname, **kwargs):  # type: ignore[no-untyped-def]
        Path(fname).write_bytes(b"\x89PNG half")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Figure, "savefig", full_disk)
    with pytest.raises(OSError, match="No space left") as failed:
        save_placement_plot(path, netlist, placement)
    assert failed.value.filename == str(path)
    assert path.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["p.png"]


def test_a_design_named_by_a_folder_that_is_not_utf8_is_drawn(tmp_path) -> None:
    """Its surrogates in the title made matplotlib raise TypeError."""
    import os

    from netlists.generate import generate
    from placer.plot import save_placement_plot

    netlist, placement = generate(3, 6, 4, seed=1)
    save_placement_plot(tmp_path / "p.png", netlist, placement, title=os.fsdecode(b"d\xff\xfe"))
    assert (tmp_path / "p.png").stat().st_size > 0


def test_fixed_and_overlapping_hard_macros_are_told_apart() -> None:
    """A fixed blockage looked like any macro, and the title's overlap count did not say which
    macros overlap."""
    netlist, placement = generate(4, 6, 4, seed=1, name="tiny_fixed")
    a, b, c = (int(i) for i in netlist.hard_macros[:3])
    placement.fixed[a] = True
    placement.x[c], placement.y[c] = placement.x[b], placement.y[b]  # b and c overlap
    fig = plot_placement(netlist, placement)
    layout = fig.axes[0]
    labels = sorted(t.get_text() for t in _layout_legend(fig).get_texts())
    assert labels == ["fixed hard macros", "hard macros", "notch: top left if placed N", "overlapping hard macros", "ports",
                      "soft macros"]
    drawn = {coll.get_hatch(): len(coll.get_paths()) for coll in layout.collections
             if isinstance(coll, PatchCollection) and coll.get_zorder() == 2}  # fmt: skip
    assert drawn == {None: netlist.hard_macros.size - 1, "////": 1}
    outlined = [coll for coll in layout.collections if coll.get_zorder() == 4]
    assert len(outlined) == 1 and len(outlined[0].get_paths()) == 2
    plain = plot_placement(*generate(4, 6, 4, seed=1))
    assert sorted(t.get_text() for t in _layout_legend(plain).get_texts()) == ["hard macros", "notch: top left if placed N", "ports",
                                                                             "soft macros"]


def test_a_grid_too_dense_to_see_is_not_drawn() -> None:
    """A 2048 x 2048 grid's lines turned the layout panel solid grey."""
    from matplotlib.collections import LineCollection

    netlist, placement = generate(3, 6, 4, seed=1)
    coarse = plot_placement(netlist, placement).axes[0]
    dense_netlist = netlist.with_canvas(netlist.require_canvas().replace(cols=2048, rows=2048))
    dense = plot_placement(dense_netlist, placement).axes[0]
    lines = lambda ax: [c for c in ax.collections if isinstance(c, LineCollection)]  # noqa: E731
    assert len(lines(coarse)) == 1 and not lines(dense)


def test_a_long_design_name_leaves_the_cost_whole_inside_the_picture() -> None:
    """A design named by a long folder path pushed the cost text out of the picture."""
    netlist, placement = generate(4, 8, 4, seed=0)
    name = "/home/someone/experiments/2026-12-05/a_long_folder_of_runs/ibm17/global_refine/seed3" * 2
    fig = plot_placement(netlist, placement, title=name)
    fig.canvas.draw()
    extent = fig.get_suptitle_artist().get_window_extent() if hasattr(fig, "get_suptitle_artist") else (
        fig._suptitle.get_window_extent())
    assert 0 <= extent.x0 and extent.x1 <= fig.bbox.x1
    lines = fig.get_suptitle().splitlines()
    cost = evaluate(netlist, placement)
    assert lines[-1].startswith(f"proxy {cost.proxy:.4f} = wirelength") and lines[-1].endswith(f"{cost.congestion:.4f}")
    assert "".join(lines[:-1]) == name + ":"  # the name broken, not cut
    short = plot_placement(netlist, placement, title="tiny").get_suptitle()
    assert "\n" not in short  # a short title stays one line


@pytest.mark.filterwarnings("ignore:Glyph .* missing from font")  # (DejaVu Sans has no CJK: boxes)
@pytest.mark.parametrize("name", ["W" * 150, "設計" * 60, "M" * 40 + " " + "W" * 110])
def test_a_name_of_wide_characters_stays_inside_the_picture(name: str) -> None:
    """Names were broken at 0.7 em a character: one of W, M or CJK characters only ran out."""
    netlist, placement = generate(4, 8, 4, seed=0)
    fig = plot_placement(netlist, placement, title=name)
    fig.canvas.draw()
    extent = fig._suptitle.get_window_extent()
    assert 0 <= extent.x0 and extent.x1 <= fig.bbox.x1



def _fixed_overlapping_and_outside(name: str):  # type: ignore[no-untyped-def]
    """A design with a fixed hard macro, two overlapping ones and a soft macro half outside."""
    netlist, placement = generate(4, 6, 4, seed=1, name=name)
    a, b, c = (int(i) for i in netlist.hard_macros[:3])
    placement.fixed[a] = True
    placement.x[c], placement.y[c] = placement.x[b], placement.y[b]
    soft = int(netlist.soft_macros[0])
    placement.x[soft] = 0.0  # half of it past the left edge
    return netlist, placement, soft


def test_macros_outside_the_canvas_are_outlined_and_named() -> None:
    """They were only counted in the title: which ones, the picture did not say."""
    netlist, placement, soft = _fixed_overlapping_and_outside("tiny_outside")
    fig = plot_placement(netlist, placement)
    layout = fig.axes[0]
    assert "macros outside the canvas" in [t.get_text() for t in _layout_legend(fig).get_texts()]
    dashed = [coll for coll in layout.collections if coll.get_zorder() == 4 and coll.get_linestyle()[0][1] is not None]
    assert len(dashed) == 1 and len(dashed[0].get_paths()) == 1
    x0, _ = dashed[0].get_paths()[0].vertices.min(axis=0)
    assert x0 == pytest.approx(-netlist.width[soft] / 2)


def test_a_written_picture_holds_everything_drawn_even_below_the_layout(tmp_path: Path) -> None:
    """The layout panel's legend hangs below its axes, where the constrained layout does not
    always make room: in two rows its second row was cut off at the picture's bottom edge
    (ariane133 with fixed and overlapping macros). The writer keeps all that is drawn."""
    from matplotlib.figure import Figure
    from matplotlib.image import imread

    from placer.plot import picture_writer

    figure = Figure(figsize=(4, 3), layout="constrained")
    figure.subplots().plot([0, 1], [0, 1])
    figure.text(0.5, -0.2, "below the bottom edge", ha="center", fontsize=20)
    path = tmp_path / "p.png"
    picture_writer(figure, path)(path)
    pixels = imread(path)[..., :3]
    assert pixels.shape[0] > 3 * 120 and (pixels[-60:] < 0.5).any()  # the text, drawn


def test_cli_same_scale_shares_the_colour_ranges_with_other_placements(tmp_path: Path, monkeypatch) -> None:
    import placer.plot

    netlist, placement = generate(3, 6, 4, seed=1, name="tiny_scale")
    write_netlist(netlist, tmp_path / "netlist.pb.txt")
    write_plc(tmp_path / "initial.plc", netlist, placement)
    stacked = placement.copy()
    stacked.x[netlist.macros] = stacked.x[netlist.macros[0]]  # every macro in one spot: hotter
    stacked.y[netlist.macros] = stacked.y[netlist.macros[0]]
    write_plc(tmp_path / "stacked.plc", netlist, stacked)
    seen = {}
    real = placer.plot.plot_placement
    monkeypatch.setattr(placer.plot, "plot_placement", lambda *a, **k: seen.update(k) or real(*a, **k))
    args = ["plot", str(tmp_path / "netlist.pb.txt"), "--out", str(tmp_path / "p.png")]
    assert CliRunner().invoke(make_app(), args).exit_code == 0
    assert seen["limits"] is None
    result = CliRunner().invoke(make_app(), [*args, "--same-scale", str(tmp_path / "stacked.plc")])
    assert result.exit_code == 0, result.output
    hot = evaluate(netlist, stacked, with_maps=True).maps
    assert seen["limits"]["density"] == (0.0, pytest.approx(float(hot.density.max())))
    assert seen["limits"]["congestion"][1] == pytest.approx(float(np.maximum(hot.vertical, hot.horizontal).max()))
    hot_args = ["plot", str(tmp_path / "netlist.pb.txt"), str(tmp_path / "stacked.plc"), "--out", str(tmp_path / "h.png")]
    drawn_hotter = CliRunner().invoke(make_app(), [*hot_args, "--same-scale", str(tmp_path / "initial.plc")])
    assert drawn_hotter.exit_code == 0, drawn_hotter.output  # (the drawn placement's own range counts too)
    assert seen["limits"]["density"] == (0.0, pytest.approx(float(hot.density.max())))
    other = generate(4, 6, 4, seed=2, name="other")
    write_plc(tmp_path / "other.plc", *other)
    refused = CliRunner().invoke(make_app(), [*args, "--same-scale", str(tmp_path / "other.plc")])
    assert refused.exit_code == 2 and f"--same-scale {tmp_path / 'other.plc'}:" in refused.output
    folder = CliRunner().invoke(make_app(), [*args, "--same-scale", str(tmp_path)])  # (named no option)
    assert folder.exit_code == 2 and f"--same-scale {tmp_path}: not a regular file" in folder.output


def test_placer_plot_writes_its_picture_through_the_one_picture_writer(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """placer plot repeated save_placement_plot's writing (folder, temporary, rename): both go
    through save_picture now."""
    import placer.plot

    netlist, placement = generate(3, 6, 4, seed=1, name="tiny_writer")
    write_netlist(netlist, tmp_path / "netlist.pb.txt")
    write_plc(tmp_path / "initial.plc", netlist, placement)
    real, saved = placer.plot.save_picture, []
    monkeypatch.setattr(placer.plot, "save_picture", lambda figure, path, dpi=120: saved.append(
        (figure.get_label(), Path(path), dpi)) or real(figure, path, dpi))
    out = tmp_path / "deeper" / "p.png"
    result = CliRunner().invoke(make_app(), ["plot", str(tmp_path / "netlist.pb.txt"), "--dpi", "60", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert [(path, dpi) for _, path, dpi in saved] == [(out, 60)] and saved[0][0] in result.output
    assert out.read_bytes().startswith(b"\x89PNG")
    save_placement_plot(tmp_path / "q.png", netlist, placement, title="q", dpi=60)
    assert saved[1][1:] == (tmp_path / "q.png", 60)


def test_the_limits_and_the_resolution_reach_the_written_picture(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """save_placement_plot passes its colour ranges to the figure, and --dpi sizes the picture."""
    from matplotlib.image import imread

    import placer.plot

    netlist, placement = generate(3, 6, 4, seed=1, name="tiny_dpi")
    given = {"density": (0.0, 9.0), "congestion": (0.0, 8.0)}
    real, asked = placer.plot.plot_placement, {}
    monkeypatch.setattr(placer.plot, "plot_placement", lambda *a, **k: (asked.update(k), real(*a, **k))[1])
    save_placement_plot(tmp_path / "a.png", netlist, placement, limits=given)
    assert asked["limits"] == given
    monkeypatch.undo()
    write_netlist(netlist, tmp_path / "netlist.pb.txt")
    write_plc(tmp_path / "initial.plc", netlist, placement)
    sizes = {}
    for dpi in ("60", "120"):
        out = tmp_path / f"p{dpi}.png"
        assert CliRunner().invoke(make_app(), ["plot", str(tmp_path / "netlist.pb.txt"), "--dpi", dpi, "--out",
                                               str(out)]).exit_code == 0
        sizes[dpi] = imread(out).shape[1]
    assert sizes["120"] == pytest.approx(2 * sizes["60"], rel=0.05)


def test_soft_overlapping_and_outside_macros_are_told_apart_by_more_than_colour(contrast) -> None:  # type: ignore[no-untyped-def]
    """Soft macros were 1.2:1 on white; red overlap and purple outside outlines on the macros'
    blue were 1.0 and 1.7:1 (alike to protanopes but for their width): soft macros now have a
    darker outline, and the other two are hatched, each pattern its own, over a white halo."""
    from placer.plot import (
        HALO_COLOR,
        HARD_COLOR,
        OUTSIDE_COLOR,
        OVERLAP_COLOR,
        OVERLAP_HATCH_COLOR,
        SOFT_EDGE_COLOR,
    )

    assert contrast(SOFT_EDGE_COLOR) >= 3.0 and contrast(OVERLAP_HATCH_COLOR, HARD_COLOR) >= 3.0
    assert contrast(OVERLAP_COLOR, HALO_COLOR) >= 3.0 and contrast(OUTSIDE_COLOR, HALO_COLOR) >= 3.0
    netlist, placement, _ = _fixed_overlapping_and_outside("tiny_marks")
    fig = plot_placement(netlist, placement)
    layout = fig.axes[0]
    soft = [coll for coll in layout.collections if coll.get_zorder() == 1]
    assert len(soft) == 1 and contrast(soft[0].get_edgecolor()[0][:3]) >= 3.0
    marked = [coll for coll in layout.collections if coll.get_zorder() == 4]
    hatches = {coll.get_hatch() for coll in marked}
    assert len(marked) == 2 and None not in hatches and len(hatches) == 2
    legend = {t.get_text(): h for t, h in zip(_layout_legend(fig).get_texts(), _layout_legend(fig).legend_handles, strict=True)}
    assert legend["overlapping hard macros"].get_hatch() and legend["macros outside the canvas"].get_hatch()
    assert legend["overlapping hard macros"].get_hatch() != legend["macros outside the canvas"].get_hatch()


def test_plot_prints_the_titles_cost_and_legality(tmp_path: Path) -> None:
    """It printed only "wrote FILE": the cost and the legality problems were in the picture
    alone, which says them to no one who cannot see it."""
    netlist, placement, _ = _fixed_overlapping_and_outside("tiny_said")
    write_netlist(netlist, tmp_path / "netlist.pb.txt")
    write_plc(tmp_path / "initial.plc", netlist, placement)
    out = tmp_path / "pic.png"
    result = CliRunner().invoke(make_app(), ["plot", str(tmp_path / "netlist.pb.txt"), "--out", str(out)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    cost = evaluate(netlist, placement)
    assert any(line.endswith(f": proxy {cost.proxy:.4f} = wirelength {cost.wirelength:.4f} + 0.5 x density "
                             f"{cost.density:.4f} + 0.5 x congestion {cost.congestion:.4f}") for line in lines)
    assert any(line.startswith("not a legal placement: ") and "overlapping" in line for line in lines)
    assert lines[-1] == f"wrote {out}"


def test_a_title_is_broken_only_where_the_width_is_used_up() -> None:
    """A title was cut into lines of as many characters as its widest character fits: a plain
    name broke early, leaving "budget 1 s):" alone on a line."""
    from matplotlib.font_manager import FontProperties

    from placer.plot import SUPTITLE_FONT

    netlist, placement = generate(4, 8, 4, seed=0)
    name = "runs/ibm01 placed by the global placer, seed 0 " * 3 + "(global placer, seed 0, budget 1 s) " + "W" * 30
    fig = plot_placement(netlist, placement, title=name)
    lines = fig.get_suptitle().splitlines()
    renderer, font = fig.canvas.get_renderer(), FontProperties(size=SUPTITLE_FONT)
    width = lambda text: renderer.get_text_width_height_descent(text, font, ismath=False)[0]  # noqa: E731
    name_lines = lines[: next(k for k, line in enumerate(lines) if line.startswith("proxy "))]
    assert len(name_lines) > 1 and " ".join(name_lines) == name + ":"
    # each line but the last is full: the next word would not have fitted beside it
    for line, after in zip(name_lines, name_lines[1:], strict=False):
        assert width(line + " " + after.split()[0]) > 0.98 * fig.bbox.width
    assert all(width(line) <= 0.98 * fig.bbox.width for line in lines)
