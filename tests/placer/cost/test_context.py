"""The per-netlist caches (cost context, timing graph, force-directed arrays, hard-macro pins)
hold a netlist only while it lives."""

from __future__ import annotations

import gc
import weakref

import numpy as np

from envs.macro_placement import MacroPlacementEnv
from netlists.generate import generate
from placer.algorithms.base import get_placer
from placer.algorithms.grid_state import hard_macro_pins
from placer.cost.incremental import IncrementalEvaluator
from placer.cost.proxy import evaluate
from placer.cost.timing import timing_cost


def test_a_costed_netlist_is_freed_once_its_user_lets_go() -> None:
    """The cached CostContext held its netlist, the weak dictionary's key, so the entry never
    died: every netlist ever costed stayed in memory with its caches (some 17 MB per load of
    ibm17; a gym env on generated designs grew without bound, a batch worker kept its suite)."""
    netlist, placement = generate(6, 12, 6, seed=0)
    evaluate(netlist, placement)
    timing_cost(netlist, placement)
    hard_macro_pins(netlist)
    evaluator = IncrementalEvaluator(netlist, placement)
    evaluator.commit(evaluator.move(int(netlist.hard_macros[0]), 10.0, 10.0))
    for method in ("fd", "sa", "greedy", "refine", "analytical"):
        get_placer(method).place(netlist, placement, budget_s=0.5, seed=0)
    env = MacroPlacementEnv(netlist=(netlist, placement))
    env.reset(seed=0)
    while not env.step(int(np.flatnonzero(env.action_masks())[0]))[2]:
        pass
    alive = weakref.ref(netlist)
    del netlist, placement, evaluator, env
    gc.collect()
    assert alive() is None
