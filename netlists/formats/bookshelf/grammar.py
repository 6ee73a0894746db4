"""What every Bookshelf file of a design shares, read and written alike: the file kinds (by
suffix, a gzip ``.gz`` looked through) and those a design must list, the ``# placer-gym``
comments that carry what Bookshelf has no field for (canvas figures, macro kinds), the characters
a name may not hold, and the footprint of a node turned by 90 degrees. The format and its
mapping into the model are described in :mod:`netlists.formats.bookshelf`."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from netlists.model import ORIENTATION_CODE

EXTENSIONS = (".nodes", ".nets", ".pl", ".scl")
TURNED = {ORIENTATION_CODE[o] for o in ("E", "FE", "W", "FW")}
CANVAS_COMMENT = re.compile(r"^#\s*placer-gym canvas\s*:(.*)$")
CANVAS_FIELDS = (
    "cols", "rows", "hroutes_per_micron", "vroutes_per_micron",
    "hrouting_alloc", "vrouting_alloc", "smooth_range", "overlap_threshold",
)  # fmt: skip
INTEGER_CANVAS_FIELDS = ("cols", "rows", "smooth_range")
BAD_NAME = re.compile(r"[\s#:]")
#: Files whose last line, cut inside a number, still reads as a line of the format (no end
#: marker, optional last field): one without a final line end is named in a warning.
CUT_SILENTLY = (".nodes", ".nets", ".pl", ".wts")
KIND_COMMENT = re.compile(r"^#\s*placer-gym kind\s*:\s*(\S+)\s+(hard|soft|pad)$")


def kind_suffix(path: Path) -> str:
    """A Bookshelf file's kind by its suffix, a gzip ``.gz`` after it looked through
    (``d.nodes.gz`` is a ``.nodes``; the readers decompress it)."""
    suffixes = [s.lower() for s in path.suffixes]
    if len(suffixes) >= 2 and suffixes[-1] == ".gz":
        return suffixes[-2]
    return path.suffix.lower()


def is_bookshelf_aux(path: str | Path) -> bool:
    """Whether ``path`` names a Bookshelf ``.aux`` (``.aux.gz`` too)."""
    return kind_suffix(Path(path)) == ".aux"


def is_bookshelf_pl(path: str | Path) -> bool:
    """Whether ``path`` names a Bookshelf ``.pl`` placement (``.pl.gz`` too)."""
    return kind_suffix(Path(path)) == ".pl"


def footprint_of(
    width: np.ndarray, height: np.ndarray, orient: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    turned = np.isin(orient, list(TURNED))
    return np.where(turned, height, width), np.where(turned, width, height)
