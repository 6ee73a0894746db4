"""The weighted objective the macro-placement env's reward and training's best checkpoint use."""

from __future__ import annotations

import numpy as np
import pytest

from netlists.generate import generate
from placer.cost.proxy import evaluate
from placer.cost.timing import timing_cost
from placer.cost.weighted import weighted_cost


def test_the_proxys_weights_give_the_proxy_and_timing_is_computed_only_when_weighed(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import placer.cost.timing as timing

    def no_timing(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("the timing proxy was computed at weight 0")

    for seed in (2, 5, 6):  # (seeds 5 and 6: another order of the sum gives other bits)
        netlist, placement = generate(6, 20, 8, seed=seed)
        proxy = evaluate(netlist, placement)
        with monkeypatch.context() as patch:
            patch.setattr(timing, "timing_cost", no_timing)
            plain = weighted_cost(netlist, placement, {"wirelength": 1.0, "density": 0.5, "congestion": 0.5, "timing": 0.0})
        assert plain.objective == proxy.proxy and plain.terms["timing"] is None and plain.proxy == proxy
    timed = weighted_cost(netlist, placement, {"wirelength": 1.0, "density": 0.0, "congestion": 2.0, "timing": 0.3},
                          timing_metric="tail")
    tail = timing_cost(netlist, placement).tail
    assert timed.terms["timing"] == tail
    assert timed.objective == proxy.wirelength + 0.0 * proxy.density + 2.0 * proxy.congestion + 0.3 * tail


def test_a_timing_metric_of_no_such_name_is_refused_even_when_timing_weighs_nothing() -> None:
    """"tails" read as an attribute of the timing result (AttributeError) when timing weighed
    something, and passed unnoticed when it did not."""
    import pytest

    netlist, placement = generate(6, 20, 8, seed=2)
    for weight in (0.0, 0.3):
        weights = {"wirelength": 1.0, "density": 0.5, "congestion": 0.5, "timing": weight}
        with pytest.raises(ValueError, match="timing_metric must be one of worst, tail, got 'tails'"):
            weighted_cost(netlist, placement, weights, timing_metric="tails")


@pytest.mark.parametrize(("weights", "said"), [
    ({"wirelength": 1.0}, "missing congestion, density, timing"),
    ({"wirelength": 1.0, "density": 0.5, "congestion": 0.5, "timing": 0.0, "bogus": 1.0}, "unknown bogus"),
    ({"wirelength": 1.0, "density": float("nan"), "congestion": 0.5, "timing": 0.0}, "weight of density"),
    ({"wirelength": "1", "density": 0.5, "congestion": 0.5, "timing": 0.0}, "weight of wirelength"),
    ([1.0, 0.5, 0.5, 0.0], "got list"),
])  # fmt: skip
def test_weights_that_miss_or_add_a_term_are_refused_by_name(weights: object, said: str) -> None:
    """A missing term read a bare ``KeyError: 'density'``, an unknown one was ignored."""
    from netlists.errors import InputError
    from netlists.generate import default_design
    from placer.cost.weighted import weighted_cost

    netlist, placement = default_design()
    with pytest.raises(InputError, match=said):
        weighted_cost(netlist, placement, weights)  # type: ignore[arg-type]
    fine = {"wirelength": np.float32(1.0), "density": 0.5, "congestion": 0.5, "timing": 0}
    assert weighted_cost(netlist, placement, fine).objective > 0  # (numpy and whole numbers are numbers)
