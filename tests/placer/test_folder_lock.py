"""One writer per output folder: a second job is refused at once; a dead holder blocks nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from placer.folder_lock import FolderBusy, exclusive_folder


def test_a_second_writer_is_refused_and_the_lock_frees_afterwards(tmp_path: Path) -> None:
    with exclusive_folder(tmp_path / "out"):
        with pytest.raises(FolderBusy, match=r"in use by pid \d+: wait for it"):
            with exclusive_folder(tmp_path / "out"):
                pass
    with exclusive_folder(tmp_path / "out"):  # released on exit
        pass


def test_a_killed_holder_leaves_no_stale_lock(tmp_path: Path) -> None:
    holder = (
        "import os, signal\n"
        "from placer.folder_lock import exclusive_folder\n"
        f"with exclusive_folder({str(tmp_path)!r}):\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    assert subprocess.run([sys.executable, "-c", holder], check=False).returncode == -9
    with exclusive_folder(tmp_path):
        pass


def test_tune_into_a_busy_folder_is_one_line_and_exit_2(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from placer.cli import app

    args = ["tune", "--system", "index", "--workload", "uniform", "--trials", "1",
            "--rows", "2000", "--repeats", "1", "--out", str(tmp_path)]  # fmt: skip
    with exclusive_folder(tmp_path):
        result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output
    assert "is in use by pid" in result.output
    assert not (tmp_path / "results.sqlite").exists()


def test_a_lock_path_that_is_a_folder_is_named(tmp_path: Path) -> None:
    (tmp_path / ".placer.lock").mkdir()
    with pytest.raises(OSError, match=r"\.placer\.lock: the lock file of this folder is not a file"):
        with exclusive_folder(tmp_path):
            pass


def test_a_lock_path_that_is_a_link_is_refused_and_its_target_kept(tmp_path: Path) -> None:
    """A ``.placer.lock`` link (from an archive, a shared folder) was opened through and
    emptied: the file it pointed to lost its contents; a dangling one made its target."""
    from placer.folder_lock import LOCK_NAME, holder_of

    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    runs = tmp_path / "runs"
    runs.mkdir()
    (runs / LOCK_NAME).symlink_to(victim)
    with pytest.raises(OSError, match=r"\.placer\.lock: the lock file of this folder is a link"):
        with exclusive_folder(runs):
            pytest.fail("the block ran on a linked lock")
    assert victim.read_text() == "precious"
    assert holder_of(runs) is None  # (not read through the link either)
    (runs / LOCK_NAME).unlink()
    (runs / LOCK_NAME).symlink_to(tmp_path / "made")  # dangling
    with pytest.raises(OSError, match="is a link"), exclusive_folder(runs):
        pass
    assert not (tmp_path / "made").exists()


def test_a_link_made_between_the_check_and_the_open_is_not_followed(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from placer import folder_lock

    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    lock = tmp_path / folder_lock.LOCK_NAME
    real_open = os.open

    def link_first(path, *args, **kwargs):  # type: ignore[no-untyped-def]
        if Path(path) == lock and not lock.is_symlink():
            lock.symlink_to(victim)  # another user's link, after the lstat
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(folder_lock.os, "open", link_first)
    with pytest.raises(OSError, match="is a link or not a file"), exclusive_folder(tmp_path):
        pass
    assert victim.read_text() == "precious"


def test_a_linked_lock_is_one_line_and_exit_2(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from placer.cli import app

    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    runs = tmp_path / "runs"
    runs.mkdir()
    (runs / ".placer.lock").symlink_to(victim)
    args = ["tune", "--system", "index", "--workload", "uniform", "--trials", "1",
            "--rows", "2000", "--repeats", "1", "--out", str(runs)]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output
    assert "placer: error:" in result.output and ".placer.lock: the lock file of this folder is a link" in result.output
    assert victim.read_text() == "precious"


def test_a_folder_made_for_a_run_refused_at_once_is_removed_again(tmp_path: Path) -> None:
    """placer train with an unreadable design left OUT holding only .placer.lock."""
    from typer.testing import CliRunner

    from placer.cli import app

    (tmp_path / "bad.pb.txt").write_text("garbage\n")
    result = CliRunner().invoke(app, ["train", "--out", str(tmp_path / "run"), "--netlist",
                                      str(tmp_path / "bad.pb.txt"), "--timesteps", "8"])
    assert result.exit_code == 2, result.output
    assert not (tmp_path / "run").exists()
    kept = tmp_path / "kept"
    kept.mkdir()
    with exclusive_folder(kept):  # a folder that was there stays, lock file aside
        pass
    assert kept.is_dir()
    with exclusive_folder(tmp_path / "used"):
        (tmp_path / "used" / "result.txt").write_text("x")
    assert (tmp_path / "used" / "result.txt").is_file()


_WITHOUT_FCNTL = """
import sys
sys.modules["fcntl"] = None  # no such module, as on Windows
from placer.launch import main
sys.argv = ["placer", *sys.argv[1:]]
main()
"""


def test_without_flock_one_design_places_and_a_runs_folder_is_refused_in_one_line(tmp_path: Path) -> None:
    """Windows has no fcntl: its import at the top of this module (reached through the batch
    module) ended `placer place` of even one design, and train and tune, in a traceback."""
    one = subprocess.run([sys.executable, "-c", _WITHOUT_FCNTL, "place", "default", "--algo", "greedy",
                          "--budget-s", "1", "--out", str(tmp_path / "one.plc"), "--quiet"],
                         capture_output=True, text=True, timeout=300)  # fmt: skip
    assert one.returncode == 0 and (tmp_path / "one.plc").is_file(), one.stderr
    out = tmp_path / "tune"
    refused = subprocess.run([sys.executable, "-c", _WITHOUT_FCNTL, "tune", "--system", "index", "--workload",
                              "uniform", "--trials", "1", "--out", str(out)],
                             capture_output=True, text=True, timeout=300)  # fmt: skip
    assert refused.returncode == 2 and not out.exists(), refused.stderr
    assert refused.stderr.strip().splitlines() == [
        "placer: error: writing a runs folder needs POSIX file locks (flock), which Windows lacks: "
        "run placer under WSL, Linux or macOS"]  # fmt: skip


def test_a_full_disk_names_the_lock_file_and_leaves_no_folder(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """On a full disk the lock's write failed as a bare 'No space left on device' (no path),
    and the folder just made for the run stayed behind holding an empty lock file."""
    import errno
    import os

    from placer import folder_lock

    def full(fd: int, data: bytes) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(folder_lock.os, "write", full)
    runs = tmp_path / "runs"
    with pytest.raises(OSError) as caught, folder_lock.exclusive_folder(runs):
        pytest.fail("the block ran without its lock written")
    assert caught.value.filename == str(runs / folder_lock.LOCK_NAME)
    assert caught.value.errno == errno.ENOSPC and "No space left on device" in caught.value.strerror
    assert not runs.exists()


def test_a_lock_taken_on_a_file_its_holder_just_unlinked_is_taken_again(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # a holder ending removes a folder it made with its lock file: a second run that opened the
    # file just before held a lock on an unlinked file, and a third then took the folder too
    from placer import folder_lock
    from placer.folder_lock import LOCK_NAME, check_not_busy

    opened = []
    open_lock = folder_lock._open_lock

    def open_then_lose(path: Path):  # type: ignore[no-untyped-def]
        handle = open_lock(path)
        if not opened:
            Path(path).unlink()  # the ending holder's unlink, between our open and our lock
        opened.append(path)
        return handle

    monkeypatch.setattr(folder_lock, "_open_lock", open_then_lose)
    with exclusive_folder(tmp_path / "runs"):
        assert (tmp_path / "runs" / LOCK_NAME).is_file()
        with pytest.raises(FolderBusy):  # the file there now is the one held
            check_not_busy(tmp_path / "runs")
    assert len(opened) == 2  # the lost try and the one kept


def test_a_folder_removed_between_its_making_and_the_open_is_made_again(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from placer import folder_lock

    calls = []
    open_lock = folder_lock._open_lock

    def lose_folder_once(path: Path):  # type: ignore[no-untyped-def]
        calls.append(path)
        if len(calls) == 1:
            Path(path).parent.rmdir()  # the ending holder's rmdir
        return open_lock(path)

    monkeypatch.setattr(folder_lock, "_open_lock", lose_folder_once)
    with exclusive_folder(tmp_path / "runs"):
        (tmp_path / "runs" / "row").write_text("x")
    assert (tmp_path / "runs" / "row").is_file() and len(calls) == 2
    # a folder there before, removed by its maker's end and made again here, is ours to remove
    calls.clear()
    (tmp_path / "old").mkdir()
    with exclusive_folder(tmp_path / "old"):
        pass  # (refused at once: only the lock in it)
    assert not (tmp_path / "old").exists()


def test_a_folder_another_run_fills_as_the_maker_ends_is_left_without_an_error(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import errno

    def not_empty(self: Path) -> None:  # another run made its lock in it after our unlink
        raise OSError(errno.ENOTEMPTY, "Directory not empty", str(self))

    monkeypatch.setattr(Path, "rmdir", not_empty)
    with exclusive_folder(tmp_path / "runs"):
        pass  # refused at once: the folder holds only the lock
    assert (tmp_path / "runs").is_dir()


def test_a_nested_hold_is_reused_by_its_own_thread_only(tmp_path: Path) -> None:
    """A script that reads a run folder's files before train() locks it held nothing
    meanwhile; with nested=True its hold covers train()'s own call and is still refused to
    other threads and processes."""
    import threading

    from placer.folder_lock import holder_of

    out = tmp_path / "out"
    seen: list[object] = []

    def other_thread() -> None:
        seen.append(holder_of(out))
        try:
            with exclusive_folder(out):
                seen.append("taken")
        except FolderBusy as busy:
            seen.append(busy)

    with exclusive_folder(out, nested=True):
        assert holder_of(out) is None  # its own hold is not another's
        with exclusive_folder(out):  # e.g. train()'s own
            assert (out / ".placer.lock").read_text() == f"pid {os.getpid()}"
            worker = threading.Thread(target=other_thread, daemon=True)
            worker.start()
            worker.join(timeout=120)
            assert not worker.is_alive()  # (a deadlock fails, not hangs)
        assert (out / ".placer.lock").read_text() == f"pid {os.getpid()}"  # still held after the inner block
        script = f"from placer.folder_lock import exclusive_folder\nwith exclusive_folder({str(out)!r}): pass\n"
        other = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False)
        assert other.returncode != 0 and "FolderBusy" in other.stderr
    assert seen[0] == f"pid {os.getpid()}" and isinstance(seen[1], FolderBusy)
    with exclusive_folder(out), pytest.raises(FolderBusy):  # a plain hold stays closed to nesting
        with exclusive_folder(out):
            pass
    assert not out.exists()  # made for the nested hold, removed when it ended


def test_a_nested_hold_is_not_reused_by_a_forked_child_a_copied_context_or_after_its_end(tmp_path: Path) -> None:
    """The holds lived in a context variable: a child forked inside the block, and an
    asyncio.to_thread worker (a copy of the context), entered the folder too; and two nested
    holds ended out of order put back the first's hold after its lock was given up."""
    import asyncio
    import multiprocessing
    from contextlib import ExitStack

    from placer.folder_lock import holder_of

    a, b = tmp_path / "a", tmp_path / "b"
    enter = _try_to_enter
    with exclusive_folder(a, nested=True):
        fork = multiprocessing.get_context("fork")
        with fork.Pool(1) as pool:
            assert pool.apply(enter, (a,)) == "refused"
        assert asyncio.run(asyncio.to_thread(enter, a)) == "refused"
    first, second = ExitStack(), ExitStack()
    first.enter_context(exclusive_folder(a, nested=True))
    second.enter_context(exclusive_folder(b, nested=True))
    first.close()  # a's hold ends first (its folder, made for it, removed): another process takes a
    script = f"import time\nfrom placer.folder_lock import exclusive_folder\nwith exclusive_folder({str(a)!r}):\n    print('in', flush=True); time.sleep(30)\n"
    other = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert other.stdout is not None and other.stdout.readline().strip() == "in"
        second.close()
        assert holder_of(a) == f"pid {other.pid}" and enter(a) == "refused"
    finally:
        other.kill()
        other.wait()


def _try_to_enter(folder: Path) -> str:
    """Whether this thread may take ``folder``'s lock now ("entered") or not ("refused")."""
    try:
        with exclusive_folder(folder):
            return "entered"
    except FolderBusy:
        return "refused"
