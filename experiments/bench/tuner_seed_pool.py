"""Optuna against random search over more seeds: pool the per-seed re-measured figures of
several ``config_tuning_bench.py`` results files.

Three seeds a side can never show a difference at the 0.05 level (an exact rank test's smallest
p is then 0.10), so the recorded table's ``optuna > random`` verdicts are directions. Runs of the
benchmark on other seeds (``--tuners random optuna --seeds 3 4 5``) give more per-seed figures:
each is a seed's best configuration re-measured next to the rule of thumb in its own run's
interleaved rounds (a ratio to the rule measured beside it, so figures of runs made at other
times can stand in one sample). This script pools them per workload and tuner, refuses a seed
given twice, and writes the medians, the same 2 % tie rule as the tables, and the exact
two-sided rank (Mann-Whitney) test over all the seeds, with the smallest p that many seeds can
give, with the table's reading in words (verdicts, what passes 0.05 and the Bonferroni bound, the
seeds whose best fell below the rule of thumb) written from its rows. Measures nothing.

    python experiments/bench/tuner_seed_pool.py --system sqlite \\
        experiments/results/config_tuning_sqlite.json RUN2/config_tuning_sqlite.json \\
        [--out experiments/results/config_tuning_sqlite_seeds_pooled.md]
"""

from __future__ import annotations

import json
import math
import statistics
from pathlib import Path

from _cli import check_outputs, make_parser, output_file, print_or_write, run
from config_tuning_bench import _compared, _rank_sum_p

TUNERS = ("random", "optuna")


Pooled = dict[str, dict[str, dict[int, float | None]]]


