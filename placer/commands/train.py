"""``placer train``: train the placement policy with MaskablePPO (see :mod:`placer.rl.train`).

    placer train (--netlist FILE ... | --suite DIR | --generated N) --timesteps T
                 [--n-envs K] [--device auto|cpu|cuda] [--set KEY=VALUE ...] --out runs/NAME [--resume]

Writes checkpoints (``last.zip``, ``checkpoints/``: at step 0, every ``--checkpoint-every``
steps and at the end; ``--set keep_checkpoints=K`` keeps only the newest K in ``checkpoints/``,
every one by default), the best evaluated placement by the
objective trained on (``best.zip``, ``best.plc``; the proxy unless the reward weights are set),
``curve.csv`` and TensorBoard logs under ``--out``. Ctrl-C saves
a checkpoint at the last completed update; ``--resume`` continues from it (reading the run's
``config.json``; only ``--timesteps``, ``--device`` and ``--set time_limit_s`` or ``keep_checkpoints`` may change), bit-identically to a run
that was never stopped when the device stays the same.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from placer.commands.common import (
    UsageError,
    check_output_folder,
    clean_errors,
    console,
    interrupted_exit,
    output_option,
    unencodable,
)
from placer.rl.memory import MAX_GRID, MAX_NODES
from placer.text_names import require_text_path

if TYPE_CHECKING:
    from placer.rl.config import TrainConfig


def _design_argument(path: Path) -> str:
    """A design as the run records it: a file made absolute (the run resumes from anywhere), a
    built-in design's name or ``default`` kept as given where no such file exists."""
    from netlists.designs import BUILTIN
    from netlists.io import DEFAULT_NAME, names_generated_default

    if not path.exists() and (names_generated_default(path) or str(path) in BUILTIN):
        return str(path)
    if not path.exists():  # (as eval and place say it, not a bare absolute path)
        raise UsageError(f"{path}: no such file (or built-in design: {', '.join((*BUILTIN, DEFAULT_NAME))})")
    return str(path.absolute())


def register(app: typer.Typer) -> None:
    app.command("train")(train_command)


_NOT_SETTABLE = {"out", "netlists", "suite", "generated", "eval_netlist", "resume"}


