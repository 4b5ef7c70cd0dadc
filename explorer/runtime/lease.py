"""One run trains at a time per machine: wait in the store's line for the machine's training lease, hold it while the
run trains (a heartbeat thread keeps it and the run alive), give it back.

The line and the lease are tables of the run store (:class:`explorer.runtime.runs.Store`: ``enter_line``,
``claim``, ``release``); this module is the waiting around them, shared by the CLI and the app's training jobs.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from ..i18n import N_, Message, Ordinal
from .runs import BEAT_S, Store


def waiting_message(store: Store, run: str) -> Message:
    """"queued, 2nd in line — run … (lenet) is training on this machine" for a run waiting for the lease."""
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
    """Wait in line until ``run`` holds the machine's training lease, hold it (a heartbeat thread keeps it and the
    run alive) while the body trains, then give it back. Yields ``True``; ``False`` when ``stop`` was set while
    waiting (then nothing may train). ``on_wait`` gets :func:`waiting_message` whenever the place in line changes.
    Ctrl-C while waiting marks the run interrupted."""
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
    except BaseException as exc:  # never leave a place in line that nobody will claim: it would block the line
        store.leave_line(run)
        if isinstance(exc, KeyboardInterrupt):
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
            except sqlite3.Error:  # a busy store: the next beat will do
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
