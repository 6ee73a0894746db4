"""The netlist layer's error for bad input (file, line, what was expected) and its warning for
input that reads but looks damaged."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
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


@contextmanager
def netlist_warnings_recorded(show: bool = False) -> Iterator[list[str]]:
    """Within the block, every :class:`NetlistWarning` is recorded: their texts fill the list
    it yields when the block ends (and are shown too with ``show``, for a report that carries
    them beside a line on stderr); other warnings are shown as usual."""
    texts: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", NetlistWarning)
        yield texts
    for w in caught:
        if issubclass(w.category, NetlistWarning):
            texts.append(str(w.message))
        if show or not issubclass(w.category, NetlistWarning):
            warnings.showwarning(w.message, w.category, w.filename, w.lineno)
