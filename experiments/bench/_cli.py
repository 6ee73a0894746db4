"""Command-line plumbing shared by the benchmark scripts of this folder.

Argument types that refuse bad values with a one-line message naming the option, a parser
whose ``--help`` shows every default and whose errors are one line (exit status 2), and
:func:`run`, which turns the errors a benchmark raises on bad input into one line too::

    from _cli import make_parser, positive_int, run

    def main() -> int: ...

    if __name__ == "__main__":
        run(main)

The scripts run as ``python experiments/bench/NAME.py``, so this module is found beside them.
"""

from __future__ import annotations

import argparse
import errno
import json
import math
import os
import re
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import NoReturn

from netlists.formats.textio import text_writer, write_atomically

REPO = Path(__file__).resolve().parents[2]
#: The shared benchmark suite: ``$PLACER_BENCHMARKS``, else ``../shared/benchmarks`` beside the
#: repository (as the tests look for it).
DEFAULT_SUITE = Path(os.environ.get("PLACER_BENCHMARKS", REPO.parent / "shared" / "benchmarks"))


#: Help text that states its own default ("default: print only", "(default 10)"); the word
#: alone does not (the embedded design is called ``default``).
_STATES_DEFAULT = re.compile(r"\(default\b|\bdefault(:| \d)", re.IGNORECASE)


class _Formatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Keeps the description's layout and appends ``(default: X)`` to every option's help,
    except where the help already states its default or there is none to state; a default
    path inside the repository is shown relative to it, and a list as it is typed (comma- or
    space-separated, as the option takes it)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        default = action.default
        if default is None or default is argparse.SUPPRESS or _STATES_DEFAULT.search(text):
            return text
        if isinstance(default, Path) and default.is_relative_to(REPO):
            where = default.relative_to(REPO).as_posix().replace("%", "%%")
            return f"{text} (default: {where} in the repository)"
        if isinstance(default, list | tuple):
            separator = " " if action.nargs not in (None, argparse.OPTIONAL) else ","
            typed = separator.join(str(item) for item in default).replace("%", "%%")
            return f"{text} (default: {typed or 'none'})"
        return super()._get_help_string(action)


