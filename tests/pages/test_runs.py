"""The Runs page in AppTest: an empty store explains itself; the table (numbers that sort, accuracies written one
way), its filters, the overlay preselecting runs that have curves, the parallel coordinates; a run's page with its
recipe, curves and confusion matrix on a tiny stored run; an unknown run is one sentence."""

from __future__ import annotations

import numpy as np
import pytest

import explorer
from explorer.runtime import confusion, history, runs
from explorer.runtime import train as engine
from pages.learner import learner_of
from tests.pages.conftest import assert_clean, figures, metrics, title, values

TOKEN = "a-learner-token-for-the-runs-page"
ME = learner_of(TOKEN)


@pytest.fixture(autouse=True)
def store(tmp_path, monkeypatch) -> runs.Store:
    """Never the user's ~/.cache: the store of these tests is a tmp dir."""
    monkeypatch.setenv("EXPLORER_HOME", str(tmp_path / "home"))
    return runs.Store()


@pytest.fixture
def open_runs(repo_root):
    """The Runs page (``?run=…`` etc. from ``query``) in a fresh session of the learner ``ME``."""
    from streamlit.testing.v1 import AppTest

    def _open(**query: str) -> AppTest:
        at = AppTest.from_file(repo_root / "app.py", default_timeout=180)
        at.switch_page("pages/runs.py")
        at.session_state["_learner_token"] = TOKEN
        for key, value in query.items():
            at.query_params[key] = value
        return at.run()

    return _open


def _epoch(store: runs.Store, run: str, epoch: int, test_acc: float, matrix: np.ndarray | None = None) -> None:
    entry = engine.Epoch(epoch, loss=2.0 / epoch, train_acc=0.4 * epoch, test_acc=test_acc, samples_per_s=50.0,
                         seconds=4.0)
    if matrix is not None:  # as a run measures it in the epoch's test pass
        confusion.save_confusion(store, run, epoch, matrix)
    store.add_epoch(run, entry, engine.Checkpoint(epoch, explorer.build("lenet").state_dict(), {}, {}, {}, [entry]))


def _matrix(correct_per_class: list[int]) -> np.ndarray:
    """1,000 test images per class: ``correct`` on the diagonal, the rest taken for the next class."""
    m = np.zeros((10, 10), dtype=np.int64)
    for i, right in enumerate(correct_per_class):
        m[i, i], m[i, (i + 1) % 10] = right, 1000 - right
    return m


def _stored(store: runs.Store) -> dict[str, str]:
    """A done LeNet run of this learner with curves, a queued ResNet of the shell, another learner's stopped run."""
    done = store.create("lenet", engine.Recipe(epochs=2, lr=0.9, batch_size=100), "cpu", limit=200, owner=ME)
    log = history.StepLog(history.step_log(store, done), 100, 200)
    for epoch in (1, 2):
        log.write(engine.StepEvent(epoch, 2, 1, 2, 2.5 / epoch, 0.3 * epoch, 50.0, 0.0, 0.0))
        _epoch(store, done, epoch, (0.625, 0.8735)[epoch - 1],
               _matrix([900, 950, 800, 850, 700, 950, 500, 950, 950, 985]) if epoch == 2 else None)
    store.finish(done, "done")
    queued = store.create("resnet18", engine.Recipe(epochs=1, lr=0.05, batch_size=128, resize=96))
    theirs = store.create("lenet", engine.Recipe(epochs=3), owner="learner:0123456789ab")
    store.finish(theirs, "stopped")
    return {"done": done, "queued": queued, "theirs": theirs}


def test_an_empty_store_explains_itself(open_runs):
    at = open_runs()
    assert_clean(at)
    assert [t.value for t in at.title] == ["Runs"]
    assert at.info[0].value.startswith("No runs yet. Train a network on the Train page")
    assert [(link.proto.page, link.proto.label) for link in at.get("page_link")] == [("train", "Go to the Train page")]
    assert not at.dataframe and not figures(at)


def test_the_table_its_filters_the_overlay_and_the_parallel_coordinates(open_runs, store):
    made = _stored(store)
    at = open_runs()
    assert_clean(at)
    table = at.dataframe[0].value
    assert list(table["model"]) == ["resnet18", "lenet"]  # newest first; another learner's stopped run is not shown
    row = table.iloc[1]
    assert (row["run"], row["status"], row["best"], row["last"], row["lr"], row["batch"], row["epochs"],
            row["resize"], row["world"], row["seconds"], row["owner"]) == (
        f"runs?run={made['done']}", "done", 87.35, 87.35, 0.9, 100, "2 / 2", 28, 1, 8.0, "you")
    assert np.isnan(table.iloc[0]["best"]) and table.iloc[0]["resize"] == 96 and table.iloc[0]["owner"] == \
        "shell user " + runs.shell_owner().removeprefix("user:")
    # the overlay opens on the run that has curves, never on the queued one
    assert at.multiselect(key="runs_overlay").value == [made["done"]]
    curves = next(f for f in figures(at) if f["layout"]["xaxis3"]["title"]["text"] == "epoch")
    loss = [t for t in curves["data"] if t["xaxis"] == "x"][0]
    assert loss["name"] == made["done"] and list(loss["x"]) == [0.5, 1.5]  # the report points (per step)
    at.segmented_control(key="runs_x").set_value("step").run()
    at.segmented_control(key="runs_per").set_value("epoch").run()
    curves = next(f for f in figures(at) if f["layout"]["xaxis3"]["title"]["text"] == "step")
    assert [list(t["x"]) for t in curves["data"]] == [[2, 4], [2, 4], [2, 4]]  # 2 steps per epoch, epoch ends
    parallel = next(f for f in figures(at) if f["data"][0]["type"] == "parcoords")
    assert [d["label"] for d in parallel["data"][0]["dimensions"]][-1] == "best test accuracy (%)"
    # filters: status, then whose
    at.multiselect(key="runs_status").set_value(["queued"]).run()
    assert list(at.dataframe[0].value["model"]) == ["resnet18"]
    assert at.info[0].value.startswith("None of these runs has curves yet")
    at.multiselect(key="runs_status").set_value([])
    at.segmented_control(key="runs_whose").set_value("mine").run()
    assert_clean(at)
    assert list(at.dataframe[0].value["model"]) == ["lenet"]
    assert at.get("download_button")[0].proto.label == "Download the table (CSV)"


