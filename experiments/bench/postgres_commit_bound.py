"""Benchmark: how much of pgbench tpcb's throughput is bound by the commit flush (issue #6).

The tuning benchmark finds no durable PostgreSQL configuration >= 1.15x the memory rule of thumb on
``tpcb``. This measures why: the defaults, the rule of thumb (shared_buffers a quarter of RAM), the
rule with a cheaper durable WAL flush (``wal_compression=lz4``, ``wal_sync_method=open_datasync``),
group commit (``commit_delay=200`` with ``commit_siblings=1``, and at the manual's starting point,
half the measured flush, with one sibling and with the default five, or all other clients when
fewer) and the best durable configuration the tuning benchmark recorded; durable settings outside
the space that could plausibly cut the cost of a commit (``wal_init_zero=off``, no statistics or
autovacuum, ``wal_level=minimal``), measured to show whether the space misses one; and, next to
them, the two settings that drop the commit flush and with it durability (``fsync=off``,
``synchronous_commit=off``; measured here only as the ceiling, never offered by the durable space).
Rounds are interleaved so drift hits every configuration alike. Before and after the rounds,
``pg_test_fsync`` (shipped with the server) times one 8 kB WAL-sized write plus flush for each
``wal_sync_method``: the disk's flush latency, and how much it moves, bound what any durable commit
can do.

    python experiments/bench/postgres_commit_bound.py --rounds 5 --duration 3 \\
        --out experiments/results/postgres_commit_bound.md
    python experiments/bench/postgres_commit_bound.py --rounds 5 --duration 3 --clients 16 \\
        --out experiments/results/postgres_commit_bound_16clients.md
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import subprocess
import tempfile
from pathlib import Path

from _cli import (
    check_outputs,
    make_parser,
    non_negative_int,
    output_file,
    positive_float,
    positive_int,
    print_or_write,
    run,
)

from learned_systems.config.postgres_backend import PostgresBackend, PostgresUnavailable
from learned_systems.config.trial import mean_and_spread
from placer.interrupts import sigterm_as_interrupt

RESULTS = Path(__file__).resolve().parents[1] / "results"


def configurations(
    space_rule: dict, recorded: Path, clients: int, half_flush_us: int | None = None
) -> dict[str, dict]:
    """Named configurations to compare (the recorded best one when the results file has it; the
    group-commit rows at half the flush when ``half_flush_us`` was measured)."""
    configs = {
        "defaults": {},
        "rule of thumb": dict(space_rule),
    }
    if recorded.exists():
        records = json.loads(recorded.read_text()).get("workloads", [])
        tpcb = next((r for r in records if r.get("workload") == "tpcb"), {})
        config = (tpcb.get("validation") or {}).get("best_config")
        if config:
            configs["best durable found (tuning benchmark)"] = config
    # durable WAL settings a tuner may also pick (in the space): does a cheaper flush help?
    configs["rule + wal_compression=lz4"] = {**space_rule, "wal_compression": "lz4"}
    configs["rule + wal_sync_method=open_datasync"] = {
        **space_rule,
        "wal_sync_method": "open_datasync",
    }
    configs["group commit: commit_delay=200, commit_siblings=1"] = {
        "commit_delay": 200,
        "commit_siblings": 1,
    }
    if half_flush_us is not None:
        # PostgreSQL's manual suggests half of pg_test_fsync's single 8 kB flush as the first
        # commit_delay to try; with one sibling, and with the default five (every other client
        # when there are fewer: five would never fire)
        for siblings in sorted({1, max(min(clients - 1, 5), 1)}):
            configs[
                f"group commit at half the flush: commit_delay={half_flush_us}, "
                f"commit_siblings={siblings}"
            ] = {"commit_delay": half_flush_us, "commit_siblings": siblings}
    configs["fsync=off (unsafe)"] = {"fsync": "off"}
    configs["synchronous_commit=off (unsafe)"] = {"synchronous_commit": "off"}
    return configs


#: Durable server settings outside the tuning space, measured on the defaults (which beat the
#: rule of thumb here): WAL segments not zero-filled when created, no statistics collection or
#: autovacuum, and the least WAL (no archiving or replication).
OUTSIDE_SPACE = {
    "wal_init_zero=off (outside the space)": {"wal_init_zero": "off"},
    "no stats, no autovacuum (outside the space)": {
        "track_counts": "off",
        "track_activities": "off",
        "autovacuum": "off",
    },
    "wal_level=minimal (outside the space)": {"wal_level": "minimal", "max_wal_senders": 0},
}


_RATE = re.compile(r"^\s+(\w+)\s+([\d.]+) ops/sec")


def flush_rates(postgres_binary: str, seconds: int = 1) -> dict[str, float]:
    """Flushes per second of one 8 kB write for each sync method (``pg_test_fsync``'s first
    comparison) on the temporary directory's disk; empty when the tool is not installed."""
    tool = Path(postgres_binary).resolve().parent / "pg_test_fsync"
    found = str(tool) if tool.exists() else shutil.which("pg_test_fsync")
    if not found:
        return {}
    with tempfile.TemporaryDirectory(prefix="pg-test-fsync-") as folder:
        ran = subprocess.run(
            [found, "-s", str(seconds), "-f", str(Path(folder) / "probe")],
            capture_output=True,
            text=True,
            timeout=120,
        )
    rates: dict[str, float] = {}
    section = 0
    for line in ran.stdout.splitlines():
        if line.startswith("Compare"):
            section += 1
        match = _RATE.match(line)
        if section == 1 and match:
            rates[match.group(1)] = float(match.group(2))
    return rates


