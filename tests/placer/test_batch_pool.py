"""The batch's worker pool: a task past its deadline has its worker killed and is recorded as
failed, the others finish; the option that sets the deadline."""

from __future__ import annotations

import errno
import math
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from placer.batch_pool import DEADLINE_MARGIN_S, PoolRunner, default_deadline_s

# Tasks and their work, in a module of their own so that spawned workers can import them.
WORK_SOURCE = '''
import os
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Job:
    name: str
    seconds: float = 0.0
    hang: bool = False
    log: str = ""  # a file each start of the job is written to

    @property
    def key(self):
        return self.name


def work(job):
    if job.log:
        with open(job.log, "a") as starts:
            print(job.name, file=starts)
    if job.hang:  # a method stuck for good (a sleep, so as not to load the machine)
        while True:
            time.sleep(0.05)
    time.sleep(job.seconds)
    return ("ok", job.name)


def work_pid(job):
    return (*work(job), os.getpid())


def _stuck_on_arrival(name):  # runs in the worker as it unpickles the task: before it can report
    while True:
        time.sleep(0.05)


class StuckOnArrival(Job):
    def __reduce__(self):
        return (_stuck_on_arrival, (self.name,))
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


def test_a_kill_for_a_deadline_costs_only_its_own_run(jobs_module, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Killing a stuck worker broke the shared pool: the other slot's run, half way through,
    was lost and run again from its start. Each slot has a pool of its own now: "slow" runs from
    about 1 s to 3.5 s on its slot while "stuck1" is killed at 3 s on the other."""
    Job = jobs_module.Job
    log = tmp_path / "starts.txt"
    records: list[tuple] = []
    jobs = [Job("stuck1", hang=True, log=str(log)), Job("quick", 1.0, log=str(log)),
            Job("slow", 2.5, log=str(log)), Job("stuck2", hang=True, log=str(log))]  # fmt: skip
    _runner(jobs_module, 3.0).run(jobs, 2, records.append)
    by_name = {r[1]: r for r in records}
    assert sorted(by_name) == ["quick", "slow", "stuck1", "stuck2"] and len(records) == 4
    assert by_name["quick"][0] == "ok" and by_name["slow"][0] == "ok", records
    for name in ("stuck1", "stuck2"):
        assert by_name[name][0] == "failed" and "past its deadline of 3 s" in by_name[name][2], by_name[name]
    assert sorted(log.read_text().split()) == ["quick", "slow", "stuck1", "stuck2"]  # each began once


def test_a_worker_that_dies_runs_its_task_once_more_then_records_it_failed(jobs_module, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A death may be another process's doing (the out-of-memory killer picks its victim): the
    task runs once more in a fresh worker; a second death records it, and costs no other run."""
    (tmp_path / "dying_jobs.py").write_text(
        "import os\nfrom deadline_jobs import Job, work\n\n"
        "def dying(job):\n    if job.name.startswith('die'):\n        os._exit(1)\n    return work(job)\n"
    )
    import dying_jobs

    log = tmp_path / "starts.txt"
    Job = jobs_module.Job
    records: list[tuple] = []
    runner = PoolRunner(dying_jobs.dying, lambda job, error: ("failed", job.name, error), repr, lambda job: math.inf)
    runner.run([Job("die", log=str(log)), Job("a", 1.0, log=str(log)), Job("b", log=str(log))], 2, records.append)
    by_name = {r[1]: r for r in records}
    assert by_name["a"] == ("ok", "a") and by_name["b"] == ("ok", "b") and len(records) == 3
    assert by_name["die"][0] == "failed" and by_name["die"][2].startswith("its worker process died while running it")
    assert sorted(log.read_text().split()) == ["a", "b"]  # (die exits before it logs)


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


def test_a_worker_that_died_while_idle_is_replaced_for_the_next_task(jobs_module) -> None:  # type: ignore[no-untyped-def]
    """A slot's worker killed between two tasks (the out-of-memory killer, a kill by hand): its
    pool's submit raised BrokenProcessPool and the whole batch stopped with a traceback."""
    import os
    import signal

    Job = jobs_module.Job
    records: list[tuple] = []

    def kill_its_worker_once(record: tuple) -> None:
        records.append(record)
        if len(records) == 1:  # the worker that ran it now idles: kill it, and wait till it is gone
            os.kill(record[2], signal.SIGKILL)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                try:
                    os.kill(record[2], 0)
                except ProcessLookupError:
                    break
                time.sleep(0.02)

    runner = PoolRunner(jobs_module.work_pid, lambda job, error: ("failed", job.name, error), repr, lambda job: math.inf)
    runner.run([Job("a"), Job("b"), Job("c")], 1, kill_its_worker_once)
    assert [r[:2] for r in records] == [("ok", "a"), ("ok", "b"), ("ok", "c")]
    assert records[1][2] != records[0][2]  # b ran in a fresh worker


def test_a_run_already_done_is_not_killed_for_its_deadline() -> None:
    """A run that finished in the poll in which its deadline passed (the batch was busy writing
    the last row) had its idle worker killed after the fact: the next task on that slot met a
    dead pool, and the batch stopped."""
    from concurrent.futures import Future
    from types import SimpleNamespace

    from placer.batch_pool import _Slot

    killed: list[str] = []
    worker = SimpleNamespace(is_alive=lambda: True, kill=lambda: killed.append("killed"))
    slot = _Slot(PoolRunner(len, lambda job, error: error, repr, lambda job: 1.0))
    slot.pool = SimpleNamespace(_processes={1: worker})  # type: ignore[assignment]
    slot.starts = SimpleNamespace(empty=lambda: True)
    slot.task, slot.began = "job", time.monotonic() - 5.0  # 5 s against a 1 s deadline
    slot.future = Future()
    slot.future.set_result("done")
    slot.check_deadline()
    assert killed == [] and slot.overdue is None
    slot.future = Future()  # still running: killed
    slot.check_deadline()
    assert killed == ["killed"] and slot.overdue is not None and slot.overdue[1] == 1.0


def test_a_worker_stuck_before_it_begins_its_task_is_stopped_at_the_deadline(jobs_module, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A worker stuck while starting or reading its task (a library spinning on a thread it
    cannot start, as it is imported) never reports its task begun, so no run deadline ran: the
    batch waited for it for good."""
    import placer.batch_pool as batch_pool

    monkeypatch.setattr(batch_pool, "STALL_FLOOR_S", 0.0)  # (60 s: a fresh worker's start-up)
    Job = jobs_module.Job
    records: list[tuple] = []
    started = time.monotonic()
    _runner(jobs_module, 2.0).run([jobs_module.StuckOnArrival("arrival"), Job("a"), Job("b")], 2, records.append)
    assert time.monotonic() - started < 60
    by_name = {r[1]: r for r in records}
    assert by_name["a"] == ("ok", "a") and by_name["b"] == ("ok", "b") and len(records) == 3
    assert by_name["arrival"][0] == "failed"
    assert "had not begun the run" in by_name["arrival"][2] and "past its deadline of 2 s" in by_name["arrival"][2]


def test_a_short_deadline_leaves_a_fresh_worker_its_start_up(jobs_module) -> None:  # type: ignore[no-untyped-def]
    """The stall clock starts when the task is handed over, before the worker exists: a
    --deadline-s shorter than a start-up under load failed healthy runs as stuck."""
    from placer.batch_pool import STALL_FLOOR_S

    assert STALL_FLOOR_S >= 60
    records: list[tuple] = []
    _runner(jobs_module, 0.01).run([jobs_module.Job("a")], 1, records.append)
    assert records == [("ok", "a")] or "past its deadline" in records[0][2]  # never "had not begun"


def _failing_second_start(monkeypatch: pytest.MonkeyPatch, what: str) -> list[Any]:
    """Make the second start of a worker fail as the system's limit on threads or processes
    does (simulated: root cannot meet RLIMIT_NPROC): ``what`` "thread", the pool's manager
    thread's start ("can't start new thread", after its worker process started), or
    "process", the worker process's own start (fork's EAGAIN). The worker processes started
    are listed in the list returned."""
    import concurrent.futures.process as futures_process
    from multiprocessing.context import SpawnProcess

    started: list[Any] = []
    calls = {"thread": 0, "process": 0}
    start_process, start_thread = SpawnProcess.start, futures_process._ExecutorManagerThread.start

    def process_start(self: Any) -> None:
        calls["process"] += 1
        if what == "process" and calls["process"] == 2:
            raise BlockingIOError(errno.EAGAIN, "Resource temporarily unavailable")
        start_process(self)
        started.append(self)

    def thread_start(self: Any) -> None:
        calls["thread"] += 1
        if what == "thread" and calls["thread"] == 2:
            raise RuntimeError("can't start new thread")
        start_thread(self)

    monkeypatch.setattr(SpawnProcess, "start", process_start)
    monkeypatch.setattr(futures_process._ExecutorManagerThread, "start", thread_start)
    return started


@pytest.mark.parametrize(("what", "cause"), [("thread", "can't start new thread"),
                                             ("process", "Resource temporarily unavailable")])
def test_a_worker_the_system_limit_keeps_from_starting_is_one_refusal_and_leaves_no_worker(
    jobs_module, monkeypatch: pytest.MonkeyPatch, what: str, cause: str  # type: ignore[no-untyped-def]
) -> None:
    """A thread or process limit met while starting the second worker: the pool's shutdown
    raised "cannot join thread before it is started" over the real cause (a bug's report, exit
    70), and fork's EAGAIN read as "cannot write the output"; now one Unavailable naming the
    worker, the cause and what to do, and every worker started is stopped."""
    from netlists.errors import Unavailable

    started = _failing_second_start(monkeypatch, what)
    Job = jobs_module.Job
    records: list[tuple] = []
    with pytest.raises(Unavailable) as refused:
        _runner(jobs_module, 60.0).run([Job("a", 30.0), Job("b"), Job("c")], 3, records.append)
    assert str(refused.value) == (f"cannot start worker 2 of 3: the system's limit on threads/processes was met "
                                  f"({cause}); try fewer --jobs")
    assert started and not any(process.is_alive() for process in started)  # (no orphan left running)
    assert records == []


def test_place_suite_tells_a_thread_limit_in_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, design_writer) -> None:  # type: ignore[no-untyped-def]
    """The same at the command line: one line and exit status 2, not "placer: internal error:
    RuntimeError: cannot join thread before it is started"."""
    from typer.testing import CliRunner

    from placer.cli import app

    design_writer(tmp_path / "suite" / "d1", 1, "d1")
    design_writer(tmp_path / "suite" / "d2", 2, "d2")
    started = _failing_second_start(monkeypatch, "thread")
    args = ["place", "--suite", str(tmp_path / "suite"), "--algo", "greedy", "--budget-s", "1", "--jobs", "2",
            "--out", str(tmp_path / "runs")]
    done = CliRunner().invoke(app, args)
    assert done.exit_code == 2, done.output
    assert "internal error" not in done.stderr and "cannot join thread" not in done.stderr, done.stderr
    assert done.stderr.strip().splitlines()[-1] == (
        "placer: error: cannot start worker 2 of 2: the system's limit on threads/processes was met (can't start "
        "new thread); try fewer --jobs")
    assert not any(process.is_alive() for process in started)
