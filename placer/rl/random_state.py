"""The process-wide random generators, put back after library code that reseeds them.

stable-baselines3 reseeds Python's ``random``, numpy's global generator and torch's when it
builds or loads a model (``set_random_seed``): a program that called :func:`placer.rl.train`
or placed with the ``rl`` method drew other numbers from its own seeded generators afterwards.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import torch

#: Held while the ``rl`` method loads a model or samples an episode: both use the process's
#: generators (a load in one thread reseeded them in the middle of another's sampled episode).
RL_GENERATORS = threading.RLock()


def generator_states(cuda: bool) -> dict[str, Any]:
    """The process-wide generators' states: Python's, numpy's global, torch's CPU one and, with
    ``cuda``, torch's CUDA ones (reading them starts CUDA)."""
    return {
        "python": random.getstate(),
        "numpy": np.random.get_state(),
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if cuda else None,
    }


def set_generator_states(states: dict[str, Any]) -> None:
    """Put back states :func:`generator_states` read (the CUDA ones where there are any and
    CUDA is here)."""
    random.setstate(states["python"])
    np.random.set_state(states["numpy"])
    torch.set_rng_state(states["torch"])
    if states["cuda"] is not None and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states["cuda"])


@contextmanager
def global_random_state_kept() -> Iterator[None]:
    """Within the block the process-wide generators (Python's, numpy's global, torch's CPU and,
    where initialised, CUDA ones) may be reseeded and drawn from; their states before it are
    put back when it ends. Not thread-safe (the generators are the process's)."""
    states = generator_states(cuda=torch.cuda.is_available() and torch.cuda.is_initialized())
    try:
        yield
    finally:
        set_generator_states(states)
