"""The batch's worker pool: a task past its deadline has its worker killed and is recorded as
failed, the others finish; the option that sets the deadline."""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path

import pytest

from placer.batch_pool import DEADLINE_MARGIN_S, PoolRunner, default_deadline_s

# Tasks and their work, in a module of their own so that spawned workers can import them.
WORK_SOURCE = '''
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Job:
    name: str
    seconds: float = 0.0
    hang: bool = False

    @property
    def key(self):
        return self.name


def work(job):
    if job.hang:  # a method stuck for good (a sleep, so as not to load the machine)
        while True:
            time.sleep(0.05)
    time.sleep(job.seconds)
    return ("ok", job.name)
'''


@pytest.fixture
def jobs_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    (tmp_path / "deadline_jobs.py").write_text(WORK_SOURCE)
    monkeypatch.syspath_prepend(str(tmp_path))  # (spawned workers get the parent's sys.path)
    import deadline_jobs

    yield deadline_jobs
    sys.modules.pop("deadline_jobs", None)


def _runner(module, deadline: float) -> PoolRunner:  # type: ignore[no-untyped-def]
    return PoolRunner(module.work, lambda job, error: ("failed", job.name, error), repr, lambda job: deadline)


def test_a_stuck_task_is_stopped_at_its_deadline_and_the_others_finish(jobs_module) -> None:  # type: ignore[no-untyped-def]
    """A worker stuck for good held the whole batch for good (the parent waited on it)."""
    Job = jobs_module.Job
    records: list[tuple] = []
    started = time.monotonic()
    _runner(jobs_module, 2.0).run([Job("stuck", hang=True), Job("a", 0.1), Job("b", 0.1), Job("c")], 2, records.append)
    assert time.monotonic() - started < 60
    by_name = {r[1]: r for r in records}
    assert sorted(by_name) == ["a", "b", "c", "stuck"] and len(records) == 4  # each once
    assert all(by_name[n][0] == "ok" for n in "abc")
    assert by_name["stuck"][0] == "failed"
    assert by_name["stuck"][2].startswith("stopped after ") and "past its deadline of 2 s" in by_name["stuck"][2]


def test_a_stuck_task_rerun_alone_after_its_pool_broke_is_stopped_there_too(jobs_module) -> None:  # type: ignore[no-untyped-def]
    """The second stuck task began after the first: when the first's worker is killed the pool
    breaks, the second runs again in a pool of its own, and its deadline holds there."""
    Job = jobs_module.Job
    records: list[tuple] = []
    jobs = [Job("stuck1", hang=True), Job("quick", 1.0), Job("stuck2", hang=True)]
    _runner(jobs_module, 2.5).run(jobs, 2, records.append)
    by_name = {r[1]: r for r in records}
    assert sorted(by_name) == ["quick", "stuck1", "stuck2"] and len(records) == 3
    assert by_name["quick"][0] == "ok"
    for name in ("stuck1", "stuck2"):
        assert by_name[name][0] == "failed" and "past its deadline of 2 s" in by_name[name][2], by_name[name]


def test_no_deadline_lets_a_slow_task_finish(jobs_module) -> None:  # type: ignore[no-untyped-def]
    records: list[tuple] = []
    _runner(jobs_module, math.inf).run([jobs_module.Job("slow", 1.0), jobs_module.Job("x")], 2, records.append)
    assert sorted(records) == [("ok", "slow"), ("ok", "x")]


def test_the_default_deadline_is_twice_the_budget_and_a_margin() -> None:
    assert default_deadline_s(60) == 120 + DEADLINE_MARGIN_S and default_deadline_s(0) == DEADLINE_MARGIN_S


def test_run_batch_refuses_a_deadline_that_is_not_positive_seconds(tmp_path: Path) -> None:
    from placer.batch import run_batch

    for bad in (0, -1.0, math.nan, True, "10"):
        with pytest.raises(ValueError, match="deadline_s must be a positive number of seconds"):
            run_batch([], tmp_path / "runs", deadline_s=bad)  # type: ignore[arg-type]
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--deadline-s", "-1"], "--deadline-s must be a finite number of seconds >= 0"),
        (["--deadline-s", "inf"], "--deadline-s must be a finite number of seconds >= 0"),
        (["--deadline-s", "10", "--ray", "local"], "--deadline-s applies to local workers"),
    ],
)
def test_place_refuses_a_bad_deadline_in_one_line(tmp_path: Path, extra: list[str], message: str) -> None:
    from typer.testing import CliRunner

    from placer.cli import app

    (tmp_path / "suite").mkdir()
    args = ["place", "--suite", str(tmp_path / "suite"), "--algo", "greedy", "--out", str(tmp_path / "runs"), *extra]
    done = CliRunner().invoke(app, args)
    assert done.exit_code == 2 and message in done.stderr, done.output
    one = CliRunner().invoke(app, ["place", "x.pb.txt", "--algo", "greedy", "--deadline-s", "5", "--out", "o.plc"])
    assert one.exit_code == 2 and "--deadline-s apply to --suite only" in one.stderr
