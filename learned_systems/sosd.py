"""Key files in the SOSD benchmark's binary format, so that the learned indexes, the index
benchmark and index tuning run on the field's real datasets (``books_200M_uint64``,
``fb_200M_uint64``, ``osm_cellids_200M_uint64``, ``wiki_ts_200M_uint64``, ...) as well as on
the generated ones.

The format: an 8-byte little-endian unsigned count ``n``, then ``n`` sorted little-endian
unsigned keys, 8 bytes each (``*_uint64`` files) or 4 bytes each (``*_uint32`` files). The key
width is read from the file's size (the two cannot both fit a count above 0); a name ending in
``_uint32`` or ``_uint64`` that disagrees with it is refused, as is a size that fits neither.

Large files are memory-mapped: taking ``max_keys`` of a 200M-key file copies only those keys
into memory (an evenly spaced subset, which keeps the distribution's shape; a prefix would keep
only its smallest keys), though the whole file is read once, chunk by chunk, to check its order.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import numpy as np

from learned_systems.errors import InputError
from learned_systems.validation import whole_number

#: Bytes of the count before the keys.
HEADER_BYTES = 8

#: Keys checked for order per chunk (64 MB of uint64): a 200M-key file is checked in ~1 s
#: without holding a second copy of it.
_ORDER_CHUNK = 8_000_000

_WIDTHS: dict[int, np.dtype[Any]] = {8: np.dtype("<u8"), 4: np.dtype("<u4")}
_NAMED_WIDTH = re.compile(r"_uint(32|64)$")


class SOSDFormatError(InputError):
    """A file that is not a SOSD key file: the message names the file and what was expected."""


def _named_width(path: Path) -> re.Match[str] | None:
    """The ``_uint32`` / ``_uint64`` ending of the file's name (before a ``.bin`` / ``.dat``)."""
    return _NAMED_WIDTH.search(path.stem if path.suffix in (".bin", ".dat") else path.name)


def _key_width(path: Path, count: int, payload: int) -> int:
    """Bytes per key that make ``count`` keys fill ``payload`` bytes, checked against the name."""
    widths = [w for w in _WIDTHS if count * w == payload]
    named = _named_width(path)
    if not widths:
        raise SOSDFormatError(
            f"{path}: the header counts {count:,} keys, which take {count * 8:,} bytes as uint64 "
            f"or {count * 4:,} as uint32 after the {HEADER_BYTES}-byte count, but the file holds "
            f"{payload:,} bytes after it (a truncated download, or not a SOSD key file)"
        )
    if named is not None and count > 0 and int(named.group(1)) // 8 not in widths:
        raise SOSDFormatError(
            f"{path}: the name says uint{named.group(1)} keys, but the file's size fits "
            f"{count:,} keys of uint{widths[0] * 8}"
        )
    if named is not None:
        return int(named.group(1)) // 8
    return widths[0]


def _check_order(path: Path, keys: np.ndarray) -> None:
    """Refuse keys not sorted ascending, naming the first pair out of order, chunk by chunk."""
    for start in range(0, max(keys.size - 1, 0), _ORDER_CHUNK):
        chunk = np.asarray(keys[start : start + _ORDER_CHUNK + 1])
        down = np.flatnonzero(chunk[1:] < chunk[:-1])
        if down.size:
            i = start + int(down[0])
            raise SOSDFormatError(
                f"{path}: keys must be sorted ascending, but key {i + 1:,} ({int(keys[i + 1])}) "
                f"is below key {i:,} ({int(keys[i])}); sort the file first"
            )


def read_sosd(path: str | os.PathLike[str], max_keys: int | None = None) -> np.ndarray:
    """The sorted keys of the SOSD key file ``path`` as a read-only uint64 array.

    With ``max_keys`` below the file's count, an evenly spaced subset of that many keys (the
    first and last included) is returned, read from a memory map; otherwise every key. The
    whole file's order is checked either way.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        SOSDFormatError: the size fits neither key width, the name's width disagrees with the
            size, or the keys are not sorted.
    """
    path = Path(path)
    if max_keys is not None:
        max_keys = whole_number("max_keys", max_keys, 0)
    size = path.stat().st_size  # FileNotFoundError names the path
    if path.is_dir():
        raise SOSDFormatError(f"{path}: a folder, not a SOSD key file")
    if size < HEADER_BYTES:
        raise SOSDFormatError(
            f"{path}: {size} bytes, shorter than the {HEADER_BYTES}-byte key count a SOSD key "
            "file starts with"
        )
    with path.open("rb") as handle:
        count = int(np.frombuffer(handle.read(HEADER_BYTES), dtype="<u8")[0])
    width = _key_width(path, count, size - HEADER_BYTES)
    if count == 0:
        keys = np.zeros(0, np.uint64)
        keys.flags.writeable = False
        return keys
    mapped = np.memmap(path, dtype=_WIDTHS[width], mode="r", offset=HEADER_BYTES, shape=(count,))
    try:
        _check_order(path, mapped)
        if max_keys is not None and max_keys < count:
            picks = np.round(np.linspace(0, count - 1, max_keys)).astype(np.int64)
            keys = mapped[picks].astype(np.uint64)
        else:
            keys = np.array(mapped, dtype=np.uint64)
    finally:
        del mapped  # the map closes with its last reference
    keys.flags.writeable = False
    return keys


def write_sosd(path: str | os.PathLike[str], keys: np.ndarray, width: int = 8) -> Path:
    """Write sorted ``keys`` as a SOSD key file of ``width``-byte keys (8 or 4), whole or not
    at all (a temporary file renamed into place), and return its path.

    Raises:
        ValueError: ``keys`` unsorted, negative, or above the width's largest value.
    """
    from learned_systems.index.keys import as_sorted_keys

    if width not in _WIDTHS:
        raise InputError(f"width must be 8 (uint64) or 4 (uint32) bytes per key, got {width!r}")
    path = Path(path)
    keys = as_sorted_keys(keys)
    if width == 4 and keys.size and int(keys[-1]) > np.iinfo(np.uint32).max:
        raise InputError(f"key {int(keys[-1])} does not fit a uint32 key file (largest 2**32 - 1)")
    named = _named_width(path)
    if named is not None and int(named.group(1)) != width * 8:
        raise InputError(f"{path.name} names uint{named.group(1)} keys, but width={width} writes uint{width * 8}")
    from netlists.formats.textio import write_atomically

    def write(staged: Path) -> None:
        with staged.open("xb") as handle:  # (exclusive: never through a link or over a file)
            handle.write(np.array([keys.size], dtype="<u8").tobytes())
            keys.astype(_WIDTHS[width]).tofile(handle)

    write_atomically({path: write})
    return path