def test_a_runs_page_has_its_recipe_curves_and_confusion_matrix(open_runs, store):
    made = _stored(store)
    at = open_runs(run=made["done"])
    assert_clean(at)
    assert [t.value for t in at.title] == [f"Run {made['done']}"]
    assert metrics(at) == {"Status": "done", "Best test accuracy": "87.35 %", "Last test accuracy": "87.35 %",
                           "Epochs": "2 / 2", "Training time": "8 s"}
    shown = {f["layout"].get("title", {}).get("text", ""): f for f in figures(at)}
    heatmap = shown["Confusion matrix"]["data"][0]
    expected = _matrix([900, 950, 800, 850, 700, 950, 500, 950, 950, 985])
    assert values(heatmap["text"]).astype(int).tolist() == expected.tolist()
    per_class = shown["Accuracy per class"]["data"][0]
    assert per_class["y"][-1] == "Shirt" and per_class["text"][-1] == "50.00 %"  # the worst class on top
    assert any("8,535 of 10,000" in c.value for c in at.caption)
    assert any(m.value.startswith("Most often confused: Shirt taken for Sneaker (500)") for m in at.markdown)
    assert at.select_slider(key=f"run_epoch_{made['done']}").value == 2
    links = {link.proto.label: (link.proto.page, link.proto.query_string) for link in at.get("page_link")}
    assert links["Use it on Classify"] == ("classify", f"run={made['done']}")
    assert links["Its network, layer by layer: lenet"] == ("architecture", "model=lenet")
    assert at.get("download_button")[0].proto.label == "Download its history (CSV)"
    assert not [b for b in at.button if b.key == "runs_resume"]  # a finished run is not resumed


def test_resume_is_the_owners_and_an_unknown_run_is_one_sentence(open_runs, store):
    made = _stored(store)
    mine = store.create("lenet", engine.Recipe(epochs=3), owner=ME)
    store.finish(mine, "stopped")
    at = open_runs(run=mine)
    assert_clean(at)
    assert not at.button(key="runs_resume").disabled
    assert [i.value for i in at.info] == ["No curves yet: this run has not reached its first report point.",
                                          "The confusion matrix comes after the run's first completed epoch."]
    at = open_runs(run=made["theirs"])
    assert at.info[0].value == "This run belongs to another learner: only they and the teacher see it."
    at = open_runs(run="20990101-000000-lenet-ffff")
    assert [e.value for e in at.error] == ["unknown run '20990101-000000-lenet-ffff'; see `python -m explorer runs "
                                           "list`"]


@pytest.mark.slow  # LeNet on the 10,000 test images
@pytest.mark.usefixtures("fashion_mnist")
def test_a_run_recorded_without_its_matrix_computes_it_on_request(open_runs, store):
    run = store.create("lenet", engine.Recipe(epochs=1), owner=ME)
    _epoch(store, run, 1, 0.1)
    store.finish(run, "done")
    at = open_runs(run=run)
    assert not [f for f in figures(at) if title(f) == "Confusion matrix"]
    at.button(key="run_compute_confusion").click().run()
    assert_clean(at)
    assert not at.info, [i.value for i in at.info]
    [heatmap] = [f for f in figures(at) if title(f) == "Confusion matrix"]
    assert values(heatmap["data"][0]["text"]).sum() == 10_000 and confusion.measured(store, run, 1)


def test_a_playground_networks_run_shows_its_code_and_opens_back_in_the_playground(open_runs, store):
    from explorer.playground import encode_code

    code = "net = nn.Sequential(nn.Flatten(), nn.Linear(784, 10))\n"
    run = store.create("code:1a2b3c4d", engine.Recipe(epochs=1, lr=0.1, batch_size=64, resize=28), owner=ME,
                       code=code)
    _epoch(store, run, 1, 0.75, _matrix([750] * 10))  # measured in its own process while it trained
    store.finish(run, "done")
    at = open_runs()
    assert_clean(at)
    assert list(at.dataframe[0].value["model"]) == ["code:1a2b3c4d"]
    at = open_runs(run=run)
    assert_clean(at)
    assert [c.value for c in at.code] == [code.strip()]
    links = {link.proto.label: (link.proto.page, link.proto.query_string) for link in at.get("page_link")}
    assert links["Open it in the playground"] == ("playground", f"code={encode_code(code)}&input=1%2C28%2C28")
    assert any("7,500 of 10,000" in c.value for c in at.caption)
