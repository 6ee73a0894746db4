"""One batch run: the task (a method, its options and a seed on one design) and what a worker
does with it: load the design (cached per worker), place, evaluate, and write the ``.plc`` staged
beside its final name for the batch to publish once its row is committed; a failure becomes a
``failed`` record, never an exception."""

from __future__ import annotations

import datetime as _dt
import functools
import re
import time
import traceback
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from netlists.errors import error_kind
from placer.algorithms.plugins import load_plugins
from placer.designs import DesignFiles
from placer.interrupts import caused_by_interrupt
from placer.provenance import machine_facts, options_json, placed_by
from placer.results import (
    ATTEMPT_LABEL,
    STATUS_FAILED,
    RunRecord,
)

if TYPE_CHECKING:
    from netlists.model import Netlist, Placement
    from placer.algorithms.legality import LegalityReport
    from placer.cost.proxy import ProxyCost


def run_plc_path(design: str, method: str, seed: int) -> Path:
    """Where a run's ``.plc`` lies, relative to the runs folder."""
    return Path(design) / method / f"seed{int(seed)}.plc"


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
    git_dirty: bool | None = None  # uncommitted changes in the checkout (provenance.git_tree_dirty)

    @property
    def key(self) -> tuple[str, str, int, float]:
        return (self.design.name, self.method, int(self.seed), float(self.budget_s))

    @property
    def plc_relpath(self) -> Path:
        """Where the result goes, relative to the runs folder."""
        return run_plc_path(self.design.name, self.method, self.seed)


OnRecord = Callable[[RunRecord], None]


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


@functools.lru_cache(maxsize=2)
def _load_design_cached(
    netlist: str, plc: str, mtimes_ns: tuple[int, ...]
) -> tuple[Netlist, Placement, tuple[str, ...]]:
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


def _load_design(design: DesignFiles) -> tuple[Netlist, Placement, tuple[str, ...]]:
    """Netlist, initial placement and the reader's warnings (a truncated .plc), cached per
    worker (several seeds / methods per design)."""
    netlist, placement, warned = _load_design_cached(*_design_key(design))
    return netlist, placement.copy(), warned


@functools.lru_cache(maxsize=2)
def _initial_figures_cached(
    netlist: str, plc: str, mtimes_ns: tuple[int, ...]
) -> tuple[ProxyCost, LegalityReport]:
    from placer.algorithms.legality import check_legality
    from placer.cost.proxy import evaluate

    loaded, placement, _ = _load_design_cached(netlist, plc, mtimes_ns)
    return evaluate(loaded, placement), check_legality(loaded, placement)


def _initial_figures(design: DesignFiles) -> tuple[ProxyCost, LegalityReport]:
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
        git_dirty=_flag(task.git_dirty),
        method_source=task.method_source,
        started=_now(),
        **machine_facts(),
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
        t0, cpu0 = time.perf_counter(), time.process_time()
        placement = placer.place(
            netlist, initial, budget_s=task.budget_s, seed=int(task.seed), progress=notes
        )
        record.seconds = time.perf_counter() - t0
        record.cpu_s = time.process_time() - cpu0  # (this process's CPU, all its threads)
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


#: Terminal colour codes (Ray colours the task names in its errors).
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def error_text(exc: BaseException) -> str:
    """One line naming the error, then the innermost frames for debugging (without terminal
    colour codes, which Ray's errors carry into the summary and results.sqlite)."""
    head = f"{error_kind(exc)}: {exc}"  # (InputError as the ValueError it was named)
    tail = "".join(traceback.format_exception(exc)[-3:]).strip()
    return _ANSI.sub("", f"{head}\n{tail}" if tail and tail != head else head)


def _flag(value: bool | None) -> int | None:
    """A yes/no as the results row keeps it (1 / 0; None: not known)."""
    return None if value is None else int(value)


def failed_record(task: PlacementTask, error: str) -> RunRecord:
    """The record of a task whose worker never returned (e.g. it was killed)."""
    return RunRecord(
        design=task.design.name, method=task.method, seed=int(task.seed),
        budget_s=float(task.budget_s), suite=str(task.design.suite),
        netlist_path=str(task.design.netlist), design_digest=task.design_digest,
        options=options_json(task.options), version=task.version,
        git_commit=task.git_commit, git_dirty=_flag(task.git_dirty), method_source=task.method_source,
        status=STATUS_FAILED, error=error, started="", finished=_now(),
    )
