"""What a training run's sizes cost in memory, and the refusal of sizes this machine cannot hold.

``max_grid`` and ``max_nodes`` (and ``max_edges``, ``n_steps x n_envs``, ``batch_size``) size
every observation: a mistyped ``--max-grid`` of 1e9 grew memory until torch's allocator (or the
kernel) refused, minutes in. :func:`training_bytes` estimates, from the observation's shapes
(:mod:`envs.macro_placement_obs`) and the policy's activations, what a run needs beyond what
the process holds before it starts; :func:`refuse_what_cannot_fit` refuses a run whose estimate
exceeds the memory free (the machine's, or a container's limit less its use where lower), before
anything is allocated; on a GPU the update's activations are its memory's and are not counted.

The estimate is the sum of

* the rollout buffer: per row (``n_steps x n_envs`` of them) the grid channels and the action
  mask (4 bytes a cell each), the node features (4 bytes each) and a few scalars; and a
  design's padded graph (its edges) ``n_envs`` times: the buffer keeps one per distinct design
  a rollout meets (:mod:`placer.rl.buffer`), and each environment may be on a design of its
  own at once (a one-design run holds one; environments switching designs within a rollout
  can add more);
* one update's minibatch (``min(batch_size, rows)`` samples): its rows copied to tensors, and
  the policy's activations and their gradients. The policy's forward pass makes 486 bytes of
  tensors per grid cell, 2,470 per graph node and 8 per (padding) edge per sample (counted
  over every torch operation of ``evaluate_actions``: ``experiments/bench/train_memory.py
  --count`` counts them again); with backward's gradients and the convolutions' work space
  the process grew by about 1.0-1.2 x those per cell (channels-last convolutions) and 0.8-1.5 x
  per node (taken as 1.0 and 1.0);
* :data:`WORKING_BYTES`, what a first update costs whatever the sizes (torch's convolution
  and autograd state, the evaluation environment, TensorBoard's writer: 190 MB measured).

Measured against the peak RSS of ``placer train`` on the default design (2 envs, max_grid 32
to 128, max_nodes 256 and 4,096, rollouts of 128 to 1,024 rows), the estimate is 0.82-0.94 x
the growth (``experiments/results/train_memory.md``): it errs low, so a run refused could not
have fitted (the memory free counts swap too). The model's weights (74k parameters, about 1 MB
with Adam's state) do not grow with these sizes. Real graph edges cost more than the padding
counted here (their messages), so an edge-heavy design needs somewhat more than the estimate.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING

from netlists.errors import InputError

if TYPE_CHECKING:
    from placer.rl.config import TrainConfig

#: The largest ``max_grid`` and ``max_nodes`` a run takes, whatever the machine (where it does
#: not say how much memory it has free, these alone bound the sizes): a grid of 1,024 x 1,024
#: cells is eight times the side of Circuit Training's largest, and no real design has 65,536
#: hard macros (the shared suite's most: a few hundred).
MAX_GRID = 1024
MAX_NODES = 65536

#: Bytes of tensors the policy's forward pass makes per sample, per grid cell, graph node and
#: padded edge (counted over ``evaluate_actions``' torch operations at max_grid 64 and 128,
#: max_nodes 256 and 4,096, max_edges 4,096 and 16,384).
FORWARD_BYTES_PER_CELL = 486
FORWARD_BYTES_PER_NODE = 2470
FORWARD_BYTES_PER_EDGE = 8
#: How much the process grows per byte of those tensors in an update (backward's gradients and
#: the convolutions' work space): about 1.0-1.2 per cell (1.5 before the convolutions went
#: channels last) and 0.8-1.5 per node in the peak RSS of a dozen runs (the graph encoder's
#: varies from run to run), taken a little lower so that the estimate errs low.
UPDATE_GROWTH_PER_CELL = 1.0
UPDATE_GROWTH_PER_NODE = 1.0
#: What the first update costs whatever the sizes (rounded down from the 190 MB measured).
WORKING_BYTES = 150 * 2**20
#: Bytes of one padded edge in the design's graph: two int64 ends and a float32 weight.
EDGE_BYTES = 2 * 8 + 4
#: Bytes of the per-row scalars (action, reward, value, log-probability, return, advantage,
#: episode start, the design entry's index).
ROW_SCALAR_BYTES = 64


def training_bytes(config: TrainConfig) -> dict[str, int]:
    """The estimated bytes a run of ``config`` needs beyond what its process holds before it
    starts: ``{"rollout buffer": ..., "update": ..., "working": ...}`` (see the module's
    docstring)."""
    from envs.macro_placement_obs import GRID_CHANNELS, MACRO_FEATURES, NODE_FEATURES

    cells, nodes, edges = config.max_grid**2, config.max_nodes, config.max_edges
    row = 4 * ((len(GRID_CHANNELS) + 1) * cells + NODE_FEATURES * nodes + MACRO_FEATURES) + ROW_SCALAR_BYTES
    rows = config.n_steps * config.n_envs
    batch = min(config.batch_size, rows)
    per_sample = (
        row  # (its observation copied out of the buffer)
        + EDGE_BYTES * edges  # (the design's graph, gathered for every row of the minibatch)
        + UPDATE_GROWTH_PER_CELL * FORWARD_BYTES_PER_CELL * cells
        + UPDATE_GROWTH_PER_NODE * FORWARD_BYTES_PER_NODE * nodes
        + FORWARD_BYTES_PER_EDGE * edges
    )
    return {
        "rollout buffer": rows * row + config.n_envs * EDGE_BYTES * edges,
        "update": int(batch * per_sample),
        "working": WORKING_BYTES,
    }


def free_memory_bytes() -> int | None:
    """The memory free for a new allocation: the machine's (:func:`machine_free_bytes`), or
    what the tightest control group this process is in leaves it where that is less (a
    container's limit: the machine's figure is the host's); None where neither is known."""
    from learned_systems.config.postgres_knobs import cgroup_memory_free_bytes

    known = [free for free in (machine_free_bytes(), cgroup_memory_free_bytes()) if free is not None]
    return min(known) if known else None


def machine_free_bytes() -> int | None:
    """The memory this machine has free for a new allocation: ``MemAvailable`` plus
    ``SwapFree`` of /proc/meminfo (a run that would swap is slow, not refused), else the
    available pages ``os.sysconf`` reports; None where neither is known (macOS, Windows)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            fields = dict(line.split(":", 1) for line in meminfo if ":" in line)
        kib = [int(fields[name].split()[0]) for name in ("MemAvailable", "SwapFree") if name in fields]
        if "MemAvailable" in fields:
            return 1024 * sum(kib)
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, OSError, ValueError):
        return None


def _gb(size: float) -> str:
    """``size`` bytes in GiB (or MiB below one), labelled so: they are powers of two."""
    return f"{size / 2**30:.1f} GiB" if size >= 2**30 else f"{size / 2**20:.0f} MiB"


def refuse_what_cannot_fit(config: TrainConfig, free: Callable[[], int | None] | None = None) -> None:
    """Refuse ``config`` (InputError, one line naming the estimate, its parts and the memory
    free) when :func:`training_bytes` exceeds the memory ``free()`` reports (by default
    :func:`free_memory_bytes`); nothing where the machine does not say."""
    from placer.device import resolve_device

    parts = training_bytes(config)
    # on a GPU the update's activations live in its memory, not the machine's (not checked:
    # torch's allocator refuses in one line there)
    on_gpu = resolve_device(config.device).startswith("cuda")
    need = sum(size for part, size in parts.items() if not (on_gpu and part == "update"))
    available = (free or free_memory_bytes)()
    if available is None or need <= available:
        return
    rows = config.n_steps * config.n_envs
    raise InputError(
        f"training with max_grid {config.max_grid}, max_nodes {config.max_nodes} and max_edges "
        f"{config.max_edges} needs about {_gb(need)} of memory (a rollout buffer of {rows:,} observations "
        f"{_gb(parts['rollout buffer'])}"
        + ("" if on_gpu else f", an update's minibatch of {min(config.batch_size, rows):,} {_gb(parts['update'])}")
        + f"), but this machine has {_gb(available)} free: choose a smaller max_grid, "
        "max_nodes, n_steps x n_envs or batch_size"
    )
