"""Tuners, the tuning loop, the results store (resume after a kill) and the tune command."""

from __future__ import annotations

import json
import tempfile
from contextlib import closing
from types import SimpleNamespace

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from learned_systems.config.knobs import KnobSpace, config_key
from learned_systems.config.sqlite_backend import sqlite_space
from learned_systems.config.trial import TrialResult
from learned_systems.objectives import IndexObjective
from learned_systems.ranking import RankedConfig
from learned_systems.report import best_overall
from learned_systems.results import ResultsStore
from learned_systems.run_settings import run_settings
from learned_systems.tuners import make_tuner
from learned_systems.tuning import run_tuning
from placer.commands import tune as tune_command


class QuadraticObjective:
    """A synthetic system: score peaks at cache_size 65536 KiB with WAL; fails on TRUNCATE."""

    system = "synthetic"
    workload = "quadratic"

    def __init__(self, stop_after: int | None = None) -> None:
        self.space: KnobSpace = sqlite_space()
        self.calls = 0
        self.stop_after = stop_after

    def baselines(self):
        return {
            "default": self.space.defaults(),
            "rule_of_thumb": self.space.validate(self.space.rule_of_thumb),
        }

    def evaluate(self, config):
        self.calls += 1
        if self.stop_after is not None and self.calls > self.stop_after:
            raise KeyboardInterrupt  # simulates a killed run
        full = self.space.validate(config)
        if full["journal_mode"] == "TRUNCATE":
            return TrialResult.failed(
                self.system, self.workload, self.space.name, full, "server did not start"
            )
        value = (
            100.0
            - (np.log2(full["cache_size"]) - 16.0) ** 2
            + (20.0 if full["journal_mode"] == "WAL" else 0.0)
        )
        return TrialResult(
            self.system, self.workload, self.space.name, full, True, value, 0.0, [value]
        )

    def score(self, result, reference):
        return None if not result.ok else result.throughput_mean / reference.throughput_mean


@pytest.mark.parametrize(
    ("tuner", "trials", "seed", "error", "words"),
    [
        ("optuan", 5, 0, ValueError, "unknown tuner 'optuan'"),
        ("random", -1, 0, ValueError, "trials must be a whole number of at least 1, got -1"),
        ("random", 0, 0, ValueError, "trials must be"),
        ("random", 2.5, 0, TypeError, "trials must be a whole number, got 2.5"),
        ("random", True, 0, TypeError, "trials must be a whole number"),
        ("random", 5, -1, ValueError, "seed must be a whole number from 0 to 4294967295, got -1"),
        ("optuna", 5, 2**32, ValueError, "seed must be"),
        ("random", 5, None, TypeError, "seed must be a whole number, got None"),
    ],
)
def test_run_tuning_refuses_bad_arguments_before_measuring_anything(tuner, trials, seed, error, words, tmp_path):
    """An unknown tuner was found after the baselines had been measured and stored; trials=-1
    ran silently with no result and 2.5 was a slice's TypeError; seed=-1 failed in numpy."""
    objective = QuadraticObjective()
    with ResultsStore(tmp_path / "r.sqlite") as store:
        with pytest.raises(error, match=words.replace("(", r"\(")):
            run_tuning(objective, tuner, trials, seed, store, "run")
        assert store.rows(run="run") == []
    assert objective.calls == 0
    with ResultsStore(tmp_path / "ok.sqlite") as store:  # numpy's integers are whole numbers
        assert run_tuning(QuadraticObjective(), "random", np.int64(2), np.uint32(1), store, "run").best_score


@pytest.mark.parametrize("tuner", ["random", "optuna", "rl"])
def test_tuners_propose_valid_configs_and_record_failures(tuner, tmp_path):
    objective = QuadraticObjective()
    with ResultsStore(tmp_path / "r.sqlite") as store:
        summary = run_tuning(objective, tuner, 12, 0, store, "run")
        rows = store.rows(run="run", tuner=tuner, role="trial")
    assert len(rows) == 12 and len(summary.best_so_far) == 12
    for row in rows:
        objective.space.validate(row["config"])
        assert row["space"] == "durable"
        assert row["ok"] == (row["config"]["journal_mode"] != "TRUNCATE")
        if not row["ok"]:
            assert row["score"] is None and row["error"] == "server did not start"
    assert summary.failed == sum(not r["ok"] for r in rows)
    assert summary.best_so_far[-1] == summary.best_score
    if tuner == "random":  # one trial per configuration: the best mean only ever rises
        scores = [s for s in summary.best_so_far if s is not None]
        assert scores == sorted(scores)


def test_optuna_beats_random_on_a_smooth_objective(tmp_path):
    best = {}
    with ResultsStore(tmp_path / "r.sqlite") as store:
        for tuner in ("random", "optuna"):
            best[tuner] = np.median(
                [
                    run_tuning(QuadraticObjective(), tuner, 30, seed, store, "cmp").best_score
                    for seed in (0, 1, 2)
                ]
            )
    assert best["optuna"] >= best["random"]


class NoisyObjective(QuadraticObjective):
    """The quadratic objective plus seeded measurement noise (10 % of the value)."""

    def __init__(self, seed: int) -> None:
        super().__init__()
        self.rng = np.random.default_rng(seed)

    def evaluate(self, config):
        result = super().evaluate(config)
        if result.ok:
            value = result.throughput_mean * (1.0 + 0.1 * self.rng.standard_normal())
            result = TrialResult(
                self.system,
                self.workload,
                self.space.name,
                result.config,
                True,
                value,
                0.0,
                [value],
            )
        return result


def test_optuna_remeasures_its_incumbent_and_ranks_by_mean(tmp_path):
    objective = NoisyObjective(seed=0)
    with ResultsStore(tmp_path / "r.sqlite") as store:
        summary = run_tuning(objective, "optuna", 30, 0, store, "noisy")
        rows = store.rows(run="noisy", tuner="optuna", role="trial")
    counts: dict[str, list[float]] = {}
    for row in rows:
        if row["score"] is not None:
            counts.setdefault(config_key(row["config"]), []).append(row["score"])
    repeated = {k: v for k, v in counts.items() if len(v) > 1}
    assert repeated and max(len(v) for v in counts.values()) <= 3
    assert len(rows[:10]) == len({config_key(r["config"]) for r in rows[:10]})
    best = counts[config_key(summary.best_config)]
    assert summary.best_score == pytest.approx(np.mean(best))
    assert summary.best_measurements == len(best) >= 2  # the last trials confirm the winner
    assert summary.best_score == max(np.mean(v) for v in counts.values())
    assert summary.best_result.throughputs and len(summary.best_result.throughputs) == len(best)


class FlakyObjective(QuadraticObjective):
    """The quadratic objective, but a WAL + NORMAL configuration with a large cache scores
    three times the defaults once, then fails at every further trial (a server that starts
    once in a while)."""

    def __init__(self) -> None:
        super().__init__()
        self.runs: dict[str, int] = {}

    def evaluate(self, config):
        full = self.space.validate(config)
        if full["journal_mode"] == "WAL" and full["synchronous"] == "NORMAL" and full["cache_size"] > 2000:
            key = config_key(self.space.effective(full))
            self.runs[key] = self.runs.get(key, 0) + 1
            if self.runs[key] > 1:
                return TrialResult.failed(self.system, self.workload, self.space.name, full, "crashed")
            return TrialResult(self.system, self.workload, self.space.name, full, True, 300.0, 0.0, [300.0])
        return super().evaluate(config)


def test_a_configuration_that_fails_when_measured_again_is_not_remeasured_nor_recommended(tmp_path):
    """Failed trials did not count: Optuna spent all ten re-measurements on a configuration
    that failed ten of its eleven trials, and best_config.json recommended it."""
    objective = FlakyObjective()
    with ResultsStore(tmp_path / "r.sqlite") as store:
        summary = run_tuning(objective, "optuna", 40, 0, store, "flaky")
    assert summary.failed >= 1 and max(objective.runs.values()) <= 2  # one failure, then dropped
    best = best_overall([summary], objective.space.effective)
    assert best["failed_trials"] == 0 and best["config"]["journal_mode"] == "WAL"
    assert config_key(objective.space.effective(best["config"])) not in objective.runs


def test_optuna_resume_continues_the_remeasurement_schedule():
    space = sqlite_space()
    straight = make_tuner("optuna", space, 0, trials=20)
    history = []
    for i in range(20):
        config = straight.ask()
        score = float(np.log2(config["cache_size"])) + 0.01 * i
        straight.tell(config, score)
        history.append((config, score))
    seen = [config_key(c) for c, _ in history]
    again = [i for i in range(10, 20) if seen[i] in seen[:i]]
    assert again and 19 in again  # periodic and final re-measurements
    for cut in range(10, 20):
        resumed = make_tuner("optuna", space, 0, trials=20)
        for config, score in history[:cut]:
            resumed.replay(config, score)
        expected = history[cut][0] if cut in again else None
        assert resumed._remeasure_candidate() == expected


def test_optuna_interleaves_seeded_uniform_samples_and_replays_them():
    space = sqlite_space()
    straight = make_tuner("optuna", space, 0, trials=30)
    slots, history = [], []
    for _ in range(30):
        slots.append(straight._remeasure_candidate() is None and straight._random_slot())
        config = straight.ask()
        score = float(np.log2(config["cache_size"]))
        straight.tell(config, score)
        history.append((config, score))
    # after the 10 start trials, every 5th trial (offset 2) until the final confirmations
    assert [i for i, slot in enumerate(slots) if slot] == [12, 17, 22]
    stream = np.random.default_rng([0, 1])
    assert [history[i][0] for i in (12, 17, 22)] == [space.sample(stream) for _ in range(3)]
    assert len(straight.study.trials) == 30  # TPE learns from the samples too
    resumed = make_tuner("optuna", space, 0, trials=30)
    for config, score in history[:17]:
        resumed.replay(config, score)
    assert resumed.ask() == history[17][0]


