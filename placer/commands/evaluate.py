"""``placer eval`` and ``placer info``: score a placement, describe a netlist."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import numpy as np
import typer
from rich.table import Table

from placer.commands.common import (
    clean_errors,
    console,
    load,
    load_reporting_warnings,
    require_design_file,
    whole_values,
)

if TYPE_CHECKING:
    from netlists.model import Netlist


def register(app: typer.Typer) -> None:
    app.command("eval")(eval_command)
    app.command("info")(info_command)


@clean_errors
def eval_command(
    netlist: Annotated[Path, typer.Argument(help="netlist.pb.txt[.gz], a Bookshelf .aux, a design's folder or a built-in design's name (ariane133; default, the embedded generated one)")],
    plc: Annotated[
        Path | None,
        typer.Argument(help=".plc placement (default: initial.plc beside a netlist.pb.txt; a Bookshelf design's own .pl; another .pl of a Bookshelf design is read in its place)"),
    ] = None,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help="print one JSON object: design; wirelength, density, congestion and proxy "
            "(unitless costs, proxy = wirelength + 0.5 density + 0.5 congestion); timing and "
            "timing_tail10 (worst and worst-10% path proxy over canvas W + H), timing_endpoints (how "
            "many endpoints they read: with none, both are 0); hpwl (weighted "
            "HPWL, microns: a Bookshelf design's .pl units); overlap_area (hard-macro overlap, "
            "square microns: square .pl units), "
            "overlapping_pairs and outside_macros (macros not wholly inside the canvas; "
            "outside_hard and outside_soft split them by kind), legal "
            "(true when both are none); "
            "seconds.parse and seconds.cost (wall time); warnings (what reading the files "
            "warned of, e.g. a .plc that places fewer nodes than its header counts); a value that is not "
            "finite would be null, as JSON has no infinity",
        ),
    ] = False,
) -> None:
    """Print a placement's proxy cost and its terms, its timing, and whether it is legal.

    Legality is printed beside the cost: the proxy cost prices a macro off the canvas too.
    """
    from placer.algorithms.legality import check_legality
    from placer.cost.proxy import evaluate
    from placer.cost.timing import timing_cost

    t0 = time.perf_counter()
    nl, placement, read_warnings = load_reporting_warnings(netlist, plc)
    t1 = time.perf_counter()
    with np.errstate(over="ignore"):  # a cost past the float range is shown as inf (null in JSON)
        cost = evaluate(nl, placement)
        t2 = time.perf_counter()
        timing = timing_cost(nl, placement)
        legality = check_legality(nl, placement)
    result = {
        "design": nl.name,
        "wirelength": cost.wirelength,
        "density": cost.density,
        "congestion": cost.congestion,
        "proxy": cost.proxy,
        "timing": timing.worst,
        "timing_tail10": timing.tail,
        "timing_endpoints": timing.n_endpoints,
        "hpwl": cost.hpwl,
        "overlap_area": legality.overlap_area,
        "overlapping_pairs": legality.overlapping_pairs,
        "outside_macros": legality.outside_macros,
        "outside_hard": legality.outside_hard,
        "outside_soft": legality.outside_macros - legality.outside_hard,
        "legal": bool(legality.legal),
        "seconds": {"parse": t1 - t0, "cost": t2 - t1},
        "warnings": read_warnings,
    }
    if as_json:
        print(json.dumps(_finite_or_null(result), allow_nan=False))
        return
    table = Table(title=f"{nl.name}: proxy cost")
    table.add_column("term")
    table.add_column("value", justify="right")
    for key in ("wirelength", "density", "congestion", "proxy"):
        table.add_row(key, f"{result[key]:.6f}")
    table.add_row("timing (worst / (W+H))", f"{timing.worst:.4f}")
    table.add_row("timing (worst 10% / (W+H))", f"{timing.tail:.4f}")
    table.add_row("timing endpoints", str(timing.n_endpoints))
    table.add_row(f"weighted HPWL ({nl.length_unit})", f"{cost.hpwl:.3f}")
    table.add_row(f"hard-macro overlap area ({nl.area_unit})", f"{legality.overlap_area:.3f}")
    table.add_row("macros outside canvas (hard or soft)",
                  f"{legality.outside_macros} ({legality.outside_hard} hard)" if legality.outside_macros else "0")  # fmt: skip
    table.add_row("parse seconds", f"{t1 - t0:.3f}")
    table.add_row("cost seconds", f"{t2 - t1:.4f}")
    console.print(whole_values(table, console.width))
    if timing.n_endpoints == 0:
        console.print("note: no timing endpoint (no path from a port or hard macro to another): "
                      "timing reads 0 and weighing it changes nothing")  # fmt: skip
    if not legality.legal:
        console.print(f"note: not a legal placement ({legality.problems()}); its cost is still computed")


def _info_record(nl: Netlist) -> dict[str, object]:
    """What ``info --json`` prints: the design's counts and its canvas (None without one)."""
    c = nl.canvas
    canvas = None if c is None else {
        "width": c.width, "height": c.height, "cols": c.cols, "rows": c.rows,
        "hroutes_per_micron": c.hroutes_per_micron, "vroutes_per_micron": c.vroutes_per_micron,
        "hrouting_alloc": c.hrouting_alloc, "vrouting_alloc": c.vrouting_alloc,
        "smooth_range": c.smooth_range,
    }  # fmt: skip
    return {"design": nl.name, "counts": dict(nl.counts()), "canvas": canvas}


