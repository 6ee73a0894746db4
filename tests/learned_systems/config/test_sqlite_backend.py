"""SQLite knobs reach the database: every pragma reads back, page_size rebuilds the file."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import pytest

from learned_systems.config.sqlite_backend import SQLiteBackend, apply_knobs, sqlite_space
from learned_systems.config.workloads import Workload, make_workload

TUNED = {
    "journal_mode": "WAL",
    "synchronous": "NORMAL",
    "page_size": 16384,
    "cache_size": 65536,
    "mmap_size": 64,
    "temp_store": "MEMORY",
    "locking_mode": "EXCLUSIVE",
    "wal_autocheckpoint": 5000,
    "automatic_index": False,
}


def _pragma(conn: sqlite3.Connection, name: str):
    return conn.execute(f"PRAGMA {name}").fetchone()[0]


def test_every_knob_reads_back_and_page_size_rebuilds_the_file(tmp_path):
    path = tmp_path / "db.sqlite"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("CREATE TABLE t (x INTEGER PRIMARY KEY, payload BLOB)")
    conn.executemany("INSERT INTO t VALUES (?, zeroblob(200))", ((i,) for i in range(2_000)))
    bytes_before = _pragma(conn, "page_count") * _pragma(conn, "page_size")
    apply_knobs(conn, sqlite_space().validate(TUNED))
    assert _pragma(conn, "page_size") == 16384
    assert conn.execute("SELECT count(*) FROM t").fetchone()[0] == 2_000  # rebuilt, not lost
    assert _pragma(conn, "page_count") * 16384 <= bytes_before + 2 * 16384
    assert _pragma(conn, "journal_mode") == "wal"
    assert _pragma(conn, "synchronous") == 1  # NORMAL
    assert _pragma(conn, "cache_size") == -65536  # KiB
    assert _pragma(conn, "mmap_size") == 64 * 2**20
    assert _pragma(conn, "temp_store") == 2  # MEMORY
    assert _pragma(conn, "locking_mode") == "exclusive"
    assert _pragma(conn, "wal_autocheckpoint") == 5000
    assert _pragma(conn, "automatic_index") == 0
    conn.close()


def test_trial_measures_on_a_copy_and_leaves_the_template_untouched(tmp_path):
    backend = SQLiteBackend(
        make_workload("ycsb-a", rows=2_000), duration_s=0.02, repeats=2, template_dir=tmp_path
    )
    template = backend.template()
    before = template.read_bytes()
    result = backend.run_trial(TUNED)
    assert result.ok, result.error
    assert result.unit == "ops/s" and len(result.throughputs) == 2
    assert result.throughput_mean == pytest.approx(sum(result.throughputs) / 2)
    assert result.config["page_size"] == 16384 and result.space == "durable"
    assert template.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == [template.name]  # no trial files left behind


def test_runs_of_other_seeds_sharing_a_folder_get_their_own_data(tmp_path):
    def template(seed: int):
        return SQLiteBackend(
            make_workload("ycsb-a", rows=500), template_dir=tmp_path, seed=seed
        ).template()

    first, other, again = template(0), template(1), template(0)
    assert first != other and again == first
    assert first.read_bytes() != other.read_bytes()


def test_two_builders_of_one_template_in_a_shared_folder_do_not_break_each_other(tmp_path):
    """Another process building the same template while this one builds (here: nested inside
    this build's setup) used to delete this build's file, then fail its rename."""
    workload = make_workload("ycsb-a", rows=500)
    other = SQLiteBackend(make_workload("ycsb-a", rows=500), template_dir=tmp_path)
    setup = workload.setup

    def setup_while_another_builds(conn, seed):  # type: ignore[no-untyped-def]
        setup(conn, seed=seed)
        other.template()  # the other builder finishes first and publishes

    workload.setup = setup_while_another_builds  # type: ignore[method-assign]
    path = SQLiteBackend(workload, template_dir=tmp_path).template()
    assert path == other.template()
    rows = sqlite3.connect(path).execute("SELECT count(*) FROM usertable").fetchone()[0]
    assert rows == 500
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no half-built file left


def test_a_build_a_killed_run_left_in_the_template_folder_is_removed(tmp_path):
    import subprocess
    import sys

    from learned_systems.config.scratch import OWNER_FILE
    from learned_systems.config.sqlite_backend import BUILD_PREFIX

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()  # its pid now names no process: the owner of the build below is gone
    left = tmp_path / f"{BUILD_PREFIX}killed"
    left.mkdir()
    (left / OWNER_FILE).write_text(f"{child.pid} 1\n")
    (left / "ycsb-500-seed0.db").write_bytes(b"half a database")
    path = SQLiteBackend(make_workload("ycsb-a", rows=500), template_dir=tmp_path).template()
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]
    assert path.stat().st_mode & 0o044  # readable by others sharing the folder, as before


def test_a_killed_build_beside_a_finished_template_is_removed_by_the_next_backend(tmp_path):
    """The build sweep ran only before a build: in a shared folder whose templates all exist, a
    killed run's half-built copy stayed for good (its disk space too)."""
    import subprocess
    import sys

    from learned_systems.config.scratch import OWNER_FILE
    from learned_systems.config.sqlite_backend import BUILD_PREFIX

    path = SQLiteBackend(make_workload("ycsb-a", rows=500), template_dir=tmp_path).template()
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()  # its pid now names no process: the owner of the build below is gone
    left = tmp_path / f"{BUILD_PREFIX}killed"
    left.mkdir()
    (left / OWNER_FILE).write_text(f"{child.pid} 1\n")
    (left / path.name).write_bytes(b"half a database")
    SQLiteBackend(make_workload("ycsb-a", rows=500), template_dir=tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]


_WRITER = """
import json, sqlite3, sys
from learned_systems.config.sqlite_backend import apply_knobs
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
apply_knobs(conn, json.loads(sys.argv[2]))
for n in range(1, 10**9):
    conn.execute("BEGIN")
    conn.executemany("INSERT OR REPLACE INTO t VALUES (?, randomblob(300))", [(n % 997 + k,) for k in range(1, 30)])
    conn.execute("UPDATE t SET v = ? WHERE k = 0", (str(n).encode(),))
    conn.execute("COMMIT")
    print(n, flush=True)  # only once the commit returned
"""


def _durable_combinations() -> list[dict]:
    space = sqlite_space()
    combos = [
        {"journal_mode": j, "synchronous": s}
        for j in space.knob("journal_mode").choices
        for s in space.knob("synchronous").choices
    ]
    return combos + [{**space.rule_of_thumb, "locking_mode": "EXCLUSIVE", "temp_store": "MEMORY"}]


@pytest.mark.parametrize(
    "settings", _durable_combinations(), ids=lambda s: "-".join(map(str, s.values()))
)
def test_the_durable_space_loses_no_commit_when_the_process_is_killed(tmp_path, settings):
    """A writer killed (SIGKILL) mid-stream loses no transaction whose COMMIT returned, and the
    file stays intact: what "durable" promises for SQLite (docs/learned_systems.md: process crashes)."""
    import json
    import signal
    import subprocess
    import sys

    db = tmp_path / "t.db"
    with closing(sqlite3.connect(db, isolation_level=None)) as conn, conn:
        conn.execute("CREATE TABLE t (k INTEGER PRIMARY KEY, v BLOB)")
        conn.execute("INSERT INTO t VALUES (0, x'30')")
    config = sqlite_space().validate({**settings, "cache_size": 256, "wal_autocheckpoint": 100})
    writer = subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(db), json.dumps(config)],
        stdout=subprocess.PIPE,
        text=True,
    )
    committed = 0
    assert writer.stdout is not None
    for line in writer.stdout:
        committed = int(line)
        if committed >= 40:
            break
    writer.send_signal(signal.SIGKILL)
    rest = writer.communicate()[0].split()
    committed = int(rest[-1]) if rest else committed
    assert committed >= 40, "the writer stopped before it was killed"
    with closing(sqlite3.connect(db)) as conn, conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert int(conn.execute("SELECT v FROM t WHERE k = 0").fetchone()[0]) >= committed


