"""Wirelength term of the proxy cost: weighted HPWL over nets, normalised."""

from __future__ import annotations

import numpy as np

from placer.cost.context import CostContext


def net_hpwl(x: np.ndarray, y: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Half-perimeter of each segment ``[starts[k], starts[k+1])`` of the entry arrays."""
    if starts.size == 0:
        return np.zeros(0)
    return (
        np.maximum.reduceat(x, starts)
        - np.minimum.reduceat(x, starts)
        + np.maximum.reduceat(y, starts)
        - np.minimum.reduceat(y, starts)
    )


def wirelength_cost(ctx: CostContext, hpwl: np.ndarray) -> tuple[float, float]:
    """``(weighted HPWL, wirelength cost)`` from per-net HPWL values."""
    total = float(np.sum(ctx.net_weight * hpwl))
    c = ctx.canvas
    return total, total / ((c.width + c.height) * ctx.net_cnt)
