"""The run store: every training run (CLI, Train page, torchrun) kept in one SQLite file, its weights beside it.

``$EXPLORER_HOME/runs.sqlite`` (default ``~/.cache/cnn-explorer``; WAL mode, so the page reads while a run writes)
holds each run's model, recipe, device, world size, status, start time (ISO 8601 UTC), pid + host + heartbeat, and
one row per completed epoch with its metrics and the path of that epoch's weights
(``runs/<run>/epoch-NNN.safetensors``). Each run also records who started it (``owner``: ``user:<name>`` for the
shell user of a CLI run, ``learner:<id>`` for a browser's anonymous learner id): only its owner, or the teacher, may
stop or resume it in the app. ``runs/<run>/resume.safetensors`` holds the optimizer, scheduler and RNG
state of the last completed epoch: :func:`recover` marks the runs of dead processes "interrupted", and
:func:`explorer.runtime.runner.execute` with their :meth:`Store.checkpoint` continues them exactly where they were.

One run trains at a time per machine (per ``$EXPLORER_HOME``), whichever process started it: a run waits in the
store's ``line`` table (first come, first served) until it can claim the single ``lease`` row, in an IMMEDIATE
transaction (:meth:`Store.claim`; :func:`explorer.runtime.lease.turn` waits for it). A holder whose process is gone
(dead pid on this host, or no heartbeat for ``STALE_S``) frees it, and its run is marked interrupted.

The schema has a version (SQLite's ``user_version``, :data:`RUNS_SCHEMA_VERSION`); opening a file of an older version
migrates it in place, keeping every row (:func:`migrate`).

This module is the store alone: training a run is :mod:`explorer.runtime.runner`, the wait for the machine
:mod:`explorer.runtime.lease`, classifying with a run's weights :mod:`explorer.runtime.inference_runs`.
"""

from __future__ import annotations

import getpass
import json
import os
import secrets
import socket
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path

import torch

from ..i18n import N_, ExplorerError
from . import train as engine

STATUSES = (N_("queued"), N_("running"), N_("done"), N_("stopped"), N_("failed"), N_("interrupted"))
RESUMABLE = ("interrupted", "stopped")
STALE_S = 600  # a heartbeat older than this means the run's process is gone (another host, a reused pid)
BEAT_S = 2.0  # seconds between heartbeats
ACTIVE = ("queued", "running")
RUNS_SCHEMA_VERSION = 3  # 1: the first schema (no owner; files of then read user_version 0); 2: runs.owner;
# 3: runs.code (the playground code of a run that trains one)

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY, model TEXT NOT NULL, recipe TEXT NOT NULL, train_limit INTEGER, device TEXT NOT NULL,
    world_size INTEGER NOT NULL, status TEXT NOT NULL, started TEXT NOT NULL, finished TEXT,
    pid INTEGER, host TEXT, heartbeat REAL, info TEXT, error TEXT, owner TEXT, code TEXT
);
CREATE TABLE IF NOT EXISTS epochs (
    run TEXT NOT NULL REFERENCES runs(id), epoch INTEGER NOT NULL, loss REAL, train_acc REAL, test_acc REAL,
    samples_per_s REAL, seconds REAL, weights TEXT NOT NULL, PRIMARY KEY (run, epoch)
);
CREATE TABLE IF NOT EXISTS line (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, run TEXT NOT NULL UNIQUE, pid INTEGER, host TEXT, heartbeat REAL
);
CREATE TABLE IF NOT EXISTS lease (
    id INTEGER PRIMARY KEY CHECK (id = 1), run TEXT NOT NULL, pid INTEGER, host TEXT, heartbeat REAL, since REAL
);
"""


class UnknownRun(ExplorerError, KeyError):
    """No run has this id in the store (a ``KeyError``)."""

    def __str__(self) -> str:  # the sentence, not KeyError's quoted repr of it
        return str(self.message)


class StoreMismatch(ExplorerError, ValueError):
    """The store's files and its table disagree about a run (a process died between the two writes)."""


class NewerStore(ExplorerError, RuntimeError):
    """The store's file was written by a newer version of CNN Explorer (a schema this one does not know)."""


def shell_owner() -> str:
    """The owner of a run started from a shell (the CLI): ``user:<login name>``."""
    try:
        name = getpass.getuser()
    except (KeyError, OSError):  # no login name for this uid (a bare container)
        name = str(os.getuid())
    return f"user:{name}"


