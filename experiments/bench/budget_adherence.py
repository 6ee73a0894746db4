"""Benchmark: does each placement method keep its ``--budget-s``, legalisation included?

For each design and budget, every method places the design's ``initial.plc`` once through
``Placer.place`` (what ``placer place`` runs: the method, then the legaliser) and the wall time
is reported against the budget (``x budget``; 1.0 = exactly on time). The legaliser's share is
timed separately on the same method's own output, since it is the part a method's budget
cannot see. Numba kernels are compiled before timing.

    python experiments/bench/budget_adherence.py [--suite ../shared/benchmarks] \\
        [--designs ibm01,ibm10,ibm17] [--methods sa,refine,global_refine,greedy,fd,analytical] \\
        [--budgets 1,5] [--baseline OLD.json] [--out experiments/results/budget_adherence.md]

To compare with another commit, run this script against that commit's package (a
``git worktree`` on ``PYTHONPATH``) with ``--out OLD.md``, then here with ``--baseline OLD.json``,
one run after the other on an idle machine: the table gains that commit's figures.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import time
from pathlib import Path

from _cli import (
    DEFAULT_SUITE,
    baseline_rows,
    check_outputs,
    make_parser,
    name_list,
    output_file,
    print_or_write,
    run,
    suite_designs,
)

from netlists.io import load_design
from placer.algorithms.base import get_placer, placer_class
from placer.algorithms.legalize import legalize

METHODS = "sa,refine,global_refine,greedy,fd,analytical"


def _budgets(text: str) -> list[float]:
    values = []
    for part in name_list(text):
        try:
            value = float(part)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected comma-separated seconds, got {part!r}") from None
        if not (value > 0 and math.isfinite(value)):
            raise argparse.ArgumentTypeError(f"expected positive, finite seconds, got {part!r}")
        values.append(value)
    return values


def _measure(method: str, netlist, placement, budget_s: float) -> dict:  # type: ignore[no-untyped-def]
    placer = get_placer(method)
    started = time.perf_counter()
    placer.place(netlist, placement, budget_s=budget_s, seed=0)
    wall = time.perf_counter() - started
    work = budget_s * (1.0 - placer.legalize_reserve)
    raw = placer.run(netlist, placement.copy(), work, 0, lambda p: None)
    started = time.perf_counter()
    try:  # as Placer.place runs it: no corner packing, then the given placement legalised
        legalize(netlist, raw, reference=placement, last_resort=False)
    except ValueError:
        try:
            legalize(netlist, placement)
        except ValueError:
            pass  # the run fails; the time spent failing still counts
    legalise = time.perf_counter() - started
    return {"wall_s": wall, "x_budget": wall / budget_s, "legalise_s": legalise}


def main() -> int:
    parser = make_parser(__doc__.split("\n\n")[0])
    parser.add_argument("--suite", type=Path, default=DEFAULT_SUITE, help="the benchmark suite")
    parser.add_argument("--designs", type=name_list, default="ibm01,ibm10,ibm17", help="comma-separated designs")
    parser.add_argument("--methods", type=name_list, default=METHODS, help="comma-separated methods")
    parser.add_argument("--budgets", type=_budgets, default="1,5", help="comma-separated budgets in seconds")
    parser.add_argument("--baseline", type=Path, default=None, help="this script's .json from another commit")
    parser.add_argument("--out", type=output_file, default=None,
                        help="the Markdown table to write (its .json beside it); default: print only (a test run never replaces the recorded results)")  # fmt: skip
    args = parser.parse_args()
    if args.out is not None:
        check_outputs(args.out, args.out.with_suffix(".json"))
    if not args.suite.is_dir():
        raise FileNotFoundError(2, "no benchmark suite here (give --suite)", str(args.suite))
    methods, budgets = args.methods, args.budgets
    for method in methods:
        try:
            placer_class(method)  # unknown names fail here, before any work
        except KeyError as exc:
            raise ValueError(f"--methods: {exc.args[0]}") from None
    files = suite_designs(args.suite, args.designs)
    baseline = baseline_rows(args.baseline, lambda r: (r["design"], r["method"], r["budget_s"]),
                             numbers=("x_budget", "legalise_s"))

    warm, warm_start = load_design(next(iter(files.values())))
    for method in methods:  # compile the numba kernels outside the timings
        get_placer(method).place(warm, warm_start, budget_s=0.2, seed=0)

    rows = []
    for name, path in files.items():
        netlist, placement = load_design(path)
        for budget in budgets:
            for method in methods:
                row = {"design": name, "method": method, "budget_s": budget}
                row.update(_measure(method, netlist, placement, budget))
                rows.append(row)
                print(f"[budget] {name} {method} {budget:g} s: {row['wall_s']:.2f} s", flush=True)

    load = os.getloadavg()[0]
    lines = [
        "# Budget adherence (generated by experiments/bench/budget_adherence.py)",
        "",
        f"Machine: {platform.machine()}, Python {platform.python_version()}, {os.cpu_count()} "
        f"cores, load average {load:.1f} at the end. `x budget` = wall time of `Placer.place` "
        "(method + legaliser) / budget; `legalise s` = the legaliser alone on that method's output.",
        "",
    ]
    if baseline:
        lines += [f"Baseline (`--baseline`): `{args.baseline}`, measured before this run.", "",
                  "| design | method | budget s | wall s | x budget | legalise s | x budget baseline | legalise s baseline |",
                  "|---|---|---:|---:|---:|---:|---:|---:|"]  # fmt: skip
    else:
        lines += ["| design | method | budget s | wall s | x budget | legalise s |", "|---|---|---:|---:|---:|---:|"]
    for r in rows:
        line = (
            f"| {r['design']} | {r['method']} | {r['budget_s']:g} | {r['wall_s']:.2f} | "
            f"{r['x_budget']:.2f} | {r['legalise_s']:.2f} |"
        )
        if baseline:
            old = baseline.get((r["design"], r["method"], r["budget_s"]))
            line += f" {old['x_budget']:.2f} | {old['legalise_s']:.2f} |" if old else " | |"
        lines.append(line)
    worst = max(rows, key=lambda r: r["x_budget"])
    lines += ["", f"Worst: {worst['method']} on {worst['design']} at {worst['budget_s']:g} s took "
              f"{worst['x_budget']:.2f}x its budget."]  # fmt: skip
    if baseline:
        measured = [baseline[k] for k in ((r["design"], r["method"], r["budget_s"]) for r in rows) if k in baseline]
        was = max(measured or baseline.values(), key=lambda r: r["x_budget"])  # the rows run here
        lines.append(f"Worst in the baseline: {was['method']} on {was['design']} at {was['budget_s']:g} s, "
                     f"{was['x_budget']:.2f}x.")  # fmt: skip
    print_or_write(args.out, lines, json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    run(main)
