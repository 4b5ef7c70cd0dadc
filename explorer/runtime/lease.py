"""One run trains at a time per store: the line (first come, first served), the single training lease, and the wait
for it. :func:`turn` waits in line, holds the lease while the run trains (a heartbeat thread keeps it and the run
alive) and gives it back; it is shared by the CLI and the app's training jobs.

The line and the lease are tables of the run store (:mod:`explorer.runtime.store`); :class:`explorer.runtime.runs.
Store`'s ``enter_line``, ``claim``, ``release``, ``holder``, ``line`` and ``position`` are the functions here. A claim
is decided in one write transaction: on SQLite an IMMEDIATE one (the file's write lock from the first statement), on
PostgreSQL the lease row read ``FOR UPDATE`` and taken with ``INSERT … ON CONFLICT DO NOTHING`` (its primary key
decides between two processes claiming at once). A holder whose process is gone (dead pid on this host, or no
heartbeat for ``STALE_S``) frees it, and its run is marked interrupted (:func:`recover`).

Runs handed to the workers (:mod:`explorer.runtime.worker`) do not wait here: the workers' queue is the ``runs``
table itself.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from sqlalchemy import and_, delete, exc, or_, select, update
from sqlalchemy.engine import Connection, Engine

from ..i18n import N_, Message, Ordinal
from .store import BEAT_S, STALE_S, WORKER_STALE_S, alive, insert, is_sqlite, present, reading, rows, writing
from .store import lease as lease_table
from .store import line as line_table
from .store import runs as runs_table
from .store import workers as workers_table

if TYPE_CHECKING:
    from .runs import Store

LEASE_ID = 1


def recover(conn: Connection) -> list[str]:
    """(In a write transaction.) Mark "interrupted" every queued or running run whose process is gone (dead pid on
    this host, or no heartbeat for ``STALE_S``) — a run waiting in the workers' queue belongs to no process — and
    free the places in line and the lease that gone processes held. A run a worker trains in its own process is
    gone as soon as that worker is (silent for ``WORKER_STALE_S``, on any machine). The ids marked."""
    host, now = socket.gethostname(), time.time()
    lost = {(w["run"], w["pid"], w["host"]) for w in rows(conn.execute(
        select(workers_table).where(workers_table.c.run.is_not(None)))) if not present(w, now, WORKER_STALE_S)}
    candidates = rows(conn.execute(
        select(runs_table.c.id, runs_table.c.pid, runs_table.c.host, runs_table.c.heartbeat).where(
            or_(runs_table.c.status == "running",
                and_(runs_table.c.status == "queued", or_(runs_table.c.queue.is_(None),
                                                          runs_table.c.queue != "workers"))))
        .order_by(runs_table.c.id)))  # one order of row locks for every process (PostgreSQL: no deadlock)
    gone = [r["id"] for r in candidates
            if (r["host"] == host and not alive(r["pid"])) or now - (r["heartbeat"] or 0) > STALE_S
            or (r["id"], r["pid"], r["host"]) in lost]
    for run in gone:
        conn.execute(update(runs_table).where(runs_table.c.id == run).values(
            status="interrupted", error="the process running it stopped before it finished"))
    for table in (line_table, lease_table):
        for r in rows(conn.execute(select(table))):
            if not present(r, now):
                conn.execute(delete(table).where(table.c.run == r["run"]))
    return gone


def enter_line(eng: Engine, run: str) -> None:
    """Put ``run`` at the end of the line, owned by this process (a stopped or interrupted run being resumed becomes
    queued again)."""
    now, pid, host = time.time(), os.getpid(), socket.gethostname()
    with writing(eng) as conn:
        conn.execute(insert(conn, line_table).values(run=run, pid=pid, host=host, heartbeat=now)
                     .on_conflict_do_nothing(index_elements=["run"]))
        conn.execute(update(runs_table).where(runs_table.c.id == run, runs_table.c.status != "running").values(
            status="queued", pid=pid, host=host, heartbeat=now, error=None, finished=None, queue=None))


def leave_line(eng: Engine, run: str) -> None:
    with writing(eng) as conn:
        conn.execute(delete(line_table).where(line_table.c.run == run))


def claim(eng: Engine, run: str) -> bool | None:
    """Try to take the lease for ``run``: ``True`` when taken now, ``False`` when ``run`` already holds it (the
    launcher of its processes took it), ``None`` when it is not ``run``'s turn (another run holds the lease, or runs
    entered the line before it). A lease whose holder is gone is taken over."""
    now, pid, host = time.time(), os.getpid(), socket.gethostname()
    try:
        with writing(eng) as conn:
            recover(conn)
            held = select(lease_table).where(lease_table.c.id == LEASE_ID)
            found = conn.execute(held if is_sqlite(conn) else held.with_for_update()).first()
            if found is not None and found.run == run:
                conn.execute(delete(line_table).where(line_table.c.run == run))
                return False
            if found is not None:
                return None
            waiting = rows(conn.execute(select(line_table).order_by(line_table.c.seq)))
            first = next((r["run"] for r in waiting if present(r, now)), None)
            if first is not None and first != run:
                return None
            taken = conn.execute(insert(conn, lease_table).values(
                id=LEASE_ID, run=run, pid=pid, host=host, heartbeat=now, since=now).on_conflict_do_nothing()
                .returning(lease_table.c.run)).first()
            if taken is None:  # another process took it between our read and our insert (PostgreSQL)
                return None
            conn.execute(delete(line_table).where(line_table.c.run == run))
            conn.execute(update(runs_table).where(runs_table.c.id == run).values(heartbeat=now))
    except exc.OperationalError:  # PostgreSQL chose this transaction to end a deadlock: try again at the next poll
        if is_sqlite(eng):
            raise
        return None
    return True


def release(eng: Engine, run: str) -> None:
    """Give the lease back (only if ``run`` holds it)."""
    with writing(eng) as conn:
        conn.execute(delete(lease_table).where(lease_table.c.run == run))


def holder(eng: Engine) -> dict | None:
    """The lease: ``{"run", "model", "pid", "host", "since"}`` of the run training now, or ``None``."""
    with reading(eng) as conn:
        found = rows(conn.execute(
            select(lease_table.c.run, runs_table.c.model, lease_table.c.pid, lease_table.c.host,
                   lease_table.c.heartbeat, lease_table.c.since)
            .select_from(lease_table.outerjoin(runs_table, runs_table.c.id == lease_table.c.run))
            .where(lease_table.c.id == LEASE_ID)))
    if not found or not present(found[0]):
        return None
    return {k: found[0][k] for k in ("run", "model", "pid", "host", "since")}


def waiting(eng: Engine) -> list[str]:
    """The runs waiting for the lease, first in line first (places of gone processes left out)."""
    now = time.time()
    with reading(eng) as conn:
        found = rows(conn.execute(select(line_table).order_by(line_table.c.seq)))
    return [r["run"] for r in found if present(r, now)]


def beat(conn: Connection, run: str, now: float) -> None:
    """(In a write transaction.) The lease's heartbeat when ``run`` holds it, and this process's places in line."""
    conn.execute(update(lease_table).where(lease_table.c.run == run).values(heartbeat=now))
    conn.execute(update(line_table).where(line_table.c.pid == os.getpid(), line_table.c.host == socket.gethostname())
                 .values(heartbeat=now))


def waiting_message(store: Store, run: str) -> Message:
    """"queued, 2nd in line — run … (lenet) is training on this machine" for a run waiting for the lease;
    "queued for a worker, 2nd in line" for a run waiting in the workers' queue."""
    for_workers = store.queued_for_workers()
    if run in for_workers:
        return Message(N_("queued for a worker, {position} in line"),
                       {"position": Ordinal(for_workers.index(run) + 1)})
    position, held = store.position(run), store.holder()
    if held is None:
        return (Message(N_("queued, {position} in line"), {"position": Ordinal(position)}) if position
                else Message(N_("queued")))
    if position:
        return Message(N_("queued, {position} in line — run {run} ({model}) is training on this machine"),
                       {"position": Ordinal(position), "run": held["run"], "model": held["model"]})
    return Message(N_("queued — run {run} ({model}) is training on this machine"),
                   {"run": held["run"], "model": held["model"]})


