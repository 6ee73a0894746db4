"""Training of the placement policy with sb3-contrib's MaskablePPO, with checkpoints and resume.

The run's settings are :mod:`placer.rl.config`, its folder's files :mod:`placer.rl.run_folder`,
the evaluations and checkpoints beside training :mod:`placer.rl.monitor`; this module loads the
designs, builds the environments and runs (or resumes) the training.
"""

from __future__ import annotations

import errno
import multiprocessing
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

import gymnasium as gym
import numpy as np
import torch
from stable_baselines3.common.callbacks import CallbackList
from stable_baselines3.common.logger import Logger
from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv, VecEnv

from envs.macro_placement import MacroPlacementEnv
from netlists.errors import InputError, start_refusals
from netlists.io import design_files_under, require_suite_folder
from netlists.model import Netlist, Placement
from placer.device import resolve_device
from placer.rl.config import (
    Design,
    ObservationNotFinite,
    TrainConfig,
    TrainingDiverged,
    env_options,
    policy_kwargs,
)
from placer.rl.inference import IncompatibleModel, load_model, weights_finite
from placer.rl.monitor import TrainingMonitor, check_sound, diverged, run_episode
from placer.rl.progress import PhaseProgressBar, has_progress_bar
from placer.rl.resume import (
    SnapshotMonitor,
    TrainingState,
    apply,
    read_state,
    restore_monitor,
)
from placer.rl.run_folder import (
    API_DESIGNS,
    DESIGNS,
    LAST_STATE,
    RUN_FILES,
    check_resumable,
    designs_record,
    drop_curve_rows_after,
    has_tensorboard,
    purge_tensorboard_after,
    read_run_json,
    resume_point,
    write_run_json,
)

if TYPE_CHECKING:
    from sb3_contrib import MaskablePPO
    from sb3_contrib.common.maskable.buffers import MaskableDictRolloutBuffer

#: Names notebooks and scripts import from here (they moved to placer.rl.config and
#: placer.rl.monitor when this module was split); the rest of the module's public names too.
__all__ = ["Design", "TrainConfig", "TrainingDiverged", "env_options", "find_suite", "generated_designs",
           "load_designs", "make_vec_env", "policy_kwargs", "run_episode", "train"]


def generated_designs(n: int, seed: int = 0, hard: tuple[int, int] = (8, 24)) -> list[Design]:
    """``n`` synthetic designs, sizes drawn from ``hard`` (soft = 4 x hard, ports = 2 x hard),
    design ``k`` with seed ``seed + k``."""
    from netlists.generate import generate

    rng = np.random.default_rng(seed)
    out = []
    for k in range(n):
        h = int(rng.integers(hard[0], hard[1] + 1))
        out.append(generate(h, 4 * h, 2 * h, seed=seed + k))
    return out


def find_suite(folder: str | Path) -> list[Path]:
    """The netlists of the design folders under ``folder``: those holding a
    ``netlist.pb.txt[.gz]`` and an ``initial.plc``, or one Bookshelf ``.aux`` (as ``placer
    place --suite`` finds them)."""
    root = Path(folder)
    require_suite_folder(root)
    found = [netlist for netlist, _ in design_files_under(root)]
    if not found:
        raise FileNotFoundError(
            errno.ENOENT, "no design (a folder with netlist.pb.txt[.gz] and initial.plc, or one Bookshelf .aux) "
            "under this folder", str(root)
        )
    return found


def load_designs(config: TrainConfig) -> list[Design]:
    """Training designs named by the config (files, suite, generated)."""
    from netlists.io import load_design

    paths = [Path(p) for p in config.netlists]
    if config.suite:
        paths += find_suite(config.suite)
    designs = [load_design(p) for p in paths]
    designs += generated_designs(config.generated, config.seed)
    if not designs:
        raise InputError(
            "no training design: give --netlist, --suite or --generated (from Python: TrainConfig's netlists, "
            "suite or generated, or train()'s designs)"
        )
    return designs


