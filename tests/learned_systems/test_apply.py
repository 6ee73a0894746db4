"""best_config.json's ``apply``: the tuned configuration in the form its user applies."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import numpy as np
import pytest

from learned_systems.apply import how_to_apply
from learned_systems.config.knobs import KnobError
from learned_systems.config.postgres_backend import postgres_space
from learned_systems.config.sqlite_backend import pragma_values, sqlite_space
from learned_systems.objectives import index_space

TUNED = {"journal_mode": "WAL", "synchronous": "NORMAL", "page_size": 8192, "cache_size": 4096,
         "mmap_size": 64, "temp_store": "MEMORY", "automatic_index": False}  # fmt: skip


def _assert_configured(conn: sqlite3.Connection, config: dict) -> None:
    for name, value in pragma_values(config).items():
        got = str(conn.execute(f"PRAGMA {name}").fetchone()[0])
        expected = {"ON": "1", "OFF": "0", "MEMORY": "2", "NORMAL": "1"}.get(value, value)
        if name == "locking_mode":
            expected = value.lower()
        assert got.lower() == expected.lower(), name


@pytest.mark.parametrize("journal", ["DELETE", "WAL"])
@pytest.mark.parametrize("tuned_journal", ["WAL", "TRUNCATE"])
def test_the_sqlite_lines_give_a_database_the_configuration(
    tmp_path: Path, journal: str, tuned_journal: str
) -> None:
    """Also on a database already in WAL mode, which kept its page size silently when the
    lines set it there."""
    config = sqlite_space().validate({**TUNED, "journal_mode": tuned_journal})
    lines = how_to_apply("sqlite", config)["lines"]
    with closing(sqlite3.connect(tmp_path / "own.db", isolation_level=None)) as conn:
        conn.execute(f"PRAGMA journal_mode = {journal}")
        conn.execute("CREATE TABLE t (x)")
        conn.execute("INSERT INTO t VALUES (1)")
        conn.executescript("\n".join(lines))
        _assert_configured(conn, config)
        assert conn.execute("SELECT x FROM t").fetchall() == [(1,)]


def test_apply_knobs_changes_the_page_size_of_a_wal_database(tmp_path: Path) -> None:
    from learned_systems.config.sqlite_backend import apply_knobs

    config = sqlite_space().validate(TUNED)
    with closing(sqlite3.connect(tmp_path / "own.db", isolation_level=None)) as conn:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("CREATE TABLE t (x)")
        apply_knobs(conn, config)
        _assert_configured(conn, config)


def test_exclusive_locking_is_applied_with_its_warning() -> None:
    config = sqlite_space().validate({**TUNED, "locking_mode": "EXCLUSIVE"})
    (line,) = [x for x in how_to_apply("sqlite", config)["lines"] if "locking_mode" in x]
    assert line.startswith("PRAGMA locking_mode = EXCLUSIVE;") and "one connection" in line


def test_the_postgres_lines_are_conf_settings_with_units() -> None:
    config = postgres_space().validate({"shared_buffers": 256, "wal_buffers": 0, "checkpoint_timeout": 600})
    lines = how_to_apply("postgres", config)["lines"]
    assert "shared_buffers = '256MB'" in lines and "wal_buffers = '-1'" in lines
    assert "checkpoint_timeout = '600s'" in lines
    assert all(line.count(" = ") == 1 for line in lines)


@pytest.mark.parametrize("kind", ["pgm", "rmi"])
def test_the_index_line_builds_the_index(kind: str) -> None:
    from learned_systems.index import build_index

    config = index_space().validate({"kind": kind})
    line = how_to_apply("index", config)["lines"][0]
    keys = np.sort(np.random.default_rng(0).integers(0, 2**40, 5000, dtype=np.uint64))
    index = eval(line, {"build_index": build_index, "keys": keys})  # noqa: S307 - our own text
    queries = keys[::7]
    np.testing.assert_array_equal(index.lookup(queries), np.searchsorted(keys, queries))


def test_a_misspelt_knob_or_a_bad_value_is_refused_not_written() -> None:
    """A typo went into postgresql.conf as it was; a partial SQLite config was a KeyError."""
    from learned_systems.config.knobs import KnobError

    with pytest.raises(KnobError, match="unknown knob 'shared_buffersx' for postgres"):
        how_to_apply("postgres", {"shared_buffersx": 1024})
    with pytest.raises(KnobError, match="bad value 'OFF' for knob 'journal_mode' in the durable space"):
        how_to_apply("sqlite", {"journal_mode": "OFF"})  # outside the durable space
    assert any("journal_mode = OFF" in line for line in how_to_apply("sqlite", {"journal_mode": "OFF"}, allow_unsafe=True)["lines"])
    assert "PRAGMA page_size = 4096;" in how_to_apply("sqlite", {"cache_size": 5000})["lines"]  # defaults fill in
    assert how_to_apply("index", {"kind": "pgm"})["lines"] == [how_to_apply("index", index_space().validate({"kind": "pgm"}))["lines"][0]]
    with pytest.raises(ValueError, match="unknown system 'mysql'"):
        how_to_apply("mysql", {})


@pytest.mark.parametrize("config", ["notadict", None, [("journal_mode", "WAL")]])
def test_a_configuration_that_is_no_dict_is_refused_in_words(config):
    with pytest.raises(KnobError, match="a configuration is a dict of knob values"):
        how_to_apply("sqlite", config)


def test_an_unsafe_value_is_applied_with_its_warning() -> None:
    """An --allow-unsafe run's best_config.json gave `PRAGMA synchronous = OFF;` to copy with no
    word that it gives up durability (locking_mode=EXCLUSIVE had its note)."""
    config = sqlite_space(allow_unsafe=True).validate({**TUNED, "journal_mode": "OFF", "synchronous": "OFF"})
    lines = how_to_apply("sqlite", config, allow_unsafe=True)["lines"]
    for knob in ("journal_mode = OFF", "synchronous = OFF"):
        (line,) = [x for x in lines if x.startswith(f"PRAGMA {knob};")]
        assert "NOT DURABLE" in line
    durable = how_to_apply("sqlite", sqlite_space().validate(TUNED))["lines"]
    assert not any("NOT DURABLE" in x for x in durable)


def test_an_unsafe_postgres_setting_is_applied_with_its_warning() -> None:
    """The SQLite lines said it; postgresql.conf lines of fsync = 'off' did not."""
    config = postgres_space(allow_unsafe=True).validate({"fsync": "off", "synchronous_commit": "off"})
    lines = how_to_apply("postgres", config, allow_unsafe=True)["lines"]
    flagged = {line.split(" =")[0] for line in lines if "# NOT DURABLE" in line}
    assert flagged == {"fsync", "synchronous_commit"}
    assert not any("NOT DURABLE" in x for x in how_to_apply("postgres", postgres_space().validate({}))["lines"])
