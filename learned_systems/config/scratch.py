"""Scratch directories that a killed run leaves behind are removed by the next run.

Trials work in temporary directories (database copies, PostgreSQL clusters), which Python
removes on a normal exit or an exception, but not when the process is killed (``kill -9``, the
OOM killer, a closed terminal). Each scratch directory therefore records its owner, the process
id, that process's start time (so a reused pid is not mistaken for the owner) and the machine,
and the next backend of the same kind on that machine removes every directory whose owner is
gone.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
from collections.abc import Callable
from pathlib import Path

OWNER_FILE = ".placer-owner"
#: This machine's name in owner records: a folder shared between machines (NFS, a /tmp bound
#: into containers) is swept only by the machine that made it.
_HOST = socket.gethostname().replace(" ", "_") or "-"
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


def make_scratch(prefix: str, parent: str | Path | None = None) -> tempfile.TemporaryDirectory:
    """A temporary directory named ``prefix...`` (under ``parent``, default the temporary
    directory) that records this process as its owner."""
    scratch = tempfile.TemporaryDirectory(prefix=prefix, dir=parent)
    pid = os.getpid()
    (Path(scratch.name) / OWNER_FILE).write_text(
        f"{pid} {_start_time(pid) or '-'} {_HOST}\n"
    )
    return scratch


def stale_scratch(prefix: str, parent: str | Path | None = None) -> list[Path]:
    """Directories ``prefix...`` under ``parent`` (the temporary directory) whose owner is gone;
    directories without an owner record (not ours, or still being created) are left alone."""
    stale = []
    for folder in Path(parent or tempfile.gettempdir()).glob(f"{prefix}*"):
        try:
            pid, started, *host = (folder / OWNER_FILE).read_text().split()
            if host and host != [_HOST]:
                continue  # another machine's (a shared folder): its pids mean nothing here
            owner_alive = _alive(int(pid), None if started == "-" else started)
        except (OSError, ValueError):
            continue
        if not owner_alive:
            stale.append(folder)
    return stale


def sweep_stale(
    prefix: str,
    before_removal: Callable[[Path], None] | None = None,
    parent: str | Path | None = None,
) -> int:
    """Remove the stale scratch directories ``prefix...`` (calling ``before_removal`` on each
    first, e.g. to stop a server still running there); returns how many were removed."""
    removed = 0
    for folder in stale_scratch(prefix, parent):
        if before_removal is not None:
            try:
                before_removal(folder)
            except Exception:  # noqa: BLE001 - cleaning up after someone else must never fail a run
                pass
        shutil.rmtree(folder, ignore_errors=True)
        removed += not folder.exists()
    return removed