def make_vec_env(
    designs: Sequence[Design],
    config: TrainConfig,
    seed: int,
    n_envs: int | None = None,
    snapshots: Sequence[bytes] | None = None,
) -> VecEnv:
    """``n_envs`` monitored environments over ``designs``, seeded ``seed + rank``; with
    ``snapshots`` (one per env, from :meth:`SnapshotMonitor.snapshot`) each env continues the
    episode saved in its snapshot instead."""

    def factory(rank: int) -> Callable[[], SnapshotMonitor]:
        def make() -> SnapshotMonitor:
            env = MacroPlacementEnv(designs=list(designs), **config.env_kwargs())
            env.reset(seed=seed + rank)
            fresh = SnapshotMonitor(env)
            return fresh if snapshots is None else restore_monitor(snapshots[rank], fresh)

        return make

    n = len(snapshots) if snapshots is not None else n_envs or config.n_envs
    if config.vec != "subproc" or n == 1:
        vec: VecEnv = DummyVecEnv([factory(r) for r in range(n)])
    else:
        vec = _subproc_vec_env([factory(r) for r in range(n)])
    vec.seed(seed)
    return vec


#: The longest AF_UNIX socket path the system takes, its closing NUL included (``sun_path``).
_UNIX_SOCKET_PATH_MAX = 104 if sys.platform == "darwin" or sys.platform.startswith("freebsd") else 108


def _start_method() -> str | None:
    """How the env workers start: SB3's own choice (forkserver), unless the forkserver's socket
    under multiprocessing's temporary folder would be too long a path (a TMPDIR of ~75
    characters or more failed as "AF_UNIX path too long"), then spawn (pipes only)."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return None
    from multiprocessing.util import get_temp_dir

    # (the socket is TEMP/listener-XXXXXXXX, as multiprocessing.connection names it)
    socket = os.path.join(get_temp_dir(), "listener-" + "x" * 8)
    return "spawn" if len(os.fsencode(socket)) + 1 > _UNIX_SOCKET_PATH_MAX else None


def _subproc_vec_env(factories: list[Callable[[], gym.Env]]) -> SubprocVecEnv:
    """A ``SubprocVecEnv`` of ``factories``, one process each. The system's limit on threads
    or processes met while starting them is one refusal naming it (it read as a bug of ours, or
    as "cannot write the output: Resource temporarily unavailable"); under a long TMPDIR they
    start by spawn (:func:`_start_method`), and the workers started
    before it are stopped (their half-made vector env could not be closed): the new forkserver
    or spawn processes, as SB3 starts them (one started so by another thread meanwhile would be
    stopped too)."""
    from multiprocessing.context import ForkServerProcess, SpawnProcess

    before = set(multiprocessing.active_children())
    with start_refusals(f"the {len(factories)} environment processes of n_envs {len(factories)} with vec=subproc",
                        "try a smaller n_envs, or vec=dummy"):
        try:
            return SubprocVecEnv(factories, start_method=_start_method())
        except BaseException:
            # (the kinds SB3 starts its env workers as, forkserver or spawn: a library caller's
            # other thread may start processes meanwhile, by default forked; a process forgets
            # its target)
            for process in set(multiprocessing.active_children()) - before:
                if not isinstance(process, ForkServerProcess | SpawnProcess):
                    continue
                process.terminate()
                process.join(5.0)
                if process.is_alive():
                    process.kill()
                    process.join()
            raise


#: Whether this thread's :func:`train` says what it does (its ``verbose``).
_VERBOSE: ContextVar[int] = ContextVar("placer_train_verbose", default=1)


def _say(text: str, file: TextIO | None = None) -> None:
    """Print one of :func:`train`'s informative lines, unless its caller asked for none."""
    if _VERBOSE.get() > 0:
        print(text, file=file)


