"""Evaluate and optimise macro placements: the proxy cost, placers, RL, CLI."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("placer-gym")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

from placer.numba_cache import ensure_matplotlib_config_dir, ensure_numba_cache_dir  # noqa: E402

ensure_numba_cache_dir()  # before any kernel module is imported (placer's or learned_systems')
ensure_matplotlib_config_dir()  # before matplotlib is imported (the plots')

# (first, so its exit handler runs after the libraries': see placer.interrupts._ignore_kills_in_teardown)
import placer.interrupts  # noqa: E402, F401
