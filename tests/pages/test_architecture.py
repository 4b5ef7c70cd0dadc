"""The Architecture page in AppTest: one model's numbers, layer table, errata, diagram and downloads; its widgets,
deep links and bad input."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

import explorer
from tests.pages.conftest import (
    ALEXNET_PARAMS,
    VGG16_PARAMS,
    as_int,
    assert_clean,
    assert_no_exception,
    errors,
    figures,
    markdown,
    metrics,
    metrics_with_delta,
    open_tab,
)

SVG = "{http://www.w3.org/2000/svg}"


def test_architecture_alexnet_numbers_and_shapes(open_page):
    at = open_page("architecture", model="alexnet")
    assert_clean(at)
    assert at.selectbox(key="model").value == "alexnet"
    assert at.text_input(key="input").value == "3,224,224"
    shown = metrics_with_delta(at)
    assert shown["Parameters"] == (ALEXNET_PARAMS, "62.4 M")
    assert shown["MACs per image"][0] == f"{explorer.analyze('alexnet').total_macs:,}"
    assert shown["Output"][0] == "1000"
    assert "**Spatial size:** 224 → 55 → 27 → 13 → 6" in markdown(at)
    assert len(at.dataframe) == 1
    table = at.dataframe[0].value
    assert table["params"].sum() == 62_378_344
    assert figures(at) == [] and not at.code  # only the open tab (Layers) is drawn
    open_tab(at, "Charts")
    assert len(figures(at)) == 3  # shape flow, by type, by block
    assert not at.dataframe  # the layer table's tab is closed now …
    assert shown == metrics_with_delta(at)  # … the totals and the diagram above the tabs stay


def test_architecture_tabs_below_the_diagram(open_page):
    at = open_page("architecture", model="alexnet")
    assert [t.label for t in at.tabs] == ["Layers", "Charts", "Figure", "The notes' errata and claims"]
    no_errata = open_page("architecture", model="vgg16")
    assert [t.label for t in no_errata.tabs] == ["Layers", "Charts", "Figure"]


def test_architecture_alexnet_errata_beside_fixed_code(open_page):
    at = open_tab(open_page("architecture", model="alexnet"), "The notes' errata and claims")
    assert "Errata in the notes' code" in [s.value for s in at.subheader]
    spec = explorer.get_spec("alexnet")
    assert len(at.expander) >= len(spec.errata) >= 1
    for erratum in spec.errata:
        expander = next(e for e in at.expander if e.label == erratum.title)
        notes, fixed = (c.value for c in expander.code)
        assert notes == erratum.notes_code
        assert fixed == erratum.fixed_code
        assert notes != fixed
    codes = [c.value for c in at.code]
    assert any("nn.Conv2d(1, 96" in c for c in codes)  # the notes' code: 1 channel …
    assert any("nn.Conv2d(3, 96" in c for c in codes)  # … fixed: 3 channels, as in the notes' table


def test_architecture_nin_erratum_shows_the_notes_code_cannot_run_at_224(open_page):
    at = open_tab(open_page("architecture", model="nin"), "The notes' errata and claims")
    text = " ".join(m.value for m in at.markdown)
    assert "cannot run at 224×224 at all" in text
    assert "1×1" in text  # where it fails: a 3×3 kernel meets a 1×1 map


def test_architecture_alexnet_measured_ratio_table(open_page):
    at = open_tab(open_page("architecture", model="alexnet"), "The notes' errata and claims")
    assert len(at.table) == 1
    table = at.table[0].value
    assert list(table.index) == ["alexnet", "alexnet-d2l"]
    lenet = explorer.analyze("lenet")
    alexnet = explorer.analyze("alexnet")
    row = table.loc["alexnet"]
    assert row["params"] == f"{ALEXNET_PARAMS} vs 61,706"
    assert row["params ratio"] == f"{alexnet.total_params / lenet.total_params:,.0f}×"
    assert row["MACs ratio"] == f"{alexnet.total_macs / lenet.total_macs:,.0f}×"
    assert any(row["params ratio"] in m and "do not hold" in m for m in markdown(at))


@pytest.mark.parametrize("model_id", ["googlenet", "resnet50-tv"])
def test_architecture_depth_slider_collapses_blocks(open_page, model_id):
    at = open_page("architecture", model=model_id)
    assert_no_exception(at)
    total = explorer.get_spec(model_id).params
    assert metrics(at)["Parameters"] == f"{total:,}"
    slider = at.slider(key="depth")
    assert slider.value == slider.max >= 3
    full = at.dataframe[0].value
    assert full["params"].sum() == total

    at.slider(key="depth").set_value(1).run()
    assert_no_exception(at)
    collapsed = at.dataframe[0].value
    assert 1 < len(collapsed) < len(full)
    assert collapsed["params"].sum() == total
    assert collapsed["label"].str.startswith("▸ ").any()  # whole blocks shown as one row
    assert metrics(at)["Parameters"] == f"{total:,}"


def test_architecture_model_picker_switches_model_and_resets_input(open_page):
    at = open_page("architecture", model="alexnet")
    at.text_input(key="input").set_value("3,128,128").run()
    assert at.query_params["input"] == "3,128,128"

    at.selectbox(key="model").set_value("vgg16").run()
    assert_clean(at)
    assert metrics_with_delta(at)["Parameters"] == (VGG16_PARAMS, "138 M")
    assert at.text_input(key="input").value == "3,224,224"
    assert at.query_params["model"] == "vgg16"
    assert "input" not in at.query_params
    assert at.title[0].value == explorer.get_spec("vgg16").title


def test_architecture_too_small_input_is_one_error_then_recovers(open_page):
    at = open_page("architecture", model="alexnet")
    at.text_input(key="input").set_value("3,16,16").run()
    assert_no_exception(at)
    [message] = errors(at)
    assert "alexnet" in message and "3×16×16" in message
    assert "layer" in message and "MaxPool2d" in message and "too small" in message
    assert not at.metric  # no totals from an impossible input …
    assert at.selectbox(key="model").value == "alexnet"  # the picker survives
    [hint] = [i.value for i in at.info]
    assert "**3×223×223**" in hint  # the smallest square input AlexNet takes: it still teaches
    # … but the layers up to the failing one, the failing row marked, and the arithmetic of why
    assert "Where it stops: pool2 (5)" in [s.value for s in at.subheader]
    assert ("**Why:** MaxPool2d 3×3, stride 2 gets 256×1×1: ⌊(1 + 2·0 − 3)/2⌋ + 1 = 0 < 1 — the 3×3 window no "
            "longer fits in 1×1.") in markdown(at)
    [partial] = at.dataframe
    shown = partial.value
    assert list(shown["label"]) == ["conv1", "relu1", "pool1", "conv2", "relu2", "✗ pool2"]
    assert list(shown["output shape"]) == ["96×3×3", "96×3×3", "96×1×1", "256×1×1", "256×1×1", "—"]
    assert list(shown["params"][:4]) == [34_944, 0, 0, 614_656]
    svg = viewer(at)["svg"]
    assert "✗ the input no longer fits here" in svg and "pool2 · MaxPool2d" in svg
    assert "layer:5" in svg_ids(svg) and "output" not in svg_ids(svg)

    at.text_input(key="input").set_value("3,224,224").run()
    assert_clean(at)
    assert metrics(at)["Parameters"] == ALEXNET_PARAMS
    assert "**Spatial size:** 224 → 55 → 27 → 13 → 6" in markdown(at)


def test_architecture_classifier_size_mismatch_is_explained(open_page):
    at = open_page("architecture", model="alexnet", input="3,100,100")
    assert_no_exception(at)
    assert len(errors(at)) == 1
    assert "Where it stops: fc6 (14)" in [s.value for s in at.subheader]
    assert ("**Why:** the classifier's Linear expects 256·6·6 = 9,216 features, this input gives 256·2·2 = "
            "1,024.") in markdown(at)
    shown = at.dataframe[0].value
    assert shown["label"].iloc[-1] == "✗ fc6" and shown["output shape"].iloc[-2] == "1024"


@pytest.mark.parametrize("text", ["abc", "3,224", "0,224,224"])
def test_architecture_malformed_input_is_an_error(open_page, text):
    at = open_page("architecture", model="alexnet")
    at.text_input(key="input").set_value(text).run()
    assert_no_exception(at)
    assert len(errors(at)) == 1
    assert not at.metric
    if text == "abc":
        assert "'abc'" in errors(at)[0] and "integers" in errors(at)[0]


def test_architecture_unknown_model_in_link_falls_back(open_page):
    at = open_page("architecture", model="nope")
    assert_no_exception(at)
    [message] = errors(at)
    assert "unknown model id 'nope'" in message
    assert "alexnet" in message
    assert at.selectbox(key="model").value == "alexnet"
    assert metrics(at)["Parameters"] == ALEXNET_PARAMS
    assert at.query_params["model"] == "alexnet"


def test_architecture_input_in_link(open_page):
    at = open_page("architecture", model="vgg16", input="3,64,64")
    assert_clean(at)
    assert at.text_input(key="input").value == "3,64,64"
    shown = metrics_with_delta(at)
    # the adaptive average pool keeps the classifier's 25,088 inputs: same parameters, far fewer MACs
    assert shown["Parameters"][0] == VGG16_PARAMS
    macs = as_int(shown["MACs per image"][0])
    assert macs == explorer.analyze("vgg16", (3, 64, 64)).total_macs
    assert macs < explorer.analyze("vgg16").total_macs
    [spatial] = [m for m in markdown(at) if m.startswith("**Spatial size:**")]
    assert spatial.startswith("**Spatial size:** 64 →") and spatial.endswith("→ 4 → 2 → 7")  # the pool goes back up


def test_architecture_table_has_receptive_field_columns(open_page):
    at = open_page("architecture", model="vgg16")
    table = at.dataframe[0].value
    pool5 = table[table["type"] == "MaxPool2d"].iloc[-1]
    assert (pool5["RF"], pool5["stride"]) == ("212", "32")


def viewer(at) -> dict:
    """The data the diagram viewer component got: the SVG Graphviz drew, the lit node's id, its height."""
    [el] = at.get("bidi_component")  # a components v2 element: its data is JSON on the proto
    return json.loads(el.proto.json)


