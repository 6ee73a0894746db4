"""Helpers shared by CLI commands: clean error reporting and design loading."""

from __future__ import annotations

import errno
import functools
import math
import os
import sqlite3
import sys
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import typer
from rich.cells import cell_len
from rich.console import Console
from rich.table import Table

from netlists.errors import REPORTED_ERRORS, NetlistError, error_kind

if TYPE_CHECKING:
    from netlists.model import Netlist, Placement

P = ParamSpec("P")
R = TypeVar("R")

#: Plain-ASCII stand-ins for the symbols the commands print, where a stream cannot encode them
#: (the CLI's streams write them so: :func:`placer.cli._tolerant_streams`).
ASCII_STAND_INS = {"\u00b5": "u", "\u00b2": "^2", "\u2020": "+", "\u2014": "-", "\u2013": "-", "\u00d7": "x",
                   "\u00b7": ".", "\u2265": ">=", "\u2264": "<=", "\u2026": "..."}


@functools.lru_cache(maxsize=8)
def _stand_ins_for(encoding: str) -> dict[int, str]:
    """The :data:`ASCII_STAND_INS` of the symbols ``encoding`` cannot encode (a str.translate
    table; empty for UTF-8)."""
    missing = {}
    for symbol, stand_in in ASCII_STAND_INS.items():
        try:
            symbol.encode(encoding)
        except (UnicodeEncodeError, LookupError):
            missing[ord(symbol)] = stand_in
    return missing


class _CommandConsole(Console):
    """Rich's console, but lines of text are never folded at its width (80 columns off a
    terminal: a path split over two lines after "wrote" escaped `awk '/^wrote/{print $2}'`;
    a terminal wraps a long line itself, and a path stays whole to copy); tables keep the
    width and their centred titles. Symbols its stream cannot encode are given their plain
    stand-ins before Rich measures the text: written as the stream encodes them, "(µm²)" became
    "(um^2)" after the table was laid out, one column wider than its row's border."""

    def print(self, *objects: Any, soft_wrap: bool | None = None, **options: Any) -> None:
        if soft_wrap is None and all(isinstance(o, str) for o in objects):
            soft_wrap = True
        missing = _stand_ins_for(getattr(self.file, "encoding", None) or "utf-8")
        if missing:
            objects = tuple(_with_stand_ins(o, missing) for o in objects)
        super().print(*objects, soft_wrap=soft_wrap, **options)


def _with_stand_ins(printed: Any, missing: dict[int, str]) -> Any:
    """``printed`` (a text, or a table whose texts are changed in place) with the symbols of
    ``missing`` replaced by their stand-ins; anything else as it is."""
    if isinstance(printed, str):
        return printed.translate(missing)
    if isinstance(printed, Table):
        if isinstance(printed.title, str):
            printed.title = printed.title.translate(missing)
        if isinstance(printed.caption, str):
            printed.caption = printed.caption.translate(missing)
        for column in printed.columns:
            if isinstance(column.header, str):
                column.header = column.header.translate(missing)
            column._cells[:] = [c.translate(missing) if isinstance(c, str) else c for c in column._cells]
    return printed


#: The columns a table's labels keep at least where :func:`whole_values` keeps its numbers whole.
LABEL_MIN_WIDTH = 4


def whole_values(table: Table, width: int) -> Table:
    """``table`` (labels in its first column, values in the others) made to keep every digit
    at ``width`` columns: its values fold rather than end in an ellipsis (at 30 columns
    ``place`` printed "0.0788…", ``eval`` at 20 "27613…"), and keep their widest cell (and
    header, where there is room) on one line wherever that leaves the labels
    :data:`LABEL_MIN_WIDTH` columns; the labels wrap and fold into the rest. For Rich's
    default box and padding (an outer padding left out only leaves more room)."""
    label, *values = table.columns
    label.overflow = "fold"
    for column in values:
        column.overflow = "fold"
    cells = [max((cell_len(c) for c in column.cells if isinstance(c, str)), default=1) for column in values]
    headed = [max(n, cell_len(c.header) if isinstance(c.header, str) else 0) for n, c in zip(cells, values, strict=True)]
    _, right, _, left = table.padding
    borders = 0 if table.box is None else len(table.columns) - 1 + (2 if table.show_edge else 0)
    room = width - borders - (left + right) * len(table.columns) - LABEL_MIN_WIDTH
    fixed = next((w for w in (headed, cells) if sum(w) <= room), None)  # (headers whole too where they fit)
    for column, fits in zip(values, fixed or (), strict=False):
        column.width = fits  # (a fixed width: Rich narrows the labels first)
    return table


