"""A suite's designs: where each design's files are (a folder with ``netlist.pb.txt[.gz]`` and
``initial.plc``, or one Bookshelf ``.aux``), found recursively under a suite folder and named by
their folder, and the digest of their files that tells an edited design from the one a run used."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from netlists.errors import InputError
from netlists.io import design_files_under, require_suite_folder
from placer.folder_lock import LOCK_NAME
from placer.results import DB_NAME, DB_SIDE_SUFFIXES, LEADERBOARD_FILES
from placer.text_names import is_text, name_bytes, why_not_text

#: The names a runs folder keeps for its own files (each design's runs go into a folder of the
#: design's name beside them), with what each is.
RESERVED_NAMES = {
    DB_NAME: "the results database",
    **{DB_NAME + suffix: "a file SQLite keeps beside the results database" for suffix in DB_SIDE_SUFFIXES},
    LOCK_NAME: "the folder's lock file",
    **{name: "a file placer leaderboard writes" for name in LEADERBOARD_FILES.values()},
}


@dataclass(frozen=True)
class DesignFiles:
    """Where one design's files are."""

    name: str
    netlist: Path
    plc: Path
    suite: Path


def find_designs(suite_dir: str | Path, names: Iterable[str] | None = None) -> list[DesignFiles]:
    """Designs under ``suite_dir`` (recursively, through linked folders), sorted by name;
    optionally only ``names``. A design folder reached by several paths (links) counts once,
    named by the first of them in sorted order (a link's own name).

    Raises:
        FileNotFoundError: ``suite_dir`` does not exist.
        ValueError: two designs share a name, a requested name is absent, or none is found;
            a design to run has a name that is not text, or one of :data:`RESERVED_NAMES`.
    """
    require_suite_folder(suite_dir)
    suite = Path(suite_dir).resolve()
    found: dict[str, DesignFiles] = {}
    for netlist, plc in design_files_under(suite):  # (linked folders too)
        folder = netlist.parent  # (a Bookshelf .aux may list a .pl in another folder)
        if folder.name in found:
            raise InputError(
                f"two designs are called {folder.name!r}: {found[folder.name].netlist.parent} "
                f"and {folder} (design names must be unique in a suite)"
            )
        found[folder.name] = DesignFiles(folder.name, netlist, plc, suite)
    if names is not None:
        wanted = list(dict.fromkeys(names))
        missing = [n for n in wanted if n not in found]
        if missing:
            shown = (n.encode("utf-8", "surrogateescape").decode("utf-8", "replace") for n in sorted(found))
            raise InputError(
                f"no design called {', '.join(map(repr, missing))} under {suite_dir}; "
                f"found: {', '.join(shown) or 'none'}"
            )
        found = {n: found[n] for n in wanted}
    for design in found.values():  # (only those run: --designs may leave such a folder out)
        if not is_text(design.name):  # the name goes into results.sqlite and every table
            raise InputError(
                f"design folder {name_bytes(str(design.netlist.parent))!r}: its name is "
                f"{why_not_text(design.name, 'rename it (or leave it out with --designs)')}"
            )
        reserved = reserved_name(design.name)
        if reserved is not None:  # (its runs' folder would be that file: the batch or the leaderboard failed)
            raise InputError(
                f"design folder {design.netlist.parent}: its name {design.name!r} is taken in a runs folder "
                f"by {reserved}, and each design's runs go into a folder of the design's name: rename the "
                "design folder (or leave it out with --designs)"
            )
    if not found:
        raise InputError(f"no design (a folder with netlist.pb.txt[.gz] and initial.plc, or one Bookshelf .aux) "
                         f"under {suite_dir}")  # fmt: skip
    return [found[n] for n in sorted(found)]


def reserved_name(name: str) -> str | None:
    """What a runs folder keeps under ``name`` itself (see :data:`RESERVED_NAMES`; compared
    without case, as a case-insensitive file system does), or None when no file of its own
    has that name."""
    folded = name.casefold()
    return next((what for reserved, what in RESERVED_NAMES.items() if reserved.casefold() == folded), None)


def design_files_digest(design: DesignFiles) -> str:
    """Digest of the texts of the design's files (its netlist and initial .plc; a Bookshelf
    design's .aux, every file it lists and its .pl): what tells a resumed or pooled
    run's design from the same name with edited files ("" when a file cannot be read: the
    run then fails on that file with a clear error, and nothing is compared)."""
    from netlists.digest import files_digest
    from netlists.errors import NetlistError
    from netlists.io import input_files

    try:  # (a Bookshelf design's: its .aux and every file it lists)
        return files_digest(input_files(design.netlist, design.plc))
    except NetlistError:
        return ""