def svg_ids(svg: str) -> set[str]:
    return {g.get("id") for g in ET.fromstring(svg).iter(f"{SVG}g") if g.get("class") == "node"}


def test_architecture_diagram_linked_layer_and_downloads(open_page):
    # Was: the diagram as an st.graphviz_chart with the highlight drawn into its DOT. Now it is the zoomable viewer
    # component over Graphviz's SVG, the layer lit by its SVG id: a diagram you can read and click.
    at = open_page("architecture", model="resnet18-tv")
    shown = viewer(at)
    assert shown["height"] <= 700  # a fixed-height viewport, whatever the model
    ids = svg_ids(shown["svg"])
    assert "block:layer1.0" in ids and "layer:conv1" in ids  # depth 2; nodes carry their module paths
    at.slider(key="graph_depth_resnet18-tv").set_value(4).run()
    full = viewer(at)["svg"]
    assert full.count("⊕") == 8  # every residual addition, opened up
    assert "layer:layer2.0.downsample.0" in svg_ids(full)
    at.slider(key="graph_depth_resnet18-tv").set_value(1).run()
    assert len(viewer(at)["svg"]) < len(full)

    at.selectbox(key="layer_pick_resnet18-tv").set_value("layer2.0.downsample.0").run()
    assert_no_exception(at)
    assert viewer(at)["selected"] == "block:layer2"  # depth 1: its block lights up
    at.slider(key="graph_depth_resnet18-tv").set_value(4).run()
    assert viewer(at)["selected"] == "layer:layer2.0.downsample.0"
    shown = metrics_with_delta(at)
    assert shown["Parameters"][0] == "8,192" and shown["Output"][0] == "128×28×28"
    detail = "\n".join(markdown(at))
    assert "`⌊(56 + 2·0 − 1)/2⌋ + 1 = 28`" in detail
    assert "**Parameters:** `" in detail and "8,192`" in detail  # the formula, numbers filled in
    assert "**MACs:** `" in detail
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels == ["Layers CSV", "Layers JSON", "Diagram DOT", "Diagram SVG", "Diagram PNG", "Model ONNX"]