class BenchParser(argparse.ArgumentParser):
    """An argument parser whose errors are one line: ``PROG: error: MESSAGE``, exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def make_parser(description: str | None) -> BenchParser:
    """A parser with the defaults formatter, ``description`` (a script's docstring) kept as
    written."""
    return BenchParser(description=description, formatter_class=_Formatter)


def _whole(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None


def positive_int(text: str) -> int:
    """argparse type: a whole number >= 1."""
    value = _whole(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def non_negative_int(text: str) -> int:
    """argparse type: a whole number >= 0."""
    value = _whole(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {value}")
    return value


def seed_32bit(text: str) -> int:
    """argparse type: a seed from 0 to 2**32 - 1 (Optuna's and the RL agent's range)."""
    value = _whole(text)
    if not 0 <= value <= 2**32 - 1:
        raise argparse.ArgumentTypeError(f"must be from 0 to {2**32 - 1}, got {value}")
    return value


def _finite(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be finite, got {text!r}")
    return value


def positive_float(text: str) -> float:
    """argparse type: a finite number > 0."""
    value = _finite(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
    return value


def non_negative_float(text: str) -> float:
    """argparse type: a finite number >= 0."""
    value = _finite(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text}")
    return value


def name_list(text: str) -> list[str]:
    """argparse type: comma-separated names, none empty and none twice."""
    names = [name.strip() for name in text.split(",")]
    if not all(names):
        raise argparse.ArgumentTypeError(f"expected comma-separated names, got {text!r}")
    twice = repeated(names)
    if twice is not None:
        raise argparse.ArgumentTypeError(f"{twice!r} given twice")
    return names


def repeated(values: Sequence[object]) -> object | None:
    """The first value given twice in ``values``, or None."""
    seen: list[object] = []
    for value in values:
        if value in seen:
            return value
        seen.append(value)
    return None


def output_file(text: str) -> Path:
    """argparse type: a file to write (not an existing folder)."""
    path = Path(text)
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is a folder: give a file name")
    return path


def output_folder(text: str) -> Path:
    """argparse type: a folder to write into (not an existing file, not a ``.md`` or ``.json``
    file name)."""
    path = Path(text)
    if path.exists() and not path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is a file: give a folder")
    if path.suffix.lower() in (".md", ".json"):
        raise argparse.ArgumentTypeError(
            f"{text} looks like a file name: give the folder to write into"
        )
    return path


def suite_designs(suite: Path, names: Sequence[str]) -> dict[str, Path]:
    """The netlist file of each named design under the benchmark ``suite`` (by folder name);
    a ValueError listing what is there when one is missing (saying so when ``suite`` is no
    folder at all: "designs not under /nonexistent: ...; found: " hid the mistyped path)."""
    if not suite.is_dir():
        raise ValueError(f"--suite: benchmark suite not found at {suite} (no such folder)")
    found = {p.parent.name: p for p in sorted(suite.rglob("netlist.pb.txt*"))}
    missing = [n for n in names if n not in found]
    if missing:
        raise ValueError(f"--designs: not under {suite}: {', '.join(missing)}; found: {', '.join(sorted(found))}")
    return {n: found[n] for n in names}


def baseline_rows(
    path: Path | None, key: Callable[[dict], object], numbers: Sequence[str] = ()
) -> dict[object, dict]:
    """The rows of another commit's ``.json`` (``--baseline``), by ``key``; empty without one.
    Each row must hold the ``numbers`` the table reads as numbers (another script's file, or a
    string there, ran the whole benchmark and then failed at the table naming one field)."""
    if path is None:
        return {}
    try:
        rows = json.loads(path.read_text())
        by_key = {key(row): row for row in rows}
        for row in rows:
            for field in numbers:
                if isinstance(row[field], bool) or not isinstance(row[field], int | float):
                    raise TypeError(f"{field} is {row[field]!r}, not a number")
    except (json.JSONDecodeError, UnicodeDecodeError, TypeError, KeyError) as exc:
        reason = f"no {exc}" if isinstance(exc, KeyError) else str(exc)
        raise ValueError(f"--baseline {path}: not this script's .json from another commit ({reason})") from None
    return by_key


def check_outputs(*paths: Path) -> None:
    """Refuse, before any work, output files that could not be written (a folder in the way,
    a parent that is a file or not writable)."""
    for path in paths:
        if path.is_dir():
            raise IsADirectoryError(errno.EISDIR, "is a folder, not a file", str(path))
        for parent in path.absolute().parents:
            if parent.exists():
                if not parent.is_dir() or not os.access(parent, os.W_OK):
                    raise PermissionError(errno.EACCES, f"cannot write into {parent}", str(path))
                break


def write_results(files: Mapping[Path, str], command: str | None = None) -> None:
    """Write each file's text through a temporary name, renaming only once all are written:
    an interrupted or failed write leaves the earlier results (a table and its .json) as a pair.
    A Markdown file gets the command that made it (``command``, by default this process's:
    :func:`command_line`) under its title line."""
    check_outputs(*files)
    made_by = f"Made by `{command or command_line()}`."
    files = {path: _under_title(text, made_by) if path.suffix == ".md" else text
             for path, text in files.items()}
    for path in files:
        path.parent.mkdir(parents=True, exist_ok=True)
    # (the package's set writer: fresh temporary names, where the fixed `.NAME.tmp` made two
    # runs at once fail or splice one's rows into the other's file, and the set renamed whole)
    write_atomically({path: text_writer(text) for path, text in files.items()})


def _under_title(text: str, line: str) -> str:
    """``text`` with ``line`` as a paragraph after its first line (a Markdown title)."""
    title, _, rest = text.partition("\n")
    return f"{title}\n\n{line}\n" + (rest if rest.startswith("\n") else "\n" + rest)


def print_or_write(out: Path | None, lines: Sequence[str], json_text: str | None = None) -> None:
    """Print a table (the default: a quick run never replaces the recorded results) or, with
    ``out``, write it there, ``json_text`` beside it as ``.json``, and say where."""
    if out is None:
        print("\n".join(lines))
        return
    files = {out: "\n".join(lines) + "\n"}
    if json_text is not None:
        files[out.with_suffix(".json")] = json_text
    write_results(files)
    print(f"wrote {out}")


def reference_benchmarks(suite: Path, designs: str | None = None) -> dict[str, dict]:
    """The designs of ``suite``'s ``reference_costs.json`` (name -> entry with its files and
    reference costs), only those of ``designs`` (comma-separated names) when given; ValueError
    naming ``--suite`` where it is not there, or ``--designs`` naming a design it lacks."""
    import json

    ref_file = suite / "reference_costs.json"
    if not ref_file.exists():
        raise ValueError(f"--suite: benchmark suite not found at {suite} (no reference_costs.json)")
    benchmarks = json.loads(ref_file.read_text())["benchmarks"]
    if designs is None:
        return benchmarks
    wanted = [d.strip() for d in designs.split(",") if d.strip()]
    missing = [d for d in wanted if d not in benchmarks]
    if missing or not wanted:
        raise ValueError(f"--designs: {', '.join(map(repr, missing)) or 'no name'} not in {ref_file} "
                         f"(its designs: {', '.join(benchmarks)})")
    return {d: benchmarks[d] for d in dict.fromkeys(wanted)}


def suite_speed_parser(description: str | None, timed: str) -> BenchParser:
    """The options of a per-design speed table over the shared suite: ``--suite``, ``--moves``
    (incremental moves timed per design), ``--repeats`` (full evaluations of ``timed``, timed
    per design) and ``--out``."""
    ap = make_parser(description)
    ap.add_argument("--suite", type=Path, default=DEFAULT_SUITE,
                    help="the shared benchmark suite (with reference_costs.json)")
    ap.add_argument("--designs", default=None,
                    help="comma-separated design names of the suite's reference_costs.json (default: all)")
    ap.add_argument("--moves", type=positive_int, default=600, help="incremental moves timed per design")
    ap.add_argument("--repeats", type=positive_int, default=7, help=f"full {timed} timed per design")
    ap.add_argument("--out", type=output_file, default=None,
                    help="also write the Markdown table here (and its .json beside it); default: print only")
    return ap


def report_timed_table(out: Path | None, title: str, header: Sequence[str], body: Sequence[str],
                       rows: object, load_before: float, command: str | None) -> None:
    """Print a speed table (``header`` lines, then ``body`` rows) and, with ``out``, write it
    there under ``title`` with the machine and its load average before (``load_before``) and
    now, and ``rows`` as JSON beside it."""
    import json
    import platform

    table = "\n".join([*header, *body])
    print()
    print(table)
    if out is None:
        return
    load = f"load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after, on {os.cpu_count()} cores"
    markdown = (f"# {title}\n\nMachine: {platform.machine()}, {load} (other jobs slow the timings).\n\n"
                + table + "\n")
    write_results({out: markdown, out.with_suffix(".json"): json.dumps(rows, indent=1)}, command)


def checkout_commit(tree: Path) -> str:
    """The short commit of the checkout ``tree`` (with ``+`` if it has changes), or ``?``."""
    try:
        head = subprocess.run(["git", "-C", str(tree), "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, check=True).stdout.strip()  # fmt: skip
        dirty = subprocess.run(["git", "-C", str(tree), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return "?"
    return head + ("+" if dirty else "")


def command_line(argv: Sequence[str] | None = None) -> str:
    """This run's command as ``python PATH ARGS`` (the script's path relative to the repository
    when inside it, arguments shell-quoted), after the environment variables that change its
    results (:func:`placer.provenance.environment_prefix`): recorded in a table, it says how to
    remake it."""
    import shlex

    from placer.provenance import environment_prefix

    argv = list(sys.argv if argv is None else argv)
    script = Path(argv[0]).resolve()
    shown = script.relative_to(REPO).as_posix() if script.is_relative_to(REPO) else str(argv[0])
    return environment_prefix() + shlex.join(["python", shown, *argv[1:]])


def _exit_status(returncode: int) -> int:
    """A child's return code as ours: itself, 128 + N for a child killed by signal N."""
    if returncode < 0:
        return 128 - returncode
    return returncode if 0 < returncode < 256 else 1


