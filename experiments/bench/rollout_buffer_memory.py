"""Bytes and time of `placer train`'s rollout buffer: sb3-contrib's ``MaskableDictRolloutBuffer``
(every observation key in every row) against :class:`placer.rl.buffer.DesignConstantRolloutBuffer`
(the design's constant keys once per distinct array), same run.

For each ``--max-edges``: both buffers are filled with the same rows, ``--n-steps`` steps x 2
envs of ``--netlist`` stepped with random legal actions (the training default 1,024: what
``placer train --netlist default`` holds), and the table gives each buffer's bytes (the sum of
its numpy arrays' ``nbytes``: what the rollout keeps in memory), the seconds of its ``add``
calls over the rollout, of one update's minibatches (4 epochs of 256 from ``get``: the
flattening and gathering the update does, the network left out) and whether both gave the
same bits. Then one whole PPO rollout and update (``--update-n-steps`` x 2 envs, seed 0) of a
model built as ``placer train`` builds it, with each buffer: wall seconds and whether the two
trained the same policy, bit for bit (``--rounds`` fresh models each, alternated).

    python experiments/bench/rollout_buffer_memory.py [--netlist default] [--n-steps 1024] \\
        [--max-edges 4096,16384] [--update-n-steps 64] [--rounds 2]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import tempfile
import time
from typing import Any

from _cli import make_parser, name_list, positive_int, run
from _rl_model import collect_rollout, model_ready_to_roll_out, policy_digest


def buffer_nbytes(buffer: Any) -> int:
    """The bytes of the numpy arrays ``buffer`` holds (in its attributes, dicts and lists)."""
    import numpy as np

    def size(value: Any) -> int:
        if isinstance(value, np.ndarray):
            return value.nbytes
        if isinstance(value, dict):
            return sum(size(v) for v in value.values())
        if isinstance(value, list | tuple):
            return sum(size(v) for v in value)
        return 0

    return sum(size(value) for value in vars(buffer).values())


def filled_buffers(config: Any, designs: list, n_steps: int) -> tuple[list[Any], list[float]]:
    """Both buffers (old, new) with the same ``n_steps`` rows of random legal steps, and each
    one's seconds of ``add`` calls."""
    import numpy as np
    import torch
    from sb3_contrib.common.maskable.buffers import MaskableDictRolloutBuffer

    from placer.rl.buffer import DesignConstantRolloutBuffer
    from placer.rl.train import make_vec_env

    vec = make_vec_env(designs, config, config.seed)
    n = vec.num_envs
    buffers = [cls(n_steps, vec.observation_space, vec.action_space, "cpu", gae_lambda=config.gae_lambda,
                   gamma=config.gamma, n_envs=n) for cls in (MaskableDictRolloutBuffer, DesignConstantRolloutBuffer)]
    seconds = [0.0, 0.0]
    rng = np.random.default_rng(0)
    obs, starts = vec.reset(), np.ones(n, np.float32)
    for _ in range(n_steps):
        masks = np.stack(vec.env_method("action_masks"))
        actions = np.array([rng.choice(np.flatnonzero(m)) for m in masks])
        rewards, values, log_probs = rng.random(n), torch.tensor(rng.random(n)), torch.tensor(rng.random(n))
        for k, buffer in enumerate(buffers):
            start = time.perf_counter()
            buffer.add(obs, actions.reshape(n, 1), rewards, starts, values, log_probs, action_masks=masks)
            seconds[k] += time.perf_counter() - start
        obs, _, dones, _ = vec.step(actions)
        starts = dones.astype(np.float32)
    vec.close()
    for buffer in buffers:
        buffer.compute_returns_and_advantage(torch.zeros(n), starts)
    return buffers, seconds


def minibatch_seconds(buffer: Any, epochs: int, batch_size: int) -> tuple[float, str]:
    """Seconds of ``epochs`` passes over ``buffer.get(batch_size)`` (the first one flattens, as
    an update's does) and a digest of one more pass's minibatches."""
    import numpy as np

    np.random.seed(0)
    start = time.perf_counter()
    for _ in range(epochs):
        for _batch in buffer.get(batch_size):
            pass
    seconds = time.perf_counter() - start
    np.random.seed(0)
    digest = hashlib.sha256()
    for batch in buffer.get(batch_size):
        for key, tensor in batch.observations.items():
            digest.update(key.encode() + str(tensor.dtype).encode() + tensor.numpy().tobytes())
        for tensor in batch[1:]:
            digest.update(tensor.numpy().tobytes())
    return seconds, digest.hexdigest()[:16]


