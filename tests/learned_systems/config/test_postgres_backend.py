"""PostgreSQL backend: a real throwaway server, pgbench measurement, durability, failures, env."""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from contextlib import closing
from pathlib import Path

import pytest
from gymnasium.utils.env_checker import check_env

from learned_systems.config import postgres_backend, postgres_knobs, postgres_server
from learned_systems.config.knobs import KnobError
from learned_systems.config.postgres_backend import (
    ANALYTICAL_QUERIES,
    PostgresBackend,
    PostgresServer,
    PostgresUnavailable,
    find_binaries,
    parse_tps,
    postgres_space,
)
from learned_systems.config.scratch import OWNER_FILE

try:
    find_binaries()
    MISSING = None
except PostgresUnavailable as error:  # only where PostgreSQL truly cannot exist
    MISSING = str(error)

needs_postgres = pytest.mark.skipif(
    MISSING is not None, reason=f"PostgreSQL unavailable: {MISSING}"
)


def _leftovers(backend) -> list[str]:
    """What a backend's scratch directory holds besides its owner record."""
    root = Path(backend._root.name)
    return [p.name for p in root.iterdir() if p.name != OWNER_FILE]


@pytest.fixture(scope="module")
def backend():
    return PostgresBackend("tpcb", scale=1, duration_s=1, repeats=2, clients=2)


def test_space_is_durable_unless_opened():
    durable = postgres_space()
    for knob in ("fsync", "synchronous_commit", "full_page_writes"):
        assert "off" not in durable.knob(knob).choices
        assert durable.defaults()[knob] == "on"
    with pytest.raises(KnobError, match="allow_unsafe"):
        durable.validate({"fsync": "off"})
    unsafe = postgres_space(allow_unsafe=True)
    assert unsafe.name == "unsafe" and unsafe.validate({"fsync": "off"})["fsync"] == "off"
    assert durable.rule_of_thumb["shared_buffers"] >= 16
    with pytest.raises(KnobError, match="shared_buffers"):
        durable.validate({"shared_buffers": 1})


def test_commit_delay_is_searched_on_a_log_scale_with_off():
    knob = postgres_space().knob("commit_delay")
    assert knob.from_unit(0.0) == 0  # off stays reachable (and is the default)
    assert knob.from_unit(0.55) == 100  # mid-range: 100 us, not 5 ms as on a linear scale
    assert knob.from_unit(1.0) == 10_000
    assert postgres_space().validate({"commit_delay": 65})["commit_delay"] == 65


def test_parse_tps():
    assert (
        parse_tps("latency average = 3.1 ms\ntps = 642.5 (without initial connection time)\n")
        == 642.5
    )
    with pytest.raises(RuntimeError, match="no tps"):
        parse_tps("connection refused")
    ok = "number of failed transactions: 0 (0.000%)\ntps = 10.0 (without initial connection time)\n"
    assert parse_tps(ok) == 10.0
    with pytest.raises(RuntimeError, match="pgbench counted 3 failed transactions"):
        parse_tps(ok.replace(": 0 (0.000%)", ": 3 (0.100%)"))


@needs_postgres
def test_a_closed_backend_measures_nothing():
    """It ran the trial into a removed folder: a failed trial whose copy error named no cause."""
    closed = PostgresBackend("tpcb", scale=1, duration_s=1, repeats=1, clients=1)
    closed.close()
    with pytest.raises(RuntimeError, match="this PostgreSQL backend is closed"):
        closed.run_trial(closed.space.defaults())
    with pytest.raises(RuntimeError, match="this PostgreSQL backend is closed"):
        closed.template()  # (it failed inside the removed folder)


@needs_postgres
def test_a_duration_rounds_halves_up_to_whole_seconds():
    rounded = []
    for seconds in (0.2, 1.5, 2.5, 3.5, 2.49):
        backend = PostgresBackend(duration_s=seconds)
        rounded.append(backend.duration_s)
        backend.close()
    assert rounded == [1, 2, 3, 4, 2]


@needs_postgres
def test_trial_measures_and_cleans_up(backend):
    result = backend.run_trial({"shared_buffers": 64, "commit_delay": 10})
    assert result.ok, result.error
    assert result.unit == "tps" and len(result.throughputs) == 2 and result.throughput_mean > 0
    assert result.space == "durable" and result.config["fsync"] == "on"
    # Only the template cluster remains: every trial's copy and server are gone.
    leftovers = _leftovers(backend)
    assert all(name.startswith("template-") for name in leftovers)


@needs_postgres
def test_analytical_workload_runs_its_query_mix(monkeypatch):
    """Each window draws its own pgbench seed (the same one replayed the warm-up's accounts in
    every window) and the sort reads the table's last rows at any scale (its OFFSET fitted
    scale 10 only: past the end at scale 1)."""
    from learned_systems.config.postgres_backend import PostgresServer

    seeds = []
    real_pgbench = PostgresServer.pgbench

    def recording(server, args, timeout=600):
        if "--random-seed" in args:  # (not pgbench -i, loading the template)
            seeds.append(args[args.index("--random-seed") + 1])
        return real_pgbench(server, args, timeout)

    monkeypatch.setattr(PostgresServer, "pgbench", recording)
    analytical = PostgresBackend("analytical", scale=1, duration_s=1, repeats=2, clients=2)
    result = analytical.run_trial({"work_mem": 64, "jit": "off"})
    assert result.ok, result.error
    assert result.workload == "analytical" and result.throughput_mean > 0
    scripts = sorted(p.name for p in Path(analytical._root.name).glob("*.sql"))
    assert scripts == sorted(f"analytical-{name}.sql" for name in ANALYTICAL_QUERIES)
    assert len(seeds) == 3 and len(set(seeds)) == 3  # warm-up and two windows
    sort = (Path(analytical._root.name) / "analytical-sort.sql").read_text()
    assert "OFFSET 99990 LIMIT 10" in sort  # pgbench: 100,000 accounts per unit of scale


