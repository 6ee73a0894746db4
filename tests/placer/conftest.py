"""Fixtures shared by the placer tests."""

from __future__ import annotations

import numpy as np
import pytest

from netlists.builder import NetlistBuilder
from netlists.model import Canvas, Netlist, NodeType, Placement


def _tiling(rng: np.random.Generator, x0: float, y0: float, w: float, h: float, depth: int) -> list:
    """Rectangles cutting ``(x0, y0, w, h)`` into pieces by random guillotine cuts (mostly
    across the longer side)."""
    if depth == 0 or min(w, h) < 6:
        return [(x0, y0, w, h)]
    if (w > h) if rng.random() < 0.8 else (w <= h):
        cut = rng.uniform(0.3, 0.7) * w
        return _tiling(rng, x0, y0, cut, h, depth - 1) + _tiling(rng, x0 + cut, y0, w - cut, h, depth - 1)
    cut = rng.uniform(0.3, 0.7) * h
    return _tiling(rng, x0, y0, w, cut, depth - 1) + _tiling(rng, x0, y0 + cut, w, h - cut, depth - 1)


@pytest.fixture
def dense_legal_design() -> tuple[Netlist, Placement]:
    """16 hard macros covering 80% of a 100 x 100 canvas, one per tile of a random guillotine
    cut, legal as given: the legaliser cannot fit them again from a scrambled start."""
    builder = NetlistBuilder("dense")
    builder.add_node("p0", NodeType.PORT, x=0.0, y=50.0)
    shrink = np.sqrt(0.8)
    tiles = _tiling(np.random.default_rng(0), 0.0, 0.0, 100.0, 100.0, 4)
    for k, (x, y, w, h) in enumerate(tiles):
        builder.add_node(f"h{k}", NodeType.HARD_MACRO, width=w * shrink, height=h * shrink,
                         x=x + w / 2, y=y + h / 2)  # fmt: skip
        builder.add_node(f"h{k}/P0", NodeType.HARD_PIN, macro_name=f"h{k}", x=x + w / 2, y=y + h / 2)
    builder.add_net(0, [2 * k + 2 for k in range(len(tiles))])
    netlist = builder.build(Canvas(width=100.0, height=100.0, cols=8, rows=8))
    return netlist, netlist.initial_placement()


@pytest.fixture
def tall_design() -> tuple[Netlist, Placement]:
    """Six 4 x 1e8 hard macros stacked in the middle of a 10 x 1e10 canvas, two soft macros and
    a port. On the long axis a relative tolerance is 10 microns: one taken from the longer side
    on both axes swallowed every x overlap of these 4-wide macros (they passed as legal)."""
    builder = NetlistBuilder("tall")
    builder.add_node("p0", NodeType.PORT, x=5.0, y=0.0)
    for k in range(6):
        builder.add_node(f"h{k}", NodeType.HARD_MACRO, width=4.0, height=1e8, x=5.0, y=5e9)
    for k in range(2):
        builder.add_node(f"s{k}", NodeType.SOFT_MACRO, width=2.0, height=1e7, x=5.0, y=5e9)
    builder.add_net(0, [1, 2, 3])
    builder.add_net(1, [4, 5, 6, 7])
    builder.add_net(7, [8, 3])
    netlist = builder.build(Canvas(width=10.0, height=1e10, cols=4, rows=8))
    return netlist, netlist.initial_placement()


def _per_axis_problems(netlist: Netlist, placement: Placement) -> tuple[list[tuple[int, int]], list[int]]:
    """Hard-macro pairs overlapping and macros sticking out, checked pair by pair with each
    axis's own tolerance (1e-9 of the canvas's width in x, of its height in y): the reference
    the checks and methods are held to on extreme-aspect canvases."""
    c = netlist.require_canvas()
    tol_x, tol_y = 1e-9 * c.width, 1e-9 * c.height
    x, y, w, h = placement.x, placement.y, netlist.width, netlist.height
    hard = [int(i) for i in netlist.hard_macros]
    pairs = []
    for a, i in enumerate(hard):
        for j in hard[a + 1 :]:
            ox = min(x[i] + w[i] / 2, x[j] + w[j] / 2) - max(x[i] - w[i] / 2, x[j] - w[j] / 2)
            oy = min(y[i] + h[i] / 2, y[j] + h[j] / 2) - max(y[i] - h[i] / 2, y[j] - h[j] / 2)
            if ox > tol_x and oy > tol_y:
                pairs.append((i, j))
    outside = [
        int(i) for i in netlist.macros
        if not (x[i] - w[i] / 2 >= -tol_x and x[i] + w[i] / 2 <= c.width + tol_x
                and y[i] - h[i] / 2 >= -tol_y and y[i] + h[i] / 2 <= c.height + tol_y)
    ]  # fmt: skip
    return pairs, outside


@pytest.fixture
def per_axis_problems():  # type: ignore[no-untyped-def]
    """The per-axis reference check (a function of netlist and placement)."""
    return _per_axis_problems
