"""Training jobs for the app: one worker thread per process runs one job at a time, the others queue.

The Train page submits a job and polls :func:`manager` — the job lives here, not in the Streamlit script, so it
survives page navigation, reruns and other sessions, and every session sees the same queue. Each job is a run in the
store (:mod:`explorer.runtime.runs`), recorded exactly as the CLI records its runs, and waits its turn in the
store's line: one run trains at a time per machine, whichever process (another app server, a CLI ``train``) started
it. A job trains through :mod:`explorer.runtime.runner`, as the CLI does: in this process, or in N processes (several
GPUs) through torchrun's launcher; either way its curve comes from the same ``on_step`` / ``on_epoch`` callbacks.

While a worker (``python -m explorer worker``, :mod:`explorer.runtime.worker`) is registered in the store, a job does
not train here: its run waits in the store for a worker, and a thread follows it there (status from the store, the
curve from the run's progress file, Stop through its stop file). With no live worker, the app trains as above.

A run belongs to whoever started it (``owner``: a browser's learner id, the shell user for the CLI): only its owner,
or the teacher, may stop or resume it; a new run first passes the class's limits (:mod:`explorer.runtime.limits`).
"""

from __future__ import annotations

import subprocess
import threading
import time
from collections import deque
from dataclasses import dataclass, field, replace

from ..i18n import N_, ExplorerError, InvalidValue, Message, Quoted
from . import coderun, lease, runner, runs, worker
from . import train as engine
from .limits import ClassLimits


@dataclass
class Job:
    """One run as the page sees it; the worker thread updates it, the page only reads it."""

    run: str
    model: str
    recipe: engine.Recipe
    device: str
    limit: int | None
    resume: bool = False
    nproc: int = 1
    owner: str | None = None  # who started it (the store's owner); None: the shell user
    code: str | None = None  # a playground network's code: it trains in a limited child process (coderun)
    memory: int | None = None  # the bytes that network was checked to need
    remote: bool = False  # handed to the workers: a worker trains it, this process follows it in the store
    status: str = "queued"
    points: list[dict] = field(default_factory=list)  # live curve: {"epoch": x, "loss"/"train_acc"/"test_acc"}
    progress: float = 0.0
    eta: float | None = None
    samples_per_s: float | None = None
    device_name: str | None = None
    result: engine.TrainResult | None = None
    error: Message | str | None = None
    stop: threading.Event = field(default_factory=threading.Event)
    ended: threading.Event = field(default_factory=threading.Event)  # set once it is over and the machine is free


class NotYours(ExplorerError, PermissionError):
    """Stopping or resuming a run that another learner started (only its owner or the teacher may)."""


def may_control(owner: str | None, who: str | None, teacher: bool = False) -> bool:
    """Whether ``who`` may stop or resume a run of ``owner``: its owner, or the teacher (a run recorded before owners
    were: the teacher only)."""
    return teacher or (owner is not None and owner == who)


