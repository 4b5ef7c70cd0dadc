"""The paper figure (explorer.present.figure): AlexNet's blocks with the app's exact shapes, GoogLeNet's four paths
per Inception block, every ResNet skip (projections marked), the geometry of every zoo id checked on its JSON spec
(no two labels overlap, every label inside the picture), and the exports (SVG, PNG, TikZ, the spec)."""

from __future__ import annotations

import itertools
import json
import math
import shutil
import subprocess
import xml.etree.ElementTree as ET
from collections import Counter
from functools import cache
from io import BytesIO

import pytest
from PIL import Image
from torch import nn

import explorer
from explorer.analysis import graph
from explorer.i18n import InvalidValue, use_language
from explorer.present import figure as F


@cache
def traced(model_id: str) -> tuple[graph.Graph, dict[str, str], str]:
    """The traced graph, the labels and the title of a zoo id (traced once per test process)."""
    spec = explorer.get_spec(model_id)
    return graph.trace(model_id), F.labels_of(explorer.analyze(model_id)), spec.title


def spec_of(model_id: str, **options) -> dict:
    g, labels, title = traced(model_id)
    return F.layout(g, labels, F.FigureOptions(**options), title)


def incoming(spec: dict, box_id: str, kind: str) -> list[dict]:
    return [lk for lk in spec["links"] if lk["to"] == box_id and lk["kind"] == kind]


# --- AlexNet: the paper's figure with the app's shapes -----------------------------------------------------------
def test_alexnet_is_the_papers_sequence_of_blocks_and_bars():
    spec = spec_of("alexnet")
    boxes = spec["boxes"]
    assert [b["label"] for b in boxes] == [
        "3×224×224", "96×55×55", "96×27×27", "256×27×27", "256×13×13", "384×13×13", "384×13×13", "256×13×13",
        "256×6×6", "4096", "4096", "1000"]
    assert [b["kind"] for b in boxes] == ["input", "conv", "pool", "conv", "pool", "conv", "conv", "conv", "pool",
                                          "fc", "fc", "fc"]
    assert [b["name"] for b in boxes][1:] == ["conv1", "pool1", "conv2", "pool2", "conv3", "conv4", "conv5",
                                              "pool5", "fc6", "fc7", "fc8"]
    spatial = [b["shape"][1] for b in boxes if len(b["shape"]) == 3]
    assert list(dict.fromkeys(spatial)) == [224, 55, 27, 13, 6]
    channels = [b["shape"][0] for b in boxes if b["kind"] in ("input", "conv")]
    assert channels == [3, 96, 256, 384, 384, 256]
    # a block's face shrinks with H×W, its depth grows with C; the bars are thin
    faces = [b["h"] for b in boxes if b["kind"] in ("input", "conv")]
    assert faces == sorted(faces, reverse=True) and faces[0] > faces[-1]
    depths = {b["label"]: b["w"] for b in boxes}
    assert depths["3×224×224"] < depths["96×55×55"] < depths["256×27×27"] < depths["384×13×13"]
    assert all(b["w"] < 10 for b in boxes if b["kind"] == "fc")
    # every convolution and pooling gets its kernel as a pyramid from the block before
    kernels = [(lk["to"], lk["kernel"]["size"], lk["kernel"]["stride"]) for lk in spec["links"] if "kernel" in lk]
    by_id = {b["id"]: b["name"] for b in boxes}
    assert [(by_id[t], size, stride) for t, size, stride in kernels][:3] == [
        ("conv1", [11, 11], [4, 4]), ("pool1", [3, 3], [2, 2]), ("conv2", [5, 5], [1, 1])]
    assert len(kernels) == 8
    assert all(lk["kind"] == "flow" for lk in spec["links"])
    assert {"11×11 /4", "5×5", "3×3 /2"} <= {lb["text"] for lb in spec["labels"] if lb["role"] == "kernel"}


def test_the_scaling_modes_change_the_blocks_as_stated():
    linear, log = spec_of("alexnet", spatial="linear", channels="linear"), spec_of("alexnet", spatial="log",
                                                                                  channels="log")
    conv1 = {s: next(b for b in sp["boxes"] if b["name"] == "conv1") for s, sp in (("lin", linear), ("log", log))}
    inputs = {s: sp["boxes"][0] for s, sp in (("lin", linear), ("log", log))}
    # linear: faces in the ratio of H (55/224), depths in the ratio of C (96/384, floored at 3 px for the input)
    assert conv1["lin"]["h"] / inputs["lin"]["h"] == pytest.approx(55 / 224, rel=0.01)
    assert conv1["lin"]["w"] == pytest.approx(64 * 96 / 384, rel=0.01)
    # log: 3 channels no longer vanish beside 96 (log 4 : log 97, not 3 : 96)
    assert inputs["log"]["w"] / conv1["log"]["w"] == pytest.approx(math.log(4) / math.log(97), rel=0.01)
    assert inputs["log"]["w"] / conv1["log"]["w"] > inputs["lin"]["w"] / conv1["lin"]["w"]


