"""``placer tune``: tune a real system's knobs (SQLite, PostgreSQL) or a learned index.

Every trial is written to ``OUT/results.sqlite`` the moment it finishes, so a killed run resumes
when the same command is run again; the best configuration measured (a tuner's best mean score
over its trials, Optuna measuring its leaders again, or a baseline when none beat it; chosen by
``--final-repeats`` interleaved rounds measuring each tuner's best and the baselines again, stored
as they finish) goes to
``OUT/best_config.json`` with who found it and how to apply it (``apply``: SQL, ``postgresql.conf``
lines or the ``build_index`` call), and a best-so-far plot (one
line per tuner run into the same OUT) to ``OUT/best_so_far.png``, its points and baselines as text
in ``OUT/best_so_far.csv``. ``--plugin`` loads modules
or ``.py`` files that register tuners of one's own (``learned_systems.tuners.register_tuner``)
for ``--tuner``, as ``placer place --plugin`` loads methods.
Bad input prints one line on stderr and exits with code 2.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from netlists.errors import REPORTED_ERRORS
from placer.commands.common import (
    UsageError,
    check_output_folder,
    clean_errors,
    interrupted_exit,
    output_option,
)

SYSTEMS = ("sqlite", "postgres", "index")
#: Longest measurement window and most windows per trial taken (an hour; a thousand).
MAX_DURATION_S = 3600.0
MAX_REPEATS = 1000
#: The most --trials per tuner (a million trials of the cheapest, counted index cost run for days).
MAX_TRIALS = 1_000_000
#: The fewest index keys --rows may ask for (fewer gave meaningless scores: -575,601 on 1 key).
MIN_INDEX_KEYS = 1000


class _BadInput(Exception):
    """User input the command refuses (reported as one line, exit code 2)."""


#: What a run raises that is told as its first line, exit code 2: the packages' refusals, a
#: results database that cannot be used, sizes this machine cannot hold.
_TOLD_IN_ONE_LINE: tuple[type[Exception], ...] = (*REPORTED_ERRORS, sqlite3.Error, MemoryError)


def _fail(message: str) -> None:
    typer.echo(f"placer: error: {message}", err=True)
    raise typer.Exit(code=2)


def _objective(
    system: str,
    workload: str,
    rows: int | None,
    duration: float,
    repeats: int,
    allow_unsafe: bool,
    seed: int,
    out: Path,
    index_cost: str = "measured",
):
    from learned_systems.config.factory import make_backend
    from learned_systems.objectives import ConfigObjective, IndexObjective

    if system == "index":
        return IndexObjective(
            workload, keys=rows or 1_000_000, queries=100_000, seed=seed, repeats=repeats,
            mode="cost" if index_cost == "counted" else "measured",
        )
    if system == "postgres":
        from learned_systems.config.postgres_backend import find_binaries

        find_binaries()  # raises a clear error when PostgreSQL is not installed
    backend = make_backend(
        system,
        workload,
        rows=rows,
        duration_s=duration,
        repeats=repeats,
        allow_unsafe=allow_unsafe,
        template_dir=out / "templates" if system == "sqlite" else None,
        seed=seed,
    )
    return ConfigObjective(backend)


#: The dataset the index tunes for when --workload is not given (a database's default
#: workload is its backend's: learned_systems.config.factory.DEFAULT_WORKLOADS).
DEFAULT_INDEX_DATASET = "lognormal"


#: Measurements per trial unless --repeats says otherwise.
DEFAULT_REPEATS = 3
#: Trials each tuner runs in its turn when several are given, unless --turn says otherwise.
DEFAULT_TURN = 5  # (learned_systems.tuning.DEFAULT_TURN, not imported: it loads the tuners; a test keeps them equal)
#: Rounds measuring each tuner's best and the baselines again before the best is chosen, unless
#: --final-repeats says otherwise.
DEFAULT_FINAL_REPEATS = 3

def _workloads(system: str) -> list[str]:
    """The workload (or dataset) names ``system`` offers."""
    if system == "index":
        from learned_systems.datasets import GENERATORS

        return sorted(GENERATORS)
    if system == "postgres":
        from learned_systems.config.postgres_backend import POSTGRES_WORKLOADS

        return list(POSTGRES_WORKLOADS)
    from learned_systems.config.workloads import WORKLOAD_NAMES

    return list(WORKLOAD_NAMES)


@clean_errors  # (a closed pipe, a full disk: told as every command tells them)
def tune(
    system: Annotated[str, typer.Option(help="sqlite | postgres | index")] = "sqlite",
    workload: Annotated[
        str | None,
        typer.Option(
            help="sqlite: ycsb-a | ycsb-b | ycsb-c | ycsb-f | orders | analytical (default ycsb-a); "
            "postgres: tpcb | select-only | simple-update | analytical (default tpcb); "
            "index: lognormal | uniform | normal | books | clustered (default lognormal), or the path "
            "of a SOSD key file (books_200M_uint64, ...; a file named like a generator as ./NAME)"
        ),
    ] = None,
    tuner: Annotated[
        str, typer.Option(help="random | optuna | rl, or a tuner a --plugin registers (comma-separated for several)")
    ] = "optuna",
    trials: Annotated[int, typer.Option(help="trials per tuner")] = 50,
    seed: Annotated[int, typer.Option(help="seed of every random choice (the same trials again only where the scores repeat: measured throughputs vary, --index-cost counted does not)")] = 0,
    out: Annotated[Path, output_option("output directory (results, best config, plot)")] = Path(
        "tune-out"
    ),
    rows: Annotated[
        int,
        typer.Option(
            help="SQLite rows (default 200000) / pgbench scale (default 10) / index keys "
            "(default 1000000; of a key file, an evenly spaced subset, or all of a smaller "
            "file); 0 = the default"
        ),
    ] = 0,
    duration: Annotated[float, typer.Option(help="seconds per measurement (sqlite; postgres rounds it to whole seconds, at least 1, after a 1 s warm-up)")] = 1.0,
    repeats: Annotated[
        int, typer.Option(help="measurements per trial (mean and spread reported)")
    ] = DEFAULT_REPEATS,
    allow_unsafe: Annotated[
        bool, typer.Option("--allow-unsafe", help="open settings that can lose committed data (sqlite, postgres)")
    ] = False,
    index_cost: Annotated[
        str,
        typer.Option(
            help="index: measured (lookup time over numpy.searchsorted's, timed: the scores and "
            "so the tuners' choices vary run to run) or counted (search steps counted: a run "
            "reproducible for a seed)"
        ),
    ] = "measured",
    final_repeats: Annotated[
        int,
        typer.Option(help="rounds measuring each tuner's best configuration and the baselines again, "
                     "interleaved, before `best` is chosen by their mean (the best of many noisy trials "
                     "overstates itself; they take about finalists x rounds x repeats x duration seconds more); "
                     "0 chooses by the trials alone; --index-cost counted takes "
                     "none (a count is the same every time)"),
    ] = DEFAULT_FINAL_REPEATS,
    turn: Annotated[
        int,
        typer.Option(help="with several tuners: trials each runs in its turn before the next one's, round after "
                     "round, so a machine whose speed drifts (other jobs starting or ending) slows every tuner "
                     "alike; the same trials as one go; 0 runs each tuner's trials in one go, one after another"),
    ] = DEFAULT_TURN,
    quiet: Annotated[bool, typer.Option("--quiet", help="no progress bar (as placer place's)")] = False,
    knobs: Annotated[
        bool,
        typer.Option("--knobs", help="print the knob space --system searches (values, defaults, units; "
                     "--allow-unsafe's too) and exit, measuring nothing"),
    ] = False,
    plugin: Annotated[
        list[str] | None,
        typer.Option("--plugin", help="module or .py file registering extra tuners (repeatable; "
                     "learned_systems.tuners.register_tuner) or index key generators "
                     "(learned_systems.datasets.GENERATORS)"),
    ] = None,
) -> None:
    """Tune knobs with random search, Optuna TPE or an RL agent; resumable, plotted."""
    from placer.interrupts import sigterm_as_interrupt

    try:
        with sigterm_as_interrupt():  # kill cleans up too (a PostgreSQL trial stops its server)
            _load_tuner_plugins(list(plugin or []))  # (their tuners are known to --tuner's check)
            if knobs:
                _print_knobs(system, workload, tuner, trials, seed, rows, duration, repeats, allow_unsafe, index_cost)
                return
            _run(system, workload, tuner, trials, seed, out, rows, duration, repeats, allow_unsafe, index_cost, quiet,
                 final_repeats, turn)
    except typer.Exit:
        raise
    except KeyboardInterrupt:
        if _stored_rows(out / "results.sqlite", trials_only=True):
            typer.echo(
                f"interrupted: every finished trial is saved in {out / 'results.sqlite'}; "
                "rerun the same command to resume",
                err=True,
            )
        elif _stored_rows(out / "results.sqlite"):  # (said "every finished trial is saved")
            typer.echo(f"interrupted before the first trial: the baselines' measurements are saved in "
                       f"{out / 'results.sqlite'}; rerun the same command to resume", err=True)
        else:
            typer.echo("interrupted before the first trial: nothing was saved", err=True)
        raise interrupted_exit() from None
    except _BadInput as error:
        _fail(str(error))
    except _TOLD_IN_ONE_LINE as error:  # (any other exception is a bug of ours: clean_errors
        # tells it with its traceback)
        _fail(str(error).splitlines()[0] if str(error) else type(error).__name__)


#: Plugin modules seen adding or replacing an index key generator as they loaded: a generator
#: need not be defined in its plugin (an imported function, a functools.partial), and a module
#: loaded again in one process is not run again.
_GENERATOR_PLUGINS: set[str] = set()


def _load_tuner_plugins(plugins: list[str]) -> None:
    """Load ``--plugin`` modules as ``placer place`` does (:class:`_BadInput` naming one that
    fails), with a note for one that registers neither a tuner nor an index key generator (the
    two things ``placer tune`` takes from a plugin; an index kind is tuned from Python, the
    command's space being the built-in kinds')."""
    from functools import partial

    from learned_systems.datasets import GENERATORS
    from learned_systems.tuners import available_tuners
    from learned_systems.tuners.registry import tuner_module
    from placer.algorithms.plugins import plugin_module_name
    from placer.commands.common import UsageError, load_plugins_named

    def registered_modules(plugin: str, before: Mapping[str, object]) -> set[str]:
        """The modules of the registered tuners and key generators, and ``plugin``'s own where
        it changed :data:`GENERATORS` (``before``: the entries as they were before it loaded)."""
        if GENERATORS.keys() != before.keys() or any(GENERATORS[name] is not old for name, old in before.items()):
            _GENERATOR_PLUGINS.add(plugin_module_name(plugin))
        return ({tuner_module(name) for name in available_tuners()}
                | {str(getattr(generate, "__module__", "")) for generate in GENERATORS.values()}
                | _GENERATOR_PLUGINS)  # fmt: skip

    try:
        for plugin in plugins:  # (one at a time: what each one added to GENERATORS is its own)
            before = dict(GENERATORS)
            load_plugins_named([plugin], partial(registered_modules, plugin, before), "tuner or index key generator")
    except UsageError as exc:
        raise _BadInput(str(exc)) from None


def _stored_rows(path: Path, trials_only: bool = False) -> int:
    """How many trials the results file holds (baselines included unless ``trials_only``); 0
    when there is none."""
    if not path.is_file():
        return 0
    where = " WHERE role = 'trial'" if trials_only else ""
    # a plain connection where the folder is writable: closing the last one removes the -wal
    # and -shm files, which a read-only one left beside an interrupted run's database
    # (absolute, never a URI by accident: SQLite reads a name starting with "file:" as one; and a
    # quoted URI: "file:{path}" read the folder "q#x" as the file "q", creating it empty)
    writable = os.access(path.parent, os.W_OK) and os.access(path, os.W_OK)
    target, uri = (str(path.absolute()), False) if writable else (f"{path.absolute().as_uri()}?mode=ro", True)
    try:
        with closing(sqlite3.connect(target, uri=uri)) as conn:
            return int(conn.execute(f"SELECT COUNT(*) FROM trials{where}").fetchone()[0])
    except sqlite3.Error:
        return 0


def _check_rows(system: str, rows: int) -> None:
    """Refuse a --rows the system cannot measure, in the flag's own words."""
    from learned_systems.config.workloads import MIN_ROWS
    from learned_systems.datasets import MAX_KEYS

    if rows < 0:
        raise _BadInput(f"--rows must be >= 0 (0: the default), got {rows}")
    if system == "sqlite" and 0 < rows < MIN_ROWS:
        raise _BadInput(f"--rows must be 0 (the default) or at least {MIN_ROWS} SQLite rows, got {rows}")
    if system == "index" and rows > MAX_KEYS:
        raise _BadInput(f"--rows must be at most {MAX_KEYS} index keys, got {rows}")
    if system == "index" and 0 < rows < MIN_INDEX_KEYS:
        raise _BadInput(f"--rows must be 0 (the default) or at least {MIN_INDEX_KEYS} index keys, got {rows}")


