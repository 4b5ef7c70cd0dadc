"""The Practice page in AppTest: a question about a real layer, answered right and wrong, explained, counted per
kind in the learner's boxes; both languages; deep links pick the networks and kinds."""

from __future__ import annotations

import random

import pytest

from explorer.i18n import render, use_language
from explorer.lessons import exercises, quiz
from tests.pages.conftest import assert_clean, markdown
from tests.pages.test_i18n import english_runs


@pytest.fixture(autouse=True)
def practice_home(tmp_path, monkeypatch):
    """Each test's learners in a store of their own."""
    monkeypatch.setenv("EXPLORER_HOME", str(tmp_path))


def expected(seed: int, kinds: list[str], models: list[str], drawn: int = 0) -> quiz.Item:
    """The item the page draws for ``?seed=`` (its n-th new item is drawn from ``seed + n``)."""
    return exercises.pick(random.Random(seed + drawn), kinds, models)


def answer(at, text: str):
    at.text_input(key="practice_answer").input(text)
    [check] = [b for b in at.button if b.label in ("Check", "核对")]
    check.click()
    return at.run()


def question(at) -> str:
    return next(m for m in markdown(at) if m.startswith("**") and m.endswith(("?**", "？**")))


def test_practice_right_then_wrong_then_progress(open_page):
    at = open_page("practice", seed="5", models="alexnet", kinds="shape")
    assert_clean(at)
    assert [t.value for t in at.title] == ["Practice: predict, then check"]
    first = expected(5, ["shape"], ["alexnet"])
    assert question(at) == f"**{first.question}**"
    assert at.session_state["practice_item"]["answer"] == first.answer
    at = answer(at, "1," + ",".join(map(str, first.answer)))  # with the batch dimension
    assert [s.value for s in at.success] == [f"Right: {quiz.answer_text(first)}."]
    why = "\n".join(markdown(at))
    assert "Per side: ⌊(n + 2p − d·(k − 1) − 1)/s⌋ + 1" in why
    [next_button] = [b for b in at.button if b.label == "Next question"]
    at = next_button.click().run()
    second = expected(5, ["shape"], ["alexnet"], drawn=1)
    assert question(at) == f"**{second.question}**"
    wrong = [second.answer[0] + 1, *second.answer[1:]]
    at = answer(at, "×".join(map(str, wrong)))
    assert at.error[0].value.startswith("Not quite")
    assert quiz.answer_text(second) in at.error[0].value
    assert "It comes back in 3 questions." in [c.value for c in at.caption]
    [progress] = [d for d in at.dataframe]
    rows = progress.value.to_dict("records")
    assert rows == [{"Kind": "output shape", "Answered": 2, "Right": 1, "Right (%)": 50, "Missed, coming back": 1}]


def test_a_slip_is_named_and_an_unreadable_answer_explained(open_page):
    at = open_page("practice", seed="1", models="generated", kinds="params")
    item = quiz.Item.from_record(at.session_state["practice_item"])
    assert item.kind == "params"
    at = answer(at, "about a hundred")
    assert at.warning[0].value.startswith("That answer cannot be read: give a count such as 614656")
    assert not at.success and not at.error
    slip = item.slips[0]
    at = answer(at, str(slip.answer))
    assert at.warning[0].value == f"Most likely slip: {slip.name}"


def test_a_missed_item_comes_back(open_page):
    at = open_page("practice", seed="9", models="generated", kinds="macs")
    missed = at.session_state["practice_item"]
    at = answer(at, "1")
    seen = []
    for _ in range(5):
        [next_button] = [b for b in at.button if b.label == "Next question"]
        at = next_button.click().run()
        seen.append(at.session_state["practice_item"])
        if seen[-1] == missed:
            break
        item = quiz.Item.from_record(seen[-1])
        at = answer(at, str(item.answer))
    assert seen[-1] == missed and len(seen) == 4  # after three other questions (box 1: 3 answers)
    assert "back again: missed last time" in " ".join(c.value for c in at.caption)


def test_practice_in_chinese(open_page):
    at = open_page("practice", seed="5", models="alexnet", kinds="shape", lang="zh")
    assert_clean(at)
    assert [t.value for t in at.title] == ["练习：先预测，再核对"]
    first = expected(5, ["shape"], ["alexnet"])
    with use_language("zh"):
        assert question(at) == f"**{render(first.question)}**"
    at = answer(at, "（" + "，".join(map(str, first.answer)) + "）")
    assert at.success[0].value.startswith("正确")
    shown = "\n".join([*markdown(at), *(c.value for c in at.caption), at.success[0].value])
    assert not [run for run in english_runs(shown, ()) if run not in ("alexnet", "conv")], english_runs(shown, ())


def test_which_layer_fails_is_picked_from_the_layers(open_page):
    at = open_page("practice", seed="2", models="lenet", kinds="fails")
    assert_clean(at)
    item = quiz.Item.from_record(at.session_state["practice_item"])
    assert item.kind == "fails" and item.answer in item.choices
    at.selectbox(key="practice_answer_pick").select(item.answer)
    [check] = [b for b in at.button if b.label == "Check"]
    at = check.click().run()
    assert [s.value for s in at.success] == [f"Right: {quiz.answer_text(item)}."]


def test_d2l_exercises_on_the_page(open_page):
    at = open_page("practice", seed="4", models="d2l")
    assert_clean(at)
    item = quiz.Item.from_record(at.session_state["practice_item"])
    assert item.exercise in exercises.EXERCISES
    assert f"**{item.question}**" in markdown(at)
    assert str(item.question).startswith("d2l 8.4 — What is the minimum image size for GoogLeNet")
