"""Scratch directories of a dead run are found by their owner record and removed."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from learned_systems.config import scratch
from learned_systems.config.scratch import (
    OWNER_FILE,
    LeftoverWarning,
    make_scratch,
    stale_scratch,
    sweep_stale,
)
from learned_systems.config.sqlite_backend import TRIAL_PREFIX, SQLiteBackend
from learned_systems.config.workloads import make_workload


def _folder(parent: Path, name: str, owner: str | None) -> Path:
    folder = parent / name
    folder.mkdir()
    (folder / "data").write_text("x")
    if owner is not None:
        (folder / OWNER_FILE).write_text(owner)
    return folder


def _gone_pid() -> int:
    """A pid whose process has exited and been reaped."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_owner_record_names_this_process():
    with make_scratch("placer-test-") as folder:
        pid, started, host = (Path(folder) / OWNER_FILE).read_text().split()
        assert int(pid) == os.getpid() and host == scratch._HOST
        assert started == (scratch._start_time(os.getpid()) or "-")
        assert Path(folder) not in stale_scratch("placer-test-")


def test_only_directories_of_dead_owners_are_stale(tmp_path):
    me = os.getpid()
    ours = _folder(tmp_path, "run-ours", f"{me} {scratch._start_time(me)}")
    dead = _folder(tmp_path, "run-dead", f"{_gone_pid()} 1")
    reused = _folder(tmp_path, "run-reused", f"{me} 1")  # our pid, another start: pid reuse
    unknown = _folder(tmp_path, "run-unknown", None)  # not ours, or still being created
    garbled = _folder(tmp_path, "run-garbled", "not a pid")
    _folder(tmp_path, "other-dead", f"{_gone_pid()} 1")  # another prefix
    this_host = _folder(tmp_path, "run-dead-here", f"{_gone_pid()} 1 {scratch._HOST}")
    # a folder shared with another machine: a pid of theirs means nothing here
    elsewhere = _folder(tmp_path, "run-elsewhere", f"{_gone_pid()} 1 another-machine")
    stale = set(stale_scratch("run-", tmp_path))
    assert stale == {dead, reused, this_host}
    assert {ours, unknown, garbled, elsewhere}.isdisjoint(stale)


def test_an_exited_owner_not_yet_reaped_is_dead(tmp_path):
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    try:
        deadline = time.monotonic() + 30
        # the child exits at once; we have not waited for it yet, so it stays a zombie
        while scratch._stat_fields(child.pid)[scratch._STATE] != "Z":
            assert time.monotonic() < deadline
            time.sleep(0.01)
        zombie = _folder(tmp_path, "run-zombie", f"{child.pid} {scratch._start_time(child.pid)}")
        assert stale_scratch("run-", tmp_path) == [zombie]
    finally:
        child.wait()


def test_sweep_keeps_a_stale_directory_whose_hook_fails(tmp_path):
    """A folder whose server could not be stopped was removed all the same: a server still
    running from it lost its files and could no longer be stopped by its folder."""
    dead = _folder(tmp_path, "run-a", f"{_gone_pid()} 1")
    alive = _folder(tmp_path, "run-b", f"{os.getpid()} -")
    seen = []

    def hook(folder: Path) -> None:
        seen.append(folder)
        raise RuntimeError("server already gone")

    with pytest.warns(LeftoverWarning, match=r"run-a \(RuntimeError: server already gone\).*folder is kept"):
        assert sweep_stale("run-", hook, tmp_path) == 0
    assert seen == [dead] and (dead / OWNER_FILE).exists() and alive.exists()
    assert sweep_stale("run-", None, tmp_path) == 1  # the next sweep tries again
    assert not dead.exists()


@pytest.mark.parametrize("failure", [OSError(2, "No such file or directory"),
                                     subprocess.TimeoutExpired(["pg_ctl", "stop"], 60)])
def test_a_server_that_cannot_be_stopped_is_named_in_a_warning(tmp_path, failure):
    """A failure stopping a dead run's server was swallowed: a postmaster still running there
    lost its folder without a word."""
    dead = _folder(tmp_path, "run-a", f"{_gone_pid()} 1")

    def stop(folder: Path) -> None:
        raise failure

    with pytest.warns(LeftoverWarning, match=rf"in {dead} \({type(failure).__name__}: "):
        assert sweep_stale("run-", stop, tmp_path) == 0
    assert dead.exists()


def test_a_programming_error_stopping_a_leftover_server_is_raised(tmp_path):
    """A bug in the stop hook (a TypeError) was swallowed with every other error."""
    dead = _folder(tmp_path, "run-a", f"{_gone_pid()} 1")

    def buggy(folder: Path) -> None:
        raise TypeError("expected str, bytes or os.PathLike object, not NoneType")

    with pytest.raises(TypeError, match="not NoneType"):
        sweep_stale("run-", buggy, tmp_path)
    assert dead.exists()  # left for a sweep without the bug


def test_sqlite_backend_sweeps_trial_copies_of_a_killed_run(tmp_path):
    leftover = Path(tempfile.mkdtemp(prefix=TRIAL_PREFIX))
    (leftover / OWNER_FILE).write_text(f"{_gone_pid()} 1")
    (leftover / "trial.db").write_bytes(b"\0" * 1024)
    SQLiteBackend(make_workload("ycsb-a", rows=100), template_dir=tmp_path)
    assert not leftover.exists()


