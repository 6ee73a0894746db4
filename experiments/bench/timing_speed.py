"""Benchmark: the timing proxy, full versus incremental, on the shared suite.

Per design: the median milliseconds of a full :func:`placer.cost.timing.timing_cost` and of an
incremental move of :class:`placer.cost.timing_incremental.IncrementalTiming` (one hard macro
moved, rotated or swapped and priced; half of the moves then committed, untimed), the speed-up
of one over the other measured in the same run, and how many of the priced moves differed from
a full recomputation of the same placement (0 expected: the incremental figures are exact).

    python experiments/bench/timing_speed.py [--suite ../shared/benchmarks] [--out experiments/results/timing_speed.md]
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

from netlists.io import load_design
from placer.cost.timing import timing_cost
from placer.cost.timing_incremental import IncrementalTiming


def bench_design(folder: Path, moves: int, repeats: int, checked: int) -> dict:
    """Timings of one design (its ``initial.plc``); ``checked`` moves are compared in full."""
    netlist, placement = load_design(folder)
    timing_cost(netlist, placement)  # warm: builds the cached timing graph
    full = []
    for _ in range(repeats):
        t = time.perf_counter()
        timing_cost(netlist, placement)
        full.append(time.perf_counter() - t)
    inc = IncrementalTiming(netlist, placement)
    rng = np.random.default_rng(0)
    hard = netlist.hard_macros
    c = netlist.require_canvas()
    times, wrong = [], 0
    for k in range(moves):
        i = int(rng.choice(hard))
        p = inc.placement
        if k % 3 == 0:
            nodes, x, y, o = [i], [rng.uniform(0, c.width)], [rng.uniform(0, c.height)], None
        elif k % 3 == 1:
            nodes, x, y, o = [i], [p.x[i]], [p.y[i]], [int(rng.integers(8))]
        else:
            j = int(rng.choice(hard[hard != i]))
            nodes, x, y, o = [i, j], [p.x[j], p.x[i]], [p.y[j], p.y[i]], None
        t = time.perf_counter()
        move = inc.propose(nodes, x, y, o)
        times.append(time.perf_counter() - t)
        if k < checked:
            moved = p.copy()
            moved.x[nodes], moved.y[nodes] = x, y
            if o is not None:
                moved.orientation[nodes] = o
            ref = timing_cost(netlist, moved)
            wrong += (ref.worst, ref.tail) != (move.result.worst, move.result.tail)
        if k % 2 == 0:
            inc.commit(move)
    full_ms, move_ms = 1000 * statistics.median(full), 1000 * statistics.median(times)
    graph = inc.graph
    return {
        "nodes": netlist.n_nodes,
        "arcs": int(graph.src_node.size),
        "arcs_into_logic": int(graph.endpoint_arcs[0]) if graph.endpoint_arcs.size else int(graph.src_node.size),
        "full_ms": full_ms,
        "move_ms": move_ms,
        "speedup": full_ms / move_ms,
        "checked": min(checked, moves),
        "mismatches": wrong,
    }


def main(argv: list[str] | None = None) -> int:
    """Benchmark every design of the suite; print the table (and write it with ``--out``)."""
    ap = make_parser(__doc__)
    ap.add_argument("--suite", type=Path, default=DEFAULT_SUITE,
                    help="the shared benchmark suite (with reference_costs.json)")
    ap.add_argument("--moves", type=positive_int, default=600, help="incremental moves timed per design")
    ap.add_argument("--repeats", type=positive_int, default=7, help="full timing evaluations timed per design")
    ap.add_argument("--checked", type=positive_int, default=100,
                    help="moves compared with a full recomputation per design (untimed)")
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
        folder = (args.suite / entry["netlist"]).parent
        rows[name] = r = bench_design(folder, args.moves, args.repeats, args.checked)
        print(f"{name:13s} full {r['full_ms']:6.2f}ms  move {r['move_ms']:5.3f}ms  x{r['speedup']:5.1f}  "
              f"mismatches {r['mismatches']}/{r['checked']}", flush=True)
    lines = [
        "| design | nodes | timing arcs | arcs into logic | full timing (ms) | incremental move (ms, median) | "
        "full / move | moves checked | mismatches |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, r in rows.items():
        lines.append(
            f"| {name} | {r['nodes']} | {r['arcs']} | {r['arcs_into_logic']} | {r['full_ms']:.2f} | "
            f"{r['move_ms']:.3f} | {r['speedup']:.0f}x | {r['checked']} | {r['mismatches']} |"
        )
    table = "\n".join(lines)
    print()
    print(table)
    if args.out:
        load = f"load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after, on {os.cpu_count()} cores"
        markdown = (
            "# Timing proxy speed (generated by experiments/bench/timing_speed.py)\n\n"
            f"Machine: {platform.machine()}, {load} (other jobs slow the timings).\n\n" + table + "\n"
        )
        command = None if argv is None else command_line([__file__, *argv])
        write_results({args.out: markdown, args.out.with_suffix(".json"): json.dumps(rows, indent=1)}, command)
    return 0


if __name__ == "__main__":
    run(main)
