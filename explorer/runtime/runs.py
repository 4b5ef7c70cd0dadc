"""The run store: every training run (CLI, Train page, torchrun, workers) kept in one database, its files beside it.

The database is ``$EXPLORER_STORE_URL`` — by default the SQLite file ``$EXPLORER_HOME/runs.sqlite`` (default
``~/.cache/cnn-explorer``; WAL mode, so the page reads while a run writes), or a PostgreSQL database several machines
share (:mod:`explorer.runtime.store`). It holds each run's model, recipe, device, world size, status, start time
(ISO 8601 UTC), pid + host + heartbeat, and one row per completed epoch with its metrics and its weights file
(``<run>/epoch-NNN.safetensors`` under the artifact root ``$EXPLORER_ARTIFACTS``, default ``$EXPLORER_HOME/runs``).
Each run also records who started it (``owner``: ``user:<name>`` for the shell user of a CLI run, ``learner:<id>``
for a browser's anonymous learner id): only its owner, or the teacher, may stop or resume it in the app.
``<run>/resume.safetensors`` holds the optimizer, scheduler and RNG state of the last completed epoch:
:meth:`Store.recover` marks the runs of dead processes "interrupted", and
:func:`explorer.runtime.runner.execute` with their :meth:`Store.checkpoint` continues them exactly where they were.

One run trains at a time per store, whichever process started it: the line and the lease
(:mod:`explorer.runtime.lease`). A run handed to the workers (:meth:`Store.hand_to_workers`) waits in the store until
a worker claims it (:mod:`explorer.runtime.worker`).

The schema has a version (:data:`RUNS_SCHEMA_VERSION`); opening a store of an older version migrates it in place,
keeping every row (:func:`explorer.runtime.store.migrate`).

This module is the runs and their files: the database is :mod:`explorer.runtime.store`, training a run
:mod:`explorer.runtime.runner`, the wait for the lease :mod:`explorer.runtime.lease`, classifying with a run's
weights :mod:`explorer.runtime.inference_runs`.
"""

from __future__ import annotations

import getpass
import json
import os
import secrets
import socket
import time
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path

import torch
from sqlalchemy import and_, func, select, update
from sqlalchemy import insert as sql_insert
from sqlalchemy.exc import IntegrityError

from ..i18n import N_, ExplorerError
from . import lease
from . import store as db
from . import train as engine
from .store import BEAT_S, RUNS_SCHEMA_VERSION, STALE_S, NewerStore, home  # noqa: F401 — this module's interface

STATUSES = (N_("queued"), N_("running"), N_("done"), N_("stopped"), N_("failed"), N_("interrupted"))
RESUMABLE = ("interrupted", "stopped")
ACTIVE = ("queued", "running")
WORKERS = "workers"  # runs.queue of a run handed to the workers
_RUN_COLUMNS = tuple(db.runs.c)  # a run's row (PostgreSQL's creation order column left out)


class UnknownRun(ExplorerError, KeyError):
    """No run has this id in the store (a ``KeyError``)."""

    def __str__(self) -> str:  # the sentence, not KeyError's quoted repr of it
        return str(self.message)


class StoreMismatch(ExplorerError, ValueError):
    """The store's files and its table disagree about a run (a process died between the two writes)."""


def shell_owner() -> str:
    """The owner of a run started from a shell (the CLI): ``user:<login name>``."""
    try:
        name = getpass.getuser()
    except (KeyError, OSError):  # no login name for this uid (a bare container)
        name = str(os.getuid())
    return f"user:{name}"


