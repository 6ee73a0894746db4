"""Opening text files that may be gzip-compressed (decompressed up to a cap), with clear
errors."""

from __future__ import annotations

import gzip
import io
import json
import os
import re
import secrets
import stat
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import IO, Any

from netlists.errors import NetlistError


def is_gzip(path: Path) -> bool:
    """Whether ``path`` is named as gzip data (``.gz`` in any case: ``OUT.PLC.GZ`` was
    accepted as a compressed output and written as plain text)."""
    return path.suffix.lower() == ".gz"


class _ReproducibleGzipFile(gzip.GzipFile):
    """A gzip file written with no name and no time in its header, closing the file it writes
    into: ``gzip.open`` recorded the hidden temporary's name (``gzip -N`` restores that name)
    and the time, so equal inputs never gave equal ``.gz`` files."""

    def __init__(self, path: Path, mode: str) -> None:
        self._raw = open(path, mode)
        try:
            super().__init__(filename="", mode=mode, fileobj=self._raw, mtime=0)
        except BaseException:
            self._raw.close()
            raise

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._raw.close()


def read_text(path: str | Path) -> str:
    """Whole text of ``path`` (gunzipped when it ends in ``.gz`` or starts like gzip, up to a
    cap, :func:`gunzip_capped`; a UTF-8 byte-order mark dropped, ``\r\n`` and lone ``\r``
    line ends made ``\n`` so that every reader numbers lines alike); NetlistError when
    unreadable."""
    path = Path(path)
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):  # a FIFO waited forever, /dev/zero filled
            raise NetlistError("not a regular file (a folder, a pipe or a device)", path)  # memory
        data = path.read_bytes()
    except FileNotFoundError:
        raise NetlistError("no such file", path) from None
    except OSError as exc:
        raise NetlistError(f"cannot read file: {exc.strerror}", path) from None
    if is_gzip(path) or data[:2] == b"\x1f\x8b":
        return _decoded_text(gunzip_capped(data, path), path)
    return _decoded_text(data, path)


def _decoded_text(data: bytes | bytearray, path: Path) -> str:
    """``data`` as text, for :func:`read_text`."""
    try:
        text = data.decode("utf-8-sig")  # a leading byte-order mark is not part of the text
    except UnicodeDecodeError as exc:
        line = len(_LINE_END.split(data[: exc.start]))
        raise NetlistError("expected UTF-8 text, found undecodable bytes", path, line) from None
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


#: The environment variable that sets the cap on a gzip file's decompressed size, in bytes.
MAX_DECOMPRESSED_ENV = "PLACER_MAX_DECOMPRESSED_BYTES"

#: The default cap on a gzip file's decompressed size: 2 GiB. The largest design of the shared
#: suite (ibm17) is 29 MB of text, and a design of a few million cells (the largest public
#: Bookshelf benchmarks) some hundreds of MB per file, so no real design file comes near it;
#: reading ibm17 peaks at about four times its text in memory (bytes, text, parsed design), so
#: a file at the cap still parses on a machine of 16 GB, while a gzip bomb (a few MB that
#: inflate to tens of GB) is refused before it exhausts memory.
DEFAULT_MAX_DECOMPRESSED_BYTES = 2 * 1024**3

#: Bytes decompressed per step: small beside the cap, large enough that Python's loop costs
#: nothing beside zlib's work.
_GUNZIP_CHUNK = 1024**2


def max_decompressed_bytes(path: Path) -> int:
    """The cap on ``path``'s decompressed size: :data:`MAX_DECOMPRESSED_ENV` when set (a
    whole number of bytes), else :data:`DEFAULT_MAX_DECOMPRESSED_BYTES`; NetlistError, naming
    ``path`` and the variable, for a value that is no whole number."""
    raw = os.environ.get(MAX_DECOMPRESSED_ENV, "").strip()
    if not raw:
        return DEFAULT_MAX_DECOMPRESSED_BYTES
    if not (raw.isascii() and raw.isdigit()):
        raise NetlistError(f"cannot read its gzip data: {MAX_DECOMPRESSED_ENV}={raw!r} is not a whole "
                           "number of bytes (e.g. 4294967296 for 4 GiB)", path)
    return int(raw)


def gunzip_capped(data: bytes, path: Path) -> bytearray:
    """``data`` gunzipped, every member of a multi-member file in turn (as ``gzip.decompress``
    reads them), streamed in chunks so that no more than one byte past the cap
    (:func:`max_decompressed_bytes`) is ever decompressed: NetlistError naming ``path``, the
    cap and how to raise it as soon as the output passes the cap, and for corrupt or truncated
    data."""
    cap = max_decompressed_bytes(path)
    out = bytearray()
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data), mode="rb") as stream:
            while chunk := stream.read(min(_GUNZIP_CHUNK, cap + 1 - len(out))):
                out += chunk
                if len(out) > cap:
                    raise NetlistError(
                        f"gzip data decompresses to more than {cap:,} bytes, the cap that guards "
                        f"against gzip bombs; if the file is genuine, set {MAX_DECOMPRESSED_ENV} to "
                        "a larger number of bytes", path)
    except (OSError, EOFError, zlib.error) as exc:
        raise NetlistError(f"corrupt gzip data ({exc})", path) from None
    return out


#: A line end as Python's universal newlines read it (``\r\n``, ``\r`` or ``\n``).
_LINE_END = re.compile(rb"\r\n|\r|\n")


