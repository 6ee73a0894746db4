"""The files root makes in a folder the PostgreSQL server user owns (its socket folder and its
log) are never reached through a link that user could put there. No server is started."""

from __future__ import annotations

import contextlib
import os
import stat
import threading
from pathlib import Path

import pytest

from learned_systems.config import postgres_server
from learned_systems.config.postgres_server import PostgresServer, PostgresUnavailable, _RunAs
from netlists.errors import Unavailable

#: The user the server would run as: a real switch of owner needs root; otherwise none.
AS_ROOT = os.geteuid() == 0
OTHER = _RunAs(65534, 65534) if AS_ROOT else _RunAs(None, None)


@pytest.fixture
def trial(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A trial folder holding ``data``, with the socket folder kept inside it (however long
    the test's path)."""
    monkeypatch.setattr(postgres_server, "SOCKET_PATH_MAX", 10**6)
    (tmp_path / "trial" / "data").mkdir(parents=True)
    return tmp_path / "trial"


def _server(trial: Path) -> PostgresServer:
    return PostgresServer({"postgres": "/nonexistent/postgres"}, OTHER, trial / "data")


def test_a_socket_folder_that_is_a_link_is_refused_and_its_target_not_handed_over(trial: Path, tmp_path: Path) -> None:
    """Run as root, ``socket`` was made with exist_ok and chowned through a link the server
    user had put there: the folder it named (``/etc``) went to that user."""
    victim = tmp_path / "victim"
    victim.mkdir()
    (trial / "socket").symlink_to(victim)
    with pytest.raises(PostgresUnavailable, match="a link or no folder where the server.s folder was made"):
        _server(trial).__enter__()
    found = os.stat(victim)
    assert (found.st_uid, found.st_gid) == (os.getuid(), os.getgid())


def test_a_log_that_is_a_link_or_a_hard_link_is_refused_and_its_target_untouched(trial: Path, tmp_path: Path) -> None:
    """Run as root, the log was opened to append through a link the server user had put
    there: the server's output went into the file it named."""
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    (trial / "server.log").symlink_to(victim)
    with pytest.raises(PostgresUnavailable, match="server's log is a link or no plain file"):
        _server(trial).__enter__()
    (trial / "data").mkdir(parents=True)  # (the failed start removed the trial folder)
    os.link(victim, trial / "server.log")
    with pytest.raises(PostgresUnavailable, match="server's log is a link or no plain file"):
        _server(trial).__enter__()
    assert victim.read_text() == "precious\n"


def test_the_socket_folder_and_log_are_made_private_and_handed_to_the_server_user(tmp_path: Path) -> None:
    socket_dir, log = tmp_path / "socket", tmp_path / "server.log"
    postgres_server._make_socket_dir(socket_dir, OTHER)
    postgres_server._make_socket_dir(socket_dir, OTHER)  # (one there already is taken)
    found = os.stat(socket_dir)
    assert stat.S_IMODE(found.st_mode) == 0o700
    assert found.st_uid == (OTHER.uid if AS_ROOT else os.getuid())
    for text in (b"first\n", b"second\n"):
        with postgres_server._open_log(log) as handle:
            handle.write(text)
    assert log.read_bytes() == b"first\nsecond\n"
    os.mkfifo(tmp_path / "fifo")  # (refused at once, not waited on for a reader)
    with pytest.raises(PostgresUnavailable, match="no plain file"):
        postgres_server._open_log(tmp_path / "fifo")


def _fake_postgres(tmp_path: Path, script: str) -> dict[str, str]:
    """Binaries whose ``postgres`` is a shell script (``$2`` is the data folder: ``-D DATA``)."""
    fake = tmp_path / "fake-postgres"
    fake.write_text("#!/bin/sh\n" + script)
    fake.chmod(0o755)
    return {"postgres": str(fake)}


def _start_failure(binaries: dict[str, str], trial: Path) -> str:
    """The reason a server of ``binaries`` did not start (run as this user)."""
    with pytest.raises(Unavailable) as refused:
        PostgresServer(binaries, _RunAs(None, None), trial / "data").__enter__()
    return str(refused.value)


def test_a_failed_start_reports_the_end_of_the_servers_log(trial: Path, tmp_path: Path) -> None:
    binaries = _fake_postgres(tmp_path, 'echo "FATAL:  data directory has wrong ownership"\nexit 1\n')
    assert "FATAL:  data directory has wrong ownership" in _start_failure(binaries, trial)


@pytest.mark.parametrize("link", ["ln -s", "ln"])
def test_a_log_replaced_by_a_link_is_not_read_into_the_failure(trial: Path, tmp_path: Path, link: str) -> None:
    """The server user may replace its log by a link (or a hard link) to a file only root may
    read: its lines went into the failure's reason, read by root."""
    secret = tmp_path / "secret.txt"
    secret.write_text("FATAL: root's secret\n")
    script = f'log="$(dirname "$2")/server.log"\nrm -f "$log"\n{link} "{secret}" "$log"\nexit 1\n'
    reason = _start_failure(_fake_postgres(tmp_path, script), trial)
    assert "secret" not in reason and "no log" in reason


def test_a_postmaster_pid_that_is_a_fifo_does_not_hang_the_start(trial: Path, tmp_path: Path) -> None:
    """postmaster.pid, read while waiting for the server, was opened as it was: a FIFO there
    hung the parent for ever (waiting for a writer)."""
    fifo = trial / "data" / "postmaster.pid"
    binaries = _fake_postgres(tmp_path, f'mkfifo "{fifo}"\nsleep 1\nexit 1\n')
    failed: list[str] = []

    def start() -> None:
        failed.append(_start_failure(binaries, trial))

    thread = threading.Thread(target=start, daemon=True)
    thread.start()
    thread.join(timeout=30)
    try:
        assert not thread.is_alive(), "the start hung on a FIFO postmaster.pid"
        assert failed and "server did not start" in failed[0]
    finally:
        with contextlib.suppress(OSError):  # (a reader blocked on it is let go)
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        thread.join(timeout=5)


def test_a_dead_servers_postmaster_pid_is_not_taken_as_ready(trial: Path, tmp_path: Path) -> None:
    """A killed server's postmaster.pid stays in its data folder saying "ready": a server
    started there again (to reclaim the dead one's shared memory) was taken as ready at once,
    before it had started, and stopped before it had done anything."""
    data = trial / "data"
    (data / "postmaster.pid").write_text(f"{os.getpid()}\n{data}\n0\n5432\n\n\n0 0\nready\n")
    script = ('sleep 0.3\nprintf "%s\\n\\n\\n\\n\\n\\n0 0\\nready\\n" $$ > "$2/postmaster.pid.new"\n'
              'mv "$2/postmaster.pid.new" "$2/postmaster.pid"\nexec sleep 30\n')
    with PostgresServer(_fake_postgres(tmp_path, script), _RunAs(None, None), data) as server:
        assert server._process is not None
        assert (data / "postmaster.pid").read_text().split("\n", 1)[0] == str(server._process.pid)


def test_the_shared_memory_line_of_postmaster_pid_is_read(tmp_path: Path) -> None:
    """The first segment of a fresh IPC namespace has id 0: only ids above 0 were taken as a
    segment, so a killed server's memory there was never reclaimed. Only the ``0 0``
    placeholder (and a missing or garbled line) names none."""
    pid_file = tmp_path / "postmaster.pid"
    head = ["4242", str(tmp_path), "1700000000", "5432", "/tmp", ""]
    for line, expected in [("  5432001         0", (5432001, 0)), ("  5432001    327681", (5432001, 327681)),
                           ("        0         0", None), ("  5432001", None), ("ready", None)]:  # fmt: skip
        pid_file.write_text("\n".join([*head, line, "ready   "]) + "\n")
        assert postgres_server._shared_memory_id(pid_file) == expected, line
    pid_file.write_text("\n".join(head) + "\n")  # (died before making its segment)
    assert postgres_server._shared_memory_id(pid_file) is None


def test_a_server_stops_by_its_kind_and_the_reclaiming_one_at_once_without_reclaiming(
        trial: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A throwaway server stops at once (SIGQUIT), a kept cluster's with its checkpoint
    (SIGINT), and both reclaim a killed server's memory; the server started to reclaim it keeps
    the data, stops at once and reclaims nothing itself."""
    import signal

    throwaway, kept = _server(trial), PostgresServer({}, OTHER, trial / "data", remove=False)
    assert (throwaway._stop_signal, throwaway._reclaims) == (signal.SIGQUIT, True)
    assert (kept._stop_signal, kept._reclaims) == (signal.SIGINT, True)
    started: list[PostgresServer] = []

    def enter(server: PostgresServer) -> PostgresServer:
        started.append(server)
        return server

    monkeypatch.setattr(postgres_server, "_shared_memory_id", lambda pid_file: (5432001, 0))
    monkeypatch.setattr(postgres_server, "_attached", lambda *found: 0)
    monkeypatch.setattr(PostgresServer, "__enter__", enter)
    monkeypatch.setattr(PostgresServer, "__exit__", lambda server, *exc: None)
    kept._reclaim()
    assert len(started) == 1 and started[0] is not kept
    again = started[0]
    assert (again._stop_signal, again._reclaims, again.remove, again.data_dir) == (
        signal.SIGQUIT, False, False, kept.data_dir)
