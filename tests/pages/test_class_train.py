"""The Train page for a class on one server (AppTest): another learner's run watched read-only with the reason and no
enabled Stop; the teacher's token (typed, or in the URL and taken out of it) stops it; each limit refuses the Train
button with its sentence. No training runs here: the live run is a job put in the manager as the worker would."""

from __future__ import annotations

import re

import pytest

from explorer.runtime import jobs, runs
from explorer.runtime.train import Recipe
from pages.learner import learner_of
from tests.pages.conftest import TIMEOUT, assert_no_exception

pytestmark = pytest.mark.usefixtures("fashion_mnist")
OTHERS = "This run belongs to another learner: you can watch it, but only they or the teacher can stop it."


@pytest.fixture(autouse=True)
def explorer_home(tmp_path, monkeypatch):
    monkeypatch.setenv("EXPLORER_HOME", str(tmp_path / "home"))
    for name in ("EXPLORER_ADMIN_TOKEN", "EXPLORER_MAX_RUNS_PER_LEARNER", "EXPLORER_MAX_QUEUE"):
        monkeypatch.delenv(name, raising=False)
    # LeNet's full recipe may take more than the default 30 min on a busy machine: only the test of that limit sets it
    monkeypatch.setenv("EXPLORER_MAX_RUN_MINUTES", "100000")


@pytest.fixture
def train_page(repo_root):
    """``train_page(token, **query)``: a session of /train?model=lenet whose browser's learner token is ``token``."""
    from streamlit.testing.v1 import AppTest

    def _open(token: str = "B" * 24, **query: str) -> AppTest:
        at = AppTest.from_file(repo_root / "app.py", default_timeout=TIMEOUT)
        at.switch_page("pages/train.py")
        at.session_state["_learner_token"] = token
        for key, value in {"model": "lenet", **query}.items():
            at.query_params[key] = value
        return at.run()

    return _open


@pytest.fixture
def others_run(monkeypatch):
    """A run of another learner, running in this process's job manager (as its worker thread shows it; the thread
    itself, started by an earlier test of this process, would say it has none within a second)."""
    store = runs.Store()
    owner = learner_of("A" * 24)
    run = store.create("lenet", Recipe(epochs=1), "cpu", owner=owner)
    job = jobs.Job(run, "lenet", Recipe(epochs=1), "cpu", None, owner=owner, status="running")
    manager = jobs.manager()
    manager._jobs[run] = job
    monkeypatch.setattr(manager, "current", lambda: job)
    yield job
    manager._jobs.pop(run, None)


@pytest.mark.slow  # the process's first Train page: the training-speed estimate
def test_another_learners_run_is_shown_read_only_with_the_reason(train_page, others_run):
    at = train_page()
    assert_no_exception(at)
    assert f"Run {others_run.run}: lenet" in [h.value for h in at.subheader]
    assert "Started by another learner." in [c.value for c in at.caption]
    stop = at.button(key="tr_stop")
    assert stop.label == "Stop" and stop.disabled and stop.help == OTHERS
    assert OTHERS in [i.value for i in at.info]
    table = at.dataframe[0].value
    assert list(table["started by"]) == ["another learner"]
    assert not at.expander  # no teacher on this server: no teacher box

    mine = train_page("A" * 24)  # the same learner in another tab: its own run, Stop enabled
    assert not mine.button(key="tr_stop").disabled
    assert "Started by you." in [c.value for c in mine.caption]
    assert OTHERS not in [i.value for i in mine.info]


@pytest.mark.slow  # five runs of the page
def test_the_teachers_token_unlocks_stop_and_never_stays_in_the_url(train_page, others_run, monkeypatch):
    monkeypatch.setenv("EXPLORER_ADMIN_TOKEN", "open-sesame")
    at = train_page()
    assert at.button(key="tr_stop").disabled
    at.text_input(key="teacher_token").input("wrong")
    at.button(key="FormSubmitter:teacher_form-Unlock").click().run()
    assert [e.value for e in at.error] == ["That is not the teacher's token."]
    assert at.button(key="tr_stop").disabled
    at.text_input(key="teacher_token").input("open-sesame")
    at.button(key="FormSubmitter:teacher_form-Unlock").click().run()
    assert_no_exception(at)
    assert not at.button(key="tr_stop").disabled
    assert f"Started by learner {others_run.owner.removeprefix('learner:')}." in [c.value for c in at.caption]
    at.button(key="tr_stop").click().run()
    assert others_run.stop.is_set()

    linked = train_page(teacher="open-sesame")
    assert "teacher" not in linked.query_params
    assert not linked.button(key="tr_stop").disabled
    assert any(s.value.startswith("Teacher mode: you can stop or resume any run") for s in linked.success)


def test_the_limit_on_runs_per_learner_refuses_a_second_run(train_page):
    runs.Store().create("lenet", Recipe(), owner=learner_of("B" * 24))  # this learner's run, queued
    at = train_page()
    assert_no_exception(at)
    assert [w.value for w in at.warning] == [
        "you already have as many runs queued or running as a learner may have on this server (1): stop one of "
        "yours or wait for it to end, then start this one"]
    assert at.button(key="tr_start").disabled
    other = train_page("C" * 24)  # another learner is not held back by it
    assert not [w.value for w in other.warning] and not other.button(key="tr_start").disabled


def test_the_queue_and_duration_limits_refuse_with_their_sentences(train_page, monkeypatch):
    monkeypatch.setenv("EXPLORER_MAX_QUEUE", "1")
    queued = runs.Store().create("lenet", Recipe())  # a CLI run, queued: the queue is full
    at = train_page(lang="zh")
    assert [w.value for w in at.warning] == [
        "本服务器的训练队列已满（1 个运行在排队或训练中，上限为 1）：请等其中一些结束后再试"]
    assert at.button(key="tr_start").disabled
    monkeypatch.setenv("EXPLORER_MAX_QUEUE", "20")
    monkeypatch.setenv("EXPLORER_MAX_RUN_MINUTES", "0.0001")
    at = train_page()
    [warning] = [w.value for w in at.warning]
    assert re.fullmatch(r"this run is estimated at \d+ min on this device, longer than the 0\.0001 min a learner "
                        r"may start here: choose fewer epochs or fewer training images", warning), warning
    assert not at.button(key="tr_start").disabled  # a recipe to change, not a queue to wait for: said again at a click
    at.button(key="tr_start").click().run()
    assert [e.value for e in at.error] == [warning]
    assert "tr_run" not in at.session_state and runs.Store().active() == [queued]
    monkeypatch.setenv("EXPLORER_ADMIN_TOKEN", "open-sesame")
    teacher = train_page(teacher="open-sesame")  # the limits do not bind the teacher
    assert not teacher.warning and not teacher.button(key="tr_start").disabled
