"""Batch placement: designs x methods x seeds, run in parallel, never losing finished work.

A *design* is a folder holding ``netlist.pb.txt[.gz]`` and ``initial.plc``, or one Bookshelf
``.aux`` (started from the ``.pl`` it lists; its runs' ``.plc`` files read back with the
``.aux``), found recursively under a suite folder (its name is the folder's name). Every task runs one method with one seed
on one design, within ``budget_s`` seconds. As soon as a task finishes:

* the worker has already written its placement atomically to
  ``RUNS_DIR/<design>/<method>/seed<k>.plc.staged``, its header naming the attempt;
* the parent writes its row (costs, legality, timing, provenance and that attempt, or the error
  of a failed run) to ``RUNS_DIR/results.sqlite`` in its own transaction
  (:mod:`placer.results`), then renames the file to ``seed<k>.plc``.

So Ctrl-C or a kill loses at most the runs in flight, and ``resume=True`` skips every task that
has a row with status ``ok``. A ``.plc`` never disagrees with its row: the next batch in the
folder moves a staged file whose attempt its row names into place and removes any other
(:func:`recover_staged`), and workers exit when the batch process is killed. A design that fails (bad file, placer error) gets a ``failed``
row with its error, and the batch goes on.

Tasks run in local worker processes (``concurrent.futures.ProcessPoolExecutor`` with the
``spawn`` start method: nothing relies on inherited state; :mod:`placer.batch_pool`, where a
worker that dies or outlives its run's deadline costs only that run) or on an existing Ray
cluster.
Methods from outside the package are made available to workers with ``plugins``: module names
or ``.py`` files that register placers on import (imported in the parent and in each worker).

One runs folder holds one budget per (design, method, seed): the ``.plc`` path does not carry
the budget, so a batch refuses to mix budgets there (use another folder for another budget).
"""

from __future__ import annotations

import datetime as _dt
import functools
import hashlib
import importlib
import importlib.util
import json
import math
import os
import re
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from netlists.io import INITIAL_PLC, design_files_under, require_suite_folder
from placer.batch_pool import (
    WORKER_MATH_THREADS,
    PoolRunner,
    default_deadline_s,
    one_math_thread_for_workers,
    stop_workers,
    worker_init,
)
from placer.batch_pool import usable_cpus as usable_cpus  # (kept importable from here)
from placer.folder_lock import exclusive_folder
from placer.interrupts import (
    caused_by_interrupt,
    interrupts_deferred,
    sigterm_as_interrupt,
)
from placer.provenance import git_commit, options_json, package_version, placed_by
from placer.results import (
    ATTEMPT_LABEL,
    DB_NAME,
    STATUS_FAILED,
    STATUS_OK,
    ResultStore,
    RunRecord,
    attempt_of,
    canonical_options,
    plc_of_row_is_there,
    printable,
    same_design,
    same_design_file,
)


# ----------------------------------------------------------------------------- designs
@dataclass(frozen=True)
class DesignFiles:
    """Where one design's files are."""

    name: str
    netlist: Path
    plc: Path
    suite: Path


def find_designs(suite_dir: str | Path, names: Iterable[str] | None = None) -> list[DesignFiles]:
    """Designs under ``suite_dir`` (recursively, through linked folders), sorted by name;
    optionally only ``names``. A design folder reached by several paths (links) counts once,
    named by the first of them in sorted order (a link's own name).

    Raises:
        FileNotFoundError: ``suite_dir`` does not exist.
        ValueError: two designs share a name, a requested name is absent, or none is found.
    """
    require_suite_folder(suite_dir)
    suite = Path(suite_dir).resolve()
    found: dict[str, DesignFiles] = {}
    for netlist, plc in design_files_under(suite):  # (linked folders too)
        folder = netlist.parent  # (a Bookshelf .aux may list a .pl in another folder)
        if folder.name in found:
            raise ValueError(
                f"two designs are called {folder.name!r}: {found[folder.name].netlist.parent} "
                f"and {folder} (design names must be unique in a suite)"
            )
        found[folder.name] = DesignFiles(folder.name, netlist, plc, suite)
    if names is not None:
        wanted = list(dict.fromkeys(names))
        missing = [n for n in wanted if n not in found]
        if missing:
            shown = (n.encode("utf-8", "surrogateescape").decode("utf-8", "replace") for n in sorted(found))
            raise ValueError(
                f"no design called {', '.join(map(repr, missing))} under {suite_dir}; "
                f"found: {', '.join(shown) or 'none'}"
            )
        found = {n: found[n] for n in wanted}
    for design in found.values():  # (only those run: --designs may leave such a folder out)
        try:
            design.name.encode("utf-8")
        except UnicodeEncodeError:  # the name goes into results.sqlite and every table
            raise ValueError(
                f"design folder {str(design.netlist.parent).encode('utf-8', 'surrogateescape')!r}: "
                f"{_why_not_text(design.name)}"
            ) from None
    if not found:
        raise ValueError(f"no design (a folder with netlist.pb.txt[.gz] and initial.plc, or one Bookshelf .aux) "
                         f"under {suite_dir}")  # fmt: skip
    return [found[n] for n in sorted(found)]