def pooled_figures(files: list[Path], system: str) -> tuple[Pooled, dict[Path, list[str]]]:
    """Workload -> tuner -> seed -> its re-measured figure (over the rule of thumb; None where
    its best failed or it found none), from every file, and each file's measuring commands as
    its records name them (read in the same pass); a ValueError naming a file that is not the
    benchmark's results of ``system`` or a seed two files both hold."""
    pooled: Pooled = {}
    commands: dict[Path, list[str]] = {}
    source: dict[tuple[str, str, int], Path] = {}
    for path in files:
        try:
            records = json.loads(path.read_text())["workloads"]
            commands[path] = [c for c in dict.fromkeys(r.get("command") for r in records) if c]
            for record in records:
                if record["system"] != system:
                    raise ValueError(f"a {record['system']} record, not {system}")
                for tuner in TUNERS:
                    entry = record["tuners"].get(tuner)
                    if entry is None:
                        continue
                    for seed, figure in zip(entry["seeds"], entry["remeasured_vs_rule"], strict=True):
                        key = (record["workload"], tuner, int(seed))
                        if key in source:
                            raise ValueError(f"{record['workload']} {tuner} seed {seed} is also in {source[key]}")
                        source[key] = path
                        pooled.setdefault(record["workload"], {}).setdefault(tuner, {})[int(seed)] = (
                            None if figure is None else float(figure))
        except (OSError, json.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
            reason = f"no {exc}" if isinstance(exc, KeyError) else str(exc)
            raise ValueError(f"{path}: not config_tuning_bench.py's results ({reason})") from None
        except ValueError as exc:
            raise ValueError(f"{path}: {exc}") from None
    return pooled, commands


def smallest_p(first: int, second: int) -> float:
    """The smallest two-sided p the exact rank test can give with these group sizes."""
    return 2 / math.comb(first + second, first) if first and second else 1.0


def _p_value(p: float) -> str:
    """A p to three decimals, or to two significant digits below 0.001 (nine seeds a side can
    give 4.1e-05, which three decimals would print as 0.000)."""
    return f"{p:.3f}" if p >= 0.001 else f"{p:.1e}"


def _names(workloads: list[str]) -> str:
    """'a, b and c' (or 'none')."""
    if not workloads:
        return "none"
    return workloads[0] if len(workloads) == 1 else ", ".join(workloads[:-1]) + " and " + workloads[-1]


def _below_one(figure: float) -> str:
    """A figure under 1x to two decimals, or three where two would read 1.00."""
    return f"{figure:.2f}" if figure < 0.995 else f"{figure:.3f}"


def summary(rows: list[dict]) -> str:
    """The table's verdicts in words, written from the rows (so the command that writes the
    table writes its reading too): where Optuna's median is above, level with and below random
    search's, which differences pass 0.05 and the Bonferroni bound for that many workloads tested
    at once, and the seeds whose best, re-measured, was below the rule of thumb (under 1x; shown to
    three decimals where two would read 1.00)."""
    seeds = sorted({n for row in rows for n in row["counts"]})
    bound = 0.05 / len(rows)
    verdicts = {v: [r["workload"] for r in rows if r["verdict"] == v] for v in ("yes", "tie", "no")}
    significant = [r["workload"] for r in rows if r["p"] < 0.05]
    corrected = [r["workload"] for r in rows if r["p"] < bound]
    parts = [
        f"{' to '.join(map(str, seeds[:: max(len(seeds) - 1, 1)]))} seeds a side over {len(rows)} workloads: "
        f"Optuna's median above random search's on {_names(verdicts['yes'])}, a tie (within 2 %) on "
        f"{_names(verdicts['tie'])}, below on {_names(verdicts['no'])}; p < 0.05 on {_names(significant)}, "
        f"below the Bonferroni bound 0.05 / {len(rows)} = {bound:.4f} on {_names(corrected)}."
    ]
    for tuner in TUNERS:
        short = [f"{r['workload']} seed {s} ({_below_one(v)})" for r in rows for s, v in r["figures"][tuner].items()
                 if v is not None and v < 1.0]  # fmt: skip
        failed = sum(v is None for r in rows for v in r["figures"][tuner].values())
        parts.append(
            f"{'Optuna' if tuner == 'optuna' else 'Random search'}: {len(short)} seed(s) whose best, re-measured, "
            f"was below the rule of thumb ({_names(short)})" + (f", {failed} failed" if failed else "") + "."
        )
    return " ".join(parts)


def _rows(pooled: Pooled) -> list[dict]:
    """Per workload with figures of both tuners: its per-seed figures, medians, verdict and p."""
    rows = []
    for workload, tuners in pooled.items():
        figures = {t: dict(sorted(tuners.get(t, {}).items())) for t in TUNERS}
        valid = {t: [v for v in figures[t].values() if v is not None] for t in TUNERS}
        if not valid["random"] or not valid["optuna"]:
            continue
        medians = {t: statistics.median(valid[t]) for t in TUNERS}
        rows.append({
            "workload": workload, "figures": figures, "medians": medians,
            "counts": (len(figures["random"]), len(figures["optuna"])),
            "verdict": _compared(medians["optuna"], medians["random"]),
            "p": _rank_sum_p(valid["optuna"], valid["random"]),
            "smallest_p": smallest_p(len(valid["optuna"]), len(valid["random"])),
        })  # fmt: skip
    return rows


def _commands(commands: dict[Path, list[str]]) -> list[str]:
    """Each pooled file named with its measuring command(s)."""
    return [f"`{path}` from " + ("; ".join(f"`{c}`" for c in named) or "its records name no command")
            for path, named in commands.items()]  # fmt: skip


def table(pooled: Pooled, commands: dict[Path, list[str]]) -> list[str]:
    """The pooled table, one row per workload, with its reading in words above it."""
    rows = _rows(pooled)
    lines = [
        "# Optuna against random search, seeds pooled",
        "",
        "Pooled from: " + "; ".join(_commands(commands)) + ". Each figure is a seed's best configuration "
        "re-measured next to the rule of thumb in its own run's interleaved rounds (its ratio to the rule "
        "measured beside it); `optuna > random` compares the medians over all the seeds with the tables' "
        "2 % tie rule; `p` is the exact two-sided rank (Mann-Whitney) test over the seeds, significant below "
        "0.05; `smallest p` is the least that test can give with that many seeds (0.10 at 3 a side).",
        "",
    ]
    if rows:
        lines += [summary(rows), ""]
    lines += [
        "| workload | seeds (random / optuna) | median x rule (random / optuna) | optuna > random | p | smallest p | "
        "per-seed x rule, random | per-seed x rule, optuna |",
        "|---|---|---:|---|---:|---:|---|---|",
    ]
    for row in rows:
        shown = {t: ", ".join(f"{s}: {'failed' if v is None else f'{v:.2f}'}" for s, v in row["figures"][t].items())
                 for t in TUNERS}  # fmt: skip
        medians = row["medians"]
        lines.append(
            f"| {row['workload']} | {row['counts'][0]} / {row['counts'][1]} | "
            f"{medians['random']:.2f} / {medians['optuna']:.2f} | {row['verdict']} | "
            f"{_p_value(row['p'])} | {_p_value(row['smallest_p'])} | {shown['random']} | {shown['optuna']} |"
        )
    return lines


def main() -> int:
    ap = make_parser(__doc__)
    ap.add_argument("files", nargs="+", type=Path, help="config_tuning_bench.py results (.json) to pool")
    ap.add_argument("--system", choices=("sqlite", "postgres"), default="sqlite", help="the system's records")
    ap.add_argument("--out", type=output_file, default=None,
                    help="write the table there (and its .json beside it); default: print only")
    args = ap.parse_args()
    if args.out is not None:
        check_outputs(args.out, args.out.with_suffix(".json"))
    pooled, commands = pooled_figures(args.files, args.system)
    if not pooled:
        raise ValueError(f"no {args.system} records of random and optuna in {', '.join(map(str, args.files))}")
    print_or_write(args.out, table(pooled, commands),
                   json.dumps({w: {t: {str(s): v for s, v in seeds.items()} for t, seeds in tuners.items()}
                               for w, tuners in pooled.items()}, indent=2))  # fmt: skip
    return 0


if __name__ == "__main__":
    run(main)
