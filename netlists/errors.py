"""The netlist layer's error for bad input (file, line, what was expected) and its warning for
input that reads but looks damaged."""

from __future__ import annotations

import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path


class NetlistError(ValueError):
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


class UnknownName(KeyError):
    """A name looked up among known ones (a built-in design, a placement method) that is not
    one of them; a KeyError whose text is its message, without the quotes ``str(KeyError)``
    puts around it (``KeyError: "unknown placement method 'sa '; ..."``)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


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
