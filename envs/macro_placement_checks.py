"""What ``placer/MacroPlacement-v0`` refuses, and in which words: constructor settings that
would fail late or give NaN rewards, designs too large for the padded sizes, and designs with no
episode (:class:`TooLargeForSettings`, :class:`NothingToPlace`; both public through
:mod:`envs.macro_placement`)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from netlists.errors import InputError
from netlists.model import Netlist, Placement
from placer.algorithms.grid_state import ORDERS, SequentialGridState

#: the largest reward weight or ``density_weight`` taken
MAX_WEIGHT = 1e6


class TooLargeForSettings(InputError):
    """A design larger than the environment's padded sizes allow: ``what`` says how, and
    ``setting`` (``max_nodes``) must be at least ``needed``; the message asks for it in the
    env's keyword (the CLI asks in its option's words)."""

    def __init__(self, what: str, setting: str, needed: int) -> None:
        super().__init__(f"{what} (pass {setting}={needed} or more)")
        self.what, self.setting, self.needed = what, setting, needed


class NothingToPlace(InputError):
    """A design this environment has no episode for: no movable hard macro, one that fits no
    cell of the empty grid, or hard macros covering more than the canvas. A placer built on
    the env may keep such a design as it is."""


def fits_nowhere(netlist: Netlist, placement: Placement, state: SequentialGridState, node: int) -> str:
    """Why macro ``node`` has no legal cell before any is placed, in words: it is larger than
    the canvas, or else the placing grid's cell centres (its centre goes on one) and the fixed
    macros where there are any (a gap they leave may hold no cell centre; it read "on the
    empty canvas")."""
    c = netlist.require_canvas()
    if netlist.width[node] > c.width or netlist.height[node] > c.height:
        return (f"({netlist.width[node]:g} x {netlist.height[node]:g}) is larger than the canvas "
                f"({c.width:g} x {c.height:g})")
    hard = netlist.hard_macros
    fixed = int(np.count_nonzero(np.asarray(placement.fixed, dtype=bool)[hard]))
    beside = f", beside the {fixed} fixed hard macro(s)" if fixed else " on the empty canvas"
    return (f"fits at none of the {state.cols} x {state.rows} placing grid's cell centres{beside} "
            "(a finer grid, max_grid, may have one)")


def check_settings(
    *,
    max_grid: Any,
    max_nodes: Any,
    max_edges: Any,
    grid: Any,
    weights: tuple[Any, ...],
    flags: tuple[Any, ...],
    fd_iterations: Any,
    order: Any,
) -> None:
    """Refuse constructor settings that would fail late (mid-episode) or give NaN rewards."""
    if not isinstance(order, str) or order not in ORDERS:
        raise InputError(f"order must be one of {', '.join(map(repr, ORDERS))}, got {order!r}")
    # max_edges >= 2: an undirected edge takes two slots (1 kept none, unsaid); SB3 cannot batch (2, 0)
    for name, value, low in (("max_grid", max_grid, 1), ("max_nodes", max_nodes, 1),
                             ("max_edges", max_edges, 2)):  # fmt: skip
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
            raise InputError(f"{name} must be a whole number >= {low}, got {value!r}")
    if isinstance(grid, str):
        if grid not in ("auto", "canvas"):
            raise InputError(f"grid must be 'auto', 'canvas' or (cols, rows) >= 1, got {grid!r}")
    else:
        ok = (
            isinstance(grid, tuple | list | np.ndarray) and len(grid) == 2
            and all(isinstance(n, int | np.integer) and not isinstance(n, bool) and n >= 1 for n in grid)
        )  # fmt: skip
        if not ok:
            raise InputError(f"grid must be 'auto', 'canvas' or (cols, rows) >= 1, got {grid!r}")
    names = ("w_wl", "w_den", "w_cong", "w_timing", "density_weight", "infeasible_penalty")
    for name, value in zip(names, weights, strict=True):
        if isinstance(value, bool) or not isinstance(value, int | float | np.number) or not math.isfinite(value):
            raise InputError(f"{name} must be a finite number, got {value!r}")
    if weights[-1] < 0:  # a negative penalty would reward getting stuck
        raise InputError(f"infeasible_penalty must be >= 0, got {weights[-1]!r}")
    for name, value in zip(names[:-1], weights[:-1], strict=True):
        # a negative weight rewards a worse cost (and can make getting stuck pay); past 1e6
        # the cell scores and rewards overflow float32 (NaN in the observation)
        if not 0 <= value <= MAX_WEIGHT:
            raise InputError(f"{name} must be from 0 to {MAX_WEIGHT:g}, got {value!r}")
    for name, value in zip(("dense_shaping", "use_wiremask", "soft_macros_placed"), flags, strict=True):
        if not isinstance(value, bool | np.bool_):
            raise InputError(f"{name} must be True or False, got {value!r}")
    if fd_iterations is not None and (
        isinstance(fd_iterations, bool) or not isinstance(fd_iterations, int | np.integer) or fd_iterations < 0
    ):
        raise InputError(f"fd_iterations must be None or a whole number >= 0, got {fd_iterations!r}")
