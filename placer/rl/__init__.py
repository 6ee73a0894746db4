"""Reinforcement learning for macro placement: a MaskablePPO policy trained on
``placer/MacroPlacement-v0`` and used as the ``rl`` placement method.

* :func:`placer.rl.train.train` with a :class:`placer.rl.config.TrainConfig` trains (or,
  ``resume=True``, continues) a run in the folder ``config.out`` (``placer train`` from the CLI):
  ``config.json`` and ``designs.json`` record it, ``last.zip`` and ``checkpoints/`` are its
  checkpoints (resumed bit for bit), ``best.zip`` / ``best.plc`` / ``best.json`` its best
  evaluated policy and placement, ``curve.csv`` (and ``tb/`` with TensorBoard) its learning curve.
  Designs come from the config's ``netlists``, ``suite`` or ``generated``, or in memory as
  ``train(config, designs=[(netlist, placement), ...])``.
* :func:`placer.rl.inference.load_model` and :func:`placer.rl.inference.env_for_model` load a
  trained model with the environment it was trained in; :func:`placer.rl.monitor.run_episode`
  plays one episode of it (also importable from :mod:`placer.rl.train`).
* The ``rl`` method (:mod:`placer.algorithms.rl`: ``get_placer("rl", model=RUN_DIR_OR_ZIP)``,
  ``placer place --algo rl --option model=...``) places a design's hard macros with a trained
  policy and its soft macros force-directed.

The policy (:mod:`placer.rl.policy`) reads the env's grid channels through a CNN and its netlist
graph through a graph encoder (:mod:`placer.rl.features`), with the wire mask as a prior in its
logits; the defaults of :class:`~placer.rl.config.TrainConfig` say why they are what they are.
"""
