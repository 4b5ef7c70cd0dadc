"""The run store: SQLite in WAL mode under $EXPLORER_HOME, one row per epoch with its weights, and a run whose process
dies marked interrupted and resumed to the same weights as an uninterrupted run."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time

import pytest
import torch
from safetensors.torch import load_file

from explorer.i18n import N_, Message, render, use_language
from explorer.runtime import inference_runs, lease, runner, runs
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
    from explorer.runtime import runner, runs
    from explorer.runtime.train import Recipe
    store = runs.Store()
    recipe = Recipe(**{recipe})
    def on_step(event):
        if event.epoch == 2:
            os._exit(9)  # the machine dies mid-epoch 2: no cleanup, no status written
    runner.execute(store, sys.argv[1], "vgg-fmnist", recipe, "cpu", 256, on_step=on_step, report=lambda s: None)
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

    model_id, recipe, limit, checkpoint = runner.resume_args(store, run)
    assert (model_id, recipe, limit, checkpoint.epoch) == ("vgg-fmnist", RECIPE, 256, 1)
    resumed, result = runner.execute(store, run, model_id, recipe, "cpu", limit, resume=checkpoint, report=QUIET)
    assert store.get(run)["status"] == "done"
    assert [e["epoch"] for e in store.epochs(run)] == [1, 2, 3]
    a, b = full.state_dict(), resumed.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert store.show(run) == {**result.to_dict(), "status": "done"}
    with pytest.raises(ValueError, match="only an interrupted or stopped run"):
        runner.resume_args(store, run)


# --- one run at a time per machine ---------------------------------------------------------------------------------
def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_the_line_is_first_come_first_served_and_the_lease_is_held_by_one_run():
    store = runs.Store()
    a, b, c = (store.create("lenet", Recipe()) for _ in range(3))
    for run in (a, b, c):
        store.enter_line(run)
    assert store.line() == [a, b, c] and [store.position(r) for r in (a, b, c)] == [1, 2, 3]
    assert store.claim(b) is None  # a entered the line first
    assert store.claim(a) is True
    assert store.holder()["run"] == a and store.holder()["model"] == "lenet" and store.holder()["pid"] == os.getpid()
    assert store.line() == [b, c] and [store.position(r) for r in (a, b, c)] == [0, 1, 2]
    assert store.claim(a) is False  # already a's (its launcher took it for its N processes)
    assert store.claim(b) is None  # a holds it
    assert str(lease.waiting_message(store, c)) == f"queued, 2nd in line — run {a} (lenet) is training on this machine"
    store.release(b)  # not b's to give back
    assert store.holder()["run"] == a
    store.release(a)
    assert store.holder() is None and store.claim(c) is None and store.claim(b) is True


def test_a_stale_lease_of_a_dead_process_is_taken_over_and_its_run_interrupted():
    store = runs.Store()
    crashed, waiting = store.create("lenet", Recipe()), store.create("lenet", Recipe())
    store.start(crashed, "cpu", 1)
    assert store.claim(crashed) is True
    dead = _dead_pid()
    with sqlite3.connect(store.path) as db:  # the process that held it died without a word
        db.execute("UPDATE runs SET pid=? WHERE id=?", (dead, crashed))
        db.execute("UPDATE lease SET pid=?", (dead,))
    assert store.holder() is None  # a dead holder holds nothing
    store.enter_line(waiting)
    assert store.claim(waiting) is True
    assert store.holder()["run"] == waiting
    assert store.get(crashed)["status"] == "interrupted"


def test_a_lease_without_a_heartbeat_for_stale_s_is_free_a_beating_one_is_not():
    store = runs.Store()
    other, mine = store.create("lenet", Recipe()), store.create("lenet", Recipe())
    assert store.claim(other) is True
    store.enter_line(mine)
    assert store.claim(mine) is None  # fresh heartbeat, live pid
    store.beat(other)
    with sqlite3.connect(store.path) as db:  # a holder on another machine sharing the store, silent for too long
        db.execute("UPDATE lease SET host='elsewhere', heartbeat=?", (time.time() - runs.STALE_S - 1,))
    assert store.claim(mine) is True


def test_a_waiting_run_of_a_dead_process_does_not_block_the_line():
    store = runs.Store()
    gone, next_one = store.create("lenet", Recipe()), store.create("lenet", Recipe())
    store.enter_line(gone)
    store.enter_line(next_one)
    with sqlite3.connect(store.path) as db:
        db.execute("UPDATE line SET pid=? WHERE run=?", (_dead_pid(), gone))
    assert store.line() == [next_one] and store.position(next_one) == 1
    assert store.claim(next_one) is True


def test_turn_waits_until_the_holder_leaves_and_stop_while_waiting_leaves_the_line():
    store = runs.Store()
    first, second, third = (store.create("lenet", Recipe()) for _ in range(3))
    said: list = []
    order: list[str] = []
    with lease.turn(store, first) as mine:
        assert mine is True

        def wait_second():
            with lease.turn(store, second, on_wait=said.append, poll=0.05) as got:
                order.append(f"second {got}")

        waiter = threading.Thread(target=wait_second)
        waiter.start()
        deadline = time.monotonic() + 10
        while not said and time.monotonic() < deadline:
            time.sleep(0.02)
        assert list(map(str, said)) == [f"queued, 1st in line — run {first} (lenet) is training on this machine"]
        stop = threading.Event()
        stop.set()
        with lease.turn(store, third, stop=stop) as got:  # stopped while it waits: never its turn
            assert got is False
        assert store.line() == [second] and order == []
    waiter.join(timeout=10)
    assert order == ["second True"] and store.holder() is None and store.line() == []


def test_parallel_options_offer_one_process_per_gpu_over_nccl_only_with_several_gpus():
    from explorer.runtime.jobs import Parallel, parallel_options

    assert parallel_options(4, "cuda") == Parallel((1, 2, 3, 4), "nccl") and parallel_options(4, "cuda").offered
    assert parallel_options(2, "cuda").nproc == (1, 2)
    for devices, kind in ((1, "cuda"), (0, "cpu"), (8, "cpu"), (0, "mps")):
        assert parallel_options(devices, kind) == Parallel((1,), None) and not parallel_options(devices, kind).offered


@pytest.mark.slow  # two tiny training runs in two job managers' threads
def test_two_managers_on_one_store_the_second_is_queued_first_in_line_and_starts_when_the_first_ends():
    from explorer.runtime import jobs

    one, two = jobs.JobManager(), jobs.JobManager()  # as two app servers sharing $EXPLORER_HOME
    first = one.submit("lenet", Recipe(epochs=50, lr=0.9, batch_size=100), "cpu", 2000)
    deadline = time.monotonic() + 60
    while first.status != "running" and time.monotonic() < deadline:
        time.sleep(0.05)
    second = two.submit("lenet", Recipe(epochs=1, lr=0.9, batch_size=64), "cpu", 128)
    time.sleep(1.5)
    store = runs.Store()
    assert (first.status, second.status) == ("running", "queued")
    assert one.position(first.run) == 0 and two.position(second.run) == 1 and one.position(second.run) == 1
    assert store.get(second.run)["status"] == "queued" and store.epochs(second.run) == []
    assert store.holder()["run"] == first.run
    one.stop(first.run)
    assert one.wait(first.run, 60).status == "stopped"
    assert two.wait(second.run, 120).status == "done"
    assert store.get(second.run)["status"] == "done" and [e["epoch"] for e in store.epochs(second.run)] == [1]
    assert store.holder() is None and store.line() == []


# --- a run's weights on Classify ------------------------------------------------------------------------------------
def _record_epoch(store: runs.Store, run: str, epoch: int, model: torch.nn.Module, test_acc: float) -> None:
    """An epoch as the engine records it (weights of ``model``), without training."""
    entry = engine.Epoch(epoch, loss=1.0, train_acc=0.5, test_acc=test_acc, samples_per_s=1.0, seconds=1.0)
    store.add_epoch(run, entry, engine.Checkpoint(epoch, model.state_dict(), {}, {}, {}, [entry]))


def _shirt():
    from PIL import Image

    from explorer.runtime import data

    images, _ = data.load("test")
    return Image.fromarray(images[1])  # a pullover, light on black as the dataset is


def test_usable_runs_lists_runs_with_a_completed_epoch():
    store = runs.Store()
    empty, trained = store.create("lenet", Recipe()), store.create("vgg-fmnist", Recipe())
    torch.manual_seed(0)
    _record_epoch(store, trained, 1, explorer_build("vgg-fmnist"), 0.5)
    _record_epoch(store, trained, 2, explorer_build("vgg-fmnist"), 0.625)
    store.finish(trained, "stopped")
    [row] = inference_runs.usable_runs()
    assert {k: row[k] for k in ("run", "model", "test_accuracy", "epoch", "status")} == \
        {"run": trained, "model": "vgg-fmnist", "test_accuracy": 0.625, "epoch": 2, "status": "stopped"}
    assert empty not in [r["run"] for r in inference_runs.usable_runs()]


def explorer_build(model_id: str) -> torch.nn.Module:
    import explorer

    model = explorer.build(model_id)
    model.apply(engine.xavier_init)
    return model


def test_classify_run_uses_the_last_epochs_weights_and_the_inference_preprocessing():
    from explorer.runtime import data, inference

    store = runs.Store()
    run = store.create("lenet", Recipe())
    torch.manual_seed(1)
    old, new = explorer_build("lenet"), explorer_build("lenet")
    _record_epoch(store, run, 1, old, 0.3)
    image = _shirt()
    pred = inference_runs.classify_run(run, image, top_k=3, device="cpu")
    assert isinstance(pred, inference.Prediction) and len(pred.top) == 3 and pred.ms > 0
    assert pred.load_ms > 0 and pred.ms == pytest.approx(pred.preprocess_ms + pred.forward_ms, rel=0.05, abs=0.01)
    assert inference_runs.classify_run(run, image, device="cpu").load_ms == 0.0  # cached: nothing loaded
    x = inference.prepare("lenet", image)
    assert torch.equal(pred.input, x) and tuple(x.shape) == (1, 28, 28)
    with torch.inference_mode():
        probs = torch.softmax(old.eval()(x[None]), 1)[0]
    values, indices = probs.topk(3)
    assert [label for label, _ in pred.top] == [data.CLASSES[int(i)] for i in indices]
    assert [p for _, p in pred.top] == pytest.approx(values.tolist(), abs=1e-6)

    loaded, epoch = inference_runs.load_run(run, "cpu")
    assert epoch == 1 and inference_runs.load_run(run, "cpu")[0] is loaded  # cached by (run, epoch, device)
    assert not loaded.module.training and not loaded.module._forward_hooks
    assert all(not p.requires_grad for p in loaded.module.parameters())

    _record_epoch(store, run, 2, new, 0.4)  # a newer epoch: the run's weights are the new ones at once
    pred2 = inference_runs.classify_run(run, image, top_k=10, device="cpu")
    with torch.inference_mode():
        probs2 = torch.softmax(new.eval()(x[None]), 1)[0]
    assert dict(pred2.top) == pytest.approx({data.CLASSES[i]: float(p) for i, p in enumerate(probs2)}, abs=1e-6)
    assert inference_runs.load_run(run, "cpu")[1] == 2 and inference_runs.load_run(run, "cpu")[0] is not loaded


def test_classify_run_resizes_to_the_size_the_run_trained_at():
    store = runs.Store()
    run = store.create("resnet-fmnist", Recipe(resize=40))
    _record_epoch(store, run, 1, explorer_build("resnet-fmnist"), 0.2)
    pred = inference_runs.classify_run(run, _shirt(), device="cpu")
    assert tuple(pred.input.shape) == (1, 40, 40) and len(pred.top) == 5


def test_classify_run_feeds_a_dataset_image_as_the_accuracy_measurement_does():
    from explorer.runtime import data

    store = runs.Store()
    run = store.create("lenet", Recipe())
    torch.manual_seed(2)
    model = explorer_build("lenet")
    _record_epoch(store, run, 1, model, 0.3)
    raw, _ = data.sample(0)
    pred = inference_runs.classify_run(run, raw, top_k=10, device="cpu")
    x = torch.from_numpy(raw).float().div(255)[None]  # /255, no crop or rescaling
    assert torch.equal(pred.input, x)
    with torch.inference_mode():
        probs = torch.softmax(model.eval()(x[None]), 1)[0]
    assert dict(pred.top) == pytest.approx({data.CLASSES[i]: float(p) for i, p in enumerate(probs)}, abs=1e-6)
    assert pred.ood_score is None and pred.familiar is None  # the shipped statistics belong to the shipped weights


def test_classify_run_without_weights_or_unknown():
    from explorer.runtime import inference

    run = runs.Store().create("lenet", Recipe())
    with pytest.raises(inference.NoWeights, match=f"run {run} has no completed epoch yet"):
        inference_runs.classify_run(run, _shirt())
    with pytest.raises(KeyError, match="unknown run 'nope'"):
        inference_runs.classify_run("nope", _shirt())


def test_a_job_of_n_processes_is_checked_before_it_queues():
    from explorer.runtime import jobs

    manager = jobs.JobManager()
    with pytest.raises(ValueError, match="must be a multiple of the 2 processes"):
        manager.submit("lenet", Recipe(epochs=1, batch_size=63), "cpu", 256, nproc=2)
    with pytest.raises(ValueError, match="the number of processes must be at least 1, not 0"):
        manager.submit("lenet", Recipe(epochs=1), "cpu", 256, nproc=0)
    assert runs.Store().list() == []


@pytest.mark.slow  # two torchrun processes
def test_a_job_of_two_processes_trains_through_torchrun_as_one_run():
    from explorer.runtime import jobs

    manager = jobs.JobManager()
    job = manager.submit("lenet", Recipe(epochs=1, lr=0.9, batch_size=64), "cpu", 256, nproc=2)
    assert manager.wait(job.run, timeout=300).status == "done", job.error
    store = runs.Store()
    row = store.get(job.run)
    assert (row["status"], row["world_size"], row["device"]) == ("done", 2, "cpu")
    assert {**job.result.to_dict(), "status": "done"} == store.show(job.run) and job.result.world_size == 2
    assert job.result.train_images == 256 and [e["epoch"] for e in store.epochs(job.run)] == [1]
    # the curve from the launched processes' progress (no parsed text): 256 images in 4 steps of 64 (2 × 32),
    # a report point per step (4 // 5 → every step), then the epoch's test accuracy
    steps = [p for p in job.points if "loss" in p]
    assert [p["epoch"] for p in steps] == [0.25, 0.5, 0.75, 1.0]
    assert job.points[-1] == {"epoch": 1.0, "test_acc": job.result.test_accuracy}
    assert job.progress == 1.0 and store.holder() is None and store.line() == []
    # rank 0 keeps the step log and the confusion matrix summed over both ranks' halves of the test set
    from explorer.runtime import confusion, history

    assert [p.step for p in history.history(store, job.run) if p.kind == "step"] == [1, 2, 3, 4]
    matrix = confusion.run_confusion(job.run, store=store)
    assert matrix.seconds == 0.0 and matrix.total == 10_000
    assert matrix.correct == round(job.result.test_accuracy * 10_000)


def test_the_progress_channel_gives_the_launcher_the_events_themselves(tmp_path):
    """A launched run's rank 0 writes its events as JSON lines; the launcher reads the same objects back (a line
    still being written waits for the next read) — nothing parses the lines written for people."""
    path = tmp_path / "progress.jsonl"
    writer, reader = runner.ProgressFile(path), runner.ProgressFile(path)
    assert reader.read() == []  # nothing written yet
    step = engine.StepEvent(1, 3, 2, 10, 2.25, 0.125, 1500.0, 0.5, 0.0667)
    epoch = engine.Epoch(1, 2.0, 0.25, 0.3125, 1400.5, 1.25)
    writer.write("step", step)
    writer.write("epoch", epoch)
    with path.open("a", encoding="utf-8") as f:
        f.write('{"step": {"epoch": 2')  # half a line
    assert reader.read() == [step, epoch]
    assert reader.read() == []
    # how the run ended: its message, which the launcher's job shows in the page's language
    diverged = Message(N_("diverged at epoch {epoch}, step {step}: the loss is not finite"), {"epoch": 2, "step": 7})
    ended = runner.ProgressFile(tmp_path / "ended.jsonl")
    ended.write_error(diverged)
    events = runner.ProgressFile(ended.path).read()
    assert events == [diverged] and str(events[-1]) == "diverged at epoch 2, step 7: the loss is not finite"
    with use_language("zh"):
        assert render(events[-1]) != str(diverged) and "2" in render(events[-1])


def test_a_train_result_is_the_train_json_object_and_round_trips_through_the_store_info():
    history = [engine.Epoch(1, 2.0, 0.25, 0.3125, 1400.5, 1.25), engine.Epoch(2, 1.5, 0.5, 0.625, 1500.0, 1.5)]
    result = engine.TrainResult(model="lenet", recipe=Recipe(epochs=2, lr=0.9), resize=28, input=(1, 28, 28),
                                device="cpu", seconds=3.0, train_images=512, test_images=10_000, history=history,
                                run="r1", world_size=2)
    out = result.to_dict()
    assert list(out) == ["model", "test_accuracy", "correct", "recipe", "run", "world_size"]
    assert (out["model"], out["test_accuracy"], out["correct"], out["run"], out["world_size"]) == \
        ("lenet", 0.625, 6250, "r1", 2)
    assert list(out["recipe"]) == ["epochs", "lr", "batch_size", "momentum", "weight_decay", "schedule", "augment",
                                   "seed", "resize", "optimizer", "init", "input", "device", "seconds",
                                   "train_images", "test_images", "history", "torch", "status"]
    assert out["recipe"]["history"][1] == {"epoch": 2, "loss": 1.5, "train_acc": 0.5, "test_acc": 0.625,
                                           "samples_per_s": 1500.0, "seconds": 1.5}
    assert engine.TrainResult.from_info("lenet", out["recipe"], "r1", 2).to_dict() == out
