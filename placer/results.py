"""The SQLite store of batch placement results: one row per finished run, committed at once.

Why SQLite: every finished run must survive a Ctrl-C or a kill of the batch, and several
tools (resume, leaderboard, notebooks) read the same results. Each row is written in its own
transaction in WAL mode, so a crash loses at most the run in flight, and readers never see a
half-written row.

A run is identified by ``(design, method, seed, budget_s)``: writing the same key again
replaces the row (a re-run). ``plc_path`` is stored relative to the runs folder so that the
folder can be moved as a whole.
"""

from __future__ import annotations

import errno
import filecmp
import json
import math
import os
import re
import sqlite3
import warnings
from collections.abc import Collection, Iterable, Iterator
from contextlib import closing, contextmanager
from dataclasses import MISSING, asdict, dataclass, fields
from pathlib import Path
from typing import Any

from netlists.errors import InputError, refuse_nul_byte
from netlists.formats.textio import json_loads

#: File name of the results database inside a runs folder.
DB_NAME = "results.sqlite"

#: What SQLite may keep beside the results database (its rollback journal, write-ahead log
#: and shared-memory index), each named ``DB_NAME`` plus the suffix.
DB_SIDE_SUFFIXES = ("-journal", "-wal", "-shm")

#: The files ``placer leaderboard`` writes (by default into the first runs folder), by kind.
LEADERBOARD_FILES = {
    "markdown": "leaderboard.md",
    "csv": "leaderboard.csv",
    "html": "leaderboard.html",
    "png": "leaderboard.png",
}

#: Rows per list of :meth:`ResultStore.row_chunks` (some 10 MB of Python objects at a time).
ROW_CHUNK = 5_000


class ResultsWarning(UserWarning):
    """A results database read as well as it can be, short of what it holds."""


STATUS_OK = "ok"
STATUS_FAILED = "failed"


def canonical_options(text: object) -> str:
    """A run's options JSON in one spelling per meaning (keys sorted, a whole float written as
    the integer: the batch takes ``w=1`` and ``w=1.0`` as the same options); text that is no
    JSON stays as it is. A leaderboard column and a resumed batch's column both hold runs of
    one spelling."""
    if not isinstance(text, str):
        return "" if text is None or (isinstance(text, float) and math.isnan(text)) else str(text)
    try:
        value = json_loads(text)
    except ValueError:
        return text

    def same_number(v: object) -> object:
        if isinstance(v, dict):
            return {k: same_number(x) for k, x in v.items()}
        if isinstance(v, list):
            return [same_number(x) for x in v]
        if isinstance(v, float) and v.is_integer() and abs(v) < 2**53:
            return int(v)  # 1.0 reads as 1
        return v

    return json.dumps(same_number(value), sort_keys=True)


