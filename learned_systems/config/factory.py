"""Build a database backend by name, so callers (envs, CLI, benchmarks) need no backend imports."""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from learned_systems.errors import InputError

if TYPE_CHECKING:
    from learned_systems.config.postgres_backend import PostgresBackend
    from learned_systems.config.sqlite_backend import SQLiteBackend

SYSTEMS = ("sqlite", "postgres")

#: The workload each system runs when none is named.
DEFAULT_WORKLOADS = {"sqlite": "ycsb-a", "postgres": "tpcb"}

#: The unit of each system's throughput (pgbench counts transactions, the SQLite workloads
#: operations).
THROUGHPUT_UNITS = {"sqlite": "ops/s", "postgres": "tps"}

#: Options each system's backend takes beyond the common ones.
OPTIONS = {"sqlite": {"ops_per_transaction"}, "postgres": {"clients", "warmup_s"}}


def parameter_names(function: Callable[..., object]) -> list[str]:
    """The named parameters of ``function`` (not ``self`` nor its ``*args`` / ``**options``)."""
    kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    return [p.name for p in inspect.signature(function).parameters.values() if p.kind in kinds and p.name != "self"]


def check_backend_options(system: str, options: Iterable[str], parameters: Iterable[str], caller: str) -> None:
    """Refuse an option ``system``'s backend does not take (InputError naming ``caller``'s own
    ``parameters`` and the system's options, with the closest name: "did you mean
    duration_s?"); an unknown system is left to its own check."""
    if system not in OPTIONS:
        return
    unknown = sorted(set(options) - OPTIONS[system])
    if not unknown:
        return
    own = list(parameters)
    close = difflib.get_close_matches(unknown[0], [*own, *sorted(OPTIONS[system])], n=1)
    hint = f"did you mean {close[0]}? " if close else ""
    raise InputError(
        f"unknown option {unknown[0]!r} for {system}: {hint}({caller} takes {', '.join(own)}; {system}'s own "
        f"options: {', '.join(sorted(OPTIONS[system]))})"
    )


def make_backend(
    system: str,
    workload: str | None = None,
    *,
    rows: int | None = None,
    duration_s: float = 1.0,
    repeats: int = 3,
    allow_unsafe: bool = False,
    template_dir: str | Path | None = None,
    seed: int = 0,
    min_transactions: int | None = None,
    **options: Any,
) -> SQLiteBackend | PostgresBackend:
    """The backend for ``system`` ("sqlite" or "postgres") running ``workload`` (None: the
    system's :data:`DEFAULT_WORKLOADS` entry).

    ``min_transactions`` is SQLite's least number of transactions per measurement window
    (None: the backend's default; pgbench windows are timed by pgbench itself).
    ``rows`` is SQLite's rows or PostgreSQL's pgbench scale (None: the backend's default; PostgreSQL
    also reads 0 so).
    ``template_dir`` keeps SQLite's template databases; PostgreSQL builds its template cluster
    in the backend's own scratch folder, so it is refused there.
    """
    check_backend_options(system, options, parameter_names(make_backend), "make_backend")
    if system == "sqlite":
        from learned_systems.config.sqlite_backend import SQLiteBackend
        from learned_systems.config.workloads import make_workload

        return SQLiteBackend(
            make_workload(DEFAULT_WORKLOADS[system] if workload is None else workload, rows=rows, **options),
            duration_s=duration_s,
            repeats=repeats,
            allow_unsafe=allow_unsafe,
            template_dir=template_dir,
            seed=seed,
            **({} if min_transactions is None else {"min_transactions": min_transactions}),
        )
    if system == "postgres":
        from learned_systems.config.postgres_backend import PostgresBackend
        from learned_systems.validation import whole_number

        if template_dir is not None:
            raise InputError("template_dir is for SQLite; a PostgreSQL backend keeps its own")
        if rows is not None:  # (in the caller's word: PostgresBackend's own check names its scale)
            whole_number("rows (for PostgreSQL pgbench's scale; 0: the default 10)", rows, 0)

        return PostgresBackend(
            DEFAULT_WORKLOADS[system] if workload is None else workload,
            scale=rows,
            duration_s=duration_s,
            repeats=repeats,
            allow_unsafe=allow_unsafe,
            seed=seed,
            **options,
        )
    raise InputError(f"unknown system {system!r}: expected one of {list(SYSTEMS)}")
