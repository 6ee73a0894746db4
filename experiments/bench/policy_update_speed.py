"""One PPO update step of the placement policy, the way `placer train` makes it (forward,
MaskablePPO's loss, backward, gradient clipping, Adam; one torch thread, inside
:func:`placer.heap.large_blocks_reused`), on one minibatch of real observations, in four ways
alternated in one process:

* ``old``: the graph encoder's per-row path and contiguous (NCHW) convolutions (the form before);
* ``graph``: rows sharing a graph aggregated with one sparse product (``GraphEncoder``'s grouped
  path), convolutions contiguous;
* ``layout``: the per-row graph path, convolutions and grid channels last;
* ``new``: both (what `placer train` runs).

Every way starts from the same weights. Before the timed steps, one step of each from those
weights gives the largest difference from ``old`` of the outputs (values, log-probabilities of
the actions, entropies) and of the gradients, each relative to ``old``'s largest magnitude.
The table has the median seconds per step and each way's ratio to ``old``. A design list
``a+b`` is a two-design run (its minibatch mixes the designs' graphs).

    python experiments/bench/policy_update_speed.py [--designs default,ariane133,default+ariane133] [--batch-sizes 64,256] [--repeats 7] [--out FILE.md]
"""

from __future__ import annotations

import json
import math
import os
import platform
import statistics
import sys
import tempfile
import time
from typing import Any

from _cli import make_parser, name_list, output_file, positive_int, print_or_write, run
from _rl_model import collect_rollout, model_ready_to_roll_out

#: way -> (graph rows grouped by graph, convolutions channels last)
WAYS = {"old": (False, False), "graph": (True, False), "layout": (False, True), "new": (True, True)}


def collect_minibatch(names: list[str], batch_size: int) -> tuple[Any, Any]:
    """A fresh model as `placer train --netlist NAMES` builds it (seed 0, 2 envs), one rollout of
    enough steps, and the first minibatch of ``batch_size`` rows SB3 would hand the update."""
    import torch

    from placer.rl.config import TrainConfig
    from placer.rl.train import load_designs

    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory(prefix="policy-update-speed-") as out:  # (its run folder: nothing is written)
        n_steps = max(8, math.ceil(batch_size / 2))
        config = TrainConfig(out=out, netlists=names, n_steps=n_steps, device="cpu")
        model, vec, callback = model_ready_to_roll_out(config, load_designs(config))
        collect_rollout(model, callback)
        samples = next(model.rollout_buffer.get(batch_size))
        vec.close()
    return model, samples


def policy_copy(model: Any, way: str) -> Any:
    """A fresh policy with ``model``'s weights (and its own Adam), set to ``way``."""
    import torch

    policy = type(model.policy)(**model.policy._get_constructor_parameters())
    policy.load_state_dict(model.policy.state_dict())
    grouped, channels_last = WAYS[way]
    policy.features_extractor.graph.group_by_graph = grouped
    policy.lay_out_convolutions(torch.channels_last if channels_last else torch.contiguous_format)
    policy.set_training_mode(True)
    return policy


def rows(samples: Any, count: int) -> Any:
    """The first ``count`` rows of a minibatch."""
    observations = {key: value[:count] for key, value in samples.observations.items()}
    return samples._replace(observations=observations, **{
        field: getattr(samples, field)[:count] for field in samples._fields if field != "observations"})


def loss_of(model: Any, policy: Any, samples: Any) -> tuple[Any, tuple[Any, ...]]:
    """MaskablePPO's loss on ``samples`` (its ``train``'s, clip range at the start of training)
    and the outputs it is made of."""
    import torch
    import torch.nn.functional as F

    values, log_prob, entropy = policy.evaluate_actions(
        samples.observations, samples.actions.long().flatten(), action_masks=samples.action_masks)
    values = values.flatten()
    advantages = samples.advantages
    advantages = (advantages - advantages.mean()) / (advantages.std() + 1e-8)
    ratio = torch.exp(log_prob - samples.old_log_prob)
    clip = model.clip_range(1.0)
    policy_loss = -torch.min(advantages * ratio, advantages * torch.clamp(ratio, 1 - clip, 1 + clip)).mean()
    loss = policy_loss - model.ent_coef * torch.mean(entropy) + model.vf_coef * F.mse_loss(samples.returns, values)
    return loss, (values, log_prob, entropy)


def update_step(model: Any, policy: Any, samples: Any) -> None:
    """One optimisation step of ``policy`` on ``samples``, as MaskablePPO's ``train`` makes it."""
    import torch

    loss, _ = loss_of(model, policy, samples)
    policy.optimizer.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(policy.parameters(), model.max_grad_norm)
    policy.optimizer.step()


