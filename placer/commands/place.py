"""``placer place``: place one design, or a whole suite in a resumable batch.

One design::

    placer place NETLIST [--plc INIT] --algo NAME [--budget-s S] [--seed K] --out OUT.plc

prints the cost table before and after and writes ``OUT.plc``. A suite::

    placer place --suite DIR --algo NAME[,NAME..] [--seeds N] [--jobs J] --out RUNS_DIR
                 [--resume] [--ray ADDRESS] [--budget-s S] [--designs a,b] [--deadline-s S]

runs every design x method x seed (see :mod:`placer.batch`), writing each run's ``.plc`` and
its row in ``RUNS_DIR/results.sqlite`` as soon as it finishes.

Method options: ``--option key=value`` (repeatable) gives ``key`` to every method that reads
it; ``--option sa.key=value`` to the method ``sa`` only; ``--option global_refine.analytical.key=value``
one key of a nested method's options (as ``analytical={"key": value}``); ``sa.key`` wins over a
shared ``key`` for ``sa``. Values are read as JSON when they parse
(``3``, ``0.5``, ``true``, ``[1, 2]``) and as text otherwise. An option no method reads (a
misspelt name) is refused with the names each method reads (``placer methods [NAME]`` lists
them with their defaults). A plugin method that declares no
option names gets shared options only when it runs alone; beside others, ``name.key=value``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from netlists.errors import InputError
from netlists.formats.textio import json_loads
from placer.commands.common import (
    UsageError,
    check_output_file,
    check_output_folder,
    clean_errors,
    console,
    finite_seconds,
    interrupted_exit,
    load_plugins_named,
    output_option,
    whole_values,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from netlists.model import Netlist, Placement
    from placer.algorithms.base import Placer, Progress
    from placer.algorithms.legality import LegalityReport
    from placer.cost.proxy import ProxyCost
    from placer.cost.timing import TimingResult


def register(app: typer.Typer) -> None:
    app.command("place")(place_command)


def parse_options(items: list[str], methods: list[str]) -> dict[str, dict[str, Any]]:
    """Per-method options from ``key=value`` / ``method.key=value`` items (see module doc).

    A shared ``key`` goes to the methods that read it and must be read by at least one; a
    method's own options must all be ones it reads (a misspelt option is an error, never a
    silently ignored default). Methods must be registered (plugins loaded) first.
    """
    from placer.algorithms.base import placer_class

    classes: dict[str, type[Placer]] = {}
    for m in methods:
        try:
            classes[m] = placer_class(m)
        except KeyError as exc:
            raise UsageError(str(exc.args[0])) from None
    per_method: dict[str, dict[str, Any]] = {m: {} for m in methods}
    scoped: list[tuple[str, str, Any, str]] = []  # (method, name, value, value as written)
    given: dict[str, tuple[str, Any]] = {}  # key -> its value as written and as read
    for item in items:
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise UsageError(f"--option must look like key=value or method.key=value, got {item!r}")
        try:
            value: Any = json_loads(text)
        except ValueError:
            value = text
        if key in given and given[key][1] != value:  # (the last one was taken without a word)
            raise UsageError(f"--option {key} is given twice ({given[key][0]} and {text}): give it once")
        given[key] = (text, value)
        method, dot, name = key.partition(".")
        if dot and method in per_method:
            if not name:
                raise UsageError(f"--option {item!r} names no option after {method!r}.")
            scoped.append((method, name, value, text))
            continue
        # a method that declares no option names (a plugin's) reads any name: it gets a
        # shared option only when it runs alone, or a misspelt option of the others would
        # silently go to it alone
        undeclared = [m for m in methods if classes[m].option_names is None]
        readers = [m for m in methods if m not in undeclared and classes[m].reads(key)]
        if not readers and len(undeclared) == len(methods):
            readers = undeclared
        if not readers and undeclared:
            raise UsageError(
                f"--option {key}: no method of {', '.join(methods)} declares it "
                f"({'; '.join(f'{m}: {_option_list(classes[m])}' for m in methods)}); for "
                f"{', '.join(undeclared)}, which declare none, give it as {undeclared[0]}.{key}=..."
            )
        if not readers:
            from placer.algorithms.base import available_placers

            prefix = ""  # a method's option for a method not run, or for no method at all
            nesting = [m for m in methods if method in classes[m].nested_options] if dot else []
            if nesting:
                prefix = f"an option of {nesting[0]}'s {method!r} must be given as {nesting[0]}.{key}=...; "
            elif dot and method in available_placers():
                prefix = f"{method!r} is not among the methods run ({', '.join(methods)}); "
            elif dot:
                prefix = f"{method!r} is no method (methods: {', '.join(available_placers())}); "
            raise UsageError(
                f"--option {key}: {prefix}no method of {', '.join(methods)} reads it "
                f"({'; '.join(f'{m}: {_option_list(classes[m])}' for m in methods)})"
            )
        for m in readers:
            per_method[m][key] = _as_read_by(classes[m], key, value, text)
    for method, name, value, raw in scoped:  # method-specific options win over shared ones
        outer, dot, inner = name.partition(".")
        nested = classes[method].nested_options.get(outer) if dot else None
        if nested is not None:  # global_refine.analytical.max_iterations=5: one key of a dict
            from placer.algorithms.base import placer_class

            current = per_method[method].get(outer)
            if current is not None and not isinstance(current, dict):
                raise UsageError(f"--option {method}.{name}: {method}.{outer} is given as {current!r}, not a dict")
            per_method[method][outer] = {**(current or {}), inner: _as_read_by(placer_class(nested), inner, value, raw)}
        else:
            current = per_method[method].get(name)
            if name in classes[method].nested_options and isinstance(current, dict) and isinstance(value, dict):
                value = {**current, **value}  # a whole dict and dotted keys of it add up, the later wins
            per_method[method][name] = _as_read_by(classes[method], name, value, raw)
    for m in methods:
        try:
            classes[m](**per_method[m])  # checks names, nested dicts and the method's own rules
        except (TypeError, ValueError) as exc:
            if isinstance(exc, TypeError) and not per_method[m] and _takes_no_arguments(classes[m]):
                raise  # nothing given and nothing required: a bug of the method's, not an option
            raise UsageError(f"bad option for {m!r}: {exc}") from None
    return per_method


def _takes_no_arguments(cls: type[Placer]) -> bool:
    """Whether ``cls()`` binds (a method requiring an option, a plugin's ``__init__(self,
    target)``, is the user's to give: a missing one is a bad option)."""
    import inspect

    try:
        inspect.signature(cls).bind()
    except TypeError:
        return False
    except ValueError:  # (no signature to read)
        return True
    return True


