"""The leaderboard page rendered from the table: text cells (best in bold, illegal ones marked),
Markdown and HTML tables, the notes on what the page holds (provenance, kept cells, illegal
placements, uneven seeds, timing models, lost ``.plc`` files), the bar chart, and
:func:`write_leaderboard`, which writes ``leaderboard.md``, ``.csv``, ``.html`` and ``.png``
together. The figures come from :mod:`placer.leaderboard.table`."""

from __future__ import annotations

import csv
import datetime as _dt
import html
import os
import re
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from netlists.errors import InputError
from netlists.formats.textio import text_writer, write_atomically
from placer.cost.timing import TIMING_MODEL
from placer.leaderboard.run_facts import listed as _listed
from placer.leaderboard.run_facts import ok_runs_with_facts, run_fact_notes, with_run_facts
from placer.leaderboard.runs import METRICS, RunsDirs, load_runs, runs_folders
from placer.leaderboard.table import (
    GEOMEAN_ROW,
    INITIAL,
    MIXED_TIMING_MODELS,
    best_seed_rows,
    budget_labels,
    guard_formulas,
    illegal_cells,
    illegal_pivot,
    keep_cells,
    method_labels,
    method_order,
    ok_rows,
    other_timing_model,
    pairwise_wins,
    pivot,
    shown_spread,
    summary_rows,
    table_of_runs,
)
from placer.results import DB_NAME, LEADERBOARD_FILES, STATUS_OK, plc_of_row_is_there, printable

if TYPE_CHECKING:
    from matplotlib.figure import Figure

_METRIC_TITLES = {
    "proxy": "Proxy cost (wirelength + 0.5 density + 0.5 congestion)",
    "wirelength": "Wirelength cost",
    "density": "Density cost",
    "congestion": "Congestion cost",
    "timing": "Timing (worst path / (W + H))",
    "seconds": "Seconds (wall time of the placement)",
}


#: How an illegal cell is marked in the tables (see :func:`illegal_cells`).
ILLEGAL_MARK = "†"
_SHARED_SUITE_NOTE = (
    "Only `ng45/ariane133` of the shared suite has its real nets; the other designs keep real "
    "geometry with synthetic nets, so their costs must never be compared with published numbers."
)


def _timing_model_notes(table: pd.DataFrame) -> list[str]:
    """Notes on the timing column's cells of another model (left blank) or of no recorded model
    (runs made before the model was recorded: those before 2026-12-04 used model 1)."""
    cells = table[(table["method"] != INITIAL) & table["proxy"].notna()]
    notes = []
    other = cells[other_timing_model(cells)]
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


def _cell(value: float, metric: str) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "—"
    if abs(value) >= 1e6:  # an exploded cost: 1e+300, not three hundred digits
        return f"{value:.4g}"
    return f"{value:.2f}" if metric == "seconds" else f"{value:.4f}"