# markup off: what the commands print holds users' text (error messages, notes, file and
# design names), where "[x]" vanished and "[/x]" raised a MarkupError traceback
console = _CommandConsole(markup=False)


class UsageError(Exception):
    """Bad command-line input that is not a file-format problem."""


#: The exit status of a bug of ours: EX_SOFTWARE of sysexits.h ("an internal software error"),
#: apart from 2 (bad input) and 1 (a batch with failed runs, a result written elsewhere).
INTERNAL_ERROR_EXIT = 70

#: What a command raises to end itself or that Click reports itself: passed on untouched.
_CLICK_ERROR: type[Any] = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")
_COMMAND_ENDINGS: tuple[type[BaseException], ...] = (typer.Exit, typer.Abort, _CLICK_ERROR)


def unencodable(error: UnicodeEncodeError) -> str:
    """The message for text a library could not encode: a path read from disk as surrogate
    escapes ("'utf-8' codec can't encode characters in position 15-16: surrogates not allowed"
    named neither the path nor the cause), told as its bytes not being UTF-8 or as a non-UTF-8
    locale (:func:`placer.text_names.why_not_text`; under C.UTF-8 a byte 0xff was said to need
    a UTF-8 locale)."""
    from placer.text_names import name_bytes, why_not_text

    if "surrogates not allowed" not in str(error):
        return str(error)
    shown = name_bytes(error.object).decode("utf-8", "replace")
    return f"{shown!r} cannot be passed on as text: it is {why_not_text(error.object, 'rename it, or give another path')}"


def _open_files_advice(code: int) -> str:
    """What to do about too many open files: this process's limit (EMFILE, with the limit where
    it is known), or the whole system's table (ENFILE, which no ulimit raises)."""
    if code == errno.ENFILE:
        return "the system's table of open files is full (other programs hold them)"
    try:
        import resource

        soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
        limit = f", {soft} here"
    except (ImportError, OSError, ValueError):
        limit = ""
    return f"raise this process's limit of open files (ulimit -n{limit}); a suite needs fewer with fewer --jobs"


def drop_stdout() -> None:
    """Point stdout's descriptor at the null device: once the reader has gone or the disk is
    full, what is still buffered is dropped rather than raised again at the interpreter's exit
    (Python's own recipe for a closed pipe)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # (a stdout without a descriptor: nothing to drop)
        pass


def os_error_exit(exc: OSError) -> typer.Exit:
    """The exit for an OSError (inside a command, or outside any: ``--help`` into a full disk):
    a closed pipe 141 with no word (the reader went away: ``placer ... | head``), anything else
    one line naming the file and 2."""
    if isinstance(exc, BrokenPipeError):
        drop_stdout()
        return typer.Exit(141)
    # a failed rename names the target (filename2), not the temporary file it came from
    target = getattr(exc, "filename2", None) or exc.filename
    if exc.errno in (errno.EMFILE, errno.ENFILE):  # (a pipe for a worker, a database: it read
        # "cannot write the output: Too many open files")
        return fail(f"{f'{target}: ' if target else ''}{exc.strerror}: {_open_files_advice(exc.errno)}")
    # an I/O failure naming no file is a write of the output failing (a full disk while
    # printing); the project's own refusals carry no errno
    if not target and exc.errno:
        drop_stdout()  # (else what is still buffered fails again at exit)
    where = f"{target}: " if target else ("cannot write the output: " if exc.errno else "")
    return fail(f"{where}{exc.strerror or exc}")


#: Whether a command has said on stderr that an interrupt ended it (:func:`interrupted_exit`).
_interrupt_said = False


def interrupted_exit() -> typer.Exit:
    """The exit (status 130) of a command an interrupt ended, raised once the command has said
    so itself (on stderr, or a note of the result it kept): the command line's main then adds
    no "placer: interrupted" of its own (it does for a 130 nothing said, such as Typer's for a
    Ctrl-C while it parses the options)."""
    global _interrupt_said
    _interrupt_said = True
    return typer.Exit(130)


def interrupt_said(clear: bool = False) -> bool:
    """Whether :func:`interrupted_exit` was raised since the last ``clear`` (a command line's
    main clears it as it starts)."""
    global _interrupt_said
    said = _interrupt_said
    if clear:
        _interrupt_said = False
    return said


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print one line on stderr and return the exit to raise."""
    print(f"placer: error: {message}", file=sys.stderr)
    return typer.Exit(code)