def _as_read_by(cls: type[Placer], name: str, value: Any, text: str) -> Any:
    """The value as method ``cls`` reads option ``name``: as written for a text option (a run
    folder ``123``, read as JSON, was the number 123 and refused), else as parsed."""
    from placer.algorithms.options import takes_text

    check = cls.option_checks.get(name)
    return text if check is not None and takes_text(check) and not isinstance(value, str) else value


def _option_list(cls: type[Placer]) -> str:
    """The option names of a method, or "any" when it does not declare them."""
    return ", ".join(sorted(cls.option_names)) if cls.option_names is not None else "any"


def _split_list(text: str | None) -> list[str]:
    """Comma-separated names, each once (in the order first given)."""
    return list(dict.fromkeys(part.strip() for part in (text or "").split(",") if part.strip()))


@clean_errors
def place_command(
    netlist: Annotated[
        Path | None, typer.Argument(help="netlist.pb.txt[.gz], Bookshelf .aux, folder of one design or a built-in design's name (ariane133; default, the embedded generated one); omit with --suite")
    ] = None,
    algo: Annotated[
        str, typer.Option("--algo", help="placement method; with --suite a comma-separated list")
    ] = "",
    out: Annotated[
        Path | None,
        output_option("OUT.plc for one design (or OUT.pl, a Bookshelf design's own format); the runs folder with --suite"),
    ] = None,
    plc: Annotated[
        Path | None, typer.Option("--plc", help="initial .plc (default: initial.plc beside NETLIST; a Bookshelf design's own .pl; another .pl of a Bookshelf design is read in its place)")
    ] = None,
    suite: Annotated[
        Path | None,
        typer.Option("--suite", help="place every design found under this folder (recursively)"),
    ] = None,
    budget_s: Annotated[
        float, typer.Option(
            "--budget-s", callback=finite_seconds,
            help="seconds of each run's placement method (its set-up and final legalisation "
            "included; loading the design, compiling or loading the kernels beforehand and "
            "writing the result are not)",
        )
    ] = 60.0,
    seed: Annotated[
        int | None, typer.Option("--seed", min=0, help="random seed (one design; default 0): a run repeats for a seed when it ends "
                     "by its own steps, not by the budget (see `placer methods NAME`: max_steps, "
                     "max_iterations)")
    ] = None,
    seeds: Annotated[
        int | None,
        typer.Option("--seeds", min=1, help="seeds 0..N-1 per design and method (suite; default 1)"),
    ] = None,
    jobs: Annotated[
        int | None,
        typer.Option("--jobs", min=1, help="parallel worker processes (suite; default: the CPUs this process may use; not with --ray, where the cluster's CPUs decide)"),
    ] = None,
    resume: Annotated[
        bool, typer.Option("--resume", help="skip runs that already have an ok row (suite)")
    ] = False,
    ray_address: Annotated[
        str | None,
        typer.Option("--ray", help="run the suite on Ray: local (a fresh instance on this machine), "
                     "auto, or a cluster's HOST:PORT / ray://HOST:PORT"),
    ] = None,
    designs: Annotated[
        str | None, typer.Option("--designs", help="only these designs, comma-separated (suite)")
    ] = None,
    deadline_s: Annotated[
        float | None,
        typer.Option("--deadline-s", help="seconds a suite's run may take in its worker process before "
                     "the worker is killed and the run recorded as failed (default: 2 x --budget-s + "
                     "300 with --jobs 2 or more; 0: none; with --jobs 1 the runs go in this process, "
                     "with no deadline unless one is given: then in one worker process; on Ray the run's "
                     "task is cancelled)"),
    ] = None,
    option: Annotated[
        list[str] | None,
        typer.Option("--option", help="method option key=value or method.key=value (repeatable; method.key wins over a shared key for that method)"),
    ] = None,
    plugin: Annotated[
        list[str] | None,
        typer.Option("--plugin", help="module or .py file registering extra methods (repeatable)"),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="no progress bar")] = False,
) -> None:
    """Place one design (NETLIST) or every design of a suite (--suite) with the given methods.

    One design: placer place NETLIST --algo sa --budget-s 60 --seed 0 --out OUT.plc

    A suite: placer place --suite DIR --algo sa,greedy --seeds 3 --jobs 2 --out RUNS_DIR (each run's .plc and its row in RUNS_DIR/results.sqlite are written as it finishes; --resume skips finished runs).

    Method options: --option key=value goes to every method that reads it, --option sa.key=value to sa only; values are read as JSON when they parse (3, 0.5, true, [1, 2]), as text otherwise. An option no method reads is refused. `placer methods [NAME]` lists the methods and their options.
    """

    methods = _split_list(algo)
    _check_common_arguments(methods, out, netlist, suite)
    assert out is not None
    plugins = list(plugin or [])
    load_plugins_named(plugins)  # plugin methods and their options are known before parsing
    options = parse_options(option or [], methods)
    if suite is None:
        assert netlist is not None
        suite_only_given = bool(ray_address or resume or designs or seeds is not None or jobs is not None
                                or deadline_s is not None)  # fmt: skip
        _check_one_design_arguments(netlist, plc, out, methods, suite_only_given)
        _place_one(netlist, plc, methods[0], options[methods[0]], budget_s, seed or 0, out, quiet)
    else:
        chosen = _check_suite_arguments(plc, seed, out, designs, deadline_s)
        if ray_address and jobs is not None:  # (it was dropped without a word)
            raise UsageError("--jobs sets local worker processes: with --ray the cluster's CPUs decide "
                             "how many runs go at once")
        from placer.batch_pool import usable_cpus

        _place_suite(
            suite, methods, options, budget_s, seeds or 1, jobs or usable_cpus(), out, resume,
            ray_address, chosen, plugins, quiet, None if deadline_s is None else (deadline_s or math.inf),
        )


