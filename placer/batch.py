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
cluster (:mod:`placer.batch_ray`, where a run past its deadline is cancelled too).
Methods from outside the package are made available to workers with ``plugins``: module names
or ``.py`` files that register placers on import (imported in the parent and in each worker).

One runs folder holds one budget per (design, method, seed): the ``.plc`` path does not carry
the budget, so a batch refuses to mix budgets there (use another folder for another budget).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from netlists.errors import InputError
from placer.algorithms.plugins import (  # noqa: F401 - kept importable from here
    PluginFileMissing,
    load_plugins,
    plugin_module_name,
)
from placer.batch_folder import (  # noqa: F401 - kept importable from here
    _refuse_mixed_designs_and_options,
    check_conflicts,
    check_inside_runs_dir,
    finished_keys,
    publish,
    recover_staged,
    remove_superseded_plc,
    warn_other_commits,
)
from placer.batch_pool import (
    WORKER_MATH_THREADS,
    PoolRunner,
    default_deadline_s,
    one_math_thread_for_workers,
    stop_workers,
    worker_init,
)
from placer.batch_pool import usable_cpus as usable_cpus  # (kept importable from here)
from placer.batch_task import (  # noqa: F401 - kept importable from here
    STAGED_SUFFIX,
    OnRecord,
    PlacementTask,
    _load_design,
    error_text,
    failed_record,
    run_plc_path,
    run_task,
    staged_path,
)
from placer.designs import DesignFiles, design_files_digest, find_designs  # noqa: F401
from placer.folder_lock import exclusive_folder
from placer.interrupts import (
    interrupts_deferred,
    sigterm_as_interrupt,
)
from placer.provenance import git_commit, git_tree_dirty, package_version
from placer.results import (
    STATUS_OK,
    ResultStore,
    RunRecord,
    printable,
)
from placer.text_names import require_text_path

#: What to do about a design path that is not UTF-8 (:func:`make_tasks`).
_KEPT_AS_TEXT = "results.sqlite keeps it as text: rename that folder, or copy the suite to another path"


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


def make_tasks(
    designs: Sequence[DesignFiles],
    methods: Sequence[str],
    seeds: Sequence[int],
    runs_dir: str | Path,
    budget_s: float,
    options: Mapping[str, Mapping[str, Any]] | None = None,
    plugins: Sequence[str] = (),
) -> list[PlacementTask]:
    """Every (design, method, seed) task; ``options[method]`` are that method's options.

    Raises:
        InputError: a design whose suite folder or file path cannot be kept as text in a
            results row (:mod:`placer.text_names`): refused here, before any run; it failed at
            the first row's write, its run done and the runs folder made.
    """
    for d in designs:
        require_text_path(d.suite, "suite folder", _KEPT_AS_TEXT)
        require_text_path(d.netlist, f"design {d.name}'s file", _KEPT_AS_TEXT)
    options = options or {}
    version, commit = package_version(), git_commit()
    dirty = git_tree_dirty() if commit is not None else None
    runs = Path(runs_dir).resolve()
    plugins = tuple(str(Path(p).resolve()) if p.endswith(".py") else p for p in plugins)
    digests = {d.name: design_files_digest(d) for d in designs}
    from placer.algorithms.base import method_source

    load_plugins(plugins)  # (method_source reads the classes they register)
    try:
        sources = {m: method_source(m) for m in methods}
    except KeyError as exc:  # an unknown method: refused before any work, as run_batch does
        raise InputError(exc.args[0]) from None
    return [
        PlacementTask(d, m, int(s), float(budget_s), runs, dict(options.get(m, {})),
                      plugins, version, commit, digests[d.name], sources[m], dirty)
        for d in designs for m in methods for s in seeds
    ]


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
    the tasks in one worker process, not in this one (which no deadline can stop). On Ray the
    same deadline counts from the moment a worker began the run (its time in Ray's queue is not
    counted), and the run's task is cancelled, its worker killed. With ``resume``, tasks that have an ok row are skipped. On
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
        raise InputError(f"deadline_s must be a positive number of seconds (math.inf: none), got {deadline_s!r}")
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
    warn_other_commits(store, todo)
    batch_jobs = None if ray_address is not None else max(1, int(jobs))  # (each row says it)
    if todo:
        load_plugins(todo[0].plugins)  # unknown methods fail here, before any work
        from placer.algorithms.base import available_placers

        known = set(available_placers())
        unknown = sorted({t.method for t in todo} - known)
        if unknown:
            raise InputError(
                f"unknown placement method {', '.join(map(repr, unknown))}; "
                f"available: {', '.join(sorted(known)) or 'none'}"
            )
    with _BatchProgress(len(todo), enabled=show_progress) as bar:

        def record_done(record: RunRecord) -> None:
            record.jobs = batch_jobs
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

                run_on_ray(todo, ray_address, record_done, _deadline_of(deadline_s))
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

    PoolRunner(run_task, failed_record, error_text, _deadline_of(deadline_s)).run(tasks, jobs, record_done)


def _deadline_of(deadline_s: float | None) -> Callable[[PlacementTask], float]:
    """Each task's deadline in its worker: ``deadline_s`` seconds, or by default
    :func:`~placer.batch_pool.default_deadline_s` of the task's budget."""

    def deadline_of(task: PlacementTask) -> float:
        return default_deadline_s(task.budget_s) if deadline_s is None else deadline_s

    return deadline_of


# names the pool's code had here, kept importable (tests and scripts of one's own use them)
_worker_init = worker_init


_one_math_thread_for_workers = one_math_thread_for_workers


_WORKER_MATH_THREADS = WORKER_MATH_THREADS


_stop_workers = stop_workers


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

            from placer.progress_layout import batch_progress

            # (on stderr: on stdout it was a line of ━ in `> results.txt`)
            self._progress = batch_progress(self.total, Console(stderr=True))
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
        # the failure count drawn whole after the text (cut to the terminal's width first)
        tail = f" | {self.failed} failed" if self.failed else ""
        self._progress.update(self._task_id, advance=1, description=text + tail, head=text, tail=tail)

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()
