"""Training-seed study: how much does the trained policy's result move with the training seed?

``run_experiment.py`` trained one seed per variant, for a wall-clock time. This script trains
the ``full`` variant for a fixed number of environment steps (not minutes: the load of a shared
machine does not change the result) once per training seed, on the recorded run's training
set (ibm01, ibm06, ibm09, mempool_tile and the same 4 synthetic designs), then evaluates each
seed's *final* model (``last.zip``: no checkpoint chosen with hindsight) by its deterministic
episode on each evaluation design (default ibm01, trained on, and ariane133, never seen). The
figure is the *FD proxy*: the policy's hard macros, the soft macros force-directed (the
environment's reward placement); it does not depend on the machine's load. Beside it the same
seed's untrained policy (its ``checkpoints/step_0.zip``: what training changed), and, for
reference, the same figure of ``greedy`` (its own force-directed soft macros) and of a
masked-random policy (the best and the mean of a fixed number of episodes, not seconds).

Outputs under ``--out`` (required): ``table.md`` (one row per seed, then mean, sample standard
deviation, min and max; the command under the title), ``results.json`` (every figure) and
``curves/`` (each seed's ``curve.csv``, its in-training evaluations on the first training
design, and ``best.json``, their best; small files to keep beside the table). Each
seed trains in ``RUNS/seed_<seed>/`` (``--runs``, default ``OUT/runs``); after a kill, rerun the
same command: a finished seed is not trained again, an unfinished one resumes from its last
checkpoint (every 2048 steps). A progress line is printed per seed.

The recorded study (experiments/rl/README.md; 14-23 minutes per seed, 13-22 steps/s as the load
of the shared 2-core machine went, 63 minutes in all)::

    OMP_NUM_THREADS=1 python experiments/rl/train_seeds.py --seeds 0,1,2 --timesteps 18432 \\
        --out experiments/rl/results/train_seeds --runs /tmp/rlseeds/train_seeds_runs

A smoke run (a minute)::

    python experiments/rl/train_seeds.py --designs default --generated 0 --eval-designs \\
        default,generated:7 --seeds 0,1 --timesteps 256 --n-steps 128 --random-episodes 2 --out /tmp/seeds
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
from pathlib import Path
from typing import Any

import numpy as np
import run_experiment  # noqa: F401 - first: it puts experiments/bench (_cli) on the path
from _cli import (
    command_line,
    make_parser,
    name_list,
    non_negative_int,
    output_folder,
    positive_int,
    run,
    write_results,
)
from run_experiment import (
    VARIANTS,
    Design,
    TrainingTime,
    eval_placer,
    keep_curves,
    load_named,
    masked_random_episode,
)

#: The recorded run's training set (experiments/rl/README.md): these designs of the shared suite,
#: plus GENERATED synthetic ones made from GENERATED_SEED (its ``--seed 0`` + 1000).
TRAIN_DESIGNS = ["ibm01", "ibm06", "ibm09", "mempool_tile"]
GENERATED = 4
GENERATED_SEED = 1000
#: The recorded run's checkpoint and evaluation intervals (a kill loses at most 2048 steps).
CHECKPOINT_EVERY = 2_048
EVAL_EVERY = 5_000
#: greedy's budget: far above what its placement and force-directed step take, so that no
#: deadline cuts them on a loaded machine (its figure stays load-independent).
GREEDY_BUDGET_S = 3_600.0


def _seeds(text: str) -> list[int]:
    """argparse type: comma-separated whole training seeds from 0 to 2**32 - 1, none twice."""
    try:
        seeds = [int(s) for s in name_list(text)]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated whole numbers, got {text!r}") from None
    if min(seeds) < 0 or max(seeds) > 2**32 - 1:
        raise argparse.ArgumentTypeError(f"expected seeds from 0 to {2**32 - 1}, got {text!r}")
    return seeds


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line; refuses, in one line before any work, a step count that is not a whole
    number of rollouts (SB3 would run past it, and a rerun would find the run beyond its
    ``timesteps``)."""
    parser = make_parser(__doc__)
    parser.add_argument("--out", type=output_folder, required=True,
                        help="folder of table.md and results.json (required: never the recorded one by default)")
    parser.add_argument("--runs", type=output_folder, help="folder of the seeds' training runs (default: OUT/runs)")
    parser.add_argument("--seeds", type=_seeds, default=[0, 1, 2], help="comma-separated training seeds")
    parser.add_argument("--timesteps", type=positive_int, default=18_432,
                        help="environment steps per seed (a multiple of --n-steps x --n-envs)")
    parser.add_argument("--designs", type=name_list, default=TRAIN_DESIGNS,
                        help="comma-separated training designs (names of the shared suite, default, "
                             "generated:SEED, ariane133 or files)")
    parser.add_argument("--generated", type=non_negative_int, default=GENERATED,
                        help="synthetic training designs added to --designs")
    parser.add_argument("--generated-seed", type=non_negative_int, default=GENERATED_SEED,
                        help="seed of the synthetic designs (the recorded run's; not the training seed)")
    parser.add_argument("--eval-designs", type=name_list, default=["ibm01", "ariane133"],
                        help="comma-separated designs the final models are evaluated on")
    parser.add_argument("--n-steps", type=positive_int, default=1024, help="rollout steps per environment")
    parser.add_argument("--n-envs", type=positive_int, default=2, help="training environments")
    parser.add_argument("--random-episodes", type=positive_int, default=32,
                        help="masked-random episodes per evaluation design")
    parser.add_argument("--eval-seed", type=non_negative_int, default=0,
                        help="seed of the masked-random episodes and of the policy's env reset")
    args = parser.parse_args(argv)
    rollout = args.n_steps * args.n_envs
    if args.timesteps % rollout:
        parser.error(f"--timesteps {args.timesteps} is not a multiple of --n-steps x --n-envs ({rollout}): "
                     f"training would run to {-(-args.timesteps // rollout) * rollout}; give that or "
                     f"{args.timesteps // rollout * rollout or rollout}")
    if args.runs is None:
        args.runs = args.out / "runs"
    return args


