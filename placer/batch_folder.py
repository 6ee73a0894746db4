"""The runs folder's bookkeeping: publishing a run's staged ``.plc`` once its row is committed,
recovering what a kill left staged, the runs already finished, and refusing tasks that clash with
the runs stored there (another budget, other options, another design under the same name)."""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path

from netlists.errors import InputError
from netlists.io import INITIAL_PLC
from placer.batch_task import STAGED_SUFFIX, PlacementTask, run_plc_path, staged_path
from placer.provenance import options_json
from placer.results import (
    DB_NAME,
    STATUS_OK,
    ResultStore,
    RunRecord,
    attempt_of,
    canonical_options,
    plc_of_row_is_there,
    same_design,
    same_design_file,
)


def check_inside_runs_dir(runs_dir: Path, tasks: Iterable[PlacementTask]) -> None:
    """Refuse a task whose ``.plc`` would land outside ``runs_dir``: a task made for another
    folder (its worker wrote there, its row and file went here: a row without its ``.plc``),
    and a link in the runs folder (``RUNS/d1 -> ../elsewhere``, from a shared folder or an
    unpacked archive) had the batch overwrite and remove ``.plc`` files wherever it led.

    Raises:
        ValueError: naming the other folder, or the link and where it leads.
    """
    root = runs_dir.resolve()
    tasks = list(tasks)
    folders = {str(t.runs_dir) for t in tasks}  # (each resolved once, not once per task)
    elsewhere = sorted(folder for folder in folders if Path(folder).resolve() != root)
    if elsewhere:  # (their workers wrote the .plc files there; the rows and files went here)
        raise InputError(f"tasks made for another runs folder ({', '.join(elsewhere)}) given to a batch "
                         f"into {runs_dir}: make them with this folder")
    for folder in sorted({t.plc_relpath.parent for t in tasks}):
        path = runs_dir
        for part in folder.parts:
            path = path / part
            if not path.is_symlink():
                continue
            target = path.resolve()
            if not path.exists():
                raise InputError(f"{path} is a broken link (to {target}): remove it or choose another --out")
            if not target.is_relative_to(root):
                raise InputError(
                    f"{path} is a link leading outside the runs folder (to {target}): runs "
                    "are written only inside it; remove the link or choose another --out"
                )


def publish(runs_dir: Path, record: RunRecord) -> None:
    """Move ``record``'s staged ``.plc`` into place (call once its row is committed)."""
    if record.status == STATUS_OK and record.plc_path:
        final = runs_dir / record.plc_path
        staged = staged_path(final)
        if staged.exists():
            staged.replace(final)


def finished_keys(runs_dir: Path, store: ResultStore) -> set[tuple[str, str, int, float]]:
    """Keys of the ok runs that ``--resume`` skips: those whose ``.plc`` is still there (a run
    whose file was deleted or replaced by hand is placed again)."""
    return {
        r.key for r in store.records(STATUS_OK) if plc_of_row_is_there(runs_dir, r.plc_path, r.plc_attempt)
    }


def remove_superseded_plc(runs_dir: Path, record: RunRecord) -> None:
    """A failed attempt replaces the run's row: its earlier ``.plc`` goes too, so no file
    stays beside a row that no longer describes it."""
    if record.status != STATUS_OK:
        (runs_dir / run_plc_path(record.design, record.method, record.seed)).unlink(missing_ok=True)


def recover_staged(runs_dir: Path, store: ResultStore) -> None:
    """Settle the staged ``.plc`` files a killed batch left behind: one whose row was committed
    (same attempt id) is moved into place, any other is removed, so every ok row's ``.plc``
    holds the placement its numbers were measured on."""
    rows = {r.plc_path: r.plc_attempt for r in store.records(STATUS_OK) if r.plc_path}
    for staged in runs_dir.rglob("*.plc" + STAGED_SUFFIX):
        final = staged.with_name(staged.name[: -len(STAGED_SUFFIX)])
        attempt = rows.get(final.relative_to(runs_dir).as_posix())
        try:
            matches = attempt is not None and attempt_of(staged) == attempt
        except OSError:  # an unreadable file
            matches = False
        if matches:
            staged.replace(final)
        else:
            staged.unlink(missing_ok=True)
    for partial in runs_dir.rglob("*.plc.tmp" + STAGED_SUFFIX):  # a write cut short by a kill
        partial.unlink(missing_ok=True)


