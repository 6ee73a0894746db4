"""A batch's tasks on spawned local worker processes (``placer place --suite --jobs J``, J > 1).

Each worker starts with one math thread per library (the workers are the parallelism) and exits
when the batch process is gone. A worker that dies (killed, out of memory, a crash in compiled
code) breaks its pool: the tasks it had not started go to a fresh pool, and those that may have
been under way run again each in a pool of its own, so that only a task that kills its worker
again is recorded as failed. A task still running in its worker past its deadline (by default
twice its budget plus :data:`DEADLINE_MARGIN_S`, counted from the moment the worker began it,
which it reports) has its worker killed and is recorded as failed, naming the deadline: a
method or a library stuck for good no longer holds the whole batch for good.

Generic over the task and its record: the batch passes the work function (picklable, run in
the workers), the record of a failure and each task's deadline.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Hashable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from typing import Any, Protocol, TypeVar


class _Task(Protocol):
    @property
    def key(self) -> Hashable: ...


TaskT = TypeVar("TaskT", bound=_Task)
RecordT = TypeVar("RecordT")

#: Seconds a run may take in its worker beyond twice its budget before the worker is killed:
#: room for loading the design, compiling the kernels on a cold cache (about a minute on a
#: busy machine), the evaluation and writing the result.
DEADLINE_MARGIN_S = 300.0

#: How often the batch looks at its workers (finished tasks, started tasks, deadlines).
_POLL_S = 0.2


def default_deadline_s(budget_s: float) -> float:
    """The seconds a run of budget ``budget_s`` may take in its worker: twice its budget
    (methods overrun a short budget on a loaded machine) plus :data:`DEADLINE_MARGIN_S`."""
    return 2.0 * float(budget_s) + DEADLINE_MARGIN_S


def usable_cpus() -> int:
    """The CPUs this process may run on (its affinity: a Slurm job's or a cpuset's share, not
    the machine's count, which gave each worker a fraction of a core and its wall-clock budget
    less search)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


#: The math libraries' thread counts a batch worker runs with (one each: the workers are the
#: parallelism), unless the user set them.
WORKER_MATH_THREADS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMBA_NUM_THREADS")


@contextmanager
def one_math_thread_for_workers() -> Iterator[None]:
    """Within the block (around the submits that start a spawn pool's workers, not longer: the
    batch's own process and its caller's threads see the variables meanwhile), the environment
    the spawned workers start with asks the math libraries for one thread each. Set in the
    worker's own initializer it came too late: the worker had imported numpy (its OpenBLAS
    starting a thread per core) while unpickling its first task, so J workers ran J x cores
    threads, and under a process limit (a container's pids cap) a worker spun on a thread it
    could not start while the batch waited for it for good."""
    added = [name for name in WORKER_MATH_THREADS if name not in os.environ]
    for name in added:
        os.environ[name] = "1"
    try:
        yield
    finally:
        for name in added:
            os.environ.pop(name, None)


#: In a worker: where it reports the tasks it begins (set by :func:`worker_init`).
_STARTS: Any = None


def worker_init(batch_pid: int, starts: Any = None) -> None:
    """One math thread per worker (numba's, read when it first compiles; the others are set
    before the workers start: :func:`one_math_thread_for_workers`). A worker exits when the
    batch process ``batch_pid`` is gone (a ``kill -9`` leaves no worker running on; the pid is
    given, not read with getppid() here: a batch killed before this ran left the worker's new
    parent there, and it ran on). ``starts``: the queue the worker reports each task it begins
    on (:func:`_run_reporting`)."""
    global _STARTS
    _STARTS = starts
    for var in WORKER_MATH_THREADS:
        os.environ.setdefault(var, "1")
    threading.Thread(target=_exit_with_parent, args=(batch_pid,), daemon=True).start()


def _exit_with_parent(parent: int, poll_s: float = 0.5) -> None:
    """Poll until ``parent`` is no longer this process's parent, then exit at once."""
    while os.getppid() == parent:
        time.sleep(poll_s)
    os._exit(1)


