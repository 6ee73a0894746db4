"""SIGTERM treated like Ctrl-C inside :func:`placer.interrupts.sigterm_as_interrupt`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from placer.interrupts import sigterm_as_interrupt


def test_sigterm_raises_keyboard_interrupt_inside_and_the_old_handler_returns() -> None:
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(KeyboardInterrupt), sigterm_as_interrupt():
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(1.0)  # the handler runs between bytecodes: at once, or during this
        pytest.fail("SIGTERM did not interrupt")
    assert signal.getsignal(signal.SIGTERM) is before


def test_an_interrupt_dropped_inside_a_c_callback_is_delivered_again() -> None:
    """A SIGTERM landing in llvmlite's cache callback during numba's first compile raised
    KeyboardInterrupt inside the callback, where Python drops it ('Exception ignored'): the
    tune run went on to its end. It is raised again by the next Python code."""
    import ctypes

    def landed_in_the_callback() -> None:
        raise KeyboardInterrupt  # as the SIGTERM handler does wherever the signal lands

    callback = ctypes.CFUNCTYPE(None)(landed_in_the_callback)
    hook = sys.unraisablehook
    with pytest.raises(KeyboardInterrupt), sigterm_as_interrupt():
        callback()
        time.sleep(1.0)  # Python code after the callback: where it is raised
        pytest.fail("the interrupt was lost")
    assert sys.unraisablehook is hook  # put back: outside the block Python's own handling


def test_a_dropped_interrupt_is_delivered_again_without_pthread_kill(monkeypatch) -> None:
    """Windows has no signal.pthread_kill: the resend raised AttributeError in its timer thread
    and the interrupt was lost again. There the signal is raised in that thread instead, and
    Python's handler runs in the main thread all the same."""
    import ctypes

    monkeypatch.delattr(signal, "pthread_kill")

    def landed_in_the_callback() -> None:
        raise KeyboardInterrupt

    callback = ctypes.CFUNCTYPE(None)(landed_in_the_callback)
    with pytest.raises(KeyboardInterrupt), sigterm_as_interrupt():
        callback()
        time.sleep(1.0)
        pytest.fail("the interrupt was lost")


def test_a_dropped_interrupt_is_delivered_again_where_sigint_is_ignored() -> None:
    """A job a script starts with ``&`` ignores SIGINT: the interrupt was sent again as SIGINT,
    which did nothing, and the kill was lost without a word. SIGTERM's handler is ours."""
    import ctypes

    def landed_in_the_callback() -> None:
        raise KeyboardInterrupt

    callback = ctypes.CFUNCTYPE(None)(landed_in_the_callback)
    before = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with pytest.raises(KeyboardInterrupt), sigterm_as_interrupt():
            callback()
            time.sleep(1.0)
            pytest.fail("the interrupt was lost")
    finally:
        signal.signal(signal.SIGINT, before)


def _dropping_callback():  # type: ignore[no-untyped-def]
    """A C callback in which a signal's KeyboardInterrupt lands (and Python drops it)."""
    import ctypes

    def landed_in_the_callback() -> None:
        raise KeyboardInterrupt

    return ctypes.CFUNCTYPE(None)(landed_in_the_callback)


def test_a_dropped_interrupt_breaks_a_blocking_call_promptly() -> None:
    """The resend only marked the signal pending: a sleep, a lock or a child's wait it met ran
    to its end first (5 s here; a batch waiting on its pool, until the next result)."""
    callback = _dropping_callback()
    started = time.perf_counter()
    with pytest.raises(KeyboardInterrupt), sigterm_as_interrupt():
        callback()
        time.sleep(5.0)
        pytest.fail("the interrupt was lost")
    assert time.perf_counter() - started < 2.0


