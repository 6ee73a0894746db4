"""Running a batch's tasks on a Ray cluster (``placer place --ray``): the address checked up
front, one CPU per task, each record handed back as it comes, a run past its deadline
cancelled; loaded only when asked for."""

from __future__ import annotations

import logging
import os
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from netlists.errors import InputError, Unavailable
from placer.batch_pool import past_deadline_text
from placer.batch_task import OnRecord, PlacementTask, error_text, failed_record, run_task
from placer.interrupts import handlers_kept
from placer.results import RunRecord


def ray_endpoint(address: str) -> tuple[str, int] | None:
    """The ``(host, port)`` a Ray address connects to ("host:port", "ray://host:port"); None
    for the addresses Ray resolves itself ("auto", "local") or that carry no port."""
    rest = address.removeprefix("ray://")
    host, sep, port = rest.rpartition(":")
    if not sep or not host or not port.isdigit():
        return None
    return host.strip("[]"), int(port)


def check_ray_address(address: str) -> None:
    """Refuse a ``--ray`` address Ray cannot take ("bogus": Ray's own "Invalid address
    format"), Ray not installed, or an address nothing answers on, before any work; for
    ``local``, a Ray too old or a ``RAY_TMPDIR`` too long for its sockets.

    Raises:
        ValueError: the address is no Ray address.
        RuntimeError: Ray is missing, or nothing answers at the address.
    """
    if address not in ("auto", "local") and not address.startswith("ray://") and ray_endpoint(address) is None:
        raise InputError(f"--ray {address}: expected local, auto, HOST:PORT or ray://HOST[:PORT]")
    try:
        import ray
    except ImportError:
        raise Unavailable(
            "Ray is not installed: pip install 'placer-gym[ray]' (or drop --ray to run locally)"
        ) from None
    if address == "local":
        _check_ray_version(ray.__version__)
        _local_temp_base()  # (refused here, before any work, where Ray's sockets would not fit)
    if not ray.is_initialized():  # a session of this process is used as it is
        _check_reachable(address)


#: The first Ray whose local instances ask for a token by default (``--ray local`` starts one
#: that listens on every network interface).
RAY_LOCAL_MIN = (2, 59)


def _check_ray_version(version: str) -> None:
    """Refuse ``--ray local`` with a Ray older than :data:`RAY_LOCAL_MIN` (an installed Ray is
    not necessarily the one the ``ray`` extra asks for). A version not read as numbers passes.

    Raises:
        Unavailable: naming the version found and the pip command.
    """
    found = re.match(r"(\d+)\.(\d+)", version)
    if found is not None and (int(found[1]), int(found[2])) < RAY_LOCAL_MIN:
        least = ".".join(map(str, RAY_LOCAL_MIN))
        raise Unavailable(
            f"--ray local needs Ray {least} or later (its local instances ask for a token), found "
            f"Ray {version}: pip install 'placer-gym[ray]' (or 'ray>={least}')"
        )


def _check_reachable(address: str, timeout_s: float = 10.0) -> None:
    """Refuse a Ray address nothing answers on within ``timeout_s`` (``ray.init`` waits on an
    unreachable one for many minutes without a word).

    Raises:
        RuntimeError: naming the address and what to do.
    """
    import socket

    named = address
    if address == "auto" and os.environ.get("RAY_ADDRESS"):  # what ray.init then connects to
        named = os.environ["RAY_ADDRESS"]
    endpoint = ray_endpoint(named)
    if endpoint is None:
        return
    try:
        socket.create_connection(endpoint, timeout=timeout_s).close()
    except OSError as exc:
        where = address if named == address else f"{address} (RAY_ADDRESS={named})"
        raise Unavailable(
            f"--ray {where}: nothing answers there ({exc.strerror or exc}); start a cluster with "
            "`ray start --head`, pass its address, or use --ray local"
        ) from None


#: What a run's Ray task hands back as it begins the run, before its record: the run's
#: deadline counts from its arrival here (a task may wait in Ray's queue for a long time first).
_BEGAN = "placer: the run began"

#: How often the batch looks for finished runs and runs past their deadline.
_POLL_S = 0.2


def _run_reporting_start(task: PlacementTask) -> Iterator[str | RunRecord]:
    """The Ray task of one run: says that it began, then hands back the run's record (a Ray
    generator task, whose first value reaches the batch while the run goes on)."""
    yield _BEGAN
    yield run_task(task)


@dataclass
class _RayRun:
    """A run handed to Ray: its task and, once its worker began it, when (this clock)."""

    task: PlacementTask
    began: float | None = None


