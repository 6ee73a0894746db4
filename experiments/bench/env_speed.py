"""Step throughput of ``placer/MacroPlacement-v0`` (mask and wire mask included).

Runs masked-random episodes (the policy's cost excluded: a random legal cell per step) on
ibm01 (from the shared suite, ``--benchmarks``: by default ``$PLACER_BENCHMARKS`` or
``../shared/benchmarks`` beside the repository; skipped with a message when absent), on the built-in
ariane133 and on the embedded default design, and prints the table (``--out
experiments/results/env_speed.md`` writes it there, ``.json`` beside it).
The final reward uses ``soft_placement="keep"`` so only the per-step work is timed; the
end-of-episode exact cost is timed separately. Target: >= 300 steps/s on ibm01.

    python experiments/bench/env_speed.py [--episodes 3] [--benchmarks DIR] [--out FILE.md]
"""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
from _cli import (
    DEFAULT_SUITE,
    check_outputs,
    make_parser,
    output_file,
    positive_int,
    run,
    write_results,
)

from envs.macro_placement import MacroPlacementEnv

TARGET_STEPS_PER_S = 300.0


def measure(env: MacroPlacementEnv, episodes: int, seed: int = 0) -> dict[str, float]:
    """Steps/s over ``episodes`` masked-random episodes; final-cost time per episode."""
    rng = np.random.default_rng(seed)
    steps, step_time, final_time = 0, 0.0, 0.0
    for ep in range(episodes):
        env.reset(seed=seed + ep)
        done = False
        while not done:
            t0 = time.perf_counter()
            mask = env.action_masks()
            action = int(rng.choice(np.flatnonzero(mask)))
            _, _, done, _, info = env.step(action)
            dt = time.perf_counter() - t0
            if done and "cost" in info:
                final_time += dt  # the last step carries the exact cost
            else:
                step_time += dt
                steps += 1
    return {
        "steps": steps,
        "steps_per_s": steps / step_time if step_time else float("nan"),
        "final_cost_s": final_time / episodes,
    }


def main() -> None:
    """Measure every design and write the table (``--out``) and its ``.json`` beside it."""
    parser = make_parser(__doc__)
    parser.add_argument("--episodes", type=positive_int, default=3, help="masked-random episodes per design")
    parser.add_argument("--benchmarks", type=Path, default=None,
                        help="the shared benchmark suite, for ibm01 (default: "
                        f"{DEFAULT_SUITE}, $PLACER_BENCHMARKS or ../shared/benchmarks; skipped with a message when that is absent, refused when "
                        "given here and ibm01 is not in it)")
    parser.add_argument("--out", type=output_file, default=None,
                        help="the Markdown table to write (its .json beside it); default: print only (a test run never replaces the recorded results)")
    args = parser.parse_args()
    if args.out is not None:
        check_outputs(args.out, args.out.with_suffix(".json"))
    benchmarks = args.benchmarks or DEFAULT_SUITE
    ibm01 = benchmarks / "iccad04" / "ibm01" / "netlist.pb.txt"
    if args.benchmarks is not None and not ibm01.exists():
        raise ValueError(f"--benchmarks: {ibm01} not found (give the shared benchmark suite)")

    rows: list[dict[str, object]] = []
    skipped = ""
    if ibm01.exists():
        env = MacroPlacementEnv(str(ibm01), soft_placement="keep")
        rows.append({"design": "ibm01", **measure(env, args.episodes), "grid": env._designs[0].grid})
    else:
        skipped = f"ibm01 skipped: {ibm01} not found (set PLACER_BENCHMARKS or pass --benchmarks)"
        print(skipped, file=sys.stderr)
    from netlists.designs import load_builtin

    for name, design in (("ariane133 (built-in)", load_builtin("ariane133")), ("default", None)):
        env = MacroPlacementEnv(design, soft_placement="keep")
        rows.append({"design": name, **measure(env, args.episodes), "grid": env._designs[0].grid})

    lines = [
        "# Environment step throughput",
        "",
        f"Masked-random episodes, {args.episodes} per design; machine: {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} cores (shared). Target >= {TARGET_STEPS_PER_S:.0f} steps/s on ibm01.",
        "",
        "| design | grid | steps | steps/s | final exact cost (s/episode) |",
        "|---|---|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['design']} | {r['grid'][0]}x{r['grid'][1]} | {r['steps']} | {r['steps_per_s']:.0f} | {r['final_cost_s']:.3f} |"
        )
    if skipped:
        lines += ["", skipped + "."]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out is None:
        return  # (the table is printed above)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_results({args.out: text, args.out.with_suffix(".json"): json.dumps(rows, indent=2, default=list)})


if __name__ == "__main__":
    run(main)
