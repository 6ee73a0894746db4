"""Learned indexes against classic search structures on SOSD-style keys, or on SOSD's own key
files (``--datasets books_200M_uint64 ...``: paths, beside or instead of the generators' names).

For each dataset: build time, ns per lookup, index bytes and max error of our PGM and RMI
indexes, ``numpy.searchsorted``, ``bisect``, sortedcontainers, BTrees and the ``pygm`` PGM-index
package. Vectorised structures answer the whole query batch; per-query Python structures
(bisect, sortedcontainers, BTrees, pygm) are timed on a subsample of the queries (stated in the
table) because a Python loop over a million queries would dominate the run. Every answer is
checked against ``numpy.searchsorted``. Prints the table; with ``--out DIR`` writes
``index_bench.md`` and ``index_bench.json`` into that folder instead.

Run (the recorded table): ``nice -n 10 python experiments/bench/index_bench.py --out experiments/results``.
"""

from __future__ import annotations

import argparse
import bisect
import gc
import json
import platform
import time
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
from _cli import (
    check_outputs,
    make_parser,
    non_negative_int,
    output_folder,
    positive_int,
    repeated,
    run,
    write_results,
)

from learned_systems.datasets import (
    GENERATORS,
    check_dataset,
    dataset_label,
    generate_queries,
    load_keys,
)
from learned_systems.index import PGMIndex, RMIIndex


def _best_of(repeats: int, run: Callable[[], np.ndarray]) -> tuple[float, np.ndarray]:
    best, answer = float("inf"), None
    for _ in range(repeats):
        started = time.perf_counter()
        answer = run()
        best = min(best, time.perf_counter() - started)
    return best, answer


def _best_of_paired(repeats: int, run, baseline) -> tuple[float, float, object]:
    """Best times of ``run`` and of ``baseline``, timed alternately (the machine's drift over a
    dataset's seconds of index builds moves both alike), and ``run``'s last answer."""
    best, best_baseline, answer = float("inf"), float("inf"), None
    for _ in range(repeats):
        started = time.perf_counter()
        baseline()
        best_baseline = min(best_baseline, time.perf_counter() - started)
        started = time.perf_counter()
        answer = run()
        best = min(best, time.perf_counter() - started)
    return best, best_baseline, answer


def _row(name, build_s, lookup_s, queries, size_bytes, max_error, correct, note=""):
    return {
        "structure": name,
        "build_s": round(build_s, 3),
        "ns_per_lookup": round(lookup_s * 1e9 / queries, 1),
        "queries_timed": int(queries),
        "index_bytes": None if size_bytes is None else int(size_bytes),
        "max_error": max_error,
        "correct": bool(correct),
        "note": note,
    }


def _missing(name: str) -> dict:
    """The row of a package that is not installed: no figures at all (a 0 would read as instant)."""
    row = _row(name, 0, 0, 1, None, None, False, "not installed")
    row.update(build_s=None, ns_per_lookup=None, queries_timed=0, correct=None)
    return row


class _Sample(NamedTuple):
    """The queries the per-query Python structures are timed on, their expected answers, how
    many they are and the note every such row starts with."""

    queries: list
    expected: np.ndarray
    count: int
    note: str


def bench_dataset(name: str, n_keys: int, n_queries: int, subsample: int, seed: int) -> list[dict]:
    """All structures on one dataset (a generator's name or a SOSD key file's path, of which an
    evenly spaced ``n_keys``, or all of a smaller file); ratios are taken against searchsorted of
    the same run."""
    keys = load_keys(name, n_keys, seed=seed)
    queries = generate_queries(keys, n_queries, seed=seed + 1)
    expected = np.searchsorted(keys, queries, side="left")
    rows = [_searchsorted_row(keys, queries, n_queries)]
    rows += _our_index_rows(keys, queries, expected, n_queries)
    sample = _Sample(queries[:subsample].tolist(), expected[:subsample], subsample,
                     f"per-query Python calls, {subsample:,} queries")  # fmt: skip
    rows += _per_query_rows(keys, sample, n_keys)
    gc.collect()
    _add_dataset_columns(rows, name, keys)
    return rows


