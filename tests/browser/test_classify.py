"""Classify in a real browser: two photos dropped at once give two predictions, both in the first screen."""

from __future__ import annotations

import re

import numpy as np
from PIL import Image

from explorer.runtime import data, images, inference
from tests.browser.conftest import (
    SHOW_MS,
    assert_no_exception,
    by_testid,
    expect,
    open_url,
    pick_option,
    rerun_after,
)


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


def test_download_button_against_a_mirror_refuses_a_wrong_file(page, app_url, weights_mirror, torch_home, tmp_path):
    """The ImageNet download flow end to end, against the loopback mirror: the size is shown before starting, the
    file is fetched with a progress bar, its SHA-256 is checked against the official name — this one is not the
    official file, so it is refused in one sentence and torch.hub's cache stays empty."""
    from explorer.runtime import imagenet

    model_id = "googlenet-tv"  # not the list's first: no earlier visit has asked for its size
    official = imagenet.CHECKPOINTS[model_id].file
    (weights_mirror / official).write_bytes(np.random.default_rng(0).bytes(3_000_000))
    open_url(page, f"{app_url}/classify")
    main = by_testid(page, "stMain")
    models = main.get_by_role("combobox", name="Model")  # the missing checkpoints are in the model list
    rerun_after(page, lambda: pick_option(page, models, re.compile(f"^{model_id} .*download first"), typed=model_id))
    button = main.get_by_role("button", name="Download (3 MB)")
    expect(button).to_be_visible(timeout=SHOW_MS)
    rerun_after(page, button.click)
    alert = by_testid(page, "stAlertContentError")
    expect(alert).to_have_count(1, timeout=SHOW_MS)
    expect(alert).to_contain_text("SHA-256 starts with")
    expect(alert).to_contain_text(f"the official file name says {official.rsplit('-', 1)[1].split('.')[0]}")
    assert_no_exception(page)
    cache = torch_home / "hub" / "checkpoints"
    assert not cache.exists() or [p.name for p in cache.iterdir() if not p.name.startswith(".")] == []


def test_noise_is_flagged_in_view_and_the_walkthrough_reaches_the_forward_passs_value(page, app_url, tmp_path):
    noise = tmp_path / "noise.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (96, 96, 3), dtype=np.uint8)).save(noise)
    open_url(page, f"{app_url}/classify")
    dropzone = by_testid(page, "stFileUploaderDropzoneInput")
    expect(dropzone).to_be_attached(timeout=SHOW_MS)
    rerun_after(page, lambda: dropzone.set_input_files([str(noise), str(shop_photo(9, tmp_path / "sneaker.jpg"))]))

    main = by_testid(page, "stMain")
    warning = main.locator('[data-testid="stAlertContentWarning"]').filter(has_text="Not like the training data")
    expect(warning).to_have_count(1, timeout=SHOW_MS)
    box = warning.bounding_box()
    assert box is not None and box["y"] + box["height"] <= 1000, box  # beside the first Prediction, no scrolling
    assert_no_exception(page)

    # The walkthrough, stepped to its end: the unit's value from window × kernel + bias is the forward pass's.
    step = main.locator('[data-testid="stSlider"]').filter(has_text="Step").get_by_role("slider")
    step.scroll_into_view_if_needed()
    rerun_after(page, lambda: (step.focus(), step.press("End")))
    sentence = main.get_by_text(re.compile(r"\(the forward pass computed -?\d"))
    expect(sentence).to_have_count(1, timeout=SHOW_MS)
    found = re.search(r"= (-?\d+\.\d+) \(the forward pass computed (-?\d+\.\d+)\)", sentence.inner_text())
    assert found is not None and found.group(1) == found.group(2), sentence.inner_text()
    assert_no_exception(page)
