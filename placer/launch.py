"""The ``placer`` console script: loads the command line inside a Ctrl-C guard.

Loading :mod:`placer.cli` (Typer, Rich, every command's module) and Typer's building of the
commands take most of a second; a Ctrl-C in that window printed a Python traceback rather than
the one line every command gives.
"""

from __future__ import annotations

import os
import sys


def null_for_missing_streams() -> None:
    """Point a closed standard descriptor (0, 1, 2) at the null device, and a missing
    ``sys.stdout`` / ``sys.stderr`` at its descriptor. Started with one closed (``placer eval
    default >&-``), Python sets the stream to None: every command then failed at its first flush
    with three chained AttributeError tracebacks and exit 1, and what went to a closed stderr
    was printed on stdout (``print(file=None)`` writes there). Each descriptor is filled in
    place (with stdin closed too, the null device opened once took descriptor 0 and left 1
    free for the next file opened, where worker processes' output then went), so worker
    processes inherit the null device too."""
    filled = set()
    for descriptor in (0, 1, 2):
        try:
            os.fstat(descriptor)
        except OSError:  # closed: the lowest free descriptor is this one (the ones below are filled)
            null = os.open(os.devnull, os.O_RDWR)
            if null != descriptor:
                os.dup2(null, descriptor)
                os.close(null)
            filled.add(descriptor)
    for descriptor, name in ((1, "stdout"), (2, "stderr")):
        if getattr(sys, name) is None:  # (its descriptor open all the same: a stream of its own)
            stream = (open(descriptor, "w", encoding="utf-8", closefd=False) if descriptor in filled
                      else open(os.devnull, "w", encoding="utf-8"))
            setattr(sys, name, stream)
            if getattr(sys, f"__{name}__") is None:
                setattr(sys, f"__{name}__", stream)


def main() -> None:
    """Run ``placer``; a Ctrl-C no command handled (while the command line loads, or while Typer
    builds the commands before any runs) exits 130 with one line; a closed stdout or stderr
    reads as the null device."""
    null_for_missing_streams()
    try:
        from placer.cli import main as run_cli

        run_cli()
    except KeyboardInterrupt:
        print("placer: interrupted", file=sys.stderr)
        status: str | int | None = 130
    except SystemExit as ending:
        status = ending.code
    else:
        status = 0
    from placer.interrupts import finish_on_kill

    finish_on_kill(status)  # the command is done: a kill while the interpreter shuts down keeps it
    sys.exit(status)


if __name__ == "__main__":  # ``python -m placer.launch`` ran nothing and exited 0
    main()