def _searchsorted_row(keys: np.ndarray, queries: np.ndarray, n_queries: int) -> dict:
    """numpy.searchsorted over the whole query batch: the baseline row (nothing built)."""
    seconds, _ = _best_of(3, lambda: np.searchsorted(keys, queries, side="left"))
    return _row("numpy.searchsorted", 0.0, seconds, n_queries, 0, None, True)


def _our_index_rows(keys: np.ndarray, queries: np.ndarray, expected: np.ndarray, n_queries: int) -> list[dict]:
    """Our PGM and RMI indexes, each built once and timed alternately with searchsorted (the
    row's ``baseline_ns``)."""
    ours = [
        ("ours PGM eps=64", lambda: PGMIndex(keys, epsilon=64)),
        ("ours PGM eps=256", lambda: PGMIndex(keys, epsilon=256)),
        ("ours RMI linear 2^14", lambda: RMIIndex(keys, num_models=2**14, root="linear")),
        ("ours RMI cubic 2^14", lambda: RMIIndex(keys, num_models=2**14, root="cubic")),
    ]
    # the first build compiled (or loaded) the segmentation kernels inside its build seconds
    PGMIndex(keys[: min(keys.size, 1000)], epsilon=64)
    rows = []
    for label, build in ours:
        index = build()
        seconds, baseline, answer = _best_of_paired(
            3, lambda index=index: index.lookup(queries), lambda: np.searchsorted(keys, queries, side="left")
        )
        row = _row(label, index.build_seconds, seconds, n_queries, index.size_bytes, index.max_error,
                   np.array_equal(answer, expected))  # fmt: skip
        # searchsorted timed alternately with this index: the ratio's baseline
        row["baseline_ns"] = round(baseline * 1e9 / n_queries, 1)
        rows.append(row)
        index = None
        gc.collect()
    return rows


def _per_query_rows(keys: np.ndarray, sample: _Sample, n_keys: int) -> list[dict]:
    """The per-query Python structures (bisect, sortedcontainers, BTrees, pygm) on ``sample``;
    a package that is not installed gets a row without figures."""
    key_list = keys.tolist()
    return [
        _bisect_row(key_list, sample),
        _sortedcontainers_row(key_list, sample),
        _btrees_row(keys, sample, n_keys),
        _pygm_row(keys, sample),
    ]


def _sample_row(
    label: str,
    build_s: float,
    lookups: Callable[[], np.ndarray],
    sample: _Sample,
    size_bytes: int | None,
    max_error: int | None,
    note: str,
) -> dict:
    """The row of a per-query structure: ``lookups`` (its answers to ``sample``'s queries,
    one Python call each) timed once and checked."""
    seconds, answer = _best_of(1, lookups)
    return _row(label, build_s, seconds, sample.count, size_bytes, max_error,
                np.array_equal(answer, sample.expected), sample.note + note)  # fmt: skip


def _timed(build: Callable[[], Any]) -> tuple[Any, float]:
    """What ``build`` returns and the seconds it took."""
    started = time.perf_counter()
    built = build()
    return built, time.perf_counter() - started


def _bisect_row(key_list: list, sample: _Sample) -> dict:
    """bisect over a list copy of the keys (no index)."""
    return _sample_row("bisect (list)", 0.0,
                       lambda: np.array([bisect.bisect_left(key_list, q) for q in sample.queries]),
                       sample, 0, None, "; binary search of a list copy of the keys: no index")  # fmt: skip


def _sortedcontainers_row(key_list: list, sample: _Sample) -> dict:
    """sortedcontainers' SortedList of the keys."""
    try:
        from sortedcontainers import SortedList
    except ImportError:
        return _missing("sortedcontainers")
    sorted_list, build_s = _timed(lambda: SortedList(key_list))
    return _sample_row("sortedcontainers.SortedList", build_s,
                       lambda: np.array([sorted_list.bisect_left(q) for q in sample.queries]),
                       sample, None, None, "; size not measured")  # fmt: skip


