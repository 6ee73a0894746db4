"""Benchmark: the incremental evaluator's re-sync (``IncrementalEvaluator.resync``), before
and after its macro cover map was summed without BLAS, in the same run.

Per design: the median milliseconds of a re-sync with the cover map as the BLAS product
``(oy > 0).T @ (ox > 0)`` (the form before; patched in for the baseline) and as
:func:`placer.cost.grid.cover_counts` (today's), timed alternately; the two re-syncs' costs
and cached arrays must be the same bits. Also the share of a re-sync spent finding the pin
entries' grid cells in numpy (``cell_rows_cols``; the compiled net pass finds them again), the
figure that decided against passing the cells into the net pass. With ``--sa-steps N`` it also
runs ``sa`` (its force-directed soft-macro steps re-sync the evaluator) for N proposals on
ibm17 and ariane133, twice under each form, and reports the runs' seconds and their re-syncs'
(a run's total swings with the machine's load more than its re-syncs do); the placements must
be the same bits.

OpenBLAS's threads only cost where the cores are busy: on an idle machine the two forms are
close; at a load above the core count the product took ~130 ms of ibm17's 174 ms re-sync
(``experiments/results/resync_speed.md``: 40 ms after the change).

    python experiments/bench/resync_speed.py [--suite ../shared/benchmarks] \\
        [--designs ibm01,ibm17,ariane133] [--repeats 30] [--sa-steps 20000] \\
        [--out experiments/results/resync_speed.md]
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from _cli import (
    DEFAULT_SUITE,
    check_outputs,
    command_line,
    make_parser,
    non_negative_int,
    output_file,
    positive_int,
    reference_benchmarks,
    report_timed_table,
    run,
)

import placer.cost.incremental as incremental
from netlists.formats.circuit_training import read_netlist
from netlists.formats.plc import read_plc
from netlists.model import Netlist, Placement
from placer.cost.grid import cell_rows_cols
from placer.cost.incremental import IncrementalEvaluator

#: The designs ``--sa-steps`` anneals (the largest iccad04 design and the one with real nets).
SA_DESIGNS = ("ibm17", "ariane133")
#: Re-syncs timed in a row under one form, and the pause after them (longer than OpenBLAS's
#: threads spin on after a product, about 0.1 s).
BLOCK, PAUSE_S = 5, 0.3


def blas_cover(oy: np.ndarray, ox: np.ndarray) -> np.ndarray:
    """The cover map as the evaluator summed it before: a BLAS product of the 0/1 overlaps."""
    return (oy > 0).T.astype(np.float64) @ (ox > 0).astype(np.float64)


@contextmanager
def cover_form(form: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> Iterator[None]:
    """Re-syncs inside use ``form`` for the cover map."""
    today = incremental.cover_counts
    incremental.cover_counts = form
    try:
        yield
    finally:
        incremental.cover_counts = today


def _state(ev: IncrementalEvaluator) -> tuple:
    """What a re-sync computes, to compare two forms bit for bit."""
    return (ev.cost.as_dict(), ev._cover.tobytes(), ev._dens_area.tobytes(), ev._vt.tobytes(), ev._ht.tobytes())


def load_design(suite: Path, entry: dict) -> tuple[Netlist, Placement]:
    nl = read_netlist(suite / entry["netlist"])
    canvas, placement, _ = read_plc(suite / entry["plc"], nl)
    return nl.with_canvas(canvas), placement


def bench_resync(nl: Netlist, placement: Placement, repeats: int) -> dict:
    """Median re-sync milliseconds under both cover forms, and the cell lookup's: in blocks of
    :data:`BLOCK` re-syncs, the forms alternating, with a pause after each block (OpenBLAS's
    threads spin on for a while after a product, and slowed the block after it)."""
    ev = IncrementalEvaluator(nl, placement)
    ex, ey = ev.ctx.entry_positions(ev.placement)
    times: dict[str, list[float]] = {"before": [], "after": [], "cells": []}
    states = {}
    for _ in range(max(1, repeats // BLOCK)):
        for label, form in (("before", blas_cover), ("after", incremental.cover_counts)):
            with cover_form(form):
                for _ in range(BLOCK):
                    start = time.perf_counter()
                    ev.resync()
                    times[label].append(time.perf_counter() - start)
            states[label] = _state(ev)
            time.sleep(PAUSE_S)
        for _ in range(BLOCK):
            start = time.perf_counter()
            cell_rows_cols(ev.ctx.canvas, ex, ey)
            times["cells"].append(time.perf_counter() - start)
    if states["before"] != states["after"]:
        raise RuntimeError("the two cover forms gave different re-syncs")
    ms = {label: 1e3 * statistics.median(t) for label, t in times.items()}
    return {"entries": int(ex.size), "before_ms": ms["before"], "after_ms": ms["after"],
            "cells_ms": ms["cells"], "cells_share": ms["cells"] / ms["after"]}  # fmt: skip


def bench_sa(nl: Netlist, placement: Placement, steps: int) -> dict:
    """``sa`` runs of ``steps`` proposals under each cover form, in the order before, after,
    after, before (a load that drifts weighs on both alike): the mean seconds of each form's
    two runs and of their re-syncs."""
    from placer.algorithms.sa import SimulatedAnnealing

    today_resync = IncrementalEvaluator.resync
    spent = [0.0, 0]

    def timed_resync(self: IncrementalEvaluator) -> None:
        start = time.perf_counter()
        today_resync(self)
        spent[0] += time.perf_counter() - start
        spent[1] += 1

    forms = {"before": blas_cover, "after": incremental.cover_counts}
    row = {f"sa_{label}{part}": 0.0 for label in forms for part in ("_s", "_resync_s")}
    results = {}
    IncrementalEvaluator(nl, placement)  # kernels loaded outside the timed runs
    IncrementalEvaluator.resync = timed_resync  # type: ignore[method-assign]
    try:
        for label in ("before", "after", "after", "before"):
            time.sleep(PAUSE_S)
            spent[:] = [0.0, 0]
            with cover_form(forms[label]):
                start = time.perf_counter()
                results[label] = SimulatedAnnealing(max_steps=steps).place(nl, placement, budget_s=3600.0, seed=1)
                row[f"sa_{label}_s"] += (time.perf_counter() - start) / 2
            row[f"sa_{label}_resync_s"] += spent[0] / 2
            row["sa_resyncs"] = spent[1]
    finally:
        IncrementalEvaluator.resync = today_resync  # type: ignore[method-assign]
    same = all(np.array_equal(getattr(results["before"], k), getattr(results["after"], k))
               for k in ("x", "y", "orientation"))  # fmt: skip
    if not same:
        raise RuntimeError("sa placed differently under the two cover forms")
    return row


def main(argv: list[str] | None = None) -> int:
    """Time the re-syncs per design; print the table (and write it with ``--out``)."""
    ap = make_parser(__doc__)
    ap.add_argument("--suite", type=Path, default=DEFAULT_SUITE,
                    help="the shared benchmark suite (with reference_costs.json)")
    ap.add_argument("--designs", default="ibm01,ibm17,ariane133", help="comma-separated design names")
    ap.add_argument("--repeats", type=positive_int, default=30, help="re-syncs timed per form and design (in blocks of 5)")
    ap.add_argument("--sa-steps", type=non_negative_int, default=0,
                    help=f"also anneal {' and '.join(SA_DESIGNS)} for this many proposals per form (0: no sa runs)")
    ap.add_argument("--out", type=output_file, default=None,
                    help="also write the Markdown table here (and its .json beside it); default: print only")
    args = ap.parse_args(argv)
    if args.out:
        check_outputs(args.out, args.out.with_suffix(".json"))
    entries = reference_benchmarks(args.suite, args.designs)
    load_before = os.getloadavg()[0]
    rows = {}
    for name, entry in entries.items():
        nl, placement = load_design(args.suite, entry)
        rows[name] = bench_resync(nl, placement, args.repeats)
        if args.sa_steps and name in SA_DESIGNS:
            rows[name].update(bench_sa(nl, placement, args.sa_steps))
        r = rows[name]
        print(f"{name:10s} resync {r['before_ms']:7.2f} -> {r['after_ms']:6.2f} ms  cell lookup "
              f"{r['cells_ms']:5.2f} ms ({r['cells_share']:.0%})", flush=True)
    header = ["| design | pin entries | re-sync before (ms) | re-sync after (ms) | before / after | "
              "cell lookup (ms) | its share of a re-sync |", "|---|---:|---:|---:|---:|---:|---:|"]
    body = [f"| {name} | {r['entries']} | {r['before_ms']:.2f} | {r['after_ms']:.2f} | "
            f"{r['before_ms'] / r['after_ms']:.1f}x | {r['cells_ms']:.2f} | {r['cells_share']:.1%} |"
            for name, r in rows.items()]  # fmt: skip
    annealed = {name: r for name, r in rows.items() if "sa_before_s" in r}
    if annealed:
        body += ["", f"`sa`, {args.sa_steps} proposals, seed 1, two runs per form (the mean; the same placement "
                 "under both forms):", "",
                 "| design | re-syncs per run | sa before (s) | its re-syncs (s, share) | sa after (s) | "
                 "its re-syncs (s, share) |", "|---|---:|---:|---:|---:|---:|"]  # fmt: skip
        body += [f"| {name} | {r['sa_resyncs']} | {r['sa_before_s']:.2f} | {r['sa_before_resync_s']:.2f} "
                 f"({r['sa_before_resync_s'] / r['sa_before_s']:.1%}) | {r['sa_after_s']:.2f} | "
                 f"{r['sa_after_resync_s']:.2f} ({r['sa_after_resync_s'] / r['sa_after_s']:.1%}) |"
                 for name, r in annealed.items()]  # fmt: skip
    command = None if argv is None else command_line([__file__, *argv])
    report_timed_table(args.out, "Incremental re-sync speed (generated by experiments/bench/resync_speed.py)",
                       header, body, rows, load_before, command)
    return 0


if __name__ == "__main__":
    run(main)
