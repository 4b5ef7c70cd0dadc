"""Workers: ``python -m explorer worker`` trains the runs the app hands to the workers, from the shared store.

A worker registers itself (a row of the store's ``workers`` table: host, pid, device, processes, a heartbeat every
:data:`BEAT_S`), then loops: claim the oldest run waiting in the workers' queue, train it, claim the next. While a
live worker is registered (:func:`live`), the app's training jobs (:mod:`explorer.runtime.jobs`) only queue their
runs (:meth:`~explorer.runtime.runs.Store.hand_to_workers`) and follow them through the store and the run's progress
file; with none, the app trains in its own process as before.

The queue is the ``runs`` table itself: a claim is one write transaction that picks the oldest queued run handed to
the workers and marks it running in this process. On PostgreSQL the pick is ``SELECT … FOR UPDATE SKIP LOCKED``:
workers claiming at once each lock a different row, none waits for another, and no run is claimed twice; on SQLite
the transaction is IMMEDIATE (the file's write lock). Row locks in the store we already have, rather than a queue
library (procrastinate, pgqueuer): the run's row already is the job — its status, owner, heartbeat and epochs —
and it must work the same on the SQLite file, which a PostgreSQL queue library does not serve.

A run trains as the app trains it (:mod:`explorer.runtime.runner`): in this process for one process, through
torchrun's launcher for ``--nproc N`` (one process per GPU), a playground network in its limited child process
(:mod:`explorer.runtime.coderun`). Its progress goes to ``<run>/progress.jsonl`` under the artifact root, where the
app's job reads it; the app's Stop reaches it through ``<run>/stop``. A run with completed epochs (one resumed after
its worker died) continues from the last, to the same weights as an uninterrupted run. A worker killed mid-run
leaves its run *running* with a dead pid: :meth:`~explorer.runtime.runs.Store.recover` (any process sharing the
store) marks it *interrupted*, and resuming it hands it to the workers again.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import replace

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import SQLAlchemyError

from ..i18n import ExplorerError
from . import runner, runs
from . import store as db
from . import train as engine
from .store import WORKER_STALE_S

POLL_S = 1.0  # seconds between looks at an empty queue


def live(store: runs.Store) -> list[dict]:
    """The registered workers that are still there (a live pid on this host, or a heartbeat younger than
    :data:`WORKER_STALE_S`): ``{"id", "host", "pid", "device", "nproc", "started", "heartbeat", "run"}``."""
    with db.reading(store.engine) as conn:
        found = db.rows(conn.execute(select(db.workers).order_by(db.workers.c.started)))
    now = time.time()
    return [w for w in found if db.present(w, now, WORKER_STALE_S)]


def register(store: runs.Store, device: str, nproc: int) -> str:
    """Register this process as a worker; its id (``host-pid-xxxx``). Rows of long gone workers are dropped (a
    recently silent one stays a while: :meth:`~explorer.runtime.runs.Store.recover` reads it to interrupt its run)."""
    now, host, pid = time.time(), socket.gethostname(), os.getpid()
    worker = f"{host}-{pid}-{secrets.token_hex(2)}"
    gone = [w["id"] for w in _all(store) if not db.present(w, now)]
    with db.writing(store.engine) as conn:
        if gone:
            conn.execute(delete(db.workers).where(db.workers.c.id.in_(gone)))
        conn.execute(insert(db.workers).values(id=worker, host=host, pid=pid, device=device, nproc=nproc,
                                               started=now, heartbeat=now, run=None))
    return worker


def _all(store: runs.Store) -> list[dict]:
    with db.reading(store.engine) as conn:
        return db.rows(conn.execute(select(db.workers)))


def beat_worker(store: runs.Store, worker: str, run: str | None = None) -> None:
    with db.writing(store.engine) as conn:
        conn.execute(update(db.workers).where(db.workers.c.id == worker).values(heartbeat=time.time(), run=run))


def unregister(store: runs.Store, worker: str) -> None:
    with db.writing(store.engine) as conn:
        conn.execute(delete(db.workers).where(db.workers.c.id == worker))


def claim_run(store: runs.Store, worker: str) -> str | None:
    """Take the oldest run waiting for a worker (marked running in this process); ``None`` when none waits."""
    now = time.time()
    with db.writing(store.engine) as conn:
        oldest = (select(db.runs.c.id).where(db.runs.c.status == "queued", db.runs.c.queue == runs.WORKERS)
                  .order_by(db.runs.c.started, db.order_key(conn)).limit(1))
        if not db.is_sqlite(conn):
            oldest = oldest.with_for_update(skip_locked=True)
        row = conn.execute(oldest).first()
        if row is None:
            return None
        conn.execute(update(db.runs).where(db.runs.c.id == row.id).values(
            status="running", pid=os.getpid(), host=socket.gethostname(), heartbeat=now, error=None, finished=None))
        conn.execute(update(db.workers).where(db.workers.c.id == worker).values(run=row.id, heartbeat=now))
    return row.id


def train_claimed(store: runs.Store, run: str, device: str = "auto", nproc: int = 1,
          say: Callable[[str], None] = print) -> str:
    """Train the claimed ``run`` (from its last completed epoch when it has one); how it ended (its status). A run
    that cannot train (its files disagree with its rows, its code no longer parses …) ends failed, saying why."""
    channel = runner.ProgressFile(store.folder(run) / "progress.jsonl")
    try:
        row = store.get(run)
        recipe = replace(engine.Recipe(), **row["recipe"])
        checkpoint = store.checkpoint(run) if store.epochs(run) else None
        channel.path.parent.mkdir(parents=True, exist_ok=True)
        say(f"run {run} ({row['model']}): training from "
            f"{f'epoch {checkpoint.epoch + 1}' if checkpoint else 'the start'} on {device}")
        if row["code"] is not None:  # a playground network: user code on real tensors, only in its limited child
            from . import coderun

            coderun.launch_code(store, run, device, resume=checkpoint is not None, stdout=subprocess.DEVNULL)
        elif nproc > 1 and checkpoint is None:  # workers do not wait for the lease: --no-queue
            argv = runner.train_argv(row["model"], recipe, device, row["train_limit"], ["--no-queue"])
            runner.launch(store, run, argv, nproc, stdout=subprocess.DEVNULL)
        else:  # one process; a resumed run continues in one process, as the app resumes it
            runner.execute(store, run, row["model"], recipe, device, row["train_limit"], resume=checkpoint,
                           on_step=lambda e: channel.write("step", e), on_epoch=lambda e: channel.write("epoch", e),
                           stop=runs.StopFile(store.folder(run) / "stop"), report=say)
    except Exception as exc:  # noqa: BLE001 — the worker outlives any run; the store says how it ended
        if isinstance(exc, ExplorerError):
            channel.write_error(exc.message)
        if store.get(run)["status"] in runs.ACTIVE:
            store.finish(run, "failed", error=str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
    status = store.get(run)["status"]
    say(f"run {run}: {status}")
    return status


def work(device: str = "auto", nproc: int = 1, *, once: bool = False, poll: float = POLL_S,
          say: Callable[[str], None] = print, stop: threading.Event | None = None) -> int:
    """Register, then claim and train queued runs until ``stop`` is set (or, with ``once``, until the queue is
    empty); the number of runs trained. A heartbeat thread keeps the worker's row fresh all along."""
    store = runs.Store()
    store.recover()
    worker = register(store, device, nproc)
    say(f"worker {worker}: {device}, {nproc} process(es); store {store.where}")
    current: list[str | None] = [None]
    done = threading.Event()

    def keep() -> None:
        while not done.wait(db.BEAT_S):
            try:
                beat_worker(store, worker, current[0])
            except SQLAlchemyError:  # a busy store: the next beat will do
                pass

    beating = threading.Thread(target=keep, name="explorer-worker-beat", daemon=True)
    beating.start()
    trained = 0
    try:
        while stop is None or not stop.is_set():
            run = claim_run(store, worker)
            if run is None:
                if once:
                    break
                time.sleep(poll)
                continue
            current[0] = run
            train_claimed(store, run, device, nproc, say)
            current[0] = None
            trained += 1
    finally:
        done.set()
        beating.join()
        unregister(store, worker)
    return trained
