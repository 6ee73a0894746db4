"""The leaderboard: designs x methods tables from a runs folder's ``results.sqlite``.

:func:`build` reads the ok runs and keeps one row per (design, method):

* ``aggregate="best"`` (the default): the seed with the lowest proxy (among its legal seeds,
  see :func:`illegal_cells`); its wirelength, density,
  congestion, timing and seconds are that run's. This is what a user of a method would keep.
* ``aggregate="mean"``: the mean of each column over the seeds.

Either way ``seeds`` counts the ok runs, ``proxy_mean`` / ``proxy_std`` summarise the seeds and
``failed`` counts failed runs. The ``initial`` method is a reference: the proxy of each design's
``initial.plc`` (a Bookshelf design's own ``.pl``) as the batch recorded it (no timing, no seconds). It is not ranked and never
marked best; when it is not legal (ariane133's as shipped) its cells carry the illegal mark
(runs recorded before the batch checked the initial placement's legality leave it unmarked).

:func:`write_leaderboard` writes Markdown, CSV and HTML tables (proxy, then each of its parts,
timing and seconds; best per design in bold; a ``mean`` row over the designs where every method
has a result and a ``mean rank`` row, rank 1 = the lowest figure of that table among the methods,
an illegal placement after every legal one) and a bar chart
of the mean proxy per method.

When a runs folder holds several budgets, methods are labelled ``method@<budget>s``.

Each run records the timing model its timing figure was made with
(:data:`placer.cost.timing.TIMING_MODEL`, in the ``timing_model`` column): a figure of another
model than today's is left blank, as is a mean over seeds of two models (one recording none
counts as another; ``timing_model`` :data:`MIXED_TIMING_MODELS`), and the page names those cells
and the ones that record no model (runs made before it was recorded).

Every function taking ``runs_dirs`` accepts one runs folder or several (methods run as separate
batches, e.g. one per core, each into its own folder): their rows are pooled, and a run found in
more than one folder (a copy: the same attempt, or the same figures for rows that record none)
is counted once, from the first folder that finished it ok; two different runs under one key
(design, method, seed, budget: every batch numbers its seeds from 0) are refused, as are runs
of one method made with different options (one column would mix them). :func:`keep_cells`
(``placer leaderboard --keep``) adds the cells of an earlier ``leaderboard.csv`` that the runs
do not cover, for methods whose runs folders are gone; the page says which methods came from
there.
"""

from __future__ import annotations

