"""``--help`` tables that keep option names whole in a narrow terminal.

Typer draws each help panel as a rich table whose columns all may shrink: at 70 columns
``placer train --help`` read ``--checkpoint-eve…`` and ``--no-progress,--…`` (the ``--quiet``
after it hidden), since rich narrows every wrappable column once the help text is as narrow as
they are. Here a column whose every cell is one word (option and argument names, the required
mark) keeps its width (while those take at most half the width: below that they fold), and the help text (the last column) folds a word longer than its
column onto the next line instead of cutting it off (``learning_rate=3e-4,`` read
``learning_rate=3…`` at 70 columns). Typer builds these tables from
``typer.rich_utils.Table``; :func:`keep_names_whole` points that name at :class:`HelpTable`.
Best effort: a Typer drawing its help otherwise keeps its own layout. The name is replaced
for the whole process (any other Typer app in it draws its help with these tables too).
"""

from __future__ import annotations

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderResult
from rich.measure import Measurement
from rich.table import Column, Table
from rich.text import Text


def _one_word(cell: object) -> bool:
    """Whether ``cell`` is text without a space (an option's names, Typer's ``*`` mark)."""
    text = cell.plain if isinstance(cell, Text) else cell
    return isinstance(text, str) and not any(c.isspace() for c in text)


def _width(cell: object) -> int:
    """The columns ``cell``'s text takes on one line."""
    return cell_len(cell.plain if isinstance(cell, Text) else str(cell))


def _settle(columns: list[Column], width: int) -> None:
    """Keep the one-word columns whole, while together they take at most half of ``width``
    (else they fold, rather than leave the help a few columns: 40 columns say), and fold the
    last column's text (Typer groups each option's help, default and required mark in a rich
    ``Columns``: its texts are folded each, as that draws them in a table of its own)."""
    cells = {id(column): list(column.cells) for column in columns}
    one_word = [column for column in columns[:-1]
                if cells[id(column)] and all(_one_word(cell) for cell in cells[id(column)])]
    names_width = sum(max(_width(cell) for cell in cells[id(column)]) for column in one_word)
    for column in one_word:
        if names_width <= width // 2:
            column.no_wrap = True
        else:
            column.overflow = "fold"
    if not columns:
        return
    columns[-1].overflow = "fold"
    for cell in cells[id(columns[-1])]:
        for part in getattr(cell, "renderables", [cell]):
            if isinstance(part, Text) and part.overflow is None:
                part.overflow = "fold"


class HelpTable(Table):
    """A rich table whose one-word columns keep their width (see the module docstring)."""

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        _settle(self.columns, options.max_width)
        yield from super().__rich_console__(console, options)

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        _settle(self.columns, options.max_width)
        return super().__rich_measure__(console, options)


def keep_names_whole() -> None:
    """Draw Typer's help tables as :class:`HelpTable` (where Typer builds them from rich's
    ``Table`` named in ``typer.rich_utils``)."""
    try:
        import typer.rich_utils as typer_rich
    except ImportError:  # (a Typer without rich: click's plain help, which never cuts names)
        return
    if getattr(typer_rich, "Table", None) is Table:
        typer_rich.Table = HelpTable  # type: ignore[misc]
