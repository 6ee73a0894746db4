"""Evaluate the *last* checkpoint of each trained variant (``run_experiment.py`` evaluates the
best deterministic checkpoint, which is the untrained policy when training never beat it).

    python experiments/rl/eval_last.py --out experiments/rl/results [--variants full,no_wiremask,no_graph]

Same protocol as ``run_experiment.py``: deterministic episode, then sampled episodes until
``--eval-budget-s``, best kept; adds its rows to ``last_checkpoint.json`` beside the results
(re-evaluated variants replace their rows).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from run_experiment import HERE, eval_policy, load_named


def main() -> None:
    from placer.rl.inference import load_model

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=HERE / "results")
    parser.add_argument("--design", default="ibm01")
    parser.add_argument("--unseen", default="ariane133")
    parser.add_argument("--variants", default="full,no_wiremask,no_graph")
    parser.add_argument("--eval-budget-s", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rows = []
    designs = (("target", load_named(args.design)[0]), ("unseen", load_named(args.unseen)[0]))
    for variant in args.variants.split(","):
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


if __name__ == "__main__":
    main()
