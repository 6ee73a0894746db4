"""What the `placer train` benchmarks share: a fresh model as `placer train` builds it, made
ready to roll out without writing logs, and a digest of its policy's weights."""

from __future__ import annotations

import hashlib
from typing import Any


def model_ready_to_roll_out(config: Any, designs: list, buffer_class: type | None = None) -> tuple[Any, Any, Any]:
    """``(model, vec, callback)``: a fresh model of ``config`` on ``designs`` (on the CPU, as
    ``placer train`` builds it), set up to learn one rollout of ``config.n_steps`` steps per env
    with no logger output (else SB3 makes an ``SB3-<time>`` folder), and a callback that lets a
    rollout run; roll out with :func:`collect_rollout`. The caller closes ``vec``."""
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.logger import Logger

    from placer.rl.train import _new_model

    class _Nothing(BaseCallback):
        def _on_step(self) -> bool:
            return True

    model, vec = _new_model(config, designs, "cpu", None, buffer_class=buffer_class)
    model.set_logger(Logger(folder=None, output_formats=[]))
    model._setup_learn(config.n_steps * config.n_envs, None)
    callback = _Nothing()
    callback.init_callback(model)
    return model, vec, callback


def collect_rollout(model: Any, callback: Any) -> None:
    """Fill ``model``'s rollout buffer with one rollout, as ``learn`` does before an update."""
    model.collect_rollouts(model.env, callback, model.rollout_buffer, n_rollout_steps=model.n_steps)


def policy_digest(model: Any) -> str:
    """The first 16 hex digits of a SHA-256 over the policy's weights (names and bytes): two
    runs that trained the same policy bit for bit have the same digest."""
    digest = hashlib.sha256()
    for name, tensor in model.policy.state_dict().items():
        digest.update(name.encode() + tensor.numpy().tobytes())
    return digest.hexdigest()[:16]
