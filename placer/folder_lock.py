"""One writer per output folder: a second long job into the same folder is refused at once.

Two ``placer tune`` or ``placer place --suite`` runs into one ``--out`` would both do all the
work and overwrite each other's rows (and a row could end up beside the other run's ``.plc``).
The lock is an advisory ``flock`` on a file in the folder, so the kernel releases it when its
process ends, even on ``kill -9``: a stale lock never blocks a resume. Windows has no
``flock``: there the commands that lock a folder refuse in one line (run them under WSL);
importing this module still works, so the commands that lock nothing do too.
"""

from __future__ import annotations

import errno
import os
import stat
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from types import ModuleType
from typing import IO

from netlists.errors import Unavailable

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]

LOCK_NAME = ".placer.lock"

#: The lock files this process's threads hold with ``nested=True``, each as (process id, thread
#: id, device, inode): a nested :func:`exclusive_folder` of the same thread reuses its hold. (A
#: context variable was copied into forked children, ``asyncio.to_thread`` workers, and reset
#: out of order to a hold already given up.)
_NESTED_HOLDS: set[tuple[int, int, int, int]] = set()


def _held_here(path: Path) -> bool:
    """Whether this thread of this process holds the lock file at ``path`` with ``nested=True``."""
    if not _NESTED_HOLDS:
        return False
    try:
        found = os.stat(path)
    except OSError:
        return False
    return (os.getpid(), threading.get_ident(), found.st_dev, found.st_ino) in _NESTED_HOLDS


class FolderBusy(Unavailable):
    """Another process is writing into the folder."""


def _flock() -> ModuleType:
    """The ``fcntl`` module, or an OSError saying that this platform has no ``flock``."""
    if fcntl is None:
        raise OSError("writing a runs folder needs POSIX file locks (flock), which Windows lacks: "
                      "run placer under WSL, Linux or macOS")
    return fcntl


def _busy_message(folder: Path, holder: str) -> str:
    return f"{folder} is in use by {holder or 'another process'}: wait for it to finish or use another --out"


def holder_of(folder: str | Path) -> str | None:
    """Who holds the folder's lock now (its lock file's text, e.g. ``pid 123``, or ``another
    process``), or None when no live process does (or the platform has no ``flock``, under
    which no folder is held, or the lock file is a link, which :func:`exclusive_folder` refuses);
    creates nothing."""
    path = Path(folder) / LOCK_NAME
    if fcntl is None or path.is_symlink() or not path.is_file() or _held_here(path):
        return None  # (this thread's own hold, taken with nested=True, is not another's)
    flock = fcntl
    try:
        handle = open(path, encoding="utf-8")
    except OSError:
        return None  # unreadable: exclusive_folder says why when it takes the lock
    with handle:
        try:
            flock.flock(handle, flock.LOCK_SH | flock.LOCK_NB)
        except BlockingIOError:
            return handle.read().strip() or "another process"
        flock.flock(handle, flock.LOCK_UN)
    return None


def check_not_busy(folder: str | Path) -> None:
    """Refuse at once a folder another live process holds, before a command reads the files
    it is writing (a resume's "nothing saved yet" said "remove the folder" of a live run);
    creates nothing. :func:`exclusive_folder` still takes the lock for the work itself.

    Raises:
        FolderBusy: naming the holder.
    """
    holder = holder_of(folder)
    if holder is not None:
        raise FolderBusy(_busy_message(Path(folder), holder))


