"""Placement algorithms behind one interface: ``place(netlist, placement, budget_s, seed)``.

Where to start: :func:`placer.algorithms.base.get_placer` and ``available_placers`` (sa,
refine, global_refine, analytical, fd, greedy, rl and any registered with
``register_placer``; :mod:`placer.algorithms.plugins` loads them from files),
:func:`placer.algorithms.legalize.legalize` and :mod:`placer.algorithms.legality` (overlap and
canvas checks). Each method's module holds its own search; the ``search_*`` modules the moves
and state refine and sa share.
"""
