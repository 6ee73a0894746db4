"""The designs of ``placer/MacroPlacement-v0``: the forms a design is given in, and its static
per-design data (placing grid, macro order, padded macro graph, normalisers), prepared and
checked once, when the env is built (or per reset for a ``generator=`` env)."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeGuard

import numpy as np

from envs.macro_placement_checks import NothingToPlace, TooLargeForSettings, fits_nowhere
from envs.macro_placement_obs import static_features
from netlists.errors import InputError
from netlists.model import Netlist, Placement
from placer.algorithms.base import check_placement_fits
from placer.algorithms.grid_state import (
    SequentialGridState,
    auto_grid,
    hard_macro_pins,
    placement_order,
)
from placer.algorithms.legality import check_hard_area

DesignLike = Netlist | tuple[Netlist, Placement] | str | Path
DesignGenerator = Callable[[np.random.Generator], tuple[Netlist, Placement]]


def is_pair(design: object) -> TypeGuard[tuple[Netlist, Placement]]:
    """Whether ``design`` is one design given as a ``(Netlist, Placement)`` pair."""
    return (
        isinstance(design, tuple)
        and len(design) == 2
        and isinstance(design[0], Netlist)
        and isinstance(design[1], Placement)
    )


def load(design: DesignLike) -> tuple[Netlist, Placement]:
    """The design and its starting placement; anything but the accepted forms is refused."""
    if isinstance(design, Netlist):
        return design, design.initial_placement()
    if is_pair(design):
        return design
    if isinstance(design, str | os.PathLike):
        from netlists.io import load_design

        return load_design(design)
    raise InputError(
        "a design must be a Netlist, a (Netlist, Placement) pair or a path, "
        f"got {type(design).__name__}"
    )


@dataclass(eq=False)
class DesignStatic:
    """Per-design arrays computed once: grid, order, padded graph, normalisers.

    (Training states pickled before the env's split name it ``envs.macro_placement._DesignStatic``,
    which stays an alias of this class.)"""

    netlist: Netlist
    placement: Placement
    grid: tuple[int, int]
    order: np.ndarray
    node_static: np.ndarray  # (max_nodes, NODE_FEATURES) with dynamic columns zero
    edges: np.ndarray  # (2, max_edges) int64
    edge_weight: np.ndarray  # (max_edges,) float32
    design_vec: np.ndarray  # (DESIGN_FEATURES,)
    degree_norm: np.ndarray  # per hard macro slot
    wl_norm: float  # (W + H) * net_cnt


def prepare(
    netlist: Netlist,
    placement: Placement,
    *,
    max_grid: int,
    max_nodes: int,
    max_edges: int,
    grid_option: str | tuple[int, int],
    order_option: str,
    soft_macros_placed: bool,
) -> DesignStatic:
    """Static per-design data: placing grid, order, padded macro graph, normalisers, for the
    env's settings (``grid_option`` and ``order_option`` are its ``grid=`` and ``order=``).

    Raises:
        ValueError: the placement does not fit the netlist, the placing grid exceeds
            ``max_grid``, or a position that stays (port, soft or fixed macro) is not finite.
        NothingToPlace: no movable hard macro, one that fits no cell of the empty grid, or
            hard macros covering more than the canvas (no episode places them all).
        TooLargeForSettings: more hard macros than ``max_nodes``.
    """
    c = netlist.require_canvas()
    try:
        check_placement_fits(netlist, placement)
    except ValueError as error:
        raise InputError(f"{netlist.name}: {error}") from None
    placement = placement.standardised()  # (lists became arrays, as Placer.place makes them)
    G = max_grid
    if grid_option == "auto":
        grid = auto_grid(netlist, G)
    elif grid_option == "canvas":
        grid = (c.cols, c.rows)
    else:
        grid = (int(grid_option[0]), int(grid_option[1]))
    if grid[0] > G or grid[1] > G:
        raise InputError(f"{netlist.name}: placing grid {grid[0]} x {grid[1]} exceeds max_grid={G}")
    pins = hard_macro_pins(netlist)
    hard = pins.hard
    if hard.size == 0:
        raise NothingToPlace(f"{netlist.name}: no hard macros to place")
    if hard.size > max_nodes:
        raise TooLargeForSettings(f"{netlist.name}: {hard.size} hard macros exceed max_nodes={max_nodes}",
                                  "max_nodes", int(hard.size))  # fmt: skip
    order = placement_order(netlist, order_option)
    order = order[~placement.fixed[order]]  # fixed hard macros stay: obstacles from the start
    if order.size == 0:
        raise NothingToPlace(f"{netlist.name}: every hard macro is fixed, nothing to place")
    features = static_features(netlist, pins, grid, max_grid=G, max_nodes=max_nodes, max_edges=max_edges)
    ctx_cnt = float(np.sum(netlist.net_weight)) or 1.0
    # ports, soft and fixed macros keep their given positions (the env places the rest):
    # a NaN there made NaN observations, then failed the cost at the episode's last step
    kept = np.setdiff1d(netlist.placeable, order)
    bad = kept[~(np.isfinite(placement.x[kept]) & np.isfinite(placement.y[kept]))]
    if bad.size:
        raise InputError(f"{netlist.name}: node {netlist.names[int(bad[0])]} has a non-finite "
                         f"position ({bad.size} such node(s))")
    first = SequentialGridState(netlist, placement, order, soft_macros_placed=soft_macros_placed, grid=grid)
    for node in order:  # found now, not at some reset deep into training
        if not first.legal_mask(int(node)).any():
            raise NothingToPlace(
                f"{netlist.name}: macro {netlist.names[int(node)]} {fits_nowhere(netlist, placement, first, int(node))}"
            )
    try:  # each macro has a cell, but not all of them at once (found now: the episodes never ended)
        check_hard_area(netlist)
    except InputError as error:
        raise NothingToPlace(f"{netlist.name}: {error}") from None
    return DesignStatic(
        netlist, placement, grid, order, features.node_static, features.edges, features.edge_weight,
        features.design_vec, features.degree_norm, (c.width + c.height) * ctx_cnt,
    )


def prepare_all(
    designs: Sequence[DesignLike], prepare_one: Callable[[Netlist, Placement], DesignStatic]
) -> list[DesignStatic]:
    """``prepare_one`` (:func:`prepare` with the env's settings) of every design, loaded by
    :func:`load`; designs too large for the settings are refused together, asking for what the
    largest needs (one at a time, a suite took five runs to find the --max-nodes it needed)."""
    prepared, too_large = [], []
    for design in designs:
        try:
            prepared.append(prepare_one(*load(design)))
        except TooLargeForSettings as exc:
            too_large.append(exc)
    if len(too_large) > 1:
        worst = max(too_large, key=lambda exc: exc.needed)
        raise TooLargeForSettings(f"{len(too_large)} designs are too large for the settings, the largest "
                                  f"{worst.what}", worst.setting, worst.needed)
    if too_large:
        raise too_large[0]
    return prepared
