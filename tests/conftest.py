"""Shared fixtures: the benchmark suite location, small hand-built netlists and SQLite files
of other tools."""

from __future__ import annotations

import gzip
import os
import signal
import sqlite3
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
import typer
from hypothesis import settings
from hypothesis.configuration import set_hypothesis_home_dir

from netlists.builder import NetlistBuilder
from netlists.model import Canvas, Netlist, NodeType, Placement

# Property tests draw the same examples on every run, so CI never turns red by the luck of the
# draw; `pytest --hypothesis-profile=explore` draws fresh ones (200 where a test sets no count of
# its own) to hunt for new bugs.
settings.register_profile("deterministic", derandomize=True)
settings.register_profile("explore", derandomize=False, max_examples=200)
settings.load_profile("deterministic")
# Hypothesis keeps its examples and caches in ./.hypothesis by default: the tests wrote into the
# checkout they ran from. One folder per user in the temporary directory instead (explore's
# failures still replay from it on the next run; a name shared by every user was another's,
# unwritable, on a machine several use).
set_hypothesis_home_dir(os.path.join(tempfile.gettempdir(), f"placer-gym-hypothesis-{getattr(os, 'getuid', lambda: 0)()}"))


def pytest_configure(config: pytest.Config) -> None:
    """Ctrl-C as Python sets it up in a terminal: a process started with SIGINT ignored (``cmd &``
    in a non-interactive shell, some CI runners) never gets Python's handler, and the tests of
    the interrupt handling would test that instead."""
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark ``shared`` every test that reads the shared benchmark suite (``-m "not shared"``)."""
    for item in items:
        if "benchmarks_dir" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.shared)


REPO = Path(__file__).resolve().parents[1]
BENCHMARKS = Path(os.environ.get("PLACER_BENCHMARKS", REPO.parent / "shared" / "benchmarks"))


THREAD_JOIN_TIMEOUT_S = 600.0
"""How long a test waits for a thread it started: a deadlock fails the test with its name, well
inside pyproject's per-test ``timeout``, instead of hanging the run."""


def run_in_threads(work: Callable[[int], Any], keys: Sequence[int]) -> dict[int, Any]:
    """``work(key)`` for every key, each in a thread of its own, all at once; their results by
    key. A thread's exception is raised here (the first key's, the others added as notes): left
    in its thread it was only a warning and the test passed."""
    results: dict[int, Any] = {}
    errors: dict[int, BaseException] = {}

    def one(key: int) -> None:
        try:
            results[key] = work(key)
        except BaseException as error:  # noqa: BLE001 - raised again in the test's thread
            errors[key] = error

    # daemon threads: a hung one fails the test and does not keep the process from exiting
    threads = {key: threading.Thread(target=one, args=(key,), daemon=True) for key in keys}
    for thread in threads.values():
        thread.start()
    deadline = time.monotonic() + THREAD_JOIN_TIMEOUT_S  # (one wait for all: not one per thread)
    for thread in threads.values():
        thread.join(timeout=max(deadline - time.monotonic(), 0.0))
    hung = [key for key, thread in threads.items() if thread.is_alive()]
    assert not hung, f"the threads of keys {hung} still ran after {THREAD_JOIN_TIMEOUT_S:g} s"
    if errors:
        first, *others = [key for key in keys if key in errors]
        for key in others:
            errors[first].add_note(f"the thread of key {key} also raised {errors[key]!r}")
        raise errors[first]
    return results


@pytest.fixture(scope="session")
def in_threads() -> Callable[[Callable[[int], Any], Sequence[int]], dict[int, Any]]:
    """:func:`run_in_threads`, for the tests that compare threaded runs with lone ones."""
    return run_in_threads


@pytest.fixture(scope="session")
def benchmarks_dir() -> Path:
    """The shared benchmark suite; tests using it skip with a clear message when absent."""
    if not (BENCHMARKS / "reference_costs.json").exists():
        pytest.skip(
            f"shared benchmark suite not found at {BENCHMARKS} "
            "(put ../shared beside the checkout or set PLACER_BENCHMARKS)"
        )
    return BENCHMARKS


MacroSpec = tuple[str, float, float, float, float]  # name, w, h, x, y


