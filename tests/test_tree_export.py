"""The search graph: ReProver statuses through merged nodes, cycles refused, JSON/GraphML/PNG export."""
from __future__ import annotations

import json

import networkx as nx
import pytest

from conftest import run
from fake_env import FakeEnv, theorem
from search.best_first import SearchConfig, search
from lean_env.types import Outcome
from search.tree import FAILED, OPEN, PROVED, QED, SearchTree
from search.tree_export import draw_png, export_tree, read_json, write_graphml, write_json


def diamond() -> SearchTree:
    """A -> B, A -> C, B -> D, C -> D: D is one merged node with two parents."""
    t = SearchTree("A", "diamond")
    for parent, child in [("A", "B"), ("A", "C"), ("B", "D"), ("C", "D")]:
        assert t.add_child(parent, child, f"{parent.lower()}{child.lower()}", -0.1)
    return t


def test_failure_propagates_only_when_every_child_failed():
    t = diamond()
    t.add_error("D", "bad", -0.2, Outcome.LEAN_ERROR, "type mismatch")
    t.mark_expanded("D")
    assert t.nodes["D"].status == FAILED
    t.mark_expanded("B")
    assert t.nodes["B"].status == FAILED
    assert t.nodes["A"].status == OPEN            # C is not expanded yet
    t.mark_expanded("A")
    assert t.nodes["A"].status == OPEN            # expanded, but C is still open
    t.mark_expanded("C")
    assert t.nodes["C"].status == FAILED and t.nodes["A"].status == FAILED


def test_proof_propagates_through_a_merged_node_to_every_parent():
    t = diamond()
    for k in ("A", "B", "C"):
        t.mark_expanded(k)
    t.add_child("D", QED, "done", -0.1)
    t.mark_expanded("D")
    assert [t.nodes[k].status for k in "ABCD"] == [PROVED] * 4
    assert t.proved and len(t.shortest_proof()) == 3


def test_failure_reaches_an_ancestor_by_two_routes_in_one_wave():
    # A -> B -> C -> D and A -> D directly; when D fails last, B and A must both see it.
    t = SearchTree("A")
    for parent, child in [("A", "B"), ("B", "C"), ("C", "D"), ("A", "D")]:
        t.add_child(parent, child, parent + child, -0.1)
    for k in ("A", "B", "C"):
        t.mark_expanded(k)
    assert t.nodes["A"].status == OPEN
    t.mark_expanded("D")                       # D has no children at all: failed
    assert [t.nodes[k].status for k in "ABCD"] == [FAILED] * 4


def test_cycles_are_refused_and_the_graph_stays_acyclic():
    t = diamond()
    assert not t.add_child("D", "A", "da", -0.1)     # back to the root
    assert not t.add_child("D", "B", "db", -0.1)     # back to a parent
    assert not t.add_child("B", "B", "bb", -0.1)     # a self-loop
    assert not t.add_child("A", "B", "ab2", -0.1)    # a second edge between the same pair
    assert t.add_child("B", "C", "bc", -0.1)         # a cross edge in a DAG is fine
    assert nx.is_directed_acyclic_graph(t.g)


def test_a_merged_node_takes_the_better_score_until_expanded():
    t = SearchTree("A")
    t.add_child("A", "B", "ab", -1.0)
    t.add_child("B", "C", "bc", -1.0)           # C: score -2 via B
    t.add_child("A", "C", "ac", -0.5)           # a better route: -0.5 at depth 1
    assert t.nodes["C"].score == -0.5 and t.nodes["C"].depth == 1 and t.nodes["C"].path == ("ac",)
    t.mark_expanded("C")
    t.add_child("A", "D", "ad", -0.1)
    t.add_child("D", "C", "dc", -0.1)           # better still, but C is already expanded
    assert t.nodes["C"].score == -0.5


def searched_tree():
    env = FakeEnv(slow_seconds=0.01)

    async def propose(state, n):
        from policy.base import TacticCandidate
        return [TacticCandidate(t, lp, 1) for t, lp in [("dec", -0.1), ("half", -0.3), ("zero", -0.2), ("slow", -0.9)]]
    rec, tree = run(search(theorem(4), env, propose, SearchConfig(4, 20)))
    assert rec.proved
    return tree