def main() -> None:
    from placer.interrupts import sigterm_as_interrupt
    from placer.rl.train import generated_designs

    args = parse_args()
    train_designs = [load_named(name)[0] for name in args.designs]
    train_designs += generated_designs(args.generated, args.generated_seed)
    eval_designs = {name: load_named(name)[0] for name in args.eval_designs}
    max_nodes = max(256, *(d[0].hard_macros.size for d in [*train_designs, *eval_designs.values()]))
    seeds = []
    with sigterm_as_interrupt():  # a plain kill saves the run under way, like Ctrl-C
        for k, seed in enumerate(args.seeds):
            config = train_config(args, seed, max_nodes)
            status, train_s = train_seed(config, train_designs)
            run_folder = Path(config.out)
            seeds.append({"seed": seed, "status": status, "train_s": train_s,
                          "steps": model_steps(run_folder / "last.zip"),
                          "fd": evaluate_model(run_folder / "last.zip", eval_designs, args.eval_seed),
                          "step_0_fd": evaluate_model(run_folder / "checkpoints" / "step_0.zip", eval_designs,
                                                      args.eval_seed)})
            print(progress_line(seeds[-1], k, len(args.seeds)), flush=True)
        baselines = {name: reference_figures(design, train_config(args, 0, max_nodes).env_kwargs(), args)
                     for name, design in eval_designs.items()}
    args.out.mkdir(parents=True, exist_ok=True)
    keep_curves({f"seed_{seed['seed']}": args.runs / f"seed_{seed['seed']}" for seed in seeds}, args.out)
    trained_on = {d[0].name for d in train_designs}
    splits = {name: "trained on" if design[0].name in trained_on else "never seen"
              for name, design in eval_designs.items()}
    results = summarise(args, seeds, baselines, splits)
    write_results({args.out / "table.md": table(results), args.out / "results.json": to_json(results)})
    print((args.out / "table.md").read_text())


def train_config(args: argparse.Namespace, seed: int, max_nodes: int) -> Any:
    """The ``full`` variant's training settings for ``seed``: ``run_experiment.py``'s, with a
    step count in place of its time limit."""
    from placer.rl.config import TrainConfig

    return TrainConfig(out=str(args.runs / f"seed_{seed}"), timesteps=args.timesteps, n_envs=args.n_envs,
                       n_steps=args.n_steps, device="cpu", seed=seed, checkpoint_every=CHECKPOINT_EVERY,
                       eval_every=EVAL_EVERY, max_nodes=max_nodes, **VARIANTS["full"])


def train_seed(config: Any, designs: list[Design]) -> tuple[str, float]:
    """Train ``config``'s run to its ``timesteps`` (resuming its last checkpoint, if any); a run
    that reached them is not trained again (the train API still checks its settings and
    designs). Returns how it went (``trained``, ``resumed`` or ``already trained``) and its
    training seconds over every segment (load-dependent, for the record)."""
    from placer.rl.run_folder import read_run_json, write_run_json
    from placer.rl.train import train

    run = Path(config.out)
    done = run / "done.json"
    finished = done.exists() and read_run_json(done).get("steps") == config.timesteps
    resume = (run / "last.zip").exists()
    ledger = TrainingTime(run, {"seed": config.seed})
    if finished:
        train(config, progress_bar=False, designs=designs, resume=True, verbose=0)  # checks only
        return "already trained", ledger.spent
    with ledger.segment():
        train(config, progress_bar=False, designs=designs, resume=resume, verbose=0)
    write_run_json(done, {"steps": config.timesteps, "train_s": ledger.spent})
    return ("resumed" if resume else "trained"), ledger.spent


