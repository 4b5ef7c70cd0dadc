"""The run store: every training run (CLI, Train page, torchrun) kept in one SQLite file, its weights beside it.

``$EXPLORER_HOME/runs.sqlite`` (default ``~/.cache/cnn-explorer``; WAL mode, so the page reads while a run writes)
holds each run's model, recipe, device, world size, status, start time (ISO 8601 UTC), pid + host + heartbeat, and
one row per completed epoch with its metrics and the path of that epoch's weights
(``runs/<run>/epoch-NNN.safetensors``). ``runs/<run>/resume.safetensors`` holds the optimizer, scheduler and RNG
state of the last completed epoch: :func:`recover` marks the runs of dead processes "interrupted", and
:func:`execute` with their :meth:`Store.checkpoint` continues them exactly where they were.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, replace
from datetime import datetime, timezone
from pathlib import Path

import torch
from torch import nn

from . import train as engine
from .devices import pick_device

STATUSES = ("queued", "running", "done", "stopped", "failed", "interrupted")
RESUMABLE = ("interrupted", "stopped")
STALE_S = 600  # a heartbeat older than this means the run's process is gone (another host, a reused pid)
BEAT_S = 2.0  # seconds between heartbeats

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY, model TEXT NOT NULL, recipe TEXT NOT NULL, train_limit INTEGER, device TEXT NOT NULL,
    world_size INTEGER NOT NULL, status TEXT NOT NULL, started TEXT NOT NULL, finished TEXT,
    pid INTEGER, host TEXT, heartbeat REAL, info TEXT, error TEXT
);
CREATE TABLE IF NOT EXISTS epochs (
    run TEXT NOT NULL REFERENCES runs(id), epoch INTEGER NOT NULL, loss REAL, train_acc REAL, test_acc REAL,
    samples_per_s REAL, seconds REAL, weights TEXT NOT NULL, PRIMARY KEY (run, epoch)
);
"""


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
            db.executescript(SCHEMA)

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=30)
        db.row_factory = sqlite3.Row
        try:
            with db:  # one transaction: committed on success, rolled back on an exception
                yield db
        finally:
            db.close()

    def folder(self, run: str) -> Path:
        return self.root / "runs" / run

    # --- writing -------------------------------------------------------------------------------------------------
    def create(self, model: str, recipe: engine.Recipe, device: str = "auto", world_size: int = 1,
               limit: int | None = None) -> str:
        """A new queued run; its id (``20250101-120000-lenet-1a2b``)."""
        run = f"{datetime.now(timezone.utc):%Y%m%d-%H%M%S}-{model}-{secrets.token_hex(2)}"
        with self._db() as db:
            db.execute(
                "INSERT INTO runs (id, model, recipe, train_limit, device, world_size, status, started, pid, host, "
                "heartbeat) VALUES (?, ?, ?, ?, ?, ?, 'queued', ?, ?, ?, ?)",
                (run, model, json.dumps(asdict(recipe)), limit, device, world_size, _now_iso(), os.getpid(),
                 socket.gethostname(), time.time()),
            )
        return run

    def start(self, run: str, device: str, world_size: int) -> None:
        """Mark ``run`` running in this process."""
        with self._db() as db:
            db.execute("UPDATE runs SET status='running', device=?, world_size=?, pid=?, host=?, heartbeat=?, "
                       "error=NULL, finished=NULL WHERE id=?",
                       (device, world_size, os.getpid(), socket.gethostname(), time.time(), run))

    def beat(self, run: str) -> None:
        with self._db() as db:
            db.execute("UPDATE runs SET heartbeat=? WHERE id=?", (time.time(), run))

    def add_epoch(self, run: str, entry: dict, checkpoint: engine.Checkpoint) -> Path:
        """Record a completed epoch: its weights, the state to resume from, then its row (the row last: a crash in
        between leaves the previous epoch as the last one recorded)."""
        from safetensors.torch import save_file

        folder = self.folder(run)
        folder.mkdir(parents=True, exist_ok=True)
        weights = folder / f"epoch-{checkpoint.epoch:03d}.safetensors"
        save_file({k: v.contiguous() for k, v in checkpoint.model.items()}, str(weights),
                  metadata={"run": run, "epoch": str(checkpoint.epoch)})
        tensors: dict[str, torch.Tensor] = {}
        state = {"epoch": checkpoint.epoch, "history": checkpoint.history,
                 "optimizer": _pack(checkpoint.optimizer, tensors, "optimizer"),
                 "scheduler": _pack(checkpoint.scheduler, tensors, "scheduler"),
                 "rng": _pack(checkpoint.rng, tensors, "rng")}
        tmp = folder / "resume.safetensors.part"
        save_file(tensors, str(tmp), metadata={"state": json.dumps(state)})
        os.replace(tmp, folder / "resume.safetensors")  # atomic: a crash leaves the old file or the new one
        with self._db() as db:
            db.execute(
                "INSERT OR REPLACE INTO epochs VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (run, entry["epoch"], entry["loss"], entry["train_acc"], entry["test_acc"],
                 entry.get("samples_per_s"), entry.get("seconds"), str(weights)),
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
        heartbeat for ``STALE_S``); their completed epochs stay. The ids marked."""
        host, now = socket.gethostname(), time.time()
        with self._db() as db:
            rows = db.execute("SELECT id, pid, host, heartbeat FROM runs WHERE status IN ('queued', 'running')")
            gone = [r["id"] for r in rows
                    if (r["host"] == host and not _alive(r["pid"])) or now - (r["heartbeat"] or 0) > STALE_S]
            for run in gone:
                db.execute("UPDATE runs SET status='interrupted', error=? WHERE id=?",
                           ("the process running it stopped before it finished", run))
        return gone

    # --- reading -------------------------------------------------------------------------------------------------
    def get(self, run: str) -> dict:
        """The run's row as a dict (``recipe`` and ``info`` parsed); ``KeyError`` for an unknown id."""
        with self._db() as db:
            row = db.execute("SELECT * FROM runs WHERE id=?", (run,)).fetchone()
        if row is None:
            raise KeyError(f"unknown run {run!r}; see `python -m explorer runs list`")
        out = dict(row)
        out["recipe"] = json.loads(out["recipe"])
        out["info"] = json.loads(out["info"]) if out["info"] else None
        return out

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
            raise ValueError(f"run {run}: the saved state is of epoch {state['epoch']} but the store's last epoch "
                             f"is {rows[-1]['epoch']}")
        return engine.Checkpoint(
            epoch=state["epoch"], model=load_file(rows[-1]["weights"]),
            optimizer=_unpack(state["optimizer"], tensors), scheduler=_unpack(state["scheduler"], tensors),
            rng=_unpack(state["rng"], tensors), history=state["history"],
        )

    def show(self, run: str) -> dict:
        """``runs show --json``: the ``train --json`` object of the run plus its ``status`` (for an unfinished run,
        built from its completed epochs)."""
        row = self.get(run)
        info = row["info"]
        if info is None:
            history = [{k: e[k] for k in ("epoch", "loss", "train_acc", "test_acc", "samples_per_s", "seconds")}
                       for e in self.epochs(run)]
            info = {**row["recipe"], "device": row["device"], "train_images": row["train_limit"] or 60_000,
                    "test_images": 10_000, "history": history}
        return {**result(run, row["model"], info, row["world_size"]), "status": row["status"],
                **({"error": row["error"]} if row["error"] else {})}


