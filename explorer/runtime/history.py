"""What the runs page and ``runs export`` read of the store: one row per run (hyper-parameters × final metrics, like
TensorBoard's HParams table or W&B's run table) and one run's curves, per report point and per epoch.

The store keeps one row per completed epoch (``epochs`` table); the points in between — the running loss and
training accuracy a run reports about five times per epoch — go to the run's step log, ``runs/<run>/steps.jsonl``
(:class:`StepLog`, written by :func:`explorer.runtime.runner.execute` for every run it records: in this process, or
rank 0 of a launched one). A resumed run repeats the steps of the epoch it was stopped in: the later line wins.

Three x-axes fit every point (TensorBoard's STEP / RELATIVE): the epoch (0.2, 0.4, … between epoch ends), the
optimizer step counted from the start of the run, and the training time in seconds (the epochs' own ``seconds``
added up, and within an epoch the images so far over the images per second — the same on a resumed run as on one
that never stopped, the pause not counted).
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from .runs import Store
from .train import StepEvent

STEP_LOG = "steps.jsonl"
CODE_PREFIX = "code:"  # a playground network's model id: "code:" + the first 8 hex digits of its code's SHA-256


class StepLog:
    """A run's report points as JSON lines (``runs/<run>/steps.jsonl``): epoch, step, steps per epoch, the running
    loss and training accuracy, images per second and the seconds into the epoch."""

    def __init__(self, path: Path | str, batch_size: int, images: int) -> None:
        self.path = Path(path)
        self.batch_size, self.images = batch_size, images

    def write(self, event: StepEvent) -> None:
        seen = min(event.step * self.batch_size, self.images)  # images of this epoch so far, all ranks
        record = {"epoch": event.epoch, "step": event.step, "steps": event.steps, "loss": round(event.loss, 5),
                  "train_acc": round(event.train_acc, 5), "samples_per_s": round(event.samples_per_s, 1),
                  "seconds": round(seen / max(event.samples_per_s, 1e-9), 3)}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")


def step_log(store: Store, run: str) -> Path:
    """Where ``run``'s step log is."""
    return store.folder(run) / STEP_LOG


def _steps(path: Path) -> list[dict]:
    """The step log's records in order, one per (epoch, step): the last written wins (a resumed epoch's)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    found: dict[tuple[int, int], dict] = {}
    for line in text.splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:  # a line still being written
            continue
        found[(record["epoch"], record["step"])] = record
    return [found[k] for k in sorted(found)]


def steps_per_epoch(images: int, batch_size: int, world_size: int = 1) -> int:
    """Optimizer steps in one epoch, as the engine counts them (each of ``world_size`` ranks takes its shard and
    ``batch_size / world_size`` images per step)."""
    local = max(1, batch_size // max(world_size, 1))
    return math.ceil(math.ceil(images / max(world_size, 1)) / local)


@dataclass(frozen=True)
class CurvePoint:
    """One point of a run's curves: a report point (``kind`` "step": running means of the epoch so far, no test
    accuracy) or a completed epoch (``kind`` "epoch"), on all three x-axes."""

    run: str
    kind: str  # "step" or "epoch"
    epoch: float  # on the epochs axis: 0.2, 0.4, … 1.0
    step: int  # optimizer steps since the run began
    seconds: float  # training time since the run began
    loss: float | None
    train_acc: float | None
    test_acc: float | None = None


def history(store: Store, run: str) -> list[CurvePoint]:
    """``run``'s curves: its report points and completed epochs in order (``KeyError`` for an unknown run)."""
    row = store.get(run)
    epochs = store.epochs(run)
    recipe = row["recipe"]
    images = row["train_limit"] or 60_000
    recorded = _steps(step_log(store, run))
    per_epoch = recorded[0]["steps"] if recorded else steps_per_epoch(images, recipe["batch_size"], row["world_size"])
    before: dict[int, float] = {}  # epoch → training seconds of the epochs before it
    total = 0.0
    for e in epochs:
        before[e["epoch"]] = total
        total += e["seconds"] or 0.0
    last = epochs[-1]["epoch"] if epochs else 0
    points = []
    for s in recorded:
        if s["epoch"] > last + 1:  # cannot happen in one run; a stray file is not a curve
            continue
        start = before.get(s["epoch"], total)
        points.append(CurvePoint(run, "step", s["epoch"] - 1 + s["step"] / s["steps"], (s["epoch"] - 1) * s["steps"] +
                            s["step"], round(start + s["seconds"], 3), s["loss"], s["train_acc"]))
    for e in epochs:
        points.append(CurvePoint(run, "epoch", float(e["epoch"]), e["epoch"] * per_epoch,
                            round(before[e["epoch"]] + (e["seconds"] or 0.0), 3), e["loss"], e["train_acc"],
                            e["test_acc"]))
    points.sort(key=lambda p: (p.epoch, p.kind == "epoch"))
    return points