# ----------------------------------------------------------------------------- tasks
def run_plc_path(design: str, method: str, seed: int) -> Path:
    """Where a run's ``.plc`` lies, relative to the runs folder."""
    return Path(design) / method / f"seed{int(seed)}.plc"


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
        raise ValueError(f"tasks made for another runs folder ({', '.join(elsewhere)}) given to a batch "
                         f"into {runs_dir}: make them with this folder")
    for folder in sorted({t.plc_relpath.parent for t in tasks}):
        path = runs_dir
        for part in folder.parts:
            path = path / part
            if not path.is_symlink():
                continue
            target = path.resolve()
            if not path.exists():
                raise ValueError(f"{path} is a broken link (to {target}): remove it or choose another --out")
            if not target.is_relative_to(root):
                raise ValueError(
                    f"{path} is a link leading outside the runs folder (to {target}): runs "
                    "are written only inside it; remove the link or choose another --out"
                )


@dataclass(frozen=True)
class PlacementTask:
    """One run: a method with its options and a seed on one design (picklable)."""

    design: DesignFiles
    method: str
    seed: int
    budget_s: float
    runs_dir: Path
    options: Mapping[str, Any] = field(default_factory=dict)
    plugins: tuple[str, ...] = ()
    version: str = ""
    git_commit: str | None = None
    design_digest: str = ""  # of the design's files when the tasks were made (design_files_digest)
    method_source: str = ""  # a plugin method's class, file and digest (base.method_source)

    @property
    def key(self) -> tuple[str, str, int, float]:
        return (self.design.name, self.method, int(self.seed), float(self.budget_s))

    @property
    def plc_relpath(self) -> Path:
        """Where the result goes, relative to the runs folder."""
        return run_plc_path(self.design.name, self.method, self.seed)


def design_files_digest(design: DesignFiles) -> str:
    """Digest of the texts of the design's files (its netlist and initial .plc; a Bookshelf
    design's .aux, every file it lists and its .pl): what tells a resumed or pooled
    run's design from the same name with edited files ("" when a file cannot be read: the
    run then fails on that file with a clear error, and nothing is compared)."""
    from netlists.digest import files_digest
    from netlists.errors import NetlistError
    from netlists.io import input_files

    try:  # (a Bookshelf design's: its .aux and every file it lists)
        return files_digest(input_files(design.netlist, design.plc))
    except NetlistError:
        return ""


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


def plugin_module_name(plugin: str) -> str:
    """The module name a plugin (a dotted name or a ``.py`` file) is imported under."""
    if not plugin.endswith(".py"):
        return plugin
    path = Path(plugin).resolve()
    return f"_placer_plugin_{path.stem}_{hashlib.sha1(str(path).encode()).hexdigest()[:12]}"


class PluginFileMissing(FileNotFoundError):
    """A ``--plugin`` ``.py`` file that is not there (told apart from a file the plugin itself
    fails to open while it is imported)."""


