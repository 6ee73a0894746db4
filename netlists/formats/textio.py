"""Opening text files that may be gzip-compressed, with clear errors."""

from __future__ import annotations

import gzip
import io
import os
import re
import secrets
import stat
import zlib
from pathlib import Path
from typing import IO

from netlists.errors import NetlistError


def is_gzip(path: Path) -> bool:
    return path.suffix == ".gz"


def read_text(path: str | Path) -> str:
    """Whole text of ``path`` (gunzipped when it ends in ``.gz`` or starts like gzip, a UTF-8
    byte-order mark dropped, ``\r\n`` and lone ``\r`` line ends made ``\n`` so that every
    reader numbers lines alike); NetlistError when unreadable."""
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
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as exc:
            raise NetlistError(f"corrupt gzip data ({exc})", path) from None
    try:
        text = data.decode("utf-8-sig")  # a leading byte-order mark is not part of the text
    except UnicodeDecodeError as exc:
        line = len(_LINE_END.split(data[: exc.start]))
        raise NetlistError("expected UTF-8 text, found undecodable bytes", path, line) from None
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


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


def write_text_atomic(path: str | Path, text: str) -> Path:
    """Write ``text`` (gzip when the name ends in ``.gz``) through a temporary file beside
    ``path``, renamed over it at the end: a kill or a full disk never leaves half a file.
    Text that names a file whose name is not UTF-8 keeps its bytes (surrogate escapes)."""
    path = Path(path)
    tmp = temporary_beside(path, ".tmp.gz" if is_gzip(path) else ".tmp")
    try:
        with open_text(tmp, "x") as fh:  # (exclusive: never through a link or over a file)
            fh.write(text)
        tmp.replace(path)
    except BaseException as error:
        tmp.unlink(missing_ok=True)  # no half-written file left behind
        named = naming(error, path)
        if named is error:  # (a Ctrl-C, or an error naming its file: as it was)
            raise
        raise named from None
    return path


def naming(error: BaseException, path: Path) -> BaseException:
    """``error`` with ``path`` as its file when it is an OSError that names none (a full disk's
    "No space left on device" was printed without saying which output)."""
    if isinstance(error, OSError) and error.filename is None and error.errno is not None:
        return OSError(error.errno, error.strerror or str(error), str(path))
    return error


def open_text(path: str | Path, mode: str = "w") -> IO[str]:
    """Open for text writing, through gzip when the name ends in ``.gz``."""
    path = Path(path)
    if is_gzip(path):
        return io.TextIOWrapper(gzip.open(path, mode + "b"), encoding="utf-8", errors="surrogateescape")
    return open(path, mode, encoding="utf-8", errors="surrogateescape")
