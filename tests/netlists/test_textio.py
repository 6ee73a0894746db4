"""Reading and writing design text: only regular files are read; writes go through a fresh
temporary name, never a fixed one beside the output."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from netlists.errors import NetlistError
from netlists.formats.textio import read_text, write_text_atomic


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