def _why_not_text(name: str) -> str:
    """Why a file name read from disk is not text: not UTF-8, or UTF-8 that this process reads
    in another encoding (a non-UTF-8 locale: the name of a folder called e.g. "d\u00e9sign"
    was said not to be UTF-8)."""
    try:
        os.fsencode(name).decode("utf-8")
    except UnicodeDecodeError:
        return "its name is not UTF-8 text; rename it (or leave it out with --designs)"
    return (f"its name is UTF-8 text, but this process reads file names as {sys.getfilesystemencoding()} "
            "(a non-UTF-8 locale): run it under a UTF-8 one (PYTHONUTF8=1, or LC_ALL=C.UTF-8)")


#: Held while plugins load: a thread skipped a plugin another was still importing (its name is
#: in sys.modules before its code has run) and found its method unknown.
_PLUGINS_LOADING = threading.RLock()


def load_plugins(plugins: Iterable[str]) -> None:
    """Import modules (dotted names or ``.py`` files) that register extra placers."""
    with _PLUGINS_LOADING:
        _load_plugins(plugins)


def _load_plugins(plugins: Iterable[str]) -> None:
    for plugin in plugins:
        if plugin.endswith(".py"):
            path = Path(plugin).resolve()
            if path.exists() and not path.is_file():
                raise ValueError(f"plugin {path} is not a file (a folder, a pipe or a device)")
            if not path.is_file():
                raise PluginFileMissing(2, "no such plugin file", str(path))
            module_name = plugin_module_name(plugin)
            if module_name in sys.modules:
                continue
            spec = importlib.util.spec_from_file_location(module_name, path)
            assert spec is not None and spec.loader is not None
            module = importlib.util.module_from_spec(spec)
            sys.modules[module_name] = module
            try:
                spec.loader.exec_module(module)
            except BaseException:  # a fixed file must load on the next try, not count as loaded
                sys.modules.pop(module_name, None)
                raise
        else:
            importlib.import_module(plugin)


@functools.lru_cache(maxsize=2)
def _load_design_cached(netlist: str, plc: str, mtimes_ns: tuple[int, ...]):  # type: ignore[no-untyped-def]
    from netlists.errors import netlist_warnings_recorded
    from netlists.io import load_design

    with netlist_warnings_recorded() as texts:  # kept for every run of the design
        loaded = load_design(netlist, plc)
    return (*loaded, tuple(texts))


def _design_key(design: DesignFiles) -> tuple[str, str, tuple[int, ...]]:
    """The per-worker caches' key of a design: its two paths and the modification times of
    every file it reads (a Bookshelf design's .nodes, .nets, .scl or .wts may be the edited one)."""
    from netlists.io import input_files

    mtimes = tuple(path.stat().st_mtime_ns for path in input_files(design.netlist, design.plc))
    return str(design.netlist), str(design.plc), mtimes


def _load_design(design: DesignFiles):  # type: ignore[no-untyped-def]
    """Netlist, initial placement and the reader's warnings (a truncated .plc), cached per
    worker (several seeds / methods per design)."""
    netlist, placement, warned = _load_design_cached(*_design_key(design))
    return netlist, placement.copy(), warned


@functools.lru_cache(maxsize=2)
def _initial_figures_cached(netlist: str, plc: str, mtimes_ns: tuple[int, ...]):  # type: ignore[no-untyped-def]
    from placer.algorithms.legality import check_legality
    from placer.cost.proxy import evaluate

    loaded, placement, _ = _load_design_cached(netlist, plc, mtimes_ns)
    return evaluate(loaded, placement), check_legality(loaded, placement)


def _initial_figures(design: DesignFiles):  # type: ignore[no-untyped-def]
    """Proxy cost and legality of the design's initial placement, once per design and worker
    (every method and seed of it starts from the same placement: ~55 ms on ibm17 per run)."""
    return _initial_figures_cached(*_design_key(design))


