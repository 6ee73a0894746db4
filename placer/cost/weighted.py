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
        ValueError: a ``timing_metric`` that is none of :data:`placer.cost.timing.TIMING_METRICS`.
    """
    from placer.cost.timing import TIMING_METRICS

    if timing_metric not in TIMING_METRICS:
        raise ValueError(f"timing_metric must be one of {', '.join(TIMING_METRICS)}, got {timing_metric!r}")
    cost = evaluate(netlist, placement)
    objective = (weights["wirelength"] * cost.wirelength + weights["density"] * cost.density
                 + weights["congestion"] * cost.congestion)  # fmt: skip
    timing: float | None = None
    if weights["timing"] != 0.0:
        from placer.cost.timing import timing_cost

        timing = float(getattr(timing_cost(netlist, placement), timing_metric))
        objective += weights["timing"] * timing
    terms = {"wirelength": cost.wirelength, "density": cost.density, "congestion": cost.congestion, "timing": timing}
    return WeightedCost(float(objective), terms, cost)
