"""``greedy``: a fast deterministic constructive placer; also the RL agent's baseline.

Hard macros are taken by decreasing area (ties by index) and each goes to the centre of the
legal grid cell (inside the canvas, no overlap with macros already placed) that adds least cost:
the increase in normalised weighted HPWL of its nets towards the pins already placed (ports,
soft macros where they are, hard macros placed before it) plus a small weight times the
soft-macro density it would cover (a tie-breaker towards emptier cells). This is the classic
greedy sequential placement (the order and cell choice Circuit Training's environment uses,
scored by a wire-mask as in MaskPlace / WireMask-EA). Soft macros are then re-placed by the
force-directed step when it is available. Deterministic: the seed is not used (except by
the optional soft-macro refinement).
"""

from __future__ import annotations

import numpy as np

from netlists.model import Netlist, Placement, orient_offsets
from placer.algorithms.base import (
    Deadline,
    Placer,
    Progress,
    ProgressCallback,
    option_flag,
    register_placer,
)
from placer.algorithms.grid_state import footprint_sums, prefix_sum
from placer.cost.context import cost_context
from placer.cost.density import density_grid, top_count


def cell_centres(netlist: Netlist) -> tuple[np.ndarray, np.ndarray]:
    """``(x, y)`` of every grid cell centre, flattened row-major (length R*C)."""
    c = netlist.require_canvas()
    cw, ch = c.width / c.cols, c.height / c.rows
    cx = (np.arange(c.cols) + 0.5) * cw
    cy = (np.arange(c.rows) + 0.5) * ch
    return np.tile(cx, c.rows), np.repeat(cy, c.cols)