def run_task(task: PlacementTask) -> RunRecord:
    """Run one task in this process: place, evaluate, write the ``.plc``; never raises on a
    design or placer error (the record says ``failed`` with the error instead)."""
    from netlists.formats.plc import write_plc
    from placer.algorithms.base import NoteCollector, get_placer, warm_up
    from placer.algorithms.legality import check_legality
    from placer.cost.proxy import evaluate
    from placer.cost.timing import TIMING_MODEL, timing_cost

    record = RunRecord(
        design=task.design.name,
        method=task.method,
        seed=int(task.seed),
        budget_s=float(task.budget_s),
        suite=str(task.design.suite),
        netlist_path=str(task.design.netlist),
        design_digest=task.design_digest,
        options=options_json(task.options),
        version=task.version,
        git_commit=task.git_commit,
        method_source=task.method_source,
        started=_now(),
    )
    try:
        load_plugins(task.plugins)
        netlist, initial, warned = _load_design(task.design)
        start_cost, start_legality = _initial_figures(task.design)
        record.initial_wirelength = start_cost.wirelength
        record.initial_density = start_cost.density
        record.initial_congestion = start_cost.congestion
        record.initial_proxy = start_cost.proxy
        record.initial_overlap_area = float(start_legality.overlap_area)
        record.initial_out_of_canvas = int(start_legality.outside_macros > 0)
        placer = get_placer(task.method, **dict(task.options))
        warm_up(task.method, task.options)  # once per worker, outside the timed run
        notes = NoteCollector()  # e.g. that the method kept the given placement
        t0 = time.perf_counter()
        placement = placer.place(
            netlist, initial, budget_s=task.budget_s, seed=int(task.seed), progress=notes
        )
        record.seconds = time.perf_counter() - t0
        record.note = "; ".join([*warned, *notes.texts]) or None  # the design's, the method's
        cost = evaluate(netlist, placement)
        legality = check_legality(netlist, placement)
        record.wirelength, record.density = cost.wirelength, cost.density
        record.congestion, record.proxy, record.hpwl = cost.congestion, cost.proxy, cost.hpwl
        record.timing, record.timing_model = timing_cost(netlist, placement).worst, TIMING_MODEL
        record.overlap_area = float(legality.overlap_area)
        record.out_of_canvas = int(legality.outside_macros > 0)
        out = task.runs_dir / task.plc_relpath
        out.parent.mkdir(parents=True, exist_ok=True)
        header_costs = cost.plc_header()
        record.plc_attempt = uuid.uuid4().hex
        comments = [placed_by(task.version, task.method, task.seed, task.budget_s, task.options),
                    f"{ATTEMPT_LABEL} {record.plc_attempt}"]
        if task.method_source:  # a plugin: which code made it
            comments.insert(1, f"Method code: {task.method_source}")
        write_plc(staged_path(out), netlist, placement, costs=header_costs, comments=comments, file_name=out.name)
        record.plc_path = task.plc_relpath.as_posix()
    except (Exception, SystemExit) as exc:  # noqa: BLE001 - a failed design is recorded, the
        # batch goes on (a method calling sys.exit() ended the whole batch, rows lost)
        if caused_by_interrupt(exc):  # a Ctrl-C inside a numba kernel surfaces as SystemError
            raise KeyboardInterrupt from exc
        record.status = STATUS_FAILED
        record.error = error_text(exc)
    record.finished = _now()
    return record


#: A worker writes its ``.plc`` under this suffix; the batch renames it into place right after
#: committing the run's row, so a kill never leaves a ``.plc`` that disagrees with its row.
STAGED_SUFFIX = ".staged"

def staged_path(plc: Path) -> Path:
    """Where a worker writes the ``.plc`` that will become ``plc``."""
    return plc.with_name(plc.name + STAGED_SUFFIX)


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


#: Terminal colour codes (Ray colours the task names in its errors).
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def error_text(exc: BaseException) -> str:
    """One line naming the error, then the innermost frames for debugging (without terminal
    colour codes, which Ray's errors carry into the summary and results.sqlite)."""
    head = f"{type(exc).__name__}: {exc}"
    tail = "".join(traceback.format_exception(exc)[-3:]).strip()
    return _ANSI.sub("", f"{head}\n{tail}" if tail and tail != head else head)


def failed_record(task: PlacementTask, error: str) -> RunRecord:
    """The record of a task whose worker never returned (e.g. it was killed)."""
    return RunRecord(
        design=task.design.name, method=task.method, seed=int(task.seed),
        budget_s=float(task.budget_s), suite=str(task.design.suite),
        netlist_path=str(task.design.netlist), design_digest=task.design_digest,
        options=options_json(task.options), version=task.version,
        git_commit=task.git_commit, method_source=task.method_source, status=STATUS_FAILED, error=error, started="", finished=_now(),
    )


