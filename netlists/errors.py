"""The netlist layer's error for bad input (file, line, what was expected) and its warning for
input that reads but looks damaged."""

from __future__ import annotations

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


class NetlistWarning(UserWarning):
    """Input that reads as specified but looks damaged (e.g. a ``.plc`` whose body lists fewer
    nodes than its header counts); the CLI prints it as one ``placer: warning:`` line."""
