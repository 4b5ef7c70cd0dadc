"""The Classify page in AppTest: a sample image, an upload, a bad upload that keeps the page's state."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from explorer.runtime import data, inference


@pytest.fixture
def classify_page(open_page):
    return open_page("classify")


def product_photo(index: int) -> bytes:
    """A Fashion-MNIST test image as a shop photo: dark garment on white, upscaled, JPEG."""
    raw, _ = data.sample(index)
    photo = Image.fromarray(255 - np.pad(raw, 16)).resize((320, 320), Image.Resampling.BICUBIC).convert("RGB")
    out = io.BytesIO()
    photo.save(out, "JPEG", quality=90)
    return out.getvalue()


def test_sample_image_is_classified_with_metric_first(classify_page):
    at = classify_page
    assert not at.exception and not at.error
    [metric] = at.metric
    assert metric.label == "Prediction" and metric.value == "Ankle boot"  # test image 0 is an ankle boot
    table = at.table[0].value
    assert list(table.index) == inference.fashion_models()
    assert "on **cpu**" in next(c.value for c in at.caption if "ms for preprocessing" in c.value)
    assert any("measured test accuracy **93.99%**" in m.value for m in at.markdown)


def test_upload_then_bad_upload_keeps_state(classify_page):
    at = classify_page
    at.selectbox(key="cls_model").set_value("vgg-fmnist").run()
    at.radio(key="cls_source").set_value("Upload").run()
    at.file_uploader(key="cls_upload").set_value(("sneaker.jpg", product_photo(9), "image/jpeg")).run()
    assert not at.exception and not at.error
    assert at.metric[0].value == data.CLASSES[data.sample(9)[1]]  # Sneaker
    assert len(at.get("plotly_chart")) == 1

    at.file_uploader(key="cls_upload").set_value(("shirt.png", b"\x89PNG\r\n\x1a\n truncated", "image/png")).run()
    assert not at.exception
    [message] = [e.value for e in at.error]
    assert message.startswith("shirt.png is ") and "\n" not in message
    assert at.selectbox(key="cls_model").value == "vgg-fmnist"  # the user's choices stay
    assert at.radio(key="cls_source").value == "Upload"


def test_feature_map_layers(classify_page):
    at = classify_page
    at.selectbox(key="cls_model").set_value("lenet").run()
    layer = at.selectbox(key="cls_layer_lenet")
    assert layer.options[0] == "0 — 6×28×28"
    assert layer.options == ["0 — 6×28×28", "2 — 6×14×14", "3 — 16×10×10", "5 — 16×5×5"]
    layer.set_value("3").run()
    assert not at.exception
    assert at.selectbox(key="cls_layer_lenet").value == "3"
