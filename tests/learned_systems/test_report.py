"""best_config.json's ``apply`` comes from the run's own space: an index space over a kind of
one's own gives that kind's build_index call, and a system apply.py does not know gets
``apply: null`` with a note, not an error once every trial has run."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from learned_systems.apply import how_to_apply
from learned_systems.config.knobs import Knob, KnobSpace
from learned_systems.config.trial import TrialResult
from learned_systems.index import build_index, kinds, register_index_kind
from learned_systems.objectives import ConfigObjective, IndexObjective, index_space
from learned_systems.report import best_config_report, best_overall
from learned_systems.results import ResultsStore
from learned_systems.run_settings import run_settings
from learned_systems.tuning import run_tuning


class StridedIndex:
    """Every key's position by numpy (a stand-in kind with one knob of its own)."""

    def __init__(self, keys: np.ndarray, stride: int = 64) -> None:
        self.keys, self.stride = np.asarray(keys, np.uint64), stride
        self.size_bytes, self.max_error, self.build_seconds = 8 * (self.keys.size // stride), stride, 0.0

    def lookup(self, queries: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.keys, np.asarray(queries, np.uint64))

    def counted_steps(self, queries: np.ndarray) -> float:
        return 1.0 + np.log2(self.stride)


class ToyKV:
    """A system of one's own behind the backend interface ConfigObjective takes."""

    system, workload, duration_s = "toykv", "fill", 0.1

    def __init__(self) -> None:
        self.space = KnobSpace.build("toykv", [Knob("buffer_mb", 64, low=1, high=1024, log=True, help="MB")])
        self.workload = "fill"

    def run_trial(self, config: dict[str, Any]) -> TrialResult:
        full = self.space.validate(config)
        ops = 1000.0 * float(np.log2(full["buffer_mb"] + 1))
        return TrialResult(self.system, self.workload, self.space.name, full, True, ops, 0.0, [ops], "ops/s")


def _report(objective: Any, system: str, tmp_path) -> dict[str, Any]:
    with ResultsStore(tmp_path / "r.sqlite") as store:
        summary = run_tuning(objective, "random", 6, 0, store, "run")
    best = best_overall([summary], objective.space.effective)
    settings = {"rows": 1} if system != "index" else run_settings(system, objective, 1)
    return best_config_report("run", system, objective.workload, objective, 0, settings, [summary], best, False,
                              ["random"], [])  # fmt: skip


def test_an_index_run_over_a_kind_of_ones_own_is_applied_from_its_space(tmp_path, monkeypatch) -> None:
    """The report validated against the built-in space after every trial had run: KnobError
    unknown knob 'stride' for index."""
    monkeypatch.setattr(kinds, "_KINDS", dict(kinds._KINDS))
    register_index_kind("strided", StridedIndex, [Knob("stride", 64, low=2, high=1024, log=True)])
    space = index_space(("pgm", "strided"))
    objective = IndexObjective("lognormal", keys=5_000, queries=500, mode="cost", space=space)
    report = _report(objective, "index", tmp_path)
    config = report["best"]["config"]
    (line,) = report["apply"]["lines"]
    keys = np.sort(np.random.default_rng(0).integers(0, 2**40, 3000, dtype=np.uint64))
    index = eval(line, {"build_index": build_index, "keys": keys})  # noqa: S307 - our own text
    assert type(index).__name__ == ("StridedIndex" if config["kind"] == "strided" else "PGMIndex")
    assert "apply_note" not in report
    strided = how_to_apply("index", {"kind": "strided", "stride": 8}, space=space)["lines"]
    assert strided == ["build_index('strided', keys, stride=8)"]
    assert how_to_apply("index", {"kind": "pgm"}, space=space) == how_to_apply("index", {"kind": "pgm"})


def test_a_system_apply_does_not_know_gets_null_and_a_note(tmp_path) -> None:
    """ValueError: unknown system 'mockkv', raised only after every trial had run."""
    report = _report(ConfigObjective(ToyKV()), "toykv", tmp_path)
    assert report["apply"] is None and report["best"] is not None
    assert "not for system 'toykv'" in report["apply_note"]
    with pytest.raises(ValueError, match="unknown system 'toykv'"):
        how_to_apply("toykv", {}, space=ToyKV().space)