def train(
    config: TrainConfig,
    progress_bar: bool = True,
    designs: Sequence[Design] | None = None,
    resume: bool = False,
    verbose: int = 1,
) -> Path:
    """Train (or, with ``resume``, continue from ``out/last.zip``) and return ``out``.

    Ctrl-C (or SIGTERM under :func:`placer.interrupts.sigterm_as_interrupt`) saves ``last.zip``
    and re-raises ``KeyboardInterrupt``. Without ``resume`` a folder holding an earlier run's
    files is refused (no silent overwrite, no best placement taken over from another design).
    Checkpoints are taken at rollout boundaries with the state :mod:`placer.rl.resume` saves,
    so a resumed run with the same config is bit-identical to a run that was never stopped
    (Ctrl-C and the time limit drop the unfinished rollout: at most ``n_steps x n_envs`` steps
    are redone). Evaluations run at the first rollout boundary at or past each multiple of
    ``eval_every``, and at the end. A run that ended at its ``timesteps`` or its
    ``time_limit_s`` and is then extended has had one more evaluation (at its old end) than an
    unbroken run: its ``best.*`` may come from that one. A checkpoint without that state (written by an older version) resumes with
    fresh episode seeds and a fresh sampling stream for the policy (both ``seed + steps done``).
    One run per folder at a time.
    ``designs`` given here are in memory, not files ``config.json`` could name: such a run
    (its folder gets ``api_designs.json``) resumes only through this function with them again.
    The caller's torch thread count and process-wide random generators (which stable-baselines3
    reseeds) are as they were when it returns; glibc's malloc limits are its defaults again
    (:func:`placer.heap.large_blocks_reused` changes them while it runs). ``verbose=0``
    leaves out the lines it prints (what it trains on, a resume with fresh seeds, a finished
    run, an interrupt, the time limit; as stable-baselines3's ``verbose``): a notebook or a
    script of one's own then shows only the progress bar (``progress_bar=False``: nothing)
    and the errors.

    Raises:
        ValueError: bad settings (:meth:`TrainConfig.validate`), no training design, a resume
            without the ``designs`` the run was started with.
        FileExistsError, FileNotFoundError: an earlier run without ``resume``, nothing to resume.
        FolderBusy: another run is writing into ``out``.
    """
    from placer.heap import large_blocks_reused
    from placer.rl.random_state import global_random_state_kept

    threads = torch.get_num_threads()
    said = _VERBOSE.set(int(verbose))
    try:  # the caller's torch thread count and random generators are theirs again afterwards
        # (the update's 32-64 MiB tensors reuse freed heap instead of fresh page-faulted maps)
        with global_random_state_kept(), large_blocks_reused():
            return _train(config, progress_bar, designs, resume)
    finally:
        torch.set_num_threads(threads)
        _VERBOSE.reset(said)


def _train(config: TrainConfig, progress_bar: bool, designs: Sequence[Design] | None, resume: bool) -> Path:
    """:func:`train`'s run."""
    from placer.folder_lock import exclusive_folder

    config.validate()
    if designs is not None:
        designs = checked_designs(designs)
    torch.set_num_threads(max(1, config.threads))
    out = Path(config.out)
    with exclusive_folder(out):
        from_api = designs is not None
        _check_run_folder(out, resume, from_api)
        designs = list(designs) if designs is not None else load_designs(config)
        eval_design = _eval_design(config, designs)
        if resume:
            check_resumable(out, config, designs, eval_design)
        device = resolve_device(config.device)
        tb = str(out / "tb") if has_tensorboard() else None
        state: TrainingState | None = None
        if resume:
            resumed = _resumed_model(config, out, designs, device, tb)
            if resumed is None:  # finished already (said so)
                return out
            model, vec, state = resumed
        else:
            model, vec = _new_model(config, designs, device, tb)
        with _closed_on_error(vec):  # (the evaluation env too large, a file that cannot be written)
            # saved inside every .zip (SB3 keeps plain attributes): a model copied away from its
            # run folder is still placed with the environment it was trained in
            # (an attribute of our own, which SB3's MaskablePPO does not declare: set by name)
            setattr(model, "env_options", env_options(config))  # noqa: B010
            monitor = TrainingMonitor(config, eval_design, state)
            resuming = f", resuming at step {model.num_timesteps}" if resume else ""
            _say(f"training on {device}; run folder {out}{resuming}")  # once every check has passed
            _write_run_files(config, out, designs, eval_design, from_api, resume)
            if tb is None:  # otherwise SB3 makes an empty tempdir/SB3-<time> folder on every learn()
                model.set_logger(Logger(folder=None, output_formats=[]))
        try:  # (_learn_and_finish closes vec on its way out by an exception)
            _learn_and_finish(config, out, model, vec, monitor, progress_bar)
        finally:  # (its TensorBoard writer's thread stayed, one more per call of train())
            logger = getattr(model, "_logger", None)  # (made by learn(): none if nothing was left)
            if logger is not None:
                logger.close()
        vec.close()
    return out


