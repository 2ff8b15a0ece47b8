"""Write a `SearchTree` to disk: node-link JSON (lossless, reloadable), GraphML (for Gephi/yEd;
every attribute a string or number) and a PNG drawing for looking at one theorem's search."""
from __future__ import annotations

import json
from pathlib import Path

import networkx as nx

from search.tree import DONE, ERROR, FAILED, OPEN, PROVED, QED, SearchTree

_COLORS = {OPEN: "#cccccc", PROVED: "#6cc070", FAILED: "#e07070"}


def to_node_link(tree: SearchTree) -> dict:
    data = nx.node_link_data(tree.g, edges="edges")
    for n in data["nodes"]:
        n["path"] = list(n.get("path", ()))
    return data


def write_json(tree: SearchTree, path: str | Path) -> None:
    Path(path).write_text(json.dumps(to_node_link(tree), ensure_ascii=False, indent=1), encoding="utf-8")


def read_json(path: str | Path) -> SearchTree:
    """The inverse of `write_json`, so a saved search can be drawn or inspected later."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    try:
        g = nx.node_link_graph(data, directed=True, edges="edges")
        for _, d in g.nodes(data=True):
            d["path"] = tuple(d.get("path", ()))
        return SearchTree.from_networkx(g)
    except (KeyError, TypeError, ValueError, StopIteration, nx.NetworkXError) as e:
        raise ValueError(f"{path}: not a search tree written by write_json ({type(e).__name__}: {e})") from e


def write_graphml(tree: SearchTree, path: str | Path) -> None:
    """GraphML allows only scalar attributes: tuple paths become ' ; '-joined strings."""
    g = nx.DiGraph(**{k: str(v) for k, v in tree.g.graph.items()})
    for k, attrs in tree.g.nodes(data=True):
        g.add_node(k, **{a: _scalar(v) for a, v in attrs.items()})
    for a, b, attrs in tree.g.edges(data=True):
        g.add_edge(a, b, **{k: _scalar(v) for k, v in attrs.items()})
    nx.write_graphml(g, str(path))


def _scalar(v):
    if isinstance(v, (tuple, list)):
        return " ; ".join(map(str, v))
    if v is None:
        return ""
    return v


def draw_png(tree: SearchTree, path: str | Path, max_label: int = 40, show_errors: bool | None = None) -> None:
    """A PNG of the graph, top (root) to bottom by depth, nodes coloured by status, edges labelled
    by tactic. Error leaves are drawn small and unlabelled; by default they are shown only for
    graphs small enough to stay readable."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if show_errors is None:
        show_errors = tree.g.number_of_nodes() <= 150
    keep = [k for k, d in tree.g.nodes(data=True) if show_errors or d["kind"] != ERROR]
    g = tree.g.subgraph(keep).copy()  # a copy: the layout attribute must not leak into the tree
    layer = {k: max(d["depth"], 0) for k, d in g.nodes(data=True)}
    layer[QED] = max(layer.values()) + 1
    nx.set_node_attributes(g, layer, "layer")
    pos = nx.multipartite_layout(g, subset_key="layer", align="horizontal")
    pos = {k: (x, -y) for k, (x, y) in pos.items()}
    width = max(6.0, min(40.0, 0.6 * max(sum(1 for v in layer.values() if v == d) for d in set(layer.values()))))
    fig, ax = plt.subplots(figsize=(width, max(4.0, min(40.0, 1.2 * (layer[QED] + 1)))))
    states = [k for k, d in g.nodes(data=True) if d["kind"] != ERROR]
    errors = [k for k, d in g.nodes(data=True) if d["kind"] == ERROR]
    nx.draw_networkx_nodes(g, pos, nodelist=states, node_size=300, ax=ax,
                           node_color=[_COLORS[g.nodes[k]["status"]] for k in states])
    if errors:
        nx.draw_networkx_nodes(g, pos, nodelist=errors, node_size=40, node_color=_COLORS[FAILED], ax=ax)
    nx.draw_networkx_edges(g, pos, ax=ax, arrows=True, edge_color="#888888")
    labels = {(a, b): d["tactic"][:max_label] for a, b, d in g.edges(data=True)
              if g.nodes[b]["kind"] != ERROR}
    nx.draw_networkx_edge_labels(g, pos, edge_labels=labels, font_size=7, ax=ax)
    if len(states) <= 60:  # goal text is readable only on small graphs: its last line, the target
        names = {k: (k.splitlines() or [""])[-1][:max_label] for k in states}
        nx.draw_networkx_labels(g, pos, labels=names, font_size=6, ax=ax, verticalalignment="bottom")
    ax.set_title(f"{g.graph.get('theorem', '')}: {g.nodes[tree.root]['status']}, "
                 f"{sum(1 for _, d in g.nodes(data=True) if d['kind'] not in (ERROR, DONE))} states")
    ax.set_axis_off()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def export_tree(tree: SearchTree, stem: str | Path) -> list[Path]:
    """Write `<stem>.json`, `<stem>.graphml` and `<stem>.png`; returns the paths written."""
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = [stem.with_name(stem.name + ext) for ext in (".json", ".graphml", ".png")]
    write_json(tree, paths[0])
    write_graphml(tree, paths[1])
    draw_png(tree, paths[2])
    return paths