# ----------------------------------------------------------------------------- batch
@dataclass
class BatchSummary:
    """What a batch did."""

    total: int = 0
    skipped: int = 0
    ok: int = 0
    failed: int = 0
    interrupted: bool = False
    records: list[RunRecord] = field(default_factory=list)

    @property
    def done(self) -> int:
        return self.ok + self.failed


OnRecord = Callable[[RunRecord], None]


def make_tasks(
    designs: Sequence[DesignFiles],
    methods: Sequence[str],
    seeds: Sequence[int],
    runs_dir: str | Path,
    budget_s: float,
    options: Mapping[str, Mapping[str, Any]] | None = None,
    plugins: Sequence[str] = (),
) -> list[PlacementTask]:
    """Every (design, method, seed) task; ``options[method]`` are that method's options."""
    options = options or {}
    version, commit = package_version(), git_commit()
    runs = Path(runs_dir).resolve()
    plugins = tuple(str(Path(p).resolve()) if p.endswith(".py") else p for p in plugins)
    digests = {d.name: design_files_digest(d) for d in designs}
    from placer.algorithms.base import method_source

    load_plugins(plugins)  # (method_source reads the classes they register)
    try:
        sources = {m: method_source(m) for m in methods}
    except KeyError as exc:  # an unknown method: refused before any work, as run_batch does
        raise ValueError(exc.args[0]) from None
    return [
        PlacementTask(d, m, int(s), float(budget_s), runs, dict(options.get(m, {})),
                      plugins, version, commit, digests[d.name], sources[m])
        for d in designs for m in methods for s in seeds
    ]


def check_conflicts(
    store: ResultStore, tasks: Sequence[PlacementTask], resume: bool = False
) -> None:
    """Refuse tasks that would silently mix with other runs in the folder.

    Always: a task whose ``.plc`` would overwrite an ok run of another budget, a design name
    the folder holds from another netlist file or from other contents of the same files (its
    files edited since: :func:`design_files_digest`), and options other than
    those of the ok runs of the same method and design that stay. With ``resume`` (which skips
    finished runs): a finished run made with other method options or from another design of
    the same name, since skipping it would report that run as this one.
    """
    from placer.algorithms.base import same_method_source

    existing = {(r.design, r.method, int(r.seed)): r for r in store.records(STATUS_OK)}
    where = store.path.parent
    for t in tasks:  # (found after the run, its ok row already committed, pointing at a folder)
        final = where / t.plc_relpath
        if final.is_dir() or (final.exists() and not final.is_file()):
            raise ValueError(f"{final} is in the way of run {t.design.name}/{t.method}/seed{t.seed}'s "
                             ".plc (not a file): remove it")
    _refuse_mixed_designs_and_options(existing, tasks, resume, where)
    for t in tasks:
        other = existing.get((t.design.name, t.method, int(t.seed)))
        if other is None:
            continue
        what = f"{where} already holds {t.method} on {t.design.name} seed {t.seed}"
        if float(other.budget_s) != float(t.budget_s):
            raise ValueError(
                f"{what} with budget {other.budget_s:.12g} s (asked: {t.budget_s:.12g} s); use "
                "another runs folder for another budget"
            )
        if not resume:
            continue  # the run is placed again and its row replaced
        asked = options_json(t.options)
        if _stored_options(other, where) != json.loads(asked):
            raise ValueError(
                f"{what} with options {other.options} (asked: {asked}); --resume would keep "
                "it: rerun without --resume to replace it, or use another runs folder"
            )
        if not same_method_source(other.method_source or "", t.method_source):
            own = "placer-gym's own code"
            raise ValueError(
                f"{what} made by {other.method_source or own} (asked: {t.method_source or own}); "
                "--resume would keep it: rerun without --resume to replace it, or use another "
                "runs folder"
            )
        if not same_design(other, t.design.netlist, t.design_digest):
            raise ValueError(
                f"{what} placed from {_other_design_text(other, t)}; use another runs folder "
                "for this suite"
            )


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
    replaced = set() if resume else {(t.design.name, t.method, int(t.seed)) for t in tasks}
    staying: dict[tuple[str, float], list[RunRecord]] = {}  # grouped by column
    for key, row in existing.items():
        if key not in replaced:
            staying.setdefault((row.method, float(row.budget_s)), []).append(row)
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
                raise ValueError(
                    f"{where} holds runs of design {t.design.name} placed from "
                    f"{_other_design_text(stored, t)}; use another runs folder for this suite"
                )
        column, asked_text = (t.method, float(t.budget_s)), canonical_options(options_json(t.options))
        if (column, asked_text) in checked:
            continue
        for options, row in options_in(column).items():
            if options != asked_text:
                raise ValueError(
                    f"{where} holds {t.method} on {row.design} seed {row.seed} with options "
                    f"{row.options} (asked: {asked_text}): one leaderboard "
                    "column would mix them; use the same options or another runs folder"
                )
        checked.add((column, asked_text))