def _command(cmd: object) -> str:
    """A command line for a message, its program shortened to its name."""
    if isinstance(cmd, str | Path):
        return str(cmd)
    parts = [str(part) for part in cmd]  # type: ignore[union-attr]
    if parts:
        parts[0] = Path(parts[0]).name
    return " ".join(parts)


def fail(message: str, status: int = 2) -> NoReturn:
    """Print ``PROG: error: MESSAGE`` (one line) on stderr and exit with ``status``."""
    prog = Path(sys.argv[0]).name
    one_line = " ".join(str(message).split())
    print(f"{prog}: error: {one_line}", file=sys.stderr)
    sys.exit(status)


def run(main: Callable[[], int | None]) -> NoReturn:
    """Call ``main`` and exit with its status; bad input becomes a one-line error instead of a
    traceback: ValueError and OSError (a missing file, a folder that cannot be written) exit
    2, a failed subprocess exits with its status, a RuntimeError (a system that cannot be
    measured) exits 1, an interrupt exits 130. A closed stdout or stderr (``>&-``, which Python
    sets to None) reads as the null device, as ``placer``'s does (``placer.launch``, not imported
    here: it would set up placer's caches for scripts that measure only learned_systems)."""
    for descriptor in (0, 1, 2):  # filled in place: the next file opened never takes 1 or 2
        try:
            os.fstat(descriptor)
        except OSError:
            null = os.open(os.devnull, os.O_RDWR)
            if null != descriptor:
                os.dup2(null, descriptor)
                os.close(null)
    for descriptor, name in ((1, "stdout"), (2, "stderr")):
        if getattr(sys, name) is None:  # (a flush failed with AttributeError; an error line went to stdout)
            setattr(sys, name, open(descriptor, "w", encoding="utf-8", closefd=False))
    try:
        status = main()
    except KeyboardInterrupt:
        fail("interrupted", 130)
    except subprocess.CalledProcessError as exc:
        fail(
            f"{_command(exc.cmd)} failed with exit status {exc.returncode}",
            _exit_status(exc.returncode),
        )
    except OSError as exc:
        if exc.filename is not None and exc.strerror:
            fail(f"{exc.filename}: {exc.strerror}")
        fail(str(exc))
    except (ValueError, argparse.ArgumentTypeError) as exc:  # e.g. a list option checked late
        fail(str(exc))
    except KeyError as exc:  # a registry lookup (an unknown method) says what is available
        fail(str(exc.args[0]) if exc.args else "unknown name")
    except RuntimeError as exc:  # e.g. a system that cannot be measured at all (its defaults)
        fail(str(exc), 1)
    sys.exit(status or 0)
