"""Learned indexes over sorted 64-bit keys: a recursive model index and a PGM-style index.

Both answer ``lookup(queries)`` with lower-bound positions (the same answer as
``numpy.searchsorted(keys, queries, side="left")``), vectorised over a numpy batch.
"""

from learned_systems.index.keys import UnsortedKeysError, as_sorted_keys
from learned_systems.index.pgm import PGMIndex
from learned_systems.index.rmi import RMIIndex

__all__ = ["PGMIndex", "RMIIndex", "UnsortedKeysError", "as_sorted_keys", "build_index"]


def build_index(kind: str, keys, **params) -> PGMIndex | RMIIndex:
    """Build the index named ``kind`` ("pgm" or "rmi") over ``keys`` with ``params``."""
    if kind == "pgm":
        return PGMIndex(keys, **params)
    if kind == "rmi":
        return RMIIndex(keys, **params)
    raise ValueError(f"unknown index kind {kind!r}: expected 'pgm' or 'rmi'")
