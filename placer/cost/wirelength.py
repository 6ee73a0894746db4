"""Wirelength term of the proxy cost: weighted HPWL over nets, normalised."""

from __future__ import annotations

import numpy as np

from placer.cost.context import CostContext


def net_hpwl(x: np.ndarray, y: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Half-perimeter of each segment ``[starts[k], starts[k+1])`` of the entry arrays, as
    ``(max x - min x) + (max y - min y)``: each span first (as the spec and the incremental
    kernel group it; a small net far from the origin lost digits to ``max y`` added first).
    The numpy form of what :func:`placer.cost.net_kernel.net_pass` computes for the evaluators."""
    if starts.size == 0:
        return np.zeros(0)
    x_span = np.maximum.reduceat(x, starts) - np.minimum.reduceat(x, starts)
    y_span = np.maximum.reduceat(y, starts) - np.minimum.reduceat(y, starts)
    return x_span + y_span


def wirelength_cost(ctx: CostContext, hpwl: np.ndarray) -> tuple[float, float]:
    """``(weighted HPWL, wirelength cost)`` from per-net HPWL values."""
    total = float(np.sum(ctx.net_weight * hpwl))
    c = ctx.canvas
    return total, total / ((c.width + c.height) * ctx.net_cnt)
