"""The RL learning experiment: train, compare with baselines, ablate, and record the results.

For each variant (``full``, ``no_wiremask``, ``no_graph``) a policy is trained for
``--minutes`` of wall time (CPU, one torch thread; the PPO update under way at the limit
finishes) on the training designs (``--design``, by default ibm01, plus ``--generated``
synthetic designs), then every method is evaluated with
the same wall-clock evaluation budget ``--eval-budget-s`` per design on the target design and
on a design never seen in training (``--unseen``, default the built-in ariane133):

* ``rl[variant]``: deterministic episode, then sampled episodes for half the budget, best
  kept, its soft macros then refined with the exact proxy for the rest;
* ``random``: masked-random episodes through the same environment for half the budget, best
  kept, refined the same way;
* ``greedy`` (placed once, refined the same way) and ``sa`` (annealing from ``initial.plc``
  for the whole budget) from the placer registry.

Outputs under ``--out`` (required; the recorded experiment is ``experiments/rl/results``):
``runs/<variant>/`` (training runs, resumable), ``curves/`` (each run's curve and best record,
small enough to commit), ``learning_curves.png``, ``table.md`` and ``results.json``.

Full run (about 3 x 1 hour of training plus evaluation; the recorded one, its three variants
trained side by side first, is in experiments/rl/README.md)::

    nice python experiments/rl/run_experiment.py --minutes 55 --extra ibm06,ibm09,mempool_tile \\
        --generated 4 --eval-budget-s 60 --out RESULTS

Smoke run (a minute or two)::

    python experiments/rl/run_experiment.py --design default --unseen generated:7 \\
        --generated 1 --minutes 0.3 --eval-budget-s 5 --variants full --out /tmp/rl_smoke
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))  # the scripts' _cli
from _cli import DEFAULT_SUITE, command_line, make_parser  # noqa: E402

from envs.macro_placement import MacroPlacementEnv
from netlists.model import Netlist, Placement
from placer.cost.proxy import evaluate

BENCHMARKS = DEFAULT_SUITE  # $PLACER_BENCHMARKS, else ../shared/benchmarks beside the repository
VARIANTS = {
    "full": {},
    "no_wiremask": {"use_wiremask": False},
    "no_graph": {"use_graph": False},
}

Design = tuple[Netlist, Placement]


#: Per run: the training seconds spent so far and, while a segment runs, when it started.
TRAINING_TIME = "training_time.json"


class TrainingTime:
    """The wall seconds a run has trained, over every invocation: ``--minutes`` is a variant's
    whole training, not each resume's (a run stopped k times trained up to k + 1 times it, and
    done.json named the last segment only). A segment ended by a ``kill -9`` counts up to
    its last checkpoint (the work after it is redone); a run folder from before the ledger
    starts from its curve's wall time. Read only when no other live process holds the folder (a
    second command took the live run's open segment for a killed one); ``_train_variant``
    reads it under the folder's lock, held until done.json."""

    def __init__(self, run: Path, trained_with: dict[str, Any]) -> None:
        from placer.folder_lock import check_not_busy
        from placer.rl.run_folder import curve_wall_time, read_run_json

        check_not_busy(run)  # FolderBusy naming the live run
        self.path = run / TRAINING_TIME
        self.trained_with = trained_with
        record = read_run_json(self.path) if self.path.exists() else {"train_s": curve_wall_time(run)}
        started = record.get("segment_started")
        for key, value, optional in (("train_s", record.get("train_s", 0.0), False),
                                     ("segment_started", started, True)):
            if not (optional and value is None) and (isinstance(value, bool) or not isinstance(value, int | float)):
                raise ValueError(f"{self.path}: damaged ({key} is {value!r}, not a number); restore it or "
                                 "remove the run folder to train again")
        self.spent = float(record.get("train_s", 0.0))
        if started is not None:  # a segment that never closed: killed
            saved = [p.stat().st_mtime for p in (run / "last_state.pkl", run / "last.zip") if p.exists()]
            self.spent += max(0.0, max(saved, default=started) - float(started))
            self._write(None)

    def _write(self, segment_started: float | None) -> None:
        from placer.rl.run_folder import write_run_json

        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_run_json(self.path, {"train_s": self.spent, "trained_with": self.trained_with,
                                  **({} if segment_started is None else {"segment_started": segment_started})})

    @contextmanager
    def segment(self) -> Iterator[None]:
        """Count the time inside the block (also when it ends by Ctrl-C or an error)."""
        started, clock = time.time(), time.perf_counter()
        self._write(started)
        try:
            yield
        finally:
            self.spent += time.perf_counter() - clock
            self._write(None)


