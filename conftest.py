"""The repository's pytest hooks for every test path (``tests/`` and the notebooks): here, not
in ``tests/conftest.py``, which pytest loads only when it collects ``tests/``."""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark ``slow`` the notebooks nbmake runs (9-70 s each: ``-m "not slow"`` ran them)."""
    for item in items:
        if item.path.suffix == ".ipynb":
            item.add_marker(pytest.mark.slow)
