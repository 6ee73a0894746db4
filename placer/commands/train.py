"""``placer train``: train the placement policy with MaskablePPO (see :mod:`placer.rl.train`).

    placer train (--netlist FILE ... | --suite DIR | --generated N) --timesteps T
                 [--n-envs K] [--device auto|cpu|cuda] [--set KEY=VALUE ...] --out runs/NAME [--resume]

Writes checkpoints (``last.zip``, ``checkpoints/``), the best evaluated placement
(``best.zip``, ``best.plc``), ``curve.csv`` and TensorBoard logs under ``--out``. Ctrl-C saves
a checkpoint; ``--resume`` continues from it (reading the run's ``config.json``; only
``--timesteps`` and ``--device`` may change).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Annotated, Any

import typer

from placer.commands.common import UsageError, check_output_folder, clean_errors, console


def register(app: typer.Typer) -> None:
    app.command("train")(train_command)


_NOT_SETTABLE = {"out", "netlists", "suite", "generated", "eval_netlist", "resume"}


def parse_settings(items: list[str]) -> dict[str, Any]:
    """``KEY=VALUE`` strings -> TrainConfig fields, each converted to the field's type."""
    from placer.rl.train import TrainConfig

    fields = {f.name: f for f in dataclasses.fields(TrainConfig) if f.name not in _NOT_SETTABLE}
    out: dict[str, Any] = {}
    for item in items:
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep or key not in fields:
            raise UsageError(
                f"--set takes KEY=VALUE with KEY one of {', '.join(sorted(fields))}; got {item!r}"
            )
        default = fields[key].default
        try:
            if isinstance(default, bool):
                if text.lower() not in ("true", "false", "1", "0"):
                    raise ValueError(text)
                value: Any = text.lower() in ("true", "1")
            elif isinstance(default, int):
                value = int(text)
            elif default is None and text.lower() == "none":
                value = None
            elif isinstance(default, float) or default is None:  # optional fields are floats
                value = float(text)
            else:
                value = text
        except ValueError:
            raise UsageError(
                f"--set {key}: {text!r} is not a valid {type(default).__name__}"
            ) from None
        out[key] = value
    return out


@clean_errors
def train_command(
    out: Annotated[
        Path, typer.Option("--out", help="run folder (checkpoints, logs, best placement)")
    ],
    netlist: Annotated[
        list[Path] | None, typer.Option("--netlist", help="training design (repeatable)")
    ] = None,
    suite: Annotated[Path | None, typer.Option("--suite", help="folder of design folders")] = None,
    generated: Annotated[
        int, typer.Option("--generated", min=0, help="number of synthetic designs")
    ] = 0,
    eval_netlist: Annotated[
        Path | None,
        typer.Option("--eval-netlist", help="design for evaluation (default: the first)"),
    ] = None,
    timesteps: Annotated[
        int, typer.Option("--timesteps", min=1, help="total environment steps")
    ] = 100_000,
    n_envs: Annotated[int, typer.Option("--n-envs", min=1, help="parallel environments")] = 2,
    device: Annotated[
        str, typer.Option("--device", help="auto (CUDA when present), cpu or cuda")
    ] = "auto",
    seed: Annotated[int, typer.Option("--seed", min=0, help="seed of every random choice")] = 0,
    resume: Annotated[bool, typer.Option("--resume", help="continue from OUT/last.zip")] = False,
    checkpoint_every: Annotated[int, typer.Option("--checkpoint-every", min=1)] = 10_000,
    eval_every: Annotated[int, typer.Option("--eval-every", min=1)] = 5_000,
    threads: Annotated[int, typer.Option("--threads", min=1, help="torch CPU threads")] = 1,
    max_grid: Annotated[
        int, typer.Option("--max-grid", min=8, help="padded grid side (multiple of 8)")
    ] = 64,
    max_nodes: Annotated[
        int, typer.Option("--max-nodes", min=1, help="padded hard-macro count")
    ] = 256,
    no_wiremask: Annotated[
        bool, typer.Option("--no-wiremask", help="ablation: blank wire-mask channel")
    ] = False,
    no_graph: Annotated[
        bool, typer.Option("--no-graph", help="ablation: no graph encoder")
    ] = False,
    dense_shaping: Annotated[
        bool, typer.Option("--dense-shaping", help="per-step wire-mask reward")
    ] = False,
    w_timing: Annotated[
        float, typer.Option("--w-timing", help="timing weight in the reward")
    ] = 0.0,
    progress: Annotated[bool, typer.Option("--progress/--no-progress", help="progress bar")] = True,
    settings: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            help="any other TrainConfig field as KEY=VALUE (repeatable), e.g. learning_rate=3e-4, "
            "n_steps=512, ent_coef=0.01, gae_lambda=0.95, wiremask_prior=6, w_cong=1, order=degree",
        ),
    ] = None,
) -> None:
    """Train a placement policy (MaskablePPO, CNN + graph encoder, deconvolution head)."""
    from placer.rl.train import TrainConfig, resolve_device, train

    if device not in ("auto", "cpu", "cuda") and not device.startswith("cuda:"):
        raise UsageError(f"--device must be auto, cpu or cuda, got {device!r}")
    if max_grid % 8:
        raise UsageError(f"--max-grid must be a multiple of 8, got {max_grid}")
    if resume and settings:
        raise UsageError("--set cannot change a run being resumed (its config.json is kept)")
    check_output_folder(out)
    if resume:
        saved = out / "config.json"
        if not saved.exists():
            raise UsageError(f"{out}: no config.json to resume from")
        config = TrainConfig(**json.loads(saved.read_text()))
        config.timesteps, config.device = timesteps, device
    else:
        if not netlist and suite is None and generated == 0:
            raise UsageError("give training designs: --netlist FILE, --suite DIR or --generated N")
        if (out / "last.zip").exists():
            raise UsageError(f"{out} already holds a run: pass --resume or another --out")
        config = TrainConfig(
            out=str(out),
            netlists=[str(p) for p in netlist or []],
            suite=str(suite) if suite else None,
            generated=generated,
            eval_netlist=str(eval_netlist) if eval_netlist else None,
            timesteps=timesteps,
            n_envs=n_envs,
            device=device,
            seed=seed,
            threads=threads,
            checkpoint_every=checkpoint_every,
            eval_every=eval_every,
            max_grid=max_grid,
            max_nodes=max_nodes,
            use_wiremask=not no_wiremask,
            use_graph=not no_graph,
            dense_shaping=dense_shaping,
            w_timing=w_timing,
        )
        for key, value in parse_settings(settings or []).items():
            setattr(config, key, value)
    console.print(f"training on {resolve_device(config.device)}; run folder {out}")
    try:
        train(config, progress_bar=progress, resume=resume)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    best = out / "best.json"
    if best.exists():
        info = json.loads(best.read_text())
        console.print(
            f"best evaluation proxy {info['proxy']:.4f} at step {info['steps']} -> {out / 'best.plc'}"
        )
