"""SQLite knobs reach the database: every pragma reads back, page_size rebuilds the file."""

from __future__ import annotations

import sqlite3

import pytest

from learned_systems.config.sqlite_backend import SQLiteBackend, apply_knobs, sqlite_space
from learned_systems.config.workloads import make_workload

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
