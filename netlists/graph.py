"""Graph views of the netlist hypergraph, for analysis (networkx) and GNN features (numpy).

Graph nodes are macros and/or ports; every pin is collapsed into the macro it belongs to (a
port is its own pin). A net then touches the set of *distinct* graph nodes of its pins; nodes
outside ``include`` are dropped from it, and a net left with fewer than two nodes adds nothing.

Expansions of a net of weight ``w`` (the driver's weight) touching ``k`` distinct nodes:

* ``clique``: every pair of its nodes gets an edge of weight ``w / (k - 1)``; weights of the
  same pair from different nets add up. (Each node's weighted degree then grows by ``w`` per
  net, whatever k.)
* ``star``: the net becomes a hub node ``("net", net_index)`` (attribute ``kind="net"``) joined
  to each of its ``k`` nodes with weight ``w``.

Everything is vectorised over the CSR net arrays; only networkx construction itself loops.
No torch here: RL code converts :class:`GraphTensors` to tensors itself.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np

from netlists.errors import InputError
from netlists.model import Netlist, NodeType, Placement

_INCLUDE_TYPES: dict[str, tuple[NodeType, ...]] = {
    "macros": (NodeType.HARD_MACRO, NodeType.SOFT_MACRO),
    "hard_macros": (NodeType.HARD_MACRO,),
    "soft_macros": (NodeType.SOFT_MACRO,),
    "ports": (NodeType.PORT,),
}

#: Most node pairs a clique expansion may build (a k-node net makes k(k-1)/2 of them, so one
#: 10,000-pin clock net alone would need ~50 million, several GB).
MAX_CLIQUE_PAIRS = 20_000_000

#: Node feature columns of :func:`to_tensors` (the last two only when a placement is given).
FEATURE_NAMES: tuple[str, ...] = (
    "is_port",  # one-hot node type
    "is_hard_macro",
    "is_soft_macro",
    "width",  # width / canvas width
    "height",  # height / canvas height
    "degree",  # distinct nets touching the node (after collapsing pins), raw count: a net with
    # no other included node counts too, though it adds no edge
    "x",  # centre x / canvas width
    "y",  # centre y / canvas height
)


@dataclass(frozen=True)
class GraphTensors:
    """A netlist graph as numpy arrays (clique expansion).

    Attributes:
        node_index: (N,) int64, the netlist index of each graph node (graph node i is
            ``netlist.names[node_index[i]]``), in netlist order.
        edge_index: (2, E) int64 graph-node positions, each undirected edge in both directions
            (the first E/2 columns are the edges with source < target, then their reverses).
        edge_weight: (E,) float64 clique weights (see module doc), same for both directions.
        node_features: (N, F) float32, columns named by ``feature_names``.
        feature_names: names of the feature columns (a prefix of :data:`FEATURE_NAMES`).
    """

    node_index: np.ndarray
    edge_index: np.ndarray
    edge_weight: np.ndarray
    node_features: np.ndarray
    feature_names: tuple[str, ...]

    @property
    def num_nodes(self) -> int:
        return int(self.node_index.shape[0])

    @property
    def num_edges(self) -> int:
        return int(self.edge_index.shape[1])


def included_mask(netlist: Netlist, include: str = "macros+ports") -> np.ndarray:
    """Boolean mask over netlist nodes of the graph nodes named by ``include``.

    ``include`` joins with ``+`` any of ``macros``, ``hard_macros``, ``soft_macros``, ``ports``.
    """
    types: set[int] = set()
    for part in include.split("+"):
        part = part.strip()
        if part not in _INCLUDE_TYPES:
            raise InputError(f"include part {part!r} is not one of {sorted(_INCLUDE_TYPES)}")
        types.update(int(t) for t in _INCLUDE_TYPES[part])
    return np.isin(netlist.node_type, np.array(sorted(types), dtype=np.int8))


def net_members(netlist: Netlist, include: str = "macros+ports") -> tuple[np.ndarray, np.ndarray]:
    """Distinct ``(net, graph node)`` incidences: pins collapsed to their macro, ``include`` only.

    Returns two int64 arrays of equal length, sorted by net then node (netlist indices).
    """
    sizes = np.diff(netlist.net_ptr)
    net_of_pin = np.repeat(np.arange(netlist.n_nets, dtype=np.int64), sizes)
    node = netlist.anchor()[netlist.net_pins]
    keep = included_mask(netlist, include)[node]
    key = net_of_pin[keep] * max(netlist.n_nodes, 1) + node[keep]
    key = np.unique(key)
    return key // max(netlist.n_nodes, 1), key % max(netlist.n_nodes, 1)


def _clique_edges(netlist: Netlist, include: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Undirected clique edges ``(u, v, weight)`` with ``u < v`` (netlist indices), summed over nets."""
    net, node = net_members(netlist, include)
    n_nets = netlist.n_nets
    k = np.bincount(net, minlength=n_nets)
    start = np.zeros(n_nets + 1, dtype=np.int64)
    np.cumsum(k, out=start[1:])
    pos = np.arange(net.shape[0], dtype=np.int64) - start[net]  # position within its net
    partners = k[net] - 1 - pos  # members after this one in the same net
    pairs = int(partners.sum())
    if pairs > MAX_CLIQUE_PAIRS:
        widest = int(k.max())
        raise InputError(
            f"clique expansion of {netlist.name!r} ({include}) needs {pairs:,} node pairs "
            f"(its widest net touches {widest:,} nodes), more than the {MAX_CLIQUE_PAIRS:,} "
            "allowed here (~64 bytes each): use the star expansion or include fewer node kinds"
        )
    first = np.repeat(np.arange(net.shape[0], dtype=np.int64), partners)
    pair_start = np.zeros(partners.shape[0] + 1, dtype=np.int64)
    np.cumsum(partners, out=pair_start[1:])
    second = first + 1 + (np.arange(first.shape[0], dtype=np.int64) - pair_start[first])
    pair_net = net[first]
    w = netlist.net_weight[pair_net] / (k[pair_net] - 1)
    u, v = node[first], node[second]  # members are sorted by node, so u < v
    if u.size == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0)
    key, inverse = np.unique(u * netlist.n_nodes + v, return_inverse=True)
    weight = np.bincount(inverse, weights=w, minlength=key.shape[0])
    return key // netlist.n_nodes, key % netlist.n_nodes, weight