def _formatted(table: pd.DataFrame, metric: str, methods: list[str]) -> tuple[pd.DataFrame, int]:
    """Text cells of a metric's designs x methods table, then its summary rows. In the proxy
    table a best cell that leads by more than the seeds' spread is in ``**`` (``clear_best``),
    and a cell of several seeds says how many and their spread (:func:`_spread_text`); its
    summary rows add :data:`GEOMEAN_ROW`."""
    wide = pivot(table, metric, methods)
    best = pivot(table.assign(best=table["clear_best"].astype(float)), "best", methods).fillna(0).to_numpy() > 0
    failed = pivot(table, "failed", methods).fillna(0).to_numpy()
    seeds = pivot(table, "seeds", methods).fillna(0).to_numpy()  # ok runs
    illegal = illegal_pivot(table, methods)
    values = wide.to_numpy(dtype=float)
    missing = np.isnan(values)
    cells = np.empty(values.shape, dtype=object)
    cells.ravel()[:] = [_cell(v, metric) for v in values.ravel().tolist()]
    # (a cell with ok runs but no figure, e.g. a timing of another model, is blank)
    failed_only = missing & (failed > 0) & (seeds == 0)
    cells[failed_only] = "failed"
    if metric == "proxy":
        bold = best & ~failed_only
        cells[bold] = "**" + cells[bold] + "**"
    marked = ~missing & illegal.to_numpy()
    cells[marked] = cells[marked] + ILLEGAL_MARK
    if metric == "proxy":  # (n, sd) of the seeds the figure comes from (shown_spread)
        count, std = shown_spread(table)
        pooled = pivot(table.assign(_n=count), "_n", methods).fillna(0).to_numpy()
        spread = pivot(table.assign(_sd=std), "_sd", methods).to_numpy(dtype=float)
        several = ~missing & (pooled > 1)
        cells[several] = [c + _spread_text(int(n), sd) for c, n, sd in
                          zip(cells[several], pooled[several], spread[several], strict=True)]
    text = pd.DataFrame(cells, index=wide.index, columns=wide.columns, dtype=object)
    summary = summary_rows(wide, illegal, versus_initial=metric == "proxy")
    summary_text = pd.DataFrame(
        [
            ["—" if np.isnan(v) else (f"{v:.2f}" if name == "mean rank" else f"{v * 100:+.1f} %"
                                      if name == GEOMEAN_ROW else _cell(v, metric))
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
    text.attrs["n_geomean"] = summary.attrs.get("n_geomean")
    text.attrs["geomean_zero"] = summary.attrs.get("geomean_zero", [])
    return text, int(summary.attrs["n_designs"])


def _spread_text(seeds: int, sd: float) -> str:
    """What a cell of several seeds adds to its figure: `` (n 4, sd 0.0140)``, the number of ok
    seeds and their sample standard deviation (a best of 4 moves with the draw; just the count
    where no sd is recorded, e.g. a kept cell)."""
    return f" (n {seeds}, sd {sd:.4f})" if np.isfinite(sd) else f" (n {seeds})"


def _pairwise_text(table: pd.DataFrame, methods: list[str]) -> pd.DataFrame:
    """Methods x methods text of :func:`~placer.leaderboard.table.pairwise_wins` on the proxy:
    ``wins/shared designs`` of the row's method against the column's."""
    wins, shared = pairwise_wins(pivot(table, "proxy", methods), illegal_pivot(table, methods))
    cells = [["—" if a == b else f"{wins.at[a, b]}/{shared.at[a, b]}" for b in wins.columns] for a in wins.index]
    return pd.DataFrame(cells, index=wins.index, columns=wins.columns, dtype=object)


def _markdown_note(note: str) -> str:
    """A page note as Markdown: its own `code` spans and leading **Note:** kept, everything
    else (design and method names among it) written literally: a method named ``x<i>y`` opened
    live HTML that ran over the rest of the paragraph, ``*`` made emphasis. ``<``, ``>`` and
    ``&`` are escaped inside code spans too (shown as entities there): a name holding a
    backtick unpairs the spans, and nothing may then turn into a tag."""
    lead = "**Note:** " if note.startswith("**Note:** ") else ""
    parts = re.split(r"(`[^`]*`)", printable(note[len(lead):]))
    return lead + "".join(html.escape(part, quote=False) if part.startswith("`") else _escaped_prose(part)
                          for part in parts)


def _escaped_prose(text: str) -> str:
    """Markdown prose written literally: HTML, backslash, emphasis, link and code characters
    escaped."""
    return re.sub(r"([\\*_\[\]`])", r"\\\1", html.escape(text, quote=False))


def _markdown_text(text: object) -> str:
    """``text`` as literal Markdown table text: ``|`` would split the cell, ``<``/``&`` be HTML,
    ``\\`` escape what follows, ``*``/``_`` make emphasis, ``[``/``]`` links and a backtick code;
    line breaks (any unprintable character) are written as escapes. The backslashes go in
    first (``x\\|y`` read back as ``x|y``)."""
    return _escaped_prose(printable(str(text))).replace("|", "\\|")  # (a line break split the row)


def _summary_from(text: pd.DataFrame) -> int:
    """Position of the first summary row (``mean``, ``mean rank``) of a formatted table."""
    return len(text) - int(text.attrs.get("summary_rows", 0))


def markdown_table(text: pd.DataFrame, index_name: str = "design") -> str:
    """A GitHub Markdown table of string cells (numbers right-aligned); the summary rows of a
    formatted table (``text.attrs["summary_rows"]``, the last ones) in bold."""
    header = [index_name, *text.columns]
    lines = ["| " + " | ".join(map(_markdown_text, header)) + " |", "|:---|" + "---:|" * len(text.columns)]
    first_summary = _summary_from(text)
    for position, (name, row) in enumerate(zip(text.index, text.to_numpy(dtype=object).tolist(), strict=True)):
        label = _markdown_text(name)
        if position >= first_summary:
            label = f"**{label}**"
        lines.append("| " + " | ".join([label, *map(str, row)]) + " |")
    return "\n".join(lines)


def _html_table(text: pd.DataFrame, caption: str, index_name: str = "design") -> str:
    """An HTML table of :func:`markdown_table`'s cells, bold as ``<b>``: with a ``caption``
    and each row's name as its header (``scope="row"``), so that a screen reader names the
    table and says a cell's design and method with it."""
    head = "".join(f'<th scope="col">{html.escape(str(c))}</th>' for c in [index_name, *text.columns])
    body = []
    for name, row in zip(text.index, text.to_numpy(dtype=object).tolist(), strict=True):
        cells = [f'<th scope="row">{html.escape(str(name))}</th>']
        for value in row:
            value = str(value)
            if value.startswith("**"):  # **figure** and any mark after it
                figure, _, mark = value[2:].partition("**")
                cells.append(f"<td><b>{html.escape(figure)}</b>{html.escape(mark)}</td>")
            else:
                cells.append(f"<td>{html.escape(value)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (f"<table><caption>{html.escape(caption)}</caption><thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table>")


def _busy_folders(folders: list[Path]) -> list[str]:
    """A note per runs folder a live batch is still writing: its page holds only the runs
    finished so far (a leaderboard of a running batch read as complete, a design not yet
    begun simply absent)."""
    from placer.folder_lock import holder_of

    notes = []
    for folder in folders:
        holder = holder_of(folder)
        if holder is not None:
            notes.append(f"`{folder}` was being written by {holder} when this page was made: it holds only "
                         "the runs finished by then (make the page again once the batch ends).")
    return notes


def _provenance(runs: pd.DataFrame, aggregate: str) -> list[str]:
    ok = ok_rows(runs, ["design", "method"])
    budgets = ", ".join(f"{b:g} s" for b in sorted(runs["budget_s"].unique()))
    # per table column: a method run at two budgets is two columns (2 + 3 seeds read as 5)
    labels = method_labels(runs).loc[ok.index]
    seeds = int(ok.assign(method=labels).groupby(["design", "method"]).size().max()) if not ok.empty else 0
    versions = ", ".join(sorted(set(runs["version"].dropna().unique())))
    commits = ", ".join(sorted({str(c)[:10] for c in runs["git_commit"].dropna().unique()})) or "none"
    how = ("the best seed (lowest proxy among its legal seeds) per design and method" if aggregate == "best"
           else "the mean over seeds per design and method")
    return [
        f"Generated {_dt.datetime.now(_dt.UTC).strftime('%Y-%m-%d %H:%M UTC')} from "
        f"{len(runs)} runs ({len(ok)} ok); budget {budgets}; up to {seeds} seed(s) per design "
        f"and method; each cell is {how}.",
        f"placer-gym {versions or 'unknown'}, git commit {commits}.",
        "`initial` is each design's `initial.plc` (a Bookshelf design's own `.pl`; a reference: not ranked, never marked best).",
    ]


def _reading_notes(table: pd.DataFrame, aggregate: str) -> list[str]:
    """How to read the cells, the bold and the summary rows: a best of N seeds favours methods
    with more seeds or more varied ones; bold is withheld where the lead is within the seeds'
    spread (those designs named); which aggregation each summary row uses and which orders the
    columns (mean rank, whose ranks ignore margins: the geometric mean and the pairwise wins
    say what it hides)."""
    notes = []
    ran = table[table["method"] != INITIAL]
    several = bool((pd.to_numeric(ran["seeds"], errors="coerce").fillna(0) > 1).any())  # (else no n, sd shown)
    if aggregate == "best" and several:
        notes.append("Each cell is the best of its seeds: a best of N favours the methods run with more seeds, or "
                     "whose seeds vary more (a lucky draw), over a method whose seeds agree. Proxy cells of "
                     "several seeds give their number and the sample standard deviation of their proxies "
                     "(`(n 4, sd 0.0140)`; the legal seeds' where some are not legal, those the cell is "
                     "chosen from); `--aggregate mean` gives the mean over seeds instead.")
    elif several:
        notes.append("Each cell is the mean over its seeds. Proxy cells of several seeds give their number and "
                     "the sample standard deviation of their proxies (`(n 4, sd 0.0140)`).")
    within = sorted(set(table.loc[table["best"] & ~table["clear_best"], "design"].astype(str)))
    notes.append("Bold: the lowest proxy of its design among the legal placements (among all where none is "
                 "legal), given only where the runner-up is behind it by at least the larger of the two cells' "
                 "seed sd (an exact tie of cells without spread bolds both)"
                 + (f"; within seed spread, no cell bold: {_listed(within)}." if within else "."))
    notes.append("Summary rows, each over the designs where every method with any result has one (a method "
                 "that failed everywhere gets no mean, rank or bar): `mean`, the arithmetic mean of the table's "
                 "figure (designs with larger figures weigh more); `mean rank`, the mean of each design's ranks by "
                 "the table's figure (1 = lowest; tied figures share the mean of the ranks they span; margins "
                 "ignored), which orders the columns and the chart's "
                 f"bars; `{GEOMEAN_ROW}` (proxy table), the geometric mean of the method's proxy / the design's "
                 "`initial` proxy as a percent change (each design weighs alike; designs with an `initial` "
                 "proxy)." + (" Pairwise wins: on how many designs the row's method has the lower proxy than "
                              "the column's, of those both have (a legal placement beats an illegal one; a tie "
                              "counts for neither)." if ran["method"].nunique() > 1 else ""))
    return notes


def _unchecked_runs(runs: pd.DataFrame, aggregate: str) -> list[str]:
    """Notes naming the ok runs whose ``.plc`` is gone or is not theirs (removed or replaced
    by hand): no placement backs those numbers any more. Only the runs whose figures the
    tables show have their files opened (the attempt id in the header checked): with
    ``aggregate="best"`` each cell's best seed
    (:func:`~placer.leaderboard.table.best_seed_rows`), with ``"mean"`` every ok run (each is
    in a mean). Opening every ok run's file took 7-11 s of a 100,000-row page of 10 seeds a
    cell, its best seeds' 0.7-1.5 s (``experiments/bench/leaderboard_scale.py``'s folder). The
    other seeds of a best-seed page are named in a note of their own when their file is
    missing, found by its presence alone (one ``stat`` each: a file replaced by another run's
    is not caught there); they still count in the CSV's ``proxy_mean``, ``proxy_std`` and
    ``seeds``."""
    ok = ok_rows(runs, ["design", "method", "seed", "runs_dir", "plc_path", "plc_attempt", "proxy",
                        "overlap_area", "out_of_canvas"])
    shown, others = ok, ok.iloc[:0]
    if aggregate == "best":  # (the cells as the table makes them: methods labelled over all runs)
        labelled = ok.assign(method=method_labels(runs).loc[ok.index])
        best = best_seed_rows(labelled).index
        shown, others = ok.loc[best].sort_index(), ok.drop(index=best)
    folders: dict[str, Path] = {}  # (one Path per runs folder, not per run)
    lost = _named(shown, [
        not plc_of_row_is_there(folders.setdefault(folder, Path(folder)), plc, None if pd.isna(attempt) else attempt)
        for folder, plc, attempt in zip(*_columns(shown, "runs_dir", "plc_path", "plc_attempt"), strict=True)
    ])
    gone = _named(others, [not os.path.isfile(os.path.join(folder, str(plc)))
                           for folder, plc in zip(*_columns(others, "runs_dir", "plc_path"), strict=True)])
    notes = []
    if lost:
        notes.append(f"{len(lost)} run(s) no longer have their .plc (removed or replaced): {_listed(lost)}; their "
                     "numbers are in the tables, but no placement file backs them.")
    if gone:
        notes.append(f"{len(gone)} run(s) of seeds no table shows no longer have their .plc (removed; only "
                     f"whether the file is there was checked): {_listed(gone)}; they still count in the CSV's "
                     "`proxy_mean`, `proxy_std` and `seeds`.")
    return notes


def _columns(runs: pd.DataFrame, *names: str) -> list[list[Any]]:
    """Those columns of the rows of ``runs`` that record a ``.plc``, as lists (zipped, they
    take a fraction of itertuples' time)."""
    has_plc = runs["plc_path"].notna()
    return [runs.loc[has_plc, name].tolist() for name in names]


def _named(runs: pd.DataFrame, chosen: list[bool]) -> list[str]:
    """``design/method/seedK`` of the rows of ``runs`` recording a ``.plc`` that ``chosen``
    marks (one flag per such row, in order)."""
    if not any(chosen):
        return []
    designs, methods, seeds = _columns(runs, "design", "method", "seed")
    return [f"{d}/{m}/seed{int(s)}" for d, m, s, c in zip(designs, methods, seeds, chosen, strict=True) if c]


def _verified(runs: pd.DataFrame) -> str:
    """The page's note for ``--verify`` once every ok run's ``.plc`` agreed with its row; a
    ValueError naming the runs that do not."""
    from placer.leaderboard.verify import failure_text, untrue_runs, verify_runs

    try:
        checked = verify_runs(runs)
    except InputError as error:  # (a plain ValueError is a bug of ours: raised as it is)
        raise InputError(f"--verify: {error}; nothing written") from None
    untrue = untrue_runs(checked)
    if not untrue.empty:
        raise InputError(f"--verify: {len(untrue)} run(s) whose stored figures are not their .plc's: "
                         f"{failure_text(untrue)}; nothing written (rerun them, or leave their folder out)")  # fmt: skip
    if checked.empty:
        return "Verified: no ok run has a .plc to check."
    return (f"Verified: each of the {len(checked)} ok runs' .plc was evaluated afresh; its cost, file and "
            "legality are the ones its row records.")


def _kept_start_runs(runs: pd.DataFrame) -> list[str]:
    """A note naming the ok runs whose method's own result could not be legalised, so that
    ``Placer.place`` returned the given placement, legalised, in its place: their figures are
    the start's, not the method's (they were ranked with no word)."""
    from placer.algorithms.base import COULD_NOT_LEGALISE, KEPT_THE_GIVEN

    if "note" not in runs.columns:
        return []
    notes = runs["note"].fillna("").astype(str)
    kept = runs[(runs["status"] == STATUS_OK) & notes.str.contains(COULD_NOT_LEGALISE, regex=False)
                & notes.str.contains(KEPT_THE_GIVEN, regex=False)]  # fmt: skip
    if kept.empty:
        return []
    shown = _listed([f"{r.design}/{r.method}/seed{int(r.seed)}" for r in kept.itertuples()])
    return [f"{len(kept)} run(s) returned the given placement, legalised, because the method's own result "
            f"could not be legalised: {shown}; their numbers are the start's, not the method's."]


def _overrun_runs(runs: pd.DataFrame) -> list[str]:
    """A note naming the ok runs that took well past their budget: compared in one table with
    methods that stopped on time (a plugin that ignores its budget was ranked with no word;
    the seconds table showed the time, unmarked; each such run's own notes say it too)."""
    from placer.algorithms.base import OVERRUN_MIN_S, OVERRUN_SHARE, past_budget

    ok = runs[(runs["status"] == STATUS_OK) & runs["seconds"].notna() & runs["budget_s"].notna()]
    late = ok[past_budget(ok["seconds"].to_numpy(float), ok["budget_s"].to_numpy(float))]
    if late.empty:
        return []
    shown = _listed([f"{r.design}/{r.method}/seed{int(r.seed)} ({r.seconds:.1f} s of {r.budget_s:g} s)"
                     for r in late.itertuples()])  # fmt: skip
    return [f"{len(late)} run(s) took more than {OVERRUN_SHARE - 1:.0%} past their budget (and over "
            f"{OVERRUN_MIN_S:g} s more): {shown}; they are compared with runs that stopped on time."]


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
    ok = ok_rows(runs, ["design", "method", "budget_s", "overlap_area", "out_of_canvas"])
    if aggregate != "best" or ok.empty:
        return []
    labels = method_labels(runs).loc[ok.index]
    if table is not None:  # a column the page labelled by budget goes by that label
        columns = set(table["method"])
        budgeted = ok["method"] + budget_labels(ok["budget_s"])
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


def _chart_setting(table: pd.DataFrame, methods: list[str]) -> str:
    """The chart's second title line: the budget (one, or several), how each cell stands for
    its seeds (the best or the mean), the methods whose cells recorded neither (kept from an
    older table), and the bars' order (by mean rank, while their heights are mean proxies: the
    order is not the heights')."""
    runs = table[table["method"].isin(methods) & (table["method"] != INITIAL)]
    budgets = sorted(float(b) for b in runs["budget_s"].dropna().unique())
    parts = []
    if budgets:
        parts.append(f"budget {budgets[0]:g} s per run" if len(budgets) == 1
                     else f"budgets {', '.join(f'{b:g}' for b in budgets)} s")
    hows = set(runs["aggregate"].dropna().astype(str))
    if hows:
        parts.append("each cell the best seed" if hows == {"best"} else "each cell the mean over seeds"
                     if hows == {"mean"} else "cells the best seed or the mean over seeds")
    setting = ", ".join(parts)
    unrecorded = sorted(set(runs.loc[runs["budget_s"].isna() | runs["aggregate"].isna(), "method"].astype(str)))
    if unrecorded:  # (cells kept from an older table)
        named = _listed([printable(m) for m in unrecorded], most=3)
        setting = f"{setting} ({named}: not recorded)" if setting else "budget and aggregation not recorded"
    return f"{setting}; methods ordered by mean rank" if setting else "methods ordered by mean rank"


def bar_figure(table: pd.DataFrame, methods: list[str]) -> Figure:
    """The page's bar chart of the mean proxy per method over the designs every method has, in
    the tables' order (by mean rank), the budget and aggregation under the title (says so when
    no method has a mean to draw, with no value axis)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    wide = pivot(table, "proxy", methods)
    illegal = illegal_pivot(table, methods)
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
    names = [_short(printable(str(m))) + (ILLEGAL_MARK if m in marked else "") for m in means.index]
    # at positions, labelled after: two shortened labels alike were one category, their bars
    # drawn over each other
    bars = ax.bar(np.arange(len(names)), np.where(drawable, values, 0.0), color=colors)
    ax.set_xticks(np.arange(len(names)), names)
    ax.bar_label(bars, labels=[_cell(v, "proxy") if np.isfinite(v) or np.isinf(v) else "" for v in values],
                 fontsize=8)
    if not np.isfinite(values).any():
        # every method failed everywhere, or (folders pooled over other designs) no design has
        # a result of every method: it said "no successful run" of runs that all succeeded
        why = ("no design has a result of every method" if np.isfinite(wide.to_numpy(dtype=float)).any()
               else "no successful run to chart")
        ax.text(0.5, 0.5, why, transform=ax.transAxes, ha="center", va="center", color="grey")
        ax.yaxis.set_visible(False)  # (its -0.04..0.04 read as values)
    else:
        ax.set_ylabel("mean proxy cost (lower is better)")
    # (broken to the figure's width: a chart of one or two bars is 4 inches wide)
    chars = int(12 * fig.get_figwidth())  # (characters a line of the figure's width holds)
    setting = textwrap.wrap(_chart_setting(table, methods), chars, break_on_hyphens=False)
    ax.set_title("\n".join([f"Mean proxy per method over {summary.attrs['n_designs']} design(s)", *setting]),
                 fontsize=10)
    if marked:  # (the mark was explained only in the page's notes, which a chart travels without)
        # (8 pt: 7 pt at the page's 120 dpi was 12 pixels high; broken to the width as the title is)
        footnote = textwrap.wrap(f"{ILLEGAL_MARK} its mean counts placements that are not legal (overlapping hard "
                                 "macros, or macros outside the canvas)", chars)
        fig.supxlabel("\n".join(footnote), fontsize=8, color="dimgrey")
    ax.tick_params(axis="x", labelsize=8)
    for label in ax.get_xticklabels():  # the label's end under its bar, not centred across two
        # (and as plain text: a method named m$\x$ was drawn as TeX, m$\undefined{$ stopped the page)
        label.set(rotation=20, ha="right", rotation_mode="anchor", parse_math=False)
    return fig


def _short(name: str, most: int = 28) -> str:
    """A method label short enough to sit under its bar (the tables keep the full name); the
    budget of a ``method@600s`` column is kept whole (it was what got cut, leaving three
    columns one label)."""
    if len(name) <= most:
        return name
    base, at, budget = name.rpartition("@")
    suffix = at + budget if at and len(budget) < most // 2 else ""
    base = base if suffix else name
    return base[: most - 1 - len(suffix)] + "…" + suffix


def write_leaderboard(runs_dirs: RunsDirs, out_dir: str | Path | None = None,
                      aggregate: str = "best",
                      keep: str | Path | None = None, verify: bool = False,
                      command: str | None = None) -> dict[str, Path]:
    """Write ``leaderboard.md``, ``.csv`` (the tidy :func:`build` table), ``.html`` and ``.png``
    into ``out_dir`` (default: the first runs folder). ``keep``: an earlier ``leaderboard.csv``
    whose cells the runs do not cover are kept (see :func:`keep_cells`; the page says which).
    ``verify``: every ok run's ``.plc`` is first evaluated afresh
    (:func:`~placer.leaderboard.verify.verify_runs`); a run whose stored cost, file or legality
    is not its file's is refused with a ValueError naming it, and nothing is written.
    ``command``: the command line making the page (``placer leaderboard ...``), named under the
    page's title in the Markdown and the HTML (a recorded page says how to make it again);
    none for a page made from Python."""
    folders = runs_folders(runs_dirs)
    out = Path(out_dir if out_dir is not None else folders[0])
    runs = load_runs(folders)  # read once: the table and the page notes both use it
    table = table_of_runs(runs, aggregate)
    if table.empty:
        raise InputError(f"{', '.join(str(f / DB_NAME) for f in folders)} {'holds' if len(folders) == 1 else 'hold'} no runs")
    notes = _busy_folders(folders) + _provenance(runs, aggregate)
    read_at = len(notes)  # (how to read the cells goes under the header, once the table is whole)
    if verify:
        notes.append(_verified(runs))
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
    notes += _unchecked_runs(runs, aggregate) + _kept_start_runs(runs) + _overrun_runs(runs) + _uneven_seeds(table) + _illegal_note(table) + _illegal_seeds_note(runs, aggregate, table)
    notes += _timing_model_notes(table)
    ok_facts = ok_runs_with_facts(runs)  # (read by the notes and the CSV's columns alike)
    notes += run_fact_notes(ok_facts)  # (code versions and machines behind the cells)
    notes[read_at:read_at] = _reading_notes(table, aggregate)
    methods = method_order(table)
    if _uses_shared_suite(runs):
        notes.insert(0, f"**Note:** {_SHARED_SUITE_NOTE}")

    made_by = [f"Made by `{command}`."] if command is not None else []  # (a paragraph of its own)
    md = ["# Leaderboard", "", *[line for n in made_by for line in (_markdown_note(n), "")],
          *[f"{_markdown_note(n)}  " for n in notes], ""]
    page = ["<h1>Leaderboard</h1>", *[f"<p>{_html_text(n)}</p>" for n in made_by + notes]]
    for metric in METRICS:
        text, n_complete = _formatted(table, metric, methods)
        n_designs = _summary_from(text)
        covered = (f"`mean` and `mean rank` are over {n_complete} of {n_designs} design(s)."
                   if n_complete < n_designs else "")
        n_geomean, zero = text.attrs.get("n_geomean"), text.attrs.get("geomean_zero", [])
        if n_geomean is not None and n_geomean < n_complete:
            geomean_notes = ([f"`{GEOMEAN_ROW}` leaves out {_listed(zero)}: {'its' if len(zero) == 1 else 'their'} "
                     "`initial` proxy is 0 (no ratio to it)."] if zero else [])
            if n_geomean + len(zero) < n_complete:  # (the others record no initial proxy)
                geomean_notes.append(f"`{GEOMEAN_ROW}` is over the {n_geomean} of them with an `initial` proxy"
                            + (" above 0." if zero else "."))
            covered = " ".join([*([covered] if covered else []), *geomean_notes])
        # (written as the page's notes are: a design name in it is prose, 'a_b' no emphasis)
        md += [f"## {_METRIC_TITLES[metric]}", "", markdown_table(text), "",
               *([_markdown_note(covered), ""] if covered else [])]
        page += [f"<h2>{html.escape(_METRIC_TITLES[metric])}</h2>",
                 _html_table(text, f"{_METRIC_TITLES[metric]}: a row per design, a column per method"),
                 *([f"<p>{_html_text(covered)}</p>"] if covered else [])]
        if metric == "proxy" and len(methods) - (INITIAL in methods) > 1:
            wins = _pairwise_text(table, methods)
            title = "Pairwise wins (proxy): designs where the row's method is lower / designs both have"
            md += [f"### {title}", "", markdown_table(wins, "method"), ""]
            page += [f"<h3>{html.escape(title)}</h3>",
                     _html_table(wins, "Pairwise wins (proxy) of the row's method against the column's", "method")]
    failures = runs[runs["status"] != "ok"]
    if not failures.empty:
        md += ["## Failed runs", ""]
        page.append("<h2>Failed runs</h2><ul>")
        labels = method_labels(runs)  # (the tables' column names: two budgets' failures read alike)
        for row in failures.itertuples():
            first = str(row.error or "").splitlines()[0] if row.error else "unknown error"
            said = f"{row.design} / {labels[row.Index]} / seed {row.seed}: {first}"
            md.append("- " + _markdown_text(said))
            page.append(f"<li>{html.escape(said)}</li>")
        page.append("</ul>")
        md.append("")

    paths = {kind: out / name for kind, name in LEADERBOARD_FILES.items()}
    out.mkdir(parents=True, exist_ok=True)  # (only now: a refused --keep left an empty folder)
    style = "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}"
    texts = {
        paths["markdown"]: "\n".join(md),
        # (every text field quoted: pandas quotes a \n in a name, not a \r, which split its row)
        paths["csv"]: guard_formulas(with_run_facts(table, ok_facts, aggregate)).to_csv(index=False, quoting=csv.QUOTE_NONNUMERIC),
        paths["html"]: f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Leaderboard"
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
