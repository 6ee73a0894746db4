"""The observation encoding of ``placer/MacroPlacement-v0``: its ``Dict`` space, the per-design
static features (padded macro graph, design vector), the per-step cell masks and the
observation of a :class:`~placer.algorithms.grid_state.SequentialGridState` (the layout is
documented in :mod:`envs.macro_placement`)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
from gymnasium import spaces

from netlists.model import Netlist
from placer.algorithms.grid_state import HardMacroPins, SequentialGridState

if TYPE_CHECKING:
    from envs.macro_placement_designs import DesignStatic

GRID_CHANNELS = ("occupancy", "footprint", "wiremask", "legal", "congestion", "canvas", "density")
MACRO_FEATURES = 8
DESIGN_FEATURES = 8
NODE_FEATURES = 8
#: The observation keys whose arrays are the same at every step of a design's episodes (the
#: design vector and the padded macro graph, from :func:`static_features`): a rollout buffer
#: may store them once per design (:class:`placer.rl.buffer.DesignConstantRolloutBuffer`).
DESIGN_CONSTANT_KEYS = ("design", "graph_edges", "graph_edge_weight")


class StaticFeatures(NamedTuple):
    """The observation parts fixed for a design (see :func:`static_features`)."""

    node_static: np.ndarray  # (max_nodes, NODE_FEATURES) with dynamic columns zero
    edges: np.ndarray  # (2, max_edges) int64
    edge_weight: np.ndarray  # (max_edges,) float32
    design_vec: np.ndarray  # (DESIGN_FEATURES,)
    degree_norm: np.ndarray  # per hard macro slot


class StepMasks(NamedTuple):
    """The cell maps of the current macro, each computed once per step (:func:`step_masks`)."""

    legal: np.ndarray
    wire: np.ndarray | None  # the wire mask, when the dense shaping reward needs it
    density: np.ndarray
    score: np.ndarray | None  # the wire-mask channel's cell score, when it is used


def observation_space(max_grid: int, max_nodes: int, max_edges: int) -> spaces.Dict:
    """The env's observation space for its padded sizes."""
    G = max_grid
    return spaces.Dict(
        {
            "grid": spaces.Box(0.0, 1.0, (len(GRID_CHANNELS), G, G), np.float32),
            "macro": spaces.Box(0.0, 1.0, (MACRO_FEATURES,), np.float32),
            "design": spaces.Box(0.0, 1.0, (DESIGN_FEATURES,), np.float32),
            "graph_nodes": spaces.Box(0.0, 1.0, (max_nodes, NODE_FEATURES), np.float32),
            "graph_edges": spaces.Box(0, max_nodes - 1, (2, max_edges), np.int64),
            "graph_edge_weight": spaces.Box(0.0, 1.0, (max_edges,), np.float32),
        }
    )