def _btrees_row(keys: np.ndarray, sample: _Sample, n_keys: int) -> dict:
    """A BTrees QQBTree mapping each distinct key to its first position (a query with no key
    at or above it answers ``n_keys``)."""
    try:
        from BTrees.QQBTree import QQBTree
    except ImportError:
        return _missing("BTrees")

    def build() -> QQBTree:
        unique, first = np.unique(keys, return_index=True)
        tree = QQBTree()
        tree.update(dict(zip(unique.tolist(), first.tolist(), strict=True)))
        return tree

    tree, build_s = _timed(build)

    def lookups() -> np.ndarray:
        out = []
        for q in sample.queries:
            try:
                out.append(tree[tree.minKey(q)])
            except ValueError:  # no key >= q
                out.append(n_keys)
        return np.array(out)

    return _sample_row("BTrees QQBTree (key->first pos)", build_s, lookups, sample, None, None,
                       "; size not measured")  # fmt: skip


def _pygm_row(keys: np.ndarray, sample: _Sample) -> dict:
    """The ``pygm`` package's PGM-index (its SortedList, epsilon 64)."""
    try:
        import pygm
    except ImportError:
        return _missing("pygm")
    pgm_list, build_s = _timed(lambda: pygm.SortedList(keys, epsilon=64))
    seconds, answer = _best_of(1, lambda: np.array([pgm_list.bisect_left(q) for q in sample.queries]))
    stats = pgm_list.stats() if hasattr(pgm_list, "stats") else {}  # its segments' bytes (asked after the lookups)
    pygm_bytes = stats.get("index size")
    return _row("pygm.SortedList eps=64", build_s, seconds, sample.count,
                None if pygm_bytes is None else int(pygm_bytes), 64, np.array_equal(answer, sample.expected),
                sample.note + ("; size not exposed by this pygm" if pygm_bytes is None else "; size from its stats()"))  # fmt: skip


def _add_dataset_columns(rows: list[dict], name: str, keys: np.ndarray) -> None:
    """Every row of one dataset gets its label, key count, ratio to searchsorted (its own
    baseline, else the searchsorted row's) and index size as a share of the keys' bytes."""
    for row in rows:
        row["dataset"] = dataset_label(name)
        row["keys"] = int(keys.size)
        base = row.get("baseline_ns") or rows[0]["ns_per_lookup"]  # (kept: the JSON reproduces the ratio)
        timed = base and row["ns_per_lookup"] is not None
        row["vs_searchsorted"] = round(row["ns_per_lookup"] / base, 3) if timed else None
        row["index_pct_of_keys"] = (
            None if row["index_bytes"] is None else round(100 * row["index_bytes"] / keys.nbytes, 4)
        )