def _check_common_arguments(
    methods: list[str], out: Path | None, netlist: Path | None, suite: Path | None
) -> None:
    """Refuse a command line without a method, an ``--out``, or exactly one of NETLIST and
    ``--suite`` (before any plugin is loaded)."""
    if not methods:
        raise UsageError("--algo is required (e.g. --algo sa, or --algo sa,greedy with --suite)")
    if out is None:
        raise UsageError("--out is required (OUT.plc for one design, a runs folder with --suite)")
    if netlist is None and suite is None:
        raise UsageError("give NETLIST (one design) or --suite DIR (a batch)")
    if netlist is not None and suite is not None:
        raise UsageError("give either NETLIST (one design) or --suite DIR (a batch), not both")


def _check_one_design_arguments(
    netlist: Path, plc: Path | None, out: Path, methods: list[str], suite_only_given: bool
) -> None:
    """Refuse, for one design, several methods, an option of suites only
    (``suite_only_given``), or an ``--out`` that is no writable result file name or is one of
    the run's inputs."""
    if len(methods) != 1:
        raise UsageError("one design takes one method; use --suite for several")
    if suite_only_given:
        raise UsageError("--ray, --resume, --designs, --seeds, --jobs and --deadline-s apply to --suite only")
    check_output_file(out)
    from netlists.formats.bookshelf import is_bookshelf_pl

    if not (out.name.lower().endswith((".plc", ".plc.gz")) or is_bookshelf_pl(out)):
        raise UsageError(f"--out {out}: expected a .plc (or .plc.gz) file name, or a .pl for a Bookshelf design")
    from netlists.io import input_files

    if out.exists() and any(out.samefile(p) for p in input_files(netlist, plc)):
        raise UsageError(f"--out {out} is an input of this run; write the result elsewhere")


