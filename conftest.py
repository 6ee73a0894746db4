"""The repository's pytest hooks for every test path (``tests/`` and the notebooks): here, not
in ``tests/conftest.py``, which pytest loads only when it collects ``tests/``."""

from __future__ import annotations

import os

import pytest

MAX_TEST_WORKERS = 4
"""``pytest``'s ``-n auto`` (pyproject's addopts) runs one worker process per core up to this
many: each imports torch and numba (~0.5 GB), so a 64-core machine would hold 32 GB for a suite
that gains little past a few workers."""


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """The number of pytest-xdist workers ``-n auto`` starts (``-n 0`` runs in this process)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, min(cores, MAX_TEST_WORKERS))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark ``slow`` the notebooks nbmake runs (9-70 s each: ``-m "not slow"`` ran them)."""
    for item in items:
        if item.path.suffix == ".ipynb":
            item.add_marker(pytest.mark.slow)
