"""Trial results and measurement windows: a window lasts its duration and holds at least its minimum
of steps; a Ctrl-C is never stored as a failed trial."""

from __future__ import annotations

import time

import pytest

from learned_systems.config.sqlite_backend import SQLiteBackend
from learned_systems.config.trial import TrialResult, caused_by_interrupt, timed_loop


def test_timed_loop_runs_until_both_duration_and_min_steps():
    calls = []

    def step() -> int:
        calls.append(1)
        return 3

    operations, seconds = timed_loop(step, 0.0, min_steps=7)
    assert len(calls) == 7 and operations == 21 and seconds >= 0.0
    calls.clear()
    operations, seconds = timed_loop(step, 0.02, min_steps=1)
    assert seconds >= 0.02 and operations == 3 * len(calls)


class _SlowWorkload:
    """Transactions of ~5 ms, counted: a stand-in for an analytical query mix."""

    name = "slow"

    def __init__(self) -> None:
        self.transactions = 0

    def template_key(self) -> str:
        return "slow"

    def setup(self, conn, seed):
        conn.execute("CREATE TABLE t (x)")

    def prepare(self, seed):
        self.transactions = 0

    def transaction(self, conn):
        time.sleep(0.005)
        self.transactions += 1
        return 1


def test_sqlite_windows_hold_at_least_min_transactions(tmp_path):
    workload = _SlowWorkload()
    backend = SQLiteBackend(
        workload, duration_s=0.001, repeats=3, template_dir=tmp_path, min_transactions=10
    )
    result = backend.run_trial({})
    assert result.ok, result.error
    assert workload.transactions >= 3 * 10 + 2  # three windows of ten, a warm-up of two
    assert max(result.throughputs) < 1 / 0.005  # every window timed its whole transactions


def test_min_transactions_must_be_positive(tmp_path):
    with pytest.raises(ValueError, match="min_transactions"):
        SQLiteBackend(_SlowWorkload(), template_dir=tmp_path, min_transactions=0)


def _numba_style_interrupt() -> SystemError:
    """What a Ctrl-C inside a numba kernel looks like to the caller."""
    try:
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt as interrupt:
            raise SystemError("CPUDispatcher returned a result with an exception set") from interrupt
    except SystemError as error:
        return error


def test_a_ctrl_c_is_never_recorded_as_a_failed_trial() -> None:
    assert caused_by_interrupt(_numba_style_interrupt())
    with pytest.raises(KeyboardInterrupt):
        TrialResult.failed("index", "w", "durable", {}, _numba_style_interrupt())
    plain = TrialResult.failed("index", "w", "durable", {}, SystemError("a real bug"))
    assert not plain.ok and plain.error == "SystemError: a real bug"


def test_timed_loop_times_its_finish_once_after_the_last_step():
    order: list[str] = []

    def step() -> int:
        order.append("step")
        return 1

    def finish() -> None:
        order.append("finish")
        time.sleep(0.03)

    operations, seconds = timed_loop(step, 0.0, min_steps=2, finish=finish)
    assert order == ["step", "step", "finish"] and operations == 2
    assert seconds >= 0.03  # the deferred work counts against the window


def test_numbas_errors_are_programming_errors_only_once_numba_is_loaded() -> None:
    """numba's errors join the errors a trial raises, named without importing numba: a process
    that never loaded numba (a SQLite run) does not load it to handle a trial's error."""
    import subprocess
    import sys

    from numba.core.errors import LoweringError, TypingError, UnsupportedBytecodeError

    from learned_systems.config.trial import PROGRAMMING_ERRORS, programming_errors

    errors = programming_errors()
    assert set(PROGRAMMING_ERRORS) < set(errors)
    assert all(issubclass(kind, errors) for kind in (TypingError, LoweringError, UnsupportedBytecodeError))
    assert not issubclass(MemoryError, errors) and not issubclass(ValueError, errors)  # a configuration's
    probe = ("import sys; from learned_systems.config.trial import PROGRAMMING_ERRORS, programming_errors; "
             "assert programming_errors() == PROGRAMMING_ERRORS; assert 'numba' not in sys.modules")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