def load_named(spec: str) -> tuple[Design, str | None]:
    """A design from ``ibm01`` (benchmark name), ``ariane133`` (built-in), ``default``,
    ``generated:SEED`` or a path; returns the design and its file path when it has one."""
    from netlists.designs import load_builtin
    from netlists.generate import default_design, generate
    from netlists.io import load_design

    if spec == "default":
        return default_design(), None
    if spec.startswith("generated:"):
        seed = spec.split(":", 1)[1]
        if not seed.isdigit():
            raise ValueError(f"design {spec!r}: expected generated:SEED with a whole SEED >= 0")
        return generate(24, 96, 48, seed=int(seed)), None
    if spec == "ariane133":
        return load_builtin("ariane133"), None
    for suite in ("iccad04", "ng45"):
        folder = BENCHMARKS / suite / spec
        if folder.is_dir():
            path = folder / "netlist.pb.txt"
            if not path.exists():
                path = folder / "netlist.pb.txt.gz"
            return load_design(path), str(path)
    if not Path(spec).exists():
        raise ValueError(
            f"design {spec!r}: not a file, nor default, generated:SEED, ariane133 or a design of "
            f"{BENCHMARKS} (iccad04/ or ng45/)"
        )
    return load_design(spec), spec


def masked_random_episode(env: MacroPlacementEnv, rng: np.random.Generator, seed: int) -> dict[str, Any]:
    """One episode of the masked-random policy (each macro on a legal cell drawn uniformly by
    ``rng``), the env reset with ``seed``; returns the last step's info (``cost`` and
    ``placement``; no ``cost`` when the episode was infeasible)."""
    env.reset(seed=seed)
    done, info = False, {}
    while not done:
        _, _, done, _, info = env.step(int(rng.choice(np.flatnonzero(env.action_masks()))))
    return info


def best_random(
    design: Design, budget_s: float, seed: int, env_kwargs: dict[str, Any], sample_share: float = 0.5
) -> dict[str, Any]:
    """Masked-random episodes for ``sample_share`` of ``budget_s`` (at least one), best kept,
    then its soft macros refined for the rest: the same pipeline as the ``rl`` rows."""
    from placer.algorithms.refine import refine_soft_macros

    env = MacroPlacementEnv(design, **env_kwargs)
    rng = np.random.default_rng(seed)
    best, best_placement, episodes, t0 = math.inf, None, 0, time.perf_counter()
    while episodes == 0 or time.perf_counter() - t0 < budget_s * sample_share:
        info = masked_random_episode(env, rng, seed + episodes)
        if "cost" in info and info["cost"]["proxy"] < best:
            best, best_placement = info["cost"]["proxy"], info["placement"]
        episodes += 1
    final = math.inf
    if best_placement is not None:
        netlist = design[0]
        left = max(budget_s - (time.perf_counter() - t0), 0.0)
        refined = refine_soft_macros(netlist, best_placement, left, seed)
        final = evaluate(netlist, refined).proxy
    return {"proxy_fd": best, "proxy": final, "episodes": episodes, "eval_s": time.perf_counter() - t0}


def eval_policy(
    model: Any, run: Path, design: Design, split: str, method: str, budget_s: float, seed: int
) -> dict[str, Any]:
    """One results row: the policy's deterministic episode, then sampled ones until half of
    ``budget_s``, then the best one's soft macros refined for the rest (the ``rl`` placer with
    ``soft_refine=true``)."""
    import torch

    from placer.algorithms.base import Deadline
    from placer.rl.inference import env_for_model, place_and_refine

    # one torch thread, as the recorded rows were evaluated (their commands set OMP_NUM_THREADS=1):
    # eval_last.py run without it took 2.5x its budget on this 2-core machine, never refining
    torch.set_num_threads(1)
    env = env_for_model(model, *design, model_path=run)
    t0 = time.perf_counter()
    _, info = place_and_refine(
        model, env, Deadline(budget_s), samples=10**6, seed=seed, soft_refine=True
    )
    row = {
        "design": design[0].name,
        "split": split,
        "method": method,
        "proxy_fd": info.get("fd_proxy", math.inf),
        "proxy": info.get("proxy", math.inf),
        "eval_s": time.perf_counter() - t0,
        "refined": bool(info.get("refined", False)),
    }
    if not row["refined"]:  # (its final is then its FD cost: not the table's protocol)
        print(f"warning: {method} on {row['design']}: the episodes took the whole {budget_s:g} s, "
              "no refine step; a larger --eval-budget-s gives it one", flush=True)
    elif row["eval_s"] > 1.1 * budget_s:
        print(f"warning: {method} on {row['design']} took {row['eval_s']:.1f} s of a {budget_s:g} s budget",
              flush=True)
    print(row, flush=True)
    return row


