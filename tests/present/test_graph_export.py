"""Diagrams (DOT from the traced graph) and exports (CSV, JSON, ONNX, SVG, PNG)."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import xml.etree.ElementTree as ET

import onnx
import pytest
from torch import nn

import explorer
from explorer.analysis import graph
from explorer.cli import main
from explorer.present import diagram, export


def incoming(g: graph.Graph, node_id: str) -> list[str]:
    return [a for a, b in g.edges if b == node_id]


def test_sequential_is_a_chain():
    g = graph.trace("lenet")
    layers = [n for n in g.nodes.values() if n.kind == "layer"]
    assert len(layers) == 12 and not g.containers  # the notes' LeNet: one Sequential, no blocks
    assert len(g.edges) == len(g.nodes) - 1  # input → 12 layers → output
    conv = next(n for n in layers if n.path == "0")
    assert conv.detail == "5×5, 1→6, pad 2" and conv.params == 156 and conv.shape == (1, 6, 28, 28)
    dot = diagram.to_dot(g)
    assert dot.startswith("digraph lenet {") and "cluster_" not in dot  # graphviz quotes only what needs it
    assert 'input -> n1 [label="1×28×28"]' in dot


def test_vgg_blocks_are_clusters():
    dot = diagram.to_dot(graph.trace("vgg11-d2l"))
    assert dot.count("subgraph ") == 5  # the notes' five VGG blocks (the top level is a Sequential)
    assert 'label="0: Sequential"' in dot


def test_inception_paths_meet_at_the_concatenation():
    g = graph.trace("googlenet")
    concats = [n for n in g.nodes.values() if n.label == "concat"]
    assert len(concats) == 9  # nine Inception blocks
    for node in concats:
        assert len(incoming(g, node.id)) == 4  # four parallel paths
    inceptions = [p for p, kind in g.containers.items() if kind == "Inception"]
    assert len(inceptions) == 9
    assert all(c.path in inceptions for c in concats)  # each concatenation sits in its block's cluster


def test_residual_skips_enter_the_addition():
    g = graph.trace("resnet18-tv")
    adds = [n for n in g.nodes.values() if n.label == "add"]
    assert len(adds) == 8  # 2 blocks × 4 stages
    for add in adds:
        sources = incoming(g, add.id)
        assert len(sources) == 2
        block = add.path
        inside = [s for s in sources if g.nodes[s].path.startswith(block + ".")]
        # one input comes through the block's convolutions (bn2); the other is the skip: from outside the block,
        # or through the 1×1 projection (downsample) when the block changes shape
        assert any(g.nodes[s].path == f"{block}.bn2" for s in sources)
        skip = [s for s in sources if g.nodes[s].path != f"{block}.bn2"][0]
        assert g.nodes[skip].path.startswith(f"{block}.downsample") or skip not in inside
    projections = {n.path for n in g.nodes.values() if ".downsample.0" in n.path}
    assert projections == {"layer2.0.downsample.0", "layer3.0.downsample.0", "layer4.0.downsample.0"}
    assert 'subgraph "cluster_layer2.0.downsample"' in diagram.to_dot(g)


def test_collapsed_views_have_fewer_nodes():
    g = graph.trace("resnet50-tv")
    sizes = [len(graph.collapse(g, d).nodes) for d in (1, 2, 3)]
    assert sizes[0] < sizes[1] < sizes[2] < len(g.nodes)
    top = graph.collapse(g, 1)
    blocks = {n.path for n in top.nodes.values() if n.kind == "block"}
    assert blocks == {"layer1", "layer2", "layer3", "layer4"}
    assert sum(n.params for n in top.nodes.values()) == 25_557_032  # nothing lost in collapsing
    assert "16 blocks" not in diagram.to_dot(g, depth=1) and "layers" in diagram.to_dot(g, depth=1)


def test_highlight_and_layout():
    g = graph.trace("googlenet")
    dot = diagram.to_dot(g, rankdir="LR", highlight="b3.0.p3_2")
    assert "rankdir=LR" in dot
    assert len(re.findall(r'fillcolor="#ffd54f"', dot)) == 1
    collapsed = diagram.to_dot(g, depth=1, highlight="b3.0.p3_2")  # inside a collapsed block: the block lights up
    assert re.search(r'"block:b3" \[label="Sequential[^\]]*fillcolor="#ffd54f"', collapsed)


def test_user_module_with_a_skip():
    class Skip(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(3, 3, 3, padding=1)

        def forward(self, x):
            return self.conv(x) + x

    g = graph.trace(Skip(), (3, 8, 8))
    [add] = [n for n in g.nodes.values() if n.label == "add"]
    assert set(incoming(g, add.id)) == {"input", next(n.id for n in g.nodes.values() if n.path == "conv")}


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot program is not installed")
def test_svg_and_png_render():
    dot = diagram.to_dot(graph.trace("resnet18"), depth=2)
    svg = diagram.render_dot(dot, "svg")
    root = ET.fromstring(svg)
    assert root.tag.endswith("svg")
    png = diagram.render_dot(dot, "png")
    assert png[:8] == b"\x89PNG\r\n\x1a\n"


def test_csv_and_json_exports():
    summary = explorer.analyze("alexnet")
    rows = list(csv.DictReader(io.StringIO(export.layers_csv(summary))))
    assert len(rows) == len(summary.layers)
    assert tuple(rows[0]) == export.CSV_COLUMNS
    conv1 = rows[1]
    assert (conv1["type"], conv1["output_shape"], conv1["params"]) == ("Conv2d", "1x96x55x55", "34944")
    assert conv1["rf"] == "11"
    assert sum(int(r["params"]) for r in rows) == 62_378_344
    assert json.loads(export.layers_json(summary)) == summary.to_dict()


def test_onnx_export_passes_the_checker():
    data = export.onnx_bytes("lenet")
    model = onnx.load_from_string(data)
    onnx.checker.check_model(model)
    dims = model.graph.input[0].type.tensor_type.shape.dim
    assert [d.dim_param or d.dim_value for d in dims] == ["batch", 1, 28, 28]
    weights = {t.name for t in model.graph.initializer}
    assert any("weight" in name for name in weights)


def test_cli_graph_and_export(tmp_path, capsys):
    assert main(["graph", "googlenet", "--depth", "2", "-o", str(tmp_path / "g.dot")]) == 0
    dot = (tmp_path / "g.dot").read_text()
    assert dot.startswith("digraph googlenet {") and "cluster_b3" in dot
    assert main(["graph", "resnet18", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["model"] == "resnet18" and len(out["nodes"]) > 60 and ["input", out["edges"][0][1]] == out["edges"][0]
    assert main(["export", "vgg16", "--format", "csv", "-o", str(tmp_path / "v.csv")]) == 0
    assert len((tmp_path / "v.csv").read_text().splitlines()) == len(explorer.analyze("vgg16").layers) + 1
    assert main(["export", "lenet", "--format", "onnx", "-o", str(tmp_path / "l.onnx"), "--json"]) == 0
    onnx.checker.check_model(onnx.load(str(tmp_path / "l.onnx")))
    capsys.readouterr()
    bad = (
        ["graph", "lenet", "--depth", "5"], ["graph", "nope"], ["export", "lenet", "--format", "xml", "-o", "x"],
        ["graph", "alexnet", "--input", "3,16,16"],
        ["export", "lenet", "--format", "csv", "-o", str(tmp_path / "missing" / "x.csv")],
    )
    for args in bad:
        assert main(args) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: ") and err.count("\n") == 1, (args, err)
