"""The tuner interface: ``ask()`` proposes a configuration, ``tell(config, score)`` reports it.

``score`` is higher-is-better (e.g. throughput relative to the defaults), ``None`` for a failed
trial. ``observe`` shows a tuner configurations measured outside its search (the baselines every
tuner's run measures first; a tuner that learns may use them, the others ignore them).
``replay`` feeds stored trials back after a restart so a resumed run continues the same search
instead of starting over. A tuner may propose a configuration again to measure it once more.
"""

from __future__ import annotations

from typing import Any, Protocol

from learned_systems.config.knobs import KnobSpace


class Tuner(Protocol):
    name: str

    def ask(self) -> dict[str, Any]: ...

    def tell(self, config: dict[str, Any], score: float | None) -> None: ...

    def observe(self, config: dict[str, Any], score: float | None) -> None: ...

    def replay(self, config: dict[str, Any], score: float | None) -> None: ...


def make_tuner(name: str, space: KnobSpace, seed: int, trials: int = 50) -> Tuner:
    """The tuner called ``name`` ("random", "optuna" or "rl") over ``space``."""
    if name == "random":
        from learned_systems.tuners.random_search import RandomSearch

        return RandomSearch(space, seed)
    if name == "optuna":
        from learned_systems.tuners.optuna_tpe import OptunaTPE

        return OptunaTPE(space, seed, trials)
    if name == "rl":
        from learned_systems.tuners.rl_agent import RLAgentTuner

        return RLAgentTuner(space, seed, trials)
    raise ValueError(f"unknown tuner {name!r}: expected one of 'random', 'optuna', 'rl'")
