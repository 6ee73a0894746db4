"""PostgreSQL as a tunable system: a throwaway server per trial, measured with ``pgbench``.

The backend ``initdb``s a template cluster into a temporary directory and loads it with
``pgbench -i`` once; every trial copies the template, starts ``postgres`` on a Unix socket in a
private directory (``listen_addresses=''``, a free port number) with the trial's knobs as ``-c``
settings, runs ``pgbench`` once unmeasured (``warmup_s``) and then ``repeats`` measured times,
then stops the server and removes everything, also on error. ``initdb`` refuses to run as root, so when started as root every server command runs as
an unprivileged system user (``PLACER_PG_USER``, default ``placer-pg``, also when set empty; created with ``useradd``
when missing). A server that does not start or a failing ``pgbench`` makes a failed trial (a
programming error, a TypeError or KeyError of ours, is raised: a bug, not the configuration's).
A killed run leaves nothing running: each server gets SIGQUIT from the kernel when its parent
dies (:func:`_dies_with_us`), and the next backend removes the dead run's directories
(:mod:`learned_systems.config.scratch`), stopping any server still found there first.
"""

from __future__ import annotations

import math
import re
import shutil
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from learned_systems.config.factory import THROUGHPUT_UNITS
from learned_systems.config.knobs import KnobError
from learned_systems.config.postgres_knobs import (  # noqa: F401 - kept importable from here
    CGROUP_LIMITS,
    PROC_CGROUP,
    PROC_MOUNTINFO,
    _settings,
    _total_memory_mb,
    postgres_space,
    server_settings,
)
from learned_systems.config.postgres_server import (  # noqa: F401 - kept importable from here
    BINARIES,
    DEFAULT_USER,
    SCRATCH_PREFIX,
    SHORT_TMP,
    SMALL_SHM_BYTES,
    SOCKET_PATH_MAX,
    SOCKET_PREFIX,
    START_TIMEOUT_S,
    STOP_TIMEOUT_S,
    PostgresServer,
    PostgresUnavailable,
    _dies_with_us,
    _dynamic_shared_memory,
    _RunAs,
    error_summary,
    find_binaries,
    server_environment,
    serves_from,
    tool_path,
)
from learned_systems.config.scratch import make_scratch, size_text, sweep_stale
from learned_systems.config.trial import TrialResult, mean_and_spread, programming_errors
from learned_systems.errors import InputError, Unavailable
from learned_systems.validation import positive_seconds, whole_number

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


def window_seed(seed: int, window: int) -> int:
    """pgbench's random seed for measurement window ``window`` (0: the warm-up) of a trial of
    ``seed``: each window draws its own accounts."""
    return (int(seed) * 1000 + int(window)) % 2**63


def parse_tps(output: str) -> float:
    """The tps figure pgbench prints (excluding connection time); a run that counts failed
    transactions (serialisation or deadlock failures, which pgbench 15 reports and leaves out
    of its tps, exiting 0) raises: its figure measures fewer transactions than it ran."""
    failed = re.search(r"number of failed transactions: (\d+)", output)
    if failed and int(failed.group(1)) > 0:
        raise Unavailable(f"pgbench counted {failed.group(1)} failed transactions")
    match = re.search(r"tps = ([0-9.]+) \((?:without|excluding)", output) or re.search(
        r"tps = ([0-9.]+)", output
    )
    if not match:
        raise Unavailable(f"pgbench printed no tps: {output.strip()[-300:]}")
    return float(match.group(1))


#: Disk a cluster takes per unit of pgbench scale, and besides it (catalogs, WAL segments), with
#: room for the WAL a trial writes: measured, a template and one trial copy took 139 MB at
#: scale 1 and 633 MB at scale 10 (about 27 MB per unit and 42 MB besides, each cluster).
BYTES_PER_SCALE = 32_000_000


BYTES_PER_CLUSTER = 64_000_000


class PostgresBackend:
    """Runs pgbench ``workload`` trials ("tpcb", "select-only", "simple-update", "analytical")
    at ``scale`` with ``clients`` connections: per trial an unmeasured ``warmup_s`` window,
    then ``repeats`` measured windows of ``duration_s`` (whole seconds, as pgbench takes).
    The class's own window is 2 s; :func:`~learned_systems.config.factory.make_backend` (and
    so ``placer tune``) passes 1 s and ``ConfigTuning-v0`` 0.5 s (rounded up to 1)."""

    system = "postgres"
    _closed = False  # close() sets it (a class default: pickles made before it load)
    _cp = "cp"  # the copy program's path, found by __init__ (a default for pickles made before)

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
            raise InputError(
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
        self._cp = tool_path("cp", "coreutils")  # (up front: each trial failed on a missing cp)
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
            raise InputError(
                f"pgbench scale {self.scale} needs about {size_text(needed)} of disk (a "
                f"{size_text(cluster)} cluster and a copy per trial), "
                f"but {root.parent} has {size_text(free)} free"
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
            raise InputError(
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
                # the C locale: any other one's encoding must match UTF8 (a latin-1 locale failed
                # every run with "encoding mismatch"), and text sorts alike on every machine
                "--locale=C",
                "--no-sync",
            ]
        )
        if created.returncode != 0:
            raise Unavailable(f"initdb failed: {error_summary(created.stderr)}")
        with PostgresServer(self.binaries, self.run_as, data, remove=False) as server:
            loaded = server.pgbench(  # ~16 MB per scale unit: large scales load for a while
                ["-U", "postgres", "-i", "-q", "-s", str(self.scale)],
                timeout=max(600.0, 2.0 * self.scale),
            )
            if loaded.returncode != 0:
                raise Unavailable(f"pgbench -i failed: {error_summary(loaded.stderr)}")
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
        copied = self.run_as.run([self._cp, "-a", str(template), str(trial / "data")])
        if copied.returncode != 0:
            shutil.rmtree(trial, ignore_errors=True)
            raise Unavailable(f"copying the template failed: {copied.stderr.strip()}")
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
                        raise Unavailable(f"pgbench failed: {error_summary(ran.stderr)}")
                    if window or not self.warmup_s:
                        samples.append(parse_tps(ran.stdout))
        except programming_errors():
            raise  # a bug of ours, not the configuration's failure
        except Exception as error:  # a server that does not start (a value it refuses), a
            # failing pgbench, a timeout (subprocess errors), OSError, MemoryError
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
