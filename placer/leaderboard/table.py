"""The leaderboard table computed from the runs: one row per (design, method) (:func:`build`,
:func:`table_of_runs`), the best cell of each design marked (and whether it leads by more than
the seeds' spread), illegal cells found (:func:`illegal_cells`), designs x methods pivots with
their ``mean``, ``mean rank`` and ``geomean vs initial`` rows (:func:`summary_rows`), pairwise
wins (:func:`pairwise_wins`), the methods' order, and an earlier ``leaderboard.csv``'s cells merged in
(:func:`keep_cells`). Numbers only: :mod:`placer.leaderboard.render` writes the page."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from netlists.errors import InputError
from placer.cost.timing import TIMING_MODEL
from placer.leaderboard.runs import (
    METRICS,
    NUMERIC_COLUMNS,
    RunsDirs,
    canonical_options,
    load_runs,
    once_per_value,
)
from placer.results import STATUS_OK

INITIAL = "initial"
AGGREGATES = ("best", "mean")

#: First characters that make a spreadsheet read a CSV cell as a formula (and ``'``, the guard
#: itself): a design, method, host or any other text named ``=HYPERLINK(...)`` is written
#: ``'=HYPERLINK(...)``, and :func:`read_leaderboard_csv` takes the guard off again.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "'")


def _map_texts(table: pd.DataFrame, change: Callable[[str], str]) -> None:
    """``change`` applied to every text of ``table`` (in place): the names, options, commits,
    hosts, CPU models and jobs alike (the run facts' columns are text too, and a host or CPU
    model is whatever the machine says). Only the cells that start with a guarded character
    (or its guard) are changed."""
    for column in table.columns:
        values = table[column]
        if not (pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values)):
            continue  # (numbers: nothing to guard)
        texts = values.map(lambda v: isinstance(v, str) and v.startswith(FORMULA_STARTS)).astype(bool)
        if texts.any():
            table[column] = values.where(~texts, values[texts].map(change))


def guard_formulas(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with every text that a spreadsheet would run as a formula written behind a
    ``'`` (a copy; the CSV only)."""
    guarded = table.copy()
    _map_texts(guarded, lambda v: "'" + v)
    return guarded


def _unguard_formulas(table: pd.DataFrame) -> None:
    """Take off the ``'`` :func:`guard_formulas` put before texts (in place): only before a
    character it guards, so a name ``'x`` of a CSV written before the guard stays ``'x``."""
    _map_texts(table, lambda v: v[1:] if v.startswith("'") and v[1:].startswith(FORMULA_STARTS) else v)


def _ranking_value(value: float) -> float:
    """A cost rounded to 12 significant digits for ranking: the same placement scored by two
    evaluation orders differs in its last bits, and such costs must tie."""
    return float(f"{value:.12g}") if np.isfinite(value) else value


def budget_label(budget: float) -> str:
    """The suffix naming a method's column at ``budget`` when runs span several budgets."""
    return f"@{float(budget):.12g}s"  # (:g merged 1 and 1.0000001)


def budget_labels(budgets: pd.Series) -> pd.Series:
    """:func:`budget_label` of each budget, each distinct one written once (runs share a few)."""
    return budgets.map({b: budget_label(b) for b in budgets.unique()})


def method_labels(runs: pd.DataFrame) -> pd.Series:
    if runs["budget_s"].nunique() > 1:
        return runs["method"] + budget_labels(runs["budget_s"])
    return runs["method"]


def build(runs_dirs: RunsDirs, aggregate: str = "best") -> pd.DataFrame:
    """One row per (design, method), ``initial`` included (see module doc for ``aggregate``).

    Columns: design, method, the :data:`METRICS`, seeds, failed, proxy_mean, proxy_std (blank
    for one seed), overlap_area (µm²; a Bookshelf design's square .pl units), out_of_canvas (a flag: 1 when some macro lies outside
    the canvas, not a count; with ``aggregate="mean"`` the share of seeds so placed; ``placer
    eval`` counts them), budget_s, aggregate, options (the method's
    options, :func:`canonical_options`), best (lowest proxy among the legal methods of that
    design, see :func:`illegal_cells`), clear_best (best, and ahead of the runner-up by at
    least the larger of their ``spread_std``: the page's bold). ``spread_seeds`` and
    ``spread_std`` count and spread the seeds the shown proxy comes from (``best``: the legal
    ones when any is, an illegal seed being no candidate; ``mean``: all, as ``seeds`` and
    ``proxy_std``): the page's ``(n, sd)``.
    """
    return table_of_runs(load_runs(runs_dirs), aggregate)


