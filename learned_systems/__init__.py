"""The systems whose knobs are tuned: learned indexes and real databases, and the tuners.

Where to start: :mod:`learned_systems.index` (RMI and PGM indexes, ``build_index``),
:mod:`learned_systems.datasets` and :mod:`learned_systems.sosd` (key sets),
:mod:`learned_systems.config` (SQLite and PostgreSQL backends, knob spaces, workloads),
:mod:`learned_systems.objectives` (a configuration's measured score), :mod:`learned_systems.tuners`
(random, Optuna, RL; ``register_tuner``), :mod:`learned_systems.tuning` (``run_tuning``,
``tune_in_turns``: resumable runs stored in :mod:`learned_systems.results`) and
:mod:`learned_systems.apply` (how to set a found configuration by hand). Imports nothing of
``placer``.
"""