def parse_settings(items: list[str]) -> dict[str, Any]:
    """``KEY=VALUE`` strings -> TrainConfig fields, each converted to the field's type."""
    from placer.rl.config import TrainConfig

    fields = {f.name: f for f in dataclasses.fields(TrainConfig) if f.name not in _NOT_SETTABLE}
    out: dict[str, Any] = {}
    for item in items:
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep or key not in fields:
            raise UsageError(
                f"--set takes KEY=VALUE with KEY one of {', '.join(sorted(fields))} (`--set help` "
                f"lists them with their defaults); got {item!r}"
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


def settable_fields() -> list[tuple[str, Any]]:
    """Every field ``--set`` takes, with its default, in the config's order."""
    from placer.rl.config import TrainConfig

    return [(f.name, f.default) for f in dataclasses.fields(TrainConfig) if f.name not in _NOT_SETTABLE]


def _list_settings(items: list[str] | None) -> list[str] | None:
    """``--set help``: print every field ``--set`` takes with its default, then exit (an eager
    callback: before the required ``--out`` is asked for)."""
    if items and "help" in items:
        fields = settable_fields()
        width = max(len(name) for name, _ in fields)
        for name, default in fields:
            console.print(f"{name:<{width}}  {default}", markup=False, highlight=False)
        raise typer.Exit(0)
    return items


def _same(path: str | Path) -> str:
    """A path as compared on --resume: ``..`` and symlinks resolved (one file, one name)."""
    return str(Path(path).resolve())


@clean_errors
def train_command(
    out: Annotated[
        Path, output_option("run folder (checkpoints, logs, best placement)")
    ],
    netlist: Annotated[
        list[Path] | None, typer.Option(
            "--netlist",
            help="training design (repeatable): a .pb.txt[.gz], a Bookshelf .aux, a design folder, or a built-in "
            "design by name (ariane133; default, the embedded generated one)",
        )
    ] = None,
    suite: Annotated[Path | None, typer.Option("--suite", help="folder of design folders")] = None,
    generated: Annotated[
        int | None, typer.Option("--generated", min=0, help="number of synthetic designs (each 8-24 hard macros, 4x as many soft, 2x ports; drawn from --seed) \\[default: 0]")
    ] = None,
    eval_netlist: Annotated[
        Path | None,
        typer.Option("--eval-netlist", help="design for evaluation (default: the first)"),
    ] = None,
    timesteps: Annotated[
        int | None,
        typer.Option(
            "--timesteps",
            min=1,
            help="total environment steps, rounded up to whole rollouts of n_steps x n_envs "
            "\\[default: 100000; on --resume the run's own]",
        ),
    ] = None,
    n_envs: Annotated[
        int | None, typer.Option("--n-envs", min=1, help="training environments, stepped in turn in one process (--set vec=subproc: one process each) \\[default: 2]")
    ] = None,
    device: Annotated[
        str | None,
        typer.Option("--device", help="auto (CUDA when present), cpu, cuda or cuda:N \\[default: auto]"),
    ] = None,
    seed: Annotated[
        int | None,
        typer.Option("--seed", min=0, max=2**32 - 1, help="seed of every random choice \\[default: 0]"),
    ] = None,
    resume: Annotated[bool, typer.Option("--resume", help="continue from OUT/last.zip (a run folder you trust: its files are pickles)")] = False,
    checkpoint_every: Annotated[
        int | None, typer.Option("--checkpoint-every", min=1, help="steps between checkpoints \\[default: 10000]")
    ] = None,
    eval_every: Annotated[int | None, typer.Option("--eval-every", min=1, help="steps between evaluations \\[default: 5000]")] = None,
    threads: Annotated[
        int | None, typer.Option("--threads", min=1, help="torch CPU threads (each count trains to its own last bits: a run repeats for a seed at one count; a resume keeps the run's) \\[default: 1]")
    ] = None,
    max_grid: Annotated[
        int | None,
        typer.Option("--max-grid", min=8, max=MAX_GRID, help="padded grid side (multiple of 8; a model "
                     "places designs whose grid fits it; a side near the designs' own grids trains faster: "
                     "the default design's 28 x 28 at 32 took 0.58x the CPU time of 64; sizes whose "
                     "estimated memory exceeds what the machine has free are refused) \\[default: 64]"),
    ] = None,
    max_nodes: Annotated[
        int | None, typer.Option("--max-nodes", min=1, max=MAX_NODES, help="padded hard-macro count (as "
                                 "--max-grid: the memory it needs is checked) \\[default: 256]")
    ] = None,
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
        float | None, typer.Option("--w-timing", help="timing weight in the reward, 0 to 1e6 \\[default: 0]")
    ] = None,
    timing_metric: Annotated[
        str | None,
        typer.Option("--timing-metric", help="the timing figure --w-timing weighs: worst (the worst path) "
                     "or tail (the mean of the worst 10 % of endpoints) \\[default: worst]"),
    ] = None,
    no_progress: Annotated[bool, typer.Option("--no-progress", "--quiet", help="no progress bar")] = False,
    # (a --progress/--no-progress pair took a second name column: at 80 columns the help cut
    # other names short, '--checkpoint-ev…'; --progress, the default, is still taken)
    _progress: Annotated[bool, typer.Option("--progress", hidden=True)] = False,
    settings: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            callback=_list_settings,
            is_eager=True,
            help="any other TrainConfig field as KEY=VALUE (repeatable), e.g. learning_rate=3e-4, "
            "n_steps=512, ent_coef=0.01, gae_lambda=0.95, wiremask_prior=6, w_cong=1, order=degree; "
            "`--set help` lists every field with its default",
        ),
    ] = None,
) -> None:
    """Train a placement policy (MaskablePPO, CNN + graph encoder, deconvolution head)."""
    if no_progress and _progress:  # (the pair of flags let the last win; one cannot tell now)
        raise UsageError("give --progress or --no-progress (--quiet), not both")
    check_output_folder(out)
    # (TensorBoard's writer takes the path as given as text: refused here, not once the folder
    # and its config.json were made; a relative path from such a folder works)
    require_text_path(out, "--out", "TensorBoard keeps it as text: rename that folder, or give another path")
    make_config = _resumed_config if resume else _new_config
    given = _GivenOptions(
        netlist=netlist, suite=suite, generated=generated, eval_netlist=eval_netlist, timesteps=timesteps,
        n_envs=n_envs, device=device, seed=seed, checkpoint_every=checkpoint_every, eval_every=eval_every,
        threads=threads, max_grid=max_grid, max_nodes=max_nodes, no_wiremask=no_wiremask, no_graph=no_graph,
        dense_shaping=dense_shaping, w_timing=w_timing, timing_metric=timing_metric, settings=settings,
    )
    config = make_config(out, given)
    _run_training(config, out, not no_progress, resume)
    _report_best(config, out)


