"""Benchmark: ``placer leaderboard`` on large synthetic runs folders: seconds and peak memory.

Makes one runs folder per ``--rows`` count (``results.sqlite`` with that many rows: designs x
``--methods`` methods x ``--seeds`` seeds at one budget, one row in 50 failed; 100,000 rows are
1,000 designs at the defaults) whose ok rows point at a few real ``.plc`` files copied from
``experiments/leaderboard/results`` (each given an attempt id in its header, as the batch writes
them; a real folder has one file per run, so its reads cost more than these, which stay in the
page cache, and its rows hold two texts more of their own, the path and the attempt id, some
150 bytes). Each run has its own start and finish times, as in a real folder. Each design's
seed 0 is its cells' best; one cell in 97 has lost that seed's ``.plc``, so the page names
missing files.
Then, each in a fresh process (one core: the leaderboard is single-threaded), it writes the
page with ``write_leaderboard`` and reports the seconds (wall, and the process's CPU
seconds, which other jobs on the machine disturb less), the peak resident memory's growth
over the process's size after its imports (Linux: ``/proc/self/clear_refs``) and that growth
per row.

``--baseline-repo DIR`` measures another checkout (a ``git worktree`` of the commit before, say)
in the same run, the two processes alternating per folder, and checks that both wrote the same
page (Markdown, HTML and CSV, the generation time aside).

    python experiments/bench/leaderboard_scale.py [--rows 20000,100000] [--seeds 10] \\
        [--methods 10] [--baseline-repo ../base] [--out experiments/results/leaderboard_scale.md]
"""

from __future__ import annotations

import datetime
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from dataclasses import fields
from pathlib import Path

from _cli import (
    REPO,
    check_outputs,
    checkout_commit,
    command_line,
    make_parser,
    output_file,
    positive_int,
    report_timed_table,
    run,
)

from placer.results import DB_NAME, ResultStore, RunRecord, attempt_of

#: Where the real ``.plc`` files the synthetic rows point at are copied from, and how many.
PLC_SOURCE = REPO / "experiments" / "leaderboard" / "results"
PLC_FILES = 8
#: One row in this many is a failed run; one cell in this many has lost its best seed's .plc.
FAILED_EVERY, LOST_EVERY = 50, 97
#: When the first run started.
START = datetime.datetime(2026, 12, 6, 10, 0, tzinfo=datetime.UTC)

_MEASURE = r"""
import json, os, sys, time
from pathlib import Path
from placer.leaderboard import write_leaderboard
import matplotlib.figure, pandas  # (the page's imports, outside the figure)

def status(field):
    for line in open("/proc/self/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024

with open("/proc/self/clear_refs", "w") as f:  # the peak starts again from the current size
    f.write("5")
before = status("VmRSS")
start, cpu = time.perf_counter(), time.process_time()
write_leaderboard(sys.argv[1], sys.argv[2])
seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu
import placer
print(json.dumps({"seconds": seconds, "cpu_seconds": cpu_seconds, "growth_bytes": status("VmHWM") - before,
                  "package": placer.__file__}))
"""


def copy_plc_files(folder: Path) -> list[tuple[str, str]]:
    """:data:`PLC_FILES` real ``.plc`` files copied into ``folder/plc`` with an attempt id in
    their header: ``(path relative to folder, attempt)`` each."""
    sources = sorted(PLC_SOURCE.rglob("*.plc"))[:PLC_FILES]
    if not sources:
        raise ValueError(f"no .plc files under {PLC_SOURCE} to point the rows at")
    (folder / "plc").mkdir(parents=True)
    copied = []
    for i, source in enumerate(sources):
        attempt = f"{i + 1:032x}"
        target = folder / "plc" / f"run{i}.plc"
        target.write_text(f"# placer-gym attempt {attempt}\n" + source.read_text())
        assert attempt_of(target) == attempt
        copied.append((target.relative_to(folder).as_posix(), attempt))
    return copied


