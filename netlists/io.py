"""Load a design (netlist + placement + canvas) from any supported format, by file name."""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from pathlib import Path

from netlists.errors import InputError, NetlistError, warn_netlist
from netlists.model import Netlist, Placement

#: File names of a design folder's netlist (the plain text one first) and its placement.
NETLIST_NAMES = ("netlist.pb.txt", "netlist.pb.txt.gz")
INITIAL_PLC = "initial.plc"


def files_under(root: str | Path, matches: Callable[[str], bool]) -> list[Path]:
    """Files under ``root`` whose name ``matches``, sorted, through linked folders too (a suite
    made of links to designs elsewhere read as empty: Path.rglob does not follow them), each
    real folder once (a link back up would loop), reached by the first of its paths in sorted
    order (not the file system's listing order, which differs between copies of a suite).
    A folder that cannot be listed is warned of (a design in it was left out without a word)."""
    found: list[Path] = []
    seen: set[str] = set()

    def unreadable(error: OSError) -> None:
        warn_netlist(f"{error.filename} cannot be read ({error.strerror or error}): any design in it "
                     "is left out", stacklevel=4)

    for folder, subfolders, files in os.walk(root, onerror=unreadable, followlinks=True):
        subfolders.sort()  # (os.walk goes on into them in this order)
        real = os.path.realpath(folder)
        if real in seen:
            subfolders[:] = []
            continue
        seen.add(real)
        found.extend(Path(folder) / name for name in files if matches(name))
    return sorted(found)


def require_suite_folder(folder: str | Path) -> None:
    """Refuse a suite path that is a file or does not exist, named as given (``placer place``
    and ``placer train`` take ``--suite`` alike).

    Raises:
        ValueError: ``folder`` is a file.
        FileNotFoundError: ``folder`` does not exist.
    """
    path = Path(folder)
    if path.exists() and not path.is_dir():
        raise InputError(f"{folder} is a file; --suite takes a folder of design folders")
    if not path.is_dir():
        raise FileNotFoundError(errno.ENOENT, "no such folder", str(folder))


def bookshelf_start(aux: Path) -> Path:
    """The placement file of a Bookshelf design: the ``.pl`` its ``.aux`` lists (the ``.aux``
    itself when it cannot be read, so that its runs fail naming it)."""
    from netlists.formats.bookshelf import is_bookshelf_pl, listed_files

    try:
        return next(f for f in listed_files(aux) if is_bookshelf_pl(f))
    except (NetlistError, StopIteration):
        return aux


def design_start(netlist: Path) -> Path | None:
    """The placement file :func:`design_files_under` pairs with the design file ``netlist``
    (``initial.plc`` beside a Circuit Training netlist, a Bookshelf ``.aux``'s ``.pl``); None
    for a file that is neither."""
    from netlists.formats.bookshelf import is_bookshelf_aux

    if netlist.name in NETLIST_NAMES:
        return netlist.parent / INITIAL_PLC
    return bookshelf_start(netlist) if is_bookshelf_aux(netlist.name) else None