@dataclass
class RunRecord:
    """One placement run: what was run, what it scored, and where its ``.plc`` lies."""

    design: str
    method: str
    seed: int
    budget_s: float
    suite: str = ""  # the suite folder the design was found under
    netlist_path: str = ""  # absolute path of the design's netlist
    design_digest: str = ""  # of the netlist and initial .plc texts (netlists.digest.files_digest)
    options: str = "{}"  # the method's options as JSON
    wirelength: float | None = None
    density: float | None = None
    congestion: float | None = None
    proxy: float | None = None
    hpwl: float | None = None
    timing: float | None = None  # placer.cost.timing worst, normalised by W + H
    timing_model: int | None = None  # placer.cost.timing.TIMING_MODEL of that figure
    seconds: float | None = None  # wall time of the placement itself
    # CPU seconds of the process running it over the same span (time.process_time: a pool or
    # Ray worker's own; with --jobs 1 in the batch's process, all of its threads): well below
    # ``seconds``, the run waited for a CPU it shared
    cpu_s: float | None = None
    overlap_area: float | None = None  # total hard-macro overlap area (check_legality)
    out_of_canvas: int | None = None  # 1 when some macro sticks out of the canvas
    initial_wirelength: float | None = None
    initial_density: float | None = None
    initial_congestion: float | None = None
    initial_proxy: float | None = None  # proxy of the design's initial.plc
    initial_overlap_area: float | None = None  # check_legality of the initial.plc, as above
    initial_out_of_canvas: int | None = None
    plc_path: str | None = None  # relative to the runs folder
    plc_attempt: str | None = None  # id in the header of the .plc this row's numbers belong to
    version: str = ""  # placer.__version__
    git_commit: str | None = None
    git_dirty: int | None = None  # 1: the checkout had uncommitted changes (git_commit is not all)
    method_source: str = ""  # a plugin method's class, file and digest; empty for built-ins
    status: str = STATUS_OK
    error: str | None = None
    note: str | None = None  # what the method said of an ok run (e.g. it kept the given placement)
    started: str = ""  # ISO 8601, UTC
    finished: str = ""
    # the machine it ran on (None in rows written before they were recorded): the budget is
    # wall-clock, so load and CPU set what a run could do in it
    host: str | None = None  # socket.gethostname() of the process that ran it
    cpu_count: int | None = None  # os.cpu_count() there
    cpu_model: str | None = None  # /proc/cpuinfo's model name (platform.processor() elsewhere)
    load_1m: float | None = None  # the 1-minute load average as the run began
    jobs: int | None = None  # the batch's --jobs (None on Ray)

    @property
    def key(self) -> tuple[str, str, int, float]:
        return (self.design, self.method, int(self.seed), float(self.budget_s))

    def options_dict(self) -> dict[str, Any]:
        """The method options the run was made with (ValueError naming the run when they are no
        JSON object: a row edited by hand or written by another tool)."""
        try:
            options = json_loads(self.options or "{}")
        except json.JSONDecodeError:
            options = None
        if not isinstance(options, dict):
            raise InputError(
                f"the run {self.design}/{self.method}/seed{self.seed} has options "
                f"{self.options!r} (expected a JSON object)"
            )
        return options


_COLUMNS = [f.name for f in fields(RunRecord)]
#: Each field's default (the key columns have none: every runs table holds them).
_DEFAULTS = {f.name: f.default for f in fields(RunRecord) if f.default is not MISSING}
KEY_COLUMNS = ("design", "method", "seed", "budget_s")
"""The columns that identify a run (one row per key)."""


def _column_type(annotation: str) -> str:
    base = annotation.split("|")[0].strip()
    return {"int": "INTEGER", "float": "REAL"}.get(base, "TEXT")


def _schema() -> str:
    cols = []
    for f in fields(RunRecord):
        null = " NOT NULL" if f.name in KEY_COLUMNS or f.name == "status" else ""
        cols.append(f"{f.name} {_column_type(str(f.type))}{null}")
    return (
        "CREATE TABLE IF NOT EXISTS runs (\n  "
        + ",\n  ".join(cols)
        + f",\n  UNIQUE ({', '.join(KEY_COLUMNS)})\n)"
    )


def _refuse_other_tables(conn: sqlite3.Connection) -> None:
    """Refuse a database that holds tables but no ``runs`` (e.g. a ``placer tune``
    results.sqlite), naming what it holds."""
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if tables and "runs" not in tables:
        raise sqlite3.DatabaseError(f"it holds other tables ({', '.join(sorted(tables))}), not placement runs")


