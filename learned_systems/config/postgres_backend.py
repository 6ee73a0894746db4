"""PostgreSQL as a tunable system: a throwaway server per trial, measured with ``pgbench``.

The backend ``initdb``s a template cluster into a temporary directory and loads it with
``pgbench -i`` once; every trial copies the template, starts ``postgres`` on a Unix socket in a
private directory (``listen_addresses=''``, a free port number) with the trial's knobs as ``-c``
settings, runs ``pgbench`` once unmeasured (``warmup_s``) and then ``repeats`` measured times,
then stops the server and removes everything, also on error. ``initdb`` refuses to run as root, so when started as root every server command runs as
an unprivileged system user (``PLACER_PG_USER``, default ``placer-pg``; created with ``useradd``
when missing). A server that does not start or a failing ``pgbench`` makes a failed trial.
A killed run leaves nothing running: each server gets SIGQUIT from the kernel when its parent
dies (:func:`_dies_with_us`), and the next backend removes the dead run's directories
(:mod:`learned_systems.config.scratch`), stopping any server still found there first.
"""

from __future__ import annotations

import glob
import math
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from learned_systems.config.factory import THROUGHPUT_UNITS
from learned_systems.config.knobs import Knob, KnobError, KnobSpace
from learned_systems.config.scratch import make_scratch, sweep_stale
from learned_systems.config.trial import TrialResult, mean_and_spread
from learned_systems.validation import positive_seconds, whole_number

BINARIES = ("initdb", "pg_ctl", "postgres", "pgbench")
#: pgbench's built-in scripts by workload name; "analytical" runs :data:`ANALYTICAL_QUERIES`.
POSTGRES_WORKLOADS = {"tpcb": [], "select-only": ["-S"], "simple-update": ["-N"], "analytical": []}

#: The analytical mix over pgbench's own tables (each a pgbench custom script, equal weights):
#: a full sort, a distinct count, a self hash join and a grouped aggregate, the query shapes whose
#: speed depends on sort / hash memory, parallel workers and JIT rather than on commit latency.
ANALYTICAL_QUERIES = {
    # the last ten rows of the whole sorted table, at any scale (pgbench: 100,000 accounts per
    # unit of scale; 999990 fitted scale 10 only, and returned nothing below it)
    "sort": "SELECT aid FROM pgbench_accounts ORDER BY filler, abalance OFFSET {last_ten} LIMIT 10;",
    "distinct": "SELECT count(*) FROM (SELECT DISTINCT abalance, bid, aid % 1000 FROM pgbench_accounts) s;",
    "join": (
        "SELECT count(*), sum(a.abalance + b.abalance) FROM pgbench_accounts a "
        "JOIN pgbench_accounts b ON b.aid = a.aid + 1;"
    ),
    "aggregate": (
        "SELECT bid, count(*), sum(abalance), avg(abalance) FROM pgbench_accounts GROUP BY bid;"
    ),
}
DEFAULT_USER = "placer-pg"
SCRATCH_PREFIX = "placer-pg-"
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 60.0
#: Longest Unix socket path used as is (sun_path holds 107 bytes on Linux, 103 on macOS).
SOCKET_PATH_MAX = 103
#: Where a socket goes when the scratch folder's path is too long for one, and its prefix.
SHORT_TMP = "/tmp"
SOCKET_PREFIX = "placer-pgs-"


class PostgresUnavailable(RuntimeError):
    """The PostgreSQL server binaries cannot be found (or the server user cannot be made)."""


def find_binaries() -> dict[str, str]:
    """Paths of initdb, pg_ctl, postgres and pgbench: PATH first, then Debian's versioned dirs."""
    found: dict[str, str] = {}
    versioned = sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    for name in BINARIES:
        path = shutil.which(name) or next(
            (
                os.path.join(d, name)
                for d in ["/usr/local/bin", *versioned]
                if os.access(os.path.join(d, name), os.X_OK)
            ),
            None,
        )
        if path:
            found[name] = path
    missing = [name for name in BINARIES if name not in found]
    if missing:
        raise PostgresUnavailable(
            f"PostgreSQL binaries not found: {', '.join(missing)} (install postgresql-15 and "
            "postgresql-client-15, e.g. bash .ci/install-postgres.sh)"
        )
    return found