@dataclass(frozen=True)
class _GivenOptions:
    """The command's options as given (None or False: not given), for the config steps."""

    netlist: list[Path] | None
    suite: Path | None
    generated: int | None
    eval_netlist: Path | None
    timesteps: int | None
    n_envs: int | None
    device: str | None
    seed: int | None
    checkpoint_every: int | None
    eval_every: int | None
    threads: int | None
    max_grid: int | None
    max_nodes: int | None
    no_wiremask: bool
    no_graph: bool
    dense_shaping: bool
    w_timing: float | None
    timing_metric: str | None
    settings: list[str] | None


def _resumed_config(out: Path, given: _GivenOptions) -> TrainConfig:
    """The run's saved config for ``--resume``: an option whose value differs from the run's
    is refused (naming the run's value); ``--timesteps``, ``--device`` and the
    ``RESUMABLE_CHANGES`` ``--set`` keys are taken over, and ``out`` as given now."""
    from placer.folder_lock import FolderBusy, check_not_busy
    from placer.rl.config import RESUMABLE_CHANGES

    try:
        check_not_busy(out)  # a live run has written no checkpoint yet: not "remove it"
    except FolderBusy as exc:
        raise UsageError(str(exc)) from None
    config = _saved_config(out)
    # the original command with --resume added is fine: only a value that differs is refused
    compared = {
        "--netlist": (None if given.netlist is None else [_same(p) for p in given.netlist], [_same(p) for p in config.netlists]),
        "--suite": (None if given.suite is None else _same(given.suite), None if config.suite is None else _same(config.suite)),
        "--generated": (given.generated, config.generated),
        "--eval-netlist": (None if given.eval_netlist is None else _same(given.eval_netlist),
                           None if config.eval_netlist is None else _same(config.eval_netlist)),
        "--n-envs": (given.n_envs, config.n_envs),
        "--seed": (given.seed, config.seed),
        "--checkpoint-every": (given.checkpoint_every, config.checkpoint_every),
        "--eval-every": (given.eval_every, config.eval_every),
        "--threads": (given.threads, config.threads),
        "--max-grid": (given.max_grid, config.max_grid),
        "--max-nodes": (given.max_nodes, config.max_nodes),
        "--no-wiremask": (False if given.no_wiremask else None, config.use_wiremask),
        "--no-graph": (False if given.no_graph else None, config.use_graph),
        "--dense-shaping": (True if given.dense_shaping else None, config.dense_shaping),
        "--w-timing": (given.w_timing, config.w_timing),
        "--timing-metric": (given.timing_metric, config.timing_metric),
    }
    # each with the run's own value: a resume in the wrong folder shows what that run is
    as_saved = {"--netlist": config.netlists, "--suite": config.suite, "--eval-netlist": config.eval_netlist}
    changed = [f"{name} (the run's: {_shown(as_saved.get(name, then))})" for name, (now, then) in compared.items()
               if now is not None and now != then]
    extra = parse_settings(given.settings or [])
    resumable = {key: extra.pop(key) for key in list(extra) if key in RESUMABLE_CHANGES}
    changed += [f"--set {key} (the run's: {_shown(getattr(config, key))})" for key, value in extra.items()
                if getattr(config, key) != value]
    if changed:
        raise UsageError(
            f"{', '.join(changed)} cannot change a run being resumed (its config.json is "
            "kept; only --timesteps, --device and --set time_limit_s or keep_checkpoints may change)"
        )
    _refuse_clashes({key: value for key, value in (("timesteps", given.timesteps), ("device", given.device))
                     if value is not None}, resumable)
    config.out = str(out)  # the folder given now, even if the run was moved or copied
    if given.timesteps is not None:
        config.timesteps = given.timesteps
    if given.device is not None:
        config.device = given.device
    for key, value in resumable.items():  # e.g. --set time_limit_s=3600
        setattr(config, key, value)
    return config