class JobManager:
    """A FIFO queue and one daemon worker thread; all methods are safe to call from any session's thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: deque[Job] = deque()
        self._jobs: dict[str, Job] = {}
        self._current: Job | None = None
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._looked: tuple[float, Job | None] = (-1.0, None)  # elsewhere()'s last look: when, what it found
        runs.Store().recover()  # the app starting: runs of processes that died are interrupted

    def submit(self, model_id: str, recipe: engine.Recipe, device: str = "auto", limit: int | None = None,
               nproc: int = 1, *, owner: str | None = None, limits: ClassLimits | None = None,
               estimate_s: float | None = None) -> Job:
        """Queue a new run of ``nproc`` processes for ``owner`` (checked first: a bad recipe raises one
        ``ValueError``; with ``limits``, a run the class's limits refuse raises
        :class:`~explorer.runtime.limits.LimitReached` — ``estimate_s`` is its estimated duration)."""
        if nproc < 1:
            raise InvalidValue(N_("the number of processes must be at least 1, not {value}"), value=nproc)
        engine.validate(engine.get_spec(model_id), recipe, limit, nproc)
        return self._submit(Job("", model_id, recipe, device, limit, nproc=nproc, owner=owner), limits, estimate_s)

    def submit_code(self, code: str, recipe: engine.Recipe, device: str = "auto", limit: int | None = None, *,
                    memory: int, owner: str | None = None, limits: ClassLimits | None = None,
                    estimate_s: float | None = None) -> Job:
        """Queue a run of a playground network (its ``code``, trained at the recipe's ``resize``, which must be
        set), checked first — by the caller, from its analysis (:func:`explorer.runtime.coderun.check_network`:
        ``memory`` is the bytes it needs) — and here, as :meth:`submit` checks a zoo model's recipe. It trains in a
        limited child process."""
        side = recipe.resize
        if side is None:
            raise InvalidValue(N_("a playground network's recipe must name the side its images are resized to"))
        engine.validate(coderun.network_spec(code, (1, side, side)), recipe, limit)
        job = Job("", coderun.code_id(code), recipe, device, limit, owner=owner, code=code, memory=memory)
        return self._submit(job, limits, estimate_s)

    def _submit(self, job: Job, limits: ClassLimits | None, estimate_s: float | None) -> Job:
        engine.pick_device(job.device)
        with self._lock:  # the limits, the store's line and this queue seen and changed together
            store = runs.Store()
            if limits is not None:
                limits.check(mine=len(store.active(job.owner)) if job.owner else 0, queued=len(store.active()),
                             estimate_s=estimate_s)
            job.run = store.create(job.model, job.recipe, job.device, job.nproc, job.limit, owner=job.owner,
                                   code=job.code)
            return self._hand_over(store, job) if worker.live(store) else self._enqueue(job)

    def resume(self, run: str, device: str = "auto", *, by: str | None = None, teacher: bool = False,
               limits: ClassLimits | None = None, memory: int | None = None) -> Job:
        """Queue an interrupted or stopped run to continue from its last completed epoch. With ``by`` (a learner),
        only its owner or the ``teacher`` may, and ``limits`` apply as to a new run (its duration aside). A
        playground network's run trains in a limited child process (``memory``: the bytes it was checked to need;
        its code is checked again there)."""
        store = runs.Store()
        row = store.get(run)
        owner = row["owner"]
        if by is not None:
            self._check_owner(run, owner, by, teacher)
        model_id, recipe, limit, checkpoint = runner.resume_args(store, run)
        job = Job(run, model_id, recipe, device, limit, resume=True, owner=owner, code=row["code"], memory=memory)
        if checkpoint is not None:
            job.points = [_epoch_point(h) for h in checkpoint.history]
        with self._lock:
            if limits is not None and not teacher:
                limits.check(mine=len(store.active(by)), queued=len(store.active()), estimate_s=None)
            return self._hand_over(store, job) if worker.live(store) else self._enqueue(job)

    @staticmethod
    def _check_owner(run: str, owner: str | None, by: str | None, teacher: bool) -> None:
        if not may_control(owner, by, teacher):
            raise NotYours(N_("run {run} belongs to another learner: only they or the teacher can stop or resume "
                              "it"), run=run)

    def _enqueue(self, job: Job) -> Job:
        """(Under ``self._lock``.) Into the store's line and this process's queue."""
        runs.Store().enter_line(job.run)
        self._jobs[job.run] = job
        self._queue.append(job)
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._work, name="explorer-training", daemon=True)
            self._thread.start()
        self._wake.set()
        return job

    def _hand_over(self, store: runs.Store, job: Job) -> Job:
        """(Under ``self._lock``.) A live worker is registered: the run waits in the store for a worker
        (:mod:`explorer.runtime.worker`), and a thread of this process follows it there."""
        job.remote = True
        store.hand_to_workers(job.run)
        self._jobs[job.run] = job
        self._start_following(job)
        return job

    def _start_following(self, job: Job) -> None:
        threading.Thread(target=self._follow, args=(job,), name=f"explorer-follow-{job.run}", daemon=True).start()

    def _follow(self, job: Job, poll: float = 0.5, recover_every: float = 5.0) -> None:
        """Keep ``job`` up to date with its run, which a worker trains: status and device from the store, the
        curve from the run's progress file (the same events as a local run's callbacks), how it ended. A worker
        that died is noticed by :meth:`~explorer.runtime.runs.Store.recover` (the run ends interrupted)."""
        store = runs.Store()
        channel = runner.ProgressFile(store.folder(job.run) / "progress.jsonl")
        said: list[Message] = []

        def deliver() -> None:
            for event in channel.read():
                if isinstance(event, Message):
                    said.append(event)
                elif isinstance(event, engine.StepEvent):
                    job.points.append({"epoch": event.x, "loss": event.loss, "train_acc": event.train_acc})
                    job.progress, job.eta, job.samples_per_s = event.done, event.eta, event.samples_per_s
                else:
                    job.points.append({"epoch": float(event.epoch), "test_acc": event.test_acc})
                    job.samples_per_s = event.samples_per_s

        try:
            recovered = time.monotonic()
            while (row := store.get(job.run))["status"] in runs.ACTIVE:
                if row["status"] == "running":
                    job.status, job.device_name = "running", row["device"]
                    deliver()
                if time.monotonic() - recovered > recover_every:
                    store.recover()
                    recovered = time.monotonic()
                time.sleep(poll)
            deliver()
            job.status, job.device_name = row["status"], row["device"]
            if row["status"] in ("done", "stopped") and row["info"]:
                job.result = engine.TrainResult.from_info(job.model, row["info"], job.run, row["world_size"])
                job.progress = 1.0 if row["status"] == "done" else job.progress
            job.error = said[0] if said else (Quoted(row["error"]) if row["error"] else None)
        except Exception as exc:  # noqa: BLE001 — the page must learn that following failed
            job.status = "failed"
            job.error = exc.message if isinstance(exc, ExplorerError) else Quoted(str(exc) or type(exc).__name__)
        finally:
            job.ended.set()

    def get(self, run: str) -> Job | None:
        return self._jobs.get(run)

    def elsewhere(self, every: float = 1.0) -> Job | None:
        """The run the workers have now — the oldest running, else the first waiting — whichever process handed it
        to them (another replica of the app sharing the store), followed here as this process follows the runs it
        hands over: how every replica shows it live. The store is asked at most once per ``every`` seconds, however
        many sessions ask."""
        with self._lock:
            when, found = self._looked
            if time.monotonic() - when < every:
                return found
        store = runs.Store()
        rows = [row for row in map(store.get, store.active()) if row["queue"] == runs.WORKERS]
        row = next((r for r in rows if r["status"] == "running"), rows[0] if rows else None)
        with self._lock:
            found = None if row is None else self._jobs.get(row["id"])
            if row is not None and found is None:
                found = Job(row["id"], row["model"], replace(engine.Recipe(), **row["recipe"]), row["device"],
                            row["train_limit"], nproc=row["world_size"], owner=row["owner"], code=row["code"],
                            remote=True)
                self._jobs[found.run] = found
                self._start_following(found)
            self._looked = (time.monotonic(), found)
        return found

    def current(self) -> Job | None:
        """The job training in this process (a run the workers have: :meth:`elsewhere`)."""
        return self._current

    def position(self, run: str) -> int | None:
        """0 while ``run`` trains, 1, 2, … while it waits in the machine's line (runs of every process sharing the
        store), ``None`` when it is neither."""
        job = self._jobs.get(run)
        if job is not None and job.status == "running":
            return 0
        if job is not None and job.remote:
            waiting = runs.Store().queued_for_workers()
            return waiting.index(run) + 1 if run in waiting else None
        return runs.Store().position(run)

    def stop(self, run: str, *, by: str | None = None, teacher: bool = False) -> None:
        """Stop ``run``: a queued one leaves the queue, a running one stops at its next report point (keeping its
        last completed epoch). With ``by`` (a learner), only the run's owner or the ``teacher`` may
        (:class:`NotYours` otherwise)."""
        job = self._jobs.get(run)
        if job is None:
            return
        if by is not None:
            self._check_owner(run, job.owner, by, teacher)
        if job.remote:  # waiting for a worker: out of the queue; trained by one: its stop file
            if not runs.Store().withdraw(run):
                runs.Store().request_stop(run)
            return
        with self._lock:
            if job in self._queue:
                self._queue.remove(job)
                job.status = "stopped"
                runs.Store().leave_line(run)
                runs.Store().finish(run, "stopped")
                job.ended.set()
                return
        job.stop.set()
        if job.nproc > 1 or job.code is not None:  # its processes watch a file, not this event
            runs.Store().request_stop(run)

    def wait(self, run: str, timeout: float = 60) -> Job | None:
        """Block until ``run`` ends and its turn on the machine is given back (tests, scripts)."""
        job = self._jobs.get(run)
        if job is not None:
            job.ended.wait(timeout)
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
        try:
            with lease.turn(store, job.run, stop=job.stop) as mine:
                if not mine:  # stopped while it waited for its turn
                    store.finish(job.run, "stopped")
                    job.status = "stopped"
                    return
                self._train(store, job)
        except Exception as exc:  # noqa: BLE001 — the worker must survive any failing run; the store says why
            job.status = "failed"  # the error's own message when it carries one: the page shows it in its language
            job.error = exc.message if isinstance(exc, ExplorerError) else Quoted(
                str(exc).splitlines()[0] if str(exc) else type(exc).__name__)  # another program's words
        finally:
            job.ended.set()  # after the turn's exit: the lease is released by now

    def _train(self, store: runs.Store, job: Job) -> None:
        """Train the job's run (in this process, or in ``job.nproc`` processes through torchrun's launcher); its
        curve from the run's callbacks: running means per report point, the test accuracy per epoch."""
        job.status = "running"
        job.device_name = engine.pick_device(job.device).type

        def on_step(event: engine.StepEvent) -> None:
            job.points.append({"epoch": event.x, "loss": event.loss, "train_acc": event.train_acc})
            job.progress, job.eta, job.samples_per_s = event.done, event.eta, event.samples_per_s

        def on_epoch(entry: engine.Epoch) -> None:
            job.points.append({"epoch": float(entry.epoch), "test_acc": entry.test_acc})
            job.samples_per_s = entry.samples_per_s

        if job.nproc > 1 or job.code is not None:
            if job.code is not None:  # a playground network: user code on real tensors, never in this process
                launched = coderun.launch_code(store, job.run, job.device, job.memory, resume=job.resume,
                                               on_step=on_step, on_epoch=on_epoch, stdout=subprocess.DEVNULL)
            else:
                argv = runner.train_argv(job.model, job.recipe, job.device, job.limit)
                launched = runner.launch(store, job.run, argv, job.nproc, on_step=on_step, on_epoch=on_epoch,
                                         stdout=subprocess.DEVNULL)
            row = store.get(job.run)
            job.status, job.device_name = row["status"], row["device"]
            text = row["error"] or launched.error_line  # the words of a run that sent no message: quoted as they are
            job.error = launched.error or (Quoted(text) if text else None)  # the run's message when it sent one
            if row["status"] in ("done", "stopped"):
                job.result = engine.TrainResult.from_info(job.model, row["info"], job.run, job.nproc)
                job.progress = 1.0 if row["status"] == "done" else job.progress
            return
        checkpoint = store.checkpoint(job.run) if job.resume else None
        _, result = runner.execute(store, job.run, job.model, job.recipe, job.device, job.limit, resume=checkpoint,
                                   on_step=on_step, on_epoch=on_epoch, stop=job.stop, report=lambda line: None)
        job.result, job.device_name, job.error = result, result.device, result.error
        job.status = store.get(job.run)["status"]