def checked_designs(designs: object) -> list[Design]:
    """``designs`` as a list of (Netlist, Placement) pairs, or an InputError naming the first
    item that is none (a name failed, after config.json was written, in the designs' record)."""
    if isinstance(designs, str | bytes | os.PathLike) or not isinstance(designs, Iterable):
        raise InputError(f"designs must be a list of (Netlist, Placement) pairs, got {type(designs).__name__} {designs!r:.80}")
    items = list(designs)
    if len(items) == 2 and isinstance(items[0], Netlist) and isinstance(items[1], Placement):
        raise InputError("designs is a list of (Netlist, Placement) pairs: give one design as designs=[(netlist, placement)]")
    for k, item in enumerate(items):
        if not (isinstance(item, tuple | list) and len(item) == 2 and isinstance(item[0], Netlist)
                and isinstance(item[1], Placement)):  # fmt: skip
            files = (" (a design's name or file goes into TrainConfig's netlists; netlists.io.load_design(name) "
                     "gives its pair)") if isinstance(item, str | os.PathLike) else ""
            raise InputError(
                f"designs[{k}] must be a (Netlist, Placement) pair, got {type(item).__name__} {item!r:.80}{files}"
            )
    if not items:
        raise InputError("designs is empty: give at least one (Netlist, Placement) pair, or leave it None")
    return [(netlist, placement) for netlist, placement in items]


def _check_run_folder(out: Path, resume: bool, from_api: bool) -> None:
    """Refuse a folder holding an earlier run's files without ``resume``, a resume with no
    ``last.zip``, and a resume of a run trained on in-memory designs without them."""
    last = out / "last.zip"
    earlier = [name for name in RUN_FILES if (out / name).exists()]
    if earlier and not resume:
        if last.exists():
            raise FileExistsError(
                f"{out} already holds a run ({', '.join(earlier)}): resume it (--resume; "
                "resume=True from Python), or use another --out (TrainConfig's out)"
            )
        raise FileExistsError(
            f"{out} holds files of an earlier run without a checkpoint to resume "
            f"({', '.join(earlier)}): remove them or use another --out (TrainConfig's out)"
        )
    if resume and not last.exists():
        raise FileNotFoundError(
            errno.ENOENT,
            "nothing to resume: no last.zip (a run killed before its first checkpoint; "
            "remove the folder and start again)",
            str(last),
        )
    if resume and not from_api and (out / API_DESIGNS).exists():
        names = read_run_json(out / API_DESIGNS).get("names", [])
        raise InputError(
            f"{out} was trained on designs given to train(designs=...) ({', '.join(names)}), "
            "which its config.json cannot name: resume it the same way, "
            "train(config, designs=..., resume=True)"
        )


def _eval_design(config: TrainConfig, designs: Sequence[Design]) -> Design:
    """The design evaluated on: ``config.eval_netlist`` loaded, else the first training design."""
    if config.eval_netlist:
        from netlists.io import load_design

        return load_design(config.eval_netlist)
    return designs[0]


def _resumed_model(
    config: TrainConfig, out: Path, designs: Sequence[Design], device: str, tb: str | None
) -> tuple[MaskablePPO, VecEnv, TrainingState | None] | None:
    """The run's checkpoint loaded with its envs and the training state it resumes with
    (``None`` where it does not fit the checkpoint); ``None`` in place of all three, said,
    when the run has already reached ``config.timesteps``. Drops the curve rows and
    TensorBoard events past the checkpoint."""
    source, state = resume_point(out)
    try:
        model = load_model(source, device=device, tensorboard_log=tb)
    except IncompatibleModel:
        raise  # (its checkpoints are as old: no earlier one to resume from)
    except InputError as error:
        raise InputError(
            f"{error}; to resume from an earlier checkpoint, copy one of "
            f"{out / 'checkpoints'}/step_*.zip over last.zip and remove {LAST_STATE}"
        ) from None
    from placer.rl.buffer import use_design_constant_buffer

    use_design_constant_buffer(model)  # (saved models leave their buffer's class out)
    if config.timesteps < model.num_timesteps:  # (its config.json would say it ended there)
        raise InputError(
            f"{out} is at step {model.num_timesteps}: timesteps {config.timesteps} would "
            f"train nothing; give more than {model.num_timesteps} to go on"
        )
    if config.timesteps == model.num_timesteps:  # finished: said so, not run as if trained
        _say(f"{out} has finished: step {model.num_timesteps} of {config.timesteps}; "
             "nothing to train (give more timesteps to go on)")
        return None
    # (a run saved at step 0 evaluates step 0 again when it starts: drop that row too)
    kept_through = model.num_timesteps or -1
    drop_curve_rows_after(out / "curve.csv", kept_through)
    purge_tensorboard_after(out / "tb", kept_through)
    vec, state = _resumed_envs(config, out, designs, model, state)
    return model, vec, state


