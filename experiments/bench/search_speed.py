"""Benchmark: throughput of the move engine behind ``refine`` and ``sa``, per move kind.

For each design, ``refine``'s default move mix runs a fixed number of proposals from the
legalised ``initial.plc`` (same seed, same schedule as a ``refine`` run of that many steps).
Reported: proposals per second of the whole loop (legality check, pricing by the incremental
evaluator, Metropolis acceptance, commits), and per move kind the share of proposals that were
legal and that were accepted. A second pass prices the same number of proposals through the
evaluator's checked entry point (:meth:`IncrementalEvaluator.propose`, which validates its
inputs) instead of the engine's trusted one, as a same-run baseline for that part of the loop.

    python experiments/bench/search_speed.py [--suite ../shared/benchmarks] [--designs ibm01,ibm06,ibm12,ibm17] \\
        [--steps 30000] [--moves JSON] [--lookahead 0.5] [--out experiments/results/search_speed.md]

The default mix and look-ahead are ``refine``'s. To compare with another commit, run this
script against that commit's package (a ``git worktree`` on ``PYTHONPATH``) with a mix of
moves it has and ``--lookahead 0``; e.g. against e4930ef (before the faster loop)::

    git worktree add /tmp/old e4930ef
    M='{"shift": 0.42, "hotspot": 0.27, "hotnet": 0.27, "mirror": 0.04}'
    PYTHONPATH=/tmp/old python experiments/bench/search_speed.py --moves "$M" --lookahead 0 --designs ibm01,ibm06
    python experiments/bench/search_speed.py --moves "$M" --lookahead 0 --designs ibm01,ibm06

Against 293c87a (before the candidate-set top-k and the one-route star update of
``placer.cost``; same moves, so the default mix) the same way, one after the other in one
session: ibm01 6170 -> 11975, ibm06 8943 -> 12283, ibm12 5538 -> 8475, ibm17 4598 -> 7104
proposals/s, with the same end proxies (the pricing gives the same floats).
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np

from netlists.io import load_design
from placer.algorithms.legalize import legalize
from placer.algorithms.local_search import AnnealSchedule, SearchState, anneal
from placer.cost.incremental import IncrementalEvaluator

DEFAULT_SUITE = Path(__file__).resolve().parents[3] / "shared" / "benchmarks"
REFINE_MOVES = {"shift": 0.42, "hotspot": 0.27, "hotnet": 0.27, "mirror": 0.04, "region": 0.2}


def _run(
    state: SearchState, steps: int, moves: dict[str, float], lookahead: float
) -> tuple[float, dict]:
    pool = np.concatenate([state.hard, state.soft])
    schedule = AnnealSchedule(
        start_factor=0.002, final_ratio=1e-3, radius_start=2.0, radius_end=0.3
    )
    t = time.perf_counter()
    stats = anneal(
        state,
        moves,
        1e9,
        lambda p: None,
        schedule,
        pool=pool,
        heat_every=2000,
        max_steps=steps,
        **({"lookahead": lookahead} if lookahead > 0 else {}),  # older commits lack it
    )
    return time.perf_counter() - t, {
        k: {
            "proposed": n,
            "legal": n - stats.illegal.get(k, 0),
            "accepted": stats.accepted.get(k, 0),
        }
        for k, n in sorted(stats.proposed.items())
    }


def bench_design(
    suite: Path, name: str, steps: int, moves: dict[str, float], lookahead: float
) -> dict:
    netlist_path = next((suite).glob(f"*/{name}/netlist.pb.txt*"))
    netlist, placement = load_design(netlist_path)
    start = legalize(netlist, placement)
    state = SearchState(netlist, start, np.random.default_rng(0))
    start_proxy = state.ev.cost.proxy
    seconds, kinds = _run(state, steps, moves, lookahead)
    end_proxy = state.ev.cost.proxy

    checked = SearchState(netlist, start, np.random.default_rng(0))
    checked.ev.propose_trusted = (  # type: ignore[method-assign]
        lambda nodes, x, y, orientation: IncrementalEvaluator.propose(
            checked.ev, nodes, x, y, orientation
        )
    )
    checked_seconds, _ = _run(checked, steps, moves, lookahead)
    return {
        "hard": int(state.hard.size),
        "soft": int(state.soft.size),
        "steps": steps,
        "per_second": steps / seconds,
        "checked_per_second": steps / checked_seconds,
        "start_proxy": start_proxy,
        "end_proxy": end_proxy,
        "kinds": kinds,
    }


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--suite", type=Path, default=DEFAULT_SUITE)
    ap.add_argument("--designs", default="ibm01,ibm06,ibm12,ibm17")
    ap.add_argument("--steps", type=int, default=30000)
    ap.add_argument("--moves", type=json.loads, default=REFINE_MOVES, help="move mix (JSON)")
    ap.add_argument("--lookahead", type=float, default=0.5, help="look-ahead weight (refine's)")
    ap.add_argument("--out", type=Path, default=Path("experiments/results/search_speed.md"))
    args = ap.parse_args()
    if not args.suite.is_dir():
        print(f"benchmark suite not found at {args.suite} (pass --suite)", file=sys.stderr)
        raise SystemExit(2)
    rows = {}
    for name in args.designs.split(","):
        rows[name] = bench_design(args.suite, name, args.steps, args.moves, args.lookahead)
        r = rows[name]
        print(
            f"{name}: {r['per_second']:.0f} proposals/s (checked pricing {r['checked_per_second']:.0f}/s)"
        )

    kinds = sorted({k for r in rows.values() for k in r["kinds"]})
    lines = [
        "# Move-engine throughput",
        "",
        f"Move mix `{json.dumps(args.moves)}`, look-ahead {args.lookahead}; "
        f"{args.steps} proposals per design from the legalised `initial.plc`, seed 0, one process "
        f"(machine: {platform.machine()}, Python {platform.python_version()}). `checked` prices "
        "the same proposals through the evaluator's validating entry point, in the same run.",
        "",
        "| design | hard | soft | proposals/s | checked proposals/s | trusted / checked | proxy start -> end |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for name, r in rows.items():
        lines.append(
            f"| {name} | {r['hard']} | {r['soft']} | {r['per_second']:.0f} | "
            f"{r['checked_per_second']:.0f} | {r['per_second'] / r['checked_per_second']:.2f}x | "
            f"{r['start_proxy']:.4f} -> {r['end_proxy']:.4f} |"
        )
    lines += ["", "Per move kind: legal / accepted share of proposals.", ""]
    lines.append("| design | " + " | ".join(kinds) + " |")
    lines.append("|---|" + "---:|" * len(kinds))
    for name, r in rows.items():
        cells = []
        for k in kinds:
            s = r["kinds"].get(k)
            cells.append(
                "-"
                if s is None
                else f"{s['legal'] / s['proposed']:.0%} / {s['accepted'] / s['proposed']:.1%}"
            )
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n")
    args.out.with_suffix(".json").write_text(json.dumps(rows, indent=1))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