def model_steps(path: Path) -> int:
    """The steps a saved model was trained for."""
    from placer.rl.inference import load_model

    return int(load_model(path, "cpu").num_timesteps)


def evaluate_model(path: Path, designs: dict[str, Design], seed: int) -> dict[str, dict[str, float]]:
    """A run's saved model (its final ``last.zip``, or ``checkpoints/step_0.zip``: the same
    seed's untrained policy) on each design: its deterministic episode's cost (``proxy`` and
    its parts, FD soft macros); ``inf`` where a macro found no legal cell."""
    from placer.device import torch_threads
    from placer.rl.inference import env_for_model, load_model, place_with_policy

    model = load_model(path, "cpu")
    figures = {}
    with torch_threads("cpu", 1):
        for name, (netlist, placement) in designs.items():
            env = env_for_model(model, netlist, placement, model_path=path)
            _, info = place_with_policy(model, env, samples=0, seed=seed)
            figures[name] = cost_figures(info)
    return figures


def cost_figures(info: dict[str, Any]) -> dict[str, float]:
    """An episode's proxy and its parts, from its last step's ``info`` (``inf`` when infeasible)."""
    cost = info.get("cost", {})
    return {key: float(cost.get(key, math.inf)) for key in ("proxy", "wirelength", "density", "congestion")}


