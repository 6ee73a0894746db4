"""The incremental evaluator's move mix the cost benchmarks time (cost_speed.py, cost_ab.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np


def timed_move_mix(ev: Any, netlist: Any, moves: int, clock: Callable[[], float]) -> list[float]:
    """Price ``moves`` moves of ``netlist``'s hard macros on its evaluator ``ev`` (in turn a
    move to a random point, a turn, a swap; seeded with 0), committing every other one untimed;
    the seconds of each pricing by ``clock``. ``ev`` is an ``IncrementalEvaluator`` of whichever
    checkout is measured."""
    rng = np.random.default_rng(0)
    hard = netlist.hard_macros
    canvas = netlist.require_canvas()
    priced = []
    for k in range(moves):
        i = int(rng.choice(hard))
        start = clock()
        if k % 3 == 0:
            move = ev.move(i, rng.uniform(0, canvas.width), rng.uniform(0, canvas.height))
        elif k % 3 == 1:
            move = ev.rotate(i, int(rng.integers(8)))
        else:
            move = ev.swap(i, int(rng.choice(hard)))
        priced.append(clock() - start)
        if k % 2 == 0:
            ev.commit(move)
    return priced
