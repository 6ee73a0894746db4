"""Results store: every trial written to a SQLite file the moment it finishes, so a killed
tuning run resumes where it stopped. One row per trial, keyed by run, tuner, seed and index.

Beside a trial, in the same commit, a tuner may store its state (``tuner_states``: JSON text
the tuner writes and reads, never executed), so that a resumed run need not replay the
trials; an older placer-gym opens such a file and ignores that table."""

from __future__ import annotations

import errno
import json
import operator
import sqlite3
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from learned_systems.config.trial import TrialResult
from learned_systems.errors import InputError
from learned_systems.run_settings import TUNER_CODE
from learned_systems.tuners.base import TunerState
from netlists.formats.textio import json_loads

_SCHEMA = """
CREATE TABLE IF NOT EXISTS trials (
    run TEXT NOT NULL, tuner TEXT NOT NULL, seed INTEGER NOT NULL, trial INTEGER NOT NULL,
    role TEXT NOT NULL, system TEXT NOT NULL, workload TEXT NOT NULL, space TEXT NOT NULL,
    config TEXT NOT NULL, ok INTEGER NOT NULL, score REAL, throughput_mean REAL,
    throughput_std REAL, throughputs TEXT, unit TEXT, error TEXT, wall_seconds REAL, metrics TEXT,
    PRIMARY KEY (run, tuner, seed, role, trial)
);
CREATE TABLE IF NOT EXISTS run_settings (run TEXT PRIMARY KEY, settings TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tuner_states (
    run TEXT NOT NULL, tuner TEXT NOT NULL, seed INTEGER NOT NULL, trial INTEGER NOT NULL,
    proposal TEXT, sampler TEXT,
    PRIMARY KEY (run, tuner, seed, trial)
);
"""


#: The columns of each table, in order (a database of another layout is refused when opened).
_COLUMNS = {
    "trials": ["run", "tuner", "seed", "trial", "role", "system", "workload", "space", "config", "ok",
               "score", "throughput_mean", "throughput_std", "throughputs", "unit", "error",
               "wall_seconds", "metrics"],
    "run_settings": ["run", "settings"],
    "tuner_states": ["run", "tuner", "seed", "trial", "proposal", "sampler"],
}


def unusable_database(path: Path, exc: sqlite3.DatabaseError, otherwise: str) -> Exception:
    """An OSError naming ``path`` for a full disk or an I/O error (SQLite's SQLITE_FULL and
    SQLITE_IOERR, which read as a damaged database), else InputError(``path: otherwise (exc)``)."""
    code = getattr(exc, "sqlite_errorcode", 0) & 0xFF
    if code == sqlite3.SQLITE_FULL:
        return OSError(errno.ENOSPC, f"cannot write the results database: the disk is full ({exc})", str(path))
    if code == sqlite3.SQLITE_IOERR:
        return OSError(errno.EIO, f"cannot read or write the results database ({exc})", str(path))
    return InputError(f"{path}: {otherwise} ({exc})")


def _plain(value: Any) -> Any:
    """A numpy scalar or array as the Python number or list it holds (json's ``default``:
    called for what json cannot write itself); anything else is refused (TypeError)."""
    if isinstance(value, np.generic | np.ndarray):
        return value.tolist()
    raise TypeError(f"a {type(value).__name__} cannot be stored as JSON")


def _json_field(name: str, value: Any, sort_keys: bool = False) -> str:
    """A trial's field as JSON text, numpy values as plain ones (a backend's ndarray of
    throughputs failed eight frames deep in json); a TypeError naming the field otherwise."""
    try:
        return json.dumps(value, default=_plain, sort_keys=sort_keys)
    except (TypeError, ValueError) as exc:  # (ValueError: a circular reference)
        raise TypeError(f"the trial's {name} cannot be stored: {exc}") from None


def _number_field(name: str, value: Any) -> float | int | None:
    """A trial's number column as a plain Python number (a numpy scalar's value: SQLite
    refuses np.float32 and np.int64); a TypeError naming the field for anything else."""
    if isinstance(value, np.generic) or (isinstance(value, np.ndarray) and value.ndim == 0):
        value = value.item()
    if value is None or isinstance(value, int | float):
        return value
    raise TypeError(f"the trial's {name} must be a number, got {type(value).__name__} {value!r:.80}")


class SettingsMismatch(InputError):
    """A run stored under other measurement settings than the ones asked for now."""