def _new_config(out: Path, given: _GivenOptions) -> TrainConfig:
    """A new run's TrainConfig from the options (the designs recorded to resume from
    anywhere); refuses a run without training designs and a timing metric without a weight."""
    from placer.rl.config import TrainConfig

    if not given.netlist and given.suite is None and not given.generated:
        raise UsageError("give training designs: --netlist FILE, --suite DIR or --generated N")
    config = TrainConfig(
        out=str(out),
        netlists=[_design_argument(p) for p in given.netlist or []],  # resumable from anywhere
        suite=str(given.suite.absolute()) if given.suite else None,
        generated=given.generated or 0,
        eval_netlist=_design_argument(given.eval_netlist) if given.eval_netlist else None,
    )
    flags = {key: value for key, value in (
        ("timesteps", given.timesteps), ("n_envs", given.n_envs), ("device", given.device), ("seed", given.seed),
        ("threads", given.threads), ("checkpoint_every", given.checkpoint_every), ("eval_every", given.eval_every),
        ("max_grid", given.max_grid), ("max_nodes", given.max_nodes), ("w_timing", given.w_timing),
        ("timing_metric", given.timing_metric), ("use_wiremask", False if given.no_wiremask else None),
        ("use_graph", False if given.no_graph else None), ("dense_shaping", True if given.dense_shaping else None),
    ) if value is not None}  # fmt: skip
    settings_given = parse_settings(given.settings or [])
    _refuse_clashes(flags, settings_given)
    chosen = {**flags, **settings_given}
    for key, value in chosen.items():
        setattr(config, key, value)
    metric = chosen.get("timing_metric")
    from placer.cost.timing import TIMING_METRICS

    if metric is not None and metric not in TIMING_METRICS:  # (named first: 'foo' was told it
        # acts only with --w-timing, as if it were a metric)
        raise UsageError(f"--timing-metric must be one of {', '.join(TIMING_METRICS)}, got {metric!r}")
    if metric is not None and not config.w_timing:  # (worst was taken, then weighed nothing;
        # as the search methods refuse a timing_metric without a weight)
        raise UsageError(f"--timing-metric {metric} acts only with --w-timing > 0")
    try:
        config.validate()
    except ValueError as exc:  # a value given by an option is refused in the option's name
        text = str(exc)  # ("max_grid must be a multiple of 8": the user typed --max-grid 12)
        field = text.split(" ", 1)[0]
        if field in flags and field not in settings_given and not isinstance(flags[field], bool):
            text = "--" + field.replace("_", "-") + text[len(field):]
        raise UsageError(text) from None
    return config


def _refuse_clashes(flags: dict[str, Any], settings: dict[str, Any]) -> None:
    """Refuse a ``--set`` key whose value differs from the option given for the same setting
    (``flags``: the options given, as config keys): the ``--set`` value won without a word."""
    clashes = [key for key, value in flags.items() if key in settings and settings[key] != value]
    if clashes:
        raise UsageError(
            f"--set {', '.join(clashes)} contradicts the option(s) given for the same setting: give each once"
        )


def _run_training(config: TrainConfig, out: Path, progress: bool, resume: bool) -> None:
    """Validate ``config`` and train (SIGTERM handled as Ctrl-C); a refused run becomes a
    one-line usage error, an interrupt says whether there is a checkpoint and exits 130."""
    from envs.macro_placement_checks import TooLargeForSettings
    from placer.interrupts import sigterm_as_interrupt
    from placer.rl.train import train

    try:
        config.validate()  # (train says where it trains once it has taken the folder)
        with sigterm_as_interrupt():  # a plain kill saves the run too, like Ctrl-C
            train(config, progress_bar=progress, resume=resume)
    except TooLargeForSettings as exc:  # (in the options' words, not the env's keywords)
        option = "--" + exc.setting.replace("_", "-")
        raise UsageError(f"{exc.what}: give {option} {exc.needed} or more") from None
    except UnicodeEncodeError as exc:  # (TensorBoard's writer, a non-ASCII --out under LC_ALL=C)
        raise UsageError(unencodable(exc)) from None
    except FileExistsError as exc:  # (a refusal, InputError or FolderBusy, is told by clean_errors;
        # a plain ValueError or RuntimeError from training is a bug of ours, told as one)
        raise UsageError(str(exc)) from None
    except KeyboardInterrupt:
        if (out / "last.zip").exists():
            typer.echo(f"interrupted: rerun the same command with --resume to go on from {out / 'last.zip'}", err=True)
        else:  # (on stderr, as every command's interrupt lines)
            typer.echo("interrupted before the first checkpoint: nothing to resume", err=True)
        raise interrupted_exit() from None


