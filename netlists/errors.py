"""The one error type of the netlist layer: bad input, reported with file, line and expectation."""

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
