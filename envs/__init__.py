"""Gymnasium environments of the platform, registered on import.

Gymnasium 1.x does not load plugin entry points, so the ids are registered here:

* ``placer/MacroPlacement-v0``: sequential macro placement of a chip netlist.
* ``placer/IndexTuning-v0``: choose a learned index and its parameters for a key set.
* ``placer/ConfigTuning-v0``: tune the configuration knobs of a real database.

``EnvSpec.nondeterministic`` says whether an env's rewards may differ after the same seed
and actions: ConfigTuning-v0 times a real database, and IndexTuning-v0 times lookups by
default (its ``mode="cost"``, which counts search steps, is deterministic, but a registry flag
describes the id's defaults), so both are registered nondeterministic; MacroPlacement-v0's
rewards follow from the seed and the actions (its force-directed step is seeded by the
episode's seed).

``gymnasium.make("envs:placer/MacroPlacement-v0")`` imports this module first, so that form
works without an explicit import too.
"""

from __future__ import annotations

from gymnasium.envs.registration import register, registry

# placer's import points numba at a writable cache folder in a read-only install, before the
# environments import learned_systems' kernels (IndexTuning-v0 raised "no locator available")
import placer  # noqa: E402, F401

#: id -> (entry point, nondeterministic: whether the same seed and actions may give other rewards)
_ENVS = {
    "placer/MacroPlacement-v0": ("envs.macro_placement:MacroPlacementEnv", False),
    "placer/IndexTuning-v0": ("envs.index_tuning:IndexTuningEnv", True),  # (measured by default)
    "placer/ConfigTuning-v0": ("envs.config_tuning:ConfigTuningEnv", True),
}

for _env_id, (_entry, _nondeterministic) in _ENVS.items():
    if _env_id not in registry:
        register(id=_env_id, entry_point=_entry, nondeterministic=_nondeterministic)

#: Marker so tests can check that this package, not the unrelated PyPI ``envs``, was imported.
IS_PLACER_ENVS = True
