"""``placer plot NETLIST [PLC] --out FILE.png``: layout, density and congestion of a placement."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from placer.commands.common import UsageError, check_output_file, clean_errors, console, load

_FORMATS = (".png", ".pdf", ".svg", ".jpg", ".jpeg")


def register(app: typer.Typer) -> None:
    app.command("plot")(plot_command)


@clean_errors
def plot_command(
    netlist: Annotated[Path, typer.Argument(help="netlist.pb.txt[.gz] or Bookshelf .aux")],
    plc: Annotated[
        Path | None, typer.Argument(help=".plc placement (default: initial.plc beside the netlist)")
    ] = None,
    out: Annotated[Path, typer.Option("--out", help="picture to write (.png, .pdf, .svg)")] = Path(
        "placement.png"
    ),
    title: Annotated[str | None, typer.Option("--title", help="title (default: design name)")] = None,
    dpi: Annotated[int, typer.Option("--dpi", min=20, max=1200, help="resolution")] = 120,
) -> None:
    """Draw macros and ports to scale beside the density and congestion maps, with the cost."""
    from placer.plot import save_placement_plot

    if out.suffix.lower() not in _FORMATS:
        raise UsageError(f"--out must end in one of {', '.join(_FORMATS)}, got {out.name!r}")
    check_output_file(out)
    nl, placement = load(netlist, plc)
    save_placement_plot(out, nl, placement, title=title, dpi=dpi)
    console.print(f"wrote {out}")