def table_of_runs(runs: pd.DataFrame, aggregate: str = "best") -> pd.DataFrame:
    """:func:`build` over rows already read by :func:`load_runs`."""
    if aggregate not in AGGREGATES:
        raise InputError(f"aggregate must be one of {', '.join(AGGREGATES)}, got {aggregate!r}")
    columns = ["design", "method", *METRICS, "timing_model", "seeds", "failed", "proxy_mean",
               "proxy_std", "spread_seeds", "spread_std", "overlap_area", "out_of_canvas", "budget_s",
               "aggregate", "options", "best"]
    if runs.empty:
        return pd.DataFrame(columns=columns)
    runs = runs.assign(method=method_labels(runs))
    ok = ok_rows(runs, ["design", "method", *METRICS, "timing_model", "overlap_area", "out_of_canvas", "options"])
    ok = ok.assign(timing=ok["timing"].where(~other_timing_model(ok)))  # never two models' figures
    failed = runs[runs["status"] != "ok"].groupby(["design", "method"]).size().rename("failed")

    numeric = [*METRICS, "overlap_area", "out_of_canvas"]
    groups = ok.groupby(["design", "method"])
    if aggregate == "best":
        illegal = illegal_cells(ok)
        table = best_seed_rows(ok, illegal)[["design", "method", *numeric, "timing_model"]]
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
    # the seeds the shown proxy comes from (best: the legal ones when any is, as best_seed_rows
    # chooses; mean: all), their number and spread: the page's (n, sd) and its bold rule
    pool = ok
    if aggregate == "best":
        none_legal = illegal.groupby([ok["design"], ok["method"]]).transform("all")
        pool = ok[~illegal | none_legal]
    pooled = pool.groupby(["design", "method"])["proxy"]
    table["spread_seeds"], table["spread_std"] = pooled.size(), pooled.std(ddof=1)
    table = table.join(failed, how="outer")
    table["seeds"] = table["seeds"].fillna(0).astype(int)
    table["spread_seeds"] = table["spread_seeds"].fillna(0).astype(int)
    table["failed"] = table["failed"].fillna(0).astype(int)
    # what a kept cell (--keep) must match to share a column with these runs
    table = table.join(runs.groupby(["design", "method"])["budget_s"].first())
    table = table.join(ok.groupby(["design", "method"])["options"].first().map(once_per_value(canonical_options)))
    table["options"] = table["options"].fillna("")  # no ok run: no options (as a CSV reads back)
    table["aggregate"] = aggregate
    table = table.reset_index()

    initial = (
        runs.dropna(subset=["initial_proxy"]).groupby("design", as_index=False).first()
        [["design", "initial_proxy", "initial_wirelength", "initial_density", "initial_congestion",
          "initial_overlap_area", "initial_out_of_canvas"]]
        .rename(columns=lambda c: c.removeprefix("initial_"))
        .assign(method=INITIAL, seeds=0, failed=0, spread_seeds=0)
    )
    table = pd.concat([initial, table], ignore_index=True) if not initial.empty else table
    table = table.reindex(columns=columns)
    table["timing_model"] = table["timing_model"].astype("Int64")  # a model number (2, not 2.0)
    return _marked_and_sorted(table)


