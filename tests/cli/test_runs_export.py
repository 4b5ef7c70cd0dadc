"""``runs export [RUN] --csv [-o FILE]``: the runs table or one run's history, as CSV (or the same rows as JSON);
an unknown run is one ``error:`` line and exit status 2."""

from __future__ import annotations

import csv
import io
import json

import pytest

import explorer
from explorer.runtime import history, runs
from explorer.runtime import train as engine
from tests.cli.conftest import assert_one_error_line, run_main


@pytest.fixture(autouse=True)
def store(tmp_path, monkeypatch) -> runs.Store:
    monkeypatch.setenv("EXPLORER_HOME", str(tmp_path / "home"))
    return runs.Store()


def _done_run(store: runs.Store) -> str:
    run = store.create("lenet", engine.Recipe(epochs=2, lr=0.9, batch_size=100), limit=200, owner="learner:abc")
    history.StepLog(history.step_log(store, run), 100, 200).write(
        engine.StepEvent(1, 2, 1, 2, 2.25, 0.125, samples_per_s=40.0, elapsed=2.5, done=0.25))
    model = explorer.build("lenet")
    for epoch, acc in ((1, 0.5), (2, 0.625)):
        entry = engine.Epoch(epoch, 2.0 / epoch, 0.25 * epoch, acc, 40.0, 5.0)
        store.add_epoch(run, entry, engine.Checkpoint(epoch, model.state_dict(), {}, {}, {}, [entry]))
    store.finish(run, "done")
    return run


def _csv(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def test_the_runs_table_as_csv_on_stdout(capsys, store):
    done = _done_run(store)
    queued = store.create("resnet18", engine.Recipe(epochs=1, lr=0.05, batch_size=128, resize=96))
    code, out, err = run_main(capsys, "runs", "export", "--csv")
    assert (code, err) == (0, "")
    assert out.splitlines()[0] == ",".join(history.RUN_COLUMNS)
    rows = {r["run"]: r for r in _csv(out)}
    assert set(rows) == {done, queued}
    assert {k: rows[done][k] for k in ("model", "status", "owner", "lr", "batch_size", "epochs", "resize",
                                       "world_size", "train_images", "epochs_done", "best_test_acc",
                                       "last_test_acc", "seconds")} == {
        "model": "lenet", "status": "done", "owner": "learner:abc", "lr": "0.9", "batch_size": "100", "epochs": "2",
        "resize": "28", "world_size": "1", "train_images": "200", "epochs_done": "2", "best_test_acc": "0.625",
        "last_test_acc": "0.625", "seconds": "10.0"}
    assert (rows[queued]["status"], rows[queued]["best_test_acc"], rows[queued]["resize"]) == ("queued", "", "96")


def test_one_runs_history_to_a_file_and_as_json(capsys, store, tmp_path):
    run = _done_run(store)
    target = tmp_path / "history.csv"
    code, out, err = run_main(capsys, "runs", "export", run, "--csv", "-o", str(target))
    assert (code, out, err) == (0, "", "")
    rows = _csv(target.read_text())
    assert [(r["kind"], r["epoch"], r["step"], r["seconds"], r["loss"], r["test_acc"]) for r in rows] == [
        ("step", "0.5", "1", "2.5", "2.25", ""),  # 100 images at 40 images/s
        ("epoch", "1.0", "2", "5.0", "2.0", "0.5"),
        ("epoch", "2.0", "4", "10.0", "1.0", "0.625"),
    ]
    code, out, _ = run_main(capsys, "runs", "export", run, "--json")
    assert code == 0 and json.loads(out)[2] == {"run": run, "kind": "epoch", "epoch": 2.0, "step": 4,
                                                "seconds": 10.0, "loss": 1.0, "train_acc": 0.5, "test_acc": 0.625}


def test_an_empty_store_exports_the_header_only(capsys):
    code, out, _ = run_main(capsys, "runs", "export")
    assert (code, out) == (0, ",".join(history.RUN_COLUMNS) + "\n")


def test_an_unknown_run_or_an_unwritable_file_is_one_error_line(capsys, store, tmp_path):
    code, out, err = run_main(capsys, "runs", "export", "20990101-000000-lenet-ffff", "--csv")
    assert code == 2 and out == ""
    assert assert_one_error_line(err) == ("error: unknown run '20990101-000000-lenet-ffff'; see `python -m explorer "
                                          "runs list`")
    code, _, err = run_main(capsys, "runs", "export", "-o", str(tmp_path / "no" / "such" / "dir.csv"))
    assert code == 2 and "cannot write" in assert_one_error_line(err)
