"""The Receptive field page in AppTest: its numbers, its widgets moved, its bad input."""

from __future__ import annotations

import io

from PIL import Image

import explorer
from tests.pages.conftest import figures


def test_defaults_show_the_final_field_and_all_charts(open_page):
    at = open_page("receptive-field", model="vgg16")
    assert not at.exception and not at.error
    table = at.table[0].value
    assert table.loc["vgg16"].tolist() == ["3×224×224", 212, 32, 90]
    assert len(at.get("plotly_chart")) == 5
    # first shown: pool4, a middle layer whose 100 px field is part of the 224 px image (pool5's 212 px is all of
    # it); its centre unit 6 sees rows −42 + 6·16 = 54 … 153
    assert at.selectbox(key="rf_layer_vgg16").value == next(
        r.index for r in explorer.analyze("vgg16").leaves if r.label == "pool4")
    assert any("rows **54 … 153**" in m.value for m in at.markdown)


def test_overlay_layer_unit_and_effective_field(open_page):
    at = open_page("receptive-field", model="resnet18")
    at.multiselect(key="rf_models").set_value(["resnet18", "vgg11-d2l"]).run()
    assert set(at.table[0].value.index) == {"resnet18", "vgg11-d2l"}
    growth = figures(at)[0]
    assert {t["name"] for t in growth["data"]} == {"resnet18", "vgg11-d2l"}

    first_conv = next(r.index for r in explorer.analyze("resnet18").layers if r.name == "b1.0")
    at.selectbox(key="rf_layer_resnet18").set_value(first_conv).run()
    assert not at.exception
    at.slider(key=next(s.key for s in at.slider if s.key.startswith("rf_row_"))).set_value(0).run()
    sentence = next(m.value for m in at.markdown if m.value.startswith("Unit ("))
    # b1.0: 7×7, stride 2, padding 3: unit (0, c) sees rows −3 … 3
    assert "Unit (0," in sentence and "rows **-3 … 3**" in sentence and "zero padding" in sentence

    assert at.get("button_group")  # the effective-field control: off / random (no trained resnet18 weights)
    at.session_state["rf_erf_resnet18"] = "random"
    at.run()
    assert not at.exception
    image = figures(at)[1]
    heat = [t for t in image["data"] if t.get("type") == "heatmap" and t.get("colorscale")]
    assert heat, "the effective field is drawn over the image"


def test_dilation_playground(open_page):
    at = open_page("receptive-field", model="lenet")
    at.slider(key="dil_k").set_value(3).run()
    at.slider(key="dil_r").set_value(4).run()
    assert any("k_eff = 3 + (3 − 1)·(4 − 1) = 9" in m.value for m in at.markdown)
    at.number_input(key="dil_n").set_value(8).run()
    assert any("does not fit" in e.value for e in at.error)
    at.number_input(key="dil_n").set_value(32).run()
    assert any("32 + 2·0 − 4·(3 − 1) − 1 + 1 = 24" in m.value for m in at.markdown)

    at.text_input(key="dil_rates").set_value("2,2,2").run()
    assert any("120 of the 169 pixels" in m.value for m in at.markdown)
    at.text_input(key="dil_rates").set_value("1,2,4").run()
    assert any("**15 px** with dilation" in m.value and "no gridding" in m.value for m in at.markdown)
    at.text_input(key="dil_rates").set_value("two").run()
    assert [e.value for e in at.error] == [
        "Give 1 to 12 dilation rates between 1 and 64, separated by commas (e.g. 1,2,4,8)."
    ]
    assert not at.exception


def test_uploads_good_and_bad(open_page):
    at = open_page("receptive-field", model="lenet")
    at.radio(key="rf_source").set_value("Upload").run()
    png = io.BytesIO()
    Image.new("RGB", (60, 40), (200, 30, 30)).save(png, "PNG")
    at.file_uploader(key="rf_upload").set_value(("red.png", png.getvalue(), "image/png")).run()
    assert not at.exception and not at.error
    at.file_uploader(key="rf_upload").set_value(("fake.png", b"<html>not an image</html>", "image/png")).run()
    assert [e.value for e in at.error] == [
        "fake.png is not an image in a supported format (PNG, JPEG, WEBP, BMP, GIF, TIFF)"
    ]
    assert not at.exception
    assert len(at.get("plotly_chart")) == 5  # the rest of the page is still there


def test_effective_field_with_trained_weights(open_page):
    at = open_page("receptive-field", model="resnet-fmnist")
    at.session_state["rf_erf_resnet-fmnist"] = "trained"
    at.run()
    assert not at.exception and not at.error
    assert any("(trained weights)" in c.value for c in at.caption)