def _print_knobs(
    system: str, workload: str | None, tuner: str, trials: int, seed: int, rows: int, duration: float,
    repeats: int, allow_unsafe: bool, index_cost: str,
) -> None:
    """``--knobs``: the space the run would search, one line per knob with its unit (the
    numbers in best_config.json and results.sqlite are in these units, not the database's
    own: SQLite reads a bare cache_size as pages, PostgreSQL a bare shared_buffers as 8 kB
    pages; ``apply`` in best_config.json spells the units out). Only the space is built: no
    backend, so no server binaries, server user or disk are needed to read it."""
    from learned_systems.apply import knob_space
    from placer.commands.wrapping import hang_under_second_column, terminal_width

    _checked_options(system, workload, tuner, trials, seed, rows, duration, repeats, allow_unsafe, index_cost)
    space = knob_space(system, allow_unsafe)  # (--allow-unsafe is refused for index by the check above)
    width = terminal_width()  # (a knob's line wrapped under its values, not at the terminal's edge)
    print("\n".join(hang_under_second_column(line, width) for line in space.describe().splitlines()))


def _run(
    system: str,
    workload: str | None,
    tuner: str,
    trials: int,
    seed: int,
    out: Path,
    rows: int,
    duration: float,
    repeats: int,
    allow_unsafe: bool,
    index_cost: str = "measured",
    quiet: bool = False,
    final_repeats: int = DEFAULT_FINAL_REPEATS,
    turn: int = DEFAULT_TURN,
) -> None:
    """The command's work: check the options and ``out``, run the tuners (in turns of ``turn``
    trials) into ``out/results.sqlite`` under the folder's lock, measure the finalists again (``final_repeats``
    rounds), then write the report (``best_config.json``, ``best_so_far.png`` and ``.csv``) and print its
    summary."""
    from rich.console import Console

    from learned_systems.plots import plot_best_so_far
    from learned_systems.report import (
        best_after_final,
        best_config_report,
        best_overall,
        best_so_far_curves,
    )
    from learned_systems.results import ResultsStore
    from learned_systems.run_settings import run_settings
    from placer.folder_lock import exclusive_folder

    workload, tuners = _checked_options(
        system, workload, tuner, trials, seed, rows, duration, repeats, allow_unsafe, index_cost
    )
    if not 0 <= final_repeats <= MAX_REPEATS:
        raise _BadInput(f"--final-repeats must be a whole number from 0 to {MAX_REPEATS}, got {final_repeats}")
    if not 0 <= turn <= MAX_TRIALS:
        raise _BadInput(f"--turn must be a whole number from 0 to {MAX_TRIALS:,}, got {turn}")
    rounds, final_note = final_repeats, None
    if index_cost == "counted":  # (a count is the same every time: nothing to average)
        rounds, final_note = 0, "none: --index-cost counted gives the same count every time"
    elif final_repeats == 0:
        final_note = "none: --final-repeats 0 (the best chosen by its trials alone)"
    _check_out_folder(out)
    # built before the folder is made, so that a value it refuses leaves nothing behind (the
    # SQLite templates are built into OUT at the first trial, under the lock)
    objective = _objective(system, workload, rows or None, duration, repeats, allow_unsafe, seed, out, index_cost)
    # closed however the run ends, a busy folder included; one writer per folder, from its
    # templates to its report
    with _backend_closed_at_end(objective), exclusive_folder(out):
        out.mkdir(parents=True, exist_ok=True)
        label = objective.workload  # a key file's name, not its path
        run = f"{system}-{label}-{objective.space.name}"
        settings = run_settings(system, objective, repeats, _tuner_code(tuners))
        console = Console(stderr=True)
        with ResultsStore(out / "results.sqlite") as store:
            _claim_run(store, system, label, run, objective, settings, index_cost)
            summaries, beyond = _run_tuners(store, objective, run, tuners, trials, seed, console, quiet, turn)
            # after every trial is stored: a kill in the final rounds loses none of them
            finals = _final_rounds(store, run, objective, summaries, seed, rounds, console, quiet)
            other_runs = sorted(set(store.runs()) - {run})
            curves, others, plotted = best_so_far_curves(store, run, objective, summaries, seed)
        effective = objective.space.effective
        best = best_after_final(summaries, effective, finals) if finals else best_overall(summaries, effective)
        report = best_config_report(run, system, label, objective, seed, settings, summaries, best, allow_unsafe,
                         tuners, others, finals, final_note)
        from netlists.formats.textio import write_text_atomic

        # (a fresh temporary, removed when the write fails: a full disk left a 0-byte one)
        write_text_atomic(out / "best_config.json", json.dumps(report, indent=2, default=str))
        # after the summary it belongs to: a kill between them leaves the older plot
        plot_best_so_far(
            curves,
            out / "best_so_far.png",
            f"{system} {label}" + ("" if system == "index" else f" ({objective.space.name} space)")
            + f"\nscore = {_score_meaning(system, index_cost)}"  # (as the y label it ran out of the picture)
            + f"\n{_measured_with(system, settings)}",  # (two charts of other sizes or windows read alike)
            baselines=plotted,
            write_points=True,  # (its points as text, best_so_far.csv: a reader who cannot see it; tools)
        )
        lines = _summary_lines(out, run, system, objective, index_cost, seed, trials, summaries, beyond, best,
                               others, other_runs, finals)
        typer.echo("\n".join(lines))


