"""Benchmark: full proxy-cost and incremental-move time of this checkout against another, in one run.

Two worker processes, one per checkout (each with its own package on ``PYTHONPATH``), load the
same designs; then, round after round, each times ``--repeats`` full evaluations
(``placer.cost.proxy.evaluate``) and ``--moves`` incremental moves of every design, the
workers taking turns (the one going first alternates), so both see the same load. Reported per
design: the median over rounds of each worker's median milliseconds (full costs by the wall
clock and by the thread's CPU time, which other jobs on the machine disturb less; moves and
resyncs by CPU time), the ratio base / this
(above 1: this checkout is faster), and whether the two computed the same bits (the three
cost terms and the maps).

    python experiments/bench/cost_ab.py --base ../base-checkout [--designs ibm01,ibm17,ariane133] \\
        [--rounds 5] [--repeats 20] [--moves 300] [--out experiments/results/cost_ab.md]

``--base`` is a checkout of another commit (e.g. ``git worktree add ../base HEAD~3``); its
numba kernels are compiled into its own cache folder before timing.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from _cli import (
    DEFAULT_SUITE,
    REPO,
    check_outputs,
    checkout_commit,
    make_parser,
    name_list,
    non_negative_int,
    output_file,
    positive_int,
    print_or_write,
    run,
    suite_designs,
)
from _moves import timed_move_mix


def _load(suite: Path, name: str):  # type: ignore[no-untyped-def]
    from netlists.io import load_design

    if name == "default":  # the embedded generated design
        return load_design(name)
    return load_design(suite_designs(suite, [name])[name])


def worker(suite: Path, names: list[str]) -> None:
    """Serve timing requests on stdin (a design name, repeats and moves per line), one JSON
    line of answers each: the package under ``PYTHONPATH`` is the one timed."""
    import numpy as np

    from placer.cost.incremental import IncrementalEvaluator
    from placer.cost.proxy import evaluate

    designs = {}
    for name in names:
        netlist, placement = _load(suite, name)
        evaluate(netlist, placement)  # builds the per-netlist arrays (and loads any kernels)
        designs[name] = (netlist, placement, IncrementalEvaluator(netlist, placement))
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        name, repeats, moves = line.split()
        netlist, placement, ev = designs[name]
        full, full_cpu = [], []
        for _ in range(int(repeats)):
            start, start_cpu = time.perf_counter(), time.thread_time()
            cost = evaluate(netlist, placement, with_maps=True)
            full.append(time.perf_counter() - start)
            full_cpu.append(time.thread_time() - start_cpu)
        digest = hashlib.sha256(np.array([cost.wirelength, cost.density, cost.congestion]).tobytes())
        assert cost.maps is not None
        for array in (cost.maps.density, cost.maps.vertical, cost.maps.horizontal):
            digest.update(np.ascontiguousarray(array).tobytes())
        # (cost_speed.py's mix of moves, turns and swaps; none on a design without hard macros)
        priced = timed_move_mix(ev, netlist, int(moves) if netlist.hard_macros.size else 0, time.thread_time)
        start = time.thread_time()
        ev.resync()
        resync_s = time.thread_time() - start
        print(json.dumps({
            "full_ms": 1000 * statistics.median(full),
            "full_cpu_ms": 1000 * statistics.median(full_cpu),
            "move_ms": 1000 * statistics.median(priced) if priced else 0.0,
            "resync_ms": 1000 * resync_s,
            "costs": [cost.wirelength, cost.density, cost.congestion],
            "digest": digest.hexdigest(),
        }), flush=True)


class _Worker:
    """One worker process over the package of ``tree``."""

    def __init__(self, tree: Path, suite: Path, names: list[str]) -> None:
        self.tree = tree
        env = dict(os.environ, PYTHONPATH=str(tree), OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--worker", "--suite", str(suite), "--designs", ",".join(names)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env, cwd=tree,
        )

    def ask(self, line: str) -> dict:
        """Send ``line`` (none: only read) and return the worker's answer."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        try:
            if line:
                self.proc.stdin.write(line + "\n")
                self.proc.stdin.flush()
            answer = self.proc.stdout.readline()
        except BrokenPipeError:
            answer = ""
        if not answer:
            raise RuntimeError(f"the worker over {self.tree} ended early (exit status {self.proc.wait()}; "
                               "its error is above)")  # fmt: skip
        return json.loads(answer)

    def close(self) -> None:
        """End the worker (at once if it is still busy)."""
        if self.proc.poll() is None:
            assert self.proc.stdin is not None
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def main(argv: list[str] | None = None) -> int:
    """Time both checkouts, round by round; print the table (and write it with ``--out``)."""
    parser = make_parser(__doc__)
    parser.add_argument("--base", type=Path, help="the other checkout (its repository root)")
    parser.add_argument("--suite", type=Path, default=DEFAULT_SUITE, help="the benchmark suite")
    parser.add_argument("--designs", type=name_list, default="ibm01,ibm17,ariane133",
                        help="comma-separated designs (folders of the suite, or `default` for the embedded generated one)")
    parser.add_argument("--rounds", type=positive_int, default=5, help="rounds of turns")
    parser.add_argument("--repeats", type=positive_int, default=20, help="full evaluations per turn")
    parser.add_argument("--moves", type=non_negative_int, default=300, help="incremental moves per turn")
    parser.add_argument("--out", type=output_file, help="write the table here (and a .json beside it)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args.suite, args.designs)
        return 0
    if args.base is None or not (args.base / "placer" / "cost" / "proxy.py").is_file():
        parser.error(f"--base: not a checkout of this project: {args.base}")
    suite_designs(args.suite, [name for name in args.designs if name != "default"])  # (all there)
    if args.out:
        check_outputs(args.out, args.out.with_suffix(".json"))
    trees = {"base": args.base.resolve(), "this": REPO}
    workers = {label: _Worker(tree, args.suite, args.designs) for label, tree in trees.items()}
    answers: dict[str, dict[str, list[dict]]] = {d: {"base": [], "this": []} for d in args.designs}
    try:
        for w in workers.values():
            w.ask("")  # ready (designs loaded, kernels compiled)
        load_before = os.getloadavg()[0]
        for k in range(args.rounds):
            for name in args.designs:
                order = ["base", "this"] if k % 2 == 0 else ["this", "base"]
                for label in order:
                    answers[name][label].append(workers[label].ask(f"{name} {args.repeats} {args.moves}"))
        load_after = os.getloadavg()[0]
    finally:
        for w in workers.values():
            w.close()
    rows = []
    for name, by in answers.items():
        row: dict[str, object] = {"design": name}
        for label in ("base", "this"):
            for key in ("full_ms", "full_cpu_ms", "move_ms", "resync_ms"):
                row[f"{label}_{key}"] = statistics.median(a[key] for a in by[label])
        row["full_ratio"] = row["base_full_ms"] / row["this_full_ms"]  # type: ignore[operator]
        row["full_cpu_ratio"] = row["base_full_cpu_ms"] / row["this_full_cpu_ms"]  # type: ignore[operator]
        row["move_ratio"] = row["base_move_ms"] / row["this_move_ms"] if row["this_move_ms"] else 0.0  # type: ignore[operator]
        base_costs, this_costs = by["base"][-1]["costs"], by["this"][-1]["costs"]
        row["same_bits"] = by["base"][-1]["digest"] == by["this"][-1]["digest"]
        row["max_cost_diff"] = max(abs(a - b) / abs(a) if a else abs(b) for a, b in zip(base_costs, this_costs, strict=True))
        rows.append(row)
    lines = [
        "| design | full cost base (ms) | full cost this (ms) | base / this | CPU base (ms) | CPU this (ms) | "
        "base / this | move CPU base (ms) | move CPU this (ms) | base / this | resync CPU base (ms) | resync CPU this (ms) | "
        "same bits | max rel. cost difference |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|",
    ]
    lines += [
        f"| {r['design']} | {r['base_full_ms']:.1f} | {r['this_full_ms']:.1f} | {r['full_ratio']:.2f}x | "
        f"{r['base_full_cpu_ms']:.1f} | {r['this_full_cpu_ms']:.1f} | {r['full_cpu_ratio']:.2f}x | "
        f"{r['base_move_ms']:.3f} | {r['this_move_ms']:.3f} | {r['move_ratio']:.2f}x | {r['base_resync_ms']:.1f} | "
        f"{r['this_resync_ms']:.1f} | {'yes' if r['same_bits'] else 'no'} | {r['max_cost_diff']:.1e} |"
        for r in rows
    ]
    lines.append("")
    lines.append(f"Base: {checkout_commit(trees['base'])}, this: {checkout_commit(REPO)}. {args.rounds} rounds of {args.repeats} full evaluations and {args.moves} moves "
                 f"per design and checkout; load average {load_before:.1f} before, {load_after:.1f} after, on "
                 f"{os.cpu_count()} cores.")
    print_or_write(args.out, ["# Full cost, this checkout against a base (generated by experiments/bench/cost_ab.py)", "",
                              *lines], json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    run(main)
