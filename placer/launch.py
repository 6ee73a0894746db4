"""The ``placer`` console script: loads the command line inside a Ctrl-C guard.

Loading :mod:`placer.cli` (Typer, Rich, every command's module) and Typer's building of the
commands take most of a second; a Ctrl-C in that window printed a Python traceback rather than
the one line every command gives.
"""

from __future__ import annotations

import sys


def main() -> None:
    """Run ``placer``; a Ctrl-C no command handled (while the command line loads, or while Typer
    builds the commands before any runs) exits 130 with one line."""
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