def reference_figures(design: Design, env_kwargs: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    """greedy's FD proxy and the masked-random policy's (``--random-episodes`` episodes in the
    policy's environment: the best and the mean of the feasible ones, every episode's kept)."""
    from envs.macro_placement import MacroPlacementEnv

    env = MacroPlacementEnv(design, **env_kwargs)
    rng = np.random.default_rng(args.eval_seed)
    episodes = [cost_figures(masked_random_episode(env, rng, args.eval_seed + k))["proxy"]
                for k in range(args.random_episodes)]
    feasible = [p for p in episodes if math.isfinite(p)]
    return {"greedy": eval_placer("greedy", design, GREEDY_BUDGET_S, args.eval_seed),
            "random_best": min(episodes),
            "random_mean": statistics.fmean(feasible) if feasible else math.inf,
            "random_episodes": episodes}


def progress_line(seed: dict[str, Any], k: int, n: int) -> str:
    """``seed 1 (2/3): trained, 18432 steps in 1210 s (15.2 steps/s); final model FD: ibm01 1.3237
    (step 0: 1.3198), ...``."""
    rate = f" ({seed['steps'] / seed['train_s']:.1f} steps/s)" if seed["train_s"] > 0 else ""
    figures = ", ".join(f"{name} {f['proxy']:.4f} (step 0: {seed['step_0_fd'][name]['proxy']:.4f})"
                        for name, f in seed["fd"].items())
    return (f"seed {seed['seed']} ({k + 1}/{n}): {seed['status']}, {seed['steps']} steps in "
            f"{seed['train_s']:.0f} s{rate}; final model FD: {figures}")


def summarise(args: argparse.Namespace, seeds: list[dict[str, Any]], baselines: dict[str, Any],
              splits: dict[str, str]) -> dict[str, Any]:
    """Everything the table and the JSON hold: the settings (with each evaluation design's
    split: trained on or never seen), each seed's figures, their statistics per evaluation
    design, and the reference figures."""
    stats: dict[str, dict[str, dict[str, float]]] = {"fd": {}, "step_0_fd": {}}
    for model, per_design in stats.items():
        for name in baselines:
            values = [s[model][name]["proxy"] for s in seeds]
            per_design[name] = {"mean": statistics.fmean(values),
                                "std": statistics.stdev(values) if len(values) > 1 else math.nan,
                                "min": min(values), "max": max(values)}
    settings = {"variant": "full", "timesteps": args.timesteps, "n_steps": args.n_steps, "n_envs": args.n_envs,
                "designs": args.designs, "generated": args.generated, "generated_seed": args.generated_seed,
                "eval_designs": args.eval_designs, "random_episodes": args.random_episodes,
                "eval_seed": args.eval_seed, "eval_splits": splits}
    return {"command": command_line(), "settings": settings, "seeds": seeds, "stats": stats,
            "baselines": baselines}


def to_json(results: dict[str, Any]) -> str:
    """Strict JSON: a missing or infeasible figure (NaN, inf) is null."""
    def strict(value: Any) -> Any:
        if isinstance(value, float) and not math.isfinite(value):
            return None
        if isinstance(value, dict):
            return {k: strict(v) for k, v in value.items()}
        if isinstance(value, list):
            return [strict(v) for v in value]
        return value

    return json.dumps(strict(results), indent=2, allow_nan=False) + "\n"


def _cell(value: float) -> str:
    return "-" if math.isnan(value) else "inf" if math.isinf(value) else f"{value:.4f}"


def _versus(value: float, reference: float) -> str:
    if not (math.isfinite(value) and math.isfinite(reference) and reference):
        return ""
    return f"{(value / reference - 1) * 100:+.1f} %"


def table(results: dict[str, Any]) -> str:
    """The Markdown tables, the final models' then the untrained ones' (``write_results`` puts
    the command under the title)."""
    s, baselines = results["settings"], results["baselines"]
    designs = list(baselines)
    trained = ", ".join(s["designs"]) + (f" + {s['generated']} synthetic (seed {s['generated_seed']})"
                                         if s["generated"] else "")
    heads = " | ".join(f"{d} ({s['eval_splits'][d]}) FD | vs greedy | vs step 0" for d in designs)
    lines = [
        f"# Training-seed study: rl[full], final model after {s['timesteps']} steps",
        "",
        f"Each training seed trains the `full` variant for {s['timesteps']} environment steps (a fixed count, "
        f"not a time; n_envs {s['n_envs']}, n_steps {s['n_steps']}) on {trained}. Its *final* model (no "
        "checkpoint chosen) places the hard macros in one deterministic episode; *FD*: the proxy of that "
        "placement with force-directed soft macros (the environment's reward placement; no refine step, "
        "no timing: the figures do not depend on the machine's load). *vs step 0*: against the same seed's "
        "untrained policy (its `checkpoints/step_0.zip`, second table; the mean row: mean against mean). "
        "`greedy`: the greedy placer with its force-directed soft macros. `random`: "
        f"{s['random_episodes']} masked-random episodes in the same environment (seed {s['eval_seed']}), the "
        "best and the mean. *train s*: training wall time (load-dependent, for the record).",
        "",
        f"| training seed | steps | {heads} | train s |",
        "|---|---:|" + "---:|---:|---:|" * len(designs) + "---:|",
    ]
    for seed in results["seeds"]:
        cells = " | ".join(f"{_cell(seed['fd'][d]['proxy'])} | {_versus(seed['fd'][d]['proxy'], baselines[d]['greedy'])}"
                           f" | {_versus(seed['fd'][d]['proxy'], seed['step_0_fd'][d]['proxy'])}" for d in designs)
        lines.append(f"| {seed['seed']} | {seed['steps']} | {cells} | {seed['train_s']:.0f} |")
    lines += _stat_rows(results, "fd", designs, with_change=True)
    for key, label in (("greedy", "greedy"), ("random_best", f"random, best of {s['random_episodes']}"),
                       ("random_mean", f"random, mean of {s['random_episodes']}")):
        cells = " | ".join(f"{_cell(baselines[d][key])} | "
                           f"{'' if key == 'greedy' else _versus(baselines[d][key], baselines[d]['greedy'])} | "
                           for d in designs)
        lines.append(f"| {label} | | {cells} | |")
    lines += [
        "",
        "The same seeds' untrained policies (`checkpoints/step_0.zip`), evaluated alike:",
        "",
        "| training seed | " + " | ".join(f"{d} FD | vs greedy" for d in designs) + " |",
        "|---|" + "---:|---:|" * len(designs),
    ]
    for seed in results["seeds"]:
        cells = " | ".join(f"{_cell(seed['step_0_fd'][d]['proxy'])} | "
                           f"{_versus(seed['step_0_fd'][d]['proxy'], baselines[d]['greedy'])}" for d in designs)
        lines.append(f"| {seed['seed']} | {cells} |")
    lines += _stat_rows(results, "step_0_fd", designs, with_change=False)
    return "\n".join(lines) + "\n"


def _stat_rows(results: dict[str, Any], model: str, designs: list[str], with_change: bool) -> list[str]:
    """The mean, sample std, min and max rows of ``model``'s figures (``fd``: the final models,
    with the steps and train s columns and, ``with_change``, the mean against the untrained
    mean; ``step_0_fd``: the untrained ones)."""
    stats, greedy = results["stats"], {d: results["baselines"][d]["greedy"] for d in designs}
    rows = []
    for stat, label in (("mean", "mean"), ("std", "std (sample)"), ("min", "min"), ("max", "max")):
        cells = []
        for d in designs:
            value = stats[model][d][stat]
            cell = f"{_cell(value)} | {'' if stat == 'std' else _versus(value, greedy[d])}"
            if with_change:
                cell += f" | {_versus(value, stats['step_0_fd'][d]['mean']) if stat == 'mean' else ''}"
            cells.append(cell)
        rows.append(f"| {label} | | {' | '.join(cells)} | |" if with_change else f"| {label} | {' | '.join(cells)} |")
    return rows


if __name__ == "__main__":
    run(main)
