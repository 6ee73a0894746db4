"""Reading and writing design text: only regular files are read; writes go through a fresh
temporary name, never a fixed one beside the output."""

from __future__ import annotations

import gzip
import os
import threading
import tracemalloc
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest

from netlists.errors import NetlistError
from netlists.formats import textio
from netlists.formats.textio import MAX_DECOMPRESSED_ENV, read_text, write_text_atomic


@pytest.mark.parametrize("kind", ["fifo", "device", "folder"])
def test_only_regular_files_are_read(tmp_path: Path, kind: str) -> None:
    """A FIFO made every command wait forever; /dev/zero grew the process to ~22 GB."""
    if kind == "fifo":
        path = tmp_path / "pipe"
        os.mkfifo(path)
    elif kind == "device":
        path = Path("/dev/zero")
    else:
        path = tmp_path
    with pytest.raises(NetlistError, match="not a regular file"):
        read_text(path)


def test_a_write_never_touches_a_file_or_link_named_like_its_old_temporary(tmp_path: Path) -> None:
    """The temporary was always NAME.tmp.plc: a user's file of that name was overwritten and
    removed, and a link of that name was written through."""
    (tmp_path / "x.tmp.plc").write_text("precious\n")
    (tmp_path / "target.txt").write_text("keep\n")
    (tmp_path / "y.tmp.plc").symlink_to(tmp_path / "target.txt")
    write_text_atomic(tmp_path / "x.plc", "placed\n")
    write_text_atomic(tmp_path / "y.plc", "placed\n")
    assert (tmp_path / "x.tmp.plc").read_text() == "precious\n"
    assert (tmp_path / "target.txt").read_text() == "keep\n"
    assert (tmp_path / "x.plc").read_text() == (tmp_path / "y.plc").read_text() == "placed\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["target.txt", "x.plc", "x.tmp.plc", "y.plc", "y.tmp.plc"]


def test_a_longest_file_name_and_a_name_that_is_not_utf8_are_written(tmp_path: Path) -> None:
    """A 255-byte name failed ('File name too long': its temporary was longer); text naming a
    file whose name is not UTF-8 raised UnicodeEncodeError after the work was done."""
    for name in ("a" * 251 + ".plc", "\U0001f600" * 60 + ".plc"):  # (60 emoji: 240 bytes)
        longest = tmp_path / name
        write_text_atomic(longest, "x\n")
        assert longest.read_text() == "x\n"
    odd = Path(os.fsdecode(bytes(tmp_path) + b"/\xff\xfe.plc"))
    write_text_atomic(odd, f"# {odd.name}\n")
    assert odd.read_bytes() == b"# \xff\xfe.plc\n"
    for written in (longest, odd):
        written.unlink()
    write_text_atomic(tmp_path / "z.plc.gz", "compressed\n")
    assert read_text(tmp_path / "z.plc.gz") == "compressed\n"


def test_a_failed_write_leaves_the_earlier_file_and_no_temporary(tmp_path: Path, monkeypatch) -> None:
    """(The leaderboard's and placer tune's own writers left a 0-byte .tmp on a full disk; they
    write through this one now.)"""
    from netlists.formats import textio

    path = write_text_atomic(tmp_path / "leaderboard.html", "earlier\n")

    class FullDisk:
        def __init__(self, *args, **kwargs) -> None:
            pass

        def __enter__(self):  # type: ignore[no-untyped-def]
            return self

        def __exit__(self, *exc) -> None:  # type: ignore[no-untyped-def]
            return None

        def write(self, text: str) -> int:
            raise OSError(28, "No space left on device")

    real = textio.open_text

    def opening(name, mode="w"):  # type: ignore[no-untyped-def]
        real(name, mode).close()  # the temporary exists, then the disk is full
        return FullDisk()

    monkeypatch.setattr(textio, "open_text", opening)
    with pytest.raises(OSError, match="No space left") as failed:
        write_text_atomic(path, "new\n")
    assert failed.value.filename == str(path)  # which output: the bare error named none
    assert path.read_text() == "earlier\n" and [p.name for p in tmp_path.iterdir()] == ["leaderboard.html"]


