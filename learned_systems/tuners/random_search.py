"""Random search: independent uniform (log-uniform for log knobs) samples of the space."""

from __future__ import annotations

from typing import Any

import numpy as np

from learned_systems.config.knobs import KnobSpace


class RandomSearch:
    name = "random"

    def __init__(self, space: KnobSpace, seed: int) -> None:
        self.space = space
        self.rng = np.random.default_rng(seed)

    def ask(self) -> dict[str, Any]:
        return self.space.sample(self.rng)

    def tell(self, config: dict[str, Any], score: float | None) -> None:
        """Random search learns nothing from results."""

    def observe(self, config: dict[str, Any], score: float | None) -> None:
        """Nor from the baselines."""

    def replay(self, config: dict[str, Any], score: float | None) -> None:
        self.ask()  # advance the generator exactly as the original run did