def test_rl_tuner_leaves_no_logger_folder(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # where SB3 would put SB3-<time>
    with ResultsStore(tmp_path / "r.sqlite") as store:
        run_tuning(QuadraticObjective(), "rl", 10, 0, store, "rl")
    assert not list(tmp_path.glob("SB3-*"))


def test_optuna_learns_from_baselines_without_remeasuring_them():
    space = sqlite_space()
    tuner = make_tuner("optuna", space, 0, trials=12)
    rule = space.validate(space.rule_of_thumb)
    tuner.observe(rule, 100.0)  # far better than anything proposed below
    assert len(tuner.study.trials) == 1
    for _ in range(12):
        config = tuner.ask()
        assert config != rule
        tuner.tell(config, 1.0)


def test_optuna_reads_stored_configurations_that_lack_a_knob():
    """A store written before a knob was added: the missing knob is at its default (it was a
    KeyError traceback on resume, at the first stored baseline)."""
    space = sqlite_space()
    tuner = make_tuner("optuna", space, 0, trials=12)
    partial = {k: v for k, v in space.validate(space.rule_of_thumb).items() if k != "automatic_index"}
    tuner.observe(partial, 10.0)
    for _ in range(3):
        tuner.replay(partial, 5.0)
    complete = [t for t in tuner.study.trials if t.state.name == "COMPLETE"]
    assert len(complete) == 4  # the baseline and the three replayed trials
    assert all(t.params["automatic_index"] == space.defaults()["automatic_index"] for t in complete)


def test_resume_after_kill_continues_where_it_stopped(tmp_path):
    path = tmp_path / "r.sqlite"
    with ResultsStore(path) as store, pytest.raises(KeyboardInterrupt):
        run_tuning(QuadraticObjective(stop_after=2 + 5), "optuna", 10, 3, store, "resume")
    with ResultsStore(path) as store:
        assert len(store.rows(run="resume", tuner="optuna", role="trial")) == 5
        objective = QuadraticObjective()
        summary = run_tuning(objective, "optuna", 10, 3, store, "resume")
        assert summary.resumed == 5
        assert objective.calls == 5  # baselines came from the store; only 5 new trials ran
        assert len(store.rows(run="resume", tuner="optuna", role="trial")) == 10


def test_random_search_resume_replays_the_same_sequence(tmp_path):
    space = sqlite_space()
    straight = make_tuner("random", space, 7)
    expected = [straight.ask() for _ in range(6)]
    resumed = make_tuner("random", space, 7)
    for config in expected[:3]:
        resumed.replay(config, 1.0)
    assert [resumed.ask() for _ in range(3)] == expected[3:]


def test_optuna_searches_ordered_choices_as_an_ordered_index():
    space = sqlite_space()
    assert space.knob("page_size").ordinal and not space.knob("journal_mode").ordinal
    assert not space.knob("automatic_index").ordinal  # flags are labels, not numbers
    tuner = make_tuner("optuna", space, 0)
    page_size = tuner.distributions["page_size"]
    assert page_size.low == 0 and page_size.high == len(space.knob("page_size").choices) - 1
    configs = []
    for _ in range(15):
        config = tuner.ask()
        space.validate(config)  # index mapped back to a real page size
        tuner.tell(config, float(np.log2(config["page_size"])))
        configs.append(config)
    resumed = make_tuner("optuna", space, 0)
    for config in configs:  # stored knob values map back onto the same parameters
        resumed.replay(config, float(np.log2(config["page_size"])))
    replayed = [t.params["page_size"] for t in resumed.study.trials]
    assert replayed == [t.params["page_size"] for t in tuner.study.trials]


def test_unknown_tuner_is_refused():
    with pytest.raises(ValueError, match="unknown tuner"):
        make_tuner("grid", sqlite_space(), 0)


def test_index_objective_cost_mode_is_deterministic():
    objective = IndexObjective("lognormal", keys=20_000, queries=2_000, mode="cost")
    first = objective.evaluate({"kind": "pgm", "epsilon": 32})
    second = objective.evaluate({"kind": "pgm", "epsilon": 32})
    assert first.ok and objective.score(first) == objective.score(second)
    assert first.metrics["max_error"] <= 32


def _app() -> typer.Typer:
    app = typer.Typer()
    tune_command.register(app)

    @app.command()
    def version() -> None:  # a second command, so "tune" stays a named sub-command
        typer.echo("0")

    return app


def test_cli_tunes_index_writes_results_and_resumes(tmp_path, monkeypatch):
    runner = CliRunner()
    args = [
        "tune",
        "--system",
        "index",
        "--workload",
        "books",
        "--tuner",
        "random,optuna",
        "--trials",
        "3",
        "--rows",
        "20000",
        "--repeats",
        "1",
        "--out",
        str(tmp_path),
    ]
    result = runner.invoke(_app(), args)
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "best_config.json").read_text())
    assert report["space"] == "safe" and set(report["tuners"]) == {"random", "optuna"}
    assert report["knobs"]["epsilon"] == "PGM error bound"  # what each knob is, in its unit
    assert (tmp_path / "best_so_far.png").stat().st_size > 0
    # the picture's text twin: a row per plotted point of each tuner's curve
    twin = (tmp_path / "best_so_far.csv").read_text().splitlines()
    assert twin[0] == "label,trial,value" and {row.split(",")[0] for row in twin[1:]} >= {"random seed 0", "optuna seed 0"}
    with ResultsStore(tmp_path / "results.sqlite") as store:
        assert len(store.rows(role="trial")) == 6
    again = runner.invoke(_app(), args)
    assert again.exit_code == 0
    report = json.loads((tmp_path / "best_config.json").read_text())
    assert report["tuners"]["random"]["resumed_trials"] == 3
    assert report["settings"] == {"rows": 20000, "repeats": 1, "index_cost": "measured", "queries": 100_000,
                                  "time_weight": 1.0, "size_weight": 1.0}
    # other measurement settings are another experiment: refused, not silently resumed
    changed = runner.invoke(_app(), [*args[:-4], "--repeats", "3", "--out", str(tmp_path)])
    assert changed.exit_code == 2
    assert "repeats 1 then, 3 now" in changed.output and "another --out" in changed.output
    with ResultsStore(tmp_path / "results.sqlite") as store:
        assert len(store.rows(role="trial")) == 6  # nothing measured
    # a rerun with fewer trials plots what it reports: its first 2 trials per tuner
    drawn = {}
    monkeypatch.setattr(
        "learned_systems.plots.plot_best_so_far",
        lambda curves, *a, **k: drawn.update({label: len(c) for label, c in curves.items()}),
    )
    fewer = [*args[:8], "2", *args[9:]]
    assert runner.invoke(_app(), fewer).exit_code == 0
    assert drawn == {"random seed 0": 2, "optuna seed 0": 2}


def test_cli_sqlite_small_run(tmp_path):
    result = CliRunner().invoke(
        _app(),
        [
            "tune",
            "--system",
            "sqlite",
            "--workload",
            "ycsb-b",
            "--tuner",
            "random",
            "--trials",
            "2",
            "--rows",
            "2000",
            "--duration",
            "0.05",
            "--repeats",
            "2",
            "--out",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "best_config.json").read_text())
    assert report["baselines"]["rule_of_thumb"]["config"]["journal_mode"] == "WAL"
    assert report["best"]["config"]["synchronous"] != "OFF"
    # the same command again resumes (an index-only setting's default made every database
    # run's settings differ from its stored ones: 'index_cost measured then, None now')
    args = ["tune", "--system", "sqlite", "--workload", "ycsb-b", "--tuner", "random", "--trials", "3", "--rows",
            "2000", "--duration", "0.05", "--repeats", "2", "--out", str(tmp_path)]
    again = CliRunner().invoke(_app(), args)
    assert again.exit_code == 0, again.output
    assert json.loads((tmp_path / "best_config.json").read_text())["tuners"]["random"]["resumed_trials"] == 2


