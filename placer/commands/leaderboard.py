"""``placer leaderboard RUNS_DIR [RUNS_DIR ...] [--out DIR]``: designs x methods tables and a bar chart."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from placer.commands.common import (
    UsageError,
    check_output_folder,
    clean_errors,
    console,
    output_option,
    typed_command,
)

#: The entities the page's writer makes (``html.escape(..., quote=False)``), and what each stands for.
_ENTITIES = {"&lt;": "<", "&gt;": ">", "&amp;": "&"}

#: A Markdown escape, a code span, a bold mark or one of :data:`_ENTITIES`, first found first (an
#: escaped backtick opens no code span).
_MARKS = re.compile(r"(\\.|`[^`]*`|\*\*|&(?:lt|gt|amp);)")


def _terminal_text(markdown: str) -> Text:
    """The page's Markdown as the terminal shows it: its escapes (``a\\_design``, ``&lt;``) read
    as the characters they stand for and its ``**`` marks as bold (a screen reader spoke every
    backslash and asterisk); the .md file keeps them. Only the entities the page's writer makes
    are read (a design "R&D&copy2" showed as "R&D©2"), and inside a `code` span, where Markdown
    reads no escape, a backslash is kept (a code span holding ``a\\b`` showed ``ab``)."""
    text, bold = Text(), False
    for index, piece in enumerate(_MARKS.split(markdown)):
        if index % 2 == 0:  # (text between marks, as written)
            literal = piece
        elif piece == "**":
            bold = not bold
            continue
        elif piece.startswith("\\"):
            literal = piece[1:]
        elif piece.startswith("`"):
            literal = re.sub(r"&(?:lt|gt|amp);", lambda m: _ENTITIES[m.group()], piece)
        else:
            literal = _ENTITIES[piece]
        if literal:
            text.append(literal, style="bold" if bold else "")
    return text


def register(app: typer.Typer) -> None:
    app.command("leaderboard")(leaderboard_command)


@clean_errors
def leaderboard_command(
    runs_dirs: Annotated[
        list[Path],
        typer.Argument(
            help="runs folder(s) of placer place --suite; several are pooled", metavar="RUNS_DIR..."
        ),
    ],
    out: Annotated[
        Path | None,
        output_option("folder for the tables and chart (default: the first RUNS_DIR)"),
    ] = None,
    aggregate: Annotated[
        str, typer.Option("--aggregate", help="several seeds: 'best' seed (default) or 'mean'")
    ] = "best",
    keep: Annotated[
        Path | None,
        typer.Option(
            "--keep",
            help="an earlier leaderboard.csv: its cells that the runs do not cover are kept "
            "(methods whose runs folders are gone)",
        ),
    ] = None,
    verify: Annotated[
        bool,
        typer.Option(
            "--verify",
            help="first evaluate every run's .plc afresh (each design is read: seconds per "
            "design) and refuse a run whose stored cost, file or legality is not its .plc's",
        ),
    ] = False,
) -> None:
    """Write leaderboard.md, .csv, .html and .png (mean proxy per method) from RUNS_DIR(s).

    Several runs folders (e.g. methods run as separate batches) are pooled into one table."""
    from placer.folder_lock import holder_of
    from placer.leaderboard import AGGREGATES, write_leaderboard
    from placer.results import DB_NAME

    if aggregate not in AGGREGATES:
        raise UsageError(f"--aggregate must be one of {', '.join(AGGREGATES)}, got {aggregate!r}")
    for runs_dir in runs_dirs:
        if runs_dir.is_file():  # (the advice was to run a batch into it)
            raise UsageError(f"{runs_dir} is a file; expected a runs folder (placer place --suite ... --out FOLDER)")
        if not runs_dir.exists():
            raise UsageError(f"{runs_dir}: no such folder")
        if (runs_dir / DB_NAME).exists() and not (runs_dir / DB_NAME).is_file():
            raise UsageError(f"{runs_dir / DB_NAME} is not a file (a folder, a pipe or a device)")
        if not (runs_dir / DB_NAME).is_file():
            raise UsageError(
                f"{runs_dir}: no results database {DB_NAME} (run placer place --suite ... --out "
                f"{runs_dir} first)"
            )
    check_output_folder(out if out is not None else runs_dirs[0])
    if keep is not None and not keep.is_file():
        what = "not a file (a folder, a pipe or a device)" if keep.exists() else "no such file"
        raise UsageError(f"--keep {keep}: {what}")
    paths = write_leaderboard(runs_dirs, out, aggregate, keep, verify,  # (its refusals: InputError)
                              command=typed_command())
    markdown = paths["markdown"].read_text(encoding="utf-8")
    # the first "## " section (the proxy table, its pairwise wins under "### ")
    proxy_section = markdown.split("\n## ")[1].split("\n", 1)[1].strip()
    console.print(_terminal_text(proxy_section), highlight=False, soft_wrap=True)  # (rows never folded)
    console.print("wrote " + ", ".join(str(p) for p in paths.values()))
    for runs_dir in runs_dirs:  # (the page says so too; the table above reads as complete)
        holder = holder_of(runs_dir)
        if holder is not None:
            console.print(f"note: {runs_dir} is being written by {holder}: the page holds only the runs "
                          "finished so far", markup=False, highlight=False, soft_wrap=True)