def test_a_dropped_interrupt_owed_at_the_block_end_goes_to_the_handler_put_back(monkeypatch) -> None:
    """One dropped just before the block ended was sent after it, at some moment, into the
    caller's code; cancelled instead, an outer block (the CLI's around each command) never got
    it. It is delivered at the end, to the handler in place then, once.

    The resend's timer fires 10 ms after the drop: a loaded machine that paused the test that
    long between the callback and the block's end had it land inside the block, whose
    KeyboardInterrupt stopped the whole pytest run. Here each timer that fires waits for its
    block to end before sending (a late timer as a paused test meets it), and the test waits
    for every timer to finish instead of sleeping 0.3 s."""
    import threading

    from placer.interrupts import _LostInterruptResender

    closed: dict[int, threading.Event] = {}  # by resender: its block has ended
    resenders: list[_LostInterruptResender] = []
    close, send = _LostInterruptResender.close, _LostInterruptResender._send

    def close_and_say_so(self: _LostInterruptResender) -> bool:
        resenders.append(self)
        owed = close(self)
        closed.setdefault(id(self), threading.Event()).set()  # (setdefault: atomic)
        return owed

    def send_once_closed(self: _LostInterruptResender) -> None:
        assert closed.setdefault(id(self), threading.Event()).wait(30), "the block never ended"
        send(self)

    monkeypatch.setattr(_LostInterruptResender, "close", close_and_say_so)
    monkeypatch.setattr(_LostInterruptResender, "_send", send_once_closed)
    callback = _dropping_callback()
    received: list[int] = []
    before = signal.signal(signal.SIGTERM, lambda signum, frame: received.append(signum))
    try:
        with sigterm_as_interrupt():
            callback()  # the block ends at once, within the resend's delay
        assert received == [signal.SIGTERM]
        for timer in resenders[-1]._timers:  # a timer that fired anyway has sent by now
            timer.join(30)
        assert received == [signal.SIGTERM]  # not again later
    finally:
        signal.signal(signal.SIGTERM, before)
    with pytest.raises(KeyboardInterrupt), sigterm_as_interrupt():
        with sigterm_as_interrupt():
            callback()
        time.sleep(1.0)
        pytest.fail("the outer block did not get the interrupt")


def test_an_error_caused_by_a_ctrl_c_is_recognised() -> None:
    from placer.interrupts import caused_by_interrupt

    try:
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt as interrupt:
            raise SystemError("returned a result with an exception set") from interrupt
    except SystemError as error:
        assert caused_by_interrupt(error)
    assert not caused_by_interrupt(ValueError("unrelated"))


def test_deferred_interrupts_arrive_when_the_block_ends() -> None:
    from placer.interrupts import interrupts_deferred

    finished = []
    before = signal.getsignal(signal.SIGINT)
    with pytest.raises(KeyboardInterrupt):
        with sigterm_as_interrupt(), interrupts_deferred():
            os.kill(os.getpid(), signal.SIGINT)
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(0.2)  # (the handlers have run by now: they only hold the signals)
            finished.append(True)
    assert finished == [True]
    assert signal.getsignal(signal.SIGINT) is before


def test_a_closed_terminal_interrupts_like_ctrl_c_unless_hangups_are_ignored() -> None:
    """SIGHUP (a closed terminal or ssh session) ended a tuning run at once: no clean-up, its
    server's files left in the temporary folder. Under nohup (SIGHUP ignored) it keeps running.
    (The test starts from the default handling: a test run itself under nohup inherits SIGHUP
    ignored, and failed here.)"""
    before = signal.signal(signal.SIGHUP, signal.SIG_DFL)
    try:
        with pytest.raises(KeyboardInterrupt), sigterm_as_interrupt():
            os.kill(os.getpid(), signal.SIGHUP)
            time.sleep(1.0)
            pytest.fail("SIGHUP did not interrupt")
        assert signal.getsignal(signal.SIGHUP) is signal.SIG_DFL
    finally:
        signal.signal(signal.SIGHUP, before)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        with sigterm_as_interrupt():
            os.kill(os.getpid(), signal.SIGHUP)
            time.sleep(0.2)  # ignored: nothing happens
        assert signal.getsignal(signal.SIGHUP) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGHUP, before)


def test_handlers_kept_puts_back_what_a_block_replaced() -> None:
    """ray.init makes SIGTERM a sys.exit; the batch's own handler must come back after it."""
    import signal

    from placer.interrupts import handlers_kept, sigterm_as_interrupt

    with sigterm_as_interrupt():
        ours = signal.getsignal(signal.SIGTERM)
        with handlers_kept():
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.SIG_IGN)
        assert signal.getsignal(signal.SIGTERM) is ours
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_first_interrupt_expires_every_deadline_and_a_second_raises() -> None:
    """A Ctrl-C of a single-design `placer place` lost the whole search: a first one now ends
    the search as at its budget's end (its best placement kept), a second stops at once."""
    from placer.algorithms.base import Deadline
    from placer.interrupts import stop_gracefully, stop_requested

    before = signal.getsignal(signal.SIGINT)
    deadline = Deadline(3600.0)
    with stop_gracefully() as stop:
        assert not deadline.expired()
        signal.raise_signal(signal.SIGINT)
        assert stop_requested() and deadline.expired() and deadline.remaining() == 0.0
        with pytest.raises(KeyboardInterrupt):
            signal.raise_signal(signal.SIGINT)
    assert stop.stopped and not stop_requested() and not deadline.expired()  # cleared after
    assert signal.getsignal(signal.SIGINT) is before


@pytest.mark.parametrize("entry", ["from placer.launch import main; main()",
                                   "import runpy; runpy.run_module('placer.cli', run_name='__main__')"])