def internal_error(exc: BaseException) -> typer.Exit:
    """Report an exception that is no refusal meant for the user (numpy's ValueError for arrays
    that do not broadcast, a TypeError, a KeyError, torch's RuntimeError) as the bug it is: one
    line naming it, then its traceback, on stderr; return the exit (status 70) to raise. Told
    as bad input (exit 2, one line), such a bug sent the user looking for a typo and left
    nothing to report."""
    import traceback

    lines = str(exc).strip().splitlines()
    first = f": {lines[0]}" if lines else ""
    try:
        sys.stdout.flush()  # (what the command printed first stays above the report)
    except (OSError, ValueError):  # (a closed pipe or stream: the report goes to stderr all the same)
        pass
    print(f"placer: internal error: {type(exc).__name__}{first} -- a bug in placer-gym (or in a "
          "--plugin's code), not in your input; please report it with the traceback below", file=sys.stderr)
    traceback.print_exception(exc, file=sys.stderr)
    return typer.Exit(INTERNAL_ERROR_EXIT)


#: The refusals told in one line with exit status 2: the command line's own and the packages'
#: (NetlistError is an InputError).
_REFUSALS: tuple[type[Exception], ...] = (UsageError, *REPORTED_ERRORS)


def clean_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Turn input errors into one line on stderr and exit status 2 (no traceback): the
    packages' refusals (``netlists.errors.REPORTED_ERRORS``: InputError, Unavailable, an
    unknown name), UsageError, and the files, databases and memory a command cannot use. Any
    other exception escaping the command is a bug of ours: :func:`internal_error` (its
    traceback, exit status 70)."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            result = fn(*args, **kwargs)
            # here, where a closed pipe or a full disk still sets the status: left to the
            # interpreter's exit, a buffered stdout (no PYTHONUNBUFFERED) failed there with
            # "Exception ignored ... BrokenPipeError" and status 120
            sys.stdout.flush()
            return result
        except _REFUSALS as exc:
            raise fail(str(exc)) from None
        except UnicodeEncodeError as exc:
            raise fail(unencodable(exc)) from None
        except FileNotFoundError as exc:
            if exc.filename is None:  # raised with a message only
                raise fail(str(exc)) from None
            raise fail(f"{exc.filename}: {exc.strerror or 'no such file'}") from None
        except sqlite3.Error as exc:  # a results database that cannot be read or written
            raise fail(f"results database: {exc}") from None
        except OSError as exc:  # e.g. an output path that is a folder, a full or read-only disk
            raise os_error_exit(exc) from None
        except MemoryError as exc:  # sizes asked for that this machine cannot hold
            raise fail(f"out of memory: {str(exc) or 'a smaller size is needed'}") from None
        except KeyboardInterrupt:  # Ctrl-C (or a kill, see main) in a command without its own
            print("placer: interrupted", file=sys.stderr)
            raise interrupted_exit() from None
        except _COMMAND_ENDINGS:  # (typer.Exit is a RuntimeError: the command's own ending)
            raise
        except Exception as exc:  # noqa: BLE001 - anything else is a bug of ours, told as one
            if _torch_out_of_memory(exc):  # (a RuntimeError, not a MemoryError)
                raise fail(f"out of memory: {str(exc).splitlines()[0]}") from None
            problem = environment_problem(exc)
            if problem is not None:
                raise fail(problem) from None
            raise internal_error(exc) from None

    return wrapper


def _raised_in(error: BaseException, package: str) -> bool:
    """Whether ``error`` was raised inside the installed ``package`` (its innermost frame)."""
    import traceback

    frames = traceback.extract_tb(error.__traceback__)
    return bool(frames) and package in Path(frames[-1].filename).parts


def environment_problem(error: BaseException) -> str | None:
    """What to fix where a library refused an environment variable as it loaded (a ValueError,
    told as a bug of ours: exit 70 and "please report"): ``NUMBA_NUM_THREADS=0`` (numba:
    "Number of threads specified must be > 0.") or an ``MPLBACKEND`` matplotlib does not
    know (plot, demo, tune). None for any other error."""
    if not isinstance(error, ValueError):
        return None
    threads = os.environ.get("NUMBA_NUM_THREADS")
    if threads is not None and _raised_in(error, "numba") and "threads specified must be > 0" in str(error):
        return (f"NUMBA_NUM_THREADS={threads!r}: numba needs at least one thread; set it to a whole number "
                "of 1 or more, or unset it")
    backend = os.environ.get("MPLBACKEND")
    if backend is not None and _raised_in(error, "matplotlib") and str(error).startswith("Key backend:"):
        return (f"MPLBACKEND={backend!r} is not a backend matplotlib knows; set it to one (Agg writes files "
                "only), or unset it")
    return None