def test_a_live_owner_whose_pid_means_nothing_here_keeps_its_folder(tmp_path):
    """A process in another PID namespace (a container sharing /tmp, same host name): its pid
    looked dead or reused here, and the sweep deleted the folder of a running trial. The
    owner's lock on its record is seen from here."""
    code = (
        "import sys, time\n"
        "from learned_systems.config.scratch import make_scratch\n"
        f"s = make_scratch('run-', {str(tmp_path)!r})\n"
        "print(s.name, flush=True)\n"
        "time.sleep(30)\n"
    )
    owner = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        folder = Path(owner.stdout.readline().strip())
        with open(folder / OWNER_FILE, "r+") as record:  # as seen from another namespace
            record.write(f"{_gone_pid()} 1 {scratch._HOST}\n")
            record.truncate()
        assert stale_scratch("run-", tmp_path) == []
        assert sweep_stale("run-", parent=tmp_path) == 0 and folder.is_dir()
    finally:
        owner.kill()
        owner.wait()
    assert stale_scratch("run-", tmp_path) == [folder]  # its lock went with it


def test_links_other_users_records_and_garbled_pids_are_left_alone(tmp_path):
    """A link named like a stale folder (its target's cluster was stopped by the PostgreSQL
    hook), a record another user wrote, and a pid past any pid (an OverflowError traceback at
    every run) are not ours to sweep."""
    target = _folder(tmp_path, "elsewhere", f"{_gone_pid()} 1")
    (tmp_path / "run-link").symlink_to(target)
    huge = _folder(tmp_path, "run-huge", f"{10**20} 1 {scratch._HOST}")
    theirs = _folder(tmp_path, "run-theirs", f"{_gone_pid()} 1 {scratch._HOST}")
    if os.geteuid() == 0:
        os.chown(theirs / OWNER_FILE, 65534, 65534)
        expected = []
    else:
        expected = [theirs]  # (only root can give a file away)
    calls = []
    assert stale_scratch("run-", tmp_path) == expected
    sweep_stale("run-", before_removal=calls.append, parent=tmp_path)
    assert target.is_dir() and (target / "data").is_file() and huge.is_dir()
    assert calls == expected


def test_a_scratch_dropped_without_cleanup_closes_its_descriptor_once(tmp_path: Path) -> None:
    """A copy of a backend dropped without close() kept its owner-record descriptor open for the
    process's life (one per copy); cleanup then a drop must not close the number twice."""
    import copy
    import gc

    def open_fds() -> int:
        return len(os.listdir("/proc/self/fd"))

    original = make_scratch("test-drop-", tmp_path)
    gc.collect()  # (earlier tests' garbage closing its files inside the loop read as fewer fds)
    before = open_fds()
    for _ in range(5):
        duplicate = copy.deepcopy(original)
        assert duplicate.name != original.name
        del duplicate
        gc.collect()
    assert open_fds() == before
    original.cleanup()
    with open(tmp_path / "bystander.txt", "w") as bystander:  # may reuse the freed number
        del original
        gc.collect()
        bystander.write("still open")
    assert (tmp_path / "bystander.txt").read_text() == "still open"


@pytest.mark.parametrize("removal", ["cleanup", "sweep"])
def test_a_removal_cut_short_keeps_the_owner_record_for_the_next_sweep(tmp_path: Path, monkeypatch, removal) -> None:  # type: ignore[no-untyped-def]
    """A second Ctrl-C during the removal of a PostgreSQL scratch folder (its own, or a dead
    run's swept) often took the owner record first: the folder left had no record, and no
    sweep ever removed it."""
    if removal == "cleanup":
        scratch = make_scratch("placer-test-cut-", parent=tmp_path)
        folder = Path(scratch.name)
    else:
        folder = _folder(tmp_path, "placer-test-cut-dead", f"{_gone_pid()} 1")
        (folder / "data").unlink()
    (folder / "cluster").mkdir()
    for k in range(10):
        (folder / f"f{k}").write_text("x")
        (folder / "cluster" / f"g{k}").write_text("x")
    unlinked = []
    real_unlink = os.unlink

    def unlink(path, *args, **kwargs):  # type: ignore[no-untyped-def]
        if len(unlinked) == 20:  # every other file is gone: the 21st is the record
            raise KeyboardInterrupt
        unlinked.append(os.fspath(path))
        return real_unlink(path, *args, **kwargs)

    monkeypatch.setattr(os, "unlink", unlink)
    with pytest.raises(KeyboardInterrupt):
        scratch.cleanup() if removal == "cleanup" else sweep_stale("placer-test-cut-", parent=tmp_path)
    monkeypatch.undo()
    assert (folder / OWNER_FILE).exists() and not any(OWNER_FILE in p for p in unlinked)


def test_without_flock_a_scratch_folder_is_refused_by_name(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Windows has no fcntl: the module's import failed, taking SQLite tuning down with a
    traceback; now only making a scratch folder is refused, saying why."""
    monkeypatch.setattr(scratch, "fcntl", None)
    with pytest.raises(OSError, match="need POSIX file locks .* WSL"):
        make_scratch("placer-test-", tmp_path)
    assert list(tmp_path.iterdir()) == []