def _stored_options(row: RunRecord, where: Path) -> dict:
    """The options of a stored run the batch compares with its own: a row edited into text that
    is no JSON object is named with its file (only rows the batch reads: one it replaces or
    never touches is no obstacle)."""
    try:
        return row.options_dict()
    except ValueError as error:
        raise ValueError(f"{where / DB_NAME}: {error}") from None


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


def run_batch(
    tasks: Sequence[PlacementTask],
    runs_dir: str | Path,
    *,
    jobs: int = 1,
    resume: bool = False,
    ray_address: str | None = None,
    show_progress: bool = True,
    on_record: OnRecord | None = None,
    deadline_s: float | None = None,
) -> BatchSummary:
    """Run ``tasks``, writing each finished run's row to ``runs_dir/results.sqlite`` at once.

    ``jobs`` worker processes run locally (1 runs in this process); ``ray_address`` sends the
    tasks to a Ray cluster instead. A run still going in its worker ``deadline_s`` seconds
    after it began (default: twice its budget plus 300 s,
    :func:`~placer.batch_pool.default_deadline_s`; ``math.inf``: never) has its worker killed
    and is recorded as failed, naming the deadline; a ``deadline_s`` given with ``jobs=1`` runs
    the tasks in one worker process, not in this one (which no deadline can stop). On Ray no
    deadline applies. With ``resume``, tasks that have an ok row are skipped. On
    Ctrl-C the finished rows stay, running workers are stopped and the summary says
    ``interrupted``. A kill (SIGTERM, SIGHUP) stops the batch the same way, then goes on to the
    caller's handler: the default one ends the process (status 143), a handler of the
    caller's runs, and where the caller turns kills into Ctrl-C (the CLI) it ends as one.

    Raises:
        FolderBusy: another batch is writing into ``runs_dir``.
        ValueError: tasks that clash with runs already in the folder (:func:`check_conflicts`),
            unknown methods, a ``deadline_s`` that is not a positive number of seconds.
    """
    if deadline_s is not None and (isinstance(deadline_s, bool) or not (isinstance(deadline_s, int | float) and deadline_s > 0)):
        raise ValueError(f"deadline_s must be a positive number of seconds (math.inf: none), got {deadline_s!r}")
    if ray_address is not None:  # refused before the runs folder and its store are made
        from placer.batch_ray import check_ray_address

        check_ray_address(ray_address)
    # a kill stops the batch as Ctrl-C does; once its workers are stopped, its rows saved, its
    # bar and folder lock closed, it goes on to the caller's handler (ending a program that
    # keeps the default one)
    with sigterm_as_interrupt(pass_kills_on=True), exclusive_folder(runs_dir):  # a second batch
        return _run_batch_locked(  # into this folder is refused at once
            tasks, runs_dir, jobs, resume, ray_address, show_progress, on_record, deadline_s
        )


