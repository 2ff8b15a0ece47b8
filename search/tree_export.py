"""Write a `SearchTree` to disk: node-link JSON (lossless, reloadable), GraphML (for Gephi/yEd;
every attribute a string or number) and a PNG drawing for looking at one theorem's search."""
from __future__ import annotations

import json
from pathlib import Path

import networkx as nx

from search.tree import ERROR, FAILED, OPEN, PROVED, QED, STATE, SearchTree

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


FONT = 9   # points: the smallest size that stays readable in a saved PNG at dpi 100


def tree_figure(tree: SearchTree, max_label: int = 40, show_errors: bool | None = None):
    """The matplotlib figure of the graph, top (root) to bottom by depth: goal states coloured by
    status, edges labelled by tactic, rejected tactics as small red leaves labelled with the tactic
    (by default only on graphs small enough to stay readable), a legend. The "no goals" sink is
    drawn only when a proof reached it."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    if show_errors is None:
        show_errors = tree.g.number_of_nodes() <= 150
    keep = [k for k, d in tree.g.nodes(data=True)
            if (show_errors or d["kind"] != ERROR) and (k != QED or tree.g.in_degree(QED) > 0)]
    g = tree.g.subgraph(keep).copy()  # a copy: the layout attribute must not leak into the tree
    layer = {k: max(d["depth"], 0) for k, d in g.nodes(data=True)}
    if QED in g:
        layer[QED] = max(v for k, v in layer.items() if k != QED) + 1
    nx.set_node_attributes(g, layer, "layer")
    pos = nx.multipartite_layout(g, subset_key="layer", align="horizontal")
    pos = {k: (x, -y) for k, (x, y) in pos.items()}
    depth = max(layer.values()) + 1
    widest = max(sum(1 for v in layer.values() if v == d) for d in set(layer.values()))
    fig, ax = plt.subplots(figsize=(max(7.0, min(40.0, 1.6 * widest)), max(4.5, min(40.0, 1.5 * depth + 1))))
    states = [k for k, d in g.nodes(data=True) if d["kind"] == STATE]
    errors = [k for k, d in g.nodes(data=True) if d["kind"] == ERROR]
    nx.draw_networkx_nodes(g, pos, nodelist=states, node_size=300, ax=ax,
                           node_color=[_COLORS[g.nodes[k]["status"]] for k in states])
    if errors:
        nx.draw_networkx_nodes(g, pos, nodelist=errors, node_size=60, node_color=_COLORS[FAILED], node_shape="x", ax=ax)
    if QED in g:
        nx.draw_networkx_nodes(g, pos, nodelist=[QED], node_size=500, node_color=_COLORS[PROVED], node_shape="*", ax=ax)
    nx.draw_networkx_edges(g, pos, ax=ax, arrows=True, edge_color="#888888")
    tactic = {(a, b): d["tactic"][:max_label] for a, b, d in g.edges(data=True)}
    # labels nearer the parent than the middle: an edge that skips layers (to the sink) passes other nodes
    nx.draw_networkx_edge_labels(g, pos, edge_labels={e: t for e, t in tactic.items() if e[1] not in errors},
                                 font_size=FONT, label_pos=0.3, ax=ax)
    if errors:
        nx.draw_networkx_edge_labels(g, pos, edge_labels={e: t for e, t in tactic.items() if e[1] in errors},
                                     font_size=FONT, font_color="#b03030", label_pos=0.3, ax=ax)
    if len(states) <= 60:  # goal text is readable only on small graphs: its last line, the target
        names = {k: (k.splitlines() or [""])[-1][:max_label] for k in states}
        lift = 0.03 * (max(y for _, y in pos.values()) - min(y for _, y in pos.values()) or 1.0)
        nx.draw_networkx_labels(g, {k: (x, y + lift) for k, (x, y) in pos.items()}, labels=names, font_size=FONT,
                                ax=ax, verticalalignment="bottom")
    dot = dict(marker="o", linestyle="", markersize=10)
    handles = [Line2D([], [], color=_COLORS[OPEN], label="goal state: open", **dot),
               Line2D([], [], color=_COLORS[PROVED], label="goal state: proved", **dot),
               Line2D([], [], color=_COLORS[FAILED], label="goal state: failed", **dot)]
    if errors:
        handles.append(Line2D([], [], color=_COLORS[FAILED], marker="x", linestyle="", markersize=8,
                              label="rejected tactic (red label)"))
    if QED in g:
        handles.append(Line2D([], [], color=_COLORS[PROVED], marker="*", linestyle="", markersize=14,
                              label="no goals (proof found)"))
    ax.legend(handles=handles, loc="upper left", fontsize=FONT, frameon=True)
    ax.set_title(f"{g.graph.get('theorem', '')}: {g.nodes[tree.root]['status']}, "
                 f"{len(states)} goal states, {len(errors)} rejected tactics shown",
                 fontsize=FONT + 2)
    ax.set_axis_off()
    fig.tight_layout()
    return fig


def draw_png(tree: SearchTree, path: str | Path, max_label: int = 40, show_errors: bool | None = None) -> None:
    """`tree_figure` saved as a PNG."""
    import matplotlib.pyplot as plt

    fig = tree_figure(tree, max_label, show_errors)
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
