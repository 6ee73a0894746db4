"""Benchmark: resuming an Optuna tuning run from its stored sampler state, against replaying it.

Runs ``placer tune --system index --index-cost counted --rows R --trials N --tuner optuna --seed S
--quiet`` once (every trial stored with the tuner's state), copies its run folder twice, one as
it is and one without the ``tuner_states`` table (as a placer-gym before the states left it,
which resumes by replay: TPE asked again for every stored proposal, the former way), and times
the same command with ``--trials N+1`` on each copy: N stored trials taken back and one new
trial measured. Both resumed runs must store the same new trial (bit for bit), as the run never
stopped would have (the check of the resumed proposals themselves is the tests'). The seconds
are whole commands, the process's start and imports included (a few seconds).

    python experiments/bench/tuner_resume_speed.py [--trials 1000] [--rows 1000] [--seed 0] \\
        [--out experiments/results/tuner_resume_speed.md]
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from contextlib import closing
from pathlib import Path

from _cli import (
    REPO,
    check_outputs,
    make_parser,
    output_file,
    positive_int,
    report_timed_table,
    run,
    seed_32bit,
)


def _tune(out: Path, trials: int, rows: int, seed: int) -> float:
    """Seconds of one ``placer tune`` command into ``out`` (a CalledProcessError if it fails)."""
    command = [sys.executable, "-m", "placer.cli", "tune", "--system", "index", "--index-cost", "counted",
               "--rows", str(rows), "--trials", str(trials), "--tuner", "optuna", "--seed", str(seed),
               "--quiet", "--out", str(out)]
    started = time.perf_counter()
    subprocess.run(command, check=True, cwd=REPO, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def _last_trial(out: Path) -> str:
    """The newest stored trial's configuration (JSON text, as stored)."""
    with closing(sqlite3.connect(out / "results.sqlite")) as conn:
        return str(conn.execute("SELECT config FROM trials WHERE role = 'trial' ORDER BY trial DESC").fetchone()[0])


def main() -> int:
    ap = make_parser(__doc__)
    ap.add_argument("--trials", type=positive_int, default=1000, help="trials stored before the resume")
    ap.add_argument("--rows", type=positive_int, default=1000, help="keys of the counted index workload")
    ap.add_argument("--seed", type=seed_32bit, default=0, help="the run's seed")
    ap.add_argument("--out", type=output_file, default=None,
                    help="also write the Markdown table here (and its .json beside it); default: print only")
    args = ap.parse_args()
    if args.out is not None:
        check_outputs(args.out, args.out.with_suffix(".json"))
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="tuner-resume-") as scratch:
        stored = Path(scratch) / "stored"
        print(f"storing {args.trials} trials ...", file=sys.stderr)
        run_seconds = _tune(stored, args.trials, args.rows, args.seed)
        resumed: dict[str, tuple[float, str]] = {}
        for way in ("replay", "restore"):
            folder = Path(scratch) / way
            shutil.copytree(stored, folder)
            if way == "replay":  # the store as it was before states were kept
                with closing(sqlite3.connect(folder / "results.sqlite")) as conn, conn:
                    conn.execute("DROP TABLE tuner_states")
            print(f"resuming by {way} ...", file=sys.stderr)
            resumed[way] = (_tune(folder, args.trials + 1, args.rows, args.seed), _last_trial(folder))
    if resumed["replay"][1] != resumed["restore"][1]:
        raise RuntimeError(f"the resumed runs' new trials differ: {resumed['replay'][1]} by replay, "
                           f"{resumed['restore'][1]} from the stored state")
    replay, restore = resumed["replay"][0], resumed["restore"][0]
    rows = {"trials": args.trials, "rows": args.rows, "seed": args.seed, "run_seconds": run_seconds,
            "replay_seconds": replay, "restore_seconds": restore, "speedup": replay / restore}
    header = [f"Resume of {args.trials} stored Optuna trials (+1 new), counted index costs on {args.rows} "
              f"keys, seed {args.seed}; the run that stored them took {run_seconds:.1f} s.", "",
              "| resume | seconds | vs replay |", "|---|---:|---:|"]
    body = [f"| replay (TPE asked again; stores without states) | {replay:.1f} | 1.00x |",
            f"| restore (sampler state stored with the last trial) | {restore:.1f} | {replay / restore:.2f}x faster |"]
    report_timed_table(args.out, "Optuna tuner: resume from the stored state vs replay", header, body,
                       rows, load_before, None)
    print(json.dumps(rows))
    return 0


if __name__ == "__main__":
    run(main)
