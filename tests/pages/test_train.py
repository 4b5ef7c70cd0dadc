"""The Train page in AppTest: a d2l preset from a deep link, bad input as one message, and a tiny run started,
watched while it updates, and stopped — the run lands in the store's table."""

from __future__ import annotations

import time

import pytest

from explorer.runtime import jobs, lease, runs
from tests.pages.conftest import assert_no_exception, errors, figures, metrics

pytestmark = pytest.mark.usefixtures("fashion_mnist")


@pytest.fixture(autouse=True)
def explorer_home(tmp_path, monkeypatch):
    """Never the user's ~/.cache: the store of these tests is a tmp dir."""
    monkeypatch.setenv("EXPLORER_HOME", str(tmp_path / "home"))


@pytest.mark.slow
def test_deep_link_picks_the_model_and_its_d2l_preset(open_page):
    at = open_page("train", model="resnet18")
    assert_no_exception(at)
    assert at.selectbox(key="tr_model").value == "resnet18"
    assert at.selectbox(key="tr_preset").value == "ResNet-18 (d2l)"
    assert (at.number_input(key="tr_lr").value, at.number_input(key="tr_resize").value) == (0.05, 96)
    at.selectbox(key="tr_preset").set_value("LeNet (d2l)").run()
    assert at.selectbox(key="tr_model").value == "lenet"
    assert (at.number_input(key="tr_lr").value, at.number_input(key="tr_batch").value) == (0.9, 256)
    assert any("per epoch" in c.value for c in at.caption)


def test_bad_input_is_one_clear_message(open_page):
    at = open_page("train", model="alexnet")
    assert_no_exception(at)
    assert any("cannot be trained on Fashion-MNIST" in e for e in errors(at))
    at = open_page("train", model="lenet")
    at.number_input(key="tr_lr").set_value(0.0).run()
    assert_no_exception(at)
    assert errors(at) == ["the learning rate must be a positive number, not 0.0"]
    assert at.button(key="tr_start").disabled
    at.number_input(key="tr_lr").set_value(0.9)
    at.number_input(key="tr_resize").set_value(96).run()
    assert_no_exception(at)
    assert any("cannot be trained on 96×96" in e for e in errors(at))


@pytest.mark.slow  # a real (tiny) training run in the job manager's thread
def test_train_watch_it_update_then_stop(open_page):
    at = open_page("train", model="lenet")
    at.number_input(key="tr_limit").set_value(2000)
    at.number_input(key="tr_epochs").set_value(50)
    at.number_input(key="tr_batch").set_value(100)
    at.button(key="tr_start").click().run()
    assert_no_exception(at)
    run = at.session_state["tr_run"]
    job = jobs.manager().get(run)
    assert job is not None
    deadline = time.monotonic() + 60
    while len(job.points) < 3 and time.monotonic() < deadline:
        time.sleep(0.2)
    at.run()
    assert_no_exception(at)
    shown = metrics(at)
    assert shown["Status"] == "running" and shown["Device"] == "cpu" and shown["Images/s"] != "—"
    [live] = [f for f in figures(at) if "on Fashion-MNIST" in f["layout"]["title"]["text"]]
    assert {t["name"] for t in live["data"]} >= {"train loss", "train acc"}
    first = len(job.points)
    deadline = time.monotonic() + 60  # the curves keep filling in between reruns (wait for it, not for a time)
    while len(job.points) <= first and time.monotonic() < deadline:
        time.sleep(0.1)
    at.run()
    assert_no_exception(at)
    assert len(job.points) > first

    at.button(key="tr_stop").click().run()
    assert jobs.manager().wait(run, timeout=60).status == "stopped"
    at.run()
    assert_no_exception(at)
    assert runs.Store().get(run)["status"] == "stopped"
    table = at.dataframe[0].value
    assert list(table["run"]) == [run] and list(table["status"]) == ["stopped"]


@pytest.mark.slow  # a real (tiny) training run in the job manager's thread
def test_a_run_waits_behind_another_processs_run_then_offers_its_weights_to_classify(open_page):
    from explorer.runtime.train import Recipe

    store = runs.Store()
    other = store.create("vgg-fmnist", Recipe())
    at = open_page("train", model="lenet")
    at.number_input(key="tr_limit").set_value(128)
    at.number_input(key="tr_epochs").set_value(1)
    with lease.turn(store, other):  # the machine is busy with a run another process started
        at.button(key="tr_start").click().run()
        assert_no_exception(at)
        run = at.session_state["tr_run"]
        time.sleep(1.0)
        at.run()
        assert metrics(at)["Status"] == "queued"
        assert [i.value for i in at.info] == [
            f"Queued, 1st in line — run {other} (vgg-fmnist) is training on this machine. One run trains at a time "
            "on this machine; this one starts when the runs before it end."]
        assert store.epochs(run) == []
    assert jobs.manager().wait(run, timeout=120).status == "done"
    at.run()
    assert_no_exception(at)
    links = at.get("page_link")
    assert [link.proto.label for link in links] == [f"Use it on Classify — run {run}", "Compare every run: sortable "
                                                    "table, curves, confusion matrices", "Use it on Classify"]
    assert [(link.proto.page, link.proto.query_string) for link in links] == [
        ("classify", f"run={run}"), ("runs", ""), ("classify", f"run={run}")]
    assert at.selectbox(key="tr_classify_pick").value == run
    accuracy = runs.Store().show(run)["test_accuracy"]
    assert metrics(at)["Test accuracy"] == f"{100 * accuracy:.2f} %"  # as every page writes an accuracy
    metric = next(m for m in at.metric if m.label == "Test accuracy")
    assert not metric.proto.delta  # 128 images, 1 epoch: d2l's 0.78–0.79 is not set beside it
    assert any(c.value.startswith("d2l's 0.78–0.79 is for its full recipe (10 epochs, learning rate 0.9, batch 256, "
                                  "all 60,000 images)") for c in at.caption)
    plateau = [i.value for i in at.info if "plateau" in i.value]
    assert plateau == ([f"{accuracy:.0%} is chance on ten classes: the network still guesses. Early in training a "
                        "network can sit on a **plateau** — the loss stays flat near ln 10 ≈ 2.30 because its "
                        "gradients are too small to move the weights (d2l's sigmoid LeNet does, for its first epochs)"
                        " — and then drop suddenly. Train for more epochs or on more images."]
                       if accuracy < 0.2 else [])
