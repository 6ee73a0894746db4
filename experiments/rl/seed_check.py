"""How robust is a row of ``table.md`` to the evaluation seed? Re-evaluates trained variants
(best checkpoint) and the baselines on one design for several seeds, same protocol and budget
as ``run_experiment.py``, and writes ``seeds_<design>.md`` (the command under its title) /
``.json`` beside the results.

    OMP_NUM_THREADS=1 python experiments/rl/seed_check.py --design ariane133 --seeds 1,2 \\
        --variants full --methods greedy,random --out experiments/rl/results
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
from pathlib import Path
from typing import Any

import run_experiment  # noqa: F401 - first: it puts experiments/bench (_cli) on the path
from _cli import make_parser, name_list, positive_float, run, write_results
from run_experiment import baseline_final, eval_policy, load_named

#: baselines the check can run (run_experiment.py's)
METHODS = ("greedy", "random", "sa")


def _names(text: str) -> list[str]:
    """argparse type: comma-separated names, or none (an empty text)."""
    return name_list(text) if text.strip() else []


def _seeds(text: str) -> list[int]:
    """argparse type: comma-separated whole seeds >= 0, at least one."""
    try:
        seeds = [int(s) for s in _names(text)]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated whole numbers, got {text!r}") from None
    if not seeds or min(seeds) < 0:
        raise argparse.ArgumentTypeError(f"expected seeds >= 0, at least one, got {text!r}")
    return seeds


def main() -> None:
    from placer.rl.inference import load_model

    parser = make_parser(__doc__)
    parser.add_argument("--out", type=Path, required=True,
                        help="the experiment's folder (the recorded one: experiments/rl/results)")
    parser.add_argument("--design", default="ariane133", help="the design to evaluate on")
    parser.add_argument("--split", default="unseen", help="label of the design in the table")
    parser.add_argument("--seeds", type=_seeds, default=[1, 2], help="comma-separated evaluation seeds")
    parser.add_argument("--variants", type=_names, default=["full"],
                        help="comma-separated trained variants (their runs/<variant>), or ''")
    parser.add_argument("--methods", type=_names, default=["greedy"],
                        help=f"comma-separated baselines ({', '.join(METHODS)}), or ''")
    parser.add_argument("--eval-budget-s", type=positive_float, default=60.0,
                        help="seconds per method and seed")
    args = parser.parse_args()
    seeds = args.seeds
    if not args.variants + args.methods:
        parser.error("--variants and --methods name nothing to evaluate")
    unknown = [m for m in args.methods if m not in METHODS]
    if unknown:
        parser.error(f"--methods: unknown {', '.join(map(repr, unknown))}; choose from {', '.join(METHODS)}")
    missing = [v for v in args.variants if not (args.out / "runs" / v).is_dir()]
    if missing:
        parser.error(f"--variants: no training run {args.out / 'runs' / missing[0]}")
    design = load_named(args.design)[0]
    rows: list[dict[str, Any]] = []
    for variant in args.variants:
        run = args.out / "runs" / variant
        model = load_model(run, "cpu")
        for seed in seeds:
            row = eval_policy(
                model, run, design, args.split, f"rl[{variant}]", args.eval_budget_s, seed
            )
            rows.append(row | {"seed": seed})
    env_kwargs = {"max_nodes": max(256, design[0].hard_macros.size)}
    for method in args.methods:
        for seed in seeds:
            proxy = baseline_final(method, design, args.eval_budget_s, seed, env_kwargs)
            rows.append({"design": design[0].name, "method": method, "seed": seed, "proxy": proxy})
            print(rows[-1], flush=True)
    stem = args.out / f"seeds_{design[0].name}"
    # (write_results puts this command under the summary's title)
    write_results({stem.with_suffix(".json"): json.dumps(rows, indent=2),
                   stem.with_suffix(".md"): summary(rows, args.eval_budget_s)})
    print(stem.with_suffix(".md").read_text())


def summary(rows: list[dict[str, Any]], budget_s: float) -> str:
    """The Markdown summary: per method, the proxy for each seed, mean and spread."""
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
        spread = f"{statistics.stdev(finite):.4f}" if len(finite) > 1 else "n/a (one seed)"
        cells = " | ".join(f"{values.get(s, math.nan):.4f}" for s in seeds)
        lines.append(f"| {method} | {cells} | {mean:.4f} | {spread} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    run(main)
