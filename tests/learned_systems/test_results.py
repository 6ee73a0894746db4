"""The tuning results store: where it is written."""

from __future__ import annotations

from pathlib import Path

import pytest

from learned_systems.config.trial import TrialResult
from learned_systems.results import ResultsStore


def _result(**changes: object) -> TrialResult:
    """A measured trial of a backend of one's own, with ``changes`` to its fields."""
    result = TrialResult("mockkv", "fill", "durable", {"memtable_mb": 64}, True, 100.0, 1.0, [99.0, 101.0])
    for name, value in changes.items():
        setattr(result, name, value)
    return result


def test_a_store_named_like_a_sqlite_uri_is_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """SQLite (built with USE_URI) read a relative name starting with "file:" as a URI whatever
    uri= said: "file:run?mode=memory&" kept every trial in memory, and a rerun resumed nothing."""
    monkeypatch.chdir(tmp_path)
    name = "file:run?mode=memory&"
    with ResultsStore(name) as store:
        store.add("r", "random", 0, 0, "trial", _result(), 1.0)
    assert (tmp_path / name).is_file()
    with ResultsStore(name) as store:
        assert store.count("r") == 1