def migrate(db: sqlite3.Connection, path: Path) -> int:
    """Bring an open store (inside a write transaction) to :data:`RUNS_SCHEMA_VERSION`; the version it had. Every
    migration only adds: version 1 → 2 adds ``runs.owner`` (empty for the runs recorded before owners were), 2 → 3
    ``runs.code`` (empty for a zoo model's run; a playground network's code otherwise). A file
    of a newer version raises :class:`NewerStore` (never rewritten by an older program)."""
    found = db.execute("PRAGMA user_version").fetchone()[0]
    if found > RUNS_SCHEMA_VERSION:
        raise NewerStore(N_("the run store {path} has schema version {found}, newer than this version of CNN "
                            "Explorer knows ({known}): upgrade it, or set EXPLORER_HOME to another folder"),
                         path=str(path), found=found, known=RUNS_SCHEMA_VERSION)
    columns = {r[1] for r in db.execute("PRAGMA table_info(runs)")}
    if "owner" not in columns:
        db.execute("ALTER TABLE runs ADD COLUMN owner TEXT")
    if "code" not in columns:
        db.execute("ALTER TABLE runs ADD COLUMN code TEXT")
    if found < RUNS_SCHEMA_VERSION:
        db.execute(f"PRAGMA user_version = {RUNS_SCHEMA_VERSION}")
    return found


def home() -> Path:
    """``$EXPLORER_HOME``, else ``~/.cache/cnn-explorer``."""
    return Path(os.environ.get("EXPLORER_HOME") or Path.home() / ".cache" / "cnn-explorer")


def _now_iso() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def _present(row, now: float) -> bool:
    """Whether the process owning a line or lease row is still there: a live pid on this host, else a heartbeat
    younger than ``STALE_S`` (another host sharing the store)."""
    if row["host"] == socket.gethostname():
        return _alive(row["pid"]) and now - (row["heartbeat"] or 0) <= STALE_S
    return now - (row["heartbeat"] or 0) <= STALE_S


