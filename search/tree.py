"""The search graph of one attempt: goal states as nodes (identical states merged), tactics as edges.

The search builds it as a plain node table, because it adds eight or more tactics per expansion
and must not pay for a general graph library on each. Its public form is a `networkx.DiGraph`,
`tree.g`, built on first use (and again after a change), for export (JSON / GraphML / PNG, see
`search.tree_export`), analysis and drawing. Three kinds of node there:

- a goal state, keyed by its goal text (`TacticState.pp`), so two paths to the same goal meet;
- the single sink `QED` ("no goals"), reached only by tactics whose proof passed verification;
- an error leaf per rejected tactic (Lean error, timeout, environment failure, failed
  verification), keyed `"✗ <n>"`; the edge into it carries the outcome and the error text.
  In the table a rejected tactic is only a small record on its state (`Node.rejected`): it is
  still needed, as the negative of a DPO pair, but it is not a node the search can visit.

Statuses follow ReProver: a node is PROVED when some child edge leads to a proved node, FAILED when
it was expanded and every child failed (rejected tactics count as failed children), OPEN otherwise.
They are kept up to date incrementally: each node counts its children that have not failed, and a
change travels up the parent links only as far as it changes something. A tactic that leads back
to an ancestor would make a cycle; such edges are not added, so the graph stays a DAG and statuses
are well defined.
"""
from __future__ import annotations

import itertools
import math
import operator
from collections import deque
from dataclasses import dataclass
from typing import Any, NamedTuple

import networkx as nx

from lean_env.types import Outcome

QED = "⊤ no goals"
OPEN, PROVED, FAILED = "open", "proved", "failed"
STATE, ERROR, DONE = "state", "error", "qed"          # node kinds of the networkx form


class Edge(NamedTuple):
    """A tactic that led from `parent` to a goal state (or QED)."""

    parent: "Node"
    tactic: str
    logprob: float


class Rejected(NamedTuple):
    """A tactic tried at a state that did not give a new goal state."""

    tactic: str
    logprob: float
    outcome: Outcome
    error: str


@dataclass(slots=True, eq=False)
class Node:
    """One goal state. `score`, `depth`, `parent` and `tactic` describe the best-scoring route known
    from the root (it can improve until the node is expanded). `via`, `via_tactic` and
    `via_logprob` are the first edge into the node, the one its environment `handle` came from
    (the route a proof must replay); edges from other parents (merged states) are in `merges`.
    Keeping the first in-edge on the node, not in a separate record, is what keeps a table of
    hundreds of thousands of states small."""

    key: str
    order: int | float                           # a topological order (see SearchTree._closes_cycle)
    depth: int
    score: float
    parent: Node | None = None
    tactic: str = ""
    via: Node | None = None
    via_tactic: str = ""
    via_logprob: float = 0.0
    handle: Any = None                           # the environment's state (a TacticState)
    status: str = OPEN
    expanded: bool = False
    live: int = 0                                # children that have not failed
    children: list[Node] | None = None
    rejected: list[tuple] | None = None          # Rejected fields as plain tuples of str and float,
                                                 # which the garbage collector stops tracking
    merges: list[Edge] | None = None

    def parents(self) -> list[Node] | tuple[Node, ...]:
        if self.merges is None:  # the common case, without building lists
            return (self.via,) if self.via is not None else ()
        return [self.via, *map(_edge_parent, self.merges)]   # a merged node is never the root

    def edge_from(self, parent: Node) -> Edge:
        """The edge `parent -> self`."""
        if self.via is parent:
            return Edge(parent, self.via_tactic, self.via_logprob)
        return next(e for e in self.merges or () if e.parent is parent)

    def out_edges(self) -> list[tuple[Node, Edge]]:
        """(child, edge) for every tactic edge out of this node, in the order they were added."""
        return [(c, c.edge_from(self)) for c in self.children or ()]

    @property
    def path(self) -> tuple[str, ...]:
        """The tactics of the best-scoring route from the root."""
        return _route(self, "parent", "tactic")

    @property
    def handle_path(self) -> tuple[str, ...]:
        """The tactics that produced `handle`, from the root."""
        return _route(self, "via", "via_tactic")


_PLAIN = {o: o.value for o in Outcome}  # Outcome -> its plain str, which the GC does not track


# New nodes' orders are this far apart (exact Python ints), so that about a hundred nested moves
# fit into one gap before `_renumber` has to make room.
_SPACING = 1 << 96


_order = operator.attrgetter("order")  # a sort key in C: the cycle check sorts the nodes it moves
_edge_parent = operator.itemgetter(0)  # Edge.parent, in C


def _route(node: Node, up: str, step: str) -> tuple[str, ...]:
    tactics = []
    while getattr(node, up) is not None:
        tactics.append(getattr(node, step))
        node = getattr(node, up)
    return tuple(reversed(tactics))


