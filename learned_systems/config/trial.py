"""Trial results and repeated measurement shared by every backend."""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from learned_systems.errors import error_kind

#: Errors that are bugs in the code running a trial, never a property of the configuration it
#: measures: the trial handlers re-raise them (with numba's own: :func:`programming_errors`).
#: Recorded as failed trials they steered the tuner away from what the bug hit (a TypeError
#: building every RMI left a PGM as the best index) and the run still exited 0, the cause only
#: in ``results.sqlite``.
PROGRAMMING_ERRORS: tuple[type[Exception], ...] = (
    TypeError,
    AttributeError,
    KeyError,
    IndexError,
    NameError,
    AssertionError,
)

#: numba's own errors (in ``numba.core.errors``) that are bugs in a compiled kernel, never a
#: configuration's: a typing or lowering failure (``NumbaError``: TypingError, LoweringError, ...)
#: and bytecode numba cannot read. Looked up by name, so numba is never imported for them.
NUMBA_PROGRAMMING_ERRORS = ("NumbaError", "UnsupportedBytecodeError")


def programming_errors() -> tuple[type[Exception], ...]:
    """:data:`PROGRAMMING_ERRORS`, and numba's :data:`NUMBA_PROGRAMMING_ERRORS` where numba is
    loaded (a kernel that does not compile raises them, not a TypeError: an index kind's bug was
    recorded as a failed configuration). Where numba is not loaded no kernel ran, so none can
    have been raised, and numba is not imported to name them."""
    errors = sys.modules.get("numba.core.errors")
    if errors is None:
        return PROGRAMMING_ERRORS
    return PROGRAMMING_ERRORS + tuple(
        getattr(errors, name) for name in NUMBA_PROGRAMMING_ERRORS if hasattr(errors, name)
    )


class WrongAnswerError(AssertionError):
    """A measured system answered wrongly (an index's lookups differ from ``searchsorted``'s):
    a correctness bug of ours, raised (one of :data:`PROGRAMMING_ERRORS`), not a failed
    trial that would only steer the tuner away from the configuration that showed it."""


@dataclass
class TrialResult:
    """One measured configuration. ``ok`` is False for a failed trial, with ``error`` saying why;
    ``space`` names the knob space the configuration came from: a database's "durable" or
    "unsafe" (:attr:`KnobSpace.name`), the index's "safe" (every index setting is)."""

    system: str
    workload: str
    space: str
    config: dict[str, Any]
    ok: bool
    throughput_mean: float = 0.0
    throughput_std: float = 0.0
    throughputs: list[float] = field(default_factory=list)
    unit: str = "ops/s"
    error: str | None = None
    wall_seconds: float = 0.0
    metrics: dict[str, Any] = field(default_factory=dict)  # system-specific extras

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def failed(
        cls,
        system: str,
        workload: str,
        space: str,
        config: dict,
        error: BaseException | str,
        wall_seconds: float = 0.0,
    ) -> TrialResult:
        """The result of a trial that raised ``error``; a Ctrl-C is re-raised, never recorded.

        Compiled kernels (numba) turn a Ctrl-C that lands inside them into a ``SystemError``
        whose cause is the ``KeyboardInterrupt``: stored as a failed trial it would be lost
        work that a resumed run never retries, and the run would not stop.
        """
        if not isinstance(error, str) and caused_by_interrupt(error):
            raise KeyboardInterrupt from error
        message = error if isinstance(error, str) else f"{error_kind(error)}: {error}"
        return cls(
            system,
            workload,
            space,
            dict(config),
            ok=False,
            error=message.strip()[:2000],
            wall_seconds=wall_seconds,
        )


def caused_by_interrupt(error: BaseException) -> bool:
    """Whether ``error`` is, or was raised because of, a ``KeyboardInterrupt``."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, KeyboardInterrupt):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def mean_and_spread(samples: list[float]) -> tuple[float, float]:
    """Mean and sample standard deviation of repeated measurements (spread 0 for one sample)."""
    spread = statistics.stdev(samples) if len(samples) > 1 else 0.0
    return statistics.fmean(samples), spread


def repeat_throughput(
    run_once: Callable[[], tuple[int, float]], repeats: int
) -> tuple[float, float, list[float]]:
    """Run ``run_once`` (returns operations and seconds) ``repeats`` times: mean, spread, samples."""
    samples = []
    for _ in range(repeats):
        operations, seconds = run_once()
        samples.append(operations / seconds if seconds > 0 else 0.0)
    mean, spread = mean_and_spread(samples)
    return mean, spread, samples


def timed_loop(
    step: Callable[[], int],
    duration_s: float,
    min_steps: int = 1,
    finish: Callable[[], object] | None = None,
) -> tuple[int, float]:
    """Call ``step`` (returns operations done) until ``duration_s`` has passed and it ran at
    least ``min_steps`` times, then ``finish`` (timed too); operations and seconds.

    ``min_steps`` keeps a window of long transactions (an analytical query mix at ~25
    transactions/s) from holding only the two or three whose random ranges then decide the
    figure: a handful of steps per window measured the query mix, not the configuration.
    ``finish`` does the work the window's transactions put off (SQLite: the WAL checkpoint),
    so a configuration that only defers work is not measured as faster.
    """
    operations = 0
    steps = 0
    started = time.perf_counter()
    while True:
        operations += step()
        steps += 1
        elapsed = time.perf_counter() - started  # compared as elapsed: a rounded deadline
        if elapsed >= duration_s and steps >= min_steps:  # could end a window a hair short
            if finish is not None:
                finish()
                elapsed = time.perf_counter() - started
            return operations, elapsed