def check_conflicts(
    store: ResultStore, tasks: Sequence[PlacementTask], resume: bool = False
) -> None:
    """Refuse tasks that would silently mix with other runs in the folder.

    Always: a task whose ``.plc`` would overwrite an ok run of another budget, a design name
    the folder holds from another netlist file or from other contents of the same files (its
    files edited since: :func:`design_files_digest`), and options or a plugin's code other than
    those of the ok runs of the same method that stay. With ``resume`` (which skips
    finished runs): a finished run made with other method options or from another design of
    the same name, since skipping it would report that run as this one.
    """
    from placer.algorithms.base import same_method_source

    existing = {(r.design, r.method, int(r.seed)): r for r in store.records(STATUS_OK)}
    where = store.path.parent
    for t in tasks:  # (found after the run, its ok row already committed, pointing at a folder)
        final = where / t.plc_relpath
        if final.is_dir() or (final.exists() and not final.is_file()):
            raise InputError(f"{final} is in the way of run {t.design.name}/{t.method}/seed{t.seed}'s "
                             ".plc (not a file): remove it")
    _refuse_mixed_designs_and_options(existing, tasks, resume, where)
    for t in tasks:
        other = existing.get((t.design.name, t.method, int(t.seed)))
        if other is None:
            continue
        what = f"{where} already holds {t.method} on {t.design.name} seed {t.seed}"
        if float(other.budget_s) != float(t.budget_s):
            raise InputError(
                f"{what} with budget {other.budget_s:.12g} s (asked: {t.budget_s:.12g} s); use "
                "another runs folder for another budget"
            )
        if not resume:
            continue  # the run is placed again and its row replaced
        asked = options_json(t.options)
        if _stored_options(other, where) != json.loads(asked):
            raise InputError(
                f"{what} with options {other.options} (asked: {asked}); --resume would keep "
                "it: rerun without --resume to replace it, or use another runs folder"
            )
        if not same_method_source(other.method_source or "", t.method_source):
            own = "placer-gym's own code"
            raise InputError(
                f"{what} made by {other.method_source or own} (asked: {t.method_source or own}); "
                "--resume would keep it: rerun without --resume to replace it, or use another "
                "runs folder"
            )
        if not same_design(other, t.design.netlist, t.design_digest):
            raise InputError(
                f"{what} placed from {_other_design_text(other, t)}; use another runs folder "
                "for this suite"
            )
    # (after the runs --resume would keep, whose refusal says so)
    _refuse_other_plugin_code(existing, tasks, resume, where)


class CommitMixWarning(UserWarning):
    """A batch adds runs of a method to a folder whose runs of it were made by other code."""


def warn_other_commits(store: ResultStore, todo: Sequence[PlacementTask]) -> None:
    """Warn once per built-in method when the folder's ok runs of it that stay (not replaced
    by ``todo``) were made at another git commit than ``todo``'s: its leaderboard column would
    mix two versions of the code (a plugin's edited code is refused by :func:`check_conflicts`;
    a built-in's version number never changes). Not refused: resuming after a fix is a real
    workflow, and the leaderboard names the mix. Unknown commits (not a git checkout) are not
    compared."""
    asked: dict[str, str] = {}
    for t in todo:
        if not t.method_source and t.git_commit:
            asked.setdefault(t.method, t.git_commit)
    if not asked:
        return
    counted = store.ok_commit_counts(asked, (t.key for t in todo))  # (the runs todo replaces left out)
    stored = {m: others for m, commits in counted.items()
              if (others := {c: n for c, n in commits.items() if c != asked[m]})}
    for method, commits in sorted(stored.items()):
        before = ", ".join(f"{c[:10]} ({n} run{'s' if n > 1 else ''})" for c, n in commits.items())
        warnings.warn(CommitMixWarning(
            f"{store.path.parent} holds {method} runs made at git commit {before}; this batch runs "
            f"{method} at commit {asked[method][:10]}: its leaderboard column will mix runs of different "
            "code (the page names the mix; rerun without --resume, or use another runs folder, to keep one)"),
            stacklevel=3)


def _staying_by_column(
    existing: dict[tuple[str, str, int], RunRecord], tasks: Sequence[PlacementTask], resume: bool
) -> dict[tuple[str, float], list[RunRecord]]:
    """The folder's ok runs that stay after the batch (without ``resume`` the tasks' own runs
    are placed again and replaced), grouped by leaderboard column: (method, budget)."""
    replaced = set() if resume else {(t.design.name, t.method, int(t.seed)) for t in tasks}
    staying: dict[tuple[str, float], list[RunRecord]] = {}
    for key, row in existing.items():
        if key not in replaced:
            staying.setdefault((row.method, float(row.budget_s)), []).append(row)
    return staying


