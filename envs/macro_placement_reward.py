"""The rewards of ``placer/MacroPlacement-v0``, from :mod:`placer.cost`'s exact costs
(:func:`placer.cost.weighted.weighted_cost`): the weighted cost of a final placement (its soft
macros placed first by :func:`placer.algorithms.fd.place_soft_macros_or_keep`, which the env
calls), the partial cost and penalty of an episode that got stuck, and the dense wire-mask
shaping term."""

from __future__ import annotations

from typing import Any

from netlists.model import Netlist, Placement
from placer.algorithms.grid_state import SequentialGridState
from placer.cost.weighted import weighted_cost


def shaping_reward(weights: dict[str, float], wire_increase: float, wl_norm: float) -> float:
    """The dense shaping penalty of one step (subtracted from its reward): the step's share of
    the wirelength term, its wire-mask increase over ``(W + H) * net_cnt``."""
    return weights["wirelength"] * wire_increase / wl_norm


def partial_cost(
    netlist: Netlist, state: SequentialGridState, weights: dict[str, float], timing_metric: str
) -> float:
    """The weighted cost of an infeasible episode's placement, its unplaced hard macros
    stacked at the canvas centre and the soft macros kept (no placement of it is
    returned): a penalty on the scale of this design's costs, so that getting stuck never
    pays more than finishing (a fixed penalty of 2-4 did on designs costing over 2)."""
    placement = state.placement.copy()
    canvas = netlist.require_canvas()
    rest = state.order[state.step_index:]
    placement.x[rest], placement.y[rest] = canvas.width / 2, canvas.height / 2
    return weighted_cost(netlist, placement, weights, timing_metric).objective


def stuck_penalty(partial: float, infeasible_penalty: float, unplaced: int, movable: int) -> float:
    """What an episode that got stuck loses (subtracted from its last reward): its
    :func:`partial_cost` plus ``infeasible_penalty`` x (1 + unplaced / movable hard macros)."""
    return partial + infeasible_penalty * (1.0 + unplaced / movable)


def final_cost(
    netlist: Netlist, placement: Placement, weights: dict[str, float], timing_metric: str
) -> tuple[float, dict[str, Any]]:
    """The weighted cost (the objective the final reward is minus of) of a complete placement,
    and its breakdown for ``info["cost"]`` (``timing`` None when it weighs nothing: not
    computed, not a 0 cost)."""
    weighted = weighted_cost(netlist, placement, weights, timing_metric)
    breakdown = {**weighted.terms, "proxy": weighted.proxy.proxy, "hpwl": weighted.proxy.hpwl,
                 "objective": weighted.objective}  # fmt: skip
    return weighted.objective, breakdown