def _finite_or_null(value: object) -> object:
    """``value`` with every non-finite float (an overflowed cost) turned into None."""
    if isinstance(value, dict):
        return {key: _finite_or_null(item) for key, item in value.items()}
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


@clean_errors
def info_command(
    netlist: Annotated[Path, typer.Argument(help="netlist.pb.txt[.gz], a Bookshelf .aux, a design's folder or a built-in design's name (ariane133; default, the embedded generated one)")],
    plc: Annotated[
        Path | None,
        typer.Argument(help=".plc for canvas and grid (default: initial.plc beside a netlist.pb.txt; a Bookshelf design's own .pl; another .pl of a Bookshelf design is read in its place)"),
    ] = None,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help="print one JSON object: design; counts (ports, hard_macros, soft_macros, "
            "hard_macro_pins, soft_macro_pins, nets, net_pins); canvas (width and height in "
            "microns, a Bookshelf design's .pl units; cols, rows, hroutes_per_micron, "
            "vroutes_per_micron (per unit of length), hrouting_alloc, "
            "vrouting_alloc, smooth_range), null when no .plc gives one",
        ),
    ] = False,
) -> None:
    """Print node and net counts, canvas and grid of a netlist."""
    from netlists.io import default_plc_for, design_path, names_generated_default, read_any_netlist

    netlist = netlist if names_generated_default(netlist) else design_path(netlist)
    if plc is None and default_plc_for(netlist) is None and not names_generated_default(netlist):
        require_design_file(netlist)
        nl, _ = read_any_netlist(netlist)
    else:
        nl, _ = load(netlist, plc)
    if as_json:
        print(json.dumps(_info_record(nl), allow_nan=False))
        return
    table = Table(title=f"{nl.name}")
    table.add_column("what")
    table.add_column("value", justify="right")
    for k, v in nl.counts().items():
        table.add_row(k.replace("_", " "), str(v))
    c = nl.canvas
    if c is not None:
        # as the .plc gives them (:g kept six digits: 1433.406 read 1433.41)
        unit = nl.length_unit
        table.add_row(f"canvas (W x H, {unit})", f"{c.width:.15g} x {c.height:.15g}")
        table.add_row("grid (cols x rows)", f"{c.cols} x {c.rows}")
        table.add_row(f"routes per {'micron' if unit == 'µm' else unit.removesuffix('s')} (h, v)", f"{c.hroutes_per_micron:.15g}, {c.vroutes_per_micron:.15g}")
        table.add_row("macro routes (h, v)", f"{c.hrouting_alloc:.15g}, {c.vrouting_alloc:.15g}")
        table.add_row("smoothing range", str(c.smooth_range))
    else:
        table.add_row("canvas", "unknown (no .plc)")
    console.print(whole_values(table, console.width))
