"""Exact corners and centres. Bookshelf places a node by its lower-left corner, the model by its
centre: the writer writes corners that read back as exactly the centres (:func:`corners_from_centres`, with
the exact decimal where no float does), and the reader sums such a corner exactly
(:func:`needs_exact`, :func:`centres_from_corners`)."""

from __future__ import annotations

import math
import re
from decimal import Decimal, localcontext
from fractions import Fraction

import numpy as np

#: A plain decimal (no exponent): the form :func:`corners_from_centres` writes exact corners in.
_PLAIN_DECIMAL = re.compile(r"^[+-]?\d+(\.\d+)?$")


#: Longer than any exact corner (a float's exact decimal has at most 767 significant digits,
#: plus zeros after the point): a longer token is read as a float, not summed exactly.
_LONGEST_EXACT = 1500


def needs_exact(token: str, value: float) -> bool:
    """Whether a coordinate token is an exact corner written by :func:`corners_from_centres`: a binary
    fraction (a whole number, or decimals ending in 5) that no float equals; every such token
    has at least 16 significant digits. Its centre is then summed from the exact value. A
    float's shortest ``repr`` is not one (it only rounds to its float), and tokens with an
    exponent are read as floats (a huge exponent would make the exact value astronomically long)."""
    if not 16 <= len(token) <= _LONGEST_EXACT or _PLAIN_DECIMAL.match(token) is None:
        return False
    if "." in token and not token.endswith("5"):  # k / 2**m with m decimals ends in 5
        return False
    if Decimal(token) == Decimal(value):
        return False
    denominator = Fraction(token).denominator
    return denominator & (denominator - 1) == 0  # a power of two


def centres_from_corners(corner: np.ndarray, half: np.ndarray, origin: float) -> np.ndarray:
    """``corner + half - origin`` rounded once (``math.fsum``): the centre of each node."""
    return np.array(
        [math.fsum((c, h, -origin)) for c, h in zip(corner.tolist(), half.tolist(), strict=True)],
        dtype=np.float64,
    )


def corners_from_centres(center: np.ndarray, half: np.ndarray, origin: float) -> tuple[np.ndarray, dict[int, str]]:
    """Lower-left corners that read back as exactly ``center``: floats (``center - half +
    origin`` rounded once), and, by position, the exact decimal of the corner where no float
    reads back exactly (about one position in a hundred; e.g. a macro whose corner lies far
    further from the origin than its centre), which the reader sums exactly."""
    corner = centres_from_corners(center, -half, -origin)
    exact: dict[int, str] = {}
    with localcontext() as context:
        context.prec = 2200  # enough for the exact sum of any three floats
        for k in np.flatnonzero(centres_from_corners(corner, half, origin) != center):
            value = Decimal(float(center[k])) - Decimal(float(half[k])) + Decimal(float(origin))
            exact[int(k)] = format(value.normalize(), "f") if value else "0"
    return corner, exact