def result(run: str, model: str, info: dict, world_size: int) -> dict:
    """The ``train --json`` object: model, test accuracy and correct count of the last completed epoch, the recipe
    with its history, the run id and the world size."""
    last = info["history"][-1] if info.get("history") else None
    accuracy = last["test_acc"] if last else None
    correct = round(accuracy * info.get("test_images", 10_000)) if last else None
    return {"model": model, "test_accuracy": accuracy, "correct": correct, "recipe": info, "run": run,
            "world_size": world_size}


def execute(
    store: Store | None,
    run: str,
    model_id: str,
    recipe: engine.Recipe,
    device: str = "auto",
    limit: int | None = None,
    *,
    resume: engine.Checkpoint | None = None,
    on_step: Callable[[engine.StepEvent], None] | None = None,
    stop=None,
    report: Callable[[str], None] | None = None,
    trace: Callable[[int, torch.Tensor], None] | None = None,
) -> tuple[nn.Module, dict]:
    """Train ``run`` with the engine and record it in ``store`` (``None`` on ranks other than 0): running, a
    heartbeat, one row and weights file per completed epoch, then done / stopped / failed (a diverged loss) or
    interrupted (Ctrl-C). Returns the model and the ``train --json`` object."""
    rank, world_size = engine.world()
    last_beat = [time.monotonic()]

    def step(event: engine.StepEvent) -> None:
        if store is not None and time.monotonic() - last_beat[0] > BEAT_S:
            store.beat(run)
            last_beat[0] = time.monotonic()
        if on_step is not None:
            on_step(event)

    def epoch(entry: dict, checkpoint: engine.Checkpoint) -> None:
        if store is not None:
            store.add_epoch(run, entry, checkpoint)

    if store is not None:
        dev = pick_device(device)
        store.start(run, torch.cuda.get_device_name(dev) if dev.type == "cuda" else dev.type, world_size)
    try:
        model, info = engine.train(model_id, recipe, device, limit, report, on_step=step, on_epoch=epoch, stop=stop,
                                   resume=resume, trace=trace)
    except KeyboardInterrupt:
        if store is not None:
            store.finish(run, "interrupted", error="interrupted (Ctrl-C)")
        raise
    except torch.cuda.OutOfMemoryError:
        message = (f"out of GPU memory training {model_id} with batch size {recipe.batch_size}: "
                   f"try a smaller batch size or resize")
        if store is not None:
            store.finish(run, "failed", error=message)
        raise ValueError(message) from None
    except BaseException as exc:
        if store is not None:
            store.finish(run, "failed", error=str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        raise
    status = {"done": "done", "stopped": "stopped", "diverged": "failed"}[info["status"]]
    out = result(run, model_id, info, world_size)
    if store is not None:
        store.finish(run, status, info, info.get("error"))
    return model, out


def resume_args(store: Store, run: str) -> tuple[str, engine.Recipe, int | None, engine.Checkpoint | None]:
    """(model, recipe, limit, checkpoint) to continue ``run``; ``ValueError`` unless it was interrupted or stopped."""
    row = store.get(run)
    if row["status"] not in RESUMABLE:
        raise ValueError(f"run {run} is {row['status']}: only an interrupted or stopped run can be resumed")
    recipe = replace(engine.Recipe(), **row["recipe"])
    return row["model"], recipe, row["train_limit"], store.checkpoint(run)
