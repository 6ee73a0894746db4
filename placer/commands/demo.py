"""``placer demo``: the main job end to end on the embedded default design.

Loads the embedded default design (generated, seeded), places it with the ``refine`` placer
for a short budget, prints the cost table before and after, writes the placement as ``.plc``
and a picture of it, and scores the built-in real ``ariane133`` design beside it.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.table import Table

from netlists.errors import InputError
from placer.commands.common import (
    UsageError,
    check_output_file,
    check_output_folder,
    clean_errors,
    console,
    finite_seconds,
    output_option,
)


def register(app: typer.Typer) -> None:
    app.command("demo")(demo_command)


#: The narrowest terminal the table keeps its vertical rules in (below it they would leave the
#: labels a few columns).
BORDERED_MIN_WIDTH = 70

#: The narrowest terminal the number columns keep their headers whole in (38 columns, with 12
#: of rules and padding, leaving the labels 6); below it they shrink with the labels, headers
#: first (`wirel…`), so that the labels are not squeezed out.
WHOLE_HEADERS_MIN_WIDTH = 56


def _cost_table(title: str, width: int) -> Table:
    """The demo's cost table, for a terminal ``width`` columns wide: its numbers whole (they
    were cut below ~72 columns, `0.20…`; now down to ~52), the row labels wrapped to the room
    left; under :data:`BORDERED_MIN_WIDTH` columns without vertical rules (10 columns more for
    the labels)."""
    bordered = width >= BORDERED_MIN_WIDTH
    table = Table(title=title, box=box.HEAVY_HEAD if bordered else box.SIMPLE_HEAD, show_edge=bordered,
                  pad_edge=bordered, collapse_padding=not bordered)
    table.add_column("placement", justify="left", overflow="fold")
    for col in ("wirelen.", "density", "congest.", "proxy", "timing", "s"):
        # (folded, not cut, below ~52 columns: every digit kept)
        table.add_column(col, justify="right", no_wrap=width >= WHOLE_HEADERS_MIN_WIDTH, overflow="fold")
    return table


def _row(table: Table, label: str, cost, timing: float, seconds: float) -> None:
    table.add_row(
        label,
        f"{cost.wirelength:.4f}",
        f"{cost.density:.4f}",
        f"{cost.congestion:.4f}",
        f"{cost.proxy:.4f}",
        f"{timing:.4f}",
        f"{seconds:.1f}" if seconds < 9.95 else f"{seconds:.0f}",  # (the table fits 80 columns)
    )


@clean_errors
def demo_command(
    algo: Annotated[str, typer.Option(help="placement method")] = "refine",
    budget_s: Annotated[
        float,
        typer.Option("--budget-s", callback=finite_seconds, help="placement budget in seconds"),
    ] = 10.0,
    seed: Annotated[int, typer.Option(min=0, help=(
        "random seed of the method; the demo gives it no step count, so refine (the default) and "
        "the other searches stop on the clock and a seed does not repeat their result (a "
        "reproducible run: placer place default --algo refine --option max_steps=N --seed K --out OUT.plc)"))] = 0,
    out: Annotated[Path, output_option("folder for the .plc and the picture")] = Path("demo_output"),
) -> None:
    """Place the embedded default design, print the cost table, save the .plc and a picture."""
    from netlists.designs import load_builtin
    from netlists.formats.plc import plc_text
    from netlists.formats.textio import text_writer, write_atomically
    from netlists.generate import default_design
    from placer.algorithms.base import available_placers, get_placer, placer_class, warm_up
    from placer.algorithms.legality import check_legality
    from placer.cost.proxy import evaluate
    from placer.cost.timing import timing_cost
    from placer.plot import picture_writer, plot_placement

    check_output_folder(out)
    for name in ("default.plc", "default.png"):  # found now, not after the placement
        check_output_file(out / name, "--out")
    try:
        method = get_placer(algo)
    except KeyError as exc:
        raise UsageError(f"--algo: {exc.args[0]}") from None
    except InputError as exc:  # a method that needs options (rl needs a model): use placer place
        raise UsageError(f"--algo {algo}: {exc}; the demo takes no options: run it with "
                         f"placer place default --algo {algo} --option KEY=VALUE --out OUT.plc") from None
    netlist, start = default_design()
    table = _cost_table(f"placer demo: {algo}, {budget_s:g} s, on the embedded default design", console.width)
    with console.status(f"loading {algo}'s compiled kernels (the first run after an install builds them) ..."):
        warm_up(algo)  # not inside the budget, nor in the initial row's seconds (the cost's kernels)
    t = time.perf_counter()
    before = evaluate(netlist, start)
    _row(table, "default, initial", before, timing_cost(netlist, start).worst, time.perf_counter() - t)

    t = time.perf_counter()
    with console.status(f"placing with {algo} for {budget_s:g} s ..."):
        placed = method.place(netlist, start, budget_s=budget_s, seed=seed)
    seconds = time.perf_counter() - t
    after = evaluate(netlist, placed)
    _row(table, f"default, {algo}", after, timing_cost(netlist, placed).worst, seconds)

    t = time.perf_counter()
    real, real_start = load_builtin("ariane133")
    real_legal = check_legality(real, real_start)
    label = "ariane133, initial" + ("" if real_legal.legal else " †")  # (the real one: the title says so)
    _row(table, label, evaluate(real, real_start), timing_cost(real, real_start).worst, time.perf_counter() - t)
    table.caption = (f"s: {algo}'s run on its row, scoring on the default's initial one, reading and scoring on "
                     "ariane133's (the real built-in design)")

    # the files first, as place does: printed first, `placer demo | head -1` ended the command
    # (a closed pipe) before anything was written
    out.mkdir(parents=True, exist_ok=True)
    plc, png = out / "default.plc", out / "default.png"
    figure = plot_placement(netlist, placed, title=f"default design, {algo}, seed {seed}, budget {budget_s:g} s")
    write_atomically({  # one set: a kill or a full disk never leaves a new .plc beside an old picture
        plc: text_writer(plc_text(netlist, placed, plc.name, costs=after.plc_header())),
        png: picture_writer(figure, png),
    })
    console.print(table)
    if not real_legal.legal:  # (its cost read as a bar to clear: eval says it is not legal)
        console.print(f"† not a legal placement as shipped: {real_legal.problems()}")
    weighing = [m for m in available_placers() if "w_timing" in (placer_class(m).option_names or ())]
    console.print("timing: the worst path over W + H (placer.cost.timing); weighed only when asked, by "
                  f"{', '.join(weighing)} (placer place --algo METHOD --option w_timing=...) and by the RL "
                  "reward (placer train --w-timing ...)")
    legal = check_legality(netlist, placed, start)
    console.print(
        f"proxy {before.proxy:.4f} -> {after.proxy:.4f} ({_change(before.proxy, after.proxy)}), "
        f"legal: {legal.legal}; wrote {plc} and {png}"
    )


def _change(before: float, after: float) -> str:
    """``after`` against ``before`` in words: "31.7% lower" or "2.0% higher"."""
    drop = 100 * (1 - after / before)
    return f"{abs(drop):.1f}% {'lower' if drop >= 0 else 'higher'}"
