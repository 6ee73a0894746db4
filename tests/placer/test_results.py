"""The batch results store: a full disk or an I/O error opening it is named as such (an
OSError naming the file), not as a damaged results database."""

from __future__ import annotations

import errno
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from typer.testing import CliRunner

from placer.results import DB_NAME, ResultStore, RunRecord


def _failing_at_wal(monkeypatch: pytest.MonkeyPatch, code: int, message: str) -> None:
    """Every connection to a results database raises ``sqlite3.OperationalError(message)``
    with ``sqlite_errorcode`` ``code`` when the store turns WAL on (its first write)."""

    class Failing(sqlite3.Connection):
        def execute(self, sql, *args):  # type: ignore[no-untyped-def, override]
            if sql.startswith("PRAGMA journal_mode"):
                error = sqlite3.OperationalError(message)
                error.sqlite_errorcode = code
                raise error
            return super().execute(sql, *args)

    real_connect = sqlite3.connect

    def connect(database, *args, **kwargs):  # type: ignore[no-untyped-def]
        if Path(str(database)).name == DB_NAME:
            kwargs["factory"] = Failing
        return real_connect(database, *args, **kwargs)

    monkeypatch.setattr(sqlite3, "connect", connect)


@pytest.mark.parametrize(
    ("code", "message", "number", "text"),
    [
        (sqlite3.SQLITE_FULL, "database or disk is full", errno.ENOSPC,
         "the disk is full (database or disk is full)"),
        (sqlite3.SQLITE_IOERR, "disk I/O error", errno.EIO,
         "cannot read or write the results database (disk I/O error)"),
        (sqlite3.SQLITE_IOERR_WRITE, "disk I/O error", errno.EIO,  # an extended code: its low byte counts
         "cannot read or write the results database (disk I/O error)"),
    ],
)
def test_a_full_disk_or_an_io_error_is_an_oserror_naming_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int, message: str, number: int, text: str
) -> None:
    """SQLITE_FULL becomes OSError(ENOSPC) and SQLITE_IOERR (any extended I/O code) OSError(EIO),
    each naming the results file: both read "not a readable results database" before."""
    _failing_at_wal(monkeypatch, code, message)
    path = tmp_path / "runs" / DB_NAME
    with pytest.raises(OSError) as info:
        ResultStore(path)
    assert (info.value.errno, info.value.strerror, info.value.filename) == (number, text, str(path))


def test_another_sqlite_error_is_still_a_damaged_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Only disk errors become OSError: another SQLite error (here SQLITE_CORRUPT) stays the
    ValueError that names the file as not a readable results database."""
    _failing_at_wal(monkeypatch, sqlite3.SQLITE_CORRUPT, "database disk image is malformed")
    path = tmp_path / "runs" / DB_NAME
    with pytest.raises(ValueError) as info:
        ResultStore(path)
    assert not isinstance(info.value, OSError)
    assert str(info.value) == f"{path}: not a readable results database (database disk image is malformed)"


def test_a_full_disk_ends_a_batch_in_one_line_and_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, design_writer  # type: ignore[no-untyped-def]
) -> None:
    """``placer place --suite`` on a disk that fills as the results database is opened prints
    one line naming the file and the full disk, and exits 2 (no traceback)."""
    from placer.cli import app

    suite = tmp_path / "suite"
    design_writer(suite / "tiny", 1, "tiny", n_soft=8)
    _failing_at_wal(monkeypatch, sqlite3.SQLITE_FULL, "database or disk is full")
    runs = tmp_path / "runs"
    result = CliRunner().invoke(app, ["place", "--suite", str(suite), "--algo", "greedy", "--budget-s", "1",
                                      "--out", str(runs)])
    assert result.exit_code == 2, result.output
    assert result.stderr == f"placer: error: {runs / DB_NAME}: the disk is full (database or disk is full)\n"


def test_a_full_disk_at_a_later_write_names_the_file_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The mapping covered only the opening: a run's row written once the disk had filled said
    "results database: disk I/O error", naming no file."""
    path = tmp_path / "runs" / DB_NAME
    store = ResultStore(path)

    class Full(sqlite3.Connection):
        def execute(self, sql, *args):  # type: ignore[no-untyped-def, override]
            if sql.startswith("INSERT"):
                error = sqlite3.OperationalError("database or disk is full")
                error.sqlite_errorcode = sqlite3.SQLITE_FULL
                raise error
            return super().execute(sql, *args)

    real_connect = sqlite3.connect
    monkeypatch.setattr(sqlite3, "connect", lambda database, *a, **k: real_connect(database, *a, **{**k, "factory": Full}))
    with pytest.raises(OSError) as info:
        store.write(RunRecord(design="d", method="m", seed=0, budget_s=1.0))
    assert (info.value.errno, info.value.filename) == (errno.ENOSPC, str(path))


