"""Weights metadata, kept beside the builders as torchvision keeps its ``Weights`` enums: one :class:`Weights` record
per checkpoint — its file, where it is published, its hash, the transform its inputs need, its categories, what it
scores and how many parameters it fills. Loading and fetching them is the runtime's job
(:mod:`explorer.runtime.weights`, :mod:`explorer.runtime.imagenet`, :mod:`explorer.runtime.hub`): models never depend
on how they are run.

- Fashion-MNIST weights shipped with the app (:func:`shipped`): ``trained/<id>.safetensors`` plus
  ``trained/manifest.json`` (hash, test accuracy, the recipe that produced them), written by
  ``python -m explorer train ID --ship``.
- torchvision's published ImageNet checkpoints (``IMAGENET1K_V1``) for the torchvision-compatible ids
  (:data:`CHECKPOINTS`): the official URL and file name, whose suffix is the SHA-256 prefix torch.hub checks, and the
  accuracy torchvision's documentation states.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from ..i18n import N_

TRAINED_DIR = Path(__file__).resolve().parent / "trained"
MANIFEST = TRAINED_DIR / "manifest.json"
BASE_URL = "https://download.pytorch.org/models/"

FASHION_MNIST_CLASSES = (
    N_("T-shirt/top"), N_("Trouser"), N_("Pullover"), N_("Dress"), N_("Coat"), N_("Sandal"), N_("Shirt"),
    N_("Sneaker"), N_("Bag"), N_("Ankle boot"),
)


@cache
def imagenet_classes() -> tuple[str, ...]:
    """The 1000 ImageNet-1k class names in class-index order (torchvision's short names: 0 "tench" … 999 "toilet
    tissue"), shipped as ``imagenet_classes.txt``."""
    text = (resources.files(__package__) / "imagenet_classes.txt").read_text(encoding="utf-8")
    names = tuple(line.strip() for line in text.splitlines() if line.strip())
    assert len(names) == 1000, f"imagenet_classes.txt holds {len(names)} class names instead of 1000"
    return names


@dataclass(frozen=True)
class FashionMNISTInput:
    """The input of the Fashion-MNIST weights: the dataset's images as they are, 1×H×W floats in [0, 1] (a photo is
    first made to look like one — grayscale, a light object on black, cropped and centred)."""

    size: tuple[int, int] = (28, 28)


@dataclass(frozen=True)
class ImageClassification:
    """torchvision's evaluation transform of its ImageNet weights: ``Resize(resize)`` (bilinear), ``CenterCrop(crop)``,
    scaling to [0, 1], ``Normalize(mean, std)``."""

    resize: int = 256
    crop: int = 224
    mean: tuple[float, float, float] = (0.485, 0.456, 0.406)
    std: tuple[float, float, float] = (0.229, 0.224, 0.225)


# torch.hub's rule for the hash in a file name: the hex digits between the last "-" and the extension.
_HASH_IN_NAME = re.compile(r"-([0-9a-f]{6,64})\.[^.]+$")


@dataclass(frozen=True)
class Weights:
    """One checkpoint: its file (and where it is published), the hash that checks it, the transform and categories
    of its inputs and outputs, what it scores (``metrics``) and how many parameters it fills (``num_params``, checked
    against the built model in the tests)."""

    model: str
    file: str
    transforms: FashionMNISTInput | ImageClassification
    categories: tuple[str, ...] = field(repr=False)
    metrics: Mapping[str, float]  # shipped: "accuracy", "correct"; published: "acc@1", "acc@5" (percent)
    num_params: int
    url: str | None = None  # where it is published; None for the weights shipped in the package
    sha256: str | None = None  # the full SHA-256, when recorded (the shipped files)
    recipe: Mapping[str, Any] | None = field(default=None, repr=False)  # how the shipped weights were trained

    @property
    def hash_prefix(self) -> str:
        """What a file's SHA-256 must start with: the recorded hash, else the prefix the official file name carries
        (torch.hub's convention, ``resnet18-f37072fd.pth`` → ``f37072fd``)."""
        if self.sha256:
            return self.sha256
        found = _HASH_IN_NAME.search(self.file)
        assert found is not None, f"the checkpoint file name {self.file} carries no SHA-256 prefix"
        return found.group(1)

    @property
    def path(self) -> Path | None:
        """The file of shipped weights (published ones live in torch.hub's cache: the runtime knows where)."""
        return TRAINED_DIR / self.file if self.url is None else None

    @property
    def accuracy(self) -> float:
        """Top-1 accuracy as a fraction: the shipped weights' measured test accuracy, or the published acc@1."""
        return self.metrics["accuracy"] if "accuracy" in self.metrics else self.metrics["acc@1"] / 100

    @property
    def correct(self) -> int | None:
        """Correctly classified Fashion-MNIST test images (shipped weights)."""
        value = self.metrics.get("correct")
        return int(value) if value is not None else None


@lru_cache(maxsize=1)
def manifest() -> dict[str, Weights]:
    """The shipped weights, by model id (``trained/manifest.json``)."""
    if not MANIFEST.is_file():
        return {}
    raw = json.loads(MANIFEST.read_text(encoding="utf-8"))
    return {k: Weights(model=k, file=v["file"], transforms=FashionMNISTInput(), categories=FASHION_MNIST_CLASSES,
                       metrics={"accuracy": v["accuracy"], "correct": v["correct"]}, num_params=v["num_params"],
                       sha256=v["sha256"], recipe=v["recipe"])
            for k, v in raw.items()}


def shipped(model_id: str) -> Weights | None:
    """The shipped trained weights of ``model_id``, or ``None``."""
    return manifest().get(model_id)


def _published(model: str, file: str, acc1: float, acc5: float, num_params: int) -> Weights:
    return Weights(model=model, file=file, url=BASE_URL + file, transforms=ImageClassification(),
                   categories=imagenet_classes(), metrics={"acc@1": acc1, "acc@5": acc5}, num_params=num_params)


# torchvision's IMAGENET1K_V1 checkpoints: official file name, top-1 / top-5 on the 50,000 validation images (single
# 224×224 centre crop) and the number of parameters, as torchvision's documentation states them.
CHECKPOINTS: dict[str, Weights] = {
    w.model: w for w in (
        _published("alexnet-tv", "alexnet-owt-7be5be79.pth", 56.522, 79.066, 61_100_840),
        _published("vgg11", "vgg11-8a719046.pth", 69.020, 88.628, 132_863_336),
        _published("vgg13", "vgg13-19584684.pth", 69.928, 89.246, 133_047_848),
        _published("vgg16", "vgg16-397923af.pth", 71.592, 90.382, 138_357_544),
        _published("vgg19", "vgg19-dcbb9e9d.pth", 72.376, 90.876, 143_667_240),
        _published("googlenet-tv", "googlenet-1378be20.pth", 69.778, 89.530, 6_624_904),
        _published("resnet18-tv", "resnet18-f37072fd.pth", 69.758, 89.078, 11_689_512),
        _published("resnet34-tv", "resnet34-b627a593.pth", 73.314, 91.420, 21_797_672),
        _published("resnet50-tv", "resnet50-0676ba61.pth", 76.130, 92.862, 25_557_032),
    )
}
