"""The one DOT writer: every diagram is a ``graphviz.Digraph`` built in ``explorer/present/diagram.py``, its DOT is
valid (Graphviz lays each kind out), nothing is lost or invented on the way (nodes, edges and clusters in the SVG are
the traced graph's), and any module name, quotes and backslashes included, shows as written."""

from __future__ import annotations

import re
import shutil
import tokenize
import xml.etree.ElementTree as ET
from collections import OrderedDict
from pathlib import Path

import pytest
from torch import nn

from explorer.analysis import graph
from explorer.lessons.recurrent import shown_steps
from explorer.present import diagram
from explorer.zoo.resnet import RESIDUAL_PLACEMENTS

REPO = Path(__file__).resolve().parents[2]
SOURCES = sorted([*(REPO / "explorer").rglob("*.py"), *(REPO / "pages").rglob("*.py"), REPO / "app.py"])
WRITER = REPO / "explorer" / "present" / "diagram.py"
SVG = "{http://www.w3.org/2000/svg}"
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot program is not installed")


def svg_parts(dot: str) -> dict[str, list[str]]:
    """Titles of the nodes, edges and clusters Graphviz drew (it names each ``g`` element by its class)."""
    root = ET.fromstring(diagram.render_dot(dot, "svg"))
    parts: dict[str, list[str]] = {"node": [], "edge": [], "cluster": []}
    for g in root.iter(f"{SVG}g"):
        kind = g.get("class")
        if kind in parts:
            parts[kind].append(g.find(f"{SVG}title").text)
    return parts


# --- the one writer ------------------------------------------------------------------------------------------------


def test_digraph_is_built_only_in_the_diagram_module():
    builders = [p.relative_to(REPO).as_posix() for p in SOURCES
                if re.search(r"\bDigraph\b|\bimport graphviz\b|\bfrom graphviz\b", p.read_text(encoding="utf-8"))]
    assert builders == ["explorer/present/diagram.py"]


def test_no_dot_syntax_is_written_by_hand():
    """No string literal anywhere (the writer included) spells DOT statements: graphviz writes them all."""
    dot_syntax = re.compile(r"\b(?:di|sub)graph\b|\w\s*->\s*\w|\brankdir\s*=|\[label=")
    found = []
    for path in SOURCES:
        with path.open("rb") as f:
            for tok in tokenize.tokenize(f.readline):
                if tok.type == tokenize.STRING and dot_syntax.search(tok.string):
                    found.append(f"{path.relative_to(REPO)}:{tok.start[0]}: {tok.string[:60]}")
    assert found == []


# --- every kind of diagram is valid DOT and says what it should ---------------------------------------------------


@needs_dot
@pytest.mark.parametrize(("model_id", "depth"), [("googlenet", 2), ("resnet18-tv", None), ("resnet50-tv", 1)])
def test_model_graph_renders_every_node_edge_and_cluster(model_id, depth):
    traced = graph.trace(model_id)
    shown = graph.collapse(traced, depth) if depth is not None else traced
    dot = diagram.to_dot(traced, depth=depth, highlight="layer2.0.downsample.0")
    parts = svg_parts(dot)
    assert sorted(parts["node"]) == sorted(shown.nodes)  # ids such as "block:layer1" stay whole node names
    assert sorted(parts["edge"]) == sorted(f"{a}->{b}" for a, b in shown.edges)
    drawn = {t.removeprefix("cluster_") for t in parts["cluster"]}
    assert drawn <= set(shown.containers) and bool(drawn) == (depth != 1)  # depth 1: every block one node


def test_collapsed_blocks_are_joined_by_whole_names():
    dot = diagram.to_dot(graph.trace("resnet50-tv"), depth=1)
    assert '"block:layer1" -> "block:layer2"' in dot  # not block:"layer1" (graphviz's node:port reading)


@needs_dot
@pytest.mark.parametrize("placement", list(RESIDUAL_PLACEMENTS))
def test_placement_diagram_renders(placement):
    branch, after = RESIDUAL_PLACEMENTS[placement]
    parts = svg_parts(diagram.placement_dot(placement))
    layers = [f"b{k}" for k in range(len(branch))] + [f"a{k}" for k in range(len(after))]
    assert sorted(parts["node"]) == sorted(["x", "add", "out", *layers])
    assert "x->add" in parts["edge"] and len(parts["edge"]) == len(layers) + 3  # the chain, the skip, ⊕ → next


@needs_dot
@pytest.mark.parametrize(("kind", "seq_len"), [("rnn", 1), ("lstm", 28), ("gru", 6)])
def test_unrolled_diagram_renders(kind, seq_len):
    parts = svg_parts(diagram.unrolled_dot(kind, seq_len, 28, 64))
    steps = [t for t in shown_steps(seq_len) if t is not None]
    expected = {"h0", *(f"{p}{t}" for t in steps for p in "xcy")} | ({"gap"} if None in shown_steps(seq_len) else set())
    assert set(parts["node"]) == expected
    assert {f"x{t}->c{t}" for t in steps} <= set(parts["edge"])


@needs_dot
def test_names_with_quotes_and_backslashes_show_as_written():
    weird = 'we"ird\\name<b>'
    model = nn.Sequential(OrderedDict([(weird, nn.Conv2d(1, 2, 3)), ("relu", nn.ReLU())]))
    dot = diagram.to_dot(graph.trace(model, (1, 8, 8)))
    svg = diagram.render_dot(dot, "svg").decode()
    texts = [t.text for t in ET.fromstring(svg).iter(f"{SVG}text")]
    assert f"module {weird}" in texts  # the node's last label line: its module path, exactly, said to be one
    assert svg_parts(dot)["node"] == ["input", "n1", "n2", "output"]