def _resumed_envs(
    config: TrainConfig, out: Path, designs: Sequence[Design], model: MaskablePPO, state: TrainingState | None
) -> tuple[VecEnv, TrainingState | None]:
    """Give the resumed ``model`` its envs: each continuing its saved episode where ``state``
    matches the checkpoint and ``n_envs`` (the state applied to the model), else fresh episode
    seeds, said why; returns the envs and the state kept (or ``None``)."""
    why = f"no saved training state for step {model.num_timesteps}"
    if state is None and (out / LAST_STATE).exists():  # (damaged: said, not read as missing)
        reason = read_state(out / LAST_STATE)[1] or "damaged, or from another version"
        why = f"{LAST_STATE} is unreadable ({reason})"  # (printed after "{out}: ")
    if state is not None and state.steps != model.num_timesteps:
        state = None  # an older version's state, or one whose model is gone
    if state is not None and len(state.envs) != config.n_envs:
        why = f"the saved training state holds {len(state.envs)} envs' episodes, not {config.n_envs}"
        state = None  # another n_envs: the saved episodes do not map onto these envs
    if state is None:
        _say(f"{out}: {why}: resuming with fresh episode seeds (not bit-identical to an unbroken run)")
        fresh = config.seed + model.num_timesteps
        # loading the model seeded torch, numpy and the action space with the run's own seed:
        # without a fresh one the policy drew its actions from step 0's stream again (set
        # before the envs are attached, which it would reseed otherwise)
        model.set_random_seed(fresh % 2**32)  # (numpy's seeds end at 2**32 - 1; the envs take any)
        vec = make_vec_env(designs, config, fresh)
        with _closed_on_error(vec):
            model.set_env(vec)
    else:
        vec = make_vec_env(designs, config, config.seed, snapshots=state.envs)
        with _closed_on_error(vec):
            model.set_env(vec)
            apply(model, state)
    return vec, state


def _new_model(
    config: TrainConfig,
    designs: Sequence[Design],
    device: str,
    tb: str | None,
    buffer_class: type[MaskableDictRolloutBuffer] | None = None,
) -> tuple[MaskablePPO, VecEnv]:
    """A fresh MaskablePPO model with the config's settings, on new envs over ``designs``;
    ``buffer_class`` replaces its rollout buffer (the tests and benchmarks compare
    sb3-contrib's own with :class:`~placer.rl.buffer.DesignConstantRolloutBuffer`)."""
    from sb3_contrib import MaskablePPO

    from placer.rl.buffer import DesignConstantRolloutBuffer
    from placer.rl.policy import PlacementPolicy

    vec = make_vec_env(designs, config, config.seed)
    with _closed_on_error(vec):
        model = MaskablePPO(
            PlacementPolicy,
            vec,
            # the design's graph and vector once per design, not in every row: 37 % of the
            # buffer's bytes on the default config; the same training, bit for bit
            rollout_buffer_class=buffer_class or DesignConstantRolloutBuffer,
            n_steps=config.n_steps,
            batch_size=config.batch_size,
            n_epochs=config.n_epochs,
            learning_rate=config.learning_rate,
            ent_coef=config.ent_coef,
            gamma=config.gamma,
            gae_lambda=config.gae_lambda,
            policy_kwargs=policy_kwargs(config),
            tensorboard_log=tb,
            seed=config.seed,
            device=device,
            verbose=0,
        )
    return model, vec


def _write_run_files(
    config: TrainConfig, out: Path, designs: Sequence[Design], eval_design: Design, from_api: bool, resume: bool
) -> None:
    """Write the run's ``config.json``, its designs' record (``designs.json``, kept on resume;
    ``api_designs.json`` for in-memory designs) and ``env_kwargs.json``."""
    # written once the designs load and the model and the evaluation env build, and their record
    # is made: a run that fails before leaves no config.json behind to block its corrected rerun
    record = designs_record(designs, eval_design)
    write_run_json(out / "config.json", asdict(config))
    if from_api:
        write_run_json(out / API_DESIGNS, {"names": record["names"]})
    saved_designs = read_run_json(out / DESIGNS) if resume and (out / DESIGNS).exists() else None
    if saved_designs is None:
        write_run_json(out / DESIGNS, record)
    elif "eval" not in saved_designs:  # a run from before: recorded from now on
        write_run_json(out / DESIGNS, {**saved_designs, "eval": record["eval"]})
    write_run_json(out / "env_kwargs.json", env_options(config))


