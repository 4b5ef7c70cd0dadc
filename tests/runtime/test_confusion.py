"""A run's confusion matrix (hand-computed counts; measured in every epoch's test pass, else computed once from the
weights and kept) and its curves per report point and per epoch on the three x-axes."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

import explorer
from explorer.runtime import confusion, history, runner, runs
from explorer.runtime import train as engine
from explorer.runtime.train import Recipe

pytestmark = pytest.mark.usefixtures("fashion_mnist")


@pytest.fixture(autouse=True)
def explorer_home(tmp_path, monkeypatch):
    monkeypatch.setenv("EXPLORER_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def test_confusion_matrix_against_a_hand_computed_one():
    labels = [0, 0, 1, 1, 1, 2, 2, 2, 2]
    predicted = [0, 1, 1, 1, 2, 2, 0, 0, 2]
    # rows: true class; columns: predicted class
    assert confusion.confusion_matrix(labels, predicted, 3).tolist() == [[1, 1, 0], [0, 2, 1], [2, 0, 2]]
    matrix = confusion.Confusion("r", 1, confusion.confusion_matrix(labels, predicted, 3), 0.0, ("a", "b", "c"))
    assert (matrix.total, matrix.correct) == (9, 5) and matrix.accuracy == pytest.approx(5 / 9)
    assert matrix.per_class.tolist() == pytest.approx([1 / 2, 2 / 3, 2 / 4])
    assert matrix.confusions() == [("c", "a", 2), ("a", "b", 1), ("b", "c", 1)]  # most first, then in order
    assert matrix.confusions(top=1) == [("c", "a", 2)]
    with pytest.raises(ValueError, match="3 labels but 2 predictions"):
        confusion.confusion_matrix([0, 1, 2], [0, 1])


def test_the_engine_counts_the_matrix_in_its_test_pass():
    model = explorer.build("lenet")
    x, y = torch.rand(37, 1, 28, 28), torch.randint(0, 10, (37,))
    counts = torch.zeros(10, 10, dtype=torch.long)
    correct = engine.evaluate(model, x, y, torch.device("cpu"), batch=10, confusion=counts)
    with torch.inference_mode():
        predicted = model(x).argmax(1)
    assert counts.tolist() == confusion.confusion_matrix(y, predicted).tolist()
    assert int(counts.trace()) == correct


def _record(store: runs.Store, run: str, epoch: int, model: torch.nn.Module, test_acc: float,
            seconds: float = 2.0) -> None:
    entry = engine.Epoch(epoch, loss=1.0 / epoch, train_acc=0.5, test_acc=test_acc, samples_per_s=100.0,
                         seconds=seconds)
    store.add_epoch(run, entry, engine.Checkpoint(epoch, model.state_dict(), {}, {}, {}, [entry]))


@pytest.mark.slow  # LeNet on the 10,000 test images, twice
def test_a_run_recorded_without_its_matrix_is_computed_once_from_its_weights_then_read_back():
    store = runs.Store()
    run = store.create("lenet", Recipe())
    torch.manual_seed(0)
    model = explorer.build("lenet")
    model.apply(engine.xavier_init)
    x, y = engine.tensors("test")
    correct = engine.evaluate(model, x, y, torch.device("cpu"))
    _record(store, run, 1, model, correct / 10_000)
    assert not confusion.measured(store, run, 1)
    first = confusion.run_confusion(run, store=store)
    assert (first.epoch, first.total, first.correct) == (1, 10_000, correct)
    assert first.matrix.sum(axis=1).tolist() == [1000] * 10  # Fashion-MNIST's test set: 1,000 images per class
    assert confusion.measured(store, run, 1)
    again = confusion.run_confusion(run, 1, store)
    assert again.seconds == 0.0 and np.array_equal(again.matrix, first.matrix)
    kept = json.loads((store.folder(run) / "confusion-epoch-001.json").read_text())
    assert kept["matrix"] == first.matrix.tolist()


def test_no_matrix_before_the_first_epoch_nor_for_an_unknown_run_or_epoch():
    store = runs.Store()
    run = store.create("lenet", Recipe())
    with pytest.raises(confusion.NoConfusion, match="has no weights for that epoch yet"):
        confusion.run_confusion(run, store=store)
    _record(store, run, 1, explorer.build("lenet"), 0.1)
    with pytest.raises(confusion.NoConfusion):
        confusion.run_confusion(run, 5, store)
    with pytest.raises(KeyError, match="unknown run"):
        confusion.run_confusion("nope", store=store)


def test_a_playground_run_without_a_measured_matrix_says_why():
    store = runs.Store()
    run = store.create("code:1a2b3c4d", Recipe())
    _record(store, run, 1, explorer.build("lenet"), 0.1)
    with pytest.raises(confusion.NoConfusion, match="playground network"):
        confusion.run_confusion(run, store=store)
    confusion.save_confusion(store, run, 1, np.eye(10, dtype=np.int64) * 1000)  # measured while it trained
    assert confusion.run_confusion(run, store=store).accuracy == 1.0


def _step(epoch: int, step: int, steps: int = 4, loss: float = 2.0) -> engine.StepEvent:
    return engine.StepEvent(epoch, 2, step, steps, loss, 0.25, samples_per_s=50.0, elapsed=0.0, done=0.0)


def test_history_puts_report_points_and_epochs_on_three_axes_and_a_resumed_epoch_replaces_its_steps():
    store = runs.Store()
    run = store.create("lenet", Recipe(epochs=2, batch_size=100), limit=400)
    log = history.StepLog(history.step_log(store, run), batch_size=100, images=400)
    log.write(_step(1, 2))
    log.write(_step(1, 4))
    _record(store, run, 1, explorer.build("lenet"), 0.5, seconds=10.0)
    log.write(_step(2, 2, loss=9.0))  # stopped here, then resumed: epoch 2 again from its start
    log.write(_step(2, 2, loss=1.5))
    points = history.history(store, run)
    assert [(p.kind, p.epoch, p.step, p.seconds, p.loss) for p in points] == [
        ("step", 0.5, 2, 4.0, 2.0),  # 200 images at 50 images/s
        ("step", 1.0, 4, 8.0, 2.0),
        ("epoch", 1.0, 4, 10.0, 1.0),  # the epoch's own seconds (training and testing)
        ("step", 1.5, 6, 14.0, 1.5),  # after the 10 s of epoch 1; the resumed line wins
    ]
    assert points[2].test_acc == 0.5 and points[0].test_acc is None
    assert history.steps_per_epoch(60_000, 256) == 235 and history.steps_per_epoch(256, 64, 2) == 4


def test_the_runs_table_has_the_hyper_parameters_and_final_metrics():
    store = runs.Store()
    older = store.create("lenet", Recipe(epochs=3, lr=0.9, batch_size=256), limit=1000, owner="learner:abc")
    newer = store.create("resnet18", Recipe(epochs=2, lr=0.05, batch_size=128, resize=96))
    model = explorer.build("lenet")
    _record(store, older, 1, model, 0.7, seconds=1.5)
    _record(store, older, 2, model, 0.8, seconds=1.25)
    _record(store, older, 3, model, 0.75, seconds=1.0)
    store.finish(older, "done")
    rows = {r.run: r for r in history.table(store)}
    assert list(rows) == [newer, older] or list(rows) == [older, newer]  # same second: rowid order
    row = rows[older]
    assert (row.model, row.status, row.owner, row.lr, row.batch_size, row.epochs, row.resize, row.world_size,
            row.train_images, row.epochs_done) == ("lenet", "done", "learner:abc", 0.9, 256, 3, 28, 1, 1000, 3)
    assert (row.best_test_acc, row.last_test_acc, row.last_loss, row.seconds) == (0.8, 0.75, 1 / 3, 3.75)
    fresh = rows[newer]
    assert (fresh.resize, fresh.epochs_done, fresh.best_test_acc, fresh.seconds) == (96, 0, None, None)


@pytest.mark.slow  # a real (tiny) run: 200 images, then the 10,000 test images
def test_a_run_keeps_its_step_log_and_each_epochs_matrix_as_it_trains():
    store = runs.Store()
    recipe = Recipe(epochs=1, lr=0.9, batch_size=50)
    run = store.create("lenet", recipe, "cpu", limit=200)
    _, result = runner.execute(store, run, "lenet", recipe, "cpu", 200, report=lambda line: None)
    points = history.history(store, run)
    assert [(p.kind, p.step) for p in points] == [("step", 1), ("step", 2), ("step", 3), ("step", 4), ("epoch", 4)]
    assert points[-1].test_acc == result.test_accuracy
    matrix = confusion.run_confusion(run, store=store)
    assert matrix.seconds == 0.0 and matrix.total == 10_000  # measured in the epoch's test pass, not computed again
    assert matrix.correct == result.correct