import datetime as _dt
import html
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from netlists.formats.textio import text_writer, write_atomically
from placer.cost.timing import TIMING_MODEL
from placer.results import (
    DB_NAME,
    KEY_COLUMNS,
    STATUS_FAILED,
    STATUS_OK,
    ResultStore,
    plc_of_row_is_there,
    records_as_dicts,
    same_design_file,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure

RunsDirs = str | Path | Sequence[str | Path]

INITIAL = "initial"
AGGREGATES = ("best", "mean")
METRICS = ("proxy", "wirelength", "density", "congestion", "timing", "seconds")
_METRIC_TITLES = {
    "proxy": "Proxy cost (wirelength + 0.5 density + 0.5 congestion)",
    "wirelength": "Wirelength cost",
    "density": "Density cost",
    "congestion": "Congestion cost",
    "timing": "Timing (worst path / (W + H))",
    "seconds": "Seconds (wall time of the placement)",
}
#: The number columns of a runs table.
_NUMERIC_COLUMNS = (*METRICS, "timing_model", "overlap_area", "out_of_canvas", "budget_s", "initial_proxy",
                    "initial_wirelength", "initial_density", "initial_congestion", "initial_overlap_area",
                    "initial_out_of_canvas")
#: How an illegal cell is marked in the tables (see :func:`illegal_cells`).
ILLEGAL_MARK = "†"
_SHARED_SUITE_NOTE = (
    "Only `ng45/ariane133` of the shared suite has its real nets; the other designs keep real "
    "geometry with synthetic nets, so their costs must never be compared with published numbers."
)


def runs_folders(runs_dirs: RunsDirs) -> list[Path]:
    """``runs_dirs`` as a non-empty list of folders."""
    folders = [Path(runs_dirs)] if isinstance(runs_dirs, str | Path) else [Path(d) for d in runs_dirs]
    if not folders:
        raise ValueError("no runs folder given")
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
        frame = pd.DataFrame(records_as_dicts(ResultStore(db, read_only=True).records()))
        _refuse_bad_rows(frame, db)
        frames.append(frame.assign(runs_dir=str(folder), _folder=order))
    runs = pd.concat(frames, ignore_index=True)
    if runs.empty:
        return runs.drop(columns="_folder")
    # numbers as floats: a metric no ok row has (NULL everywhere) came back as an object column
    for column in _NUMERIC_COLUMNS:
        if column in runs.columns:
            runs[column] = pd.to_numeric(runs[column], errors="coerce").astype(float)
    # an ok row without a cost (written by hand or by another tool) counts as failed
    runs = runs.assign(_failed=(runs["status"] != STATUS_OK) | runs["proxy"].isna())
    runs.loc[runs["_failed"] & (runs["status"] == STATUS_OK), "status"] = STATUS_FAILED
    _refuse_option_clashes(runs[~runs["_failed"]])
    _refuse_design_clashes(runs)
    _refuse_runs_numbered_alike(runs[~runs["_failed"]])
    runs = runs.sort_values(["_failed", "_folder"], kind="stable")
    runs = runs.drop_duplicates(subset=list(KEY_COLUMNS), keep="first")
    runs = runs.drop(columns=["_failed", "_folder"])
    return runs.sort_values(list(KEY_COLUMNS), kind="stable").reset_index(drop=True)


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
        return f"{db}: the run {row['design']}/{row['method']}/seed {row['seed']}"

    bad_status = ~frame["status"].isin([STATUS_OK, STATUS_FAILED])
    if bad_status.any():
        i = int(np.flatnonzero(bad_status.to_numpy())[0])
        raise ValueError(f"{where(i)} has status {frame['status'].iloc[i]!r} (expected ok or failed)")
    for column in [c for c in (*_NUMERIC_COLUMNS, "seed") if c in frame.columns]:
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
            raise ValueError(f"{where(i)} has {column} {shown} (expected {expected})")
    if "options" in frame.columns:  # (text that is no JSON read as one more spelling of them;
        for i, (text, status) in enumerate(zip(frame["options"], frame["status"], strict=True)):
            if status != STATUS_OK:  # a failed run's options pool with nothing)
                continue
            if isinstance(text, str) and text and not isinstance(_json_or_none(text), dict):
                raise ValueError(f"{where(i)} has options {text!r} (expected a JSON object)")


def _json_or_none(text: str) -> object:
    try:
        return json.loads(text)
    except ValueError:
        return None


def _refuse_runs_numbered_alike(ok: pd.DataFrame) -> None:
    """Refuse two folders holding different runs under one key (design, method, seed, budget):
    every batch numbers its seeds from 0, so two batches of one method both hold a seed 0, and
    the first folder's was kept without a word (the table hung on the order of the folders).
    The same run in two folders (a copy) is kept once."""
    if ok.empty:
        return
    # a run is its attempt (the id its .plc carries); a row from before attempts, its figures
    figures = ok["proxy"].map(repr) + "/" + ok["seconds"].map(repr) + "/" + ok["timing"].map(repr)
    identity = ok["plc_attempt"].where(ok["plc_attempt"].notna(), figures) if "plc_attempt" in ok else figures
    results = ok.assign(_run=identity).groupby(list(KEY_COLUMNS))["_run"].nunique()
    clashes = results[results > 1]
    if clashes.empty:
        return
    design, method, seed, budget = clashes.index[0]
    same = ok[(ok["design"] == design) & (ok["method"] == method) & (ok["seed"] == seed) & (ok["budget_s"] == budget)]
    found = "; ".join(f"proxy {r.proxy!r} in {r.runs_dir}" for r in same.itertuples())
    raise ValueError(
        f"{method} on {design}, seed {seed} ({budget:g} s) is a different run in several folders "
        f"({found}): each batch numbers its seeds from 0; for more seeds, run one batch with "
        "--seeds N (or --resume into the same folder with a larger --seeds)"
    )


def _refuse_option_clashes(ok: pd.DataFrame) -> None:
    """Refuse to pool runs of one method (at one budget) made with different method options,
    on one design or across designs, in one folder or several: one table cell or one column
    would mix two settings, and name neither (the same seed twice, two seeds each with its own
    options, or one design's runs with other options than the rest of the column)."""
    cell = ["method", "budget_s"]
    # as the batch compares them: {"w": 1} and {"w": 1.0} are the same options
    options = ok.assign(options=ok["options"].map(canonical_options)).groupby(cell)["options"].nunique()
    clashes = options[options > 1]
    if clashes.empty:
        return
    method, budget = clashes.index[0]
    same = ok[(ok["method"] == method) & (ok["budget_s"] == budget)]
    shown = same.drop_duplicates(subset=["design", "options"]).head(6)
    found = "; ".join(f"{r.design} seed {r.seed}: {r.options} in {r.runs_dir}" for r in shown.itertuples())
    raise ValueError(
        f"{method} ({budget:g} s) was run with different options ({found}); one column would "
        "mix them: pool only runs made with the same options"
    )


def canonical_options(text: object) -> str:
    """A run's options JSON in one spelling per meaning (keys sorted, a whole float written as
    the integer: the batch takes ``w=1`` and ``w=1.0`` as the same options); text that is no
    JSON stays as it is."""
    if not isinstance(text, str):
        return "" if text is None or (isinstance(text, float) and np.isnan(text)) else str(text)
    try:
        value = json.loads(text)
    except ValueError:
        return text

    def same_number(v: object) -> object:
        if isinstance(v, dict):
            return {k: same_number(x) for k, x in v.items()}
        if isinstance(v, list):
            return [same_number(x) for x in v]
        if isinstance(v, float) and v.is_integer() and abs(v) < 2**53:
            return int(v)  # 1.0 reads as 1
        return v

    return json.dumps(same_number(value), sort_keys=True)


def _refuse_design_clashes(runs: pd.DataFrame) -> None:
    """Refuse to put two different designs that share a name in one row: their costs and
    their ``initial`` would be pooled as one design's."""
    for design, rows in runs[runs["netlist_path"].fillna("") != ""].groupby("design"):
        paths = list(dict.fromkeys(rows["netlist_path"]))
        for other in paths[1:]:
            if not same_design_file(paths[0], other):
                raise ValueError(
                    f"design {design!r} comes from two different netlists, {paths[0]} and {other}: "
                    "pool only runs of the same designs (or give one of them another name)"
                )
        # the same files edited between ok runs (rows written by older versions have no digest;
        # a failed run measured nothing, and a folder's resume only guards its ok runs)
        scored = rows[~rows["_failed"] & (rows["design_digest"].fillna("") != "")]
        digests = scored.drop_duplicates("design_digest")
        if len(digests) > 1:
            first, second = digests.iloc[0], digests.iloc[1]
            raise ValueError(
                f"design {design!r} was placed from two versions of its files (netlist or "
                f"initial .plc edited in between): runs in {first['runs_dir']} and in "
                f"{second['runs_dir']} ({first['method']} seed {first['seed']}, {second['method']} "
                f"seed {second['seed']}); pool only runs of the same designs"
            )


def _ranking_value(value: float) -> float:
    """A cost rounded to 12 significant digits for ranking: the same placement scored by two
    evaluation orders differs in its last bits, and such costs must tie."""
    return float(f"{value:.12g}") if np.isfinite(value) else value


def _budget_label(budget: float) -> str:
    """The suffix naming a method's column at ``budget`` when runs span several budgets."""
    return f"@{float(budget):.12g}s"  # (:g merged 1 and 1.0000001)


def _method_labels(runs: pd.DataFrame) -> pd.Series:
    if runs["budget_s"].nunique() > 1:
        return runs["method"] + runs["budget_s"].map(_budget_label)
    return runs["method"]


def build(runs_dirs: RunsDirs, aggregate: str = "best") -> pd.DataFrame:
    """One row per (design, method), ``initial`` included (see module doc for ``aggregate``).

    Columns: design, method, the :data:`METRICS`, seeds, failed, proxy_mean, proxy_std (blank
    for one seed), overlap_area, out_of_canvas, budget_s, aggregate, options (the method's
    options, :func:`canonical_options`), best (lowest proxy among the legal methods of that
    design, see :func:`illegal_cells`).
    """
    return table_of_runs(load_runs(runs_dirs), aggregate)


def table_of_runs(runs: pd.DataFrame, aggregate: str = "best") -> pd.DataFrame:
    """:func:`build` over rows already read by :func:`load_runs`."""
    if aggregate not in AGGREGATES:
        raise ValueError(f"aggregate must be one of {', '.join(AGGREGATES)}, got {aggregate!r}")
    columns = ["design", "method", *METRICS, "timing_model", "seeds", "failed", "proxy_mean",
               "proxy_std", "overlap_area", "out_of_canvas", "budget_s", "aggregate", "options", "best"]
    if runs.empty:
        return pd.DataFrame(columns=columns)
    runs = runs.assign(method=_method_labels(runs))
    ok = runs[runs["status"] == "ok"]
    ok = ok.assign(timing=ok["timing"].where(~_other_timing_model(ok)))  # never two models' figures
    failed = runs[runs["status"] != "ok"].groupby(["design", "method"]).size().rename("failed")

    numeric = [*METRICS, "overlap_area", "out_of_canvas"]
    groups = ok.groupby(["design", "method"])
    if aggregate == "best":  # the lowest proxy among the legal seeds (among all when none is)
        order = ok.assign(_illegal=illegal_cells(ok)).sort_values(["_illegal", "proxy"], kind="stable")
        table = order.drop_duplicates(["design", "method"])[["design", "method", *numeric, "timing_model"]]
        table = table.set_index(["design", "method"])
    else:
        table = groups[numeric].mean()
        # seeds of two models (one that records none counting as another) blank the cell's mean
        # (a mean over fewer seeds, or over both models, would mislead): model MIXED_TIMING_MODELS
        mixed = groups["timing_model"].nunique(dropna=False) > 1
        table["timing_model"] = groups["timing_model"].max().where(~mixed, MIXED_TIMING_MODELS)
        table.loc[mixed, "timing"] = np.nan
    table["seeds"] = groups.size()
    table["proxy_mean"] = groups["proxy"].mean()
    table["proxy_std"] = groups["proxy"].std(ddof=1)  # blank for one seed (0 read as no spread)
    table = table.join(failed, how="outer")
    table["seeds"] = table["seeds"].fillna(0).astype(int)
    table["failed"] = table["failed"].fillna(0).astype(int)
    # what a kept cell (--keep) must match to share a column with these runs
    table = table.join(runs.groupby(["design", "method"])["budget_s"].first())
    table = table.join(ok.groupby(["design", "method"])["options"].first().map(canonical_options))
    table["options"] = table["options"].fillna("")  # no ok run: no options (as a CSV reads back)
    table["aggregate"] = aggregate
    table = table.reset_index()

    initial = (
        runs.dropna(subset=["initial_proxy"]).groupby("design", as_index=False).first()
        [["design", "initial_proxy", "initial_wirelength", "initial_density", "initial_congestion",
          "initial_overlap_area", "initial_out_of_canvas"]]
        .rename(columns=lambda c: c.removeprefix("initial_"))
        .assign(method=INITIAL, seeds=0, failed=0)
    )
    table = pd.concat([initial, table], ignore_index=True) if not initial.empty else table
    return _marked_and_sorted(table.reindex(columns=columns))


#: The ``timing_model`` of a mean over seeds measured with different timing models (or some
#: with none recorded): its timing is left blank.
MIXED_TIMING_MODELS = 0


def _other_timing_model(rows: pd.DataFrame) -> pd.Series:
    """Rows whose timing figure was made by another timing model than today's
    (:data:`placer.cost.timing.TIMING_MODEL`; a row that records none is not one of them)."""
    model = pd.to_numeric(rows["timing_model"], errors="coerce")
    return model.notna() & (model != TIMING_MODEL)


def _timing_model_notes(table: pd.DataFrame) -> list[str]:
    """Notes on the timing column's cells of another model (left blank) or of no recorded model
    (runs made before the model was recorded: those before 2026-12-04 used model 1)."""
    cells = table[(table["method"] != INITIAL) & table["proxy"].notna()]
    notes = []
    other = cells[_other_timing_model(cells)]
    if not other.empty:
        names = [f"{r.design}/{r.method} (" + ("seeds of several models" if r.timing_model == MIXED_TIMING_MODELS
                                              else f"model {int(r.timing_model)}") + ")" for r in other.itertuples()]
        notes.append(f"Timing is left blank where the runs used another timing model than today's "
                     f"(model {TIMING_MODEL}, `placer.cost.timing.TIMING_MODEL`): {_listed(names)}; "
                     "re-run those cells to compare their timing.")
    unknown = cells[cells["timing"].notna() & cells["timing_model"].isna()]
    if not unknown.empty:
        names = [f"{r.design}/{r.method}" for r in unknown.itertuples()]
        notes.append(f"The timing of {_listed(names)} records no timing model (runs made before it "
                     "was recorded): a run made before 2026-12-04 (commit 1dc7b0e) used model 1, "
                     f"whose figures do not compare with model {TIMING_MODEL}'s.")
    return notes


def _listed(names: list[str], most: int = 8) -> str:
    """``names`` joined, the first ``most`` of them and how many more."""
    return ", ".join(names[:most]) + (f" and {len(names) - most} more" if len(names) > most else "")


def illegal_cells(table: pd.DataFrame) -> pd.Series:
    """Rows whose placement is not legal: hard macros overlapping, or macros (hard or soft)
    outside the canvas, as the batch measured them (a method that does not legalise, e.g. a
    plugin returning its input). A row that records neither (an older leaderboard.csv) counts
    as legal."""
    overlap = table["overlap_area"] if "overlap_area" in table.columns else pd.Series(0.0, table.index)
    outside = table["out_of_canvas"] if "out_of_canvas" in table.columns else pd.Series(0.0, table.index)
    overlap = pd.to_numeric(overlap, errors="coerce").fillna(0.0)
    outside = pd.to_numeric(outside, errors="coerce").fillna(0.0)
    return (overlap > 0) | (outside > 0)


def _marked_and_sorted(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with ``best`` marking the lowest proxy among each design's legal methods (among
    all of them when none is legal; never ``initial``), sorted by design then method
    (``initial`` first)."""
    competing = (table["method"] != INITIAL) & table["proxy"].notna()
    illegal = illegal_cells(table)
    any_legal = (competing & ~illegal).groupby(table["design"]).transform("any")
    eligible = competing & (~illegal | ~any_legal)
    ranked = table["proxy"].astype(float).map(_ranking_value)
    best_proxy = ranked[eligible].groupby(table.loc[eligible, "design"]).transform("min")
    table["best"] = eligible & (ranked == best_proxy.reindex(table.index))
    return table.sort_values(["design", "method"], key=_initial_first).reset_index(drop=True)


def _initial_first(column: pd.Series) -> pd.Series:
    if column.name == "method":
        return column.map(lambda m: (m != INITIAL, m))
    return column


def method_order(table: pd.DataFrame) -> list[str]:
    """``initial`` first, then the methods by mean rank (best first), then by name."""
    methods = sorted(m for m in table["method"].unique() if m != INITIAL)
    ranks = summary_rows(pivot(table, "proxy", methods), _illegal_pivot(table, methods)).loc["mean rank"]
    methods.sort(key=lambda m: (np.nan_to_num(ranks.get(m, np.nan), nan=np.inf), m))
    return ([INITIAL] if (table["method"] == INITIAL).any() else []) + methods


def pivot(table: pd.DataFrame, metric: str = "proxy", methods: list[str] | None = None) -> pd.DataFrame:
    """Designs x methods of one metric (NaN where a method has no ok run)."""
    wide = table.pivot(index="design", columns="method", values=metric)
    if methods is not None:
        wide = wide.reindex(columns=[m for m in methods if m in wide.columns])
    wide.columns.name = None
    return wide


def _illegal_pivot(table: pd.DataFrame, methods: list[str]) -> pd.DataFrame:
    """Designs x methods: whether the cell's placement is illegal (:func:`illegal_cells`)."""
    return pivot(table.assign(_illegal=illegal_cells(table).astype(float)), "_illegal", methods).fillna(0) > 0


def summary_rows(wide: pd.DataFrame, illegal: pd.DataFrame | None = None) -> pd.DataFrame:
    """``mean`` and ``mean rank`` of each column over the designs where every method has a value.

    Ranks are among the methods only (``initial`` gets none), 1 = lowest; a cell marked in
    ``illegal`` (designs x methods, see :func:`illegal_cells`) ranks after every legal one of
    its design. ``initial`` does not decide which designs count (it has no timing or seconds,
    and a design may lack an initial cost): its mean is over the counted designs where it has
    a value. Neither does a method with no value at all (failed on every design): it gets no
    mean and no rank.
    """
    competitors = [c for c in wide.columns if c != INITIAL]
    counted = [c for c in competitors if wide[c].notna().any()]  # a method failed everywhere
    complete = wide.loc[wide[counted].dropna().index] if counted else wide  # does not
    values = complete[competitors].map(_ranking_value)
    if illegal is not None and not complete.empty:
        late = illegal.reindex(index=complete.index, columns=competitors).fillna(False).astype(bool)
        legal_ranks = values.where(~late).rank(axis=1, method="min")
        illegal_ranks = values.where(late).rank(axis=1, method="min")
        ranks = legal_ranks.fillna(illegal_ranks.add(legal_ranks.notna().sum(axis=1), axis=0))
    else:
        ranks = values.rank(axis=1, method="min")
    rows = pd.DataFrame(
        [complete.mean(), ranks.mean().reindex(wide.columns)], index=["mean", "mean rank"]
    )
    rows.attrs["n_designs"] = len(complete)
    return rows


# ----------------------------------------------------------------------------- output
def _cell(value: float, metric: str) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "—"
    if abs(value) >= 1e6:  # an exploded cost: 1e+300, not three hundred digits
        return f"{value:.4g}"
    return f"{value:.2f}" if metric == "seconds" else f"{value:.4f}"


def _formatted(table: pd.DataFrame, metric: str, methods: list[str]) -> tuple[pd.DataFrame, int]:
    """Text cells of a metric's designs x methods table, best in ``**``, then mean rows."""
    wide = pivot(table, metric, methods)
    best = pivot(table.assign(best=table["best"].astype(float)), "best", methods).fillna(0) > 0
    failed = pivot(table, "failed", methods).fillna(0)
    seeds = pivot(table, "seeds", methods).fillna(0)  # ok runs
    illegal = _illegal_pivot(table, methods)
    text = wide.astype(object)
    for design in wide.index:
        for method in wide.columns:
            value = wide.at[design, method]
            cell = _cell(value, metric)
            # (a cell with ok runs but no figure, e.g. a timing of another model, is blank)
            if np.isnan(value) and failed.at[design, method] > 0 and seeds.at[design, method] == 0:
                cell = "failed"
            elif best.at[design, method] and metric == "proxy":
                cell = f"**{cell}**"
            if not np.isnan(value) and illegal.at[design, method]:
                cell += ILLEGAL_MARK
            text.at[design, method] = cell
    summary = summary_rows(wide, illegal)
    summary_text = pd.DataFrame(
        [
            ["—" if np.isnan(v) else (f"{v:.2f}" if name == "mean rank" else _cell(v, metric))
             for v in summary.loc[name]]
            for name in summary.index
        ],
        index=summary.index,
        columns=text.columns,
        dtype=object,
    )  # fmt: skip
    # rows of their own: a design may be called "mean" too (its row was overwritten)
    text = pd.concat([text, summary_text])
    text.attrs["summary_rows"] = len(summary_text)
    return text, int(summary.attrs["n_designs"])


def _markdown_text(text: object) -> str:
    """``text`` as literal Markdown table text: ``|`` would split the cell, ``<``/``&`` be HTML."""
    return html.escape(str(text), quote=False).replace("|", "\\|")


def _summary_from(text: pd.DataFrame) -> int:
    """Position of the first summary row (``mean``, ``mean rank``) of a formatted table."""
    return len(text) - int(text.attrs.get("summary_rows", 0))


def markdown_table(text: pd.DataFrame, index_name: str = "design") -> str:
    """A GitHub Markdown table of string cells (numbers right-aligned); the summary rows of a
    formatted table (``text.attrs["summary_rows"]``, the last ones) in bold."""
    header = [index_name, *text.columns]
    lines = ["| " + " | ".join(map(_markdown_text, header)) + " |", "|:---|" + "---:|" * len(text.columns)]
    first_summary = _summary_from(text)
    for position, (name, row) in enumerate(text.iterrows()):
        label = _markdown_text(name)
        if position >= first_summary:
            label = f"**{label}**"
        lines.append("| " + " | ".join([label, *map(str, row)]) + " |")
    return "\n".join(lines)


def _html_table(text: pd.DataFrame) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in ["design", *text.columns])
    body = []
    for name, row in text.iterrows():
        cells = [f"<th>{html.escape(str(name))}</th>"]
        for value in row:
            value = str(value)
            if value.startswith("**"):  # **figure** and any mark after it
                figure, _, mark = value[2:].partition("**")
                cells.append(f"<td><b>{html.escape(figure)}</b>{html.escape(mark)}</td>")
            else:
                cells.append(f"<td>{html.escape(value)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _provenance(runs: pd.DataFrame, aggregate: str) -> list[str]:
    ok = runs[runs["status"] == "ok"]
    budgets = ", ".join(f"{b:g} s" for b in sorted(runs["budget_s"].unique()))
    # per table column: a method run at two budgets is two columns (2 + 3 seeds read as 5)
    labels = _method_labels(runs).loc[ok.index]
    seeds = int(ok.assign(method=labels).groupby(["design", "method"]).size().max()) if not ok.empty else 0
    versions = ", ".join(sorted(set(runs["version"].dropna())))
    commits = ", ".join(sorted({str(c)[:10] for c in runs["git_commit"].dropna()})) or "none"
    how = ("the best seed (lowest proxy among its legal seeds) per design and method" if aggregate == "best"
           else "the mean over seeds per design and method")
    return [
        f"Generated {_dt.datetime.now(_dt.UTC).strftime('%Y-%m-%d %H:%M UTC')} from "
        f"{len(runs)} runs ({len(ok)} ok); budget {budgets}; up to {seeds} seed(s) per design "
        f"and method; each cell is {how}.",
        f"placer-gym {versions or 'unknown'}, git commit {commits}.",
        "`initial` is each design's `initial.plc` (a Bookshelf design's own `.pl`; a reference: not ranked, never marked best). "
        "Bold: lowest proxy per design among the legal placements (among all where none is legal). `mean` is over the designs where every method with "
        "any result has one (a method that failed everywhere gets no mean, rank or bar); "
        "`mean rank` ranks the methods per design by the table's own figure (1 = lowest).",
    ]


def _unchecked_runs(runs: pd.DataFrame) -> list[str]:
    """A note naming the ok runs whose ``.plc`` is gone or is not theirs (removed or replaced
    by hand): their numbers stand in the tables but no placement backs them any more."""
    lost = [
        f"{row.design}/{row.method}/seed{int(row.seed)}"
        for row in runs[(runs["status"] == STATUS_OK) & runs["plc_path"].notna()].itertuples()
        if not plc_of_row_is_there(
            Path(row.runs_dir), row.plc_path, None if pd.isna(row.plc_attempt) else row.plc_attempt
        )
    ]
    if not lost:
        return []
    shown = _listed(lost)
    return [f"{len(lost)} run(s) no longer have their .plc (removed or replaced): {shown}; their "
            "numbers are in the tables, but no placement file backs them."]


def _illegal_note(table: pd.DataFrame) -> list[str]:
    """A note naming the cells whose placement is not legal (marked with :data:`ILLEGAL_MARK`)."""
    marked = table["proxy"].notna() & illegal_cells(table)
    bad = table[(table["method"] != INITIAL) & marked]
    notes = []
    if not bad.empty:
        shown = _listed([f"{r.design}/{r.method}" for r in bad.itertuples()])
        notes.append(f"{ILLEGAL_MARK} the placement is not legal (hard macros overlap, or macros stick out of the "
                     f"canvas): {shown}. Such a cell is shown, bold only where no placement of its design is "
                     "legal, and ranks after every legal one of its design; `mean` still counts it.")
    starts = table[(table["method"] == INITIAL) & marked]
    if not starts.empty:  # the methods' starting point, not a competitor: its own note
        notes.append(f"{ILLEGAL_MARK} under `{INITIAL}`: the design's given placement is not legal (hard "
                     f"macros overlap, or macros stick out of the canvas): {_listed(list(starts['design']))}; "
                     "the methods start from it.")
    return notes


def _illegal_seeds_note(runs: pd.DataFrame, aggregate: str, table: pd.DataFrame | None = None) -> list[str]:
    """A note naming the best-seed cells shown legal whose other seeds were not (the illegal
    seeds vanished without a trace, while the CSV's proxy_mean counted them), by the columns
    of ``table`` (kept cells can label the runs' columns by budget)."""
    ok = runs[runs["status"] == STATUS_OK]
    if aggregate != "best" or ok.empty:
        return []
    labels = _method_labels(runs).loc[ok.index]
    if table is not None:  # a column the page labelled by budget goes by that label
        columns = set(table["method"])
        budgeted = ok["method"] + ok["budget_s"].map(_budget_label)
        labels = labels.where(labels.isin(columns) | ~budgeted.isin(columns), budgeted)
    ok = ok.assign(method=labels, _illegal=illegal_cells(ok))
    counts = ok.groupby(["design", "method"])["_illegal"].agg(["sum", "size"])
    some = counts[(counts["sum"] > 0) & (counts["sum"] < counts["size"])]
    if some.empty:
        return []
    cells = [f"{d}/{m} ({int(r['sum'])} of {int(r['size'])})" for (d, m), r in some.iterrows()]
    return [f"Some seeds of these cells are not legal; the cell shows the best legal seed (`proxy_mean` "
            f"in the CSV counts every seed): {_listed(cells)}."]


def _uneven_seeds(table: pd.DataFrame) -> list[str]:
    """A note naming the cells made from fewer ok seeds than the most any cell has (a best of
    one against a best of three, or a mean over the seeds that did not fail)."""
    competing = table[(table["method"] != INITIAL) & (table["seeds"] > 0)]
    if competing.empty or competing["seeds"].nunique() == 1:
        return []
    most = int(competing["seeds"].max())
    fewer = competing[competing["seeds"] < most]
    cells = [f"{r.design}/{r.method} ({int(r.seeds)} of {most})" for r in fewer.itertuples()]
    shown = _listed(cells)
    return [f"Cells from fewer ok seeds than others: {shown}."]


def _uses_shared_suite(runs: pd.DataFrame) -> bool:
    """Whether some design came from the shared suite (a folder under its reference_costs.json)."""
    for suite in runs["suite"].dropna().unique():
        folder = Path(suite)
        if any((p / "reference_costs.json").is_file() for p in (folder, *folder.parents)):
            return True
    return False


def bar_figure(table: pd.DataFrame, methods: list[str]) -> Figure:
    """The page's bar chart of the mean proxy per method over the designs every method has (says
    so when no method has a mean to draw)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    wide = pivot(table, "proxy", methods)
    illegal = _illegal_pivot(table, methods)
    summary = summary_rows(wide, illegal)
    means = summary.loc["mean"]
    marked = {m for m in illegal.columns if illegal[m].any()}  # (an illegal start too)
    fig = Figure(figsize=(max(4.0, 1.1 * len(means) + 2), 3.6), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    colors = ["#9e9e9e" if m == INITIAL else "#1f5fa8" for m in means.index]
    values = means.to_numpy(dtype=float)
    # an exploded (>= 1e6) or infinite mean gets no bar, which would flatten every other one
    # to nothing, but its label says what it is
    drawable = np.isfinite(values) & (np.abs(values) < 1e6)
    names = [_short(str(m)) + (ILLEGAL_MARK if m in marked else "") for m in means.index]
    bars = ax.bar(names, np.where(drawable, values, 0.0), color=colors)
    ax.bar_label(bars, labels=[_cell(v, "proxy") if np.isfinite(v) or np.isinf(v) else "" for v in values],
                 fontsize=8)
    if not np.isfinite(values).any():
        # every method failed everywhere, or (folders pooled over other designs) no design has
        # a result of every method: it said "no successful run" of runs that all succeeded
        why = ("no design has a result of every method" if np.isfinite(wide.to_numpy(dtype=float)).any()
               else "no successful run to chart")
        ax.text(0.5, 0.5, why, transform=ax.transAxes, ha="center", va="center", color="grey")
    ax.set_ylabel("mean proxy cost (lower is better)")
    ax.set_title(f"Mean proxy per method over {summary.attrs['n_designs']} design(s)", fontsize=10)
    ax.tick_params(axis="x", labelsize=8)
    for label in ax.get_xticklabels():  # the label's end under its bar, not centred across two
        label.set(rotation=20, ha="right", rotation_mode="anchor")
    return fig


def _short(name: str, most: int = 28) -> str:
    """A method label short enough to sit under its bar (the tables keep the full name)."""
    return name if len(name) <= most else name[: most - 1] + "…"


def read_leaderboard_csv(path: str | Path) -> pd.DataFrame:
    """A ``leaderboard.csv`` written by :func:`write_leaderboard`; ValueError if unreadable or
    without its design / method / proxy columns."""
    path = Path(path)
    try:
        # names as text: "007" stays 007 and "NA" a design (pandas would guess 7.0 and NaN)
        table = pd.read_csv(path, dtype={"design": str, "method": str}, keep_default_na=False, na_values=[""])
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        reason = " ".join(str(exc).split())  # one line, whatever the parser said
        raise ValueError(f"{path}: cannot read an earlier leaderboard CSV ({reason})") from None
    missing = [c for c in ("design", "method", "proxy") if c not in table.columns]
    if missing:
        raise ValueError(f"{path}: not a leaderboard CSV (no column {', '.join(missing)})")
    for column in ("design", "method"):  # (an empty one failed later in pandas' words)
        empty = table[column].isna()
        if empty.any():
            raise ValueError(f"{path}: line {int(np.flatnonzero(empty.to_numpy())[0]) + 2}: the {column} is empty")
    twice = table[table.duplicated(["design", "method"], keep=False)]
    if not twice.empty:
        design, method = twice.iloc[0]["design"], twice.iloc[0]["method"]
        lines = twice.index[(twice["design"] == design) & (twice["method"] == method)]
        raise ValueError(f"{path}: the cell of {method!r} on {design!r} is given {len(lines)} times "
                         "(line(s) " + ", ".join(str(i + 2) for i in lines[:4]) + ")")
    for column in [c for c in (*_NUMERIC_COLUMNS, "proxy_mean", "proxy_std", "seeds", "failed") if c in table.columns]:
        numbers = pd.to_numeric(table[column], errors="coerce")
        bad = numbers.isna() & table[column].notna()
        if bad.any():
            line = int(np.flatnonzero(bad.to_numpy())[0]) + 2
            raise ValueError(f"{path}: line {line}: {column} must be a number, got {table[column][bad].iloc[0]!r}")
        table[column] = numbers.astype(float)
    if "options" in table.columns:
        table["options"] = table["options"].map(canonical_options)
    return table


def keep_cells(table: pd.DataFrame, kept_csv: str | Path) -> tuple[pd.DataFrame, list[str]]:
    """``table`` plus the cells of an earlier leaderboard's CSV (``leaderboard.csv``) that it
    lacks: the (design, method) pairs the runs do not cover, e.g. methods whose runs folders
    are gone but whose table was kept. ``best`` is marked again over the union. Returns the
    table and the kept methods."""
    kept = _labelled_like(read_leaderboard_csv(kept_csv), table)
    have = set(zip(table["design"], table["method"], strict=True))
    new = kept[[(d, m) not in have for d, m in zip(kept["design"], kept["method"], strict=True)]]
    _refuse_mixed_columns(table, new, Path(kept_csv))
    new = new.reindex(columns=table.columns)
    new["timing"] = new["timing"].where(~_other_timing_model(new))
    merged = _labelled_by_budget(pd.concat([table, new.assign(_kept=True)], ignore_index=True))
    kept_methods = set(merged.loc[merged["_kept"].fillna(False).astype(bool), "method"]) - {INITIAL}
    return _marked_and_sorted(merged.drop(columns="_kept")), sorted(kept_methods)


def _labelled_by_budget(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with every plain method name of a known budget labelled by it (``fd@5s``) when
    its cells span several budgets, as pooled runs are: kept cells at another budget than the
    runs' sat under plain headers beside them, the page header naming the runs' budget only."""
    ran = (table["method"] != INITIAL) & table["budget_s"].notna()
    if table.loc[ran, "budget_s"].nunique() <= 1:  # (a kept cell of an older table, its budget
        return table  # not recorded, stays plain: its note says so)
    plain = ran & ~table["method"].astype(str).str.contains("@", regex=False)
    table = table.copy()
    table.loc[plain, "method"] = table.loc[plain, "method"] + table.loc[plain, "budget_s"].map(_budget_label)
    return table


def _labelled_like(kept: pd.DataFrame, table: pd.DataFrame) -> pd.DataFrame:
    """``kept`` with its plain method names labelled by budget (``sa@600s``) when the runs'
    columns are (runs at several budgets): a kept ``global_refine`` beside the runs'
    ``global_refine@600s`` was a second column of the same runs, read as kept from elsewhere."""
    ran = table[table["method"] != INITIAL]
    labelled = not ran.empty and all(
        str(m).endswith(_budget_label(b)) for m, b in zip(ran["method"], ran["budget_s"], strict=True)
    )
    if "budget_s" not in kept.columns or ran.empty:
        return kept
    kept = kept.copy()
    if labelled:
        plain = (kept["method"] != INITIAL) & ~kept["method"].str.contains("@", regex=False) & kept["budget_s"].notna()
        kept.loc[plain, "method"] = kept.loc[plain, "method"] + kept.loc[plain, "budget_s"].map(_budget_label)
        return kept
    # runs at one budget, plain, and a kept table labelled by budget: its cells at the runs'
    # budget of a method the runs have are that method's column (aa@5s beside the runs' aa)
    budget = _budget_label(ran["budget_s"].iloc[0])
    same = kept["method"].str.endswith(budget) & kept["method"].str[: -len(budget)].isin(set(ran["method"]))
    kept.loc[same, "method"] = kept.loc[same, "method"].str[: -len(budget)]
    return kept


def _refuse_mixed_columns(table: pd.DataFrame, kept: pd.DataFrame, path: Path) -> None:
    """Refuse kept cells of a method these runs also have unless their budget, aggregation and
    options are the runs' (one column would mix a 2 s best seed with a 1 s mean, or two
    settings of the method, under one header)."""
    ran = table[table["method"] != INITIAL].groupby("method")["budget_s"].first()
    shared = kept[kept["method"].isin(ran.index)]
    if shared.empty:
        return
    method = str(shared["method"].iloc[0])
    if "budget_s" not in kept.columns or "aggregate" not in kept.columns:
        raise ValueError(
            f"{path}: keeps cells of {method!r}, which these runs also have, but records no budget "
            "or aggregation (an older table): its cells could mix settings with the runs' in one "
            "column; leave those runs out or regenerate that table"
        )
    how = str(table.loc[table["method"] != INITIAL, "aggregate"].iloc[0])
    ran_options = table[table["method"] != INITIAL].groupby("method")["options"].first()
    for row in shared.itertuples():
        budget = float(ran[row.method])
        if float(row.budget_s) != budget or str(row.aggregate) != how:
            raise ValueError(
                f"{path}: its {row.method!r} cell of {row.design} is the {row.aggregate} at "
                f"{float(row.budget_s):g} s; these runs' {row.method!r} is the {how} at {budget:g} s: "
                "one column would mix them"
            )
        kept_options = getattr(row, "options", None)
        if kept_options == "" or ran_options[row.method] == "":
            continue  # a cell with no ok run (here or there) records no options: nothing to mix
        if not isinstance(kept_options, str):
            raise ValueError(
                f"{path}: keeps cells of {row.method!r}, which these runs also have, but records "
                "no options (an older table): its cells could mix two settings of the method in "
                "one column; leave those runs out or regenerate that table"
            )
        if kept_options != ran_options[row.method]:
            raise ValueError(
                f"{path}: its {row.method!r} cell of {row.design} was run with options "
                f"{kept_options}; these runs' {row.method!r} with {ran_options[row.method]}: one "
                "column would mix them"
            )


def write_leaderboard(runs_dirs: RunsDirs, out_dir: str | Path | None = None,
                      aggregate: str = "best",
                      keep: str | Path | None = None) -> dict[str, Path]:
    """Write ``leaderboard.md``, ``.csv`` (the tidy :func:`build` table), ``.html`` and ``.png``
    into ``out_dir`` (default: the first runs folder). ``keep``: an earlier ``leaderboard.csv``
    whose cells the runs do not cover are kept (see :func:`keep_cells`; the page says which)."""
    folders = runs_folders(runs_dirs)
    out = Path(out_dir if out_dir is not None else folders[0])
    runs = load_runs(folders)  # read once: the table and the page notes both use it
    table = table_of_runs(runs, aggregate)
    if table.empty:
        raise ValueError(f"{', '.join(str(f / DB_NAME) for f in folders)} hold(s) no runs")
    notes = _provenance(runs, aggregate)
    if keep is not None:
        table, kept_methods = keep_cells(table, keep)
        if kept_methods:
            kept_rows = table[table["method"].isin(kept_methods)]
            budgets = kept_rows["budget_s"].dropna().unique()
            hows = kept_rows["aggregate"].dropna().unique()
            unrecorded = sorted(set(kept_rows.loc[kept_rows["budget_s"].isna(), "method"]))
            if len(budgets) and len(hows):
                budget = (f"budget {', '.join(f'{b:g} s' for b in sorted(budgets))}; each cell the "
                          + " or ".join("best seed" if h == "best" else "mean over seeds"
                                        for h in sorted(map(str, hows))))
                if unrecorded:  # (cells of a table that kept an older one)
                    budget += f"; {', '.join(f'`{m}`' for m in unrecorded)}: budget not recorded"
            else:
                budget = "budget and aggregation not recorded: an older leaderboard.csv"
            notes.append(
                f"Cells of {', '.join(f'`{m}`' for m in kept_methods)} are kept from an earlier "
                f"table ({Path(keep).name}), not from these runs ({budget}; their commits are not "
                "in the header above)."
            )
    notes += _unchecked_runs(runs) + _uneven_seeds(table) + _illegal_note(table) + _illegal_seeds_note(runs, aggregate, table)
    notes += _timing_model_notes(table)
    methods = method_order(table)
    if _uses_shared_suite(runs):
        notes.insert(0, f"**Note:** {_SHARED_SUITE_NOTE}")

    md = ["# Leaderboard", "", *[f"{n}  " for n in notes], ""]
    page = ["<h1>Leaderboard</h1>", *[f"<p>{_html_text(n)}</p>" for n in notes]]
    for metric in METRICS:
        text, n_complete = _formatted(table, metric, methods)
        n_designs = len(text) - 2  # the two summary rows
        covered = (f"`mean` and `mean rank` are over {n_complete} of {n_designs} design(s)."
                   if n_complete < n_designs else "")
        md += [f"## {_METRIC_TITLES[metric]}", "", markdown_table(text), "", *([covered, ""] if covered else [])]
        page += [f"<h2>{html.escape(_METRIC_TITLES[metric])}</h2>", _html_table(text),
                 *([f"<p>{_html_text(covered)}</p>"] if covered else [])]
    failures = runs[runs["status"] != "ok"]
    if not failures.empty:
        md += ["## Failed runs", ""]
        page.append("<h2>Failed runs</h2><ul>")
        for row in failures.itertuples():
            first = str(row.error or "").splitlines()[0] if row.error else "unknown error"
            md.append(_markdown_text(f"- {row.design} / {row.method} / seed {row.seed}: {first}"))
            page.append(f"<li>{html.escape(f'{row.design} / {row.method} / seed {row.seed}: {first}')}</li>")
        page.append("</ul>")
        md.append("")

    paths = {
        "markdown": out / "leaderboard.md",
        "csv": out / "leaderboard.csv",
        "html": out / "leaderboard.html",
        "png": out / "leaderboard.png",
    }
    out.mkdir(parents=True, exist_ok=True)  # (only now: a refused --keep left an empty folder)
    style = "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}"
    texts = {
        paths["markdown"]: "\n".join(md),
        paths["csv"]: table.to_csv(index=False),
        paths["html"]: f"<!doctype html><html><head><meta charset='utf-8'><title>Leaderboard"
        f"</title><style>{style}</style></head><body>{''.join(page)}</body></html>\n",
    }
    figure = bar_figure(table, methods)
    # one set: nothing renamed into place unless every file was written (a full disk between
    # two left a new table beside an older chart, or a 0-byte .tmp)
    write_atomically({
        **{path: text_writer(text) for path, text in texts.items()},
        paths["png"]: lambda temporary: figure.savefig(temporary, dpi=120, format="png"),
    })
    return paths


def _html_text(note: str) -> str:
    """A page note as HTML: escaped, Markdown's `code` as <code>, its **bold** marks dropped
    (the notes are written for the Markdown page)."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(note).replace("**", ""))