class ResultStore:
    """The ``runs`` table of a ``results.sqlite`` file (created on first use).

    Each :meth:`write` is its own committed transaction. Use one store per process; SQLite
    serialises writers across processes. ``read_only`` opens an existing file without writing
    to it (a leaderboard over a runs folder the user may not write to); columns an older file
    lacks then read as their defaults.

    Raises:
        ValueError: the file is not a results database (corrupt, truncated, another format).
        FileNotFoundError: ``read_only`` and no file there.
    """

    def __init__(self, path: str | Path, read_only: bool = False) -> None:
        self.path = Path(path)
        self.read_only = read_only
        self._wal_warned = False
        if read_only and not self.path.is_file():  # (the read-only fallback made a 0-byte file
            # there, then said "not a readable results database (no such table: runs)")
            raise FileNotFoundError(errno.ENOENT, "no results database here", str(self.path))
        try:
            if read_only:
                with self._connect() as conn:
                    _refuse_other_tables(conn)  # (read-only said 'no such table: runs')
                    conn.execute("SELECT 1 FROM runs LIMIT 1").fetchall()
                return
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._connect() as conn:
                _refuse_other_tables(conn)
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute(_schema())
                self._check_run_key(conn)
                self._add_missing_columns(conn)
        except sqlite3.DatabaseError as exc:  # (a full disk or an I/O error: OSError, from _connect)
            raise InputError(f"{self.path}: not a readable results database ({exc})") from None

    @classmethod
    def in_runs_dir(cls, runs_dir: str | Path) -> ResultStore:
        """The store of a runs folder (``RUNS_DIR/results.sqlite``)."""
        return cls(Path(runs_dir) / DB_NAME)

    def _open(self) -> sqlite3.Connection:
        # absolute paths: SQLite (built with USE_URI) reads a name starting with "file:" as a
        # URI, whatever uri= says (a store named "file:x?mode=memory" was kept in memory)
        if not self.read_only:
            return sqlite3.connect(self.path.absolute(), timeout=30.0)
        if os.access(self.path.parent, os.W_OK) and os.access(self.path, os.W_OK):
            # a plain connection that only reads: it sees a batch writing right now consistently,
            # and closing it (the last one) removes the -wal and -shm files it needed
            return sqlite3.connect(self.path.absolute(), timeout=30.0)
        uri = self.path.absolute().as_uri()  # a folder this user cannot write: read it as it is
        conn = None
        try:
            conn = sqlite3.connect(f"{uri}?mode=ro", uri=True, timeout=30.0)
            conn.execute("SELECT 1 FROM sqlite_master").fetchall()
            return conn
        except sqlite3.OperationalError:  # WAL needs a -shm file it may not create: read as is
            if conn is not None:
                conn.close()  # (left to the collector: one open connection per read)
            wal = self.path.with_name(self.path.name + "-wal")
            if wal.is_file() and wal.stat().st_size > 0 and not self._wal_warned:  # runs only the WAL holds
                self._wal_warned = True  # (once per store: every read opens a connection)
                warnings.warn(ResultsWarning(
                    f"{wal} holds runs not yet copied into {self.path.name}, which cannot be read without its "
                    "-shm file in a folder this user cannot write: the latest runs may be missing (open the "
                    "folder once with write access to merge them)"), stacklevel=4)
            return sqlite3.connect(f"{uri}?immutable=1", uri=True, timeout=30.0)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """A connection for one transaction; a full disk or an I/O error is an OSError naming
        the file, at opening and at every later write alike (a run's row written on a full
        disk said "results database: disk I/O error" with no path)."""
        try:
            conn = self._open()
            try:
                with conn:  # commits on success, rolls back on error
                    yield conn
            finally:
                conn.close()
        except sqlite3.DatabaseError as exc:
            code = getattr(exc, "sqlite_errorcode", 0) & 0xFF
            # a full disk read as "not a readable results database (database or disk is full)"
            if code == sqlite3.SQLITE_FULL:
                raise OSError(errno.ENOSPC, f"the disk is full ({exc})", str(self.path)) from None
            if code == sqlite3.SQLITE_IOERR:
                raise OSError(errno.EIO, f"cannot read or write the results database ({exc})", str(self.path)) from None
            raise

    @staticmethod
    def _check_run_key(conn: sqlite3.Connection) -> None:
        """Refuse a ``runs`` table another tool made without the run key's UNIQUE constraint:
        re-runs would add rows instead of replacing them (INSERT OR REPLACE needs the key)."""
        for _, name, unique, *_ in conn.execute("PRAGMA index_list(runs)"):
            # (a parameter, not the name in the text: an index named x'y broke the statement)
            columns = tuple(row[0] for row in conn.execute("SELECT name FROM pragma_index_info(?) ORDER BY seqno", (name,)))
            if unique and columns == KEY_COLUMNS:
                return
        raise sqlite3.DatabaseError(
            f"its runs table has no UNIQUE ({', '.join(KEY_COLUMNS)}): not made by placer-gym"
        )

    @staticmethod
    def _add_missing_columns(conn: sqlite3.Connection) -> None:
        """Older databases gain columns added since they were created."""
        have = {row[1] for row in conn.execute("PRAGMA table_info(runs)")}
        for f in fields(RunRecord):
            if f.name not in have:
                conn.execute(f"ALTER TABLE runs ADD COLUMN {f.name} {_column_type(str(f.type))}")

    def write(self, record: RunRecord) -> None:
        """Insert or replace the row of ``record.key`` and commit."""
        values = asdict(record)
        placeholders = ", ".join("?" for _ in _COLUMNS)
        with self._connect() as conn:
            conn.execute(
                f"INSERT OR REPLACE INTO runs ({', '.join(_COLUMNS)}) VALUES ({placeholders})",
                [values[c] for c in _COLUMNS],
            )

    def delete_failed_at_other_budgets(self, record: RunRecord) -> None:
        """Remove failed rows of ``record``'s design, method and seed at another budget: the
        folder holds one budget per run, and a later attempt supersedes a failure."""
        with self._connect() as conn:
            conn.execute(
                "DELETE FROM runs WHERE design = ? AND method = ? AND seed = ? AND budget_s != ? "
                "AND status != ?",
                (record.design, record.method, int(record.seed), float(record.budget_s), STATUS_OK),
            )

    def records(self, status: str | None = None) -> list[RunRecord]:
        """All rows (optionally of one status), ordered by design, method, seed."""
        columns, rows = self.row_values(status)
        return [RunRecord(**dict(zip(columns, row, strict=True))) for row in rows]

    def ok_commit_counts(self, methods: Collection[str],
                         leave_out: Iterable[tuple[str, str, int, float]] = ()) -> dict[str, dict[str, int]]:
        """Per method of ``methods``: its ok runs of built-in code (no ``method_source``) that
        record a git commit, counted per commit (most runs first), leaving out the runs of
        ``leave_out``'s keys (:attr:`RunRecord.key`). One grouped query: reading every row as
        a :class:`RunRecord` for this took 1.8 s at 100,000 rows, at each batch's start."""
        wanted = sorted(set(methods))
        if not wanted:
            return {}
        counts: dict[str, dict[str, int]] = {}
        with self._connect() as conn:
            conn.execute("CREATE TEMP TABLE left_out (design TEXT, method TEXT, seed INTEGER, budget_s REAL, "
                         "PRIMARY KEY (design, method, seed, budget_s))")
            conn.executemany("INSERT OR IGNORE INTO left_out VALUES (?, ?, ?, ?)",
                             [k for k in leave_out if k[1] in wanted])
            marks = ", ".join("?" * len(wanted))
            rows = conn.execute(
                f"SELECT method, git_commit, COUNT(*) AS n FROM runs r WHERE status = ? AND method IN ({marks}) "
                "AND (method_source IS NULL OR method_source = '') AND git_commit IS NOT NULL AND git_commit != '' "
                "AND NOT EXISTS (SELECT 1 FROM left_out o WHERE o.design = r.design AND o.method = r.method "
                "AND o.seed = r.seed AND o.budget_s = r.budget_s) "
                "GROUP BY method, git_commit ORDER BY method, n DESC, git_commit", [STATUS_OK, *wanted]).fetchall()
        for method, commit, n in rows:
            counts.setdefault(method, {})[commit] = int(n)
        return counts

    def row_values(self, status: str | None = None) -> tuple[list[str], list[tuple[Any, ...]]]:
        """The rows of :meth:`records` as plain tuples, with their column names: every
        :class:`RunRecord` field in its order (a column an older read-only file lacks reads as
        the field's default). No objects per row beyond the tuple: a leaderboard read 100,000
        rows through RunRecords and then dicts of them, about 2.5 KB a row more at its peak."""
        columns, chunks = self.row_chunks(status)
        return columns, [row for chunk in chunks for row in chunk]

    def row_chunks(self, status: str | None = None,
                   size: int | None = None) -> tuple[list[str], Iterator[list[tuple[Any, ...]]]]:
        """:meth:`row_values`' rows in lists of at most ``size`` rows (default
        :data:`ROW_CHUNK`), read as the iterator is consumed: a reader that turns each list
        into compact columns (the leaderboard) never holds every row's tuple and values at
        once. The file is checked (key columns present, no row :func:`_refuse_unreadable_rows`
        refuses) before this returns; the connection stays open until the iterator is
        exhausted or closed (one never started: until it is collected)."""
        conn = self._open()
        try:
            have = {row[1] for row in conn.execute("PRAGMA table_info(runs)")}
            lacking = [c for c in KEY_COLUMNS if c not in have]
            if lacking:  # (read as a KeyError of the first: a bug's report, exit 70)
                raise InputError(f"{self.path}: its runs table has no column {', '.join(lacking)}: "
                                 "not a results file of placer place")
            _refuse_unreadable_rows(self.path, conn, have)
            # (a missing column selected as its default, a bound value: the columns keep their order)
            selected = [c if c in have else f"? AS {c}" for c in _COLUMNS]
            args: list[Any] = [_DEFAULTS[c] for c in _COLUMNS if c not in have]
            query = f"SELECT {', '.join(selected)} FROM runs"
            if status is not None:
                query += " WHERE status = ?"
                args.append(status)
            query += " ORDER BY design, method, seed, budget_s"
            cursor = conn.execute(query, args)
        except BaseException:
            conn.close()
            raise
        return list(_COLUMNS), _fetched_in_chunks(conn, cursor, size or ROW_CHUNK)