def eval_placer(name: str, design: Design, budget_s: float, seed: int, **options: Any) -> float:
    from placer.algorithms.base import get_placer

    netlist, placement = design
    result = get_placer(name, **options).place(netlist, placement, budget_s, seed)
    return evaluate(netlist, result).proxy


def baseline_final(
    method: str, design: Design, budget_s: float, seed: int, env_kwargs: dict[str, Any]
) -> float:
    """The *final* proxy of a baseline under the table's protocol: ``random`` and ``greedy``
    with the soft-macro refine step, any other placer (``sa``) as it is."""
    if method == "random":
        return best_random(design, budget_s, seed, env_kwargs)["proxy"]
    options = {"soft_refine": True} if method == "greedy" else {}
    return eval_placer(method, design, budget_s, seed, **options)


def training_design_names(design: str, extra: str, generated: int) -> list[str]:
    """The training designs as the plot names them: the target, the ``--extra`` ones and
    ``N generated`` (the synthetic ones have no names worth a title)."""
    names = [design, *(name for name in extra.split(",") if name)]
    return names + ([f"{generated} generated"] if generated else [])


def _training_title(train_designs: list[str] | None) -> str:
    """The training panel's title: on the one design, or over how many (it always said "mixed
    designs", also for a run trained on its target alone)."""
    if not train_designs:
        return "training episodes (mean of the last 50)"
    generated = sum(int(name.split()[0]) for name in train_designs if name.endswith(" generated"))
    count = len(train_designs) - sum(name.endswith(" generated") for name in train_designs) + generated
    if count == 1:
        return f"training episodes on {train_designs[0]} (mean of the last 50)"
    listed = ", ".join(train_designs[:-1]) + " and " + train_designs[-1]
    return "\n".join(textwrap.wrap(f"training episodes (mean of the last 50) over {count} designs: {listed}", 60))


