"""Database knob tuning benchmark: tuners against the defaults and the rule of thumb.

For every workload: the defaults and the rule of thumb are measured (per seed), then random
search and Optuna TPE run ``--trials`` trials for each of ``--seeds`` and the RL agent for the
first seed, all in the durable space, ``--turn`` (5) trials at a time, each tuner and seed in
its turn, so a machine whose speed drifts slows every tuner alike (the recorded SQLite table
was made so at 5673c30; the PostgreSQL table and ``config_tuning_sqlite_one_go.md``, made
before, ran each tuner and seed in one go). A tuner's best is the configuration with the best mean
score over its trials (Optuna spends some of its trials measuring its best proposals again
and every fifth after its start on a uniform sample of the space;
every tuner's run first measures the defaults and the rule of thumb, which Optuna learns from).
Every tuner's best configuration (one per seed) is then
re-measured next to the rule of thumb (interleaved, ``--validate-repeats`` rounds), because the
best of 50 noisy measurements overstates itself; the targets (>= 1.15 x the rule, Optuna above
random search) are judged on those re-measured figures. Every trial goes to a SQLite results
store (``--store``, by default ``config_tuning_bench.sqlite`` in the ``--out`` folder), so a
killed run resumes; the store keeps each workload's measurement settings (the duration as used,
repeats, rows or scale, minimum transactions or clients and warm-up) and refuses to add trials measured
with other ones. Writes ``config_tuning_<system>.{md,json}`` and one best-so-far plot per workload
into the folder ``--out`` (required; the recorded results are in ``experiments/results``).

Run: ``nice -n 10 python experiments/bench/config_tuning_bench.py --system sqlite --out
experiments/results`` (the recorded tables also used ``--validate-repeats 8`` for SQLite and
``--duration 2 --repeats 2 --validate-repeats 6`` for PostgreSQL); or two
workload groups at once (one per core), the second with ``--out DIR``, then ``--merge DIR``.
``--workloads A B`` re-runs those workloads and keeps the others' records from the existing
results file (listed with the settings they were measured with). ``--recheck FILE.json``
measures a recorded file's best configurations again next to the rule of thumb, on today's code.
Each plot draws every tuner's best-so-far curve over its own seed's rule of thumb (the median
over seeds; at the last trial, the table's ``found x rule``); the records keep those curves, and
``--replot [STORE ...]`` draws the plots again from them (or, for a record made before they
were kept, from the results stores, measuring nothing). ``--merge OUT --out OUT`` writes OUT's
table again from its own .json, measuring nothing (a table made before a column was added gets
it: the recorded tables' ``optuna vs random over seeds`` was written so).
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import shutil
import statistics
import sys
import tempfile
import time
import types
from pathlib import Path
from typing import Any

from _cli import (
    check_outputs,
    command_line,
    fail,
    make_parser,
    non_negative_int,
    output_folder,
    positive_float,
    positive_int,
    repeated,
    run,
    seed_32bit,
    write_results,
)

from learned_systems.apply import how_to_apply
from learned_systems.config import postgres_backend
from learned_systems.config.factory import THROUGHPUT_UNITS, make_backend
from learned_systems.config.knobs import KnobSpace
from learned_systems.config.sqlite_backend import (
    DEFAULT_MIN_TRANSACTIONS,
    SQLiteBackend,
    sqlite_space,
)
from learned_systems.config.workloads import MIN_ROWS, WORKLOAD_NAMES
from learned_systems.errors import InputError
from learned_systems.objectives import ConfigObjective
from learned_systems.plots import plot_best_so_far
from learned_systems.results import ResultsStore, SettingsMismatch
from learned_systems.run_settings import UNCHOSEN_SETTINGS, objective_settings, settings_before
from learned_systems.tuners import TUNER_NAMES
from learned_systems.tuning import (
    DEFAULT_TURN,
    failure_causes_text,
    stored_baseline_scores,
    stored_best_so_far,
    tune_in_turns,
)
from placer.interrupts import sigterm_as_interrupt

SQLITE_WORKLOADS = ["ycsb-a", "ycsb-b", "ycsb-c", "ycsb-f", "orders", "analytical"]
POSTGRES_WORKLOADS = ["tpcb", "analytical"]
Backend = SQLiteBackend | postgres_backend.PostgresBackend


def _validate(
    objective: ConfigObjective, finalists: list[tuple[str, dict]], rule: dict, repeats: int
) -> dict:
    """Interleaved re-measurement of the finalists (best configurations found) and the rule of
    thumb, ``repeats`` rounds; the finalist with the highest re-measured mean is reported."""
    rule_runs: list[float] = []
    finalist_runs: list[list[float]] = [[] for _ in finalists]
    for _ in range(repeats):
        result = objective.evaluate(rule)
        if result.ok:
            rule_runs.append(result.throughput_mean)
        for (_, config), runs in zip(finalists, finalist_runs, strict=True):
            result = objective.evaluate(config)
            if result.ok:
                runs.append(result.throughput_mean)
    measured = [(statistics.fmean(runs), i) for i, runs in enumerate(finalist_runs) if runs]
    if not measured or not rule_runs:
        return {"ok": False}
    best_mean, best_index = max(measured)
    rule_mean = statistics.fmean(rule_runs)
    return {
        "ok": True,
        "best_found_by": finalists[best_index][0],
        "best_config": finalists[best_index][1],
        "best_mean": best_mean,
        "rule_mean": rule_mean,
        "best_runs": finalist_runs[best_index],
        "rule_runs": rule_runs,
        "finalists": [
            {
                "found_by": label,
                "config": config,
                "runs": runs,
                "ratio": statistics.fmean(runs) / rule_mean if runs else None,
            }
            for (label, config), runs in zip(finalists, finalist_runs, strict=True)
        ],
        "ratio": best_mean / rule_mean,
    }



#: Re-measured medians closer than this (relative) are a tie: the rechecks of one configuration
#: moved by 5-15 % on this machine's disk, and 1.3291 vs 1.3289 read as "optuna > random: yes".
TIE_WITHIN = 0.02


def _compared(optuna: float, random: float) -> str:
    """'yes' / 'no' for optuna's re-measured median above random's, 'tie' within :data:`TIE_WITHIN`."""
    if abs(optuna - random) <= TIE_WITHIN * max(abs(optuna), abs(random)):
        return "tie"
    return "yes" if optuna > random else "no"


def _rank_sum_p(first: list[float], second: list[float]) -> float:
    """Two-sided p of the exact permutation (Mann-Whitney) test: the share of all ways to split
    the pooled values into groups of these sizes whose rank sum of ``first`` lies at least as far
    from its mean as the observed one (mid-ranks for ties). With 3 values a side the smallest p
    it can give is 0.10: three seeds per tuner can never show a difference at the 0.05 level.
    The splits are counted by their rank sum, not listed: mid-ranks are halves, so twice a rank
    sum is a whole number, and the number of splits of each (twice) rank sum is built up one
    value at a time (12 values a side listed 2.7 million splits: 1.6 s and 590 MB)."""
    pooled = sorted(first + second)
    doubled = {}  # value -> twice its mid-rank (1-based): a whole number
    for value in set(pooled):
        low = pooled.index(value)
        doubled[value] = 2 * low + pooled.count(value) + 1
    ranked = [doubled[v] for v in first + second]
    size = len(first)
    expected = size * (len(pooled) + 1)  # (twice the mean rank sum)
    observed = abs(sum(ranked[:size]) - expected)
    # ways[k][s]: the subsets of k of the values seen so far whose doubled ranks sum to s
    ways: list[dict[int, int]] = [{0: 1}] + [{} for _ in range(size)]
    for rank in ranked:
        for k in range(size, 0, -1):  # (downwards: each value in a subset once)
            for total, count in ways[k - 1].items():
                ways[k][total + rank] = ways[k].get(total + rank, 0) + count
    extreme = sum(count for total, count in ways[size].items() if abs(total - expected) >= observed)
    return extreme / math.comb(len(pooled), size)


#: The most per-seed values the exact test is given (it counts the splits by rank sum rather
#: than listing them, so this bound is no longer its cost; kept so the tables judge alike).
MOST_SEEDS_TESTED = 24


def _seed_significance(optuna: list[float | None] | None, random: list[float | None] | None) -> str:
    """The honest judgement of ``optuna > random`` beside its recorded verdict: whether the
    per-seed re-measured figures (each a seed's best configuration over the rule of thumb) tell
    the tuners apart at the 0.05 level (:func:`_rank_sum_p`), and whether their seed ranges
    overlap. The verdict's 2 % tie rule ignores the noise: rechecks moved a configuration by
    5-15 %, and the finalists' rounds varied by up to a quarter."""
    a = [v for v in optuna or [] if v is not None]
    b = [v for v in random or [] if v is not None]
    if len(a) < 2 or len(b) < 2 or len(a) + len(b) > MOST_SEEDS_TESTED:
        return "-"
    p = _rank_sum_p(a, b)
    apart = min(a) > max(b) or min(b) > max(a)
    ranges = "seed ranges apart" if apart else "seed ranges overlap"
    verdict = "significant" if p < 0.05 else "not significant"
    return f"{verdict} (p = {p:.2f}; {ranges})"


def run_id(system: str, workload: str) -> str:
    """The results store's run of ``workload``; its measurement settings are claimed in the
    store (:func:`measurement_settings`), so a run with other settings is refused, not mixed."""
    return f"bench-{system}-{workload}"


def make_workload_backend(args: argparse.Namespace, workload: str, template_dir: str) -> Backend:
    """The backend measuring ``workload`` with the settings of ``args``."""
    return make_backend(
        args.system,
        workload,
        rows=args.rows,
        duration_s=args.duration,
        repeats=args.repeats,
        template_dir=template_dir if args.system == "sqlite" else None,  # postgres: its own
        seed=0,
        min_transactions=args.min_transactions,
    )


def measurement_settings(backend: Backend) -> dict[str, Any]:
    """What a trial's measurement depends on besides its configuration and seed, as the
    backend applies it (PostgreSQL rounds the duration to whole seconds): the settings
    ``placer tune`` records for a run (:func:`learned_systems.run_settings.run_settings`), which
    each tuner's session checks again when it resumes the run (its second seed, its next turn).
    The bench's own set of them (PostgreSQL's ``scale`` where the check reads ``rows``, without
    the space's ``shared_buffers_max_mb``) refused the second session of every PostgreSQL
    workload as another run."""
    found = objective_settings(ConfigObjective(backend))
    assert found is not None  # (a backend of the package's: its settings are known)
    return found[0]


def claim_workload(store: ResultsStore, system: str, workload: str, backend: Backend) -> None:
    """Take ``workload``'s run in the store under :func:`measurement_settings`: a resume under
    other settings is refused (SettingsMismatch). A PostgreSQL run stored by this script before
    it claimed ``placer tune``'s settings (its own ``scale`` for ``rows``) is refused saying so,
    not as one measured on another machine (such a run never resumed past its first turn)."""
    run = run_id(system, workload)
    try:
        store.claim_settings(run, measurement_settings(backend), absent=settings_before(), fixed=UNCHOSEN_SETTINGS)
    except SettingsMismatch:
        stored = store.stored_settings(run) or {}
        if system == "postgres" and "scale" in stored and "rows" not in stored:
            raise SettingsMismatch(
                f"{store.path} holds run {run!r} stored by an older config_tuning_bench.py, under its own names "
                "for the settings (scale, not rows), whose runs never resumed past their first turn: use another --out"
            ) from None
        raise


def bench_workload(
    args: argparse.Namespace, workload: str, backend: Backend, store: ResultsStore
) -> dict:
    """Tune ``workload`` with every tuner and seed, re-measure the best configurations and
    plot the best-so-far curves; the workload's record."""
    objective = ConfigObjective(backend)
    run = run_id(args.system, workload)
    started = time.perf_counter()
    runs = [(tuner, seed) for tuner in args.tuners for seed in (args.seeds if tuner != "rl" else args.seeds[:1])]
    done = tune_in_turns(objective, runs, args.trials, args.turn, store, run, on_turn=lambda tuner, seed, upto: print(
        f"[config_bench] {workload} {tuner} seed {seed}: trials to {upto}", flush=True))
    summaries = [done[pair] for pair in runs]
    for s in summaries:
        if s.failure_causes:  # (said only as a count in the record before)
            print(f"[config_bench] {workload} {s.tuner} seed {s.seed}: {s.failed} failed: "
                  f"{failure_causes_text(s.failure_causes)}", flush=True)
    by_tuner: dict[str, list] = {}
    for summary in summaries:
        by_tuner.setdefault(summary.tuner, []).append(summary)
    record = {
        "workload": workload,
        "system": args.system,
        "space": objective.space.name,
        "tuners": {},
    }
    for tuner, group in by_tuner.items():
        ratios = []
        for s in group:
            rule = s.baseline_scores.get("rule_of_thumb")
            ratios.append(None if s.best_score is None or not rule else s.best_score / rule)
        valid = [r for r in ratios if r is not None]
        record["tuners"][tuner] = {
            "seeds": [s.seed for s in group],
            "best_vs_rule": ratios,
            "median_best_vs_rule": statistics.median(valid) if valid else None,
            "best_vs_default": [s.best_score for s in group],
            "failed": [s.failed for s in group],
            "failure_causes": [s.failure_causes for s in group],  # per seed: cause -> trials
            "best_configs": [s.best_config for s in group],
            "best_measurements": [s.best_measurements for s in group],
        }
    first = summaries[0]
    record["default_ops_s"] = first.baselines["default"].throughput_mean
    record["default_std"] = first.baselines["default"].throughput_std
    record["rule_vs_default"] = statistics.median(
        [
            s.baseline_scores["rule_of_thumb"]
            for s in summaries
            if s.baseline_scores.get("rule_of_thumb")
        ]
    )
    # Re-measure every tuner's best configuration (one per seed) next to the rule of thumb: the
    # best of many noisy trials overstates itself, so the comparisons below use these figures.
    finalists: list[tuple[str, dict]] = []
    for summary in summaries:
        if summary.best_config is not None and summary.best_config not in [c for _, c in finalists]:
            finalists.append((f"{summary.tuner} seed {summary.seed}", summary.best_config))
    record["validation"] = _validate(
        objective,
        finalists,
        objective.space.validate(objective.space.rule_of_thumb),
        args.validate_repeats,
    )
    ratio_of = {
        json.dumps(f["config"], sort_keys=True): f["ratio"]
        for f in record["validation"].get("finalists", [])
    }
    for tuner, group in by_tuner.items():
        remeasured = [
            None
            if s.best_config is None
            else ratio_of.get(json.dumps(s.best_config, sort_keys=True))
            for s in group
        ]
        valid = [r for r in remeasured if r is not None]
        record["tuners"][tuner]["remeasured_vs_rule"] = remeasured
        record["tuners"][tuner]["median_remeasured_vs_rule"] = (
            statistics.median(valid) if valid else None
        )
    first_found = finalists[0] if finalists else (None, None)  # none when every trial failed
    record["best_config"] = record["validation"].get("best_config", first_found[1])
    record["best_found_by"] = record["validation"].get("best_found_by", first_found[0])
    record["seconds"] = time.perf_counter() - started
    record["curves_vs_rule"] = {
        tuner: {str(s.seed): _over_rule(s.best_so_far, s.baseline_scores.get("rule_of_thumb")) for s in group}
        for tuner, group in by_tuner.items()
    }
    plot = plot_record(record, args.out, args.trials)
    record["plot"] = plot.name
    return record


def _over_rule(curve: list[float | None], rule: float | None) -> list[float | None] | None:
    """A best-so-far curve (scores over the defaults) over the same seed's rule of thumb; None
    when that seed has no rule-of-thumb score."""
    if not rule:
        return None
    return [None if value is None else value / rule for value in curve]


def plot_record(record: dict, out: Path, trials: int) -> Path:
    """Draw a workload's best-so-far plot from its record: each tuner's median over seeds of
    their curves over their own seed's rule of thumb, the footing of the table's ``found x
    rule`` (curves over each seed's own defaults beside one rule-of-thumb line at the median
    read as 3.2x the rule where the table says 2.55x, since the defaults' measurement moved
    the rule between seeds from 6.4x to 12.2x them)."""
    curves = {}
    for tuner, by_seed in record["curves_vs_rule"].items():
        kept = [c for c in by_seed.values() if c is not None]
        median_curve = []
        for i in range(trials):
            values = [c[i] for c in kept if i < len(c) and c[i] is not None]
            median_curve.append(statistics.median(values) if values else None)
        seeds = [seed for seed, c in by_seed.items() if c is not None]
        curves[f"{tuner} (seed {seeds[0]})" if len(seeds) == 1 else f"{tuner} (median of {len(seeds)} seeds)"] = median_curve
    rule = record.get("rule_vs_default")
    return plot_best_so_far(
        curves,
        out / f"config_tuning_{record['system']}_{record['workload']}.png",
        f"{record['system']} {record['workload']}: best throughput so far / rule of thumb",
        ylabel="best mean throughput so far / rule of thumb\n(each seed's own measurement of it)",
        baselines={"rule of thumb": 1.0, "defaults (median over seeds)": 1.0 / rule if rule else None},
    )


def replot(system: str, out: Path, stores: list[Path]) -> None:
    """Draw every workload's plot in ``out``'s results again from the curves its record keeps;
    a record made before records kept them gets its curves from ``stores`` (this script's
    results databases), read as its run ranked them, measuring nothing. The .json is written
    back with the curves; the table is not touched."""
    json_path = out / f"config_tuning_{system}.json"
    results = json.loads(json_path.read_text())
    space = (sqlite_space if system == "sqlite" else postgres_backend.postgres_space)(allow_unsafe=False)
    for record in results["workloads"]:
        if "curves_vs_rule" not in record:
            record["curves_vs_rule"] = _stored_curves(system, record, space, stores)
        if record["curves_vs_rule"] is None:
            print(f"note: {record['workload']}: no curves kept and none in the stores given: its plot is kept",
                  file=sys.stderr)
            del record["curves_vs_rule"]
            continue
        trials = record.get("meta", results["meta"])["trials"]
        record["plot"] = plot_record(record, out, trials).name
        print(f"drew {out / record['plot']}")
    write_results({json_path: json.dumps(results, indent=2, default=str)})


def _stored_curves(system: str, record: dict, space: KnobSpace, stores: list[Path]) -> dict | None:
    """``record``'s curves over each seed's rule of thumb, from the first of ``stores`` holding
    its run; None when none does."""
    objective = ConfigObjective(types.SimpleNamespace(
        space=space, system=system, workload=types.SimpleNamespace(name=record["workload"])))
    for path in stores:
        with ResultsStore(path) as store:
            run = run_id(system, record["workload"])
            if run not in store.runs():
                continue
            baselines = stored_baseline_scores(store, run, objective)
            rules = {seed: scores.get("rule_of_thumb") for seed, scores in baselines.items()}
            curves: dict[str, dict[str, list[float | None] | None]] = {}
            for (tuner, seed), curve in stored_best_so_far(store, run, objective, baselines=baselines).items():
                if tuner in record["tuners"] and seed in record["tuners"][tuner]["seeds"]:
                    curves.setdefault(tuner, {})[str(seed)] = _over_rule(curve, rules.get(seed))
            return curves
    return None


def _earlier_records(json_path: Path, rerun: set[str]) -> list[dict]:
    """Records of an earlier results file for the workloads not re-run now, each with the
    settings it was measured with (``--workloads`` re-runs some and keeps the others)."""
    if not json_path.exists():
        return []
    earlier = json.loads(json_path.read_text())
    return [
        {**r, "meta": r.get("meta", earlier["meta"])}
        for r in earlier.get("workloads", [])
        if r["workload"] not in rerun
    ]


def _ops(value: float) -> str:
    """Throughput with the digits that matter: whole numbers from 100, three significant
    digits below (a slow analytical mix runs a few per second: 4.05, 7.00, 81.6)."""
    text = f"{value:.0f}" if value >= 100 else f"{value:#.3g}"
    return text.rstrip(".")  # (99.96 rounds to "100.")


def _smallest_p_note(seeds: int) -> str:
    """The table's note on the least p its seeds allow (three a side: 0.10, so no verdict of
    three seeds can be significant)."""
    if seeds < 2 or 2 * seeds > MOST_SEEDS_TESTED:
        return ""
    smallest = 2 / math.comb(2 * seeds, seeds)
    if smallest < 0.05:
        return ""
    return (f" With {seeds} seeds a side the smallest p this test can give is {smallest:.2f}: no "
            "difference between the tuners in this table is significant, whatever the verdict column says.")


def _window_minimum(meta: dict) -> str:
    minimum = meta.get("min_transactions")  # absent in records from before the option
    warmup = meta.get("warmup_s")  # PostgreSQL's, absent in records from before it
    return (f" (and >= {minimum} transactions per window)" if minimum else "") + (
        f" after an unmeasured {warmup} s warm-up" if warmup else "")


def _turns(meta: dict) -> str:
    """How the tuners' trials were ordered (``--turn``; none recorded: one run after another)."""
    turn = meta.get("turn")
    if not turn:
        return "each tuner and seed tuned in one go, one after another"
    return f"the tuners and seeds tuned in turns of {turn} trials, round after round"


def markdown(records: list[dict], meta: dict, merged: bool = False) -> str:
    """The table of ``records``; ``merged``: it pools records of several runs (``--merge``),
    so it names the command that measured each workload."""
    rl_seeds = f" (rl: seed {meta['seeds'][0]} only)" if "rl" in meta["tuners"] else ""
    lines = [
        f"# Knob tuning benchmark: {meta['system']}",
        "",
        f"Durable space; {meta['trials']} trials per tuner and seed; tuners {', '.join(meta['tuners'])}; "
        f"seeds {meta['seeds']}{rl_seeds}; each trial {meta['repeats']} x {meta['duration']} s"
        f"{_window_minimum(meta)} on a fresh copy; {_turns(meta)}; rows/scale {meta['rows'] or 'default'}; "
        f"machine: {meta['machine']}. "
        "`found x rule`: each tuner's best configuration (its mean score over its trials) over the "
        "rule of thumb measured for the same seed "
        "(median over seeds). The best of many noisy trials overstates itself, so every tuner's "
        "best configuration (one per seed) is then re-measured next to the rule of thumb, "
        f"{meta['validate_repeats']} rounds, interleaved: `re-measured x rule` is the median over "
        "seeds of those re-measured means, `best re-measured` the best of all of them, and "
        "`optuna > random` compares the re-measured medians (the honest figures); the last "
        "column is each tuner's worst seed, re-measured. `optuna > random` calls medians within 2 % "
        "a tie and ignores the noise (a configuration measured again moved by 5-15 %), so "
        "`optuna vs random over seeds` judges the same per-seed re-measured figures against their "
        "spread: an exact two-sided rank (Mann-Whitney) test over the seeds, significant below p = "
        f"0.05, and whether the two tuners' seed ranges overlap.{_smallest_p_note(len(meta['seeds']))} "
        f"`defaults {THROUGHPUT_UNITS[meta['system']]}` is the defaults' throughput as measured for seed "
        f"{meta['seeds'][0]} (each seed measures its own); `rule x defaults` the median over seeds of each "
        "seed's ratio.",
        *(["", _measured_by(records)] if merged else []),
        "",
        f"| workload | defaults {THROUGHPUT_UNITS[meta['system']]} | rule x defaults | found x rule (random / optuna / rl) | "
        "re-measured x rule (random / optuna / rl) | best re-measured x rule | >= 1.15 | "
        "optuna > random | optuna vs random over seeds | worst seed re-measured x rule (random / optuna) |",
        "|---|---:|---:|---:|---:|---:|---|---|---|---:|",
    ]
    for r in records:
        t = r["tuners"]

        def med(name: str, key: str, t: dict = t) -> str:
            value = t.get(name, {}).get(key)
            return "-" if value is None else f"{value:.2f}"

        def three(key: str) -> str:
            return " / ".join(med(name, key) for name in ("random", "optuna", "rl"))

        val = r["validation"]
        remeasured = f"{val['ratio']:.2f}" if val.get("ok") else "failed"
        target = "met" if val.get("ok") and val["ratio"] >= 1.15 else "missed"
        key = "median_remeasured_vs_rule"
        opt, rnd = t.get("optuna", {}).get(key), t.get("random", {}).get(key)
        optuna_wins = "-" if opt is None or rnd is None else _compared(opt, rnd)
        significance = _seed_significance(t.get("optuna", {}).get("remeasured_vs_rule"),
                                          t.get("random", {}).get("remeasured_vs_rule"))

        def worst(name: str, t: dict = t) -> str:
            values = [v for v in t.get(name, {}).get("remeasured_vs_rule") or [] if v is not None]
            return f"{min(values):.2f}" if values else "-"

        lines.append(
            f"| {r['workload']} | {_ops(r['default_ops_s'])} | {r['rule_vs_default']:.2f} | "
            f"{three('median_best_vs_rule')} | {three(key)} | {remeasured} | {target} | "
            f"{optuna_wins} | {significance} | {worst('random')} / {worst('optuna')} |"
        )
    earlier = [r for r in records if r.get("meta", meta) != meta]
    if earlier:
        lines += [
            "",
            "Kept from earlier runs of this benchmark (other settings or code; `-` where "
            "that run did not record a figure):",
            "",
        ]
        for r in earlier:
            m = r["meta"]
            lines.append(
                f"- {r['workload']}: {m['trials']} trials, seeds {m['seeds']}, each trial "
                f"{m['repeats']} x {m['duration']} s{_window_minimum(m)}, {_turns(m)}, rows/scale {m['rows'] or 'default'}"
            )
    lines += ["", "Best configurations (re-measured; each knob's number in the unit `placer tune --system "
              f"{meta['system']} --knobs` lists, and under it the statements that apply it):", ""]
    for r in records:
        lines += [
            f"- {r['workload']} ({r['best_found_by']}): `{json.dumps(r['best_config'], sort_keys=True)}`",
            f"  - applied: {_applied(r.get('system', meta['system']), r['best_config'])}",
        ]
    return "\n".join(lines) + "\n"


def _applied(system: str, config: dict) -> str:
    """``config``'s statements as applied (units written out: a bare ``shared_buffers 4055``
    set by hand is 4055 pages of 8 kB, not MB), each in backticks, their comments left out."""
    try:
        statements = how_to_apply(system, config)["lines"]
    except (InputError, KeyError, TypeError) as error:  # (a record of an older space)
        return f"not in today's {system} space ({error})"
    return " ".join(f"`{line.split('  --', 1)[0].strip()}`" for line in statements)


def _recheck_settings(system: str) -> str:
    """Which of a recheck's settings come from the record and which are today's (said in the
    file it writes)."""
    if system == "sqlite":
        return ("From each workload's record: its duration, repeats, rows (none recorded: today's default) and "
                "minimum transactions per window (none recorded: today's default). Today's: the rule of thumb "
                "and the knob space the best configuration is checked in.")
    return ("From each workload's record: its duration, repeats, rows (pgbench's scale; none recorded: today's "
            "default) and warm-up (none recorded: none, as those runs had none). Today's: the rule of thumb, the "
            "knob space the best configuration is checked in and the clients (the backend's default, as every "
            "run of this script).")


def recheck(system: str, recorded: Path, workloads: list[str] | None, rounds: int, out: Path) -> None:
    """Measure a recorded results file's best configurations again next to the rule of thumb
    (interleaved, ``rounds`` rounds), on today's code and machine; write
    ``config_tuning_<system>_recheck.md`` into ``out``, which says which settings come from
    each workload's record and which are today's (:func:`_recheck_settings`)."""
    try:
        records = json.loads(recorded.read_text())["workloads"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"--recheck {recorded}: not this script's results .json ({exc})") from None
    chosen = [r for r in records if r.get("validation", {}).get("ok")
              and (workloads is None or r["workload"] in workloads)]
    if not chosen:
        raise ValueError(f"--recheck {recorded}: no re-measured best configuration for {workloads or 'any workload'}")
    lines = [
        f"# Knob tuning benchmark: {system}, recorded bests measured again",
        "",
        f"Each workload's best configuration from `{recorded.name}` measured again next to the "
        f"rule of thumb, {rounds} interleaved rounds. {_recheck_settings(system)}",
        "",
        f"| workload | best found by | recorded x rule | again x rule | again: best {THROUGHPUT_UNITS[system]} | "
        f"again: rule {THROUGHPUT_UNITS[system]} |",
        "|---|---|---:|---:|---:|---:|",
    ]
    with tempfile.TemporaryDirectory(prefix="bench-templates-") as templates:
        for record in chosen:
            meta = record.get("meta", {})
            # the record's warm-up: one without it was measured with none (before the warm-up)
            warmup = {"warmup_s": meta.get("warmup_s") or 0} if system == "postgres" else {}
            backend = make_backend(
                system, record["workload"], rows=meta.get("rows"), duration_s=meta.get("duration", 0.15),
                repeats=meta.get("repeats", 3), template_dir=templates if system == "sqlite" else None,
                seed=0, min_transactions=meta.get("min_transactions") or DEFAULT_MIN_TRANSACTIONS, **warmup,
            )  # fmt: skip
            try:
                objective = ConfigObjective(backend)
                validation = record["validation"]
                print(f"[config_bench] recheck {record['workload']}", flush=True)
                again = _validate(
                    objective, [(validation["best_found_by"], validation["best_config"])],
                    objective.space.validate(objective.space.rule_of_thumb), rounds,
                )  # fmt: skip
            finally:
                backend.close()
            if not again["ok"]:
                lines.append(f"| {record['workload']} | {validation['best_found_by']} | "
                             f"{validation['ratio']:.2f} | failed | - | - |")
                continue
            lines.append(
                f"| {record['workload']} | {validation['best_found_by']} | {validation['ratio']:.2f} | "
                f"{again['ratio']:.2f} | {_ops(again['best_mean'])} | {_ops(again['rule_mean'])} |"
            )
    write_results({out / f"config_tuning_{system}_recheck.md": "\n".join(lines) + "\n"})
    print("\n".join(lines))


def _measured_by(records: list[dict]) -> str:
    """Which command measured which workloads (merged tables: the title's command only merged)."""
    by_command: dict[str | None, list[str]] = {}
    for record in records:
        by_command.setdefault(record.get("command"), []).append(record["workload"])
    return "Measured by: " + "; ".join(
        f"{f'`{command}`' if command else 'a command not recorded'} ({', '.join(workloads)})"
        for command, workloads in by_command.items()
    ) + "; merged into this table by the command above."


def _made_by(markdown_path: Path) -> str | None:
    """The command named under a results table's title (runs before records kept their own)."""
    if not markdown_path.is_file():
        return None
    for line in markdown_path.read_text().splitlines()[:5]:
        # (a hand-kept table's line goes on after its command: "Made by `CMD` (before ...)")
        if line.startswith("Made by `") and "`" in line[len("Made by `"):]:
            command = line[len("Made by `"):].split("`", 1)[0]
            # a merged table's title names the merge, not the runs that measured its workloads
            return None if "--merge" in command.split() else command
    return None


def merge_runs(system: str, folders: list[Path], out: Path) -> None:
    """Merge the workload records of other runs' results into ``out`` (theirs replace ours); the
    table names the command that measured each workload."""
    json_path = out / f"config_tuning_{system}.json"
    records = json.loads(json_path.read_text())["workloads"] if json_path.exists() else []
    meta = None
    out.mkdir(parents=True, exist_ok=True)  # (before the plots are copied in: a new --out failed)
    for folder in folders:
        other = json.loads((folder / f"config_tuning_{system}.json").read_text())
        meta = meta or other["meta"]
        command = _made_by(folder / f"config_tuning_{system}.md")
        for record in other["workloads"]:
            if command is not None:
                record.setdefault("command", command)
            records = [r for r in records if r["workload"] != record["workload"]] + [record]
            plot = folder / record["plot"] if record.get("plot") else None
            if plot is not None and not plot.is_file():
                print(f"note: {plot} is missing: the merged record keeps its name only", file=sys.stderr)
            elif plot is not None and plot.resolve() != (out / plot.name).resolve():
                shutil.copyfile(plot, out / plot.name)
    meta = next((r["meta"] for r in reversed(records) if r.get("meta")), meta)
    write_results({out / f"config_tuning_{system}.md": markdown(records, meta, merged=True),
                   json_path: json.dumps({"meta": meta, "workloads": records}, indent=2, default=str)})
    print(f"merged {len(folders)} run(s) into {json_path}")


def workload_names(system: str) -> list[str]:
    """Every workload ``system`` can run (the default set is a subset)."""
    return list(WORKLOAD_NAMES) if system == "sqlite" else list(postgres_backend.POSTGRES_WORKLOADS)


def parse_args() -> argparse.Namespace:
    """The command line, checked: a bad value is refused before anything is measured."""
    parser = make_parser(__doc__)
    _add_run_options(parser)
    _add_measurement_options(parser)
    _add_output_options(parser)
    _add_mode_options(parser)
    args = parser.parse_args()
    _check_args(parser, args)
    return args


def _add_run_options(parser: argparse.ArgumentParser) -> None:
    """What to run: the database, its workloads, the tuners, their trials and seeds."""
    parser.add_argument(
        "--system", choices=["sqlite", "postgres"], default="sqlite", help="database to tune"
    )
    parser.add_argument(
        "--workloads",
        nargs="+",
        metavar="NAME",
        help=f"workloads to run (default: sqlite {', '.join(SQLITE_WORKLOADS)}; postgres "
        f"{', '.join(POSTGRES_WORKLOADS)}; postgres can also run "
        f"{', '.join(sorted(set(workload_names('postgres')) - set(POSTGRES_WORKLOADS)))}); "
        "the other workloads' records are kept from the existing results file",
    )
    parser.add_argument(
        "--tuners",
        nargs="+",
        choices=TUNER_NAMES,
        default=list(TUNER_NAMES),
        metavar="TUNER",
        help=f"tuners to run, of {', '.join(TUNER_NAMES)} (default: all)",
    )
    parser.add_argument("--trials", type=positive_int, default=50, help="trials per tuner and seed")
    parser.add_argument(
        "--turn",
        type=non_negative_int,
        default=DEFAULT_TURN,
        help="trials each tuner and seed runs in its turn before the next one's, round after "
        "round, so a drifting machine slows every tuner alike (0: each tuner and seed in one "
        "go, one after another, as the recorded tables that name no turns were made)",
    )
    parser.add_argument(
        "--seeds",
        nargs="+",
        type=seed_32bit,
        default=[0, 1, 2],
        metavar="SEED",
        help="seeds of every tuner (rl: the first only; default: 0 1 2)",
    )


def _add_measurement_options(parser: argparse.ArgumentParser) -> None:
    """How each trial is measured: windows, repeats, the database's size, the final rounds."""
    parser.add_argument(
        "--duration",
        type=positive_float,
        default=0.15,
        help="seconds per measurement window (postgres: rounded to whole seconds, at least 1; "
        "the report states the duration used)",
    )
    parser.add_argument(
        "--repeats", type=positive_int, default=3, help="measurement windows per trial"
    )
    parser.add_argument(
        "--min-transactions",
        type=positive_int,
        default=DEFAULT_MIN_TRANSACTIONS,
        help="SQLite: least transactions per measurement window (slow analytical transactions)",
    )
    parser.add_argument(
        "--rows",
        type=positive_int,
        default=None,
        help=f"SQLite rows (default 200k: 21-37 MB; at least {MIN_ROWS}) or pgbench scale "
        "(default 10)",
    )
    parser.add_argument(
        "--validate-repeats",
        type=positive_int,
        default=5,
        help="rounds re-measuring the best configurations next to the rule of thumb",
    )


def _add_output_options(parser: argparse.ArgumentParser) -> None:
    """Where trials and results go: the resumable store and the --out folder."""
    parser.add_argument(
        "--store",
        type=Path,
        default=None,
        help="SQLite results store, every trial kept there so a killed run resumes; a run "
        "with other measurement settings is refused (default: OUT/config_tuning_bench.sqlite, "
        "OUT the --out folder)",
    )
    parser.add_argument(
        "--out",
        type=output_folder,
        required=True,
        help="folder of the results (config_tuning_SYSTEM.md and .json) and the plots; "
        "required, so that a quick run never replaces the recorded results (experiments/results)",
    )


def _add_mode_options(parser: argparse.ArgumentParser) -> None:
    """The modes that do something else than run the benchmark: --merge, --replot, --recheck."""
    parser.add_argument(
        "--merge",
        type=Path,
        nargs="+",
        help="only merge the records (and plots) of runs written to these --out folders into "
        "--out, e.g. after running two workload groups at once, one per core (default: run "
        "the benchmark)",
    )
    parser.add_argument(
        "--replot",
        type=Path,
        nargs="*",
        metavar="STORE",
        default=None,
        help="only draw the plots of --out's results again from the curves their records keep; "
        "records made before they kept them take theirs from these results stores (this "
        "script's config_tuning_bench.sqlite files, replayed without measuring)",
    )
    parser.add_argument(
        "--recheck",
        type=Path,
        default=None,
        help="only measure the best configurations recorded in this results .json again next "
        "to the rule of thumb (--validate-repeats rounds; --workloads to choose), writing "
        "config_tuning_SYSTEM_recheck.md into --out",
    )


def _check_args(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Refuse (argparse's error, exit 2) a command line that cannot run: two modes at once, or
    the chosen mode's own checks."""
    if sum(x is not None for x in (args.recheck, args.merge, args.replot)) > 1:
        parser.error("--recheck, --merge and --replot: choose one")
    if args.replot is not None:
        _check_replot(parser, args)
    elif args.merge:
        _check_merge(parser, args)
    else:
        _check_run(parser, args)


def _check_replot(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """--replot needs --out's results file and every store it names."""
    if not (args.out / f"config_tuning_{args.system}.json").is_file():
        parser.error(f"--replot: no config_tuning_{args.system}.json in {args.out}")
    for store in args.replot:
        if not store.is_file():
            parser.error(f"--replot: no results store {store}")


def _check_merge(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """--merge needs the system's results file in every folder it names."""
    for folder in args.merge:
        if not (folder / f"config_tuning_{args.system}.json").is_file():
            parser.error(f"--merge: no config_tuning_{args.system}.json in {folder}")


def _check_run(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """A benchmark run (or --recheck): known workloads, nothing given twice, enough SQLite
    rows, a store that is a file name."""
    known = workload_names(args.system)
    for workload in args.workloads or []:
        if workload not in known:
            parser.error(
                f"--workloads: unknown {args.system} workload {workload!r} "
                f"(expected some of {', '.join(known)})"
            )
    for option, values in (
        ("--workloads", args.workloads or []),
        ("--tuners", args.tuners),
        ("--seeds", args.seeds),
    ):
        twice = repeated(values)
        if twice is not None:
            parser.error(f"{option}: {twice!r} given twice")
    if args.system == "sqlite" and args.rows is not None and args.rows < MIN_ROWS:
        parser.error(f"--rows: SQLite needs at least {MIN_ROWS} rows, got {args.rows}")
    if args.store is not None and args.store.is_dir():
        parser.error(f"--store: {args.store} is a folder: give a file name")


def main() -> None:
    """Run the benchmark (or ``--merge``) and write the results into ``--out``, holding its
    lock: a second run into the same ``--out`` is refused at once (two at once both read the
    earlier records at their start and the one finishing last wrote its own over the other's
    workloads: the concurrency audit's ycsb-a and ycsb-b runs kept ycsb-a only)."""
    from placer.folder_lock import exclusive_folder

    args = parse_args()
    with exclusive_folder(args.out):
        _run_mode(args)


def _run_mode(args: argparse.Namespace) -> None:
    """The mode ``args`` asks for: --merge, --replot, --recheck or the benchmark itself."""
    if args.merge:
        merge_runs(args.system, args.merge, args.out)
        return
    if args.replot is not None:
        replot(args.system, args.out, args.replot)
        return
    if args.recheck is not None:
        recheck(args.system, args.recheck, args.workloads, args.validate_repeats, args.out)
        return
    workloads = args.workloads or (
        SQLITE_WORKLOADS if args.system == "sqlite" else POSTGRES_WORKLOADS
    )
    json_path = args.out / f"config_tuning_{args.system}.json"
    check_outputs(args.out / f"config_tuning_{args.system}.md", json_path)  # before any trial
    args.out.mkdir(parents=True, exist_ok=True)
    kept = _earlier_records(json_path, set(workloads))
    records = []
    backends: dict[str, Backend] = {}
    with (
        ResultsStore(args.store or args.out / "config_tuning_bench.sqlite") as store,
        tempfile.TemporaryDirectory(prefix="bench-templates-") as templates,
    ):
        try:
            # every workload's settings are claimed before the first trial: a run with other
            # settings is refused at once, not after the workloads before it
            for workload in workloads:
                backends[workload] = make_workload_backend(args, workload, templates)
                claim_workload(store, args.system, workload, backends[workload])
            meta = {
                "system": args.system,
                "trials": args.trials,
                "tuners": args.tuners,
                "seeds": args.seeds,
                # as measured: PostgreSQL rounds it to whole seconds
                "duration": backends[workloads[0]].duration_s,
                "repeats": args.repeats,
                "min_transactions": args.min_transactions if args.system == "sqlite" else None,
                "warmup_s": getattr(backends[workloads[0]], "warmup_s", None),
                "rows": args.rows,
                "validate_repeats": args.validate_repeats,
                "turn": args.turn,
                "machine": f"{platform.machine()}, Python {platform.python_version()}",
            }
            for workload in workloads:
                record = bench_workload(args, workload, backends[workload], store)
                records.append({**record, "meta": meta, "command": command_line()})
                merged = kept + records
                # written after every workload (partial results); kept records name their runs
                text = markdown(merged, meta, merged=bool(kept))
                write_results({
                    args.out / f"config_tuning_{args.system}.md": text,
                    json_path: json.dumps({"meta": meta, "workloads": merged}, indent=2, default=str),
                })
        except postgres_backend.PostgresUnavailable as error:
            fail(f"--system postgres: {error}", 1)
        finally:
            for backend in backends.values():
                backend.close()
    print(text)


if __name__ == "__main__":
    with sigterm_as_interrupt():  # kill stops a PostgreSQL trial's server too
        run(main)