def _fetched_in_chunks(conn: sqlite3.Connection, cursor: sqlite3.Cursor,
                       size: int) -> Iterator[list[tuple[Any, ...]]]:
    """``cursor``'s rows, ``size`` at a time; ``conn`` closed at the end (or when dropped)."""
    with closing(conn):
        while rows := cursor.fetchmany(size):
            yield rows


def _refuse_unreadable_rows(path: Path, conn: sqlite3.Connection, have: set[str]) -> None:
    """Refuse rows a results file of ours never holds (edited by hand or by another tool): a
    key column of the wrong kind (a seed ``'abc'`` or ``inf``, a budget that is text, a design
    that is no text) or raw bytes in any column. Each failed later as a bug of ours: int('abc')
    resuming a batch, ``bytes < str`` sorting the leaderboard's rows (exit 70, a traceback).
    One query in SQLite, not a pass over the rows in Python."""
    blobs = " OR ".join(f"typeof({c}) = 'blob'" for c in _COLUMNS if c in have)
    bad = conn.execute(
        "SELECT design, method, seed, budget_s FROM runs WHERE typeof(design) != 'text' "
        "OR typeof(method) != 'text' OR typeof(seed) != 'integer' "
        "OR typeof(budget_s) NOT IN ('integer', 'real') OR abs(budget_s) > 1.7976931348623157e308 "
        f"OR {blobs} LIMIT 1"
    ).fetchone()
    if bad is not None:
        shown = ", ".join(f"{c} {value!r}"[:60] for c, value in zip(KEY_COLUMNS, bad, strict=True))
        raise InputError(
            f"{path}: a run ({shown}) holds values no results file of placer place holds (a "
            "whole-number seed, a finite budget, names as text, no raw bytes): edited by hand "
            "or by another tool"
        )
    _refuse_nul_bytes(path, conn, have)


