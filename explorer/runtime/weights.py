"""Loading and writing the shipped Fashion-MNIST weights (safetensors: no code runs on load), checked by hash.

What exists and what it scores is metadata, kept beside the builders in :mod:`explorer.zoo.weights`."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import torch

from ..zoo import weights as metadata
from ..zoo.weights import Trained, shipped


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

    folder, manifest_file = metadata.TRAINED_DIR, metadata.MANIFEST
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{model_id}.safetensors"
    tensors = {k: v.detach().to("cpu", torch.float32).contiguous() for k, v in state_dict.items()
               if v.is_floating_point()}
    tensors.update({k: v.detach().cpu().contiguous() for k, v in state_dict.items() if not v.is_floating_point()})
    save_file(tensors, str(path), metadata={"model": model_id, "accuracy": f"{accuracy:.4f}"})
    raw = json.loads(manifest_file.read_text(encoding="utf-8")) if manifest_file.is_file() else {}
    raw[model_id] = {"file": path.name, "sha256": sha256(path), "accuracy": round(accuracy, 4), "correct": correct,
                     "recipe": recipe}
    manifest_file.write_text(json.dumps(raw, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    metadata.manifest.cache_clear()
    return metadata.manifest()[model_id]
