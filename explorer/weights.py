"""Trained weights shipped with the app: safetensors files plus a manifest with each one's test accuracy and the
recipe that produced it (written by ``python -m explorer train ID --ship``)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import torch

TRAINED_DIR = Path(__file__).resolve().parent / "trained"
MANIFEST = TRAINED_DIR / "manifest.json"


@dataclass(frozen=True)
class Trained:
    """What the manifest records of one shipped model."""

    model: str
    file: str
    sha256: str
    accuracy: float  # on the 10,000 Fashion-MNIST test images
    correct: int
    recipe: dict[str, Any]  # epochs, lr, batch size, optimizer, schedule, augmentation, seed, device, seconds …

    @property
    def path(self) -> Path:
        return TRAINED_DIR / self.file


@lru_cache(maxsize=1)
def manifest() -> dict[str, Trained]:
    if not MANIFEST.is_file():
        return {}
    raw = json.loads(MANIFEST.read_text(encoding="utf-8"))
    return {k: Trained(model=k, **v) for k, v in raw.items()}


def shipped(model_id: str) -> Trained | None:
    """The shipped trained weights of ``model_id``, or ``None``."""
    return manifest().get(model_id)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load_shipped(model_id: str) -> dict[str, torch.Tensor]:
    """The state dict of ``model_id``'s shipped weights (safetensors: no code runs on load), checked by hash."""
    from safetensors.torch import load_file

    info = shipped(model_id)
    if info is None:
        raise FileNotFoundError(f"no trained weights are shipped for {model_id}")
    if sha256(info.path) != info.sha256:
        raise ValueError(f"{info.path} does not match the hash in the manifest: the file is damaged")
    return load_file(str(info.path))


def ship(model_id: str, state_dict: dict[str, torch.Tensor], accuracy: float, correct: int, recipe: dict) -> Trained:
    """Write ``state_dict`` as ``trained/<id>.safetensors`` and record it in the manifest."""
    from safetensors.torch import save_file

    TRAINED_DIR.mkdir(parents=True, exist_ok=True)
    path = TRAINED_DIR / f"{model_id}.safetensors"
    tensors = {k: v.detach().to("cpu", torch.float32).contiguous() for k, v in state_dict.items()
               if v.is_floating_point()}
    tensors.update({k: v.detach().cpu().contiguous() for k, v in state_dict.items() if not v.is_floating_point()})
    save_file(tensors, str(path), metadata={"model": model_id, "accuracy": f"{accuracy:.4f}"})
    raw = json.loads(MANIFEST.read_text(encoding="utf-8")) if MANIFEST.is_file() else {}
    raw[model_id] = {"file": path.name, "sha256": sha256(path), "accuracy": round(accuracy, 4), "correct": correct,
                     "recipe": recipe}
    MANIFEST.write_text(json.dumps(raw, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    manifest.cache_clear()
    return manifest()[model_id]