#: The columns a path is made of, or that hold one (a row's files are found through them).
PATH_COLUMNS = ("design", "method", "suite", "netlist_path", "plc_path")


def _refuse_nul_bytes(path: Path, conn: sqlite3.Connection, have: set[str]) -> None:
    """Refuse a row whose path, or name a path is made of, holds a NUL byte (a results file
    edited by hand): it failed in ``open`` or ``os.stat`` as "embedded null byte", a bug's
    report (``leaderboard --verify``, a resumed batch). One query in SQLite, as above."""
    columns = [c for c in PATH_COLUMNS if c in have]
    found = conn.execute(
        f"SELECT {', '.join(KEY_COLUMNS)}, {', '.join(columns)} FROM runs WHERE "
        + " OR ".join(f"instr(CAST({c} AS BLOB), x'00') > 0" for c in columns)
        + " LIMIT 1"
    ).fetchone()
    if found is None:
        return
    shown = ", ".join(f"{c} {value!r}"[:60] for c, value in zip(KEY_COLUMNS, found, strict=False))
    for column, value in zip(columns, found[len(KEY_COLUMNS):], strict=True):
        if isinstance(value, str):
            refuse_nul_byte(value, f"{path}: the run ({shown}): {column}")


def same_design(row: RunRecord, netlist: str | Path, digest: str) -> bool:
    """Whether ``row`` was placed from the design now at ``netlist`` with files ``digest``:
    their digests agree (an edit in place of the netlist or its initial .plc is another
    design), or, for rows written before digests were kept, :func:`same_design_file`."""
    if row.design_digest and digest:
        return row.design_digest == digest
    return same_design_file(row.netlist_path, netlist)