@pytest.mark.parametrize(
    "args, message",
    [
        (["--system", "mysql"], "unknown system 'mysql'"),
        (["--workload", "ycsb-z"], "unknown workload 'ycsb-z'"),
        (["--tuner", "grid"], "unknown tuner 'grid'"),
        (["--trials", "0"], "--trials must be a whole number from 1 to 1,000,000, got 0"),
        (["--seed", "-1"], "--seed must be a whole number from 0 to 4294967295"),
        (["--system", "index", "--workload", "zipf"], "unknown dataset 'zipf'"),
        (["--system", "index", "--workload", ""], "unknown dataset ''"),  # not the default
        (["--seed", str(2**63)], "--seed must be a whole number from 0 to 4294967295"),  # SQLite overflowed
        (["--seed", str(2**32)], "--seed must be a whole number"),  # Optuna took it only after the baselines
        (["--system", "index", "--duration", "5"], "--duration does not apply to --system index"),
        (["--system", "index", "--allow-unsafe"], "--allow-unsafe does not apply to --system index"),
        (["--duration", "nan"], "--duration must be a number of seconds in (0, 3600]"),  # left an empty OUT
        (["--duration", "inf"], "--duration must be a number of seconds in (0, 3600]"),
        (["--duration", "3601"], "--duration must be a number of seconds in (0, 3600]"),
        (["--repeats", str(10**20)], "--repeats must be a whole number from 1 to 1000"),  # hung silently
        (["--repeats", "0"], "--repeats must be a whole number from 1 to 1000, got 0"),  # (named --duration too)
        (["--tuner", "random,,optuna"], "--tuner names an empty tuner"),  # (taken)
        (["--trials", str(10**20)], "--trials must be a whole number from 1 to 1,000,000"),
        (["--system", "index", "--rows", "1"], "at least 1000 index keys, got 1"),  # (scored -575,601)
        (["--rows", "50"], "--rows must be 0 (the default) or at least 100 SQLite rows"),
        (["--system", "index", "--rows", "99999999999"], "--rows must be at most 1000000000 index keys"),
    ],
)
def test_cli_bad_input_is_one_line_and_exit_2(args, message, tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(_app(), ["tune", *args, "--out", str(out)])
    assert result.exit_code == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert not out.exists()  # refused before the folder (and its lock) was made


def test_cli_a_sqlite_workload_for_postgres_is_refused_naming_postgres_workloads(tmp_path, monkeypatch):
    """``--system postgres --workload ycsb-a`` (a SQLite workload) is refused in one line with
    exit 2, listing PostgreSQL's own workloads, before PostgreSQL is even looked for (no
    server binaries needed) and before OUT is made."""
    from learned_systems.config import postgres_backend

    def no_lookup():
        raise AssertionError("PostgreSQL was looked for before the workload was checked")

    monkeypatch.setattr(postgres_backend, "find_binaries", no_lookup)
    out = tmp_path / "out"
    result = CliRunner().invoke(_app(), ["tune", "--system", "postgres", "--workload", "ycsb-a", "--out", str(out)])
    assert result.exit_code == 2
    assert result.stderr == (
        "placer: error: unknown workload 'ycsb-a' for postgres: expected one of "
        "['tpcb', 'select-only', 'simple-update', 'analytical']\n"
    )
    assert not out.exists()


def test_cli_a_size_too_big_for_memory_is_one_line_and_exit_2(tmp_path):
    """10**16 keys (80 PB) cannot be allocated anywhere: refused up front in one line."""
    args = [
        "tune",
        "--system",
        "index",
        "--rows",
        str(10**16),
        "--trials",
        "1",
        "--tuner",
        "random",
    ]
    result = CliRunner().invoke(_app(), [*args, "--out", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    assert "--rows must be at most 1000000000 index keys" in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_cli_default_workload_follows_the_system(tmp_path):
    args = ["tune", "--system", "index", "--trials", "1", "--repeats", "1", "--out", str(tmp_path)]
    result = CliRunner().invoke(_app(), args)
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "best_config.json").read_text())
    assert report["workload"] == "lognormal" and report["settings"]["rows"] == 1_000_000
    spelt_out = CliRunner().invoke(_app(), [*args, "--rows", "1000000"])  # the same run
    assert spelt_out.exit_code == 0, spelt_out.output


def test_optuna_resumed_anywhere_proposes_what_the_straight_run_did():
    space = sqlite_space()

    def score_of(config, i):
        return (
            None if config["journal_mode"] == "TRUNCATE" else float(np.log2(config["cache_size"]))
        )

    straight = make_tuner("optuna", space, 5, trials=24)
    history = []
    for i in range(24):
        config = straight.ask()
        straight.tell(config, score_of(config, i))
        history.append(config)
    for cut in (3, 11, 13, 20):  # in the random start, after it, before and in the final share
        resumed = make_tuner("optuna", space, 5, trials=24)
        for i, config in enumerate(history[:cut]):
            resumed.replay(config, score_of(config, i))
        for i in range(cut, 24):
            config = resumed.ask()
            assert config == history[i], (cut, i)
            resumed.tell(config, score_of(config, i))


def test_cli_corrupt_results_database_is_one_line_and_exit_2(tmp_path):
    (tmp_path / "results.sqlite").write_bytes(b"not a database " * 200)
    args = ["tune", "--system", "index", "--workload", "uniform", "--trials", "1",
            "--rows", "2000", "--repeats", "1", "--out", str(tmp_path)]  # fmt: skip
    result = CliRunner().invoke(_app(), args)
    assert result.exit_code == 2, result.output
    assert "not a usable results database" in result.output
    assert len(result.output.strip().splitlines()) == 1


class FlakyDefaults(QuadraticObjective):
    """The quadratic objective whose first ``failures`` measurements of the defaults fail."""

    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures = failures

    def evaluate(self, config):
        full = self.space.validate(config)
        if full == self.space.defaults() and self.failures > 0:
            self.failures -= 1
            return TrialResult.failed(self.system, self.workload, self.space.name, full, "timeout")
        return super().evaluate(config)


def test_a_failed_measurement_of_the_defaults_is_tried_again(tmp_path):
    objective = FlakyDefaults(failures=2)
    with ResultsStore(tmp_path / "r.sqlite") as store:
        summary = run_tuning(objective, "random", 4, 0, store, "flaky")
        defaults = store.rows(run="flaky", tuner="baseline", role="default")
    assert objective.failures == 0 and [row["ok"] for row in defaults] == [True]  # the third
    assert summary.baselines["default"].ok and summary.best_score is not None
    assert summary.best_score < 10  # a ratio to the defaults, not ops/s


def test_defaults_that_cannot_be_measured_stop_the_run_with_a_clear_error(tmp_path):
    from learned_systems.objectives import ConfigObjective

    with ResultsStore(tmp_path / "r.sqlite") as store:
        with pytest.raises(
            RuntimeError, match=r"defaults could not be measured \(timeout\) after 3"
        ):
            run_tuning(FlakyDefaults(failures=99), "random", 4, 0, store, "down")
    ok = TrialResult("s", "w", "durable", {}, True, 500.0, 0.0, [500.0])
    failed = TrialResult.failed("s", "w", "durable", {}, "timeout")
    # a raw ops/s figure must never pass for a ratio to the defaults
    assert (
        ConfigObjective.score(None, ok, failed) is None
        and ConfigObjective.score(None, ok, None) is None
    )


class _ClosedOnce:
    """Random search given to ``run_tuning`` as an instance, counting its ``close()`` calls."""

    name = "closed_once"

    def __init__(self, space: KnobSpace) -> None:
        self.inner = make_tuner("random", space, 0, 4)
        self.closed = 0

    def ask(self):  # type: ignore[no-untyped-def]
        return self.inner.ask()

    def tell(self, config, score) -> None:  # type: ignore[no-untyped-def]
        self.inner.tell(config, score)

    def observe(self, config, score) -> None:  # type: ignore[no-untyped-def]
        self.inner.observe(config, score)

    def replay(self, config, score) -> None:  # type: ignore[no-untyped-def]
        self.inner.replay(config, score)

    def close(self) -> None:
        self.closed += 1


def test_a_tuner_given_is_closed_also_when_the_run_stops_before_its_first_trial(tmp_path):
    """``run_tuning`` promises to close a tuner instance however the run ends, but one whose
    run stopped at its defaults (every measurement failed) or at the stored run's check (a run
    of another objective under that name) was left open: an RL tuner's agent thread ran on
    until the tuner was collected."""
    objective = FlakyDefaults(failures=99)
    with ResultsStore(tmp_path / "r.sqlite") as store:
        given = _ClosedOnce(objective.space)
        with pytest.raises(RuntimeError, match="defaults could not be measured"):
            run_tuning(objective, given, 4, 0, store, "down")
        assert given.closed == 1
        run_tuning(QuadraticObjective(), "random", 2, 0, store, "measured")

        class Other(QuadraticObjective):
            workload = "another"

        given = _ClosedOnce(objective.space)
        with pytest.raises(ValueError, match="not on this objective's"):
            run_tuning(Other(), given, 4, 0, store, "measured")
        assert given.closed == 1
        given = _ClosedOnce(objective.space)
        run_tuning(QuadraticObjective(), given, 3, 0, store, "measured")
        assert given.closed == 1  # (once, at the end of a run that went well)


def test_a_resumed_run_scores_stored_trials_against_its_defaults_again(tmp_path):
    """A store written while the defaults failed (before they were measured again) holds raw
    throughput as trial scores; a resume must not rank those next to ratios."""
    objective = QuadraticObjective()
    trial = objective.evaluate({"journal_mode": "WAL"})
    with ResultsStore(tmp_path / "r.sqlite") as store:
        failed = TrialResult.failed(
            objective.system, objective.workload, "durable", objective.space.defaults(), "timeout"
        )
        store.add("old", "baseline", 0, 0, "default", failed, None)
        store.add("old", "random", 0, 0, "trial", trial, trial.throughput_mean)  # a raw score
        summary = run_tuning(objective, "random", 3, 0, store, "old")
    default = summary.baselines["default"]
    assert default.ok and summary.best_so_far[0] == trial.throughput_mean / default.throughput_mean


def test_cli_refuses_output_paths_in_the_way_before_any_trial(tmp_path):
    out = tmp_path / "out"
    (out / "best_config.json").mkdir(parents=True)
    result = CliRunner().invoke(_app(), ["tune", "--system", "index", "--rows", "2000", "--trials", "1", "--out", str(out)])
    assert result.exit_code == 2 and "best_config.json is in the way" in result.stderr
    assert not (out / "results.sqlite").exists()


def test_a_results_database_of_another_layout_is_named_in_one_line(tmp_path, sqlite_file):
    from learned_systems.results import ResultsStore

    path = sqlite_file(tmp_path / "results.sqlite", "CREATE TABLE trials (x INTEGER)")
    with pytest.raises(ValueError, match=rf"{path}: not a usable results database .*other columns"):
        ResultsStore(path)
    with pytest.raises(ValueError, match="is a folder, not a results database"):
        ResultsStore(tmp_path)


def test_a_results_database_that_cannot_be_opened_is_named_in_one_line(tmp_path):
    """A results.sqlite SQLite cannot open (here a link to a folder that does not exist, as a
    read-only folder would for a non-root user) is a ValueError naming the file and SQLite's
    reason; ``placer tune`` prints it as one line and exits 2."""
    from learned_systems.results import ResultsStore

    out = tmp_path / "out"
    out.mkdir()
    path = out / "results.sqlite"
    path.symlink_to(tmp_path / "nowhere" / "results.sqlite")
    with pytest.raises(ValueError) as info:
        ResultsStore(path)
    assert str(info.value) == f"{path}: cannot open a results database (unable to open database file)"
    result = CliRunner().invoke(_app(), ["tune", "--system", "index", "--rows", "2000", "--trials", "1",
                                         "--out", str(out)])
    assert result.exit_code == 2
    assert result.stderr == f"placer: error: {path}: cannot open a results database (unable to open database file)\n"


def test_a_rename_of_a_run_that_fails_leaves_its_trials_and_settings_as_they_were(tmp_path):
    """rename_run moves a run's trials and its settings in one transaction: when the second
    update fails (here a trigger refuses it), the error propagates, both tables keep the old
    run, and the store is left usable (no transaction open), so a later rename succeeds."""
    import sqlite3

    from learned_systems.results import ResultsStore

    path = tmp_path / "results.sqlite"
    result = TrialResult("index", "uniform", "durable", {"k": 1}, True, 2.0, 0.0, [2.0])
    with ResultsStore(path) as store:
        store.claim_settings("old", {"rows": 2000})
        store.add("old", "random", 0, 0, "trial", result, 1.0)
        store._conn.execute(
            "CREATE TRIGGER refuse BEFORE UPDATE ON run_settings BEGIN SELECT RAISE(ABORT, 'refused'); END"
        )
        with pytest.raises(sqlite3.IntegrityError, match="refused"):
            store.rename_run("old", "new", "learned")
        assert [(r["run"], r["space"]) for r in store.rows()] == [("old", "durable")]
        assert store._conn.execute("SELECT run, settings FROM run_settings").fetchall() == [
            ("old", '{"rows": 2000}')
        ]
        assert not store._conn.in_transaction
        store._conn.execute("DROP TRIGGER refuse")
        assert store.rename_run("old", "new", "learned") == 1
        assert [(r["run"], r["space"]) for r in store.rows()] == [("new", "learned")]
        assert store._conn.execute("SELECT run FROM run_settings").fetchall() == [("new",)]


def test_the_best_configuration_written_is_never_worse_than_a_baseline(tmp_path):
    """Two random trials rarely beat the defaults: best_config.json then names the baseline
    instead of a tuner's slower configuration, and a tie goes to the baseline (counted costs:
    the same scores every run, so the rule is checked on fixed figures)."""
    import json

    out = tmp_path / "out"
    args = ["tune", "--system", "index", "--rows", "5000", "--trials", "2", "--tuner", "random,random",
            "--index-cost", "counted", "--out", str(out)]
    result = CliRunner().invoke(_app(), args)
    assert result.exit_code == 0, result.output
    report = json.loads((out / "best_config.json").read_text())
    baseline_best = max(b["score"] for b in report["baselines"].values())
    tuner_best = max(t["best_score"] for t in report["tuners"].values())
    assert report["best"]["score"] == max(baseline_best, tuner_best)
    assert (report["best"]["found_by"] in report["baselines"]) == (baseline_best >= tuner_best)
    assert list(report["tuners"]) == ["random"]  # named twice, run once
    assert "space: index parameters (every value is safe)" in result.output


def test_the_rl_tuner_rewards_a_failure_below_every_score_seen():
    """Index scores are negative: a failure rewarded 0 paid better than every success."""
    from learned_systems.objectives import index_space

    tuner = make_tuner("rl", index_space(), 0, trials=4)
    try:
        assert tuner.reward(None) == -1.0  # nothing seen yet: below any ratio of a database (>= 0)
        assert tuner.reward(-5.0) == -5.0
        assert tuner.reward(None) == -10.0
        assert tuner.reward(3.0) == 3.0 and tuner.reward(None) == -10.0  # ratios of a database: >= 0
    finally:
        tuner.close()


def test_the_rl_tuners_agent_learns_on_one_torch_thread_and_puts_it_back(monkeypatch):
    """Its updates split their sums by thread: proposals drifted after 140-270 trials between
    machines of 1 and 2 cores (an audit's runs), and a resume under another taskset drifted."""
    import torch

    from learned_systems.objectives import index_space
    from learned_systems.tuners import rl_agent

    seen: dict = {}
    original = rl_agent._learn

    def recording(model, total, failure):  # type: ignore[no-untyped-def]
        learn = model.learn

        def learning(**kwargs):  # type: ignore[no-untyped-def]
            seen["threads"] = torch.get_num_threads()
            return learn(**kwargs)

        model.learn = learning
        original(model, total, failure)

    monkeypatch.setattr(rl_agent, "_learn", recording)
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        tuner = make_tuner("rl", index_space(), 0, trials=4)
        try:
            tuner.tell(tuner.ask(), -1.0)
        finally:
            tuner.close()
    finally:
        torch.set_num_threads(before)
    assert seen["threads"] == 1


def test_stored_settings_that_are_not_an_object_are_one_line(tmp_path):
    import sqlite3
    from contextlib import closing

    from learned_systems.results import ResultsStore

    path = tmp_path / "results.sqlite"
    with ResultsStore(path) as store:
        store.claim_settings("run", {"rows": 1})
        store.add("run", "random", 0, 0, "trial", TrialResult("s", "w", "durable", {}, True, 1.0), 1.0)
    for damaged in ("null", "[" * 100_000):  # (the second nested past Python's recursion limit)
        with closing(sqlite3.connect(path)) as conn:
            conn.execute("UPDATE run_settings SET settings = ?", (damaged,))
            conn.commit()
        with ResultsStore(path) as store, pytest.raises(ValueError, match="stored settings of run 'run' are not readable"):
            store.claim_settings("run", {"rows": 1})


def test_settings_bind_a_run_from_its_first_stored_row(tmp_path):
    """A run stopped before any trial (a wrong --duration noticed at once) fixed its settings:
    the corrected rerun was refused. A store from before settings were kept, holding trials,
    adopted the new settings for trials measured under unknown ones."""
    import sqlite3
    from contextlib import closing

    from learned_systems.results import ResultsStore, SettingsMismatch

    path = tmp_path / "results.sqlite"
    with ResultsStore(path) as store:
        store.claim_settings("run", {"duration_s": 5.0})
    with ResultsStore(path) as store:
        store.claim_settings("run", {"duration_s": 0.1})  # nothing measured: taken
        store.add("run", "random", 0, 0, "trial", TrialResult("s", "w", "durable", {}, True, 1.0), 1.0)
        with pytest.raises(SettingsMismatch, match="duration_s 0.1 then, 5.0 now.*rerun with the same settings"):
            store.claim_settings("run", {"duration_s": 5.0})
        with pytest.raises(SettingsMismatch, match=r"duration_s 0.1 then, 5.0 now\): duration_s follow\(s\)"):
            store.claim_settings("run", {"duration_s": 5.0}, fixed=("duration_s",))
        # a setting the stored run never recorded (made by an older version) is named so, not None
        with pytest.raises(SettingsMismatch, match=r"\(warmup_s not recorded then, 1 now\)"):
            store.claim_settings("run", {"duration_s": 0.1, "warmup_s": 1})
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("DELETE FROM run_settings")
        conn.commit()
    with ResultsStore(path) as store, pytest.raises(SettingsMismatch, match="were not recorded"):
        store.claim_settings("run", {"duration_s": 0.1})


def test_a_second_run_in_one_folder_says_whose_summary_the_files_hold(tmp_path):
    import json

    out = tmp_path / "out"
    base = ["tune", "--system", "index", "--rows", "3000", "--trials", "1", "--tuner", "random", "--out", str(out)]
    assert CliRunner().invoke(_app(), [*base, "--workload", "uniform"]).exit_code == 0
    second = CliRunner().invoke(_app(), [*base, "--workload", "normal"])
    assert second.exit_code == 0, second.output
    assert "also holds index-uniform-safe" in " ".join(second.output.split())
    assert json.loads((out / "best_config.json").read_text())["run"] == "index-normal-safe"


def test_an_index_run_stored_under_its_old_durable_name_is_resumed_as_safe(tmp_path):
    """The index's space was labelled "durable" (a database guarantee that means nothing for
    an index); a folder written then resumes its trials under the new name."""
    import sqlite3
    from contextlib import closing

    out = tmp_path / "out"
    args = ["tune", "--system", "index", "--workload", "normal", "--rows", "3000", "--tuner", "random",
            "--out", str(out)]
    assert CliRunner().invoke(_app(), [*args, "--trials", "2"]).exit_code == 0
    with closing(sqlite3.connect(out / "results.sqlite")) as conn, conn:
        conn.execute("UPDATE trials SET run = 'index-normal-durable', space = 'durable'")
        conn.execute("UPDATE run_settings SET run = 'index-normal-durable'")
    again = CliRunner().invoke(_app(), [*args, "--trials", "3"])
    assert again.exit_code == 0, again.output
    report = json.loads((out / "best_config.json").read_text())
    assert report["run"] == "index-normal-safe" and report["tuners"]["random"]["resumed_trials"] == 2
    with ResultsStore(out / "results.sqlite") as store:
        assert store.count("index-normal-durable") == 0
        assert {r["space"] for r in store.rows(run="index-normal-safe")} == {"safe"}


def test_index_tuning_by_counted_steps_repeats_for_a_seed(tmp_path):
    """Measured lookup times vary run to run, and so do the tuners' choices after them;
    --index-cost counted scores counted search steps: the same trials and scores again."""
    args = ["tune", "--system", "index", "--workload", "lognormal", "--rows", "5000", "--trials", "4",
            "--tuner", "optuna,rl", "--index-cost", "counted", "--seed", "3"]
    stored = []
    for name in ("a", "b"):
        result = CliRunner().invoke(_app(), [*args, "--out", str(tmp_path / name)])
        assert result.exit_code == 0, result.output
        assert "relative lookup steps (counted)" in " ".join(result.output.split())
        with ResultsStore(tmp_path / name / "results.sqlite") as store:
            stored.append([(r["tuner"], r["trial"], r["config"], r["score"]) for r in store.rows()])
    assert stored[0] == stored[1] and len(stored[0]) == 9  # the defaults and 4 trials per tuner
    # a measured run is another experiment: resuming it counted is refused, and the option
    # means nothing to a database
    measured = CliRunner().invoke(_app(), [*args[:-6], "--tuner", "random", "--out", str(tmp_path / "a")])
    assert measured.exit_code == 2
    assert "index_cost 'counted' then, 'measured' now" in " ".join(measured.output.split()), measured.output
    # a run stored before the setting was recorded was measured: it resumes as such
    import sqlite3
    from contextlib import closing

    with closing(sqlite3.connect(tmp_path / "a" / "results.sqlite")) as conn, conn:
        conn.execute("UPDATE run_settings SET settings = '{\"repeats\": 3, \"rows\": 5000}'")
    resumed = CliRunner().invoke(_app(), [*args[:-6], "--tuner", "random", "--out", str(tmp_path / "a")])
    assert resumed.exit_code == 0, resumed.output
    for bad, message in ((["--index-cost", "timed"], "must be measured or counted"),
                         (["--system", "sqlite", "--index-cost", "counted"], "applies to --system index only")):
        refused = CliRunner().invoke(_app(), ["tune", *bad, "--out", str(tmp_path / "c")])
        assert refused.exit_code == 2 and message in " ".join(refused.output.split()), refused.output
    assert not (tmp_path / "c").exists()


def test_a_summary_says_which_tuners_and_seeds_of_its_run_it_covers(tmp_path):
    """The plot draws every tuner and seed stored for the run; best_config.json only this
    command's: it says so rather than leave a better earlier find unmentioned."""
    import json

    out = tmp_path / "out"
    base = ["tune", "--system", "index", "--rows", "3000", "--trials", "1", "--out", str(out)]
    assert CliRunner().invoke(_app(), [*base, "--tuner", "random"]).exit_code == 0
    second = CliRunner().invoke(_app(), [*base, "--tuner", "optuna", "--seed", "1"])
    assert second.exit_code == 0, second.output
    assert "the plot also draws random seed 0" in " ".join(second.output.split())
    covers = json.loads((out / "best_config.json").read_text())["covers"]
    assert covers == {"tuners": ["optuna"], "seed": 1, "not_covered": ["random seed 0"]}


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("config", "[]", "config of the wrong kind"),
        ("config", "not json", "is not readable"),
        # nested past Python's recursion limit: json's RecursionError read as a bug (exit 70)
        ("config", "[" * 100_000, "is not readable"),
        ("throughputs", "[" * 100_000, "is not readable"),
        ("metrics", "{}", "cannot be scored again"),
        ("metrics", "[]", "metrics of the wrong kind"),
    ],
)
def test_a_damaged_stored_trial_is_one_line_naming_the_file(tmp_path, column, value, message):
    import sqlite3
    from contextlib import closing

    out = tmp_path / "out"
    args = ["tune", "--system", "index", "--rows", "3000", "--trials", "2", "--tuner", "random", "--out", str(out)]
    assert CliRunner().invoke(_app(), args).exit_code == 0
    with closing(sqlite3.connect(out / "results.sqlite")) as conn:
        conn.execute(f"UPDATE trials SET {column} = ? WHERE role = 'trial' AND trial = 0", (value,))
        conn.commit()
    result = CliRunner().invoke(_app(), args)
    assert result.exit_code == 2, result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("placer: error:")]
    assert "Traceback" not in result.stderr and len(errors) == 1, result.stderr  # (and its bar)
    assert str(out / "results.sqlite") in errors[0] and message in errors[0], result.stderr