def update_seconds(config: Any, designs: list, rounds: int) -> list[tuple[float, float, str]]:
    """Per buffer (old, new): the mean wall seconds of one rollout and one update over
    ``rounds`` fresh models (old first in odd rounds, new first in even ones), and the
    policy's digests after them (one, the same in every round: seed 0)."""
    from sb3_contrib.common.maskable.buffers import MaskableDictRolloutBuffer

    from placer.rl.buffer import DesignConstantRolloutBuffer

    classes = (MaskableDictRolloutBuffer, DesignConstantRolloutBuffer)
    times: dict[type, list[tuple[float, float]]] = {cls: [] for cls in classes}
    digests: dict[type, set[str]] = {cls: set() for cls in classes}
    for r in range(rounds):
        for cls in classes if r % 2 == 0 else classes[::-1]:
            rollout, update, digest = _one_update(config, designs, cls)
            times[cls].append((rollout, update))
            digests[cls].add(digest)
    return [(sum(t[0] for t in times[cls]) / rounds, sum(t[1] for t in times[cls]) / rounds,
             " ".join(sorted(digests[cls]))) for cls in classes]  # fmt: skip


def _one_update(config: Any, designs: list, buffer_class: type) -> tuple[float, float, str]:
    """One rollout and one update of a fresh model (as ``placer train`` builds it) with
    ``buffer_class``: their wall seconds and the policy's digest after them."""
    model, vec, callback = model_ready_to_roll_out(config, designs, buffer_class)
    start = time.perf_counter()
    collect_rollout(model, callback)
    rollout = time.perf_counter() - start
    start = time.perf_counter()
    model.train()
    update = time.perf_counter() - start
    vec.close()
    return rollout, update, policy_digest(model)


def _edge_counts(text: str) -> list[int]:
    """argparse type: comma-separated max_edges values, each >= 2 (the env's minimum)."""
    counts = [positive_int(v) for v in name_list(text)]
    if any(n < 2 for n in counts):
        raise argparse.ArgumentTypeError(f"max_edges must be >= 2, got {text!r}")
    return counts


def main() -> None:
    """Measure and print the tables."""
    parser = make_parser(__doc__)
    parser.add_argument("--netlist", default="default", help="design trained on (a file or a built-in name)")
    parser.add_argument("--n-steps", type=positive_int, default=1024, help="rollout steps per env (2 envs) for the bytes")
    parser.add_argument("--max-edges", type=_edge_counts, default=[4096, 16384],
                        help="the env's max_edges values compared, comma-separated (4096: the training default)")
    parser.add_argument("--update-n-steps", type=positive_int, default=64,
                        help="rollout steps per env of the whole rollout and update timed")
    parser.add_argument("--rounds", type=positive_int, default=2,
                        help="whole rollouts and updates timed per buffer (alternated)")
    args = parser.parse_args()

    import torch

    from placer.rl.config import TrainConfig
    from placer.rl.train import load_designs

    torch.set_num_threads(1)  # (as placer train runs)
    with tempfile.TemporaryDirectory(prefix="rollout-buffer-memory-") as out:  # (the runs' folder: nothing is written)
        config = TrainConfig(out=out, netlists=[args.netlist], n_steps=args.n_steps, device="cpu")
        designs = load_designs(config)
        print(f"# Rollout buffer: MaskableDictRolloutBuffer (old) vs DesignConstantRolloutBuffer (new)\n\n"
              f"`placer train --netlist {args.netlist}` at n_steps {args.n_steps} x {config.n_envs} envs "
              f"(minibatches of {config.batch_size}, {config.n_epochs} epochs); {platform.machine()}, "
              f"{os.cpu_count()} cores, one torch thread.\n")
        print("| max_edges | old MB | new MB | new / old | add s (old / new) | update minibatches s (old / new) | same bits |")
        print("|---:|---:|---:|---:|---:|---:|---|")
        for edges in args.max_edges:
            sized = TrainConfig(out=out, netlists=[args.netlist], n_steps=args.n_steps, device="cpu", max_edges=edges)
            buffers, adds = filled_buffers(sized, designs, args.n_steps)
            sizes = [buffer_nbytes(b) for b in buffers]  # (before get(): the rollout's own bytes)
            gets = [minibatch_seconds(b, sized.n_epochs, sized.batch_size) for b in buffers]
            same = "yes" if gets[0][1] == gets[1][1] else "**NO**"
            print(f"| {edges:,} | {sizes[0] / 1e6:,.1f} | {sizes[1] / 1e6:,.1f} | {sizes[1] / sizes[0]:.2f} | "
                  f"{adds[0]:.2f} / {adds[1]:.2f} | {gets[0][0]:.2f} / {gets[1][0]:.2f} | {same} |")
            del buffers
        small = TrainConfig(out=out, netlists=[args.netlist], n_steps=args.update_n_steps, device="cpu")
        (r_old, u_old, d_old), (r_new, u_new, d_new) = update_seconds(small, designs, args.rounds)
        print(f"\nOne PPO rollout and update at n_steps {args.update_n_steps} x {small.n_envs} envs (max_edges "
              f"{small.max_edges}), mean of {args.rounds} fresh models per buffer, alternated: rollout "
              f"{r_old:.2f} s old / {r_new:.2f} s new, update {u_old:.2f} s old / {u_new:.2f} s new; "
              + ("the same policy, bit for bit." if d_old == d_new and " " not in d_old else "**the policies differ.**"))


if __name__ == "__main__":
    run(main)