def test_gzip_outputs_are_compressed_in_any_case_and_reproducible(tmp_path: Path) -> None:
    """``OUT.PLC.GZ`` was written as plain text; every ``.gz`` held its hidden temporary's name
    and the time in its header, so equal inputs never gave equal files."""
    first, second = tmp_path / "a.PLC.GZ", tmp_path / "b.plc.gz"
    for path in (first, second):
        write_text_atomic(path, "node 1\n")
    data = first.read_bytes()
    assert data[:2] == b"\x1f\x8b" and data == second.read_bytes()
    assert data[3] == 0 and data[4:8] == bytes(4)  # no name, no comment flags; no time
    assert read_text(first) == "node 1\n"


@pytest.mark.parametrize("name", ["netlist.pb.txt.gz", "placed.plc.gz", "design.nodes"])
def test_a_gzip_bomb_is_refused_naming_the_file_the_cap_and_how_to_raise_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, gzip_bomb: Callable[[Path, int], Path], name: str
) -> None:
    """A few MB of gzip that inflate to tens of GB were decompressed whole, exhausting memory;
    now the output is streamed and refused as soon as it passes the cap (here 1 MiB, set
    through the variable; a file named without .gz is recognised by its gzip magic)."""
    bomb = gzip_bomb(tmp_path / name, 50 * 1024**2)
    assert bomb.stat().st_size < 200_000
    monkeypatch.setenv(MAX_DECOMPRESSED_ENV, str(1024**2))
    tracemalloc.start()
    try:
        with pytest.raises(NetlistError) as refused:
            read_text(bomb)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    message = str(refused.value)
    assert message.startswith(f"{bomb}: ") and "\n" not in message
    assert "more than 1,048,576 bytes" in message and MAX_DECOMPRESSED_ENV in message
    assert peak < 8 * 1024**2  # streamed: never near the 50 MB the whole output takes


def test_the_default_cap_applies_without_the_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, gzip_bomb: Callable[[Path, int], Path]) -> None:
    bomb = gzip_bomb(tmp_path / "netlist.pb.txt.gz", 4 * 1024**2)
    monkeypatch.delenv(MAX_DECOMPRESSED_ENV, raising=False)
    monkeypatch.setattr(textio, "DEFAULT_MAX_DECOMPRESSED_BYTES", 1024**2)
    with pytest.raises(NetlistError, match="more than 1,048,576 bytes"):
        read_text(bomb)
    monkeypatch.setenv(MAX_DECOMPRESSED_ENV, str(4 * 1024**2))  # the variable overrides it
    assert len(read_text(bomb)) == 4 * 1024**2


def test_gzip_text_at_the_cap_is_read_and_a_byte_more_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The cap counts every member of a multi-member file together."""
    first, second = "node {\n  name: \"a\"\n}\n" * 500, "node {\n  name: \"b\"\n}\n" * 300
    path = tmp_path / "netlist.pb.txt.gz"
    path.write_bytes(gzip.compress(first.encode()) + gzip.compress(second.encode()))
    size = len(first) + len(second)
    monkeypatch.setenv(MAX_DECOMPRESSED_ENV, str(size))
    assert read_text(path) == first + second
    monkeypatch.setenv(MAX_DECOMPRESSED_ENV, str(size - 1))
    with pytest.raises(NetlistError, match=f"more than {size - 1:,} bytes"):
        read_text(path)


def test_multi_member_gzip_is_read_whole_as_gzip_decompress_reads_it(tmp_path: Path) -> None:
    """Concatenated members (``cat a.gz b.gz``), zero padding after a member included."""
    parts = [f"part {i}\n" * (1000 * i + 1) for i in range(3)]
    data = b"".join(gzip.compress(p.encode(), compresslevel=1 + i) for i, p in enumerate(parts)) + bytes(7)
    path = tmp_path / "d.plc.gz"
    path.write_bytes(data)
    assert read_text(path) == "".join(parts) == gzip.decompress(data).decode()


@pytest.mark.parametrize("damage", ["truncated", "bad checksum", "trailing garbage", "not gzip"])
def test_corrupt_gzip_is_still_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, damage: str) -> None:
    text = b"node {\n}\n" * 2000
    good = gzip.compress(text)
    data = {
        "truncated": good[: len(good) // 2],
        "bad checksum": good[:-8] + bytes([good[-8] ^ 1]) + good[-7:],
        "trailing garbage": good + b"garbage",
        "not gzip": b"plain text, named .gz\n",
    }[damage]
    path = tmp_path / "netlist.pb.txt.gz"
    path.write_bytes(data)
    with pytest.raises((OSError, EOFError, zlib.error)):  # as gzip itself finds it
        gzip.decompress(data)
    monkeypatch.setenv(MAX_DECOMPRESSED_ENV, str(10 * len(text)))  # (far from the cap)
    with pytest.raises(NetlistError, match=f"^{path}: corrupt gzip data"):
        read_text(path)


def test_a_cap_that_is_no_whole_number_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "d.plc.gz"
    path.write_bytes(gzip.compress(b"x\n"))
    for value in ("2G", "-1", "1e9", "lots"):
        monkeypatch.setenv(MAX_DECOMPRESSED_ENV, value)
        with pytest.raises(NetlistError, match=f"{MAX_DECOMPRESSED_ENV}='{value}' is not a whole number of bytes"):
            read_text(path)


def test_plain_text_is_read_whatever_the_cap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The cap guards decompression only: a plain file is as large as it is on disk."""
    path = tmp_path / "d.plc"
    path.write_text("x\n" * 1000)
    monkeypatch.setenv(MAX_DECOMPRESSED_ENV, "10")
    assert read_text(path) == "x\n" * 1000


