"""A content digest of a design (netlist plus placement): the same design read twice gives
the same digest, an edit to any node, net, canvas field or placement gives another.

Runs that are resumed (training, batch placement, leaderboards pooling results) key their
designs by it rather than by name or path: a file edited in place under the same name is then
recognised as another design instead of being treated as the one already done.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from netlists.model import Netlist, Placement


def _add(h: hashlib._Hash, data: bytes) -> None:
    """Feed ``data`` to ``h`` with its length first, so that no two sequences of parts hash alike."""
    h.update(len(data).to_bytes(8, "little"))
    h.update(data)


def design_digest(netlist: Netlist, placement: Placement | None = None) -> str:
    """Hex SHA-256 of everything that defines the design (``metadata`` aside: it holds
    provenance such as file paths, not content)."""
    h = hashlib.sha256()

    def add_text(text: str) -> None:
        _add(h, text.encode("utf-8"))

    def add_array(array: np.ndarray) -> None:
        contiguous = np.ascontiguousarray(array)
        add_text(f"{contiguous.dtype.str}{contiguous.shape}")
        h.update(contiguous.tobytes())

    for f in dataclasses.fields(netlist):
        value = getattr(netlist, f.name)
        if f.name == "metadata":
            continue
        add_text(f.name)
        if isinstance(value, np.ndarray):
            add_array(value)
        elif isinstance(value, tuple):
            add_text(str(len(value)))
            for item in value:
                add_text(item)
        else:  # the name and the canvas (a dataclass of numbers, or None)
            add_text(repr(_canvas_numbers(value)) if dataclasses.is_dataclass(value) else repr(value))
    if placement is not None:
        standard = placement.standardised()  # an int64 orientation is the same placement
        for name in ("x", "y", "orientation", "fixed"):
            add_text(name)
            add_array(getattr(standard, name))
    return h.hexdigest()


def _canvas_numbers(canvas: object) -> tuple[object, ...]:
    """The canvas fields as the readers make them (Python floats and ints): a canvas holding
    ``np.float64(47.49)`` or a width given as ``100`` is the same canvas."""
    kinds = {"float": float, "int": int}
    return tuple(kinds.get(str(f.type), lambda v: v)(getattr(canvas, f.name))
                 for f in dataclasses.fields(canvas))  # type: ignore[arg-type]


def files_digest(paths: Sequence[str | Path]) -> str:
    """Hex SHA-256 of the texts of ``paths`` as the readers see them (gunzipped, line ends
    made ``\\n``), in order: a design's files copied, moved or recompressed keep their digest,
    any edit changes it. Cheaper than :func:`design_digest` (nothing is parsed).

    Raises:
        NetlistError: a file cannot be read.
    """
    from netlists.formats.textio import read_text

    h = hashlib.sha256()
    for path in paths:
        _add(h, read_text(path).encode("utf-8"))
    return h.hexdigest()
