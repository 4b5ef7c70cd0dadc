"""Train a run of the store: in this process (:func:`execute`), or in N processes through torchrun's launcher
(:func:`launch`) — one path for the CLI and the app's training jobs.

:func:`execute` runs the engine (:func:`explorer.runtime.train.train`) and records the run: running, a heartbeat, one
row and weights file per completed epoch, how it ended. :func:`launch` starts ``python -m explorer train …``
(:func:`train_argv`, the one command line of a run) in N processes; rank 0 records the run in the store and writes
its progress as JSON lines into a file the launcher reads (:class:`ProgressFile`), so the launcher's ``on_step`` and
``on_epoch`` get the same :class:`~explorer.runtime.train.StepEvent` and :class:`~explorer.runtime.train.Epoch` as
in-process callers do. Nothing parses the lines written for people.
"""

from __future__ import annotations

import json
import os
import string
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import torch
from torch import nn

from ..i18n import N_, ExplorerError, InvalidValue, Message, Quoted
from . import train as engine
from .confusion import save_confusion
from .devices import pick_device
from .history import StepLog, step_log
from .runs import BEAT_S, RESUMABLE, Store

PROGRESS_ENV = "EXPLORER_PROGRESS"  # the file rank 0 of a launched run writes its progress into
RUN_ENV = "EXPLORER_RUN_ID"  # the run a launched process records


class NotResumable(InvalidValue):
    """A run that is neither interrupted nor stopped cannot be resumed (a ``ValueError``)."""


class OutOfMemory(InvalidValue):
    """The GPU ran out of memory for this recipe (a ``ValueError``: the recipe is the thing to change)."""


