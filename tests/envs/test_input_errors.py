"""The environments' refusals of their caller's settings, reset options and actions are
InputErrors (a message for the user); calling them out of order stays a plain RuntimeError, a
programming error of the caller's."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from envs.index_tuning import IndexTuningEnv
from envs.macro_placement import MacroPlacementEnv
from envs.macro_placement_checks import NothingToPlace, TooLargeForSettings
from netlists.errors import REPORTED_ERRORS, InputError
from netlists.generate import generate

SMALL: dict[str, Any] = {"max_grid": 32, "max_nodes": 16, "max_edges": 64, "soft_placement": "keep"}
DESIGN = generate(6, 20, 12, seed=3)


def test_the_envs_own_refusals_are_input_errors() -> None:
    assert issubclass(TooLargeForSettings, InputError) and issubclass(NothingToPlace, InputError)


@pytest.mark.parametrize(
    "refusal",
    [
        lambda: MacroPlacementEnv(DESIGN, **{**SMALL, "soft_placement": "nearest"}),
        lambda: MacroPlacementEnv(DESIGN, **{**SMALL, "max_grid": 0}),
        lambda: MacroPlacementEnv(DESIGN, **{**SMALL, "w_wl": float("nan")}),
        lambda: MacroPlacementEnv(designs=[], **SMALL),
        lambda: MacroPlacementEnv(DESIGN, **SMALL).reset(options={"seed": 1}),
        lambda: IndexTuningEnv(datasets=[]),
    ],
    ids=["soft-placement", "max-grid", "weight", "no-designs", "reset-option", "no-datasets"],
)
def test_refused_settings_and_options_are_input_errors(refusal: Callable[[], object]) -> None:
    with pytest.raises(InputError):
        refusal()


def test_an_action_that_is_no_cell_is_an_input_error_and_a_step_before_reset_is_not() -> None:
    env = MacroPlacementEnv(DESIGN, **SMALL)
    with pytest.raises(RuntimeError) as early:
        env.step(0)
    assert not isinstance(early.value, REPORTED_ERRORS)  # (a call out of order: the caller's bug)
    env.reset(seed=0)
    with pytest.raises(InputError, match="action must be a whole number"):
        env.step(32 * 32)
