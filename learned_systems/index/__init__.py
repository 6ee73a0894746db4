"""Learned indexes over sorted 64-bit keys: a recursive model index and a PGM-style index, and
any kind registered with :func:`register_index_kind`.

Both answer ``lookup(queries)`` with lower-bound positions (the same answer as
``numpy.searchsorted(keys, queries, side="left")``), vectorised over a numpy batch.
"""

from typing import Any

from learned_systems.index.keys import UnsortedKeysError, as_sorted_keys
from learned_systems.index.kinds import available_index_kinds, index_kind, register_index_kind
from learned_systems.index.pgm import PGMIndex
from learned_systems.index.rmi import RMIIndex

__all__ = [
    "PGMIndex",
    "RMIIndex",
    "UnsortedKeysError",
    "as_sorted_keys",
    "available_index_kinds",
    "build_index",
    "register_index_kind",
]


def build_index(kind: str, keys, **params) -> Any:
    """Build the index kind registered as ``kind`` ("pgm", "rmi" or one's own) over ``keys``
    with ``params`` (ValueError listing the registered kinds for another name)."""
    return index_kind(kind).build(keys, **params)
