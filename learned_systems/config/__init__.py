"""Real systems with tunable knobs: SQLite (embedded default) and PostgreSQL, with workloads."""

from learned_systems.config.knobs import Knob, KnobError, KnobSpace
from learned_systems.config.trial import TrialResult

__all__ = ["Knob", "KnobError", "KnobSpace", "TrialResult"]
