"""Benchmark: the hard-macro overlap check (``hard_overlap``) against pricing every pair.

The legality checks (``placer eval``, ``check_legality``, ``plot``, the legaliser's final
check) find overlapping hard macros by a sweep: only pairs whose intervals meet along one axis
are priced. This times it against the former way, every pair priced in blocks of 512 rows
(kept here as the reference), on random layouts of ``--sizes`` hard macros at the suite's
density (their area a third of the canvas) and on
suite designs, and checks that both find the same pairs and areas.

    python experiments/bench/legality_speed.py [--sizes 1000,5000,20000] [--designs ibm17] \\
        [--suite ../shared/benchmarks] [--repeats 3] [--out experiments/results/legality_speed.md]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
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
from placer.algorithms.legality import OVERLAP_TOL, overlapping_pairs


def every_pair(netlist: Netlist, placement: Placement) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The overlapping hard-macro pairs found by pricing every pair, 512 rows at a time (the
    checks' former way): ``(first, second, area)`` as :func:`overlapping_pairs` gives them."""
    c = netlist.require_canvas()
    tol = OVERLAP_TOL * max(c.width, c.height)
    h = netlist.hard_macros
    x, y, w, hh = placement.x[h], placement.y[h], netlist.width[h], netlist.height[h]
    found = []
    for start in range(0, h.size, 512):
        s = slice(start, min(start + 512, h.size))
        ox = np.minimum(x[s, None] + w[s, None] / 2, x[None, :] + w[None, :] / 2) - np.maximum(
            x[s, None] - w[s, None] / 2, x[None, :] - w[None, :] / 2
        )
        oy = np.minimum(y[s, None] + hh[s, None] / 2, y[None, :] + hh[None, :] / 2) - np.maximum(
            y[s, None] - hh[s, None] / 2, y[None, :] - hh[None, :] / 2
        )
        area = np.where((ox > tol) & (oy > tol), ox * oy, 0.0)
        rows = np.arange(s.start, s.stop)
        area = np.where(np.arange(h.size)[None, :] > rows[:, None], area, 0.0)
        r, later = np.nonzero(area > 0)
        found.append((rows[r], later, area[r, later]))
    first, second, area = (np.concatenate(parts) for parts in zip(*found, strict=True))
    order = np.lexsort((second, first))
    return first[order], second[order], area[order]


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


def _sizes(text: str) -> list[int]:
    """argparse type: comma-separated counts >= 2 ('' for none)."""
    sizes = [positive_int(v) for v in name_list(text)] if text else []
    if any(n < 2 for n in sizes):
        raise argparse.ArgumentTypeError(f"a layout needs at least 2 hard macros, got {text!r}")
    return sizes


def _fastest(find: Callable[[Netlist, Placement], tuple[np.ndarray, ...]], netlist: Netlist,
             placement: Placement, repeats: int) -> tuple[float, tuple[np.ndarray, ...]]:
    """The fastest of ``repeats`` timings of ``find(netlist, placement)``, and its result."""
    best, result = float("inf"), ()
    for _ in range(repeats):
        started = time.perf_counter()
        result = find(netlist, placement)
        best = min(best, time.perf_counter() - started)
    return best, result


def main() -> int:
    parser = make_parser(__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=_sizes, default="1000,5000,20000",
                        help="comma-separated hard-macro counts of the random layouts ('' for none)")  # fmt: skip
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
    if args.designs:
        if not args.suite.is_dir():
            raise FileNotFoundError(2, "no benchmark suite here (give --suite, or --designs '')", str(args.suite))
        for name, path in suite_designs(args.suite, args.designs).items():
            cases[name] = lambda p=path: load_design(p)
    if not cases:
        raise ValueError("nothing to measure: --sizes '' and --designs ''")
    rows = []
    for name, load in cases.items():
        netlist, placement = load()
        sweep_s, sweep = _fastest(overlapping_pairs, netlist, placement, args.repeats)
        every_s, every = _fastest(every_pair, netlist, placement, args.repeats)
        same = all(np.array_equal(a, b) for a, b in zip(sweep, every, strict=True))
        rows.append({"case": name, "hard_macros": int(netlist.hard_macros.size), "pairs": int(sweep[0].size),
                     "sweep_s": sweep_s, "every_pair_s": every_s, "same": same})  # fmt: skip
        print(f"[legality] {name}: sweep {sweep_s:.4f} s, every pair {every_s:.4f} s, same: {same}", flush=True)
    lines = [
        "# Hard-macro overlap check: sweep vs every pair (generated by experiments/bench/legality_speed.py)",
        "",
        f"Machine: {platform.machine()}, Python {platform.python_version()}, {os.cpu_count()} cores, "
        f"load average {os.getloadavg()[0]:.1f} at the end. Fastest of {args.repeats}; `same`: both "
        "found the same pairs with the same areas to the last bit.",
        "",
        "| case | hard macros | overlapping pairs | sweep s | every pair s | speed-up | same |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        lines.append(f"| {r['case']} | {r['hard_macros']} | {r['pairs']} | {r['sweep_s']:.4f} | "
                     f"{r['every_pair_s']:.4f} | {r['every_pair_s'] / r['sweep_s']:.1f}x | {r['same']} |")  # fmt: skip
    print_or_write(args.out, lines, json.dumps(rows, indent=2))
    return 0 if all(r["same"] for r in rows) else 1


if __name__ == "__main__":
    run(main)
