"""The errors every package raises for the user to read (:class:`InputError`,
:class:`Unavailable`), the netlist layer's error for bad input (file, line, what was expected)
and its warning for input that reads but looks damaged.

The root classes live here, in the lowest layer, which imports nothing of ours, so that
``placer``, ``envs`` and ``learned_systems`` (:mod:`learned_systems.errors`) raise the same
ones: a caller, and the CLI, tell a refusal meant for the user from a bug of ours by one test,
``isinstance(error, REPORTED_ERRORS)``. Beside them, two refusals every package words alike:
a thread or process that the system's limit kept from starting (:func:`start_refused`) and a
stored path holding a NUL byte (:func:`refuse_nul_byte`)."""

from __future__ import annotations

import errno
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path


class InputError(ValueError):
    """The caller's input is refused: a message for the user, not a bug.

    A file, an argument, an option or a stored run that does not fit what was asked, said in a
    message that names what was expected. A ValueError (as these refusals always were), so
    ``except ValueError`` still catches it; but a plain ValueError (numpy refusing to broadcast
    two arrays of ours) is a bug, and the CLI reports it as one, with its traceback.
    """


class Unavailable(RuntimeError):
    """This machine or its environment cannot do what was asked, reported deliberately: a
    program that is not installed, a folder another run holds, a server that did not start.
    A message for the user, not a bug; a RuntimeError, as these refusals always were."""


def start_refused(error: BaseException, what: str, advice: str) -> Unavailable | None:
    """The refusal to raise (``from error``) when starting ``what`` (``"worker 2 of 4"``) failed
    with ``error`` because the system's limit on threads or processes was met: Python's
    RuntimeError "can't start new thread", or an OSError EAGAIN from fork or spawn (a
    container's pids cap, RLIMIT_NPROC). ``advice`` says what to ask for instead (``"try fewer
    --jobs"``). None for any other error, to raise as it is. Such a failure read as a bug of
    ours (exit 70), or as "cannot write the output: Resource temporarily unavailable"."""
    if isinstance(error, RuntimeError) and "can't start new thread" in str(error):
        cause = "can't start new thread"
    elif isinstance(error, OSError) and error.errno == errno.EAGAIN:
        cause = error.strerror or str(error)
    else:
        return None
    return Unavailable(f"cannot start {what}: the system's limit on threads/processes was met ({cause}); {advice}")


@contextmanager
def start_refusals(what: str, advice: str) -> Iterator[None]:
    """Within the block, a failure :func:`start_refused` recognises (the system's limit on
    threads or processes met starting ``what``) is raised as its Unavailable, ``from`` the
    failure; any other error passes as it is."""
    try:
        yield
    except BaseException as error:
        refusal = start_refused(error, what, advice)
        if refusal is None:
            raise
        raise refusal from error


def refuse_nul_byte(text: str, where: str) -> None:
    """Refuse ``text``, a path read back from a file we wrote that a user may have edited (a run
    folder's config.json, a results row), when it holds a NUL byte, which no path can: InputError
    ``"<where> holds a NUL byte; not a path"`` (``where``: the file and the field,
    ``"run/config.json: netlists[2]"``). It failed later in ``open`` or ``os.stat`` as
    ``ValueError: embedded null byte``, a bug's report (exit 70)."""
    if "\x00" in text:
        raise InputError(f"{where} holds a NUL byte; not a path")


class NetlistError(InputError):
    """Bad netlist / placement input.

    The message always reads ``<file>:<line>: <what was expected>`` (line omitted when the
    problem is not tied to one line), so the CLI can print it as one line and exit 2.
    """

    def __init__(self, message: str, path: str | Path | None = None, line: int | None = None):
        self.path = None if path is None else str(path)
        self.line = line
        self.reason = message
        where = ""
        if self.path is not None:
            where = self.path if line is None else f"{self.path}:{line}"
            where += ": "
        super().__init__(where + message)


class UnknownName(InputError, KeyError):
    """A name looked up among known ones (a built-in design, a placement method) that is not
    one of them: an :class:`InputError` like every other refusal of the user's input (``except
    InputError`` missed ``get_placer("nope")``, which the batch's own check raised as one) and
    a KeyError, as a lookup's failure is, whose text is its message, without the quotes
    ``str(KeyError)`` puts around it (``KeyError: "unknown placement method 'sa '; ..."``)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


#: What the packages raise deliberately for the user to read: the CLI prints it as one line
#: (exit status 2); any other exception escaping a command is a bug of ours.
REPORTED_ERRORS: tuple[type[Exception], ...] = (InputError, Unavailable, UnknownName)


def error_kind(error: BaseException) -> str:
    """The name a recorded error is told by (``"ValueError"`` in ``"ValueError: no room ..."``):
    :class:`InputError` and :class:`Unavailable` themselves by the built-in class they stand for,
    as such refusals were named before these classes existed (a batch's failed runs, a tuning
    run's failed trials and their grouping by cause read as before); any other class, a
    subclass such as NetlistError included, by its own name."""
    kind = type(error)
    if kind is InputError or kind is Unavailable:
        return kind.__mro__[1].__name__
    return kind.__name__


class NetlistWarning(UserWarning):
    """Input that reads as specified but looks damaged (e.g. a ``.plc`` whose body lists fewer
    nodes than its header counts); the CLI prints it as one ``placer: warning:`` line."""


@dataclass
class _Recording:
    texts: list[str]
    show: bool


#: The recording :func:`netlist_warnings_recorded` opened in this thread (a context variable:
#: ``warnings.catch_warnings`` swaps process-wide state, and threads reading designs at once lost
#: one another's warnings and left the warnings module patched).
_RECORDING: ContextVar[_Recording | None] = ContextVar("netlist_warnings_recording", default=None)


def warn_netlist(text: str, stacklevel: int = 1) -> None:
    """Warn of input that reads as specified but looks damaged: a :class:`NetlistWarning`
    (``stacklevel`` counted from the caller, as for ``warnings.warn``), or, inside
    :func:`netlist_warnings_recorded` in this thread, recorded (and warned of with ``show``)."""
    recording = _RECORDING.get()
    if recording is None:
        warnings.warn(NetlistWarning(text), stacklevel=stacklevel + 1)
        return
    recording.texts.append(text)
    if recording.show:  # shown as the recording block showed it before: past the filters
        # (an "error" filter turned the CLI's report into a traceback, "once" dropped repeats)
        try:
            frame = sys._getframe(stacklevel)
        except ValueError:  # (fewer frames than asked for)
            frame = sys._getframe(1)
        warnings.showwarning(NetlistWarning(text), NetlistWarning, frame.f_code.co_filename, frame.f_lineno)


@contextmanager
def netlist_warnings_recorded(show: bool = False) -> Iterator[list[str]]:
    """Within the block, in this thread, the readers' warnings of damaged-looking input
    (:func:`warn_netlist`) are recorded in the list it yields, and also warned of with ``show``
    (for a report that carries them beside a line on stderr); other warnings are left alone."""
    recording = _Recording([], show)
    token = _RECORDING.set(recording)
    try:
        yield recording.texts
    finally:
        _RECORDING.reset(token)