def test_a_read_only_probe_that_fails_closes_its_connection(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """In a folder this user cannot write, a WAL database fails the read-only probe; the probe's
    connection was left to the collector (one per read) before the immutable one was opened."""
    import os

    path = tmp_path / DB_NAME
    ResultStore(path).write(RunRecord(design="d", method="m", seed=0, budget_s=1.0))
    closed: list[bool] = []

    class Probe(sqlite3.Connection):
        def execute(self, sql, *args):  # type: ignore[no-untyped-def, override]
            raise sqlite3.OperationalError("unable to open database file")

        def close(self) -> None:
            closed.append(True)
            super().close()

    real_connect = sqlite3.connect

    def connect(database, *args, **kwargs):  # type: ignore[no-untyped-def]
        if "mode=ro" in str(database):
            kwargs["factory"] = Probe
        return real_connect(database, *args, **kwargs)

    monkeypatch.setattr(sqlite3, "connect", connect)
    monkeypatch.setattr(os, "access", lambda *args, **kwargs: False)  # a folder it cannot write
    store = ResultStore(path, read_only=True)
    assert len(store.records()) == 1 and len(closed) == 2  # (the opening's probe and the read's)


def test_a_read_only_store_of_a_missing_file_is_not_found_and_creates_nothing(tmp_path: Path) -> None:
    """The read-only fallback made a 0-byte file there and said "not a readable results
    database (no such table: runs)" of a file that did not exist."""
    with pytest.raises(FileNotFoundError) as missing:
        ResultStore(tmp_path / "none.sqlite", read_only=True)
    assert missing.value.filename == str(tmp_path / "none.sqlite")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("folder", ["file:runs?mode=memory&", "file:other"])
def test_a_store_named_like_a_sqlite_uri_is_the_file_it_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, folder: str
) -> None:
    """SQLite (built with USE_URI) read a relative name starting with "file:" as a URI, whatever
    uri= said: "file:runs?mode=memory&/..." kept the rows in memory, "file:other/..." wrote
    into the folder other."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "other").mkdir()
    path = Path(folder) / DB_NAME
    ResultStore(path).write(RunRecord(design="d", method="m", seed=0, budget_s=1.0))
    assert (tmp_path / folder / DB_NAME).is_file() and not (tmp_path / "other" / DB_NAME).exists()
    assert [r.design for r in ResultStore(path).records()] == ["d"]
    assert [r.design for r in ResultStore(path, read_only=True).records()] == ["d"]


def test_row_values_are_the_records_fields_as_plain_tuples_an_older_files_missing_columns_as_defaults(
    tmp_path: Path,
) -> None:
    """The leaderboard reads the rows as tuples (RunRecords and dicts of them held ~1.2 KB a
    row more at its peak): the same values, fields and order as :meth:`ResultStore.records`."""
    from dataclasses import astuple, fields

    path = tmp_path / DB_NAME
    store = ResultStore(path)
    store.write(RunRecord("d2", "sa", 0, 5.0, proxy=0.7, note="kept"))
    store.write(RunRecord("d1", "fd", 1, 5.0, status="failed", error="boom"))
    names = [f.name for f in fields(RunRecord)]
    columns, rows = store.row_values()
    assert columns == names and all(isinstance(row, tuple) for row in rows)
    assert rows == [astuple(r) for r in store.records()] and [row[0] for row in rows] == ["d1", "d2"]
    assert store.row_values("failed")[1] == [astuple(store.records("failed")[0])]
    # an older file, read-only: columns added since read as their defaults, in their places
    with sqlite3.connect(path) as conn:
        conn.execute("ALTER TABLE runs DROP COLUMN note")
        conn.execute("ALTER TABLE runs DROP COLUMN options")
    conn.close()
    columns, rows = ResultStore(path, read_only=True).row_values()
    assert columns == names
    got = dict(zip(columns, rows[1], strict=True))
    assert got["note"] is None and got["options"] == "{}" and got["proxy"] == 0.7 and got["design"] == "d2"


def test_row_chunks_are_row_values_in_lists_of_at_most_size_and_refuse_a_bad_file_before_reading(
    tmp_path: Path,
) -> None:
    """The leaderboard reads a folder's rows a few thousand at a time (every row's tuple and
    values held at once were most of its ~3.1 KB a row at its peak): the same rows in the
    same order, the file refused before any row is read."""
    from netlists.errors import InputError

    path = tmp_path / DB_NAME
    store = ResultStore(path)
    for seed in range(5):
        store.write(RunRecord("d", "sa", seed, 5.0, proxy=0.7 + seed))
    columns, chunks = store.row_chunks(size=2)
    lists = list(chunks)
    assert [len(rows) for rows in lists] == [2, 2, 1]
    assert (columns, [row for rows in lists for row in rows]) == store.row_values()
    assert [len(rows) for rows in store.row_chunks("ok", size=4)[1]] == [4, 1]
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.execute("UPDATE runs SET seed = 'abc' WHERE seed = 4")
    with pytest.raises(InputError, match="holds values no results file of placer place holds"):
        store.row_chunks(size=2)  # (not waiting for the iterator's first list)


@pytest.mark.parametrize(
    "edit",
    ["UPDATE runs SET seed = 'abc'", "UPDATE runs SET seed = 1e999", "UPDATE runs SET budget_s = 'abc'",
     "UPDATE runs SET design = x'00ff'", "UPDATE runs SET note = x'00ff'"],
)
def test_a_row_no_results_file_of_ours_holds_is_refused_by_name(tmp_path: Path, edit: str) -> None:
    """A seed 'abc' failed resuming a batch in int() and raw bytes sorting the leaderboard's
    rows: a bug's report (exit 70) for a file edited by hand."""
    from netlists.errors import InputError

    path = tmp_path / DB_NAME
    ResultStore(path).write(RunRecord("d", "sa", 0, 5.0, proxy=0.7))
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.execute(edit)
    with pytest.raises(InputError, match="holds values no results file of placer place holds"):
        ResultStore(path).records()