def to_networkx(
    netlist: Netlist, expansion: str = "clique", include: str = "macros+ports"
) -> nx.Graph:
    """An undirected weighted graph of the netlist (see the module doc for the expansions).

    Graph nodes are netlist indices with attributes ``name``, ``type`` (:class:`NodeType`),
    ``width``, ``height``; edges carry ``weight``. Every included node is present, connected
    or not.
    """
    graph = nx.Graph(name=netlist.name, expansion=expansion)
    for i in np.flatnonzero(included_mask(netlist, include)):
        graph.add_node(
            int(i),
            name=netlist.names[i],
            type=NodeType(int(netlist.node_type[i])),
            width=float(netlist.width[i]),
            height=float(netlist.height[i]),
        )
    if expansion == "clique":
        u, v, w = _clique_edges(netlist, include)
        graph.add_weighted_edges_from(zip(u.tolist(), v.tolist(), w.tolist(), strict=True))
    elif expansion == "star":
        net, node = net_members(netlist, include)
        k = np.bincount(net, minlength=netlist.n_nets)
        keep = k[net] >= 2
        net, node = net[keep], node[keep]
        for j in np.unique(net).tolist():
            graph.add_node(("net", j), kind="net", weight=float(netlist.net_weight[j]))
        w = netlist.net_weight[net]
        graph.add_weighted_edges_from(
            (
                (("net", j), i, wt)
                for j, i, wt in zip(net.tolist(), node.tolist(), w.tolist(), strict=True)
            )
        )
    else:
        raise InputError(f"expansion must be 'clique' or 'star', got {expansion!r}")
    return graph


def _scale(netlist: Netlist) -> tuple[float, float]:
    """Canvas size, or the extent of the placeable nodes in the netlist when there is no canvas."""
    if netlist.canvas is not None:
        return netlist.canvas.width, netlist.canvas.height
    p = netlist.placeable
    if p.size == 0:
        return 1.0, 1.0
    x, y, w, h = netlist.x[p], netlist.y[p], netlist.width[p], netlist.height[p]
    sx = float(np.max(x + w / 2) - np.min(x - w / 2))
    sy = float(np.max(y + h / 2) - np.min(y - h / 2))
    return (sx if sx > 0 else 1.0), (sy if sy > 0 else 1.0)


def to_tensors(
    netlist: Netlist, placement: Placement | None = None, include: str = "macros+ports"
) -> GraphTensors:
    """Clique-expanded graph arrays and node features for GNNs (columns: :data:`FEATURE_NAMES`).

    Sizes and positions are divided by the canvas size (by the extent of the netlist's own
    positions when it has no canvas). ``x``/``y`` columns are present only with a placement.
    """
    if placement is not None and len(placement) != netlist.n_nodes:  # (another design's
        # placement gave other nodes' positions, or an IndexError naming no design)
        raise InputError(f"the placement has {len(placement)} nodes but netlist {netlist.name!r} "
                         f"has {netlist.n_nodes}: a placement of another design?")
    mask = included_mask(netlist, include)
    node_index = np.flatnonzero(mask).astype(np.int64)
    position = np.full(netlist.n_nodes, -1, dtype=np.int64)
    position[node_index] = np.arange(node_index.shape[0], dtype=np.int64)

    u, v, w = _clique_edges(netlist, include)
    pu, pv = position[u], position[v]
    edge_index = np.stack([np.concatenate([pu, pv]), np.concatenate([pv, pu])]).astype(np.int64)
    edge_weight = np.concatenate([w, w]).astype(np.float64)

    net, node = net_members(netlist, include)
    degree = np.bincount(node, minlength=netlist.n_nodes)[node_index]
    sx, sy = _scale(netlist)
    types = netlist.node_type[node_index]
    columns = [
        types == int(NodeType.PORT),
        types == int(NodeType.HARD_MACRO),
        types == int(NodeType.SOFT_MACRO),
        netlist.width[node_index] / sx,
        netlist.height[node_index] / sy,
        degree,
    ]
    names = FEATURE_NAMES[:6]
    if placement is not None:
        columns += [placement.x[node_index] / sx, placement.y[node_index] / sy]
        names = FEATURE_NAMES
    features = np.stack([np.asarray(c, dtype=np.float32) for c in columns], axis=1)
    return GraphTensors(node_index, edge_index, edge_weight, features, names)