def _dataset(text: str) -> str:
    """A --datasets item: a generator's name or an existing file (argparse's error otherwise)."""
    try:
        check_dataset(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return text


def _key_files(meta: dict) -> str:
    """The table's note on datasets read from SOSD key files: which file, how many keys."""
    files = meta.get("key_files") or {}
    return "".join(f"; {label}: {f['keys']:,} keys of the file {f['path']} (evenly spaced)"
                   for label, f in files.items())


def markdown(rows: list[dict], meta: dict) -> str:
    lines = [
        "# Learned index benchmark",
        "",
        f"{meta['keys']:,} keys and {meta['queries']:,} queries (existing keys, uniformly drawn) per "
        f"dataset{_key_files(meta)}, seed {meta['seed']}; best of 3 for vectorised lookups; Python-loop structures on "
        f"{meta['subsample']:,} queries. Machine: {meta['machine']}. "
        "`x searchsorted` = time per lookup relative to numpy.searchsorted in the same run, "
        "timed alternately with each of our indexes (its own baseline; the searchsorted row is "
        "the Python-loop structures' baseline); "
        "index % = index bytes / key array bytes (8 per key, as searched: a `*_uint32` SOSD file's keys are "
        "widened on reading, so its share of the file's own keys is twice this).",
        "",
        "| dataset | structure | build s | ns/lookup | x searchsorted | index bytes | index % | max error | correct | note |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for r in rows:
        no_index = r["index_bytes"] == 0  # searchsorted, bisect: nothing built
        cells = [r["dataset"], r["structure"]] + [
            "-" if r[k] is None or (no_index and k == "build_s") else _CELL_FORMATS.get(k, "{}").format(r[k])
            for k in ("build_s", "ns_per_lookup", "vs_searchsorted", "index_bytes",
                      "index_pct_of_keys", "max_error", "correct")
        ] + [r["note"]]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


#: Each number column's decimals, fixed so that a column lines up (0.24 stood beside 0.257).
_CELL_FORMATS = {"build_s": "{:.3f}", "ns_per_lookup": "{:.1f}", "vs_searchsorted": "{:.3f}",
                 "index_pct_of_keys": "{:.4f}"}


def main() -> None:
    """Benchmark every dataset; write ``index_bench.md`` and ``index_bench.json`` into --out."""
    parser = make_parser(__doc__)
    parser.add_argument("--keys", type=positive_int, default=10_000_000, help="keys per dataset")
    parser.add_argument(
        "--queries", type=positive_int, default=1_000_000, help="lookups per dataset"
    )
    parser.add_argument(
        "--subsample",
        type=positive_int,
        default=100_000,
        help="queries timed for the per-query Python structures (at most --queries)",
    )
    parser.add_argument(
        "--seed", type=non_negative_int, default=0, help="seed of the keys (queries: seed + 1)"
    )
    parser.add_argument(
        "--datasets",
        nargs="+",
        type=_dataset,
        default=sorted(GENERATORS),
        metavar="NAME",
        help=f"datasets to run: generators' names (default: all of {', '.join(sorted(GENERATORS))}) "
        "or paths of SOSD key files (an 8-byte count, then sorted uint64 or uint32 keys; --keys of "
        "them, evenly spaced; a file named like a generator is given as ./NAME)",
    )
    parser.add_argument(
        "--out",
        type=output_folder,
        default=None,
        help="the folder to write index_bench.md and index_bench.json into (a folder, not a "
        "file name; the recorded results: experiments/results); default: print only (a quick "
        "run never replaces the recorded table)",
    )
    args = parser.parse_args()
    if args.out is not None:
        check_outputs(args.out / "index_bench.md", args.out / "index_bench.json")
    twice = repeated(args.datasets)
    if twice is not None:
        parser.error(f"argument --datasets: {twice!r} given twice")
    meta = {
        "keys": args.keys,
        "queries": args.queries,
        "subsample": min(args.subsample, args.queries),
        "seed": args.seed,
        "machine": f"{platform.machine()}, {platform.python_version()}, numpy {np.__version__}",
    }
    labels = [dataset_label(d) for d in args.datasets]
    twice = repeated(labels)
    if twice is not None:  # the table's rows would not say which file each came from
        parser.error(f"argument --datasets: two datasets are labelled {twice!r} (rename one file)")
    rows = []
    for name in args.datasets:
        print(f"[index_bench] {name} ...", flush=True)
        rows.extend(bench_dataset(name, args.keys, args.queries, meta["subsample"], args.seed))
    meta["key_files"] = {
        dataset_label(d): {"path": str(d), "keys": next(r["keys"] for r in rows if r["dataset"] == dataset_label(d))}
        for d in args.datasets if d not in GENERATORS
    }
    lognormal = [
        r for r in rows if r["dataset"] == "lognormal" and r["structure"].startswith("ours")
    ]
    meta["target_lognormal"] = [
        {
            "structure": r["structure"],
            "vs_searchsorted": r["vs_searchsorted"],
            "index_pct_of_keys": r["index_pct_of_keys"],
            "met": bool(r["correct"]) and r["vs_searchsorted"] <= 0.5 and r["index_pct_of_keys"] <= 1.0,
        }
        for r in lognormal
    ]
    text = markdown(rows, meta)
    text += "\nTarget (lognormal: <= 0.5x searchsorted time, index <= 1% of keys):\n\n"
    text += (
        "\n".join(
            f"- {t['structure']}: {t['vs_searchsorted']}x, {t['index_pct_of_keys']}% -> "
            f"{'met' if t['met'] else 'missed'}"
            for t in meta["target_lognormal"]
        )
        or "- not judged: lognormal is not among --datasets"
    ) + "\n"
    if args.out is None:
        print(text)
        return
    write_results({args.out / "index_bench.md": text,
                   args.out / "index_bench.json": json.dumps({"meta": meta, "rows": rows}, indent=2)})
    print(f"wrote {args.out / 'index_bench.md'}")


if __name__ == "__main__":
    run(main)