def _checked_options(
    system: str,
    workload: str | None,
    tuner: str,
    trials: int,
    seed: int,
    rows: int,
    duration: float,
    repeats: int,
    allow_unsafe: bool,
    index_cost: str,
) -> tuple[str, list[str]]:
    """Refuse an option the run cannot take (:class:`_BadInput`, in the option's words, before
    ``run_tuning``'s own checks would); return the workload (its default where none was given)
    and the tuners, each once."""
    from learned_systems.config.factory import DEFAULT_WORKLOADS
    from learned_systems.tuners import available_tuners
    from learned_systems.tuners.registry import check_factory_signature, tuner_factory
    from learned_systems.validation import MAX_SEED

    if system not in SYSTEMS:
        raise _BadInput(f"unknown system {system!r}: expected one of {list(SYSTEMS)}")
    if workload is None:
        workload = DEFAULT_INDEX_DATASET if system == "index" else DEFAULT_WORKLOADS[system]
    if system == "index" and workload not in _workloads(system) and Path(workload).is_file():
        pass  # a SOSD key file (its format is checked as the run starts, before any trial)
    elif workload not in _workloads(system):
        what = "dataset" if system == "index" else "workload"
        files = " or the path of a SOSD key file (no such file)" if system == "index" else ""
        raise _BadInput(
            f"unknown {what} {workload!r} for {system}: expected one of {_workloads(system)}{files}"
        )
    names = [t.strip() for t in tuner.split(",")]
    if "" in names:  # ('random,,optuna' was taken, '' refused)
        raise _BadInput(f"--tuner names an empty tuner in {tuner!r}: expected names from {available_tuners()}, comma-separated")
    tuners = list(dict.fromkeys(names))  # each once (random,random: one run, said in the summary)
    for name in tuners:
        if name not in available_tuners():
            raise _BadInput(f"unknown tuner {name!r}: expected one of {available_tuners()}")
        try:  # (a plugin's factory of the wrong shape failed after the baselines were measured)
            check_factory_signature(name, tuner_factory(name))
        except TypeError as exc:
            raise _BadInput(str(exc)) from None
    if not 1 <= trials <= MAX_TRIALS:
        raise _BadInput(f"--trials must be a whole number from 1 to {MAX_TRIALS:,}, got {trials}")
    if not 0 <= seed <= MAX_SEED:  # Optuna's and the agent's generators take 32-bit seeds
        raise _BadInput(f"--seed must be a whole number from 0 to {MAX_SEED}, got {seed}")
    if not 0 < duration <= MAX_DURATION_S:  # (one message for both named neither)
        raise _BadInput(f"--duration must be a number of seconds in (0, {MAX_DURATION_S:g}], got {duration}")
    if not 1 <= repeats <= MAX_REPEATS:  # (10**20 repeats hung silently before the first trial)
        raise _BadInput(f"--repeats must be a whole number from 1 to {MAX_REPEATS}, got {repeats}")
    _check_rows(system, rows)
    if index_cost not in ("measured", "counted"):
        raise _BadInput(f"--index-cost must be measured or counted, got {index_cost!r}")
    if system != "index" and index_cost != "measured":
        raise _BadInput(f"--index-cost applies to --system index only (got --system {system})")
    if system == "index" and (duration != 1.0 or allow_unsafe):  # not silently ignored
        given = "--duration" if duration != 1.0 else "--allow-unsafe"
        raise _BadInput(f"{given} does not apply to --system index (it times a fixed query batch; every index is safe)")
    if index_cost == "counted" and repeats != DEFAULT_REPEATS:  # (kept in the run's settings:
        # a resume with another --repeats was refused for a setting that changed nothing)
        raise _BadInput("--repeats does not apply to --index-cost counted (a count is the same every time)")
    return workload, tuners


