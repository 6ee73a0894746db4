"""Graph views: hand-checked clique/star expansions, tensors against a naive reference."""

from __future__ import annotations

from collections import defaultdict
from itertools import combinations

import networkx as nx
import numpy as np
import pytest

from netlists.builder import NetlistBuilder
from netlists.generate import generate
from netlists.graph import FEATURE_NAMES, to_networkx, to_tensors
from netlists.model import Canvas, Netlist, NodeType


def small_netlist() -> Netlist:
    """Ports P, Q; hard macro A (pins A/P0, A/P1); soft macros S, T.

    Nets: P -> {A/P0, S/Pin}; S/Pout -> {A/P1, T/Pin, S/Pin}; T/Pout (weight 3) -> {T/Pin, Q}.
    """
    b = NetlistBuilder("small")
    b.add_node("P", NodeType.PORT, x=0.0, y=5.0, side="LEFT")  # 0
    b.add_node("A", NodeType.HARD_MACRO, width=4.0, height=2.0, x=3.0, y=3.0)  # 1
    b.add_node("A/P0", NodeType.HARD_PIN, macro_name="A", dx=1.0)  # 2
    b.add_node("A/P1", NodeType.HARD_PIN, macro_name="A", dy=-1.0)  # 3
    b.add_node("S", NodeType.SOFT_MACRO, width=2.0, height=2.0, x=7.0, y=7.0)  # 4
    b.add_node("S/Pout", NodeType.SOFT_PIN, macro_name="S")  # 5
    b.add_node("S/Pin", NodeType.SOFT_PIN, macro_name="S")  # 6
    b.add_node("T", NodeType.SOFT_MACRO, width=1.0, height=1.0, x=8.0, y=2.0)  # 7
    b.add_node("T/Pin", NodeType.SOFT_PIN, macro_name="T")  # 8
    b.add_node("T/Pout", NodeType.SOFT_PIN, macro_name="T", weight=3.0)  # 9
    b.add_node("Q", NodeType.PORT, x=10.0, y=1.0, side="RIGHT")  # 10
    b.add_net(0, [2, 6])
    b.add_net(5, [3, 8, 6])
    b.add_net(9, [8, 10])
    return b.build(Canvas(width=10.0, height=10.0, cols=2, rows=2))


def edge_dict(graph: nx.Graph) -> dict[frozenset, float]:
    return {frozenset((u, v)): d["weight"] for u, v, d in graph.edges(data=True)}


def test_clique_expansion_by_hand() -> None:
    g = to_networkx(small_netlist())
    P, A, S, T, Q = 0, 1, 4, 7, 10
    assert set(g.nodes) == {P, A, S, T, Q}
    assert g.nodes[A]["name"] == "A" and g.nodes[A]["type"] == NodeType.HARD_MACRO
    assert g.nodes[A]["width"] == 4.0
    expected = {
        frozenset((P, A)): 0.5,
        frozenset((P, S)): 0.5,
        frozenset((A, S)): 1.0,  # 0.5 from each of the two 3-node nets
        frozenset((S, T)): 0.5,
        frozenset((A, T)): 0.5,
        frozenset((T, Q)): 3.0,  # a 2-node net keeps its full weight
    }
    assert edge_dict(g) == pytest.approx(expected)


def test_include_drops_nodes_from_nets() -> None:
    g = to_networkx(small_netlist(), include="macros")
    A, S, T = 1, 4, 7
    assert set(g.nodes) == {A, S, T}
    # net 0 becomes {A, S} (k=2, weight 1); net 1 stays {S, A, T}; net 2 is {T} alone: nothing
    assert edge_dict(g) == pytest.approx(
        {frozenset((A, S)): 1.5, frozenset((S, T)): 0.5, frozenset((A, T)): 0.5}
    )
    assert set(to_networkx(small_netlist(), include="hard_macros+ports").nodes) == {0, 1, 10}
    with pytest.raises(ValueError, match="include"):
        to_networkx(small_netlist(), include="pins")


def test_star_expansion_by_hand() -> None:
    g = to_networkx(small_netlist(), expansion="star")
    hubs = [n for n, d in g.nodes(data=True) if d.get("kind") == "net"]
    assert sorted(hubs) == [("net", 0), ("net", 1), ("net", 2)]
    assert set(g[("net", 0)]) == {0, 1, 4}
    assert set(g[("net", 1)]) == {4, 1, 7}
    assert set(g[("net", 2)]) == {7, 10}
    assert g[("net", 2)][10]["weight"] == 3.0
    assert g.number_of_edges() == 8
    with pytest.raises(ValueError, match="expansion"):
        to_networkx(small_netlist(), expansion="bipartite")


