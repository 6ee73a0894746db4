"""Time of `placer train`'s PPO update with glibc's default heap and with
:func:`placer.heap.large_blocks_reused` (which ``placer.rl.train`` runs under), same run.

Each round starts one process per way, alternated (the default heap first in odd rounds, last
in even ones): glibc's adaptive mmap threshold is off for good once a limit is set, so a
process that has been inside the block once is no baseline any more. A process builds the
model as ``placer train --netlist default --set n_steps=N`` does (seed 0, 2 envs, minibatches
of 256, 4 epochs, one torch thread), collects one rollout, then times ``--updates`` PPO
updates: wall and CPU seconds (user, system), minor page faults, and a digest of the policy's
tensors afterwards, equal between the two ways when not a bit of training changed.

    python experiments/bench/ppo_update_speed.py [--rounds 2] [--n-steps 512] [--updates 1] [--out FILE.md]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from contextlib import nullcontext

from _cli import REPO, check_outputs, make_parser, output_file, positive_int, print_or_write, run
from _rl_model import collect_rollout, model_ready_to_roll_out, policy_digest

WAYS = ("default heap", "large_blocks_reused")


def measure(n_steps: int, updates: int, reused: bool) -> dict[str, object]:
    """One rollout, then ``updates`` timed PPO updates (in this process)."""
    import tempfile

    import torch

    from placer.heap import large_blocks_reused
    from placer.rl.config import TrainConfig
    from placer.rl.train import load_designs

    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory(prefix="ppo-update-speed-") as out:  # (its run folder: nothing is written)
        config = TrainConfig(out=out, netlists=["default"], n_steps=n_steps, device="cpu")
        model, _, callback = model_ready_to_roll_out(config, load_designs(config))
        collect_rollout(model, callback)
        before, start = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
        with large_blocks_reused() if reused else nullcontext():
            for _ in range(updates):
                model.train()
        after, wall = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter() - start
    return {
        "way": WAYS[reused],
        "wall_s": wall / updates,
        "user_s": (after.ru_utime - before.ru_utime) / updates,
        "sys_s": (after.ru_stime - before.ru_stime) / updates,
        "minor_faults": (after.ru_minflt - before.ru_minflt) // updates,
        "policy_digest": policy_digest(model),
    }


def child(way: int, n_steps: int, updates: int) -> dict[str, object]:
    """:func:`measure` in a fresh process (its JSON is the last line it prints)."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, __file__, "--child", str(way), "--n-steps", str(n_steps), "--updates", str(updates)],
        env=env, capture_output=True, text=True, check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"measuring process failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    """Alternate the two ways' processes and print (or write) the table."""
    parser = make_parser(__doc__)
    parser.add_argument("--rounds", type=positive_int, default=2, help="processes per way")
    parser.add_argument("--n-steps", type=positive_int, default=512, help="rollout steps per env (2 envs)")
    parser.add_argument("--updates", type=positive_int, default=1, help="PPO updates timed per process")
    parser.add_argument("--out", type=output_file, default=None,
                        help="the Markdown table to write (its .json beside it); default: print only")
    parser.add_argument("--child", type=int, choices=(0, 1), default=None, help=argparse.SUPPRESS)  # (internal)
    args = parser.parse_args()
    if args.child is not None:
        print(json.dumps(measure(args.n_steps, args.updates, bool(args.child))))
        return
    if args.out is not None:
        check_outputs(args.out, args.out.with_suffix(".json"))
    rows = []
    for r in range(args.rounds):
        for way in ((0, 1) if r % 2 == 0 else (1, 0)):
            rows.append({"round": r + 1, **child(way, args.n_steps, args.updates)})
            print(rows[-1], file=sys.stderr)
    print_or_write(args.out, table(rows, args), json.dumps(rows, indent=2))


def table(rows: list[dict], args: argparse.Namespace) -> list[str]:
    """The Markdown table of every process and the ratio of the means (new / default)."""
    lines = [
        "# PPO update time: glibc's default heap vs large_blocks_reused",
        "",
        f"`placer train --netlist default --set n_steps={args.n_steps}` (2 envs, minibatches of 256, "
        f"4 epochs, one torch thread); per update, {args.updates} timed per process; machine: "
        f"{platform.machine()}, {os.cpu_count()} cores (shared: wall times move with the load, "
        "CPU seconds less).",
        "",
        "| round | heap | wall s | user s | sys s | CPU s | minor faults | policy digest |",
        "|---:|---|---:|---:|---:|---:|---:|---|",
    ]
    for row in rows:
        cpu = row["user_s"] + row["sys_s"]
        lines.append(f"| {row['round']} | {row['way']} | {row['wall_s']:.2f} | {row['user_s']:.2f} | "
                     f"{row['sys_s']:.2f} | {cpu:.2f} | {row['minor_faults']:,} | `{row['policy_digest']}` |")

    def mean(way: str, key: str) -> float:
        values = [row["user_s"] + row["sys_s"] if key == "cpu" else row[key] for row in rows if row["way"] == way]
        return sum(values) / len(values)

    same = len({row["policy_digest"] for row in rows}) == 1
    lines += [
        "",
        f"Mean wall per update: {mean(WAYS[0], 'wall_s'):.2f} s -> {mean(WAYS[1], 'wall_s'):.2f} s "
        f"(x{mean(WAYS[1], 'wall_s') / mean(WAYS[0], 'wall_s'):.2f}); CPU: {mean(WAYS[0], 'cpu'):.2f} s -> "
        f"{mean(WAYS[1], 'cpu'):.2f} s (x{mean(WAYS[1], 'cpu') / mean(WAYS[0], 'cpu'):.2f}). "
        + ("Every process trained the same policy, bit for bit." if same else
           "**The processes' policies differ.**"),
    ]
    return lines


if __name__ == "__main__":
    run(main)
