"""Classify images with trained models: the shipped Fashion-MNIST ones, and the torchvision-compatible ImageNet ones
when their checkpoints are in torch.hub's cache.

Models are built once per (id, device), put in eval mode once, and shared: every forward pass runs under
``torch.inference_mode()`` and a per-model lock (feature maps attach hooks for one call only, under that lock),
so concurrent Streamlit sessions never see each other's state.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from PIL import Image
from torch import nn

from ..analysis.rules import rule_for
from ..i18n import N_, ExplorerError, InvalidValue
from ..zoo import get_spec, list_models
from . import data, imagenet, ood, weights
from .devices import pick_device
from .images import ImageError, load_image


class NoWeights(ExplorerError, LookupError):
    """The model has no trained weights here; the message says which models do, or which file to fetch."""


@dataclass
class LoadedModel:
    model_id: str
    module: nn.Module
    device: torch.device
    labels: tuple[str, ...]
    lock: threading.Lock = field(default_factory=threading.Lock)


_CACHE: dict[tuple[str, str], LoadedModel] = {}
_CACHE_LOCK = threading.Lock()


def fashion_models() -> list[str]:
    """Ids with shipped Fashion-MNIST weights, best test accuracy first."""
    shipped = [(s.trained.accuracy, s.id) for s in list_models() if s.trained is not None]
    return [model_id for _, model_id in sorted(shipped, reverse=True)]


def best_model() -> str:
    models = fashion_models()
    if not models:
        raise NoWeights(N_("no trained weights are shipped (explorer/zoo/trained/manifest.json is missing)"))
    return models[0]


def available_models() -> list[str]:
    """Every id that can classify here: shipped Fashion-MNIST models, then ImageNet models with a checkpoint."""
    return fashion_models() + [s.id for s in list_models() if imagenet.is_imagenet_model(s.id) and
                               imagenet.available(s.id)]


def load(model_id: str, device: str = "auto") -> LoadedModel:
    """The shared, eval-mode model for ``model_id`` on ``device`` (built and loaded on first use)."""
    return _load_timed(model_id, device)[0]


def _load_timed(model_id: str, device: str) -> tuple[LoadedModel, float]:
    """``load`` and the milliseconds it spent building and loading (0 when the model was already cached)."""
    dev = pick_device(device)
    key = (model_id, str(dev))
    with _CACHE_LOCK:
        if key in _CACHE:
            return _CACHE[key], 0.0
    start = time.perf_counter()
    spec = get_spec(model_id)
    if spec.trained is not None:
        module = spec.build()
        module.load_state_dict(weights.load_shipped(model_id))
        labels = data.CLASSES
        if ood.supported(model_id):
            ood.warm()  # the detector's statistics and autoencoder, read once
    elif imagenet.is_imagenet_model(model_id):
        try:
            module = imagenet.build_pretrained(model_id)
        except (imagenet.ImageNetWeightsMissing, imagenet.ImageNetWeightsDamaged) as exc:
            raise NoWeights(exc.message if isinstance(exc, ExplorerError) else str(exc)) from None
        labels = imagenet.CLASSES
    else:
        raise NoWeights(N_("{model} has no trained weights; models that classify: {models} (Fashion-MNIST), and the "
                           "torchvision-compatible ImageNet models once their checkpoint is downloaded"),
                        model=model_id, models=", ".join(fashion_models()))
    module.eval().requires_grad_(False).to(dev)
    loaded = LoadedModel(model_id, module, dev, tuple(labels))
    ms = (time.perf_counter() - start) * 1000
    with _CACHE_LOCK:
        return _CACHE.setdefault(key, loaded), ms


# --- preprocessing --------------------------------------------------------------------------------------------------
def fashion_input(image: Image.Image, size: tuple[int, int] = (28, 28)) -> np.ndarray:
    """A photo → what Fashion-MNIST looks like: grayscale, light object on black, cropped to the object, centred
    in a square, scaled so its longer side fills the frame. Returns H×W floats in [0, 1]."""
    image = image.convert("L")
    if max(image.size) > 4 * max(size):  # shrink large photos first: the rest then works on ≤ 4× the output
        image = image.copy()
        image.thumbnail((4 * size[1], 4 * size[0]), Image.Resampling.BILINEAR, reducing_gap=2.0)
    gray = np.asarray(image, dtype=np.float32) / 255.0
    h, w = gray.shape
    band = max(1, min(h, w) // 10)
    border = np.concatenate([gray[:band].ravel(), gray[-band:].ravel(), gray[:, :band].ravel(),
                             gray[:, -band:].ravel()])
    background = float(np.median(border))
    if background > 0.5:  # a dark object on a light background (a product photo): the dataset has the opposite
        gray = 1.0 - gray
        background = 1.0 - background
    gray = np.clip((gray - background) / max(1e-6, 1.0 - background), 0.0, 1.0)
    mask = gray > 0.1 * float(gray.max()) if gray.max() > 0 else np.zeros_like(gray, dtype=bool)
    if mask.any():
        rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
        gray = gray[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    side = max(gray.shape)
    square = np.zeros((side, side), dtype=np.float32)
    top, left = (side - gray.shape[0]) // 2, (side - gray.shape[1]) // 2
    square[top:top + gray.shape[0], left:left + gray.shape[1]] = gray
    resized = Image.fromarray((square * 255).astype(np.uint8), "L").resize(
        (size[1], size[0]), Image.Resampling.LANCZOS
    )
    out = np.asarray(resized, dtype=np.float32) / 255.0
    return out / out.max() if out.max() > 0 else out


def prepare(model_id: str, image: Image.Image) -> torch.Tensor:
    """The C×H×W tensor the model receives for ``image``."""
    spec = get_spec(model_id)
    if imagenet.is_imagenet_model(model_id) and spec.trained is None:
        return imagenet.preprocess(image)
    c, h, w = spec.input_shape
    x = torch.from_numpy(fashion_input(image, (h, w)))[None]
    return x.expand(c, h, w).contiguous() if c != 1 else x


# --- classification -------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Prediction:
    top: list[tuple[str, float]]
    ms: float  # preprocessing + forward pass (+ device sync), per image: preprocess_ms + forward_ms
    input: torch.Tensor  # C×H×W, as the network received it
    ood_score: float | None = None  # higher = less like Fashion-MNIST; None for models without a detector
    familiar: bool | None = None  # ood_score at or below the model's threshold (ood.threshold); None likewise
    load_ms: float = 0.0  # building and loading the model for this call; 0 when it was cached
    preprocess_ms: float = 0.0  # image → the network's input tensor
    forward_ms: float = 0.0  # the forward pass, softmax and device sync
    ood_ms: float = 0.0  # computing ood_score (not part of ms)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()


def classify(image: Image.Image, model_id: str, top_k: int = 5, device: str = "auto") -> Prediction:
    """Top-k classes of an uploaded image (after :func:`prepare`), with the OOD score for Fashion-MNIST models."""
    loaded, load_ms = _load_timed(model_id, device)
    start = time.perf_counter()
    x = prepare(model_id, image)
    return run_loaded(loaded, x, top_k, load_ms, (time.perf_counter() - start) * 1000, image)


def dataset_input(array: np.ndarray, model_id: str) -> torch.Tensor:
    """A raw 28×28 uint8 Fashion-MNIST image as the accuracy measurement feeds it to ``model_id`` (C×H×W): /255,
    resized bilinearly to the model's input when that is not 28×28 (``train.tensors``), no crop or rescaling."""
    spec = get_spec(model_id)
    if spec.trained is None:
        raise InvalidValue(N_("{model} is not a Fashion-MNIST model; dataset images go to {models}"), model=model_id,
                           models=", ".join(fashion_models()))
    array = np.asarray(array)
    if array.shape != (28, 28) or array.dtype != np.uint8:
        raise InvalidValue(N_("a Fashion-MNIST image is a 28×28 uint8 array, not {dtype} of shape {shape}"),
                           dtype=array.dtype, shape=array.shape)
    c, h, w = spec.input_shape
    x = torch.from_numpy(array.copy()).float().div_(255)[None, None]
    if (h, w) != (28, 28):
        x = torch.nn.functional.interpolate(x, size=(h, w), mode="bilinear", align_corners=False)
    return x[0].expand(c, h, w).contiguous() if c != 1 else x[0]