def _recorded(value: Any) -> str:
    """A run setting as a refusal names it: ``not recorded`` where the run that stored it (an
    older placer-gym) or this run does not have it, rather than Python's ``None``."""
    return "not recorded" if value is None else repr(value)


class ResultsStore:
    """Append-only trial log in SQLite (WAL, synchronous=FULL: a stored trial survives a kill).

    Used from the thread that opened it (one store per thread; SQLite's connection refuses
    others with ``sqlite3.ProgrammingError``, raised as it is).

    Raises:
        ValueError: on opening a file that is not a usable results database.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.path.is_dir():
            raise InputError(f"{self.path} is a folder, not a results database")
        try:
            # absolute: SQLite (built with USE_URI) reads a name starting with "file:" as a URI,
            # whatever uri= says ("file:run?mode=memory" kept every trial in memory)
            self._conn = sqlite3.connect(self.path.absolute(), isolation_level=None)
        except sqlite3.Error as exc:
            raise InputError(f"{self.path}: cannot open a results database ({exc})") from None
        try:
            self._check_layout()  # before anything is written to a file of another kind
            self._conn.execute("PRAGMA journal_mode = WAL")
            self._conn.execute("PRAGMA synchronous = FULL")
            self._conn.executescript(_SCHEMA)
            self._check_layout()
        except sqlite3.DatabaseError as exc:  # corrupt, truncated, another file, read-only
            self._conn.close()
            raise self._unusable(exc) from None

    def _unusable(self, exc: sqlite3.DatabaseError) -> Exception:
        """The error to raise for ``exc``: a full disk or a failed read or write is an OSError
        naming the file (it read as a damaged database), a misuse of the store (another
        thread) the ProgrammingError itself, anything else a ValueError."""
        if isinstance(exc, sqlite3.ProgrammingError):  # (the file is fine: it read as damaged)
            return exc
        return unusable_database(self.path, exc, "not a usable results database")

    def _check_layout(self) -> None:
        """Refuse (sqlite3.DatabaseError) a database holding tables of another layout: another
        program's file (a placer batch's results.sqlite, Optuna's own storage) is not changed."""
        tables = {row[0] for row in self._conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")}
        if tables and "trials" not in tables:
            raise sqlite3.DatabaseError(
                f"it holds other tables ({', '.join(sorted(tables))}), not tuning trials"
            )
        for table, columns in _COLUMNS.items():
            if table in tables or "trials" in tables:
                have = [row[1] for row in self._conn.execute(f"PRAGMA table_info({table})")]
                if have and have != columns:
                    raise sqlite3.DatabaseError(
                        f"its {table} table has other columns ({', '.join(have)})"
                    )

    def runs(self) -> list[str]:
        """The runs stored (their rows are not read, so one damaged row elsewhere is no bar)."""
        try:
            return [row[0] for row in self._conn.execute(
                "SELECT DISTINCT run FROM trials ORDER BY run")]
        except sqlite3.DatabaseError as exc:
            raise self._unusable(exc) from None

    def close(self) -> None:
        """Close the database (a ``with`` block closes it on leaving)."""
        self._conn.close()

    def __enter__(self) -> ResultsStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def add(
        self,
        run: str,
        tuner: str,
        seed: int,
        trial: int,
        role: str,
        result: TrialResult,
        score: float | None,
        state: TunerState | None = None,
    ) -> None:
        """Store one trial (``role``: "default", "rule_of_thumb" or "trial") in its own commit,
        with the tuner's ``state`` in the same one when given (a kill cannot store the one
        without the other); a full disk is an OSError naming the file, as at opening (it said
        only "database or disk is full")."""
        try:
            if state is None:
                self._insert(run, tuner, seed, trial, role, result, score)
            else:
                self._insert_with_state(run, tuner, seed, trial, role, result, score, state)
        except sqlite3.DatabaseError as exc:
            error = self._unusable(exc)
            if isinstance(error, OSError):  # a full disk, an I/O error; anything else (a database
                raise error from None  # another process holds locked) stays as SQLite says it
            raise

    def _insert_with_state(
        self, run: str, tuner: str, seed: int, trial: int, role: str, result: TrialResult, score: float | None,
        state: TunerState,
    ) -> None:
        """The trial and its tuner state in one transaction. The sampler state is kept with the
        newest trial only (the earlier trials' is cleared in the same commit): a resume
        continues from the last trial, and a sampler's state can be kilobytes."""
        with self._transaction():
            self._insert(run, tuner, seed, trial, role, result, score)
            key = (run, tuner, seed)
            if state.sampler is not None:
                self._conn.execute(
                    "UPDATE tuner_states SET sampler = NULL WHERE run = ? AND tuner = ? AND seed = ? "
                    "AND trial <> ? AND sampler IS NOT NULL", (*key, trial))
            self._conn.execute("INSERT OR REPLACE INTO tuner_states VALUES (?,?,?,?,?,?)",
                               (*key, trial, state.proposal, state.sampler))

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """One write transaction: everything inside it is committed together, or rolled back on
        any exception (a kill included) and the exception raised again."""
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            if self._conn.in_transaction:  # (SQLite may have rolled back itself: a full disk)
                self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    def tuner_states(self, run: str, tuner: str, seed: int) -> dict[int, TunerState]:
        """The tuner states stored beside ``tuner``'s trials of ``run`` and ``seed``, by trial
        index (none for a store written before states were kept)."""
        try:
            fetched = self._conn.execute(
                "SELECT trial, proposal, sampler FROM tuner_states WHERE run = ? AND tuner = ? AND seed = ?",
                (run, tuner, seed),
            ).fetchall()
        except sqlite3.DatabaseError as exc:
            raise self._unusable(exc) from None
        return {int(trial): TunerState(proposal, sampler) for trial, proposal, sampler in fetched}

    def _insert(
        self, run: str, tuner: str, seed: int, trial: int, role: str, result: TrialResult, score: float | None
    ) -> None:
        self._conn.execute(
            "INSERT OR REPLACE INTO trials VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                run,
                tuner,
                seed,
                trial,
                role,
                result.system,
                result.workload,
                result.space,
                _json_field("config", result.config, sort_keys=True),
                int(result.ok),
                _number_field("score", score),
                _number_field("throughput_mean", result.throughput_mean),
                _number_field("throughput_std", result.throughput_std),
                _json_field("throughputs", result.throughputs),
                result.unit,
                result.error,
                _number_field("wall_seconds", result.wall_seconds),
                _json_field("metrics", result.metrics),
            ),
        )

    def rename_run(self, old: str, new: str, space: str) -> int:
        """Store ``old``'s rows and settings as run ``new`` of space ``space`` when ``new`` has
        none yet (a run named by an earlier version, resumed under its current name); returns
        the number of trials moved."""
        if self.count(new) or not self.count(old):
            return 0
        with self._transaction():  # every table or none (a kill in between)
            moved = self._conn.execute(
                "UPDATE trials SET run = ?, space = ? WHERE run = ?", (new, space, old)
            ).rowcount
            self._conn.execute("UPDATE OR REPLACE run_settings SET run = ? WHERE run = ?", (new, old))
            self._conn.execute("UPDATE OR REPLACE tuner_states SET run = ? WHERE run = ?", (new, old))
        return int(moved)

    def claim_settings(
        self, run: str, settings: dict[str, Any], absent: dict[str, Any] | None = None, ignore: tuple[str, ...] = (),
        fixed: tuple[str, ...] = (), same_code: Callable[[str, str], bool] = operator.eq,
    ) -> None:
        """Record the measurement settings of ``run`` (sizes, durations, repeats), or check them
        against those already recorded: resuming under other settings would rank new trials
        against old ones measured differently. ``absent``: what a setting missing from the
        stored ones means (a setting added since: the behaviour before it). ``ignore``: settings
        these runs do not depend on (left out of the comparison, e.g. repeats of counted costs).
        ``fixed``: settings no option chooses (they follow the package's version or the machine):
        a run that differs in one cannot be resumed at all, and the refusal says so.

        ``settings[TUNER_CODE]`` (tuner name -> its code, as ``same_code`` compares two) is
        checked tuner by tuner, for the tuners ``run`` holds trials of (another tuner may join
        the run; a tuner whose code was not recorded, stored by an older placer-gym, is taken
        at its word), and the tuners new to the run are added to the stored settings.

        Raises:
            SettingsMismatch: ``run`` was stored with other settings, or trials of one of the
                tuners by other code, naming each difference.
        """
        stored = self._settings_text(run)
        measured = self.count(run)
        if stored is None and measured:  # a store from before settings were kept
            raise SettingsMismatch(
                f"{self.path} holds {measured} trials of run {run!r} whose measurement settings "
                "were not recorded: they cannot be ranked with new ones; use another --out"
            )
        if stored is None or not measured:  # settings bind a run from its first stored row:
            self._conn.execute(  # one stopped before any (a wrong --duration) is not stuck
                "INSERT OR REPLACE INTO run_settings VALUES (?, ?)",
                (run, json.dumps(settings, sort_keys=True)),
            )
            return
        before = self._compare_settings(run, stored, settings, absent, ignore, fixed, "use another --out")
        self._claim_tuner_code(run, before, settings.get(TUNER_CODE) or {}, same_code)

    def check_settings(
        self, run: str, settings: dict[str, Any], absent: dict[str, Any] | None = None, ignore: tuple[str, ...] = (),
        fixed: tuple[str, ...] = (),
    ) -> None:
        """:meth:`claim_settings` without recording anything: ``run``'s stored settings, where it
        has trials and settings stored (a run of ``placer tune``), checked against ``settings``.

        Raises:
            SettingsMismatch: ``run`` was stored with other settings, naming each difference.
        """
        stored = self._settings_text(run)
        if stored is not None and self.count(run):
            self._compare_settings(run, stored, settings, absent, ignore, fixed, "name another run")

    def stored_settings(self, run: str) -> dict[str, Any] | None:
        """``run``'s stored settings as recorded (None where none are), e.g. to tell a run stored
        under an older set of names from one measured otherwise."""
        stored = self._settings_text(run)
        return None if stored is None else self._parsed_settings(run, stored)

    def _settings_text(self, run: str) -> str | None:
        """``run``'s stored settings as the JSON text kept (None where none are)."""
        row = self._conn.execute("SELECT settings FROM run_settings WHERE run = ?", (run,)).fetchone()
        return None if row is None else row[0]

    def _parsed_settings(self, run: str, stored: str) -> dict[str, Any]:
        """The JSON ``stored`` for ``run`` read as its settings; InputError where it holds none."""
        try:
            parsed = json_loads(stored)
        except json.JSONDecodeError:
            parsed = None
        if not isinstance(parsed, dict):
            raise InputError(f"{self.path}: the stored settings of run {run!r} are not readable")
        return parsed

    def measured_as(self, run: str) -> list[tuple[str, str]]:
        """Each (system, workload) that ``run``'s stored rows were measured on (sorted)."""
        found = self._conn.execute(
            "SELECT DISTINCT system, workload FROM trials WHERE run = ? ORDER BY system, workload", (run,)
        ).fetchall()
        return [(str(system), str(workload)) for system, workload in found]

    def _compare_settings(
        self, run: str, stored: str, settings: dict[str, Any], absent: dict[str, Any] | None,
        ignore: tuple[str, ...], fixed: tuple[str, ...], elsewhere: str,
    ) -> dict[str, Any]:
        """Refuse ``settings`` unlike the JSON ``stored`` for ``run`` (see :meth:`claim_settings`;
        the tuners' code is not compared here); ``elsewhere``: what the refusal suggests instead
        of a resume. Returns the stored settings as read."""
        before = stored_settings = self._parsed_settings(run, stored)
        # (only settings these runs record: a database run has no index_cost at all)
        before = {**{k: v for k, v in (absent or {}).items() if k in settings}, **before}
        compared = (set(before) | set(settings)) - set(ignore) - {TUNER_CODE}  # (tuner by tuner, below)
        keys = [k for k in sorted(compared) if before.get(k) != settings.get(k)]
        changed = [f"{key} {_recorded(before.get(key))} then, {_recorded(settings.get(key))} now" for key in keys]
        unchosen = [key for key in keys if key in fixed]
        if unchosen:  # ("rerun with the same settings" named settings no option sets)
            raise SettingsMismatch(
                f"{self.path} holds run {run!r} measured with other settings (" + "; ".join(changed)
                + f"): {', '.join(unchosen)} follow(s) this version of placer-gym and this machine, not an "
                f"option, so that run cannot be resumed here; {elsewhere}"
            )
        if changed:
            raise SettingsMismatch(
                f"{self.path} holds run {run!r} measured with other settings ("
                + "; ".join(changed)
                + f"): rerun with the same settings to resume it, or {elsewhere}"
            )
        return stored_settings

    def _claim_tuner_code(
        self, run: str, stored: dict[str, Any], code: Mapping[str, str], same_code: Callable[[str, str], bool]
    ) -> None:
        """Check each tuner's ``code`` against the code recorded in ``stored`` (``run``'s stored
        settings) where ``run`` holds trials of that tuner, then record the code of the tuners new
        to it (SettingsMismatch naming a tuner whose code changed)."""
        recorded = stored.get(TUNER_CODE) or {}
        if not isinstance(recorded, dict):
            raise InputError(f"{self.path}: the stored tuner code of run {run!r} is not readable")
        for tuner, now in code.items():
            then = recorded.get(tuner)
            if then is not None and not same_code(str(then), now) and self._tuner_rows(run, tuner):
                raise SettingsMismatch(
                    f"{self.path} holds trials of tuner {tuner!r} in run {run!r} made by other code "
                    f"({then} then, {now} now): resumed, it would go on from proposals its code no "
                    "longer makes; use another --out, or put back the code that made them"
                )
        if any(recorded.get(tuner) != now for tuner, now in code.items()):
            self._conn.execute(
                "UPDATE run_settings SET settings = ? WHERE run = ?",
                (json.dumps({**stored, TUNER_CODE: {**recorded, **code}}, sort_keys=True), run),
            )

    def _tuner_rows(self, run: str, tuner: str) -> int:
        """How many trials of ``tuner`` (any seed) ``run`` holds."""
        return int(self._conn.execute(
            "SELECT COUNT(*) FROM trials WHERE run = ? AND tuner = ?", (run, tuner)).fetchone()[0])

    def count(self, run: str) -> int:
        """How many rows (baselines and trials, ok or failed) ``run`` has."""
        return int(self._conn.execute("SELECT COUNT(*) FROM trials WHERE run = ?", (run,)).fetchone()[0])

    def rows(
        self,
        run: str | None = None,
        tuner: str | None = None,
        seed: int | None = None,
        role: str | None = None,
    ) -> list[dict[str, Any]]:
        """Stored trials matching the filters, in trial order."""
        clauses, values = [], []
        for column, value in (("run", run), ("tuner", tuner), ("seed", seed), ("role", role)):
            if value is not None:
                clauses.append(f"{column} = ?")
                values.append(value)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        try:
            cursor = self._conn.execute(
                f"SELECT * FROM trials {where} ORDER BY run, tuner, seed, trial", values
            )
            names = [d[0] for d in cursor.description]
            fetched = cursor.fetchall()
        except sqlite3.DatabaseError as exc:  # damaged pages show up only when read
            raise self._unusable(exc) from None
        return [self._parsed(dict(zip(names, row, strict=True))) for row in fetched]

    def _parsed(self, record: dict[str, Any]) -> dict[str, Any]:
        """A stored row with its JSON columns read, or a ValueError naming the file and row."""
        try:
            record["config"] = json_loads(record["config"])
            record["throughputs"] = json_loads(record["throughputs"] or "[]")
            record["metrics"] = json_loads(record["metrics"] or "{}")
            kinds = (("config", dict), ("throughputs", list), ("metrics", dict))
            wrong = [name for name, kind in kinds if not isinstance(record[name], kind)]
            if wrong:
                raise ValueError(f"{', '.join(wrong)} of the wrong kind")
        except (TypeError, ValueError) as exc:
            raise InputError(
                f"{self.path}: stored trial {record['trial']} of {record['tuner']} seed "
                f"{record['seed']} in run {record['run']!r} is not readable ({exc})"
            ) from None
        record["ok"] = bool(record["ok"])
        return record

    @staticmethod
    def to_result(row: dict[str, Any]) -> TrialResult:
        """Rebuild a :class:`TrialResult` from a stored row (used when resuming); an ok row
        without a throughput (written by hand or another tool) is a failed trial, not 0."""
        measured = row["throughput_mean"] is not None
        return TrialResult(
            row["system"],
            row["workload"],
            row["space"],
            row["config"],
            bool(row["ok"]) and measured,
            row["throughput_mean"] or 0.0,
            row["throughput_std"] or 0.0,
            row["throughputs"],
            row["unit"] or "",
            row["error"] if measured or not row["ok"] else "stored without a throughput",
            row["wall_seconds"] or 0.0,
            row["metrics"],
        )
