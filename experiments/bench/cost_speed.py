"""Benchmark: parse time, full proxy-cost time and incremental move time on the shared suite.

Reports, per design: netlist parse seconds, median full-evaluation milliseconds, median
incremental-move milliseconds (one hard macro moved, rotated or swapped and priced; half of the
moves are then committed, untimed), and the speed-up of an incremental move over a full
evaluation measured in the same run. Also checks each cost against ``reference_costs.json``
(max relative error) and the incremental cost after all the commits against a full evaluation
(relative drift).

    python experiments/bench/cost_speed.py [--suite ../shared/benchmarks] [--out experiments/results/cost_speed.md]

Targets (issue #3): full evaluation <= 0.2 s on ibm17 and <= 20 ms on ibm01; parse of ibm17
<= 3 s; incremental move <= 2 ms median on ibm17. Issue #3 quotes the public TILOS Python evaluator at
about 127 s (ibm17) and 2.7 s (ibm01) per full evaluation (not re-timed here: not on PyPI).
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
from pathlib import Path

import numpy as np
from _cli import (
    DEFAULT_SUITE,
    check_outputs,
    command_line,
    make_parser,
    output_file,
    positive_int,
    run,
    write_results,
)

from netlists.formats.circuit_training import read_netlist
from netlists.formats.plc import read_plc
from placer.cost.incremental import IncrementalEvaluator
from placer.cost.proxy import evaluate


def bench_design(suite: Path, entry: dict, moves: int, repeats: int) -> dict:
    t = time.perf_counter()
    nl = read_netlist(suite / entry["netlist"])
    parse_s = time.perf_counter() - t
    canvas, pl, _ = read_plc(suite / entry["plc"], nl)
    nl = nl.with_canvas(canvas)
    cost = evaluate(nl, pl)  # warm: builds the cached per-netlist index arrays
    full = []
    for _ in range(repeats):
        t = time.perf_counter()
        cost = evaluate(nl, pl)
        full.append(time.perf_counter() - t)
    err = max(
        abs(getattr(cost, k) - entry[k]) / abs(entry[k]) for k in ("wirelength", "density", "congestion")
    )
    ev = IncrementalEvaluator(nl, pl)
    rng = np.random.default_rng(0)
    hard = nl.hard_macros
    c = canvas
    inc = []
    for k in range(moves):
        i = int(rng.choice(hard))
        t = time.perf_counter()
        if k % 3 == 0:
            mv = ev.move(i, rng.uniform(0, c.width), rng.uniform(0, c.height))
        elif k % 3 == 1:
            mv = ev.rotate(i, int(rng.integers(8)))
        else:
            mv = ev.swap(i, int(rng.choice(hard)))
        inc.append(time.perf_counter() - t)
        if k % 2 == 0:
            ev.commit(mv)
    drift = abs(ev.cost.proxy - evaluate(nl, ev.placement).proxy) / ev.cost.proxy
    full_ms = 1000 * statistics.median(full)
    inc_ms = 1000 * statistics.median(inc)
    return {
        "nodes": nl.n_nodes,
        "nets": nl.n_nets,
        "parse_s": parse_s,
        "full_ms": full_ms,
        "move_ms": inc_ms,
        "speedup": full_ms / inc_ms,
        "max_rel_err": err,
        "incremental_drift": drift,
    }


def main(argv: list[str] | None = None) -> int:
    """Benchmark every design of the suite; print the table (and write it with ``--out``)."""
    ap = make_parser(__doc__)
    ap.add_argument("--suite", type=Path, default=DEFAULT_SUITE,
                    help="the shared benchmark suite (with reference_costs.json)")
    ap.add_argument("--moves", type=positive_int, default=600, help="incremental moves timed per design")
    ap.add_argument("--repeats", type=positive_int, default=7, help="full evaluations timed per design")
    ap.add_argument("--out", type=output_file, default=None,
                    help="also write the Markdown table here (and its .json beside it); default: print only")
    args = ap.parse_args(argv)
    if args.out:
        check_outputs(args.out, args.out.with_suffix(".json"))
    ref_file = args.suite / "reference_costs.json"
    if not ref_file.exists():
        raise ValueError(f"--suite: benchmark suite not found at {args.suite} (no reference_costs.json)")
    ref = json.loads(ref_file.read_text())["benchmarks"]
    rows = {}
    load_before = os.getloadavg()[0]
    for name, entry in ref.items():
        rows[name] = bench_design(args.suite, entry, args.moves, args.repeats)
        r = rows[name]
        print(f"{name:13s} parse {r['parse_s']:6.2f}s  full {r['full_ms']:7.1f}ms  move {r['move_ms']:5.2f}ms  "
              f"x{r['speedup']:5.1f}  err {r['max_rel_err']:.1e}  drift {r['incremental_drift']:.1e}", flush=True)
    lines = [
        "| design | nodes | nets | parse (s) | full cost (ms) | incremental move (ms, median) | full / move | "
        "max rel. error vs reference | incremental drift |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, r in rows.items():
        lines.append(
            f"| {name} | {r['nodes']} | {r['nets']} | {r['parse_s']:.2f} | {r['full_ms']:.1f} | {r['move_ms']:.2f} | "
            f"{r['speedup']:.0f}x | {r['max_rel_err']:.1e} | {r['incremental_drift']:.1e} |"
        )
    table = "\n".join(lines)
    print()
    print(table)
    if args.out:
        load = f"load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after, on {os.cpu_count()} cores"
        markdown = (
            "# Cost speed (generated by experiments/bench/cost_speed.py)\n\n"
            f"Machine: {platform.machine()}, {load} (other jobs slow the timings).\n\n" + table + "\n"
        )
        command = None if argv is None else command_line([__file__, *argv])
        write_results({args.out: markdown, args.out.with_suffix(".json"): json.dumps(rows, indent=1)}, command)
    return 0


if __name__ == "__main__":
    run(main)