def test_a_size_the_disk_cannot_hold_is_refused_before_any_work(tmp_path):
    with pytest.raises(ValueError, match=r"10000000000000 rows need about .* GB is free"):
        SQLiteBackend(make_workload("ycsb-a", rows=10**13), template_dir=tmp_path / "later")
    assert not (tmp_path / "later").exists()


def test_the_trial_copies_folder_is_checked_for_space_too(tmp_path, monkeypatch):
    """Only the template folder was checked: with the temporary folder on a small file system
    of its own, every trial then failed on a full disk (or the run ended with all failed)."""
    import shutil
    import tempfile
    from collections import namedtuple

    import learned_systems.config.sqlite_backend as backend

    small_tmp = tmp_path / "small_tmp"
    small_tmp.mkdir()
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(tempfile, "tempdir", str(small_tmp))
    monkeypatch.setattr(backend, "_file_system", lambda folder: 1 if folder == small_tmp else 2)
    monkeypatch.setattr(shutil, "disk_usage",
                        lambda folder: usage(10**12, 0, 10**5 if Path(folder) == small_tmp else 10**12))
    with pytest.raises(ValueError, match=f"rows need about 0.5 MB of disk under {small_tmp}"):
        SQLiteBackend(make_workload("ycsb-a", rows=2_000), template_dir=tmp_path / "templates")


