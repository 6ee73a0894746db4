"""``placer demo``: the main job end to end on the embedded designs."""

from __future__ import annotations

import time

import typer
from rich.table import Table

from placer.commands.common import clean_errors, console


def register(app: typer.Typer) -> None:
    app.command("demo")(demo_command)


def _designs():  # type: ignore[no-untyped-def]
    """The embedded default (generated) design, then the built-in real ariane133."""
    from netlists.designs import load_builtin

    out = []
    try:
        from netlists.generate import default_design

        out.append(("default", *default_design()))
    except ImportError:
        pass
    out.append(("ariane133", *load_builtin("ariane133")))
    return out


@clean_errors
def demo_command() -> None:
    """Evaluate the embedded designs and print their cost table."""
    from placer.cost.proxy import evaluate
    from placer.cost.timing import timing_cost

    table = Table(title="placer demo: proxy cost of the embedded designs")
    table.caption = "default: generated (netlists.generate); ariane133: real nets, built in"
    for col in ("design", "hard/soft", "wirelen.", "density", "congest.", "proxy", "timing"):
        table.add_column(col, justify="right" if col != "design" else "left")
    seconds = 0.0
    for label, nl, placement in _designs():
        t = time.perf_counter()
        cost = evaluate(nl, placement)
        timing = timing_cost(nl, placement)
        ms = 1000 * (time.perf_counter() - t)
        cnt = nl.counts()
        table.add_row(
            label,
            f"{cnt['hard_macros']}/{cnt['soft_macros']}",
            f"{cost.wirelength:.4f}",
            f"{cost.density:.4f}",
            f"{cost.congestion:.4f}",
            f"{cost.proxy:.4f}",
            f"{timing.worst:.3f}",
        )
        seconds += ms / 1000
    console.print(table)
    console.print(f"evaluated in {seconds:.3f} s")