def _torch_out_of_memory(error: BaseException) -> bool:
    """Whether ``error`` is torch running out of memory: its CPU allocator's RuntimeError
    ("DefaultCPUAllocator: can't allocate memory") or CUDA's ``OutOfMemoryError`` (a
    RuntimeError too), told as the machine's limit like a MemoryError, not as a bug."""
    if type(error).__name__ == "OutOfMemoryError" and type(error).__module__.startswith("torch"):
        return True
    return isinstance(error, RuntimeError) and "can't allocate memory" in str(error)


def finite_seconds(value: float) -> float:
    """Typer callback: a time budget must be a finite number >= 0 (``inf`` would run until
    killed; ``nan`` was refused as out of range, naming a bound it does not break)."""
    if not math.isfinite(value) or value < 0:
        raise typer.BadParameter(f"expected a finite number of seconds >= 0, got {value}")
    return value


def output_path(value: str | Path) -> Path:
    """Typer parser for ``--out``: an empty string (``--out "$DIR"`` with ``DIR`` unset) is refused
    rather than read as the current folder, where it would write or overwrite files unasked.
    Defaults arrive here as paths already."""
    if isinstance(value, Path):
        return value
    if not value.strip():
        raise typer.BadParameter("empty path (an unset variable?); give a path, or . for here")
    return Path(value)


def typed_command() -> str:
    """This process's command line as typed, shell-quoted, its program shown as ``placer`` (the
    console script's full path, or ``python -m placer``'s ``__main__.py``, says nothing more):
    named on a page the command writes, it says how to make the page again; the environment
    variables set that change its results come first, typed or inherited alike
    (:func:`placer.provenance.environment_prefix`)."""
    import shlex

    from placer.provenance import environment_prefix

    return environment_prefix() + shlex.join(["placer", *sys.argv[1:]])


def output_option(help_text: str) -> typer.models.OptionInfo:
    """The ``--out`` option every command shares: its path parsed by :func:`output_path`."""
    return typer.Option("--out", parser=output_path, metavar="<path>", help=help_text)


def _can_create_in(folder: Path) -> bool:
    """Whether a file can be made in ``folder`` (tried: os.access says yes to root on /proc or
    a read-only mount, and the command then failed at its first write with a bare OSError)."""
    if not os.access(folder, os.W_OK):
        return False
    try:
        with tempfile.TemporaryFile(dir=folder):
            return True
    except OSError:
        return False


def _refuse_broken_link(path: Path, option: str, given: Path) -> None:
    """Refuse ``path`` when it is a symbolic link to nothing: the folders under it cannot be
    made (``mkdir`` says "File exists" after all the work is done)."""
    if path.is_symlink() and not path.exists():
        where = "" if path == given else f": {path}"
        raise UsageError(f"{option} {given}{where} is a broken symbolic link (to {os.readlink(path)})")


def _check_parents(path: Path, option: str) -> None:
    """Refuse ``path`` when its nearest existing ancestor is a file or is not writable, or an
    ancestor on the way is a broken symbolic link."""
    for parent in path.absolute().parents:
        _refuse_broken_link(parent, option, path)
        if parent.exists():
            if not parent.is_dir():
                raise UsageError(f"{option} {path}: {parent} is a file, not a folder")
            if not _can_create_in(parent):
                raise UsageError(f"{option} {path}: cannot write into {parent}")
            return


def check_output_file(path: Path, option: str = "--out") -> None:
    """Refuse, before any work is done, an output file that could not be written."""
    _refuse_broken_link(path, option, path)
    if path.is_dir():
        raise UsageError(f"{option} {path} is a folder; expected a file name")
    if path.exists() and not os.access(path, os.W_OK):
        raise UsageError(f"{option} {path}: file is not writable")
    _check_parents(path, option)


def check_output_folder(path: Path, option: str = "--out") -> None:
    """Refuse, before any work is done, an output folder that could not be created or written."""
    _refuse_broken_link(path, option, path)
    if path.exists():
        if not path.is_dir():
            raise UsageError(f"{option} {path} exists and is not a folder")
        if not _can_create_in(path):
            raise UsageError(f"{option} {path}: cannot write into it")
        return
    _check_parents(path, option)


def load(netlist: Path, plc: Path | None) -> tuple[Netlist, Placement]:
    """Load a design for a command (see ``netlists.io.load_design``)."""
    from netlists.io import design_path, load_design, names_generated_default

    if names_generated_default(netlist):
        return load_design(netlist, plc)  # the embedded default design, generated
    netlist = design_path(netlist)  # (a built-in design's name reads that design)
    require_design_file(netlist)
    return load_design(netlist, plc)