def plain_number(text: str, integer: bool = False) -> float:
    """``text`` as a float (an int with ``integer``), as every design format writes numbers:
    ValueError for Python's digit grouping (``"3_0"``) and for digits other than ASCII ones
    (``"٣"``, ``"８"``), which ``float`` and ``int`` accept."""
    if "_" in text or not text.isascii():
        raise ValueError(text)
    return int(text) if integer else float(text)


def temporary_beside(path: Path, suffix: str = ".tmp") -> Path:
    """A fresh hidden name in ``path``'s folder for writing ``path`` through (a short prefix of
    its name, the process and a random part: a fixed ``NAME.tmp`` name overwrote and removed a
    user's file of that name, wrote through a link of that name, and made a 255-byte name
    too long); ``suffix`` last (``.gz`` keeps a temporary compressed)."""
    start = os.fsdecode(os.fsencode(path.name)[:100])  # bytes, not characters: 60 emoji are 240
    return path.with_name(f".{start}.{os.getpid()}-{secrets.token_hex(4)}{suffix}")


@contextmanager
def folders_locked(folders: Iterable[Path]) -> Iterator[None]:
    """Hold an exclusive ``flock`` on each folder itself (its directory handle, so no lock file
    is left behind) for the block, waiting for another holder; each folder once, however its
    paths name it, taken in the order of its device and inode numbers, so two writers of
    overlapping folder sets cannot wait on each other. Where the platform has no
    ``flock`` (Windows), a folder cannot be opened or its file system refuses the lock (NFS
    emulates ``flock`` with locks a read-only directory handle cannot take), that folder is not
    locked: the writes go on as before this lock."""
    try:
        import fcntl
    except ImportError:  # Windows: nothing to lock with
        yield
        return
    with ExitStack() as held:
        # one handle per folder, whatever the paths it is named by (a link, another case on a
        # file system that ignores case): a second flock of one folder waited on the first forever
        handles: dict[tuple[int, int], int] = {}
        for folder in {os.path.abspath(f) for f in folders}:
            try:
                handle = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
            except OSError:
                continue  # (the renames into it fail next, naming it)
            held.callback(os.close, handle)
            info = os.fstat(handle)
            handles.setdefault((info.st_dev, info.st_ino), handle)
        for key in sorted(handles):  # (one order for every process, however it names them)
            try:
                fcntl.flock(handles[key], fcntl.LOCK_EX)  # (released by the close)
            except OSError:
                pass
        yield


def write_atomically(writers: Mapping[Path, Callable[[Path], object]]) -> None:
    """Write files as one set: each writer fills a fresh temporary beside its path
    (:func:`temporary_beside`), and only once every one succeeded are they renamed into place:
    a kill or a full disk leaves the earlier files whole, never half a file or a new one beside
    an old one of the set; the temporaries are removed. The renames of a set of two or more
    run with its folders locked (:func:`folders_locked`): two commands writing the same set at
    once (two ``placer generate`` of one name) leave one command's whole set, not one's
    netlist beside the other's placement. An OSError naming no file (a full disk's "No space
    left on device") is raised naming the output it was writing."""
    staged = {path: temporary_beside(path, ".tmp.gz" if is_gzip(path) else ".tmp") for path in writers}
    current: Path | None = None
    try:
        for current, write in writers.items():
            write(staged[current])
        folders = [path.parent for path in staged] if len(staged) > 1 else []
        with folders_locked(folders):
            for current, tmp in staged.items():
                tmp.replace(current)
    except OSError as error:
        if error.filename is None and error.errno is not None and current is not None:
            raise OSError(error.errno, error.strerror or str(error), str(current)) from None
        raise
    finally:
        for tmp in staged.values():
            tmp.unlink(missing_ok=True)


def text_writer(text: str) -> Callable[[Path], None]:
    """A :func:`write_atomically` writer of ``text`` (gzip when the name ends in ``.gz``);
    text that names a file whose name is not UTF-8 keeps its bytes (surrogate escapes)."""

    def write(temporary: Path) -> None:
        with open_text(temporary, "x") as fh:  # (exclusive: never through a link or over a file)
            fh.write(text)

    return write


def write_text_atomic(path: str | Path, text: str) -> Path:
    """Write ``text`` to ``path`` through a temporary file (:func:`write_atomically`)."""
    path = Path(path)
    write_atomically({path: text_writer(text)})
    return path


def open_text(path: str | Path, mode: str = "w") -> IO[str]:
    """Open for text writing, through gzip when the name ends in ``.gz``."""
    path = Path(path)
    if is_gzip(path):
        return io.TextIOWrapper(_ReproducibleGzipFile(path, mode + "b"), encoding="utf-8", errors="surrogateescape")
    return open(path, mode, encoding="utf-8", errors="surrogateescape")


def json_loads(text: str | bytes | bytearray) -> Any:
    """:func:`json.loads`, with JSON nested past Python's recursion limit refused as any damaged
    text is (a :class:`json.JSONDecodeError`, a ValueError): json raised RecursionError there,
    which every reader catching ValueError for a damaged row or file let through as a bug of
    ours (exit 70). The message keeps json's own words."""
    try:
        return json.loads(text)
    except RecursionError as error:
        doc = text if isinstance(text, str) else bytes(text).decode(errors="replace")
        raise json.JSONDecodeError(str(error), doc, 0) from None
