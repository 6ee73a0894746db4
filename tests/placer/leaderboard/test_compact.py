"""The leaderboard's runs read a chunk at a time into compact columns: the frame pandas makes of
all the rows at once, each repeated text held once."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
import pytest

from placer.leaderboard.compact import frame_of_row_chunks

#: Columns as SQLite hands them over: text and NULL, whole numbers, whole numbers and NULL,
#: floats and NULL, a column NULL in its first rows only, one of text and numbers mixed (a file
#: edited by hand), one of whole numbers and floats.
ROWS = [
    ("d1", 0, 2, 0.5, None, "x", 1),
    ("d1", 1, None, None, None, 1.5, 2.5),
    ("d2", 2, 2, 0.25, None, 3, 3),
    (None, 3, 1, 1.0, "note", None, 4.0),
    ("d2", 4, None, 2.0, "note", "x", 5),
]
COLUMNS = ["text", "whole", "whole_or_null", "float_or_null", "null_at_first", "mixed", "whole_and_float"]


def same_value(a: Any, b: Any) -> bool:
    """Equal, of one type, NaN beside NaN and None beside None only."""
    if a is None or b is None:
        return a is b
    if isinstance(a, float) and math.isnan(a):
        return isinstance(b, float) and math.isnan(b)
    return type(a) is type(b) and a == b


@pytest.mark.parametrize("size", [1, 2, 3, 5])
def test_chunks_make_the_frame_of_all_rows_at_once(size: int) -> None:
    """However the rows are cut, each column has the dtype and values ``from_records`` gives the
    whole column (a chunk of NULL only, or of whole numbers beside NULL, no other)."""
    whole = pd.DataFrame.from_records(ROWS, columns=COLUMNS)
    chunked = frame_of_row_chunks(COLUMNS, (ROWS[i:i + size] for i in range(0, len(ROWS), size)))
    assert list(chunked.columns) == COLUMNS and chunked.index.equals(whole.index)
    for column in COLUMNS:
        assert chunked[column].dtype == whole[column].dtype, column
        assert all(map(same_value, chunked[column].tolist(), whole[column].tolist())), column


def test_a_repeated_text_is_one_object_and_no_rows_make_an_empty_frame() -> None:
    """SQLite returns a new string per row: a name or path 100,000 times over was 100,000
    strings (the bulk of the leaderboard's bytes per row at its peak)."""
    rows = [(str(1000 + i // 4), f"/suite/{i // 4}/netlist.pb.txt") for i in range(12)]
    frame = frame_of_row_chunks(["design", "path"], (rows[i:i + 5] for i in range(0, 12, 5)))
    assert frame["design"].tolist() == [r[0] for r in rows]
    for column in ("design", "path"):
        assert len({id(v) for v in frame[column].tolist()}) == 3  # (three distinct texts)
    assert frame_of_row_chunks(["a"], iter([])).shape == (0, 0)