def _set_written_in_thread(folder: Path, tag: str) -> threading.Thread:
    """A thread writing the set {netlist.txt, initial.plc} of ``tag`` into ``folder``."""
    writers = {folder / "netlist.txt": textio.text_writer(tag), folder / "initial.plc": textio.text_writer(tag)}
    thread = threading.Thread(target=textio.write_atomically, args=(writers,))
    thread.start()
    return thread


@pytest.mark.skipif(os.name == "nt", reason="no flock on Windows")
def test_a_set_is_renamed_into_place_only_while_no_other_writer_holds_its_folder(tmp_path: Path) -> None:
    # two `placer generate` of one name at once left one run's netlist beside the other's .plc:
    # a set's renames now wait for the folder, so a writer between them cannot mix the sets
    with textio.folders_locked([tmp_path]):  # another writer in the middle of its renames
        thread = _set_written_in_thread(tmp_path, "new")
        thread.join(0.5)
        assert thread.is_alive()  # waiting for the folder
        assert not (tmp_path / "netlist.txt").exists() and not (tmp_path / "initial.plc").exists()
    thread.join(10)
    assert not thread.is_alive()
    assert (tmp_path / "netlist.txt").read_text() == (tmp_path / "initial.plc").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["initial.plc", "netlist.txt"]  # no lock file left


def test_a_single_file_waits_for_no_folder_lock(tmp_path: Path) -> None:
    with textio.folders_locked([tmp_path]):
        write_text_atomic(tmp_path / "one.txt", "x")  # would wait forever if it took the lock
    assert (tmp_path / "one.txt").read_text() == "x"


@pytest.mark.skipif(os.name == "nt", reason="no flock on Windows")
def test_a_folder_that_cannot_be_locked_is_written_unlocked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import fcntl

    def refuse(*args: object) -> None:  # as NFS refuses a read-only directory handle's lock
        raise OSError(9, "Bad file descriptor")

    monkeypatch.setattr(fcntl, "flock", refuse)
    textio.write_atomically({tmp_path / "a": textio.text_writer("a"), tmp_path / "b": textio.text_writer("b")})
    assert (tmp_path / "a").read_text() == "a" and (tmp_path / "b").read_text() == "b"


@pytest.mark.skipif(os.name == "nt", reason="no flock on Windows")
def test_a_set_naming_one_folder_by_two_paths_is_written_without_waiting_on_itself(tmp_path: Path) -> None:
    # the folder opened twice (a link to it, as another case on macOS): its second flock waited
    # on the first forever
    (tmp_path / "d").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "d")
    writers = {tmp_path / "d" / "a.txt": textio.text_writer("a"), tmp_path / "link" / "b.txt": textio.text_writer("b")}
    thread = threading.Thread(target=textio.write_atomically, args=(writers,), daemon=True)
    thread.start()
    thread.join(10)
    assert not thread.is_alive()
    assert sorted(p.name for p in (tmp_path / "d").iterdir()) == ["a.txt", "b.txt"]