HISTORY_COLUMNS = tuple(f.name for f in fields(CurvePoint))


def history_rows(points: list[CurvePoint]) -> list[dict]:
    """The points as rows of the history CSV (:data:`HISTORY_COLUMNS`)."""
    return [asdict(p) for p in points]


@dataclass(frozen=True)
class RunRow:
    """One run as the runs table shows it: who and what, its hyper-parameters, how far it got, its final
    metrics. Accuracies are fractions (0.8735), ``None`` before a run's first completed epoch."""

    run: str
    model: str  # a zoo id, or "code:<8 hex>" for a playground network
    status: str
    owner: str | None
    started: str
    lr: float
    batch_size: int
    epochs: int
    resize: int | None  # the side images were trained at (None: the model's own input, for a run not yet started)
    device: str
    world_size: int
    train_images: int
    epochs_done: int
    best_test_acc: float | None
    last_test_acc: float | None
    last_loss: float | None
    seconds: float | None  # training time of the completed epochs
    code: str | None = None  # a playground network's code, when the store has it

    @property
    def is_code(self) -> bool:
        return self.model.startswith(CODE_PREFIX)


RUN_COLUMNS = tuple(f.name for f in fields(RunRow) if f.name != "code")  # the table's CSV columns (code apart)


def _side(model: str, recipe: dict, info: dict | None) -> int | None:
    if info and info.get("resize"):
        return int(info["resize"])
    if recipe.get("resize"):
        return int(recipe["resize"])
    if model.startswith(CODE_PREFIX):
        return None
    from ..zoo import get_spec

    try:
        return int(get_spec(model).input_shape[-1])
    except KeyError:  # a model of a newer version, unknown to this one
        return None


def run_row(store: Store, run: str) -> RunRow:
    """One run's :class:`RunRow` (``KeyError`` for an unknown run)."""
    row = store.get(run)
    epochs = store.epochs(run)
    recipe, info = row["recipe"], row["info"]
    tests = [e["test_acc"] for e in epochs if e["test_acc"] is not None]
    return RunRow(
        run=run, model=row["model"], status=row["status"], owner=row["owner"], started=row["started"],
        lr=float(recipe["lr"]), batch_size=int(recipe["batch_size"]), epochs=int(recipe["epochs"]),
        resize=_side(row["model"], recipe, info), device=row["device"], world_size=int(row["world_size"]),
        train_images=int(row["train_limit"] or 60_000), epochs_done=len(epochs),
        best_test_acc=max(tests) if tests else None, last_test_acc=tests[-1] if tests else None,
        last_loss=epochs[-1]["loss"] if epochs else None,
        seconds=round(sum(e["seconds"] or 0.0 for e in epochs), 2) if epochs else None, code=row.get("code"),
    )


def table(store: Store | None = None) -> list[RunRow]:
    """Every run of the store as a :class:`RunRow`, newest first."""
    store = store or Store()
    return [run_row(store, r["run"]) for r in store.list()]


def table_rows(rows: list[RunRow]) -> list[dict]:
    """The runs as rows of the table's CSV (:data:`RUN_COLUMNS`)."""
    return [{k: getattr(r, k) for k in RUN_COLUMNS} for r in rows]