def test_a_results_file_of_another_kind_is_refused_not_given_tuning_tables(tmp_path, sqlite_file):
    import sqlite3
    from contextlib import closing

    out = tmp_path / "out"
    out.mkdir()
    sqlite_file(out / "results.sqlite", "CREATE TABLE runs (design TEXT)")  # e.g. a placer batch's database
    args = ["tune", "--system", "index", "--rows", "3000", "--trials", "1", "--tuner", "random", "--out", str(out)]
    result = CliRunner().invoke(_app(), args)
    assert result.exit_code == 2 and "holds other tables (runs), not tuning trials" in result.stderr
    with closing(sqlite3.connect(out / "results.sqlite")) as conn:
        assert [r[0] for r in conn.execute("SELECT name FROM sqlite_master")] == ["runs"]
    optuna_like = tmp_path / "optuna" / "results.sqlite"  # Optuna's storage has a trials table
    optuna_like.parent.mkdir()
    sqlite_file(optuna_like, "CREATE TABLE studies (study_id INTEGER)",
                "CREATE TABLE trials (trial_id INTEGER, study_id INTEGER, state TEXT)")
    result = CliRunner().invoke(_app(), [*args[:-1], str(optuna_like.parent)])
    assert result.exit_code == 2 and "its trials table has other columns" in result.stderr
    with closing(sqlite3.connect(optuna_like)) as conn:
        names = sorted(r[0] for r in conn.execute("SELECT name FROM sqlite_master"))
        assert names == ["studies", "trials"]
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"


def test_a_damaged_row_of_another_run_does_not_stop_this_ones_summary(tmp_path):
    import sqlite3
    from contextlib import closing

    out = tmp_path / "out"
    base = ["tune", "--system", "index", "--rows", "3000", "--trials", "1", "--tuner", "random", "--out", str(out)]
    assert CliRunner().invoke(_app(), [*base, "--workload", "uniform"]).exit_code == 0
    with closing(sqlite3.connect(out / "results.sqlite")) as conn:
        conn.execute("UPDATE trials SET config = '[]' WHERE role = 'trial'")
        conn.commit()
    second = CliRunner().invoke(_app(), [*base, "--workload", "normal"])
    assert second.exit_code == 0, second.stderr
    assert "random: best score -" in second.stdout and "best configuration -> " in second.stdout  # its summary
    assert json.loads((out / "best_config.json").read_text())["workload"] == "normal"


class NaNObjective(QuadraticObjective):
    """Scores NaN for every other measured configuration, the defaults included (a custom
    objective dividing by zero)."""

    def __init__(self) -> None:
        super().__init__()
        self.scored = 0

    def score(self, result, reference=None):  # type: ignore[no-untyped-def]
        self.scored += 1
        if result.ok and self.scored % 2 == 1:
            return float("nan")
        return super().score(result, reference)


@pytest.mark.parametrize("tuner", ["random", "rl"])
def test_a_non_finite_score_counts_as_a_failed_trial(tuner, tmp_path):
    """A NaN score added first stayed best for good, and killed the RL agent's thread (then
    ask() waited 10 minutes)."""
    with ResultsStore(tmp_path / "r.sqlite") as store:
        summary = run_tuning(NaNObjective(), tuner, 12, 0, store, "run")
    assert summary.baseline_scores["default"] is None  # the first score made was NaN
    assert summary.best_score is not None and np.isfinite(summary.best_score)
    assert all(s is None or np.isfinite(s) for s in summary.best_so_far)


def test_the_rl_tuner_says_so_when_its_agent_died():
    import time

    from learned_systems.objectives import index_space

    tuner = make_tuner("rl", index_space(), 0, trials=4)
    tuner.ask()
    tuner.tell({}, None)
    tuner._rewards.put("not a reward")  # the agent's next step fails on it
    started = time.monotonic()
    with pytest.raises(RuntimeError, match="the RL tuner's agent stopped"):
        for _ in range(20):
            tuner.ask()
            tuner.tell({}, None)
    assert time.monotonic() - started < 30
    tuner.close()


def test_the_best_so_far_plot_is_written_in_the_format_its_name_asks_for(tmp_path):
    from learned_systems.plots import plot_best_so_far

    heads = {"c": b"\x89PNG", "c.pdf": b"%PDF", "c.svg": b"<?xml", "c.PNG": b"\x89PNG"}
    for name, head in heads.items():
        path = plot_best_so_far({"random seed 0": [1.0, 2.0, None]}, tmp_path / name, "t")
        assert path.read_bytes().startswith(head), name
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(heads)  # no temporary left


def test_a_results_database_that_cannot_be_written_is_refused_before_any_trial(tmp_path, monkeypatch):
    """Checked up front (a read-only file was found only when the first trial was stored)."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "results.sqlite").write_bytes(b"")
    real_access = tune_command.os.access
    monkeypatch.setattr(tune_command.os, "access", lambda path, mode: False if str(path).endswith("results.sqlite") else real_access(path, mode))
    result = CliRunner().invoke(_app(), ["tune", "--system", "index", "--rows", "2000", "--trials", "1", "--out", str(out)])
    assert result.exit_code == 2
    assert "results.sqlite cannot be written" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_a_tuner_best_that_runs_as_the_defaults_is_credited_to_the_defaults():
    """An index configuration equal to the defaults but for a knob that does not apply (RMI
    leaves under kind=pgm) is the defaults' index, reported with their own measurement."""
    from types import SimpleNamespace

    from learned_systems.objectives import index_space

    space = index_space()
    default_config = space.defaults()
    default = TrialResult("index", "lognormal", "index", default_config, True, 10.0, 0.0, [10.0])
    twin_config = {**default_config, "num_models": 64}
    twin = TrialResult("index", "lognormal", "index", twin_config, True, 11.0, 0.0, [11.0])
    summary = SimpleNamespace(
        best_score=-0.9, tuner="random", best_config=twin_config, best_result=twin, ranked=[RankedConfig(-0.9, twin, 1)],
        baselines={"default": default}, baseline_scores={"default": -1.0},
    )  # fmt: skip
    best = best_overall([summary], space.effective)
    assert best["found_by"] == "default" and best["tuner"] is None and best["score"] == -1.0


def _index_result(config):  # type: ignore[no-untyped-def]
    return TrialResult("index", "lognormal", "durable", config, True, 1.0, 0.0, [1.0])


def _best_of_one_random_run(ranked, baseline_scores):  # type: ignore[no-untyped-def]
    """``best_overall`` over one random-search run that measured ``ranked`` ((score, config),
    best first) beside the index space's baselines scored ``baseline_scores``."""
    from types import SimpleNamespace

    from learned_systems.objectives import index_space

    space = index_space()
    baselines = {"default": _index_result(space.defaults()),
                 "rule_of_thumb": _index_result(space.validate(space.rule_of_thumb))}
    summary = SimpleNamespace(
        tuner="random", ranked=[RankedConfig(score, _index_result(config), 1) for score, config in ranked],
        baselines={role: baselines[role] for role in baseline_scores}, baseline_scores=baseline_scores,
    )  # fmt: skip
    return best_overall([summary], space.effective)


