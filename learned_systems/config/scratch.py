"""Scratch directories that a killed run leaves behind are removed by the next run.

Trials work in temporary directories (database copies, PostgreSQL clusters), which Python
removes on a normal exit or an exception, but not when the process is killed (``kill -9``, the
OOM killer, a closed terminal). Each scratch directory therefore records its owner, the process
id, that process's start time (so a reused pid is not mistaken for the owner) and the machine,
and holds an advisory lock on that record while it lives (released by the kernel on any exit,
``kill -9`` included, and seen from every process sharing the folder: a process in another
PID namespace, a container sharing ``/tmp``, whose pid means nothing here). The next backend
of the same kind on that machine removes every directory whose owner is gone by both counts;
symbolic links and folders of other users are never touched. Windows has no ``flock``:
there a scratch directory is refused in one line (run the tuning under WSL).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import warnings
import weakref
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]

OWNER_FILE = ".placer-owner"
#: This machine's name in owner records: a folder shared between machines (NFS, a /tmp bound
#: into containers) is swept only by the machine that made it.
_HOST = socket.gethostname().replace(" ", "_") or "-"


class LeftoverWarning(RuntimeWarning):
    """What a dead run left running in its scratch directory could not be stopped before the
    directory was removed (the CLI shows it as one ``placer: warning:`` line, as the project's
    own warnings)."""


# positions in the fields of /proc/<pid>/stat after the process name (stat's fields 3 and 22)
_STATE, _START_TIME = 0, 19


def _stat_fields(pid: int) -> list[str] | None:
    """The fields of ``/proc/<pid>/stat`` after the process name (Linux), else ``None``."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()  # the name before ")" may hold spaces


def _start_time(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (Linux ``/proc``), else ``None``."""
    fields = _stat_fields(pid)
    return None if fields is None else fields[_START_TIME]


def _alive(pid: int, started: str | None) -> bool:
    """Whether the owner still runs: it exists, is not a zombie (exited, not yet reaped) and
    started at ``started`` (when known; else a reused pid would count as the owner)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, owned by someone else
    fields = _stat_fields(pid)
    if fields is None:
        return True  # no /proc to tell more
    if fields[_STATE] == "Z":
        return False
    return started is None or fields[_START_TIME] == started


class _OwnedScratch(tempfile.TemporaryDirectory):
    """A temporary directory holding the lock on its owner record until it is cleaned up.

    A copy (of a backend or an environment holding it; a pickle sent to another process) is a
    new scratch folder of its own, empty, owned by the process that makes it: a copy of the
    folder itself removed the folder under its original and closed the original's lock
    descriptor, whose number the process may by then have given to another file."""

    _prefix: str = ""
    _parent: str | None = None
    _close_owner: Callable[[], object] | None = None  # closes the record's descriptor, once

    def __reduce_ex__(self, protocol: object) -> tuple[object, tuple[str, str | None]]:
        return make_scratch, (self._prefix, self._parent)  # (copy.deepcopy goes through it too)

    def cleanup(self) -> None:
        if self._close_owner is not None:
            self._close_owner()  # (the kernel would release it at exit anyway)
        _remove_contents_but_the_record(Path(self.name))
        super().cleanup()


def _remove_contents_but_the_record(folder: Path) -> None:
    """Remove what ``folder`` holds but its owner record, which goes last with the folder: a
    removal cut short (a second Ctrl-C, a kill) leaves a folder the next sweep still knows as
    a scratch folder whose owner is gone; removed first, it left one without a record, which
    no sweep touches. What cannot be removed here is left to the caller's removal."""
    if folder.is_dir() and not folder.is_symlink():
        for entry in folder.iterdir():
            if entry.name == OWNER_FILE:
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)


def size_text(size: float) -> str:
    """Bytes for a person, as the backends' disk checks say them: GB from 1 GB, MB below (a
    small disk read '0.0 GB ... 0.00 GB free')."""
    return f"{size / 1e9:.1f} GB" if size >= 1e9 else f"{size / 1e6:.1f} MB"


def _flock() -> ModuleType:
    """The ``fcntl`` module, or an OSError saying that this platform has no ``flock``."""
    if fcntl is None:
        raise OSError("database tuning's scratch folders need POSIX file locks (flock), which "
                      "Windows lacks: run it under WSL, Linux or macOS")
    return fcntl