def plot_curves(
    curves: dict[str, Path], design: str, out: Path, train_designs: list[str] | None = None,
    seed: int | None = None, minutes: float | None = None,
) -> None:
    """Learning curves, one colour, line style and marker per variant: the training episodes (mean of
    the last 50 over ``train_designs``, named in the panel's title) and the deterministic
    evaluation on ``design`` in panels of their own, as they are costs of different designs
    (curves that coincide are drawn one over the other: the styles tell them apart where they
    part); the figure's title names the target, the seed and the training minutes where
    given."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import pandas as pd

    fig, (train_ax, eval_ax) = plt.subplots(1, 2, figsize=(10, 4), sharex=True)
    styles = ["-", "--", ":", "-."]
    # (a marker of its own: every variant's "o" hid one curve that coincided with another)
    markers = ["o", "s", "^", "D", "v", "X", "P", "*"]
    for k, (variant, path) in enumerate(curves.items()):
        if not path.exists():
            continue
        df = pd.read_csv(path)
        style = {"color": f"C{k}", "linestyle": styles[k % len(styles)], "marker": markers[k % len(markers)],
                 "label": variant}
        # (markers: a curve of one point between gaps, as a short run's, drew nothing)
        train_ax.plot(df["steps"], df["train_mean_proxy"], markersize=4, **style)
        eval_ax.plot(df["steps"], df["eval_proxy"], markersize=4, **style)
    train_ax.set_title(_training_title(train_designs), fontsize=9)
    eval_ax.set_title(f"deterministic episode on {design}", fontsize=9)
    for ax in (train_ax, eval_ax):
        ax.set_xlabel("environment steps")
        ax.set_ylabel("proxy cost (lower is better)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    said = [f"target {design}", *([f"seed {seed}"] if seed is not None else []),
            *([f"{minutes:g} min of training per variant"] if minutes is not None else [])]
    fig.suptitle(f"Learning curves per variant: {', '.join(said)}", fontsize=10)
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    plt.close(fig)


def main() -> None:
    parser = _make_arg_parser()
    args = parser.parse_args()
    _check_arguments(parser, args)
    if args.table_only:
        _table_only(parser, args)
        return
    target, unseen, train_designs = _load_designs(parser, args)
    args.out.mkdir(parents=True, exist_ok=True)
    max_nodes = max(256, target[0].hard_macros.size, unseen[0].hard_macros.size)
    runs: dict[str, Path] = {}
    rows: list[dict[str, Any]] = []
    env_kwargs = {"max_nodes": max_nodes}
    if not args.train_only:  # kernels compiled or loaded now, not inside the first timed row
        _warm_up_baselines()

    for variant in args.variants.split(","):
        run = args.out / "runs" / variant
        runs[variant] = run
        _train_variant(parser, args, variant, run, max_nodes, train_designs)
        if not args.train_only:
            rows.extend(_evaluate_policy(run, variant, target, unseen, args))

    if args.train_only:
        return
    for label, design in (("target", target), ("unseen", unseen)):
        rows.extend(_baseline_rows(label, design, args, env_kwargs))
        print(rows[-3:], flush=True)
    _write_results(runs, rows, args)


def _make_arg_parser() -> argparse.ArgumentParser:
    """The command line (the module docstring is its description; defaults shown in --help,
    errors in one line)."""
    parser = make_parser(__doc__)  # errors in one line, defaults in --help
    parser.add_argument("--design", default="ibm01", help="the target design (training and evaluation)")
    parser.add_argument("--unseen", default="ariane133", help="the design never seen in training")
    parser.add_argument("--generated", type=int, default=0, help="extra synthetic training designs")
    parser.add_argument(
        "--extra",
        default="",
        help="more training designs, comma-separated names of the shared suite (e.g. ibm06,ibm09)",
    )
    parser.add_argument(
        "--train-only", action="store_true", help="train the variants, evaluate nothing"
    )
    parser.add_argument(
        "--minutes", type=float, default=60.0, help="training wall time per variant, in all (over resumes)"
    )
    parser.add_argument("--eval-budget-s", type=float, default=60.0, help="seconds per method and design")
    parser.add_argument("--variants", default="full,no_wiremask,no_graph", help="comma-separated variants to train")
    parser.add_argument("--n-envs", type=int, default=2, help="training environments")
    parser.add_argument("--seed", type=int, default=0, help="training and evaluation seed")
    parser.add_argument(
        "--out", type=Path, required=True,
        help="the experiment's folder (required: the recorded one is experiments/rl/results)",
    )  # fmt: skip
    parser.add_argument(
        "--table-only", action="store_true", help="rewrite table.md from results.json"
    )
    return parser


def _table_only(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """``--table-only``: rewrite ``table.md`` (and the plot, from the kept curves) from
    ``results.json``, then print the table; nothing is trained or evaluated."""
    if not (args.out / "results.json").exists():
        parser.error(f"--table-only: no {args.out / 'results.json'} to rewrite the table from")
    rewrite_table(args.out)
    kept = sorted((args.out / "curves").glob("*.csv"))
    if kept:  # the plot again, from the curves kept beside the table
        recorded = json.loads((args.out / "results.json").read_text())["args"]  # (as strings)
        plot_curves({p.stem: p for p in kept}, recorded["design"], args.out / "learning_curves.png",
                    *_recorded_setting(recorded))
    print((args.out / "table.md").read_text())


def _recorded_setting(recorded: dict[str, str]) -> tuple[list[str] | None, int | None, float | None]:
    """The training designs, seed and minutes of a ``results.json``'s arguments (kept as
    strings); None for what an older record lacks."""
    try:
        designs = training_design_names(recorded["design"], recorded["extra"], int(recorded["generated"]))
    except (KeyError, ValueError):
        designs = None
    seed = int(recorded["seed"]) if recorded.get("seed", "").isdigit() else None
    try:
        minutes: float | None = float(recorded["minutes"])
    except (KeyError, ValueError):
        minutes = None
    return designs, seed, minutes


def _load_designs(
    parser: argparse.ArgumentParser, args: argparse.Namespace
) -> tuple[Design, Design, list[Design]]:
    """The target design, the unseen one and the training designs (the target, ``--extra`` and
    ``--generated`` ones); an unseen design among the training ones is refused."""
    # torch and the policy only now: a refused argument answers at once (it took ~2 s to import)
    from placer.rl.train import generated_designs

    target, _ = load_named(args.design)
    unseen, _ = load_named(args.unseen)
    extra = [load_named(name)[0] for name in args.extra.split(",") if name]
    train_designs = [target] + extra + generated_designs(args.generated, args.seed + 1000)
    if any(d[0].name == unseen[0].name for d in train_designs):
        parser.error(f"{args.unseen} is among the training designs: it would not be unseen")
    return target, unseen, train_designs


def _warm_up_baselines() -> None:
    """Compile or load the baselines' kernels now, not inside the first timed row (the first
    rl row overran 4 s by 2 s, its refine step left no time to search)."""
    from placer.algorithms.base import warm_up

    for method in ("refine", "greedy", "sa"):
        warm_up(method)


def _train_variant(
    parser: argparse.ArgumentParser, args: argparse.Namespace, variant: str, run: Path,
    max_nodes: int, train_designs: list[Design],
) -> None:
    """Train ``variant`` in ``run`` for what is left of its ``--minutes`` (resuming a stopped
    run), then record it as done; a finished training is reused, one with other settings is
    refused."""
    from placer.folder_lock import exclusive_folder
    from placer.rl.config import TrainConfig
    from placer.rl.run_folder import write_run_json
    from placer.rl.train import train

    cfg = TrainConfig(
        out=str(run),
        timesteps=10**9,
        n_envs=args.n_envs,
        device="auto",
        seed=args.seed,
        time_limit_s=args.minutes * 60,
        checkpoint_every=2_048,  # a killed run resumes from at most this far back
        eval_every=5_000,
        max_nodes=max_nodes,
        **VARIANTS[variant],
    )
    # what a finished training stands for: a rerun with other values must not reuse it
    trained_with = {"design": args.design, "extra": args.extra, "generated": args.generated,
                    "minutes": args.minutes, "seed": args.seed, "n_envs": args.n_envs}
    # the folder's lock from the ledger's read to done.json, handed down to train()'s own: a
    # second command started in the same instant read the ledger before train() locked the
    # folder and could take this run's open segment for a killed one
    with exclusive_folder(run, nested=True):
        _refuse_other_settings(parser, run, trained_with)
        if (run / "done.json").exists():
            print(f"{variant}: already trained")
            return
        ledger = TrainingTime(run, trained_with)
        left = args.minutes * 60 - ledger.spent
        if left > 0:  # --minutes is the variant's whole training, across resumes
            cfg.time_limit_s = left
            with ledger.segment():
                train(cfg, progress_bar=False, designs=train_designs, resume=(run / "last.zip").exists())
        if not (run / "last.zip").exists():  # (its minutes went before anything was saved)
            raise ValueError(f"{run}: --minutes {args.minutes:g} spent and no model saved; "
                             "remove the run folder and give more --minutes")
        write_run_json(run / "done.json", {"train_s": ledger.spent, "trained_with": trained_with})


def _refuse_other_settings(
    parser: argparse.ArgumentParser, run: Path, trained_with: dict[str, Any]
) -> None:
    """Refuse a run folder whose finished or started training had other settings (its
    ``done.json`` or ``training_time.json`` says which): its policy would not be this one's."""
    from placer.rl.run_folder import read_run_json

    for record in (run / "done.json", run / TRAINING_TIME):
        if record.exists():
            before = read_run_json(record).get("trained_with")
            if before is not None and before != trained_with:
                changed = ", ".join(f"{k} {before.get(k)!r} -> {v!r}"
                                    for k, v in trained_with.items() if before.get(k) != v)
                parser.error(f"{run} was trained with other settings ({changed}): use another --out")