def run_on_ray(
    tasks: Sequence[PlacementTask],
    address: str,
    record_done: OnRecord,
    deadline_of: Callable[[PlacementTask], float] | None = None,
) -> None:
    """Run ``tasks`` on a Ray cluster (one CPU each), handing each record over as it comes.

    ``address`` is what ``ray.init`` takes ("auto", "host:port", "ray://host:10001", or
    "local" for a fresh local instance). A Ray session already started in this process is used
    as it is. Workers need this package installed and the runs folder on a shared file system.
    A run still going ``deadline_of(task)`` seconds after its worker began it (``math.inf``:
    never; None: no deadlines) is cancelled, its worker killed, and recorded as failed naming
    the deadline (a run waiting in Ray's queue for a free CPU has not begun: it is not timed).
    """
    try:
        import ray
    except ImportError:
        raise Unavailable(
            "Ray is not installed: pip install 'placer-gym[ray]' (or drop --ray to run locally)"
        ) from None
    started_here = not ray.is_initialized()
    private = None
    if started_here:  # (the address was checked by check_ray_address)
        options, private = _init_options(address)
        # ray.init makes SIGTERM a sys.exit: a kill ended the batch with exit 1 and no summary
        # instead of stopping it as Ctrl-C does (130, rerun with --resume)
        try:
            with handlers_kept():
                ray.init(**options)
        except ConnectionError as exc:  # Ray's own text names flags of its CLI, not ours
            _remove(private)
            first = (str(exc).strip().splitlines() or [""])[0].rstrip(".")  # (addresses have dots)
            raise Unavailable(
                f"--ray {address}: could not connect ({first}); start a cluster with "
                "`ray start --head`, pass its address, or use --ray local"
            ) from None
        except BaseException:
            _remove(private)
            raise
    # (streaming named: Ray's default for a generator task since its 2.8-2.9 releases)
    remote_run = ray.remote(num_cpus=1, max_retries=0, num_returns="streaming")(_run_reporting_start)
    pending: dict[Any, _RayRun] = {}
    running: dict[Any, _RayRun] = {}  # those of pending whose worker began them
    waiting = _QueueWatch(time.monotonic())
    try:
        for task in tasks:  # (in the try: an interrupt while submitting cancels those submitted)
            pending[remote_run.remote(task)] = _RayRun(task)
        while pending:
            waiting.check(ray, begun=bool(running) or len(pending) < len(tasks))
            ready, _ = ray.wait(list(pending), num_returns=1, timeout=_POLL_S)
            if ready:  # and every other one ready now
                ready, _ = ray.wait(list(pending), num_returns=len(pending), timeout=0)
            for run_ref in ready:
                _take_next(ray, pending, running, run_ref, record_done)
            if deadline_of is not None:
                _stop_overdue(ray, pending, running, deadline_of, record_done)
    except BaseException:
        for run_ref in pending:
            ray.cancel(run_ref, force=True)
        raise
    finally:
        if started_here:
            ray.shutdown()
            _remove(private)


def _init_options(address: str) -> tuple[dict[str, Any], str | None]:
    """``ray.init``'s options for a session started here, and the private folder made for a
    local instance's files (None for a cluster's address): Ray's own INFO and WARNING lines
    (e.g. about its token authentication) are not ours to print, its errors still are. A local
    instance keeps its sessions, sockets and logs in a folder of its own inside one only this
    user may enter (mode 0700; Ray makes its own folder 0777, as it makes ``/tmp/ray``, where
    other users could read the logs and reach the sockets), removed when the batch ends; it is
    made in :func:`_local_temp_base`'s folder."""
    options: dict[str, Any] = {"address": address, "include_dashboard": False, "log_to_driver": False,
                               "logging_level": logging.ERROR}  # fmt: skip
    if address != "local":
        return options, None
    private = tempfile.mkdtemp(prefix=_PRIVATE_PREFIX, dir=_local_temp_base())  # (mode 0700, this user's)
    options["_temp_dir"] = os.path.join(private, "ray")
    return options, private


#: The private folder's name: short, since Ray's socket paths go under it (a few random
#: characters follow).
_PRIVATE_PREFIX = "placer-"

#: The longest path Ray makes under its temporary folder, a socket of each session's: a session
#: is named after its start to the microsecond and the pid of the process that starts it (up to 7
#: digits, Linux's largest pid_max).
_LONGEST_SOCKET = os.path.join("session_2026-01-01_00-00-00_000000_" + "9" * 7, "sockets", "plasma_store")


def _socket_path_limit() -> int:
    """The longest path (bytes) an AF_UNIX socket may have here, as Ray checks it."""
    return 103 if sys.platform == "darwin" else 107


