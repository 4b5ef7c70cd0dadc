"""Does an input look like Fashion-MNIST? An out-of-distribution (OOD) score for the shipped Fashion-MNIST models.

Higher scores mean "less like the training data"; an input whose score is above its model's threshold is flagged as
unfamiliar. The detector, its statistics and thresholds are files in ``explorer/zoo/trained/``:

- ``ood.safetensors``: per shipped model, the class means and whitening matrix of its penultimate features (for the
  Mahalanobis distance); the weights of a small convolutional autoencoder on 28×28 images (for the reconstruction
  error, one for every model);
- ``ood.json``: which method scores (``method``), the per-model threshold and the reference points that put the
  components on one scale, and the recipe that produced all of it.

Besides the network's view there is one cue from the image itself, before any preprocessing: :func:`border`, how far
the colours along the image's border stray from the border's own median colour. Fashion-MNIST images (black
surround) and product photos (one item on a plain background) have a plain border; scenes and textures fill the
frame. The shipped method ``mahalanobis|border`` flags an input when either test fails: its score is
``max(mahalanobis / t_m, border / t_b)`` with both limits calibrated per model, so its threshold is 1.0.

Both files are written by ``scripts/ood_eval.py --fit`` (statistics and autoencoder fitted on the first 55,000
training images, thresholds calibrated on the last 5,000; ``--calibrate`` recalibrates only); the script's plain run
compares the methods on generated images. ImageNet models get no score (:func:`supported` is False).
"""

from __future__ import annotations

import json
import threading
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image
from torch import nn

from ..i18n import N_, ExplorerError, UnknownKey
from ..zoo import weights as metadata

OOD_JSON = "ood.json"
OOD_TENSORS = "ood.safetensors"
METHODS = ("msp", "energy", "mahalanobis", "autoencoder", "mahalanobis+autoencoder", "border", "mahalanobis|border")
BORDER_SIDE = 112  # larger uploads are shrunk to this longer side first (as the upload code does for 28×28 models)


class MissingData(ExplorerError, FileNotFoundError):
    """The detector's shipped data (its statistics file) lacks what was asked for."""


class Autoencoder(nn.Module):
    """A small convolutional autoencoder for 1×28×28 inputs in [0, 1] with a 24-number code (45,289
    parameters): 28 → 14 → 7 by stride-2 convolutions, a linear code, and back by transposed convolutions."""

    def __init__(self, code: int = 24):
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Conv2d(1, 16, 3, stride=2, padding=1), nn.ReLU(),  # 16 × 14 × 14
            nn.Conv2d(16, 16, 3, stride=2, padding=1), nn.ReLU(),  # 16 × 7 × 7
            nn.Flatten(), nn.Linear(16 * 7 * 7, code),
        )
        self.decoder = nn.Sequential(
            nn.Linear(code, 16 * 7 * 7), nn.ReLU(), nn.Unflatten(1, (16, 7, 7)),
            nn.ConvTranspose2d(16, 16, 4, stride=2, padding=1), nn.ReLU(),  # 16 × 14 × 14
            nn.ConvTranspose2d(16, 1, 4, stride=2, padding=1), nn.Sigmoid(),  # 1 × 28 × 28
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(x))


# --- the shipped detector -------------------------------------------------------------------------------------------
def folder() -> Path:
    """Where the detector's files live: beside the shipped weights."""
    return metadata.TRAINED_DIR


def reload() -> None:
    """Forget what was read from the detector's files (after they were rewritten)."""
    config.cache_clear()
    _stored.cache_clear()
    shipped_autoencoder.cache_clear()