def test_a_kill_while_the_interpreter_shuts_down_keeps_the_commands_status_and_output(entry: str) -> None:
    """A kill in the ~0.4 s of shutdown after a finished batch (pool and atexit clean-up) got
    Python's default handling: exit 143, and the buffered summary on stdout was lost; the
    console script and ``python -m placer.cli`` (which placement_quality.py runs) alike."""
    script = (
        "import placer  # first, as the console script imports it: libraries' clean-up comes after\n"
        "import atexit, sys, time\n"
        "atexit.register(lambda: (sys.stderr.write('SHUTDOWN\\n'), sys.stderr.flush(), time.sleep(30)))\n"
        "sys.argv = ['placer', 'methods']\n"
        f"{entry}\n"
    )
    process = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stderr is not None and process.stderr.readline() == "SHUTDOWN\n"  # the command is done
        process.send_signal(signal.SIGTERM)
        out, _ = process.communicate(timeout=20)
    finally:
        process.kill()
    assert process.returncode == 0  # the command's own status, not 143 (-15 here)
    assert "refine" in out  # its output, flushed


@pytest.mark.parametrize("entry", ["from placer.launch import main; main()",
                                   "import runpy; runpy.run_module('placer.cli', run_name='__main__')"])
def test_a_kill_while_the_modules_are_torn_down_keeps_the_commands_status(entry: str) -> None:
    """Python puts back the default handling of the signals it handles before it tears down the
    modules (torch's and numba's ~0.2 s): a kill there ended a finished command with 143."""
    script = (
        "import os, signal, sys, time\n"
        "class SlowTeardown:\n"
        "    def __del__(self):\n"
        "        os.kill(os.getpid(), signal.SIGTERM)\n"
        "        time.sleep(0.2)\n"
        "keep = SlowTeardown()  # a module global: deleted while the modules are torn down\n"
        "sys.argv = ['placer', 'methods']\n"
        f"{entry}\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, (done.returncode, done.stderr)  # not -15 (143 in a shell)
    assert "refine" in done.stdout


def test_the_cli_called_in_process_leaves_the_callers_kill_handling_alone(monkeypatch) -> None:
    """cli.main() installed the exit-at-once handler in its caller (a test, a notebook), which a
    later kill then ended with the command's stale status and no clean-up."""
    from placer import cli

    before = signal.getsignal(signal.SIGTERM)
    monkeypatch.setattr(sys, "argv", ["placer", "methods"])
    with pytest.raises(SystemExit):
        cli.main()
    assert signal.getsignal(signal.SIGTERM) is before


def test_the_projects_own_warnings_are_one_line(monkeypatch, capsys) -> None:
    """The results store's warning (a read-only folder's unread WAL) came out as Python's
    file:line report, twice; only the netlist layer's were one line."""
    import warnings

    from placer import cli
    from placer.results import ResultsWarning

    monkeypatch.setattr(warnings, "showwarning", warnings.showwarning)  # the CLI replaces it
    cli._one_line_warnings()
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.warn(ResultsWarning("the latest runs may be missing"), stacklevel=1)
    assert capsys.readouterr().err == "placer: warning: the latest runs may be missing\n"



def test_an_ignored_sigint_stays_ignored_while_a_search_stops_gracefully() -> None:
    """Started with & from a script (SIGINT ignored), a batch ran on through a SIGINT while a
    one-design run stopped early on it: the graceful stop left an ignored SIGINT alone only
    for SIGHUP."""
    from placer.interrupts import stop_gracefully, stop_requested

    before = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with stop_gracefully() as stop:
            assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)
            assert not stop_requested()
        assert not stop.stopped and signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, before)


def test_a_dropped_ctrl_c_resent_is_not_passed_on_to_the_caller_as_a_kill() -> None:
    """A Ctrl-C dropped in a C callback is resent as SIGTERM; with pass_kills_on (run_batch) it
    was then recorded as a kill and passed on: the caller's program ended with 143 where a
    Ctrl-C should have left it an interrupted batch. A real kill still is passed on."""
    import ctypes

    def ctrl_c_in_the_callback() -> None:
        raise KeyboardInterrupt  # Python's own SIGINT handler, landing there

    callback = ctypes.CFUNCTYPE(None)(ctrl_c_in_the_callback)
    calls: list[int] = []
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: calls.append(signum))
    try:
        with pytest.raises(KeyboardInterrupt), sigterm_as_interrupt(pass_kills_on=True):
            callback()
            time.sleep(1.0)
            pytest.fail("the interrupt was lost")
        assert calls == []
        with pytest.raises(KeyboardInterrupt), sigterm_as_interrupt(pass_kills_on=True):
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(1.0)
        assert calls == [signal.SIGTERM]
    finally:
        signal.signal(signal.SIGTERM, previous)