def test_a_runs_table_without_a_key_column_is_refused_by_name(tmp_path: Path) -> None:
    """A runs table lacking budget_s failed with KeyError: 'budget_s' (exit 70)."""
    from netlists.errors import InputError

    path = tmp_path / DB_NAME
    with closing(sqlite3.connect(path)) as conn, conn:  # another tool's table of that name
        conn.execute("CREATE TABLE runs (design TEXT, method TEXT, seed INTEGER, proxy REAL)")
        conn.execute("INSERT INTO runs VALUES ('d', 'sa', 0, 0.7)")
    with pytest.raises(InputError, match="has no column budget_s"):
        ResultStore(path, read_only=True).records()


@pytest.mark.parametrize("column", ["plc_path", "netlist_path", "suite", "design"])
def test_a_row_whose_path_holds_a_nul_byte_is_refused_naming_the_file_and_the_field(tmp_path: Path, column: str) -> None:
    """A NUL byte in a stored path (a results file edited by hand) failed in open or os.stat as
    "ValueError: embedded null byte", a bug's report (leaderboard --verify, exit 70)."""
    from netlists.errors import InputError

    path = tmp_path / DB_NAME
    ResultStore(path).write(RunRecord("d", "sa", 0, 5.0, proxy=0.7, suite="s", netlist_path="s/d/netlist.pb.txt",
                                      plc_path="d/sa/seed0.plc"))
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.execute(f"UPDATE runs SET {column} = {column} || char(0) || 'x'")
    for store in (ResultStore(path), ResultStore(path, read_only=True)):
        with pytest.raises(InputError) as refused:
            store.records()
        assert str(refused.value).startswith(f"{path}: the run (design ")
        assert str(refused.value).endswith(f"): {column} holds a NUL byte; not a path")


def test_leaderboard_verify_tells_a_nul_byte_in_a_plc_path_in_one_line(tmp_path: Path) -> None:
    """At the command line: one line naming the file and the field, exit status 2 (it was
    "placer: internal error: ValueError: embedded null byte", exit 70)."""
    from placer.cli import app

    runs = tmp_path / "runs"
    ResultStore(runs / DB_NAME).write(RunRecord("d", "sa", 0, 5.0, proxy=0.7, netlist_path="s/d/netlist.pb.txt",
                                                plc_path="d/sa/seed0.plc\x00x"))
    done = CliRunner().invoke(app, ["leaderboard", str(runs), "--verify", "--out", str(tmp_path / "board")])
    assert done.exit_code == 2, done.output
    assert done.stderr.strip() == (f"placer: error: {runs / DB_NAME}: the run (design 'd', method 'sa', seed 0, "
                                   "budget_s 5.0): plc_path holds a NUL byte; not a path")


#: Options nested past Python's recursion limit: json raised RecursionError, which no reader
#: caught, so a results row holding it read as a bug of ours (exit 70), not as a damaged row.
DEEP_JSON = "[" * 100_000


def test_options_nested_past_the_recursion_limit_read_as_a_damaged_row() -> None:
    from netlists.errors import InputError
    from placer.results import canonical_options

    run = RunRecord(design="d", method="m", seed=0, budget_s=1.0, options=DEEP_JSON)
    with pytest.raises(InputError, match=r"the run d/m/seed0 has options '\[\[\[.*\(expected a JSON object\)"):
        run.options_dict()
    assert canonical_options(DEEP_JSON) == DEEP_JSON  # (text that is no JSON stays as it is)


