"""``placer generate``: write a seeded synthetic design as ``netlist.pb.txt`` + ``initial.plc``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from netlists.generate import MOST_PER_KIND
from placer.commands.common import (
    UsageError,
    check_output_file,
    check_output_folder,
    clean_errors,
    console,
    output_path,
)


def register(app: typer.Typer) -> None:
    app.command("generate")(generate_command)


@clean_errors
def generate_command(
    out_dir: Annotated[
        Path,
        typer.Argument(
            parser=output_path,
            help="Folder to write netlist.pb.txt and initial.plc into (files of those names "
            "there are replaced)."
        ),
    ],
    hard: Annotated[
        int, typer.Option("--hard", min=0, max=MOST_PER_KIND, help="Number of hard macros (time grows with the square of the "
                     "count: ~2 s for 2,000, ~20 s for 8,000, ~2 min for 20,000).")
    ] = 16,
    soft: Annotated[
        int, typer.Option("--soft", min=0, max=MOST_PER_KIND, help="Number of soft macros (time grows with the square of the "
                     "count: ~4 s for 4,000, ~70 s for 20,000).")
    ] = 64,
    ports: Annotated[int, typer.Option("--ports", min=0, max=MOST_PER_KIND, help="Number of ports.")] = 32,
    seed: Annotated[
        int, typer.Option("--seed", min=0, help="Random seed; the same seed gives the same design.")
    ] = 0,
    name: Annotated[
        str | None, typer.Option(
            "--name",
            help="Design name written into initial.plc's header (default from the sizes); "
            "readers name a design after its folder.",
        )
    ] = None,
) -> None:
    """Generate a synthetic netlist with a legal initial placement (see netlists.generate).

    Its defaults (16 hard, 64 soft, 32 ports) make a smaller design than the embedded one, default (24, 120, 48, seed 0).
    """
    from netlists.formats.circuit_training import netlist_text
    from netlists.formats.plc import plc_text
    from netlists.formats.textio import text_writer, write_atomically
    from netlists.generate import generate
    from placer.cost.proxy import evaluate

    if hard + soft == 0:
        raise UsageError("need at least one macro (--hard or --soft > 0)")
    if name is not None and (not name.strip() or not name.isprintable()):
        raise UsageError(f"--name must be printable text on one line, got {name!r}")
    check_output_folder(out_dir, "OUT_DIR")
    for file in ("netlist.pb.txt", "initial.plc"):  # both checked before either is written
        check_output_file(out_dir / file, "OUT_DIR")
    netlist, placement = generate(hard, soft, ports, seed=seed, name=name)
    cost = evaluate(netlist, placement)
    out_dir.mkdir(parents=True, exist_ok=True)
    netlist_path, plc_path = out_dir / "netlist.pb.txt", out_dir / "initial.plc"
    # one set: a failure never leaves a new netlist beside an old placement
    write_atomically({
        netlist_path: text_writer(netlist_text(netlist)),
        plc_path: text_writer(plc_text(netlist, placement, plc_path.name, dated=False, costs=cost.plc_header())),
    })
    counts = netlist.counts()
    canvas = netlist.require_canvas()
    console.print(
        f"{netlist.name}: {counts['hard_macros']} hard / {counts['soft_macros']} soft macros, "
        f"{counts['ports']} ports, {counts['nets']} nets; canvas {canvas.width:g} x "
        f"{canvas.height:g}, grid {canvas.cols} x {canvas.rows}"
    )
    console.print(f"wrote {netlist_path} and {plc_path}")
    if counts["nets"] == 0:  # (a design every placement scores the same wirelength on)
        console.print("note: the design has no nets (too few pins for a net with a sink): its "
                      "wirelength is 0 for every placement; add macros or ports")