def test_sqlites_own_temporary_folder_is_checked_and_sizes_read_in_mb(tmp_path, monkeypatch):
    """With TMPDIR on a full file system Python's temporary folder fell back to /tmp and the
    check passed, but SQLite still wrote its VACUUM copies into TMPDIR: the run ended with
    "the defaults could not be measured (database or disk is full)". And a small disk read
    "0.0 GB ... but only 0.0 GB is free"."""
    import shutil
    import tempfile
    from collections import namedtuple

    import learned_systems.config.sqlite_backend as backend

    full = tmp_path / "full"
    full.mkdir()
    usage = namedtuple("usage", "total used free")
    monkeypatch.setenv("TMPDIR", str(full))
    monkeypatch.delenv("SQLITE_TMPDIR", raising=False)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # where Python fell back to
    monkeypatch.setattr(backend, "_file_system", lambda folder: 1 if folder == full else 2)
    monkeypatch.setattr(shutil, "disk_usage", lambda folder: usage(10**12, 0, 12_000 if Path(folder) == full else 10**12))
    with pytest.raises(ValueError) as caught:
        SQLiteBackend(make_workload("ycsb-a", rows=2_000), template_dir=tmp_path / "templates")
    assert str(caught.value) == (f"2000 rows need about 0.5 MB of disk under {full} (a database of ~0.5 MB each "
                                 "for SQLite's VACUUM copy), but only 0.0 MB is free")


def test_the_template_is_compact_like_a_page_size_rebuild(tmp_path):
    """A page_size trial rebuilds its copy with VACUUM, which also defragments it: on a loose
    template (orders: 9572 pages, 12% unused) every other page size gained ~4% for that alone."""
    backend = SQLiteBackend(make_workload("orders", rows=3_000), duration_s=0.02, repeats=1, template_dir=tmp_path)
    template = backend.template()
    assert template.name.endswith("-packed.db")  # a loose template of an older build is not reused
    conn = sqlite3.connect(template)
    try:
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        free = conn.execute("PRAGMA freelist_count").fetchone()[0]
        conn.execute("VACUUM")
        assert conn.execute("PRAGMA page_count").fetchone()[0] == pages and free == 0
    finally:
        conn.close()


def test_wal_autocheckpoint_counts_only_in_wal_mode():
    """Outside WAL it changes nothing, yet configurations differing only there were measured
    again, each with its own noise."""
    space = sqlite_space()
    assert space.effective({"journal_mode": "DELETE", "wal_autocheckpoint": 5000})["wal_autocheckpoint"] == 1000
    assert space.effective({"journal_mode": "WAL", "wal_autocheckpoint": 5000})["wal_autocheckpoint"] == 5000


def test_the_space_check_counts_a_vacuums_second_copy(tmp_path, monkeypatch):
    """A page_size trial's VACUUM writes a second copy while it runs: with room for one copy
    only, the check passed and page_size trials failed one by one on a full disk."""
    import shutil
    from collections import namedtuple

    import learned_systems.config.sqlite_backend as backend

    rows = 200_000
    database = rows * backend.BYTES_PER_ROW
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(backend, "_file_system", lambda folder: 1)  # all three on one file system
    monkeypatch.setattr(shutil, "disk_usage", lambda folder: usage(10**12, 0, int(2.5 * database)))
    with pytest.raises(ValueError, match="for the template, a trial's copy, SQLite's VACUUM copy"):
        backend._check_disk_space(rows, tmp_path)  # template + copy fit, a VACUUM's copy not
    monkeypatch.setattr(shutil, "disk_usage", lambda folder: usage(10**12, 0, int(3.1 * database)))
    backend._check_disk_space(rows, tmp_path)