class SearchTree:
    """The graph of one attempt, keyed by goal text: `nodes[key]` is a `Node`, `root` the root's
    key, `g` the networkx form."""

    def __init__(self, root_key: str, theorem_id: str = "", handle: Any = None):
        self.theorem = theorem_id
        self.root = root_key
        self._orders = itertools.count(0, _SPACING)
        self.nodes: dict[str, Node] = {root_key: Node(root_key, next(self._orders), 0, 0.0, handle=handle)}
        self.nodes[QED] = Node(QED, math.inf, -1, 0.0, status=PROVED, expanded=True)  # a sink: last
        self._g: nx.DiGraph | None = None            # the networkx form, built on demand

    # ------------------------------------------------------------ building
    def add_child(self, parent: str, child: str, tactic: str, logprob: float, handle: Any = None) -> Node | None:
        """Add `parent --tactic--> child` (child a goal state or QED) and return the child, or None,
        adding nothing, when the edge would close a cycle or repeats a parent->child edge.

        A new child takes its score (the sum of tactic scores) and route from the parent, and
        `handle`. A merged child reached by a better-scoring route before it is expanded takes the
        better score, so the queue ranks it by its best known route; `child.parent is parent`
        afterwards says that this edge set its score."""
        p = self.nodes[parent]
        score = p.score + logprob
        c = self.nodes.get(child)
        if c is None:
            c = Node(child, next(self._orders), p.depth + 1, score, p, tactic, p, tactic, logprob, handle)
            self.nodes[child] = c
        else:
            if c is p or c.via is p or (c.merges is not None and p in map(_edge_parent, c.merges)):
                return None
            if self._closes_cycle(p, c):
                return None  # back to an ancestor: a cycle, which proves nothing
            if c.merges is None:
                c.merges = []
            c.merges.append(Edge(p, tactic, logprob))
            if score > c.score and not c.expanded:
                c.score, c.depth, c.parent, c.tactic = score, p.depth + 1, p, tactic
        if p.children is None:
            p.children = [c]
        else:
            p.children.append(c)
        self._g = None
        if c.status == PROVED:
            self._set_status(p, PROVED)
        elif c.status == OPEN:
            p.live += 1
        return c

    def _closes_cycle(self, p: Node, c: Node) -> bool:
        """Would the edge `p -> c` close a cycle, i.e. is `c` an ancestor of `p`?

        `Node.order` is kept a topological order: every edge goes from a lower to a higher order.
        So an edge along the order is safe at once; otherwise every path from `c` to `p` stays
        within the orders between theirs, and it is enough to walk up from `p` through the
        ancestors ranked after `c`. If `c` is not among them, they (and only they) move, in their
        order, into the gap just below `c`: their other parents all rank lower (or they would
        have been walked), their children all rank higher, so the order holds with the new edge.
        (Pearce and Kelly's dynamic topological sort, moving one side only.)"""
        lo = c.order
        if lo > p.order:
            return False
        if c.children is None:
            # `c` has no descendants, so it is no ancestor of `p`, and it can simply move past
            # every node: its parents (now `p` too) all rank lower.
            c.order = next(self._orders)
            return False
        up = p.via
        if p.merges is None and up is not None and up.order < lo and lo - up.order > 1:
            p.order = up.order + (lo - up.order) // 2  # the walk below with `p` alone behind `c`
            return False
        behind, stack, seen, floor = [], [p], {p}, -math.inf
        while stack:
            n = stack.pop()
            behind.append(n)
            for q in (n.via,) if n.merges is None and n.via is not None else n.parents():
                if q is c:
                    return True
                if q.order < lo:
                    if q.order > floor:
                        floor = q.order
                elif q not in seen:
                    seen.add(q)
                    stack.append(q)
        if floor == -math.inf:  # nothing ranks below them (they include the root)
            floor = lo - (len(behind) + 1) * _SPACING
        step = (lo - floor) // (len(behind) + 1)
        if step == 0:
            self._renumber()  # no room left in this gap: make room everywhere and try again
            return self._closes_cycle(p, c)
        if len(behind) > 1:
            behind.sort(key=_order)
        for i, n in enumerate(behind, start=1):
            n.order = floor + i * step
        return False

    def _renumber(self) -> None:
        """Spread the orders out again, evenly (same order, so still topological)."""
        ranked = sorted((n for n in self.nodes.values() if n.key != QED), key=_order)
        for i, n in enumerate(ranked):
            n.order = i * _SPACING
        self._orders = itertools.count(len(ranked) * _SPACING, _SPACING)

    def add_error(self, parent: str, tactic: str, logprob: float, outcome: Outcome, error: str) -> None:
        """Record a tactic at `parent` that gave no goal state (a failed child)."""
        p = self.nodes[parent]
        if p.rejected is None:
            p.rejected = []
        p.rejected.append((tactic, logprob, _PLAIN[outcome], error))
        self._g = None

    def mark_expanded(self, key: str) -> None:
        """Every tactic of this node's expansion is recorded: it gets no more children."""
        n = self.nodes[key]
        n.expanded = True
        self._g = None
        if n.status == OPEN and n.live == 0:
            self._set_status(n, FAILED)

    def _set_status(self, node: Node, status: str) -> None:
        """Move `node` from OPEN to `status` and carry the change to its parents: every parent of a
        proved node is proved; a parent whose last unfailed child failed fails once expanded."""
        stack = [node]
        while stack:
            n = stack.pop()
            if n.status != OPEN:
                continue
            n.status = status
            for q in n.parents():
                if status == PROVED:
                    stack.append(q)
                else:
                    q.live -= 1
                    if q.live == 0 and q.expanded:
                        stack.append(q)

    # ------------------------------------------------------------ reading
    @property
    def proved(self) -> bool:
        return self.nodes[self.root].status == PROVED

    def state_nodes(self) -> list[str]:
        return [k for k in self.nodes if k != QED]

    def shortest_proof(self) -> list[str] | None:
        """Fewest tactics from the root to a closed goal, through any merged states."""
        root = self.nodes[self.root]
        back: dict[int, tuple[Node, str]] = {id(root): (root, "")}
        queue = deque([root])
        while queue:
            n = queue.popleft()
            for c, e in n.out_edges():
                if id(c) in back:
                    continue
                back[id(c)] = (n, e.tactic)
                if c.key == QED:
                    tactics = []
                    while c is not root:
                        c, tac = back[id(c)]
                        tactics.append(tac)
                    return tactics[::-1]
                queue.append(c)
        return None

    def follow(self, tactics: list[str]) -> list[Edge]:
        """The edges a tactic sequence takes from the root (each names the state it leaves); stops
        at a tactic that has no edge from the current node."""
        edges, here = [], self.nodes[self.root]
        for tac in tactics:
            step = next(((c, e) for c, e in here.out_edges() if e.tactic == tac), None)
            if step is None:
                break
            here = step[0]
            edges.append(step[1])
        return edges

    def path_states(self, tactics: list[str]) -> list[str]:
        """The goal states a proof passes through (the state before each tactic)."""
        return [e.parent.key for e in self.follow(tactics)]

    def rejected(self, key: str) -> list[Rejected]:
        """The tactics tried at `key` that were rejected."""
        return [Rejected(t, lp, Outcome(o), e) for t, lp, o, e in self.nodes[key].rejected or ()]

    # ------------------------------------------------------------ the networkx form
    @property
    def g(self) -> nx.DiGraph:
        """The graph as a networkx DiGraph, error leaves included; built on first use after a change."""
        if self._g is None:
            self._g = self._to_networkx()
        return self._g

    def _to_networkx(self) -> nx.DiGraph:
        g = nx.DiGraph(root=self.root, theorem=self.theorem)
        for k, n in self.nodes.items():
            g.add_node(k, kind=DONE if k == QED else STATE, status=n.status, score=n.score, depth=n.depth,
                       expanded=n.expanded, path=n.path)
        errors = 0
        for k, n in self.nodes.items():
            for c, e in n.out_edges():
                outcome = Outcome.FINISHED if c.key == QED else Outcome.STATE
                g.add_edge(k, c.key, tactic=e.tactic, logprob=e.logprob, outcome=str(outcome), error="")
            for r in self.rejected(k):
                errors += 1
                leaf = f"✗ {errors}"
                g.add_node(leaf, kind=ERROR, status=FAILED, score=n.score + r.logprob, depth=n.depth + 1,
                           expanded=True, path=())
                g.add_edge(k, leaf, tactic=r.tactic, logprob=r.logprob, outcome=str(r.outcome), error=r.error)
        return g

    @classmethod
    def from_networkx(cls, g: nx.DiGraph) -> "SearchTree":
        """The inverse of `g`: a table from a graph in that form (for a saved search)."""
        tree = cls(g.graph["root"], g.graph.get("theorem", ""))
        states = nx.subgraph_view(g, filter_node=lambda k: g.nodes[k]["kind"] == STATE)
        order = [k for k in nx.topological_sort(states) if k != tree.root]
        for k in order:
            d = g.nodes[k]
            tree.nodes[k] = Node(k, next(tree._orders), d["depth"], d["score"])
        for k, n in tree.nodes.items():
            n.status, n.expanded = g.nodes[k]["status"], g.nodes[k]["expanded"]
        for a, b, d in g.edges(data=True):
            p = tree.nodes[a]
            if g.nodes[b]["kind"] == ERROR:
                p.rejected = (p.rejected or []) + [(d["tactic"], d["logprob"], Outcome(d["outcome"]).value, d["error"])]
                continue
            c = tree.nodes[b]
            p.children = (p.children or []) + [c]
            p.live += c.status == OPEN
            if c.via is None:
                c.via, c.via_tactic, c.via_logprob = p, d["tactic"], d["logprob"]
            else:
                c.merges = (c.merges or []) + [Edge(p, d["tactic"], d["logprob"])]
        for k in order:  # the best route, from the saved tactics
            n, here = tree.nodes[k], tree.nodes[tree.root]
            for tac in g.nodes[k]["path"]:
                n.parent, n.tactic = here, tac
                here = next(c for c, e in here.out_edges() if e.tactic == tac)
        return tree