def server_environment() -> dict[str, str]:
    """This process's environment without libpq's and the server's own variables (``PG*``):
    ``PGOPTIONS="-c synchronous_commit=off"`` reached every measured pgbench session, so a
    'durable' trial ran without its commit flush (as did a ``PGSERVICE`` entry's options,
    ``PGTZ`` and the like); every setting a trial measures is the one it records."""
    return {name: value for name, value in os.environ.items() if not name.startswith("PG")}


def _kill_session(process: subprocess.Popen) -> None:
    """Kill ``process`` and everything in its session, and reap it."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    process.wait()


@dataclass(frozen=True)
class _RunAs:
    """Who runs the server: the current user, or an unprivileged one when we are root."""

    uid: int | None
    gid: int | None

    @classmethod
    def resolve(cls) -> _RunAs:
        if os.geteuid() != 0:
            return cls(None, None)
        name = os.environ.get("PLACER_PG_USER", DEFAULT_USER)
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            created = subprocess.run(
                ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
                capture_output=True,
                text=True,
            )
            if created.returncode != 0:
                raise PostgresUnavailable(
                    f"cannot create the unprivileged server user {name!r}: {created.stderr.strip()}"
                ) from None
            entry = pwd.getpwnam(name)
        if entry.pw_uid == 0:  # (initdb refuses it: three failed defaults trials said so late)
            raise PostgresUnavailable(f"PLACER_PG_USER={name} is root, and PostgreSQL refuses to run as "
                                      "root: name an unprivileged user (default placer-pg)")  # fmt: skip
        return cls(entry.pw_uid, entry.pw_gid)

    def _identity(self) -> dict[str, Any]:
        return {} if self.uid is None else {"user": self.uid, "group": self.gid, "extra_groups": []}

    def run(self, args: list[str], timeout: float = 300, **kwargs) -> subprocess.CompletedProcess:
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
        return subprocess.Popen(args, cwd="/", env=server_environment(), **self._identity(), **kwargs)

    def can_enter(self, folder: Path) -> bool:
        """Whether this user can enter ``folder`` (and so every folder above it)."""
        return self.run([shutil.which("test") or "test", "-x", str(folder)], timeout=30).returncode == 0

    def own(self, path: Path) -> None:
        if self.uid is not None:
            os.chown(path, self.uid, self.gid)


def window_seed(seed: int, window: int) -> int:
    """pgbench's random seed for measurement window ``window`` (0: the warm-up) of a trial of
    ``seed``: each window draws its own accounts."""
    return (int(seed) * 1000 + int(window)) % 2**63


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


#: Memory limits at the top of the control-group trees (v2, v1): a container's own group.
CGROUP_LIMITS = ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes")
#: Which groups this process is in, and where the trees are mounted (Linux).
PROC_CGROUP = "/proc/self/cgroup"
PROC_MOUNTINFO = "/proc/self/mountinfo"


def _cgroup_mounts() -> list[tuple[str, str, Path]]:
    """``(kind, root, mount point)`` of each memory control-group tree mounted here: kind
    ``"v2"`` or ``"memory"`` (v1), root the group the mount shows at its top (``/docker/ID``
    in a container without its own cgroup namespace, else ``/``)."""
    try:
        lines = Path(PROC_MOUNTINFO).read_text().splitlines()
    except OSError:
        return []
    mounts = []
    for line in lines:
        before, _, after = line.partition(" - ")
        fields, tail = before.split(), after.split()
        if len(fields) < 5 or len(tail) < 3:
            continue
        root, point = _unescaped(fields[3]), Path(_unescaped(fields[4]))
        if tail[0] == "cgroup2":
            mounts.append(("v2", root, point))
        elif tail[0] == "cgroup" and "memory" in tail[2].split(","):
            mounts.append(("memory", root, point))
    return mounts


def _unescaped(field: str) -> str:
    """A mountinfo path field as the path: the kernel writes a space as ``\\040``, a
    backslash as ``\\134`` (octal escapes)."""
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m[1], 8)), field)


def _cgroup_limit_files() -> list[Path]:
    """Memory-limit files that bind this process: the trees' tops (:data:`CGROUP_LIMITS`),
    and the group ``/proc/self/cgroup`` names with each group above it that the mounts show,
    in the v2 tree (``memory.max``) and the v1 memory tree (``memory.limit_in_bytes``): a
    Slurm job or a systemd unit limits a group below the top, where the tops read no limit."""
    files = [Path(path) for path in CGROUP_LIMITS]
    try:
        lines = Path(PROC_CGROUP).read_text().splitlines()
    except OSError:
        return files
    mounts = _cgroup_mounts()
    for line in lines:
        fields = line.split(":", 2)
        if len(fields) != 3:
            continue
        kind = "v2" if fields[1] == "" else "memory" if "memory" in fields[1].split(",") else None
        name = "memory.max" if kind == "v2" else "memory.limit_in_bytes"
        for mount_kind, root, point in mounts:
            group = fields[2]
            if mount_kind != kind or not (group == root or group.startswith(root.rstrip("/") + "/")):
                continue  # (a group outside what the mount shows)
            parts = [part for part in group[len(root):].split("/") if part]
            if ".." not in parts:
                files += [point.joinpath(*parts[:k], name) for k in range(len(parts), 0, -1)]
    return files


def _total_memory_mb() -> int:
    """The memory this process may use, in MB: the machine's, or the lowest limit of a control
    group it is in when lower (a container's, a job's: a quarter of the host's RAM can be more
    than a whole container has)."""
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    for path in _cgroup_limit_files():
        try:
            text = path.read_text().strip()
        except OSError:
            continue
        if text.isdigit() and 0 < int(text) < total:  # "max", or v1's near-2**63: no limit
            total = int(text)
    return int(total // 2**20)


def postgres_space(allow_unsafe: bool = False) -> KnobSpace:
    """PostgreSQL knobs (memory sizes in MB). Durability settings are part of the space but keep
    the commit flush unless ``allow_unsafe``: ``fsync`` and ``full_page_writes`` stay ``on``,
    ``synchronous_commit`` is ``on`` or ``local`` (the same local flush without standbys). The
    rule of thumb is shared_buffers = a quarter of RAM."""
    memory = _total_memory_mb()
    knobs = (
        # the top never below PostgreSQL's own 128 MB default, which the defaults trial sets
        # (a container under 256 MB put it outside the space: the run stopped on it)
        Knob("shared_buffers", 128, low=16, high=max(memory // 2, 128), log=True, help="MB"),
        Knob("work_mem", 4, low=1, high=1024, log=True, help="MB per sort/hash"),
        # 0 is PostgreSQL's own default, -1: shared_buffers / 32 up to 16 MB (a fixed 4 MB
        # default kept it at 4 MB whatever shared_buffers the rule of thumb or a trial set)
        Knob("wal_buffers", 0, low=1, high=256, log=True, zero_allowed=True,
             help="MB (0 = automatic: shared_buffers / 32, at most 16 MB)"),
        Knob("checkpoint_timeout", 300, low=30, high=3600, log=True, help="seconds"),
        Knob("max_wal_size", 1024, low=64, high=16384, log=True, help="MB"),
        Knob("effective_io_concurrency", 1, low=0, high=512, help="concurrent I/O requests"),
        Knob("random_page_cost", 4.0, choices=(1.1, 1.5, 2.0, 3.0, 4.0), help="planner cost"),
        # log-scaled: useful delays are around half a flush (tens to hundreds of microseconds);
        # on a linear 0-10000 scale nine samples in ten would be >= 1 ms
        Knob(
            "commit_delay",
            0,
            low=1,
            high=10_000,
            log=True,
            zero_allowed=True,
            help="microseconds (group commit; 0 = off)",
        ),
        Knob(
            "commit_siblings", 5, low=0, high=16, help="open transactions needed for commit_delay"
        ),
        Knob(
            "wal_compression",
            "off",
            choices=("off", "pglz", "lz4", "zstd"),
            help="compress full-page images in the WAL (fewer bytes per commit flush)",
        ),
        Knob(
            "wal_sync_method",
            "fdatasync",
            choices=("fdatasync", "fsync", "open_datasync", "open_sync"),
            help="how the WAL is forced to disk (every method is durable)",
        ),
        Knob("max_parallel_workers_per_gather", 2, low=0, high=4, help="parallel query workers"),
        Knob("jit", "on", choices=("on", "off"), help="LLVM JIT compilation of costly queries"),
        Knob("fsync", "on", choices=("on", "off"), unsafe=("off",),
             help="force writes to disk (off: not durable, only with allow_unsafe)"),
        Knob("synchronous_commit", "on", choices=("on", "local", "off"), unsafe=("off",),
             help="wait for the WAL flush at commit (off: not durable, only with allow_unsafe)"),
        Knob("full_page_writes", "on", choices=("on", "off"), unsafe=("off",),
             help="whole pages into the WAL after a checkpoint (off: torn pages after a crash)"),
    )
    return KnobSpace.build(
        "postgres", knobs, allow_unsafe, {"shared_buffers": max(memory // 4, 16)}
    )


def server_settings(config: Mapping[str, Any]) -> dict[str, str]:
    """A validated configuration as PostgreSQL settings with their units (``wal_buffers`` 0:
    automatic, -1 to the server), as ``postgresql.conf`` or ``-c`` takes them."""
    units = {
        "shared_buffers": "MB",
        "work_mem": "MB",
        "wal_buffers": "MB",
        "max_wal_size": "MB",
        "checkpoint_timeout": "s",
    }
    return {
        name: "-1" if name == "wal_buffers" and value == 0 else f"{value}{units.get(name, '')}"
        for name, value in config.items()
    }


def _settings(config: Mapping[str, Any]) -> list[str]:
    """``-c name=value`` arguments of the server for ``config``."""
    args = []
    for name, value in server_settings(config).items():
        args += ["-c", f"{name}={value}"]
    return args


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


def serves_from(pid_file: Path) -> bool:
    """Whether the process ``pid_file`` (a ``postmaster.pid``) names is alive and runs in that
    file's data directory (a postmaster works there), read from ``/proc``; False when it
    cannot be told (no such process, no ``/proc``, an unreadable file)."""
    try:
        pid = int(pid_file.read_text().split("\n", 1)[0])
        return pid > 0 and Path(f"/proc/{pid}/cwd").resolve() == pid_file.parent.resolve()
    except (OSError, ValueError):
        return False


class PostgresServer:
    """A throwaway server over a data directory; ``with`` starts it and always stops and removes
    it (the data directory's parent is deleted on exit)."""

    def __init__(
        self,
        binaries: Mapping[str, str],
        run_as: _RunAs,
        data_dir: Path,
        config: Mapping[str, Any] | None = None,
        remove: bool = True,
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
        self._log_file = None
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
            self.socket_dir.mkdir(exist_ok=True)
            self.run_as.own(self.socket_dir)
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
            self._log_file = open(self.log, "ab")  # noqa: SIM115 - closed in _cleanup
            self._process = self.run_as.popen(
                _dies_with_us(command),
                stdin=subprocess.DEVNULL,
                stdout=self._log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # a Ctrl-C reaches us, and we stop the server
            )
            self._wait_until_ready(START_TIMEOUT_S)
        except BaseException:  # failed or interrupted while starting: stop what may be up
            self._cleanup()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self._cleanup()

    def _wait_until_ready(self, timeout_s: float) -> None:
        """Until the postmaster marks itself ready in postmaster.pid (what ``pg_ctl -w`` does)."""
        deadline = time.monotonic() + timeout_s
        pid_file = self.data_dir / "postmaster.pid"
        while True:
            if self._process.poll() is not None:
                raise RuntimeError(f"server did not start: {self._log_tail() or 'no log'}")
            try:
                lines = pid_file.read_text().splitlines()
            except OSError:
                lines = []
            if len(lines) >= 8 and lines[7].strip() == "ready":
                return
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"server did not start within {timeout_s:g} s: {self._log_tail() or 'no log'}"
                )
            time.sleep(0.02)

    def _log_tail(self) -> str:
        try:
            return error_summary(self.log.read_text(errors="replace"))
        except OSError:
            return ""

    def _cleanup(self) -> None:
        """Stop the server (immediate shutdown for a throwaway copy; a fast one, with its
        shutdown checkpoint, for a kept cluster so its copies start without crash recovery)."""
        try:
            process = self._process
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGQUIT if self.remove else signal.SIGINT)
                try:
                    process.wait(timeout=STOP_TIMEOUT_S)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        finally:
            if self._log_file is not None:
                self._log_file.close()
                self._log_file = None
            if self.remove:
                shutil.rmtree(self.data_dir.parent, ignore_errors=True)
            if self._short_socket_dir is not None:
                self._short_socket_dir.cleanup()
                self._short_socket_dir = None

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