def _evaluate_policy(
    run: Path, variant: str, target: Design, unseen: Design, args: argparse.Namespace
) -> list[dict[str, Any]]:
    """The ``rl[variant]`` rows: the run's policy evaluated on the target and the unseen
    design (each row printed as it is made)."""
    from placer.rl.inference import load_model

    model = load_model(run, "cpu")
    rows = []
    for label, design in (("target", target), ("unseen", unseen)):
        rows.append(
            eval_policy(
                model, run, design, label, f"rl[{variant}]", args.eval_budget_s, args.seed
            )
        )  # eval_policy prints its row
    return rows


def _baseline_rows(
    label: str, design: Design, args: argparse.Namespace, env_kwargs: dict[str, Any]
) -> list[dict[str, Any]]:
    """The ``random``, ``greedy`` and ``sa`` rows of one design (``label``: target or
    unseen), each with the evaluation budget."""
    name = design[0].name
    rows = [
        {"design": name, "split": label, "method": "random"}
        | best_random(design, args.eval_budget_s, args.seed, env_kwargs)
    ]
    greedy_fd = eval_placer("greedy", design, args.eval_budget_s, args.seed)
    t0 = time.perf_counter()  # eval_s: the budgeted run only
    greedy = baseline_final("greedy", design, args.eval_budget_s, args.seed, env_kwargs)
    rows.append(
        {
            "design": name,
            "split": label,
            "method": "greedy",
            "proxy_fd": greedy_fd,
            "proxy": greedy,
            "eval_s": time.perf_counter() - t0,
        }
    )
    t0 = time.perf_counter()
    sa = baseline_final("sa", design, args.eval_budget_s, args.seed, env_kwargs)
    rows.append(
        {
            "design": name,
            "split": label,
            "method": "sa",
            "proxy_fd": math.nan,
            "proxy": sa,
            "eval_s": time.perf_counter() - t0,
        }
    )
    return rows