def _check_out_folder(out: Path) -> None:
    """Refuse an ``out`` the run could not write into, or whose files are in the way."""
    try:
        check_output_folder(out)
    except UsageError as exc:
        raise _BadInput(str(exc)) from None
    for name, want in (("results.sqlite", "file"), ("best_config.json", "file"), ("best_so_far.png", "file"),
                       ("best_so_far.csv", "file"), ("templates", "folder")):  # refused now, not after every trial has run
        path = out / name
        if path.exists() and path.is_dir() != (want == "folder"):
            raise _BadInput(f"--out {out}: {path} is in the way (expected a {want} or nothing there)")
    results = out / "results.sqlite"
    if results.exists() and not os.access(results, os.R_OK | os.W_OK):
        raise _BadInput(f"--out {out}: {results} cannot be written (resuming adds trials to it)")


def _tuner_code(tuners: list[str]) -> dict[str, str]:
    """Where each of ``tuners`` of one's own comes from (a ``--plugin``'s): its factory, a digest
    of its file's text as it was loaded and the file (``placer place`` records a plugin
    method's so); none for the built-in tuners."""
    from learned_systems.tuners.registry import is_builtin_tuner, loaded_tuner_text, tuner_factory
    from placer.algorithms.base import code_source

    return {name: code_source(tuner_factory(name), loaded_tuner_text(name))
            for name in tuners if not is_builtin_tuner(name)}  # fmt: skip


