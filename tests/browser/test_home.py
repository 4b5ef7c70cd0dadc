"""Home in a real Chromium: the gallery opens on LeNet, and no card's title is cut off."""

from __future__ import annotations

from tests.browser.conftest import assert_no_exception, open_url

CARDS = "[class*='st-key-card_']"


def test_home_first_card_is_lenet_and_no_title_is_clipped(page, app_url):
    open_url(page, app_url)
    assert_no_exception(page)
    keys = page.eval_on_selector_all(
        CARDS, "els => els.map(e => [...e.classList].find(c => c.startsWith('st-key-card_')))")
    assert keys[0] == "st-key-card_lenet"
    assert len(keys) >= 16
    visible_titles = page.eval_on_selector_all(
        f"{CARDS} h4",
        "els => els.filter(e => e.offsetParent !== null).map(e => ({text: e.innerText, "
        "clipped: e.scrollWidth > e.clientWidth + 1, width: e.clientWidth}))",
    )
    assert any(t["text"] == "AlexNet (2012 paper, the notes' table)" for t in visible_titles)
    assert len(visible_titles) >= 16
    assert [t["text"] for t in visible_titles if t["clipped"] or t["width"] == 0] == []
