"""Docstrings and table-like lines filled again to a terminal's width, between words."""

from __future__ import annotations

from placer.commands.wrapping import hang_under_second_column, reflow

DOC = """\
A method that does things (see module docstring).

Options (keyword arguments):
    alpha: the first option, whose text runs long enough to need a second line
        in its source (0.5).
    beta: short (1).

* a bullet whose text also runs long enough to be wrapped onto
  a second line here
* another

    f(x) = x ** 2
"""


def test_paragraphs_entries_and_bullets_are_refilled_with_their_indents() -> None:
    """Each entry is joined and filled again, its later lines under its hanging indent."""
    text = reflow(DOC, 40)
    assert max(map(len, text.splitlines())) <= 40
    assert text.split() == DOC.split()  # every word, in order, none split
    lines = text.splitlines()
    assert lines[:4] == ["A method that does things (see module", "docstring).", "", "Options (keyword arguments):"]
    alpha = lines.index(next(line for line in lines if line.startswith("    alpha: ")))
    beta = lines.index("    beta: short (1).")
    assert all(line.startswith("        ") for line in lines[alpha + 1:beta])  # under its source's indent
    bullet = lines.index(next(line for line in lines if line.startswith("* a bullet")))
    assert lines[bullet + 1].startswith("  ") and not lines[bullet + 1].startswith("   ")
    assert "* another" in lines and "    f(x) = x ** 2" in lines  # its own line, its indent kept


def test_a_word_wider_than_the_width_keeps_its_own_line_whole() -> None:
    word = "learned_systems.tuners.register_tuner"
    assert f"see {word} here" in " ".join(reflow(f"see {word} here", 20).split())
    assert word in reflow(f"see {word} here", 20).splitlines()


def test_a_table_line_wraps_under_its_second_column() -> None:
    line = "  page_size           1024, 2048, 4096, 8192  (default 4096): database page size in bytes"
    wrapped = hang_under_second_column(line, 60).splitlines()
    assert wrapped[0].startswith("  page_size           1024,") and len(wrapped) == 2
    assert wrapped[1].startswith(" " * 22) and not wrapped[1].startswith(" " * 23)
    assert hang_under_second_column("  short  line", 60) == "  short  line"
