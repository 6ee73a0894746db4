"""A throwaway PostgreSQL server: found binaries, a cluster's server started on a Unix socket in
a private directory (``listen_addresses=''``, a free port number) with a trial's settings, run as
an unprivileged user when this process is root (``initdb`` refuses root), sent SIGQUIT by the
kernel when this process dies (:func:`_dies_with_us`), and stopped; the one line of a tool's
output that says what went wrong."""

from __future__ import annotations

import errno
import glob
import os
import pwd
import re
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import time
import warnings
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from learned_systems.config.postgres_knobs import _settings
from learned_systems.config.scratch import _flock, make_scratch
from learned_systems.errors import Unavailable
from netlists.errors import start_refusals

BINARIES = ("initdb", "pg_ctl", "postgres", "pgbench")


DEFAULT_USER = "placer-pg"


#: A user name useradd may make (Debian's NAME_REGEX, at most 32 characters), checked before
#: PLACER_PG_USER reaches it: "--help" made useradd print its help, then the lookup raised KeyError.
_USER_NAME = re.compile(r"[a-z_][a-z0-9_-]*[$]?")
_USER_NAME_MAX = 32


SCRATCH_PREFIX = "placer-pg-"


START_TIMEOUT_S = 60.0


STOP_TIMEOUT_S = 60.0


#: Longest Unix socket path used as is (sun_path holds 107 bytes on Linux, 103 on macOS).
SOCKET_PATH_MAX = 103


#: Where a socket goes when the scratch folder's path is too long for one, and its prefix.
SHORT_TMP = "/tmp"


SOCKET_PREFIX = "placer-pgs-"


class PostgresUnavailable(Unavailable):
    """The PostgreSQL server binaries cannot be found (or the server user cannot be made)."""


class MixedBinariesWarning(UserWarning):
    """No one folder holds all of PostgreSQL's binaries: those of several folders (perhaps of
    several versions) are used together."""


#: Folders besides PATH that may hold PostgreSQL's binaries: /usr/local/bin, then Debian's
#: versioned ones (newest version first).
LOCAL_BIN = "/usr/local/bin"
VERSIONED_BINS = "/usr/lib/postgresql/*/bin"


def _version_key(folder: str) -> tuple[int, ...]:
    """A versioned folder's version as numbers (``.../9.6/bin``: (9, 6)); () where it names
    none, sorted last. As text, "9.6" sorted above "15"."""
    version = Path(folder).parent.name
    return tuple(int(part) for part in version.split(".")) if re.fullmatch(r"\d+(\.\d+)*", version) else ()


def _holds_all(folder: str) -> dict[str, str] | None:
    """The binaries' paths in ``folder``, None unless it holds all of them."""
    paths = {name: os.path.join(folder, name) for name in BINARIES}
    return paths if all(os.access(path, os.X_OK) for path in paths.values()) else None


def _path_folders() -> list[str]:
    """PATH's folders in order (as absolute paths; empty entries skipped: the server's tools
    run from ``/``, where the current folder's would not be found)."""
    return [os.path.abspath(entry) for entry in os.environ.get("PATH", os.defpath).split(os.pathsep) if entry]