def _run_batch_locked(
    tasks: Sequence[PlacementTask],
    runs_dir: str | Path,
    jobs: int,
    resume: bool,
    ray_address: str | None,
    show_progress: bool,
    on_record: OnRecord | None,
    deadline_s: float | None = None,
) -> BatchSummary:
    check_inside_runs_dir(Path(runs_dir), tasks)
    store = ResultStore.in_runs_dir(runs_dir)
    recover_staged(Path(runs_dir), store)
    check_conflicts(store, tasks, resume)
    done_keys = finished_keys(Path(runs_dir), store) if resume else set()
    todo = [t for t in tasks if t.key not in done_keys]
    summary = BatchSummary(total=len(tasks), skipped=len(tasks) - len(todo))
    if todo:
        load_plugins(todo[0].plugins)  # unknown methods fail here, before any work
        from placer.algorithms.base import available_placers

        known = set(available_placers())
        unknown = sorted({t.method for t in todo} - known)
        if unknown:
            raise ValueError(
                f"unknown placement method {', '.join(map(repr, unknown))}; "
                f"available: {', '.join(sorted(known)) or 'none'}"
            )
    with _BatchProgress(len(todo), enabled=show_progress) as bar:

        def record_done(record: RunRecord) -> None:
            with interrupts_deferred():  # a Ctrl-C here would leave a saved run uncounted
                store.write(record)
                store.delete_failed_at_other_budgets(record)  # superseded by this attempt
                publish(Path(runs_dir), record)
                remove_superseded_plc(Path(runs_dir), record)
                summary.records.append(record)
                if record.status == STATUS_OK:
                    summary.ok += 1
                else:
                    summary.failed += 1
            bar.update(record)
            if on_record is not None:
                on_record(record)

        try:
            if not todo:
                pass
            elif ray_address is not None:
                from placer.batch_ray import run_on_ray

                run_on_ray(todo, ray_address, record_done)
            elif jobs <= 1 and (deadline_s is None or deadline_s == math.inf):
                for task in todo:
                    record_done(run_task(task))
            else:
                _run_in_pool(todo, jobs, record_done, deadline_s)
        except KeyboardInterrupt:
            summary.interrupted = True
        finally:  # a stop between a row's commit and its publish leaves no row without a file
            recover_staged(Path(runs_dir), store)
    return summary


def _run_in_pool(
    tasks: Sequence[PlacementTask], jobs: int, record_done: OnRecord, deadline_s: float | None = None
) -> None:
    """Run tasks on ``jobs`` spawned worker processes, handing each record over as it comes
    (:class:`placer.batch_pool.PoolRunner`: a worker that dies costs only its task, one past
    its task's deadline is killed: ``deadline_s`` seconds, or by default
    :func:`~placer.batch_pool.default_deadline_s` of its budget)."""

    def deadline_of(task: PlacementTask) -> float:
        return default_deadline_s(task.budget_s) if deadline_s is None else deadline_s

    PoolRunner(run_task, failed_record, error_text, deadline_of).run(tasks, jobs, record_done)


# names the pool's code had here, kept importable (tests and scripts of one's own use them)
_worker_init = worker_init
_one_math_thread_for_workers = one_math_thread_for_workers
_WORKER_MATH_THREADS = WORKER_MATH_THREADS
_stop_workers = stop_workers


# ----------------------------------------------------------------------------- progress
class _BatchProgress:
    """A rich progress bar: runs done / total, failures, best proxy per design so far."""

    def __init__(self, total: int, enabled: bool = True) -> None:
        self.total = total
        self.enabled = enabled and total > 0
        self.best: dict[str, float] = {}
        self.failed = 0
        self._progress: Any = None
        self._task_id: Any = None

    def __enter__(self) -> _BatchProgress:
        if self.enabled:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
            )

            self._progress = Progress(
                TextColumn("[bold]placing"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TextColumn("{task.description}", markup=False),
                transient=False,
                console=Console(stderr=True),  # (on stdout it was a line of ━ in `> results.txt`)
            )
            self._progress.start()
            self._task_id = self._progress.add_task("", total=self.total)
        return self

    def update(self, record: RunRecord) -> None:
        if record.status == STATUS_OK and record.proxy is not None:
            self.best[record.design] = min(self.best.get(record.design, float("inf")), record.proxy)
        else:
            self.failed += 1
        if self._progress is None:
            return
        best = self.best.get(record.design)
        text = f"{printable(record.design)}/{record.method}/seed{record.seed}: "
        text += f"{record.proxy:.4f}" if record.status == STATUS_OK else "failed"
        if best is not None:
            text += f" | best on {printable(record.design)}: {best:.4f}"
        if self.failed:
            text += f" | {self.failed} failed"
        self._progress.update(self._task_id, advance=1, description=text)

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()
