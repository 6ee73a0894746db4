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
import math
import platform
import time
from pathlib import Path

import numpy as np
from _cli import (
    DEFAULT_SUITE,
    check_outputs,
    make_parser,
    name_list,
    non_negative_float,
    output_file,
    positive_int,
    print_or_write,
    run,
)

from netlists.io import load_design
from placer.algorithms.legalize import legalize
from placer.cost.incremental import IncrementalEvaluator

try:  # the engine's modules since local_search was split
    from placer.algorithms import search_moves as move_kinds
    from placer.algorithms.anneal import AnnealSchedule, anneal
    from placer.algorithms.search_state import SearchState
except ImportError:  # an older commit's package (see above): the engine in one module
    import placer.algorithms.local_search as move_kinds
    from placer.algorithms.local_search import AnnealSchedule, SearchState, anneal

DEFAULT_DESIGNS = "ibm01,ibm06,ibm12,ibm17"
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


def bench_design(netlist_path: Path, steps: int, moves: dict[str, float], lookahead: float) -> dict:
    """Proposals per second of the loop and per move kind's legal / accepted counts."""
    netlist, placement = load_design(netlist_path)
    start = legalize(netlist, placement)

    def checked_state() -> SearchState:
        """A search state whose proposals go through the evaluator's validating entry point."""
        checked = SearchState(netlist, start, np.random.default_rng(0))
        checked.ev.propose_trusted = (  # type: ignore[method-assign]
            lambda nodes, x, y, orientation: IncrementalEvaluator.propose(
                checked.ev, nodes, x, y, orientation
            )
        )
        return checked

    # untimed warm-up of both passes (kernels loaded, caches filled): without it the first
    # timed pass paid for them and the ratio depended on --steps (2.1x at 300, 1.2x at 20000)
    warm_up = min(steps, 1000)
    _run(SearchState(netlist, start, np.random.default_rng(1)), warm_up, moves, lookahead)
    _run(checked_state(), warm_up, moves, lookahead)

    state = SearchState(netlist, start, np.random.default_rng(0))
    start_proxy = state.ev.cost.proxy
    seconds, kinds = _run(state, steps, moves, lookahead)
    end_proxy = state.ev.cost.proxy
    checked_seconds, _ = _run(checked_state(), steps, moves, lookahead)
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


def move_mix(text: str) -> dict[str, float]:
    """argparse type: a JSON object of move kind -> weight (>= 0, not all 0), kinds known to
    the ``placer`` package imported (it may be an older commit's, see above)."""
    try:
        moves = json.loads(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not JSON: {text!r}") from None
    if not isinstance(moves, dict) or not moves:
        raise argparse.ArgumentTypeError(f"expected a JSON object of kind -> weight, got {text!r}")
    known = getattr(move_kinds, "MOVES", None)  # older commits may not name the table
    for kind, weight in moves.items():
        if known is not None and kind not in known:
            raise argparse.ArgumentTypeError(
                f"unknown move kind {kind!r}: expected some of {', '.join(known)}"
            )
        if isinstance(weight, bool) or not isinstance(weight, int | float):
            raise argparse.ArgumentTypeError(f"weight of {kind!r} is not a number: {weight!r}")
        if not (math.isfinite(weight) and weight >= 0):
            raise argparse.ArgumentTypeError(f"weight of {kind!r} must be >= 0, got {weight}")
    if sum(moves.values()) <= 0:
        raise argparse.ArgumentTypeError("the weights must not all be 0")
    return moves


def design_paths(suite: Path, names: list[str]) -> dict[str, Path]:
    """The netlist of each design called ``names`` in ``suite``; ValueError naming the missing
    ones and the designs there are."""
    found: dict[str, Path] = {}
    for path in sorted(suite.glob("*/*/netlist.pb.txt*")):
        found.setdefault(path.parent.name, path)
    missing = [name for name in names if name not in found]
    if missing:
        raise ValueError(
            f"--designs: {', '.join(missing)} not in {suite} (it has {', '.join(found) or 'none'})"
        )
    return {name: found[name] for name in names}


def main() -> None:
    """Benchmark every design; write the tables (``--out``) and the ``.json`` beside them."""
    ap = make_parser(__doc__)
    ap.add_argument("--suite", type=Path, default=DEFAULT_SUITE, help="the shared benchmark suite")
    ap.add_argument(
        "--designs",
        type=name_list,
        default=DEFAULT_DESIGNS,
        help="designs of the suite, comma-separated",
    )
    ap.add_argument(
        "--steps", type=positive_int, default=30000, help="proposals per design and pass"
    )
    ap.add_argument(
        "--moves",
        type=move_mix,
        default=REFINE_MOVES,
        help="move mix, a JSON object of kind -> weight (default: refine's, "
        + json.dumps(REFINE_MOVES).replace("%", "%%")
        + ")",
    )
    ap.add_argument(
        "--lookahead",
        type=non_negative_float,
        default=0.5,
        help="look-ahead weight (refine's; 0: off)",
    )
    ap.add_argument(
        "--out",
        type=output_file,
        default=None,
        help="the Markdown tables to write (their .json beside them); default: print only (a test run never replaces the recorded results)",
    )
    args = ap.parse_args()
    if args.out is not None:
        check_outputs(args.out, args.out.with_suffix(".json"))
    if not args.suite.is_dir():
        raise ValueError(f"--suite: benchmark suite not found at {args.suite}")
    designs = design_paths(args.suite, args.designs)
    rows = {}
    for name, netlist_path in designs.items():
        rows[name] = bench_design(netlist_path, args.steps, args.moves, args.lookahead)
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
    print_or_write(args.out, lines, json.dumps(rows, indent=1))


if __name__ == "__main__":
    run(main)
