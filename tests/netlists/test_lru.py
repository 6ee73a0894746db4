"""netlists.lru: the least recently used entry is the one dropped; a use makes an entry recent."""

from __future__ import annotations

import pytest

from netlists.errors import InputError
from netlists.lru import LruCache


def test_the_least_recently_used_entry_is_dropped_first() -> None:
    cache: LruCache[str, int] = LruCache(2)
    assert cache.put("a", 1) == 1 and cache.put("b", 2) == 2
    assert cache.get("a") == 1  # "a" now the most recent: "b" goes next
    cache.put("c", 3)
    assert "b" not in cache and "a" in cache and "c" in cache and len(cache) == 2
    assert list(cache.values()) == [1, 3] and list(cache) == ["a", "c"]


def test_putting_a_held_key_again_makes_it_recent_and_replaces_it() -> None:
    cache: LruCache[str, int] = LruCache(2)
    cache.put("a", 1)
    cache.put("b", 2)
    cache.put("a", 10)
    cache.put("c", 3)
    assert cache.get("a") == 10 and cache.get("b") is None and len(cache) == 2


def test_a_missing_key_reads_none_and_clear_empties() -> None:
    cache: LruCache[int, str] = LruCache(1)
    assert cache.get(7) is None
    cache.put(7, "x")
    cache.clear()
    assert len(cache) == 0 and cache.get(7) is None


@pytest.mark.parametrize("most", [0, -1, 1.5, True, "2"])
def test_a_size_below_one_or_not_whole_is_refused(most: object) -> None:
    with pytest.raises(InputError, match="at least 1, got most="):
        LruCache(most)  # type: ignore[arg-type]


def test_numpy_sizes_are_whole_numbers_and_a_held_none_is_recent_like_any_value() -> None:
    import numpy as np

    cache: LruCache[str, int | None] = LruCache(np.int64(2))  # type: ignore[arg-type]
    assert cache.most == 2 and type(cache.most) is int
    cache.put("a", None)
    cache.put("b", 1)
    assert cache.get("a", 5) is None  # (held: its None, not the default, and now the most recent)
    cache.put("c", 2)
    assert "a" in cache and "b" not in cache and cache.get("zz", 7) == 7
