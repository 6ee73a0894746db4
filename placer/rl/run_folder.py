"""The files of a training run's folder: writing them atomically, checkpoints, reading them
back for a resume, and refusing a resume the folder does not match.

Output folder layout (``out``)::

    config.json           the TrainConfig (resume reads it back)
    designs.json          the training designs' names and content digests (a resume on edited
                          designs is refused); api_designs.json instead for train(designs=...)
    env_kwargs.json       environment options a placer needs to rebuild the same env
    .placer.lock          one run per folder at a time (placer.folder_lock)
    last.zip              latest checkpoint (every ``checkpoint_every`` steps, at the end and on Ctrl-C)
    last_state.pkl        what last.zip leaves out for an exact resume (generators, episodes in
                          progress; :mod:`placer.rl.resume`)
    checkpoints/step_N.zip  every checkpoint, or the newest ``keep_checkpoints`` of them
    best.zip best.plc best.json   best deterministic evaluation so far by the trained objective
                                  (the weighted cost; its placement as .plc)
    curve.csv             a row per evaluation: steps, wall_s (training seconds, on across
                          resumes), train_mean_proxy (of recent training episodes), eval_proxy,
                          eval_objective (the weighted cost best.zip is chosen by)
    tb/                   TensorBoard logs (when tensorboard is installed)
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from netlists.digest import design_digest
from netlists.errors import InputError
from netlists.formats.textio import json_loads, text_writer, write_atomically
from placer.interrupts import interrupts_deferred
from placer.rl.config import RESUMABLE_CHANGES, Design, TrainConfig
from placer.rl.resume import (
    TrainingState,
    load_state,
    save_state,
)

#: Beside ``last.zip``: the :class:`~placer.rl.resume.TrainingState` of the same step.
LAST_STATE = "last_state.pkl"


#: Names of the designs a run was given through ``train(designs=...)``: they are in memory, not
#: files its config.json could name, so only the API can resume such a run.
API_DESIGNS = "api_designs.json"


#: Names and content digests of a run's training designs, in order: a resume over other designs,
#: or over one edited in place, is refused (its saved episodes refer to the designs by position,
#: and the evaluation design would change).
DESIGNS = "designs.json"


#: The columns of a run's curve.csv (one row per evaluation).
CURVE_COLUMNS = ["steps", "wall_s", "train_mean_proxy", "eval_proxy", "eval_objective"]


#: Files a run writes into its folder; a new run refuses a folder holding any of them (also its
#: checkpoints/ and tb/ folders: left by `rm RUN/*`, they mixed an old run's checkpoints and
#: TensorBoard curve into the new one's).
RUN_FILES = ("config.json", "last.zip", "best.json", "best.zip", "best.plc", "curve.csv", API_DESIGNS, LAST_STATE,
             DESIGNS, "env_kwargs.json", "checkpoints", "tb")


def write_run_json(path: Path, data: Any) -> None:
    """``data`` as JSON at ``path``, atomically; a full disk names the file and leaves no
    temporary (a fixed ``NAME.tmp`` was left behind and the error named no file)."""
    write_atomically({path: text_writer(json.dumps(data, indent=2, default=str))})


def read_run_json(path: Path) -> dict[str, Any]:
    """A JSON object the run wrote; a damaged one is named with what to do."""
    try:
        data = json_loads(path.read_text())
    except OSError as error:  # (a file this user may not read is not damaged: said as it is)
        raise InputError(f"{path}: cannot be read ({error.strerror or error})") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InputError(f"{path}: damaged ({error}); restore it or start a new run") from None
    if not isinstance(data, dict):
        raise InputError(f"{path}: damaged (not a JSON object); restore it or start a new run")
    return data


#: What a saved model leaves out: the rollout buffer's class, which SB3 keeps by reference (a
#: model naming ``placer.rl.buffer`` could not be loaded by a version without it; a resume sets
#: the buffer again, :func:`placer.rl.buffer.use_design_constant_buffer`).
NOT_SAVED = ["rollout_buffer_class", "rollout_buffer_kwargs"]


def save_model(model: Any, path: Path) -> None:
    """``model.save`` through a temporary name, so a reader never sees half a zip; a failed
    save (a full disk) removes its partial file and names the file it was writing."""
    tmp = path.with_name(path.stem + ".tmp.zip")
    try:
        model.save(tmp, exclude=NOT_SAVED)
        tmp.replace(path)
    except OSError as error:
        tmp.unlink(missing_ok=True)
        raise OSError(error.errno, f"cannot save the model ({error.strerror or error})", str(path)) from None


def save_best(model: Any, env: Any, out: Path, placement: Any, record: dict[str, Any]) -> None:
    """Write ``best.zip`` (``model``), ``best.plc`` (``placement``, through ``env.write_plc``) and
    ``best.json`` (``record``) as one set: all three are staged first, then renamed in a row, so
    a kill or a full disk leaves the earlier three together (written one after the other, a kill
    between them left a new ``best.zip`` beside the older ``best.plc`` and ``best.json``)."""

    def save_model_to(temporary: Path) -> None:
        with temporary.open("xb") as f:
            model.save(f, exclude=NOT_SAVED)

    write_atomically({
        out / "best.zip": save_model_to,
        out / "best.plc": lambda temporary: env.write_plc(temporary, placement, file_name="best.plc"),
        out / "best.json": text_writer(json.dumps(record, indent=2, default=str)),
    })  # fmt: skip


def _prune_checkpoints(folder: Path, keep: int) -> None:
    """Remove all but the ``keep`` highest-step ``step_N.zip`` files of ``folder``."""
    steps = sorted((int(p.stem[len("step_"):]), p) for p in folder.glob("step_*.zip")
                   if p.stem[len("step_"):].isdigit())  # fmt: skip
    for _, path in steps[:-keep]:
        path.unlink(missing_ok=True)


def save_checkpoint(model: Any, out: Path, steps: int, state: TrainingState | None = None, keep: int = 0) -> Path:
    """Write ``checkpoints/step_N.zip`` and ``last.zip`` (atomically), and ``state`` (the
    training state at these steps) as ``last_state.pkl`` first; without ``state`` an earlier
    ``last_state.pkl`` is removed (it belongs to an older step). ``keep`` > 0: only the newest
    ``keep`` step checkpoints stay (a 10M-step run at the default 10k steps kept ~1,000 files,
    ~2 GB); ``last.zip`` and ``best.zip`` are files of their own, never removed here."""

    with interrupts_deferred():  # a second Ctrl-C waits for the save it would break
        (out / "checkpoints").mkdir(parents=True, exist_ok=True)
        save_model(model, out / "checkpoints" / f"step_{steps}.zip")
        if keep > 0:
            _prune_checkpoints(out / "checkpoints", keep)
        if state is not None:
            save_state(out / LAST_STATE, state)
        else:
            (out / LAST_STATE).unlink(missing_ok=True)
        save_model(model, out / "last.zip")
    return out / "last.zip"


def check_resumable(out: Path, config: TrainConfig, designs: Sequence[Design], eval_design: Design) -> None:
    """Refuse resuming ``out`` with settings or designs other than the run's own (the model
    keeps its own, so config.json would then describe another run; a changed suite would put
    saved episodes on other designs).

    Raises:
        ValueError: naming the first differences.
    """
    saved_path = out / "config.json"
    if saved_path.exists():
        saved = read_run_json(saved_path)
        now = json.loads(json.dumps(asdict(config)))  # tuples as lists, as stored
        changed = [k for k in now if k not in RESUMABLE_CHANGES and k in saved and saved[k] != now[k]]
        if changed:
            detail = ", ".join(f"{k} ({saved[k]!r} -> {now[k]!r})" for k in changed[:4])
            raise InputError(
                f"{out}: a resumed run keeps its own settings, but {detail} differ from its "
                f"config.json; only {', '.join(sorted(RESUMABLE_CHANGES - {'out'}))} may change"
            )
    names_path = out / DESIGNS
    if names_path.exists():
        saved_designs = read_run_json(names_path)
        before = saved_designs.get("names")
        digests = saved_designs.get("digests")  # (absent in runs from before the digests)
        # (a damaged file was blamed on the designs: "changed since the run started (was ; now x)")
        if not (isinstance(before, list) and all(isinstance(n, str) for n in before)) or not (
                digests is None or isinstance(digests, list) and len(digests) == len(before)
                and all(isinstance(d, str) for d in digests)):
            raise InputError(f"{names_path}: damaged (no list of design names and their digests); restore it "
                             "or start a new run")
        now_names = [netlist.name for netlist, _ in designs]
        if before != now_names:
            # a suite's Bookshelf folders are designs since 2026-12-05: a run begun before saw none
            # (said where they are the whole difference)
            added = [nl.name for nl, _ in designs if "bookshelf_origin" in nl.metadata and nl.name not in before]
            since = (f" (the suite's Bookshelf designs, {', '.join(added)}, are found since 2026-12-05; "
                     "a run begun before did not train on them: move them out of the suite to resume)"
                     if config.suite and added and [n for n in now_names if n not in added] == before else "")  # fmt: skip
            raise InputError(
                f"{out}: the training designs changed since the run started (was "
                f"{', '.join(before)}; now {', '.join(now_names)}){since}: restore them or start a new run"
            )
        if digests is not None:
            edited = [name for name, digest, (netlist, placement) in zip(before, digests, designs, strict=False)
                      if digest != design_digest(netlist, placement)]
            if edited:
                raise InputError(
                    f"{out}: {', '.join(edited)} changed since the run started (same name, other "
                    "content: its netlist or initial placement was edited): restore it or start a new run"
                )
        evaluated = saved_designs.get("eval")  # (absent in runs from before it was recorded)
        if isinstance(evaluated, dict) and evaluated.get("digest") != design_digest(*eval_design):
            raise InputError(
                f"{out}: the evaluation design {evaluated.get('name')} changed since the run "
                "started (its netlist or initial placement was edited): the curve and best.* would "
                "compare placements of two designs; restore it or start a new run"
            )


def last_curve_row(out: Path) -> list[str] | None:
    """The last row of a run's curve.csv (None: no curve, or no row yet)."""
    path = out / "curve.csv"
    if not path.exists():
        return None
    with path.open(newline="") as f:
        rows = [r for r in list(csv.reader(f))[1:] if r]
    return rows[-1] if rows else None


