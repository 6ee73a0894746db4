"""What the runs behind each leaderboard cell record of how they were made: the code (git
commit, a dirty checkout) and the machine (host, CPU, load, CPU seconds, the batch's jobs).

The budget is wall-clock and built-in methods carry one package version whatever their code,
so a column can mix two versions of a method, and a cell run beside other work got less of a
CPU in its seconds than its neighbours: neither showed on the page. :func:`with_run_facts` adds
these columns to the CSV's cells; :func:`run_fact_notes` names on the page the columns made by
more than one commit, the cells whose runs shared their CPU, and runs from several hosts."""

from __future__ import annotations

import numpy as np
import pandas as pd

from placer.leaderboard.table import best_seed_rows, method_labels, ok_rows

#: Columns :func:`with_run_facts` adds to the leaderboard CSV, after the table's own.
RUN_FACT_COLUMNS = ("git_commit", "cpu_s", "cpu_ratio", "load_1m", "jobs", "host", "cpu_count", "cpu_model")

#: A run whose CPU seconds fall below this share of its wall seconds waited for its CPU (other
#: work shared it): named on the page. A method running several threads can reach 1 while
#: sharing, so the ratio only ever errs towards silence.
SHARED_CPU_RATIO = 0.8

#: Runs shorter than this (seconds) are not judged by their ratio (start-up noise).
SHARED_CPU_MIN_S = 0.5

_READ = ["design", "method", "seed", "proxy", "seconds", "cpu_s", "load_1m", "jobs", "host", "cpu_count",
         "cpu_model", "git_commit", "git_dirty", "overlap_area", "out_of_canvas"]


def ok_runs_with_facts(runs: pd.DataFrame) -> pd.DataFrame:
    """The ok runs with the columns read here (a column older rows lack as all-None), ``method``
    as the table's columns name it (``method@budget`` over several budgets), ``code`` the
    commit they were made at (``+dirty``: with uncommitted changes): what :func:`with_run_facts`
    and :func:`run_fact_notes` read, made once per page."""
    ok = ok_rows(runs, _READ)  # (the columns read, not a copy of every column of every run)
    if not runs.empty:  # (labels of the ok rows only: assigned to an empty frame, a Series brought its whole index)
        ok = ok.assign(method=method_labels(runs).loc[ok.index])
    ok = ok.reindex(columns=_READ)
    commit = ok["git_commit"].where(ok["git_commit"].notna() & (ok["git_commit"].astype(str) != ""))
    dirty = pd.to_numeric(ok["git_dirty"], errors="coerce").fillna(0) > 0
    code = commit.astype(object).where(commit.isna(), commit.astype(str) + np.where(dirty, "+dirty", ""))
    return ok.assign(code=code.fillna("none"), cpu_s=pd.to_numeric(ok["cpu_s"], errors="coerce"),
                     seconds=pd.to_numeric(ok["seconds"], errors="coerce"),
                     load_1m=pd.to_numeric(ok["load_1m"], errors="coerce"))


def _distinct(values: pd.Series) -> str | float:
    """A cell's distinct recorded values in their order, joined by spaces (NaN: none recorded;
    whole numbers written as such)."""
    seen = list(dict.fromkeys(_as_text(values).dropna()))
    return " ".join(seen) if seen else np.nan


def _as_text(values: pd.Series) -> pd.Series:
    """``values`` as :func:`_distinct` writes each (whole numbers as such), NaN for none or
    ``""``. Formats each distinct value once: a column holds few of them however many rows."""
    kept = values[values.notna()]
    kept = kept[kept.astype(str) != ""]
    written = {v: str(int(v)) if isinstance(v, float) and v.is_integer() else str(v) for v in kept.unique()}
    return kept.map(written).reindex(values.index)


