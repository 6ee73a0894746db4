"""How robust is a row of ``table.md`` to the evaluation seed? Re-evaluates trained variants
(best checkpoint) and the baselines on one design for several seeds, same protocol and budget
as ``run_experiment.py``, and writes ``seeds_<design>.md`` / ``.json`` beside the results.

    OMP_NUM_THREADS=1 python experiments/rl/seed_check.py --design ariane133 --seeds 1,2 \\
        --variants full --methods greedy,random
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
from pathlib import Path
from typing import Any

from run_experiment import HERE, baseline_final, eval_policy, load_named


def main() -> None:
    from placer.rl.inference import load_model

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=HERE / "results")
    parser.add_argument("--design", default="ariane133")
    parser.add_argument("--split", default="unseen", help="label of the design in the table")
    parser.add_argument("--seeds", default="1,2", help="comma-separated evaluation seeds")
    parser.add_argument("--variants", default="full")
    parser.add_argument("--methods", default="greedy", help="baselines: greedy, random, sa")
    parser.add_argument("--eval-budget-s", type=float, default=60.0)
    args = parser.parse_args()
    try:
        seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    except ValueError:
        parser.error(f"--seeds takes comma-separated whole numbers, got {args.seeds!r}")
    if not seeds:
        parser.error("--seeds names no seed")
    if not [v for v in args.variants.split(",") if v] + [m for m in args.methods.split(",") if m]:
        parser.error("--variants and --methods name nothing to evaluate")
    design = load_named(args.design)[0]
    rows: list[dict[str, Any]] = []
    for variant in [v for v in args.variants.split(",") if v]:
        run = args.out / "runs" / variant
        model = load_model(run, "cpu")
        for seed in seeds:
            row = eval_policy(
                model, run, design, args.split, f"rl[{variant}]", args.eval_budget_s, seed
            )
            rows.append(row | {"seed": seed})
    env_kwargs = {"max_nodes": max(256, design[0].hard_macros.size)}
    for method in [m for m in args.methods.split(",") if m]:
        for seed in seeds:
            proxy = baseline_final(method, design, args.eval_budget_s, seed, env_kwargs)
            rows.append({"design": design[0].name, "method": method, "seed": seed, "proxy": proxy})
            print(rows[-1], flush=True)
    stem = args.out / f"seeds_{design[0].name}"
    stem.with_suffix(".json").write_text(json.dumps(rows, indent=2))
    write_summary(rows, stem.with_suffix(".md"), args.eval_budget_s)
    print(stem.with_suffix(".md").read_text())


def write_summary(rows: list[dict[str, Any]], path: Path, budget_s: float) -> None:
    """Per method: proxy for each seed, mean and spread."""
    methods = list(dict.fromkeys(r["method"] for r in rows))
    seeds = sorted({r["seed"] for r in rows})
    lines = [
        f"# Seed check: {rows[0]['design']}, {budget_s:g} s per method and seed",
        "",
        "| method | " + " | ".join(f"seed {s}" for s in seeds) + " | mean | stdev |",
        "|---|" + "---:|" * (len(seeds) + 2),
    ]
    for method in methods:
        values = {r["seed"]: r["proxy"] for r in rows if r["method"] == method}
        finite = [v for v in values.values() if math.isfinite(v)]
        mean = statistics.fmean(finite) if finite else math.nan
        spread = statistics.stdev(finite) if len(finite) > 1 else math.nan
        cells = " | ".join(f"{values.get(s, math.nan):.4f}" for s in seeds)
        lines.append(f"| {method} | {cells} | {mean:.4f} | {spread:.4f} |")
    path.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
