"""How close :func:`placer.rl.memory.training_bytes` comes to what ``placer train`` really uses.

For each size ``MAX_GRID/MAX_NODES/N_STEPS/BATCH_SIZE`` (2 envs, ``--netlist``, one epoch, one
rollout and its update, then the final evaluation, as ``placer.rl.train.train`` runs them), a
fresh process loads the design, notes its resident memory (RSS), trains, and reports its peak
RSS (``ru_maxrss``); the table sets the growth (peak minus the RSS before) beside the estimate
and its parts. Then, with ``--count``, the bytes of tensors the policy's forward pass makes per
sample (every torch operation of ``evaluate_actions``, views left out), at two grid sides, two
node counts and two edge counts: the per-cell, per-node and per-edge figures the estimate is
built on (:data:`placer.rl.memory.FORWARD_BYTES_PER_CELL` and its neighbours).

    python experiments/bench/train_memory.py [--sizes 64/256/64/64 128/256/64/64 ...] [--count] \\
        [--out experiments/results/train_memory.md]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
from typing import Any

from _cli import check_outputs, make_parser, output_file, print_or_write, run

DEFAULT_SIZES = ["64/256/64/64", "128/256/64/64", "64/256/512/256", "128/256/256/256", "64/4096/64/64",
                 "32/256/64/64"]


def _size(text: str) -> tuple[int, int, int, int]:
    """argparse type: ``MAX_GRID/MAX_NODES/N_STEPS/BATCH_SIZE``, whole numbers."""
    try:
        grid, nodes, steps, batch = (int(part) for part in text.split("/"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected MAX_GRID/MAX_NODES/N_STEPS/BATCH_SIZE, got {text!r}") from None
    return grid, nodes, steps, batch


def _config(netlist: str, out: str, size: tuple[int, int, int, int], max_edges: int = 4096) -> Any:
    from placer.rl.config import TrainConfig

    grid, nodes, steps, batch = size
    return TrainConfig(out=out, netlists=[netlist], max_grid=grid, max_nodes=nodes, max_edges=max_edges,
                       n_steps=steps, n_envs=2, batch_size=batch, n_epochs=1, timesteps=steps * 2,
                       eval_every=10**9, checkpoint_every=10**9, device="cpu")  # fmt: skip


def child(netlist: str, size: tuple[int, int, int, int]) -> None:
    """In a fresh process: train one rollout and its update; print the RSS before and the peak."""
    import resource

    from placer.rl.train import load_designs, train

    with tempfile.TemporaryDirectory(prefix="train-memory-") as out:  # (the run removed afterwards)
        config = _config(netlist, os.path.join(out, "run"), size)
        load_designs(config)  # (the design read and the kernels loaded before the RSS is noted)
        with open("/proc/self/statm") as statm:
            before = int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        train(config, progress_bar=False, verbose=0)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"before": before, "peak": peak}))


def _tensor_bytes(tensor: Any) -> int:
    """Bytes a tensor holds: a sparse (COO) one its indices and values (its ``numel`` is the
    dense size: the graph encoder's max_nodes x max_nodes adjacency counted 4 KiB per node)."""
    if tensor.is_sparse:
        return _tensor_bytes(tensor._indices()) + _tensor_bytes(tensor._values())
    return tensor.numel() * tensor.element_size()


def forward_bytes(netlist: str, grid: int, nodes: int, edges: int, batch: int = 4) -> float:
    """Bytes of tensors ``evaluate_actions`` makes per sample (views left out)."""
    import torch
    from torch.utils._python_dispatch import TorchDispatchMode

    from placer.rl.train import _new_model, load_designs

    with tempfile.TemporaryDirectory(prefix="train-memory-") as folder:  # (its run folder: nothing is written)
        config = _config(netlist, folder, (grid, nodes, 8, 8), max_edges=edges)
        model, vec = _new_model(config, load_designs(config), "cpu", None)
        views = ("view", "_unsafe_view", "expand", "t", "transpose", "slice", "select", "unsqueeze", "squeeze",
                 "permute", "detach", "alias", "as_strided")

        class Count(TorchDispatchMode):
            def __init__(self) -> None:
                super().__init__()
                self.bytes = 0

            def __torch_dispatch__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
                out = func(*args, **(kwargs or {}))
                if func.__name__.split(".")[0] not in views:
                    for tensor in out if isinstance(out, tuple | list) else [out]:
                        if isinstance(tensor, torch.Tensor):
                            self.bytes += _tensor_bytes(tensor)
                return out

        obs = vec.reset()
        batch_obs = {k: torch.as_tensor(v[:1]).repeat(batch, *([1] * (v.ndim - 1))) for k, v in obs.items()}  # (env 0's)
        with Count() as count:
            model.policy.evaluate_actions(batch_obs, torch.zeros(batch), action_masks=torch.ones(batch, grid * grid, dtype=torch.bool))
        vec.close()
    return count.bytes / batch


def main() -> None:
    """Measure, then print the tables (or write them with ``--out``)."""
    parser = make_parser(__doc__)
    parser.add_argument("--netlist", default="default", help="design trained on (a file or a built-in name)")
    parser.add_argument("--sizes", nargs="+", type=_size, default=DEFAULT_SIZES,
                        help="MAX_GRID/MAX_NODES/N_STEPS/BATCH_SIZE of each run (2 envs)")
    parser.add_argument("--count", action="store_true", help="count the policy's forward bytes per sample too")
    parser.add_argument("--out", type=output_file, default=None,
                        help="write the table here (and its .json beside it) instead of printing it")
    parser.add_argument("--child", type=_size, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.netlist, args.child)
        return
    if args.out is not None:
        check_outputs(args.out, args.out.with_suffix(".json"))

    from placer.rl.memory import training_bytes

    mb = 2**20
    lines = [f"# `placer train`: estimated memory against the measured peak RSS\n\n`--netlist {args.netlist}`, "
             f"2 envs, one rollout and its update (1 epoch), then the final evaluation; {platform.machine()}, "
             f"{os.cpu_count()} cores, one torch thread. Growth: peak RSS minus the RSS before training (the "
             "design loaded); estimate: `placer.rl.memory.training_bytes`.\n",
             "| max_grid | max_nodes | n_steps x envs | batch | buffer MiB | update MiB | working MiB | estimate MiB | "
             "growth MiB | estimate / growth |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    rows = []
    for size in (_size(s) if isinstance(s, str) else s for s in args.sizes):  # (the default: as typed)
        done = subprocess.run([sys.executable, __file__, "--netlist", args.netlist, "--child", "/".join(map(str, size))],
                              capture_output=True, text=True, check=True)  # fmt: skip
        measured = json.loads(done.stdout.strip().splitlines()[-1])
        growth = measured["peak"] - measured["before"]
        parts = training_bytes(_config(args.netlist, "run", size))
        estimate = sum(parts.values())
        grid, nodes, steps, batch = size
        rows.append({"max_grid": grid, "max_nodes": nodes, "rows": steps * 2, "batch_size": batch, **parts,
                     "estimate": estimate, "growth": growth})
        lines.append(f"| {grid} | {nodes:,} | {steps * 2:,} | {batch} | {parts['rollout buffer'] / mb:,.0f} | "
                     f"{parts['update'] / mb:,.0f} | {parts['working'] / mb:,.0f} | {estimate / mb:,.0f} | "
                     f"{growth / mb:,.0f} | {estimate / growth:.2f} |")
        if args.out is not None:
            print(lines[-1], flush=True)  # (progress: each run takes a minute or more)
    if args.count:
        lines += ["\nBytes of tensors the policy's forward pass (`evaluate_actions`) makes per sample:\n",
                  "| max_grid | max_nodes | max_edges | bytes per sample |", "|---:|---:|---:|---:|"]
        counted = {}
        for grid, nodes, edges in ((64, 256, 4096), (128, 256, 4096), (64, 4096, 4096), (64, 256, 16384)):
            counted[grid, nodes, edges] = forward_bytes(args.netlist, grid, nodes, edges)
            lines.append(f"| {grid} | {nodes:,} | {edges:,} | {counted[grid, nodes, edges]:,.0f} |")
        base = counted[64, 256, 4096]
        lines.append(f"\nPer cell {(counted[128, 256, 4096] - base) / (128**2 - 64**2):.1f} B, per node "
                     f"{(counted[64, 4096, 4096] - base) / (4096 - 256):.1f} B, per padded edge "
                     f"{(counted[64, 256, 16384] - base) / (16384 - 4096):.1f} B.")
    print_or_write(args.out, lines, json.dumps(rows, indent=2))


if __name__ == "__main__":
    run(main)