# --- GoogLeNet: four paths per Inception block ---------------------------------------------------------------------
@pytest.mark.parametrize("model_id, blocks", [("googlenet", 9), ("googlenet-tv", 9), ("inception-v1", 1)])
def test_every_inception_block_splits_into_four_paths_and_concatenates(model_id, blocks):
    spec = spec_of(model_id)
    concats = [b for b in spec["boxes"] if b["kind"] == "concat"]
    assert len(concats) == blocks
    for c in concats:
        assert len(incoming(spec, c["id"], "branch")) == 4
    ends = {c["id"] for c in concats}
    forks = Counter(lk["from"] for lk in spec["links"] if lk["kind"] == "branch" and lk["to"] not in ends)
    assert len(forks) == blocks and set(forks.values()) == {4}
    # the four paths stand side by side: their first layers share an along-the-flow position band, not a row
    first = spec["links"][[lk["kind"] for lk in spec["links"]].index("branch")]
    lanes = [lk["to"] for lk in spec["links"] if lk["kind"] == "branch" and lk["from"] == first["from"]]
    ys = sorted(next(b["y"] for b in spec["boxes"] if b["id"] == i) for i in lanes)
    assert len(set(ys)) == 4


def test_googlenet_lanes_are_named_by_their_path_and_the_block_by_its_concatenation():
    spec = spec_of("googlenet")
    names = [b["name"] for b in spec["boxes"]]
    assert "inception3a" in names and "p2_2" in names


# --- ResNet: every skip, projections marked --------------------------------------------------------------------------
@pytest.mark.parametrize("model_id, skips, projections", [
    ("resnet18", 8, 3), ("resnet18-tv", 8, 3), ("resnet34-tv", 16, 3), ("resnet50-tv", 16, 4),
    ("resblock-1x1conv", 1, 1), ("resblock-original", 1, 0)])
def test_every_residual_addition_gets_its_skip(model_id, skips, projections):
    spec = spec_of(model_id)
    adds = [b for b in spec["boxes"] if b["kind"] == "add"]
    links = [lk for lk in spec["links"] if lk["kind"] == "skip"]
    assert len(adds) == len(links) == skips
    assert {lk["to"] for lk in links} == {b["id"] for b in adds}
    assert sum(lk["projection"] for lk in links) == projections
    marked = [lb["text"] for lb in spec["labels"] if lb["role"] == "skip"]
    assert len(marked) == projections and all(t.startswith("projection 1×1") for t in marked)
    assert all(len(lk["points"]) == 4 for lk in links)  # an arc: up, along, down into the ⊕


def test_resnet50_collapsed_at_depth_2_draws_runs_of_equal_blocks_once():
    spec = spec_of("resnet50-tv", depth=2)
    names = [b["name"] for b in spec["boxes"] if b["kind"] == "block"]
    assert names == ["Bottleneck ×3", "Bottleneck ×4", "Bottleneck ×6", "Bottleneck ×3"]
    assert [b["label"] for b in spec["boxes"] if b["kind"] == "block"] == [
        "256×56×56", "512×28×28", "1024×14×14", "2048×7×7"]
    assert [b.get("count") for b in spec["boxes"] if b["kind"] == "block"] == [3, 4, 6, 3]
    full = spec_of("resnet50-tv")
    assert len(full["boxes"]) > 60 and not any(b["kind"] == "block" for b in full["boxes"])  # full depth by default


# --- every zoo id: a figure (or the sentence), with labels that never collide -----------------------------------------
def label_problems(spec: dict) -> list[str]:
    problems = []
    for lb in spec["labels"]:
        x0, y0, x1, y1 = lb["box"]
        if x0 < 0 or y0 < 0 or x1 > spec["width"] or y1 > spec["height"]:
            problems.append(f"outside: {lb['text']!r}")
    for a, b in itertools.combinations(spec["labels"], 2):
        if a["box"][0] < b["box"][2] and b["box"][0] < a["box"][2] and a["box"][1] < b["box"][3] \
                and b["box"][1] < a["box"][3]:
            problems.append(f"{a['text']!r} overlaps {b['text']!r}")
    return problems


NOT_SPATIAL = {"rnn", "lstm", "gru", "ffn"}


@pytest.mark.slow
@pytest.mark.parametrize("model_id", [s.id for s in explorer.list_models()])
def test_every_zoo_figure_keeps_its_labels_apart_and_inside(model_id):
    for options in ({}, {"direction": "TB"}, {"depth": 1}, {"depth": 2, "kernels": False, "spacing": 0.5}):
        spec = spec_of(model_id, **options)
        assert not label_problems(spec), (options, label_problems(spec)[:3])
        assert bool(spec["message"]) == (model_id in NOT_SPATIAL)
        if model_id not in NOT_SPATIAL:
            assert spec["boxes"] and all(0 <= b["x"] and b["x"] + b["w"] <= spec["width"] for b in spec["boxes"])
    with use_language("zh"):
        assert not label_problems(spec_of(model_id))


