"""Designs that ship with the package: the real ``ariane133`` (the generated default design is
made on demand by :func:`netlists.generate.generate`, not shipped)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from netlists.errors import UnknownName
from netlists.model import Netlist, Placement

BUILTIN = ("ariane133",)


def builtin_path(name: str = "ariane133") -> Path:
    """Folder of a built-in design (``netlist.pb.txt.gz`` and ``initial.plc``)."""
    if name not in BUILTIN:
        raise UnknownName(f"unknown built-in design {name!r}; built-in: {', '.join(BUILTIN)}")
    return Path(str(resources.files("netlists") / "data" / name))


def load_builtin(name: str = "ariane133") -> tuple[Netlist, Placement]:
    """The built-in real design with its initial placement."""
    from netlists.io import load_design

    folder = builtin_path(name)
    return load_design(folder / "netlist.pb.txt.gz", folder / "initial.plc")
