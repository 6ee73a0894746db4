"""Tuners behind one ask/tell interface: random search, Optuna TPE and an SB3 RL agent, and any
registered with :func:`register_tuner`."""

from learned_systems.tuners.base import Tuner
from learned_systems.tuners.registry import available_tuners, make_tuner, register_tuner

__all__ = ["Tuner", "make_tuner", "register_tuner", "available_tuners", "TUNER_NAMES"]

#: The built-in tuners (:func:`available_tuners` adds those registered since).
TUNER_NAMES = ("random", "optuna", "rl")