def _check_suite_arguments(
    plc: Path | None, seed: int | None, out: Path, designs: str | None, deadline_s: float | None
) -> list[str] | None:
    """Refuse, for a suite, the options of one design, an ``--out`` that is no runs folder, an
    empty ``--designs`` or a bad ``--deadline-s``; the designs chosen (None: all)."""
    if plc is not None:
        raise UsageError("--plc applies to one design; a suite uses each design's initial.plc (a "
                         "Bookshelf design's own .pl)")
    if seed is not None:
        raise UsageError("--seed applies to one design; a suite runs seeds 0..N-1 (--seeds N)")
    check_output_folder(out)
    if out.suffix.lower() in (".plc", ".gz", ".png", ".csv", ".json", ".sqlite"):  # a file's name
        raise UsageError(f"--out {out}: with --suite it is a runs folder (one .plc per run inside), "
                         "not a file name")
    chosen = _split_list(designs) if designs is not None else None
    if chosen is not None and not chosen:
        raise UsageError(f"--designs {designs!r} names no design (a comma-separated list of names)")
    if deadline_s is not None and (not math.isfinite(deadline_s) or deadline_s < 0):
        raise UsageError(f"--deadline-s must be a finite number of seconds >= 0 (0: none), got {deadline_s}")
    return chosen


