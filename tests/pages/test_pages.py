"""Every page of the Streamlit app, run headless with ``AppTest``: what it shows, and how it answers its widgets,
its deep links and bad input. ``st.cache_data`` is shared by all the AppTests of the process, so only the first
analysis of each model costs anything."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import explorer

REPO = Path(__file__).resolve().parents[2]
PAGE_FILES = re.findall(r"""st\.Page\(\s*["'](pages/[^"']+\.py)["']""", (REPO / "app.py").read_text(encoding="utf-8"))
TIMEOUT = 120  # the first run imports torch and analyses the model

# The DESIGN.md contract, spelled as the app must show it.
ALEXNET_PARAMS = "62,378,344"
VGG16_PARAMS = "138,357,544"


@pytest.fixture
def open_page(repo_root) -> Callable[..., AppTest]:
    """``open_page("architecture", model="alexnet")``: a fresh session on that page with that query string, run once."""

    def _open(page: str | None = None, **query: str) -> AppTest:
        at = AppTest.from_file(repo_root / "app.py", default_timeout=TIMEOUT)
        if page:
            at.switch_page(f"pages/{page}.py")
        for key, value in query.items():
            at.query_params[key] = value
        return at.run()

    return _open


def metrics(at: AppTest) -> dict[str, tuple[str, str]]:
    """label → (value, delta) of every ``st.metric`` shown."""
    return {m.label: (m.value, m.delta) for m in at.metric}


def markdown(at: AppTest) -> list[str]:
    return [m.value for m in at.markdown]


def errors(at: AppTest) -> list[str]:
    return [e.value for e in at.error]


def charts(at: AppTest) -> list[dict]:
    """The plotly figures shown, as their JSON specs."""
    return [json.loads(el.proto.spec) for el in at.get("plotly_chart")]


def assert_clean(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def as_int(text: str) -> int:
    return int(text.replace(",", ""))


# --- every page ---------------------------------------------------------------------------------------------------


def test_app_lists_the_pages():
    assert PAGE_FILES[:3] == ["pages/home.py", "pages/architecture.py", "pages/compare.py"]


@pytest.mark.parametrize("page_file", PAGE_FILES)
def test_every_page_runs_with_its_defaults(open_page, page_file):
    at = open_page(Path(page_file).stem)
    assert_clean(at)
    assert not errors(at)
    assert at.title, "every page has a title"


# --- Home --------------------------------------------------------------------------------------------------------


def test_home_lists_every_model_with_exact_params(open_page):
    at = open_page()
    assert_clean(at)
    assert not errors(at)
    assert [t.value for t in at.title] == ["CNN Explorer"]
    text = "\n".join(markdown(at))
    specs = explorer.list_models()
    assert len(specs) >= 16
    links = {link.proto.query_string: link.proto for link in at.get("page_link")}
    for spec in specs:
        link = links[f"model={spec.id}"]
        assert link.page == "architecture" and spec.title in link.label, spec.id
        assert f"**{spec.params:,}** parameters" in text, spec.id
    # the contract's numbers, exact beside short
    assert f"**{ALEXNET_PARAMS}** parameters (62.4 M)" in text
    assert f"**{VGG16_PARAMS}** parameters (138 M)" in text
    assert "**61,706** parameters (61.7 K)" in text


# --- Architecture ------------------------------------------------------------------------------------------------


def test_architecture_alexnet_numbers_and_shapes(open_page):
    at = open_page("architecture", model="alexnet")
    assert_clean(at)
    assert not errors(at)
    assert at.selectbox(key="model").value == "alexnet"
    assert at.text_input(key="input").value == "3,224,224"
    shown = metrics(at)
    assert shown["Parameters"] == (ALEXNET_PARAMS, "62.4 M")
    assert shown["MACs per image"][0] == f"{explorer.analyze('alexnet').total_macs:,}"
    assert shown["Output"][0] == "1000"
    assert "**Spatial size:** 224 → 55 → 27 → 13 → 6" in markdown(at)
    assert len(at.dataframe) == 1
    table = at.dataframe[0].value
    assert table["params"].sum() == 62_378_344
    assert len(charts(at)) == 3  # shape flow, by type, by block


def test_architecture_alexnet_errata_beside_fixed_code(open_page):
    at = open_page("architecture", model="alexnet")
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


def test_architecture_alexnet_measured_ratio_table(open_page):
    at = open_page("architecture", model="alexnet")
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
    assert_clean(at)
    total = explorer.get_spec(model_id).params
    assert metrics(at)["Parameters"][0] == f"{total:,}"
    slider = at.slider(key="depth")
    assert slider.value == slider.max >= 3
    full = at.dataframe[0].value
    assert full["params"].sum() == total

    at.slider(key="depth").set_value(1).run()
    assert_clean(at)
    collapsed = at.dataframe[0].value
    assert 1 < len(collapsed) < len(full)
    assert collapsed["params"].sum() == total
    assert collapsed["layer"].str.startswith("▸ ").any()  # whole blocks shown as one row
    assert metrics(at)["Parameters"][0] == f"{total:,}"


def test_architecture_model_picker_switches_model_and_resets_input(open_page):
    at = open_page("architecture", model="alexnet")
    at.text_input(key="input").set_value("3,128,128").run()
    assert at.query_params["input"] == "3,128,128"

    at.selectbox(key="model").set_value("vgg16").run()
    assert_clean(at)
    assert not errors(at)
    assert metrics(at)["Parameters"] == (VGG16_PARAMS, "138 M")
    assert at.text_input(key="input").value == "3,224,224"
    assert at.query_params["model"] == "vgg16"
    assert "input" not in at.query_params
    assert at.title[0].value == explorer.get_spec("vgg16").title


def test_architecture_too_small_input_is_one_error_then_recovers(open_page):
    at = open_page("architecture", model="alexnet")
    at.text_input(key="input").set_value("3,16,16").run()
    assert_clean(at)
    [message] = errors(at)
    assert "alexnet" in message and "3×16×16" in message
    assert "layer" in message and "MaxPool2d" in message and "too small" in message
    assert not at.metric  # nothing computed from an impossible input
    assert at.selectbox(key="model").value == "alexnet"  # the picker survives

    at.text_input(key="input").set_value("3,224,224").run()
    assert_clean(at)
    assert not errors(at)
    assert metrics(at)["Parameters"][0] == ALEXNET_PARAMS
    assert "**Spatial size:** 224 → 55 → 27 → 13 → 6" in markdown(at)


@pytest.mark.parametrize("text", ["abc", "3,224", "0,224,224"])
def test_architecture_malformed_input_is_an_error(open_page, text):
    at = open_page("architecture", model="alexnet")
    at.text_input(key="input").set_value(text).run()
    assert_clean(at)
    assert len(errors(at)) == 1
    assert not at.metric
    if text == "abc":
        assert "'abc'" in errors(at)[0] and "integers" in errors(at)[0]


def test_architecture_unknown_model_in_link_falls_back(open_page):
    at = open_page("architecture", model="nope")
    assert_clean(at)
    [message] = errors(at)
    assert "unknown model id 'nope'" in message
    assert "alexnet" in message
    assert at.selectbox(key="model").value == "alexnet"
    assert metrics(at)["Parameters"][0] == ALEXNET_PARAMS
    assert at.query_params["model"] == "alexnet"


def test_architecture_input_in_link(open_page):
    at = open_page("architecture", model="vgg16", input="3,64,64")
    assert_clean(at)
    assert not errors(at)
    assert at.text_input(key="input").value == "3,64,64"
    shown = metrics(at)
    # the adaptive average pool keeps the classifier's 25,088 inputs: same parameters, far fewer MACs
    assert shown["Parameters"][0] == VGG16_PARAMS
    macs = as_int(shown["MACs per image"][0])
    assert macs == explorer.analyze("vgg16", (3, 64, 64)).total_macs
    assert macs < explorer.analyze("vgg16").total_macs
    [spatial] = [m for m in markdown(at) if m.startswith("**Spatial size:**")]
    assert spatial.startswith("**Spatial size:** 64 →") and spatial.endswith("→ 4 → 2 → 7")  # the pool goes back up


# --- Compare -----------------------------------------------------------------------------------------------------


def test_compare_models_from_link(open_page):
    at = open_page("compare", models="lenet,alexnet,vgg16")
    assert_clean(at)
    assert not errors(at)
    assert at.multiselect(key="compare_models").value == ["lenet", "alexnet", "vgg16"]
    table = at.table[0].value
    assert list(table.index) == ["lenet", "alexnet", "vgg16"]
    assert table.loc["alexnet", "parameters"] == f"{ALEXNET_PARAMS} (62.4 M)"
    assert table.loc["vgg16", "parameters"] == f"{VGG16_PARAMS} (138 M)"
    assert table.loc["lenet", "parameters"] == "61,706 (61.7 K)"
    figures = charts(at)
    assert len(figures) == 4
    for fig in figures:
        assert fig["data"][0]["x"] == ["lenet", "alexnet", "vgg16"]
    params = next(f for f in figures if f["layout"]["title"]["text"] == "Parameters")
    assert params["data"][0]["y"] == [61_706, 62_378_344, 138_357_544]


def test_compare_multiselect_and_log_toggle(open_page):
    at = open_page("compare", models="lenet,alexnet,vgg16")
    assert at.toggle(key="compare_log").value is True
    assert {f["layout"]["yaxis"]["type"] for f in charts(at)} == {"log"}

    at.toggle(key="compare_log").set_value(False).run()
    assert_clean(at)
    assert {f["layout"]["yaxis"]["type"] for f in charts(at)} == {"linear"}

    at.multiselect(key="compare_models").set_value(["lenet", "vgg16"]).run()
    assert_clean(at)
    assert list(at.table[0].value.index) == ["lenet", "vgg16"]
    assert len(charts(at)) == 4
    assert at.query_params["models"] == "lenet,vgg16"


def test_compare_unknown_ids_in_link(open_page):
    at = open_page("compare", models="lenet,bogus,alexnt")
    assert_clean(at)
    [message] = errors(at)
    assert "bogus" in message and "alexnt" in message
    assert list(at.table[0].value.index) == ["lenet"]


def test_compare_empty_selection(open_page):
    at = open_page("compare", models="lenet")
    at.multiselect(key="compare_models").set_value([]).run()
    assert_clean(at)
    assert [i.value for i in at.info] == ["Pick at least one model."]
    assert not at.table
    assert not charts(at)


def test_model_survives_a_visit_to_another_page_and_a_link_wins_on_arrival(open_page):
    at = open_page("architecture", model="alexnet")
    at.selectbox(key="model").set_value("vgg16").run()
    at.switch_page("pages/home.py").run()
    at.query_params.clear()  # the sidebar navigation carries no parameters
    at.switch_page("pages/architecture.py").run()
    assert_clean(at)
    assert metrics(at)["Parameters"] == (VGG16_PARAMS, "138 M")
    # A link to another model (the gallery's) wins over the session's choice.
    at.query_params["model"] = "nin"
    at.run()
    assert at.selectbox(key="model").value == "nin"
    assert metrics(at)["Parameters"] == ("1,992,166", "1.99 M")


def test_architecture_table_has_receptive_field_columns(open_page):
    at = open_page("architecture", model="vgg16")
    table = at.dataframe[0].value
    pool5 = table[table["type"] == "MaxPool2d"].iloc[-1]
    assert (pool5["RF"], pool5["stride"]) == ("212", "32")


def test_architecture_diagram_linked_layer_and_downloads(open_page):
    at = open_page("architecture", model="resnet18-tv")
    [chart] = at.get("graphviz_chart")
    assert 'digraph "resnet18-tv"' in chart.proto.spec and '"block:layer1.0"' in chart.proto.spec  # depth 2
    at.slider(key="graph_depth_resnet18-tv").set_value(4).run()
    full = at.get("graphviz_chart")[0].proto.spec
    assert full.count("⊕") == 8  # every residual addition, opened up
    at.slider(key="graph_depth_resnet18-tv").set_value(1).run()
    assert len(at.get("graphviz_chart")[0].proto.spec) < len(full)

    at.selectbox(key="layer_pick_resnet18-tv").set_value("layer2.0.downsample.0").run()
    assert_clean(at)
    assert 'fillcolor="#ffd54f"' in at.get("graphviz_chart")[0].proto.spec  # its block lights up
    shown = metrics(at)
    assert shown["Parameters"][0] == "8,192" and shown["Output"][0] == "128×28×28"
    assert any("`⌊(56 + 2·0 − 1)/2⌋ + 1 = 28`" in m for m in markdown(at))
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels == ["Layers CSV", "Layers JSON", "Diagram DOT", "Diagram SVG", "Diagram PNG", "Model ONNX"]
