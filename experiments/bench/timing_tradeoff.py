"""Benchmark: what weighing the timing proxy (option ``w_timing``) costs and buys.

For each design and method, runs of a fixed number of proposals (``max_steps``: the same
schedule whatever the machine's speed) from the design's ``initial.plc`` with each timing
weight and, for a weight above 0, each timing figure weighed (option ``timing_metric``:
``worst``, the worst path, or ``tail``, the mean of the worst 10 % of endpoints), the same
seed; reported: the proxy cost, the timing proxy's ``worst`` and ``tail``
(:mod:`placer.cost.timing`) of the result, and the wall seconds (the timing evaluator prices
every move beside the proxy evaluator when the weight is not 0).

    python experiments/bench/timing_tradeoff.py [--suite ../shared/benchmarks] [--designs ariane133,ibm01,ibm06] \\
        [--methods refine,sa] [--weights 0,0.5,2,8] [--metrics worst,tail] [--steps 20000] \\
        [--out experiments/results/timing_tradeoff.md]

Only ``ariane133`` of the shared suite has its real nets (the others: real geometry, synthetic
nets); on the clustered designs nearly every soft macro is on a cycle, so ``worst`` is close to
the longest single register-to-register wire (see :mod:`placer.cost.timing`).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from _cli import (
    DEFAULT_SUITE,
    check_outputs,
    make_parser,
    name_list,
    non_negative_int,
    output_file,
    positive_int,
    print_or_write,
    run,
    suite_designs,
)

from netlists.io import load_design
from placer.algorithms.base import get_placer, placer_class, warm_up
from placer.cost.proxy import evaluate
from placer.cost.timing import TIMING_METRICS, timing_cost


def weight_list(text: str) -> list[float]:
    """Comma-separated timing weights, each a finite number >= 0."""
    weights = []
    for part in text.split(","):
        try:
            value = float(part)
        except ValueError:
            raise ValueError(f"--weights: {part!r} is not a number") from None
        if not 0 <= value < float("inf"):
            raise ValueError(f"--weights: {part!r} must be a finite number >= 0")
        weights.append(value)
    return weights


def metric_list(text: str) -> list[str]:
    """Comma-separated timing figures a search may weigh (``worst``, ``tail``)."""
    metrics = [part.strip() for part in text.split(",")]
    for metric in metrics:
        if metric not in TIMING_METRICS:
            raise ValueError(f"--metrics: {metric!r} is not one of {', '.join(TIMING_METRICS)}")
    return list(dict.fromkeys(metrics))


def runs_of(weights: list[float], metrics: list[str]) -> list[tuple[float, str]]:
    """``(weight, metric)`` pairs to run: a weight of 0 once (it weighs no figure), every
    other weight with each metric."""
    return [(w, m) for w in dict.fromkeys(weights) for m in (metrics[:1] if w == 0 else metrics)]


def main(argv: list[str] | None = None) -> int:
    """Run every design x method x weight; print the table (and write it with ``--out``)."""
    ap = make_parser(__doc__)
    ap.add_argument("--suite", type=Path, default=DEFAULT_SUITE,
                    help="the shared benchmark suite")
    ap.add_argument("--designs", type=name_list, default=name_list("ariane133,ibm01,ibm06"),
                    help="designs of the suite (comma-separated)")
    ap.add_argument("--methods", type=name_list, default=name_list("refine,sa"),
                    help="search methods that take w_timing (comma-separated)")
    ap.add_argument("--weights", type=weight_list, default=weight_list("0,0.5,2,8"),
                    help="timing weights (comma-separated; 0: the proxy alone)")
    ap.add_argument("--metrics", type=metric_list, default=metric_list("worst,tail"),
                    help="timing figures weighed (option timing_metric; comma-separated)")
    ap.add_argument("--steps", type=positive_int, default=20_000, help="proposals per run (max_steps)")
    ap.add_argument("--seed", type=non_negative_int, default=1, help="seed of every run (>= 0)")
    ap.add_argument("--out", type=output_file, default=None,
                    help="also write the Markdown table here (and its .json beside it); default: print only")
    args = ap.parse_args(argv)
    for method in args.methods:  # refused before any work (a traceback after the first runs)
        try:
            cls = placer_class(method)
        except KeyError as error:
            ap.error(f"--methods: {error.args[0]}")
        if not (cls.reads("w_timing") and cls.reads("max_steps")):
            ap.error(f"--methods: {method} does not take w_timing and max_steps (sa, refine and "
                     "global_refine do)")
    if args.out:
        check_outputs(args.out, args.out.with_suffix(".json"))
    folders = suite_designs(args.suite, args.designs)
    rows = []
    for method in args.methods:
        warm_up(method)
    for name, folder in folders.items():
        netlist, placement = load_design(folder)
        for method in args.methods:
            for weight, metric in runs_of(args.weights, args.metrics):
                options = {"w_timing": weight, **({"timing_metric": metric} if weight > 0 else {})}
                placer = get_placer(method, max_steps=args.steps, **options)
                t = time.perf_counter()
                result = placer.place(netlist, placement, budget_s=3600, seed=args.seed)
                seconds = time.perf_counter() - t
                cost, timing = evaluate(netlist, result), timing_cost(netlist, result)
                rows.append({"design": name, "method": method, "w_timing": weight, "timing_metric": metric,
                             "proxy": cost.proxy, "worst": timing.worst, "tail": timing.tail, "seconds": seconds})
                print(f"{name:10s} {method:7s} w={weight:<5g} {metric:5s} proxy {cost.proxy:.4f}  "
                      f"worst {timing.worst:.4f}  tail {timing.tail:.4f}  {seconds:6.1f} s", flush=True)
    start = {name: (evaluate(*load_design(folder)).proxy, timing_cost(*load_design(folder)))
             for name, folder in folders.items()}
    lines = [
        "# Timing-weighted search (generated by experiments/bench/timing_tradeoff.py)",
        "",
        f"Each run: {args.steps:,} proposals (`max_steps`) from the design's `initial.plc`, seed {args.seed}; "
        "`worst` and `tail` as `placer.cost.timing` defines them (over W + H); seconds of wall time "
        "on this machine. Only ariane133 has real nets. Weighing `worst`, different weights often give "
        "identical runs: the worst path changes in steps far larger than a move's proxy change, so "
        "any weight refuses the same moves (those that lengthen it); the tail responds to the weight.",
        "",
        "| design | method | w_timing | weighs | proxy | worst | tail | seconds |",
        "|---|---|---:|---|---:|---:|---:|---:|",
    ]
    for name, (proxy, timing) in start.items():
        lines.append(f"| {name} | initial | - | - | {proxy:.4f} | {timing.worst:.4f} | {timing.tail:.4f} | - |")
    lines += [
        f"| {r['design']} | {r['method']} | {r['w_timing']:g} | {r['timing_metric'] if r['w_timing'] > 0 else '-'} | "
        f"{r['proxy']:.4f} | {r['worst']:.4f} | {r['tail']:.4f} | {r['seconds']:.1f} |"
        for r in rows
    ]
    print_or_write(args.out, lines, json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    run(main)