def test_architecture_labels_formulas_and_totals(open_page):
    at = open_page("architecture", model="alexnet")
    table = at.dataframe[0].value
    assert list(table["layer"][:3]) == ["0", "1", "2"]  # module paths, unchanged …
    assert list(table["label"][:3]) == ["conv1", "relu1", "pool1"]  # … the papers' names beside them
    assert "depth" not in table.columns  # all 1s in a flat net: the slider and the ▸ rows show the hierarchy
    conv1 = table.iloc[0]
    assert conv1["parameter formula"] == "(11·11·3 + 1)·96 = 34,944"
    totals = next(m for m in markdown(at) if "Trainable params" in m)
    assert "| 62,378,344 | 62,378,344 | 0 |" in totals and "MiB" in totals
    # the papers' names beside the paths: in the select box, the diagram's nodes and the shape-flow chart
    pick = at.selectbox(key="layer_pick_alexnet")
    assert pick.format_func("14") == "fc6 (14)"
    svg = viewer(at)["svg"]
    assert "conv1 · Conv2d" in svg and "fc8 · Linear" in svg
    flow = figures(open_tab(at, "Charts"))[0]
    assert flow["layout"]["xaxis"]["ticktext"][:3] == ["input", "conv1", "relu1"]  # the input size is the first step
    assert flow["data"][0]["y"][:2] == [224, 55]

    at.selectbox(key="layer_pick_alexnet").set_value("0").run()
    detail = "\n".join(markdown(at))
    assert "**conv1 (0)**" in detail
    assert "`96·55·55·(11·11·3 + 1) = 105,705,600`" in detail  # the MACs formula, numbers filled in
    assert "**Receptive field:** 11 px, effective stride 4 px" in detail