def test_a_resume_over_a_row_of_deeply_nested_options_is_one_line_and_exit_2(tmp_path: Path) -> None:
    from placer.cli import app

    suite = tmp_path / "suite"
    result = CliRunner().invoke(app, ["generate", str(suite / "tiny"), "--hard", "3", "--soft", "6", "--ports", "4"])
    assert result.exit_code == 0, result.output
    runs = tmp_path / "runs"
    args = ["place", "--suite", str(suite), "--algo", "greedy", "--seeds", "1", "--budget-s", "1", "--out", str(runs)]
    assert CliRunner().invoke(app, args).exit_code == 0
    with closing(sqlite3.connect(runs / DB_NAME)) as conn, conn:
        conn.execute("UPDATE runs SET options = ?", (DEEP_JSON,))
    result = CliRunner().invoke(app, [*args, "--resume"])
    assert result.exit_code == 2, result.output
    assert "expected a JSON object" in result.output and "internal error" not in result.output


#: The columns of a run's machine and CPU time, added after results databases were in use.
MACHINE_COLUMNS = ("cpu_s", "git_dirty", "host", "cpu_count", "cpu_model", "load_1m", "jobs")


def test_a_database_made_before_the_machine_columns_still_reads_and_gains_them_when_written(
    tmp_path: Path,
) -> None:
    """Rows written before a run's CPU seconds, host, load and jobs were recorded read them as
    None (read-only, as the leaderboard opens it), and a batch writing into that file adds the
    columns and keeps the older rows."""
    path = tmp_path / DB_NAME
    ResultStore(path).write(RunRecord("d1", "sa", 0, 5.0, proxy=0.7, seconds=4.0))
    with closing(sqlite3.connect(path)) as conn, conn:  # the file as the older code made it
        for column in MACHINE_COLUMNS:
            conn.execute(f"ALTER TABLE runs DROP COLUMN {column}")
    with closing(sqlite3.connect(path)) as conn:
        have = {row[1] for row in conn.execute("PRAGMA table_info(runs)")}
    assert not have & set(MACHINE_COLUMNS)

    (old,) = ResultStore(path, read_only=True).records()
    assert old.proxy == 0.7 and all(getattr(old, c) is None for c in MACHINE_COLUMNS)

    store = ResultStore(path)  # a batch resuming into the folder
    store.write(RunRecord("d1", "sa", 1, 5.0, proxy=0.6, seconds=4.0, cpu_s=3.9, host="h", cpu_count=8,
                          cpu_model="cpu", load_1m=0.5, jobs=2, git_dirty=0))
    by_seed = {r.seed: r for r in store.records()}
    assert by_seed[0].cpu_s is None and by_seed[0].host is None
    assert (by_seed[1].cpu_s, by_seed[1].host, by_seed[1].cpu_count, by_seed[1].jobs) == (3.9, "h", 8, 2)


def test_ok_commit_counts_are_the_builtin_ok_runs_per_commit_less_those_left_out(tmp_path: Path) -> None:
    """What a batch's commit-mix warning counts, read in one grouped query: ok runs of the
    asked methods' built-in code that record a commit, per commit, without the runs the batch
    replaces; failed runs, plugins' runs and runs recording no commit do not count."""
    store = ResultStore(tmp_path / DB_NAME)

    def row(design: str, method: str, seed: int, commit: str | None, **fields: object) -> None:
        record = RunRecord(design=design, method=method, seed=seed, budget_s=5.0, suite="/s", git_commit=commit)
        for name, value in {"status": "ok", **fields}.items():
            setattr(record, name, value)
        store.write(record)

    for seed in range(3):
        row("d1", "fd", seed, "aaa")
    row("d2", "fd", 0, "bbb")
    row("d2", "fd", 1, "bbb", status="failed")
    row("d2", "fd", 2, None)
    row("d2", "fd", 3, "")
    row("d1", "plug", 0, "aaa", method_source="plugin.py")
    row("d1", "sa", 0, "ccc")
    assert store.ok_commit_counts(["fd", "plug", "other"]) == {"fd": {"aaa": 3, "bbb": 1}}
    assert store.ok_commit_counts(["fd", "sa"], [("d1", "fd", 0, 5.0), ("d2", "fd", 0, 5.0), ("d1", "sa", 0, 9.0)]) \
        == {"fd": {"aaa": 2}, "sa": {"ccc": 1}}  # (sa's run at another budget is not left out)
    assert store.ok_commit_counts([]) == {}
