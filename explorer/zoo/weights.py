"""Weights metadata, kept beside the builders (as torchvision keeps its ``Weights`` enums): which trained weights
exist for a model id, where their file is, its hash, and what they score. Loading them is the runtime's job
(:mod:`explorer.runtime.weights`, :mod:`explorer.runtime.imagenet`): models never depend on how they are run.

- Fashion-MNIST weights shipped with the app: ``trained/<id>.safetensors`` plus ``trained/manifest.json`` (test
  accuracy, the recipe that produced them), written by ``python -m explorer train ID --ship``.
- torchvision's published ImageNet checkpoints (``IMAGENET1K_V1``) for the torchvision-compatible ids: URL and the
  official file name, whose suffix is the SHA-256 prefix torch.hub checks.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

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


_BASE_URL = "https://download.pytorch.org/models/"

# model id -> (url, file name): torchvision's IMAGENET1K_V1 checkpoints.
CHECKPOINTS: dict[str, tuple[str, str]] = {
    model_id: (_BASE_URL + file_name, file_name)
    for model_id, file_name in (
        ("alexnet-tv", "alexnet-owt-7be5be79.pth"),
        ("vgg11", "vgg11-8a719046.pth"),
        ("vgg13", "vgg13-19584684.pth"),
        ("vgg16", "vgg16-397923af.pth"),
        ("vgg19", "vgg19-dcbb9e9d.pth"),
        ("googlenet-tv", "googlenet-1378be20.pth"),
        ("resnet18-tv", "resnet18-f37072fd.pth"),
        ("resnet34-tv", "resnet34-b627a593.pth"),
        ("resnet50-tv", "resnet50-0676ba61.pth"),
    )
}