def test_every_measured_window_ends_with_a_timed_wal_checkpoint(tmp_path, monkeypatch):
    """A large wal_autocheckpoint defers the copy of the WAL into the database past a short
    window; each window (the warm-up's too) ends with that copy, so deferring is not faster."""
    workload = make_workload("ycsb-a", rows=2_000)
    backend = SQLiteBackend(workload, duration_s=0.02, repeats=3, template_dir=tmp_path)
    statements: list[str] = []
    real_transaction = workload.transaction

    def traced(conn: sqlite3.Connection) -> int:
        if not statements:
            conn.set_trace_callback(statements.append)
        statements.append("<transaction>")
        return real_transaction(conn)

    monkeypatch.setattr(workload, "transaction", traced)
    result = backend.run_trial({**TUNED, "wal_autocheckpoint": 100_000})
    assert result.ok, result.error
    # T: a transaction, C: a checkpoint; one C closes the warm-up and each of the 3 windows
    windows = "".join("T" if s == "<transaction>" else "C" if "wal_checkpoint" in s else ""
                      for s in statements)
    assert windows.endswith("C") and "CC" not in windows and windows.count("C") == 4


def test_a_value_the_build_caps_or_ignores_fails_the_trial_by_name(tmp_path):
    """Only journal_mode was read back: a build whose mmap limit is 0 (SQLITE_MAX_MMAP_SIZE)
    ran every mmap configuration without mmap, and the tuner learned noise."""

    class CappingConnection:  # a real connection whose build ignores mmap_size
        def __init__(self, conn: sqlite3.Connection) -> None:
            self.conn = conn

        def execute(self, sql: str):  # type: ignore[no-untyped-def]
            return self.conn.execute("SELECT 1" if sql.startswith("PRAGMA mmap_size =") else sql)

    conn = sqlite3.connect(tmp_path / "db.sqlite", isolation_level=None)
    conn.execute("CREATE TABLE t (x INTEGER PRIMARY KEY)")
    config = sqlite_space().validate(TUNED)
    apply_knobs(conn, config)  # every value read back as set: no error
    for defaults in (False, True):  # every knob at its default reads back too
        apply_knobs(sqlite3.connect(tmp_path / f"d{defaults}.sqlite", isolation_level=None),
                    sqlite_space().validate({}) if defaults else config)  # fmt: skip
    with pytest.raises(RuntimeError, match=r"did not apply mmap_size = 67108864 \(it reads 0\)"):
        apply_knobs(CappingConnection(sqlite3.connect(tmp_path / "c.sqlite", isolation_level=None)), config)  # type: ignore[arg-type]


def _raising(error: BaseException):  # type: ignore[no-untyped-def]
    def apply(conn, config):  # type: ignore[no-untyped-def]
        raise error

    return apply


@pytest.mark.parametrize("bug", [AttributeError("'NoneType' object has no attribute 'upper'"),
                                 TypeError("'NoneType' object is not subscriptable"), NameError("conn")])
def test_a_programming_error_inside_a_trial_is_raised_not_a_failed_trial(tmp_path, monkeypatch, bug):
    """A bug applying the knobs was a failed trial: the tuner learned to avoid WAL, the run
    exited 0 and the cause was only in results.sqlite."""
    from learned_systems.config import sqlite_backend

    backend = SQLiteBackend(make_workload("ycsb-a", rows=2_000), duration_s=0.02, repeats=1,
                            template_dir=tmp_path)  # fmt: skip
    monkeypatch.setattr(sqlite_backend, "apply_knobs", _raising(bug))
    with pytest.raises(type(bug)) as raised:
        backend.run_trial(TUNED)
    assert raised.value is bug


@pytest.mark.parametrize("failure", [sqlite3.OperationalError("database or disk is full"),
                                     OSError(28, "No space left on device"), MemoryError("out of memory")])
def test_a_database_or_system_failure_inside_a_trial_is_still_a_failed_trial(tmp_path, monkeypatch, failure):
    from learned_systems.config import sqlite_backend

    backend = SQLiteBackend(make_workload("ycsb-a", rows=2_000), duration_s=0.02, repeats=1,
                            template_dir=tmp_path)  # fmt: skip
    monkeypatch.setattr(sqlite_backend, "apply_knobs", _raising(failure))
    result = backend.run_trial(TUNED)
    assert not result.ok and result.error == f"{type(failure).__name__}: {failure}"