def static_features(
    netlist: Netlist,
    pins: HardMacroPins,
    grid: tuple[int, int],
    *,
    max_grid: int,
    max_nodes: int,
    max_edges: int,
) -> StaticFeatures:
    """The per-design observation parts: the hard macros' static node features, the padded
    clique-expanded macro graph (heaviest edges kept, both directions) and the design vector;
    ``pins`` are ``netlist``'s (at least one hard macro, at most ``max_nodes``)."""
    from netlists.graph import to_tensors

    c = netlist.require_canvas()
    G = max_grid
    hard = pins.hard
    degree_norm = pins.degree / max(int(pins.degree.max()), 1)

    node_static = np.zeros((max_nodes, NODE_FEATURES), np.float32)
    node_static[: hard.size, 0] = 1.0
    node_static[: hard.size, 1] = np.clip(netlist.width[hard] / c.width, 0, 1)
    node_static[: hard.size, 2] = np.clip(netlist.height[hard] / c.height, 0, 1)
    node_static[: hard.size, 3] = degree_norm

    tensors = to_tensors(netlist, None, include="hard_macros")
    half = tensors.edge_index.shape[1] // 2
    u, v, w = tensors.edge_index[0, :half], tensors.edge_index[1, :half], tensors.edge_weight[:half]
    keep = np.argsort(-w, kind="stable")[: max_edges // 2]
    edges = np.zeros((2, max_edges), np.int64)
    weight = np.zeros(max_edges, np.float32)
    k = keep.size
    edges[0, :k], edges[1, :k] = u[keep], v[keep]
    edges[0, k : 2 * k], edges[1, k : 2 * k] = v[keep], u[keep]
    if k:
        top = float(w[keep].max())  # 0 when every kept net has weight 0 (allowed by the format)
        wn = (w[keep] / top if top > 0 else np.zeros(k)).astype(np.float32)
        weight[:k], weight[k : 2 * k] = wn, wn

    counts = netlist.counts()
    hard_area = float(np.sum(netlist.width[hard] * netlist.height[hard]))
    design_vec = np.array(
        [
            hard.size / max_nodes,
            math.log1p(counts["soft_macros"]) / math.log1p(1e5),
            math.log1p(counts["ports"]) / math.log1p(1e5),
            math.log1p(counts["nets"]) / math.log1p(1e6),
            grid[0] / G,
            grid[1] / G,
            c.width / (c.width + c.height),
            min(hard_area / (c.width * c.height), 1.0),
        ],
        np.float32,
    )
    return StaticFeatures(node_static, edges, weight, np.clip(design_vec, 0, 1), degree_norm)


def step_masks(
    state: SequentialGridState, *, dense_shaping: bool, use_wiremask: bool, density_weight: float
) -> StepMasks:
    """The current macro's legal mask, wire mask (only for ``dense_shaping``), density mask and
    the wire-mask channel's cell score (only with ``use_wiremask``)."""
    legal = state.legal_mask()
    wire = state.wire_mask() if dense_shaping else None
    density = state.density_mask()
    score = (state.cost_mask(density_weight, wire=wire, density=density)
             if use_wiremask else None)  # (each mask computed once per step)
    return StepMasks(legal, wire, density, score)


def observation(
    state: SequentialGridState,
    static: DesignStatic,
    mask: np.ndarray | None,
    score: np.ndarray | None,
    density: np.ndarray | None,
    max_grid: int,
) -> dict[str, np.ndarray]:
    """The observation of ``state`` (of ``static``'s design) on the ``max_grid`` padded grid,
    given the current macro's :class:`StepMasks` parts (``mask`` None: no current macro)."""
    G, R, C = max_grid, state.rows, state.cols
    netlist, canvas = static.netlist, state.canvas
    grid = np.zeros((len(GRID_CHANNELS), G, G), np.float32)
    grid[0, :R, :C] = np.minimum(state.occupancy(), 1.0)
    grid[5, :R, :C] = 1.0
    rudy = state.rudy()
    top = rudy.max()
    if top > 0:
        grid[4, :R, :C] = rudy / top
    macro = np.zeros(MACRO_FEATURES, np.float32)
    node_feats = static.node_static.copy()
    n_hard = state.order.size
    placed = np.concatenate([state.preplaced, state.order[: state.n_placed]])
    slots = state.hard_macro_slot
    node_feats[slots[placed], 4] = 1.0
    node_feats[slots[placed], 5] = state.placement.x[placed] / canvas.width
    node_feats[slots[placed], 6] = state.placement.y[placed] / canvas.height
    if not state.done and mask is not None:
        assert density is not None  # (a StepMasks' legal mask comes with its density map)
        node = state.current
        w, h = float(netlist.width[node]), float(netlist.height[node])
        fw = min(max(1, math.ceil(w / state.cell_w)), G)
        fh = min(max(1, math.ceil(h / state.cell_h)), G)
        grid[1, :fh, :fw] = 1.0
        grid[3, :R, :C] = mask
        if score is not None:
            grid[2] = 1.0  # illegal cells, the padding too (and every cell when none is legal)
        if score is not None and mask.any():
            wm = score
            lo, hi = wm[mask].min(), wm[mask].max()
            grid[2, :R, :C] = np.where(mask, (wm - lo) / (hi - lo) if hi > lo else 0.0, 1.0)
        cells = max(w * h / (canvas.width * canvas.height) * canvas.rows * canvas.cols, 1e-12)
        grid[6, :R, :C] = np.clip(density / cells, 0.0, 1.0)  # prefix sums leave -1e-16s
        hard = netlist.hard_macros
        areas = netlist.width[state.order] * netlist.height[state.order]
        hard_area = float(np.sum(netlist.width[hard] * netlist.height[hard]))
        macro[:] = [
            w / canvas.width,
            h / canvas.height,
            w * h / hard_area if hard_area > 0 else 0.0,  # zero-area macros: the format allows them
            static.degree_norm[slots[node]],
            state.n_placed / n_hard,
            float(areas[state.n_placed :].sum() / areas.sum()) if areas.sum() > 0 else 1.0 - state.n_placed / n_hard,
            fw / G,
            fh / G,
        ]
        node_feats[slots[node], 7] = 1.0
    return {
        "grid": grid,
        "macro": np.clip(macro, 0.0, 1.0),
        "design": static.design_vec.copy(),
        "graph_nodes": np.clip(node_feats, 0.0, 1.0),
        "graph_edges": static.edges.copy(),
        "graph_edge_weight": static.edge_weight.copy(),
    }
