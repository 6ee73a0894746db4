"""Finding what the PostgreSQL server needs: its unprivileged user (made once, under a lock,
however many first runs start at once), its binaries (one version's) and the system tools it
runs. Users, lookups and programs are simulated: no user is made."""

from __future__ import annotations

import errno
import multiprocessing
import os
import pwd
import subprocess
import time
from pathlib import Path

import pytest

from learned_systems.config import postgres_server
from learned_systems.config.postgres_server import PostgresUnavailable, _RunAs


def _entry(name: str, uid: int) -> pwd.struct_passwd:
    return pwd.struct_passwd((name, "x", uid, uid - 1, "", "/", "/usr/sbin/nologin"))


@pytest.fixture
def as_root(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """This process seen as root, its user-making lock in ``tmp_path`` (returned)."""
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    monkeypatch.setattr(postgres_server, "USER_LOCK_DIRS", (str(tmp_path),), raising=False)
    monkeypatch.setenv("PLACER_PG_USER", "placer-test-pg")
    tmp_path.chmod(0o700)
    return tmp_path


def _users(monkeypatch: pytest.MonkeyPatch, table: dict[str, int]) -> None:
    """pwd's lookups read ``table`` (name: uid), which a test may change as it goes."""

    def by_name(name: str) -> pwd.struct_passwd:
        if name not in table:
            raise KeyError(name)
        return _entry(name, table[name])

    def by_uid(uid: int) -> pwd.struct_passwd:
        for name, known in table.items():
            if known == uid:
                return _entry(name, uid)
        raise KeyError(uid)

    monkeypatch.setattr(pwd, "getpwnam", by_name)
    monkeypatch.setattr(pwd, "getpwuid", by_uid)


def _useradd(monkeypatch: pytest.MonkeyPatch, table: dict[str, int], uid: int | None, status: int) -> list[list[str]]:
    """useradd simulated: it adds the user with ``uid`` (None: adds nothing) and exits with
    ``status``; returns the commands it got."""
    ran: list[list[str]] = []

    def useradd(args: list[str], **kwargs: object) -> subprocess.CompletedProcess:
        ran.append(args)
        if uid is not None:
            table[args[-1]] = uid
        return subprocess.CompletedProcess(args, status, "", "useradd: user 'placer-test-pg' already exists\n")

    monkeypatch.setattr(subprocess, "run", useradd)
    monkeypatch.setattr(postgres_server, "_useradd", lambda name: "/usr/sbin/useradd", raising=False)
    return ran


def test_a_user_another_run_made_during_useradd_is_looked_up_not_refused(as_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two first runs at once: the second's useradd says "already exists" (status 9), as the
    other run made the user after the look-up; it was a refusal."""
    table: dict[str, int] = {}
    _users(monkeypatch, table)
    ran = _useradd(monkeypatch, table, 996, 9)
    assert _RunAs.resolve() == _RunAs(996, 995)
    assert len(ran) == 1 and ran[0][-2:] == ["--", "placer-test-pg"]


def test_the_user_is_looked_up_again_under_the_lock(as_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Made by another run while this one waited for the lock: found, no second useradd."""
    table: dict[str, int] = {}
    _users(monkeypatch, table)
    ran = _useradd(monkeypatch, table, None, 0)
    locks: list[Path] = []
    real_lock = postgres_server._exclusive_lock

    def lock(*paths: Path):  # type: ignore[no-untyped-def]
        locks.append(paths[0])
        table["placer-test-pg"] = 995  # the other run, holding the lock, made it
        return real_lock(*paths)

    monkeypatch.setattr(postgres_server, "_exclusive_lock", lock)
    assert _RunAs.resolve() == _RunAs(995, 994)
    assert locks == [as_root / postgres_server.USER_LOCK_NAME] and ran == []


def test_a_user_whose_uid_is_another_users_is_refused(as_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A user made twice at once had two uids: the one looked up by name, which the system
    named as no user, failed initdb ("could not look up effective user ID 995")."""
    monkeypatch.setattr(pwd, "getpwnam", lambda name: _entry(name, 995))

    def no_uid(uid: int) -> pwd.struct_passwd:
        raise KeyError(uid)

    monkeypatch.setattr(pwd, "getpwuid", no_uid)
    with pytest.raises(PostgresUnavailable, match=r"'placer-test-pg' has uid 995, which the system names as no user"):
        _RunAs.resolve()
    table = {"someone-else": 995, "placer-test-pg": 996}  # (the name's uid changed since its look-up)
    looked_up = iter([_entry("placer-test-pg", 995)])
    monkeypatch.setattr(pwd, "getpwnam", lambda name: next(looked_up, None) or _entry(name, table[name]))
    monkeypatch.setattr(pwd, "getpwuid", lambda uid: _entry("someone-else", uid))
    with pytest.raises(PostgresUnavailable, match=r"names as 'someone-else'"):
        _RunAs.resolve()


def test_an_alias_of_another_users_uid_is_taken(as_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two names of one uid (the uid names the other) were refused as "made twice?"."""
    _users(monkeypatch, {"placer-pg": 995, "placer-test-pg": 995})
    assert _RunAs.resolve() == _RunAs(995, 994)


def test_an_alias_of_root_is_refused_as_root(as_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """PLACER_PG_USER=toor (uid 0) read "names as 'root' (was the user made twice?)"."""
    _users(monkeypatch, {"root": 0, "toor": 0})
    monkeypatch.setenv("PLACER_PG_USER", "toor")
    with pytest.raises(PostgresUnavailable, match=r"PLACER_PG_USER=toor is root, and PostgreSQL refuses"):
        _RunAs.resolve()


def _hold(path: str, log: str, name: str) -> None:
    """In another process: take the lock, note its start and end around a pause."""
    with postgres_server._exclusive_lock(Path(path)):
        with open(log, "a") as out:
            out.write(f"{name} in\n")
        time.sleep(0.3)
        with open(log, "a") as out:
            out.write(f"{name} out\n")


def test_the_user_lock_serialises_processes(tmp_path: Path) -> None:
    """Two processes taking the lock at once: one's block ends before the other's begins."""
    lock, log = tmp_path / "user.lock", tmp_path / "log"
    context = multiprocessing.get_context("fork")
    holders = [context.Process(target=_hold, args=(str(lock), str(log), name)) for name in "ab"]
    for holder in holders:
        holder.start()
    for holder in holders:
        holder.join(30)
        assert holder.exitcode == 0
    steps = [tuple(line.split()) for line in log.read_text().splitlines()]
    first, second = steps[0][0], steps[2][0]
    assert first != second  # one's block, then the other's
    assert steps == [(first, "in"), (first, "out"), (second, "in"), (second, "out")]


def test_the_user_lock_is_never_taken_through_a_link(tmp_path: Path) -> None:
    target = tmp_path / "target"
    target.write_text("kept")
    (tmp_path / "user.lock").symlink_to(target)
    with pytest.raises(PostgresUnavailable, match="cannot open the lock file"):
        with postgres_server._exclusive_lock(tmp_path / "user.lock"):
            pass
    assert target.read_text() == "kept"


def test_the_user_lock_lives_in_a_folder_only_root_writes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """/run/lock is writable by every user (a planted link or a lock held for ever): skipped."""
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o777)
    shared.chmod(0o1777)
    private = tmp_path / "private"
    private.mkdir(mode=0o755)
    monkeypatch.setattr(postgres_server, "USER_LOCK_DIRS", (str(tmp_path / "none"), str(shared), str(private)))
    assert postgres_server._user_lock_paths()[0] == private / postgres_server.USER_LOCK_NAME


def test_a_lock_folder_the_file_cannot_be_made_in_gives_way_to_the_next(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A root-only folder on a read-only file system (/sys, a read-only /run) was taken, and
    making the lock file there failed the run; a link where the lock goes is still refused."""
    read_only, private = tmp_path / "read-only", tmp_path / "private"
    read_only.mkdir(mode=0o755)
    private.mkdir(mode=0o755)
    monkeypatch.setattr(postgres_server, "USER_LOCK_DIRS", (str(read_only), str(private)))
    real_open = os.open
    opened: list[str] = []

    def open_(path: str | Path, flags: int, mode: int = 0o777) -> int:
        opened.append(str(path))
        if Path(path).parent == read_only:
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))
        return real_open(path, flags, mode)

    monkeypatch.setattr(postgres_server.os, "open", open_)
    with postgres_server._user_creation_lock():
        assert (private / postgres_server.USER_LOCK_NAME).is_file()
    assert opened == [str(read_only / postgres_server.USER_LOCK_NAME), str(private / postgres_server.USER_LOCK_NAME)]
    (private / postgres_server.USER_LOCK_NAME).unlink()
    (private / postgres_server.USER_LOCK_NAME).symlink_to(tmp_path / "elsewhere")
    with pytest.raises(PostgresUnavailable, match=f"cannot open the lock file {private}"):
        with postgres_server._user_creation_lock():
            pass
    assert not (tmp_path / "elsewhere").exists()


def test_a_missing_useradd_is_named_with_its_remedies(as_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A root shell's PATH without /usr/sbin read "placer: error: useradd: No such file or
    directory"."""
    _users(monkeypatch, {})
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.setattr(postgres_server, "SBIN_DIRS", ("/nonexistent/sbin",), raising=False)
    with pytest.raises(PostgresUnavailable, match=r"cannot create the unprivileged server user 'placer-test-pg': "
                                                  r"useradd not found .*set PLACER_PG_USER.*add /usr/sbin to PATH"):
        _RunAs.resolve()


def test_useradd_is_found_in_sbin_when_path_lacks_it(as_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    table: dict[str, int] = {}
    _users(monkeypatch, table)
    sbin = as_root / "sbin"
    sbin.mkdir()
    (sbin / "useradd").write_text("#!/bin/sh\nexit 1\n")
    (sbin / "useradd").chmod(0o755)
    ran: list[list[str]] = []

    def useradd(args: list[str], **kwargs: object) -> subprocess.CompletedProcess:
        ran.append(args)
        table[args[-1]] = 997
        return subprocess.CompletedProcess(args, 0, "", "")

    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.setattr(postgres_server, "SBIN_DIRS", ("/nonexistent/sbin", str(sbin)), raising=False)
    monkeypatch.setattr(subprocess, "run", useradd)
    assert _RunAs.resolve() == _RunAs(997, 996)
    assert [args[0] for args in ran] == [str(sbin / "useradd")]


def test_useradd_outside_path_is_the_first_executable_one_in_sbin_order(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """PATH's useradd first; else the first of SBIN_DIRS holding an executable one (a file
    without its executable bit is passed over)."""
    folders = [tmp_path / name for name in ("plain", "first", "second")]
    for folder in folders:
        folder.mkdir()
        (folder / "useradd").write_text("#!/bin/sh\nexit 0\n")
    (folders[1] / "useradd").chmod(0o755)
    (folders[2] / "useradd").chmod(0o755)
    monkeypatch.setattr(postgres_server, "SBIN_DIRS", tuple(str(folder) for folder in folders), raising=False)
    monkeypatch.setenv("PATH", "/nonexistent")
    assert postgres_server._useradd("u") == str(folders[1] / "useradd")
    monkeypatch.setenv("PATH", str(folders[2]))
    assert postgres_server._useradd("u") == str(folders[2] / "useradd")


def test_a_missing_test_program_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The server user's access check runs ``test``: missing, it read "test: No such file or
    directory"."""
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(PostgresUnavailable, match=r"test not found on PATH \('/nonexistent'\): install coreutils"):
        _RunAs(None, None).can_enter(tmp_path)


def test_a_missing_cp_is_refused_before_any_work(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each trial copies the template with ``cp``: missing, every trial failed with "No such
    file or directory" (or the run stopped at the access check's ``test``)."""
    from learned_systems.config import postgres_backend

    fake = {name: f"/nonexistent/{name}" for name in postgres_server.BINARIES}
    monkeypatch.setattr(postgres_backend, "find_binaries", lambda: fake)
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(PostgresUnavailable, match=r"cp not found on PATH .*install coreutils"):
        postgres_backend.PostgresBackend("tpcb", scale=1)


def _installed(monkeypatch: pytest.MonkeyPatch, on_path: dict[str, str], folders: dict[str, set[str]]) -> None:
    """``on_path``: what PATH finds (name: path); ``folders``: what each folder holds."""
    executables = {f"{folder}/{name}" for folder, names in folders.items() for name in names}
    versioned = [folder for folder in folders if folder.startswith("/usr/lib/postgresql/")]
    monkeypatch.setattr(postgres_server.shutil, "which", lambda name: on_path.get(name))
    monkeypatch.setattr(postgres_server.os, "access", lambda path, mode: str(path) in executables)
    monkeypatch.setattr(postgres_server.glob, "glob",
                        lambda pattern: list(versioned) if pattern == "/usr/lib/postgresql/*/bin" else [])


ALL = set(postgres_server.BINARIES)


def test_binaries_come_from_the_newest_version_that_holds_them_all(monkeypatch: pytest.MonkeyPatch) -> None:
    """Versions sorted as text put 9.6 above 15, and each binary looked up on its own mixed
    versions (16's server with 15's pgbench)."""
    _installed(monkeypatch, {}, {"/usr/lib/postgresql/9.6/bin": ALL, "/usr/lib/postgresql/15/bin": ALL,
                                 "/usr/lib/postgresql/16/bin": ALL - {"pgbench"}})
    assert postgres_server.find_binaries() == {name: f"/usr/lib/postgresql/15/bin/{name}" for name in ALL}


def test_path_binaries_split_over_folders_give_way_to_one_folder_holding_all(monkeypatch: pytest.MonkeyPatch) -> None:
    """A server in /usr/local/bin and Debian's pgbench wrapper in /usr/bin were used together."""
    on_path = {name: f"/opt/pg16/bin/{name}" for name in ("initdb", "pg_ctl", "postgres")}
    _installed(monkeypatch, {**on_path, "pgbench": "/nonexistent/bin/pgbench"},
               {"/opt/pg16/bin": ALL - {"pgbench"}, "/usr/lib/postgresql/15/bin": ALL})
    assert postgres_server.find_binaries() == {name: f"/usr/lib/postgresql/15/bin/{name}" for name in ALL}
    whole = {name: f"/opt/pg16/bin/{name}" for name in ALL}
    _installed(monkeypatch, whole, {"/usr/lib/postgresql/15/bin": ALL})
    assert postgres_server.find_binaries() == whole  # (PATH's, all in one folder, first)


def test_binaries_no_one_folder_holds_are_used_with_a_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    _installed(monkeypatch, {"pgbench": "/nonexistent/bin/pgbench"},
               {"/usr/lib/postgresql/16/bin": ALL - {"pgbench"}})
    with pytest.warns(postgres_server.MixedBinariesWarning, match="put one version's bin folder first on PATH"):
        found = postgres_server.find_binaries()
    assert found["pgbench"] == "/nonexistent/bin/pgbench" and found["postgres"] == "/usr/lib/postgresql/16/bin/postgres"
    _installed(monkeypatch, {}, {"/usr/lib/postgresql/16/bin": ALL - {"pgbench"}})
    with pytest.raises(PostgresUnavailable, match="PostgreSQL binaries not found: pgbench"):
        postgres_server.find_binaries()


def _bin_folder(folder: Path, names: set[str]) -> Path:
    """``folder`` made, holding executable stubs named ``names``."""
    folder.mkdir(parents=True)
    for name in names:
        (folder / name).write_text("#!/bin/sh\nexit 0\n")
        (folder / name).chmod(0o755)
    return folder


def test_a_whole_folder_later_on_path_wins_over_one_with_only_some(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Debian's pgbench wrapper in /usr/bin ahead of a whole PostgreSQL 17 folder on PATH: the
    split look-up gave way to /usr/lib/postgresql/15/bin, silently passing over PATH's."""
    usrbin = _bin_folder(tmp_path / "usrbin", {"pgbench"})
    pg17 = _bin_folder(tmp_path / "pg17" / "bin", ALL)
    pg15 = _bin_folder(tmp_path / "lib" / "15" / "bin", ALL)
    monkeypatch.setattr(postgres_server, "LOCAL_BIN", str(tmp_path / "local"))
    monkeypatch.setattr(postgres_server, "VERSIONED_BINS", str(tmp_path / "lib" / "*" / "bin"))
    for path, chosen in [(f"{usrbin}:{pg17}", pg17), (f"{pg17}:{usrbin}", pg17), (str(usrbin), pg15),
                         (f"{usrbin}::{pg15}:{pg17}", pg15)]:  # fmt: skip
        monkeypatch.setenv("PATH", path)
        assert postgres_server.find_binaries() == {name: str(chosen / name) for name in ALL}, path
