"""Workers: the app hands its runs to a registered worker, which claims them from the store and trains them; a worker
killed with kill -9 mid-run leaves the run interrupted, and another worker resumes it to the weights of an
uninterrupted run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import pytest
import torch
from safetensors.torch import load_file
from sqlalchemy import text

from explorer.i18n import render, use_language
from explorer.runtime import jobs, lease, runner, runs, worker
from explorer.runtime import store as db
from explorer.runtime import train as engine
from explorer.runtime.train import Recipe

pytestmark = pytest.mark.usefixtures("fashion_mnist")
QUIET = lambda line: None  # noqa: E731
RECIPE = Recipe(epochs=2, lr=0.05, batch_size=64, momentum=0.9, schedule="cosine", augment=True, seed=3)


@pytest.fixture(autouse=True)
def explorer_home(tmp_path, monkeypatch):
    home = tmp_path / "home"
    monkeypatch.setenv("EXPLORER_HOME", str(home))
    monkeypatch.delenv(db.URL_ENV, raising=False)
    monkeypatch.delenv(db.ARTIFACTS_ENV, raising=False)
    return home


def _until(predicate, timeout: float = 120.0, what: str = "the state"):
    deadline = time.monotonic() + timeout
    while not (found := predicate()):
        assert time.monotonic() < deadline, f"waited {timeout} s for {what}"
        time.sleep(0.05)
    return found


def test_a_worker_is_live_while_its_process_beats(tmp_path):
    store = runs.Store()
    assert worker.live(store) == []
    me = worker.register(store, "cpu", 2)
    [row] = worker.live(store)
    assert (row["id"], row["pid"], row["device"], row["nproc"], row["run"]) == (me, os.getpid(), "cpu", 2, None)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE workers SET pid = :pid"), {"pid": dead.pid})
    assert worker.live(store) == []  # its process is gone
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE workers SET pid = :pid, host = 'elsewhere', heartbeat = :t"),
                     {"pid": os.getpid(), "t": time.time() - worker.WORKER_STALE_S - 1})
    assert worker.live(store) == []  # silent for too long on another machine
    worker.unregister(store, me)


def test_a_run_whose_worker_on_another_machine_went_silent_is_interrupted_within_seconds():
    store = runs.Store()
    run, cli = store.create("lenet", Recipe()), store.create("lenet", Recipe())
    store.hand_to_workers(run)
    now = time.time()
    with store.engine.begin() as conn:  # a worker elsewhere claimed it and trains it in its own process (pid 4242)
        conn.execute(text("INSERT INTO workers VALUES ('far-4242-abcd', 'far', 4242, 'cuda', 1, :t, :t, :run)"),
                     {"t": now, "run": run})
        conn.execute(text("UPDATE runs SET status = 'running', host = 'far', pid = 4242, heartbeat = :t "
                          "WHERE id = :run"), {"t": now - 20, "run": run})
        conn.execute(text("UPDATE runs SET status = 'running', host = 'far', pid = 4243, heartbeat = :t "
                          "WHERE id = :cli"), {"t": now - 20, "cli": cli})  # a run of a shell on that machine
    assert store.recover() == []  # the worker beats: its run's own heartbeat may be older (a long test pass)
    with store.engine.begin() as conn:  # the worker fell silent (killed, its machine lost)
        conn.execute(text("UPDATE workers SET heartbeat = :t"), {"t": now - worker.WORKER_STALE_S - 1})
    assert store.recover() == [run]  # long before the run's own STALE_S; a run of another process is left alone
    assert store.get(run)["status"] == "interrupted" and store.get(cli)["status"] == "running"
    me = worker.register(store, "cpu", 1)
    assert {w["id"] for w in worker.live(store)} == {me}  # the silent worker is not live, its row kept a while


def test_claims_take_the_oldest_waiting_run_once(backend):
    store = runs.Store()
    a, b, local = (store.create("lenet", Recipe()) for _ in range(3))
    store.hand_to_workers(a)
    store.hand_to_workers(b)
    me = worker.register(store, "cpu", 1)
    if backend == "postgresql":  # another worker is claiming a: this one skips its locked row, never waits
        with store.engine.connect() as other, other.begin():
            locked = other.execute(text("SELECT id FROM runs WHERE status = 'queued' AND queue = 'workers' "
                                        "ORDER BY started, seq LIMIT 1 FOR UPDATE SKIP LOCKED")).scalar_one()
            claimed = [locked, worker.claim_run(store, me)]
        claimed.append(worker.claim_run(store, me))  # the other let a go without claiming it: it is still waiting
        assert claimed == [a, b, a]
    else:
        claimed = [worker.claim_run(store, me), worker.claim_run(store, me)]
        assert claimed == [a, b]
    assert worker.claim_run(store, me) is None
    row = store.get(a)
    assert (row["status"], row["pid"]) == ("running", os.getpid())
    assert worker.live(store)[0]["run"] == claimed[-1] and store.get(local)["status"] == "queued"  # not for workers


@pytest.mark.slow  # a tiny training run in a worker
def test_with_a_live_worker_the_app_only_queues_and_the_worker_trains_it(backend):
    store = runs.Store()
    manager = jobs.JobManager()
    me = worker.register(store, "cpu", 1)  # this process is the worker (its loop runs below)
    job = manager.submit("lenet", Recipe(epochs=1, lr=0.9, batch_size=64), "cpu", 128)
    assert job.remote and manager.position(job.run) == 1
    row = store.get(job.run)
    assert (row["status"], row["queue"], row["pid"]) == ("queued", "workers", None)
    assert store.line() == [] and manager.current() is None  # nothing waits for this process's lease
    said = lease.waiting_message(store, job.run)  # what the Train page says of it
    assert str(said) == "queued for a worker, 1st in line"
    with use_language("zh"):
        assert render(said) == "排队中（由工作进程训练），排在第 1 位"
    worker.unregister(store, me)
    said: list[str] = []
    trained = []
    loop = threading.Thread(target=lambda: trained.append(worker.work("cpu", 1, once=True, say=said.append)))
    loop.start()
    _until(lambda: store.get(job.run)["status"] == "running", what="the worker to claim the run")
    watching = jobs.JobManager().elsewhere(every=0)  # another app server sharing the store shows it training
    assert (watching.run, watching.model, watching.remote, watching.recipe) == (job.run, "lenet", True, job.recipe)
    loop.join(120)
    assert trained == [1] and said[-1] == f"run {job.run}: done" and worker.live(store) == []
    assert manager.wait(job.run, 60).status == "done"
    assert watching.ended.wait(60) and watching.status == "done" and watching.points == job.points
    assert [e["epoch"] for e in store.epochs(job.run)] == [1] and store.get(job.run)["device"] == "cpu"
    assert {**job.result.to_dict(), "status": "done"} == store.show(job.run)
    # the curve the page draws came from the worker's progress file: 128 images in 2 steps of 64, then the epoch
    assert [p["epoch"] for p in job.points if "loss" in p] == [0.5, 1.0]
    assert job.points[-1] == {"epoch": 1.0, "test_acc": job.result.test_accuracy} and job.progress == 1.0


@pytest.mark.slow  # two torchrun processes
def test_a_worker_of_two_processes_trains_a_queued_run_through_torchrun():
    store = runs.Store()
    run = store.create("lenet", Recipe(epochs=1, lr=0.9, batch_size=64), "cpu", 1, 256)
    store.hand_to_workers(run)
    holder = store.create("lenet", Recipe())
    assert store.claim(holder) is True  # a run of this machine holds the lease: workers do not wait for it
    said: list[str] = []
    assert worker.work("cpu", 2, once=True, say=said.append) == 1
    row = store.get(run)
    assert (row["status"], row["world_size"], row["device"]) == ("done", 2, "cpu"), said
    assert [e["epoch"] for e in store.epochs(run)] == [1] and store.show(run)["recipe"]["train_images"] == 256
    steps = [e for e in runner.ProgressFile(store.folder(run) / "progress.jsonl").read()
             if isinstance(e, engine.StepEvent)]
    assert [e.x for e in steps] == [0.25, 0.5, 0.75, 1.0]  # the app's curve: rank 0's progress file
    store.release(holder)


def _worker(repo_root, log):
    return subprocess.Popen([sys.executable, "-m", "explorer", "worker", "--device", "cpu"], cwd=repo_root,
                            stdout=log, stderr=subprocess.STDOUT)


@pytest.mark.slow  # an uninterrupted run, a worker process, a worker thread
def test_a_worker_killed_mid_run_leaves_it_interrupted_and_another_resumes_it_to_the_same_weights(repo_root,
                                                                                                  tmp_path):
    full, _ = engine.train("lenet", RECIPE, "cpu", 256, QUIET)
    store = runs.Store()
    run = store.create("lenet", RECIPE, "cpu", 1, 256)
    store.hand_to_workers(run)
    with (tmp_path / "a.log").open("wb") as log:
        first = _worker(repo_root, log)
    try:
        _until(lambda: store.epochs(run), what="the first worker's first epoch")
    finally:
        first.send_signal(signal.SIGKILL)  # kill -9: no cleanup, nothing written
        first.wait()
    assert store.get(run)["status"] == "running" and [e["epoch"] for e in store.epochs(run)] == [1], \
        (tmp_path / "a.log").read_text()
    assert store.recover() == [run] and store.get(run)["status"] == "interrupted"

    said: list[str] = []
    stop = threading.Event()  # the second worker runs in this process (its own thread): one process start less
    second = threading.Thread(target=worker.work, kwargs={"device": "cpu", "stop": stop, "say": said.append,
                                                          "poll": 0.1})
    second.start()
    try:
        _until(lambda: worker.live(store), what="the second worker to register")
        job = jobs.JobManager().resume(run, "cpu")  # a live worker: handed to it
        assert job.remote
        assert job.ended.wait(300) and job.status == "done", said
    finally:
        stop.set()
        second.join(60)
    assert worker.live(store) == []  # it left the store when stopped
    assert [e["epoch"] for e in store.epochs(run)] == [1, 2]
    resumed, expected = load_file(str(store.weights(run))), full.state_dict()
    assert resumed.keys() == expected.keys() and all(torch.equal(resumed[k], expected[k]) for k in expected)
    assert f"run {run} (lenet): training from epoch 2 on cpu" in said


@pytest.mark.parametrize(("argv", "said"), [
    (["--nproc", "0"], "error: --nproc must be at least 1, not 0"),
    (["--nproc", "two"], "error: argument --nproc: invalid int value: 'two'"),
    (["--device", "tpu"], "error: argument --device: invalid choice: 'tpu' (choose from 'auto', 'cpu', 'cuda', 'mps')"),
    (["--bogus"], "error: unrecognized arguments: --bogus"),
])
def test_bad_worker_flags_exit_2_with_one_error_line(argv, said, capsys):
    from explorer.cli import main

    assert main(["worker", *argv]) == 2
    assert capsys.readouterr().err.strip() == said


def test_worker_once_with_nothing_queued_registers_and_leaves(capsys):
    from explorer.cli import main

    assert main(["worker", "--device", "cpu", "--once"]) == 0
    err = capsys.readouterr().err
    assert err.startswith("worker ") and ": cpu, 1 process(es); store " in err
    assert worker.live(runs.Store()) == []


@pytest.mark.slow  # a worker process
def test_a_worker_process_stopped_with_sigterm_leaves_the_store(repo_root, tmp_path):
    store = runs.Store()
    with (tmp_path / "w.log").open("wb") as log:
        process = _worker(repo_root, log)
    try:
        [row] = _until(lambda: worker.live(store), what="the worker to register")
        assert (row["pid"], row["device"], row["nproc"]) == (process.pid, "cpu", 1)
    finally:
        process.terminate()
        assert process.wait(60) == 0, (tmp_path / "w.log").read_text()
    assert worker.live(store) == [] and "worker stopped" in (tmp_path / "w.log").read_text()