def table_row(name: str, runs: list[float], base: float, rule: float) -> str:
    """One configuration's Markdown row: mean, runs, spread (``n/a`` for one run: a spread of
    0 would claim a steady disk), and the mean over the defaults' and the rule's."""
    mean, spread = mean_and_spread(runs)
    relative = f"{spread / mean:.2f}" if len(runs) > 1 else "n/a"
    shown = ", ".join(f"{v:.0f}" for v in runs)
    return f"| {name} | {mean:.0f} | {shown} | {relative} | {mean / base:.2f} | {mean / rule:.2f} |"


def flush_table(samples: list[dict[str, float]]) -> list[str]:
    """Markdown rows: per sync method, median, lowest and highest flush latency over samples."""
    methods = [m for m in samples[0] if all(m in s for s in samples)] if samples else []
    if not methods:
        return ["pg_test_fsync was not found or printed nothing: flush latency not measured."]
    rows = [
        "| wal_sync_method | median us per flush | fastest | slowest | samples |",
        "|---|---:|---:|---:|---:|",
    ]
    for method in methods:
        latencies = [1e6 / s[method] for s in samples if s[method] > 0]
        rows.append(
            f"| {method} | {statistics.median(latencies):.0f} | {min(latencies):.0f} | "
            f"{max(latencies):.0f} | {len(latencies)} |"
        )
    return rows


def half_flush_us(samples: list[dict[str, float]], method: str) -> int | None:
    """Half the median flush latency of ``method`` in whole microseconds (at least 1), or None
    when pg_test_fsync did not time it."""
    latencies = [1e6 / s[method] for s in samples if s.get(method, 0) > 0]
    return max(round(statistics.median(latencies) / 2), 1) if latencies else None


def parse_args() -> argparse.Namespace:
    """The command line, checked (--out writable, --recorded JSON when present) before the slow
    measurements."""
    parser = make_parser(__doc__)
    parser.add_argument("--rounds", type=positive_int, default=3, help="interleaved rounds")
    parser.add_argument(
        "--duration",
        type=positive_float,
        default=3.0,
        help="seconds per pgbench run (pgbench takes whole seconds: rounded, at least 1)",
    )
    parser.add_argument(
        "--clients",
        type=positive_int,
        default=4,
        help="pgbench connections (as many as the tuning benchmark; more shows whether group commit "
        "helps once commits queue up)",
    )
    parser.add_argument(
        "--out",
        type=output_file,
        default=None,
        help="the Markdown report to write; default: print only (a test run never replaces the recorded results)",
    )
    parser.add_argument(
        "--recorded",
        type=Path,
        default=RESULTS / "config_tuning_postgres.json",
        help="the tuning benchmark's results (for its best durable tpcb configuration; "
        "skipped when the file is absent)",
    )
    parser.add_argument(
        "--flush-samples",
        type=non_negative_int,
        default=3,
        help="pg_test_fsync runs before and after the rounds (~15 s per run; 0: none)",
    )
    args = parser.parse_args()
    if args.out is not None:
        check_outputs(args.out)
    if args.recorded.exists():  # read now: a bad file is refused before the slow measurements
        try:
            json.loads(args.recorded.read_text())
        except ValueError as error:
            parser.error(f"--recorded: {args.recorded} is not JSON ({error})")
    return args


def tpcb_backend(duration_s: float, clients: int) -> PostgresBackend:
    """The PostgreSQL backend running pgbench tpcb once per trial, unsafe settings allowed;
    exits with "skipped: ..." when PostgreSQL is not available."""
    try:
        return PostgresBackend(
            workload="tpcb",
            duration_s=duration_s,
            repeats=1,
            allow_unsafe=True,
            clients=clients,
        )
    except PostgresUnavailable as error:
        raise SystemExit(f"skipped: {error}") from None


