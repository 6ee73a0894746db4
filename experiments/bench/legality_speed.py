"""Benchmark: the hard-macro overlap check (``hard_overlap``) against pricing every pair.

The legality checks (``placer eval``, ``check_legality``, ``plot``, the legaliser's final
check) find overlapping hard macros by a sweep: only pairs whose intervals meet along one axis
are priced. This times it against the former way, every pair priced in blocks of 512 rows
(kept here as the reference), on random layouts of ``--sizes`` hard macros at the suite's
density (their area a third of the canvas), on ``--stacked`` such macros all in one spot (nearly every
pair overlaps: the sweep's worst case) and on suite designs, and checks that both find the same pairs and areas.

    python experiments/bench/legality_speed.py [--sizes 1000,5000,20000] [--stacked 4000] [--designs ibm17] \\
        [--suite ../shared/benchmarks] [--repeats 3] [--out experiments/results/legality_speed.md]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import numpy as np
from _cli import (
    DEFAULT_SUITE,
    check_outputs,
    make_parser,
    name_list,
    output_file,
    positive_int,
    print_or_write,
    run,
    suite_designs,
)

from netlists.builder import NetlistBuilder
from netlists.io import load_design
from netlists.model import Canvas, Netlist, NodeType, Placement
from placer.algorithms.legality import axis_tolerances, hard_overlap, overlapping_pairs


def _every_pair_blocks(netlist: Netlist, placement: Placement):  # type: ignore[no-untyped-def]
    """Every pair of hard macros priced, 512 rows at a time (the checks' former way):
    ``(rows, later, area)`` per block, the pairs overlapping by more than the tolerance."""
    tol_x, tol_y = axis_tolerances(netlist.require_canvas())
    h = netlist.hard_macros
    x, y, w, hh = placement.x[h], placement.y[h], netlist.width[h], netlist.height[h]
    for start in range(0, h.size, 512):
        s = slice(start, min(start + 512, h.size))
        ox = np.minimum(x[s, None] + w[s, None] / 2, x[None, :] + w[None, :] / 2) - np.maximum(
            x[s, None] - w[s, None] / 2, x[None, :] - w[None, :] / 2
        )
        oy = np.minimum(y[s, None] + hh[s, None] / 2, y[None, :] + hh[None, :] / 2) - np.maximum(
            y[s, None] - hh[s, None] / 2, y[None, :] - hh[None, :] / 2
        )
        area = np.where((ox > tol_x) & (oy > tol_y), ox * oy, 0.0)
        rows = np.arange(s.start, s.stop)
        area = np.where(np.arange(h.size)[None, :] > rows[:, None], area, 0.0)
        r, later = np.nonzero(area > 0)
        yield rows[r], later, area[r, later]


def every_pair(netlist: Netlist, placement: Placement) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The overlapping pairs by pricing every pair: ``(first, second, area)`` as
    :func:`overlapping_pairs` gives them (the reference the sweep is checked against)."""
    found = list(_every_pair_blocks(netlist, placement))
    if not found:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64), np.empty(0)
    first, second, area = (np.concatenate(parts) for parts in zip(*found, strict=True))
    order = np.lexsort((second, first))
    return first[order], second[order], area[order]


def every_pair_overlap(netlist: Netlist, placement: Placement) -> tuple[float, int]:
    """``hard_overlap`` the former way: total area and pairs, summed block by block."""
    total, pairs = 0.0, 0
    for _, _, area in _every_pair_blocks(netlist, placement):
        total += float(area.sum())
        pairs += int(area.size)
    return total, pairs


def random_layout(n: int, seed: int = 0) -> tuple[Netlist, Placement]:
    """``n`` hard macros of random sizes at random centres on a square canvas whose area is
    three times theirs (one port and one net: the checks read only the macros)."""
    rng = np.random.default_rng(seed)
    sizes = rng.uniform(5.0, 20.0, size=(n, 2))
    side = float(np.sqrt(3.0 * (sizes[:, 0] * sizes[:, 1]).sum()))
    builder = NetlistBuilder(f"random_{n}")
    port = builder.add_node("p", NodeType.PORT, x=0.0, y=0.0)
    for k, (w, h) in enumerate(sizes):
        cx, cy = rng.uniform(w / 2, side - w / 2), rng.uniform(h / 2, side - h / 2)
        builder.add_node(f"m{k}", NodeType.HARD_MACRO, width=float(w), height=float(h), x=cx, y=cy)
    builder.add_net(port, [1])
    netlist = builder.build(Canvas(side, side, 10, 10))
    return netlist, netlist.initial_placement()


def stacked_layout(n: int) -> tuple[Netlist, Placement]:
    """``n`` hard macros of :func:`random_layout`'s sizes all centred on one spot: nearly every
    pair overlaps, the case where a sweep saves nothing (rows are then priced densely)."""
    netlist, placement = random_layout(n)
    canvas = netlist.require_canvas()
    placement.x[netlist.hard_macros] = canvas.width / 2
    placement.y[netlist.hard_macros] = canvas.height / 2
    return netlist, placement