def parse_tps(output: str) -> float:
    """The tps figure pgbench prints (excluding connection time); a run that counts failed
    transactions (serialisation or deadlock failures, which pgbench 15 reports and leaves out
    of its tps, exiting 0) raises: its figure measures fewer transactions than it ran."""
    failed = re.search(r"number of failed transactions: (\d+)", output)
    if failed and int(failed.group(1)) > 0:
        raise RuntimeError(f"pgbench counted {failed.group(1)} failed transactions")
    match = re.search(r"tps = ([0-9.]+) \((?:without|excluding)", output) or re.search(
        r"tps = ([0-9.]+)", output
    )
    if not match:
        raise RuntimeError(f"pgbench printed no tps: {output.strip()[-300:]}")
    return float(match.group(1))


#: Disk a cluster takes per unit of pgbench scale, and besides it (catalogs, WAL segments), with
#: room for the WAL a trial writes: measured, a template and one trial copy took 139 MB at
#: scale 1 and 633 MB at scale 10 (about 27 MB per unit and 42 MB besides, each cluster).
BYTES_PER_SCALE = 32_000_000
BYTES_PER_CLUSTER = 64_000_000


class PostgresBackend:
    """Runs pgbench ``workload`` trials ("tpcb", "select-only", "simple-update", "analytical")
    at ``scale`` with ``clients`` connections: per trial an unmeasured ``warmup_s`` window,
    then ``repeats`` measured windows of ``duration_s`` (whole seconds, as pgbench takes)."""

    system = "postgres"
    _closed = False  # close() sets it (a class default: pickles made before it load)

    def __init__(
        self,
        workload: str = "tpcb",
        scale: int | None = None,
        duration_s: float = 2.0,
        repeats: int = 3,
        allow_unsafe: bool = False,
        seed: int = 0,
        clients: int = 4,
        warmup_s: int = 1,
    ) -> None:
        if workload not in POSTGRES_WORKLOADS:
            raise ValueError(
                f"unknown postgres workload {workload!r}: expected one of {list(POSTGRES_WORKLOADS)}"
            )
        duration_s = positive_seconds("duration_s", duration_s)
        repeats = whole_number("repeats", repeats, 1)
        if scale is not None:
            whole_number("scale (0: the default 10)", scale, 0)
        whole_number("clients", clients, 1)
        whole_number("seed", seed, 0)  # (pgbench took -1 as 2**64 - 1)
        self.warmup_s = whole_number("warmup_s", warmup_s, 0)
        self.workload = workload
        self.scale = int(scale or 10)
        # pgbench -T takes whole seconds: halves round up (round() took 2.5 to 2, 3.5 to 4)
        self.duration_s = max(int(math.floor(duration_s + 0.5)), 1)
        self.repeats = int(repeats)
        self.seed = int(seed)
        self.clients = int(clients)
        self.space = postgres_space(allow_unsafe)
        self.binaries = find_binaries()
        self.run_as = _RunAs.resolve()
        sweep_stale(SCRATCH_PREFIX, self._stop_leftover_servers)
        sweep_stale(SOCKET_PREFIX, parent=SHORT_TMP)
        self._root = self._make_root()  # removed with the backend
        root = Path(self._root.name)
        cluster = BYTES_PER_CLUSTER + self.scale * BYTES_PER_SCALE
        needed = 2 * cluster  # the template and one trial copy
        free = shutil.disk_usage(root).free
        if needed > free:
            self._root.cleanup()
            raise ValueError(
                f"pgbench scale {self.scale} needs about {needed / 1e9:.2f} GB of disk (a "
                f"{cluster / 1e9:.2f} GB cluster and a copy per trial), "
                f"but {root.parent} has {free / 1e9:.2f} GB free"
            )
        self._template: Path | None = None

    def _stop_leftover_servers(self, root: Path) -> None:
        """Immediate stop of any server still running in a dead run's directory ``root``: only
        where the pid its ``postmaster.pid`` names is a live postmaster of that very directory
        (after an OOM kill or a reboot the file outlives its server, and its pid may be anyone
        else's by now: ``pg_ctl`` would signal that process)."""
        for pid_file in root.glob("*/data/postmaster.pid"):
            # not through a link planted in the folder: a cluster elsewhere is no leftover
            inside = pid_file.resolve().is_relative_to(root.resolve()) and not pid_file.parent.is_symlink()
            if inside and serves_from(pid_file):
                self.run_as.run(
                    [self.binaries["pg_ctl"], "-D", str(pid_file.parent), "-m", "immediate", "stop"],
                    timeout=STOP_TIMEOUT_S,
                )

    def __getstate__(self) -> dict[str, Any]:
        """A copy (or a pickle sent to another process) gets a scratch folder and a template
        cluster of its own (see :meth:`__setstate__`): it shared the original's, which the
        first of them to close removed under the other."""
        state = self.__dict__.copy()
        state["_root"] = state["_template"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._root = self._make_root()

    def _make_root(self) -> tempfile.TemporaryDirectory:
        """This backend's scratch folder, which the server user can enter."""
        scratch = make_scratch(SCRATCH_PREFIX)
        root = Path(scratch.name)
        root.chmod(0o755)
        if self.run_as.uid is not None and not self.run_as.can_enter(root):
            scratch.cleanup()
            raise ValueError(
                f"the server user cannot enter {root.parent} (a folder on its path is private, "
                "such as pytest's or a home folder): set TMPDIR to a folder every user can "
                "enter, e.g. /tmp"
            )
        return scratch

    def close(self) -> None:
        """Remove this backend's scratch folder (template cluster, trial copies); safe twice.
        A closed backend measures nothing."""
        self._closed = True
        self._root.cleanup()

    def _refuse_if_closed(self) -> None:
        if self._closed:
            raise RuntimeError("this PostgreSQL backend is closed (its scratch files are gone): make a new one")

    def template(self) -> Path:
        """initdb + pgbench -i once; trials copy this cluster."""
        self._refuse_if_closed()  # (it returned the removed cluster's path, or failed in the removed root)
        if self._template is not None:
            return self._template
        work = Path(tempfile.mkdtemp(prefix="template-", dir=self._root.name))
        try:
            data = self._build_template(work)
        except BaseException:
            shutil.rmtree(work, ignore_errors=True)  # a failed build leaves no 38 MB cluster
            raise
        self._template = data
        return data

    def _build_template(self, work: Path) -> Path:
        """initdb into ``work/data`` and load pgbench's tables at the backend's scale."""
        self.run_as.own(work)
        data = work / "data"
        created = self.run_as.run_to_end(
            [
                self.binaries["initdb"],
                "-D",
                str(data),
                "-A",
                "trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--no-sync",
            ]
        )
        if created.returncode != 0:
            raise RuntimeError(f"initdb failed: {error_summary(created.stderr)}")
        with PostgresServer(self.binaries, self.run_as, data, remove=False) as server:
            loaded = server.pgbench(  # ~16 MB per scale unit: large scales load for a while
                ["-U", "postgres", "-i", "-q", "-s", str(self.scale)],
                timeout=max(600.0, 2.0 * self.scale),
            )
            if loaded.returncode != 0:
                raise RuntimeError(f"pgbench -i failed: {error_summary(loaded.stderr)}")
        return data

    def _workload_args(self) -> list[str]:
        """pgbench arguments of the workload: a built-in script, or the analytical custom scripts
        (written once into the backend's directory, readable by the server user)."""
        if self.workload != "analytical":
            return POSTGRES_WORKLOADS[self.workload]
        args = ["-n"]  # no vacuum of the built-in tables first
        for name, query in ANALYTICAL_QUERIES.items():
            script = Path(self._root.name) / f"analytical-{name}.sql"
            if not script.exists():
                script.write_text(query.format(last_ten=max(self.scale * 100_000 - 10, 0)) + "\n")
                script.chmod(0o644)
            args += ["-f", f"{script}@1"]
        return args

    def _copy(self) -> Path:
        template = self.template()  # first: a failed build leaves no empty trial folder
        trial = Path(tempfile.mkdtemp(prefix="trial-", dir=self._root.name))
        self.run_as.own(trial)
        copied = self.run_as.run(["cp", "-a", str(template), str(trial / "data")])
        if copied.returncode != 0:
            shutil.rmtree(trial, ignore_errors=True)
            raise RuntimeError(f"copying the template failed: {copied.stderr.strip()}")
        return trial / "data"

    def run_trial(self, config: Mapping[str, Any]) -> TrialResult:
        """Measure one configuration (bad knob values raise ``KnobError``; failures are results)."""
        return self.measure(self.space.validate(config))

    def measure(self, settings: Mapping[str, Any], space: str | None = None) -> TrialResult:
        """Measure server ``settings`` exactly as given, without the space's checks.

        :meth:`run_trial` passes a validated configuration; diagnostics call this directly to
        time a setting outside the space, named by ``space`` in the result (memory sizes in MB
        and ``checkpoint_timeout`` in seconds, as in the space; other values go to the server
        verbatim).
        """
        self._refuse_if_closed()  # (a failed trial with a copy error named no cause)
        full = dict(settings)
        if space is None:  # named by the space only when it holds these settings
            try:
                self.space.validate(full)
                space = self.space.name
            except KnobError:
                space = "outside"
        started = time.perf_counter()
        samples = []
        try:
            data = self._copy()
            with PostgresServer(self.binaries, self.run_as, data, full) as server:
                workload_args = self._workload_args()
                # an unmeasured warm-up first (a cold buffer pool made the first window ~15%
                # slower), then the measured windows
                windows = [self.warmup_s] * (self.warmup_s > 0) + [self.duration_s] * self.repeats
                for window, seconds in enumerate(windows):
                    ran = server.pgbench(
                        [
                            "-U",
                            "postgres",
                            *workload_args,
                            "-c",
                            str(self.clients),
                            "-j",
                            str(min(self.clients, 2)),
                            "-T",
                            str(seconds),
                            "--random-seed",  # one per window: the same seed replayed
                            # the warm-up's accounts in every window, cached, the repeats alike
                            str(window_seed(self.seed, window)),
                        ],
                        timeout=seconds * 10 + 60,
                    )
                    if ran.returncode != 0:
                        raise RuntimeError(f"pgbench failed: {error_summary(ran.stderr)}")
                    if window or not self.warmup_s:
                        samples.append(parse_tps(ran.stdout))
        except Exception as error:
            return TrialResult.failed(
                self.system,
                self.workload,
                space,
                full,
                error,
                time.perf_counter() - started,
            )
        mean, spread = mean_and_spread(samples)
        return TrialResult(
            self.system,
            self.workload,
            space,
            full,
            ok=True,
            throughput_mean=mean,
            throughput_std=spread,
            throughputs=samples,
            unit=THROUGHPUT_UNITS["postgres"],
            wall_seconds=time.perf_counter() - started,
        )