def _place_one(
    netlist_path: Path,
    plc: Path | None,
    method: str,
    options: dict[str, Any],
    budget_s: float,
    seed: int,
    out: Path,
    quiet: bool,
) -> None:
    """Place one design in this process and print its cost before and after."""
    from netlists.formats.bookshelf import is_bookshelf_pl
    from placer.algorithms.base import get_placer
    from placer.commands.common import load

    placer = get_placer(method, **options)  # name and options already checked by parse_options
    nl, initial = load(netlist_path, plc)
    as_pl = is_bookshelf_pl(out)
    _check_result_writable(nl, initial, out, as_pl)
    before = _costs_of(nl, initial)
    _warm_up_outside_budget(method, placer, quiet)
    run = _run_interruptibly(placer, method, nl, initial, budget_s, seed, quiet, out, netlist_path)
    for note in run.notes:
        console.print(f"note: {note}")
    written = _write_result(nl, run, out, as_pl, netlist_path, plc, method, seed, budget_s, options)
    table = _cost_table(nl.name, method, seed, run.seconds, before, written.after, nl.area_unit)
    console.print(whole_values(table, console.width))
    for note in _costlier_than_the_start(nl, initial, before.cost, before.legal, written.after.cost.proxy,
                                         method, options, budget_s):  # fmt: skip
        console.print(f"note: {note}")
    console.print(f"wrote {written.out}")
    if run.stopped:
        raise interrupted_exit()  # (a note said so) interrupted, though its best placement is kept
    if written.fell_back:  # (written, but not where asked: a script must not read an older OUT.pl)
        raise typer.Exit(1)


@dataclass(frozen=True)
class _Costs:
    """A placement's figures in ``placer place``'s table: proxy cost, timing and legality."""

    cost: ProxyCost
    timing: TimingResult
    legal: LegalityReport


def _costs_of(nl: Netlist, placement: Placement) -> _Costs:
    """The proxy cost, timing and legality of ``placement`` (computed in that order)."""
    from placer.algorithms.legality import check_legality
    from placer.cost.proxy import evaluate
    from placer.cost.timing import timing_cost

    return _Costs(evaluate(nl, placement), timing_cost(nl, placement), check_legality(nl, placement))


def _check_result_writable(nl: Netlist, initial: Placement, out: Path, as_pl: bool) -> None:
    """Refuse, before the budget is spent, an ``--out`` the result could not be written to:
    a ``.pl`` for a design not read from Bookshelf (the methods never turn a macro by 90
    degrees), or a ``.plc`` whose header could not hold the design's or the file's name."""
    from netlists.formats.bookshelf import check_pl_writable
    from netlists.formats.plc import check_header_names

    try:
        if as_pl:
            check_pl_writable(nl, initial)
        else:  # (a line break in the design's or the file's name: a traceback after the run)
            check_header_names(nl.name, out.name)
    except ValueError as exc:
        raise UsageError(f"--out {out}: {exc}") from None


def _warm_up_outside_budget(method: str, placer: Placer, quiet: bool) -> None:
    """Build or load the method's compiled kernels before the timed run (not inside its budget
    or the seconds reported), under a status line unless ``quiet``."""
    from placer.algorithms.base import warm_up

    if quiet:
        warm_up(method, placer.options)
    else:
        with console.status(f"loading {method}'s compiled kernels (the first run after an install builds them) ..."):
            warm_up(method, placer.options)  # not inside the budget or the seconds reported


@dataclass(frozen=True)
class _Run:
    """What the method's run gave: its placement, seconds, whether an interrupt stopped it
    early, and the notes for the user (the method's, then the interrupt's)."""

    placement: Placement
    seconds: float
    stopped: bool
    notes: list[str]


def _run_interruptibly(
    placer: Placer, method: str, nl: Netlist, initial: Placement, budget_s: float, seed: int,
    quiet: bool, out: Path, netlist_path: Path,
) -> _Run:
    """Run the method, timed. A first Ctrl-C (or kill) ends the search as at its budget's end
    (its best placement is kept: :attr:`_Run.stopped`); a second one exits 130 at once; a
    method's ValueError or bad result is a usage error naming the method and the design."""
    import time

    from placer.algorithms.base import MethodResultError, NoteCollector
    from placer.interrupts import stop_gracefully

    t0 = time.perf_counter()
    notes = NoteCollector()  # what the method wants the user to know (e.g. it kept the start)
    try:
        # a first Ctrl-C (or kill) ends the search as at its budget's end: its best placement
        # is written, then exit 130 (it was lost); a second one stops at once
        with stop_gracefully() as stop:
            placement = _run_method(placer, method, nl, initial, budget_s, seed, quiet, notes)
    except KeyboardInterrupt:  # a second Ctrl-C (or a method that raised it): at once
        typer.echo(f"placer: interrupted: stopped at once, nothing was written to {out}", err=True)
        raise interrupted_exit() from None
    except (InputError, MethodResultError) as exc:  # e.g. the hard macros cannot be made legal
        # at all, a device this machine lacks, a plugin's bad result: the method is named, not
        # only the design (its file was not always at fault); a plain ValueError is a bug
        raise UsageError(f"{method} on {netlist_path}: {exc}") from None
    seconds = time.perf_counter() - t0
    if stop.stopped:
        notes.texts.append(f"interrupted after {seconds:.1f} s of the {budget_s:g} s budget: the result "
                           "is the placement the method had when stopped (a search's best so far)")
    return _Run(placement, seconds, stop.stopped, notes.texts)


