"""Evaluate the *last* checkpoint of each trained variant (``run_experiment.py`` evaluates the
best deterministic checkpoint, which is the untrained policy when training never beat it).

    python experiments/rl/eval_last.py --out experiments/rl/results [--variants full,no_wiremask,no_graph]

Same protocol as ``run_experiment.py``: deterministic episode, then sampled episodes for half
of ``--eval-budget-s``, best kept, its soft macros refined for the rest; adds its rows to ``last_checkpoint.json`` beside the results
(re-evaluated variants replace their rows).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import run_experiment  # noqa: F401 - first: it puts experiments/bench (_cli) on the path
from _cli import make_parser, name_list, non_negative_int, positive_float, run
from run_experiment import VARIANTS, eval_policy, load_named


def main() -> None:
    from placer.rl.inference import load_model

    parser = make_parser(__doc__)
    parser.add_argument("--out", type=Path, required=True,
                        help="the experiment's folder (the recorded one: experiments/rl/results)")
    parser.add_argument("--design", help="default: the experiment's own (its results.json), else ibm01")
    parser.add_argument("--unseen", help="default: the experiment's own, else ariane133")
    parser.add_argument("--variants", type=name_list, default=["full", "no_wiremask", "no_graph"],
                        help="comma-separated variants (their runs/<variant>/last.zip)")
    parser.add_argument("--eval-budget-s", type=positive_float,
                        help="default: the experiment's own, else 60")
    parser.add_argument("--seed", type=non_negative_int, help="default: the experiment's own, else 0")
    args = parser.parse_args()
    if not args.out.is_dir():
        parser.error(f"--out {args.out}: no such experiment folder")
    unknown = [v for v in args.variants if v not in VARIANTS]
    if unknown:  # (a misspelt variant was "skipped", exit 0)
        parser.error(f"--variants: unknown {', '.join(map(repr, unknown))}; choose from {', '.join(VARIANTS)}")
    _take_the_experiments_settings(parser, args)
    rows = []
    designs = (("target", load_named(args.design)[0]), ("unseen", load_named(args.unseen)[0]))
    for variant in args.variants:
        run = args.out / "runs" / variant
        if not (run / "last.zip").exists():
            print(f"{variant}: no last.zip, skipped")
            continue
        model = load_model(run / "last.zip", "cpu")
        steps = int(model.num_timesteps)
        for split, design in designs:
            method = f"rl[{variant}] last ({steps} steps)"
            rows.append(
                eval_policy(model, run, design, split, method, args.eval_budget_s, args.seed)
            )
    path = args.out / "last_checkpoint.json"
    done = {r["method"].split("]")[0] for r in rows}  # re-evaluated variants replace theirs
    earlier = json.loads(path.read_text()) if path.exists() else []
    kept = [r for r in earlier if r["method"].split("]")[0] not in done]
    path.write_text(json.dumps(kept + rows, indent=2))


#: The settings the last checkpoints must be evaluated with to stand beside the experiment's
#: rows (its baselines were measured with them), and their defaults without a results.json.
SHARED = {"design": "ibm01", "unseen": "ariane133", "eval_budget_s": 60.0, "seed": 0}


def _take_the_experiments_settings(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Fill the unset :data:`SHARED` settings from ``OUT/results.json`` and refuse given ones
    that differ: rows evaluated on another design, budget or seed were compared with the
    experiment's baselines as if measured alike."""
    results = args.out / "results.json"
    recorded = json.loads(results.read_text()).get("args", {}) if results.exists() else {}
    for name, default in SHARED.items():
        given, kind = getattr(args, name), type(default)
        then = kind(recorded[name]) if name in recorded else None
        if given is not None and then is not None and kind(given) != then:
            parser.error(f"--{name.replace('_', '-')} {given} differs from the experiment's {then} "
                         f"({results}): its baselines were measured with {then}")
        setattr(args, name, given if given is not None else then if then is not None else default)


if __name__ == "__main__":
    run(main)