def test_a_luckier_measurement_of_the_defaults_does_not_hide_a_better_find():
    """The rule of thumb of the index space is the defaults: its luckier measurement won, was
    replaced by the defaults' own score, and the tuner's better configuration was dropped."""
    from learned_systems.objectives import index_space

    found = {**index_space().defaults(), "epsilon": 128}
    best = _best_of_one_random_run([(-2.85, found)], {"default": -2.90, "rule_of_thumb": -2.80})
    assert (best["found_by"], best["score"], best["config"]["epsilon"]) == ("random", -2.85, 128)


def test_a_tuners_runner_up_beats_the_defaults_when_its_best_runs_as_them():
    """A tuner's best that runs as the defaults counts with the defaults' own score; its second
    configuration, better than the defaults, was never considered (best_config.json named the
    defaults)."""
    from learned_systems.objectives import index_space

    default_config = index_space().defaults()
    runner_up = {**default_config, "epsilon": 128}
    best = _best_of_one_random_run([(1.10, default_config), (1.05, runner_up)], {"default": 1.0})
    assert (best["found_by"], best["score"], best["config"]["epsilon"]) == ("random", 1.05, 128)


def test_a_tie_with_a_baseline_or_a_tuners_measurement_of_one_is_the_baselines():
    """A tuner's configuration scoring exactly the defaults' (counted index costs tie) was
    recommended as its find; a tuner's luckier measurement of the rule of thumb won as the
    tuner's."""
    from learned_systems.objectives import index_space

    space = index_space()
    other = {**space.defaults(), "epsilon": 4096}
    best = _best_of_one_random_run([(-251.5, other)], {"default": -251.5})
    assert (best["found_by"], best["tuner"]) == ("default", None)
    sqlite = sqlite_space()
    thumb = sqlite.validate(sqlite.rule_of_thumb)
    as_measured = TrialResult("sqlite", "w", "durable", thumb, True, 2.0, 0.0, [2.0])
    summary = SimpleNamespace(
        tuner="random", ranked=[RankedConfig(1.3, as_measured, 1)],
        baselines={"default": _index_result(sqlite.defaults()), "rule_of_thumb": _index_result(thumb)},
        baseline_scores={"default": 1.0, "rule_of_thumb": 1.2},
    )  # fmt: skip
    best = best_overall([summary], sqlite.effective)
    assert (best["found_by"], best["score"]) == ("rule_of_thumb", 1.2)


def test_a_config_whose_trials_failed_now_and_then_ranks_below_a_steady_one():
    from learned_systems.objectives import index_space

    space = index_space()
    steady, flaky = (space.validate({**space.defaults(), "epsilon": e}) for e in (128, 256))
    summary = SimpleNamespace(
        tuner="optuna",
        ranked=[RankedConfig(-1.0, _index_result(flaky), 1, failures=3), RankedConfig(-2.0, _index_result(steady), 2)],
        baselines={"default": _index_result(space.defaults())}, baseline_scores={"default": -3.0},
    )  # fmt: skip
    best = best_overall([summary], space.effective)
    assert (best["config"]["epsilon"], best["measurements"], best["failed_trials"]) == (128, 2, 0)


def test_index_trials_report_the_sample_spread_like_the_databases():
    """np.std (population) was stored for index trials, statistics.stdev for all others."""
    import statistics

    objective = IndexObjective("uniform", keys=5_000, queries=500, mode="measured", repeats=4)
    result = objective.evaluate({"kind": "pgm", "epsilon": 32})
    assert result.ok and len(result.throughputs) == 4
    assert result.throughput_std == pytest.approx(statistics.stdev(result.throughputs), rel=1e-12)
    assert result.throughput_std > 0


