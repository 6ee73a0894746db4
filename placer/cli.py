"""The ``placer`` command line: evaluate, generate, place, train, tune, leaderboard.

Each sub-command lives in its own module under :mod:`placer.commands` and registers itself
here; modules of features not installed yet are skipped.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

import typer

app = typer.Typer(
    name="placer",
    help="Learning-driven chip macro placement and ML-for-systems.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

def _print_version(asked: bool) -> None:
    if asked:
        from placer import __version__

        typer.echo(f"placer-gym {__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    version: bool = typer.Option(
        False, "--version", callback=_print_version, is_eager=True, help="print the version and exit"
    ),
) -> None:
    """Learning-driven chip macro placement and ML-for-systems."""


_COMMAND_MODULES = ("evaluate", "demo", "generate", "place", "methods", "plot", "leaderboard", "train", "tune")

for _name in _COMMAND_MODULES:
    try:
        _module = importlib.import_module(f"placer.commands.{_name}")
    except ModuleNotFoundError as _exc:
        if _exc.name != f"placer.commands.{_name}":
            raise
        continue
    _module.register(app)


def _drop_flag_types(command: object) -> None:
    """Show flags in ``--help`` without a value type: Typer 0.29 prints ``<bool>`` beside every
    flag (``--resume <bool>``, its own ``--help`` too), which reads as if the flag took a value
    (``--resume true`` is then refused). An empty metavar makes it print none; the help
    option, made on demand, is made here (click caches it) to get the same. Best effort: a
    Typer or click without these hooks keeps its own style."""
    for param in getattr(command, "params", []):
        if getattr(param, "is_flag", False) and param.metavar is None:
            param.metavar = ""
    try:
        help_option = command.get_help_option(command.context_class(command))  # type: ignore[attr-defined]
    except Exception:  # noqa: BLE001 - a click without the hook: nothing to change
        help_option = None
    if help_option is not None and help_option.metavar is None:
        help_option.metavar = ""
    for sub in getattr(command, "commands", {}).values():
        _drop_flag_types(sub)


def command() -> object:
    """The ``placer`` click command, built from :data:`app`, with flags shown without a type
    and help tables that keep option names whole (:mod:`placer.commands.help_layout`)."""
    from placer.commands.help_layout import keep_names_whole

    keep_names_whole()
    built = typer.main.get_command(app)
    _drop_flag_types(built)
    return built


#: The usage-error class of the click Typer runs on (Typer bundles its own copy of click, so it
#: is found through the exception Typer exports rather than imported from either; so typed Any),
#: and the class of every error click reports itself.
_USAGE_ERROR: type[Any] = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "UsageError")
_CLICK_ERROR: type[Any] = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")


def _one_line_warnings() -> None:
    """Show the project's own warnings (the netlist layer's on input that reads but looks
    damaged, the results store's) as one ``placer: warning:`` line each, not as Python's
    file:line report (:mod:`placer.warning_lines`; a batch's workers follow)."""
    from placer.warning_lines import install_one_line_warnings

    install_one_line_warnings()


def _is_null_device(stream: object) -> bool:
    """Whether ``stream`` writes to the null device (False for streams without a descriptor)."""
    try:
        return os.path.samestat(os.fstat(stream.fileno()), os.stat(os.devnull))  # type: ignore[attr-defined]
    except (AttributeError, OSError, ValueError):
        return False


def _stand_ins(error: UnicodeError) -> tuple[str, int]:
    """A codecs error handler: the symbols of :data:`placer.commands.common.ASCII_STAND_INS` as
    their stand-ins, anything else as ``?``."""
    from placer.commands.common import ASCII_STAND_INS

    if not isinstance(error, UnicodeEncodeError):
        raise error
    text = error.object[error.start:error.end]
    return "".join(ASCII_STAND_INS.get(c, "?") for c in text), error.end


def _tolerant_streams() -> None:
    """Let stdout and stderr write what their encoding lacks as a plain stand-in ("um" for "µm")
    or ``?``: under a latin-1 or ASCII ``PYTHONIOENCODING`` the "†" and "—" of demo's and the
    leaderboard's tables raised UnicodeEncodeError (a traceback, and demo's files never
    written), and "µm" then read "?m". A UTF-8 stream is left as it is (Python's UTF-8 mode
    covers the C and POSIX locales)."""
    import codecs

    codecs.register_error("placer-stand-ins", _stand_ins)
    for stream in (sys.stdout, sys.stderr):
        encoding = (getattr(stream, "encoding", None) or "").lower().replace("-", "").replace("_", "")
        if encoding not in ("utf8", "utf8sig") and hasattr(stream, "reconfigure"):
            try:
                stream.reconfigure(errors="placer-stand-ins")
            except (OSError, ValueError):  # (a closed or detached stream: nothing to write to)
                pass


def _given(exc: Exception, argv: list[str]) -> str:
    """``, got '-1'``: the value a refused option was given, read back from the command line
    (Typer's range and type errors say what was expected but not what was given: "Invalid
    value for '--seed': Input should be greater than or equal to 0"); empty when the value is
    not found or the message already names what it got (the project's own parsers do)."""
    param = getattr(exc, "param", None)
    names = getattr(param, "opts", None) or []
    if not names or getattr(param, "is_flag", False) or not str(names[0]).startswith("-"):
        return ""
    values = []
    for i, token in enumerate(argv):
        for name in names:
            if token == name and i + 1 < len(argv):
                values.append(argv[i + 1])
            elif token.startswith(name + "="):
                values.append(token[len(name) + 1:])
    if not values or "got " in exc.format_message():  # type: ignore[attr-defined] # (our parsers say it)
        return ""
    return f", got {values[-1]!r}"  # (the last one given is the one parsed)


def main() -> None:
    """Run ``placer``; a usage error (a bad option value, an unknown option) is one line on
    stderr and exit status 2, like every other input error; an exception no command handled (a
    bug of ours, in an option's callback say) is told as a bug: its traceback, exit status 70
    (:func:`placer.commands.common.internal_error`)."""
    from placer.commands.common import interrupt_said
    from placer.interrupts import sigterm_as_interrupt

    _one_line_warnings()
    _tolerant_streams()
    stdout, stdout_was_null = sys.stdout, _is_null_device(sys.stdout)
    interrupt_said(clear=True)
    try:
        with sigterm_as_interrupt():  # a plain kill ends a command as Ctrl-C does, not mid-write
            code = command()(standalone_mode=False)  # type: ignore[operator]
            sys.stdout.flush()  # (--help, --version: a failure here still sets the status)
    except SystemExit as ending:
        # a closed pipe under the help (placer --help | head): Rich points stdout at the null
        # device, Click swaps it for a quiet wrapper, and both exit 1; the commands' own output
        # exits 141 there (128 + SIGPIPE), as other tools do
        pipe_closed = sys.stdout is not stdout or (not stdout_was_null and _is_null_device(sys.stdout))
        if ending.code == 1 and pipe_closed:
            sys.exit(141)
        _say_an_unsaid_interrupt(ending.code)
        raise
    except _USAGE_ERROR as exc:
        if type(exc).__name__ == "NoArgsIsHelpError":  # a bare command: its help, once (Typer's
            # rich help is printed while the error is made, a plain one is its message; asking
            # for it again printed it twice)
            if exc.format_message().strip():
                print(exc.format_message())
            sys.exit(2)
        ctx = getattr(exc, "ctx", None)
        # the sub-command it happened in ("placer eval: ..."), not the program name again
        where = f"{ctx.command_path}: " if ctx is not None and ctx.parent is not None else ""
        print(f"placer: error: {where}{exc.format_message()}{_given(exc, sys.argv[1:])} (see --help)", file=sys.stderr)
        sys.exit(2)
    except typer.Abort:  # Ctrl-C outside a command's own handling
        print("placer: interrupted", file=sys.stderr)
        sys.exit(130)
    except OSError as exc:  # --help or --version into a full disk or a closed pipe, as commands say it
        from placer.commands.common import os_error_exit

        sys.exit(os_error_exit(exc).exit_code)
    except _CLICK_ERROR as exc:  # another error click reports itself (standalone, it printed it)
        print(f"placer: error: {exc.format_message()}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except Exception as exc:  # noqa: BLE001 - raised outside every command's own handling: a bug
        from placer.commands.common import internal_error

        sys.exit(internal_error(exc).exit_code)
    _say_an_unsaid_interrupt(code)
    sys.exit(code if isinstance(code, int) else 0)


def _say_an_unsaid_interrupt(code: object) -> None:
    """Print "placer: interrupted" for an exit status 130 nothing has said: Typer turns a Ctrl-C
    between its start and the command's own handling (while it parses the options) into a
    quiet 130, which exited with no word. A command that said it (its own lines, through
    :func:`placer.commands.common.interrupted_exit`) is not said again."""
    from placer.commands.common import interrupt_said

    if code == 130 and not interrupt_said():
        print("placer: interrupted", file=sys.stderr)


if __name__ == "__main__":  # python -m placer.cli: as the console script (its kill handling too)
    from placer.launch import main as launch

    launch()