def test_tensors_by_hand() -> None:
    netlist = small_netlist()
    t = to_tensors(netlist, netlist.initial_placement())
    np.testing.assert_array_equal(t.node_index, [0, 1, 4, 7, 10])
    assert t.feature_names == FEATURE_NAMES
    assert t.node_features.dtype == np.float32 and t.node_features.shape == (5, 8)
    assert t.edge_index.dtype == np.int64 and t.edge_index.shape == (2, 12)
    f = t.node_features
    np.testing.assert_array_equal(f[:, :3], [[1, 0, 0], [0, 1, 0], [0, 0, 1], [0, 0, 1], [1, 0, 0]])
    np.testing.assert_allclose(f[:, 3], [0, 0.4, 0.2, 0.1, 0])  # width / 10
    np.testing.assert_allclose(f[:, 4], [0, 0.2, 0.2, 0.1, 0])
    np.testing.assert_array_equal(f[:, 5], [1, 2, 2, 2, 1])  # nets per node
    np.testing.assert_allclose(f[:, 6], [0, 0.3, 0.7, 0.8, 1.0])
    np.testing.assert_allclose(f[:, 7], [0.5, 0.3, 0.7, 0.2, 0.1])
    # both directions, same weight; positions refer to graph nodes (P=0, A=1, S=2, T=3, Q=4)
    got = {(int(a), int(b)): w for a, b, w in zip(*t.edge_index, t.edge_weight, strict=True)}
    assert got[(3, 4)] == got[(4, 3)] == 3.0
    assert got[(1, 2)] == got[(2, 1)] == 1.0
    half = t.num_edges // 2
    np.testing.assert_array_equal(t.edge_index[:, :half], t.edge_index[::-1, half:])
    assert to_tensors(netlist).node_features.shape == (5, 6)


def naive_clique(netlist: Netlist) -> dict[tuple[int, int], float]:
    anchor = netlist.anchor()
    included = netlist.node_type <= NodeType.SOFT_MACRO
    edges: dict[tuple[int, int], float] = defaultdict(float)
    for k in range(netlist.n_nets):
        members = sorted({int(anchor[p]) for p in netlist.net(k) if included[anchor[p]]})
        for u, v in combinations(members, 2):
            edges[(u, v)] += netlist.net_weight[k] / (len(members) - 1)
    return dict(edges)


def test_vectorised_clique_matches_naive_on_a_generated_netlist() -> None:
    netlist, placement = generate(6, 40, 10, seed=11)
    expected = naive_clique(netlist)
    g = to_networkx(netlist)
    got = {tuple(sorted((u, v))): d["weight"] for u, v, d in g.edges(data=True)}
    assert got.keys() == expected.keys()
    for key, w in expected.items():
        assert got[key] == pytest.approx(w)
    t = to_tensors(netlist, placement)
    assert t.num_edges == 2 * len(expected)
    pairs = {
        (int(t.node_index[a]), int(t.node_index[b])): w
        for a, b, w in zip(*t.edge_index, t.edge_weight, strict=True)
    }
    for (u, v), w in expected.items():
        assert pairs[(u, v)] == pytest.approx(w) and pairs[(v, u)] == pytest.approx(w)
    # weighted degree of a node = sum of the weights of its multi-node nets
    wdeg = np.zeros(netlist.n_nodes)
    anchor = netlist.anchor()
    for k in range(netlist.n_nets):
        members = {int(anchor[p]) for p in netlist.net(k)}
        if len(members) >= 2:
            for m in members:
                wdeg[m] += netlist.net_weight[k]
    for i, pos in zip(t.node_index, range(t.num_nodes), strict=True):
        assert g.degree(int(i), weight="weight") == pytest.approx(wdeg[i])
        assert t.node_features[pos, 5] == sum(
            1 for k in range(netlist.n_nets) if i in set(anchor[netlist.net(k)].tolist())
        )


def test_without_canvas_features_use_the_netlist_extent() -> None:
    netlist = small_netlist()
    bare = Netlist(**{**netlist.__dict__, "canvas": None, "metadata": {}})
    t = to_tensors(bare)
    # extent: x from P at 0 to Q at 10, y from T's bottom 1.0 ... top of S at 8 and P at 5: 1..8
    np.testing.assert_allclose(t.node_features[1, 3:5], [4 / 10, 2 / 7])


def test_a_clique_over_the_pair_budget_is_refused_before_it_is_built(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import netlists.graph as graph

    nl = small_netlist()  # 7 node pairs in all: 3 + 3 from the 3-node nets, 1 from T -> Q
    monkeypatch.setattr(graph, "MAX_CLIQUE_PAIRS", 4)
    with pytest.raises(ValueError, match="use the star expansion"):
        to_tensors(nl, None)
    assert to_networkx(nl, expansion="star").number_of_nodes() > 0


def test_a_placement_of_another_design_is_refused() -> None:
    """Another design's placement gave other nodes' positions (a longer one) or an IndexError
    naming no design (a shorter one)."""
    small, large = generate(4, 4, 4)[0], generate(8, 8, 8)
    for netlist, placement in ((small, large[1]), (large[0], small.initial_placement())):
        with pytest.raises(ValueError, match=r"the placement has \d+ nodes but netlist .* has \d+"):
            to_tensors(netlist, placement)