def curve_wall_time(out: Path) -> float:
    """The wall seconds of a run's last curve row (0 without one): its training time so far
    (curve.csv's wall_s runs on across resumes)."""
    row = last_curve_row(out)
    return curve_number(out / "curve.csv", row, 1) if row is not None and len(row) > 1 else 0.0


def curve_number(path: Path, row: list[str], column: int) -> float:
    """One number of a curve.csv row; a damaged row is named with its file."""
    try:
        return float(row[column])
    except (IndexError, ValueError):
        raise InputError(f"{path}: damaged row {','.join(row)!r}; restore the file or remove the row") from None


def designs_record(designs: Sequence[Design], eval_design: Design) -> dict[str, Any]:
    """What designs.json holds: the training designs' names and content digests, in order,
    and the evaluation design's."""
    return {
        "names": [netlist.name for netlist, _ in designs],
        "digests": [design_digest(netlist, placement) for netlist, placement in designs],
        "eval": {"name": eval_design[0].name, "digest": design_digest(*eval_design)},
    }


def resume_point(out: Path) -> tuple[Path, TrainingState | None]:
    """The model to resume from and its training state.

    Normally ``last.zip`` and ``last_state.pkl`` of the same step. A run killed after writing
    the state of step N but before ``last.zip`` of step N leaves ``last.zip`` one checkpoint
    behind; ``checkpoints/step_N.zip`` (written, atomically, before the state) then goes with
    the state, so the resume stays exact."""
    last = out / "last.zip"
    state = load_state(out / LAST_STATE)
    if state is not None:
        matching = out / "checkpoints" / f"step_{state.steps}.zip"
        if matching.exists():
            return matching, state
    return last, state


