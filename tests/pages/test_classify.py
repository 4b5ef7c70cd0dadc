"""The Classify page in AppTest: the uploader and a classified sample on arrival, several photos at once, a test
image fed as in the accuracy measurement, the familiarity warning, the ImageNet models in the model list and a
failed checkpoint download, and the walkthrough's numbers against the forward pass."""

from __future__ import annotations

import io
import re

import numpy as np
import pytest
from PIL import Image

from explorer.lessons import convolution as conv
from explorer.runtime import data, images, inference, ood
from tests.conftest import published_at
from tests.pages.conftest import (
    assert_clean,
    assert_no_exception,
    errors,
    forget_loaded_resnet18,
    markdown,
    metrics,
    random_resnet18_checkpoint,
)


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


def noise_png(seed: int = 0) -> bytes:
    """Uniform colour noise: nothing like a garment."""
    pixels = np.random.default_rng(seed).integers(0, 256, (96, 96, 3), dtype=np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, "PNG")
    return out.getvalue()


def predictions(at) -> list[str]:
    return [m.value for m in at.metric if m.label == "Prediction"]


def try_test_image(at, index: int):
    at.number_input(key="cls_index").set_value(index).run()
    at.button(key="cls_try").click().run()
    return at


def test_uploader_first_and_a_sample_classified_on_arrival(classify_page):
    at = classify_page
    assert_clean(at)
    uploader = at.get("file_uploader")[0]
    assert uploader.proto.multiple_files and uploader.proto.label.startswith("Drop photos here")
    assert at.selectbox(key="cls_model").value == inference.best_model()
    assert any("inverted when the border is light" in c.value for c in at.caption)
    # beside the uploader, test image 0 is already classified: the page opens on a result
    assert at.number_input(key="cls_index").value == 0
    assert predictions(at) == ["Ankle boot"]
    at.button(key="cls_untry").click().run()  # removed: the page asks for photos
    assert predictions(at) == []
    assert [i.value for i in at.info] == ["Drop one or more photos above, or pick a Fashion-MNIST test image."]


def test_the_imagenet_models_are_in_the_model_list_downloaded_first(classify_page):
    at = classify_page
    options = at.selectbox(key="cls_model").options
    assert "resnet50-tv — ImageNet, 1000 classes (download first)" in options  # no checkpoint in the test cache
    at.selectbox(key="cls_model").set_value("resnet50-tv").run()
    assert_no_exception(at)
    assert at.button(key="cls_fetch").label.startswith("Download (")
    assert predictions(at) == []  # nothing to classify with until the file is here
    assert any("python -m explorer weights add resnet50-tv " in m for m in markdown(at))


def test_several_photos_give_one_prediction_each(classify_page):
    at = classify_page
    at.selectbox(key="cls_model").set_value("vgg-fmnist").run()
    at.file_uploader(key="cls_upload").set_value([
        ("sneaker.jpg", product_photo(9), "image/jpeg"),
        ("trouser.jpg", product_photo(2), "image/jpeg"),
    ]).run()
    assert_clean(at)
    expected = [inference.classify(images.load_image(product_photo(i), "x.jpg"), "vgg-fmnist").top[0][0]
                for i in (9, 2)]
    assert predictions(at) == expected == [data.CLASSES[data.sample(9)[1]], data.CLASSES[data.sample(2)[1]]]
    assert len(at.success) + len(at.warning) == 2  # one familiarity verdict per photo
    timings = [c.value for c in at.caption if c.value.startswith("On **cpu**")]
    assert len(timings) == 2 and all(re.search(r"preprocess [\d.]+ ms · forward pass [\d.]+ ms", t) for t in timings)
    assert len(at.get("plotly_chart")) >= 2  # the top-5 bars of each photo, then the walkthrough's figures

    # a damaged file among good ones: its own error, the others stay classified, the choices stay
    at.file_uploader(key="cls_upload").set_value([
        ("shirt.png", b"\x89PNG\r\n\x1a\n truncated", "image/png"),
        ("sneaker.jpg", product_photo(9), "image/jpeg"),
    ]).run()
    assert_no_exception(at)
    [message] = errors(at)
    assert message.startswith("shirt.png is ") and "\n" not in message
    assert predictions(at) == expected[:1]
    assert at.selectbox(key="cls_model").value == "vgg-fmnist"


def test_a_test_image_goes_in_as_in_the_accuracy_measurement(classify_page):
    at = try_test_image(classify_page, 0)
    assert_clean(at)
    raw, label = data.sample(0)
    expected = inference.classify_array(raw, inference.best_model(), top_k=5)
    [metric] = [m for m in at.metric if m.label == "Prediction"]
    assert metric.value == expected.top[0][0] == data.CLASSES[label] == "Ankle boot"
    assert metric.delta == f"{expected.top[0][1]:.1%} confidence"
    assert at.success and f"{expected.ood_score:.2f}" in at.success[0].value
    assert any("measured test accuracy" in m for m in markdown(at))
    table = at.table[0].value
    assert len(table.index) >= len(inference.fashion_models())
    at.button(key="cls_untry").click().run()
    assert predictions(at) == []
    at.file_uploader(key="cls_upload").set_value([("sneaker.jpg", product_photo(9), "image/jpeg")]).run()
    assert predictions(at) == ["Sneaker"]  # photos dropped: no sample of its own beside them
    try_test_image(at, 0)
    assert predictions(at) == ["Sneaker", "Ankle boot"]  # unless one is asked for