def design_files_under(root: str | Path) -> list[tuple[Path, Path]]:
    """``(netlist, placement)`` of every design folder under ``root`` (see :func:`files_under`),
    sorted: a folder holding a netlist (:data:`NETLIST_NAMES`, the plain text one preferred)
    and an ``initial.plc``, or else one Bookshelf ``.aux`` (with the ``.pl`` it lists; the
    ``.aux`` itself when it cannot be read, so that its runs fail naming it). A backup such as
    ``netlist.pb.txt.bak``, or a link to a file that is gone, is no design."""
    from netlists.formats.bookshelf import is_bookshelf_aux

    found = files_under(root, lambda name: name == INITIAL_PLC or name in NETLIST_NAMES or is_bookshelf_aux(name))
    designs = []
    for plc in (f for f in found if f.name == INITIAL_PLC):
        netlist = next((plc.parent / n for n in NETLIST_NAMES if (plc.parent / n).is_file()), None)
        if netlist is not None and plc.is_file():
            designs.append((netlist, plc))
    taken = {netlist.parent for netlist, _ in designs}
    auxes: dict[Path, list[Path]] = {}
    for aux in (f for f in found if is_bookshelf_aux(f.name)):
        if aux.is_file() and aux.parent not in taken and not any((aux.parent / n).is_file() for n in NETLIST_NAMES):
            auxes.setdefault(aux.parent, []).append(aux)
    for folder, listed in auxes.items():
        if len(listed) > 1:  # no one design: said, not dropped without a word
            _warn_not_a_design(folder, f"holds {len(listed)} Bookshelf .aux files")
            continue
        designs.append((listed[0], bookshelf_start(listed[0])))
    unplaced = {f.parent for f in found if f.name in NETLIST_NAMES and f.is_file()} - taken
    for folder in sorted(unplaced):
        _warn_not_a_design(folder, f"holds a netlist but no {INITIAL_PLC}")
    return sorted(designs)


def _warn_not_a_design(folder: Path, why: str) -> None:
    """Say that a suite's ``folder`` is left out, and why."""
    warn_netlist(f"{folder} {why}: not a design of the suite (placer place takes it as one design, "
                 "named by its file)", stacklevel=3)


def read_any_netlist(path: str | Path, pl: str | Path | None = None) -> tuple[Netlist, Placement | None]:
    """Read a Circuit Training ``.pb.txt[.gz]`` or a Bookshelf ``.aux`` netlist.

    Bookshelf carries its own placement and canvas, which are returned (``pl``: another
    ``.pl`` of the design read instead of its own); Circuit Training netlists return ``None``
    for the placement (it comes from a ``.plc``; a ``pl`` is refused).
    """
    from netlists.formats.bookshelf import is_bookshelf_aux, read_bookshelf

    path = Path(path)
    if path.is_dir():
        path = _design_file_in(path)
    if is_bookshelf_aux(path):
        return read_bookshelf(path, pl)
    if pl is not None:
        raise NetlistError(f"a Bookshelf .pl places a Bookshelf design (.aux), not the netlist {path}: "
                           "give a .plc", pl)  # fmt: skip
    from netlists.formats.circuit_training import read_netlist

    return read_netlist(path), None


def default_plc_for(netlist_path: str | Path) -> Path | None:
    """The ``initial.plc`` beside a netlist, when there is one."""
    p = Path(netlist_path)
    folder = p if p.is_dir() else p.parent
    cand = folder / "initial.plc"
    return cand if cand.exists() else None


def _design_file_in(folder: Path) -> Path:
    """The netlist of a design ``folder``: its ``netlist.pb.txt[.gz]``, else its one Bookshelf
    ``.aux`` (NetlistError when it holds neither)."""
    from netlists.formats.bookshelf import is_bookshelf_aux

    for cand in NETLIST_NAMES:
        if (folder / cand).exists():
            return folder / cand
    auxes = sorted(p for p in folder.iterdir() if p.is_file() and is_bookshelf_aux(p))
    if len(auxes) == 1:  # a Bookshelf design's folder
        return auxes[0]
    found = f" but {len(auxes)} .aux files: name one" if auxes else ""
    raise NetlistError(f"directory holds no netlist.pb.txt[.gz] nor one Bookshelf .aux{found}", folder)


def input_files(netlist_path: str | Path, plc_path: str | Path | None = None) -> list[Path]:
    """The files reading this design reads (those that exist): the netlist, or a Bookshelf
    design's ``.aux`` and every file it lists, and the placement (default: ``initial.plc``
    beside a Circuit Training netlist). For refusing an output that would overwrite one of
    them, and for telling an edited design."""
    from netlists.formats.bookshelf import is_bookshelf_aux, listed_files

    path = design_path(netlist_path)
    if path.is_dir():
        try:
            path = _design_file_in(path)
        except NetlistError:  # (reading it will say what is wrong)
            return []
    files = [path]
    bookshelf = is_bookshelf_aux(path)
    if bookshelf and path.is_file():
        try:
            files += listed_files(path)
        except NetlistError:  # (reading it will say what is wrong)
            pass
    placement = plc_path if plc_path is not None or bookshelf else default_plc_for(path)
    files += [Path(placement)] if placement is not None else []
    return [f for f in files if f.exists()]