@dataclass(frozen=True)
class _Written:
    """Where the result was written and what it costs."""

    after: _Costs
    out: Path  # OUT, or the .plc the result went to when no .pl could hold it
    fell_back: bool  # whether it went to that .plc instead of OUT.pl


def _write_result(
    nl: Netlist, run: _Run, out: Path, as_pl: bool, netlist_path: Path, plc: Path | None,
    method: str, seed: int, budget_s: float, options: dict[str, Any],
) -> _Written:
    """Cost the result and write it to ``out`` with its provenance comments, a Ctrl-C held
    until it is written (then exit 130, saying whether it was); a ``.pl`` that cannot hold the
    result (a macro turned by 90 degrees) falls back to a ``.plc`` beside it."""
    from netlists.formats.plc import write_plc
    from netlists.formats.textio import write_text_atomic
    from placer.interrupts import interrupts_deferred

    written = fell_back = False
    try:
        with interrupts_deferred():  # a Ctrl-C now waits for the finished result to be written
            after = _costs_of(nl, run.placement)
            out.parent.mkdir(parents=True, exist_ok=True)
            comments = _result_comments(method, seed, budget_s, options, run)
            text = None
            if as_pl:  # the design's own format, its costs in a comment (a .pl has no header)
                text, out, fell_back = _pl_text_or_fallback(nl, run.placement, after.cost, comments, out,
                                                            netlist_path, plc)  # fmt: skip
            if text is not None:
                write_text_atomic(out, text)
            else:
                write_plc(out, nl, run.placement, costs=after.cost.plc_header(), comments=comments)
            written = True
    except KeyboardInterrupt as interrupt:  # one held while the result was written (said bare before)
        failed = interrupt.__context__  # the block's own error, which the held signal replaced
        if not written and isinstance(failed, Exception):
            raise failed from None  # (a full disk said "written")
        said = f"the placement was written to {out} first" if written else f"nothing was written to {out}"
        typer.echo(f"placer: interrupted: {said}", err=True)
        raise interrupted_exit() from None
    return _Written(after, out, fell_back)


def _result_comments(
    method: str, seed: int, budget_s: float, options: dict[str, Any], run: _Run
) -> list[str]:
    """The result file's comment lines: which placer-gym, method, seed, budget and options made
    it, whether an interrupt stopped it, and a plugin method's code."""
    from placer import __version__ as placer_version
    from placer.algorithms.base import method_source
    from placer.provenance import placed_by

    return [placed_by(placer_version, method, seed, budget_s, options),
            *([f"Stopped by an interrupt after {run.seconds:.1f} s"] if run.stopped else []),
            *([f"Method code: {source}"] if (source := method_source(method)) else [])]  # fmt: skip


def _pl_text_or_fallback(
    nl: Netlist, placement: Placement, after: ProxyCost, comments: list[str], out: Path,
    netlist_path: Path, plc: Path | None,
) -> tuple[str | None, Path, bool]:
    """The ``.pl`` text of the result, its costs in a comment, with ``out`` and False; or, where
    no ``.pl`` can hold it (a plugin turned a macro by 90 degrees), None, the ``.plc`` it goes
    to instead and True, with a note saying so."""
    from netlists.formats.bookshelf import pl_text

    costs = (f"Costs: proxy {after.proxy!r}, wirelength {after.wirelength!r}, density {after.density!r}, "
             f"congestion {after.congestion!r}, weighted HPWL {after.hpwl!r}")
    try:
        return pl_text(nl, placement, [*comments, costs]), out, False
    except InputError as exc:  # a plugin turned a macro by 90 degrees: kept as a .plc
        wanted, out = out, _fallback_plc(out, netlist_path, plc)
        console.print(f"note: --out {wanted}: {exc}; the result goes to {out} (and {wanted} is "
                      "not written: exit status 1)")  # fmt: skip
        return None, out, True


