"""Every diagram the app draws, written as Graphviz DOT: the model graph traced from a forward pass, a residual block
variant, a recurrence unrolled over time. ``render`` turns DOT into SVG or PNG with Graphviz's ``dot`` program.
"""

from __future__ import annotations

from ..analysis.graph import Graph, Node, collapse, max_depth
from ..lessons.recurrent import shown_steps
from ..zoo.recurrent import recurrent_params
from ..zoo.resnet import PLACEMENT_TITLES, RESIDUAL_PLACEMENTS


def _fmt_shape(shape: tuple[int, ...] | None) -> str:
    return "×".join(map(str, shape[1:])) if shape else ""


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def to_dot(
    graph: Graph, depth: int | None = None, rankdir: str = "TB", highlight: str | None = None
) -> str:
    """Graphviz DOT: containers as clusters, blocks deeper than ``depth`` collapsed, ``highlight`` (a module path)
    filled in colour."""
    if depth is not None and depth < max_depth(graph) + 1:
        graph = collapse(graph, depth)
    lines = [
        f"digraph {_quote(graph.model)} {{",
        f"  rankdir={rankdir}; newrank=true; compound=true;",
        '  node [shape=box, style="rounded,filled", fillcolor="#f5f7fa", color="#8a99ad", fontname="Helvetica", '
        "fontsize=10];",
        '  edge [color="#5b6b80", fontname="Helvetica", fontsize=8];',
    ]
    styles = {
        "input": 'shape=oval, fillcolor="#dff0d8"', "output": 'shape=oval, fillcolor="#dff0d8"',
        "merge": 'shape=circle, fillcolor="#fde7c8", fixedsize=false', "block": 'fillcolor="#dbe8f7"',
    }

    def node_line(n: Node) -> str:
        if n.kind in ("input", "output"):
            text = f"{n.label}\\n{_fmt_shape(n.shape)}"
        elif n.kind == "merge":
            text = "⊕" if n.label == "add" else ("∥" if n.label == "concat" else n.label)
        else:
            name = n.path.split("#", 1)[0] if n.kind != "block" else n.path
            parts = [f"{n.label}", n.detail, f"{n.params:,} params" if n.params else "", name]
            text = "\\n".join(p for p in parts if p)
        style = styles.get(n.kind, "")
        base = n.path.split("#", 1)[0]
        inside_block = n.kind == "block" and highlight is not None and highlight.startswith(base + ".")
        if highlight is not None and (base == highlight or inside_block):
            style = 'fillcolor="#ffd54f", penwidth=2, color="#e65100"'
        tooltip = f"{n.label} {n.path} → {_fmt_shape(n.shape)}"
        return f'{_quote(n.id)} [label="{text}", tooltip={_quote(tooltip)}{", " + style if style else ""}];'

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

    def emit(path: str, indent: str) -> None:
        for node_id in tree.get(path, []):
            lines.append(indent + node_line(graph.nodes[node_id]))
        for child in [p for p in graph.containers if (p.rsplit(".", 1)[0] if "." in p else "") == path]:
            if not _has_nodes(child):
                continue
            lines.append(f"{indent}subgraph {_quote('cluster_' + child)} {{")
            label = f"{child}: {graph.containers[child]}"
            lines.append(f'{indent}  label={_quote(label)}; style="rounded,dashed"; color="#9aa8ba"; fontsize=9;')
            emit(child, indent + "  ")
            lines.append(f"{indent}}}")

    def _has_nodes(path: str) -> bool:
        return bool(tree.get(path)) or any(_has_nodes(c) for c in graph.containers
                                           if (c.rsplit(".", 1)[0] if "." in c else "") == path)

    emit("", "  ")
    for a, b in graph.edges:
        shape = _fmt_shape(graph.nodes[a].shape)
        lines.append(f"  {_quote(a)} -> {_quote(b)} [label={_quote(shape)}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def render(dot: str, fmt: str) -> bytes:
    """SVG or PNG bytes from DOT with Graphviz's ``dot`` binary (Debian package graphviz)."""
    import graphviz

    try:
        return graphviz.Source(dot).pipe(format=fmt)
    except graphviz.ExecutableNotFound:
        raise RuntimeError(
            "rendering SVG/PNG needs Graphviz's `dot` program (Debian/Ubuntu: apt-get install graphviz); "
            "the DOT text works without it"
        ) from None


_NODE = {
    "conv": ('3×3 conv', "#fde9c9"),
    "bn": ("BN", "#e8f0fe"),
    "relu": ("ReLU", "#e6f4ea"),
}


def placement_dot(placement: str) -> str:
    """Graphviz DOT of one block: x, the residual branch's layers in order, the identity shortcut, ⊕, what follows."""
    branch, after = RESIDUAL_PLACEMENTS[placement]
    lines = [
        "digraph block {",
        "  rankdir=TB; nodesep=0.5; ranksep=0.25;",
        '  node [fontname="Helvetica", fontsize=11, shape=box, style="rounded,filled"];',
        '  edge [fontname="Helvetica", fontsize=9];',
        '  x [label="x", shape=plaintext, style=""];',
    ]

    def chain(prefix: str, kinds, previous: str) -> str:
        """Append one node per layer kind, each fed by the one before; return the last node's name."""
        for k, kind in enumerate(kinds):
            label, colour = _NODE[kind]
            lines.append(f'  {prefix}{k} [label="{label}", fillcolor="{colour}"];')
            lines.append(f"  {previous} -> {prefix}{k};")
            previous = f"{prefix}{k}"
        return previous

    previous = chain("b", branch, "x")
    lines.append('  add [label="+", shape=circle, style=filled, fillcolor="#ffffff", fontsize=16];')
    lines.append(f"  {previous} -> add;")
    lines.append('  x -> add [label="identity", color="#c0392b", fontcolor="#c0392b", penwidth=2];')
    previous = chain("a", after, "add")
    lines.append('  out [label="to the next block", shape=plaintext, style=""];')
    lines.append(f"  {previous} -> out;")
    lines.append(f'  label="{PLACEMENT_TITLES[placement]}"; labelloc=t; fontname=Helvetica; fontsize=12;')
    lines.append("}")
    return "\n".join(lines)


def unrolled_dot(kind: str, seq_len: int, input_size: int, hidden_size: int, limit: int = 6) -> str:
    """Graphviz DOT of the recurrence unrolled over time: one cell per step, all sharing the same weights, the
    state passed from each step to the next (hₜ, and the LSTM's cell state cₜ)."""
    cell = {"rnn": "RNN cell", "lstm": "LSTM cell", "gru": "GRU cell"}[kind]
    state = "h, c" if kind == "lstm" else "h"
    params = f"{recurrent_params(kind, input_size, hidden_size):,}"
    lines = [
        "digraph unrolled {",
        "  rankdir=LR; splines=true; nodesep=0.35; ranksep=0.45;",
        '  node [fontname="Helvetica", fontsize=11];',
        '  edge [fontname="Helvetica", fontsize=9];',
        f'  h0 [label="{"h₀ = c₀ = 0" if kind == "lstm" else "h₀ = 0"}", shape=plaintext];',
    ]
    previous = "h0"
    for t in shown_steps(seq_len, limit):
        if t is None:
            lines.append('  gap [label="…", shape=plaintext, fontsize=18];')
            lines.append(f'  {previous} -> gap [label="{state}", color="#c0392b", fontcolor="#c0392b"];')
            previous = "gap"
            continue
        lines += [  # defined top to bottom: the output hₜ, the cell, the input xₜ
            f'  y{t} [label="h{_sub(t)} ({hidden_size})", shape=box, style="rounded,filled", fillcolor="#e6f4ea"];',
            f'  c{t} [label="{cell}\\nt = {t}", shape=box, style=filled, fillcolor="#fde9c9"];',
            f'  x{t} [label="x{_sub(t)} ({input_size})", shape=box, style="rounded,filled", fillcolor="#e8f0fe"];',
            f"  x{t} -> c{t}; c{t} -> y{t};",
            f'  {previous} -> c{t} [label="{state}", color="#c0392b", fontcolor="#c0392b"];',
            f"  {{rank=same; y{t}; c{t}; x{t};}}",
        ]
        previous = f"c{t}"
    lines.append(
        f'  label="every cell uses the same weights: {params} parameters, whatever the length ({seq_len} steps)";'
    )
    lines.append("  labelloc=b; fontname=Helvetica; fontsize=11;")
    lines.append("}")
    return "\n".join(lines)


_SUBSCRIPTS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def _sub(n: int) -> str:
    return str(n).translate(_SUBSCRIPTS)
