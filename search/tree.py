"""The search graph of one attempt: goal states as nodes (identical states merged), tactics as edges.

A `networkx.DiGraph` so people can inspect, export (JSON / GraphML, see `search.tree_export`) and
draw what the search did. Three kinds of node:

- a goal state, keyed by its goal text (`TacticState.pp`), so two paths to the same goal meet;
- the single sink `QED` ("no goals"), reached only by tactics whose proof passed verification;
- an error leaf per rejected tactic (Lean error, timeout, environment failure, failed
  verification), keyed `"✗ <n>"`; the edge into it carries the outcome kind and the error text.

Statuses follow ReProver: a node is PROVED when some child edge leads to a proved node, FAILED when
it was expanded and every child failed (error leaves are failed), OPEN otherwise. A tactic that
leads back to an ancestor would make a cycle; such edges are not added, so the graph stays a DAG
and statuses are well defined.
"""
from __future__ import annotations

from pathlib import Path

import networkx as nx

QED = "⊤ no goals"
OPEN, PROVED, FAILED = "open", "proved", "failed"
STATE, ERROR, DONE = "state", "error", "qed"          # node kinds

# Edge outcomes: what running the tactic gave.
TO_STATE, TO_PROOF = "state", "proof"
LEAN_ERROR, GIVEN_UP, TIMEOUT, ENV_FAILURE, VERIFY_FAILED = (
    "lean_error", "given_up", "timeout", "env_failure", "verify_failed")


class SearchTree:
    def __init__(self, root_key: str, theorem_id: str = ""):
        self.g = nx.DiGraph(root=root_key, theorem=theorem_id)
        self.root = root_key
        self._errors = 0
        self.g.add_node(root_key, kind=STATE, status=OPEN, score=0.0, depth=0, expanded=False, path=())
        self.g.add_node(QED, kind=DONE, status=PROVED, score=0.0, depth=-1, expanded=True, path=())

    # ------------------------------------------------------------ building
    def has(self, key: str) -> bool:
        return key in self.g

    def node(self, key: str) -> dict:
        return self.g.nodes[key]

    def add_child(self, parent: str, child: str, tactic: str, logprob: float) -> bool:
        """Add `parent --tactic--> child` (child a goal state or QED). Returns False, adding
        nothing, when the edge would close a cycle or repeats an existing parent->child edge.

        A new child takes score (sum of tactic scores) and path from the parent. A merged child
        that is reached by a better-scoring path before it is expanded takes the better score,
        so the queue ranks it by its best known route."""
        if parent == child or self.g.has_edge(parent, child):
            return False
        p = self.g.nodes[parent]
        score, depth, path = p["score"] + logprob, p["depth"] + 1, p["path"] + (tactic,)
        if child in self.g:
            c = self.g.nodes[child]
            if child != QED and nx.has_path(self.g, child, parent):
                return False  # back to an ancestor: a cycle, which proves nothing
            if child != QED and score > c["score"] and not c["expanded"]:
                c.update(score=score, depth=depth, path=path)
        else:
            self.g.add_node(child, kind=STATE, status=OPEN, score=score, depth=depth, expanded=False, path=path)
        outcome = TO_PROOF if child == QED else TO_STATE
        self.g.add_edge(parent, child, tactic=tactic, logprob=logprob, outcome=outcome, error="")
        return True

    def add_error(self, parent: str, tactic: str, logprob: float, outcome: str, error: str) -> str:
        """Record a rejected tactic as an edge to a fresh failed leaf; returns the leaf's key."""
        self._errors += 1
        key = f"✗ {self._errors}"
        p = self.g.nodes[parent]
        self.g.add_node(key, kind=ERROR, status=FAILED, score=p["score"] + logprob, depth=p["depth"] + 1,
                        expanded=True, path=())
        self.g.add_edge(parent, key, tactic=tactic, logprob=logprob, outcome=outcome, error=error)
        return key

    def mark_expanded(self, key: str) -> None:
        self.g.nodes[key]["expanded"] = True
        self.propagate(key)

    def propagate(self, key: str) -> None:
        """Recompute statuses from `key` upwards through every parent (merged nodes have several).

        Statuses only ever move away from OPEN (an expanded node gets no new children), so a node
        is revisited only when a child changed and the walk ends."""
        stack = [key]
        while stack:
            k = stack.pop()
            n = self.g.nodes[k]
            if n["kind"] != STATE:
                continue
            new = self._status(k)
            if new != n["status"]:
                n["status"] = new
                stack.extend(self.g.predecessors(k))

    def _status(self, key: str) -> str:
        children = [self.g.nodes[c]["status"] for c in self.g.successors(key)]
        if PROVED in children:
            return PROVED
        if self.g.nodes[key]["expanded"] and all(s == FAILED for s in children):
            return FAILED
        return OPEN

    # ------------------------------------------------------------ reading
    @property
    def proved(self) -> bool:
        return self.g.nodes[self.root]["status"] == PROVED

    def state_nodes(self) -> list[str]:
        return [k for k, d in self.g.nodes(data=True) if d["kind"] == STATE]

    def shortest_proof(self) -> list[str] | None:
        """Fewest tactics from the root to a closed goal, through any merged states."""
        if not nx.has_path(self.g, self.root, QED):
            return None
        nodes = nx.shortest_path(self.g, self.root, QED)
        return [self.g.edges[a, b]["tactic"] for a, b in zip(nodes, nodes[1:])]

    def follow(self, tactics: list[str]) -> list[str]:
        """The nodes a tactic sequence visits from the root (root first); stops at a tactic that
        has no edge from the current node."""
        keys = [self.root]
        for tac in tactics:
            here = keys[-1]
            nxt = next((c for c in self.g.successors(here) if self.g.edges[here, c]["tactic"] == tac
                        and self.g.nodes[c]["kind"] != ERROR), None)
            if nxt is None:
                break
            keys.append(nxt)
        return keys

    def path_states(self, tactics: list[str]) -> list[str]:
        """The goal states a proof passes through (the state before each tactic)."""
        return [k for k in self.follow(tactics) if k != QED][: len(tactics)]

    def rejected(self, key: str) -> list[dict]:
        """The tactics tried at `key` that were rejected, as edge attribute dicts."""
        return [dict(self.g.edges[key, c]) for c in self.g.successors(key) if self.g.nodes[c]["kind"] == ERROR]

    # ------------------------------------------------------------ export (see search.tree_export)
    def to_json(self, path: str | Path) -> None:
        from search.tree_export import write_json

        write_json(self, path)

    def to_graphml(self, path: str | Path) -> None:
        from search.tree_export import write_graphml

        write_graphml(self, path)

    def draw(self, path: str | Path, max_label: int = 40) -> None:
        from search.tree_export import draw_png

        draw_png(self, path, max_label=max_label)
