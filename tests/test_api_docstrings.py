"""The public API a notebook user meets is documented: ``help()`` on it says something."""

from __future__ import annotations

import importlib
import inspect

import pytest

#: The modules of the API the README, the docs/ pages and the notebooks use.
API_MODULES = [
    "netlists.io", "netlists.model", "netlists.generate", "netlists.graph", "netlists.formats.plc",
    "placer.cost.proxy", "placer.cost.incremental", "placer.cost.timing", "placer.cost.timing_incremental",
    "placer.algorithms.base", "placer.algorithms.legalize", "placer.algorithms.legality", "placer.plot",
    "placer.rl.train", "placer.rl.config", "placer.rl.inference", "placer.batch", "envs.macro_placement",
    "envs.index_tuning", "envs.config_tuning", "learned_systems.index", "learned_systems.index.pgm",
    "learned_systems.index.rmi", "learned_systems.datasets", "learned_systems.objectives", "learned_systems.tuning",
    "learned_systems.results", "learned_systems.tuners", "learned_systems.config.factory",
    "learned_systems.config.knobs", "learned_systems.sosd", "learned_systems.config.sqlite_backend",
]  # fmt: skip


def _undocumented(module_name: str) -> list[str]:
    """The public classes, functions and methods defined in ``module_name`` without a docstring
    (a method inheriting one counts as documented)."""
    module = importlib.import_module(module_name)
    missing = []
    for name, value in vars(module).items():
        if name.startswith("_") or not (inspect.isfunction(value) or inspect.isclass(value)):
            continue
        if getattr(value, "__module__", None) != module_name:
            continue
        if not (value.__doc__ or "").strip():
            missing.append(name)
        if inspect.isclass(value):
            for attribute, member in vars(value).items():
                if attribute.startswith("_") or not inspect.isfunction(member) or (member.__doc__ or "").strip():
                    continue
                if not any(getattr(getattr(base, attribute, None), "__doc__", None) for base in value.__mro__[1:]):
                    missing.append(f"{name}.{attribute}")
    return missing


@pytest.mark.parametrize("module_name", API_MODULES)
def test_every_public_class_function_and_method_has_a_docstring(module_name: str) -> None:
    """IndexTuningEnv, ConfigTuningEnv, IndexObjective.evaluate / score and
    ConfigObjective.evaluate had none, among others."""
    assert _undocumented(module_name) == []


def test_the_rl_package_has_the_docstring_the_rl_methods_help_points_to() -> None:
    """The ``rl`` method's help says "see placer.rl", whose module had no docstring."""
    import placer.algorithms.rl
    import placer.rl

    assert "placer.rl" in (placer.algorithms.rl.__doc__ or "")
    assert "train" in (placer.rl.__doc__ or "") and "run_episode" in (placer.rl.__doc__ or "")
