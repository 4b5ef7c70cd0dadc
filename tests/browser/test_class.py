"""Two learners on one server, in real browsers: one starts a run; the other sees it live, read-only, with the reason
and no enabled Stop; the first keeps it across a reload (the learner cookie); the teacher's token (arriving in the
URL and taken out of it) stops it, and its owner sees it stopped."""

from __future__ import annotations

import time

from explorer.runtime import runs
from tests.browser.conftest import (
    ADMIN_TOKEN,
    RUN_MS,
    SHOW_MS,
    assert_no_exception,
    by_testid,
    expect,
    open_url,
    rerun_after,
    settle,
)

OTHERS = "This run belongs to another learner: you can watch it, but only they or the teacher can stop it."


def _set_number(page, label: str, value: int) -> None:
    box = page.get_by_label(label, exact=True)
    rerun_after(page, lambda: (box.fill(str(value)), box.press("Enter")))


def _stop(page):
    """The Train page's Stop button (not the Stop of Streamlit's running-script widget in the header)."""
    return page.locator(".st-key-tr_stop button").first  # a fragment rerun may show the old one beside it a moment


def _status(page):
    return by_testid(page, "stMetric").filter(has_text="Status")


def test_another_learner_watches_a_run_but_cannot_stop_it_the_teacher_can(browser, app_url, explorer_home):
    contexts = [browser.new_context(viewport={"width": 1400, "height": 1000}, locale="en-US") for _ in range(2)]
    run = None
    try:
        owner, other = (c.new_page() for c in contexts)
        open_url(owner, f"{app_url}/train?model=lenet")
        # All 60,000 images for 20 epochs: minutes of training on any machine, so the run is still going whatever
        # the test's pace (the teacher stops it; the end of the test makes sure it is over).
        _set_number(owner, "Training images (0 = all 60,000)", 0)
        _set_number(owner, "Epochs", 20)
        owner.get_by_role("button", name="Train", exact=True).click()
        heading = owner.locator("h3").filter(has_text="Run ")
        expect(heading).to_contain_text(": lenet", timeout=SHOW_MS)
        run = heading.first.inner_text().split()[1].rstrip(":")
        expect(owner.get_by_text("Started by you.")).to_be_visible(timeout=SHOW_MS)
        expect(_stop(owner)).to_be_enabled(timeout=SHOW_MS)

        open_url(other, f"{app_url}/train?model=lenet")
        expect(other.locator("h3").filter(has_text=f"Run {run}: lenet")).to_be_visible(timeout=SHOW_MS)
        expect(other.get_by_text("Started by another learner.")).to_be_visible(timeout=SHOW_MS)
        expect(_stop(other)).to_be_disabled(timeout=SHOW_MS)
        expect(other.get_by_text(OTHERS)).to_be_visible(timeout=SHOW_MS)
        expect(_status(other)).to_contain_text("running", timeout=RUN_MS)  # live: the same run, as it trains
        assert_no_exception(other)

        owner.reload()  # a new session of the same browser: the cookie says whose run it is
        settle(owner)
        expect(owner.get_by_text("Started by you.")).to_be_visible(timeout=SHOW_MS)
        expect(_stop(owner)).to_be_enabled(timeout=SHOW_MS)

        open_url(other, f"{app_url}/train?model=lenet&teacher={ADMIN_TOKEN}")
        assert "teacher" not in other.url  # the secret is taken out of the address at once
        expect(other.get_by_text("Teacher mode: you can stop or resume any run")).to_be_visible(timeout=SHOW_MS)
        stop = _stop(other)
        expect(stop).to_have_text("Stop")
        expect(stop).to_be_enabled(timeout=SHOW_MS)
        store = runs.Store(explorer_home)
        for attempt in range(3):  # a click that lands while the live panel redraws itself can be lost: again
            if attempt and not stop.count():
                break  # the Stop took: the run left the live panels (neither page's session started it)
            stop.click()
            try:
                expect(stop).to_have_count(0, timeout=40_000)
                break
            except AssertionError:
                assert attempt < 2, "the teacher's Stop never took"
        deadline = time.monotonic() + 120  # the run stops at its next report point
        while run in store.active() and time.monotonic() < deadline:
            time.sleep(0.5)
        assert store.get(run)["status"] == "stopped"
        open_url(owner, f"{app_url}/train?model=lenet")  # its owner sees it stopped in the runs table
        table = by_testid(owner, "stDataFrame").first
        expect(table).to_contain_text(run, timeout=SHOW_MS)
        expect(table).to_contain_text("stopped")
        assert_no_exception(owner)
        assert_no_exception(other)
    finally:
        for context in contexts:
            context.close()
        if run is not None:  # never leave a run going for the tests after this one
            store = runs.Store(explorer_home)
            store.request_stop(run)
            deadline = time.monotonic() + 300
            while run in store.active() and time.monotonic() < deadline:
                time.sleep(0.5)
