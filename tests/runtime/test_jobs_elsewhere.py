"""A run another replica of the app handed to the workers shows in this one: ``JobManager.elsewhere()`` finds it in the
shared store and follows it as its own handed-over runs are followed — waiting, then running with the curve from the
worker's progress file, Stop by its owner through the stop file, how it ended — on SQLite and on PostgreSQL. Runs
that are not the workers' are left to the process that trains them."""

from __future__ import annotations

import time

import pytest

from explorer.runtime import jobs, runner, runs, worker
from explorer.runtime import store as db
from explorer.runtime import train as engine
from explorer.runtime.train import Recipe

OWNER = "learner:0123456789ab"


@pytest.fixture(autouse=True)
def explorer_home(tmp_path, monkeypatch):
    home = tmp_path / "home"
    monkeypatch.setenv("EXPLORER_HOME", str(home))
    monkeypatch.delenv(db.URL_ENV, raising=False)
    monkeypatch.delenv(db.ARTIFACTS_ENV, raising=False)
    return home


def _until(predicate, what: str, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while not (found := predicate()):
        assert time.monotonic() < deadline, f"waited {timeout} s for {what}"
        time.sleep(0.05)
    return found


def test_a_run_another_replica_handed_to_the_workers_is_followed_here(backend):
    store = runs.Store()
    manager = jobs.JobManager()  # this replica: it started nothing
    assert manager.elsewhere(every=0) is None
    local = store.create("lenet", Recipe(), owner="learner:ffffffffffff")  # another process's own run: not ours
    store.enter_line(local)
    assert manager.elsewhere(every=0) is None

    recipe = Recipe(epochs=4, lr=0.05, batch_size=32)
    run = store.create("lenet", recipe, "cpu", 1, 640, owner=OWNER)  # what the other replica's submit does
    store.hand_to_workers(run)
    job = manager.elsewhere(every=0)
    assert (job.run, job.model, job.recipe, job.limit, job.owner, job.remote) == (run, "lenet", recipe, 640, OWNER,
                                                                                   True)
    assert manager.elsewhere(every=0) is job and manager.get(run) is job  # followed once, however often asked
    assert job.status == "queued" and manager.position(run) == 1

    me = worker.register(store, "cpu", 1)  # a worker claims it and reports its first steps
    assert worker.claim_run(store, me) == run
    store.folder(run).mkdir(parents=True, exist_ok=True)
    progress = runner.ProgressFile(store.folder(run) / "progress.jsonl")
    progress.write("step", engine.StepEvent(epoch=1, epochs=4, step=5, steps=20, loss=1.5, train_acc=0.4,
                                            samples_per_s=812.0, elapsed=2.0, done=0.0625))
    _until(lambda: job.status == "running" and job.points, "the running run's first step")
    assert job.points == [{"epoch": 0.25, "loss": 1.5, "train_acc": 0.4}]
    assert (job.progress, job.samples_per_s, manager.position(run)) == (0.0625, 812.0, 0)

    with pytest.raises(jobs.NotYours):  # Stop here as anywhere: its owner or the teacher only
        manager.stop(run, by="learner:ffffffffffff")
    assert not (store.folder(run) / "stop").exists()
    manager.stop(run, by=OWNER)
    assert (store.folder(run) / "stop").exists()  # the worker, on whatever machine, watches this file

    store.finish(run, "stopped")  # the worker stopped at its next report point
    assert job.ended.wait(30) and job.status == "stopped"
    assert manager.elsewhere(every=0) is None  # nothing the workers have any more
    worker.unregister(store, me)


def test_of_several_the_running_run_is_shown_before_one_still_waiting(backend):
    store = runs.Store()
    waiting, training = (store.create("lenet", Recipe(), owner=OWNER) for _ in range(2))
    store.hand_to_workers(waiting)
    with db.writing(store.engine) as conn:  # the later run went to a worker first (say, a resumed run's worker)
        conn.execute(db.runs.update().where(db.runs.c.id == training).values(status="running", queue=runs.WORKERS))
    assert jobs.JobManager().elsewhere(every=0).run == training
