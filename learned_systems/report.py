"""What a tuning run reports: the best configuration it measured (baselines included), the
best-so-far curves and baselines its plot draws, and the contents of ``best_config.json``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from learned_systems.config.trial import mean_and_spread


def best_so_far_curves(
    store: Any, run: str, objective: Any, summaries: list[Any], seed: int
) -> tuple[dict[str, list], list[str], dict[str, float]]:
    """The best-so-far curves to plot (this command's tuners as ranked, earlier commands'
    tuners or seeds ranked again from the store), those earlier ones' labels, and the
    baselines drawn beside them."""
    from learned_systems.tuning import stored_baseline_scores, stored_best_so_far

    baselines = stored_baseline_scores(store, run, objective)
    mine = {(s.tuner, seed): s.best_so_far for s in summaries}  # as ranked
    earlier = stored_best_so_far(store, run, objective, skip=set(mine), baselines=baselines)
    # in the store's order (tuner, then seed): every tuner of this command has stored trials
    curves = {f"{tuner} seed {s}": list(mine[(tuner, s)] if (tuner, s) in mine else earlier[(tuner, s)])
              for tuner, s in sorted({*mine, *earlier})}
    others = sorted(f"{tuner} seed {s}" for tuner, s in earlier)  # earlier commands' tuners or seeds: drawn only
    plotted = plotted_baselines(seed, curves, summaries[0].baseline_scores, baselines)
    return curves, others, plotted


def best_config_report(
    run: str,
    system: str,
    workload: str,
    objective: Any,
    seed: int,
    settings: dict[str, Any],
    summaries: list[Any],
    best: dict[str, Any] | None,
    allow_unsafe: bool,
    tuners: list[str],
    others: list[str],
    finals: dict[str, dict[str, Any]] | None = None,
    final_note: str | None = None,
) -> dict[str, Any]:
    """The contents of ``best_config.json``: the run, its baselines, each tuner's best, the
    best overall and how to apply it (from the run's own space: a kind of one's own in an index
    space is applied as the built-in ones are; for a system :mod:`learned_systems.apply` does
    not know, ``apply`` is null and ``apply_note`` says why), what the report covers, and the
    final rounds' re-measurements (``final_rounds``: per finalist, :func:`final_rounds`; None
    when none ran, ``final_note`` saying why)."""
    from learned_systems.apply import APPLIED_SYSTEMS, how_to_apply

    applied = system in APPLIED_SYSTEMS
    note = (f"no apply lines: learned_systems.apply writes them for {', '.join(APPLIED_SYSTEMS)}, "
            f"not for system {system!r}; apply 'best' -> 'config' as that system takes it")
    reference = summaries[0].baseline_scores
    return {
        "run": run,
        "system": system,
        "workload": workload,
        "space": objective.space.name,
        "seed": seed,
        "settings": settings,
        "baselines": {
            role: {
                "config": r.config,
                "ok": r.ok,
                "throughput_mean": r.throughput_mean,
                "throughput_std": r.throughput_std,
                "unit": r.unit,
                "score": reference.get(role),
            }
            for role, r in summaries[0].baselines.items()
        },
        "tuners": {
            s.tuner: {
                "best_score": s.best_score,
                "best_config": s.best_config,
                "best_measurements": s.best_measurements,
                "best_failed_trials": s.best_failures,
                "failed": s.failed,
                "resumed_trials": s.resumed,
            }
            for s in summaries
        },
        "best": best,
        # each finalist measured again, interleaved, before the best was chosen by the mean
        "final_rounds": finals or None,
        **({"final_rounds_note": final_note} if final_note else {}),
        # what each knob is and its unit (the configurations above are in these units)
        "knobs": {k.name: k.help for k in objective.space.knobs},
        # the best configuration as its user applies it (SQL, postgresql.conf, build_index)
        "apply": how_to_apply(system, best["config"], allow_unsafe, objective.space) if best and applied else None,
        **({} if applied else {"apply_note": note}),
        "covers": {"tuners": list(tuners), "seed": seed, "not_covered": others},
    }


def plotted_baselines(
    seed: int, curves: dict[str, list], reference: dict[str, float | None], seed_baselines: dict[int, dict[str, float]]
) -> dict[str, float]:
    """The baselines drawn beside the curves: this seed's, and each other drawn seed's own,
    labelled with their seeds (every score is relative to its seed's measurement of the
    defaults: one seed's rule of thumb beside another seed's curves said the opposite of the
    data). Seeds whose baseline scored the same share one line (``default, seeds 0-10``: the
    legend listed eleven alike)."""
    drawn = sorted({int(label.rsplit(" seed ", 1)[1]) for label in curves} - {seed})
    seeds: dict[tuple[str, float], list[int]] = {}
    for role, score in reference.items():
        if score is not None:
            seeds.setdefault((role, score), []).append(seed)
    for other in drawn:
        for role, score in seed_baselines.get(other, {}).items():
            seeds.setdefault((role, score), []).append(other)
    if not drawn:
        return {role: score for role, score in seeds}
    return {f"{role}, {_seed_span(which)}": score for (role, score), which in seeds.items()}


def _seed_span(seeds: list[int]) -> str:
    """``seed 3``, ``seeds 0-10`` or ``seeds 0, 2-4``: the seeds, runs of them as ranges."""
    ordered = sorted(set(seeds))
    runs: list[list[int]] = []
    for s in ordered:
        if runs and s == runs[-1][-1] + 1:
            runs[-1].append(s)
        else:
            runs.append([s])
    spans = ", ".join(str(r[0]) if len(r) == 1 else f"{r[0]}-{r[-1]}" for r in runs)
    return f"seed{'s' if len(ordered) > 1 else ''} {spans}"


def best_overall(summaries: list[Any], effective: Any) -> dict[str, Any] | None:
    """The best configuration measured in this run, baselines included: a tuner's best that
    scores below the defaults or the rule of thumb is not the one to apply. ``found_by`` names
    the tuner or the baseline (``tuner`` repeats it when a tuner found it). A configuration
    that runs as a baseline does (``effective``, see ``KnobSpace.effective``) is no one's find:
    it counts as that baseline, with the baseline's own measurement. Configurations rank by
    :attr:`~learned_systems.ranking.RankedConfig.standing` (one whose trials failed now and then
    ranks below every one that never failed); a tie goes to the baseline, then to the tuner
    listed first."""
    candidates = _candidates(summaries, effective)
    if not candidates:
        return None
    best, found_by = max(candidates, key=lambda c: c[0].standing)  # (max keeps the first of ties)
    return _best_entry(best, found_by, summaries[0].baselines)


def _candidates(summaries: list[Any], effective: Any) -> list[tuple[Any, str]]:
    """Every configuration measured, as (ranked entry, who found it): the baselines first (each
    once: a rule of thumb that runs as the defaults is the defaults), then every tuner's
    configurations that do not run as a baseline, each tuner's best first."""
    from learned_systems.config.knobs import config_key
    from learned_systems.ranking import RankedConfig

    reference = summaries[0]
    baselines: dict[str, RankedConfig] = {}
    as_run: dict[str, str] = {}  # a configuration as it runs -> the baseline it counts as
    for role, result in sorted(reference.baselines.items(), key=lambda item: item[0] != "default"):
        key = config_key(effective(result.config))
        score = reference.baseline_scores.get(role)
        if result.ok and score is not None and key not in as_run:  # (a rule of thumb that runs
            baselines[role] = RankedConfig(score, result, 1)  # as the defaults is the defaults)
            as_run[key] = role
    # every configuration a tuner measured, not only its best: a best that runs as a baseline
    # counts as that baseline, and the tuner's next one may still beat them
    candidates = [(entry, role) for role, entry in baselines.items()]  # first: they win ties
    for summary in summaries:
        for entry in summary.ranked:
            if config_key(effective(entry.result.config)) not in as_run:
                candidates.append((entry, summary.tuner))
    return candidates


