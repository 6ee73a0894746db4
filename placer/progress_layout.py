"""The layout of the CLI's two progress bars (``placer place --suite``'s and ``placer train``'s):
one line that keeps its counts and times whole at any common terminal width.

Rich lays a bar's columns out as a table and, when the line is wider than the terminal, shrinks
every column that may wrap, counts and times included: at 80 columns (every log file, many
terminals) a suite's bar read ``placing ━━━━   5… 0:0… ibm01/sa/seed4: …``. Here the counts and
times never shrink (``no_wrap``); the bar takes the room left, between a minimum and a maximum;
text that changes from run to run gets what is left after them, cut with an ellipsis.

The line also stops :data:`ECHO_ROOM` columns short of the terminal's edge: a ``^C`` echoed
after a full-width line wraps it, and rich then redraws the bar below its old copy (printed
twice). Imported only where a bar is drawn (rich is imported with it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import timedelta

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
from rich.measure import Measurement
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
)
from rich.progress_bar import ProgressBar
from rich.table import Column
from rich.text import Text

#: Columns left free at the right of a bar's line (for the terminal's echo of ``^C``).
ECHO_ROOM = 2

#: The widths a suite's bar keeps (it gives the rest to the run's text first).
BATCH_BAR_MIN, BATCH_BAR_MAX = 10, 40

#: The widest ``placer train``'s bar grows (it shrinks to what the counts leave).
STEP_BAR_MAX = 40


class ShortLineProgress(Progress):
    """A rich :class:`~rich.progress.Progress` whose lines end :data:`ECHO_ROOM` columns
    before the terminal's edge."""

    def get_renderables(self) -> Iterable[RenderableType]:
        for renderable in super().get_renderables():
            yield _ShortOfTheEdge(renderable)


class _ShortOfTheEdge:
    """``renderable`` drawn :data:`ECHO_ROOM` columns narrower than the width it is given."""

    def __init__(self, renderable: RenderableType) -> None:
        self.renderable = renderable

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield from console.render(self.renderable, options.update_width(max(1, options.max_width - ECHO_ROOM)))


def whole() -> Column:
    """A table column that keeps its text whole: the others shrink first."""
    return Column(no_wrap=True)


class FittedText:
    """``head`` + ``tail`` on one line: ``head`` cut with an ellipsis to what the width leaves,
    ``tail`` (a failure count, say) kept whole while there is room for it."""

    def __init__(self, head: str, tail: str = "") -> None:
        self.head, self.tail = head, tail

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        full = cell_len(self.head + self.tail)
        return Measurement(min(full, cell_len(self.tail) + 1), full)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = options.max_width
        head = Text(self.head, no_wrap=True, overflow="ellipsis")
        head.truncate(max(0, width - cell_len(self.tail)), overflow="ellipsis")
        line = head + self.tail
        line.no_wrap, line.overflow = True, "ellipsis"
        line.truncate(width, overflow="ellipsis")
        yield line


class _FittedDescription(ProgressColumn):
    """A task's description in the room left: its fields ``head`` (cut first) and ``tail``
    (kept whole) where the task has them, else the description, cut."""

    def render(self, task: Task) -> FittedText:
        if "head" not in task.fields:
            return FittedText(task.description)
        return FittedText(str(task.fields["head"]), str(task.fields.get("tail", "")))


class _RoomyBar(BarColumn):
    """A bar as wide as ``room(task)`` says, within ``[low, high]``."""

    def __init__(self, room: Callable[[Task], int], low: int, high: int) -> None:
        super().__init__(bar_width=high, table_column=whole())
        self._room, self._low, self._high = room, low, high

    def render(self, task: Task) -> ProgressBar:
        self.bar_width = max(self._low, min(self._high, self._room(task)))
        return super().render(task)


def elapsed_text(task: Task) -> str:
    """A task's time so far as rich writes it (H:MM:SS)."""
    seconds = task.finished_time if task.finished else task.elapsed
    return str(timedelta(seconds=max(0, int(seconds or 0))))


def batch_progress(total: int, console: Console) -> Progress:
    """The bar of a suite of ``total`` runs: ``placing``, the bar, runs done / total, the time
    so far, then the description (the last run, the best proxy: the ``head`` field, cut to the
    room left; the failure count: the ``tail`` field, kept whole).

    The bar narrows (to :data:`BATCH_BAR_MIN`) before the text is cut."""
    label = "placing"
    count_width = 2 * len(str(total)) + 1

    def room(task: Task) -> int:
        others = cell_len(label) + count_width + len(elapsed_text(task)) + 4  # (+ the gaps between the 5)
        return console.width - ECHO_ROOM - others - cell_len(task.description)

    return ShortLineProgress(
        TextColumn(f"[bold]{label}", table_column=whole()),
        _RoomyBar(room, BATCH_BAR_MIN, BATCH_BAR_MAX),
        MofNCompleteColumn(table_column=whole()),
        TimeElapsedColumn(table_column=whole()),
        _FittedDescription(),  # (may shrink: the only column that does)
        transient=False,
        console=console,
    )


class _StepCount(ProgressColumn):
    """Steps done / total, with thousands separators (``262/100,000``)."""

    def render(self, task: Task) -> Text:
        total = f"{int(task.total):,}" if task.total is not None else "?"
        return Text(f"{int(task.completed):,}/{total}", style="progress.download")


class _Times(ProgressColumn):
    """``elapsed<left, rate steps/s`` in one column (tqdm's order, without its brackets), the
    time left as ``left_text()`` writes it."""

    def __init__(self, left_text: Callable[[], str]) -> None:
        super().__init__(table_column=whole())
        self._left_text = left_text

    def render(self, task: Task) -> Text:
        speed = task.speed
        rate = f"{speed:,.0f} steps/s" if speed is not None else "? steps/s"
        return Text.assemble((elapsed_text(task), "progress.elapsed"), "<",
                             (self._left_text(), "progress.remaining"), ", ", (rate, "progress.data.speed"))


def steps_progress(left_text: Callable[[], str], console: Console) -> Progress:
    """``placer train``'s bar: the phase and percentage, the bar (what the others leave, up to
    :data:`STEP_BAR_MAX`), steps done / total, then time so far, time left and speed."""
    return ShortLineProgress(
        TextColumn("[progress.description]{task.description}[progress.percentage]{task.percentage:>4.0f}%",
                   table_column=whole()),
        BarColumn(bar_width=STEP_BAR_MAX),  # (may shrink: the only column that does)
        _StepCount(table_column=whole()),
        _Times(left_text),
        transient=False,
        console=console,
    )
