"""The Playground in a real browser: type a network into the editor and see its layer table and totals.

The app server, the browser and the waiting helpers are shared with the other browser tests (tests/browser/conftest.py).
"""

from __future__ import annotations

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
