"""Training jobs for the app: one worker thread per process runs one job at a time, the others queue.

The Train page submits a job and polls :func:`manager` — the job lives here, not in the Streamlit script, so it
survives page navigation, reruns and other sessions, and every session sees the same queue. Each job is a run in the
store (:mod:`explorer.runtime.runs`), recorded exactly as the CLI records its runs.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field

from . import runs
from . import train as engine


@dataclass
class Job:
    """One run as the page sees it; the worker thread updates it, the page only reads it."""

    run: str
    model: str
    recipe: engine.Recipe
    device: str
    limit: int | None
    resume: bool = False
    status: str = "queued"
    points: list[dict] = field(default_factory=list)  # live curve: {"epoch": x, "loss"/"train_acc"/"test_acc"}
    progress: float = 0.0
    eta: float | None = None
    samples_per_s: float | None = None
    device_name: str | None = None
    result: dict | None = None
    error: str | None = None
    stop: threading.Event = field(default_factory=threading.Event)


class JobManager:
    """A FIFO queue and one daemon worker thread; all methods are safe to call from any session's thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: deque[Job] = deque()
        self._jobs: dict[str, Job] = {}
        self._current: Job | None = None
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        runs.Store().recover()  # the app starting: runs of processes that died are interrupted

    def submit(self, model_id: str, recipe: engine.Recipe, device: str = "auto", limit: int | None = None) -> Job:
        """Queue a new run (checked first: a bad recipe raises one ``ValueError``)."""
        engine.validate(engine.get_spec(model_id), recipe, limit)
        engine.pick_device(device)
        run = runs.Store().create(model_id, recipe, device, 1, limit)
        return self._enqueue(Job(run, model_id, recipe, device, limit))

    def resume(self, run: str, device: str = "auto") -> Job:
        """Queue an interrupted or stopped run to continue from its last completed epoch."""
        model_id, recipe, limit, checkpoint = runs.resume_args(runs.Store(), run)
        job = Job(run, model_id, recipe, device, limit, resume=True)
        if checkpoint is not None:
            job.points = [p for h in checkpoint.history for p in _epoch_points(h)]
        return self._enqueue(job)

    def _enqueue(self, job: Job) -> Job:
        with self._lock:
            self._jobs[job.run] = job
            self._queue.append(job)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._work, name="explorer-training", daemon=True)
                self._thread.start()
        self._wake.set()
        return job

    def get(self, run: str) -> Job | None:
        return self._jobs.get(run)

    def current(self) -> Job | None:
        return self._current

    def position(self, run: str) -> int | None:
        """0 while ``run`` trains, 1, 2, … while it waits, ``None`` when it is neither."""
        with self._lock:
            if self._current is not None and self._current.run == run:
                return 0
            ids = [j.run for j in self._queue]
        return ids.index(run) + 1 if run in ids else None

    def stop(self, run: str) -> None:
        """Stop ``run``: a queued one leaves the queue, a running one stops at its next report point (keeping its
        last completed epoch)."""
        job = self._jobs.get(run)
        if job is None:
            return
        with self._lock:
            if job in self._queue:
                self._queue.remove(job)
                job.status = "stopped"
                runs.Store().finish(run, "stopped")
                return
        job.stop.set()

    def wait(self, run: str, timeout: float = 60) -> Job | None:
        """Block until ``run`` ends (tests, scripts)."""
        end = time.monotonic() + timeout
        job = self._jobs.get(run)
        while job is not None and job.status in ("queued", "running") and time.monotonic() < end:
            time.sleep(0.05)
        return job

    def _work(self) -> None:
        while True:
            with self._lock:
                job = self._queue.popleft() if self._queue else None
                self._current = job
            if job is None:
                self._wake.wait(timeout=1.0)
                self._wake.clear()
                continue
            self._run(job)
            with self._lock:
                self._current = None

    def _run(self, job: Job) -> None:
        store = runs.Store()
        job.status = "running"
        dev = engine.pick_device(job.device)
        job.device_name = dev.type

        def on_step(event: engine.StepEvent) -> None:
            job.points.append({"epoch": event.x, "loss": event.loss, "train_acc": event.train_acc})
            job.progress, job.eta, job.samples_per_s = event.done, event.eta, event.samples_per_s

        def report(line: str) -> None:  # one line per epoch: take the test accuracy from the store's last row
            rows = store.epochs(job.run)
            if rows and line.startswith(f"epoch {rows[-1]['epoch']}/"):
                job.points.extend(_epoch_points(rows[-1], train=False))

        try:
            checkpoint = store.checkpoint(job.run) if job.resume else None
            _, job.result = runs.execute(store, job.run, job.model, job.recipe, job.device, job.limit,
                                         resume=checkpoint, on_step=on_step, stop=job.stop, report=report)
            job.device_name = job.result["recipe"]["device"]
            job.error = job.result["recipe"].get("error")
            job.status = store.get(job.run)["status"]
        except Exception as exc:  # noqa: BLE001 — the worker must survive any failing run; the store says why
            job.status, job.error = "failed", str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def _epoch_points(entry: dict, train: bool = True) -> list[dict]:
    point = {"epoch": float(entry["epoch"]), "test_acc": entry["test_acc"]}
    if train:
        point.update(loss=entry["loss"], train_acc=entry["train_acc"])
    return [point]


_MANAGER: JobManager | None = None
_MANAGER_LOCK = threading.Lock()


def manager() -> JobManager:
    """This process's job manager (created on first use)."""
    global _MANAGER
    with _MANAGER_LOCK:
        if _MANAGER is None:
            _MANAGER = JobManager()
        return _MANAGER
