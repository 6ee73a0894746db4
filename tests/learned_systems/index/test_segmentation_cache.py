"""The learned index's kernels where numba finds no cache folder it may write."""

from __future__ import annotations

import numba
import pytest

from learned_systems.index.segmentation import njit


def test_a_kernel_numba_cannot_cache_is_compiled_for_the_process_instead_of_raising() -> None:
    """A read-only install with no writable home, imported without placer (which points numba
    at a writable folder first): ``import learned_systems.index`` raised "cannot cache function
    '_clip': no locator available" (gymnasium.make("placer/IndexTuning-v0") too)."""
    namespace: dict[str, object] = {}
    # a source file numba cannot find: none of its cache locators applies, as in that install
    exec(compile("def double(x):\n    return 2 * x\n", "/nonexistent/kernel.py", "exec"), namespace)
    with pytest.raises(RuntimeError, match="no locator"):
        numba.njit(cache=True)(namespace["double"])
    assert njit(cache=True)(namespace["double"])(21) == 42
