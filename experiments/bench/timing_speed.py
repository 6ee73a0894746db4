"""Benchmark: the timing proxy, full versus incremental, on the shared suite.

Per design: the median milliseconds of a full :func:`placer.cost.timing.timing_cost` and of an
incremental move of :class:`placer.cost.timing_incremental.IncrementalTiming` (one hard macro
moved, rotated or swapped and priced; half of the moves then committed, untimed), the speed-up
of one over the other measured in the same run, and how many of the priced moves differed from
a full recomputation of the same placement (0 expected: the incremental figures are exact);
beside it the same moves priced by numpy alone (``IncrementalTiming(compiled=False)``, the path
before the compiled kernel), its median and how many of its figures differ (0 expected).

    python experiments/bench/timing_speed.py [--suite ../shared/benchmarks] [--out experiments/results/timing_speed.md]
"""

from __future__ import annotations

import os
import statistics
import time
from pathlib import Path

import numpy as np
from _cli import (
    check_outputs,
    command_line,
    positive_int,
    reference_benchmarks,
    report_timed_table,
    run,
    suite_speed_parser,
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
    baseline = IncrementalTiming(netlist, placement, compiled=False)  # every move in numpy
    rng = np.random.default_rng(0)
    hard = netlist.hard_macros
    c = netlist.require_canvas()
    times, numpy_times, wrong, differ = [], [], 0, 0
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
        t = time.perf_counter()
        numpy_move = baseline.propose(nodes, x, y, o)
        numpy_times.append(time.perf_counter() - t)
        differ += numpy_move.result != move.result  # (the two paths: the same figures)
        if k < checked:
            moved = p.copy()
            moved.x[nodes], moved.y[nodes] = x, y
            if o is not None:
                moved.orientation[nodes] = o
            ref = timing_cost(netlist, moved)
            wrong += (ref.worst, ref.tail) != (move.result.worst, move.result.tail)
        if k % 2 == 0:
            inc.commit(move)
            baseline.commit(numpy_move)
    full_ms, move_ms = 1000 * statistics.median(full), 1000 * statistics.median(times)
    numpy_ms = 1000 * statistics.median(numpy_times)
    graph = inc.graph
    return {
        "nodes": netlist.n_nodes,
        "arcs": int(graph.src_node.size),
        "arcs_into_logic": int(graph.endpoint_arcs[0]) if graph.endpoint_arcs.size else int(graph.src_node.size),
        "full_ms": full_ms,
        "move_ms": move_ms,
        "speedup": full_ms / move_ms,
        "numpy_move_ms": numpy_ms,
        "compiled_speedup": numpy_ms / move_ms,
        "checked": min(checked, moves),
        "mismatches": wrong,
        "moves": moves,
        "numpy_differs": differ,
    }


def main(argv: list[str] | None = None) -> int:
    """Benchmark every design of the suite; print the table (and write it with ``--out``)."""
    ap = suite_speed_parser(__doc__, "timing evaluations")
    ap.add_argument("--checked", type=positive_int, default=100,
                    help="moves compared with a full recomputation per design (untimed)")
    args = ap.parse_args(argv)
    if args.out:
        check_outputs(args.out, args.out.with_suffix(".json"))
    ref = reference_benchmarks(args.suite, args.designs)
    rows = {}
    load_before = os.getloadavg()[0]
    for name, entry in ref.items():
        folder = (args.suite / entry["netlist"]).parent
        rows[name] = r = bench_design(folder, args.moves, args.repeats, args.checked)
        print(f"{name:13s} full {r['full_ms']:6.2f}ms  move {r['move_ms']:5.3f}ms  x{r['speedup']:5.1f}  "
              f"numpy move {r['numpy_move_ms']:5.3f}ms  mismatches {r['mismatches']}/{r['checked']}  "
              f"compiled != numpy {r['numpy_differs']}/{r['moves']}", flush=True)
    header = [
        "| design | nodes | timing arcs | arcs into logic | full timing (ms) | incremental move (ms, median) | "
        "full / move | numpy move (ms) | numpy / compiled | moves checked | mismatches | compiled != numpy |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    body = [
        f"| {name} | {r['nodes']} | {r['arcs']} | {r['arcs_into_logic']} | {r['full_ms']:.2f} | "
        f"{r['move_ms']:.3f} | {r['speedup']:.0f}x | {r['numpy_move_ms']:.3f} | {r['compiled_speedup']:.1f}x | "
        f"{r['checked']} | {r['mismatches']} | {r['numpy_differs']} of {r['moves']} |"
        for name, r in rows.items()
    ]
    command = None if argv is None else command_line([__file__, *argv])
    report_timed_table(args.out, "Timing proxy speed (generated by experiments/bench/timing_speed.py)", header, body,
                       rows, load_before, command)
    return 0


if __name__ == "__main__":
    run(main)