def test_noise_is_flagged_as_unfamiliar(classify_page):
    at = classify_page
    model = inference.best_model()
    at.file_uploader(key="cls_upload").set_value([("noise.png", noise_png(), "image/png")]).run()
    assert_no_exception(at)
    expected = inference.classify(images.load_image(noise_png(), "noise.png"), model)
    assert expected.familiar is False
    [warning] = [w.value for w in at.warning]
    assert warning.startswith("Not like the training data (Fashion-MNIST)")
    assert f"score {expected.ood_score:.2f} > threshold {ood.threshold(model):.2f}" in warning


def test_failed_download_says_why_and_the_page_stays(open_page, monkeypatch):
    monkeypatch.setenv("EXPLORER_WEIGHTS_MIRROR", "http://127.0.0.1:9/")  # nothing listens on port 9
    at = open_page("classify")
    checkpoint = "resnet18-tv"
    at.selectbox(key="cls_model").set_value(checkpoint).run()
    fetch = at.button(key="cls_fetch")
    assert fetch.label == "Download (size unknown)"
    fetch.click().run()
    assert_no_exception(at)
    [message] = errors(at)
    assert message.startswith(f"cannot fetch {checkpoint}'s weights from http://127.0.0.1:9/")
    assert "\n" not in message
    assert at.selectbox(key="cls_model").value == checkpoint  # the page stays, the way to try again with it
    assert any(f"python -m explorer weights add {checkpoint} " in m for m in markdown(at))
    at.selectbox(key="cls_model").set_value(inference.best_model()).run()
    assert predictions(at) == ["Ankle boot"]  # and the rest of the page is back with a model that has weights


@pytest.mark.slow
def test_walkthrough_numbers_are_the_forward_pass(classify_page):
    at = classify_page
    at.selectbox(key="cls_model").set_value("lenet").run()
    try_test_image(at, 0)
    at.selectbox(key="cls_conv_lenet").set_value("3").run()  # conv2: 6 → 16 channels, 5×5, output 16×10×10
    at.number_input(key="cls_ch_lenet_3").set_value(5).run()
    at.slider(key="cls_row_lenet_3").set_value(2).run()
    at.slider(key="cls_col_lenet_3").set_value(7).run()
    at.select_slider(key="cls_step_lenet_3").set_value("pooling").run()
    assert_clean(at)
    raw, _ = data.sample(0)
    x = inference.classify_array(raw, "lenet").input
    forward = inference.feature_maps("lenet", x, "cpu")  # the shared model's own pass, not the walkthrough's
    value = float(forward["3"][5, 2, 7])
    pooled = float(forward["5"][5, 1, 3])
    shown = "\n".join(markdown(at))
    walk = conv.walkthrough(conv.trace_convolutions("lenet", x), "conv2", 5, 2, 7)
    assert f"+ bias {walk.bias:+.4f} = {value:.4f} (the forward pass computed {value:.4f})" in shown
    assert f"pooled unit (1, 3) reads rows 2 … 3, columns 6 … 7; sum {walk.pooling.values.sum():.4f} / 4 = " \
           f"{pooled:.4f} (the forward pass: {pooled:.4f})" in shown
    assert "reads input rows 2 … 6 and columns 7 … 11 of all 6 input channels" in shown
    assert metrics(at)["Prediction"] == "Ankle boot"


@pytest.fixture
def loopback_checkpoint(tmp_path, monkeypatch, hub_cache):
    """``resnet18-tv``'s official file name pointed at a loopback HTTP server that serves a real resnet18 state dict
    (random values) whose SHA-256 prefix that name carries; torch.hub's cache is an empty folder under tmp_path."""
    import functools
    import http.server
    import threading

    from explorer.runtime import imagenet

    name, payload = random_resnet18_checkpoint()
    served = tmp_path / "served" / "models"
    served.mkdir(parents=True)
    (served / name).write_bytes(payload)

    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path / "served"))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"

    monkeypatch.setitem(imagenet.CHECKPOINTS, "resnet18-tv", published_at("resnet18-tv", f"{base}/models/{name}"))
    yield name, len(payload)
    server.shutdown()
    forget_loaded_resnet18()


@pytest.mark.slow
def test_download_button_fetches_a_checkpoint_and_the_model_classifies(open_page, loopback_checkpoint):
    from explorer.runtime import hub, imagenet

    name, size = loopback_checkpoint
    at = open_page("classify")
    at.file_uploader(key="cls_upload").set_value([("sneaker.jpg", product_photo(9), "image/jpeg")]).run()
    at.selectbox(key="cls_model").set_value("resnet18-tv").run()  # listed, "download first"
    fetch = at.button(key="cls_fetch")
    assert fetch.label == f"Download ({size / 1e6:,.0f} MB)"  # the size, before starting
    fetch.click().run()
    assert_no_exception(at)
    assert errors(at) == []
    assert imagenet.available("resnet18-tv") and imagenet.checkpoint_path("resnet18-tv").name == name
    assert hub.entry("resnet18-tv")["present"] is True

    # Once present it is a model choice, and it classifies the upload into ImageNet's classes.
    assert any(o.startswith("resnet18-tv") for o in at.selectbox(key="cls_model").options)
    at.selectbox(key="cls_model").set_value("resnet18-tv").run()
    assert_no_exception(at)
    expected = inference.classify(images.load_image(product_photo(9), "x.jpg"), "resnet18-tv").top[0][0]
    assert predictions(at) == [expected] and expected in imagenet.CLASSES
    assert any("resnet18-tv" in str(t.value) for t in at.table)  # "every model on the same image" includes it
