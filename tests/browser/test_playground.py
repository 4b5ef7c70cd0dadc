"""The Playground in a real browser: type a network into the editor and see its layer table and totals.

The app server, the browser and the waiting helpers are shared with the other browser tests (tests/browser/conftest.py).
"""

from __future__ import annotations

import re

import pytest

from explorer import playground
from tests.browser.conftest import RUNNING, SHOW_MS, PlaywrightTimeout, expect, settle

CODE = """\
net = nn.Sequential(
    nn.Conv2d(1, 6, kernel_size=5, padding=2), nn.Sigmoid(),
    nn.AvgPool2d(kernel_size=2, stride=2),
    nn.Conv2d(6, 16, kernel_size=5), nn.Sigmoid(),
    nn.AvgPool2d(kernel_size=2, stride=2),
    nn.Flatten(),
    nn.Linear(16 * 5 * 5, 120), nn.Sigmoid(),
    nn.Linear(120, 84), nn.Sigmoid(),
    nn.Linear(84, 10))
"""


def test_type_a_network_and_see_its_layers(page, app_url):
    page.goto(f"{app_url}/playground")
    settle(page)
    editor = page.locator('[data-testid="stTextArea"] textarea')
    expect(editor).to_be_visible(timeout=SHOW_MS)
    input_box = page.get_by_label("Input size (C,H,W)", exact=True)
    input_box.fill("1,28,28")
    input_box.press("Enter")
    settle(page)
    editor.fill(CODE)
    editor.press("Control+Enter")  # a text area commits on Ctrl+Enter (or when it loses focus)
    try:
        page.wait_for_selector(RUNNING, timeout=3_000)
    except PlaywrightTimeout:
        pass
    settle(page)
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)
    expect(page.locator('[data-testid="stMetricValue"]').first).to_have_text("61,706", timeout=SHOW_MS)
    table = page.locator('[data-testid="stDataFrame"]').first
    expect(table).to_be_visible(timeout=SHOW_MS)
    expect(table).to_contain_text("Conv2d", timeout=SHOW_MS)
    assert "code=" in page.url, "the code lives in the URL"


@pytest.mark.parametrize(("lang", "refusal"), [
    ("en", "line 3: view(-1, 1, 28, 28) turns 1 image into 64: per-image numbers would be wrong"),
    ("zh", "第 3 行：view(-1, 1, 28, 28) 把 1 张图像变成了 64 张：按每张图像算的数字都会是错的"),
])
def test_a_layer_that_changes_the_batch_is_named_not_analysed(page, app_url, lang, refusal):
    """The notes' LeNet at 1×224×224 turns one image into 64: its line is named and marked, no 64× MACs are shown as
    per-image numbers; the last good result (the same code at 1×28×28) stays below, dimmed."""
    code = playground.LISTINGS["lenet"].code
    page.goto(f"{app_url}/playground?code={playground.encode_code(code)}&input=1,28,28&lang={lang}")
    settle(page)
    expect(page.locator('[data-testid="stMetric"]').first).to_be_visible(timeout=SHOW_MS)  # a good result first
    input_box = page.locator('[data-testid="stTextInput"] input').first
    input_box.fill("1,224,224")
    input_box.press("Enter")
    try:
        page.wait_for_selector(RUNNING, timeout=3_000)
    except PlaywrightTimeout:
        pass
    settle(page)
    error = page.locator('[data-testid="stAlertContentError"]')
    expect(error).to_have_count(1, timeout=SHOW_MS)
    expect(error).to_have_text(re.compile(r"^(⚠️)?\s*" + re.escape(refusal) + r"\s*$"))  # after the alert's icon
    marked = page.locator('[data-testid="pg-failing-line"] .bad')
    expect(marked).to_have_text(re.compile(r"^3\s+return x\.view\(-1, 1, 28, 28\)$"))
    expect(page.locator(".st-key-pg_stale")).to_be_visible()
    macs = page.locator('[data-testid="stMetric"]').filter(has_text="MACs" if lang == "en" else "乘加")
    expect(macs).not_to_contain_text("45,608,832")  # never the 64-image count as "per image"
    assert page.locator('[data-testid="stException"]').count() == 0