def _now_iso() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class StopFile:
    """A stop flag that is a file (``runs/<run>/stop``): set from any process by :meth:`Store.request_stop` (even
    before the training process gets there); the engine only calls :meth:`is_set`. :func:`resume_args` clears it."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def is_set(self) -> bool:
        return self.path.exists()


# Optimizer and scheduler states are nested dicts of tensors and numbers: tensors go into the safetensors file,
# the structure (with int keys kept as ints) into its JSON metadata.
def _pack(obj, tensors: dict[str, torch.Tensor], path: str):
    if isinstance(obj, torch.Tensor):
        tensors[path] = obj.detach().cpu().contiguous()
        return {"t": path}
    if isinstance(obj, dict):
        return {"d": [[k, _pack(v, tensors, f"{path}.{k}")] for k, v in obj.items()]}
    if isinstance(obj, (list, tuple)):
        return {"l": [_pack(v, tensors, f"{path}.{i}") for i, v in enumerate(obj)]}
    return {"v": obj}


def _unpack(node, tensors: dict[str, torch.Tensor]):
    if "t" in node:
        return tensors[node["t"]]
    if "d" in node:
        return {k: _unpack(v, tensors) for k, v in node["d"]}
    if "l" in node:
        return [_unpack(v, tensors) for v in node["l"]]
    return node["v"]


class Store:
    """The runs of the store at ``$EXPLORER_STORE_URL`` (default: the SQLite file ``runs.sqlite`` in ``root``, else
    in :func:`home`) and their files under the artifact root. Every method runs its own transaction, so a store is
    safe to use from a worker thread and from several processes (and machines, on PostgreSQL) at once."""

    def __init__(self, root: Path | str | None = None) -> None:
        self.root = Path(root) if root is not None else home()
        self.url = db.store_url(self.root)
        self.engine = db.open_engine(self.url)
        self.artifacts = db.artifacts_root(self.root)
        # the SQLite file (None for a database server); where: the store for people (the file, or the URL)
        self.path = Path(self.url.database) if self.url.get_backend_name() == "sqlite" else None
        self.where = db.display_url(self.url)

    def folder(self, run: str) -> Path:
        return self.artifacts / run

    def _file(self, recorded: str) -> Path:
        """A recorded file: relative to the artifact root (stores before version 3 recorded absolute paths)."""
        return self.artifacts / recorded if not os.path.isabs(recorded) else Path(recorded)

    # --- writing -------------------------------------------------------------------------------------------------
    def create(self, model: str, recipe: engine.Recipe, device: str = "auto", world_size: int = 1,
               limit: int | None = None, owner: str | None = None, code: str | None = None) -> str:
        """A new queued run of ``owner`` (default: the shell user, :func:`shell_owner`); its id
        (``20250101-120000-lenet-1a2b``; ``…-code-1a2b3c4d-…`` for a playground network, whose ``code`` it
        keeps)."""
        stem = model.replace(":", "-")  # a run id is also a folder name and a URL parameter
        attempts = 8  # 4 hex digits per second: a class starting many runs at once may draw one twice
        for attempt in range(1, attempts + 1):
            run = f"{datetime.now(timezone.utc):%Y%m%d-%H%M%S}-{stem}-{secrets.token_hex(2)}"
            try:
                with db.writing(self.engine) as conn:
                    conn.execute(sql_insert(db.runs).values(
                        id=run, model=model, recipe=json.dumps(asdict(recipe)), train_limit=limit, device=device,
                        world_size=world_size, status="queued", started=_now_iso(), pid=os.getpid(),
                        host=socket.gethostname(), heartbeat=time.time(), owner=owner or shell_owner(), code=code))
            except IntegrityError:  # that id is taken: draw another
                if attempt == attempts:
                    raise
            else:
                return run

    def start(self, run: str, device: str, world_size: int) -> None:
        """Mark ``run`` running in this process."""
        with db.writing(self.engine) as conn:
            conn.execute(update(db.runs).where(db.runs.c.id == run).values(
                status="running", device=device, world_size=world_size, pid=os.getpid(), host=socket.gethostname(),
                heartbeat=time.time(), error=None, finished=None))

    def beat(self, run: str) -> None:
        """The run's heartbeat (and its lease's, when it holds it), and every place in line and queued run of this
        process: a run waiting behind a long one is not taken for dead."""
        now, pid, host = time.time(), os.getpid(), socket.gethostname()
        with db.writing(self.engine) as conn:
            conn.execute(update(db.runs).where(db.runs.c.id == run).values(heartbeat=now))
            lease.beat(conn, run, now)
            conn.execute(update(db.runs).where(db.runs.c.status == "queued", db.runs.c.pid == pid,
                                               db.runs.c.host == host).values(heartbeat=now))

    def add_epoch(self, run: str, entry: engine.Epoch, checkpoint: engine.Checkpoint) -> Path:
        """Record a completed epoch: its weights, the state to resume from, then its row (the row last: a crash in
        between leaves the previous epoch as the last one recorded)."""
        from safetensors.torch import save_file

        folder = self.folder(run)
        folder.mkdir(parents=True, exist_ok=True)
        weights = folder / f"epoch-{checkpoint.epoch:03d}.safetensors"
        save_file({k: v.contiguous() for k, v in checkpoint.model.items()}, str(weights),
                  metadata={"run": run, "epoch": str(checkpoint.epoch)})
        tensors: dict[str, torch.Tensor] = {}
        state = {"epoch": checkpoint.epoch, "history": [h.to_dict() for h in checkpoint.history],
                 "optimizer": _pack(checkpoint.optimizer, tensors, "optimizer"),
                 "scheduler": _pack(checkpoint.scheduler, tensors, "scheduler"),
                 "rng": _pack(checkpoint.rng, tensors, "rng")}
        tmp = folder / "resume.safetensors.part"
        save_file(tensors, str(tmp), metadata={"state": json.dumps(state)})
        os.replace(tmp, folder / "resume.safetensors")  # atomic: a crash leaves the old file or the new one
        values = {"loss": entry.loss, "train_acc": entry.train_acc, "test_acc": entry.test_acc,
                  "samples_per_s": entry.samples_per_s, "seconds": entry.seconds,
                  "weights": f"{run}/{weights.name}"}  # relative: machines may mount the artifacts elsewhere
        with db.writing(self.engine) as conn:
            conn.execute(db.insert(conn, db.epochs).values(run=run, epoch=entry.epoch, **values)
                         .on_conflict_do_update(index_elements=["run", "epoch"], set_=values))
            conn.execute(update(db.runs).where(db.runs.c.id == run).values(heartbeat=time.time()))
        return weights

    def finish(self, run: str, status: str, info: dict | None = None, error: str | None = None) -> None:
        assert status in STATUSES, status
        with db.writing(self.engine) as conn:
            values = {"status": status, "finished": _now_iso(), "error": error}
            if info is not None:
                values["info"] = json.dumps(info)
            conn.execute(update(db.runs).where(db.runs.c.id == run).values(**values))

    def recover(self) -> list[str]:
        """Mark "interrupted" every queued or running run whose process is gone (dead pid on this host, or no
        heartbeat for ``STALE_S``); their completed epochs stay. Their places in line and a lease they held are
        freed. The ids marked."""
        with db.writing(self.engine) as conn:
            return lease.recover(conn)

    # --- one run at a time (explorer.runtime.lease) ------------------------------------------------------------
    def enter_line(self, run: str) -> None:
        """Put ``run`` at the end of the line for the training lease, owned by this process (a stopped or
        interrupted run being resumed becomes queued again)."""
        lease.enter_line(self.engine, run)

    def leave_line(self, run: str) -> None:
        lease.leave_line(self.engine, run)

    def claim(self, run: str) -> bool | None:
        """:func:`explorer.runtime.lease.claim`: ``True`` taken now, ``False`` already ``run``'s, ``None`` not its
        turn."""
        return lease.claim(self.engine, run)

    def release(self, run: str) -> None:
        """Give the lease back (only if ``run`` holds it)."""
        lease.release(self.engine, run)

    def holder(self) -> dict | None:
        """The lease: ``{"run", "model", "pid", "host", "since"}`` of the run training now, or ``None``."""
        return lease.holder(self.engine)

    def line(self) -> list[str]:
        """The runs waiting for the lease, first in line first (places of gone processes left out)."""
        return lease.waiting(self.engine)

    def position(self, run: str) -> int | None:
        """0 while ``run`` holds the lease, 1, 2, … while it waits in line, ``None`` when it is neither."""
        held = self.holder()
        if held is not None and held["run"] == run:
            return 0
        waiting = self.line()
        return waiting.index(run) + 1 if run in waiting else None

    def request_stop(self, run: str) -> None:
        """Ask the process(es) training ``run`` to stop at their next report point (a file :class:`StopFile`
        watches: it reaches processes this one did not start, on any machine sharing the artifacts)."""
        folder = self.folder(run)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "stop").touch()

    # --- the workers' queue (explorer.runtime.worker) ------------------------------------------------------------
    def hand_to_workers(self, run: str) -> None:
        """Queue ``run`` for the workers: it waits in the store (owned by no process) until one claims it; a run
        with completed epochs is resumed from the last. Its old progress file goes first."""
        (self.folder(run) / "progress.jsonl").unlink(missing_ok=True)
        with db.writing(self.engine) as conn:
            conn.execute(update(db.runs).where(db.runs.c.id == run, db.runs.c.status != "running").values(
                status="queued", queue=WORKERS, pid=None, host=None, heartbeat=time.time(), error=None,
                finished=None))

    def withdraw(self, run: str) -> bool:
        """Stop ``run`` while it waits in the workers' queue: ``True`` when it was still queued (now stopped),
        ``False`` when a worker has it already (then :meth:`request_stop` it)."""
        with db.writing(self.engine) as conn:
            done = conn.execute(update(db.runs).where(db.runs.c.id == run, db.runs.c.status == "queued").values(
                status="stopped", finished=_now_iso()))
        return done.rowcount == 1

    def queued_for_workers(self) -> list[str]:
        """The runs waiting for a worker, first come first."""
        with db.reading(self.engine) as conn:
            found = conn.execute(select(db.runs.c.id).where(db.runs.c.status == "queued",
                                                            db.runs.c.queue == WORKERS)
                                 .order_by(db.runs.c.started, db.order_key(conn)))
            return [r.id for r in found]

    # --- reading -------------------------------------------------------------------------------------------------
    def get(self, run: str) -> dict:
        """The run's row as a dict (``recipe`` and ``info`` parsed); ``KeyError`` for an unknown id."""
        with db.reading(self.engine) as conn:
            found = db.rows(conn.execute(select(*_RUN_COLUMNS).where(db.runs.c.id == run)))
        if not found:
            raise UnknownRun(N_("unknown run {run}; see `python -m explorer runs list`"), run=repr(run))
        out = found[0]
        out["recipe"] = json.loads(out["recipe"])
        out["info"] = json.loads(out["info"]) if out["info"] else None
        return out

    def owners(self) -> dict[str, str | None]:
        """Run id → who started it (``None`` for runs recorded before owners were)."""
        with db.reading(self.engine) as conn:
            return {r.id: r.owner for r in conn.execute(select(db.runs.c.id, db.runs.c.owner))}

    def active(self, owner: str | None = None) -> list[str]:
        """The queued or running runs (of ``owner`` only, when given), oldest first."""
        query = select(db.runs.c.id).where(db.runs.c.status.in_(ACTIVE))
        if owner:
            query = query.where(db.runs.c.owner == owner)
        with db.reading(self.engine) as conn:
            return [r.id for r in conn.execute(query.order_by(db.runs.c.started, db.order_key(conn)))]

    def epochs(self, run: str) -> list[dict]:
        with db.reading(self.engine) as conn:
            found = db.rows(conn.execute(select(db.epochs).where(db.epochs.c.run == run).order_by(db.epochs.c.epoch)))
        for row in found:
            row["weights"] = str(self._file(row["weights"]))
        return found

    def list(self) -> list[dict]:
        """``runs list --json``: newest first, ``test_accuracy`` of the last completed epoch (``None`` before one)."""
        e = db.epochs.alias("e")
        acc = (select(e.c.test_acc).where(e.c.run == db.runs.c.id).order_by(e.c.epoch.desc()).limit(1)
               .scalar_subquery())
        with db.reading(self.engine) as conn:
            found = conn.execute(select(db.runs.c.id, db.runs.c.model, db.runs.c.status, db.runs.c.world_size,
                                        db.runs.c.started, acc.label("acc"))
                                 .order_by(db.runs.c.started.desc(), db.order_key(conn).desc())).all()
        return [{"run": r.id, "model": r.model, "status": r.status, "test_accuracy": r.acc,
                 "world_size": r.world_size, "started": r.started} for r in found]

    def usable(self) -> list[dict]:
        """Runs with at least one completed epoch whose weights file is there (newest first): ``{"run", "model",
        "test_accuracy", "epoch", "status", "started"}`` of their last completed epoch."""
        last = select(func.max(db.epochs.c.epoch)).where(db.epochs.c.run == db.runs.c.id).scalar_subquery()
        e = db.epochs.alias("e")
        with db.reading(self.engine) as conn:
            found = conn.execute(
                select(db.runs.c.id, db.runs.c.model, db.runs.c.status, db.runs.c.started, e.c.epoch, e.c.test_acc,
                       e.c.weights)
                .select_from(db.runs.join(e, and_(e.c.run == db.runs.c.id, e.c.epoch == last)))
                .order_by(db.runs.c.started.desc(), db.order_key(conn).desc())).all()
        return [{"run": r.id, "model": r.model, "test_accuracy": r.test_acc, "epoch": r.epoch,
                 "status": r.status, "started": r.started} for r in found if self._file(r.weights).is_file()]

    def weights(self, run: str, epoch: int | None = None) -> Path | None:
        """The weights file of ``epoch`` (default: the last completed one), ``None`` before the first."""
        rows = self.epochs(run)
        if epoch is not None:
            rows = [r for r in rows if r["epoch"] == epoch]
        return Path(rows[-1]["weights"]) if rows else None

    def checkpoint(self, run: str) -> engine.Checkpoint | None:
        """The state after the run's last recorded epoch (``None`` when it has none)."""
        from safetensors import safe_open
        from safetensors.torch import load_file

        rows = self.epochs(run)
        path = self.folder(run) / "resume.safetensors"
        if not rows or not path.is_file():
            return None
        with safe_open(str(path), "pt") as f:
            state = json.loads(f.metadata()["state"])
            tensors = {k: f.get_tensor(k) for k in f.keys()}
        if state["epoch"] != rows[-1]["epoch"]:  # died between the two writes: the files are ahead of the table
            raise StoreMismatch(
                N_("run {run}: the saved state is of epoch {epoch} but the store's last epoch is {last}"),
                run=run, epoch=state["epoch"], last=rows[-1]["epoch"])
        return engine.Checkpoint(
            epoch=state["epoch"], model=load_file(rows[-1]["weights"]),
            optimizer=_unpack(state["optimizer"], tensors), scheduler=_unpack(state["scheduler"], tensors),
            rng=_unpack(state["rng"], tensors), history=[engine.Epoch(**h) for h in state["history"]],
        )

    def show(self, run: str) -> dict:
        """``runs show --json``: the ``train --json`` object of the run plus its ``status`` (for an unfinished run,
        built from its completed epochs), and its ``code`` when it trains a playground network."""
        row = self.get(run)
        info = row["info"]
        if info is None:
            history = [{k: e[k] for k in ("epoch", "loss", "train_acc", "test_acc", "samples_per_s", "seconds")}
                       for e in self.epochs(run)]
            info = {**row["recipe"], "device": row["device"], "train_images": row["train_limit"] or 60_000,
                    "test_images": 10_000, "history": history}
        return {**engine.json_object(row["model"], info, run, row["world_size"]), "status": row["status"],
                **({"error": row["error"]} if row["error"] else {}),
                **({"code": row["code"]} if row["code"] is not None else {})}