def measure_rounds(
    backend: PostgresBackend, configs: dict[str, dict], names: list[str], rounds: int
) -> dict[str, list[float]]:
    """tps of every named configuration (``configs``' or :data:`OUTSIDE_SPACE`'s), ``rounds``
    times in turn so that drift hits each alike; exits on a failed trial."""
    tps: dict[str, list[float]] = {name: [] for name in names}
    width = max(map(len, tps))
    for round_ in range(rounds):
        for name in tps:
            if name in OUTSIDE_SPACE:
                result = backend.measure(OUTSIDE_SPACE[name], space="outside")
            else:
                result = backend.run_trial(configs[name])
            if not result.ok:
                raise SystemExit(f"{name}: trial failed: {result.error}")
            tps[name].append(result.throughput_mean)
            print(
                f"round {round_ + 1}/{rounds}  {name:{width}s} "
                f"{result.throughput_mean:8.0f} tps"
            )
    return tps


def report(
    backend: PostgresBackend,
    rounds: int,
    tps: dict[str, list[float]],
    durable: list[str],
    unsafe: list[str],
    flush_samples: int,
    flushes: list[dict[str, float]],
) -> list[str]:
    """The Markdown report: the tps table, the verdicts on the durable ceiling and group commit,
    and (with ``flush_samples``) the disk's flush latency."""
    summary = {name: mean_and_spread(values) for name, values in tps.items()}
    base = summary["defaults"][0]
    rule = summary["rule of thumb"][0]
    lines = [
        "# pgbench tpcb: the commit flush and the durable ceiling",
        "",
        f"{backend.clients} clients, "
        f"scale {backend.scale}, "
        f"{rounds} interleaved rounds of {backend.duration_s:g} s on a fresh copy each, "
        f"each after an unmeasured {backend.warmup_s} s warm-up.",
        "",
        "| configuration | mean tps | runs | sd / mean | x defaults | x rule of thumb |",
        "|---|---:|---|---:|---:|---:|",
    ]
    lines += [table_row(name, tps[name], base, rule) for name in summary]
    lines += ceiling_lines(summary, durable, unsafe, rule)
    lines += group_commit_lines(summary, durable, base)
    if flush_samples:
        lines += flush_section(flush_samples, flushes)
    return lines


def ceiling_lines(
    summary: dict[str, tuple[float, float]], durable: list[str], unsafe: list[str], rule: float
) -> list[str]:
    """The best durable row against the 1.15x target, and the ceiling the unsafe rows set."""
    ceiling = max(summary[name][0] for name in unsafe) / rule
    best = max(durable, key=lambda name: summary[name][0])
    return [
        "",
        f"Best durable row: {best}, {summary[best][0] / rule:.2f}x the rule of thumb "
        "(target 1.15x).",
        "",
        f"Dropping the commit flush (the unsafe rows, never offered by the durable space) gives "
        f"at most {ceiling:.2f}x the rule of thumb here: that is the ceiling for any durable "
        "configuration, since every durable commit still waits for its WAL flush"
        + (
            ", and it is below the 1.15x target."
            if ceiling < 1.15
            else "; the durable rows show how much of it durable knobs recover."
        ),
    ]


def group_commit_lines(
    summary: dict[str, tuple[float, float]], durable: list[str], base: float
) -> list[str]:
    """The best group-commit row against the defaults (nothing when none was measured)."""
    grouped = [name for name in durable if name.startswith("group commit")]
    if not grouped:
        return []
    best_grouped = max(grouped, key=lambda name: summary[name][0])
    return [
        "",
        f"Best group-commit row: {best_grouped}, {summary[best_grouped][0] / base:.2f}x the "
        "defaults: delaying a commit to share its flush pays only where the delay is cheaper "
        "than the flushes it saves.",
    ]


def flush_section(flush_samples: int, flushes: list[dict[str, float]]) -> list[str]:
    """The report's section on the disk's flush latency (``flush_samples`` runs each side)."""
    return [
        "",
        "## The disk's flush latency",
        "",
        f"`pg_test_fsync -s 1`, {flush_samples} runs before and {flush_samples} "
        "after the rounds: one 8 kB write and its flush per sync method (a durable commit "
        "waits for at least one).",
        "",
        *flush_table(flushes),
    ]


def main() -> None:
    """Measure the configurations in interleaved rounds and write the report (``--out``)."""
    args = parse_args()
    backend = tpcb_backend(args.duration, args.clients)
    flushes = [flush_rates(backend.binaries["postgres"]) for _ in range(args.flush_samples)]
    configs = configurations(
        backend.space.rule_of_thumb,
        args.recorded,
        backend.clients,
        half_flush_us(flushes, backend.space.defaults()["wal_sync_method"]),
    )
    durable = [name for name in configs if "unsafe" not in name] + list(OUTSIDE_SPACE)
    unsafe = [name for name in configs if "unsafe" in name]
    tps = measure_rounds(backend, configs, durable + unsafe, args.rounds)
    flushes += [flush_rates(backend.binaries["postgres"]) for _ in range(args.flush_samples)]
    flushes = [f for f in flushes if f]
    lines = report(backend, args.rounds, tps, durable, unsafe, args.flush_samples, flushes)
    print_or_write(args.out, lines)


if __name__ == "__main__":
    with sigterm_as_interrupt():  # a kill or a timeout stops the server and removes its folder
        run(main)