def find_binaries() -> dict[str, str]:
    """Paths of initdb, pg_ctl, postgres and pgbench, all from one installation: the first PATH
    folder that holds them all, else PATH's where they all lie in one folder (links followed),
    else the first of /usr/local/bin and Debian's versioned folders (newest version first)
    that holds them all. Each was looked up on its own, so one run mixed versions (16's server
    with 15's pgbench), and "9.6" sorted above "15"; a folder with only some of them ahead on
    PATH (Debian's pgbench wrapper in /usr/bin) passed over a whole one later on PATH. Where
    no folder holds them all, each is taken where found, with a :class:`MixedBinariesWarning`
    naming the folders.

    Raises:
        PostgresUnavailable: a binary is found nowhere.
    """
    for folder in _path_folders():
        if (together := _holds_all(folder)) is not None:
            return together
    on_path = {name: shutil.which(name) for name in BINARIES}
    found = {name: path for name, path in on_path.items() if path}
    if len(found) == len(BINARIES) and len({os.path.dirname(os.path.realpath(p)) for p in found.values()}) == 1:
        return found
    versioned = sorted(glob.glob(VERSIONED_BINS), key=_version_key, reverse=True)
    for folder in [LOCAL_BIN, *versioned]:
        if (together := _holds_all(folder)) is not None:
            return together
    for name in BINARIES:  # (no folder holds them all: each where it is found first)
        found.setdefault(name, next((os.path.join(d, name) for d in [LOCAL_BIN, *versioned]
                                     if os.access(os.path.join(d, name), os.X_OK)), ""))  # fmt: skip
    missing = [name for name in BINARIES if not found[name]]
    if missing:
        raise PostgresUnavailable(
            f"PostgreSQL binaries not found: {', '.join(missing)} (install postgresql-15 and "
            "postgresql-client-15, e.g. bash .ci/install-postgres.sh)"
        )
    warnings.warn(MixedBinariesWarning(
        "no one folder holds all of PostgreSQL's initdb, pg_ctl, postgres and pgbench: using "
        f"{', '.join(found.values())} (perhaps of different versions); put one version's bin "
        "folder first on PATH"), stacklevel=2)  # fmt: skip
    return found


def tool_path(name: str, package: str) -> str:
    """The path of the system program ``name`` on PATH (a server command runs it as the server
    user): a missing one read as "placer: error: test: No such file or directory".

    Raises:
        PostgresUnavailable: ``name`` is not on PATH, naming its ``package``.
    """
    found = shutil.which(name)
    if found is None:
        raise PostgresUnavailable(f"{name} not found on PATH ({os.environ.get('PATH', '')!r}): install "
                                  f"{package} or add its folder (e.g. /usr/bin) to PATH")  # fmt: skip
    return found


def server_environment() -> dict[str, str]:
    """This process's environment without libpq's and the server's own variables (``PG*``):
    ``PGOPTIONS="-c synchronous_commit=off"`` reached every measured pgbench session, so a
    'durable' trial ran without its commit flush (as did a ``PGSERVICE`` entry's options,
    ``PGTZ`` and the like); every setting a trial measures is the one it records. Under the C
    locale (``LC_ALL=C``, gettext's ``LANGUAGE`` dropped): pgbench's output is read for its
    English "tps = " and "number of failed transactions", which a build with translations
    prints in the user's language (and its figures with the locale's decimal mark)."""
    kept = {name: value for name, value in os.environ.items() if not name.startswith("PG") and name != "LANGUAGE"}
    return {**kept, "LC_ALL": "C"}


