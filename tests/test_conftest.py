"""The shared fixtures' own behaviour (tests/conftest.py)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

import pytest

InThreads = Callable[[Callable[[int], Any], Sequence[int]], dict[int, Any]]


def test_in_threads_returns_each_keys_result_from_a_thread_of_its_own(in_threads: InThreads) -> None:
    main = threading.get_ident()
    results = in_threads(lambda key: (key * key, threading.get_ident() != main), (1, 2, 3))
    assert results == {1: (1, True), 2: (4, True), 3: (9, True)}


def test_in_threads_raises_a_threads_exception_in_the_test(in_threads: InThreads) -> None:
    """A raising thread was only pytest's PytestUnhandledThreadExceptionWarning: the test passed.
    The first failing key's exception is raised, the others named in its notes."""

    def work(key: int) -> int:
        if key:
            raise ValueError(f"key {key}")
        return key

    with pytest.raises(ValueError, match="key 1") as raised:
        in_threads(work, (0, 1, 2))
    assert raised.value.__notes__ == ["the thread of key 2 also raised ValueError('key 2')"]


def test_in_threads_fails_hung_threads_after_one_wait_and_leaves_them_as_daemons(
    in_threads: InThreads, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two hung threads waited the join timeout each (twice the time meant), and a hung thread
    that was not a daemon kept ``pytest -n 0`` from exiting after the test had failed.

    Eight hung threads: one wait is 0.4 s, one per thread 3.2 s, and the bound of 1.6 s sits
    between them (two threads against 0.75 s left a loaded machine 0.35 s for starting and
    joining them, and the bug's 0.8 s only 0.05 s above the bound)."""
    import time

    timeout, hung_keys = 0.4, tuple(range(1, 9))
    monkeypatch.setitem(in_threads.__globals__, "THREAD_JOIN_TIMEOUT_S", timeout)
    release = threading.Event()
    hung: list[threading.Thread] = []

    def work(key: int) -> int:
        if key:
            hung.append(threading.current_thread())
            release.wait(30)
        return key

    started = time.monotonic()
    try:
        with pytest.raises(AssertionError, match=rf"the threads of keys \[{', '.join(map(str, hung_keys))}\] still ran"):
            in_threads(work, (0, *hung_keys))
        elapsed = time.monotonic() - started
        assert elapsed < len(hung_keys) / 2 * timeout, elapsed  # one wait of 0.4 s, not one per hung thread
        while len(hung) < len(hung_keys) and time.monotonic() - started < 30:  # (all begun, even
            time.sleep(0.01)  # on a machine too loaded to start eight threads in 0.4 s)
        assert len(hung) == len(hung_keys) and all(t.daemon and t.is_alive() for t in hung)
    finally:
        release.set()
