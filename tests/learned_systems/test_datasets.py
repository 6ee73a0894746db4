"""The CDF sketch agents observe: exact for keys anywhere in the uint64 range."""

from __future__ import annotations

import numpy as np
import pytest

from learned_systems.datasets import cdf_sketch


def test_the_sketch_of_large_close_keys_keeps_their_shape():
    """Keys converted to float64 before subtracting the smallest: 2**63 + [0, 999] gave all zeros."""
    keys = np.uint64(2**63) + np.arange(1000, dtype=np.uint64)
    sketch = cdf_sketch(keys, points=8)
    np.testing.assert_allclose(sketch[:8], np.round(np.linspace(0, 999, 8)) / 999, rtol=1e-6)
    squared = np.uint64(2**64 - 10**6 - 1) + (np.arange(1000, dtype=np.uint64) ** 2)
    assert not np.allclose(cdf_sketch(squared, points=8)[:8], sketch[:8], atol=1e-3)  # told apart


def test_the_sketch_takes_a_list_and_refuses_unsorted_keys_by_name():
    """A list raised AttributeError ('list' object has no attribute 'size'), where every other
    entry point takes one."""
    import pytest

    from learned_systems.index.keys import UnsortedKeysError

    np.testing.assert_array_equal(cdf_sketch([1, 2, 3], 3), cdf_sketch(np.array([1, 2, 3], dtype=np.uint64), 3))
    with pytest.raises(UnsortedKeysError, match="sorted ascending"):
        cdf_sketch([3, 1, 2], 3)


@pytest.mark.parametrize(
    ("result", "told"),
    [(lambda rng, n: rng.random(n), "float64 array"), (lambda rng, n: list(range(n)), "a list"),
     (lambda rng, n: None, "a NoneType"), (lambda rng, n: np.arange(n - 1, dtype=np.uint64), "array of 99"),
     (lambda rng, n: np.arange(n, dtype=np.int64) - 5, "negative keys")],
)
def test_a_key_generator_of_ones_own_returning_no_keys_is_refused_by_name(monkeypatch, result, told) -> None:  # type: ignore[no-untyped-def]
    """A generator returning floats, a list or None failed in numpy's or Python's words (exit
    70), and one returning a key short was taken as it was."""
    from learned_systems import datasets
    from learned_systems.errors import InputError

    monkeypatch.setitem(datasets.GENERATORS, "mine", result)
    with pytest.raises(InputError, match=f"the key generator 'mine' returned .*{told}"):
        datasets.generate_keys("mine", 100, seed=1)


def test_a_key_generator_of_ones_own_may_return_signed_whole_numbers(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from learned_systems import datasets

    monkeypatch.setitem(datasets.GENERATORS, "mine", lambda rng, n: np.arange(n, 0, -1, dtype=np.int64))
    keys = datasets.generate_keys("mine", 5, seed=1)
    assert keys.dtype == np.uint64 and keys.tolist() == [1, 2, 3, 4, 5]
