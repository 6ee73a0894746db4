"""Benchmark: placement quality on a suite, checked run by run (issue #4's quality targets).

Reads a runs folder written by ``placer place --suite`` (or makes one with ``--run``), then for
every finished run re-reads its ``.plc``, evaluates it afresh and checks that

* the stored proxy equals the fresh evaluation (relative 1e-9),
* the placement is legal (no hard-macro overlap, every macro inside the canvas, fixed nodes
  where the design's ``initial.plc`` has them).

It reports, per design, the initial placement's proxy, each method's (its best legal seed, as
the leaderboard shows it), the best method and how far below the initial it is, and the
targets: the best single method at least 30 % below ``initial`` on average (the method with the
largest mean; the per-design best of all methods is a portfolio no one method reaches, shown
but not judged), and below ``sa`` at the same budget.

    placer place --suite ../shared/benchmarks --algo refine,sa --budget-s 600 --jobs 2 --out runs/q600
    python experiments/bench/placement_quality.py --runs runs/q600 --out experiments/results/placement_quality_600s.md

Methods run as separate batches (e.g. one per core) are reported together with
``--runs runs/q600_sa runs/q600_refine``. Methods whose runs folders are gone can be shown
beside the checked ones from an earlier leaderboard table: ``--keep
experiments/leaderboard/leaderboard.csv --keep-methods refine,sa`` (not re-checked; the report
says so).

or, in one go (resumable: rerun the same command after an interruption)::

    python experiments/bench/placement_quality.py --run --budget-s 600 --methods refine,sa \\
        --runs runs/q600 --out experiments/results/placement_quality_600s.md
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from _cli import (
    DEFAULT_SUITE,
    check_outputs,
    make_parser,
    name_list,
    output_file,
    positive_float,
    positive_int,
    run,
    write_results,
)

from placer.leaderboard import load_runs, read_leaderboard_csv
from placer.leaderboard.run_facts import (
    machine_label,
    ok_runs_with_facts,
    run_fact_notes,
    short_code,
)
from placer.leaderboard.table import best_seed_rows
from placer.leaderboard.verify import failing_runs, verify_runs
from placer.results import DB_NAME

TARGET = 0.30


def verify(runs_dirs: list[Path], loaded: pd.DataFrame) -> pd.DataFrame:
    """One row per ok run of any of ``runs_dirs`` (``loaded``: :func:`load_runs` of them, where a
    run in several folders counts once): stored and fresh proxy, legality, initial proxy
    (:func:`placer.leaderboard.verify.verify_runs`)."""
    runs = verify_runs(loaded)
    if runs.empty:
        raise ValueError(f"{', '.join(map(str, runs_dirs))}: no finished runs")
    return runs


def made_with(runs: pd.DataFrame) -> list[str]:
    """How the runs were made, from what each recorded (``runs``: :func:`load_runs`' table): the
    git commits (``+dirty``: uncommitted changes), the machines and the load at their starts,
    then the leaderboard's notes on a column made by several commits, runs that shared their
    CPU and several hosts. The page named none of it: a table made from batches of different
    commits read as one code's (the table before this line had to be told so by hand)."""
    ok = ok_runs_with_facts(runs)
    if ok.empty:
        return []
    commits = sorted(set(ok["code"].map(short_code)))
    machines = sorted({machine_label(h, m, n) for h, m, n in zip(ok["host"], ok["cpu_model"], ok["cpu_count"], strict=True)})
    load = ok["load_1m"].dropna()
    jobs = sorted({int(j) for j in pd.to_numeric(ok["jobs"], errors="coerce").dropna()})
    line = (f"The runs checked here were made at git commit{'s' if len(commits) > 1 else ''} {', '.join(commits)}" + (" (`none`: not recorded)" if "none" in commits else "")
            + f" on {', '.join(machines)}"
            + (f", {' or '.join(map(str, jobs))} runs at once" if jobs else "")
            + (f"; 1-minute load average {load.min():.1f}-{load.max():.1f} at their starts" if len(load) else "")
            + ".")
    return [line, *run_fact_notes(ok)]


def kept_columns(table: pd.DataFrame, methods: list[str], designs: pd.Index) -> pd.DataFrame:
    """Proxy per design of ``methods`` from an earlier ``leaderboard.csv`` (``table``: runs
    made and checked before, whose folders are gone), as columns beside the verified ones. A
    name matches its column, or the one column of that method labelled by budget (``fd`` takes
    ``fd@5s``: a leaderboard spanning budgets labels every column); a name matching no column,
    or several, is refused (it added nothing, silently)."""
    table = table[table["method"].astype(str).isin(kept_labels(table, methods))]
    return table.pivot(index="design", columns="method", values="proxy").reindex(designs)


def kept_labels(table: pd.DataFrame, methods: list[str]) -> list[str]:
    """The kept table's column of each of ``methods`` (see :func:`kept_columns`); ValueError
    for a name matching no column or several. Checked before the (slow) batch too."""
    labels = table["method"].astype(str)
    chosen = []
    for name in methods:
        found = sorted({name} & set(labels)) or sorted(set(labels[labels.str.split("@").str[0] == name]))
        if len(found) != 1:
            have = ", ".join(sorted(set(labels))) or "none"
            why = "matches no column" if not found else f"matches several columns ({', '.join(found)}): name one"
            raise ValueError(f"--keep-methods {name}: {why} of the kept table (its columns: {have})")
        chosen += found
    return chosen


def report(runs: pd.DataFrame, kept: pd.DataFrame | None = None, kept_from: str = "") -> str:
    budgets = runs.groupby(["design", "method"])["budget_s"].nunique()
    if (budgets > 1).any():  # the best seed would be taken across budgets, unsaid
        design, method = budgets[budgets > 1].index[0]
        found = sorted(runs[(runs["design"] == design) & (runs["method"] == method)]["budget_s"].unique())
        raise ValueError(f"{method} on {design} was run at several budgets ({', '.join(f'{b:g} s' for b in found)}): "
                         "check one budget per method at a time")
    best_seed = best_legal_seeds(runs)
    wide = best_seed.pivot(index="design", columns="method", values="proxy")
    initial = runs.groupby("design")["initial"].first()
    kept_methods: list[str] = []
    if kept is not None:
        kept_methods = [m for m in kept.columns if m not in wide.columns]
        wide = wide.join(kept[kept_methods])
    methods = list(wide.columns)
    wide["best"] = wide[methods].min(axis=1)
    wide["best method"] = wide[methods].idxmin(axis=1)
    wide["below initial"] = 1 - wide["best"] / initial
    lines = [
        f"Budget {', '.join(f'{b:g}' for b in sorted(runs['budget_s'].unique()))} s per run; "
        f"{len(runs)} runs; best seed per design and method."
        + (
            f" Columns {', '.join(kept_methods)}: kept from {kept_from} (earlier runs, checked "
            "when they were made; their .plc files are not re-read here; the budget above is that "
            "of the runs checked here, a kept column's is the one its name gives, if any)."
            if kept_methods
            else ""
        ),
        "",
        "| design | initial | " + " | ".join(methods) + " | best | below initial |",
        "|---|---:|" + "---:|" * len(methods) + "---|---:|",
    ]
    for design, row in wide.iterrows():
        cells = " | ".join(f"{row[m]:.4f}" if not np.isnan(row[m]) else "-" for m in methods)
        lines.append(
            f"| {design} | {initial[design]:.4f} | {cells} | {row['best method']} | {_percent(row['below initial'])} |"
        )
    # means over the designs every method has a result on: a method missing a design would
    # otherwise be averaged over other designs than the rest and compared as if it were not
    complete = wide[wide[methods].notna().all(axis=1)]
    covered = f"over the {len(complete)} of {len(wide)} designs every method covers"
    portfolio = float(complete["below initial"].mean()) if len(complete) else float("nan")
    per_method = {m: float((1 - complete[m] / initial.reindex(complete.index)).mean()) for m in methods}
    # the verdict is one method's: the per-design best of all of them needs every method run
    leader = max(methods, key=lambda m: -np.inf if np.isnan(per_method[m]) else per_method[m])
    mean_below = per_method[leader] if len(complete) else float("nan")
    lines += [
        f"| mean below initial ({len(complete)} of {len(wide)} designs) | | "
        + " | ".join(_percent(per_method[m]) for m in methods)
        + f" | | {_percent(portfolio)} |",
        "",
        f"- every stored cost equals a fresh evaluation of its .plc: {bool(runs['same_cost'].all())} "
        f"({int((~runs['same_cost']).sum())} mismatches)",
        f"- every .plc the one its row was measured on: {bool(runs['own_file'].all())} "
        f"({int((~runs['own_file']).sum())} not)",
        f"- every output legal: {bool(runs['legal'].all())} ({int((~runs['legal']).sum())} illegal)",
        f"- best method >= {TARGET:.0%} below initial on average ({covered}): {leader + ' ' if len(complete) else ''}{_percent(mean_below)} -> "
        + ("met" if mean_below >= TARGET else "missed" if len(complete) else "not measured (no design every method covers)"),
        f"- (the per-design best of any method, a portfolio no single method is: {_percent(portfolio)} below initial)",
    ]
    failing = failing_runs(runs)
    if len(failing):  # named, so that each can be looked at (the counts alone said nothing)
        why = [
            f"{r.design}/{r.method}/seed{r.seed}: "
            + ", ".join(w for w, bad in (
                (f"stored {r.proxy:.6g}, its .plc {r.fresh:.6g}", not r.same_cost),
                ("not the .plc its row was measured on", not r.own_file),
                ("illegal", not r.legal)) if bad)  # fmt: skip
            for r in failing.itertuples()
        ]
        lines += ["- runs failing a check: " + "; ".join(why)]
    if "sa" in methods:
        others = [m for m in methods if m != "sa"]
        if others:
            best_other = max(others, key=lambda m: per_method[m])
            gap = float((1 - complete[best_other] / complete["sa"]).mean())
            budgets = runs[runs["method"].isin([best_other, "sa"])]["budget_s"]
            same = not ({best_other, "sa"} & set(kept_methods)) and budgets.nunique() == 1
            where = "at the same budget" if same else (
                "(a kept column, at its own budget)" if {best_other, "sa"} & set(kept_methods)
                else "(at different budgets)"
            )
            lines.append(f"- {best_other} vs sa {where}: {_percent(gap)} lower proxy on average ({covered})")
    return "\n".join(lines) + "\n"


def best_legal_seeds(runs: pd.DataFrame) -> pd.DataFrame:
    """Each (design, method)'s run that the report shows: the lowest proxy among its legal seeds
    (among all when none is), as the leaderboard's cells are chosen: an illegal seed's lower
    proxy (hard macros overlapping) stood for the method, beside a leaderboard showing its
    legal one."""
    return best_seed_rows(runs, illegal=~runs["legal"].astype(bool))


def _percent(fraction: float) -> str:
    """A fraction as a percentage with one decimal; "-" when there is none (NaN), and two
    significant digits where one decimal would round a change away (-0.0002: "-0.02%", not
    "-0.0%", which hid that a method had got worse)."""
    if np.isnan(fraction):
        return "-"
    text = f"{fraction * 100:.1f}%"
    if fraction == 0 or text not in ("0.0%", "-0.0%"):
        return text
    # positional, never 4e-05%
    return np.format_float_positional(fraction * 100, precision=2, unique=False, fractional=False, trim="-") + "%"


def main() -> int:
    """Check the runs (made first with ``--run``) and print or write the report."""
    parser = make_parser(__doc__)
    parser.add_argument(
        "--runs",
        type=Path,
        nargs="+",
        required=True,
        help="runs folder(s) (placer place --suite --out); several are reported together",
    )
    parser.add_argument(
        "--run",
        action="store_true",
        help="first run (or resume) the batch into --runs, with python -m placer.cli place",
    )
    parser.add_argument(
        "--suite", type=Path, default=DEFAULT_SUITE, help="the benchmark suite --run places"
    )
    parser.add_argument(
        "--methods", type=name_list, default="refine,sa", help="methods --run runs, comma-separated"
    )
    parser.add_argument(
        "--budget-s", type=positive_float, default=600.0, help="seconds per run, with --run"
    )
    parser.add_argument(
        "--seeds", type=positive_int, default=1, help="seeds per design, with --run"
    )
    parser.add_argument(
        "--jobs", type=positive_int, default=2, help="runs at once (processes), with --run"
    )
    parser.add_argument(
        "--out", type=output_file, help="write the report here (Markdown); default: print only"
    )
    parser.add_argument(
        "--keep",
        type=Path,
        help="an earlier leaderboard.csv: add the proxies of --keep-methods from it "
        "(default: none)",
    )
    parser.add_argument(
        "--keep-methods",
        type=name_list,
        default="refine,sa",
        help="methods whose proxies --keep adds, comma-separated",
    )
    args = parser.parse_args()
    if args.out:
        check_outputs(args.out)
    if args.run and len(args.runs) != 1:
        parser.error("--run writes into one runs folder: give one --runs")
    if args.run and not args.suite.is_dir():
        parser.error(f"--suite: benchmark suite not found at {args.suite}")
    if not args.run:
        for folder in args.runs:
            if not folder.is_dir():
                parser.error(f"--runs: no such folder {folder} (make it with --run)")
    # the earlier table is read before the (slow) checks, so a bad one is refused at once
    kept_table = None
    if args.keep is not None:
        try:
            kept_table = read_leaderboard_csv(args.keep)
            kept_labels(kept_table, args.keep_methods)  # a bad name refused before the batch
        except ValueError as error:
            parser.error(str(error) if str(error).startswith("--keep-methods") else f"--keep: {error}")
    if args.run:
        cmd = [
            sys.executable,
            "-m",
            "placer.cli",
            "place",
            "--suite",
            str(args.suite),
            "--algo",
            ",".join(args.methods),
            "--budget-s",
            str(args.budget_s),
            "--seeds",
            str(args.seeds),
            "--jobs",
            str(args.jobs),
            "--out",
            str(args.runs[0]),
        ]
        if (args.runs[0] / DB_NAME).exists():
            cmd.append("--resume")
        subprocess.run(cmd, check=True)
    loaded = load_runs(args.runs)
    runs = verify(args.runs, loaded)
    kept = None
    if kept_table is not None:
        designs = pd.Index(sorted(runs["design"].unique()), name="design")
        kept = kept_columns(kept_table, args.keep_methods, designs)
    facts = "".join(f"{line}\n\n" for line in made_with(loaded))
    text = "# Placement quality (generated by experiments/bench/placement_quality.py)\n\n" + facts + report(
        runs, kept, str(args.keep)
    )
    print(text)
    if args.out:
        write_results({args.out: text})
    return 1 if len(failing_runs(runs)) else 0  # a check failed: the table is not to be trusted


if __name__ == "__main__":
    run(main)