def _report_best(config: TrainConfig, out: Path) -> None:
    """Say the best evaluation saved (``best.json``), or why there is no ``best.plc``."""
    best = out / "best.json"
    if best.exists():
        info = json.loads(best.read_text())
        if info.get("objective") is not None and info["objective"] != info["proxy"]:
            # weighed otherwise than the proxy (--w-timing, other weights): best is chosen by it
            console.print(
                f"best evaluation objective {info['objective']:.4f} (proxy {info['proxy']:.4f}), the "
                f"weighted cost best.zip is chosen by, at step {info['steps']} -> {out / 'best.plc'}"
            )
        else:
            console.print(
                f"best evaluation proxy {info['proxy']:.4f} at step {info['steps']} -> {out / 'best.plc'}"
            )
        if info.get("steps") == 0:  # the summary said the best, not that nothing was learnt
            console.print("no later evaluation beat the untrained policy (step 0), which places close to the "
                          "wire-mask greedy placement: a run of a few thousand steps rarely moves it; train "
                          "longer (--timesteps) to see the policy learn")
    else:
        console.print(
            "no evaluation episode placed every hard macro, so there is no best.plc yet; "
            + _finer_grid_advice(config)
        )


def _shown(value: Any) -> str:
    """A run's setting as the resume refusal names it (lists and paths as plain names)."""
    if isinstance(value, list | tuple):
        return ", ".join(map(str, value)) or "none"
    return "none" if value is None else str(value)


def _finer_grid_advice(config: Any) -> str:
    """What may let the episodes place every macro: a larger ``--max-grid`` only where it caps
    a design's placing grid (it was advised whatever the cause), else more training."""
    from netlists.io import load_design
    from placer.algorithms.grid_state import auto_grid
    from placer.rl.train import load_designs

    designs = [nl for nl, _ in load_designs(config)]
    designs += [load_design(config.eval_netlist)[0]] if config.eval_netlist else []
    capped = dict.fromkeys(nl.name for nl in designs if auto_grid(nl, config.max_grid) != auto_grid(nl, 1 << 20))
    if capped:
        return f"a larger --max-grid gives finer cells ({', '.join(capped)} placed on a grid it caps)"
    return ("the policy leaves some macro no legal cell: train longer (no design's placing grid is "
            "capped by --max-grid)")


def _saved_config(out: Path) -> TrainConfig:
    """The TrainConfig stored in ``out/config.json``, or a one-line error saying why not."""
    from placer.rl.config import TrainConfig
    from placer.rl.run_folder import read_run_json

    saved = out / "config.json"
    if not saved.exists():
        raise UsageError(f"{out}: no config.json to resume from")
    if not (out / "last.zip").exists():
        raise UsageError(
            f"{out}: no last.zip to resume from (the run stopped before its step-0 checkpoint; "
            "remove the folder and start again)"
        )
    try:
        fields = read_run_json(saved)  # (a list said "argument after ** must be a mapping")
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    try:
        unknown = sorted(set(fields) - {f.name for f in dataclasses.fields(TrainConfig)})
        if unknown:  # (it said "TrainConfig.__init__() got an unexpected keyword argument")
            raise ValueError(f"unknown setting {unknown[0]!r}")
        config = TrainConfig(**fields)
        # a hand-edited field of the wrong kind: one line, not a traceback (the device is
        # checked once --device has had its say: a GPU run resumes on a CPU with --device cpu;
        # the memory free once the run's settings are final: a busy machine's is no damage)
        dataclasses.replace(config, device="cpu").validate(memory=False)
    except (json.JSONDecodeError, TypeError, ValueError) as exc:
        raise UsageError(f"{saved}: not a training config ({exc})") from None
    return config
