"""The Practice page in a real browser: one item answered right, the next one wrong — the verdict, the slip, the
arithmetic and the lit layer in the diagram — and no text cut off in either language."""

from __future__ import annotations

import random

import pytest

from explorer.lessons import exercises, quiz
from tests.browser.conftest import SHOW_MS, assert_no_exception, by_testid, expect, open_url, rerun_after
from tests.browser.test_sweep import CUT_JS

VIEWPORT = '[data-testid="diagram-viewport"]'


def item_for(seed: int, drawn: int) -> quiz.Item:
    """The page's ``drawn``-th new item for ``?seed=`` (what it draws, computed here the same way)."""
    return exercises.pick(random.Random(seed + drawn), ["shape"], ["alexnet"])


def answer(page, text: str) -> None:
    box = page.get_by_label("Your answer")
    box.fill(text)
    rerun_after(page, lambda: box.press("Enter"))


def test_one_right_one_wrong(page, app_url):
    open_url(page, f"{app_url}/practice?seed=5&models=alexnet&kinds=shape")
    first = item_for(5, 0)
    expect(page.get_by_text(str(first.question))).to_be_visible(timeout=SHOW_MS)
    lit = page.locator(VIEWPORT).locator(f'g.node.selected[id="layer:{first.layer}"]')
    expect(lit).to_be_attached(timeout=SHOW_MS)  # the asked layer lit in the diagram
    answer(page, "(" + ", ".join(map(str, first.answer)) + ")")
    expect(by_testid(page, "stAlert").filter(has_text=f"Right: {quiz.answer_text(first)}.")).to_be_visible()
    expect(page.get_by_text("Per side: ⌊(n + 2p − d·(k − 1) − 1)/s⌋ + 1", exact=False)).to_be_visible()

    rerun_after(page, lambda: page.get_by_role("button", name="Next question").click())
    second = item_for(5, 1)
    expect(page.get_by_text(str(second.question))).to_be_visible(timeout=SHOW_MS)
    slip = second.slips[0]  # e.g. the padding forgotten
    answer(page, "×".join(map(str, slip.answer)))
    expect(by_testid(page, "stAlert").filter(has_text="Not quite")).to_contain_text(quiz.answer_text(second))
    expect(by_testid(page, "stAlert").filter(has_text="Most likely slip")).to_contain_text(str(slip.name))
    expect(page.get_by_text("It comes back in 3 questions.")).to_be_visible()
    assert_no_exception(page)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_practice_text_is_not_cut(page, app_url, lang):
    open_url(page, f"{app_url}/practice?seed=2&lang={lang}")
    page.evaluate("document.fonts.ready.then(() => true)")  # measured once the fonts are in (a state, not a time)
    assert page.evaluate(CUT_JS) == []
    assert_no_exception(page)