def test_query_knobs_default_to_postgres_defaults():
    defaults = postgres_space().defaults()
    assert defaults["jit"] == "on" and defaults["max_parallel_workers_per_gather"] == 2
    assert defaults["commit_siblings"] == 5
    assert defaults["wal_compression"] == "off" and defaults["wal_sync_method"] == "fdatasync"
    # PostgreSQL sizes wal_buffers from shared_buffers by default (-1); a fixed 4 MB was passed
    assert defaults["wal_buffers"] == 0
    settings = postgres_backend._settings({"shared_buffers": 512, "wal_buffers": 0})
    assert settings == ["-c", "shared_buffers=512MB", "-c", "wal_buffers=-1"]
    assert postgres_backend._settings({"wal_buffers": 8}) == ["-c", "wal_buffers=8MB"]


@needs_postgres
def test_wal_knobs_are_accepted_by_the_server(backend):
    result = backend.run_trial({"wal_compression": "lz4", "wal_sync_method": "open_datasync"})
    assert result.ok, result.error
    assert result.config["wal_compression"] == "lz4" and result.config["fsync"] == "on"


@needs_postgres
def test_measure_times_settings_outside_the_space(backend):
    with pytest.raises(KnobError, match="unknown knob 'wal_init_zero'"):
        backend.run_trial({"wal_init_zero": "off"})
    result = backend.measure({"wal_init_zero": "off"}, space="outside")
    assert result.ok, result.error
    assert result.space == "outside" and result.config == {"wal_init_zero": "off"}
    refused = backend.measure({"wal_init_zero": "sometimes"}, space="outside")
    assert not refused.ok and refused.space == "outside"


@needs_postgres
def test_settings_measured_without_a_space_name_say_whether_they_are_in_it(backend):
    assert backend.measure({"fsync": "off"}).space == "outside"  # it was labelled durable


@needs_postgres
def test_a_template_that_cannot_be_built_fails_its_trials_and_leaves_nothing(monkeypatch):
    failing = PostgresBackend("tpcb", scale=1, duration_s=1, repeats=1, clients=1)
    monkeypatch.setattr(
        failing,
        "_build_template",
        lambda work: (_ for _ in ()).throw(RuntimeError("pgbench -i failed")),
    )
    for _ in range(2):
        result = failing.run_trial({})
        assert not result.ok and "pgbench -i failed" in result.error
    assert _leftovers(failing) == []  # no 38 MB cluster and no empty trial folder per trial
    failing.close()


@needs_postgres
def test_a_scale_the_disk_cannot_hold_is_refused_before_any_work():
    with pytest.raises(ValueError, match=r"pgbench scale 100000000 needs about .* GB free"):
        PostgresBackend("tpcb", scale=10**8)  # 1.6 PB


def test_a_small_disk_is_said_in_megabytes(monkeypatch):
    """The refusal read "... but /tmp has 0.00 GB free" on a small disk."""
    monkeypatch.setattr(postgres_backend, "find_binaries",
                        lambda: {name: f"/nonexistent/{name}" for name in postgres_server.BINARIES})
    monkeypatch.setattr(shutil, "disk_usage", lambda path: shutil._ntuple_diskusage(10**9, 998 * 10**6, 2 * 10**6))
    cluster = postgres_backend.BYTES_PER_CLUSTER + postgres_backend.BYTES_PER_SCALE  # (scale 1: well below 1 GB)
    with pytest.raises(ValueError) as refused:
        PostgresBackend("tpcb", scale=1)
    assert f"needs about {2 * cluster / 1e6:.1f} MB of disk (a {cluster / 1e6:.1f} MB cluster" in str(refused.value)
    assert str(refused.value).endswith("has 2.0 MB free")


@pytest.mark.parametrize(
    "bad",
    [
        dict(scale=-1),
        dict(scale=2.5),
        dict(clients=0),
        dict(scale=float("inf")),
        dict(clients=None),
    ],
)
def test_bad_sizes_are_refused(bad):
    with pytest.raises(ValueError, match="whole number"):
        PostgresBackend("tpcb", **bad)


@needs_postgres
def test_server_that_does_not_start_is_a_failed_trial(backend, monkeypatch):
    monkeypatch.setattr(postgres_server, "_settings", lambda config: ["-c", "max_connections=0"])
    result = backend.run_trial({})
    assert not result.ok and "server did not start" in result.error
    leftovers = _leftovers(backend)
    assert all(name.startswith("template-") for name in leftovers)


@needs_postgres
@pytest.mark.slow  # (over 10 s: `pytest -m "not slow"` leaves it out)
def test_config_tuning_env_over_postgres(backend):
    from envs.config_tuning import ConfigTuningEnv

    env = ConfigTuningEnv(backend=backend, horizon=3)
    check_env(env, skip_render_check=True)
    _, info = env.reset(seed=0)
    assert info["reference_ok"] and info["space"] == "durable"