@dataclass
class _KeyValue(Workload):
    """A workload of one's own: ``payload``-byte values under integer keys."""

    payload: int = 64

    def setup(self, conn, seed):
        conn.execute("CREATE TABLE kv (k INTEGER PRIMARY KEY, v BLOB)")
        conn.executemany("INSERT INTO kv VALUES (?, ?)", ((i, b"x" * self.payload) for i in range(self.rows)))

    def transaction(self, conn):
        conn.execute("SELECT v FROM kv WHERE k = ?", (int(self.rng.integers(0, self.rows)),)).fetchone()
        return 1


@dataclass
class _CommittingSetup(_KeyValue):
    """Ends its set-up with the usual ``conn.commit()``."""

    def setup(self, conn, seed):
        super().setup(conn, seed)
        conn.commit()


@dataclass
class _ScriptSetup(_KeyValue):
    """Makes its table with ``executescript``, which commits the open transaction first."""

    def setup(self, conn, seed):
        conn.executescript("CREATE TABLE kv (k INTEGER PRIMARY KEY, v BLOB);")
        conn.executemany("INSERT INTO kv VALUES (?, ?)", ((i, b"x" * self.payload) for i in range(self.rows)))


@pytest.mark.parametrize("workload_class", [_CommittingSetup, _ScriptSetup])
def test_a_setup_that_commits_itself_builds_its_template(tmp_path, workload_class):
    """The backend's own COMMIT after such a set-up said "cannot commit - no transaction is
    active", failing every trial."""
    backend = SQLiteBackend(workload_class("own", rows=500), duration_s=0.02, repeats=1,
                            min_transactions=2, template_dir=tmp_path)
    result = backend.run_trial({})
    assert result.ok, result.error
    with closing(sqlite3.connect(backend.template())) as conn:
        assert conn.execute("SELECT COUNT(*) FROM kv").fetchone()[0] == 500


def test_workloads_differing_in_a_field_of_their_own_get_their_own_template(tmp_path):
    """The default template key named only ``rows``: a 4,000-byte-payload workload sharing a
    template folder measured another's 64-byte rows."""
    small = SQLiteBackend(_KeyValue("kv-64", rows=500, payload=64), template_dir=tmp_path)
    large = SQLiteBackend(_KeyValue("kv-4000", rows=500, payload=4000), template_dir=tmp_path)
    assert small.template() != large.template()
    for backend, payload in ((small, 64), (large, 4000)):
        with closing(sqlite3.connect(backend.template())) as conn:
            assert conn.execute("SELECT MIN(length(v)), MAX(length(v)) FROM kv").fetchone() == (payload, payload)


def test_a_template_folder_named_like_a_uri_is_a_folder(tmp_path, monkeypatch):
    """SQLite (built with USE_URI) read a relative name starting with "file:" as a URI: the
    template was built in memory or in another folder."""
    monkeypatch.chdir(tmp_path)
    backend = SQLiteBackend(_KeyValue("kv", rows=500), duration_s=0.02, repeats=1, min_transactions=2,
                            template_dir="file:templates?mode=memory&")
    template = backend.template()
    assert template.is_file() and template.absolute().parent == tmp_path / "file:templates?mode=memory&"
    assert backend.run_trial({}).ok
    with closing(sqlite3.connect(template.absolute())) as conn:
        assert conn.execute("SELECT COUNT(*) FROM kv").fetchone()[0] == 500


def test_a_pragma_this_build_leaves_out_is_a_failed_configuration_not_a_crash(tmp_path: Path):
    """A pragma a build omits reads back no row: `fetchone()[0]` raised a TypeError, which a
    trial now re-raises as a bug (the review); it is the build's refusal of the value."""

    class OmittingConnection:  # a real connection whose automatic_index reads back nothing
        def __init__(self, conn: sqlite3.Connection) -> None:
            self.conn = conn

        def execute(self, sql: str, *args):  # type: ignore[no-untyped-def]
            if sql.strip() == "PRAGMA automatic_index":
                return self.conn.execute("PRAGMA no_such_pragma")
            return self.conn.execute(sql, *args)

    with closing(sqlite3.connect(tmp_path / "trial.db")) as conn:
        with pytest.raises(RuntimeError, match=r"SQLite did not apply automatic_index = \w+ \(it reads None\)"):
            apply_knobs(OmittingConnection(conn), sqlite_space().defaults())  # type: ignore[arg-type]
