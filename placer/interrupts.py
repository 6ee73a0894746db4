"""``kill`` (SIGTERM) and a closed terminal (SIGHUP) treated like Ctrl-C, so long jobs clean up
and keep what they finished.

Python's default SIGTERM and SIGHUP handling ends the process at once: no ``finally`` block, no
context manager exit. A batch would lose its workers' bookkeeping and a tuning run would leave
its throwaway database server's files behind. Inside :func:`sigterm_as_interrupt`, both raise
``KeyboardInterrupt`` instead, which the long jobs already handle like Ctrl-C. SIGHUP is left
alone where it is ignored (a job started with ``nohup`` keeps running when its terminal closes).
"""

from __future__ import annotations

import atexit
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any


@contextmanager
def sigterm_as_interrupt(pass_kills_on: bool = False) -> Iterator[None]:
    """Within the block, SIGTERM and SIGHUP (unless ignored) raise ``KeyboardInterrupt`` (main
    thread only; elsewhere a no-op, since Python delivers signals to the main thread); the
    previous handlers return afterwards.

    ``pass_kills_on`` (for library calls such as :func:`placer.batch.run_batch`, which handle
    the interrupt and return): a kill that arrived is sent again when the block ends, to the
    caller's handler, unless that one also turns kills into interrupts (the CLI's). A program
    calling the library was otherwise not ended by a kill, and its own handler never ran."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    kills: list[int] = []

    def interrupt(signum: int, frame: object) -> None:
        if signum != RESEND_SIGNAL:  # (a resend is of an interrupt already counted, or of a
            kills.append(signum)  # Ctrl-C: passed on as a kill, it ended the caller with 143)
        raise KeyboardInterrupt

    interrupt.turns_kills_into_interrupts = True  # type: ignore[attr-defined]
    resending = [RESEND_SIGNAL] if RESEND_SIGNAL != signal.SIGTERM else []
    previous = {signum: signal.signal(signum, interrupt) for signum in (*_stopping_signals(), *resending)}
    resender = _LostInterruptResender(sys.unraisablehook)
    sys.unraisablehook = resender.hook
    try:
        yield
    finally:
        owed = resender.close()
        sys.unraisablehook = resender.previous
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        if owed:  # dropped just before the end: to the handler now in place (an outer block's)
            signal.raise_signal(signal.SIGTERM)
        elif pass_kills_on and kills:
            handler = previous[kills[0]]
            if not getattr(handler, "turns_kills_into_interrupts", False) and handler is not signal.SIG_IGN:
                signal.raise_signal(kills[0])  # (the default ends the process, its work cleaned up)


#: The signal a dropped interrupt is sent again with: a real-time one of its own where there are
#: any (queued, never merged with a real SIGTERM, and told apart from a kill: a resent Ctrl-C
#: was passed on as one), else SIGTERM (Windows).
RESEND_SIGNAL: int = (signal.SIGRTMAX - 2) if hasattr(signal, "SIGRTMAX") else signal.SIGTERM


class _LostInterruptResender:
    """An unraisable-exception hook that delivers a dropped interrupt again. A signal landing
    while C code runs a Python callback (numba's first compile calls llvmlite's cache callback)
    raises KeyboardInterrupt inside it, where Python prints 'Exception ignored' and drops it: a
    single kill or Ctrl-C was lost and the run went on to the end. :data:`RESEND_SIGNAL` (whose
    handler in the block is ours; SIGINT may be ignored, as in a job a script started with
    ``&``) is sent again to the main thread from another thread a moment later (sent from the hook, it was
    raised inside the hook and dropped too): a real signal, so that it also breaks a blocking
    call (a sleep, a lock, a child's wait) as the first one would have, raised by the Python
    code then running once the callback has returned (should that be a callback again, the
    hook sends it once more). One not yet sent when the block ends is owed (:meth:`close`)."""

    def __init__(self, previous: Callable[[Any], object]) -> None:
        self.previous = previous
        self._lock = threading.Lock()
        self._open = True
        self._owed = 0
        self._timers: list[threading.Timer] = []

    def hook(self, unraisable: Any) -> None:
        """Schedule a dropped KeyboardInterrupt again; pass anything else on."""
        if not isinstance(unraisable.exc_value, KeyboardInterrupt):
            self.previous(unraisable)
            return
        with self._lock:
            if self._open:
                timer = threading.Timer(0.01, self._send)
                timer.daemon = True  # (the interpreter's shutdown does not wait for it)
                self._owed += 1
                self._timers.append(timer)
                timer.start()

    def _send(self) -> None:
        with self._lock:
            if self._open and self._owed:
                self._owed -= 1
                if hasattr(signal, "pthread_kill"):
                    signal.pthread_kill(threading.main_thread().ident or 0, RESEND_SIGNAL)
                else:  # Windows: the C handler notes it, the main thread runs the Python one
                    signal.raise_signal(RESEND_SIGNAL)

    def close(self) -> bool:
        """The block has ended: no resend from here on. Returns whether one was owed (the
        caller delivers it to the handler it puts back)."""
        with self._lock:
            self._open = False
            for timer in self._timers:
                timer.cancel()
            return self._owed > 0


def finish_on_kill(status: object) -> None:
    """From here on SIGTERM and SIGHUP (unless ignored) end the process at once with the exit
    status of ``status`` (a ``SystemExit`` code: None is 0, a text 1), its output flushed: for
    the console script once its command is done. The interpreter's shutdown (pool and atexit
    clean-up) takes ~0.4 s after a batch, and a kill landing there got Python's default
    handling: exit 143 and a finished batch's buffered summary lost. Not for a caller that
    goes on running (the handlers stay)."""
    code = 0 if status is None else status if isinstance(status, int) else 1
    if threading.current_thread() is threading.main_thread():

        def finished(signum: int, frame: object) -> None:
            for stream in (sys.stdout, sys.stderr):
                try:
                    stream.flush()
                except (OSError, ValueError, RuntimeError):  # closed, or caught mid-write
                    pass
            os._exit(code)

        for signum in _stopping_signals():
            signal.signal(signum, finished)
        _FINISHED.set()


#: Set by :func:`finish_on_kill`: the command is done, only the interpreter's shutdown is left.
_FINISHED = threading.Event()


def _ignore_kills_in_teardown() -> None:
    """The last exit handler (registered when ``placer`` is first imported, before the
    libraries' own; before it, :func:`finish_on_kill`'s handler ends the process with the
    command's status): once a command has finished, SIGTERM and SIGHUP are ignored from here on.
    Python puts back the default handling of every signal it handles before it tears down the
    modules (torch's and numba's take ~0.2 s), so a kill landing there ended a finished command
    with 143 instead of its own status; an ignored signal stays ignored through it."""
    if _FINISHED.is_set() and threading.current_thread() is threading.main_thread():
        for signum in _stopping_signals():
            signal.signal(signum, signal.SIG_IGN)


atexit.register(_ignore_kills_in_teardown)


#: Set by a first interrupt inside :func:`stop_gracefully`: the work under way finishes early
#: with what it has (every :class:`placer.algorithms.base.Deadline` then reads as expired).
_STOP = threading.Event()


def stop_requested() -> bool:
    """Whether a first interrupt asked the work under way to stop early (see :func:`stop_gracefully`)."""
    return _STOP.is_set()


@dataclass
class StopRequest:
    """What :func:`stop_gracefully` yields: ``stopped`` says, once the block has ended, whether
    an interrupt stopped it early."""

    stopped: bool = False


@contextmanager
def stop_gracefully() -> Iterator[StopRequest]:
    """Within the block, a first Ctrl-C, SIGTERM or SIGHUP does not raise: it asks the work to
    stop (:func:`stop_requested`; every deadline expires), so a search ends as at the end of its
    budget and hands back its best placement instead of losing it. A second one raises
    ``KeyboardInterrupt`` (a method that never looks at its deadline). Main thread only;
    elsewhere a no-op. The stop is the process's: searches running in other threads meanwhile
    end early too (their deadlines read it)."""
    request = StopRequest()
    if threading.current_thread() is not threading.main_thread():
        yield request
        return

    def first(signum: int, frame: object) -> None:
        if _STOP.is_set():
            raise KeyboardInterrupt
        _STOP.set()

    # (a SIGINT ignored, as a job started with & from a script has it, stays ignored there,
    # as the batch leaves it: the one-design run stopped early on it)
    interrupt = [signal.SIGINT] if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN else []
    previous = {signum: signal.signal(signum, first) for signum in (*interrupt, *_stopping_signals())}
    try:
        yield request
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        request.stopped = _STOP.is_set()
        _STOP.clear()


def _stopping_signals() -> list[int]:
    """SIGTERM, and SIGHUP unless it is ignored (``nohup``) or absent (Windows)."""
    found: list[int] = [signal.SIGTERM]
    hangup = getattr(signal, "SIGHUP", None)
    if hangup is not None and signal.getsignal(hangup) is not signal.SIG_IGN:
        found.append(hangup)
    return found


@contextmanager
def interrupts_deferred() -> Iterator[None]:
    """Within the block, Ctrl-C (SIGINT), SIGTERM and SIGHUP wait: each is delivered again, to the
    handlers in place before, when the block ends. For short bookkeeping that must not stop
    half done (a result committed but not yet counted). Main thread only; elsewhere a no-op."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []

    def hold(signum: int, frame: object) -> None:
        caught.append(signum)

    previous = {signum: signal.signal(signum, hold) for signum in (signal.SIGINT, *_stopping_signals())}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        for signum in dict.fromkeys(caught):
            signal.raise_signal(signum)


@contextmanager
def handlers_kept() -> Iterator[None]:
    """Within the block, code may install its own SIGINT and SIGTERM handlers (``ray.init``
    makes SIGTERM a ``sys.exit``); the handlers in place before are put back when it ends.
    Main thread only; elsewhere a no-op."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            if handler is not None:  # (None: set from outside Python, cannot be restored)
                signal.signal(signum, handler)


def caused_by_interrupt(error: BaseException) -> bool:
    """Whether ``error`` is, or was raised because of, a ``KeyboardInterrupt``: numba kernels
    turn a Ctrl-C that lands inside them into a ``SystemError`` caused by it, which a handler
    that records failures must not swallow. (``learned_systems`` keeps its own copy: it may not
    import ``placer``.)"""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, KeyboardInterrupt):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False