class ProgressFile:
    """A run's progress as JSON lines (``{"step": {…}}`` per report point, ``{"epoch": {…}}`` per completed epoch,
    ``{"error": {"template", "values"}}`` when it ends badly): written by rank 0 of a launched run, read by its
    launcher as the events — and the error's :class:`Message` — themselves."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._offset = 0

    def write(self, kind: str, event: engine.StepEvent | engine.Epoch) -> None:
        self._append({kind: asdict(event)})

    def write_error(self, message: Message) -> None:
        """How the run ended badly (values that are not numbers go as their English words)."""
        values = {k: v if isinstance(v, (int, float)) else str(v) for k, v in message.values.items()}
        self._append({"error": {"template": message.template, "values": values}})

    def _append(self, record: dict) -> None:
        with self.path.open("a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")

    def read(self) -> list[engine.StepEvent | engine.Epoch | Message]:
        """The events written since the last read (a line still being written is left for the next read)."""
        try:
            with self.path.open("r", encoding="utf-8") as f:
                f.seek(self._offset)
                text = f.read()
        except FileNotFoundError:
            return []
        complete = text[:text.rfind("\n") + 1]
        self._offset += len(complete.encode("utf-8"))
        events: list[engine.StepEvent | engine.Epoch | Message] = []
        for line in complete.splitlines():
            record = json.loads(line)
            if "step" in record:
                events.append(engine.StepEvent(**record["step"]))
            elif "epoch" in record:
                events.append(engine.Epoch(**record["epoch"]))
            else:
                events.append(plain_message(record["error"]["template"], record["error"]["values"]))
        return events


def plain_message(template: str, values: dict) -> Message:
    """A message read from another process: only plain ``{name}`` / ``{name:,}`` fields of its own values, each a
    string or a number (a ``str.format`` field can read attributes: ``{v.__class__}``); anything else is quoted as
    the words it is."""
    try:
        fields = [(name, spec, conversion) for _, name, spec, conversion in string.Formatter().parse(template)
                  if name is not None]
    except ValueError:
        fields = [("", "", None)]
    plain = all(isinstance(v, (str, int, float)) for v in values.values()) and all(
        name.isidentifier() and name in values and spec in ("", ",") and conversion is None
        for name, spec, conversion in fields)
    return Message(template, values) if plain else Message("{words}", {"words": Quoted(str(template))})


def execute(
    store: Store | None,
    run: str,
    model_id: str | engine.ModelSpec,
    recipe: engine.Recipe,
    device: str = "auto",
    limit: int | None = None,
    *,
    resume: engine.Checkpoint | None = None,
    on_step: engine.OnStep | None = None,
    on_epoch: Callable[[engine.Epoch], None] | None = None,
    stop=None,
    report: Callable[[str], None] | None = None,
    trace: Callable[[int, torch.Tensor], None] | None = None,
    test_batch: int = 1000,
) -> tuple[nn.Module, engine.TrainResult]:
    """Train ``run`` with the engine and record it in ``store`` (``None`` on ranks other than 0): running, a
    heartbeat, each report point in its step log (:class:`~explorer.runtime.history.StepLog`), one row and weights file
    per completed epoch, then done / stopped / failed (a diverged loss) or
    interrupted (Ctrl-C). ``on_epoch`` is told of an epoch once it is in the store. Under a launcher
    (``$EXPLORER_PROGRESS``) rank 0 also writes its progress there. ``model_id``: a zoo id or a playground network's
    spec. The model and the :class:`TrainResult`."""
    rank, world_size = engine.world()
    last_beat = [time.monotonic()]
    channel = ProgressFile(os.environ[PROGRESS_ENV]) if os.environ.get(PROGRESS_ENV) and rank == 0 else None
    steps = StepLog(step_log(store, run), recipe.batch_size, limit or 60_000) if store is not None else None

    def step(event: engine.StepEvent) -> None:
        if store is not None and time.monotonic() - last_beat[0] > BEAT_S:
            store.beat(run)
            last_beat[0] = time.monotonic()
        if steps is not None:
            steps.write(event)
        if channel is not None:
            channel.write("step", event)
        if on_step is not None:
            on_step(event)

    def epoch(entry: engine.Epoch, checkpoint: engine.Checkpoint) -> None:
        if store is not None:
            if checkpoint.confusion is not None:  # measured by the epoch's test pass: nothing to compute later
                save_confusion(store, run, checkpoint.epoch, checkpoint.confusion.numpy())
            store.add_epoch(run, entry, checkpoint)
        if channel is not None:
            channel.write("epoch", entry)
        if on_epoch is not None:
            on_epoch(entry)

    if store is not None:
        dev = pick_device(device)
        store.start(run, torch.cuda.get_device_name(dev) if dev.type == "cuda" else dev.type, world_size)
    try:
        model, result = engine.train(model_id, recipe, device, limit, report, on_step=step, on_epoch=epoch,
                                     stop=stop, resume=resume, trace=trace, test_batch=test_batch)
    except KeyboardInterrupt:
        if store is not None:
            store.finish(run, "interrupted", error="interrupted (Ctrl-C)")
        raise
    except torch.cuda.OutOfMemoryError:
        error = OutOfMemory(N_("out of GPU memory training {model} with batch size {size}: try a smaller batch size "
                               "or resize"), model=engine.spec_of(model_id).id, size=recipe.batch_size)
        if store is not None:
            store.finish(run, "failed", error=str(error))
        if channel is not None:
            channel.write_error(error.message)
        raise error from None
    except BaseException as exc:
        if store is not None:
            store.finish(run, "failed", error=str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        if channel is not None and isinstance(exc, ExplorerError):
            channel.write_error(exc.message)
        raise
    if channel is not None and result.error is not None:
        channel.write_error(result.error)
    result.run, result.world_size = run, world_size
    if store is not None:
        status = {"done": "done", "stopped": "stopped", "diverged": "failed"}[result.status]
        store.finish(run, status, result.info(), str(result.error) if result.error else None)
    return model, result


def resume_args(store: Store, run: str) -> tuple[str, engine.Recipe, int | None, engine.Checkpoint | None]:
    """(model, recipe, limit, checkpoint) to continue ``run``; :class:`NotResumable` unless it was interrupted or
    stopped."""
    row = store.get(run)
    if row["status"] not in RESUMABLE:
        raise NotResumable(N_("run {run} is {status}: only an interrupted or stopped run can be resumed"),
                           run=run, status=Message(row["status"]))
    recipe = replace(engine.Recipe(), **row["recipe"])
    (store.folder(run) / "stop").unlink(missing_ok=True)  # the Stop that ended it must not end the resumed run
    return row["model"], recipe, row["train_limit"], store.checkpoint(run)


def train_argv(model_id: str, recipe: engine.Recipe, device: str = "auto", limit: int | None = None,
               extra: Sequence[str] = ()) -> list[str]:
    """The ``train`` command line of a run (what each of its N processes runs): the recipe fields the CLI takes,
    then ``extra`` (the CLI's own outputs: ``-o``, ``--json`` …). The other recipe fields are the model's
    defaults, as in the process that launches them."""
    argv = ["train", model_id, "--device", device, "--epochs", str(recipe.epochs), "--lr", repr(float(recipe.lr)),
            "--batch-size", str(recipe.batch_size), "--seed", str(recipe.seed)]
    if recipe.resize is not None:
        argv += ["--resize", str(recipe.resize)]
    return argv + (["--limit", str(limit)] if limit is not None else []) + list(extra)


HUMAN_LINES = ("epoch ", "run ", "diverged", "stopped", "queued")  # what the workers write for people


@dataclass(frozen=True)
class Launched:
    """How the processes of a launched run ended: their exit status, what went wrong as a :class:`Message` (the
    run's own, through its :class:`ProgressFile`, else the processes' exit), and the first worker's ``error:``
    line as the CLI prints it."""

    code: int
    error: Message | None = None
    error_line: str | None = None


def launch(store: Store, run: str, argv: list[str], nproc: int, *, on_step: engine.OnStep | None = None,
           on_epoch: Callable[[engine.Epoch], None] | None = None, echo: Callable[[str], None] | None = None,
           stdout=None, poll: float = 0.2, command: Sequence[str] | None = None,
           env: dict[str, str] | None = None) -> Launched:
    """Run ``python -m explorer ARGV`` in ``nproc`` processes through torchrun's launcher (``--standalone``; gloo on
    the CPU, NCCL on CUDA), recorded as ``run`` (rank 0 writes the store). Rank 0's progress comes to ``on_step``
    and ``on_epoch`` through a :class:`ProgressFile`; the workers' lines for people go to ``echo`` (torchrun's own
    log lines are dropped). A run the processes left unfinished is marked failed. ``command`` (with ``env``) runs
    instead of torchrun's launcher: one child that records ``run`` itself (a playground network's,
    :mod:`explorer.runtime.coderun`)."""
    folder = store.folder(run)
    folder.mkdir(parents=True, exist_ok=True)
    channel = ProgressFile(folder / "progress.jsonl")
    channel.path.unlink(missing_ok=True)
    command = list(command or [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node",
                               str(nproc), "-m", "explorer", *argv])
    proc = subprocess.Popen(command, env={**(env or os.environ), RUN_ENV: run, PROGRESS_ENV: str(channel.path)},
                            stdout=stdout, stderr=subprocess.PIPE, text=True)
    errors: list[str] = []

    def read_stderr() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            if line.startswith("error: "):
                errors.append(line.strip()[len("error: "):])
            elif echo is not None and line.lstrip("\r").startswith(HUMAN_LINES):
                echo(line)

    reader = threading.Thread(target=read_stderr, name=f"explorer-launch-{run}", daemon=True)
    reader.start()

    said: list[Message] = []

    def deliver() -> None:
        for event in channel.read():
            if isinstance(event, Message):
                said.append(event)
            elif isinstance(event, engine.StepEvent):
                if on_step is not None:
                    on_step(event)
            elif on_epoch is not None:
                on_epoch(event)

    while proc.poll() is None:
        deliver()
        time.sleep(poll)
    reader.join()
    deliver()
    code = proc.wait()
    error = said[0] if said else None
    if store.get(run)["status"] in ("queued", "running"):
        error = error or (Message(N_("the {n} processes exited with status {code}"), {"n": nproc, "code": code})
                          if command is None else Message(N_("the training process exited with status {code}"),
                                                          {"code": code}))
        store.finish(run, "failed", error=str(error))
    return Launched(code, error, errors[0] if errors and code else None)