@lru_cache(maxsize=1)
def config() -> dict[str, Any]:
    """``ood.json``: method, per-model thresholds and reference points, recipe. Empty when not shipped."""
    path = folder() / OOD_JSON
    if not path.is_file():
        return {}
    return json.loads(path.read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def _stored() -> dict[str, torch.Tensor]:
    from safetensors.torch import load_file

    path = folder() / OOD_TENSORS
    return load_file(str(path)) if path.is_file() else {}


_AE_LOCK = threading.Lock()


@lru_cache(maxsize=1)
def shipped_autoencoder() -> Autoencoder:
    """The shipped autoencoder, in eval mode (CPU)."""
    prefix = "autoencoder."
    state = {k[len(prefix):]: v.float() for k, v in _stored().items() if k.startswith(prefix)}
    if not state:
        raise MissingData(N_("{path} holds no autoencoder weights"), path=folder() / OOD_TENSORS)
    model = Autoencoder(code=int(config().get("recipe", {}).get("autoencoder", {}).get("code", 24)))
    model.load_state_dict(state)
    return model.eval().requires_grad_(False)


def warm() -> None:
    """Read the detector's files now (statistics, autoencoder), so the first score does not pay for it."""
    _stored()
    if any(k.startswith("autoencoder.") for k in _stored()):
        shipped_autoencoder()


def supported(model_id: str) -> bool:
    """Whether ``model_id`` has a shipped OOD threshold (the shipped Fashion-MNIST models do)."""
    return model_id in config().get("models", {})


def threshold(model_id: str) -> float | None:
    """The score above which an input counts as unfamiliar for ``model_id``; ``None`` for models without one."""
    entry = config().get("models", {}).get(model_id)
    return None if entry is None else float(entry["threshold"])


def method() -> str:
    return str(config().get("method", ""))


# --- the image's own cue: a plain border ----------------------------------------------------------------------------
def border_of_array(array: np.ndarray) -> float:
    """The border score of an H×W or H×W×C float image in [0, 1]: over the border band (a tenth of the shorter side,
    at least one pixel, on all four sides), the median of each pixel's distance from the band's median colour (the
    largest difference over the colour channels). 0 for a plain surround; about 0.1 or more when the border crosses
    a horizon, stripes or noise."""
    a = np.asarray(array, dtype=np.float32)
    if a.ndim == 2:
        a = a[..., None]
    h, w = a.shape[:2]
    band = max(1, min(h, w) // 10)
    pixels = np.concatenate([a[:band].reshape(-1, a.shape[2]), a[-band:].reshape(-1, a.shape[2]),
                             a[:, :band].reshape(-1, a.shape[2]), a[:, -band:].reshape(-1, a.shape[2])])
    return float(np.median(np.abs(pixels - np.median(pixels, axis=0)).max(axis=1)))


def border(image: Image.Image | np.ndarray) -> float:
    """The border score (:func:`border_of_array`) of an uploaded image, or of a raw 28×28 uint8 dataset image.
    Images larger than ``BORDER_SIDE`` are shrunk first, as the upload code does."""
    if isinstance(image, np.ndarray):
        return border_of_array(image.astype(np.float32) / 255.0 if image.dtype == np.uint8 else image)
    image = image.convert("RGB")
    if max(image.size) > BORDER_SIDE:
        image = image.copy()
        image.thumbnail((BORDER_SIDE, BORDER_SIDE), Image.Resampling.BILINEAR, reducing_gap=2.0)
    return border_of_array(np.asarray(image, dtype=np.float32) / 255.0)


def borders_of_inputs(x: torch.Tensor) -> torch.Tensor:
    """Border scores of network inputs (N×C×H×W) taken as the images themselves: exact for dataset images fed raw
    (/255), which is what they are; an upload's score comes from the upload (:func:`border`), not from its input."""
    return torch.tensor([border_of_array(xi.float().cpu().permute(1, 2, 0).numpy()) for xi in x])


# --- scoring --------------------------------------------------------------------------------------------------------
def split_forward(module: nn.Module, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(penultimate features, logits) of a Sequential whose last layer is a Linear: the same arithmetic as
    ``module(x)``, with the input of the last layer kept. No hooks, so a shared model stays untouched."""
    if not (isinstance(module, nn.Sequential) and isinstance(module[-1], nn.Linear)):
        raise TypeError(f"{type(module).__name__} is not a Sequential ending in a Linear layer")
    features = module[:-1](x)
    return features, module[-1](features)


def statistics(model_id: str) -> dict[str, torch.Tensor]:
    """``whiten`` (D×D, Σ⁻¹ = W Wᵀ for the shared covariance Σ) and ``means`` (10×D class means, already
    whitened) of ``model_id``'s penultimate features, as float32."""
    t = _stored()
    if f"{model_id}.whiten" not in t:
        raise UnknownKey(N_("no feature statistics are shipped for {model}"), model=model_id)
    return {"whiten": t[f"{model_id}.whiten"].float(), "means": t[f"{model_id}.means"].float()}


def mahalanobis(model_id: str, features: torch.Tensor) -> torch.Tensor:
    """Squared Mahalanobis distance (class-conditional means, shared covariance) to the nearest class mean, N."""
    stats = statistics(model_id)
    whiten, means = stats["whiten"], stats["means"]
    z = features.float().cpu() @ whiten
    return torch.cdist(z, means).square().min(dim=1).values


def recon_error(x: torch.Tensor) -> torch.Tensor:
    """Mean squared error per image between the 28×28 input (first channel) and its autoencoder reconstruction."""
    x = x.float().cpu()[:, :1]
    if x.shape[-2:] != (28, 28):
        x = nn.functional.interpolate(x, size=(28, 28), mode="bilinear", align_corners=False)
    with _AE_LOCK, torch.inference_mode():
        recon = shipped_autoencoder()(x)
    return (recon - x).square().mean(dim=(1, 2, 3))


def components(model_id: str, x: torch.Tensor, features: torch.Tensor, logits: torch.Tensor,
               which: tuple[str, ...] = METHODS, borders: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
    """Every method's score (higher = less familiar) for a batch: ``x`` N×C×H×W as the network received it,
    its penultimate ``features`` and ``logits``; ``borders`` (N) the border scores of the images themselves
    (:func:`border`), taken from ``x`` when not given (right for dataset images fed raw)."""
    logits = logits.float().cpu()
    out: dict[str, torch.Tensor] = {}
    if "msp" in which:
        out["msp"] = -torch.softmax(logits, dim=1).max(dim=1).values
    if "energy" in which:
        out["energy"] = -torch.logsumexp(logits, dim=1)
    needs_maha = {"mahalanobis", "mahalanobis+autoencoder", "mahalanobis|border"} & set(which)
    needs_ae = {"autoencoder", "mahalanobis+autoencoder"} & set(which)
    needs_border = {"border", "mahalanobis|border"} & set(which)
    if needs_maha:
        out["mahalanobis"] = mahalanobis(model_id, features)
    if needs_ae:
        out["autoencoder"] = recon_error(x)
    if needs_border:
        out["border"] = borders_of_inputs(x) if borders is None else torch.as_tensor(borders, dtype=torch.float32)
    if "mahalanobis+autoencoder" in which:
        out["mahalanobis+autoencoder"] = combined(model_id, out["mahalanobis"], out["autoencoder"])
    if "mahalanobis|border" in which:
        out["mahalanobis|border"] = union(model_id, out["mahalanobis"], out["border"])
    return {k: v for k, v in out.items() if k in which}


def combined(model_id: str, maha: torch.Tensor, recon: torch.Tensor) -> torch.Tensor:
    """The two components on one scale, summed: each as (value − median) / (95th percentile − median) of the
    held-out training images, so 1.0 on either alone is where 5 % of those images lie."""
    ref = config()["models"][model_id]["reference"]
    m = (maha - ref["mahalanobis"]["median"]) / (ref["mahalanobis"]["q95"] - ref["mahalanobis"]["median"])
    a = (recon - ref["autoencoder"]["median"]) / (ref["autoencoder"]["q95"] - ref["autoencoder"]["median"])
    return m + a


def union(model_id: str, maha: torch.Tensor, borders: torch.Tensor) -> torch.Tensor:
    """Two calibrated tests in one score: ``max(maha / t_m, border / t_b)`` with ``model_id``'s limits
    (``ood.json``: ``union``), so the score exceeds 1.0 exactly when either test fails."""
    limits = config()["models"][model_id]["union"]
    return torch.maximum(maha.float() / limits["mahalanobis"], borders.float() / limits["border"])


def scores(model_id: str, x: torch.Tensor, features: torch.Tensor, logits: torch.Tensor,
           borders: torch.Tensor | None = None) -> torch.Tensor:
    """The shipped method's score for a batch (N), see :func:`components`."""
    name = method()
    return components(model_id, x, features, logits, (name,), borders)[name]


def score(model_id: str, x: torch.Tensor, features: torch.Tensor, logits: torch.Tensor,
          border_score: float | None = None) -> float:
    """The shipped method's score for one input: ``x`` C×H×W (or 1×C×H×W), its features and logits, and the
    border score of the image it came from (:func:`border`; taken from ``x`` when not given)."""
    if x.dim() == 3:
        x = x[None]
    if features.dim() == 1:
        features, logits = features[None], logits[None]
    borders = None if border_score is None else torch.tensor([float(border_score)])
    return float(scores(model_id, x, features, logits, borders)[0])


def familiar(model_id: str, value: float) -> bool | None:
    """Whether a score is at or below ``model_id``'s threshold; ``None`` for models without one."""
    limit = threshold(model_id)
    return None if limit is None else bool(value <= limit)
