"""The RL learning experiment: train, compare with baselines, ablate, and record the results.

For each variant (``full``, ``no_wiremask``, ``no_graph``) a policy is trained for at most
``--minutes`` of wall time (CPU, one torch thread) on the training designs (``--design``, by
default ibm01, plus ``--generated`` synthetic designs), then every method is evaluated with
the same wall-clock evaluation budget ``--eval-budget-s`` per design on the target design and
on a design never seen in training (``--unseen``, default the built-in ariane133):

* ``rl[variant]``: deterministic episode, then sampled episodes until the budget, best kept;
* ``random``: masked-random episodes through the same environment until the budget, best kept;
* ``greedy`` and ``sa`` from the placer registry (``sa`` gets the budget).

Outputs under ``--out`` (default ``experiments/rl/results``): ``runs/<variant>/`` (training
runs, resumable), ``learning_curves.png``, ``table.md`` and ``results.json``.

Full run (about 3 x 1 hour of training plus evaluation)::

    nice python experiments/rl/run_experiment.py --minutes 60

Smoke run (a minute or two)::

    python experiments/rl/run_experiment.py --design default --unseen generated:7 \\
        --generated 1 --minutes 0.3 --eval-budget-s 5 --variants full --out /tmp/rl_smoke
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from envs.macro_placement import MacroPlacementEnv
from netlists.model import Netlist, Placement
from placer.cost.proxy import evaluate

HERE = Path(__file__).resolve().parent
BENCHMARKS = Path(os.environ.get("PLACER_BENCHMARKS", "/work/shared/benchmarks"))
VARIANTS = {
    "full": {},
    "no_wiremask": {"use_wiremask": False},
    "no_graph": {"use_graph": False},
}

Design = tuple[Netlist, Placement]


def load_named(spec: str) -> tuple[Design, str | None]:
    """A design from ``ibm01`` (benchmark name), ``ariane133`` (built-in), ``default``,
    ``generated:SEED`` or a path; returns the design and its file path when it has one."""
    from netlists.designs import load_builtin
    from netlists.generate import default_design, generate
    from netlists.io import load_design

    if spec == "default":
        return default_design(), None
    if spec.startswith("generated:"):
        return generate(24, 96, 48, seed=int(spec.split(":", 1)[1])), None
    if spec == "ariane133":
        return load_builtin("ariane133"), None
    if spec.startswith("ibm"):
        folder = BENCHMARKS / "iccad04" / spec
        path = folder / "netlist.pb.txt"
        if not path.exists():
            path = folder / "netlist.pb.txt.gz"
        return load_design(path), str(path)
    return load_design(spec), spec


def best_random(
    design: Design, budget_s: float, seed: int, env_kwargs: dict[str, Any]
) -> tuple[float, int]:
    """Best proxy of masked-random episodes within ``budget_s`` (at least one episode)."""
    env = MacroPlacementEnv(design, **env_kwargs)
    rng = np.random.default_rng(seed)
    best, episodes, t0 = math.inf, 0, time.perf_counter()
    while episodes == 0 or time.perf_counter() - t0 < budget_s:
        env.reset(seed=seed + episodes)
        done, info = False, {}
        while not done:
            _, _, done, _, info = env.step(int(rng.choice(np.flatnonzero(env.action_masks()))))
        if "cost" in info:
            best = min(best, info["cost"]["proxy"])
        episodes += 1
    return best, episodes


def eval_policy(
    model: Any, run: Path, design: Design, split: str, method: str, budget_s: float, seed: int
) -> dict[str, Any]:
    """One results row: the policy's deterministic episode, then sampled ones until ``budget_s``."""
    from placer.algorithms.base import Deadline
    from placer.rl.inference import env_for_model, place_with_policy

    env = env_for_model(model, *design, model_path=run)
    t0 = time.perf_counter()
    _, info = place_with_policy(model, env, samples=10**6, seed=seed, deadline=Deadline(budget_s))
    row = {
        "design": design[0].name,
        "split": split,
        "method": method,
        "proxy": info.get("cost", {}).get("proxy", math.inf),
        "eval_s": time.perf_counter() - t0,
    }
    print(row, flush=True)
    return row


def eval_placer(name: str, design: Design, budget_s: float, seed: int, **options: Any) -> float:
    from placer.algorithms.base import get_placer

    netlist, placement = design
    result = get_placer(name, **options).place(netlist, placement, budget_s, seed)
    return evaluate(netlist, result).proxy


