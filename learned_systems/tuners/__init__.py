"""Tuners behind one ask/tell interface: random search, Optuna TPE and an SB3 RL agent."""

from learned_systems.tuners.base import Tuner, make_tuner

__all__ = ["Tuner", "make_tuner", "TUNER_NAMES"]

TUNER_NAMES = ("random", "optuna", "rl")
