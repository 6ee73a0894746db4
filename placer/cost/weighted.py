"""A placement's cost under the user's weights: the proxy cost's three terms (wirelength,
density, congestion) and the timing proxy's metric, each times its weight, summed in that
order. The macro-placement env's reward is minus this objective (its default weights make it
the proxy cost) and training keeps the best checkpoint by it; the terms come from
:func:`placer.cost.proxy.evaluate` and :func:`placer.cost.timing.timing_cost`, nothing is
recomputed here."""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass

from netlists.errors import InputError
from netlists.model import Netlist, Placement
from placer.cost import timing
from placer.cost.proxy import ProxyCost, evaluate

#: The weighted terms, in the order they are summed.
WEIGHTED_TERMS = ("wirelength", "density", "congestion", "timing")


def check_weights(weights: Mapping[str, float]) -> None:
    """Refuse ``weights`` (InputError naming the terms) unless they weigh exactly
    :data:`WEIGHTED_TERMS`, each by a finite number."""
    expected = f"weights must give each of {', '.join(WEIGHTED_TERMS)} a number"
    if not isinstance(weights, Mapping):
        raise InputError(f"{expected}, got {type(weights).__name__}")
    missing = sorted(set(WEIGHTED_TERMS) - set(weights))
    unknown = sorted(str(name) for name in set(weights) - set(WEIGHTED_TERMS))
    if missing or unknown:
        said = [f"missing {', '.join(missing)}"] * bool(missing) + [f"unknown {', '.join(unknown)}"] * bool(unknown)
        raise InputError(f"{expected} ({'; '.join(said)})")
    for term in WEIGHTED_TERMS:
        value = weights[term]
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
            raise InputError(f"weight of {term} must be a finite number, got {value!r}")


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
        InputError: ``weights`` lacks one of :data:`WEIGHTED_TERMS`, names another, or weighs
            one by a number that is not finite (a missing one read a bare ``KeyError``, an
            unknown one was ignored).
    """
    check_weights(weights)
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