def _distinct_per_cell(ok: pd.DataFrame, column: str) -> pd.Series:
    """:func:`_distinct` of ``column`` for every (design, method) cell of ``ok`` at once (one
    ``drop_duplicates`` and a join per cell, not a Python call per cell: 100,000 rows are
    10,000 cells); cells recording none are absent."""
    text = _as_text(ok[column])
    if text.isna().all():  # a column no row records (runs made before it was): nothing to join
        return pd.Series(dtype=object, index=pd.MultiIndex.from_tuples([], names=["design", "method"]), name=column)
    rows = ok[["design", "method"]].assign(**{column: text}).dropna(subset=[column]).drop_duplicates()
    return rows.groupby(["design", "method"], sort=False)[column].agg(" ".join)


def with_run_facts(table: pd.DataFrame, ok: pd.DataFrame, aggregate: str = "best") -> pd.DataFrame:
    """``table`` (the leaderboard's cells) with :data:`RUN_FACT_COLUMNS` from its ok runs
    (:func:`ok_runs_with_facts`):
    ``git_commit`` every commit its seeds were made at (several, space-separated, when they
    differ; ``+dirty``: uncommitted changes; ``none``: not recorded beside one that is),
    ``cpu_s``, ``cpu_ratio`` (CPU over wall seconds) and ``load_1m`` of the cell's shown seed
    (``aggregate="best"``) or their means, and the distinct ``jobs``, ``host``, ``cpu_count``
    and ``cpu_model`` of its seeds. Blank for ``initial``, kept cells and runs recording none."""
    facts = pd.DataFrame(columns=["design", "method", *RUN_FACT_COLUMNS])
    if not ok.empty:
        groups = ok.groupby(["design", "method"], sort=False)
        if aggregate == "best":
            timed = best_seed_rows(ok).set_index(["design", "method"])[["cpu_s", "seconds", "load_1m"]]
        else:
            timed = groups[["cpu_s", "seconds", "load_1m"]].mean()
        timed["cpu_ratio"] = timed["cpu_s"] / timed["seconds"].where(timed["seconds"] > 0)
        recorded = ok["code"] != "none"  # a cell none of whose seeds recorded a commit: blank
        cells = pd.MultiIndex.from_frame(ok[["design", "method"]])
        codes = _distinct_per_cell(ok[cells.isin(cells[recorded.to_numpy()])], "code").rename("git_commit")
        texts = [_distinct_per_cell(ok, column) for column in ("jobs", "host", "cpu_count", "cpu_model")]
        facts = timed.drop(columns="seconds").join([codes, *texts]).reset_index()
    merged = table.merge(facts[["design", "method", *RUN_FACT_COLUMNS]], on=["design", "method"], how="left")
    merged.index = table.index
    return merged


def run_fact_notes(ok: pd.DataFrame) -> list[str]:
    """The page's notes on how the cells were made (from :func:`ok_runs_with_facts`):
    :func:`_commit_mix_note`, :func:`_shared_cpu_note`, :func:`_hosts_note`."""
    if ok.empty:
        return []
    return _commit_mix_note(ok) + _shared_cpu_note(ok) + _hosts_note(ok)


def listed(names: list[str], most: int = 8) -> str:
    """``names`` joined, the first ``most`` of them and how many more (the page's notes)."""
    return ", ".join(names[:most]) + (f" and {len(names) - most} more" if len(names) > most else "")


def _counted(values: pd.Series) -> str:
    """Each distinct value with its number of runs (``abc1234567 (6 runs)``), most first."""
    counts = values.value_counts(sort=True)
    return ", ".join(f"{v} ({n} run{'s' if n > 1 else ''})" for v, n in counts.items())


def short_code(code: str) -> str:
    """A run's ``code`` (:func:`ok_runs_with_facts`) as a page names it: the commit's first ten
    characters, ``+dirty`` kept; ``none`` as it is."""
    return code if code == "none" else code.split("+")[0][:10] + ("+dirty" if code.endswith("+dirty") else "")