def purge_tensorboard_after(tb: Path, steps: int) -> None:
    """Hide from TensorBoard what a stopped run logged past ``steps``, as curve.csv drops its
    rows (the resumed run logs those steps again: TensorBoard showed both): a session start at
    ``steps + 1`` in the folder SB3 goes on writing, which TensorBoard reads as a restart
    there and drops the earlier events from that step on.

    TensorBoard reads a folder's event files in name order (``...tfevents.<second>.<host>.
    <pid>.<writer count>``), so the session start must sort after every file there and before
    the one the resumed run opens next. Written under its own name it did not always: within
    one second and one process the writer counts compare as text (``.10`` before ``.9``), and
    the resumed run's file read before the session start lost its own steps past ``steps``.
    So it is named after the newest file there (that name and ``.purge``), and where that file
    was opened this very second, the run waits for the next one (its next file then sorts
    after both)."""
    if not tb.is_dir() or not has_tensorboard():
        return
    from stable_baselines3.common.utils import get_latest_run_id
    from torch.utils.tensorboard import SummaryWriter

    folder = tb / f"ppo_{get_latest_run_id(str(tb), 'ppo')}"  # (SB3's, with reset_num_timesteps off)
    if not folder.is_dir():
        return
    existing = sorted(path.name for path in folder.iterdir() if "tfevents" in path.name)
    if not existing:
        SummaryWriter(log_dir=str(folder), purge_step=steps + 1).close()
        return
    with tempfile.TemporaryDirectory(dir=tb, prefix=".purge-") as scratch:
        SummaryWriter(log_dir=scratch, purge_step=steps + 1).close()
        (written,) = Path(scratch).iterdir()
        os.replace(written, folder / f"{existing[-1]}.purge")
    _wait_past_the_second_of(existing[-1])


def _wait_past_the_second_of(event_file: str) -> None:
    """Sleep until the clock has passed the second an event file's name records (none where
    the name holds no second, or that second is past)."""
    fields = event_file.split("tfevents.", 1)[-1].split(".")
    if fields and fields[0].isdigit():
        left = int(fields[0]) + 1 - time.time()
        if 0 < left <= 1:
            time.sleep(left)


def drop_curve_rows_after(path: Path, steps: int) -> None:
    """Remove learning-curve rows past ``steps`` (written after the checkpoint a killed run
    resumes from: they will be measured again)."""
    if not path.exists():
        return
    with path.open(newline="") as f:
        rows = list(csv.reader(f))
    kept = rows[:1] + [r for r in rows[1:] if r and curve_number(path, r, 0) <= steps]
    if len(kept) != len(rows):
        text = io.StringIO(newline="")
        csv.writer(text).writerows(kept)
        write_atomically({path: text_writer(text.getvalue())})


def has_tensorboard() -> bool:
    try:
        import tensorboard  # noqa: F401
    except ImportError:
        return False
    return True
