"""Classify in a real browser: two photos dropped at once give two predictions, both in the first screen."""

from __future__ import annotations

import numpy as np
from PIL import Image

from explorer.runtime import data, images, inference
from tests.browser.conftest import SHOW_MS, assert_no_exception, by_testid, expect, open_url, rerun_after


def shop_photo(index: int, path):
    raw, _ = data.sample(index)
    Image.fromarray(255 - np.pad(raw, 16)).resize((320, 320)).convert("RGB").save(path, "JPEG")
    return path


def test_two_photos_two_predictions_in_the_first_screen(page, app_url, tmp_path):
    boot, sneaker = shop_photo(0, tmp_path / "boot.jpg"), shop_photo(9, tmp_path / "sneaker.jpg")
    open_url(page, f"{app_url}/classify")
    dropzone = by_testid(page, "stFileUploaderDropzoneInput")
    expect(dropzone).to_be_attached(timeout=SHOW_MS)
    rerun_after(page, lambda: dropzone.set_input_files([str(boot), str(sneaker)]))

    expected = [inference.classify(images.load_image(p.read_bytes(), p.name), inference.best_model()).top[0][0]
                for p in (boot, sneaker)]
    metrics = by_testid(page, "stMetric").filter(has_text="Prediction")
    expect(metrics).to_have_count(2, timeout=SHOW_MS)
    for k, name in enumerate(expected):
        expect(metrics.nth(k).locator('[data-testid="stMetricValue"]')).to_have_text(name)
        box = metrics.nth(k).bounding_box()
        assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= 1000, (k, box)  # no scrolling
    verdicts = by_testid(page, "stAlert")
    expect(verdicts).to_have_count(2, timeout=SHOW_MS)
    for k in range(2):
        box = verdicts.nth(k).bounding_box()
        assert box is not None and box["y"] + box["height"] <= 1000, (k, box)
    assert page.evaluate("window.scrollY") == 0
    assert_no_exception(page)
