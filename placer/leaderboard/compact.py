"""A results database's rows as one DataFrame built a chunk at a time, its columns compact.

SQLite hands every value of every row over as a Python object of its own: a design name, a
path or a commit 100,000 times over is 100,000 strings, and each float a 24-byte object. Read
whole (``fetchall``, then a DataFrame of the tuples), a 100,000-row folder held the tuples,
those objects and the frame at once, ~3.1 KB a row at the leaderboard's peak (~1.1 KB read
this way: ``experiments/results/leaderboard_scale.md``). Here each chunk's numbers become
numpy arrays and its repeated texts one shared string per distinct value before the next
chunk is read.
The frame is the one ``DataFrame.from_records`` makes of all the rows at once: the same
columns, each of the dtype pandas infers from the whole column (a chunk whose column is all
NULL does not make it another)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd


def frame_of_row_chunks(columns: Sequence[str], chunks: Iterable[list[tuple[Any, ...]]]) -> pd.DataFrame:
    """The rows of ``chunks`` (tuples in ``columns``' order) as one DataFrame with a
    RangeIndex; no rows: an empty frame without columns (as ``from_records`` of none)."""
    parts: list[list[np.ndarray]] = [[] for _ in columns]
    shared: list[dict[str, str]] = [{} for _ in columns]  # per column: each text's first object
    for rows in chunks:
        for values, column_parts, texts in zip(zip(*rows, strict=True), parts, shared, strict=True):
            column_parts.append(_compact(values, texts))
        del rows  # (this chunk's tuples and duplicate texts go before the next is read)
    if not parts or not parts[0]:
        return pd.DataFrame()
    joined = {}
    for i, column in enumerate(columns):
        joined[column] = _joined(parts[i])
        parts[i] = []  # (each column's chunks freed once joined)
    return pd.DataFrame(joined, copy=False)


def _compact(values: tuple[Any, ...], texts: dict[str, str]) -> np.ndarray:
    """One chunk of a column: a numpy array where it holds only whole numbers (int64) or only
    floats and NULL (float64, NULL as NaN), as pandas reads them; else its objects (``None``
    for NULL) with every text replaced by the first equal one seen in the column. (Whole
    numbers beside NULL, which pandas reads as floats, stay objects: a column that turns out to
    hold text too keeps them as they were; small ints are shared objects anyway.)"""
    kinds = set(map(type, values))
    if kinds == {int}:
        return np.array(values, dtype=np.int64)
    if float in kinds and kinds <= {float, type(None)}:
        return np.array(values, dtype=np.float64)
    objects = np.empty(len(values), dtype=object)
    if kinds <= {str, type(None)}:  # (None stands for itself as a key)
        objects[:] = list(map(texts.setdefault, values, values))
    else:  # (as keys, 1, 1.0 and True are one: only texts are shared)
        objects[:] = [texts.setdefault(v, v) if type(v) is str else v for v in values]
    return objects


def _joined(parts: list[np.ndarray]) -> pd.Series | np.ndarray:
    """A column's chunks as one column of the dtype pandas infers from all its values: numbers
    join as numbers (whole numbers and fractions as floats); otherwise every value as the
    object it was read as (numbers back to Python numbers, NULL to None) and inferred again."""
    if all(p.dtype.kind in "iuf" for p in parts):
        return np.concatenate(parts) if len(parts) > 1 else parts[0]
    objects = np.concatenate([p if p.dtype == object else _as_read(p) for p in parts])
    return pd.Series(objects.tolist(), dtype=None)


def _as_read(numbers: np.ndarray) -> np.ndarray:
    """A chunk of numbers as the Python objects SQLite returned: floats' NaN were NULL."""
    objects = numbers.astype(object)
    if numbers.dtype.kind == "f":
        objects[np.isnan(numbers)] = None
    return objects
