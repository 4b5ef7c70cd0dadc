"""Every diagram the app draws: the model graph traced from a forward pass, a residual block variant, a recurrence
unrolled over time. Each is built here, and only here, as a ``graphviz.Digraph`` — graphviz quotes every name and
label, so no module path can break the syntax — and returned as its DOT text, which ``st.graphviz_chart``, the CLI's
``graph`` command and :func:`render_dot` (SVG or PNG through Graphviz's ``dot`` program) all take.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

import graphviz
from graphviz.quoting import quote

from ..analysis.graph import Graph, Node, collapse, max_depth
from ..i18n import N_, ExplorerError, gettext
from ..lessons.recurrent import shown_steps
from ..zoo.recurrent import recurrent_params
from ..zoo.resnet import PLACEMENT_TITLES, RESIDUAL_PLACEMENTS

FONT = "Helvetica"
_CARRIED = {"color": "#c0392b", "fontcolor": "#c0392b"}  # what passes the layers by: the identity, the state


class _Digraph(graphviz.Digraph):
    """``graphviz.Digraph`` that quotes an edge's ends as whole node names. The traced graph's ids hold colons
    ("block:layer1"), which ``Digraph.edge`` would read as ``node:port``; no diagram here uses ports."""

    _quote_edge = staticmethod(quote)


def _digraph(
    name: str, node_size: int, edge_size: int, node: dict[str, str] | None = None, edge: dict[str, str] | None = None,
    **graph_attr: str,
) -> _Digraph:
    """A new diagram with the look all of them share: Helvetica on nodes and edges, at these sizes."""
    return _Digraph(
        name, graph_attr=graph_attr,
        node_attr={"fontname": FONT, "fontsize": str(node_size), **(node or {})},
        edge_attr={"fontname": FONT, "fontsize": str(edge_size), **(edge or {})},
    )


def _text(*lines: str) -> str:
    """A label from literal text, one line each (empty ones dropped): backslashes escaped and ``<…>`` not read as
    HTML, so a name shows as written; graphviz adds the quotes."""
    return graphviz.nohtml("\\n".join(graphviz.escape(line) for line in lines if line))


def _fmt_shape(shape: tuple[int, ...] | None) -> str:
    return "×".join(map(str, shape[1:])) if shape else ""


_KIND_STYLE: dict[str, dict[str, str]] = {
    "input": {"shape": "oval", "fillcolor": "#dff0d8"},
    "output": {"shape": "oval", "fillcolor": "#dff0d8"},
    "merge": {"shape": "circle", "fillcolor": "#fde7c8", "fixedsize": "false"},
    "block": {"fillcolor": "#dbe8f7"},
    "failed": {"fillcolor": "#f8d7da", "color": "#c0392b", "fontcolor": "#8b1a1a", "penwidth": "2.5"},
}
_HIGHLIGHT = {"fillcolor": "#ffd54f", "penwidth": "2", "color": "#e65100"}
_MERGE_SIGN = {"add": "⊕", "concat": "∥"}


# The words of a node's hyper-parameters (explorer.analysis.rules' ``detail``: "11×11, 3→96, stride 4, pad 2"), shown
# in the page's language; numbers and shapes stay as they are.
_DETAIL_WORDS = {"stride": N_("stride {n}"), "pad": N_("pad {n}"), "dilation": N_("dilation {n}"),
                 "groups": N_("groups {n}")}
_FAILS_HERE = N_("fails here")  # the label of a failing call the trace cannot name


def _detail_text(detail: str) -> str:
    """``detail`` in the current language, part by part ("stride 4" → "步幅 4"; "12 layers" of a collapsed block)."""
    count, _, rest = detail.partition(" ")
    if rest == "layers" and count.isdigit():
        return gettext("{n} layers").format(n=count)
    parts = []
    for part in detail.split(", "):
        word, _, value = part.partition(" ")
        parts.append(gettext(_DETAIL_WORDS[word]).format(n=value) if word in _DETAIL_WORDS and value else part)
    return ", ".join(parts)


def _node_lines(n: Node, labels: Mapping[str, str] | None = None, shape_line: bool = False) -> list[str]:
    """What a node of the model graph says, line by line: its display label (where ``labels`` names it) beside its
    type, the key hyper-parameters, the parameters, the output shape (``shape_line``) and, last, its module path
    ("module features.0")."""
    if n.kind in ("input", "output"):
        return [gettext(n.label), _fmt_shape(n.shape)]
    if n.kind == "merge":
        return [_MERGE_SIGN.get(n.label, n.label), _fmt_shape(n.shape) if shape_line else ""]
    name = n.path.split("#", 1)[0] if n.kind != "block" else n.path
    shown = (labels or {}).get(name)
    label = gettext(n.label) if n.kind == "failed" and n.label == _FAILS_HERE else n.label
    head = f"{shown} · {label}" if shown and shown != name else label
    return [head, _detail_text(n.detail), gettext("{n} params").format(n=f"{n.params:,}") if n.params else "",
            f"→ {_fmt_shape(n.shape)}" if shape_line and n.shape else "",
            gettext("✗ the input no longer fits here") if n.kind == "failed" else "",
            gettext("module {path}").format(path=name)]  # the path, said to be one ("module b1.0", not "b1.0")


def element_id(n: Node) -> str:
    """The ``id`` a node's group carries in the SVG: what a click on it names. Layers by module path (``#2`` for a
    module's second call), collapsed blocks as ``block:<path>``, merges and the ends by their graph id."""
    if n.kind in ("layer", "failed"):
        return f"layer:{n.path}"
    if n.kind == "block":
        return f"block:{n.path}"
    return n.id