def classify_array(array: np.ndarray, model_id: str, top_k: int = 5, device: str = "auto") -> Prediction:
    """Top-k classes of a Fashion-MNIST dataset image given as its raw 28×28 uint8 array, fed to the network exactly
    as in the accuracy measurement (:func:`dataset_input`), with the OOD score."""
    start = time.perf_counter()
    x = dataset_input(array, model_id)  # checked before any model is loaded
    preprocess_ms = (time.perf_counter() - start) * 1000
    loaded, load_ms = _load_timed(model_id, device)
    return run_loaded(loaded, x, top_k, load_ms, preprocess_ms, array)


def run_loaded(loaded: LoadedModel, x: torch.Tensor, top_k: int, load_ms: float, preprocess_ms: float,
               source: Image.Image | np.ndarray | None) -> Prediction:
    """Forward pass of a prepared input ``x`` (C×H×W), top-k, and the OOD score (which also looks at ``source``, the
    image before preprocessing; ``None`` for weights the shipped OOD statistics were not fitted on: no score)."""
    scored = source is not None and ood.supported(loaded.model_id)
    start = time.perf_counter()
    with loaded.lock, torch.inference_mode():
        xb = x[None].to(loaded.device)
        if scored:
            features, logits = ood.split_forward(loaded.module, xb)
        else:
            logits = loaded.module(xb)
        probs = torch.softmax(logits.float(), dim=1)[0]
        _sync(loaded.device)
    forward_ms = (time.perf_counter() - start) * 1000
    k = max(1, min(top_k, len(loaded.labels)))
    values, indices = probs.topk(k)
    top = [(loaded.labels[int(i)], float(v)) for v, i in zip(values.cpu(), indices.cpu())]
    ood_score = familiar = None
    start = time.perf_counter()
    if scored:
        ood_score = ood.score(loaded.model_id, x, features, logits, ood.border(source))
        familiar = ood.familiar(loaded.model_id, ood_score)
    ood_ms = (time.perf_counter() - start) * 1000
    return Prediction(top=top, ms=preprocess_ms + forward_ms, input=x, ood_score=ood_score, familiar=familiar,
                      load_ms=load_ms, preprocess_ms=preprocess_ms, forward_ms=forward_ms, ood_ms=ood_ms)


