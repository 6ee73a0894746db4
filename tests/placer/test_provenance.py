"""The provenance line every placement file a run writes begins with."""

from __future__ import annotations

from pathlib import Path

import pytest

from placer.provenance import placed_by, placed_by_in


@pytest.mark.parametrize(("budget", "expected"), [
    (5.0, "5"), (0.25, "0.25"), (0.1, "0.1"), (600.0, "600"), (1e-7, "1e-07"), (3e20, "3e+20"),
    (1234567.5, "1234567.5"), (2.0000001, "2.0000001"), (1 / 3, repr(1 / 3)),
])  # fmt: skip
def test_the_placed_by_line_writes_the_budget_exactly(tmp_path: Path, budget: float, expected: str) -> None:
    """'budget {budget_s:g} s' kept 6 digits: a run of 1234567.5 s said 1.23457e+06 s, one of
    2.0000001 s said 2 s. The number written reads back as the same float, short where it can."""
    line = placed_by("0.1.0", "greedy", 3, budget, {})
    plc = tmp_path / "x.plc"
    plc.write_text(f"# {line}\n# Columns : 2  Rows : 2\n0 1 1 N 0\n")
    said = placed_by_in(plc)
    assert said is not None and said.startswith("method greedy, seed 3, budget ") and said.endswith(" s")
    written = said.removeprefix("method greedy, seed 3, budget ").removesuffix(" s")
    assert written == expected and float(written) == budget
