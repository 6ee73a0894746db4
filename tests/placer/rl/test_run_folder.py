"""The run folder's layout, as its module's docstring tells it, against the files written."""

from __future__ import annotations

import re

import placer.rl.run_folder as run_folder


def _layout_entry(name: str) -> str:
    """The text of ``name``'s entry in the module docstring's folder layout (its first line and
    the lines indented under its description)."""
    lines = (run_folder.__doc__ or "").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"    {name} "))
    entry = [lines[start]]
    for line in lines[start + 1:]:
        if not line.startswith("     "):  # (the next file's entry, or the layout's end)
            break
        entry.append(line)
    return " ".join(entry)


def test_the_layout_names_every_column_of_curve_csv() -> None:
    """The docstring listed curve.csv's columns without wall_s, which the file has."""
    entry = _layout_entry("curve.csv")
    missing = [c for c in run_folder.CURVE_COLUMNS if not re.search(rf"\b{re.escape(c)}\b", entry)]
    assert not missing, (missing, entry)
