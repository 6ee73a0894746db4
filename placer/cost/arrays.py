"""Array helpers of the cost modules that numpy's own versions make slow."""

from __future__ import annotations

import numpy as np


def sorted_unique(keys: np.ndarray) -> np.ndarray:
    """The distinct values of the 1-D integer array ``keys``, ascending: what ``np.unique(keys)``
    returns, found by a sort.

    numpy 2.3 and later find the distinct values of an integer array with a hash table, which
    on this project's machines is some 25 times slower than sorting: 160 ms against 6 ms for
    ibm17's 190,000 net-cell keys, most of a full cost evaluation.
    """
    ordered = np.sort(keys)
    first = np.empty(ordered.size, dtype=bool)
    first[:1] = True
    np.not_equal(ordered[1:], ordered[:-1], out=first[1:])
    return ordered[first]