def _kill_session(process: subprocess.Popen) -> None:
    """Kill ``process`` and everything in its session, and reap it."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    process.wait()


def _check_user_name(name: str) -> None:
    """Refuse (PostgresUnavailable) a PLACER_PG_USER that is no user name useradd should make."""
    if len(name) > _USER_NAME_MAX or not _USER_NAME.fullmatch(name):
        raise PostgresUnavailable(
            f"PLACER_PG_USER={name!r} is no user name to create: expected up to {_USER_NAME_MAX} "
            "lower-case letters, digits, '_' and '-', starting with a letter or '_' (e.g. the "
            f"default {DEFAULT_USER}), or an existing user's name"
        )


def _process_limit_told(args: list[str]) -> AbstractContextManager[None]:
    """Within the block, a process ``args`` names that the system's limit on processes kept
    from starting (fork's EAGAIN) is one refusal naming the program (Unavailable); it read as
    "cannot write the output: Resource temporarily unavailable"."""
    return start_refusals(Path(args[0]).name if args else "a program",
                          "end other processes (PostgreSQL starts one per client)")


#: Root-only folders, first found first, for the lock that serialises making the server user
#: (no other user can plant a link there or hold the lock; /run/lock is world-writable).
USER_LOCK_DIRS = ("/run", "/var/run", "/etc")
USER_LOCK_NAME = "placer-pg-user.lock"


#: Where useradd is looked for when PATH lacks it (a root shell's PATH without the sbin folders).
SBIN_DIRS = ("/usr/sbin", "/sbin")


#: useradd's exit status for "user already exists" (shadow-utils).
USERADD_EXISTS = 9


#: Why a lock file cannot be made in a folder that the next folder may still take: a read-only
#: file system (/sys, a read-only /run) or one that refuses root's writes.
_LOCK_ELSEWHERE = (errno.EROFS, errno.EACCES, errno.EPERM)


@contextmanager
def _exclusive_lock(path: Path, *elsewhere: Path) -> Iterator[None]:
    """An exclusive ``flock`` on the plain file ``path`` (made if missing, never through a link)
    held for the block; other processes taking it wait until it ends. Where ``path`` cannot be
    made for its file system's sake (:data:`_LOCK_ELSEWHERE`), the first of ``elsewhere`` that
    can is taken instead.

    Raises:
        PostgresUnavailable: the path taken is a link, no plain file, or cannot be opened.
    """
    flock = _flock()  # (an OSError naming the platform where there is no flock)
    for index, candidate in enumerate((path, *elsewhere)):
        try:
            fd = os.open(candidate, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK, 0o600)
            break
        except OSError as exc:
            if exc.errno in _LOCK_ELSEWHERE and index < len(elsewhere):
                continue
            raise PostgresUnavailable(f"cannot open the lock file {candidate} ({exc.strerror}): it "
                                      "serialises making the server user") from None  # fmt: skip
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise PostgresUnavailable(f"{candidate}: the lock file is no plain file; refused")
        flock.flock(fd, flock.LOCK_EX)
        yield
    finally:
        os.close(fd)  # (releases the lock)


def _user_lock_paths() -> list[Path]:
    """Where the lock file may go, best first: in each of :data:`USER_LOCK_DIRS` that is a
    folder only root (this process's real user) may write, then in the system's temporary
    folder."""
    paths: list[Path] = []
    for folder in USER_LOCK_DIRS:
        try:
            found = os.stat(folder)
        except OSError:
            continue
        private = not found.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
        if stat.S_ISDIR(found.st_mode) and found.st_uid in (0, os.getuid()) and private:
            paths.append(Path(folder) / USER_LOCK_NAME)
    return [*paths, Path(tempfile.gettempdir()) / USER_LOCK_NAME]


def _user_creation_lock() -> AbstractContextManager[None]:
    """The lock held while the server user is looked up and made: several first runs as root
    at once each ran useradd, which made the user twice (two uids, /etc/passwd keeping one),
    and the others' initdb failed ("could not look up effective user ID 995"). A folder the
    lock file cannot be made in (read-only) gives way to the next."""
    return _exclusive_lock(*_user_lock_paths())


def _useradd(name: str) -> str:
    """useradd's path: PATH's, else /usr/sbin's or /sbin's.

    Raises:
        PostgresUnavailable: no useradd there, naming the user and the remedies.
    """
    found = shutil.which("useradd") or shutil.which("useradd", path=os.pathsep.join(SBIN_DIRS))
    if found is None:
        raise PostgresUnavailable(_no_useradd(name))
    return found


def _no_useradd(name: str) -> str:
    return (f"cannot create the unprivileged server user {name!r}: useradd not found (on PATH, "
            f"{', '.join(SBIN_DIRS)}); create the user yourself, set PLACER_PG_USER to an existing "
            "unprivileged user, or add /usr/sbin to PATH")


def _lookup_user(name: str) -> pwd.struct_passwd | None:
    """The user ``name``, None where there is none."""
    try:
        return pwd.getpwnam(name)
    except KeyError:
        return None


def _create_user(name: str) -> pwd.struct_passwd:
    """Make the system user ``name`` with useradd and look it up; one another run made first
    (useradd's "already exists", status 9) is looked up as made. Called under
    :func:`_user_creation_lock`.

    Raises:
        PostgresUnavailable: useradd is missing or fails, or the user cannot be looked up.
    """
    try:
        created = subprocess.run(
            [_useradd(name), "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", "--", name],
            capture_output=True,
            text=True,
        )
    except FileNotFoundError:  # (removed between the look-up and the start)
        raise PostgresUnavailable(_no_useradd(name)) from None
    if created.returncode not in (0, USERADD_EXISTS):
        raise PostgresUnavailable(
            f"cannot create the unprivileged server user {name!r}: {created.stderr.strip()}"
        )
    entry = _lookup_user(name)
    if entry is None:
        raise PostgresUnavailable(f"useradd made the server user {name!r}, but it cannot be looked up")
    return entry


def _checked_uid(entry: pwd.struct_passwd) -> None:
    """Refuse a user whose uid the system names as no user, or as another user while the
    user's own name now looks up to another uid (or none): a user made twice at once had two
    uids, one of which initdb could not look up. Aliases (two names of one uid, which the uid
    names as the other) pass.

    Raises:
        PostgresUnavailable: the uid's entry is missing, or another user's and the name's
            entry has changed since.
    """
    try:
        owner: str | None = pwd.getpwuid(entry.pw_uid).pw_name
    except KeyError:
        owner = None
    if owner == entry.pw_name:
        return
    if owner is not None:
        again = _lookup_user(entry.pw_name)
        if again is not None and again.pw_uid == entry.pw_uid:
            return  # (an alias: the uid's first name is another one's)
    raise PostgresUnavailable(
        f"the server user {entry.pw_name!r} has uid {entry.pw_uid}, which the system names as "
        f"{'no user' if owner is None else repr(owner)} (was the user made twice?): fix its "
        "entry in /etc/passwd, or set PLACER_PG_USER to another unprivileged user"
    )


@dataclass(frozen=True)
class _RunAs:
    """Who runs the server: the current user, or an unprivileged one when we are root."""

    uid: int | None
    gid: int | None

    @classmethod
    def resolve(cls) -> _RunAs:
        if os.geteuid() != 0:
            return cls(None, None)
        name = os.environ.get("PLACER_PG_USER") or DEFAULT_USER  # (empty: unset, as other variables)
        entry = _lookup_user(name)
        if entry is None:
            _check_user_name(name)  # (an existing user is taken as the system names it)
            with _user_creation_lock():  # (looked up again: another run may have made it)
                entry = _lookup_user(name) or _create_user(name)
        if entry.pw_uid == 0:  # (initdb refuses it: three failed defaults trials said so late)
            raise PostgresUnavailable(f"PLACER_PG_USER={name} is root, and PostgreSQL refuses to run as "
                                      "root: name an unprivileged user (default placer-pg)")  # fmt: skip
        _checked_uid(entry)  # (after: root's alias 'toor' read "names as 'root' (made twice?)")
        return cls(entry.pw_uid, entry.pw_gid)

    def _identity(self) -> dict[str, Any]:
        return {} if self.uid is None else {"user": self.uid, "group": self.gid, "extra_groups": []}

    def run(self, args: list[str], timeout: float = 300, **kwargs) -> subprocess.CompletedProcess:
        with _process_limit_told(args):
            return subprocess.run(
                args,
                capture_output=True,
                text=True,
                timeout=timeout,
                cwd="/",
                env=server_environment(),
                **self._identity(),
                **kwargs,
            )

    def run_to_end(self, args: list[str], timeout: float = 300) -> subprocess.CompletedProcess:
        """:meth:`run` for a step whose own children must not be cut off (initdb's
        single-user server): in a session of its own, so a Ctrl-C to the terminal's group does
        not reach it, and waited for when this process is interrupted (about a second), the
        interrupt passed on afterwards. An initdb killed midway orphaned its single-user
        server, which aborted once the cleanup removed its folder and left its shared memory
        behind for good. A second interrupt while waiting stops the whole session at once."""
        with self.popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                        start_new_session=True) as process:  # fmt: skip
            try:
                out, err = process.communicate(timeout=timeout)
            except subprocess.TimeoutExpired:
                _kill_session(process)
                raise
            except BaseException:  # an interrupt: let the step end, then pass it on
                try:
                    process.communicate(timeout=timeout)
                except BaseException:
                    _kill_session(process)
                raise
        return subprocess.CompletedProcess(args, process.returncode, out, err)

    def popen(self, args: list[str], **kwargs) -> subprocess.Popen:
        with _process_limit_told(args):
            return subprocess.Popen(args, cwd="/", env=server_environment(), **self._identity(), **kwargs)

    def can_enter(self, folder: Path) -> bool:
        """Whether this user can enter ``folder`` (and so every folder above it), asked of
        ``test`` run as that user (os.access under a switched euid would switch the whole
        process, every thread with it).

        Raises:
            PostgresUnavailable: ``test`` is not on PATH.
        """
        return self.run([tool_path("test", "coreutils"), "-x", str(folder)], timeout=30).returncode == 0

    def own(self, folder: Path) -> None:
        """Hand ``folder`` to the server user (where there is one), never through a link: run
        as root, a folder made in one the server user owns may have been swapped for a link by
        that user, and a chown through it handed the folder it named (``/etc``) to that user.

        Raises:
            PostgresUnavailable: ``folder`` is a link or no folder.
        """
        try:  # (the folder itself, opened without following a link, is the one handed over)
            fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        except OSError as exc:
            if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                raise PostgresUnavailable(f"{folder}: a link or no folder where the server's folder was "
                                          "made; refused") from None  # fmt: skip
            raise
        try:
            if self.uid is not None:
                assert self.gid is not None  # (resolve sets both or neither)
                os.fchown(fd, self.uid, self.gid)
        finally:
            os.close(fd)


def _make_socket_dir(path: Path, run_as: _RunAs) -> None:
    """Make the server's socket folder ``path`` (mode 0700), or take the one there, and hand it
    to the server user (:meth:`_RunAs.own`: never through a link the server user put there,
    in the folder of its own that holds it)."""
    with suppress(FileExistsError):
        os.mkdir(path, 0o700)
    run_as.own(path)


def _open_log(path: Path) -> BinaryIO:
    """The server's log at ``path`` opened to append (made if missing), never through a link:
    run as root, the folder belongs to the server user, and a link (or a hard link) it put
    there had root append the server's output to the file it named.

    Raises:
        PostgresUnavailable: ``path`` is a link, a hard link or no plain file.
    """
    refused = f"{path}: the server's log is a link or no plain file; refused"
    # (O_NONBLOCK: a FIFO put there is refused, not waited on)
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK
    try:
        fd = os.open(path, flags, 0o644)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.EISDIR, errno.ENXIO):
            raise PostgresUnavailable(refused) from None
        raise
    try:
        found = os.fstat(fd)
        if not stat.S_ISREG(found.st_mode) or found.st_nlink != 1:
            raise PostgresUnavailable(refused)
        os.set_blocking(fd, True)
        return os.fdopen(fd, "ab")
    except BaseException:
        os.close(fd)
        raise


def _read_plain(path: Path, limit: int, tail: bool = False) -> str | None:
    """At most ``limit`` bytes of the plain file at ``path`` (its last ones if ``tail``), read
    as text with bad bytes replaced; None where it is missing, unreadable, a link, a hard link
    or no plain file. Its folder belongs to the server user: a link it put there had root read
    the file it named (a secret's lines in a failure reason), and a FIFO hung the reader for
    ever (opened without waiting for a writer, then refused)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        found = os.fstat(fd)
        if not stat.S_ISREG(found.st_mode) or found.st_nlink != 1:
            return None
        if tail and found.st_size > limit:
            os.lseek(fd, found.st_size - limit, os.SEEK_SET)
        chunks: list[bytes] = []
        left = limit
        while left > 0 and (chunk := os.read(fd, left)):
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks).decode(errors="replace")
    except OSError:
        return None
    finally:
        os.close(fd)


#: How much of the server's log is read for a failure's reason (its end), and of postmaster.pid.
LOG_TAIL_BYTES = 64 * 1024
PID_FILE_BYTES = 4096


def _dies_with_us(command: list[str]) -> list[str]:
    """``command`` run so that the kernel sends it SIGQUIT (PostgreSQL's immediate shutdown) when
    this process dies, even by SIGKILL: util-linux ``setpriv --pdeathsig``, set after the switch
    to the server user (a switch would clear it). Unwrapped where setpriv is missing; then the
    next backend's sweep stops a server left behind. The signal follows the *thread* that starts
    the server, so servers are started from the thread that runs the trials."""
    setpriv = shutil.which("setpriv")
    return [setpriv, "--pdeathsig", "QUIT", *command] if setpriv else command


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


#: Below this much room in /dev/shm the server keeps its dynamic shared memory in files of its
#: data directory instead (a container's default is 64 MB).
SMALL_SHM_BYTES = 1 << 30


def _dynamic_shared_memory(shm: str = "/dev/shm") -> list[str]:
    """``-c dynamic_shared_memory_type=mmap`` where ``shm`` is small or missing: PostgreSQL's
    posix segments live there, and under a container's 64 MB every analytical trial with a
    large ``work_mem`` and parallel workers failed ("could not resize shared memory segment
    ... No space left on device"), steering the tuner away from the best region (18 % above
    the defaults with room). Where it has room, PostgreSQL's default is kept."""
    try:
        info = os.statvfs(shm)
        room = info.f_blocks * info.f_frsize
    except OSError:
        room = 0
    return ["-c", "dynamic_shared_memory_type=mmap"] if room < SMALL_SHM_BYTES else []


#: The line of ``postmaster.pid`` (from 0) naming the System V shared memory segment's key
#: and id (PostgreSQL's LOCK_FILE_LINE_SHMEM_KEY, the file's 7th line).
PID_FILE_SHMEM_LINE = 6


#: Linux's table of System V shared memory segments, and how long a killed server's processes
#: get to detach from its segment (each exits once it sees the postmaster gone).
SYSV_SHM_TABLE = "/proc/sysvipc/shm"
DETACH_TIMEOUT_S = 10.0


def _shared_memory_id(pid_file: Path) -> tuple[int, int] | None:
    """The key and id of the System V segment ``pid_file`` (a ``postmaster.pid``) names
    (PostgreSQL writes them as ``"%9lu %9lu"``), None where it names none: no such line (a
    server that died before making it) or the ``0 0`` placeholder. An id of 0 alone is a
    segment: the first one of a fresh IPC namespace (a container's) has it, and only ids above
    0 were reclaimed."""
    lines = (_read_plain(pid_file, PID_FILE_BYTES) or "").splitlines()
    try:
        key, shmid = (int(field) for field in lines[PID_FILE_SHMEM_LINE].split())
    except (IndexError, ValueError):
        return None
    return None if (key, shmid) == (0, 0) or key < 0 or shmid < 0 else (key, shmid)


def _attached(key: int, shmid: int, table: str = SYSV_SHM_TABLE) -> int | None:
    """How many processes are attached to the segment ``shmid`` of ``key`` (Linux's
    :data:`SYSV_SHM_TABLE`), None where that segment is gone; 0 where the table cannot be read
    (no ``/proc``: PostgreSQL's own check of the segment decides)."""
    try:
        with open(table) as rows:
            header = rows.readline().split()
            at = {name: header.index(name) for name in ("key", "shmid", "nattch")}
            for row in rows:
                fields = row.split()
                # (a key is a C int: the table prints it signed, postmaster.pid unsigned)
                same_key = (int(fields[at["key"]]) - key) % 2**32 == 0
                if int(fields[at["shmid"]]) == shmid and same_key:
                    return int(fields[at["nattch"]])
    except (OSError, ValueError, IndexError):
        return 0
    return None


def serves_from(pid_file: Path) -> bool:
    """Whether the process ``pid_file`` (a ``postmaster.pid``) names is alive and runs in that
    file's data directory (a postmaster works there), read from ``/proc``; False when it
    cannot be told (no such process, no ``/proc``, an unreadable file, a link or no plain
    file)."""
    text = _read_plain(pid_file, PID_FILE_BYTES)
    if text is None:
        return False
    try:
        pid = int(text.split("\n", 1)[0])
        return pid > 0 and Path(f"/proc/{pid}/cwd").resolve() == pid_file.parent.resolve()
    except (OSError, ValueError):
        return False


class PostgresServer:
    """A throwaway server over a data directory; ``with`` starts it and always stops and removes
    it (the data directory's parent is deleted on exit).

    ``stop_signal``: how it is stopped (default: at once, SIGQUIT, for a throwaway copy; with
    a shutdown checkpoint, SIGINT, for a kept cluster, so its copies start without crash
    recovery). ``reclaims``: whether a server killed by a signal gets its memory reclaimed
    (:meth:`_reclaim`; not by the server that reclaims it)."""

    def __init__(
        self,
        binaries: Mapping[str, str],
        run_as: _RunAs,
        data_dir: Path,
        config: Mapping[str, Any] | None = None,
        remove: bool = True,
        *,
        stop_signal: signal.Signals | None = None,
        reclaims: bool = True,
    ) -> None:
        self.binaries = binaries
        self.run_as = run_as
        self.data_dir = data_dir
        self.socket_dir = data_dir.parent / "socket"
        self.port = _free_port()
        self.config = dict(config or {})
        self.remove = remove
        self.log = data_dir.parent / "server.log"
        self._process: subprocess.Popen | None = None
        self._stop_signal = (signal.SIGQUIT if remove else signal.SIGINT) if stop_signal is None else stop_signal
        self._reclaims = reclaims
        self._log_file: BinaryIO | None = None
        self._short_socket_dir: tempfile.TemporaryDirectory | None = None

    def __enter__(self) -> PostgresServer:
        try:
            socket_path = self.socket_dir / f".s.PGSQL.{self.port}.lock"
            if len(os.fsencode(socket_path)) > SOCKET_PATH_MAX or "," in str(self.socket_dir):
                # a Unix socket's path must fit sun_path (107 bytes on Linux, 103 on macOS):
                # under a long TMPDIR the server could not listen at all, so use a short
                # private folder (owned like other scratch, so a killed run's is swept); the
                # same for a comma, which unix_socket_directories reads as a list separator
                self._short_socket_dir = make_scratch(SOCKET_PREFIX, SHORT_TMP)
                self.socket_dir = Path(self._short_socket_dir.name)
            _make_socket_dir(self.socket_dir, self.run_as)
        except BaseException:
            self._cleanup()
            raise
        command = [
            self.binaries["postgres"],
            "-D",
            str(self.data_dir),
            "-c",
            f"port={self.port}",
            "-c",
            "listen_addresses=",
            "-c",
            f"unix_socket_directories={self.socket_dir}",
            *_dynamic_shared_memory(),
            *_settings(self.config),
        ]
        try:
            self._log_file = _open_log(self.log)
            self._process = self.run_as.popen(
                _dies_with_us(command),
                stdin=subprocess.DEVNULL,
                stdout=self._log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # a Ctrl-C reaches us, and we stop the server
            )
            self._wait_until_ready(self._process, START_TIMEOUT_S)
        except BaseException:  # failed or interrupted while starting: stop what may be up
            self._cleanup()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self._cleanup()

    def _wait_until_ready(self, process: subprocess.Popen, timeout_s: float) -> None:
        """Until the postmaster (``process``) marks itself ready in postmaster.pid (what
        ``pg_ctl -w`` does), in a file naming its pid: a dead server's file, still there,
        said "ready" before this one had started."""
        deadline = time.monotonic() + timeout_s
        pid_file = self.data_dir / "postmaster.pid"
        while True:
            if process.poll() is not None:
                raise Unavailable(f"server did not start: {self._log_tail() or 'no log'}")
            lines = (_read_plain(pid_file, PID_FILE_BYTES) or "").splitlines()
            if len(lines) >= 8 and lines[0].strip() == str(process.pid) and lines[7].strip() == "ready":
                return
            if time.monotonic() > deadline:
                raise Unavailable(
                    f"server did not start within {timeout_s:g} s: {self._log_tail() or 'no log'}"
                )
            time.sleep(0.02)

    def _log_tail(self) -> str:
        """What the end of the server's log says went wrong ("" where it cannot be read as
        a plain file of its own: see :func:`_read_plain`)."""
        return error_summary(_read_plain(self.log, LOG_TAIL_BYTES, tail=True) or "")

    def _cleanup(self) -> None:
        """Stop the server (immediate shutdown for a throwaway copy; a fast one, with its
        shutdown checkpoint, for a kept cluster so its copies start without crash recovery);
        one that died by a signal has its shared memory reclaimed (:meth:`_reclaim`)."""
        try:
            process = self._process
            if process is not None and process.poll() is None:
                process.send_signal(self._stop_signal)
                try:
                    process.wait(timeout=STOP_TIMEOUT_S)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            if process is not None and process.returncode < 0 and self._reclaims:
                self._reclaim()
        finally:
            if self._log_file is not None:
                self._log_file.close()
                self._log_file = None
            if self.remove:
                shutil.rmtree(self.data_dir.parent, ignore_errors=True)
            if self._short_socket_dir is not None:
                self._short_socket_dir.cleanup()
                self._short_socket_dir = None

    def _reclaim(self) -> None:
        """Reclaim the shared memory of a postmaster that died by a signal (``kill -9``, the
        OOM killer), which only its own exit removes: its System V segment (``ipcs -m``) and
        its dynamic segments (``/dev/shm/PostgreSQL.*``) outlived the removed cluster for good.
        Once every process of the dead server has detached from its segment, a server is
        started on the same data directory and stopped at once: PostgreSQL itself removes a
        dead server's segments of its data directory that no process uses (and its dynamic
        segments with them), and its immediate shutdown removes its own. Best effort: where
        that server does not start, the memory stays, as before."""
        found = _shared_memory_id(self.data_dir / "postmaster.pid")
        if found is None:
            return
        deadline = time.monotonic() + DETACH_TIMEOUT_S
        while (attached := _attached(*found)) and time.monotonic() < deadline:
            time.sleep(0.05)
        if attached is None or attached > 0:
            return  # already gone, or still in use (PostgreSQL would refuse to start)
        again = PostgresServer(self.binaries, self.run_as, self.data_dir, remove=False,
                               stop_signal=signal.SIGQUIT, reclaims=False)  # fmt: skip
        with suppress(Exception), again:
            pass

    def pgbench(self, args: list[str], timeout: float = 600) -> subprocess.CompletedProcess:
        return self.run_as.run(
            [
                self.binaries["pgbench"],
                "-h",
                str(self.socket_dir),
                "-p",
                str(self.port),
                *args,
                "postgres",
            ],
            timeout=timeout,
        )


_SEVERE = re.compile(r"\b(?:PANIC|FATAL|ERROR|HINT|DETAIL|error|No space left)\b")


def error_summary(text: str, lines: int = 3) -> str:
    """One line of what a PostgreSQL tool's output says went wrong: its last ``lines`` lines
    naming an error (PANIC, FATAL, ERROR with their HINT / DETAIL), else its last lines. The
    plain tail could be NOTICE chatter, the real cause cut off above it ("disk full" lost
    behind "... does not exist, skipping")."""
    found = [line.strip() for line in text.strip().splitlines() if line.strip()]
    severe = [line for line in found if _SEVERE.search(line)]
    return " | ".join((severe or found)[-lines:])[-500:]