def test_ctrl_c_before_the_first_trial_does_not_claim_saved_trials(tmp_path, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(tune_command, "_run", interrupted)
    result = CliRunner().invoke(_app(), ["tune", "--system", "index", "--out", str(tmp_path / "out")])
    assert result.exit_code == 130
    assert "nothing was saved" in result.stderr and "is saved in" not in result.stderr


def test_an_rl_tuner_never_closed_is_freed_and_its_agent_thread_ends():
    """The agent's thread ran the tuner's bound method: a tuner dropped without close() stayed
    reachable from its blocked thread until exit, a thread and a PPO model per tuner."""
    import gc
    import threading
    import weakref

    from learned_systems.objectives import index_space

    threads = threading.active_count()
    tuner = make_tuner("rl", index_space(), 0, trials=4)
    for score in (-1.0, -1.1, -1.2):
        tuner.tell(tuner.ask(), score)
    agent = tuner._thread
    assert agent.is_alive() and threading.active_count() == threads + 1
    kept = weakref.ref(tuner)
    del tuner
    gc.collect()
    assert kept() is None
    agent.join(timeout=30.0)
    assert not agent.is_alive() and threading.active_count() <= threads


def test_the_rl_tuner_rewards_failure_below_every_score_sees_them_apart_and_stops_cleanly():
    """A failure before any trial's score earned 0, above every (negative) index score; the
    observation clipped all index scores to -1; close() left the agent's thread running, and
    the process aborted at exit (134) after a good run."""
    from learned_systems.objectives import index_space
    from learned_systems.tuners.rl_agent import _ProposalEnv

    space = index_space()
    tuner = make_tuner("rl", space, 0, trials=8)
    tuner.observe(space.defaults(), -1.2)  # the baselines' scores ground the failure reward
    assert tuner.reward(None) < -1.2
    config = tuner.ask()
    tuner.tell(config, -1.5)
    tuner.close()
    assert not tuner._thread.is_alive()

    import queue

    actions, rewards = queue.Queue(), queue.Queue()
    env = _ProposalEnv(space, actions, rewards, horizon=8)
    seen = []
    for score in (-1.12, -1.25, -1.5):
        rewards.put(score)
        obs, *_ = env.step(np.full(len(space.knobs), 0.5, np.float32))
        assert env.observation_space.contains(obs)
        seen.append(float(obs[-1]))
    assert len(set(seen)) == 3


def test_a_uniform_unit_draw_gives_every_whole_value_its_share():
    """Rounding gave the lowest and highest values of a knob half a bin each (0 workers per
    gather, the setting that matters on 2 cores, 12.7% instead of 20%)."""
    from learned_systems.config.postgres_backend import postgres_space

    knob = next(k for k in postgres_space().knobs if k.name == "max_parallel_workers_per_gather")
    units = (np.arange(10_000) + 0.5) / 10_000
    counts = np.bincount([knob.from_unit(u) for u in units], minlength=5)
    assert counts.tolist() == [2000] * 5
    for value in range(knob.low, knob.high + 1):
        assert knob.from_unit(knob.to_unit(value)) == value


def test_an_interrupt_before_any_stored_trial_does_not_claim_saved_trials(tmp_path):
    """The message said "every finished trial is saved ... rerun to resume" whenever the
    results file existed, though nothing had been measured yet."""
    from learned_systems.results import ResultsStore
    from placer.commands.tune import _stored_rows

    path = tmp_path / "results.sqlite"
    assert _stored_rows(path) == 0
    with ResultsStore(path) as store:
        store.claim_settings("run", {"rows": 1})
    assert _stored_rows(path) == 0
    with ResultsStore(path) as store:
        store.add("run", "random", 0, 0, "default", TrialResult("s", "w", "durable", {}, True, 1.0), 1.0)
    assert _stored_rows(path) == 1
    # counting leaves no -wal or -shm file behind (a read-only connection could not remove them)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.sqlite"]
    assert _stored_rows(path, trials_only=True) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.sqlite"]


def test_the_rl_tuners_proposals_spread_over_the_space():
    """Over [0, 1] PPO's initial Gaussian (mean 0, std 1) was clipped to 0 in half of every
    proposal's components: each knob's lowest value in 43-73 % of proposals."""
    space = sqlite_space()
    bottom = space.from_unit(np.zeros(len(space.knobs)))  # every knob at its lowest value
    tuner = make_tuner("rl", space, 0, trials=40)
    lowest = []
    try:
        for _ in range(40):
            config = tuner.ask()
            lowest.append(np.mean([config[knob.name] == bottom[knob.name] for knob in space.knobs]))
            tuner.tell(config, 1.0)
    finally:
        tuner.close()
    # (0.575 before; 0.31 now: about 0.16 clipped at each end, plus the first choices' own
    # share of the knobs with two or three choices)
    assert np.mean(lowest) < 0.45


def test_a_resumed_rl_tuner_says_when_it_proposes_a_stored_trial_differently():
    from learned_systems.tuners.rl_agent import ResumeWarning

    space = sqlite_space()
    tuner = make_tuner("rl", space, 0, trials=4)
    try:
        stored = tuner.ask()
        tuner.tell(stored, 1.0)
    finally:
        tuner.close()
    other = dict(stored, cache_size=space.knob("cache_size").low if stored["cache_size"] != space.knob("cache_size").low
                 else space.knob("cache_size").high)  # fmt: skip
    again = make_tuner("rl", space, 0, trials=4)
    try:
        with pytest.warns(ResumeWarning, match="proposed a stored trial differently"):
            again.replay(other, 1.0)
    finally:
        again.close()


def test_a_list_given_as_a_choice_is_a_knob_error():
    from learned_systems.config.knobs import KnobError

    with pytest.raises(KnobError, match="automatic_index"):
        sqlite_space().validate({"automatic_index": []})


def test_a_postgres_run_records_the_memory_bound_of_its_space(monkeypatch):
    """shared_buffers' top is half the machine's (or container's) memory: a run resumed where
    it is lower stopped on its stored trials, or searched on in another space, unrecorded."""
    from types import SimpleNamespace

    from learned_systems.config import postgres_knobs

    def settings_with(memory_mb):
        monkeypatch.setattr(postgres_knobs, "_total_memory_mb", lambda: memory_mb)
        backend = SimpleNamespace(scale=1, duration_s=1, warmup_s=0, clients=4)
        objective = SimpleNamespace(backend=backend, space=postgres_knobs.postgres_space())
        return run_settings("postgres", objective, 2)

    assert settings_with(4096)["shared_buffers_max_mb"] == 2048
    assert settings_with(24000)["shared_buffers_max_mb"] == 12000


def test_the_plot_draws_each_drawn_seeds_own_baselines(tmp_path, monkeypatch):
    """Another seed's curves were drawn beside this seed's baselines only, though every score is
    relative to its own seed's measurement of the defaults (a rule of thumb at 18.3 above curves
    that beat their own 9.3)."""
    import learned_systems.plots as plots

    drawn = {}
    real = plots.plot_best_so_far

    def spy(curves, path, title, ylabel="best mean score so far", baselines=None, **more):  # type: ignore[no-untyped-def]
        drawn["curves"], drawn["baselines"], drawn["title"] = dict(curves), dict(baselines or {}), title
        return real(curves, path, title, ylabel, baselines, **more)

    monkeypatch.setattr(plots, "plot_best_so_far", spy)
    base = ["tune", "--system", "index", "--rows", "3000", "--trials", "2", "--tuner", "random", "--out", str(tmp_path)]
    first = CliRunner().invoke(_app(), [*base, "--seed", "0"])
    assert first.exit_code == 0, first.output
    # one seed: unlabelled; the index has no rule of thumb beside its defaults (it was the
    # defaults, measured twice: the best reported scored below a baseline of the same config)
    assert set(drawn["baselines"]) == {"default"}
    # the chart says what a score is (the axis said only "best mean score so far")
    assert drawn["title"].splitlines()[1] == "score = -(relative lookup time + size in % of the keys)"
    first_curve = drawn["curves"]["random seed 0"]
    assert CliRunner().invoke(_app(), [*base, "--seed", "1"]).exit_code == 0
    assert set(drawn["curves"]) == {"random seed 0", "random seed 1"}
    assert drawn["curves"]["random seed 0"] == first_curve  # ranked again from the store, alike
    # (one line for both when they measured the same)
    assert set(drawn["baselines"]) in ({"default, seed 0", "default, seed 1"}, {"default, seeds 0-1"})


class LuckyDefaultsObjective:
    """Three settings: the defaults (x) measure 100 the first time and 150 every time after
    (a noisy disk), y measures 120, z 90."""

    system, workload = "fake", "w"

    def __init__(self) -> None:
        from learned_systems.config.knobs import Knob

        self.space = KnobSpace.build("fake", (Knob("a", "x", choices=("x", "y", "z")),), False, {"a": "y"})
        self.calls = 0

    def baselines(self):  # type: ignore[no-untyped-def]
        return {"default": self.space.defaults()}

    def evaluate(self, config):  # type: ignore[no-untyped-def]
        config = self.space.validate(config)
        self.calls += 1
        value = (100.0 if self.calls == 1 else 150.0) if config["a"] == "x" else {"y": 120.0, "z": 90.0}[config["a"]]
        return TrialResult(self.system, self.workload, "durable", config, True, value, 0.0, [value])

    def score(self, result, reference):  # type: ignore[no-untyped-def]
        return result.throughput_mean / reference.throughput_mean


def test_a_tuners_lucky_measurement_of_the_defaults_is_not_its_best(tmp_path):
    """The run's best was y (1.2), but the tuner's own summary (printed beside it, and its
    curve) credited it with the defaults re-measured at 1.5."""
    from learned_systems.results import ResultsStore

    with ResultsStore(tmp_path / "r.sqlite") as store:
        summary = run_tuning(LuckyDefaultsObjective(), "random", 8, 0, store, "r")
    measured = {config_key(c["config"]) for c in store_rows(tmp_path / "r.sqlite")}
    assert config_key({"a": "x"}) in measured  # the tuner did measure the defaults again
    assert summary.best_config == {"a": "y"} and summary.best_score == pytest.approx(1.2)
    assert max(s for s in summary.best_so_far if s is not None) == pytest.approx(1.2)


def test_stored_curves_are_the_runs_own_without_measuring(tmp_path):
    """The store alone gives each tuner's best-so-far curve as its run ranked it (the defaults'
    re-measurement fixed at their own score, Optuna's repeated measurements pooled), so a plot is
    drawn again without a database."""
    from learned_systems.results import ResultsStore
    from learned_systems.tuning import stored_baseline_scores, stored_best_so_far

    with ResultsStore(tmp_path / "r.sqlite") as store:
        summaries = {(t, s): run_tuning(LuckyDefaultsObjective(), t, 14, s, store, "r")
                     for t in ("random", "optuna") for s in (0, 1)}  # fmt: skip

        class NeverMeasures(LuckyDefaultsObjective):
            def evaluate(self, config):  # type: ignore[no-untyped-def]
                raise AssertionError("measured")

        curves = stored_best_so_far(store, "r", NeverMeasures())
        assert curves == {key: summary.best_so_far for key, summary in summaries.items()}
        assert stored_best_so_far(store, "r", NeverMeasures(), skip={("random", 0)}).keys() == curves.keys() - {("random", 0)}
        assert stored_baseline_scores(store, "r", NeverMeasures()) == {0: {"default": 1.0}, 1: {"default": 1.0}}


def store_rows(path):  # type: ignore[no-untyped-def]
    from learned_systems.results import ResultsStore

    with ResultsStore(path) as store:
        return store.rows(role="trial")


def test_a_stored_trial_with_an_unknown_knob_names_the_store(tmp_path):
    """An edited row's unknown knob read like the user's own input: 'unknown knob 'foo''."""
    import sqlite3
    from contextlib import closing

    from learned_systems.results import ResultsStore

    with ResultsStore(tmp_path / "r.sqlite") as store:
        run_tuning(QuadraticObjective(), "random", 3, 0, store, "r")
    with closing(sqlite3.connect(tmp_path / "r.sqlite")) as conn:
        conn.execute("""UPDATE trials SET config = '{"foo": 1}' WHERE role = 'trial' AND trial = 1""")
        conn.commit()
    with ResultsStore(tmp_path / "r.sqlite") as store, pytest.raises(ValueError, match=r"r.sqlite: stored trial 1 of random seed 0 cannot be scored again \(KnobError: unknown knob 'foo'"):
        run_tuning(QuadraticObjective(), "random", 3, 0, store, "r")


def test_an_ok_row_without_a_throughput_is_a_failed_trial(tmp_path):
    """It was read back as a throughput of 0 (score 0.0, '0 failed')."""
    import sqlite3
    from contextlib import closing

    from learned_systems.results import ResultsStore

    with ResultsStore(tmp_path / "r.sqlite") as store:
        run_tuning(QuadraticObjective(), "random", 3, 0, store, "r")
    with closing(sqlite3.connect(tmp_path / "r.sqlite")) as conn:
        conn.execute("UPDATE trials SET throughput_mean = NULL WHERE role = 'trial' AND trial = 1")
        conn.commit()
    with ResultsStore(tmp_path / "r.sqlite") as store:
        summary = run_tuning(QuadraticObjective(), "random", 3, 0, store, "r")
        row = store.rows(role="trial")[1]
    assert not ResultsStore.to_result(row).ok and ResultsStore.to_result(row).error == "stored without a throughput"
    assert summary.failed >= 1 and summary.best_so_far[1] == summary.best_so_far[0]  # trial 1 counts as failed


def test_the_progress_callback_gets_the_score_as_ranked(tmp_path):
    """The progress bar (and the plot, from the same scores) showed the lucky 1.5 of the
    defaults re-measured, beside a printed best of 1.2."""
    from learned_systems.results import ResultsStore

    seen = []
    with ResultsStore(tmp_path / "r.sqlite") as store:
        run_tuning(LuckyDefaultsObjective(), "random", 8, 0, store, "r", on_trial=lambda i, r, s: seen.append(s))
    assert max(s for s in seen if s is not None) == pytest.approx(1.2)


def test_ctrl_c_after_the_baselines_says_what_was_saved(tmp_path, monkeypatch):
    """Only the baselines were stored: 'every finished trial is saved' claimed trials."""
    out = tmp_path / "out"
    with ResultsStore(out / "results.sqlite") as store:
        store.add("r", "baseline", 0, 0, "default", _index_result({"kind": "pgm"}), None)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(tune_command, "_run", interrupted)
    result = CliRunner().invoke(_app(), ["tune", "--system", "index", "--out", str(out)])
    assert result.exit_code == 130 and "the baselines' measurements are saved in" in result.stderr


def test_counted_index_costs_refuse_repeats_and_a_shorter_rerun_names_the_trials_left_out(tmp_path):
    """--repeats changed nothing under --index-cost counted yet refused a resume; a rerun with
    fewer --trials summarised the first ones only, without a word."""
    out = str(tmp_path / "out")
    base = ["tune", "--system", "index", "--rows", "2000", "--index-cost", "counted", "--tuner", "random", "--out", out]
    refused = CliRunner().invoke(_app(), [*base, "--trials", "3", "--repeats", "2"])
    assert refused.exit_code == 2 and "--repeats does not apply to --index-cost counted" in refused.stderr
    assert CliRunner().invoke(_app(), [*base, "--trials", "3"]).exit_code == 0
    shorter = CliRunner().invoke(_app(), [*base, "--trials", "2"])
    assert shorter.exit_code == 0
    assert "note: random seed 0 has 1 more stored trial(s) than --trials 2" in shorter.stdout


def test_a_counted_run_made_with_other_repeats_resumes(tmp_path):
    """--repeats is refused with --index-cost counted now, but runs made before with --repeats 5
    stored it and were then refused for 'repeats 5 then, 3 now': stuck either way."""
    import json
    import sqlite3

    out = tmp_path / "out"
    args = ["tune", "--system", "index", "--rows", "2000", "--index-cost", "counted", "--tuner", "random",
            "--out", str(out)]
    assert CliRunner().invoke(_app(), [*args, "--trials", "2"]).exit_code == 0
    with closing(sqlite3.connect(out / "results.sqlite")) as conn, conn:  # as a run made with --repeats 5 stored it
        (text,) = conn.execute("SELECT settings FROM run_settings").fetchone()
        conn.execute("UPDATE run_settings SET settings = ?", (json.dumps({**json.loads(text), "repeats": 5}),))
    resumed = CliRunner().invoke(_app(), [*args, "--trials", "3"])
    assert resumed.exit_code == 0, resumed.output
    assert "random: best score" in resumed.stdout and "2 resumed" in resumed.stdout


def test_a_sqlite_run_measured_before_the_timed_checkpoint_is_not_resumed(tmp_path):
    """Trials timed without their WAL checkpoint rank a deferring wal_autocheckpoint too high:
    a run stored then (its settings name no wal_checkpoint) is refused, naming why."""
    import json
    import sqlite3

    args = ["tune", "--system", "sqlite", "--workload", "ycsb-b", "--tuner", "random", "--rows", "2000",
            "--duration", "0.02", "--repeats", "1", "--out", str(tmp_path)]
    first = CliRunner().invoke(_app(), [*args, "--trials", "1"])
    assert first.exit_code == 0, first.output
    with closing(sqlite3.connect(tmp_path / "results.sqlite")) as conn, conn:
        (text,) = conn.execute("SELECT settings FROM run_settings").fetchone()
        stored = json.loads(text)
        assert stored["wal_checkpoint"] == "timed, each window"
        del stored["wal_checkpoint"]  # as runs stored before it was recorded
        conn.execute("UPDATE run_settings SET settings = ?", (json.dumps(stored),))
    resumed = CliRunner().invoke(_app(), [*args, "--trials", "2"])
    assert resumed.exit_code == 2
    assert "wal_checkpoint 'untimed, at close' then, 'timed, each window' now" in resumed.output
    # no option sets it: the refusal said "rerun with the same settings", which no one can
    assert "follow(s) this version of placer-gym and this machine, not an option" in resumed.output
    assert "rerun with the same settings" not in resumed.output and "use another --out" in resumed.output


def test_a_full_disk_is_named_as_such_not_as_a_damaged_results_database(tmp_path):
    """A full disk read 'not a usable results database (database or disk is full)'."""
    import errno
    import sqlite3

    from learned_systems.results import unusable_database

    full = sqlite3.OperationalError("database or disk is full")
    full.sqlite_errorcode = sqlite3.SQLITE_FULL
    error = unusable_database(tmp_path / "results.sqlite", full, "not a usable results database")
    assert isinstance(error, OSError) and error.errno == errno.ENOSPC and error.filename == str(tmp_path / "results.sqlite")
    damaged = sqlite3.DatabaseError("file is not a database")
    damaged.sqlite_errorcode = sqlite3.SQLITE_NOTADB
    assert str(unusable_database(tmp_path / "r", damaged, "not a usable results database")).endswith(
        "r: not a usable results database (file is not a database)")


@pytest.mark.parametrize("failure", ["full", "locked"])
def test_a_trial_stored_on_a_full_disk_names_the_file_and_a_locked_one_stays_locked(tmp_path, failure):
    """Only the opening named the file: a trial stored once the disk had filled said "database
    or disk is full" and no more. Only disk errors are mapped: a database another process
    holds locked stays SQLite's "database is locked" (it read "not a usable results database")."""
    import errno
    import sqlite3

    message, code = {"full": ("database or disk is full", sqlite3.SQLITE_FULL),
                     "locked": ("database is locked", sqlite3.SQLITE_BUSY)}[failure]

    class FailingConnection:
        def execute(self, sql, *args):  # type: ignore[no-untyped-def]
            error = sqlite3.OperationalError(message)
            error.sqlite_errorcode = code
            raise error

    with ResultsStore(tmp_path / "results.sqlite") as store:
        real, store._conn = store._conn, FailingConnection()
        try:
            with pytest.raises(OSError if failure == "full" else sqlite3.OperationalError) as caught:
                store.add("run", "random", 0, 0, "trial", TrialResult("sqlite", "w", "durable", {}, ok=True), 1.0)
        finally:
            store._conn = real
    if failure == "full":
        assert (caught.value.errno, caught.value.filename) == (errno.ENOSPC, str(tmp_path / "results.sqlite"))
    else:
        assert str(caught.value) == "database is locked"


@pytest.mark.parametrize("ending", ["done", "interrupted", "busy folder"])
def test_a_tuning_run_closes_its_backend_when_it_ends(tmp_path, monkeypatch, ending):
    """The scratch folders were left to a finaliser at exit: a second Ctrl-C there printed a
    traceback and cut the removal of a PostgreSQL cluster short."""
    from contextlib import contextmanager

    from learned_systems.config.sqlite_backend import SQLiteBackend
    from placer.folder_lock import FolderBusy

    closed = []
    real_close = SQLiteBackend.close
    monkeypatch.setattr(SQLiteBackend, "close", lambda self: (closed.append(self), real_close(self)))
    interrupted = ending == "interrupted"
    if ending == "busy folder":

        @contextmanager
        def busy(folder):  # type: ignore[no-untyped-def]
            raise FolderBusy(f"{folder} is in use")
            yield

        monkeypatch.setattr("placer.folder_lock.exclusive_folder", busy)
    if interrupted:
        import learned_systems.tuning as tuning

        def stop(*args, **kwargs):  # type: ignore[no-untyped-def]
            raise KeyboardInterrupt

        monkeypatch.setattr(tuning, "tune_in_turns", stop)
    args = ["tune", "--system", "sqlite", "--workload", "ycsb-b", "--tuner", "random", "--rows", "2000",
            "--duration", "0.02", "--repeats", "1", "--trials", "1", "--out", str(tmp_path / "out")]
    result = CliRunner().invoke(_app(), args)
    assert result.exit_code == {"done": 0, "interrupted": 130, "busy folder": 2}[ending], result.output
    assert len(closed) == 1 and closed[0]._closed


def test_the_baselines_rows_hold_the_scores_the_run_reports(tmp_path):
    """results.sqlite's baseline rows read score NULL, though best_config.json gave them (1.0 and
    the rule of thumb's): an analysis of the store had to rebuild them."""
    with ResultsStore(tmp_path / "r.sqlite") as store:
        summary = run_tuning(QuadraticObjective(), "random", 3, 0, store, "run")
        scores = {row["role"]: row["score"] for row in store.rows(run="run", tuner="baseline")}
    assert scores["default"] == pytest.approx(1.0)
    assert scores["rule_of_thumb"] == pytest.approx(summary.baseline_scores["rule_of_thumb"])


@pytest.mark.parametrize("quiet", [False, True])
def test_tune_quiet_leaves_out_the_progress_bar(tmp_path, quiet):
    """tune had no quiet switch (place has --quiet, train --no-progress/--quiet): its bar went
    to every log."""
    args = ["tune", "--system", "index", "--rows", "2000", "--index-cost", "counted", "--tuner", "random",
            "--trials", "2", "--out", str(tmp_path / "out"), *(["--quiet"] if quiet else [])]
    result = CliRunner().invoke(_app(), args)
    assert result.exit_code == 0, result.output
    assert ("random seed 0" in result.stderr) is not quiet  # the bar's label
    assert "best: " in result.stdout  # the summary either way


@pytest.mark.parametrize("system", ["sqlite", "postgres"])
def test_cli_knobs_prints_the_space_with_units_and_measures_nothing(tmp_path, monkeypatch, system):
    """The knobs' units were nowhere a user of the CLI could read them (a best shared_buffers
    of 340 is MB, not PostgreSQL's 8 kB pages): --knobs prints the space and makes no folder."""
    monkeypatch.chdir(tmp_path)

    def no_backend(*args, **kwargs):  # (it built one: PostgreSQL's needed its binaries and a user)
        raise AssertionError("--knobs built a backend")

    monkeypatch.setattr(tune_command, "_objective", no_backend)
    result = CliRunner().invoke(_app(), ["tune", "--system", system, "--knobs", "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"{system} knob space 'durable'")
    unit = {"sqlite": "cache_size", "postgres": "shared_buffers"}[system]
    assert any(line.split()[0] == unit and line.endswith(("page cache in KiB", ": MB")) for line in lines[1:])
    assert list(tmp_path.iterdir()) == []  # no run folder, no templates


def test_the_rl_tuners_resume_warning_is_the_projects_own(monkeypatch, capsys):
    """It was a plain RuntimeWarning, which the CLI printed as Python's file:line report with the
    source line; the project's own warnings are one ``placer: warning:`` line."""
    import warnings

    from learned_systems.tuners.rl_agent import ResumeWarning
    from placer import cli

    monkeypatch.setattr(warnings, "showwarning", warnings.showwarning)  # replaced below
    cli._one_line_warnings()
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.warn("the resumed RL tuner proposed a stored trial differently", ResumeWarning, stacklevel=1)
    assert capsys.readouterr().err == "placer: warning: the resumed RL tuner proposed a stored trial differently\n"


def test_a_store_used_from_another_thread_is_not_called_damaged(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """SQLite's own "objects created in a thread can only be used in that same thread" read as
    "not a usable results database", of a file that is fine."""
    import sqlite3
    import threading

    raised: list[BaseException] = []
    with ResultsStore(tmp_path / "r.sqlite") as store:

        def read() -> None:
            try:
                store.runs()
            except BaseException as error:  # noqa: BLE001 - compared below
                raised.append(error)

        thread = threading.Thread(target=read, daemon=True)
        thread.start()
        thread.join(timeout=120)
        assert not thread.is_alive()  # (a deadlock fails, not hangs)
        assert store.runs() == []  # fine where it was opened
    assert len(raised) == 1 and type(raised[0]) is sqlite3.ProgrammingError


def test_the_optuna_tuner_keeps_optunas_log_level_as_the_program_set_it() -> None:
    """make_tuner('optuna') set Optuna's process-wide level to WARNING for good, over a DEBUG
    level the program had chosen; at Optuna's default level its INFO lines stay out."""
    import logging

    import optuna

    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    logger = logging.getLogger("optuna")
    before = optuna.logging.get_verbosity()
    logger.addHandler(handler)
    try:
        optuna.logging.set_verbosity(optuna.logging.DEBUG)
        tuner = make_tuner("optuna", sqlite_space(), seed=0, trials=3)
        tuner.tell(tuner.ask(), 1.0)
        assert optuna.logging.get_verbosity() == optuna.logging.DEBUG
        assert any("A new study created" in r.getMessage() for r in records)  # (asked for)
        records.clear()
        optuna.logging.set_verbosity(optuna.logging.INFO)  # Optuna's default
        tuner = make_tuner("optuna", sqlite_space(), seed=0, trials=3)
        tuner.tell(tuner.ask(), 1.0)
        assert optuna.logging.get_verbosity() == optuna.logging.INFO
        assert [r.getMessage() for r in records] == []
    finally:
        logger.removeHandler(handler)
        optuna.logging.set_verbosity(before)


def _rl_proposals(seed: int, draw_between: bool = False) -> list[str]:
    """The RL tuner's 12 proposals for ``seed`` under fixed scores, the caller drawing from the
    process's generators between trials with ``draw_between``."""
    import random
    import zlib

    import torch

    space = sqlite_space()
    tuner = make_tuner("rl", space, seed=seed, trials=12)
    keys = []
    try:
        for _ in range(12):
            config = tuner.ask()
            key = config_key(space.effective(config))
            keys.append(key)
            if draw_between:
                random.random(), np.random.random(), torch.rand(3)
            tuner.tell(config, (zlib.crc32(key.encode()) % 1000) / 100.0)
    finally:
        tuner.close()
    return keys


def test_the_rl_tuner_neither_moves_nor_follows_the_callers_random_generators(in_threads) -> None:  # type: ignore[no-untyped-def]
    """SB3 reseeds the process's generators and samples from torch's: making an RL tuner
    changed the caller's next draws, the caller's draws between trials changed its proposals,
    and tuners in threads took each other's numbers (a seed no longer repeated)."""
    import random

    import torch

    random.seed(5), np.random.seed(5), torch.manual_seed(5)
    expected = (random.random(), float(np.random.random()), float(torch.rand(1)))
    random.seed(5), np.random.seed(5), torch.manual_seed(5)
    alone = {seed: _rl_proposals(seed) for seed in (0, 1)}
    assert (random.random(), float(np.random.random()), float(torch.rand(1))) == expected
    assert _rl_proposals(0, draw_between=True) == alone[0]
    assert in_threads(_rl_proposals, (0, 1)) == alone


def test_an_rl_tuner_interrupted_in_tell_says_so_rather_than_asked_twice(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A Ctrl-C while the agent took its step left it going on outside the lock; the next ask()
    then said it had been asked for a trial twice without tell()."""
    tuner = make_tuner("rl", sqlite_space(), seed=0, trials=4)
    try:
        config = tuner.ask()

        def interrupted() -> None:
            raise KeyboardInterrupt

        monkeypatch.setattr(tuner, "_await_proposal", interrupted)
        with pytest.raises(KeyboardInterrupt):
            tuner.tell(config, 1.0)
        with pytest.raises(RuntimeError, match="interrupted while its agent took a step"):
            tuner.ask()
    finally:
        tuner.close()


def test_a_baseline_without_a_score_says_why_in_the_summary(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The summary printed "rule_of_thumb: score None"; the reason (PostgreSQL's "could not fork
    new process for connection" under a process limit) was only in results.sqlite."""
    from placer.commands.tune import _summary_lines

    failed = TrialResult(system="postgres", workload="tpcb", space="durable", config={}, ok=False,
                         error="pgbench: could not fork new process\nmore")
    summary = SimpleNamespace(tuner="random", best_score=None, failed=3, resumed=0, failure_causes={},
                              baseline_scores={"default": 1.0, "rule_of_thumb": None},
                              baselines={"default": None, "rule_of_thumb": failed})
    objective = SimpleNamespace(space=SimpleNamespace(name="postgres"))
    lines = _summary_lines(tmp_path, "run", "postgres", objective, "measured", 0, 3, [summary],
                           {"random": 0}, None, [], [])
    assert "default: score 1.000" in lines
    assert "rule_of_thumb: no score (pgbench: could not fork new process)" in lines


_AGENT_PROBE = """
import hashlib, os
import torch
torch.set_num_threads(int(os.environ["PLACER_PROBE_THREADS"]))
from learned_systems.objectives import index_space
from learned_systems.tuners.rl_agent import RLAgentTuner

tuner = RLAgentTuner(index_space(), seed=7, trials=10)
digest = hashlib.sha256()
for name, value in tuner.model.policy.state_dict().items():
    digest.update(name.encode() + value.numpy().tobytes())
tuner.close()
print(digest.hexdigest(), torch.get_num_threads())
"""


def test_the_rl_tuners_agent_starts_from_the_same_weights_at_any_torch_thread_count(thread_probe) -> None:  # type: ignore[no-untyped-def]
    """The agent was built on the caller's torch threads: its orthogonal initialisation (a QR)
    differed in the last bits between 1 and 2 threads, and its proposals parted after 66
    trials. (The caller's thread count is kept.)"""
    one, two = thread_probe(_AGENT_PROBE, 1), thread_probe(_AGENT_PROBE, 2)
    assert one.split()[0] == two.split()[0] and (one.split()[1], two.split()[1]) == ("1", "2")


class _FailingNowAndThen(QuadraticObjective):
    """Fails TRUNCATE for a full disk, PERSIST for a server's two-line refusal, OFF journals for a
    long message; the rest as the quadratic system."""

    LONG = "RuntimeError: " + "x" * 300

    def evaluate(self, config):  # type: ignore[no-untyped-def]
        full = self.space.validate(config)
        errors = {"TRUNCATE": "OperationalError: database or disk is full",
                  "PERSIST": "RuntimeError: server did not start\nFATAL: invalid value", "MEMORY": self.LONG}
        if full["journal_mode"] in errors:
            return TrialResult.failed(self.system, self.workload, self.space.name, full, errors[full["journal_mode"]])
        return super().evaluate(full)


def test_a_run_counts_its_failed_trials_by_cause(tmp_path):
    """The summary said "(7 failed, 0 resumed)": the causes were only in results.sqlite."""
    from learned_systems.tuning import failure_causes_text

    objective = _FailingNowAndThen()
    objective.space = sqlite_space(allow_unsafe=True)  # (MEMORY is unsafe)
    with ResultsStore(tmp_path / "r.sqlite") as store:
        summary = run_tuning(objective, "random", 40, 0, store, "run")
        resumed = run_tuning(objective, "random", 40, 0, store, "run")  # stored failures count too
    causes = summary.failure_causes
    assert sum(causes.values()) == summary.failed > 0 and resumed.failure_causes == causes
    assert set(causes) <= {"OperationalError: database or disk is full", "RuntimeError: server did not start",
                           objective.LONG}  # fmt: skip
    text = failure_causes_text(causes)
    assert all(f"{count} x {cause[:50]}" in text for cause, count in causes.items())
    long = objective.LONG
    assert long[:118] not in text and f"{causes[long]} x {long[:117]}...;" in text  # cut to 120 characters
    many = failure_causes_text({f"cause {i}": 10 - i for i in range(7)}, most=3)
    assert many == "10 x cause 0; 9 x cause 1; 8 x cause 2; 22 x 4 other causes"


def _tune_with_rmis_raising(error: Exception, trials: int, out, monkeypatch):  # type: ignore[no-untyped-def]
    """``placer tune`` over counted index trials, every RMI build raising ``error``."""
    from learned_systems import objectives

    real = objectives.build_index

    def failing_rmis(kind, keys, **params):  # type: ignore[no-untyped-def]
        if kind == "rmi":
            raise error
        return real(kind, keys, **params)

    monkeypatch.setattr(objectives, "build_index", failing_rmis)
    args = ["tune", "--system", "index", "--index-cost", "counted", "--rows", "2000", "--trials", str(trials),
            "--tuner", "random", "--quiet", "--out", str(out)]  # fmt: skip
    return CliRunner().invoke(_app(), args)


def test_cli_summary_names_the_causes_of_failed_trials(tmp_path, monkeypatch):
    result = _tune_with_rmis_raising(MemoryError("Unable to allocate 2.00 GiB"), 8, tmp_path, monkeypatch)
    assert result.exit_code == 0, result.output
    failed = int(result.stdout.split("random: best score ")[1].split(" (")[1].split(" failed")[0])
    assert failed > 0 and f"\n  {failed} failed: {failed} x MemoryError: Unable to allocate 2.00 GiB\n" in result.stdout


def test_cli_a_programming_error_inside_a_trial_ends_the_run_without_a_best(tmp_path, monkeypatch):
    """A TypeError building every RMI was 7 failed trials of 12; the run exited 0 naming a PGM
    as the best index."""
    bug = TypeError("unsupported operand type(s) for +: 'int' and 'NoneType'")
    result = _tune_with_rmis_raising(bug, 12, tmp_path, monkeypatch)
    # told as the bug it is: its line and traceback, exit 70 (it was Python's bare traceback)
    assert result.exit_code == 70, result.output
    assert f"placer: internal error: TypeError: {bug}" in result.stderr and "Traceback" in result.stderr
    assert "best score" not in result.stdout and not (tmp_path / "best_config.json").exists()


class _FailingInItsOwnFolder(QuadraticObjective):
    """Fails TRUNCATE and PERSIST journals as a backend's trial fails in a scratch folder of its
    own: TRUNCATE for a full disk naming the trial's copy, PERSIST for a PostgreSQL server
    refusing to start (its log line's time and pid, its folder's path)."""

    def evaluate(self, config):  # type: ignore[no-untyped-def]
        import errno
        import time
        from pathlib import Path

        from learned_systems.config.postgres_server import SCRATCH_PREFIX
        from learned_systems.config.scratch import make_scratch
        from learned_systems.config.sqlite_backend import TRIAL_PREFIX

        full = self.space.validate(config)
        mode = full["journal_mode"]
        if mode not in ("TRUNCATE", "PERSIST"):
            return super().evaluate(full)
        self.calls += 1
        with make_scratch(SCRATCH_PREFIX if mode == "PERSIST" else TRIAL_PREFIX) as folder:
            if mode == "PERSIST":
                data = Path(tempfile.mkdtemp(prefix="trial-", dir=folder)) / "data"
                stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()) + f".{self.calls % 1000:03d} GMT"
                error: Exception | str = (f"RuntimeError: server did not start: {stamp} [{3000 + self.calls}] FATAL:  "
                                          f'could not create lock file "{data}/postmaster.pid": No space left on device')
            else:
                error = OSError(errno.ENOSPC, "No space left on device", str(Path(folder) / "trial.db"))
            return TrialResult.failed(self.system, self.workload, self.space.name, full, error)


def test_one_cause_met_in_each_trials_own_scratch_folder_counts_once(tmp_path):
    """A cause naming a trial's scratch folder (/tmp/sqlite-trial-k2j3h_9x/trial.db) or a
    PostgreSQL log line's time and pid was counted once per trial: "1 x ...; 1 x ...; 1 x ...;
    9 x 9 other causes". Grouped, each is named by one trial's own message."""
    from learned_systems.tuning import failure_causes_text

    with ResultsStore(tmp_path / "r.sqlite") as store:
        summary = run_tuning(_FailingInItsOwnFolder(), "random", 30, 0, store, "run")
        messages = [row["error"] for row in store.rows(run="run", role="trial") if not row["ok"]]
    assert len(set(messages)) == len(messages) == summary.failed > 6  # every message its own
    causes = summary.failure_causes
    assert sum(causes.values()) == summary.failed and len(causes) == 2  # a full disk, a server
    assert set(causes) <= set(messages)  # each shown by a real message, its folder's own name included
    text = failure_causes_text(causes)
    assert "other cause" not in text and all(f"{count} x {cause[:40]}" in text for cause, count in causes.items())
    from learned_systems.tuning import failure_group

    assert len({failure_group(message) for message in messages}) == 2


@pytest.mark.parametrize("one, other", [
    ("OSError: [Errno 28] No space left on device: '/tmp/sqlite-trial-ab_c12xy/trial.db'",
     "OSError: [Errno 28] No space left on device: '/tmp/sqlite-trial-ab_c12xy/trial.db-wal'"),
    ("OSError: [Errno 28] No space left on device: '/tmp/sqlite-trial-ab_c12xy/trial.db'",
     "OSError: [Errno 5] Input/output error: '/tmp/sqlite-trial-ab_c12xy/trial.db'"),
    ("OSError: [Errno 13] Permission denied: '/home/me/run-12345678/trial.db'",  # not a scratch folder
     "OSError: [Errno 13] Permission denied: '/home/me/run-87654321/trial.db'"),
    ("RuntimeError: pgbench failed: connection to server on port 54321 failed",  # not a path
     "RuntimeError: pgbench failed: connection to server on port 54322 failed"),
])
def test_causes_differing_in_more_than_a_scratch_folders_name_stay_apart(one, other):
    from learned_systems.tuning import count_failure_causes, failure_group

    assert failure_group(one) != failure_group(other)
    assert count_failure_causes([one, other, one]) == {one: 2, other: 1}


def _small_index(dataset: str = "uniform", keys: int = 3000) -> IndexObjective:
    return IndexObjective(dataset, keys=keys, queries=300, mode="cost")


def test_a_run_name_stored_for_another_workload_is_refused_not_resumed(tmp_path):
    """A uniform-keys run resumed under a lognormal objective took the uniform baselines and
    trials as the lognormal run's (its summary's baseline scores were uniform's)."""
    with ResultsStore(tmp_path / "r.sqlite") as store:
        run_tuning(_small_index("uniform"), "random", 2, 0, store, "myrun")
        before = store.rows(run="myrun")
        with pytest.raises(ValueError, match=r"holds run 'myrun' measured on index 'uniform', not on this "
                           r"objective's index 'lognormal'.*name another run"):
            run_tuning(_small_index("lognormal"), "random", 3, 0, store, "myrun")
        assert store.rows(run="myrun") == before
        resumed = run_tuning(_small_index("uniform"), "random", 3, 0, store, "myrun")  # its own objective
    assert resumed.resumed == 2 and len(resumed.best_so_far) == 3


def test_a_run_of_placer_tune_resumed_from_python_under_other_settings_is_refused(tmp_path):
    """placer tune records a run's settings (its key count among them): a Python resume of that
    run under other ones is refused as the command's own resume is."""
    objective = _small_index(keys=3000)
    with ResultsStore(tmp_path / "r.sqlite") as store:
        store.claim_settings("index-uniform-safe", run_settings("index", objective, objective.repeats))
        run_tuning(objective, "random", 2, 0, store, "index-uniform-safe")
        with pytest.raises(ValueError, match=r"measured with other settings \(rows 3000 then, 4000 now\).*name another run"):
            run_tuning(_small_index(keys=4000), "random", 3, 0, store, "index-uniform-safe")
        assert run_tuning(objective, "random", 3, 0, store, "index-uniform-safe").resumed == 2


@pytest.mark.parametrize("as_text", [False, True])
def test_run_tuning_takes_the_path_of_a_results_store(tmp_path, as_text):
    """A path failed with "'PosixPath' object has no attribute 'rows'"."""
    path = tmp_path / "sub" / "r.sqlite"
    summary = run_tuning(QuadraticObjective(), "random", 2, 0, str(path) if as_text else path, "run")
    with ResultsStore(path) as store:
        assert len(store.rows(run="run", role="trial")) == 2 and summary.best_score is not None


@pytest.mark.parametrize("run", [None, "", 7])
def test_run_tuning_refuses_a_run_that_is_no_name_before_measuring(tmp_path, run):
    """run=None failed with SQLite's IntegrityError after the defaults had been measured."""
    objective = QuadraticObjective()
    with ResultsStore(tmp_path / "r.sqlite") as store, pytest.raises(ValueError, match="run must be a non-empty name"):
        run_tuning(objective, "random", 2, 0, store, run)
    assert objective.calls == 0


def test_run_tuning_refuses_a_backend_or_a_class_given_as_the_objective(tmp_path):
    from learned_systems.config.factory import make_backend
    from learned_systems.errors import InputError

    backend = make_backend("sqlite", "ycsb-a", rows=1000, duration_s=0.05, repeats=1, template_dir=tmp_path / "t")
    with ResultsStore(tmp_path / "r.sqlite") as store:
        try:
            with pytest.raises(InputError, match=r"is a backend \(SQLiteBackend\): pass .*ConfigObjective\(backend\)"):
                run_tuning(backend, "random", 2, 0, store, "x")
        finally:
            backend.close()
        with pytest.raises(InputError, match=r"the class IndexObjective itself: pass an instance"):
            run_tuning(IndexObjective, "random", 2, 0, store, "y")
        with pytest.raises(InputError, match="lacks baselines, evaluate, score, space"):
            run_tuning(object(), "random", 2, 0, store, "z")
        with pytest.raises(InputError, match="store must be a learned_systems.results.ResultsStore or the path"):
            run_tuning(QuadraticObjective(), "random", 2, 0, 5, "w")  # type: ignore[arg-type]
        assert store.rows() == []


def test_optuna_takes_a_told_configuration_it_never_proposed_as_its_trial():
    """tell() of a configuration ask() did not propose raised KeyError "[('kind', 'pgm')]"; the
    random and RL tuners took it: Optuna now adds it to its study as it stands."""
    from learned_systems.objectives import index_space

    space = index_space()
    tuner = make_tuner("optuna", space, 0, 10)
    try:
        asked = tuner.ask()
        mine = space.validate({"kind": "rmi", "num_models": 64})
        tuner.tell(mine, -2.5)
        tuner.tell(asked, -1.0)  # the proposal it made is still told as its own trial
        done = {t.value: t for t in tuner.study.trials if t.state.name == "COMPLETE"}
        assert sorted(done) == [-2.5, -1.0] and len(tuner.study.trials) == 2
        assert tuner._to_config(done[-2.5].params) == mine
        space.validate(tuner.ask())
    finally:
        getattr(tuner, "close", lambda: None)()


def test_the_rl_tuners_agent_thread_the_system_limit_keeps_from_starting_is_one_refusal(monkeypatch):
    """Python's "can't start new thread" (the system's limit on threads met; simulated) as the
    RL tuner starts its agent read as a bug of ours (exit 70): now one Unavailable naming it."""
    import threading

    from learned_systems.errors import Unavailable
    from learned_systems.objectives import index_space
    from learned_systems.tuners import rl_agent

    start = threading.Thread.start

    def refused(thread):  # type: ignore[no-untyped-def]
        if getattr(thread, "_target", None) is not None and getattr(thread._target, "__name__", "") == "_learn":
            raise RuntimeError("can't start new thread")
        start(thread)

    monkeypatch.setattr(threading.Thread, "start", refused)
    with pytest.raises(Unavailable) as caught:
        make_tuner("rl", index_space(), 0, trials=4)
    assert str(caught.value) == ("cannot start the RL tuner's agent thread: the system's limit on threads/processes "
                                 "was met (can't start new thread); end other threads or processes, or use another tuner")
    assert rl_agent._AGENT_RUNNING.acquire(blocking=False)  # (not left held: the next tuner can run)
    rl_agent._AGENT_RUNNING.release()
