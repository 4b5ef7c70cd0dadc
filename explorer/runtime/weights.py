"""Checkpoints at run time: the one hash helper, the one lookup of a model's published checkpoint (with its one "no
checkpoint" error), and the shipped Fashion-MNIST weights — loaded (safetensors: no code runs on load) and written,
checked by hash.

What exists, where it is published, what it scores: :class:`explorer.zoo.weights.Weights` records, kept beside the
builders. Fetching published checkpoints into torch.hub's cache is :mod:`explorer.runtime.hub`; reading them into a
model is :mod:`explorer.runtime.imagenet`.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import torch

from ..i18n import N_, ExplorerError, InvalidValue
from ..zoo import get_spec
from ..zoo import weights as metadata
from ..zoo.weights import CHECKPOINTS, Weights, shipped

CHUNK_BYTES = 1 << 20


class FetchError(InvalidValue):
    """Looking up, fetching or adding a checkpoint failed; the message says why in one sentence (an id without a
    checkpoint, no network, refused connection, DNS failure, HTTP error, timeout, hash mismatch, a damaged file). The
    cache is unchanged when it is raised. A ``ValueError``."""


class NoCheckpoint(FetchError, KeyError):
    """The model has no such checkpoint: no published ImageNet one, or no shipped Fashion-MNIST weights (a
    ``KeyError`` as well, for the callers that look an id up)."""

    def __str__(self) -> str:  # the sentence, not KeyError's quoted repr of it
        return str(self.message)


class DamagedWeights(ExplorerError, ValueError):
    """A shipped weights file does not match the hash its manifest records."""


def sha256_of(path: Path | str) -> str:
    """The SHA-256 (hex) of a file, read a chunk at a time (VGG's checkpoint is 550 MB)."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(CHUNK_BYTES), b""):
            digest.update(block)
    return digest.hexdigest()


def checkpoint(model_id: str) -> Weights:
    """The published ImageNet checkpoint of ``model_id`` (:class:`Weights`); :class:`NoCheckpoint` for a model
    without one, the registry's ``KeyError`` for an unknown id."""
    if model_id in CHECKPOINTS:
        return CHECKPOINTS[model_id]
    get_spec(model_id)
    raise NoCheckpoint(N_("{model} has no published ImageNet checkpoint; the ids that do are {ids}"),
                       model=model_id, ids=", ".join(CHECKPOINTS))


def load_shipped(model_id: str) -> dict[str, torch.Tensor]:
    """The state dict of ``model_id``'s shipped weights (safetensors: no code runs on load), checked by hash."""
    from safetensors.torch import load_file

    info = shipped(model_id)
    if info is None:
        raise NoCheckpoint(N_("no trained weights are shipped for {model}"), model=model_id)
    if sha256_of(info.path) != info.sha256:
        raise DamagedWeights(N_("{path} does not match the hash in the manifest: the file is damaged"), path=info.path)
    return load_file(str(info.path))


def ship(model_id: str, state_dict: dict[str, torch.Tensor], accuracy: float, correct: int, recipe: dict) -> Weights:
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
    raw[model_id] = {"file": path.name, "sha256": sha256_of(path), "accuracy": round(accuracy, 4), "correct": correct,
                     "num_params": get_spec(model_id).params,
                     "recipe": recipe}
    manifest_file.write_text(json.dumps(raw, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    metadata.manifest.cache_clear()
    return metadata.manifest()[model_id]