def _best_entry(best: Any, found_by: str, baselines: dict[str, Any]) -> dict[str, Any]:
    """best_config.json's ``best`` for the ranked entry ``best`` that ``found_by`` found."""
    return {
        "found_by": found_by,
        "tuner": found_by if found_by not in baselines else None,
        "score": best.score,
        "config": best.result.config,
        "measurements": best.measurements,
        "failed_trials": best.failures,
        "throughput_mean": best.result.throughput_mean,
        "throughput_std": best.result.throughput_std,
        "unit": best.result.unit,
        "metrics": best.result.metrics,
    }


#: The role of a final round's rows in the results store (their tuner column: ``final:NAME``,
#: NAME the tuner or baseline whose configuration was measured again).
FINAL_ROLE = "final"


def finalists(summaries: list[Any], effective: Any) -> list[tuple[Any, str]]:
    """What the final rounds measure again, as (ranked entry, who found it): each baseline and,
    for each tuner, its best configuration (by its trials' standing) that runs as no baseline
    does and no other finalist is. A configuration two tuners found is measured once, for the
    tuner whose trials rank it higher (the one listed first on a tie); the other tuner's
    finalist is then its next best configuration."""
    from learned_systems.config.knobs import config_key

    chosen: list[tuple[Any, str]] = []
    seen: set[str] = set()
    for entry, found_by in sorted(_candidates(summaries, effective), key=lambda c: c[0].standing, reverse=True):
        key = config_key(effective(entry.result.config))
        if found_by in {f for _, f in chosen} or key in seen:
            continue
        chosen.append((entry, found_by))
        seen.add(key)
    order = {name: i for i, name in enumerate([*summaries[0].baselines, *(s.tuner for s in summaries)])}
    return sorted(chosen, key=lambda c: order.get(c[1], len(order)))  # baselines, then the tuners' order