def _our_servers(inside: Path | None = None) -> set[int]:
    """PIDs of running postmasters over a throwaway data directory of this package (``inside``
    that folder: other runs on the machine start and stop their own meanwhile)."""
    pids = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if (
            cmdline
            and cmdline[0].endswith(b"postgres")
            and any(b"placer-pg-" in a for a in cmdline)
            and (inside is None or any(os.fsencode(inside) in a for a in cmdline))
        ):
            pids.add(int(entry.name))
    return pids


@needs_postgres
def test_killed_tuning_run_stops_its_server_and_keeps_its_trials(tmp_path, request):
    # the run's servers, told apart from any other run's; one the server user can enter (when
    # we are root, it is another user, and pytest's folders are private)
    scratch = Path(tempfile.mkdtemp(prefix="placer-test-"))
    scratch.chmod(0o755)
    request.addfinalizer(lambda: shutil.rmtree(scratch, ignore_errors=True))
    out = tmp_path / "tune"
    command = [
        sys.executable,
        "-m",
        "placer.cli",
        "tune",
        "--system",
        "postgres",
        "--workload",
        "tpcb",
        "--tuner",
        "random",
        "--trials",
        "50",
        "--rows",
        "1",
        "--duration",
        "1",
        "--repeats",
        "1",
        "--out",
        str(out),
    ]
    run = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           env={**os.environ, "TMPDIR": str(scratch)})  # fmt: skip
    try:
        deadline = time.monotonic() + 240
        finished = 0
        while finished < 2 and time.monotonic() < deadline and run.poll() is None:
            time.sleep(0.5)
            if (out / "results.sqlite").exists():
                with closing(sqlite3.connect(out / "results.sqlite", timeout=10)) as db, db:
                    try:
                        finished = db.execute("SELECT count(*) FROM trials").fetchone()[0]
                    except sqlite3.OperationalError:  # table not created yet
                        finished = 0
        assert run.poll() is None and finished >= 2, "the tuning run did not get going"
        while not _our_servers(inside=scratch) and time.monotonic() < deadline:
            time.sleep(0.05)  # killed inside a trial: with a server up
        assert _our_servers(inside=scratch), "no server of the run was seen"
        run.send_signal(signal.SIGTERM)
        _, stderr = run.communicate(timeout=120)
    finally:
        if run.poll() is None:
            run.kill()
    assert run.returncode == 130, stderr
    assert "interrupted" in stderr and "resume" in stderr
    assert _our_servers(inside=scratch) == set()  # no server left behind
    with closing(sqlite3.connect(out / "results.sqlite")) as db, db:
        assert db.execute("SELECT count(*) FROM trials").fetchone()[0] >= finished


_HOLD_A_SERVER = """
import time
from learned_systems.config.postgres_backend import PostgresBackend, PostgresServer
backend = PostgresBackend("tpcb", scale=1)
with PostgresServer(backend.binaries, backend.run_as, backend._copy(), {}) as server:
    print(backend._root.name, server._process.pid, flush=True)
    time.sleep(300)
"""


@needs_postgres
@pytest.mark.skipif(not shutil.which("setpriv"), reason="setpriv not installed")
def test_a_killed_run_leaves_no_server_and_its_files_are_swept():
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD_A_SERVER], stdout=subprocess.PIPE, text=True
    )
    try:
        root, server_pid = holder.stdout.readline().split()
    finally:
        holder.kill()  # SIGKILL: no Python cleanup runs
        holder.wait()
    deadline = time.monotonic() + 30
    while int(server_pid) in _our_servers() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert int(server_pid) not in _our_servers(), "the server outlived the killed run"
    assert Path(root).exists()  # left behind by the kill ...
    PostgresBackend("tpcb", scale=1)
    assert not Path(root).exists()  # ... and removed by the next backend


@needs_postgres
@pytest.mark.parametrize("name", ["placer-test-" + "x" * 60 + "-", "placer-test-a,b-"])
def test_a_long_temporary_folder_does_not_stop_the_server(monkeypatch, name):
    """The socket lives under the scratch folder; a TMPDIR of 49+ characters made its path too
    long for a Unix socket, and every trial failed; so did a comma in it (the server reads
    unix_socket_directories as a list)."""
    import shutil
    import tempfile

    made = _record_socket_folders(monkeypatch)
    long_tmp = tempfile.mkdtemp(prefix=name, dir="/tmp")
    Path(long_tmp).chmod(0o755)  # reachable by an unprivileged server user
    monkeypatch.setattr(tempfile, "tempdir", long_tmp)
    try:
        backend = PostgresBackend("select-only", scale=1, duration_s=0.5, repeats=1, clients=1)
        assert str(backend._root.name).startswith(long_tmp)
        result = backend.run_trial({})
        assert result.ok, result.error
        backend.close()
    finally:
        shutil.rmtree(long_tmp, ignore_errors=True)
    assert made and not any(Path(p).exists() for p in made)  # ours removed


@needs_postgres
def test_a_trial_warms_the_server_up_before_its_measured_windows(backend, monkeypatch):
    """The first window ran on a cold buffer pool (~15% lower): it is now run and dropped."""
    windows = []
    pgbench = PostgresServer.pgbench

    def recording(self, args, timeout=600):  # type: ignore[no-untyped-def]
        if "-T" in args:  # (the first trial of the module's backend also loads the data: -i)
            windows.append(args[args.index("-T") + 1])
        return pgbench(self, args, timeout)

    monkeypatch.setattr(PostgresServer, "pgbench", recording)
    result = backend.run_trial({})
    assert result.ok, result.error
    assert windows == ["1", "1", "1"] and len(result.throughputs) == 2