def _run_reporting(work: Callable[[TaskT], RecordT], task: TaskT) -> RecordT:
    """In a worker: say which task this worker begins (written to the pipe at once, no feeder
    thread to wait for), then run it."""
    if _STARTS is not None:
        _STARTS.put((task.key, os.getpid()))
    return work(task)


def stop_workers(pool: ProcessPoolExecutor) -> None:
    """Terminate the pool's worker processes (after Ctrl-C; they may be mid-placement)."""
    processes = getattr(pool, "_processes", None) or {}
    for process in list(processes.values()):
        if process.is_alive():
            process.terminate()


class _Deadlines:
    """The tasks a pool's workers have begun (as they report it) and the ones whose worker
    was killed for running past the task's deadline."""

    def __init__(self, context: Any, deadline_s: Callable[[Any], float]) -> None:
        self.queue = context.SimpleQueue()
        self.deadline_s = deadline_s
        self.began: dict[Hashable, tuple[int, float]] = {}  # key -> (worker pid, when seen)
        self.overdue: dict[Hashable, tuple[float, float]] = {}  # key -> (seconds run, deadline)

    def check(self, pool: ProcessPoolExecutor, running: dict[Hashable, Any]) -> None:
        """Read the workers' reports, and kill the worker of each task in ``running`` (by key)
        that has run past its deadline."""
        while not self.queue.empty():
            key, pid = self.queue.get()
            self.began[key] = (pid, time.monotonic())
        now = time.monotonic()
        for key, (pid, since) in self.began.items():
            if key not in running or key in self.overdue:
                continue
            deadline = self.deadline_s(running[key])
            if now - since > deadline:
                self.overdue[key] = (now - since, deadline)
                process = (getattr(pool, "_processes", None) or {}).get(pid)
                if process is not None and process.is_alive():
                    process.kill()

    def failure(self, key: Hashable) -> str | None:
        """The error of a task whose worker was killed for its deadline (None otherwise)."""
        if key not in self.overdue:
            return None
        seconds, deadline = self.overdue[key]
        return (f"stopped after {seconds:.0f} s in its worker, past its deadline of {deadline:.0f} s "
                "(a method or library stuck?): its worker was killed")  # fmt: skip


