"""The state a move-based search works on (the engine behind ``sa`` and ``refine``): the
placement being searched, its legality checks and its objective; the moves are in
:mod:`placer.algorithms.search_moves`, the annealing loop in :mod:`placer.algorithms.anneal`.

A :class:`SearchState` wraps the :class:`~placer.cost.incremental.IncrementalEvaluator` and
keeps the hard-macro rectangles so every proposed move can be checked for legality (inside the
canvas, no hard-macro overlap) in O(#hard macros) before it is priced.

The objective is the proxy cost; with ``w_timing > 0`` it is the proxy plus ``w_timing`` times
the timing proxy's ``worst`` (or, with ``timing_metric="tail"``, its ``tail``: the mean of the
worst 10 % of endpoint arrivals, which moves with many wires where ``worst`` moves with one;
:mod:`placer.cost.timing`), each move priced by
:class:`~placer.cost.timing_incremental.IncrementalTiming` beside the proxy evaluator. The
timing options every search method reads (their checks and defaults) are defined here too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from netlists.model import Netlist, NodeType, Placement
from placer.algorithms import options as opt
from placer.algorithms.legality import axis_tolerances
from placer.algorithms.optimal_region import optimal_region
from placer.algorithms.overlap_kernel import hard_free as hard_free_kernel
from placer.cost.incremental import IncrementalEvaluator, Move
from placer.cost.timing import TIMING_METRICS, check_timing_metric
from placer.cost.timing_incremental import IncrementalTiming, TimingMove

#: The largest timing weight a search takes (as the RL reward's ``w_timing``).
MAX_TIMING_WEIGHT = 1e6

#: Value checks and requirement of the timing options every search method reads.
TIMING_OPTION_CHECKS = {"w_timing": opt.number(0.0, MAX_TIMING_WEIGHT), "timing_metric": opt.choice(*TIMING_METRICS)}
TIMING_OPTION_REQUIRES = {"timing_metric": "w_timing"}


def timing_options(options: Mapping[str, Any]) -> tuple[float, str]:
    """The objective's timing weight and metric from a method's options (default 0, "worst")."""
    return float(options.get("w_timing", 0.0)), str(options.get("timing_metric", "worst"))


class SearchState:
    """Evaluator plus legality bookkeeping for hard macros, and the timing evaluator when the
    objective weighs timing (``w_timing > 0``; ``timing_metric`` names the figure weighed)."""

    def __init__(
        self,
        netlist: Netlist,
        placement: Placement,
        rng: np.random.Generator,
        w_timing: float = 0.0,
        timing_metric: str = "worst",
    ) -> None:
        check_timing_metric(timing_metric)
        self.netlist = netlist
        self.canvas = netlist.require_canvas()
        self.ev = IncrementalEvaluator(netlist, placement)
        self.rng = rng
        self.w_timing = float(w_timing)
        self.timing_metric = timing_metric
        # the timing proxy beside the proxy cost, only when the objective weighs it
        self.timing = IncrementalTiming(netlist, placement) if self.w_timing > 0 else None
        fixed = placement.fixed
        t = netlist.node_type
        self.hard = np.flatnonzero((t == int(NodeType.HARD_MACRO)) & ~fixed)
        self.soft = np.flatnonzero((t == int(NodeType.SOFT_MACRO)) & ~fixed)
        self.all_hard = netlist.hard_macros
        self._slot = np.full(netlist.n_nodes, -1, dtype=np.int64)
        self._slot[self.all_hard] = np.arange(self.all_hard.size)
        self.half_w = netlist.width / 2
        self.half_h = netlist.height / 2
        c = self.canvas
        # each axis's rounding tolerance, relative to the canvas's extent there
        self.tol_x, self.tol_y = axis_tolerances(c)
        self.cw, self.ch = c.width / c.cols, c.height / c.rows
        degree = np.diff(self.ev._net_ptr)
        # optimal-region scratch: two box edges per net of the node with the most nets
        self.scratch = np.zeros((3, 2 * max(int(degree.max(initial=0)), 1)))  # x, y ends; weights

    @property
    def placement(self) -> Placement:
        return self.ev.placement

    def optimal_region(self, node: int) -> tuple[float, float, float, float, bool]:
        """``(x_lo, x_hi, y_lo, y_hi, found)``: where ``node``'s nets are shortest with every
        other pin where it is now (see :mod:`placer.algorithms.optimal_region`)."""
        ev = self.ev
        p = ev.placement
        return optimal_region(
            node,
            ev._net_ptr,
            ev._nets_of,
            ev._net_entries,
            ev.ctx.entry_anchor,
            ev.ctx.net_weight,
            ev._ex,
            ev._ey,
            float(p.x[node]),
            float(p.y[node]),
            self.scratch[0],
            self.scratch[1],
            self.scratch[2],
        )

    # --------------------------------------------------------------- legality
    def inside(self, nodes: np.ndarray, x: np.ndarray, y: np.ndarray) -> bool:
        c = self.canvas
        if nodes.size == 1:  # the common case, in scalars (numpy's overhead dominates here)
            i, ex, ey = int(nodes[0]), self.tol_x, self.tol_y
            xi, yi, hw1, hh1 = float(x[0]), float(y[0]), self.half_w[i], self.half_h[i]
            return (
                xi - hw1 >= -ex
                and xi + hw1 <= c.width + ex
                and yi - hh1 >= -ey
                and yi + hh1 <= c.height + ey
            )
        hw, hh = self.half_w[nodes], self.half_h[nodes]
        ex, ey = self.tol_x, self.tol_y
        return bool(
            np.all(x - hw >= -ex)
            and np.all(x + hw <= c.width + ex)
            and np.all(y - hh >= -ey)
            and np.all(y + hh <= c.height + ey)
        )

    def clamp(self, node: int, x: float, y: float) -> tuple[float, float]:
        c = self.canvas
        hw, hh = self.half_w[node], self.half_h[node]
        return min(max(x, hw), c.width - hw), min(max(y, hh), c.height - hh)

    def hard_free(self, nodes: np.ndarray, x: np.ndarray, y: np.ndarray) -> bool:
        """Whether hard macros ``nodes`` at ``(x, y)`` overlap no other hard macro (nor each other)."""
        p = self.placement
        return hard_free_kernel(
            nodes, np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64), self.all_hard,
            self._slot, p.x, p.y, self.half_w, self.half_h, self.tol_x, self.tol_y,
        )  # fmt: skip

    def legal(self, nodes: np.ndarray, x: np.ndarray, y: np.ndarray) -> bool:
        if not self.inside(nodes, x, y):
            return False
        hard = nodes[self._slot[nodes] >= 0]
        if hard.size == 0:
            return True
        sel = self._slot[nodes] >= 0
        return self.hard_free(hard, x[sel], y[sel])

    # ------------------------------------------------------------------ objective
    def objective(self) -> float:
        """The searched objective of the current placement: the proxy cost, plus ``w_timing``
        times the timing proxy's ``timing_metric`` when weighted."""
        if self.timing is None:
            return self.ev.cost.proxy
        return self.ev.cost.proxy + self.w_timing * getattr(self.timing.cost(), self.timing_metric)

    def price(self, mv: Move) -> tuple[float, TimingMove | None]:
        """The objective after ``mv`` (proposed on the current placement), and its timing move."""
        if self.timing is None:
            return mv.proxy, None
        tm = self.timing.propose_priced(mv)
        return mv.proxy + self.w_timing * getattr(tm.result, self.timing_metric), tm

    def commit(self, mv: Move, tm: TimingMove | None) -> None:
        """Apply ``mv`` (and its timing move from :meth:`price`)."""
        self.ev.commit(mv)
        if tm is not None and self.timing is not None:
            self.timing.commit(tm)

    def set_positions(
        self, nodes: np.ndarray | slice, x: np.ndarray, y: np.ndarray, orientation: np.ndarray | None = None
    ) -> None:
        """Move many nodes at once (a force-directed step, a restored best), timing too."""
        self.ev.set_positions(nodes, x, y, orientation)
        if self.timing is not None:
            self.timing.set_positions(nodes, x, y, orientation)

    # ------------------------------------------------------------------ moves
    def propose_move(
        self, nodes: np.ndarray, x: np.ndarray, y: np.ndarray, orient: np.ndarray | None = None
    ) -> Move | None:
        if not self.legal(nodes, x, y):
            return None
        return self.ev.propose_trusted(nodes, x, y, orient)