def _cost_table(
    name: str, method: str, seed: int, seconds: float, before: _Costs, after: _Costs, area_unit: str
) -> Table:
    """The table of the start's and the result's cost terms, timing and legality (areas in
    ``area_unit``, the design's :attr:`~netlists.model.Netlist.area_unit`)."""
    table = Table(title=f"{name}: {method}, seed {seed}, {seconds:.1f} s")
    table.add_column("term")
    table.add_column("initial", justify="right")
    table.add_column(method, justify="right")
    for key in ("wirelength", "density", "congestion", "proxy"):
        table.add_row(key, f"{getattr(before.cost, key):.6f}", f"{getattr(after.cost, key):.6f}")
    table.add_row("timing (worst / (W+H))", f"{before.timing.worst:.4f}", f"{after.timing.worst:.4f}")
    table.add_row("timing (worst 10% / (W+H))", f"{before.timing.tail:.4f}", f"{after.timing.tail:.4f}")
    table.add_row(f"hard-macro overlap area ({area_unit})", f"{before.legal.overlap_area:.3f}", f"{after.legal.overlap_area:.3f}")
    table.add_row("macros outside canvas (hard or soft)", str(before.legal.outside_macros), str(after.legal.outside_macros))
    return table


def _fallback_plc(out: Path, netlist_path: Path, plc: Path | None) -> Path:
    """Where a result no ``.pl`` can hold goes instead of ``OUT.pl[.gz]``: ``OUT.plc[.gz]``, or
    ``OUT.pl.plc`` where that is a folder or a file this run reads (an input overwritten)."""
    from netlists.io import input_files

    gz = out.name.lower().endswith(".gz")
    stem = out.name[: -len(".pl.gz")] if gz else out.name[: -len(".pl")]
    beside = out.with_name(stem + (".plc.gz" if gz else ".plc"))
    taken = beside.is_dir() or (beside.exists() and any(beside.samefile(p) for p in input_files(netlist_path, plc)))
    return out.with_name(out.name + ".plc") if taken else beside


def _costlier_than_the_start(
    nl: Netlist, initial: Placement, before: Any, before_legal: Any, proxy: float, method: str,
    options: dict[str, Any], budget_s: float,
) -> list[str]:
    """Notes when the result costs more than the start a user could have kept: the initial
    placement, or where that is not legal (its cost is no bar a legal placement must clear),
    the initial placement merely legalised. A method building its own placement (greedy,
    analytical) can end above a good start, and said nothing."""
    from placer.algorithms.base import legalize_start
    from placer.cost.proxy import evaluate

    notes = []
    reference, what = before.proxy, "the initial placement"
    if not before_legal.legal:
        notes.append(f"the initial placement is not legal ({before_legal.problems()}); every method "
                     "returns a legal one, which can cost more than it")
        packed: list[Any] = []  # (the packing's notes)
        try:
            # the method's own legalisation of the start, where it made one, is given again
            # (legalize remembers its last calls, answering this one made as the method's own
            # start is: a fixed 1 s limit missed a start packed under a 1 s budget's 0.5 s and
            # legalised the pile again): a pile of macros took seconds a second time
            start = legalize_start(nl, initial, budget_s, packed.append)
        except InputError:  # (the method's result was legalised, so this rarely fails)
            return notes
        if packed:  # packed in rows, not legalised: no bar for the result to clear
            return notes
        reference, what = evaluate(nl, start).proxy, "the initial placement merely legalised"
    if proxy > reference:
        why = ("its objective weighs timing, not the proxy alone" if _weighs_timing(options)
               else f"{method} does not keep the given placement when it finds a costlier one; "
               "to improve a good placement, run a method that searches from it (sa, refine)")
        notes.append(f"the result costs more than {what} (proxy {proxy:.6f} against {reference:.6f}): {why}")
    return notes


