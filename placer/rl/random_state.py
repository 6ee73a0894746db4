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

import numpy as np
import torch

#: Held while the ``rl`` method loads a model or samples an episode: both use the process's
#: generators (a load in one thread reseeded them in the middle of another's sampled episode).
RL_GENERATORS = threading.RLock()


@contextmanager
def global_random_state_kept() -> Iterator[None]:
    """Within the block the process-wide generators (Python's, numpy's global, torch's CPU and,
    where initialised, CUDA ones) may be reseeded and drawn from; their states before it are
    put back when it ends. Not thread-safe (the generators are the process's)."""
    python, legacy, cpu = random.getstate(), np.random.get_state(), torch.get_rng_state()
    cuda = torch.cuda.get_rng_state_all() if torch.cuda.is_available() and torch.cuda.is_initialized() else None
    try:
        yield
    finally:
        random.setstate(python)
        np.random.set_state(legacy)
        torch.set_rng_state(cpu)
        if cuda is not None:
            torch.cuda.set_rng_state_all(cuda)
