"""What identifies a tuning run's measurements besides each trial's configuration: the settings
stored with the run, so that a resume under other settings is refused
(:meth:`learned_systems.results.ResultsStore.claim_settings`)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

#: Run settings no option of placer tune sets: they follow the version (the SQLite windows'
#: checkpoint, the warm-up) or the machine (PostgreSQL's memory).
UNCHOSEN_SETTINGS = ("wal_checkpoint", "warmup_s", "shared_buffers_max_mb")

#: The run setting naming the code of each tuner of one's own (tuner name -> where its code comes
#: from, with a digest of it): compared tuner by tuner, and added to as other tuners join the run
#: (:meth:`~learned_systems.results.ResultsStore.claim_settings`).
TUNER_CODE = "tuner_code"


#: Measurement parameters that runs stored before they were recorded lack, with the value every
#: ``placer tune`` run had then (no option sets them): what such a run measured. Written out,
#: not read from today's defaults: a default changed later does not change what an old run meant.
MEASUREMENT_PARAMETERS_BEFORE: dict[str, Any] = {
    "queries": 100_000,  # IndexObjective's lookups per measurement
    "time_weight": 1.0,  # IndexObjective's score weights
    "size_weight": 1.0,
    "ops_per_transaction": 20,  # a YCSB transaction's operations (SQLite)
    "min_transactions": 20,  # SQLite's fewest transactions per window
    "clients": 4,  # pgbench's connections (PostgreSQL)
}


def settings_before() -> dict[str, Any]:
    """What a run setting missing from a stored run (made before the setting was recorded)
    means."""
    from learned_systems.config.sqlite_backend import WAL_CHECKPOINT_BEFORE

    return {"index_cost": "measured", "wal_checkpoint": WAL_CHECKPOINT_BEFORE, **MEASUREMENT_PARAMETERS_BEFORE}


def run_settings(
    system: str, objective: Any, repeats: int, tuner_code: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """What a run's measurements and search depend on besides the configuration (the seed is
    kept per row): a resume under other settings is refused (ResultsStore.claim_settings).
    ``tuner_code``: each tuner of one's own's code (name -> where it comes from, with a digest
    of it), so that a tuner edited since it stored trials does not resume them; built-in tuners
    need none (the package's version is their code)."""
    settings: dict[str, Any] = {"rows": effective_size(objective), "repeats": repeats}
    if tuner_code:
        settings[TUNER_CODE] = dict(tuner_code)
    if system != "index":
        settings["duration_s"] = objective.backend.duration_s  # pgbench rounds to whole seconds
        if hasattr(objective.backend, "warmup_s"):  # trials measured without one differ
            settings["warmup_s"] = objective.backend.warmup_s
    if system == "sqlite":  # trials timed without their checkpoint rank deferring too high
        from learned_systems.config.sqlite_backend import WAL_CHECKPOINT

        settings["wal_checkpoint"] = WAL_CHECKPOINT
        # a window of more or larger transactions measures another throughput
        settings["min_transactions"] = int(objective.backend.min_transactions)
        settings["ops_per_transaction"] = int(objective.backend.workload.ops_per_transaction)
    if system == "postgres":  # pgbench's connections: another concurrency, another throughput
        settings["clients"] = int(objective.backend.clients)
    if system == "index":  # in the option's words (stored runs from before it: measured)
        settings["index_cost"] = "measured" if objective.mode == "measured" else "counted"
        settings["queries"] = int(objective.queries.size)  # timed or counted over these lookups
        # the score's own weights (-(time_weight x time + size_weight x size)): the tuners' scores
        # and the stored ones compared under other weights mean something else
        settings["time_weight"] = float(objective.time_weight)
        settings["size_weight"] = float(objective.size_weight)
        from learned_systems.datasets import is_key_file

        if is_key_file(objective.dataset):  # the keys measured, not the file's name or place:
            # a resume on another file of the same name is refused, one moved is not
            settings["keys_sha256"] = hashlib.sha256(memoryview(objective.keys)).hexdigest()  # (no copy)
    if system == "postgres":  # the space's top follows the machine's (or container's) memory:
        # resumed elsewhere, stored trials fell outside it or the search went on in another one
        settings["shared_buffers_max_mb"] = objective.space.knob("shared_buffers").high
    return settings


def effective_size(objective: Any) -> int:
    """The size measured (index keys, SQLite rows or pgbench scale), not the ``--rows`` that
    asked for it (0 = the default): a run resumed with the default spelt out is the same run."""
    if hasattr(objective, "keys"):
        return int(objective.keys.size)
    backend = objective.backend
    return int(backend.scale if hasattr(backend, "scale") else backend.workload.rows)


def objective_settings(objective: Any) -> tuple[dict[str, Any], tuple[str, ...]] | None:
    """The settings ``placer tune`` records for a run of ``objective`` (:func:`run_settings`,
    its ``repeats`` the objective's own) and those a comparison leaves out (the repeats of
    counted index costs); None for an objective of one's own, whose settings no run records."""
    system = getattr(objective, "system", None)
    if system == "index" and all(hasattr(objective, name) for name in ("keys", "mode", "dataset", "repeats")):
        ignored = ("repeats",) if objective.mode == "cost" else ()
        return run_settings(system, objective, int(objective.repeats)), ignored
    backend: Any = getattr(objective, "backend", None)
    if system in ("sqlite", "postgres") and getattr(backend, "system", None) == system and all(
        hasattr(backend, name) for name in ("repeats", "duration_s", "workload")
    ):
        return run_settings(system, objective, int(backend.repeats)), ()
    return None