@pytest.mark.parametrize(("model_id", "title", "names"), [
    ("lstm", "Features per time step through the network (28 steps", ["input", "lstm"]),
    ("mlp", "Features through the network (no feature maps here", ["input", "flatten", "fc1", "relu1", "fc2"]),
])
def test_architecture_models_without_feature_maps_get_a_feature_chart(open_page, model_id, title, names):
    at = open_page("architecture", model=model_id)
    assert_no_exception(at)
    assert not any(m.startswith("**Spatial size:**") for m in markdown(at))
    flow = figures(open_tab(at, "Charts"))[0]
    assert flow["layout"]["title"]["text"].startswith(title)
    assert flow["layout"]["xaxis"]["ticktext"] == names


def test_the_viewer_names_clicks_only_where_they_do_something(open_page):
    clickable = viewer(open_page("architecture", model="alexnet"))["texts"]["hint"][0]
    assert "click a layer: select it" in clickable
    partial = viewer(open_page("architecture", model="alexnet", input="3,32,32"))["texts"]["hint"][0]
    assert partial == "wheel: zoom · drag: pan"  # the diagram up to the failing layer: zoom and pan only


def test_the_block_depth_is_kept_across_the_tabs(open_page):
    at = open_page("architecture", model="googlenet")
    at.slider(key="depth").set_value(1).run()
    collapsed = len(at.dataframe[0].value)
    flow = figures(open_tab(at, "Charts"))[0]  # the shape flow drawn at the chosen depth: one step per stage
    assert flow["layout"]["xaxis"]["ticktext"] == ["input", "stage1", "stage2", "stage3", "stage4", "stage5", "fc"]
    open_tab(at, "Layers")
    assert at.slider(key="depth").value == 1 and len(at.dataframe[0].value) == collapsed
    at = open_page("architecture", model="resnet50-tv")  # another model starts fully expanded
    assert at.slider(key="depth").value == at.slider(key="depth").max