@register_placer
class Greedy(Placer):
    """Greedy sequential placement of hard macros onto grid cells (see module docstring).

    Options:
        density_weight: weight of the covered soft-macro density term (0.05: a tie-breaker
            that keeps macros off dense soft-macro areas without outweighing wirelength).
        fd: re-place soft macros by the force-directed step afterwards (True).
        soft_refine: then spend the rest of the budget on
            :func:`~placer.algorithms.refine.refine_soft_macros` (False: ``greedy`` stays a
            sub-second constructive placer; True gives it the same soft-macro step as the
            ``rl`` placer's ``soft_refine`` in equal-budget comparisons).
        refine: options of that search (e.g. ``{"max_steps": 2000}``; default none).

    When the budget runs out, the hard macros not reached yet keep their place (the legaliser
    then fits them in).
    """

    name = "greedy"
    option_names = frozenset({"density_weight", "fd", "soft_refine", "refine"})
    nested_options = {"refine": "refine"}

    def run(self, netlist: Netlist, placement: Placement, budget_s: float, seed: int, progress: ProgressCallback) -> Placement:
        deadline = Deadline(budget_s)
        ctx = cost_context(netlist)
        c = ctx.canvas
        p = placement
        dens_w = float(self.options.get("density_weight", 0.05))
        hard = netlist.hard_macros
        movable = hard[~p.fixed[hard]]
        order = movable[np.lexsort((movable, -(netlist.width[movable] * netlist.height[movable])))]
        placed = np.ones(netlist.n_nodes, dtype=bool)
        placed[order] = False

        soft = netlist.soft_macros
        soft_density = density_grid(c, p.x[soft], p.y[soft], netlist.width[soft], netlist.height[soft])
        prefix = prefix_sum(soft_density)
        k_top = max(top_count(c.rows * c.cols), 1)

        cx, cy = cell_centres(netlist)
        norm = (c.width + c.height) * ctx.net_cnt

        # entries (pins) grouped by anchor node
        anchor = ctx.entry_anchor
        by_anchor = np.argsort(anchor, kind="stable")
        ptr = np.searchsorted(anchor[by_anchor], np.arange(netlist.n_nodes + 1))
        fixed = hard[p.fixed[hard]]  # they stay: no macro may be put on top of them
        half_w, half_h = netlist.width[fixed] / 2, netlist.height[fixed] / 2
        boxes = np.array([p.x[fixed] - half_w, p.x[fixed] + half_w, p.y[fixed] - half_h, p.y[fixed] + half_h])
        boxes = boxes.reshape(4, fixed.size)
        for step, i in enumerate(order.tolist()):
            if deadline.expired():  # the macros not reached keep their place; legalised after
                break
            w, h = netlist.width[i], netlist.height[i]
            legal = (cx - w / 2 >= 0) & (cx + w / 2 <= c.width) & (cy - h / 2 >= 0) & (cy + h / 2 <= c.height)
            if boxes.shape[1]:
                ox = np.minimum(cx[:, None] + w / 2, boxes[1]) - np.maximum(cx[:, None] - w / 2, boxes[0])
                oy = np.minimum(cy[:, None] + h / 2, boxes[3]) - np.maximum(cy[:, None] - h / 2, boxes[2])
                legal &= ~np.any((ox > 1e-12) & (oy > 1e-12), axis=1)
            if not np.any(legal):
                # no cell centre fits: leave it where it is; the legaliser will find room
                placed[i] = True
                continue
            score = self._wire_increase(netlist, p, ctx, i, placed, by_anchor[ptr[i] : ptr[i + 1]], cx, cy) / norm
            if dens_w:
                score = score + dens_w * footprint_sums(c, prefix, cx, cy, w, h) / k_top
            score = np.where(legal, score, np.inf)
            best = int(np.argmin(score))
            p.x[i], p.y[i] = cx[best], cy[best]
            placed[i] = True
            boxes = np.concatenate([boxes, [[cx[best] - w / 2], [cx[best] + w / 2], [cy[best] - h / 2], [cy[best] + h / 2]]], axis=1)
            if step % 20 == 0:
                progress(Progress(step / max(order.size, 1) * 0.8))
        if self.options.get("fd", True) and not deadline.expired():
            try:
                from placer.algorithms.fd import place_soft_macros
            except ImportError:  # pragma: no cover
                return p
            p = place_soft_macros(netlist, p, seed=0, budget_s=deadline.remaining())
        if option_flag(self.options.get("soft_refine", False)) and not deadline.expired():
            from placer.algorithms.refine import refine_soft_macros

            p = refine_soft_macros(netlist, p, deadline.remaining(), seed, options=self.options.get("refine"))
        return p

    @staticmethod
    def _wire_increase(netlist, p, ctx, i, placed, own_entries, cx, cy) -> np.ndarray:  # type: ignore[no-untyped-def]
        """Weighted HPWL increase of macro ``i``'s nets for its centre at every cell."""
        if own_entries.size == 0:
            return np.zeros(cx.size)
        nets = np.unique(ctx.entry_net[own_entries])
        starts = ctx.net_start[nets]
        lens = np.diff(netlist.net_ptr)[nets]
        ent = np.repeat(starts - (np.cumsum(lens) - lens), lens) + np.arange(lens.sum())
        local = np.repeat(np.arange(nets.size), lens)
        ex, ey = ctx.entry_positions(p, ent)
        others = placed[ctx.entry_anchor[ent]] & (ctx.entry_anchor[ent] != i)
        big = np.inf
        xmin = np.full(nets.size, big)
        xmax = np.full(nets.size, -big)
        ymin = np.full(nets.size, big)
        ymax = np.full(nets.size, -big)
        np.minimum.at(xmin, local[others], ex[others])
        np.maximum.at(xmax, local[others], ex[others])
        np.minimum.at(ymin, local[others], ey[others])
        np.maximum.at(ymax, local[others], ey[others])
        has = xmin <= xmax
        old = np.where(has, (xmax - xmin) + (ymax - ymin), 0.0)
        own = ctx.entry_anchor[ent] == i
        dx, dy = orient_offsets(ctx.entry_dx[ent[own]], ctx.entry_dy[ent[own]], np.full(own.sum(), p.orientation[i]))
        pin_net = local[own]
        px = cx[None, :] + dx[:, None]  # (pins, cells)
        py = cy[None, :] + dy[:, None]
        nx_min = np.where(has[pin_net, None], xmin[pin_net, None], px)
        nx_max = np.where(has[pin_net, None], xmax[pin_net, None], px)
        ny_min = np.where(has[pin_net, None], ymin[pin_net, None], py)
        ny_max = np.where(has[pin_net, None], ymax[pin_net, None], py)
        # combine several pins of one net: reduce over pins sharing a net
        order = np.argsort(pin_net, kind="stable")
        seg = np.flatnonzero(np.r_[True, np.diff(pin_net[order]) != 0])
        lo_x = np.minimum.reduceat(np.minimum(nx_min, px)[order], seg, axis=0)
        hi_x = np.maximum.reduceat(np.maximum(nx_max, px)[order], seg, axis=0)
        lo_y = np.minimum.reduceat(np.minimum(ny_min, py)[order], seg, axis=0)
        hi_y = np.maximum.reduceat(np.maximum(ny_max, py)[order], seg, axis=0)
        net_of_seg = pin_net[order][seg]
        inc = (hi_x - lo_x) + (hi_y - lo_y) - old[net_of_seg, None]
        return (ctx.net_weight[nets][net_of_seg, None] * inc).sum(axis=0)
