"""Peak memory of building the learned indexes, as a multiple of the key array's bytes.

Each build runs in a fresh process that loads the keys from a ``.npy`` file, builds a small
index first (numba's kernels load outside the figure), resets the process's peak resident size
(Linux: ``/proc/self/clear_refs``), builds the real index and reads the peak: its growth over
the resident size at the build's start, over the key array's bytes, is the build's footprint
(the index keeps a copy of the keys: 1x of it). Linux only. ``pygm``'s PGM-index package (a C++ build over the same keys, eps=64) is measured the
same way as a baseline when it is installed. Every index's answers are checked against
``numpy.searchsorted`` on a sample of the keys.

Run (printed only; ``--out FILE.md`` writes the table and its .json):
``python experiments/bench/index_build_memory.py --keys 10000000``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from _cli import (
    REPO,
    check_outputs,
    make_parser,
    name_list,
    output_file,
    positive_int,
    repeated,
    run,
    write_results,
)

from learned_systems.datasets import check_dataset, dataset_label, load_keys

#: What each measured process builds: (label, constructor call on ``keys``).
INDEXES = {
    "ours PGM eps=64": "PGMIndex(keys, epsilon=64)",
    "ours RMI linear 2^14": "RMIIndex(keys, num_models=2**14, root='linear')",
    "ours RMI cubic 2^14": "RMIIndex(keys, num_models=2**14, root='cubic')",
    "pygm eps=64": "pygm.SortedList(keys, epsilon=64)",
}

_CHILD = """
import json, sys
import numpy as np
keys = np.load(sys.argv[1])
label, build = sys.argv[2], sys.argv[3]
if label.startswith("pygm"):
    try:
        import pygm
    except ImportError:
        print(json.dumps({"missing": True})); raise SystemExit(0)
    eval(build.replace("keys", "keys[:1000]"))
else:
    from learned_systems.index import PGMIndex, RMIIndex
    eval(build.replace("keys", "keys[:1000]"))  # the kernels load here, outside the figure
def status(field):
    with open("/proc/self/status") as lines:
        for line in lines:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
with open("/proc/self/clear_refs", "w") as f:  # the peak starts again from the current size
    f.write("5")
before = status("VmRSS")
index = eval(build)
after = status("VmHWM")
sample = keys[:: max(1, keys.size // 100_000)] + np.uint64(1)
expected = np.searchsorted(keys, sample)
found = np.array([index.bisect_left(int(q)) for q in sample[:2000]]) if label.startswith("pygm") \\
    else index.lookup(sample)
correct = bool(np.array_equal(found, expected[: found.size]))
print(json.dumps({"growth_bytes": after - before, "correct": correct}))
"""


def _measure(keys_file: Path, label: str, build: str) -> dict:
    """One build in a fresh process: its peak memory growth and whether it answers right."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    out = subprocess.run([sys.executable, "-c", _CHILD, str(keys_file), label, build], env=env,
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = make_parser(__doc__.split("\n\n")[0])
    parser.add_argument("--keys", type=positive_int, default=10_000_000, help="keys per dataset")
    parser.add_argument("--datasets", type=name_list, default="lognormal,books",
                        help="comma-separated datasets: generators' names or SOSD key files' paths "
                        "(--keys of them, evenly spaced)")  # fmt: skip
    parser.add_argument("--seed", type=int, default=1, help="the keys' seed")
    parser.add_argument("--out", type=output_file, default=None,
                        help="the Markdown table to write (its .json beside it); default: print only")  # fmt: skip
    args = parser.parse_args()
    if args.out is not None:
        check_outputs(args.out, args.out.with_suffix(".json"))
    for dataset in args.datasets:
        try:
            check_dataset(dataset)
        except ValueError as error:
            parser.error(f"argument --datasets: {error}")
    twice = repeated([dataset_label(d) for d in args.datasets])
    if twice is not None:  # the table's rows would not say which file each came from
        parser.error(f"argument --datasets: two datasets are labelled {twice!r} (rename one file)")
    rows = []
    with tempfile.TemporaryDirectory(prefix="index-memory-") as scratch:
        for dataset in args.datasets:
            keys = load_keys(dataset, args.keys, seed=args.seed)
            keys_file = Path(scratch) / f"{len(rows)}.npy"
            np.save(keys_file, keys)
            for label, build in INDEXES.items():
                result = _measure(keys_file, label, build)
                if result.get("missing"):
                    continue
                row = {"dataset": dataset_label(dataset), "index": label, "keys": int(keys.size),
                       "key_bytes": int(keys.nbytes), "growth_bytes": int(result["growth_bytes"]),
                       "x_keys": round(result["growth_bytes"] / keys.nbytes, 2), "correct": result["correct"]}
                rows.append(row)
                print(f"[memory] {dataset} {label}: {row['x_keys']:.1f}x the keys", flush=True)
    lines = [
        "# Peak memory of index builds (generated by experiments/bench/index_build_memory.py)",
        "",
        f"{args.keys:,} keys per dataset (seed {args.seed}); growth of the process's peak resident memory "
        "during the build, over the key array's bytes (the index keeps a copy of the keys: 1x).",
        "",
        "| dataset | index | peak growth (MB) | x the keys | answers correct |",
        "|---|---|---:|---:|---|",
    ]
    lines += [f"| {r['dataset']} | {r['index']} | {r['growth_bytes'] / 1e6:.0f} | {r['x_keys']:.1f} | "
              f"{'yes' if r['correct'] else 'NO'} |" for r in rows]
    table = "\n".join(lines) + "\n"
    if args.out is None:
        print(table)
    else:
        write_results({args.out: table, args.out.with_suffix(".json"): json.dumps(rows, indent=2)})
    return 0 if all(r["correct"] for r in rows) else 1


if __name__ == "__main__":
    run(main)
