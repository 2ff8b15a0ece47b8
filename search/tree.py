"""The search graph of one attempt: goal states as nodes (identical states merged), tactics as edges.

A `networkx.DiGraph` so people can inspect, export (JSON / GraphML) and draw what the search did.
Statuses follow ReProver: a node is PROVED when some child edge leads to a proved node (or closes
the goal), FAILED when it was expanded and every child failed, OPEN otherwise.
"""
from __future__ import annotations

import json
from pathlib import Path

import networkx as nx

QED = "⊤ no goals"
OPEN, PROVED, FAILED = "open", "proved", "failed"


class SearchTree:
    def __init__(self, root_key: str):
        self.g = nx.DiGraph()
        self.root = root_key
        self.g.add_node(root_key, status=OPEN, score=0.0, depth=0, expanded=False, path=(), errors=0)
        self.g.add_node(QED, status=PROVED, score=0.0, depth=-1, expanded=True, path=(), errors=0)

    # ------------------------------------------------------------ building
    def has(self, key: str) -> bool:
        return key in self.g

    def node(self, key: str) -> dict:
        return self.g.nodes[key]

    def add_child(self, parent: str, child: str, tactic: str, logprob: float) -> bool:
        """Add `parent --tactic--> child`; returns False (and adds nothing) if the edge would close
        a cycle or repeats an existing edge. A new child inherits score and path from the parent."""
        if parent == child or self.g.has_edge(parent, child):
            return False
        p = self.g.nodes[parent]
        score, depth, path = p["score"] + logprob, p["depth"] + 1, p["path"] + (tactic,)
        if child in self.g:
            if child != QED and nx.has_path(self.g, child, parent):
                return False
            c = self.g.nodes[child]
            if child != QED and score > c["score"] and not c["expanded"]:
                c.update(score=score, depth=depth, path=path)  # a better path to a merged state
        else:
            self.g.add_node(child, status=OPEN, score=score, depth=depth, expanded=False, path=path, errors=0)
        self.g.add_edge(parent, child, tactic=tactic, logprob=logprob)
        return True

    def mark_expanded(self, key: str) -> None:
        self.g.nodes[key]["expanded"] = True
        self.propagate(key)

    def propagate(self, key: str) -> None:
        """Recompute statuses from `key` upwards (merged nodes have several parents)."""
        stack = [key]
        seen: set[str] = set()
        while stack:
            k = stack.pop()
            if k in seen or k == QED:
                continue
            seen.add(k)
            n = self.g.nodes[k]
            children = list(self.g.successors(k))
            if any(self.g.nodes[c]["status"] == PROVED for c in children):
                new = PROVED
            elif n["expanded"] and all(self.g.nodes[c]["status"] == FAILED for c in children):
                new = FAILED
            else:
                new = OPEN
            if new != n["status"]:
                n["status"] = new
                stack.extend(self.g.predecessors(k))

    # ------------------------------------------------------------ reading
    @property
    def proved(self) -> bool:
        return self.g.nodes[self.root]["status"] == PROVED

    def shortest_proof(self) -> list[str] | None:
        """Fewest tactics from the root to a closed goal, through any merged states."""
        if not self.g.has_node(QED) or not nx.has_path(self.g, self.root, QED):
            return None
        nodes = nx.shortest_path(self.g, self.root, QED)
        return [self.g.edges[a, b]["tactic"] for a, b in zip(nodes, nodes[1:])]

    def path_states(self, tactics: list[str]) -> list[str]:
        """The goal states visited by a proof (the state before each tactic)."""
        states, key = [], self.root
        for tac in tactics:
            states.append(key)
            nxt = next((c for c in self.g.successors(key) if self.g.edges[key, c]["tactic"] == tac), None)
            if nxt is None:
                break
            key = nxt
        return states

    # ------------------------------------------------------------ export
    def to_json(self, path: str | Path) -> None:
        data = nx.node_link_data(self.g, edges="edges")
        for n in data["nodes"]:
            n["path"] = list(n.get("path", ()))
        Path(path).write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")

    def to_graphml(self, path: str | Path) -> None:
        g = nx.DiGraph()
        for k, attrs in self.g.nodes(data=True):
            g.add_node(k, **{a: (" ; ".join(v) if isinstance(v, tuple) else v) for a, v in attrs.items()})
        for a, b, attrs in self.g.edges(data=True):
            g.add_edge(a, b, **attrs)
        nx.write_graphml(g, str(path))

    def draw(self, path: str | Path, max_label: int = 40) -> None:
        """A PNG of the graph, nodes coloured by status, edges labelled by tactic."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        colors = {OPEN: "#cccccc", PROVED: "#6cc070", FAILED: "#e07070"}
        depth = {k: max(d["depth"], 0) for k, d in self.g.nodes(data=True)}
        depth[QED] = max(depth.values()) + 1
        for k in self.g.nodes:
            self.g.nodes[k]["layer"] = depth[k]
        pos = nx.multipartite_layout(self.g, subset_key="layer", align="horizontal")
        pos = {k: (x, -y) for k, (x, y) in pos.items()}
        fig, ax = plt.subplots(figsize=(max(6, len(self.g) * 0.6), max(4, depth[QED] * 1.2)))
        nx.draw_networkx_nodes(self.g, pos, node_color=[colors[self.g.nodes[k]["status"]] for k in self.g], node_size=300, ax=ax)
        nx.draw_networkx_edges(self.g, pos, ax=ax, arrows=True)
        labels = {(a, b): d["tactic"][:max_label] for a, b, d in self.g.edges(data=True)}
        nx.draw_networkx_edge_labels(self.g, pos, edge_labels=labels, font_size=7, ax=ax)
        ax.set_axis_off()
        fig.tight_layout()
        fig.savefig(path, dpi=100)
        plt.close(fig)