def final_rounds(
    store: Any, run: str, objective: Any, summaries: list[Any], seed: int, rounds: int,
    on_measured: Callable[[], None] | None = None,
) -> dict[str, dict[str, Any]]:
    """Measure every finalist (:func:`finalists`) again, ``rounds`` rounds, interleaved (each
    round measures every finalist once, so a drift of the machine falls on all alike): the best
    of many noisy trials overstates itself, and a baseline measured once is one draw. Each
    measurement is stored as it finishes (role :data:`FINAL_ROLE`), so a run killed in the
    final rounds resumes them. Only whole rounds are kept: a round one finalist of which is
    missing (the kill came mid-round) or was another configuration (its tuner's best changed
    since) is measured again for every finalist, so that each round still falls at one time
    for all. Returns, per finalist (who found it), its configuration,
    each round's score (None: failed) and their mean, spread and count."""
    from learned_systems.config.knobs import config_key
    from learned_systems.results import ResultsStore
    from learned_systems.tuning import finite_or_none

    effective = objective.space.effective
    reference = summaries[0].baselines.get("default")
    chosen = finalists(summaries, effective)
    stored = {(row["tuner"], int(row["trial"])): row for row in store.rows(run=run, seed=seed, role=FINAL_ROLE)}
    results: dict[str, list[Any]] = {found_by: [] for _, found_by in chosen}
    for index in range(rounds):
        kept = [stored.get((f"{FINAL_ROLE}:{found_by}", index)) for _, found_by in chosen]
        whole = all(row is not None and config_key(effective(row["config"])) == config_key(effective(entry.result.config))
                    for row, (entry, _) in zip(kept, chosen, strict=True))
        for row, (entry, found_by) in zip(kept, chosen, strict=True):
            if whole and row is not None:  # (the round was measured whole, for these finalists)
                result = ResultsStore.to_result(row)
            else:  # one finalist's measurement is missing or stale: the whole round again, interleaved
                result = objective.evaluate(entry.result.config)
                score = finite_or_none(objective.score(result, reference)) if result.ok else None
                store.add(run, f"{FINAL_ROLE}:{found_by}", seed, index, FINAL_ROLE, result, score)
            results[found_by].append(result)
            if on_measured is not None:
                on_measured()
    report = {}
    for entry, found_by in chosen:
        scores = [finite_or_none(objective.score(r, reference)) if r.ok else None for r in results[found_by]]
        valid = [s for s in scores if s is not None]
        mean, spread = mean_and_spread(valid) if valid else (None, None)
        report[found_by] = {"config": entry.result.config, "scores": scores, "n": len(valid),
                            "failed": len(scores) - len(valid), "mean": mean, "spread": spread,
                            "trial_score": entry.score, "trial_measurements": entry.measurements}
    return report


def best_after_final(summaries: list[Any], effective: Any, finals: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
    """The best configuration chosen by the final rounds' mean score (a finalist whose final
    rounds failed now and then ranks below every one that never failed; a tie goes to the
    baseline, then to the tuner listed first); its trials' score is kept beside
    (``trial_score``) and ``final`` holds its rounds; only ``score`` is the rounds' (its
    ``throughput_mean``, ``metrics`` and ``measurements`` stay the winning trial's)."""
    measured = [(found_by, f) for found_by, f in finals.items() if f["n"]]
    if not measured:
        return best_overall(summaries, effective)  # (every final round failed: as before)
    found_by, final = max(measured, key=lambda c: (-c[1]["failed"] / (c[1]["failed"] + c[1]["n"]), c[1]["mean"]))
    entry = next(e for e, f in finalists(summaries, effective) if f == found_by)
    best = _best_entry(entry, found_by, summaries[0].baselines)
    return {**best, "score": final["mean"], "trial_score": entry.score,
            "final": {k: final[k] for k in ("n", "failed", "mean", "spread", "scores")}}