def make_runs_folder(folder: Path, rows: int, methods: int, seeds: int) -> None:
    """A runs folder of about ``rows`` rows (whole designs of ``methods`` x ``seeds`` runs)."""
    plcs = copy_plc_files(folder)
    ResultStore(folder / DB_NAME)  # the schema, as the batch makes it
    columns = [f.name for f in fields(RunRecord)]
    designs = max(1, rows // (methods * seeds))
    values = []
    for d in range(designs):
        for m in range(methods):
            cell = d * methods + m
            for seed in range(seeds):
                k = len(values)
                failed = k % FAILED_EVERY == FAILED_EVERY - 1 and seed > 0
                plc, attempt = plcs[k % len(plcs)]
                if seed == 0 and cell % LOST_EVERY == 0:
                    plc = f"plc/lost{cell}.plc"  # never written: as if removed by hand
                proxy = 0.9 + 0.01 * seed + 1e-6 * cell
                started = START + datetime.timedelta(seconds=k)  # (a text of its own per run, as a batch's)
                record = RunRecord(
                    design=f"design{d:04d}", method=f"method{m:02d}", seed=seed, budget_s=600.0,
                    suite="/benchmarks/suite", netlist_path=f"/benchmarks/suite/design{d:04d}/netlist.pb.txt",
                    design_digest=f"{d:064x}", options=json.dumps({"moves": {"swap": 0.5, "shift": 0.5}, "seed_step": m}),
                    wirelength=proxy / 10, density=proxy / 2, congestion=proxy / 2, proxy=proxy, hpwl=1e4 * proxy,
                    timing=0.4, timing_model=2, seconds=590.0 + seed, overlap_area=0.0, out_of_canvas=0,
                    initial_wirelength=0.1, initial_density=0.5, initial_congestion=0.5, initial_proxy=1.0,
                    initial_overlap_area=0.0, initial_out_of_canvas=0, plc_path=plc, plc_attempt=attempt,
                    version="0.1.0", git_commit="0123456789abcdef0123456789abcdef01234567",
                    started=started.isoformat(), finished=(started + datetime.timedelta(seconds=590 + seed)).isoformat(),
                )  # fmt: skip
                if failed:
                    record.status, record.error = "failed", "RuntimeError: the run failed\ntraceback lines"
                    record.proxy = record.wirelength = record.density = record.congestion = None
                    record.plc_path = record.plc_attempt = None
                values.append([getattr(record, c) for c in columns])
    with sqlite3.connect(folder / DB_NAME) as conn:
        conn.executemany(f"INSERT INTO runs ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})", values)
    conn.close()


def measure(checkout: Path, folder: Path, out: Path) -> dict:
    """``write_leaderboard(folder, out)`` in a fresh process with ``checkout``'s package."""
    env = {**os.environ, "PYTHONPATH": str(checkout), "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    # -P and another folder: the current folder's package (``-c`` puts it first) never
    # stands in for the checkout's
    done = subprocess.run([sys.executable, "-P", "-c", _MEASURE, str(folder), str(out)], env=env,
                          cwd=folder.parent, capture_output=True, text=True, check=False)  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"the leaderboard failed under {checkout}: {done.stderr.strip()[-2000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    if not Path(result["package"]).resolve().is_relative_to(checkout.resolve()):
        raise RuntimeError(f"measured {result['package']}, not the checkout at {checkout}")
    return result


_GENERATED = re.compile(r"Generated \d{4}-\d\d-\d\d \d\d:\d\d UTC")


def page_text(out: Path) -> str:
    """The page's Markdown, HTML and CSV, the generation time taken out."""
    return "".join(_GENERATED.sub("Generated -", (out / f"leaderboard.{ext}").read_text()) for ext in ("md", "html", "csv"))


def main(argv: list[str] | None = None) -> int:
    """Make the folders, measure the leaderboard over each; print the table (and write it with ``--out``)."""
    ap = make_parser(__doc__)
    ap.add_argument("--rows", default="20000,100000", help="comma-separated row counts, one runs folder each")
    ap.add_argument("--methods", type=positive_int, default=10, help="methods per design")
    ap.add_argument("--seeds", type=positive_int, default=10, help="seeds per design and method")
    ap.add_argument("--baseline-repo", type=Path, default=None,
                    help="another checkout measured in the same run (its package on PYTHONPATH); default: none")
    ap.add_argument("--out", type=output_file, default=None,
                    help="also write the Markdown table here (and its .json beside it); default: print only")
    args = ap.parse_args(argv)
    try:
        counts = [int(n) for n in args.rows.split(",")]
    except ValueError:
        raise ValueError(f"--rows: expected comma-separated whole numbers, got {args.rows!r}") from None
    if not counts or min(counts) < args.methods * args.seeds:
        raise ValueError(f"--rows: each count must be at least --methods x --seeds ({args.methods * args.seeds})")
    if args.baseline_repo is not None and not (args.baseline_repo / "placer" / "leaderboard").is_dir():
        raise ValueError(f"--baseline-repo: no placer-gym checkout at {args.baseline_repo}")
    if args.out:
        check_outputs(args.out, args.out.with_suffix(".json"))
    checkouts = {"this": REPO, **({"baseline": args.baseline_repo.resolve()} if args.baseline_repo else {})}
    load_before = os.getloadavg()[0]
    rows = []
    with tempfile.TemporaryDirectory(prefix="leaderboard_scale_") as scratch:
        for count in counts:
            folder = Path(scratch) / f"runs{count}"
            make_runs_folder(folder, count, args.methods, args.seeds)
            with sqlite3.connect(folder / DB_NAME) as conn:
                n_rows = conn.execute("SELECT COUNT(*) FROM runs").fetchone()[0]
            conn.close()
            row: dict = {"rows": n_rows, "designs": max(1, count // (args.methods * args.seeds))}
            pages = {}
            for label in reversed(checkouts) if len(rows) % 2 else checkouts:  # alternating who goes first
                out = Path(scratch) / f"page_{label}_{count}"
                result = measure(checkouts[label], folder, out)
                row[f"{label}_s"], row[f"{label}_cpu_s"] = result["seconds"], result["cpu_seconds"]
                row[f"{label}_mb"] = result["growth_bytes"] / 2**20
                row[f"{label}_bytes_per_row"] = result["growth_bytes"] / n_rows
                pages[label] = page_text(out)
                shutil.rmtree(out)
            if "baseline" in pages:
                row["same_page"] = pages["baseline"] == pages["this"]
            rows.append(row)
            shutil.rmtree(folder)
            print(json.dumps(row), flush=True)
    header = ["| rows | designs | seconds (CPU) | peak growth (MiB) | bytes per row |" + (
        " baseline seconds (CPU) | baseline peak growth (MiB) | baseline bytes per row | same page |"
        if args.baseline_repo else ""),
        "|---:|---:|---:|---:|---:|" + ("---:|---:|---:|:---:|" if args.baseline_repo else "")]  # fmt: skip
    body = []
    for r in rows:
        line = (f"| {r['rows']} | {r['designs']} | {r['this_s']:.1f} ({r['this_cpu_s']:.1f}) | {r['this_mb']:.0f} | "
                f"{r['this_bytes_per_row']:.0f} |")
        if args.baseline_repo:
            line += (f" {r['baseline_s']:.1f} ({r['baseline_cpu_s']:.1f}) | {r['baseline_mb']:.0f} | "
                     f"{r['baseline_bytes_per_row']:.0f} | {'yes' if r['same_page'] else 'NO'} |")
        body.append(line)
    if args.baseline_repo:
        body += ["", f"Baseline: the checkout at `{args.baseline_repo}` (commit {checkout_commit(args.baseline_repo)}); "
                 f"this: commit {checkout_commit(REPO)}."]
    report_timed_table(args.out, "Leaderboard at scale (generated by experiments/bench/leaderboard_scale.py)",
                       header, body, rows, load_before, None if argv is None else command_line([__file__, *argv]))
    return 0 if all(r.get("same_page", True) for r in rows) else 1


if __name__ == "__main__":
    run(main)