def _write_results(runs: dict[str, Path], rows: list[dict[str, Any]], args: argparse.Namespace) -> None:
    """Write the experiment's outputs under ``--out`` (``learning_curves.png``, ``curves/``,
    ``results.json``, ``table.md``) and print the table."""
    plot_curves({v: run / "curve.csv" for v, run in runs.items()}, args.design, args.out / "learning_curves.png",
                training_design_names(args.design, args.extra, args.generated), args.seed, args.minutes)
    keep_curves(runs, args.out)
    # strict JSON: a missing figure (sa has no FD placement) is null, not NaN
    strict = [{k: None if isinstance(v, float) and math.isnan(v) else v for k, v in r.items()} for r in rows]
    # the command that measured the rows, kept for the table a later --table-only writes again
    command = command_line()
    (args.out / "results.json").write_text(
        json.dumps({"command": command, "args": {k: str(v) for k, v in vars(args).items()}, "rows": strict},
                   indent=2, allow_nan=False)
    )
    write_table(rows, args, args.out / "table.md", f"Made by `{command}`.")
    print((args.out / "table.md").read_text())


def _relative(value: float, reference: float) -> str:
    if not (math.isfinite(value) and math.isfinite(reference) and reference):
        return "n/a"
    return f"{(value / reference - 1) * 100:+.1f}%"


def _cell(value: float | None) -> str:
    if value is None or math.isnan(value):  # (null in results.json, NaN in older ones)
        return "-"
    return "inf" if math.isinf(value) else f"{value:.4f}"


