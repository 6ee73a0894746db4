"""The runs a leaderboard is made of: every row of one or more runs folders' ``results.sqlite``
read into one DataFrame (:func:`load_runs`), rows no batch writes refused, and runs that cannot be
pooled refused: two different runs under one key, one method run with different options, two
designs under one name. See :mod:`placer.leaderboard`."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

import numpy as np
import pandas as pd

from netlists.errors import InputError
from netlists.formats.textio import json_loads
from placer.leaderboard.compact import frame_of_row_chunks
from placer.results import (
    DB_NAME,
    KEY_COLUMNS,
    STATUS_FAILED,
    STATUS_OK,
    ResultStore,
    canonical_options,
    same_design_file,
)

RunsDirs = str | Path | Sequence[str | Path]
T = TypeVar("T")
R = TypeVar("R")


METRICS = ("proxy", "wirelength", "density", "congestion", "timing", "seconds")


#: The number columns of a runs table.
NUMERIC_COLUMNS = (*METRICS, "timing_model", "overlap_area", "out_of_canvas", "budget_s", "initial_proxy",
                    "initial_wirelength", "initial_density", "initial_congestion", "initial_overlap_area",
                    "initial_out_of_canvas", "cpu_s", "load_1m")


def runs_folders(runs_dirs: RunsDirs) -> list[Path]:
    """``runs_dirs`` as a non-empty list of folders."""
    folders = [Path(runs_dirs)] if isinstance(runs_dirs, str | Path) else [Path(d) for d in runs_dirs]
    if not folders:
        raise InputError("no runs folder given")
    return folders


def load_runs(runs_dirs: RunsDirs) -> pd.DataFrame:
    """Every row (ok and failed) of each folder's ``results.sqlite`` as one DataFrame, with its
    folder in ``runs_dir`` (``plc_path`` is relative to it); a run in several folders is kept
    once (an ok row before a failed one, then the earlier folder)."""
    frames = []
    for order, folder in enumerate(runs_folders(runs_dirs)):
        db = folder / DB_NAME
        if not db.is_file():
            raise FileNotFoundError(
                2, "no results database (run placer place --suite first)", str(db)
            )
        # (no rows: no columns, as the frame of no records had; pandas then types the pooled
        # columns by the other folders' rows alone)
        frame = frame_of_row_chunks(*ResultStore(db, read_only=True).row_chunks())
        _refuse_bad_rows(frame, db)
        frames.append(frame.assign(runs_dir=str(folder), _folder=order))
    runs = pd.concat(frames, ignore_index=True)
    if runs.empty:
        return runs.drop(columns="_folder")
    # numbers as floats: a metric no ok row has (NULL everywhere) came back as an object column
    for column in NUMERIC_COLUMNS:
        if column in runs.columns:
            runs[column] = pd.to_numeric(runs[column], errors="coerce").astype(float)
    # an ok row without a cost (written by hand or by another tool) counts as failed
    runs = runs.assign(_failed=(runs["status"] != STATUS_OK) | runs["proxy"].isna())
    runs.loc[runs["_failed"] & (runs["status"] == STATUS_OK), "status"] = STATUS_FAILED
    # (the ok runs' columns the checks read, not a copy of every column)
    ok = runs.loc[~runs["_failed"], [c for c in _CHECKED_COLUMNS if c in runs.columns]]
    _refuse_option_clashes(ok)
    _refuse_code_clashes(ok)
    _refuse_design_clashes(runs)
    _refuse_runs_numbered_alike(ok)
    del ok
    keys = list(KEY_COLUMNS)
    if runs.duplicated(keys).any():  # (runs of one folder hold each key once)
        runs = runs.sort_values(["_failed", "_folder"], kind="stable")
        runs = runs.drop_duplicates(subset=keys, keep="first")
    runs = runs.drop(columns=["_failed", "_folder"])
    # (one folder's rows come in key order already: the key columns are sorted, not the table)
    order = runs[keys].sort_values(keys, kind="stable").index
    if not order.equals(runs.index):
        runs = runs.loc[order]
    return runs.reset_index(drop=True)


#: The columns of the ok runs that the pooling checks read (see :func:`load_runs`).
_CHECKED_COLUMNS = (*KEY_COLUMNS, "options", "method_source", "runs_dir", "proxy", "seconds", "timing",
                    "plc_attempt")


def _refuse_bad_rows(frame: pd.DataFrame, db: Path) -> None:
    """ValueError naming the first row of ``db`` that no batch writes (edited by hand, another
    tool): a status other than ok / failed, a figure that is text or infinite, a budget that
    is no number of seconds. (An inf proxy made its method's mean inf; text or an unknown status
    read as a failed run, and an out_of_canvas of 'x' as legal.) A missing figure is allowed:
    an ok row without a proxy counts as failed."""
    if frame.empty:
        return

    def where(i: int) -> str:
        row = frame.iloc[i]
        return f"{db}: the run {row['design']}/{row['method']}/seed{row['seed']}"  # (as its .plc's path)

    bad_status = ~frame["status"].isin([STATUS_OK, STATUS_FAILED])
    if bad_status.any():
        i = int(np.flatnonzero(bad_status.to_numpy())[0])
        raise InputError(f"{where(i)} has status {frame['status'].iloc[i]!r} (expected ok or failed)")
    # (a seed or budget of the wrong kind, text or inf, is refused as the rows are read:
    # ResultStore.row_values; a negative budget is refused here)
    for column in [c for c in NUMERIC_COLUMNS if c in frame.columns]:
        values = frame[column]
        numbers = pd.to_numeric(values, errors="coerce").astype(float)
        bad = values.notna() & ~np.isfinite(numbers)
        if column == "budget_s":
            bad |= numbers < 0
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            expected = "a number of seconds >= 0" if column == "budget_s" else "a finite number"
            value = values.iloc[i]
            shown = repr(value) if isinstance(value, str) else f"{float(value):g}"
            raise InputError(f"{where(i)} has {column} {shown} (expected {expected})")
    if "options" in frame.columns:  # (text that is no JSON read as one more spelling of them;
        ok = frame["status"] == STATUS_OK  # a failed run's options pool with nothing)
        # (each distinct text parsed once: every run of a method shares its options text)
        bad_texts = [t for t in pd.unique(frame.loc[ok, "options"]) if isinstance(t, str) and t and not _is_json_object(t)]
        if bad_texts:
            i = int(np.flatnonzero((ok & frame["options"].isin(bad_texts)).to_numpy())[0])
            raise InputError(f"{where(i)} has options {frame['options'].iloc[i]!r} (expected a JSON object)")


def once_per_value(compute: Callable[[T], R]) -> Callable[[T], R]:
    """``compute`` remembering its answer per value, for one pass over a column: every run of
    a method shares its options text, and parsing it per row took ~12 of the 40 s that 100,000
    rows took to load (``experiments/bench/leaderboard_scale.py``)."""
    return functools.lru_cache(maxsize=None)(compute)


def _is_json_object(text: str) -> bool:
    return isinstance(_json_or_none(text), dict)


def _json_or_none(text: str) -> object:
    try:
        return json_loads(text)
    except ValueError:
        return None


def _refuse_runs_numbered_alike(ok: pd.DataFrame) -> None:
    """Refuse two folders holding different runs under one key (design, method, seed, budget):
    every batch numbers its seeds from 0, so two batches of one method both hold a seed 0, and
    the first folder's was kept without a word (the table hung on the order of the folders).
    The same run in two folders (a copy) is kept once."""
    # (only keys held more than once can clash: one folder holds each key once)
    twice = ok[ok.duplicated(list(KEY_COLUMNS), keep=False)]
    if twice.empty:
        return
    # a run is its attempt (the id its .plc carries); a row from before attempts, its figures
    figures = twice["proxy"].map(repr) + "/" + twice["seconds"].map(repr) + "/" + twice["timing"].map(repr)
    identity = twice["plc_attempt"].where(twice["plc_attempt"].notna(), figures) if "plc_attempt" in twice else figures
    results = twice.assign(_run=identity).groupby(list(KEY_COLUMNS))["_run"].nunique()
    clashes = results[results > 1]
    if clashes.empty:
        return
    design, method, seed, budget = clashes.index[0]
    same = ok[(ok["design"] == design) & (ok["method"] == method) & (ok["seed"] == seed) & (ok["budget_s"] == budget)]
    found = "; ".join(f"proxy {r.proxy!r} in {r.runs_dir}" for r in same.itertuples())
    raise InputError(
        f"{method} on {design}, seed {seed} ({budget:g} s) was run by separate batches into several "
        f"folders ({found}; each batch's run is its own, even where the figures agree): each batch "
        "numbers its seeds from 0; for more seeds, run one batch with --seeds N (or --resume into "
        "the same folder with a larger --seeds)"
    )


def _refuse_option_clashes(ok: pd.DataFrame) -> None:
    """Refuse to pool runs of one method (at one budget) made with different method options,
    on one design or across designs, in one folder or several: one table cell or one column
    would mix two settings, and name neither (the same seed twice, two seeds each with its own
    options, or one design's runs with other options than the rest of the column)."""
    cell = ["method", "budget_s"]
    # as the batch compares them: {"w": 1} and {"w": 1.0} are the same options
    options = ok.assign(options=ok["options"].map(once_per_value(canonical_options))).groupby(cell)["options"].nunique()
    clashes = options[options > 1]
    if clashes.empty:
        return
    method, budget = clashes.index[0]
    same = ok[(ok["method"] == method) & (ok["budget_s"] == budget)]
    shown = same.drop_duplicates(subset=["design", "options"]).head(6)
    found = "; ".join(f"{r.design} seed {r.seed}: {r.options} in {r.runs_dir}" for r in shown.itertuples())
    raise InputError(
        f"{method} ({budget:g} s) was run with different options ({found}); one column would "
        "mix them: pool only runs made with the same options"
    )


def _refuse_code_clashes(ok: pd.DataFrame) -> None:
    """Refuse to pool runs of one plugin method (at one budget) made by different code: the
    batch records each plugin run's class and file digest (``method_source``) and refuses
    edited code into a folder holding runs of the older code, but two folders, one run before
    an edit and one after, were pooled into one column that named neither. Runs of placer-gym's own methods (no
    source recorded: the package version says it) are not compared."""
    if "method_source" not in ok.columns or ok.empty:
        return
    from placer.algorithms.base import same_method_source

    recorded = ok[ok["method_source"].fillna("").astype(str) != ""]
    for (method, budget), runs in recorded.groupby(["method", "budget_s"]):
        sources = list(dict.fromkeys(runs["method_source"]))
        other = next((s for s in sources[1:] if not same_method_source(s, sources[0])), None)
        if other is not None:
            folders = ", ".join(dict.fromkeys(runs["runs_dir"]))
            raise InputError(
                f"{method} ({budget:g} s) was run by different code ({sources[0]}; {other}) in "
                f"{folders}; one column would mix them: pool only runs of the same code"
            )


def _refuse_design_clashes(runs: pd.DataFrame) -> None:
    """Refuse to put two different designs that share a name in one row: their costs and
    their ``initial`` would be pooled as one design's."""
    named = runs.loc[runs["netlist_path"].fillna("") != "",
                     ["design", "netlist_path", "design_digest", "_failed", "runs_dir", "method", "seed"]]
    # each design's distinct paths and (its ok runs') digests, in the order the runs hold them;
    # only a design with two of either is looked at, in name order
    paths = named.drop_duplicates(["design", "netlist_path"])[["design", "netlist_path"]]
    # (the same files edited between ok runs: rows written by older versions have no digest;
    # a failed run measured nothing, and a folder's resume only guards its ok runs)
    scored = named[~named["_failed"] & (named["design_digest"].fillna("") != "")]
    digests = scored.drop_duplicates(["design", "design_digest"])
    suspects = set(paths.loc[paths["design"].duplicated(), "design"]) | set(digests.loc[digests["design"].duplicated(), "design"])
    for design in sorted(suspects):
        design_paths = list(paths.loc[paths["design"] == design, "netlist_path"])
        for other in design_paths[1:]:
            if not same_design_file(design_paths[0], other):
                raise InputError(
                    f"design {design!r} comes from two different netlists, {design_paths[0]} and {other}: "
                    "pool only runs of the same designs (or give one of them another name)"
                )
        design_digests = digests[digests["design"] == design]
        if len(design_digests) > 1:
            first, second = design_digests.iloc[0], design_digests.iloc[1]
            raise InputError(
                f"design {design!r} was placed from two versions of its files (netlist or "
                f"initial .plc edited in between): runs in {first['runs_dir']} and in "
                f"{second['runs_dir']} ({first['method']} seed {first['seed']}, {second['method']} "
                f"seed {second['seed']}); pool only runs of the same designs"
            )