def test_networks_without_feature_maps_get_one_sentence_or_bars():
    spec = spec_of("lstm")
    assert spec["boxes"] == [] and spec["message"].startswith("The figure is drawn for convolutional networks")
    assert "<text" in F.render_svg(spec)
    mlp = spec_of("mlp")
    assert [b["kind"] for b in mlp["boxes"]] == ["input", "fc", "fc"]
    assert [b["label"] for b in mlp["boxes"]] == ["1×28×28", "256", "10"]


def test_the_legend_names_the_kinds_drawn_and_the_caption_speaks_the_language():
    spec = spec_of("resnet18")
    legend = [lb["text"] for lb in spec["labels"] if lb["role"] == "legend"]
    assert legend == ["input", "convolution", "pooling", "fully connected", "addition", "residual skip",
                      "projection shortcut", "kernel"]
    assert spec["caption"].startswith("ResNet-18") and "Residual skips are arcs into ⊕." in spec["caption"]
    with use_language("zh"):
        zh = spec_of("resnet18")
    assert "卷积" in [lb["text"] for lb in zh["labels"] if lb["role"] == "legend"]
    assert "每个特征映射画成一个块" in zh["caption"]


# --- exports ---------------------------------------------------------------------------------------------------------
def test_the_svg_is_vector_with_text_as_text_and_the_spec_rerenders_it():
    g, labels, title = traced("alexnet")
    fig = F.draw(g, labels, F.FigureOptions(), title)
    svg = fig.svg()
    root = ET.fromstring(svg)
    ns = "{http://www.w3.org/2000/svg}"
    texts = [t.text for t in root.iter(f"{ns}text")]
    assert "96×55×55" in texts and "conv1" in texts and "11×11 /4" in texts
    assert len(list(root.iter(f"{ns}polygon"))) >= 3 * 12
    assert not list(root.iter(f"{ns}image"))  # no raster inside
    again = F.Figure.from_json(fig.json())
    assert again.svg() == svg and again._repr_svg_() == svg
    assert again.options == F.FigureOptions()
    assert json.loads(fig.json())["options"]["spatial"] == "sqrt"


def test_png_at_the_chosen_dpi():
    fig = F.Figure(spec_of("alexnet"))
    png = fig.png(192)
    img = Image.open(BytesIO(png))
    assert img.size == (round(fig.spec["width"] * 2), round(fig.spec["height"] * 2))
    assert round(img.info["dpi"][0]) == 192
    assert len(img.convert("RGB").getcolors(maxcolors=1 << 20)) > 8  # drawn, not blank
    with pytest.raises(InvalidValue, match="between 36 and 1200 dpi"):
        fig.png(5)


def test_tikz_is_a_standalone_document_that_pdflatex_compiles(tmp_path):
    tex = F.Figure(spec_of("resnet18")).tex()
    assert tex.startswith("% ResNet-18") and "\\documentclass{article}" in tex and "\\usepackage{tikz}" in tex
    assert "96$\\times$48$\\times$48" not in tex and "64$\\times$48$\\times$48" in tex
    assert tex.count("\\begin{tikzpicture}") == 1 and tex.rstrip().endswith("\\end{document}")
    if shutil.which("pdflatex") is None:
        pytest.skip("pdflatex is not installed: the document is checked, not compiled")
    (tmp_path / "figure.tex").write_text(tex, encoding="utf-8")
    done = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "figure.tex"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-2000:]
    assert "Output written on figure.pdf (1 page" in done.stdout  # one page, the figure's size
    assert (tmp_path / "figure.pdf").stat().st_size > 1000


def test_a_spec_that_is_not_one_is_refused_in_a_sentence():
    with pytest.raises(InvalidValue, match="not valid JSON"):
        F.Figure.from_json("{")
    with pytest.raises(InvalidValue, match="lacks boxes"):
        F.Figure.from_json({"version": 1, "width": 1, "height": 1})
    with pytest.raises(InvalidValue, match="must be one of linear, sqrt, log"):
        F.FigureOptions(spatial="cubic")
    with pytest.raises(InvalidValue, match="from 1 up"):
        F.FigureOptions(depth=0)


# --- the library's entry points ------------------------------------------------------------------------------------
def test_explorer_figure_draws_an_id_or_a_module():
    fig = explorer.figure("alexnet", depth=None, direction="TB")
    assert fig.spec["options"]["direction"] == "TB" and fig.spec["boxes"][1]["label"] == "96×55×55"
    net = nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.Sigmoid(), nn.AvgPool2d(2), nn.Flatten(),
                        nn.Linear(6 * 14 * 14, 10))
    mine = explorer.figure(net, (1, 28, 28))
    assert [b["label"] for b in mine.spec["boxes"]] == ["1×28×28", "6×28×28", "6×14×14", "10"]
    with pytest.raises(InvalidValue, match="give the input size"):
        explorer.figure(net)


def test_summary_displays_as_its_layer_table_in_jupyter():
    page = explorer.analyze("alexnet")._repr_html_()
    assert "62,378,344 parameters" in page and "1,135,915,368 MACs" in page
    assert page.count("<tr>") == 1 + 21  # the header and AlexNet's 21 module calls
    assert "<td style=\"text-align:left;padding-left:0.0em\">conv1</td>" in page and "96×55×55" in page
