"""Fixtures for cost tests: the literal oracle of PROXY_COST.md."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location("cost_oracle", Path(__file__).with_name("oracle.py"))
assert _spec and _spec.loader
_oracle = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_oracle)


@pytest.fixture(scope="session")
def oracle():  # type: ignore[no-untyped-def]
    return _oracle.oracle_cost