def plot_curves(runs: dict[str, Path], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import pandas as pd

    fig, ax = plt.subplots(figsize=(7, 4))
    for variant, run in runs.items():
        path = run / "curve.csv"
        if not path.exists():
            continue
        df = pd.read_csv(path)
        ax.plot(
            df["steps"], df["train_mean_proxy"], label=f"{variant} (train episodes, mean of 50)"
        )
        ax.plot(df["steps"], df["eval_proxy"], "--", label=f"{variant} (deterministic eval)")
    ax.set_xlabel("environment steps")
    ax.set_ylabel("proxy cost")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    plt.close(fig)


def main() -> None:
    from placer.rl.inference import load_model
    from placer.rl.train import TrainConfig, generated_designs, train

    parser = argparse.ArgumentParser(description="RL learning experiment (see module docstring)")
    parser.add_argument("--design", default="ibm01")
    parser.add_argument("--unseen", default="ariane133")
    parser.add_argument("--generated", type=int, default=0, help="extra synthetic training designs")
    parser.add_argument(
        "--minutes", type=float, default=60.0, help="training wall time per variant"
    )
    parser.add_argument("--eval-budget-s", type=float, default=60.0)
    parser.add_argument("--variants", default="full,no_wiremask,no_graph")
    parser.add_argument("--n-envs", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=HERE / "results")
    parser.add_argument(
        "--table-only", action="store_true", help="rewrite table.md from results.json"
    )
    args = parser.parse_args()
    if args.table_only:
        rewrite_table(args.out)
        print((args.out / "table.md").read_text())
        return

    target, target_path = load_named(args.design)
    unseen, _ = load_named(args.unseen)
    train_designs = [target] + generated_designs(args.generated, args.seed + 1000)
    args.out.mkdir(parents=True, exist_ok=True)
    max_nodes = max(256, target[0].hard_macros.size, unseen[0].hard_macros.size)
    runs: dict[str, Path] = {}
    rows: list[dict[str, Any]] = []
    env_kwargs = {"max_nodes": max_nodes}

    for variant in args.variants.split(","):
        run = args.out / "runs" / variant
        runs[variant] = run
        cfg = TrainConfig(
            out=str(run),
            timesteps=10**9,
            n_envs=args.n_envs,
            device="auto",
            seed=args.seed,
            time_limit_s=args.minutes * 60,
            checkpoint_every=20_000,
            eval_every=5_000,
            max_nodes=max_nodes,
            **VARIANTS[variant],
        )
        if (run / "done.json").exists():
            print(f"{variant}: already trained")
        else:
            t0 = time.perf_counter()
            train(
                cfg, progress_bar=False, designs=train_designs, resume=(run / "last.zip").exists()
            )
            (run / "done.json").write_text(json.dumps({"train_s": time.perf_counter() - t0}))
        model = load_model(run, "cpu")
        for label, design in (("target", target), ("unseen", unseen)):
            rows.append(
                eval_policy(
                    model, run, design, label, f"rl[{variant}]", args.eval_budget_s, args.seed
                )
            )  # eval_policy prints its row

    for label, design in (("target", target), ("unseen", unseen)):
        t0 = time.perf_counter()
        proxy, episodes = best_random(design, args.eval_budget_s, args.seed, env_kwargs)
        rows.append(
            {
                "design": design[0].name,
                "split": label,
                "method": "random",
                "proxy": proxy,
                "eval_s": time.perf_counter() - t0,
                "episodes": episodes,
            }
        )
        for name in ("greedy", "sa"):
            t0 = time.perf_counter()
            try:
                proxy = eval_placer(name, design, args.eval_budget_s, args.seed)
            except KeyError as exc:  # placer not installed
                print(f"skipping {name}: {exc}")
                continue
            rows.append(
                {
                    "design": design[0].name,
                    "split": label,
                    "method": name,
                    "proxy": proxy,
                    "eval_s": time.perf_counter() - t0,
                }
            )
        print(rows[-3:])

    plot_curves(runs, args.out / "learning_curves.png")
    (args.out / "results.json").write_text(
        json.dumps({"args": {k: str(v) for k, v in vars(args).items()}, "rows": rows}, indent=2)
    )
    write_table(rows, args, args.out / "table.md")
    print((args.out / "table.md").read_text())


def _relative(value: float, reference: float) -> str:
    if not (math.isfinite(value) and math.isfinite(reference) and reference):
        return "n/a"
    return f"{(value / reference - 1) * 100:+.1f}%"


def write_table(rows: list[dict[str, Any]], args: argparse.Namespace, path: Path) -> None:
    """The results table; ``rl[variant]`` rows use the run's best evaluated checkpoint (its
    step is given), ``... last`` rows (from ``eval_last.py``) the last one."""
    extra = path.parent / "last_checkpoint.json"
    rows = rows + (json.loads(extra.read_text()) if extra.exists() else [])
    lines = [
        "# RL placement: trained policy vs baselines",
        "",
        f"Training: at most {args.minutes:g} min per variant on {args.design}"
        + (f" + {args.generated} synthetic designs" if args.generated else "")
        + f"; evaluation budget {args.eval_budget_s:g} s per method and design; seed {args.seed}. "
        "`rl[v]` is the variant's best evaluated checkpoint, `rl[v] last` its last one; both take "
        "the deterministic episode, then sampled episodes until the budget, best kept. "
        "`inf`: every episode was infeasible (a macro found no legal cell).",
        "",
        "| design | split | method | proxy | vs random | vs greedy | vs sa | eval s |",
        "|---|---|---|---:|---:|---:|---:|---:|",
    ]
    for split in ("target", "unseen"):
        sub = [r for r in rows if r["split"] == split]
        ref = {
            m: next((r["proxy"] for r in sub if r["method"] == m), math.nan)
            for m in ("random", "greedy", "sa")
        }
        for r in sub:
            method = r["method"]
            best = (
                args.out / "runs" / method[3:-1] / "best.json"
                if method.startswith("rl[") and method.endswith("]")
                else None
            )
            if best is not None and best.exists():
                method += f" (step {json.loads(best.read_text())['steps']})"
            lines.append(
                f"| {r['design']} | {split} | {method} | {r['proxy']:.4f} | {_relative(r['proxy'], ref['random'])} | "
                f"{_relative(r['proxy'], ref['greedy'])} | {_relative(r['proxy'], ref['sa'])} | {r['eval_s']:.1f} |"
            )
    path.write_text("\n".join(lines) + "\n")


def rewrite_table(out: Path) -> None:
    """Write ``table.md`` again from ``results.json`` (and ``last_checkpoint.json``)."""
    data = json.loads((out / "results.json").read_text())
    a = data["args"]
    args = argparse.Namespace(
        minutes=float(a["minutes"]),
        design=a["design"],
        generated=int(a["generated"]),
        eval_budget_s=float(a["eval_budget_s"]),
        seed=int(a["seed"]),
        out=out,
    )
    write_table(data["rows"], args, out / "table.md")


if __name__ == "__main__":
    main()