def placement_file(netlist_path: str | Path, plc_path: str | Path | None = None) -> Path | None:
    """The file :func:`load_design` reads the placement from: ``plc_path`` when given, else
    the ``initial.plc`` beside a Circuit Training netlist or the ``.pl`` a Bookshelf design's
    ``.aux`` lists; None for the embedded default design (generated, no file) and where there
    is none (what a picture's title names)."""
    from netlists.formats.bookshelf import is_bookshelf_aux

    if plc_path is not None:
        return Path(plc_path)
    if names_generated_default(netlist_path):
        return None
    path = design_path(netlist_path)
    if path.is_dir():
        try:
            path = _design_file_in(path)
        except NetlistError:
            return None
    if is_bookshelf_aux(path):
        start = bookshelf_start(path)
        return start if start != path else None
    return default_plc_for(path)


def design_path(path: str | Path) -> Path:
    """``path``, or the folder of the built-in design it names when no such file or folder
    exists (``placer info ariane133`` from anywhere: an installed package's data folder is
    nowhere a user would look for it)."""
    from netlists.designs import BUILTIN, builtin_path

    path = Path(path)
    if not path.exists() and str(path) in BUILTIN:
        return builtin_path(str(path))
    return path


#: The name that reads the embedded default design (generated, :func:`netlists.generate.default_design`).
DEFAULT_NAME = "default"


def names_generated_default(path: str | Path) -> bool:
    """Whether ``path`` is the name of the embedded default design and no such file exists."""
    return str(path) == DEFAULT_NAME and not Path(path).exists()


def load_design(
    netlist_path: str | Path, plc_path: str | Path | None = None
) -> tuple[Netlist, Placement]:
    """Netlist with its canvas set, and the placement to evaluate.

    ``netlist_path`` may also name a built-in design (``ariane133``), or ``default`` the
    embedded generated one (what ``placer demo`` places), where no such file exists.
    For a Circuit Training netlist the canvas comes from ``plc_path`` (default: the
    ``initial.plc`` beside the netlist); for Bookshelf from its ``.scl``, with positions from
    its ``.pl``, or another ``.pl`` given as ``plc_path`` (a placer's output), unless a ``.plc``
    is given (nodes the ``.plc`` leaves out keep their ``.pl`` position, orientation and fixed
    flag).
    """
    from netlists.formats.bookshelf import is_bookshelf_pl
    from netlists.formats.plc import read_plc

    pl = None
    placement: Placement | None
    if plc_path is not None and is_bookshelf_pl(plc_path):  # a Bookshelf placement, not a .plc
        pl, plc_path = plc_path, None
    if names_generated_default(netlist_path):
        if pl is not None:
            raise NetlistError("a Bookshelf .pl places a Bookshelf design (.aux), not the embedded default: "
                               "give a .plc", pl)  # fmt: skip
        from netlists.generate import default_design

        netlist, placement = default_design()
    else:
        netlist_path = design_path(netlist_path)
        netlist, placement = read_any_netlist(netlist_path, pl)
    if plc_path is None and placement is None:
        plc_path = default_plc_for(netlist_path)
        if plc_path is None:
            raise NetlistError(
                "no placement given and no initial.plc beside the netlist: put the design's initial.plc "
                "there or pass a .plc (eval's and plot's second argument, place's --plc)",
                netlist_path,
            )
    if plc_path is not None:
        canvas, placement, _ = read_plc(plc_path, netlist, base=placement)
        netlist = netlist.with_canvas(canvas)
    assert placement is not None
    return netlist, placement
