"""Train what you built, in a real browser: a network typed in the playground, "Train this", the Train page drawing
its curve live until it is done, its code shown there with a link back to the playground.

The app server (its own tmp run store), the browser and the waiting helpers are the other browser tests'
(tests/browser/conftest.py).
"""

from __future__ import annotations

import re

from explorer.playground import encode_code
from explorer.runtime import coderun
from tests.browser.conftest import (
    RUN_MS,
    SHOW_MS,
    assert_no_exception,
    by_testid,
    expect,
    open_url,
    rerun_after,
    settle,
)

TINY = """\
net = nn.Sequential(nn.Conv2d(1, 4, 5, padding=2), nn.ReLU(), nn.AvgPool2d(4), nn.Flatten(),
                    nn.Linear(4 * 7 * 7, 10))
"""


def _set_number(page, label: str, value: int) -> None:
    box = page.get_by_label(label, exact=True)
    rerun_after(page, lambda: (box.fill(str(value)), box.press("Enter")))


def test_build_in_the_playground_train_this_and_watch_it_train(page, app_url):
    open_url(page, f"{app_url}/playground?code={encode_code(TINY)}&input=1,28,28")
    assert_no_exception(page)
    expect(page.get_by_text("This network needs 14 MB for batch 256; the limit is 1 GB.")).to_be_visible(
        timeout=SHOW_MS)
    _set_number(page, "Epochs", 1)
    _set_number(page, "Training images (0 = all 60,000)", 300)
    page.get_by_role("button", name="Train this", exact=True).click()
    queued = page.get_by_text(re.compile(r"Run \S+-code-[0-9a-f]{8}-\S+ is queued"))
    expect(queued).to_be_visible(timeout=RUN_MS)  # after a few training steps are timed, in a child process
    settle(page)
    run = queued.inner_text().split()[1]
    expect(page.get_by_text(TINY.splitlines()[0], exact=False).first).to_be_visible()  # the code is still there

    page.get_by_role("link", name="Watch it train on the Train page").click()
    settle(page)
    heading = page.locator("h3").filter(has_text=f"Run {run}")
    expect(heading).to_contain_text(coderun.code_id(TINY), timeout=SHOW_MS)
    live = by_testid(page, "stPlotlyChart").first
    expect(live).to_contain_text(f"{coderun.code_id(TINY)} on Fashion-MNIST", timeout=RUN_MS)
    status = by_testid(page, "stMetric").filter(has_text="Status")
    expect(status).to_contain_text("done", timeout=RUN_MS)  # a process of its own starts, trains, tests
    expect(by_testid(page, "stMetric").filter(has_text="Test accuracy")).to_be_visible()
    back = page.get_by_role("link", name="Open it in the playground")
    expect(back).to_be_visible()
    assert back.get_attribute("href") == f"playground?code={encode_code(TINY)}&input=1%2C28%2C28"
    assert_no_exception(page)
