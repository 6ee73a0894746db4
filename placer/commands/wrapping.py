"""Plain text wrapped to the terminal, between words: the documentation ``placer methods``
prints and the knob list of ``placer tune --knobs``.

They were printed with the line lengths of their source (up to ~200 columns), which a terminal
of 80 breaks wherever the edge falls (``densi`` | ``ty_weight``). Here each paragraph, list
item and option entry of a docstring is joined and filled again to the width, keeping its
indentation and its hanging indent; nothing is cut and no word is split.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass, field

#: The widest the text is filled on a wide terminal (as wide as the docstrings are written).
MAX_WIDTH = 100

#: A list item: ``* text``, ``- text``, ``1. text``.
_BULLET = re.compile(r"(?:[*-]|\d+\.) ")

#: An indented entry of a list of names: ``name: text`` (an option and what it does).
_ENTRY = re.compile(r"[\w.\-`]+: ")

#: How far an entry's lines after its first are indented, where its source has none.
_ENTRY_HANG = 4


def terminal_width() -> int:
    """The width to fill to: the terminal's, as rich reads it (80 off a terminal, ``COLUMNS``
    where set), at most :data:`MAX_WIDTH`."""
    from rich.console import Console

    return max(20, min(MAX_WIDTH, Console().width))


@dataclass
class _Block:
    """Source lines read as one paragraph or item: where it starts, how its later lines hang."""

    indent: int
    item: bool
    parts: list[str] = field(default_factory=list)
    hang: int | None = None

    def filled(self, width: int) -> str:
        if self.hang is not None:
            hang = self.hang
        elif not self.item:
            hang = self.indent
        else:
            bullet = _BULLET.match(self.parts[0])
            hang = self.indent + (bullet.end() if bullet else _ENTRY_HANG)
        return fill(" ".join(self.parts), width, " " * self.indent, " " * hang)


def fill(text: str, width: int, first: str = "", later: str = "") -> str:
    """``text`` filled to ``width`` between words (a word wider than that keeps its own line)."""
    return textwrap.fill(text, width, initial_indent=first, subsequent_indent=later,
                         break_long_words=False, break_on_hyphens=False)


def _blocks(text: str) -> Iterator[_Block | None]:
    """``text``'s paragraphs and items in order, None for each blank line.

    A line continues the block above it when it hangs under an item (indented more than the
    item's first line) or, in a paragraph, starts where the paragraph's lines start; a list
    item, or a line indented otherwise, starts a block of its own."""
    block: _Block | None = None
    for line in text.splitlines():
        words = line.strip()
        if not words:
            if block is not None:
                yield block
            block = None
            yield None
            continue
        indent = len(line) - len(line.lstrip())
        item = bool(_BULLET.match(words)) or (indent > 0 and bool(_ENTRY.match(words)))
        if block is not None and not item and (
            (block.item and indent > block.indent) or (not block.item and indent == block.indent)
        ):
            if block.item and block.hang is None:
                block.hang = indent
            block.parts.append(words)
            continue
        if block is not None:
            yield block
        block = _Block(indent, item, [words])
    if block is not None:
        yield block


def reflow(text: str, width: int) -> str:
    """``text`` (a docstring laid out at another width) filled again to ``width``: each
    paragraph, list item and indented ``name: text`` entry joined and filled between words,
    with its indentation and hanging indent; blank lines kept."""
    return "\n".join("" if block is None else block.filled(width) for block in _blocks(text))


def hang_under_second_column(line: str, width: int) -> str:
    """A table-like line (``  name   values ...``) filled to ``width``, its later lines
    starting under the second column (the whole line where it fits)."""
    if len(line) <= width:
        return line
    columns = re.match(r"\s*\S+\s+", line)
    hang = columns.end() if columns and columns.end() < width // 2 else len(line) - len(line.lstrip()) + _ENTRY_HANG
    return fill(line.strip(), width, line[: len(line) - len(line.lstrip())], " " * hang)
