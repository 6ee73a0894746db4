"""SQLite (standard library ``sqlite3``) as a tunable system: knobs, fresh copies, measurement.

Each trial copies a template database (built once per workload and size, compacted with
``VACUUM``) into a new temporary directory, applies the knobs (``page_size`` rebuilds the file
with ``VACUUM``: the same compact layout in another page size), warms up, then
measures the workload's throughput ``repeats`` times for ``duration_s`` each (and at least
``min_transactions`` transactions each, so that slow analytical transactions are not measured
two at a time). Each window, the warm-up's too, ends with a WAL checkpoint inside its time: a
large ``wal_autocheckpoint`` only puts that copy off past a short window (measured without it,
ycsb-a read 1.18x for 100,000 pages over 1,000 where it is 1.11x). An error while applying knobs or running the workload makes a failed
:class:`TrialResult` (a full disk, a value SQLite refuses, a failing query), except a programming
error (:func:`~learned_systems.config.trial.programming_errors`: a TypeError, KeyError, ...),
which is a bug, not the configuration's, and is raised. Directories a killed run left behind (trial copies,
its own templates, half-built templates in a shared template folder) are removed by the next
backend (:mod:`learned_systems.config.scratch`).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from learned_systems.config.factory import THROUGHPUT_UNITS
from learned_systems.config.knobs import UNSAFE_NOTE, Knob, KnobSpace, unsafe_settings
from learned_systems.config.scratch import make_scratch, size_text, sweep_stale
from learned_systems.config.trial import (
    TrialResult,
    programming_errors,
    repeat_throughput,
    timed_loop,
)
from learned_systems.config.workloads import Workload
from learned_systems.errors import InputError, Unavailable
from learned_systems.validation import positive_seconds, whole_number

SQLITE_KNOBS = (
    Knob(
        "journal_mode",
        "DELETE",
        choices=("DELETE", "TRUNCATE", "PERSIST", "WAL", "MEMORY", "OFF"),
        unsafe=("MEMORY", "OFF"),
        help="rollback journal or write-ahead log",
    ),
    Knob(
        "synchronous",
        "FULL",
        choices=("EXTRA", "FULL", "NORMAL", "OFF"),
        unsafe=("OFF",),
        help="how often SQLite waits for fsync",
    ),
    Knob(
        "page_size",
        4096,
        choices=(1024, 2048, 4096, 8192, 16384, 32768, 65536),
        help="database page size in bytes (rebuilds the file)",
    ),
    Knob("cache_size", 2000, low=256, high=262_144, log=True, help="page cache in KiB"),
    Knob(
        "mmap_size",
        0,
        low=1,
        high=512,
        log=True,
        zero_allowed=True,
        help="memory-mapped I/O in MiB (0 = off)",
    ),
    Knob("temp_store", "DEFAULT", choices=("DEFAULT", "FILE", "MEMORY"), help="temporary tables"),
    Knob(
        "locking_mode",
        "NORMAL",
        choices=("NORMAL", "EXCLUSIVE"),
        help="release locks per transaction",
    ),
    Knob(
        "wal_autocheckpoint", 1000, low=100, high=100_000, log=True,
        help="WAL pages per checkpoint (only in WAL mode)", applies_when=("journal_mode", "WAL"),
    ),
    # (no query of the built-in workloads uses one: a dimension without effect on them, kept
    # for workloads of one's own)
    Knob("automatic_index", True, choices=(True, False), help="build transient indexes for joins"),
)

RULE_OF_THUMB = {"journal_mode": "WAL", "synchronous": "NORMAL"}

#: Least transactions per measurement window (an analytical transaction takes ~40 ms).
DEFAULT_MIN_TRANSACTIONS = 20

TEMPLATES_PREFIX = "sqlite-templates-"
TRIAL_PREFIX = "sqlite-trial-"
BUILD_PREFIX = "sqlite-building-"  # a template being built, inside the template folder
#: In every template's name: templates built before they were compacted are not reused.
TEMPLATE_LAYOUT = "packed"
#: How a trial pays for its WAL checkpoint, in every run's measurement settings: runs measured
#: before the checkpoint was timed (``WAL_CHECKPOINT_BEFORE``) are not resumed with today's.
WAL_CHECKPOINT = "timed, each window"
WAL_CHECKPOINT_BEFORE = "untimed, at close"


def sqlite_space(allow_unsafe: bool = False) -> KnobSpace:
    """SQLite knobs; durable unless ``allow_unsafe`` (which opens synchronous=OFF and the
    OFF/MEMORY journals, able to lose or corrupt committed data on an operating-system crash or
    power loss, the journals also on a process crash). Durable means no committed transaction
    is lost when the process crashes; synchronous=NORMAL, in the space, may still lose the last
    commits after a power loss (WAL: rolled back, never corrupting the file; a rollback journal,
    says SQLite, a very small chance of corruption on older file systems)."""
    return KnobSpace.build("sqlite", SQLITE_KNOBS, allow_unsafe, RULE_OF_THUMB)


def pragma_values(config: Mapping[str, Any]) -> dict[str, str]:
    """A validated configuration as PRAGMA values, in the order they are applied (page size
    first: it needs a VACUUM; cache_size in KiB, given negative; mmap_size in bytes)."""
    return {
        "page_size": str(int(config["page_size"])),
        "journal_mode": str(config["journal_mode"]),
        "synchronous": str(config["synchronous"]),
        "cache_size": str(-int(config["cache_size"])),
        "mmap_size": str(int(config["mmap_size"]) * 2**20),
        "temp_store": str(config["temp_store"]),
        "locking_mode": str(config["locking_mode"]),
        "wal_autocheckpoint": str(int(config["wal_autocheckpoint"])),
        "automatic_index": "ON" if config["automatic_index"] else "OFF",
    }


#: Said beside locking_mode=EXCLUSIVE in the applied lines: measured with the workload's one
#: connection it is free, but it locks every other connection out of the database.
EXCLUSIVE_NOTE = "holds the file's lock while the connection lives: only for a database one connection uses"


def pragma_statements(config: Mapping[str, Any]) -> list[str]:
    """The SQL that gives one's own database a configuration: page_size and journal_mode stay
    with the file; the others hold per connection, so every connection runs them. The page
    size is set out of WAL mode (SQLite keeps a WAL file's page size, silently)."""
    values = pragma_values(config)
    lines = [
        "PRAGMA journal_mode = DELETE;  -- out of WAL mode, where the page size cannot change",
        f"PRAGMA page_size = {values.pop('page_size')};",
        "VACUUM;  -- a new page size takes effect here",
    ]
    unsafe = unsafe_settings(SQLITE_KNOBS, config)  # (only an unsafe space has such values)
    for name, value in values.items():
        note = f"  -- {EXCLUSIVE_NOTE}" if (name, value) == ("locking_mode", "EXCLUSIVE") else ""
        if name in unsafe:
            note = f"  -- {UNSAFE_NOTE}"
        lines.append(f"PRAGMA {name} = {value};{note}")
    return lines


def apply_knobs(conn: sqlite3.Connection, config: Mapping[str, Any]) -> None:
    """Apply a validated configuration to an open connection, page size first."""
    values = pragma_values(config)
    page_size = int(values.pop("page_size"))
    if page_size != conn.execute("PRAGMA page_size").fetchone()[0]:
        if conn.execute("PRAGMA journal_mode").fetchone()[0].upper() == "WAL":
            conn.execute("PRAGMA journal_mode = DELETE")  # a WAL file keeps its page size
        conn.execute(f"PRAGMA page_size = {page_size}")
        conn.execute("VACUUM")
    wanted = values.pop("journal_mode")
    mode = conn.execute(f"PRAGMA journal_mode = {wanted}").fetchone()[0]
    if mode.upper() != wanted:
        raise Unavailable(f"journal_mode {wanted} was not applied (got {mode})")
    for name, value in values.items():
        conn.execute(f"PRAGMA {name} = {value}")
    values.update(page_size=str(page_size))
    for name, value in values.items():  # a build may cap or ignore a value (mmap_size's limit)
        row = conn.execute(f"PRAGMA {name}").fetchone()  # (None: a pragma this build leaves out)
        got = None if row is None else row[0]
        if str(got).upper() != _READ_BACK.get(name, {}).get(value, value):
            raise Unavailable(f"SQLite did not apply {name} = {value} (it reads {got}): this build caps or ignores it")


#: What ``PRAGMA name`` reads back for the names it returns as numbers.
_READ_BACK = {
    "synchronous": {"OFF": "0", "NORMAL": "1", "FULL": "2", "EXTRA": "3"},
    "temp_store": {"DEFAULT": "0", "FILE": "1", "MEMORY": "2"},
    "automatic_index": {"OFF": "0", "ON": "1"},
}


#: Disk per row of the largest workload's database, rounded up (200,000 rows: YCSB 21 MB,
#: order entry 36 MB).
BYTES_PER_ROW = 250


def _existing_folder(path: Path) -> Path:
    """``path`` or, when it is not made yet, its nearest existing parent."""
    path = path.absolute()
    while not path.exists():
        path = path.parent
    return path


def _file_system(folder: Path) -> int:
    """The device id of the file system ``folder`` is on."""
    return folder.stat().st_dev


def _sqlite_temp_folder() -> Path:
    """Where SQLite writes its temporary files (a page_size trial's VACUUM copy): the first of
    ``SQLITE_TMPDIR``, ``TMPDIR``, /var/tmp, /usr/tmp, /tmp that is a folder it may write, as
    SQLite picks it. Python's temporary folder can differ: on a full ``TMPDIR`` Python falls
    back to /tmp, while SQLite, which checks permissions and not space, still writes there."""
    for candidate in (os.environ.get("SQLITE_TMPDIR"), os.environ.get("TMPDIR"), "/var/tmp", "/usr/tmp", "/tmp"):
        if candidate and os.path.isdir(candidate) and os.access(candidate, os.W_OK | os.X_OK):
            return Path(candidate).absolute()
    return Path.cwd()


def _check_disk_space(rows: int, template_dir: str | Path | None) -> None:
    """Refuse a workload whose template (in ``template_dir``), trial copy (in the system's
    temporary folder) and a page_size trial's VACUUM copy (in SQLite's temporary folder,
    :func:`_sqlite_temp_folder`) do not fit on their file systems, one line up front rather
    than trials failing on a full disk.

    Raises:
        ValueError: naming the rows, the space needed and the space free.
    """
    database = rows * BYTES_PER_ROW
    folders = {
        "the template": _existing_folder(Path(template_dir or tempfile.gettempdir())),
        "a trial's copy": _existing_folder(Path(tempfile.gettempdir())),
        "SQLite's VACUUM copy": _existing_folder(_sqlite_temp_folder()),
    }
    needs: dict[int, tuple[Path, int, list[str]]] = {}  # file system -> (a folder on it, bytes, what)
    for what, folder in folders.items():
        device = _file_system(folder)
        first, needed, whats = needs.get(device, (folder, 0, []))
        needs[device] = (first, needed + database, [*whats, what])
    for folder, needed, whats in needs.values():
        free = shutil.disk_usage(folder).free
        if needed > free:
            raise InputError(
                f"{rows} rows need about {size_text(needed)} of disk under {folder} (a database "
                f"of ~{size_text(database)} each for {', '.join(whats)}), "
                f"but only {size_text(free)} is free"
            )


class SQLiteBackend:
    """Runs ``workload`` trials on SQLite; ``template_dir`` caches the built databases."""

    system = "sqlite"
    _closed = False  # close() sets it (a class default: pickles made before it load)

    def __init__(
        self,
        workload: Workload,
        duration_s: float = 1.0,
        repeats: int = 3,
        allow_unsafe: bool = False,
        template_dir: str | Path | None = None,
        seed: int = 0,
        min_transactions: int = DEFAULT_MIN_TRANSACTIONS,
    ) -> None:
        duration_s = positive_seconds("duration_s", duration_s)
        repeats = whole_number("repeats", repeats, 1)
        min_transactions = whole_number("min_transactions", min_transactions, 1)
        seed = whole_number("seed", seed, 0)
        self.workload = workload
        self.duration_s = float(duration_s)
        self.repeats = int(repeats)
        self.min_transactions = int(min_transactions)
        self.space = sqlite_space(allow_unsafe)
        self.seed = int(seed)
        self._owned_dir = None
        for prefix in (TEMPLATES_PREFIX, TRIAL_PREFIX):
            sweep_stale(prefix)
        if template_dir is not None:  # builds of killed runs in a shared folder whose templates
            sweep_stale(BUILD_PREFIX, parent=template_dir)  # exist (no build would sweep them)
        _check_disk_space(int(getattr(workload, "rows", 0)), template_dir)
        if template_dir is None:
            self._owned_dir = make_scratch(TEMPLATES_PREFIX)
            template_dir = self._owned_dir.name
        self.template_dir = Path(template_dir)

    def __setstate__(self, state: dict[str, Any]) -> None:
        """A copy (or a pickle sent to another process) builds its templates in a folder of its
        own (its scratch folder is a new one: see ``scratch._OwnedScratch``); a ``template_dir``
        passed in is shared, as it was given."""
        self.__dict__.update(state)
        if self._owned_dir is not None:
            self.template_dir = Path(self._owned_dir.name)

    def close(self) -> None:
        """Remove the template folder this backend made itself (a ``template_dir`` passed in
        belongs to the caller and stays); safe to call twice. A closed backend runs no trials."""
        self._closed = True
        if self._owned_dir is not None:
            self._owned_dir.cleanup()
            self._owned_dir = None

    def _refuse_if_closed(self) -> None:
        if self._closed:
            raise RuntimeError("this SQLite backend is closed (its scratch files are gone): make a new one")

    def template(self) -> Path:
        """The workload's template database for this seed, built on first use (written
        atomically); the seed is in its name, so a folder shared by runs of several seeds never
        measures one seed's run on another seed's data."""
        self._refuse_if_closed()  # (it rebuilt its template in a folder no sweep would ever remove)
        path = self.template_dir / f"{self.workload.template_key()}-seed{self.seed}-{TEMPLATE_LAYOUT}.db"
        if not path.exists():
            self.template_dir.mkdir(parents=True, exist_ok=True)
            sweep_stale(BUILD_PREFIX, parent=self.template_dir)  # builds of killed runs
            # a folder of its own: processes sharing the folder may build the same template at
            # once; each publishes a complete (and identical) file by an atomic rename
            with make_scratch(BUILD_PREFIX, self.template_dir) as building:
                partial = Path(building) / path.name
                conn = sqlite3.connect(partial.absolute(), isolation_level=None)  # (not a URI)
                try:
                    conn.execute("PRAGMA journal_mode = OFF")  # building only: not measured
                    conn.execute("BEGIN")
                    self.workload.setup(conn, seed=self.seed)
                    if conn.in_transaction:  # (a setup may have committed itself: conn.commit(),
                        conn.execute("COMMIT")  # executescript; a COMMIT then failed every trial)
                    conn.execute("PRAGMA journal_mode = DELETE")
                    # compacted once: a page_size trial rebuilds its copy with VACUUM, which
                    # also defragments it; measured on a loose template, the defaults lost ~4%
                    # to every other page size for a reason that is not the page size
                    conn.execute("VACUUM")
                finally:
                    conn.close()
                partial.replace(path)
        return path

    def run_trial(self, config: Mapping[str, Any]) -> TrialResult:
        """Measure one configuration (validated first: bad knob values raise ``KnobError``)."""
        self._refuse_if_closed()  # (as template(), before the trial's failures are caught as results)
        full = self.space.validate(config)
        started = time.perf_counter()
        try:
            template = self.template()
            with make_scratch(TRIAL_PREFIX) as workdir:
                database = Path(workdir) / "trial.db"
                shutil.copyfile(template, database)
                conn = sqlite3.connect(database.absolute(), isolation_level=None, check_same_thread=False)
                try:
                    apply_knobs(conn, full)
                    self.workload.prepare(self.seed)

                    def transaction() -> int:
                        return self.workload.transaction(conn)

                    def checkpoint() -> None:
                        """Copy the window's WAL into the database: a large
                        wal_autocheckpoint puts that off past a short window (a no-op
                        outside WAL mode)."""
                        conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()

                    timed_loop(
                        transaction,
                        self.duration_s * 0.2,
                        max(self.min_transactions // 5, 1),
                        finish=checkpoint,  # every window starts from an empty WAL
                    )
                    mean, spread, samples = repeat_throughput(
                        lambda: timed_loop(
                            transaction, self.duration_s, self.min_transactions, finish=checkpoint
                        ),
                        self.repeats,
                    )
                finally:
                    conn.close()
        except programming_errors():
            raise  # a bug (ours, or a workload's of one's own), not the configuration's failure
        except Exception as error:  # a failed trial is a result, not a crash of the tuning run:
            # SQLite's errors (a full disk, a value it refuses), OSError, MemoryError, the
            # RuntimeError of a knob this build ignores
            return TrialResult.failed(
                self.system,
                self.workload.name,
                self.space.name,
                full,
                error,
                time.perf_counter() - started,
            )
        return TrialResult(
            self.system,
            self.workload.name,
            self.space.name,
            full,
            ok=True,
            throughput_mean=mean,
            throughput_std=spread,
            throughputs=samples,
            unit=THROUGHPUT_UNITS["sqlite"],
            wall_seconds=time.perf_counter() - started,
        )
