"""Fixtures of the placement-method tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from placer.algorithms.legalize import clear_legalize_memory


@pytest.fixture(autouse=True)
def _fresh_legaliser() -> Iterator[None]:
    """Each test legalises anew: the legaliser remembers its last few calls, and a result
    remembered from another test would answer one that patches the legaliser's internals."""
    clear_legalize_memory()
    yield
    clear_legalize_memory()