def _longest_socket_path(temp_dir: str) -> str:
    """The longest socket path of a local Ray instance whose temporary folder is ``temp_dir``."""
    return os.path.join(temp_dir, _LONGEST_SOCKET)


def _local_temp_base() -> str:
    """The folder a local instance's private folder goes in: ``RAY_TMPDIR`` where set (as Ray
    honours it), else ``/tmp`` on POSIX (short: a long ``TMPDIR``, as macOS's
    ``/var/folders/...``, would push Ray's socket paths past AF_UNIX's limit), else the
    system's temporary folder (where Ray's sockets are no files).

    Raises:
        Unavailable: Ray's socket paths under the folder would be too long; naming RAY_TMPDIR.
    """
    base = os.environ.get("RAY_TMPDIR") or ("/tmp" if os.name == "posix" else tempfile.gettempdir())
    if sys.platform != "win32":  # (Ray listens on TCP ports there)
        longest = _longest_socket_path(os.path.join(base, _PRIVATE_PREFIX + "x" * 8, "ray"))
        size, limit = len(os.fsencode(longest)), _socket_path_limit()
        if size > limit:
            raise Unavailable(
                f"--ray local: Ray's socket paths under {base} would be up to {size} bytes, past "
                f"the system's limit of {limit}; set RAY_TMPDIR to a shorter folder (e.g. /tmp)"
            )
    return base


def _remove(private: str | None) -> None:
    """Remove the private folder of a local Ray instance (its processes have ended or are
    ending: what they still write is lost with it)."""
    if private is not None:
        shutil.rmtree(private, ignore_errors=True)


#: Seconds without any run begun on Ray before the batch says that its runs wait in Ray's queue.
QUEUE_WARNING_S = 60.0


@dataclass
class _QueueWatch:
    """Says once, on stderr, when no run has begun :data:`QUEUE_WARNING_S` seconds after the
    batch started (a cluster without a free CPU: the runs wait in Ray's queue, where no
    deadline counts, and the batch would wait without a word)."""

    started: float
    said: bool = False

    def check(self, ray: Any, begun: bool) -> None:
        """Say it now if it is time and no run has ``begun`` (nor ended)."""
        if self.said or begun or time.monotonic() - self.started < QUEUE_WARNING_S:
            return
        self.said = True
        try:
            free = f"{ray.available_resources().get('CPU', 0):g} of {ray.cluster_resources().get('CPU', 0):g}"
        except Exception:  # noqa: BLE001 - only for the message
            free = "unknown"
        print(f"placer: no run has begun on Ray after {QUEUE_WARNING_S:g} s (CPUs free on the cluster: "
              f"{free}); the runs wait in Ray's queue, where no deadline counts", file=sys.stderr)  # fmt: skip


def _take_next(
    ray: Any, pending: dict[Any, _RayRun], running: dict[Any, _RayRun], run_ref: Any, record_done: OnRecord
) -> None:
    """Read what the run ``run_ref`` handed back next: that it began (its clock starts, it joins
    ``running``), or its record (handed over; the run leaves ``pending`` and ``running``)."""
    run = pending[run_ref]
    try:
        value = ray.get(next(run_ref))
    except Exception as exc:  # noqa: BLE001 - a lost worker, a Ray error
        value = failed_record(run.task, error_text(exc))
    if isinstance(value, str) and value == _BEGAN:
        run.began = time.monotonic()
        running[run_ref] = run
        return
    del pending[run_ref]
    running.pop(run_ref, None)
    record_done(value)


def _stop_overdue(
    ray: Any,
    pending: dict[Any, _RayRun],
    running: dict[Any, _RayRun],
    deadline_of: Callable[[PlacementTask], float],
    record_done: OnRecord,
) -> None:
    """Cancel (killing its worker) each running run past its deadline and record it as failed;
    a run whose record has just come is taken instead. (Only the running runs are looked at:
    at most one per CPU of the cluster, however many wait in Ray's queue.)"""
    for run_ref, run in list(running.items()):
        assert run.began is not None
        seconds, deadline = time.monotonic() - run.began, deadline_of(run.task)
        if seconds <= deadline:
            continue
        done, _ = ray.wait([run_ref], num_returns=1, timeout=0)
        if done:  # finished in the poll in which its deadline passed: its record counts
            _take_next(ray, pending, running, run_ref, record_done)
            continue
        ray.cancel(run_ref, force=True)
        del pending[run_ref], running[run_ref]
        record_done(failed_record(run.task, past_deadline_text(seconds, deadline)))
