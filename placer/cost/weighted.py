"""A placement's cost under the user's weights: the proxy cost's three terms (wirelength,
density, congestion) and the timing proxy's metric, each times its weight, summed in that
order. The macro-placement env's reward is minus this objective (its default weights make it
the proxy cost) and training keeps the best checkpoint by it; the terms come from
:func:`placer.cost.proxy.evaluate` and :func:`placer.cost.timing.timing_cost`, nothing is
recomputed here."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from netlists.model import Netlist, Placement
from placer.cost import timing
from placer.cost.proxy import ProxyCost, evaluate

#: The weighted terms, in the order they are summed.
WEIGHTED_TERMS = ("wirelength", "density", "congestion", "timing")


@dataclass(frozen=True)
class WeightedCost:
    """The weighted objective, the terms it weighed (``timing`` None when its weight is 0: not
    computed, not a 0 cost) and the proxy cost they came from."""

    objective: float
    terms: dict[str, float | None]
    proxy: ProxyCost


def weighted_cost(
    netlist: Netlist, placement: Placement, weights: Mapping[str, float], timing_metric: str = "worst"
) -> WeightedCost:
    """``placement``'s weighted objective: ``weights`` maps each of :data:`WEIGHTED_TERMS` to
    its weight; the timing proxy (its ``timing_metric``: "worst" or "tail") is computed only
    when its weight is not 0.

    Raises:
        ValueError: a ``timing_metric`` that is none of :data:`placer.cost.timing.TIMING_METRICS`
            (:func:`placer.cost.timing.check_timing_metric`).
    """
    timing.check_timing_metric(timing_metric)
    cost = evaluate(netlist, placement)
    objective = (weights["wirelength"] * cost.wirelength + weights["density"] * cost.density
                 + weights["congestion"] * cost.congestion)  # fmt: skip
    worst_or_tail: float | None = None
    if weights["timing"] != 0.0:
        worst_or_tail = float(getattr(timing.timing_cost(netlist, placement), timing_metric))
        objective += weights["timing"] * worst_or_tail
    terms = {"wirelength": cost.wirelength, "density": cost.density, "congestion": cost.congestion,
             "timing": worst_or_tail}  # fmt: skip
    return WeightedCost(float(objective), terms, cost)
