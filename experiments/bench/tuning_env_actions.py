"""Benchmark: PPO on ``placer/IndexTuning-v0`` with its symmetric action box against a ``[0, 1]`` one.

stable-baselines3's PPO starts from a Gaussian policy centred on 0. The env's actions are
points of ``[-1, 1]^5``; the ``[0, 1]`` arm declares ``Box(0, 1)`` and hands the env the same
configuration a ``[0, 1]`` box stood for before (``a -> 2a - 1``), so it is the env as it was.
Each arm trains PPO (SB3's defaults, ``--n-steps`` 512, batch 64, on the CPU) for ``--steps``
environment steps per seed, in the env's counted-cost mode (deterministic rewards), and is
scored by the mean return of its deterministic policy over ``--episodes`` evaluation episodes
(their own seeds, never trained on), before training and after; a uniform random policy is
scored alike. Higher is better; returns are sums over the episode's 4 steps.

    python experiments/bench/tuning_env_actions.py [--steps 4096] [--seeds 0 1 2] \\
        [--episodes 100] [--out experiments/results/tuning_env_actions.md]
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
from typing import Any

import gymnasium as gym
import numpy as np
from _cli import (
    check_outputs,
    make_parser,
    output_file,
    positive_int,
    print_or_write,
    run,
    seed_32bit,
)

import envs  # noqa: F401 - registers the ids

ENV_SETTINGS = {"mode": "cost", "keys": 20_000, "queries": 2_000}
EVALUATION_SEEDS_FROM = 1_000  # evaluation episodes' reset seeds: 1000, 1001, ...


class UnitBoxActions(gym.ActionWrapper):
    """The env as it was: actions in ``[0, 1]`` per parameter (``a -> 2a - 1`` for the env)."""

    def __init__(self, env: gym.Env) -> None:
        super().__init__(env)
        self.action_space = gym.spaces.Box(0.0, 1.0, env.action_space.shape, np.float32)

    def action(self, action: Any) -> np.ndarray:
        return (2.0 * np.asarray(action, np.float64) - 1.0).astype(np.float32)


def make_env(box: str) -> gym.Env:
    env = gym.make("placer/IndexTuning-v0", **ENV_SETTINGS)
    return UnitBoxActions(env) if box == "[0, 1]" else env


def mean_return(env: gym.Env, policy: Any, episodes: int) -> float:
    """Mean return of ``policy(observation)`` over the evaluation episodes."""
    returns = []
    for k in range(episodes):
        observation, _ = env.reset(seed=EVALUATION_SEEDS_FROM + k)
        total, done = 0.0, False
        while not done:
            observation, reward, terminated, truncated, _ = env.step(policy(observation))
            total, done = total + float(reward), terminated or truncated
        returns.append(total)
    return statistics.fmean(returns)


def train_arm(box: str, seed: int, steps: int, episodes: int, n_steps: int = 512) -> dict[str, float]:
    """PPO on one arm: its deterministic mean return before and after ``steps`` steps."""
    import torch
    from stable_baselines3 import PPO
    from stable_baselines3.common.logger import Logger

    torch.set_num_threads(1)
    model = PPO("MlpPolicy", make_env(box), seed=seed, n_steps=n_steps, batch_size=min(64, n_steps), device="cpu",
                verbose=0)
    model.set_logger(Logger(folder=None, output_formats=[]))  # else an empty tempdir/SB3-<time> per arm
    evaluation = make_env(box)
    policy = lambda observation: model.predict(observation, deterministic=True)[0]  # noqa: E731
    before = mean_return(evaluation, policy, episodes)
    started = time.perf_counter()
    model.learn(steps)
    return {"before": before, "after": mean_return(evaluation, policy, episodes),
            "seconds": time.perf_counter() - started}


def main() -> int:
    parser = make_parser(__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=positive_int, default=4096, help="PPO training steps per arm and seed")
    parser.add_argument("--seeds", type=seed_32bit, nargs="+", default=[0, 1, 2], help="PPO seeds")
    parser.add_argument("--episodes", type=positive_int, default=100, help="evaluation episodes")
    parser.add_argument("--n-steps", type=positive_int, default=512, help="PPO's rollout length (steps per update)")
    parser.add_argument("--out", type=output_file, default=None,
                        help="the Markdown table to write (its .json beside it); default: print only")  # fmt: skip
    args = parser.parse_args()
    if args.out is not None:
        check_outputs(args.out, args.out.with_suffix(".json"))
    sampler = make_env("[-1, 1]")
    sampler.action_space.seed(0)
    random_return = mean_return(sampler, lambda _: sampler.action_space.sample(), args.episodes)
    rows = []
    for seed in args.seeds:
        for box in ("[-1, 1]", "[0, 1]"):
            result = train_arm(box, seed, args.steps, args.episodes, args.n_steps)
            rows.append({"box": box, "seed": seed, **result})
            print(f"[tuning_env_actions] {box} seed {seed}: {result['before']:.2f} -> {result['after']:.2f}",
                  flush=True)
    lines = [
        "# PPO on IndexTuning-v0: symmetric action box against [0, 1] "
        "(generated by experiments/bench/tuning_env_actions.py)",
        "",
        f"Machine: {platform.machine()}, Python {platform.python_version()}, {os.cpu_count()} cores. "
        f"Counted cost (`{ENV_SETTINGS}`), PPO `n_steps` {args.n_steps}, batch {min(64, args.n_steps)}, "
        f"{args.steps} steps per arm and seed; "
        f"deterministic mean return over {args.episodes} evaluation episodes (higher is better). "
        f"Random policy: {random_return:.2f}.",
        "",
        "| seed | [-1, 1] before | [-1, 1] after | [0, 1] before | [0, 1] after |",
        "|---:|---:|---:|---:|---:|",
    ]
    by_key = {(r["box"], r["seed"]): r for r in rows}
    for seed in args.seeds:
        sym, unit = by_key[("[-1, 1]", seed)], by_key[("[0, 1]", seed)]
        lines.append(f"| {seed} | {sym['before']:.2f} | {sym['after']:.2f} | {unit['before']:.2f} | {unit['after']:.2f} |")
    medians = {box: statistics.median(r["after"] for r in rows if r["box"] == box) for box in ("[-1, 1]", "[0, 1]")}
    lines += ["", f"Median over seeds after training: [-1, 1] {medians['[-1, 1]']:.2f}, [0, 1] {medians['[0, 1]']:.2f}."]
    print_or_write(args.out, lines, json.dumps({"random": random_return, "runs": rows}, indent=2))
    return 0


if __name__ == "__main__":
    run(main)
