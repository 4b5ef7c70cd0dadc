"""The Runs page in a real browser: compare two runs (filter, overlay), open one's page with its confusion matrix,
and classify an upload with its weights on the Classify page."""

from __future__ import annotations

import numpy as np
import torch

import explorer
from explorer.runtime import confusion, data, history, images, inference_runs, runs
from explorer.runtime import train as engine
from tests.browser.conftest import (
    SHOW_MS,
    assert_no_exception,
    by_testid,
    expect,
    open_url,
    pick_option,
    rerun_after,
    settle,
)
from tests.browser.test_classify import shop_photo

MODEL = "vgg-fmnist"  # a model no other browser test trains: the filter finds this test's runs only


def _run(store: runs.Store, lr: float, accuracies: list[float]) -> str:
    """A finished run recorded as the engine records one: report points, epochs, weights, measured matrices."""
    run = store.create(MODEL, engine.Recipe(epochs=len(accuracies), lr=lr, batch_size=128), "cpu", limit=1000)
    log = history.StepLog(history.step_log(store, run), 128, 1000)
    torch.manual_seed(len(accuracies))
    model = explorer.build(MODEL)
    for epoch, acc in enumerate(accuracies, start=1):
        for step in (4, 8):
            log.write(engine.StepEvent(epoch, len(accuracies), step, 8, 2.0 / epoch, acc - 0.05, 100.0, 0.0, 0.0))
        right = round(acc * 1000)
        matrix = np.full((10, 10), 0, dtype=np.int64)
        for i in range(10):
            matrix[i, i], matrix[i, (i + 3) % 10] = right, 1000 - right
        confusion.save_confusion(store, run, epoch, matrix)
        entry = engine.Epoch(epoch, 2.0 / epoch, acc - 0.05, acc, 100.0, 10.0)
        store.add_epoch(run, entry, engine.Checkpoint(epoch, model.state_dict(), {}, {}, {}, [entry]))
    store.finish(run, "done")
    return run


def test_compare_two_runs_open_one_and_classify_with_it(page, app_url, explorer_home, tmp_path, monkeypatch):
    store = runs.Store(explorer_home)
    first, second = _run(store, 0.05, [0.5, 0.75]), _run(store, 0.1, [0.625])
    open_url(page, f"{app_url}/runs")
    assert_no_exception(page)
    pick_option(page, page.get_by_role("combobox", name="Model"), MODEL, typed=MODEL)
    settle(page)
    # the overlay opens on the two runs (both have curves), one colour and one legend entry each
    chart = by_testid(page, "stPlotlyChart").first
    for run in (first, second):
        expect(chart.locator(".legendtext", has_text=run)).to_have_count(1, timeout=SHOW_MS)
    axis = by_testid(page, "stButtonGroup").filter(has_text="training time")  # the shared x-axis
    rerun_after(page, lambda: axis.get_by_text("step", exact=True).click())
    expect(chart.locator(".g-x3title", has_text="step")).to_have_count(1, timeout=SHOW_MS)
    # open the first run's page: its confusion matrix, then Classify with its weights
    rerun_after(page, lambda: page.get_by_role("link", name=f"Open {first}").click())
    expect(page.get_by_role("heading", name=f"Run {first}")).to_be_visible(timeout=SHOW_MS)
    expect(page.get_by_text("Most often confused: T-shirt/top taken for Dress (250)")).to_be_visible(timeout=SHOW_MS)
    best = by_testid(page, "stMetric").filter(has_text="Best test accuracy")
    expect(best.locator('[data-testid="stMetricValue"]')).to_have_text("75.00 %")
    rerun_after(page, lambda: page.get_by_role("link", name="Use it on Classify").click())
    assert f"/classify?run={first}" in page.url, page.url
    photo = shop_photo(0, tmp_path / "boot.jpg")
    dropzone = by_testid(page, "stFileUploaderDropzoneInput")
    expect(dropzone).to_be_attached(timeout=SHOW_MS)
    rerun_after(page, lambda: dropzone.set_input_files([str(photo)]))
    monkeypatch.setenv("EXPLORER_HOME", str(explorer_home))
    expected = inference_runs.classify_run(first, images.load_image(photo.read_bytes(), photo.name)).top[0][0]
    assert expected in data.CLASSES
    prediction = by_testid(page, "stMetric").filter(has_text="Prediction")
    expect(prediction.locator('[data-testid="stMetricValue"]')).to_have_text(expected, timeout=SHOW_MS)
    assert_no_exception(page)
