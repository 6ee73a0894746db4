"""A batch's tasks on spawned local worker processes (``placer place --suite --jobs J``, J > 1).

Each of the J worker slots is a single-worker pool of its own, reused task after task (a
worker keeps its loaded designs and compiled kernels). Each worker starts with one math thread
per library (the workers are the parallelism) and exits when the batch process is gone.

A worker that dies (killed, out of memory, a crash in compiled code) costs only its slot's task,
which runs once more in a fresh worker and is recorded as failed if that one dies too (a worker
that dies before it begins its task, or while idle between tasks, is replaced and the task
handed to the fresh one, up to three times).

A task still running in its worker past its deadline (by default twice its budget plus
:data:`DEADLINE_MARGIN_S`, counted from the moment the worker began it, which it reports) has
its worker killed and is recorded as failed, naming the deadline: a method or a library stuck
for good no longer holds the whole batch for good, and the other slots' runs go on. A worker
that has not begun its task within the same deadline of being handed it, and at least
:data:`STALL_FLOOR_S` (stuck while starting, before it can report), is killed and the task
recorded as failed too.

Generic over the task and its record: the batch passes the work function (picklable, run in
the workers), the record of a failure and each task's deadline.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Hashable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager, nullcontext
from typing import Any, Generic, Protocol, TypeVar

from netlists.errors import start_refusals
from placer.warning_lines import install_one_line_warnings, one_line_warnings_installed


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

#: Times a task is handed to a fresh worker again when its worker died before beginning it.
_STARTUP_DEATHS = 3

#: Seconds a worker terminated after its pool failed to start is given to exit before a SIGKILL.
_REAP_S = 5.0

#: Fewest seconds a worker may take to begin a task it was handed before it counts as stuck
#: (a fresh worker starts and imports first: a short --deadline-s must not cut that short).
STALL_FLOOR_S = 60.0


def default_deadline_s(budget_s: float) -> float:
    """The seconds a run of budget ``budget_s`` may take in its worker: twice its budget
    (methods overrun a short budget on a loaded machine) plus :data:`DEADLINE_MARGIN_S`."""
    return 2.0 * float(budget_s) + DEADLINE_MARGIN_S


def past_deadline_text(seconds: float, deadline: float) -> str:
    """The error recorded for a run whose worker was killed ``seconds`` after it began the run,
    past its ``deadline`` (the same words for local workers and Ray's)."""
    return (f"stopped after {seconds:.1f} s in its worker, past its deadline of {deadline:g} s (a method or "
            "library stuck?): its worker was killed")  # fmt: skip


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


def worker_init(batch_pid: int, starts: Any = None, one_line_warnings: bool = False) -> None:
    """One math thread per worker (numba's, read when it first compiles; the others are set
    before the workers start: :func:`one_math_thread_for_workers`). A worker exits when the
    batch process ``batch_pid`` is gone (a ``kill -9`` leaves no worker running on; the pid is
    given, not read with getppid() here: a batch killed before this ran left the worker's new
    parent there, and it ran on). ``starts``: the queue the worker reports each task it begins
    on (:func:`_run_reporting`). ``one_line_warnings``: show the project's warnings as one line
    each, as the batch's own process does (the CLI's; :mod:`placer.warning_lines`).

    A worker ignores SIGINT: a terminal's Ctrl-C reaches the whole process group, and a worker
    idle in its task queue printed multiprocessing's KeyboardInterrupt traceback before the
    batch's "interrupted" line; the batch's own process acts on the Ctrl-C and stops its
    workers itself (:func:`stop_workers`)."""
    global _STARTS
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _STARTS = starts
    if one_line_warnings:
        install_one_line_warnings()
    for var in WORKER_MATH_THREADS:
        os.environ.setdefault(var, "1")
    threading.Thread(target=_exit_with_parent, args=(batch_pid,), daemon=True).start()


def _exit_with_parent(parent: int, poll_s: float = 0.5) -> None:
    """Poll until ``parent`` is no longer this process's parent, then exit at once."""
    while os.getppid() == parent:
        time.sleep(poll_s)
    os._exit(1)


def _run_reporting(work: Callable[[TaskT], RecordT], task: TaskT) -> RecordT:
    """In a worker: say that this worker begins ``task`` (written to the pipe at once, no
    feeder thread to wait for), then run it."""
    if _STARTS is not None:
        _STARTS.put(task.key)
    return work(task)


def stop_workers(pool: ProcessPoolExecutor, kill: bool = False) -> None:
    """Terminate the pool's worker processes (after Ctrl-C; they may be mid-placement), or
    ``kill`` them (SIGKILL: one stuck in a library may never act on SIGTERM)."""
    processes = getattr(pool, "_processes", None) or {}
    for process in list(processes.values()):
        if process.is_alive() and kill:
            process.kill()
        elif process.is_alive():
            process.terminate()


class _Slot:
    """One worker slot: a single-worker pool of its own, made when the slot gets a task and
    made again after its worker died or was killed, so that a death or a deadline's kill costs
    only the task that slot was running (in one pool of J workers it broke the pool, and every
    other run under way was lost and run again from its start)."""

    def __init__(self, runner: PoolRunner[Any, Any], number: int = 1, of: int = 1) -> None:
        self.runner = runner
        self.number, self.of = number, of  # its place among the batch's slots (for messages)
        self.pool: ProcessPoolExecutor | None = None
        self.starts: Any = None  # the queue its worker reports the task it begins on
        self.task: Any = None
        self.future: Future | None = None
        self.began: float | None = None  # when its worker said it began the task (monotonic)
        self.handed: float = 0.0  # when the task was handed to the worker (monotonic)
        self.overdue: tuple[float, float] | None = None  # (seconds run, deadline) once killed
        self.stalled: tuple[float, float] | None = None  # (seconds waited, deadline) once killed

    def submit(self, task: Any) -> Future:
        """Hand ``task`` to this slot's worker, starting one where there is none or where the
        last one died while idle (killed by hand or by the out-of-memory killer: its pool's
        submit raised, and the whole batch stopped)."""
        self.task, self.began, self.overdue, self.stalled = task, None, None, None
        self.handed = time.monotonic()
        for _ in range(2):
            pool = self.pool
            fresh = pool is None
            if pool is None:
                self.starts = self.runner.context.SimpleQueue()
                pool = self.pool = ProcessPoolExecutor(
                    max_workers=1, mp_context=self.runner.context, initializer=worker_init,
                    initargs=(os.getpid(), self.starts, one_line_warnings_installed()),
                )  # fmt: skip
            with start_refusals(f"worker {self.number} of {self.of}", "try fewer --jobs"):
                try:  # (a spawn pool starts its worker at its first submit)
                    with one_math_thread_for_workers() if fresh else nullcontext():
                        self.future = pool.submit(_run_reporting, self.runner.work, task)
                    return self.future
                except BrokenProcessPool:  # its worker died since the last task: a fresh one
                    self.close()
                except BaseException:  # a start that failed part-way: no worker left behind
                    self.close(stop=True)
                    raise
        raise BrokenProcessPool("a fresh worker pool refused its first task")

    def check_deadline(self) -> None:
        """Note when the worker began its task, and kill it once the task has run past its
        deadline."""
        if self.starts is None or self.task is None:
            return
        while not self.starts.empty():
            self.starts.get()
            self.began = time.monotonic()
        if self.overdue is not None or self.stalled is not None or self.future is None or self.future.done():
            return  # (a task done in time is not killed after it, in the poll that reads it)
        now, deadline = time.monotonic(), self.runner.deadline_s(self.task)
        if self.began is not None and now - self.began > deadline:
            self.overdue = (now - self.began, deadline)
        elif self.began is None and now - self.handed > max(deadline, STALL_FLOOR_S):
            # never begun: a worker stuck while starting or while reading its task (a library
            # spinning on a thread it cannot start, as it is imported), which no report ends
            self.stalled = (now - self.handed, max(deadline, STALL_FLOOR_S))
        else:
            return
        if self.pool is not None:
            stop_workers(self.pool, kill=True)

    def finished(self, worker_died: bool) -> None:
        """The slot's task is done; a pool whose worker died is replaced at the next task."""
        self.task = self.future = None
        if worker_died:
            self.close()

    def close(self, stop: bool = False) -> None:
        """Shut the slot's pool down (terminating its worker first with ``stop``). A pool whose
        start failed part-way (its worker process started, its manager thread not: the
        system's thread limit met) has its worker stopped and reaped here, without the join of
        that thread, which raised "cannot join thread before it is started" over the failure."""
        pool = self.pool
        if pool is None:
            return
        if stop:
            if self.future is not None:
                self.future.cancel()
            stop_workers(pool)
        manager = getattr(pool, "_executor_manager_thread", None)
        if manager is None or manager.ident is not None:  # none made, or one that started
            pool.shutdown(wait=True, cancel_futures=True)
        else:
            processes = list((getattr(pool, "_processes", None) or {}).values())
            stop_workers(pool)
            pool.shutdown(wait=False, cancel_futures=True)
            for process in processes:
                process.join(_REAP_S)
                if process.is_alive():  # (one stuck while starting may never act on SIGTERM)
                    process.kill()
                    process.join()
        self.pool = self.starts = None


class PoolRunner(Generic[TaskT, RecordT]):
    """Runs tasks on spawned worker processes (see the module's docstring), one single-worker
    pool per slot.

    ``work(task) -> record`` runs in the workers (a module-level function: it is pickled);
    ``failed(task, error) -> record`` makes the record of a task that got no record of its own;
    ``describe(exception) -> str`` words an error that came back instead of a record (one that
    did not unpickle, say); ``deadline_s(task)`` is the seconds a task may run in its worker,
    counted from when the worker began it, and the seconds (at least :data:`STALL_FLOOR_S`) a
    worker may take to begin it once handed it (``math.inf``: no limit).
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
        """Run ``tasks`` on ``jobs`` workers, handing each record to ``record_done`` as it comes.
        A task whose worker dies under it runs once more in a fresh worker (the death may have
        been another process's doing: the kernel's out-of-memory killer picks its victim) and is
        recorded as failed if its worker dies again; one killed for its deadline is recorded as
        failed at once."""
        todo: deque[TaskT] = deque(tasks)
        deaths: dict[Hashable, list[int]] = {}  # per task: [deaths under it, deaths before it began]
        count = max(1, min(jobs, len(todo)))
        slots = [_Slot(self, number, count) for number in range(1, count + 1)]
        running: dict[Future, _Slot] = {}
        try:
            while todo or running:
                for slot in slots:
                    if slot.task is None and todo:
                        running[slot.submit(todo.popleft())] = slot
                finished, _ = wait(running, timeout=_POLL_S, return_when=FIRST_COMPLETED)
                for slot in running.values():
                    slot.check_deadline()
                for future in finished:
                    slot = running.pop(future)
                    task = slot.task
                    record = self._record(slot, future, deaths.setdefault(task.key, [0, 0]))
                    killed = slot.overdue is not None or slot.stalled is not None
                    slot.finished(worker_died=isinstance(future.exception(), BrokenProcessPool) or killed)
                    if record is None:
                        todo.appendleft(task)  # once more, in a fresh worker
                    else:
                        record_done(record)
        except BaseException:
            for slot in slots:
                slot.close(stop=True)
            raise
        finally:
            for slot in slots:
                slot.close()

    def _record(self, slot: _Slot, future: Future, deaths: list[int]) -> RecordT | None:
        """The record of ``slot``'s finished task; None when its worker died under it for the
        first time (run it again), or before it said it began the task (a worker that died while
        starting up or idle: run it again, up to :data:`_STARTUP_DEATHS` times). ``deaths``
        counts the task's deaths so far, under it and before it began."""
        task = slot.task
        try:
            return future.result()
        except BrokenProcessPool as exc:
            if slot.overdue is not None:
                return self.failed(task, past_deadline_text(*slot.overdue))
            if slot.stalled is not None:
                seconds, deadline = slot.stalled
                return self.failed(task, f"its worker had not begun the run {seconds:.1f} s after it was handed "
                                         f"it, past its deadline of {deadline:g} s (stuck while starting, e.g. a "
                                         "library that cannot start its threads?): its worker was killed")  # fmt: skip
            if slot.began is None:
                deaths[1] += 1
                if deaths[1] <= _STARTUP_DEATHS:
                    return None
                return self.failed(task, f"its worker process died {_STARTUP_DEATHS + 1} times before it "
                                         f"could begin the run (killed, out of memory or a crash): {exc}")  # fmt: skip
            deaths[0] += 1
            if deaths[0] > 1:
                return self.failed(task, "its worker process died while running it (killed, out of "
                                         f"memory or a crash): {exc}")  # fmt: skip
            return None
        except Exception as exc:  # noqa: BLE001 - e.g. a result that does not unpickle
            return self.failed(task, self.describe(exc))
