"""A run's confusion matrix on the 10,000 Fashion-MNIST test images: which class its weights take each class for.

Row *i*, column *j* counts the test images of true class *i* the network predicts as class *j* (scikit-learn's
``confusion_matrix`` convention); the diagonal over the row sums is each class's accuracy (its recall), the trace
over the total the test accuracy the run recorded for that epoch. The images are fed as the run's own test
measurement fed them (floats in [0, 1], resized per batch to the side it trained at), so the matrix's accuracy is the
epoch's ``test_acc``.

A run measures it in every epoch's test pass (:func:`explorer.runtime.train.evaluate` counts it as it counts the
correct images; :func:`explorer.runtime.runner.execute` keeps it): nothing is computed again to show it. A run
recorded before runs measured it is computed once on the CPU (:func:`run_confusion`: a second or two for LeNet, minutes
for ResNet-18 at 96 px on two cores). Either way it is kept beside the run's weights
(``runs/<run>/confusion-epoch-NNN.json``): an epoch's weights never change, so neither does its matrix, and every page
and server that shares the store reads it back.
"""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..i18n import N_, ExplorerError
from . import data
from .history import CODE_PREFIX
from .runs import Store
from .train import resized, tensors


class NoConfusion(ExplorerError, LookupError):
    """No confusion matrix for this run: it has no completed epoch (or not the one asked for), or its network is a
    playground network, whose code never runs in this process."""


def confusion_matrix(labels: np.ndarray | torch.Tensor, predicted: np.ndarray | torch.Tensor,
                     classes: int = 10) -> np.ndarray:
    """``classes × classes`` counts: row = true class, column = predicted class."""
    y = np.asarray(labels, dtype=np.int64).ravel()
    p = np.asarray(predicted, dtype=np.int64).ravel()
    if y.shape != p.shape:
        raise ValueError(f"{len(y)} labels but {len(p)} predictions")
    return np.bincount(y * classes + p, minlength=classes * classes).reshape(classes, classes)


@dataclass(frozen=True)
class Confusion:
    """A run's confusion matrix for one epoch's weights, and how long computing it took (0 when read back)."""

    run: str
    epoch: int
    matrix: np.ndarray  # int64, 10 × 10
    seconds: float
    classes: tuple[str, ...] = tuple(data.CLASSES)

    @property
    def total(self) -> int:
        return int(self.matrix.sum())

    @property
    def correct(self) -> int:
        return int(np.trace(self.matrix))

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 0.0

    @property
    def per_class(self) -> np.ndarray:
        """Each class's accuracy: the share of its test images predicted as itself."""
        sums = self.matrix.sum(axis=1)
        return np.divide(np.diag(self.matrix), sums, out=np.zeros(len(sums)), where=sums > 0)

    def confusions(self, top: int = 3) -> list[tuple[str, str, int]]:
        """The ``top`` most frequent mistakes: (true class, predicted class, count), most first."""
        off = self.matrix.copy()
        np.fill_diagonal(off, 0)
        order = sorted((i for i in range(off.size) if off.flat[i] > 0), key=lambda i: (-off.flat[i], i))[:top]
        return [(self.classes[i // len(off)], self.classes[i % len(off)], int(off.flat[i])) for i in order]


_COMPUTING = threading.Lock()  # one computation at a time: two sessions opening the same run wait for one result


def _predict(module: torch.nn.Module, x: torch.Tensor, side: int, batch: int = 1000) -> torch.Tensor:
    out = []
    with torch.inference_mode():
        for i in range(0, len(x), batch):
            out.append(module(resized(x[i:i + batch], side)).argmax(1))
    return torch.cat(out)


def run_confusion(run: str, epoch: int | None = None, store: Store | None = None) -> Confusion:
    """The confusion matrix of ``run``'s weights after ``epoch`` (default: its last completed epoch) on the test
    set, on the CPU; read back from the run's folder when computed before. ``KeyError`` for an unknown run,
    :class:`NoConfusion` when there are no such weights."""
    store = store or Store()
    row = store.get(run)
    rows = store.epochs(run)
    if epoch is not None:
        rows = [r for r in rows if r["epoch"] == epoch]
    if not rows or not Path(rows[-1]["weights"]).is_file():
        raise NoConfusion(N_("run {run} has no weights for that epoch yet: its confusion matrix comes after its "
                             "first completed epoch"), run=run)
    epoch = rows[-1]["epoch"]
    cached = _path(store, run, epoch)
    if cached.is_file():
        return Confusion(run, epoch, np.array(json.loads(cached.read_text())["matrix"], dtype=np.int64), 0.0)
    if row["model"].startswith(CODE_PREFIX):
        raise NoConfusion(N_("run {run} trains a playground network: its code only runs in the playground's "
                             "limited worker, so its confusion matrix is not computed on this page"), run=run)
    with _COMPUTING:
        if cached.is_file():
            return run_confusion(run, epoch, store)
        from safetensors.torch import load_file

        from ..zoo import get_spec

        begin = time.perf_counter()
        spec = get_spec(row["model"])
        module = spec.build()
        module.load_state_dict(load_file(rows[-1]["weights"]))
        module.eval()
        side = (row["info"] or {}).get("resize") or row["recipe"].get("resize") or spec.input_shape[-1]
        x, y = tensors("test")
        matrix = confusion_matrix(y, _predict(module, x, int(side)), len(data.CLASSES))
        seconds = time.perf_counter() - begin
        save_confusion(store, run, epoch, matrix)
    return Confusion(run, epoch, matrix, round(seconds, 2))


def _path(store: Store, run: str, epoch: int) -> Path:
    return store.folder(run) / f"confusion-epoch-{epoch:03d}.json"


def measured(store: Store, run: str, epoch: int) -> bool:
    """Whether ``run``'s confusion matrix for ``epoch`` is already there (measured while it trained, or computed
    before): :func:`run_confusion` then reads it back at once."""
    return _path(store, run, epoch).is_file()


def save_confusion(store: Store, run: str, epoch: int, matrix: np.ndarray) -> Path:
    """Keep ``run``'s confusion matrix of ``epoch`` beside its weights (atomically: a reader sees all of it or
    nothing)."""
    path = _path(store, run, epoch)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".part{os.getpid()}")
    tmp.write_text(json.dumps({"run": run, "epoch": epoch, "matrix": np.asarray(matrix).tolist()}))
    os.replace(tmp, path)
    return path
