"""The project's own warnings as one ``placer: warning:`` line each on stderr.

The CLI installs this in its process (:func:`install_one_line_warnings`); a batch started by
it installs it in each worker process too, so a warning raised inside a run (a method's failed
warm-up, a netlist that reads but looks damaged) reads the same there. Other packages' warnings
keep Python's own ``file:line`` report; a library caller's process is left as it is.
"""

from __future__ import annotations

import sys
import warnings
from typing import Any

#: Packages whose own warning classes are shown as one ``placer: warning:`` line.
OWN_PACKAGES = frozenset({"netlists", "placer", "envs", "learned_systems"})


def install_one_line_warnings() -> None:
    """Show the project's own warnings as one line each from now on in this process."""
    if one_line_warnings_installed():
        return
    default = warnings.showwarning

    def show(message: Any, category: type[Warning], filename: str, lineno: int, file: Any = None,
             line: str | None = None) -> None:
        if category.__module__.partition(".")[0] in OWN_PACKAGES:
            print(f"placer: warning: {message}", file=sys.stderr)
        else:
            default(message, category, filename, lineno, file, line)

    show.one_line = True  # type: ignore[attr-defined]
    warnings.showwarning = show


def one_line_warnings_installed() -> bool:
    """Whether this process shows the project's warnings as one line each."""
    return bool(getattr(warnings.showwarning, "one_line", False))