def ok_rows(runs: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """The ok rows of ``runs`` with those of ``columns`` it has, their index kept: a copy of
    the columns a step reads, not of every column of 100,000 rows (a page made several)."""
    return runs.loc[runs["status"] == STATUS_OK, [c for c in columns if c in runs.columns]]


def best_seed_rows(ok: pd.DataFrame, illegal: pd.Series | None = None) -> pd.DataFrame:
    """The ok run each (design, method) cell of ``aggregate="best"`` shows: the lowest proxy
    among its legal seeds (among all when none is; the first in ``ok``'s order on a tie), with
    ``ok``'s index. ``method`` as the table's columns name it (:func:`method_labels`).
    ``illegal`` per row (default :func:`illegal_cells`: a caller that has it, or that judged
    legality otherwise, passes it)."""
    order = ok.assign(_illegal=illegal_cells(ok) if illegal is None else illegal)
    order = order.sort_values(["_illegal", "proxy"], kind="stable")
    return order.drop_duplicates(["design", "method"]).drop(columns="_illegal")


#: The ``timing_model`` of a mean over seeds measured with different timing models (or some
#: with none recorded): its timing is left blank.
MIXED_TIMING_MODELS = 0


def other_timing_model(rows: pd.DataFrame) -> pd.Series:
    """Rows whose timing figure was made by another timing model than today's
    (:data:`placer.cost.timing.TIMING_MODEL`; a row that records none is not one of them)."""
    model = pd.to_numeric(rows["timing_model"], errors="coerce")
    return model.notna() & (model != TIMING_MODEL)


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
    table["clear_best"] = table["best"] & _ahead_of_spread(table, ranked, eligible)
    return table.sort_values(["design", "method"], key=_initial_first).reset_index(drop=True)


def _ahead_of_spread(table: pd.DataFrame, ranked: pd.Series, eligible: pd.Series) -> pd.Series:
    """Per row: whether its design's lowest eligible proxy is ahead of the runner-up (the
    second lowest, which may tie it) by at least the larger of their seed spreads
    (:func:`shown_spread`; none for one seed, or a kept cell that records none). A best of N seeds
    moves with the draw: a lead smaller than that spread is not shown as a win (the page's bold,
    ``clear_best``). An exact tie of cells without spread counts as ahead (both are bold); a
    design of one eligible cell is ahead."""
    spread = pd.to_numeric(shown_spread(table)[1], errors="coerce").fillna(0.0)
    cells = pd.DataFrame({"design": table["design"], "value": ranked, "spread": spread})[eligible]
    cells = cells.sort_values(["design", "value"], kind="stable")
    place = cells.groupby("design").cumcount()
    lowest = cells.groupby("design")["value"].transform("min")
    best_spread = cells["spread"].where(cells["value"] == lowest).groupby(cells["design"]).transform("max")
    second = cells[place == 1].set_index("design")
    gap = second["value"] - lowest[place == 1].to_numpy()
    allowed = np.maximum(second["spread"], best_spread[place == 1].to_numpy())
    within = set(second.index[gap < allowed])
    return ~table["design"].isin(within)


def shown_spread(table: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Per row: the number and sample sd of the seeds its shown proxy comes from
    (``spread_seeds``, ``spread_std``); a kept cell of an older CSV that records them not gives
    its ``seeds`` and ``proxy_std``."""
    def column(name: str) -> pd.Series:
        return pd.to_numeric(table[name], errors="coerce") if name in table.columns else pd.Series(np.nan, table.index)

    recorded = column("spread_seeds").notna()
    return (column("spread_seeds").where(recorded, column("seeds")),
            column("spread_std").where(recorded, column("proxy_std")))


def _initial_first(column: pd.Series) -> pd.Series:
    if column.name == "method":
        return column.map(lambda m: (m != INITIAL, m))
    return column


def method_order(table: pd.DataFrame) -> list[str]:
    """``initial`` first, then the methods by mean rank (best first), then by name."""
    methods = sorted(m for m in table["method"].unique() if m != INITIAL)
    ranks = summary_rows(pivot(table, "proxy", methods), illegal_pivot(table, methods)).loc["mean rank"]
    methods.sort(key=lambda m: (np.nan_to_num(ranks.get(m, np.nan), nan=np.inf), m))
    return ([INITIAL] if (table["method"] == INITIAL).any() else []) + methods


def pivot(table: pd.DataFrame, metric: str = "proxy", methods: list[str] | None = None) -> pd.DataFrame:
    """Designs x methods of one metric (NaN where a method has no ok run)."""
    wide = table.pivot(index="design", columns="method", values=metric)
    if methods is not None:
        wide = wide.reindex(columns=[m for m in methods if m in wide.columns])
    wide.columns.name = None
    return wide


def illegal_pivot(table: pd.DataFrame, methods: list[str]) -> pd.DataFrame:
    """Designs x methods: whether the cell's placement is illegal (:func:`illegal_cells`)."""
    return pivot(table.assign(_illegal=illegal_cells(table).astype(float)), "_illegal", methods).fillna(0) > 0


#: The summary row of each method's geometric mean ratio to ``initial`` (:func:`summary_rows`).
GEOMEAN_ROW = "geomean vs initial"


def summary_rows(wide: pd.DataFrame, illegal: pd.DataFrame | None = None,
                 versus_initial: bool = False) -> pd.DataFrame:
    """``mean`` and ``mean rank`` of each column over the designs where every method has a value.

    Ranks are among the methods only (``initial`` gets none), 1 = lowest; a cell marked in
    ``illegal`` (designs x methods, see :func:`illegal_cells`) ranks after every legal one of
    its design. ``initial`` does not decide which designs count (it has no timing or seconds,
    and a design may lack an initial cost): its mean is over the counted designs where it has
    a value. Neither does a method with no value at all (failed on every design): it gets no
    mean and no rank.

    ``versus_initial``: a third row, :data:`GEOMEAN_ROW`: the geometric mean over the same
    designs (those with a positive ``initial`` figure; their number in ``attrs["n_geomean"]``)
    of each method's figure / the design's ``initial`` one, minus 1 (-0.3: 30 % below
    ``initial``). Scale-free, where ``mean`` weighs the designs with larger figures more and
    ``mean rank`` ignores the margins. Tied figures share the mean of the ranks they span (two
    tied for first both rank 1.5), so each design's ranks sum to n(n+1)/2 and a tie gives no
    method a lead: with the lowest rank shared ("min"), two methods tied on two designs
    gained 0.05 of mean rank each over a third, whose place in the columns that decided.
    """
    competitors = [c for c in wide.columns if c != INITIAL]
    counted = [c for c in competitors if wide[c].notna().any()]  # a method failed everywhere
    complete = wide.loc[wide[counted].dropna().index] if counted else wide  # does not
    values = complete[competitors].map(_ranking_value)
    if illegal is not None and not complete.empty:
        late = illegal.reindex(index=complete.index, columns=competitors).fillna(False).astype(bool)
        legal_ranks = values.where(~late).rank(axis=1, method="average")
        illegal_ranks = values.where(late).rank(axis=1, method="average")
        ranks = legal_ranks.fillna(illegal_ranks.add(legal_ranks.notna().sum(axis=1), axis=0))
    else:
        ranks = values.rank(axis=1, method="average")
    rows = pd.DataFrame(
        [complete.mean(), ranks.mean().reindex(wide.columns)], index=["mean", "mean rank"]
    )
    rows.attrs["n_designs"] = len(complete)
    if versus_initial:
        start = complete[INITIAL] if INITIAL in complete.columns else pd.Series(np.nan, complete.index)
        based = complete[start.astype(float) > 0]
        with np.errstate(divide="ignore"):  # (a figure of 0: log -inf, a ratio of 0, -100 %)
            logs = np.log(based[competitors].astype(float).div(start[based.index].astype(float), axis=0))
        change = np.exp(logs.mean()) - 1 if len(based) else pd.Series(np.nan, competitors)
        rows.loc[GEOMEAN_ROW] = change.reindex(wide.columns)
        rows.attrs["n_geomean"] = len(based)
        rows.attrs["geomean_zero"] = [str(d) for d in complete.index[start.astype(float) == 0]]  # (no ratio)
    return rows


def pairwise_wins(wide: pd.DataFrame, illegal: pd.DataFrame | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Methods x methods (``initial`` left out): on how many designs the row's method has the
    lower figure than the column's (an illegal cell, see :func:`illegal_cells`, loses to a legal
    one; a tie counts for neither), and on how many designs both have a figure. Each pair over
    its own shared designs, so a method missing a design still meets the others on the rest."""
    methods = [c for c in wide.columns if c != INITIAL]
    values = wide[methods].astype(float).map(_ranking_value)
    late = (illegal.reindex(index=wide.index, columns=methods).fillna(False).astype(bool)
            if illegal is not None else pd.DataFrame(False, wide.index, methods))
    figure, bad = values.to_numpy(dtype=float), late.to_numpy(dtype=bool)
    present = ~np.isnan(figure)
    # each design's pairs at once, one row method at a time (a (designs, methods) array each:
    # the pandas pair loop took 5.9 s for 100 methods)
    counts = np.zeros((len(methods), len(methods)), dtype=np.int64)
    for a in range(len(methods)):
        # (illegal, value) ordered: a legal placement before an illegal one, then the figure
        with np.errstate(invalid="ignore"):
            ahead = (~bad[:, [a]] & bad) | ((bad[:, [a]] == bad) & (figure[:, [a]] < figure))
        counts[a] = (ahead & present[:, [a]] & present).sum(axis=0)
    both = present.T.astype(np.int64) @ present.astype(np.int64)
    np.fill_diagonal(both, 0)  # (a method does not meet itself)
    return (pd.DataFrame(counts, index=methods, columns=methods),
            pd.DataFrame(both, index=methods, columns=methods))


def read_leaderboard_csv(path: str | Path) -> pd.DataFrame:
    """A ``leaderboard.csv`` written by :func:`write_leaderboard`; ValueError if unreadable or
    without its design / method / proxy columns."""
    path = Path(path)
    try:
        # names as text: "007" stays 007 and "NA" a design (pandas would guess 7.0 and NaN)
        # (index_col=False: a row with more fields than the header is refused, where pandas
        # took its extra leading fields as the row's index and shifted every column)
        with warnings.catch_warnings():
            warnings.simplefilter("error", pd.errors.ParserWarning)
            table = pd.read_csv(path, dtype={"design": str, "method": str}, keep_default_na=False,
                                na_values=[""], index_col=False)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError,
            pd.errors.ParserWarning) as exc:
        reason = " ".join(str(exc).split())  # one line, whatever the parser said
        raise InputError(f"{path}: cannot read an earlier leaderboard CSV ({reason})") from None
    missing = [c for c in ("design", "method", "proxy") if c not in table.columns]
    if missing:
        raise InputError(f"{path}: not a leaderboard CSV (no column {', '.join(missing)})")
    _unguard_formulas(table)
    for column in ("design", "method"):  # (an empty one failed later in pandas' words)
        empty = table[column].isna()
        if empty.any():
            raise InputError(f"{path}: line {int(np.flatnonzero(empty.to_numpy())[0]) + 2}: the {column} is empty")
    twice = table[table.duplicated(["design", "method"], keep=False)]
    if not twice.empty:
        design, method = twice.iloc[0]["design"], twice.iloc[0]["method"]
        lines = twice.index[(twice["design"] == design) & (twice["method"] == method)]
        raise InputError(f"{path}: the cell of {method!r} on {design!r} is given {len(lines)} times "
                         "(line(s) " + ", ".join(str(i + 2) for i in lines[:4]) + ")")
    for column in [c for c in (*NUMERIC_COLUMNS, "proxy_mean", "proxy_std", "seeds", "failed", "spread_seeds",
                               "spread_std") if c in table.columns]:
        numbers = pd.to_numeric(table[column], errors="coerce")
        bad = numbers.isna() & table[column].notna()
        if bad.any():
            line = int(np.flatnonzero(bad.to_numpy())[0]) + 2
            raise InputError(f"{path}: line {line}: {column} must be a number, got {table[column][bad].iloc[0]!r}")
        # (a proxy of inf or -1 was kept and shown as the best cell; stored runs refuse them)
        outside = numbers.notna() & ~(np.isfinite(numbers) & (numbers >= 0))
        if outside.any():
            line = int(np.flatnonzero(outside.to_numpy())[0]) + 2
            raise InputError(f"{path}: line {line}: {column} must be a finite number >= 0, "
                             f"got {float(numbers[outside].iloc[0]):g}")
        if column in ("seeds", "failed", "timing_model", "spread_seeds"):  # counts and model numbers: whole
            fraction = numbers.notna() & (numbers != np.floor(numbers))  # (seeds 2.5: a traceback)
            if fraction.any():
                line = int(np.flatnonzero(fraction.to_numpy())[0]) + 2
                raise InputError(f"{path}: line {line}: {column} must be a whole number, "
                                 f"got {float(numbers[fraction].iloc[0]):g}")
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
    new["timing"] = new["timing"].where(~other_timing_model(new))
    merged = _labelled_by_budget(pd.concat([table, new.assign(_kept=True)], ignore_index=True))
    for column in ("seeds", "failed", "timing_model", "spread_seeds"):  # counts and model numbers stay whole (read
        if column in merged:  # back as floats, 10 became 10.0 in every row; blank where an older kept
            # table has no such column)
            merged[column] = merged[column].astype("Int64")
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
    table.loc[plain, "method"] = table.loc[plain, "method"] + table.loc[plain, "budget_s"].map(budget_label)
    return table


def _labelled_like(kept: pd.DataFrame, table: pd.DataFrame) -> pd.DataFrame:
    """``kept`` with its plain method names labelled by budget (``sa@600s``) when the runs'
    columns are (runs at several budgets): a kept ``global_refine`` beside the runs'
    ``global_refine@600s`` was a second column of the same runs, read as kept from elsewhere."""
    ran = table[table["method"] != INITIAL]
    labelled = not ran.empty and all(
        str(m).endswith(budget_label(b)) for m, b in zip(ran["method"], ran["budget_s"], strict=True)
    )
    if "budget_s" not in kept.columns or ran.empty:
        return kept
    kept = kept.copy()
    if labelled:
        plain = (kept["method"] != INITIAL) & ~kept["method"].str.contains("@", regex=False) & kept["budget_s"].notna()
        kept.loc[plain, "method"] = kept.loc[plain, "method"] + kept.loc[plain, "budget_s"].map(budget_label)
        return kept
    # runs at one budget, plain, and a kept table labelled by budget: its cells at the runs'
    # budget of a method the runs have are that method's column (aa@5s beside the runs' aa)
    budget = budget_label(ran["budget_s"].iloc[0])
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
        raise InputError(
            f"{path}: keeps cells of {method!r}, which these runs also have, but records no budget "
            "or aggregation (an older table): its cells could mix settings with the runs' in one "
            "column; leave those runs out or regenerate that table"
        )
    how = str(table.loc[table["method"] != INITIAL, "aggregate"].iloc[0])
    ran_options = table[table["method"] != INITIAL].groupby("method")["options"].first()
    for row in shared.itertuples():
        budget = float(ran[row.method])
        if float(row.budget_s) != budget or str(row.aggregate) != how:
            raise InputError(
                f"{path}: its {row.method!r} cell of {row.design} is the {row.aggregate} at "
                f"{float(row.budget_s):g} s; these runs' {row.method!r} is the {how} at {budget:g} s: "
                "one column would mix them"
            )
        kept_options = getattr(row, "options", None)
        if kept_options == "" or ran_options[row.method] == "":
            continue  # a cell with no ok run (here or there) records no options: nothing to mix
        if not isinstance(kept_options, str):
            raise InputError(
                f"{path}: keeps cells of {row.method!r}, which these runs also have, but records "
                "no options (an older table): its cells could mix two settings of the method in "
                "one column; leave those runs out or regenerate that table"
            )
        if kept_options != ran_options[row.method]:
            raise InputError(
                f"{path}: its {row.method!r} cell of {row.design} was run with options "
                f"{kept_options}; these runs' {row.method!r} with {ran_options[row.method]}: one "
                "column would mix them"
            )
