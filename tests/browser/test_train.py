"""Train in a real browser: a tiny run (a few hundred images, one epoch) started with the Train button, its curve
and progress drawn live, the run ending done and listed in the runs table with a link to use it on Classify.

The app server (with its own tmp run store, $EXPLORER_HOME), the browser and the waiting helpers are shared with the
other browser tests (tests/browser/conftest.py).
"""

from __future__ import annotations

from tests.browser.conftest import RUN_MS, SHOW_MS, assert_no_exception, by_testid, expect, open_url, rerun_after


def _set_number(page, label: str, value: int) -> None:
    box = page.get_by_label(label, exact=True)
    rerun_after(page, lambda: (box.fill(str(value)), box.press("Enter")))


def test_train_a_tiny_run_watch_it_and_find_it_listed(page, app_url):
    open_url(page, f"{app_url}/train?model=lenet")
    assert_no_exception(page)
    expect(page.get_by_text("No run in progress. Pick a preset and press Train.")).to_be_visible(timeout=SHOW_MS)
    _set_number(page, "Training images (0 = all 60,000)", 300)
    _set_number(page, "Epochs", 1)
    expect(page.get_by_text("for 1 epochs", exact=False)).to_be_visible(timeout=SHOW_MS)

    page.get_by_role("button", name="Train", exact=True).click()
    heading = page.locator("h3").filter(has_text="Run ")
    expect(heading).to_contain_text(": lenet", timeout=SHOW_MS)
    live = by_testid(page, "stPlotlyChart").first
    expect(live).to_be_visible(timeout=RUN_MS)  # drawn from the run's first progress
    expect(live).to_contain_text("lenet on Fashion-MNIST", timeout=SHOW_MS)
    expect(by_testid(page, "stProgress").first).to_be_visible(timeout=SHOW_MS)  # a fragment redraw may show two

    status = by_testid(page, "stMetric").filter(has_text="Status")
    expect(status).to_contain_text("done", timeout=RUN_MS)
    expect(page.get_by_text("of 1 epochs")).to_be_visible()
    accuracy = by_testid(page, "stMetric").filter(has_text="Test accuracy")
    expect(accuracy).to_be_visible()
    expect(accuracy).not_to_contain_text("d2l")  # 300 images for 1 epoch is not d2l's recipe: not set beside it
    expect(page.get_by_text("d2l's 0.78–0.79 is for its full recipe (10 epochs, learning rate 0.9, batch 256")
           ).to_be_visible()
    run = heading.first.inner_text().split()[1].rstrip(":")
    link = page.get_by_role("link", name=f"Use it on Classify — run {run}")
    expect(link).to_be_visible()
    assert link.get_attribute("href") == f"classify?run={run}"

    table = by_testid(page, "stDataFrame").first
    expect(table).to_contain_text(run, timeout=SHOW_MS)
    expect(table).to_contain_text("done")
    assert_no_exception(page)