def cluster_id(path: str) -> str:
    """The ``id`` of an open block's frame (cluster) in the SVG: a click on its title closes the block."""
    return f"cluster:{path}"


def shown(
    graph: Graph, depth: int | None = None, opened: Collection[str] = (), closed: Collection[str] = ()
) -> Graph:
    """The graph as drawn: blocks at level ``depth`` and deeper collapsed into one node each, except the blocks in
    ``opened`` and with those in ``closed`` one node (:func:`~explorer.analysis.graph.collapse`); the traced graph
    itself when nothing is collapsed."""
    if not opened and not closed and (depth is None or depth >= max_depth(graph) + 1):
        return graph
    return collapse(graph, depth, opened, closed)


def lit_element(drawn: Graph, highlight: str | None) -> str | None:
    """The SVG id of the node that stands for the layer ``highlight`` (a module path) in the drawn graph: the layer
    itself (its first call), or the collapsed block that holds it; ``None`` if neither is drawn."""
    if not highlight:
        return None
    for n in drawn.nodes.values():
        base = n.path.split("#", 1)[0]
        if n.kind == "layer" and n.path == highlight:
            return element_id(n)
        if n.kind == "block" and highlight.startswith(base + "."):
            return element_id(n)
    return None


def to_dot(
    graph: Graph, depth: int | None = None, rankdir: str = "TB", highlight: str | None = None, *,
    opened: Collection[str] = (), closed: Collection[str] = (), labels: Mapping[str, str] | None = None,
    shapes_on_nodes: bool = False,
) -> str:
    """Graphviz DOT: containers as clusters, blocks deeper than ``depth`` collapsed (see :func:`shown` for
    ``opened``/``closed``), ``highlight`` (a module path) filled in colour. ``labels`` (module path → display label,
    :mod:`explorer.analysis.labels`) head the nodes; ``shapes_on_nodes`` writes each output shape inside its node
    instead of on the edges leaving it, so the labels of edges meeting at a concatenation cannot collide.

    Every node and cluster carries an ``id`` (:func:`element_id`, :func:`cluster_id`): the SVG names what was
    clicked. (No ``class``: Graphviz would append it to the groups' own "node"/"cluster" class that readers use.)"""
    graph = shown(graph, depth, opened, closed)
    dot = _digraph(
        graph.model, 10, 8,
        node={"shape": "box", "style": "rounded,filled", "fillcolor": "#f5f7fa", "color": "#8a99ad"},
        edge={"color": "#5b6b80"},
        rankdir=rankdir, newrank="true", compound="true",
    )

    def style(n: Node) -> dict[str, str]:
        base = n.path.split("#", 1)[0]
        inside_block = n.kind == "block" and highlight is not None and highlight.startswith(base + ".")
        lit = highlight is not None and (base == highlight or inside_block)
        return {**_KIND_STYLE.get(n.kind, {}), **(_HIGHLIGHT if lit else {})}

    # nest nodes into clusters by their container path
    tree: dict[str, list[str]] = {"": []}
    for path in sorted(graph.containers, key=lambda p: p.count(".")):
        tree.setdefault(path, [])
    for n in graph.nodes.values():
        base = n.path.split("#", 1)[0]
        owner = base if n.kind in ("merge",) and base in graph.containers else base.rsplit(".", 1)[0] if "." in base \
            else ""
        if n.kind == "block":
            owner = n.path.rsplit(".", 1)[0] if "." in n.path else ""
        while owner and owner not in graph.containers:
            owner = owner.rsplit(".", 1)[0] if "." in owner else ""
        tree.setdefault(owner, []).append(n.id)

    def children(path: str) -> list[str]:
        return [c for c in graph.containers if (c.rsplit(".", 1)[0] if "." in c else "") == path]

    def has_nodes(path: str) -> bool:
        return bool(tree.get(path)) or any(has_nodes(c) for c in children(path))

    def emit(path: str, into: graphviz.Digraph) -> None:
        for node_id in tree.get(path, []):
            n = graph.nodes[node_id]
            tooltip = _text(f"{n.label} {n.path} → {_fmt_shape(n.shape)}")
            into.node(node_id, _text(*_node_lines(n, labels, shapes_on_nodes)), tooltip=tooltip,
                      id=graphviz.escape(element_id(n)), **style(n))
        for child in children(path):
            if not has_nodes(child):
                continue
            with into.subgraph(name=f"cluster_{child}") as cluster:
                shown_name = (labels or {}).get(child)
                title = f"{shown_name} ({child}): {graph.containers[child]}" if shown_name and shown_name != child \
                    else f"{child}: {graph.containers[child]}"
                cluster.attr(label=_text(title), style="rounded,dashed", color="#9aa8ba", fontsize="9",
                             id=graphviz.escape(cluster_id(child)))
                emit(child, cluster)

    emit("", dot)
    for a, b in graph.edges:
        if shapes_on_nodes:
            dot.edge(a, b)
        else:
            dot.edge(a, b, label=_text(_fmt_shape(graph.nodes[a].shape)))
    return dot.source