def feature_maps(model_id: str, x: torch.Tensor, device: str = "auto") -> dict[str, torch.Tensor]:
    """Every output that is a feature map (its rule says so: convolutions, poolings) for input ``x`` (C×H×W), by
    layer name, on the CPU."""
    loaded = load(model_id, device)
    maps: dict[str, torch.Tensor] = {}
    with loaded.lock, torch.inference_mode():
        handles = []
        for name, module in loaded.module.named_modules():
            if rule_for(module).feature_map:
                def hook(mod, args, out, name=name):
                    if isinstance(out, torch.Tensor) and out.dim() == 4 and name not in maps:
                        maps[name] = out[0].float().cpu()
                handles.append(module.register_forward_hook(hook))
        try:
            loaded.module(x[None].to(loaded.device))
        finally:
            for h in handles:
                h.remove()
    return maps


def predict_files(
    files: Sequence[tuple[str, bytes]], model_id: str | None = None, top_k: int = 5, device: str = "auto"
) -> dict:
    """The CLI's ``predict`` object: one entry per file; a bad file gets ``error`` and the rest still run."""
    model_id = model_id or best_model()
    loaded = load(model_id, device)
    results = []
    for name, content in files:
        try:
            pred = classify(load_image(content, name), model_id, top_k, device)
        except ImageError as exc:
            results.append({"file": name, "error": str(exc)})
            continue
        entry = {
            "file": name,
            "top": [{"label": label, "prob": round(p, 6)} for label, p in pred.top],
            "ms": round(pred.ms, 3),
        }
        if pred.ood_score is not None:
            entry["ood_score"] = round(pred.ood_score, 4)
            entry["familiar"] = pred.familiar
        results.append(entry)
    return {"model": model_id, "device": str(loaded.device), "results": results}