def make_scratch(prefix: str, parent: str | Path | None = None) -> tempfile.TemporaryDirectory:
    """A temporary directory named ``prefix...`` (under ``parent``, default the temporary
    directory) that records this process as its owner and holds the record's lock."""
    flock = _flock()
    scratch = _OwnedScratch(prefix=prefix, dir=parent)
    scratch._prefix, scratch._parent = prefix, None if parent is None else str(parent)
    pid = os.getpid()
    fd = os.open(Path(scratch.name) / OWNER_FILE, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
    flock.flock(fd, flock.LOCK_EX)  # before the record: a readable record is a locked one
    os.write(fd, f"{pid} {_start_time(pid) or '-'} {_HOST}\n".encode())
    # closed when the folder is cleaned up or, if no one does, when the object goes (a dropped
    # copy kept its descriptor open for the process's life); never twice (the number may be
    # another file's by then)
    scratch._close_owner = weakref.finalize(scratch, os.close, fd)
    return scratch


def _record_locked(fd: int) -> bool:
    """Whether another process holds the lock of the owner record open as ``fd``."""
    flock = _flock()
    try:
        flock.flock(fd, flock.LOCK_SH | flock.LOCK_NB)
    except BlockingIOError:
        return True
    flock.flock(fd, flock.LOCK_UN)
    return False


#: Largest pid an owner record may name (Linux's pid_max is at most 2**22).
_MAX_PID = 2**22


def stale_scratch(prefix: str, parent: str | Path | None = None) -> list[Path]:
    """Directories ``prefix...`` under ``parent`` (the temporary directory) whose owner is gone;
    directories without an owner record (not ours, or still being created) are left alone."""
    stale = []
    for folder in Path(parent or tempfile.gettempdir()).glob(f"{prefix}*"):
        if folder.is_symlink() or not folder.is_dir():
            continue  # a link: its target is no scratch of ours
        try:
            fd = os.open(folder / OWNER_FILE, os.O_RDONLY | os.O_NOFOLLOW)
        except OSError:
            continue
        try:
            if os.fstat(fd).st_uid != os.geteuid():  # a record another user wrote: not ours
                continue  # (the folder itself may be lent to the server's user)
            pid_text, started, *host = os.read(fd, 256).decode().split()
            pid = int(pid_text)
            if not 0 < pid <= _MAX_PID or (host and host != [_HOST]):
                continue  # garbled, or another machine's (a shared folder): its pids mean nothing
            if _record_locked(fd) or _alive(pid, None if started == "-" else started):
                continue
        except (OSError, ValueError, UnicodeDecodeError):
            continue
        finally:
            os.close(fd)
        stale.append(folder)
    return stale


def sweep_stale(
    prefix: str,
    before_removal: Callable[[Path], None] | None = None,
    parent: str | Path | None = None,
) -> int:
    """Remove the stale scratch directories ``prefix...`` (calling ``before_removal`` on each
    first, e.g. to stop a server still running there); returns how many were removed.

    A ``before_removal`` that fails as stopping a process can (OSError, a subprocess error or
    timeout, RuntimeError: pathlib's symbolic-link loop) keeps the directory, with a
    :class:`LeftoverWarning` naming it and the cause: what runs there may still be running
    (PostgreSQL's hook stops only a live server of that very folder), and removing its files
    under it left a server nobody could stop by its folder; the next sweep tries again. Any
    other error is a bug and is raised (it was swallowed with the rest)."""
    removed = 0
    for folder in stale_scratch(prefix, parent):
        if before_removal is not None:
            try:
                before_removal(folder)
            except (OSError, subprocess.SubprocessError, RuntimeError) as error:
                warnings.warn(
                    f"could not stop what a dead run may have left running in {folder} "
                    f"({type(error).__name__}: {error}); the folder is kept and the next run "
                    "tries again: a server still running from it can be stopped by hand, and "
                    "the folder then removed",
                    LeftoverWarning,
                    stacklevel=2,
                )
                continue
        _remove_contents_but_the_record(folder)  # (the sweep can be cut short too)
        shutil.rmtree(folder, ignore_errors=True)
        removed += not folder.exists()
    return removed
