"""The proxy cost and the timing proxy: each term a small module, a full and an incremental evaluator.

Where to start: :func:`placer.cost.proxy.evaluate` (wirelength + 0.5 density + 0.5
congestion, as ``PROXY_COST.md`` specifies), :class:`placer.cost.incremental.IncrementalEvaluator`
(move, swap or rotate one macro, the new cost without recomputing the rest),
:func:`placer.cost.timing.timing_cost` and :class:`placer.cost.timing_incremental.IncrementalTiming`
(the timing proxy), :func:`placer.cost.weighted.weighted_cost` (the terms under the user's
weights: the env's reward). The ``*_kernel`` modules are their compiled inner loops.
"""
