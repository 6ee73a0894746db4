"""placer's refusals of its caller's input are InputErrors, the environment's absences (Ray)
Unavailable, a busy folder too; a batch records a refusal in the words it always did."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from netlists.errors import REPORTED_ERRORS, InputError, Unavailable
from netlists.generate import default_design
from placer.algorithms.base import check_seed, get_placer
from placer.algorithms.legalize import LegalizationError
from placer.batch_ray import check_ray_address
from placer.batch_task import error_text
from placer.cost.incremental import IncrementalEvaluator
from placer.cost.timing import TimingParams, check_timing_metric
from placer.designs import find_designs
from placer.device import resolve_device
from placer.folder_lock import FolderBusy
from placer.rl.config import ObservationNotFinite, TrainConfig, TrainingDiverged
from placer.rl.inference import IncompatibleModel


def test_the_placers_own_refusals_derive_from_the_root_classes() -> None:
    for refusal in (LegalizationError, IncompatibleModel, TrainingDiverged, ObservationNotFinite):
        assert issubclass(refusal, InputError)
    assert issubclass(FolderBusy, Unavailable)


@pytest.mark.parametrize(
    "refusal",
    [
        lambda: get_placer("sa", final_ratio=-1.0),
        lambda: check_seed(-1),
        lambda: get_placer("greedy").place(*default_design(), budget_s=float("nan")),
        lambda: check_ray_address("not an address"),
        lambda: check_timing_metric("median"),
        lambda: TimingParams(wire_delay=-1.0),
        lambda: resolve_device("tpu"),
        lambda: TrainConfig(out="x", max_grid=12).validate(),
        lambda: find_designs(Path(__file__).parent, ["nosuch"]),
        lambda: IncrementalEvaluator(*default_design()).move(-1, 0.0, 0.0),
    ],
    ids=["option", "seed", "budget", "ray-address", "timing-metric", "timing-delay", "device", "train-config",
         "suite-design", "move"],
)
def test_refusals_of_the_callers_input_are_input_errors(refusal: Callable[[], object]) -> None:
    with pytest.raises(InputError):
        refusal()


def test_a_batch_records_a_refusal_as_it_did_and_a_bug_by_its_own_name() -> None:
    """error_text's head line: "ValueError: ..." for an InputError, as before the class."""
    assert error_text(InputError("the hard macros cover 120% of the canvas")).splitlines()[0] == (
        "ValueError: the hard macros cover 120% of the canvas")
    assert error_text(LegalizationError("no room")).splitlines()[0] == "LegalizationError: no room"
    assert not isinstance(ValueError("operands could not be broadcast"), REPORTED_ERRORS)