def build_netlist(
    *,
    ports: Sequence[tuple[str, float, float]] = (),
    hard: Sequence[tuple[str, float, float, float, float, Sequence[tuple[float, float]]]] = (),
    soft: Sequence[MacroSpec] = (),
    nets: Sequence[tuple[str, Sequence[str], float]] = (),
    canvas: Canvas | None = None,
) -> tuple[Netlist, Placement]:
    """A netlist from terse specs.

    ``hard`` items are ``(name, w, h, x, y, pin_offsets)``; pins are named ``name/P<k>``.
    Soft macros get one pin ``name/P`` at the centre. ``nets`` are ``(driver, sinks, weight)``.
    """
    b = NetlistBuilder("tiny")
    for name, x, y in ports:
        b.add_node(name, NodeType.PORT, x=x, y=y)
    for name, w, h, x, y, pins in hard:
        b.add_node(name, NodeType.HARD_MACRO, width=w, height=h, x=x, y=y)
        for k, (dx, dy) in enumerate(pins):
            b.add_node(f"{name}/P{k}", NodeType.HARD_PIN, macro_name=name, dx=dx, dy=dy)
    for name, w, h, x, y in soft:
        b.add_node(name, NodeType.SOFT_MACRO, width=w, height=h, x=x, y=y)
        b.add_node(f"{name}/P", NodeType.SOFT_PIN, macro_name=name)
    idx = {n: i for i, n in enumerate(b.names)}
    for driver, sinks, weight in nets:
        b.weight[idx[driver]] = weight
        b.add_net_by_name(idx[driver], list(sinks))
    nl = b.build(canvas)
    return nl, nl.initial_placement()


@pytest.fixture
def tiny_builder() -> Callable[..., tuple[Netlist, Placement]]:
    return build_netlist


def write_sqlite(path: Path, *statements: str) -> Path:
    """A SQLite file at ``path`` made by ``statements`` (e.g. another tool's tables)."""
    with closing(sqlite3.connect(path)) as conn:
        for statement in statements:
            conn.execute(statement)
        conn.commit()
    return path


@pytest.fixture
def sqlite_file() -> Callable[..., Path]:
    """:func:`write_sqlite`, for tests of stores that must refuse a foreign database."""
    return write_sqlite


def contrast_ratio(colour: Any, background: Any = "white") -> float:
    """WCAG's contrast ratio of two colours (any form matplotlib reads)."""
    from matplotlib.colors import to_rgb

    def luminance(c: Any) -> float:
        r, g, b = (v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4 for v in to_rgb(c))
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    high, low = sorted((luminance(colour), luminance(background)), reverse=True)
    return (high + 0.05) / (low + 0.05)


@pytest.fixture
def contrast() -> Callable[..., float]:
    """:func:`contrast_ratio`, for tests of colours that must stand out (the pictures' and
    charts' tests alike)."""
    return contrast_ratio


def write_gzip_bomb(path: Path, expanded: int) -> Path:
    """``expanded`` bytes of zeros gzipped into ``path`` in 1 MiB steps (50 MB make ~50 kB),
    never holding the expanded data."""
    zeros = bytes(1024**2)
    with gzip.GzipFile(path, "wb", mtime=0) as out:
        for start in range(0, expanded, len(zeros)):
            out.write(zeros[: min(len(zeros), expanded - start)])
    return path


@pytest.fixture
def gzip_bomb() -> Callable[[Path, int], Path]:
    """:func:`write_gzip_bomb`, for tests of the cap on decompressed size."""
    return write_gzip_bomb


def write_generated_design(folder: Path, seed: int, name: str | None = None, n_soft: int = 6) -> Path:
    """A tiny generated design (3 hard, ``n_soft`` soft macros, 4 ports) written as
    ``folder/netlist.pb.txt`` + ``initial.plc``, named ``name`` (default: the folder's); its
    netlist file."""
    from netlists.formats.circuit_training import write_netlist
    from netlists.formats.plc import write_plc
    from netlists.generate import generate

    netlist, placement = generate(3, n_soft, 4, seed=seed, name=name or folder.name)
    folder.mkdir(parents=True)
    write_netlist(netlist, folder / "netlist.pb.txt")
    write_plc(folder / "initial.plc", netlist, placement)
    return folder / "netlist.pb.txt"


@pytest.fixture
def design_writer() -> Callable[..., Path]:
    """:func:`write_generated_design`, for suites of design folders made in a test."""
    return write_generated_design


@pytest.fixture
def cli_app() -> Callable[[Callable[[typer.Typer], None]], typer.Typer]:
    """An app holding the commands a ``register`` function adds, each a named sub-command
    (as under ``placer``)."""

    def make(register: Callable[[typer.Typer], None]) -> typer.Typer:
        app = typer.Typer()
        register(app)

        @app.callback()
        def _root() -> None:  # keeps the command a named sub-command
            pass

        return app

    return make


def run_at_threads(source: str, threads: int) -> str:
    """The stdout of ``python -c source`` with every math library (BLAS, OpenMP, MKL) and torch
    on ``threads`` threads: a probe for results that must be the same bits at any thread
    count. (torch is told by ``torch.set_num_threads`` too when the probe imports it: OpenMP's
    variable alone is read when torch loads.)"""
    import os
    import subprocess
    import sys

    names = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
    env = {**os.environ, **dict.fromkeys(names, str(threads)), "PLACER_PROBE_THREADS": str(threads)}
    done = subprocess.run([sys.executable, "-c", source], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.fixture
def thread_probe() -> Callable[[str, int], str]:
    """:func:`run_at_threads`: a probe's output with the math libraries on N threads."""
    return run_at_threads