def same_design_file(stored: str, asked: str | Path) -> bool:
    """Whether a stored netlist path and another are the same design: the same file, or (a
    suite copied or moved) a file with the same bytes or one no longer there to compare."""
    before, now = Path(stored), Path(asked)
    if not stored or before.resolve() == now.resolve() or not before.is_file() or not now.is_file():
        return True
    if filecmp.cmp(before, now, shallow=False):
        return True
    from netlists.formats.textio import is_gzip, read_text

    if is_gzip(before) or is_gzip(now):  # the same text compressed differently (.gz in any case)
        return read_text(before) == read_text(now)
    return False


def printable(text: str) -> str:
    """``text`` with its unprintable characters written as escapes (``\n``, ``\x1b``): a design
    folder's name is any name a file system takes, and a line break or a terminal escape in one
    split the batch's summary lines and coloured the terminal."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


#: Header comment naming the attempt that wrote a ``.plc`` (the row's ``plc_attempt``).
ATTEMPT_LABEL = "placer-gym attempt"
_ATTEMPT_LINE = re.compile(r"^#\s*" + re.escape(ATTEMPT_LABEL) + r"\s+([0-9a-f]{32})\s*$")


def attempt_of(path: Path) -> str | None:
    """The attempt id in a ``.plc`` header (None when it names none)."""
    with path.open(encoding="utf-8", errors="replace") as handle:
        for line in handle:
            if not line.startswith("#"):
                break
            found = _ATTEMPT_LINE.match(line.strip())
            if found:
                return found.group(1)
    return None


def plc_of_row_is_there(runs_dir: Path, plc_path: str | None, plc_attempt: str | None) -> bool:
    """Whether an ok row's ``.plc`` (its ``plc_path`` and ``plc_attempt``) is in the runs folder
    and is the one its numbers were measured on (its header names the row's attempt; rows from
    before attempts: any file)."""
    if not plc_path:
        return False
    path = runs_dir / plc_path
    try:
        return path.is_file() and (plc_attempt is None or attempt_of(path) == plc_attempt)
    except OSError:  # unreadable
        return False