def require_design_file(netlist: Path) -> None:
    """Refuse a design path that does not exist, naming the built-in designs it could have
    meant (every command that reads a design says it alike)."""
    from netlists.designs import BUILTIN
    from netlists.io import DEFAULT_NAME

    if not netlist.exists():
        raise NetlistError(f"no such file (or built-in design: {', '.join((*BUILTIN, DEFAULT_NAME))})", netlist)


def load_reporting_warnings(netlist: Path, plc: Path | None) -> tuple[Netlist, Placement, list[str]]:
    """:func:`load`, and the texts of the netlist layer's warnings it gave (input that reads
    but looks damaged, such as a truncated .plc), which are shown as usual too: for output
    that carries them (``placer eval --json``), where a line on stderr goes unseen."""
    from netlists.errors import netlist_warnings_recorded

    with netlist_warnings_recorded(show=True) as texts:
        loaded = load(netlist, plc)
    return (*loaded, texts)


def _raised_at(exc: BaseException) -> str:
    """`` (at FILE, line N)``: the innermost frame of ``exc``'s traceback outside this package,
    learned_systems (a tuner registry's refusal) and Python's import machinery, so a plugin
    author sees their own file and line in the one-line error; empty where there is none (a
    module not found)."""
    import importlib
    import traceback

    package = Path(__file__).resolve().parents[1]
    skipped = (package, package.parent / "learned_systems", Path(importlib.__file__).resolve().parent)
    frames = [frame for frame in traceback.extract_tb(exc.__traceback__) if not frame.filename.startswith("<")
              and not any(Path(frame.filename).resolve().is_relative_to(folder) for folder in skipped)]
    if not frames or isinstance(exc, SyntaxError):  # (a SyntaxError names its file and line itself)
        return ""
    return f" (at {frames[-1].filename}, line {frames[-1].lineno})"


def load_plugin(plugin: str) -> str:
    """Load one ``--plugin`` module or ``.py`` file (UsageError naming it where it fails; the
    plugin's own file and line where its code raised); return the module name it is loaded
    under."""
    from placer.algorithms.plugins import PluginFileMissing, load_plugins, plugin_module_name
    from placer.text_names import encodes_as_utf8, name_bytes, why_not_text

    if not encodes_as_utf8(plugin):  # (Python compiles a file under its path as text: a UnicodeEncodeError)
        raise UsageError(f"--plugin {name_bytes(plugin)!r}: its path is "
                         f"{why_not_text(plugin, 'Python compiles a plugin under its path as text: rename that folder or file, or copy the plugin to another path')}")
    if not plugin.endswith(".py") and (os.sep in plugin or Path(plugin).is_file()):
        # (a path or a file read as a module name: "No module named '/tmp'"; a package folder
        # of that name in the working folder is a module name)
        raise UsageError(f"--plugin {plugin}: neither a .py file nor a module name (a dotted name such as "
                         "my_package.my_methods)")  # fmt: skip
    try:
        load_plugins([plugin])
    except PluginFileMissing as exc:  # (not a file the plugin opens as it is imported)
        raise UsageError(f"--plugin {plugin}: no such file ({exc.filename})") from None
    except Exception as exc:  # noqa: BLE001 - whatever a plugin raises while it is imported
        raise UsageError(f"--plugin {plugin}: could not load it: {error_kind(exc)}: {exc}"
                         f"{_raised_at(exc)}") from None
    return plugin_module_name(plugin)


def registered_from(module: str, modules: Iterable[str]) -> bool:
    """Whether one of ``modules`` (those of registered classes or factories) is ``module`` or
    one of its package's own modules."""
    return any(m == module or m.startswith(module + ".") for m in modules)


def _placer_modules() -> set[str]:
    """The modules of the registered placement methods' classes."""
    from placer.algorithms.base import available_placers, placer_class

    return {placer_class(name).__module__ for name in available_placers()}


def load_plugins_named(
    plugins: list[str], registered_modules: Callable[[], set[str]] = _placer_modules, what: str = "placement method"
) -> None:
    """Load ``--plugin`` modules one by one: UsageError naming the one that fails, and a note
    for one that registers no ``what`` (a module name mistyped as another module), judged by
    ``registered_modules()``, the modules of what is registered after it loaded."""
    for plugin in plugins:
        module = load_plugin(plugin)
        if not registered_from(module, registered_modules()):
            console.print(f"note: --plugin {plugin} registered no {what}", markup=False, highlight=False)