@contextmanager
def exclusive_folder(folder: str | Path, *, nested: bool = False) -> Iterator[None]:
    """Hold the folder's lock for the block (the folder is created if needed; one made here
    that holds only the lock when the block ends, e.g. a run refused at once, is removed).

    With ``nested=True`` the hold is open to the same thread's own later calls: an
    ``exclusive_folder`` inside the block (e.g. ``train``'s, under a script that reads the
    folder's files first) reuses it instead of refusing, and :func:`holder_of` calls it free;
    other threads and processes are still refused. Without it, even a nested call of the same
    thread is refused.

    Raises:
        FolderBusy: another live process holds it, naming that process.
    """
    folder = Path(folder)
    path = folder / LOCK_NAME
    if _held_here(path):
        yield
        return
    handle, made = _locked_handle(folder, path)
    with handle:
        try:
            # unbuffered: a full disk's failed write left its text in the buffer, raised again
            # when the file closed; the error names the lock file (it said no path at all)
            os.ftruncate(handle.fileno(), 0)
            try:
                os.write(handle.fileno(), f"pid {os.getpid()}".encode())
            except OSError as exc:
                raise OSError(exc.errno, f"cannot write this folder's lock: {exc.strerror}", str(path)) from None
            if nested:
                held = os.fstat(handle.fileno())
                key = (os.getpid(), threading.get_ident(), held.st_dev, held.st_ino)
                _NESTED_HOLDS.add(key)
            try:
                yield
            finally:
                if nested:
                    _NESTED_HOLDS.discard(key)  # (this hold's own key only, whatever the order of ends)
        finally:
            handle.seek(0)
            handle.truncate()
            if made and [p.name for p in folder.iterdir()] == [LOCK_NAME]:
                path.unlink(missing_ok=True)  # (still locked: no one else took it meanwhile)
                with suppress(OSError):  # (gone, or another run made its lock in it meanwhile)
                    folder.rmdir()
            _flock().flock(handle, _flock().LOCK_UN)


def _locked_handle(folder: Path, path: Path) -> tuple[IO[str], bool]:
    """``path`` opened and locked (exclusive, at once), and whether the folder was made here
    (by any try: one made again after its maker removed it is ours to remove too). A holder
    ending removes a folder it made with its lock file: a lock taken on a file unlinked meanwhile
    (or a folder removed between its making and the open) is taken again on the file now there,
    so two processes never both hold the folder.

    Raises:
        FolderBusy: another live process holds it, naming that process.
    """
    flock = _flock()
    made = False
    for _ in range(_TRIES):
        made = made or not folder.exists()
        folder.mkdir(parents=True, exist_ok=True)
        try:
            handle = _open_lock(path)
        except FileNotFoundError:
            continue  # the folder was removed by its maker's end meanwhile: make it again
        try:
            flock.flock(handle, flock.LOCK_EX | flock.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip()
            handle.close()
            raise FolderBusy(_busy_message(folder, holder)) from None
        except BaseException:
            handle.close()
            raise
        try:
            same = os.fstat(handle.fileno()).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if same:
            return handle, made
        handle.close()  # locked a file its holder had just unlinked: take the one there now
    raise OSError(f"{path}: could not take this folder's lock in {_TRIES} tries (the folder is being "
                  "made and removed over and over)")


def _open_lock(path: Path) -> IO[str]:
    """The lock file at ``path`` opened for reading and writing (made if missing), refusing
    anything but a plain file: its holder empties it, so a link there (from an archive or a
    shared folder) emptied the file it pointed to. The link is not followed (``O_NOFOLLOW``)
    and the file opened is checked (``fstat``), so a link made between a check and the open
    is refused too.

    Raises:
        OSError: naming the lock file, when it is a link or not a plain file.
    """
    try:
        found = os.lstat(path)
    except FileNotFoundError:
        found = None
    if found is not None and stat.S_ISLNK(found.st_mode):
        raise OSError(_NOT_A_FILE.format(path=path, what="a link (not followed: the lock would empty "
                                                        "the file it points to)"))
    if found is not None and not stat.S_ISREG(found.st_mode):
        raise OSError(_NOT_A_FILE.format(path=path, what="not a file"))
    # O_NONBLOCK: a FIFO put there between the check and the open is refused, not waited on
    flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags, 0o666)  # (the umask applies, as open()'s did)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.EISDIR, errno.ENXIO):  # a link, folder or socket made meanwhile
            raise OSError(_NOT_A_FILE.format(path=path, what="a link or not a file")) from None
        raise
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(_NOT_A_FILE.format(path=path, what="not a file"))
        return os.fdopen(fd, "r+", encoding="utf-8")
    except BaseException:
        os.close(fd)
        raise


_NOT_A_FILE = "{path}: the lock file of this folder is {what}; remove it"

#: Tries of :func:`_locked_handle` (each lost only to another process's ending in microseconds).
_TRIES = 5