class PoolRunner:
    """Runs tasks on spawned worker processes (see the module's docstring).

    ``work(task) -> record`` runs in the workers (a module-level function: it is pickled);
    ``failed(task, error) -> record`` makes the record of a task that got no record of its own;
    ``describe(exception) -> str`` words an error that came back instead of a record (one that
    did not unpickle, say); ``deadline_s(task)`` is the seconds a task may run in its worker
    (``math.inf``: no limit).
    """

    def __init__(
        self,
        work: Callable[[TaskT], RecordT],
        failed: Callable[[TaskT, str], RecordT],
        describe: Callable[[BaseException], str],
        deadline_s: Callable[[TaskT], float],
    ) -> None:
        self.work = work
        self.failed = failed
        self.describe = describe
        self.deadline_s = deadline_s
        self.context = multiprocessing.get_context("spawn")

    def run(self, tasks: Sequence[TaskT], jobs: int, record_done: Callable[[RecordT], None]) -> None:
        """Run ``tasks`` on ``jobs`` workers, handing each record to ``record_done`` as it comes."""
        queue: list[TaskT] = list(tasks)
        alone: list[TaskT] = []
        lost_once: set[Hashable] = set()  # lost without being seen under way (a very quick death)
        while queue or alone:
            if alone:
                self._run_alone(alone, jobs, record_done)
                alone = []
                continue
            under_way, not_started = self._pool_round(queue, jobs, record_done)
            again = [t for t in not_started if t.key in lost_once]  # lost twice: run alone
            lost_once.update(t.key for t in not_started)
            alone = under_way + again
            queue = [t for t in not_started if t.key not in {a.key for a in again}]

    def _pool(self, workers: int, deadlines: _Deadlines) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            max_workers=workers, mp_context=self.context, initializer=worker_init,
            initargs=(os.getpid(), deadlines.queue),
        )  # fmt: skip

    def _finished(self, task: TaskT, future: Future, deadlines: _Deadlines, alone: bool) -> RecordT | None:
        """The record of a finished future. When its pool broke under it: a failed record if
        its worker was killed for the task's deadline or the task ran ``alone`` (its worker
        died running it), else None (the task may not have begun: run it again)."""
        try:
            return future.result()
        except BrokenProcessPool as exc:
            overdue = deadlines.failure(task.key)
            if overdue is not None:
                return self.failed(task, overdue)
            if alone:
                return self.failed(task, "its worker process died while running it (killed, out of "
                                         f"memory or a crash): {exc}")  # fmt: skip
            return None
        except Exception as exc:  # noqa: BLE001 - e.g. a result that does not unpickle
            return self.failed(task, self.describe(exc))

    def _pool_round(
        self, tasks: Sequence[TaskT], jobs: int, record_done: Callable[[RecordT], None]
    ) -> tuple[list[TaskT], list[TaskT]]:
        """One pool over ``tasks``; when it breaks, the tasks it lost: ``(under way, not
        started)`` (under way: the pool had queued it for a worker, as polled every 0.2 s; that
        includes up to one task per worker not yet begun, which then only runs alone)."""
        deadlines = _Deadlines(self.context, self.deadline_s)
        pool = self._pool(min(jobs, len(tasks)), deadlines)
        pending: dict[Future, TaskT] = {}
        started: set[Future] = set()
        under_way: list[TaskT] = []
        not_started: list[TaskT] = []
        try:
            with one_math_thread_for_workers():  # (a spawn pool starts its workers at the submits)
                for task in tasks:
                    pending[pool.submit(_run_reporting, self.work, task)] = task
            while pending:
                finished, _ = wait(pending, timeout=_POLL_S, return_when=FIRST_COMPLETED)
                started.update(f for f in pending if f.running())
                deadlines.check(pool, {t.key: t for t in pending.values()})
                for future in finished:
                    task = pending.pop(future)
                    record = self._finished(task, future, deadlines, alone=False)
                    if record is None:
                        (under_way if future in started else not_started).append(task)
                        continue
                    record_done(record)
        except BaseException:
            for future in pending:
                future.cancel()
            stop_workers(pool)
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        return under_way, not_started

    def _run_alone(self, tasks: Sequence[TaskT], jobs: int, record_done: Callable[[RecordT], None]) -> None:
        """Run each task in a single-worker pool of its own, ``jobs`` at once: a worker that dies
        then names its task, which is recorded as failed with the pool's error."""
        todo = list(tasks)
        running: dict[Future, tuple[TaskT, ProcessPoolExecutor, _Deadlines]] = {}
        try:
            while todo or running:
                while todo and len(running) < max(jobs, 1):
                    task = todo.pop(0)
                    deadlines = _Deadlines(self.context, self.deadline_s)
                    pool = self._pool(1, deadlines)
                    with one_math_thread_for_workers():  # (its worker starts here)
                        running[pool.submit(_run_reporting, self.work, task)] = (task, pool, deadlines)
                finished, _ = wait(running, timeout=_POLL_S, return_when=FIRST_COMPLETED)
                for task, pool, deadlines in running.values():
                    deadlines.check(pool, {task.key: task})
                for future in finished:
                    task, pool, deadlines = running.pop(future)
                    record = self._finished(task, future, deadlines, alone=True)
                    pool.shutdown(wait=True)
                    assert record is not None  # (alone, a broken pool is its task's failure)
                    record_done(record)
        except BaseException:
            for future, (_, pool, _) in running.items():
                future.cancel()
                stop_workers(pool)
                pool.shutdown(wait=True, cancel_futures=True)
            raise