def test_template_dir_is_refused_for_postgres():
    from learned_systems.config.factory import make_backend

    with pytest.raises(ValueError, match="template_dir is for SQLite"):
        make_backend("postgres", "tpcb", template_dir="/tmp/t")


@pytest.mark.parametrize("rows", [-1, 2.5])
def test_a_bad_rows_for_postgres_is_refused_in_the_callers_word(rows: float, monkeypatch: pytest.MonkeyPatch) -> None:
    """make_backend("postgres", rows=-1) and the env's rows=-1 were refused as "scale (0: the
    default 10) must be ...", a parameter the caller never passed; checked before any binary
    is looked up, so it runs without PostgreSQL."""
    from envs.config_tuning import ConfigTuningEnv
    from learned_systems.config.factory import make_backend
    from learned_systems.errors import InputError

    def looked_up() -> None:
        raise AssertionError("the server's binaries were looked up before rows was checked")

    monkeypatch.setattr(postgres_backend, "find_binaries", looked_up)
    words = r"^rows \(for PostgreSQL pgbench's scale; 0: the default 10\) must be a whole number >= 0, got "
    with pytest.raises(InputError, match=words):
        make_backend("postgres", rows=rows)
    with pytest.raises(InputError, match=words):
        ConfigTuningEnv(system="postgres", rows=rows)


def _record_socket_folders(monkeypatch) -> list[str]:  # type: ignore[no-untyped-def]
    """The short socket folders this test makes (other tests may make theirs meanwhile)."""
    made: list[str] = []
    make = postgres_server.make_scratch

    def recording(prefix, parent=None):  # type: ignore[no-untyped-def]
        folder = make(prefix, parent)
        if prefix == postgres_backend.SOCKET_PREFIX:
            made.append(folder.name)
        return folder

    monkeypatch.setattr(postgres_server, "make_scratch", recording)  # (the socket folder's)
    return made


@needs_postgres
def test_a_server_that_fails_before_starting_leaves_no_socket_folder(tmp_path, monkeypatch):
    class Refusing:
        def own(self, path):  # type: ignore[no-untyped-def]
            raise PermissionError(f"cannot hand {path} over")

    data = tmp_path / ("x" * 120) / "data"  # too long a socket path: a short folder is made
    data.mkdir(parents=True)
    made = _record_socket_folders(monkeypatch)
    with pytest.raises(PermissionError, match="cannot hand"):
        with PostgresServer(find_binaries(), Refusing(), data, remove=False):
            pass
    assert made and not any(Path(p).exists() for p in made)