def differences(model: Any, policies: dict[str, Any], samples: Any) -> dict[str, dict[str, float]]:
    """Per way, the largest difference from ``old`` of the outputs and of the gradients (one
    backward from the shared starting weights), relative to ``old``'s largest magnitude."""
    found: dict[str, tuple[tuple[Any, ...], list[Any]]] = {}
    for way, policy in policies.items():
        policy.optimizer.zero_grad()
        loss, outputs = loss_of(model, policy, samples)
        loss.backward()
        found[way] = (tuple(o.detach() for o in outputs),
                      [p.grad.detach().clone() for p in policy.parameters() if p.grad is not None])
        policy.optimizer.zero_grad()

    def relative(new: Any, old: Any) -> float:
        return float((new - old).abs().max() / old.abs().max().clamp_min(1e-30))

    old_outputs, old_grads = found["old"]
    return {way: {"outputs": max(relative(n, o) for n, o in zip(outputs, old_outputs, strict=True)),
                  "gradients": max(relative(n, o) for n, o in zip(grads, old_grads, strict=True))}
            for way, (outputs, grads) in found.items() if way != "old"}  # fmt: skip


def measure(spec: str, batch_sizes: list[int], repeats: int) -> list[dict[str, Any]]:
    """The table's rows of one design list (``a+b``: a two-design run)."""
    import torch

    from placer.rl.features import graph_groups

    model, samples = collect_minibatch(spec.split("+"), max(batch_sizes))
    found = []
    for batch in batch_sizes:
        part = rows(samples, batch)
        graphs = len(graph_groups(part.observations["graph_edges"], part.observations["graph_edge_weight"],
                                  batch)[0])  # fmt: skip
        policies = {way: policy_copy(model, way) for way in WAYS}
        diffs = differences(model, policies, part)
        seconds: dict[str, list[float]] = {way: [] for way in WAYS}
        for r in range(repeats + 1):  # (the first round warms every way up, not counted)
            order = list(WAYS) if r % 2 == 0 else list(reversed(WAYS))
            for way in order:
                start = time.perf_counter()
                update_step(model, policies[way], part)
                if r:
                    seconds[way].append(time.perf_counter() - start)
        medians = {way: statistics.median(values) for way, values in seconds.items()}
        kept_edges = int((part.observations["graph_edge_weight"] != 0).sum()) / batch
        found.append({"designs": spec, "batch": batch, "graphs": graphs, "edges_per_row": kept_edges,
                      "seconds": medians, "differences": diffs,
                      "threads": torch.get_num_threads()})
        print(found[-1], file=sys.stderr)
    return found


def table(found: list[dict[str, Any]], repeats: int) -> list[str]:
    """The Markdown table: median seconds per way, ratios to ``old``, largest differences."""
    lines = [
        "# One PPO update step of the placement policy: graph aggregation and convolution layout",
        "",
        "One minibatch of real observations (a fresh `placer train --netlist DESIGNS` model's first "
        "rollout), one torch thread, freed large blocks reused (`placer.heap`, as training runs); "
        f"median of {repeats} steps per way, the four ways alternated in one process. Machine: {platform.machine()}, {os.cpu_count()} cores, load average "
        f"{os.getloadavg()[0]:.1f} at the end (shared: other jobs slow every way alike, roughly). "
        "Differences: largest |way - old| over the outputs (values, log-probabilities, entropies) and "
        "over the gradients of one step from the same weights, relative to old's largest magnitude.",
        "",
        "| designs | batch | graphs | kept edges / row | old s | graph s | layout s | new s | "
        "graph / old | layout / old | new / old | max diff outputs | max diff gradients |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in found:
        s, d = row["seconds"], row["differences"]
        lines.append(
            f"| {row['designs']} | {row['batch']} | {row['graphs']} | {row['edges_per_row']:,.0f} | "
            f"{s['old']:.3f} | {s['graph']:.3f} | {s['layout']:.3f} | {s['new']:.3f} | "
            f"{s['graph'] / s['old']:.2f} | {s['layout'] / s['old']:.2f} | {s['new'] / s['old']:.2f} | "
            f"{max(v['outputs'] for v in d.values()):.1e} | {max(v['gradients'] for v in d.values()):.1e} |")
    return lines


def main() -> None:
    """Measure every design list and print (or write) the table."""
    parser = make_parser(__doc__)
    parser.add_argument("--designs", type=name_list, default=["default", "ariane133", "default+ariane133"],
                        help="comma-separated design lists, each a built-in design, a netlist path, or "
                             "names joined by + (a multi-design run)")
    parser.add_argument("--batch-sizes", type=_batch_sizes, default=[64, 256],
                        help="comma-separated minibatch sizes (the first rows of one minibatch)")
    parser.add_argument("--repeats", type=positive_int, default=7, help="timed steps per way")
    parser.add_argument("--out", type=output_file, default=None,
                        help="the Markdown table to write (its .json beside it); default: print only")
    args = parser.parse_args()
    from placer.heap import large_blocks_reused

    with large_blocks_reused():  # (as `placer train`'s updates run: freed large blocks reused)
        found = [row for spec in args.designs for row in measure(spec, args.batch_sizes, args.repeats)]
    print_or_write(args.out, table(found, args.repeats), json.dumps(found, indent=2))


def _batch_sizes(text: str) -> list[int]:
    """argparse type: comma-separated minibatch sizes, each at least 2 (an advantage needs a
    spread to be normalised)."""
    import argparse

    sizes = [positive_int(item) for item in name_list(text)]
    if min(sizes) < 2:
        raise argparse.ArgumentTypeError(f"minibatch sizes must be >= 2, got {text}")
    return sizes


if __name__ == "__main__":
    run(main)