def _sizes(text: str) -> list[int]:
    """argparse type: comma-separated counts >= 2 ('' for none)."""
    sizes = [positive_int(v) for v in name_list(text)] if text else []
    if any(n < 2 for n in sizes):
        raise argparse.ArgumentTypeError(f"a layout needs at least 2 hard macros, got {text!r}")
    return sizes


def _fastest(check: Callable[[Netlist, Placement], object], netlist: Netlist, placement: Placement,
             repeats: int) -> tuple[float, float]:
    """The fastest of ``repeats`` timings of ``check(netlist, placement)``, and the peak memory
    it allocates (MB, measured by tracemalloc in one more, untimed call)."""
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        check(netlist, placement)
        best = min(best, time.perf_counter() - started)
    tracemalloc.start()
    check(netlist, placement)
    peak = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    return best, peak


def main() -> int:
    parser = make_parser(__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=_sizes, default="1000,5000,20000",
                        help="comma-separated hard-macro counts of the random layouts ('' for none)")  # fmt: skip
    parser.add_argument("--stacked", type=_sizes, default="4000",
                        help="comma-separated hard-macro counts of layouts stacked in one spot ('' for none)")  # fmt: skip
    parser.add_argument("--designs", type=lambda t: name_list(t) if t else [], default="ibm17",
                        help="comma-separated suite designs ('' for none)")  # fmt: skip
    parser.add_argument("--suite", type=Path, default=DEFAULT_SUITE, help="the benchmark suite")
    parser.add_argument("--repeats", type=positive_int, default=3, help="timings of each (the fastest kept)")
    parser.add_argument("--out", type=output_file, default=None,
                        help="the Markdown table to write (its .json beside it); default: print only")  # fmt: skip
    args = parser.parse_args()
    if args.out is not None:
        check_outputs(args.out, args.out.with_suffix(".json"))
    cases: dict[str, Callable[[], tuple[Netlist, Placement]]] = {
        f"random, {n} hard macros": (lambda n=n: random_layout(n)) for n in args.sizes
    }
    cases.update({f"stacked, {n} hard macros": (lambda n=n: stacked_layout(n)) for n in args.stacked})
    if args.designs:
        if not args.suite.is_dir():
            raise FileNotFoundError(2, "no benchmark suite here (give --suite, or --designs '')", str(args.suite))
        for name, path in suite_designs(args.suite, args.designs).items():
            cases[name] = lambda p=path: load_design(p)
    if not cases:
        raise ValueError("nothing to measure: --sizes '', --stacked '' and --designs ''")
    rows = []
    for name, load in cases.items():
        netlist, placement = load()
        sweep_s, sweep_mb = _fastest(hard_overlap, netlist, placement, args.repeats)
        every_s, every_mb = _fastest(every_pair_overlap, netlist, placement, args.repeats)
        sweep, every = overlapping_pairs(netlist, placement), every_pair(netlist, placement)
        same = all(np.array_equal(a, b) for a, b in zip(sweep, every, strict=True))
        rows.append({"case": name, "hard_macros": int(netlist.hard_macros.size), "pairs": int(sweep[0].size),
                     "sweep_s": sweep_s, "every_pair_s": every_s, "sweep_peak_mb": sweep_mb,
                     "every_pair_peak_mb": every_mb, "same": same})  # fmt: skip
        print(f"[legality] {name}: sweep {sweep_s:.4f} s, every pair {every_s:.4f} s, same: {same}", flush=True)
    lines = [
        "# Hard-macro overlap check: sweep vs every pair (generated by experiments/bench/legality_speed.py)",
        "",
        f"Machine: {platform.machine()}, Python {platform.python_version()}, {os.cpu_count()} cores, "
        f"load average {os.getloadavg()[0]:.1f} at the end. `hard_overlap` (total area and pairs) "
        f"against the same sums block by block over every pair; fastest of {args.repeats}, peak "
        "memory allocated (tracemalloc) in one more call; `same`: both find the same pairs with "
        "the same areas to the last bit.",
        "",
        "| case | hard macros | overlapping pairs | sweep s | every pair s | speed-up | sweep peak MB | every pair peak MB | same |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        lines.append(f"| {r['case']} | {r['hard_macros']} | {r['pairs']} | {r['sweep_s']:.4f} | "
                     f"{r['every_pair_s']:.4f} | {r['every_pair_s'] / r['sweep_s']:.1f}x | "
                     f"{r['sweep_peak_mb']:.0f} | {r['every_pair_peak_mb']:.0f} | {r['same']} |")  # fmt: skip
    print_or_write(args.out, lines, json.dumps(rows, indent=2))
    return 0 if all(r["same"] for r in rows) else 1


if __name__ == "__main__":
    run(main)
