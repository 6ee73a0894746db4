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