def _weighs_timing(options: dict[str, Any]) -> bool:
    """Whether a method's options, or a nested search's (greedy's ``refine={...}``), give
    ``w_timing`` a positive weight."""
    return any(
        (key == "w_timing" and _positive(value)) or (isinstance(value, dict) and _weighs_timing(value))
        for key, value in options.items()
    )


def _positive(value: Any) -> bool:
    try:
        return float(value) > 0
    except (TypeError, ValueError):
        return False


def _run_method(
    placer: Placer, method: str, nl: Netlist, initial: Placement, budget_s: float, seed: int,
    quiet: bool, on_progress: Callable[[Progress], None],
) -> Placement:
    """``placer.place`` with a progress bar on stderr unless ``quiet`` or stderr is no terminal
    (the bar vanishes when done, so off a terminal it drew only a blank line); every report also
    goes to ``on_progress``."""
    from rich.console import Console

    bar_console = Console(stderr=True)
    if quiet or not bar_console.is_terminal:
        return placer.place(nl, initial, budget_s=budget_s, seed=seed, progress=on_progress)
    from rich.markup import escape
    from rich.progress import BarColumn, TextColumn, TimeElapsedColumn
    from rich.progress import Progress as Bar

    with Bar(TextColumn(f"[bold]{escape(method)}"), BarColumn(), TimeElapsedColumn(),
             TextColumn("{task.description}", markup=False), console=bar_console, transient=True) as bar:
        task_id = bar.add_task("", total=1.0)

        def report(p: Progress) -> None:
            on_progress(p)
            text = f"best {p.best_proxy:.4f}" if p.best_proxy is not None else p.message
            bar.update(task_id, completed=p.fraction, description=text)

        return placer.place(nl, initial, budget_s=budget_s, seed=seed, progress=report)


def _place_suite(
    suite: Path,
    methods: list[str],
    options: dict[str, dict[str, Any]],
    budget_s: float,
    seeds: int,
    jobs: int,
    runs_dir: Path,
    resume: bool,
    ray_address: str | None,
    designs: list[str] | None,
    plugins: list[str],
    quiet: bool,
    deadline_s: float | None = None,
) -> None:
    """Run the batch and print a summary (exit 130 when interrupted, 1 when runs failed)."""
    from placer.batch import find_designs, make_tasks, run_batch
    from placer.results import printable

    # (a refusal, InputError or Unavailable, is told in one line by clean_errors; any other
    # exception escaping the batch is a bug of ours, told with its traceback)
    found = find_designs(suite, designs)
    tasks = make_tasks(found, methods, range(seeds), runs_dir, budget_s, options, plugins)
    summary = run_batch(
        tasks, runs_dir, jobs=jobs, resume=resume, ray_address=ray_address,
        show_progress=not quiet, deadline_s=deadline_s,
    )
    console.print(
        f"{summary.ok} ok, {summary.failed} failed, {summary.skipped} skipped (already done) "
        f"of {summary.total} runs; results in {runs_dir / 'results.sqlite'}"
    )
    for record in summary.records:
        if record.status == "ok" and record.note:
            console.print(f"  note: {printable(record.design)}/{record.method}/seed{record.seed}: {record.note}")
        if record.status != "ok":
            first_line = (record.error or "").splitlines()[0] if record.error else "unknown error"
            console.print(f"  failed: {printable(record.design)}/{record.method}/seed{record.seed}: {first_line}")
    if summary.interrupted:
        if summary.ok + summary.skipped >= summary.total:  # the kill came as the batch ended
            # (a failed run is run again by --resume: only ok runs count as finished)
            typer.echo("interrupted as the batch ended: every run had finished (nothing to resume)", err=True)
        else:  # (on stderr, as every command's interrupt lines: stdout keeps the results)
            typer.echo("interrupted: finished runs are saved; rerun with --resume to go on", err=True)
        raise interrupted_exit()
    if summary.failed:
        raise typer.Exit(1)