def test_json_round_trip(tmp_path):
    tree = searched_tree()
    write_json(tree, tmp_path / "t.json")
    data = json.loads((tmp_path / "t.json").read_text(encoding="utf-8"))
    assert data["graph"]["root"] == "⊢ 4" and data["graph"]["theorem"] == "toy4"
    kinds = {e["outcome"] for e in data["edges"]}
    assert {"state", "finished", "lean_error", "timeout"} <= kinds
    back = read_json(tmp_path / "t.json")
    assert set(back.g.nodes) == set(tree.g.nodes) and set(back.g.edges) == set(tree.g.edges)
    assert back.proved and back.shortest_proof() == tree.shortest_proof()
    assert back.nodes["⊢ 2"].path == tree.nodes["⊢ 2"].path


def test_read_json_rejects_other_files(tmp_path):
    (tmp_path / "x.json").write_text('{"nodes": []}')
    with pytest.raises(ValueError, match="not a search tree"):
        read_json(tmp_path / "x.json")


def test_graphml_has_only_scalar_attributes(tmp_path):
    tree = searched_tree()
    write_graphml(tree, tmp_path / "t.graphml")
    g = nx.read_graphml(tmp_path / "t.graphml")
    assert g.number_of_nodes() == len(tree.g) and g.number_of_edges() == tree.g.number_of_edges()
    assert g.nodes["⊢ 4"]["status"] == PROVED
    errors = [d for _, _, d in g.edges(data=True) if d["outcome"] == Outcome.LEAN_ERROR]
    assert errors and all(d["error"] for d in errors)


def test_png_and_export_tree(tmp_path):
    tree = searched_tree()
    paths = export_tree(tree, tmp_path / "out" / "toy4")
    assert [p.name for p in paths] == ["toy4.json", "toy4.graphml", "toy4.png"]
    assert paths[2].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    draw_png(tree, tmp_path / "noerr.png", show_errors=False)
    assert (tmp_path / "noerr.png").stat().st_size > 1000
    assert "layer" not in tree.g.nodes[tree.root]       # drawing does not touch the tree


def test_random_merges_refuse_exactly_the_cycles_and_keep_statuses_exact():
    # Grow a graph as a search would (expand nodes in some order, children new or merged
    # anywhere, some tactics rejected) and check every decision against networkx from scratch.
    import random

    rng = random.Random(7)
    t = SearchTree("s0")
    names, frontier = ["s0"], ["s0"]
    for step in range(300):
        parent = frontier.pop(rng.randrange(len(frontier)))
        for j in range(rng.randrange(1, 5)):
            if rng.random() < 0.4:
                child = rng.choice(names)                    # a merge, maybe into an ancestor
            else:
                child = f"s{len(names)}"
                names.append(child)
            g = t.g                                          # the graph before this edge
            closes = child in g and parent != child and nx.has_path(g, child, parent)
            repeat = g.has_edge(parent, child) or parent == child
            added = t.add_child(parent, child, f"t{step}.{j}", -rng.random()) is not None
            assert added == (not closes and not repeat), (parent, child)
            if added and not t.nodes[child].expanded and child not in frontier:
                frontier.append(child)
        if rng.random() < 0.3:
            t.add_error(parent, "bad", -1.0, Outcome.LEAN_ERROR, "no")
        if rng.random() < 0.02:
            t.add_child(parent, QED, "done", -0.1)
        t.mark_expanded(parent)
        if not frontier:
            break
    g = t.g
    assert nx.is_directed_acyclic_graph(g)
    # ReProver's statuses, recomputed bottom-up over the final graph
    want = {}
    for k in reversed(list(nx.topological_sort(g))):
        d = g.nodes[k]
        if d["kind"] != "state":
            want[k] = d["status"]
            continue
        kids = [want[c] for c in g.successors(k)]
        want[k] = PROVED if PROVED in kids else FAILED if d["expanded"] and all(s == FAILED for s in kids) else OPEN
    assert {k: n.status for k, n in t.nodes.items()} == {k: want[k] for k in t.nodes}


def test_a_long_chain_of_merges_against_creation_order_stays_consistent():
    # a0 <- a1 <- a2 <- ...: every merge edge goes against the creation order, so each one moves
    # its parent into an ever narrower gap; hundreds of them exhaust it and force a renumbering.
    t = SearchTree("r")
    n = 400
    for i in range(n):
        t.add_child("r", f"a{i}", f"r{i}", -0.1)
    for i in range(n - 1):
        assert t.add_child(f"a{i + 1}", f"a{i}", f"m{i}", -0.1) is not None
    assert t.add_child("a0", f"a{n - 1}", "back", -0.1) is None          # a cycle through all of them
    assert t.add_child(f"a{n - 1}", "a0", "skip", -0.1) is not None      # a shortcut is fine
    assert nx.is_directed_acyclic_graph(t.g)
    assert all(t.nodes[a].order < t.nodes[b].order for a, b in t.g.edges if t.g.nodes[b]["kind"] != "error")