def _claim_run(
    store: Any, system: str, workload: str, run: str, objective: Any, settings: dict[str, Any], index_cost: str
) -> None:
    """Take ``run`` in the store under ``settings``: a resume under other settings, or of a
    tuner's trials by other code, is refused."""
    from learned_systems.results import SettingsMismatch
    from learned_systems.run_settings import UNCHOSEN_SETTINGS, settings_before
    from placer.algorithms.base import same_method_source

    if system == "index":  # earlier versions named the index's space "durable"
        store.rename_run(f"{system}-{workload}-durable", run, objective.space.name)
    try:
        # (counted costs take one count per trial: a run made with another --repeats,
        # before it was refused with them, resumes)
        store.claim_settings(run, settings, absent=settings_before(),
                             ignore=("repeats",) if index_cost == "counted" else (),
                             fixed=UNCHOSEN_SETTINGS, same_code=same_method_source)
    except SettingsMismatch as exc:
        raise _BadInput(str(exc)) from None


def _run_tuners(
    store: Any, objective: Any, run: str, tuners: list[str], trials: int, seed: int, console: Any,
    quiet: bool = False, turn: int = 0,
) -> tuple[list[Any], dict[str, int]]:
    """Run (or resume) each tuner's ``trials`` trials, ``turn`` at a time in rotating order (0:
    each in one go), with a progress bar per tuner (none if ``quiet``); return their summaries
    and, per tuner, how many stored trials lie past ``trials``."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from learned_systems.ranking import ConfigRanking
    from learned_systems.tuning import tune_in_turns

    with Progress(
        TextColumn("{task.fields[name]} seed " + str(seed)),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("best {task.fields[best]}"),
        TimeElapsedColumn(),
        console=console,
        disable=quiet,
    ) as bar:
        tasks = {name: bar.add_task(name, total=trials, best="-", name=name, start=False) for name in tuners}
        rankings = {name: ConfigRanking(objective.space.effective) for name in tuners}

        def on_turn(name: str, _seed: int, _upto: int) -> None:
            bar.start_task(tasks[name])  # (its clock from its first turn)

        def on_trial(name: str, _seed: int, index: int, result: Any, score: float | None) -> None:
            best = rankings[name].add(result.config, score)
            bar.update(tasks[name], completed=index + 1, best="-" if best is None else f"{best:.3g}")

        done = tune_in_turns(objective, [(name, seed) for name in tuners], trials, turn, store, run,
                             on_turn=on_turn, on_trial=on_trial)
    beyond = {name: len(store.rows(run=run, tuner=name, seed=seed, role="trial")) - trials for name in tuners}
    return [done[(name, seed)] for name in tuners], beyond


def _final_rounds(
    store: Any, run: str, objective: Any, summaries: list[Any], seed: int, rounds: int, console: Any,
    quiet: bool,
) -> dict[str, dict[str, Any]]:
    """Measure each tuner's best configuration and the baselines again, ``rounds`` interleaved
    rounds, with a progress bar (none if ``quiet``); empty for no rounds (see
    :func:`learned_systems.report.final_rounds`)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from learned_systems.report import final_rounds, finalists

    if rounds == 0:
        return {}
    total = rounds * len(finalists(summaries, objective.space.effective))
    with Progress(TextColumn(f"final rounds seed {seed}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, disable=quiet) as bar:  # fmt: skip
        task = bar.add_task("final", total=total)
        return final_rounds(store, run, objective, summaries, seed, rounds,
                            on_measured=lambda: bar.update(task, advance=1))


def _score_meaning(system: str, index_cost: str) -> str:
    """What a score is, in the summary's and the plot's words."""
    if system == "index":
        measure = "time" if index_cost == "measured" else "steps (counted)"
        return f"-(relative lookup {measure} + size in % of the keys)"
    return "throughput / the defaults' throughput"


def _measured_with(system: str, settings: dict[str, Any]) -> str:
    """How each trial was measured, from the run's stored settings, for the plot's title: the
    size (SQLite rows, pgbench scale, index keys and lookups), the seconds a window lasts and
    the measurements a trial takes (none for counted index costs: a count is the same each
    time)."""
    size = settings["rows"]
    if system == "index":
        parts = [f"{size:,} keys", f"{settings['queries']:,} lookups"]
    else:
        parts = [f"scale {size}" if system == "postgres" else f"{size:,} rows", f"{settings['duration_s']:g} s windows"]
    if settings.get("index_cost") != "counted":
        repeats = settings["repeats"]
        parts.append(f"{repeats} measurement{'' if repeats == 1 else 's'} per trial")
    return ", ".join(parts)


def _summary_lines(
    out: Path,
    run: str,
    system: str,
    objective: Any,
    index_cost: str,
    seed: int,
    trials: int,
    summaries: list[Any],
    beyond: dict[str, int],
    best: dict[str, Any] | None,
    others: list[str],
    other_runs: list[str],
    finals: dict[str, dict[str, Any]] | None = None,
) -> list[str]:
    """The summary printed at the end: the score's meaning, the baselines' and each tuner's
    scores, the best, notes on what the report leaves out, and where the files are."""
    from learned_systems.tuning import failure_causes_text

    reference = summaries[0].baseline_scores
    lines = [
        f"space: index parameters (every value is safe); score = {_score_meaning(system, index_cost)}, "
        "higher is better"
        if system == "index"
        else f"space: {objective.space.name}; score = {_score_meaning(system, index_cost)}"
    ]
    for role, score in reference.items():
        if score is None:  # (it said "score None": the reason was only in results.sqlite)
            error = summaries[0].baselines[role].error
            why = (str(error).strip().splitlines() or ["failed"])[0] if error else "no finite score"
            lines.append(f"{role}: no score ({why})")
        else:
            lines.append(f"{role}: score {score:.3f}")
    for s in summaries:
        lines.append(
            f"{s.tuner}: best score {s.best_score if s.best_score is None else f'{s.best_score:.3f}'}"
            f" ({s.failed} failed, {s.resumed} resumed)"
        )
        if s.failure_causes:  # (the causes were only in results.sqlite)
            lines.append(f"  {s.failed} failed: {failure_causes_text(s.failure_causes)}")
        if beyond[s.tuner] > 0:  # (the summary shrank to the first --trials without a word)
            lines.append(f"note: {s.tuner} seed {seed} has {beyond[s.tuner]} more stored trial(s) than "
                         f"--trials {trials}: left out of this summary (rerun with --trials "
                         f"{trials + beyond[s.tuner]} to count them)")
    if finals:  # (one noisy measurement each chose the best: three identical runs named random
        # best with 64.6, 158.6 and 98.3)
        rounds = max(len(f["scores"]) for f in finals.values())
        lines.append(f"final rounds ({rounds}, interleaved; mean ± spread over the rounds that ran):")
        for found_by, final in finals.items():
            figure = "failed" if final["mean"] is None else f"{final['mean']:.3f}{_spread(final)}"
            failed = f", {final['failed']} failed" if final["failed"] else ""
            lines.append(f"  {found_by}: {figure} (n {final['n']}{failed}; its trials' {final['trial_score']:.3f} "
                         f"over {final['trial_measurements']})")
    if best is not None and best.get("final"):
        final = best["final"]
        rounds_text = "of 1 final round" if final["n"] == 1 else f"mean of {final['n']} final rounds"
        lines.append(f"best: {best['found_by']} (score {best['score']:.3f}{_spread(final)}, {rounds_text})")
    elif best is not None:
        lines.append(f"best: {best['found_by']} (score {best['score']:.3f})")
    if others:
        lines.append(
            f"note: best_config.json covers this command's tuners and seed; the plot also "
            f"draws {', '.join(others)} of {run} from earlier commands (their trials are in "
            "results.sqlite, their best is not compared here)"
        )
    if other_runs:  # their trials stay in results.sqlite; the summary files are this run's
        lines.append(
            f"note: {out} also holds {', '.join(other_runs)}; best_config.json and "
            f"best_so_far.png/.csv now describe {run} (rerun a command to get its summary back; a run "
            "an older placer-gym measured may be refused, its trials stay in results.sqlite)"
        )
    lines.append(
        f"best configuration -> {out / 'best_config.json'}; plot -> {out / 'best_so_far.png'} "
        f"(points as text: {out / 'best_so_far.csv'})"
    )
    return lines


@contextmanager
def _backend_closed_at_end(objective: Any) -> Iterator[None]:
    """Close the objective's backend (its scratch folders: templates, a PostgreSQL cluster)
    when the run ends, however it ends, a second Ctrl-C held until the folders are gone: left
    to a finaliser at exit, a second Ctrl-C printed a traceback and cut the removal short."""
    from placer.interrupts import interrupts_deferred

    try:
        yield
    finally:
        backend = getattr(objective, "backend", None)  # (the index objective has none)
        if backend is not None:
            with interrupts_deferred():
                backend.close()


def register(app: typer.Typer) -> None:
    """Add the ``tune`` command to the main ``placer`` app."""
    app.command("tune")(tune)


def _spread(final: dict[str, Any]) -> str:
    """`` ± spread`` of a finalist's final rounds, or nothing for one round: the spread of one
    measurement is not 0, it is unknown (``± 0.000`` read as a steady figure)."""
    return f" ± {final['spread']:.3f}" if final["n"] > 1 and final["spread"] is not None else ""