def _epoch_point(entry: engine.Epoch) -> dict:
    return {"epoch": float(entry.epoch), "test_acc": entry.test_acc, "loss": entry.loss, "train_acc": entry.train_acc}


@dataclass(frozen=True)
class Parallel:
    """How many processes a run started from the page may use, and the process group's backend."""

    nproc: tuple[int, ...]  # the allowed numbers of processes
    backend: str | None  # "nccl" (one process per GPU); None for a single process

    @property
    def offered(self) -> bool:
        """Whether the page shows the choice (more than one value)."""
        return len(self.nproc) > 1


def parallel_options(cuda_devices: int, device_type: str) -> Parallel:
    """The page's "processes / GPUs" choice: 1 to ``cuda_devices`` processes over NCCL when the run trains on CUDA
    and there are several GPUs (one process per GPU, through torchrun); otherwise one process."""
    if device_type == "cuda" and cuda_devices > 1:
        return Parallel(tuple(range(1, cuda_devices + 1)), "nccl")
    return Parallel((1,), None)


_MANAGER: JobManager | None = None
_MANAGER_LOCK = threading.Lock()


def manager() -> JobManager:
    """This process's job manager (created on first use)."""
    global _MANAGER
    with _MANAGER_LOCK:
        if _MANAGER is None:
            _MANAGER = JobManager()
        return _MANAGER
