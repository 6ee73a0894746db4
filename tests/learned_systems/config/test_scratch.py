"""Scratch directories of a dead run are found by their owner record and removed."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from learned_systems.config import scratch
from learned_systems.config.scratch import OWNER_FILE, make_scratch, stale_scratch, sweep_stale
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


def test_sweep_removes_stale_directories_even_when_the_hook_fails(tmp_path):
    dead = _folder(tmp_path, "run-a", f"{_gone_pid()} 1")
    alive = _folder(tmp_path, "run-b", f"{os.getpid()} -")
    seen = []

    def hook(folder: Path) -> None:
        seen.append(folder)
        raise RuntimeError("server already gone")

    assert sweep_stale("run-", hook, tmp_path) == 1
    assert seen == [dead] and not dead.exists() and alive.exists()


def test_sqlite_backend_sweeps_trial_copies_of_a_killed_run(tmp_path):
    leftover = Path(tempfile.mkdtemp(prefix=TRIAL_PREFIX))
    (leftover / OWNER_FILE).write_text(f"{_gone_pid()} 1")
    (leftover / "trial.db").write_bytes(b"\0" * 1024)
    SQLiteBackend(make_workload("ycsb-a", rows=100), template_dir=tmp_path)
    assert not leftover.exists()