def _learn_and_finish(
    config: TrainConfig, out: Path, model: MaskablePPO, vec: VecEnv, monitor: TrainingMonitor, progress_bar: bool
) -> None:
    """Run the steps left to ``config.timesteps`` and end the run; on the way out by an
    exception close the progress bar and ``vec`` (an interrupt saves ``last.zip`` first, a NaN
    met in training is raised as divergence)."""
    # learn() runs whole rollouts: ask for what it will run, so its progress bar adds up
    rollout = config.n_steps * config.n_envs
    remaining = -(-(config.timesteps - model.num_timesteps) // rollout) * rollout
    # the bar made here, not by learn(): an interrupt closes it before saying what was saved
    # (learn() left its bar live, and the messages were drawn into it)
    bar = PhaseProgressBar(time_limit_s=config.time_limit_s) if progress_bar and has_progress_bar() else None
    try:
        if remaining > 0:
            _learn(model, monitor, bar, remaining)
            _finish(config, out, model, monitor)
    except ValueError as error:
        _close_bar(bar)  # (before the one-line error: it was drawn into the live bar)
        _close_after_interrupt(vec)
        if isinstance(error, TrainingDiverged | ObservationNotFinite):  # (said already, by check_sound)
            raise
        # a NaN policy output met inside SB3's rollout or an evaluation episode
        if not weights_finite(model) or "found invalid values" in str(error):
            raise diverged(model, out) from None
        raise
    except KeyboardInterrupt:
        _close_bar(bar)
        monitor.save_last_boundary(completed=False)
        _say(f"interrupted: saved {out / 'last.zip'} at step {model.num_timesteps} (the last completed update; "
             "the steps after it are run again on resume)", sys.stderr)
        _close_after_interrupt(vec)
        raise
    except BaseException:
        _close_bar(bar)
        _close_after_interrupt(vec)
        raise


def _learn(model: MaskablePPO, monitor: TrainingMonitor, bar: PhaseProgressBar | None, remaining: int) -> None:
    """The ``learn()`` call: ``remaining`` steps with the monitor (and the bar) as callbacks."""
    model.learn(
        remaining,
        callback=CallbackList([monitor, *([bar] if bar is not None else [])]),
        reset_num_timesteps=False,
        tb_log_name="ppo",
    )


def _finish(config: TrainConfig, out: Path, model: MaskablePPO, monitor: TrainingMonitor) -> None:
    """End a run that learned: back to its last rollout boundary, the final evaluation, the
    soundness check, the final ``last.zip``, and a word when the time limit ended it early."""
    # the time limit stops a rollout: the model goes back to its last boundary;
    # then the final evaluation, of that model when the time limit stopped it (its
    # last steps were never evaluated: up to eval_every steps of training lost to
    # best.zip; resumed, the run has this one evaluation more than an unbroken one)
    monitor.rewind_to_boundary()
    if monitor.last_eval_step != model.num_timesteps:
        monitor.evaluate()
    check_sound(model, out)  # (the final update may be the one that diverged)
    monitor.save_last_boundary(completed=True)  # not after a crash: no broken last.zip
    if model.num_timesteps < config.timesteps:  # the time limit ended it early
        limit = config.time_limit_s
        why = f"by time_limit_s ({limit:g} s) " if limit is not None else ""
        _say(f"stopped {why}at step {model.num_timesteps} of {config.timesteps}: "
             f"saved {out / 'last.zip'}; resume to go on (placer train: --resume, with --set "
             "time_limit_s=... for more time; train(config, resume=True) from Python)")


@contextmanager
def _closed_on_error(vec: VecEnv) -> Iterator[None]:
    """Close ``vec`` when the block raises, before the exception goes on: between making the
    envs and training (the model, the evaluation env, the run's files) a failure left
    ``SubprocVecEnv``'s worker processes running for as long as the exception was kept (a
    REPL's ``sys.last_value``, a notebook's last error, a caller's ``except ... as error``)."""
    try:
        yield
    except BaseException:
        _close_after_interrupt(vec)
        raise


def _close_after_interrupt(vec: VecEnv) -> None:
    """Close ``vec`` while an exception is on its way out. A Ctrl-C reaches ``SubprocVecEnv``'s
    workers too (same process group): they are gone, and closing them fails on the broken pipe;
    that failure must not replace the interrupt (the run is saved; exit 130, not an error)."""
    try:
        vec.close()
    except (OSError, EOFError):
        pass


def _close_bar(bar: PhaseProgressBar | None) -> None:
    """Close a progress bar that ``learn()`` left live by raising (it closes it only at a
    normal end), so that the next line is not drawn into it."""
    if bar is not None and getattr(bar, "pbar", None) is not None:
        bar.pbar.close()
