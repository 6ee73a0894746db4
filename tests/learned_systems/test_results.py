"""The tuning results store: where it is written and what a trial's values are stored as."""

from __future__ import annotations

from pathlib import Path

import numpy as np
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


def test_numpy_values_of_a_trial_are_stored_as_plain_ones(tmp_path: Path) -> None:
    """An ndarray of throughputs failed eight frames deep in json ("Object of type ndarray is
    not JSON serializable"); numpy scalars are stored as the numbers they hold."""
    result = _result(
        config={"memtable_mb": np.int64(64), "ratio": np.float32(0.5)},
        throughput_mean=np.float32(100.0),
        throughput_std=np.float64(1.0),
        throughputs=np.array([99.0, 101.0], np.float32),
        wall_seconds=np.float32(0.25),
        metrics={"p99_ms": np.float32(1.5), "pages": np.arange(3), "hit": np.bool_(True)},
    )
    with ResultsStore(tmp_path / "r.sqlite") as store:
        store.add("r", "random", 0, 0, "trial", result, np.float32(2.0))
        (row,) = store.rows()
    assert row["config"] == {"memtable_mb": 64, "ratio": 0.5}
    assert row["throughputs"] == [99.0, 101.0] and row["metrics"] == {"p99_ms": 1.5, "pages": [0, 1, 2], "hit": True}
    assert (row["throughput_mean"], row["score"], row["wall_seconds"]) == (100.0, 2.0, 0.25)
    assert all(type(row[k]) is float for k in ("throughput_mean", "throughput_std", "score", "wall_seconds"))


@pytest.mark.parametrize(
    ("field", "value"),
    [("metrics", {"tags": {"a", "b"}}), ("throughputs", [object()]), ("config", {"x": b"raw"}),
     ("throughput_mean", "fast")],
)
def test_a_value_that_cannot_be_stored_is_refused_naming_its_field(tmp_path: Path, field: str, value: object) -> None:
    with ResultsStore(tmp_path / "r.sqlite") as store:
        with pytest.raises(TypeError, match=rf"the trial's {field} "):
            store.add("r", "random", 0, 0, "trial", _result(**{field: value}), 1.0)
        assert store.count("r") == 0


def _stored_tuner_code(store: ResultsStore, run: str) -> dict[str, str]:
    import json

    (text,) = store._conn.execute("SELECT settings FROM run_settings WHERE run = ?", (run,)).fetchone()
    return dict(json.loads(text).get("tuner_code", {}))


def test_a_tuners_trials_are_resumed_by_the_code_that_made_them_only(tmp_path: Path) -> None:
    """A tuner of one's own's code is checked tuner by tuner: one whose trials the run holds
    must be the same code; one without trials there, or one joining the run, is recorded."""
    from learned_systems.results import SettingsMismatch

    def claim(store: ResultsStore, **code: str) -> None:
        store.claim_settings("run", {"rows": 10, "tuner_code": code} if code else {"rows": 10})

    with ResultsStore(tmp_path / "r.sqlite") as store:
        claim(store, mine="Mine (sha1 aaa)", idle="Idle (sha1 bbb)")
        store.add("run", "mine", 0, 0, "trial", _result(), 1.0)
        store.add("run", "random", 0, 0, "trial", _result(), 1.0)  # (a built-in tuner: no code)
        claim(store, mine="Mine (sha1 aaa)")  # the same code: resumed
        claim(store)  # another command's built-in tuners only
        with pytest.raises(SettingsMismatch, match=r"trials of tuner 'mine' in run 'run' made by other code "
                           r"\(Mine \(sha1 aaa\) then, Mine \(sha1 ccc\) now\).*use another --out, or put back"):
            claim(store, mine="Mine (sha1 ccc)")
        claim(store, idle="Idle (sha1 ddd)", new="New (sha1 eee)")  # no trials of idle: its code is new
        assert _stored_tuner_code(store, "run") == {
            "mine": "Mine (sha1 aaa)", "idle": "Idle (sha1 ddd)", "new": "New (sha1 eee)"}
        store._conn.execute("UPDATE run_settings SET settings = '{\"rows\": 10}'")  # (a store made before)
        claim(store, mine="Mine (sha1 ccc)")  # unrecorded code is taken at its word, and recorded
        assert _stored_tuner_code(store, "run") == {"mine": "Mine (sha1 ccc)"}
        store._conn.execute("UPDATE run_settings SET settings = '{\"rows\": 10, \"tuner_code\": {\"mine\": \"Mine (sha1 aaa) from /a/x.py\"}}'")
        store.claim_settings("run", {"rows": 10, "tuner_code": {"mine": "Mine (sha1 aaa) from /b/x.py"}},
                             same_code=lambda a, b: a.partition(" from ")[0] == b.partition(" from ")[0])  # moved: the same
        assert _stored_tuner_code(store, "run") == {"mine": "Mine (sha1 aaa) from /b/x.py"}