def test_the_memory_rule_of_thumb_follows_a_container_limit(tmp_path, monkeypatch):
    """shared_buffers = a quarter of RAM: of the container's RAM when it has a lower limit."""
    limit = tmp_path / "memory.max"
    limit.write_text(f"{2 * 2**30}\n")  # a 2 GiB container
    monkeypatch.setattr(postgres_knobs, "CGROUP_LIMITS", (str(limit),))
    monkeypatch.setattr(postgres_knobs, "PROC_CGROUP", str(tmp_path / "no-proc-cgroup"))
    assert postgres_space().rule_of_thumb["shared_buffers"] == 512
    limit.write_text("max\n")  # no limit: the machine's memory
    host = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    assert postgres_space().rule_of_thumb["shared_buffers"] == max(host // 2**20 // 4, 16)


@pytest.mark.parametrize("version", ["v1", "v2", "v1 container", "v2 mounted at a path with a space"])
def test_the_memory_rule_of_thumb_follows_the_limit_of_the_processs_own_group(tmp_path, monkeypatch, version):
    """Only the trees' tops were read: a process in a 300 MB group (a Slurm job, a systemd
    unit) saw the host's 24 GB and its rule-of-thumb server was killed for lack of memory. In a
    container without its own cgroup namespace the mount shows the container's group at its
    top (/proc/self/cgroup names it from the host's root)."""
    v1 = version.startswith("v1")
    mount = tmp_path / ("cgroup x" if "space" in version else "cgroup") / ("memory" if v1 else "unified")
    name = "memory.limit_in_bytes" if v1 else "memory.max"
    (mount / "job" / "step").mkdir(parents=True)
    (mount / name).write_text("max\n" if not v1 else f"{2**63 - 4096}\n")  # the top: none
    (mount / "job" / name).write_text(f"{1200 * 2**20}\n")  # the job's: binds its steps
    (mount / "job" / "step" / name).write_text("max\n")
    root = "/docker/abc" if version == "v1 container" else "/"
    group = f"{root.rstrip('/')}/job/step"
    (tmp_path / "cgroup-of-self").write_text(f"4:memory:{group}\n0::/\n" if v1 else f"0::{group}\n")
    point = str(mount).replace(" ", "\\040")  # (as the kernel writes it)
    (tmp_path / "mountinfo").write_text(
        f"35 31 0:32 {root} {point} rw,relatime shared:9 - cgroup cgroup rw,memory\n" if v1
        else f"30 23 0:27 {root} {point} rw,relatime - cgroup2 cgroup2 rw\n")  # fmt: skip
    monkeypatch.setattr(postgres_knobs, "CGROUP_LIMITS", (str(mount / name),))
    monkeypatch.setattr(postgres_knobs, "PROC_CGROUP", str(tmp_path / "cgroup-of-self"))
    monkeypatch.setattr(postgres_knobs, "PROC_MOUNTINFO", str(tmp_path / "mountinfo"))
    assert postgres_space().rule_of_thumb["shared_buffers"] == 300


def test_a_tools_error_summary_keeps_the_cause_not_the_notices_after_it():
    """A disk-full template build reported 'pgbench -i failed: ist, skipping' (the tail of a
    NOTICE), the PANIC naming the full disk cut off above it."""
    from learned_systems.config.postgres_backend import error_summary

    stderr = (
        'NOTICE:  table "pgbench_branches" does not exist, skipping\n'
        'PANIC:  could not write to file "pg_wal/xlogtemp.1159": No space left on device\n'
        "pgbench: error: connection to server lost\n"
        + 'NOTICE:  table "pgbench_history" does not exist, skipping\n' * 20
    )
    summary = error_summary(stderr)
    assert "No space left on device" in summary and "\n" not in summary
    assert "skipping" not in summary
    assert error_summary("only chatter\nlast line\n") == "only chatter | last line"


def test_the_disk_check_counts_each_clusters_own_files():
    """2 x scale x 16 MB (32 MB at scale 1) let runs start on disks too small for the 139 MB a
    template and one trial copy took at scale 1."""
    needed = 2 * (postgres_backend.BYTES_PER_CLUSTER + 1 * postgres_backend.BYTES_PER_SCALE)
    assert needed >= 139e6 * 1.2
    needed_10 = 2 * (postgres_backend.BYTES_PER_CLUSTER + 10 * postgres_backend.BYTES_PER_SCALE)
    assert needed_10 >= 633e6 * 1.2


def test_a_stale_pid_file_names_a_server_only_when_it_runs_there(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """After an OOM kill or a reboot a dead run's postmaster.pid outlives its server and its
    pid may be reused: the sweep's pg_ctl stop sent SIGQUIT to whoever had it (a user's own
    cluster shut down). Only a live process working in that data directory is a server."""
    import os
    import subprocess
    import sys

    from learned_systems.config.postgres_backend import serves_from

    data = tmp_path / "trial-1" / "data"
    data.mkdir(parents=True)
    pid_file = data / "postmaster.pid"
    pid_file.write_text(f"{os.getpid()}\n{data}\n")  # a live process elsewhere: not a server here
    assert not serves_from(pid_file)
    there = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"], cwd=data)
    try:
        pid_file.write_text(f"{there.pid}\n{data}\n")
        assert serves_from(pid_file)
    finally:
        there.kill()
        there.wait()
    assert not serves_from(pid_file)  # gone
    pid_file.write_text("not a pid\n")
    assert not serves_from(pid_file)


def test_the_leftover_stop_never_follows_a_link_out_of_the_dead_runs_folder(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A folder made to look stale with data -> someone's live cluster: pg_ctl stopped it."""
    import subprocess
    import sys
    from types import SimpleNamespace

    from learned_systems.config.postgres_backend import PostgresBackend

    cluster = tmp_path / "users_cluster"
    cluster.mkdir()
    server = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"], cwd=cluster)
    try:
        (cluster / "postmaster.pid").write_text(f"{server.pid}\n{cluster}\n")
        root = tmp_path / "placer-pg-fake"
        (root / "trial-1").mkdir(parents=True)
        (root / "trial-1" / "data").symlink_to(cluster)
        calls: list = []
        fake = SimpleNamespace(run_as=SimpleNamespace(run=lambda args, **kw: calls.append(args)),
                               binaries={"pg_ctl": "pg_ctl"})
        PostgresBackend._stop_leftover_servers(fake, root)  # type: ignore[arg-type]
        assert calls == []
        own = root / "trial-2" / "data"  # a real leftover inside the folder is still stopped
        own.mkdir(parents=True)
        helper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"], cwd=own)
        try:
            (own / "postmaster.pid").write_text(f"{helper.pid}\n{own}\n")
            PostgresBackend._stop_leftover_servers(fake, root)  # type: ignore[arg-type]
            assert [a[2] for a in calls] == [str(own)]
        finally:
            helper.kill()
            helper.wait()
    finally:
        server.kill()
        server.wait()


@needs_postgres
@pytest.mark.skipif(os.geteuid() != 0, reason="only root runs the server as another user")
def test_a_scratch_folder_the_server_user_cannot_enter_is_refused_up_front(tmp_path, monkeypatch):
    """Under a private TMPDIR (pytest's own, a home folder) initdb failed three times, with a
    message about the defaults."""
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    monkeypatch.setattr(tempfile, "tempdir", str(private))
    with pytest.raises(ValueError, match="cannot enter .*set TMPDIR"):
        PostgresBackend("tpcb", scale=1, duration_s=1)
    assert list(private.iterdir()) == []  # its scratch folder removed


def test_a_small_machine_keeps_postgres_own_defaults_inside_the_space(monkeypatch):
    """Under 256 MB the top of shared_buffers (half the memory) fell below PostgreSQL's own
    128 MB default, which the defaults trial sets: the run stopped on a value nobody chose."""
    monkeypatch.setattr(postgres_knobs, "_total_memory_mb", lambda: 200)
    space = postgres_space()
    assert space.validate(space.defaults())["shared_buffers"] == 128
    assert space.validate(space.rule_of_thumb)["shared_buffers"] == 50


@needs_postgres
def test_a_backend_and_the_env_without_a_workload_run_the_systems_default():
    """The env's workload defaulted to SQLite's ycsb-a whatever the system: PostgreSQL refused it."""
    from envs.config_tuning import ConfigTuningEnv
    from learned_systems.config.factory import make_backend

    assert make_backend("postgres", rows=1).workload == "tpcb"
    env = ConfigTuningEnv(system="postgres", rows=1)
    try:
        assert env.objective.workload == "tpcb"
    finally:
        env.close()


@needs_postgres
def test_a_copied_backend_has_a_scratch_folder_of_its_own() -> None:
    """A copy shared the original's scratch folder and template cluster: the first to close
    removed them under the other (and closed a lock descriptor number reused since)."""
    import copy
    import pickle

    backend = PostgresBackend(scale=1, duration_s=1, repeats=1)
    try:
        for duplicate in (copy.deepcopy(backend), pickle.loads(pickle.dumps(backend))):
            assert duplicate._root.name != backend._root.name and duplicate._template is None
            assert oct(Path(duplicate._root.name).stat().st_mode & 0o777) == "0o755"  # the server user enters
            duplicate.close()
            assert not Path(duplicate._root.name).exists() and Path(backend._root.name).is_dir()
    finally:
        backend.close()


@needs_postgres
def test_libpq_variables_of_the_caller_never_reach_a_measured_session(backend, monkeypatch):
    """PGOPTIONS="-c synchronous_commit=off" reached every pgbench session: a 'durable' trial
    measured without its commit flush (2198 tps against 389-956)."""
    from learned_systems.config.postgres_backend import PostgresServer

    monkeypatch.setenv("PGOPTIONS", "-c synchronous_commit=off -c work_mem=77MB")
    monkeypatch.setenv("PGTZ", "Pacific/Auckland")
    script = Path(backend._root.name) / "settings.sql"
    # divides by zero where a caller's variable took effect
    script.write_text(
        "SELECT 1 / (CASE WHEN current_setting('synchronous_commit') = 'off' "
        "OR current_setting('work_mem') = '77MB' OR current_setting('TimeZone') = 'Pacific/Auckland' "
        "THEN 0 ELSE 1 END);\n"
    )
    script.chmod(0o644)
    data = backend._copy()
    try:
        with PostgresServer(backend.binaries, backend.run_as, data, backend.space.defaults()) as server:
            ran = server.pgbench(["-U", "postgres", "-n", "-f", str(script), "-t", "1"])
    finally:
        shutil.rmtree(data.parent, ignore_errors=True)
    assert ran.returncode == 0, ran.stderr


def test_a_server_user_that_is_root_is_refused_up_front(monkeypatch):
    """PLACER_PG_USER=root failed three defaults trials with initdb's refusal, then stopped."""
    from learned_systems.config.postgres_backend import PostgresUnavailable, _RunAs

    monkeypatch.setattr(os, "geteuid", lambda: 0)
    monkeypatch.setenv("PLACER_PG_USER", "root")
    with pytest.raises(PostgresUnavailable, match="PLACER_PG_USER=root is root"):
        _RunAs.resolve()


def test_a_server_user_that_cannot_be_created_is_named_with_useradds_reason(monkeypatch, tmp_path):
    """Run as root, the backend makes an unprivileged server user; when useradd refuses, the
    run stops with its reason, naming the user (not a KeyError from the user lookup)."""
    import subprocess

    from learned_systems.config.postgres_backend import PostgresUnavailable, _RunAs

    def no_such_user(name):  # type: ignore[no-untyped-def]
        raise KeyError(name)

    monkeypatch.setattr(os, "geteuid", lambda: 0)
    monkeypatch.setenv("PLACER_PG_USER", "placer-test-nobody")
    monkeypatch.setattr(pwd, "getpwnam", no_such_user)
    monkeypatch.setattr(postgres_server, "USER_LOCK_DIRS", (str(tmp_path),))
    monkeypatch.setattr(postgres_server, "_useradd", lambda name: "/usr/sbin/useradd")  # (if missing here)
    monkeypatch.setattr(subprocess, "run", lambda args, **k: subprocess.CompletedProcess(
        args, 1, "", "useradd: cannot lock /etc/passwd; try again later.\n"))
    with pytest.raises(PostgresUnavailable, match=r"cannot create the unprivileged server user "
                                                  r"'placer-test-nobody': useradd: cannot lock /etc/passwd"):
        _RunAs.resolve()


@needs_postgres
def test_a_failing_pgbench_window_is_a_failed_trial_naming_its_error(backend, monkeypatch):
    """A pgbench that exits non-zero (a dropped connection, a disk full mid-run) fails the
    trial with pgbench's own error line; the run goes on (no exception) and no server is left."""
    import subprocess

    loading = postgres_backend.PostgresServer.pgbench

    def failing(self, args, timeout=600):  # type: ignore[no-untyped-def]
        if "-T" not in args:  # the template's pgbench -i loads as before
            return loading(self, args, timeout)
        return subprocess.CompletedProcess(args, 1, "", "NOTICE: chatter\npgbench: error: connection to server lost\n")

    monkeypatch.setattr(postgres_backend.PostgresServer, "pgbench", failing)
    backend.run_trial({})  # (the template is built here, not counted below)
    before = set(_leftovers(backend))
    result = backend.run_trial({})
    assert not result.ok and "pgbench failed: pgbench: error: connection to server lost" in result.error
    assert set(_leftovers(backend)) == before  # the trial's copy and server are gone


@needs_postgres
def test_a_programming_error_inside_a_trial_is_raised_and_a_timeout_is_a_failed_trial(monkeypatch):
    """A bug inside a trial was a failed trial like a server that does not start: the tuner was
    steered by it and the run exited 0. A timeout (a subprocess error) still fails the trial."""
    backend = PostgresBackend("tpcb", scale=1, duration_s=1, repeats=1, clients=1)
    try:
        bug = KeyError("pgbench")

        def buggy() -> Path:
            raise bug

        monkeypatch.setattr(backend, "_copy", buggy)
        with pytest.raises(KeyError) as raised:
            backend.run_trial({})
        assert raised.value is bug

        def slow() -> Path:
            raise subprocess.TimeoutExpired(["cp", "-a"], 300)

        monkeypatch.setattr(backend, "_copy", slow)
        result = backend.run_trial({})
        assert not result.ok and result.error.startswith("TimeoutExpired: Command '['cp', '-a']' timed out")
    finally:
        backend.close()


def test_initdb_is_left_to_finish_when_the_run_is_interrupted(tmp_path: Path) -> None:
    """An interrupt during initdb killed initdb alone; its single-user server, orphaned, aborted
    when the cleanup removed its folder and left its shared memory behind for good. The step
    now runs in a session of its own and is waited for, the interrupt passed on after it."""
    import threading

    from learned_systems.config.postgres_backend import _RunAs

    started, done = tmp_path / "started", tmp_path / "done"
    step = [sys.executable, "-c", "import os, pathlib, time; "
            f"pathlib.Path({str(started)!r}).touch(); time.sleep(0.6); "
            f"pathlib.Path({str(done)!r}).write_text(f'{{os.getpid()}} {{os.getsid(0)}}')"]

    def interrupt_once_started() -> None:  # (a fixed delay could land before the step began)
        deadline = time.monotonic() + 30
        while not started.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        os.kill(os.getpid(), signal.SIGINT)

    interrupter = threading.Thread(target=interrupt_once_started)
    interrupter.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            _RunAs(None, None).run_to_end(step, timeout=30)
    finally:
        interrupter.join()
    pid, sid = done.read_text().split()  # the step ran to its end
    assert pid == sid and int(sid) != os.getsid(0)  # in a session of its own (a Ctrl-C misses it)
    finished = _RunAs(None, None).run_to_end(["sh", "-c", "echo out; echo err >&2; exit 3"])
    assert (finished.returncode, finished.stdout, finished.stderr) == (3, "out\n", "err\n")


def test_a_small_dev_shm_moves_dynamic_shared_memory_into_the_data_directory(monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Under a container's 64 MB /dev/shm, analytical trials with a large work_mem and parallel
    workers failed ("could not resize shared memory segment ... No space left on device")."""
    import os

    from learned_systems.config import postgres_server

    real = os.statvfs

    def sized(total_bytes: int):  # type: ignore[no-untyped-def]
        def statvfs(path):  # type: ignore[no-untyped-def]
            found = real(tmp_path)
            return os.statvfs_result((found.f_bsize, 4096, total_bytes // 4096, *found[3:]))
        return statvfs

    monkeypatch.setattr(os, "statvfs", sized(64 << 20))
    assert postgres_server._dynamic_shared_memory() == ["-c", "dynamic_shared_memory_type=mmap"]
    monkeypatch.setattr(os, "statvfs", sized(24 << 30))
    assert postgres_server._dynamic_shared_memory() == []  # room: PostgreSQL's default kept
    monkeypatch.undo()
    assert postgres_server._dynamic_shared_memory(str(tmp_path / "none")) == [  # no /dev/shm
        "-c", "dynamic_shared_memory_type=mmap"]


@pytest.mark.parametrize("name", ["--help", "-r", "Upper", "9lives", "a b", "x" * 33, "bad/name"])
def test_a_server_user_name_useradd_should_not_get_is_refused_naming_the_variable(monkeypatch, name):
    """PLACER_PG_USER reached useradd unchecked: "--help" made it print its help, then the
    user lookup raised KeyError (a traceback)."""
    import subprocess

    from learned_systems.config.postgres_backend import PostgresUnavailable, _RunAs

    def no_such_user(user):  # type: ignore[no-untyped-def]
        raise KeyError(user)

    ran: list[list[str]] = []
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    monkeypatch.setenv("PLACER_PG_USER", name)
    monkeypatch.setattr(pwd, "getpwnam", no_such_user)
    monkeypatch.setattr(subprocess, "run", lambda args, **k: ran.append(args) or subprocess.CompletedProcess(args, 0))
    with pytest.raises(PostgresUnavailable, match=r"PLACER_PG_USER=.* is no user name to create"):
        _RunAs.resolve()
    assert ran == []


def test_a_server_user_is_created_with_its_name_after_the_options(monkeypatch, tmp_path):
    """useradd is told where its options end (``--``), the name after it."""
    import subprocess

    from learned_systems.config.postgres_backend import _RunAs

    created: list[str] = []

    def lookup(user):  # type: ignore[no-untyped-def]
        if user not in created:
            raise KeyError(user)
        return pwd.struct_passwd((user, "x", 999, 998, "", "/", "/usr/sbin/nologin"))

    def useradd(args, **kwargs):  # type: ignore[no-untyped-def]
        assert Path(args[0]).name == "useradd" and args[-2:] == ["--", "placer-test_1$"]
        created.append(args[-1])
        return subprocess.CompletedProcess(args, 0, "", "")

    monkeypatch.setattr(os, "geteuid", lambda: 0)
    monkeypatch.setenv("PLACER_PG_USER", "placer-test_1$")
    monkeypatch.setattr(pwd, "getpwnam", lookup)
    monkeypatch.setattr(pwd, "getpwuid", lambda uid: lookup("placer-test_1$"))
    monkeypatch.setattr(postgres_server, "USER_LOCK_DIRS", (str(tmp_path),))
    monkeypatch.setattr(postgres_server, "_useradd", lambda name: "/usr/sbin/useradd")  # (if missing here)
    monkeypatch.setattr(subprocess, "run", useradd)
    assert _RunAs.resolve() == _RunAs(999, 998) and created == ["placer-test_1$"]


@needs_postgres
@pytest.mark.skipif(not (shutil.which("localedef") and Path("/usr/share/i18n/locales/en_US").is_file()),
                    reason="localedef or its locale sources not installed: no latin-1 locale can be made")
def test_a_user_under_a_latin1_locale_gets_a_server(monkeypatch):
    # initdb took the user's locale, whose encoding must match -E UTF8: under a latin-1 one every
    # run failed with "initdb failed: initdb: error: encoding mismatch"
    made = Path(tempfile.mkdtemp(prefix="placer-test-locales-"))
    try:
        made.chmod(0o755)  # (read by the server's unprivileged user too)
        built = subprocess.run(["localedef", "-i", "en_US", "-f", "ISO-8859-1", str(made / "en_US.ISO-8859-1")],
                               capture_output=True, text=True, timeout=120)
        if not (made / "en_US.ISO-8859-1").is_dir():
            pytest.skip(f"localedef could not build a latin-1 locale: {built.stderr.strip()[:200]}")
        monkeypatch.setenv("LOCPATH", str(made))
        monkeypatch.setenv("LC_ALL", "en_US.ISO-8859-1")
        with closing(PostgresBackend("tpcb", scale=1, duration_s=1, repeats=1, clients=1)) as latin1:
            result = latin1.run_trial({})
        assert result.ok, result.error
    finally:
        shutil.rmtree(made, ignore_errors=True)


@pytest.mark.parametrize("start", ["run", "popen"])
def test_a_server_program_the_process_limit_keeps_from_starting_is_one_refusal(monkeypatch, start):
    """fork's EAGAIN (the system's limit on processes met; simulated) starting initdb, the
    server or pgbench read as "cannot write the output: Resource temporarily unavailable"."""
    import errno

    from learned_systems.config.postgres_backend import _RunAs
    from learned_systems.errors import Unavailable

    def no_fork(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise BlockingIOError(errno.EAGAIN, "Resource temporarily unavailable")

    monkeypatch.setattr(subprocess, "Popen", no_fork)
    with pytest.raises(Unavailable) as caught:
        getattr(_RunAs(None, None), start)(["/usr/lib/postgresql/15/bin/pgbench", "-i"])
    assert str(caught.value) == ("cannot start pgbench: the system's limit on threads/processes was met (Resource "
                                 "temporarily unavailable); end other processes (PostgreSQL starts one per client)")


def _dynamic_segments(data: Path) -> set[str]:
    """The /dev/shm files (PostgreSQL's dynamic shared memory) that the processes working in
    ``data`` (the postmaster and its children) map."""
    found: set[str] = set()
    for process in Path("/proc").iterdir():
        try:
            if process.name.isdigit() and (process / "cwd").resolve() == data.resolve():
                maps = (process / "maps").read_text().splitlines()
                found |= {line.split()[-1] for line in maps if "/dev/shm/PostgreSQL." in line}
        except OSError:
            continue  # (gone meanwhile, or not ours to read)
    return found


@needs_postgres
@pytest.mark.skipif(not Path("/proc/sysvipc/shm").exists(), reason="no /proc/sysvipc/shm to read")
def test_a_killed_postmaster_leaves_no_shared_memory(backend):
    """kill -9 of a trial's postmaster (the OOM killer) left its System V segment (ipcs -m)
    and its /dev/shm/PostgreSQL.* files behind for good, once its folder was removed."""
    data = backend._copy()
    with PostgresServer(backend.binaries, backend.run_as, data) as server:
        pid = server._process.pid
        key, shmid = (int(v) for v in (data / "postmaster.pid").read_text().splitlines()[6].split())
        dynamic = _dynamic_segments(data)
        os.kill(pid, signal.SIGKILL)
        server._process.wait()
    try:
        segments = [row.split() for row in Path("/proc/sysvipc/shm").read_text().splitlines()[1:]]
        assert shmid not in {int(row[1]) for row in segments}
        assert dynamic and [name for name in dynamic if Path(name).exists()] == []
        assert not data.parent.exists()
    finally:  # (what the old code left behind, removed so the machine does not keep it)
        subprocess.run(["ipcrm", "-m", str(shmid)], capture_output=True)
        for name in dynamic:
            Path(name).unlink(missing_ok=True)