def _refuse_mixed_designs_and_options(
    existing: dict[tuple[str, str, int], RunRecord],
    tasks: Sequence[PlacementTask],
    resume: bool,
    where: Path,
) -> None:
    """Refuse tasks that would put two netlists under one design name in the folder (its
    leaderboard then refuses the folder), or runs of one method (at one budget) with other
    options than the ok runs that stay, on any design (one table column would mix two
    settings, which the leaderboard refuses)."""
    row_of = {r.design: r for r in existing.values()}
    staying = _staying_by_column(existing, tasks, resume)
    distinct: dict[tuple[str, float], dict[str, RunRecord]] = {}

    def options_in(column: tuple[str, float]) -> dict[str, RunRecord]:
        """The distinct options of a column's staying rows, in the leaderboard's spelling (each
        row parsed once, when a task needs its column: every task against every row took 100 s
        to resume 8,000 runs; compared as dicts, True and 1 passed as one, which the
        leaderboard then refused as two settings in one column)."""
        if column not in distinct:
            distinct[column] = {}
            for row in staying.get(column, []):
                options = _stored_options(row, where)
                distinct[column].setdefault(canonical_options(json.dumps(options, default=str)), row)
        return distinct[column]

    checked: set[tuple[tuple[str, float], str]] = set()
    same: dict[tuple[str, str, str], bool] = {}
    for t in tasks:
        stored = row_of.get(t.design.name)
        if stored is not None:
            pair = (t.design.name, str(t.design.netlist), t.design_digest)
            if pair not in same:
                same[pair] = same_design(stored, t.design.netlist, t.design_digest)
            if not same[pair]:
                raise InputError(
                    f"{where} holds runs of design {t.design.name} placed from "
                    f"{_other_design_text(stored, t)}; use another runs folder for this suite"
                )
        column, asked_text = (t.method, float(t.budget_s)), canonical_options(options_json(t.options))
        if (column, asked_text) in checked:
            continue
        for options, row in options_in(column).items():
            if options != asked_text:
                raise InputError(
                    f"{where} holds {t.method} on {row.design} seed {row.seed} with options "
                    f"{row.options} (asked: {asked_text}): one leaderboard "
                    "column would mix them; use the same options or another runs folder"
                )
        checked.add((column, asked_text))


def _refuse_other_plugin_code(
    existing: dict[tuple[str, str, int], RunRecord],
    tasks: Sequence[PlacementTask],
    resume: bool,
    where: Path,
) -> None:
    """Refuse tasks of a plugin method whose code (``method_source``: its class and a digest of
    its file) is not that of the ok runs of the method (at one budget) that stay, on any design:
    a batch of edited plugin code into a folder holding the older code's runs of other designs
    ran to its end, then the leaderboard refused the folder (one column, two versions of the
    code). Rows with no recorded source (placer-gym's own methods) are not compared, as the
    leaderboard does not compare them."""
    from placer.algorithms.base import same_method_source

    recorded: dict[tuple[str, float], dict[str, RunRecord]] = {}  # a column's distinct sources
    for column, rows in _staying_by_column(existing, tasks, resume).items():
        for row in rows:
            if row.method_source:
                recorded.setdefault(column, {}).setdefault(row.method_source, row)
    checked: set[tuple[tuple[str, float], str]] = set()
    for t in tasks:
        column = (t.method, float(t.budget_s))
        if not t.method_source or (column, t.method_source) in checked:
            continue
        for source, row in recorded.get(column, {}).items():
            if not same_method_source(source, t.method_source):
                raise InputError(
                    f"{where} holds {t.method} on {row.design} seed {row.seed} made by {source} "
                    f"(this batch runs {t.method_source}): one leaderboard column would mix two "
                    "versions of the plugin's code; restore the code those runs were made with, "
                    "place them again in this batch (their designs and seeds, without --resume), "
                    "or use another runs folder"
                )
        checked.add((column, t.method_source))


def _stored_options(row: RunRecord, where: Path) -> dict:
    """The options of a stored run the batch compares with its own: a row edited into text that
    is no JSON object is named with its file (only rows the batch reads: one it replaces or
    never touches is no obstacle)."""
    try:
        return row.options_dict()
    except ValueError as error:
        raise InputError(f"{where / DB_NAME}: {error}") from None


def _other_design_text(row: RunRecord, task: PlacementTask) -> str:
    """How ``row``'s design differs from ``task``'s, for an error message."""
    if not same_design_file(row.netlist_path, task.design.netlist):
        return f"{row.netlist_path}, another file than {task.design.netlist}"
    if Path(row.netlist_path).resolve() == Path(task.design.netlist).resolve() or not row.netlist_path:
        return (f"{row.netlist_path} as it was before: its netlist or {INITIAL_PLC} has been "
                "edited since")
    # (a copy of the suite: the same netlist bytes; the one edited is not known)
    return (f"{row.netlist_path}, whose netlist or {INITIAL_PLC} differs from those of "
            f"{task.design.netlist}")
