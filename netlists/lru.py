"""A mapping that keeps the ``most`` entries used last, dropping the least recently used.

Three caches held their entries this way, each writing the move-to-end and the drop itself:
the density masks of recent designs (``placer.algorithms.density_masks``), the index-tuning
environment's objectives per dataset (``envs.index_tuning``) and a memoized tuning objective's
results (``learned_systems.objectives``). It lives in the lowest layer so every package above
may use it (``netlists`` imports nothing of ours).
"""

from __future__ import annotations

import operator
from collections import OrderedDict
from collections.abc import Hashable, Iterator
from typing import Generic, TypeVar

from netlists.errors import InputError

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class LruCache(Generic[K, V]):
    """At most ``most`` entries; :meth:`get` and :meth:`put` make an entry the most recent."""

    def __init__(self, most: int) -> None:
        try:
            whole = operator.index(most) if not isinstance(most, bool) else 0
        except TypeError:
            whole = 0
        if whole < 1:
            raise InputError(f"an LRU cache holds a whole number of entries, at least 1, got most={most!r}")
        self.most = whole
        self._entries: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K, default: V | None = None) -> V | None:
        """The entry for ``key`` (now the most recent), or ``default`` when it is not held (a
        held None is returned and made recent like any other value)."""
        if key not in self._entries:
            return default
        self._entries.move_to_end(key)
        return self._entries[key]

    def put(self, key: K, value: V) -> V:
        """Hold ``value`` under ``key`` as the most recent entry, dropping the least recently
        used past ``most``; returns ``value``."""
        self._entries[key] = value
        self._entries.move_to_end(key)
        while len(self._entries) > self.most:
            self._entries.popitem(last=False)
        return value

    def __iter__(self) -> Iterator[K]:
        """The keys held, least recently used first (a snapshot: the cache may change while it is read)."""
        return iter(list(self._entries))

    def values(self) -> Iterator[V]:
        """The entries held, least recently used first."""
        return iter(list(self._entries.values()))

    def clear(self) -> None:
        """Drop every entry."""
        self._entries.clear()

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def __len__(self) -> int:
        return len(self._entries)