def machine_label(host: object, cpu_model: object, cpu_count: object) -> str:
    """A machine as a page names it: its host, then its CPU model and core count where recorded
    (``host (AMD EPYC, 2 CPUs)``); a missing host is "a host not recorded"."""
    detail = [*([cpu_model] if isinstance(cpu_model, str) and cpu_model else []),
              *([f"{cpu_count} CPUs"] if isinstance(cpu_count, str) and cpu_count else []),
              *([f"{int(cpu_count)} CPUs"] if isinstance(cpu_count, (int, float)) and cpu_count == cpu_count else [])]
    name = host if isinstance(host, str) and host else "a host not recorded"
    return f"{name} ({', '.join(detail)})" if detail else name


def _commit_mix_note(ok: pd.DataFrame) -> list[str]:
    """A note naming every column whose runs were made at more than one commit (a checkout
    with uncommitted changes, or one recording none, counting as another), with the commits:
    the header's list of commits did not say that one column held two versions of its code."""
    short = ok["code"].map(short_code)
    mixed = [(m, _counted(short[ok["method"] == m])) for m, n in ok.groupby("method")["code"].nunique().items() if n > 1]
    dirty = sorted(set(ok.loc[ok["code"].str.endswith("+dirty"), "method"]))
    notes = []
    if mixed:
        shown = "; ".join(f"`{m}`: {commits}" for m, commits in mixed)
        notes.append(f"Columns made by more than one version of the code (git commit; `none`: not recorded): "
                     f"{shown}. Their cells compare runs of different code; `git_commit` in the CSV gives "
                     "each cell's.")
    if dirty:
        notes.append(f"Runs of {', '.join(f'`{m}`' for m in dirty)} were made from a checkout with "
                     "uncommitted changes (`+dirty`): their commit does not say all of their code.")
    return notes


def _shared_cpu_note(ok: pd.DataFrame) -> list[str]:
    """A note naming the cells with runs whose CPU seconds were well below their wall seconds
    (:data:`SHARED_CPU_RATIO`): other work shared their CPU, so their wall-clock budget bought
    less search than an idle machine's."""
    judged = ok[ok["cpu_s"].notna() & (ok["seconds"] >= SHARED_CPU_MIN_S)]
    ratio = judged["cpu_s"] / judged["seconds"]
    low = judged.assign(ratio=ratio, low=ratio < SHARED_CPU_RATIO)
    counts = low.groupby(["design", "method"], sort=True).agg(n=("low", "size"), k=("low", "sum"), least=("ratio", "min"))
    counts = counts[counts["k"] > 0]
    if counts.empty:
        return []
    cells = [f"{d}/{m} ({int(r.k)} of {int(r.n)} seed(s), CPU/wall down to {r.least:.2f})"
             for (d, m), r in counts.iterrows()]
    return [f"Runs that shared their CPU (CPU seconds under {SHARED_CPU_RATIO:.0%} of their wall seconds: the "
            f"machine was busy with other work) in {listed(cells)}; their budget bought less search than "
            "an idle CPU's (`cpu_ratio`, `load_1m` and `jobs` in the CSV)."]


def _hosts_note(ok: pd.DataFrame) -> list[str]:
    """A note when the runs come from more than one host (those recording none, made before
    hosts were recorded, counted beside them but not as another): wall-clock budgets compare
    only on one machine."""
    hosts = ok["host"].where(ok["host"].notna() & (ok["host"].astype(str) != ""))
    if hosts.nunique() < 2:
        return []
    described = pd.Series("a host not recorded", index=ok.index, dtype=object)
    for host in hosts.dropna().unique():  # each host with its CPU
        on = hosts == host
        described[on] = machine_label(str(host), _distinct(ok.loc[on, "cpu_model"]), _distinct(ok.loc[on, "cpu_count"]))
    counts = described.value_counts(sort=True)
    shown = ", ".join(f"{n} run{'s' if n > 1 else ''} on {where}" for where, n in counts.items())
    return [f"The runs come from more than one machine: {shown}; wall-clock budgets compare only on one "
            "machine (`host` in the CSV gives each cell's)."]