def write_table(rows: list[dict[str, Any]], args: argparse.Namespace, path: Path, made_by: str) -> None:
    """The results table; ``rl[variant]`` rows use the run's best evaluated checkpoint (its
    step is given), ``... last`` rows (from ``eval_last.py``) the last one. ``made_by``: the
    line under the title naming the command that measured the rows (every recorded page says
    how it was made)."""
    extra = path.parent / "last_checkpoint.json"
    rows = rows + (json.loads(extra.read_text()) if extra.exists() else [])
    trained_on = ", ".join([args.design] + [d for d in args.extra.split(",") if d])
    lines = [
        "# RL placement: trained policy vs baselines",
        "",
        made_by,
        "",
        f"Training: {args.minutes:g} min per variant (the update under way at the limit finishes) on {trained_on}"
        + (f" + {args.generated} synthetic designs" if args.generated else "")
        + f"; evaluation budget {args.eval_budget_s:g} s per method and design; seed {args.seed}.",
        "",
        "Every method gets the same wall-clock budget. `rl[v]` (the variant's best evaluated "
        "checkpoint; `rl[v] last`: its last one) and `random` run episodes for half of it "
        "(`rl`: the deterministic episode, then sampled ones) and keep the best; `greedy` places "
        "once. *FD*: that hard-macro placement with force-directed soft macros (the "
        "environment's reward). *final*: then the soft macros refined by the exact-proxy search "
        "(`refine_soft_macros`, hard macros fixed) for the rest of the budget. `sa` anneals the "
        "hard macros from `initial.plc` for the whole budget. The comparisons use *final*. "
        "`inf`: every episode was infeasible (a macro found no legal cell).",
        "",
        "| design | split | method | proxy FD | proxy final | vs random | vs greedy | vs sa | eval s |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for split in ("target", "unseen"):
        sub = [r for r in rows if r["split"] == split]
        ref = {
            m: next((r["proxy"] for r in sub if r["method"] == m), math.nan)
            for m in ("random", "greedy", "sa")
        }
        for r in sub:
            method = r["method"]
            if method.startswith("rl[") and method.endswith("]"):
                best = _best_record(args.out, method[3:-1])
                if best is not None:
                    method += f" (step {best['steps']})"
            lines.append(
                f"| {r['design']} | {split} | {method} | {_cell(r.get('proxy_fd', math.nan))} | "
                f"{_cell(r['proxy'])} | {_relative(r['proxy'], ref['random'])} | "
                f"{_relative(r['proxy'], ref['greedy'])} | {_relative(r['proxy'], ref['sa'])} | "
                f"{r['eval_s']:.1f} |"
            )
    path.write_text("\n".join(lines) + "\n")


def _best_record(out: Path, variant: str) -> dict[str, Any] | None:
    """A variant's ``best.json``: from its training run, else the copy kept in ``curves/`` (the
    runs themselves are not committed)."""
    for path in (out / "runs" / variant / "best.json", out / "curves" / f"{variant}_best.json"):
        if path.exists():
            return json.loads(path.read_text())
    return None


def keep_curves(runs: dict[str, Path], out: Path) -> None:
    """Copy each run's ``curve.csv`` and ``best.json`` into ``out/curves/`` (as
    ``<variant>.csv`` and ``<variant>_best.json``): small files to commit beside the table."""
    import shutil

    (out / "curves").mkdir(exist_ok=True)
    for variant, run in runs.items():
        for name, kept in (("curve.csv", f"{variant}.csv"), ("best.json", f"{variant}_best.json")):
            if (run / name).exists():
                shutil.copyfile(run / name, out / "curves" / kept)


def rewrite_table(out: Path) -> None:
    """Write ``table.md`` again from ``results.json`` (and ``last_checkpoint.json``), naming the
    command that measured it as recorded there; an older ``results.json`` recorded none, and the
    table says so, naming this process's command as the one that wrote it."""
    data = json.loads((out / "results.json").read_text())
    if data.get("command"):
        made_by = f"Made by `{data['command']}`."
    else:
        made_by = (f"Made by `{command_line()}` from `results.json`, which does not record the command "
                   "that measured it.")
    a = data["args"]
    args = argparse.Namespace(
        minutes=float(a["minutes"]),
        design=a["design"],
        extra=a.get("extra", ""),
        generated=int(a["generated"]),
        eval_budget_s=float(a["eval_budget_s"]),
        seed=int(a["seed"]),
        out=out,
    )
    write_table(data["rows"], args, out / "table.md", made_by)


def _check_arguments(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Refuse, before any work, what would fail after an hour of training (one line, exit 2)."""
    import math

    unknown = [v for v in args.variants.split(",") if v not in VARIANTS]
    if unknown or not args.variants:
        parser.error(f"--variants: unknown {', '.join(map(repr, unknown))}; choose from {', '.join(VARIANTS)}")
    if not (math.isfinite(args.minutes) and args.minutes > 0):
        parser.error(f"--minutes must be a finite number > 0, got {args.minutes}")
    if not (math.isfinite(args.eval_budget_s) and args.eval_budget_s > 0):
        parser.error(f"--eval-budget-s must be a finite number > 0, got {args.eval_budget_s}")
    for name, value, low in (("--n-envs", args.n_envs, 1), ("--generated", args.generated, 0), ("--seed", args.seed, 0)):
        if value < low:
            parser.error(f"{name} must be >= {low}, got {value}")


if __name__ == "__main__":
    from netlists.errors import NetlistError
    from placer.folder_lock import FolderBusy
    from placer.interrupts import sigterm_as_interrupt

    try:
        with sigterm_as_interrupt():  # a plain kill saves the run too, like Ctrl-C
            main()
    except KeyboardInterrupt:
        print("run_experiment.py: interrupted; rerun the same command to resume", file=sys.stderr)
        sys.exit(130)
    except (NetlistError, ValueError, KeyError, OSError, FolderBusy) as error:  # (any OSError: an
        # --out that cannot be made, e.g. under a file or in /sys, printed a traceback)
        print(f"run_experiment.py: error: {error}", file=sys.stderr)
        sys.exit(2)
