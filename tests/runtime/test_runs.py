"""The run store: SQLite in WAL mode under $EXPLORER_HOME, one row per epoch with its weights, and a run whose process
dies marked interrupted and resumed to the same weights as an uninterrupted run."""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
import textwrap

import pytest
import torch
from safetensors.torch import load_file

from explorer.runtime import runs
from explorer.runtime import train as engine
from explorer.runtime.train import Recipe

pytestmark = pytest.mark.usefixtures("fashion_mnist")
QUIET = lambda line: None  # noqa: E731
RECIPE = Recipe(epochs=3, lr=0.05, batch_size=64, momentum=0.9, schedule="cosine", augment=True, seed=3)


@pytest.fixture(autouse=True)
def explorer_home(tmp_path, monkeypatch):
    """Never the user's ~/.cache: every test gets its own store."""
    home = tmp_path / "home"
    monkeypatch.setenv("EXPLORER_HOME", str(home))
    return home


def test_store_lives_in_explorer_home_in_wal_mode(explorer_home):
    store = runs.Store()
    assert store.path == explorer_home / "runs.sqlite"
    with sqlite3.connect(store.path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_create_list_show_finish():
    store = runs.Store()
    run = store.create("lenet", Recipe(epochs=2), "cpu", 1, 100)
    [row] = store.list()
    assert set(row) == {"run", "model", "status", "test_accuracy", "world_size", "started"}
    assert (row["run"], row["model"], row["status"], row["test_accuracy"], row["world_size"]) == \
        (run, "lenet", "queued", None, 1)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", row["started"])
    shown = store.show(run)
    assert shown["status"] == "queued" and shown["recipe"]["epochs"] == 2 and shown["recipe"]["history"] == []
    store.finish(run, "stopped")
    assert store.get(run)["status"] == "stopped"
    with pytest.raises(KeyError, match="unknown run"):
        store.get("nope")


def test_a_dead_process_run_is_marked_interrupted_a_live_one_is_not():
    store = runs.Store()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    gone, alive = store.create("lenet", Recipe()), store.create("lenet", Recipe())
    store.start(gone, "cpu", 1)
    with sqlite3.connect(store.path) as db:
        db.execute("UPDATE runs SET pid=? WHERE id=?", (dead.pid, gone))
    store.start(alive, "cpu", 1)  # this process: alive
    assert store.recover() == [gone]
    assert store.get(gone)["status"] == "interrupted" and store.get(alive)["status"] == "running"


def test_optimizer_state_round_trips_through_safetensors():
    tensors: dict[str, torch.Tensor] = {}
    state = {"state": {0: {"momentum_buffer": torch.ones(3)}, 1: {"momentum_buffer": None}},
             "param_groups": [{"lr": 0.1, "params": [0, 1], "nesterov": False}]}
    back = runs._unpack(runs._pack(state, tensors, "opt"), tensors)
    assert back["state"][1] == {"momentum_buffer": None} and torch.equal(back["state"][0]["momentum_buffer"],
                                                                          torch.ones(3))
    assert back["param_groups"] == [{"lr": 0.1, "params": [0, 1], "nesterov": False}]


CRASH = textwrap.dedent("""
    import os, sys
    from explorer.runtime import runs
    from explorer.runtime.train import Recipe
    store = runs.Store()
    recipe = Recipe(**{recipe})
    def on_step(event):
        if event.epoch == 2:
            os._exit(9)  # the machine dies mid-epoch 2: no cleanup, no status written
    runs.execute(store, sys.argv[1], "vgg-fmnist", recipe, "cpu", 256, on_step=on_step, report=lambda s: None)
""")


@pytest.mark.slow  # two short training runs and a child process
def test_crash_then_interrupted_then_resume_gives_the_uninterrupted_weights(repo_root):
    full, _ = engine.train("vgg-fmnist", RECIPE, "cpu", 256, QUIET)
    store = runs.Store()
    run = store.create("vgg-fmnist", RECIPE, "cpu", 1, 256)
    code = CRASH.replace("{recipe}", repr(vars(RECIPE)))
    child = subprocess.run([sys.executable, "-c", code, run], cwd=repo_root, capture_output=True, text=True,
                           timeout=300)
    assert child.returncode == 9, child.stderr
    assert store.get(run)["status"] == "running"  # what the dead process left
    assert store.recover() == [run]
    assert store.get(run)["status"] == "interrupted"
    assert [e["epoch"] for e in store.epochs(run)] == [1]  # the last completed epoch is kept
    kept = load_file(str(store.weights(run)))
    assert kept.keys() == full.state_dict().keys()

    model_id, recipe, limit, checkpoint = runs.resume_args(store, run)
    assert (model_id, recipe, limit, checkpoint.epoch) == ("vgg-fmnist", RECIPE, 256, 1)
    resumed, result = runs.execute(store, run, model_id, recipe, "cpu", limit, resume=checkpoint, report=QUIET)
    assert store.get(run)["status"] == "done"
    assert [e["epoch"] for e in store.epochs(run)] == [1, 2, 3]
    a, b = full.state_dict(), resumed.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert store.show(run) == {**result, "status": "done"}
    with pytest.raises(ValueError, match="only an interrupted or stopped run"):
        runs.resume_args(store, run)
