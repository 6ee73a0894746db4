"""``placer plot NETLIST [PLC] --out FILE.png``: layout, density and congestion of a placement."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Annotated

import typer

from netlists.errors import InputError
from placer.commands.common import (
    UsageError,
    check_output_file,
    clean_errors,
    console,
    load,
    output_option,
)

_FORMATS = (".png", ".pdf", ".svg", ".jpg", ".jpeg")


def register(app: typer.Typer) -> None:
    app.command("plot")(plot_command)


@clean_errors
def plot_command(
    netlist: Annotated[Path, typer.Argument(help="netlist.pb.txt[.gz], a Bookshelf .aux, a design's folder or a built-in design's name (ariane133; default, the embedded generated one)")],
    plc: Annotated[
        Path | None, typer.Argument(help=".plc placement (default: initial.plc beside a netlist.pb.txt; a Bookshelf design's own .pl; another .pl of a Bookshelf design is read in its place)")
    ] = None,
    out: Annotated[Path, output_option("picture to write (.png, .pdf, .svg, .jpg)")] = Path(
        "placement.png"
    ),
    title: Annotated[str | None, typer.Option("--title", help="title (default: the design's name, the placement file's and, "
                                                              "where its header says, the method, seed and budget that made it)")] = None,
    dpi: Annotated[int, typer.Option("--dpi", min=20, max=1200, help="resolution")] = 120,
    same_scale: Annotated[list[Path] | None, typer.Option(
        "--same-scale", metavar="PLC",
        help="another placement (.plc or .pl) of the design, repeatable: the maps' colour ranges cover it too, so "
             "pictures drawn with the same --same-scale files compare colour for colour (default: each map its own)")] = None,
) -> None:
    """Draw macros and ports to scale beside the density and congestion maps, with the cost.

    The cost and any legality problems are printed too."""
    import numpy as np

    from placer.plot import map_limits, plot_placement, save_picture

    check_output_file(out)  # (a folder is named as such, before its name's ending)
    if out.suffix.lower() not in _FORMATS:  # (".png" alone is a hidden file's name, no suffix)
        raise UsageError(f"--out must be a file name ending in one of {', '.join(_FORMATS)}, got {out.name!r}")
    nl, placement = load(netlist, plc)
    # coordinates near 1e308 overflow to inf while drawn: the title shows the cost as inf,
    # so numpy's and matplotlib's warnings about it would only repeat that
    with np.errstate(over="ignore", invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        limits = None
        if same_scale:  # each read as the design's own placement is (its canvas from its header)
            ranges = [map_limits(nl, [placement])]
            for other in same_scale:
                try:
                    other_netlist, other_placement = load(netlist, other)
                except (InputError, OSError) as exc:  # (said without the option: "/tmp: not a regular file")
                    said = str(exc)
                    raise UsageError(f"--same-scale {said if said.startswith(f'{other}:') else f'{other}: {said}'}") from None
                ranges.append(map_limits(other_netlist, [other_placement]))
            limits = {name: (0.0, max(r[name][1] for r in ranges)) for name in ranges[0]}
        figure = plot_placement(nl, placement, title=title or _default_title(nl.name, netlist, plc), limits=limits)
        save_picture(figure, out, dpi)
    # the title's cost and legality as text too: the picture alone says them to no one who cannot see it
    console.print(figure.get_label(), markup=False, highlight=False)
    console.print(f"wrote {out}")


def _default_title(design: str, netlist: Path, plc: Path | None) -> str:
    """The design's name and the placement file's, with the method, seed and budget its header
    comment records (``placer place`` and the batch write one): a picture titled with the design
    alone did not say which placement it showed."""
    from netlists.io import placement_file
    from placer.provenance import placed_by_in

    placed = placement_file(netlist, plc)
    if placed is None:
        return design
    made = placed_by_in(placed)
    return f"{design} / {placed.name}" + (f" ({made})" if made else "")
