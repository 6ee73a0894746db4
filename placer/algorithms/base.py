"""The common interface of every placement method, and the registry of methods.

Every method is a :class:`Placer`: ``place(netlist, placement, budget_s, seed, progress)``
returns a new :class:`~netlists.model.Placement` and never modifies its input. The base class
runs the method's own :meth:`Placer.run`, then the legaliser, so every output is legal (no two
hard macros overlap, every macro lies inside the canvas, fixed nodes stay where they are).
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from netlists.model import Netlist, Placement


@dataclass(frozen=True)
class Progress:
    """What a method reports while it runs: fraction of the budget used, best cost so far."""

    fraction: float
    best_proxy: float | None = None
    message: str = ""


ProgressCallback = Callable[[Progress], None]


class Deadline:
    """Wall-clock budget helper: ``remaining()``, ``fraction()``, ``expired()``."""

    def __init__(self, budget_s: float) -> None:
        self.start = time.perf_counter()
        self.budget_s = max(float(budget_s), 0.0)

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def remaining(self) -> float:
        return max(self.budget_s - self.elapsed(), 0.0)

    def fraction(self) -> float:
        return 1.0 if self.budget_s <= 0 else min(self.elapsed() / self.budget_s, 1.0)

    def expired(self) -> bool:
        return self.elapsed() >= self.budget_s


def option_flag(value: Any) -> bool:
    """A boolean method option given as a bool, or as text (``true`` / ``false`` / ``1`` / ``0``)."""
    if isinstance(value, str):
        if value.lower() in ("1", "true", "yes", "on"):
            return True
        if value.lower() in ("0", "false", "no", "off"):
            return False
        raise ValueError(f"expected true or false, got {value!r}")
    return bool(value)


class Placer(ABC):
    """Base class of placement methods (see module docstring).

    Subclasses set ``name`` and implement :meth:`run`; options go to ``__init__`` as keyword
    arguments with documented defaults.
    """

    name: ClassVar[str] = ""
    #: Fraction of the budget kept for legalisation and final bookkeeping.
    legalize_reserve: ClassVar[float] = 0.05

    def __init__(self, **options: Any) -> None:
        self.options = options

    def place(
        self,
        netlist: Netlist,
        placement: Placement,
        budget_s: float = 60.0,
        seed: int = 0,
        progress: ProgressCallback | None = None,
    ) -> Placement:
        """Place ``netlist`` from ``placement`` within about ``budget_s`` seconds; legal output."""
        from placer.algorithms.legalize import legalize

        netlist.require_canvas()
        work_budget = budget_s * (1.0 - self.legalize_reserve)
        result = self.run(netlist, placement.copy(), work_budget, seed, progress or (lambda p: None))
        result = legalize(netlist, result, reference=placement)
        if progress is not None:
            progress(Progress(1.0, None, "done"))
        return result

    @abstractmethod
    def run(
        self,
        netlist: Netlist,
        placement: Placement,
        budget_s: float,
        seed: int,
        progress: ProgressCallback,
    ) -> Placement:
        """The method itself; may modify and return ``placement`` (a private copy)."""


_REGISTRY: dict[str, type[Placer]] = {}


def register_placer(cls: type[Placer]) -> type[Placer]:
    """Class decorator adding a method to the registry under ``cls.name``."""
    if not cls.name:
        raise ValueError(f"{cls.__name__} has no name")
    _REGISTRY[cls.name] = cls
    return cls


def _load_builtin_methods() -> None:
    import importlib

    for module in ("sa", "fd", "analytical", "greedy", "refine", "rl", "initial"):
        try:
            importlib.import_module(f"placer.algorithms.{module}")
        except ModuleNotFoundError as exc:
            if exc.name != f"placer.algorithms.{module}":
                raise


def available_placers() -> list[str]:
    """Names of all registered methods."""
    _load_builtin_methods()
    return sorted(_REGISTRY)


def get_placer(name: str, **options: Any) -> Placer:
    """An instance of the method called ``name`` (KeyError listing the choices otherwise)."""
    _load_builtin_methods()
    try:
        cls = _REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown placement method {name!r}; available: {', '.join(sorted(_REGISTRY))}") from None
    return cls(**options)