def _recover(db: sqlite3.Connection) -> list[str]:
    host, now = socket.gethostname(), time.time()
    rows = db.execute("SELECT id, pid, host, heartbeat FROM runs WHERE status IN ('queued', 'running')").fetchall()
    gone = [r["id"] for r in rows
            if (r["host"] == host and not _alive(r["pid"])) or now - (r["heartbeat"] or 0) > STALE_S]
    for run in gone:
        db.execute("UPDATE runs SET status='interrupted', error=? WHERE id=?",
                   ("the process running it stopped before it finished", run))
    for table in ("line", "lease"):
        for r in db.execute(f"SELECT * FROM {table}").fetchall():  # noqa: S608 — two fixed table names
            if not _present(r, now):
                db.execute(f"DELETE FROM {table} WHERE run=?", (r["run"],))  # noqa: S608
    return gone


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
    """One SQLite file and a folder of safetensors files; every method opens its own connection, so a store is safe
    to use from a worker thread and from several processes at once."""

    def __init__(self, root: Path | str | None = None) -> None:
        self.root = Path(root) if root is not None else home()
        self.root.mkdir(parents=True, exist_ok=True)
        self.path = self.root / "runs.sqlite"
        with self._db() as db:
            db.execute("PRAGMA journal_mode=WAL")
            current = db.execute("PRAGMA user_version").fetchone()[0] == RUNS_SCHEMA_VERSION
        if not current:
            with self._db(immediate=True) as db:  # one process creates or migrates; the others find it done
                for statement in SCHEMA.split(";"):
                    if statement.strip():
                        db.execute(statement)
                migrate(db, self.path)

    @contextmanager
    def _db(self, immediate: bool = False) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=30)
        db.row_factory = sqlite3.Row
        try:
            if immediate:  # the write lock from the first statement: read-then-write without a race
                db.isolation_level = None
                db.execute("BEGIN IMMEDIATE")
                try:
                    yield db
                except BaseException:
                    db.execute("ROLLBACK")
                    raise
                db.execute("COMMIT")
            else:
                with db:  # one transaction: committed on success, rolled back on an exception
                    yield db
        finally:
            db.close()

    def folder(self, run: str) -> Path:
        return self.root / "runs" / run

    # --- writing -------------------------------------------------------------------------------------------------
    def create(self, model: str, recipe: engine.Recipe, device: str = "auto", world_size: int = 1,
               limit: int | None = None, owner: str | None = None, code: str | None = None) -> str:
        """A new queued run of ``owner`` (default: the shell user, :func:`shell_owner`); its id
        (``20250101-120000-lenet-1a2b``; ``…-code-1a2b3c4d-…`` for a playground network, whose ``code`` it
        keeps)."""
        stem = model.replace(":", "-")  # a run id is also a folder name and a URL parameter
        run = f"{datetime.now(timezone.utc):%Y%m%d-%H%M%S}-{stem}-{secrets.token_hex(2)}"
        with self._db() as db:
            db.execute(
                "INSERT INTO runs (id, model, recipe, train_limit, device, world_size, status, started, pid, host, "
                "heartbeat, owner, code) VALUES (?, ?, ?, ?, ?, ?, 'queued', ?, ?, ?, ?, ?, ?)",
                (run, model, json.dumps(asdict(recipe)), limit, device, world_size, _now_iso(), os.getpid(),
                 socket.gethostname(), time.time(), owner or shell_owner(), code),
            )
        return run

    def start(self, run: str, device: str, world_size: int) -> None:
        """Mark ``run`` running in this process."""
        with self._db() as db:
            db.execute("UPDATE runs SET status='running', device=?, world_size=?, pid=?, host=?, heartbeat=?, "
                       "error=NULL, finished=NULL WHERE id=?",
                       (device, world_size, os.getpid(), socket.gethostname(), time.time(), run))

    def beat(self, run: str) -> None:
        """The run's heartbeat (and its lease's, when it holds it), and every place in line and queued run of this
        process: a run waiting behind a long one is not taken for dead."""
        now, pid, host = time.time(), os.getpid(), socket.gethostname()
        with self._db() as db:
            db.execute("UPDATE runs SET heartbeat=? WHERE id=?", (now, run))
            db.execute("UPDATE lease SET heartbeat=? WHERE run=?", (now, run))
            db.execute("UPDATE line SET heartbeat=? WHERE pid=? AND host=?", (now, pid, host))
            db.execute("UPDATE runs SET heartbeat=? WHERE status='queued' AND pid=? AND host=?", (now, pid, host))

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
        with self._db() as db:
            db.execute(
                "INSERT OR REPLACE INTO epochs VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (run, entry.epoch, entry.loss, entry.train_acc, entry.test_acc, entry.samples_per_s, entry.seconds,
                 str(weights)),
            )
            db.execute("UPDATE runs SET heartbeat=? WHERE id=?", (time.time(), run))
        return weights

    def finish(self, run: str, status: str, info: dict | None = None, error: str | None = None) -> None:
        assert status in STATUSES, status
        with self._db() as db:
            db.execute("UPDATE runs SET status=?, finished=?, info=COALESCE(?, info), error=? WHERE id=?",
                       (status, _now_iso(), json.dumps(info) if info is not None else None, error, run))

    def recover(self) -> list[str]:
        """Mark "interrupted" every queued or running run whose process is gone (dead pid on this host, or no
        heartbeat for ``STALE_S``); their completed epochs stay. Their places in line and a lease they held are
        freed. The ids marked."""
        with self._db() as db:
            return _recover(db)

    # --- one run at a time per machine --------------------------------------------------------------------------
    def enter_line(self, run: str) -> None:
        """Put ``run`` at the end of the line for the machine's training lease, owned by this process (a stopped
        or interrupted run being resumed becomes queued again)."""
        now, pid, host = time.time(), os.getpid(), socket.gethostname()
        with self._db() as db:
            db.execute("INSERT OR IGNORE INTO line (run, pid, host, heartbeat) VALUES (?, ?, ?, ?)",
                       (run, pid, host, now))
            db.execute("UPDATE runs SET status='queued', pid=?, host=?, heartbeat=?, error=NULL, finished=NULL "
                       "WHERE id=? AND status != 'running'", (pid, host, now, run))

    def leave_line(self, run: str) -> None:
        with self._db() as db:
            db.execute("DELETE FROM line WHERE run=?", (run,))

    def claim(self, run: str) -> bool | None:
        """Try to take the machine's training lease for ``run``: ``True`` when taken now, ``False`` when ``run``
        already holds it (the launcher of its processes took it), ``None`` when it is not ``run``'s turn (another
        run holds the lease, or runs entered the line before it). A lease whose holder is gone is taken over."""
        now, pid, host = time.time(), os.getpid(), socket.gethostname()
        with self._db(immediate=True) as db:
            _recover(db)
            lease = db.execute("SELECT * FROM lease WHERE id=1").fetchone()
            if lease is not None and lease["run"] == run:
                db.execute("DELETE FROM line WHERE run=?", (run,))
                return False
            if lease is not None:
                return None
            first = next((r["run"] for r in db.execute("SELECT * FROM line ORDER BY seq") if _present(r, now)), None)
            if first is not None and first != run:
                return None
            db.execute("DELETE FROM line WHERE run=?", (run,))
            db.execute("INSERT INTO lease (id, run, pid, host, heartbeat, since) VALUES (1, ?, ?, ?, ?, ?)",
                       (run, pid, host, now, now))
            db.execute("UPDATE runs SET heartbeat=? WHERE id=?", (now, run))
        return True

    def release(self, run: str) -> None:
        """Give the lease back (only if ``run`` holds it)."""
        with self._db() as db:
            db.execute("DELETE FROM lease WHERE run=?", (run,))

    def holder(self) -> dict | None:
        """The lease: ``{"run", "model", "pid", "host", "since"}`` of the run training on this machine, or ``None``."""
        with self._db() as db:
            row = db.execute("SELECT l.run, r.model, l.pid, l.host, l.heartbeat, l.since FROM lease l "
                             "LEFT JOIN runs r ON r.id = l.run WHERE l.id=1").fetchone()
        if row is None or not _present(row, time.time()):
            return None
        return {k: row[k] for k in ("run", "model", "pid", "host", "since")}

    def line(self) -> list[str]:
        """The runs waiting for the lease, first in line first (places of gone processes left out)."""
        now = time.time()
        with self._db() as db:
            rows = db.execute("SELECT * FROM line ORDER BY seq").fetchall()
        return [r["run"] for r in rows if _present(r, now)]

    def position(self, run: str) -> int | None:
        """0 while ``run`` holds the lease, 1, 2, … while it waits in line, ``None`` when it is neither."""
        held = self.holder()
        if held is not None and held["run"] == run:
            return 0
        waiting = self.line()
        return waiting.index(run) + 1 if run in waiting else None

    def request_stop(self, run: str) -> None:
        """Ask the process(es) training ``run`` to stop at their next report point (a file :class:`StopFile`
        watches: it reaches processes this one did not start)."""
        folder = self.folder(run)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "stop").touch()

    # --- reading -------------------------------------------------------------------------------------------------
    def get(self, run: str) -> dict:
        """The run's row as a dict (``recipe`` and ``info`` parsed); ``KeyError`` for an unknown id."""
        with self._db() as db:
            row = db.execute("SELECT * FROM runs WHERE id=?", (run,)).fetchone()
        if row is None:
            raise UnknownRun(N_("unknown run {run}; see `python -m explorer runs list`"), run=repr(run))
        out = dict(row)
        out["recipe"] = json.loads(out["recipe"])
        out["info"] = json.loads(out["info"]) if out["info"] else None
        return out

    def owners(self) -> dict[str, str | None]:
        """Run id → who started it (``None`` for runs recorded before owners were)."""
        with self._db() as db:
            return {r["id"]: r["owner"] for r in db.execute("SELECT id, owner FROM runs")}

    def active(self, owner: str | None = None) -> list[str]:
        """The queued or running runs (of ``owner`` only, when given), oldest first."""
        query = "SELECT id FROM runs WHERE status IN ('queued', 'running')" + (" AND owner=?" if owner else "")
        with self._db() as db:
            rows = db.execute(query + " ORDER BY started, rowid", (owner,) if owner else ()).fetchall()
        return [r["id"] for r in rows]

    def epochs(self, run: str) -> list[dict]:
        with self._db() as db:
            rows = db.execute("SELECT * FROM epochs WHERE run=? ORDER BY epoch", (run,)).fetchall()
        return [dict(r) for r in rows]

    def list(self) -> list[dict]:
        """``runs list --json``: newest first, ``test_accuracy`` of the last completed epoch (``None`` before one)."""
        with self._db() as db:
            rows = db.execute(
                "SELECT r.id, r.model, r.status, r.world_size, r.started, "
                "(SELECT test_acc FROM epochs e WHERE e.run = r.id ORDER BY epoch DESC LIMIT 1) AS acc "
                "FROM runs r ORDER BY r.started DESC, r.rowid DESC"
            ).fetchall()
        return [{"run": r["id"], "model": r["model"], "status": r["status"], "test_accuracy": r["acc"],
                 "world_size": r["world_size"], "started": r["started"]} for r in rows]

    def usable(self) -> list[dict]:
        """Runs with at least one completed epoch whose weights file is there (newest first): ``{"run", "model",
        "test_accuracy", "epoch", "status", "started"}`` of their last completed epoch."""
        with self._db() as db:
            rows = db.execute(
                "SELECT r.id, r.model, r.status, r.started, e.epoch, e.test_acc, e.weights FROM runs r "
                "JOIN epochs e ON e.run = r.id AND e.epoch = (SELECT MAX(epoch) FROM epochs WHERE run = r.id) "
                "ORDER BY r.started DESC, r.rowid DESC"
            ).fetchall()
        return [{"run": r["id"], "model": r["model"], "test_accuracy": r["test_acc"], "epoch": r["epoch"],
                 "status": r["status"], "started": r["started"]} for r in rows if Path(r["weights"]).is_file()]

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
