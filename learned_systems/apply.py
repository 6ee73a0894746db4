"""A tuned configuration in the form its user applies: SQL for SQLite, ``postgresql.conf``
lines for PostgreSQL, the ``build_index`` call for a learned index (``placer tune`` writes it
into ``best_config.json`` as ``apply``; a system of one's own has no such form: ``apply`` is
null there, with a note)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from learned_systems.config.knobs import KnobError, KnobSpace
from learned_systems.errors import InputError

#: The systems :func:`how_to_apply` writes lines for.
APPLIED_SYSTEMS = ("sqlite", "postgres", "index")


def how_to_apply(
    system: str, config: Mapping[str, Any], allow_unsafe: bool = False, space: KnobSpace | None = None
) -> dict[str, Any]:
    """``{"how": ..., "lines": [...]}`` for ``config`` of ``system``, validated first against
    ``space``, the space the run searched (default: the system's own, :func:`knob_space`; an
    index space over kinds of one's own gives their ``build_index`` calls): a misspelt knob
    would go into postgresql.conf as it is; knobs not given take their defaults.
    ``allow_unsafe``: the space that can lose data.

    Raises:
        KnobError: a knob the space does not have or a value it does not take.
        ValueError: a system not in :data:`APPLIED_SYSTEMS`.
    """
    if not isinstance(config, Mapping):
        raise KnobError(f"a configuration is a dict of knob values, got {type(config).__name__}")
    if space is None:
        space = knob_space(system, allow_unsafe)
    elif system not in APPLIED_SYSTEMS:
        raise InputError(f"unknown system {system!r}: expected one of {', '.join(APPLIED_SYSTEMS)}")
    config = space.validate(dict(config))
    if system == "sqlite":
        from learned_systems.config.sqlite_backend import pragma_statements

        return {
            "how": "run on the database file; page_size and journal_mode WAL stay with the file, "
            "the other PRAGMAs (and other journal modes) hold per connection: run them on every "
            "connection",
            "lines": pragma_statements(config),
        }
    if system == "postgres":
        from learned_systems.config.knobs import UNSAFE_NOTE, unsafe_settings
        from learned_systems.config.postgres_knobs import server_settings

        unsafe = unsafe_settings(knob_space(system, True).knobs, config)

        return {
            "how": "add to postgresql.conf (or ALTER SYSTEM SET each) and restart the server",
            "lines": [f"{name} = '{value}'" + (f"  # {UNSAFE_NOTE}" if name in unsafe else "")
                      for name, value in server_settings(config).items()],
        }
    if system == "index":
        from learned_systems.objectives import validated_index_parameters

        kind, params = validated_index_parameters(config, space)  # (validated above)
        args = ", ".join(f"{name}={value!r}" for name, value in params.items())
        return {
            "how": "build it over the sorted uint64 keys (learned_systems.index)",
            "lines": [f"build_index({kind!r}, keys, {args})"],
        }
    raise ValueError(f"unknown system {system!r}")


def knob_space(system: str, allow_unsafe: bool) -> KnobSpace:
    """The knob space of ``system`` ("sqlite", "postgres" or "index"), built alone: no backend,
    so no database binaries, server user or disk are needed."""
    if system == "sqlite":
        from learned_systems.config.sqlite_backend import sqlite_space

        return sqlite_space(allow_unsafe)
    if system == "postgres":
        from learned_systems.config.postgres_knobs import postgres_space

        return postgres_space(allow_unsafe)
    if system == "index":
        from learned_systems.objectives import index_space

        return index_space()
    raise InputError(f"unknown system {system!r}: expected sqlite, postgres or index")