@contextmanager
def turn(store: Store, run: str, *, stop=None, on_wait: Callable[[Message], None] | None = None,
         poll: float = 0.5) -> Iterator[bool]:
    """Wait in line until ``run`` holds the training lease, hold it (a heartbeat thread keeps it and the run alive)
    while the body trains, then give it back. Yields ``True``; ``False`` when ``stop`` was set while waiting (then
    nothing may train). ``on_wait`` gets :func:`waiting_message` whenever the place in line changes. Ctrl-C while
    waiting marks the run interrupted."""
    store.enter_line(run)
    said = None
    try:
        while (mine := store.claim(run)) is None:
            if stop is not None and stop.is_set():
                store.leave_line(run)
                break
            store.beat(run)
            if on_wait is not None and (message := waiting_message(store, run)) != said:
                on_wait(message)
                said = message
            time.sleep(poll)
    except BaseException as exc_:  # never leave a place in line that nobody will claim: it would block the line
        store.leave_line(run)
        if isinstance(exc_, KeyboardInterrupt):
            store.finish(run, "interrupted", error="interrupted (Ctrl-C) while queued")
        raise
    if mine is None:
        yield False
        return
    done = threading.Event()

    def keep() -> None:
        while not done.wait(BEAT_S):
            try:
                store.beat(run)
            except exc.SQLAlchemyError:  # a busy store: the next beat will do
                pass

    beating = threading.Thread(target=keep, name=f"explorer-lease-{run}", daemon=True)
    beating.start()
    try:
        yield True
    finally:
        done.set()
        beating.join()
        if mine:
            store.release(run)
