"""Classify with a run's weights (the Train page's runs, on Classify): the last completed epoch of a run in the store,
loaded as :mod:`explorer.runtime.inference` loads the shipped models, and classified the same way."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from ..i18n import N_
from ..zoo import get_spec
from . import coderun, data, inference
from .devices import pick_device
from .runs import Store
from .train import resized

_RUN_MODELS: dict[tuple[str, int, str], inference.LoadedModel] = {}
_RUN_MODELS_LOCK = threading.Lock()
RUN_MODELS_KEPT = 4  # loaded runs kept in memory (ResNet-18 is 45 MB); the oldest is dropped first


class NoRunWeights(inference.NoWeights):
    """A run without a completed epoch: it has no weights to classify with (an :class:`inference.NoWeights`)."""


def usable_runs(store: Store | None = None) -> list[dict]:
    """Runs with at least one completed epoch (newest first): ``{"run", "model", "test_accuracy", "epoch",
    "status", "started"}`` — the accuracy and number of their last completed epoch, whose weights
    :func:`classify_run` uses."""
    return (store or Store()).usable()


def load_run(run: str, device: str = "auto", store: Store | None = None) -> tuple[inference.LoadedModel, int]:
    """The shared, eval-mode model of ``run`` with the weights of its last completed epoch (safetensors), on
    ``device``; and that epoch. Cached by (run, epoch, device): a newer epoch loads anew. ``KeyError`` for an
    unknown run, :class:`NoRunWeights` before its first completed epoch."""
    loaded, epoch, _ = _load_run(run, device, store or Store())
    return loaded, epoch


def _load_run(run: str, device: str, store: Store) -> tuple[inference.LoadedModel, int, bool]:
    """:func:`load_run`, and whether this call built the model (``False``: it came from the cache)."""
    row = store.get(run)
    dev = pick_device(device)
    epochs = store.epochs(run)
    if not epochs or not Path(epochs[-1]["weights"]).is_file():
        raise NoRunWeights(N_("run {run} has no completed epoch yet: there are no weights to classify with"), run=run)
    epoch = epochs[-1]["epoch"]
    key = (run, epoch, str(dev))
    with _RUN_MODELS_LOCK:
        if key in _RUN_MODELS:
            return _RUN_MODELS[key], epoch, False
    from safetensors.torch import load_file

    spec = get_spec(row["model"])
    module = spec.build()
    module.load_state_dict(load_file(epochs[-1]["weights"]))
    module.eval().requires_grad_(False).to(dev)
    loaded = inference.LoadedModel(spec.id, module, dev, tuple(data.CLASSES))
    with _RUN_MODELS_LOCK:
        for old in [k for k in _RUN_MODELS if k[0] == run and k[2] == key[2]]:  # its earlier epochs
            del _RUN_MODELS[old]
        loaded = _RUN_MODELS.setdefault(key, loaded)
        while len(_RUN_MODELS) > RUN_MODELS_KEPT:
            del _RUN_MODELS[next(iter(_RUN_MODELS))]
    return loaded, epoch, True


def classify_run(run: str, image: Image.Image | np.ndarray, top_k: int = 5,
                 device: str = "auto") -> inference.Prediction:
    """Classify ``image`` with ``run``'s weights (its last completed epoch): a picture is preprocessed as
    :func:`inference.prepare` does for the run's model id, a raw 28×28 uint8 Fashion-MNIST image as the accuracy
    measurement feeds it (:func:`inference.dataset_input`); then resized as the run's training images were, when it
    trained at another size. Run under ``torch.inference_mode()`` and the model's lock; the same
    :class:`inference.Prediction` as :func:`inference.classify`, without an OOD score (the shipped statistics belong
    to the shipped weights)."""
    store = Store()
    if store.get(run)["code"] is not None:
        return _classify_code_run(store, run, image, top_k)
    begin = time.perf_counter()
    loaded, _, built = _load_run(run, device, store)
    side = store.get(run)["recipe"].get("resize")
    start = time.perf_counter()
    if isinstance(image, np.ndarray):
        x = inference.dataset_input(image, loaded.model_id)
    else:
        x = inference.prepare(loaded.model_id, image)
    if side and side != x.shape[-1]:
        x = resized(x[None], side)[0]
    prepared = time.perf_counter()
    return inference.run_loaded(loaded, x, top_k, (start - begin) * 1000 if built else 0.0,
                                (prepared - start) * 1000, None)


def _classify_code_run(store: Store, run: str, image: Image.Image | np.ndarray, top_k: int) -> inference.Prediction:
    """A playground network's run classifies in a limited child process (its forward is the learner's code):
    the image prepared as its training images were (1×side×side, /255, bilinear), on the CPU."""
    if store.weights(run) is None:
        raise NoRunWeights(N_("run {run} has no completed epoch yet: there are no weights to classify with"), run=run)
    _, shape = coderun.stored_code(store.get(run))
    start = time.perf_counter()
    if isinstance(image, np.ndarray):
        x = torch.from_numpy(np.asarray(image, dtype=np.uint8).copy()).float().div_(255)[None]
    else:
        x = torch.from_numpy(inference.fashion_input(image, (28, 28)))[None]
    x = resized(x[None], shape[-1])[0]
    prepared = time.perf_counter()
    probs, forward_ms = coderun.classify_code(store, run, x)
    load_ms = (time.perf_counter() - prepared) * 1000 - forward_ms  # the process's start, the code, the weights
    values, indices = probs.topk(max(1, min(top_k, len(data.CLASSES))))
    top = [(data.CLASSES[int(i)], float(v)) for v, i in zip(values, indices)]
    preprocess_ms = (prepared - start) * 1000
    return inference.Prediction(top=top, ms=preprocess_ms + forward_ms, input=x, load_ms=load_ms,
                                preprocess_ms=preprocess_ms, forward_ms=forward_ms)