class GraphvizMissing(ExplorerError, RuntimeError):
    """SVG or PNG was asked for where Graphviz's ``dot`` program is not installed."""


def render_dot(dot: str, fmt: str) -> bytes:
    """SVG or PNG bytes from DOT with Graphviz's ``dot`` binary (Debian package graphviz)."""
    import graphviz

    try:
        return graphviz.Source(dot).pipe(format=fmt)
    except graphviz.ExecutableNotFound:
        raise GraphvizMissing(N_("rendering SVG/PNG needs Graphviz's `dot` program (Debian/Ubuntu: apt-get install "
                                 "graphviz); the DOT text works without it")) from None


_NODE = {
    "conv": ("3×3 conv", "#fde9c9"),
    "bn": ("BN", "#e8f0fe"),
    "relu": ("ReLU", "#e6f4ea"),
}


def placement_dot(placement: str) -> str:
    """Graphviz DOT of one block: x, the residual branch's layers in order, the identity shortcut, ⊕, what follows."""
    branch, after = RESIDUAL_PLACEMENTS[placement]
    dot = _digraph("block", 11, 9, node={"shape": "box", "style": "rounded,filled"},
                   rankdir="TB", nodesep="0.5", ranksep="0.25")
    dot.node("x", "x", shape="plaintext", style="")

    def chain(prefix: str, kinds: tuple[str, ...], previous: str) -> str:
        """One node per layer kind, each fed by the one before; return the last node's name."""
        for k, kind in enumerate(kinds):
            label, colour = _NODE[kind]
            dot.node(f"{prefix}{k}", label, fillcolor=colour)
            dot.edge(previous, f"{prefix}{k}")
            previous = f"{prefix}{k}"
        return previous

    last = chain("b", branch, "x")
    dot.node("add", "+", shape="circle", style="filled", fillcolor="#ffffff", fontsize="16")
    dot.edge(last, "add")
    dot.edge("x", "add", label=gettext("identity"), penwidth="2", **_CARRIED)
    last = chain("a", after, "add")
    dot.node("out", gettext("to the next block"), shape="plaintext", style="")
    dot.edge(last, "out")
    dot.attr(label=_text(gettext(PLACEMENT_TITLES[placement])), labelloc="t", fontname=FONT, fontsize="12")
    return dot.source


def unrolled_dot(kind: str, seq_len: int, input_size: int, hidden_size: int, limit: int = 6) -> str:
    """Graphviz DOT of the recurrence unrolled over time: one cell per step, all sharing the same weights, the
    state passed from each step to the next (hₜ, and the LSTM's cell state cₜ)."""
    cell = gettext("{layer} cell").format(layer={"rnn": "RNN", "lstm": "LSTM", "gru": "GRU"}[kind])
    state = "h, c" if kind == "lstm" else "h"
    params = f"{recurrent_params(kind, input_size, hidden_size):,}"
    dot = _digraph("unrolled", 11, 9, rankdir="LR", splines="true", nodesep="0.35", ranksep="0.45")
    dot.node("h0", "h₀ = c₀ = 0" if kind == "lstm" else "h₀ = 0", shape="plaintext")
    previous = "h0"
    for t in shown_steps(seq_len, limit):
        if t is None:
            dot.node("gap", "…", shape="plaintext", fontsize="18")
            dot.edge(previous, "gap", label=state, **_CARRIED)
            previous = "gap"
            continue
        with dot.subgraph() as step:  # one column per step, top to bottom: the output hₜ, the cell, the input xₜ
            step.attr(rank="same")
            step.node(f"y{t}", f"h{_sub(t)} ({hidden_size})", shape="box", style="rounded,filled",
                      fillcolor="#e6f4ea")
            step.node(f"c{t}", _text(cell, f"t = {t}"), shape="box", style="filled", fillcolor="#fde9c9")
            step.node(f"x{t}", f"x{_sub(t)} ({input_size})", shape="box", style="rounded,filled",
                      fillcolor="#e8f0fe")
        dot.edge(f"x{t}", f"c{t}")
        dot.edge(f"c{t}", f"y{t}")
        dot.edge(previous, f"c{t}", label=state, **_CARRIED)
        previous = f"c{t}"
    dot.attr(label=gettext("every cell uses the same weights: {params} parameters, whatever the length ({n} steps)")
             .format(params=params, n=seq_len),
             labelloc="b", fontname=FONT, fontsize="11")
    return dot.source


_SUBSCRIPTS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def _sub(n: int) -> str:
    return str(n).translate(_SUBSCRIPTS)
