"""The registry of index kinds: each kind's builder and its parameters as knobs.

:func:`~learned_systems.index.build_index` builds any registered kind, and
:func:`kind_knobs` gives the knobs of a space over chosen kinds (``index_space(kinds)`` in
:mod:`learned_systems.objectives`), each kind's own knobs applying only when ``kind`` is that
kind. The built-ins (``pgm``, ``rmi``) are registered as one's own are, with
:func:`register_index_kind`.

An index is what a builder returns: ``lookup(queries)`` gives lower-bound positions (as
``numpy.searchsorted(keys, queries, side="left")``), with ``size_bytes``, ``max_error`` and
``build_seconds`` attributes; ``IndexObjective(mode="cost")`` also asks it for
``counted_steps(queries)``, the mean binary-search steps per lookup its lookups run.

The registry is the process's: register a kind when a module is imported, not under ``if
__name__ == "__main__"`` nor in a notebook cell alone, and import that module where the kind is
used, so that processes of their own (a ``SubprocVecEnv``'s workers, spawned) know it too.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from learned_systems.config.knobs import Knob
from learned_systems.errors import InputError
from learned_systems.validation import refuse_taken_name, registered


@dataclass(frozen=True)
class IndexKind:
    """A registered kind: ``build(keys, **params)`` makes an index, ``params`` the values of
    ``knobs`` (named as the builder's keyword arguments, each applying when ``kind`` is
    ``name``)."""

    name: str
    build: Callable[..., Any]
    knobs: tuple[Knob, ...]


_KINDS: dict[str, IndexKind] = {}



def register_index_kind(name: str, build: Callable[..., Any], knobs: Sequence[Knob] = ()) -> IndexKind:
    """Register the index kind ``name``: ``build(keys, **params)`` makes one (a class taking the
    keys and keyword parameters is a builder), ``knobs`` are its tunable parameters (their
    ``applies_when`` is set here to ``("kind", name)``).

    Raises:
        ValueError: an empty name, a knob named ``kind`` or twice or setting ``applies_when``
            itself, or a name taken by another builder (the same builder registered again, its
            module reloaded, is allowed).
        TypeError: ``build`` is not callable or a knob is no :class:`Knob`.
    """
    if not isinstance(name, str) or not name.strip():
        raise InputError(f"an index kind's name is a non-empty str, got {name!r}")
    if not callable(build):
        raise TypeError(f"index kind {name!r}: the builder must be callable, got {build!r}")
    knobs = tuple(knobs)
    for knob in knobs:
        if not isinstance(knob, Knob):
            raise TypeError(f"index kind {name!r}: its knobs are learned_systems.config.knobs.Knob, got {knob!r}")
    conditional = [knob.name for knob in knobs if knob.applies_when not in (None, ("kind", name))]
    if conditional:  # (replaced by ("kind", name) without a word)
        raise InputError(f"index kind {name!r}: knobs {conditional} set applies_when; a kind's knobs apply "
                         "when 'kind' is that kind, set here")
    names = [knob.name for knob in knobs]
    if "kind" in names or len(set(names)) < len(names):
        raise InputError(f"index kind {name!r}: knob names must differ from one another and from 'kind', got {names}")
    taken = _KINDS.get(name)
    refuse_taken_name("index kind", name, None if taken is None else taken.build, build)
    kind = IndexKind(name, build, tuple(dataclasses.replace(k, applies_when=("kind", name)) for k in knobs))
    _KINDS[name] = kind
    return kind


def available_index_kinds() -> list[str]:
    """Names of the registered index kinds, the built-ins first."""
    return list(_KINDS)


def index_kind(name: str) -> IndexKind:
    """The kind registered as ``name`` (ValueError listing the registered ones)."""
    return registered(_KINDS, name, "index kind", "learned_systems.index.register_index_kind")


def kind_knobs(kinds: Iterable[str]) -> tuple[Knob, ...]:
    """The knobs of a space over ``kinds``: ``kind`` (its default ``pgm`` where chosen, else the
    first kind), then each kind's own knobs in turn.

    Raises:
        ValueError: no kind, a kind twice or not registered, or two kinds with a knob of one name
            (a space holds one knob per name).
    """
    kinds = tuple(kinds)
    if not kinds or len(set(kinds)) < len(kinds):
        raise InputError(f"an index space needs one or more kinds, each once, got {list(kinds)}")
    knobs = [Knob("kind", "pgm" if "pgm" in kinds else kinds[0], choices=kinds, help="index family")]
    owners: dict[str, str] = {}
    for name in kinds:
        for knob in index_kind(name).knobs:
            if knob.name in owners:
                raise InputError(
                    f"index kinds {owners[knob.name]!r} and {name!r} both have a knob {knob.name!r}: "
                    "a space holds one knob per name (rename one kind's parameter)"
                )
            owners[knob.name] = name
            knobs.append(knob)
    return tuple(knobs)


def _register_builtin_kinds() -> None:
    from learned_systems.index.pgm import PGMIndex
    from learned_systems.index.rmi import RMIIndex

    register_index_kind("pgm", PGMIndex, (
        Knob("epsilon", 64, low=2, high=4096, log=True, help="PGM error bound"),
        Knob("epsilon_recursive", 8, low=2, high=256, log=True, help="PGM upper-level error bound"),
    ))  # fmt: skip
    register_index_kind("rmi", RMIIndex, (
        Knob("num_models", 4096, low=16, high=262_144, log=True, help="RMI leaf models"),
        Knob("root", "linear", choices=("linear", "cubic"), help="RMI root model"),
    ))  # fmt: skip


_register_builtin_kinds()
