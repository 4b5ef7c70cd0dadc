"""ImageNet-1k for the torchvision-compatible ids: class names, torchvision's published checkpoints read into the zoo's
models, preprocessing.

The checkpoints are the files torchvision publishes (its ``IMAGENET1K_V1`` weights), described by
:data:`explorer.zoo.weights.CHECKPOINTS` (one :class:`~explorer.zoo.weights.Weights` record each). They live in
torch.hub's cache, ``<torch.hub.get_dir()>/checkpoints`` (``$TORCH_HOME/hub/checkpoints``, by default
``~/.cache/torch/hub/checkpoints``), under their official file names, so a cache filled by torchvision serves this
module too, and the reverse. Nothing is downloaded here: :mod:`explorer.runtime.hub` fetches them (with progress,
hash-checked) and adds files fetched elsewhere.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import nn

from ..i18n import N_, ExplorerError, Quoted
from ..zoo import build
from ..zoo.weights import CHECKPOINTS, ImageClassification, imagenet_classes
from .weights import checkpoint

__all__ = [
    "CLASSES", "CROP_SIZE", "MEAN", "RESIZE_SIZE", "STD", "ImageNetWeightsDamaged", "ImageNetWeightsMissing",
    "available", "build_pretrained", "checkpoint_path", "fit_weights", "is_imagenet_model", "load_weights",
    "preprocess", "read_checkpoint", "resize_shorter_side",
]

# Keys in a checkpoint that the zoo's model does not build: GoogLeNet's auxiliary classifiers, which torchvision
# also drops after loading (the zoo's ``googlenet-tv`` is ``googlenet(aux_logits=False)``).
_DROPPED_PREFIXES: dict[str, tuple[str, ...]] = {"googlenet-tv": ("aux1.", "aux2.")}

# Builder overrides that match how torchvision builds the model for these weights: the GoogLeNet weights were
# ported from TensorFlow and expect the input re-normalized (``transform_input=True``).
_BUILD_OVERRIDES: dict[str, dict[str, bool]] = {"googlenet-tv": {"transform_input": True, "init_weights": False}}

# torchvision's ImageNet evaluation transform (every published checkpoint's ``transforms``): Resize(256),
# CenterCrop(224), ToTensor, Normalize(MEAN, STD).
TRANSFORM = ImageClassification()
RESIZE_SIZE, CROP_SIZE, MEAN, STD = TRANSFORM.resize, TRANSFORM.crop, TRANSFORM.mean, TRANSFORM.std

# The 1000 ImageNet-1k class names in class-index order (every published checkpoint's ``categories``).
CLASSES: tuple[str, ...] = imagenet_classes()


class ImageNetWeightsMissing(ExplorerError, FileNotFoundError):
    """The checkpoint of an ImageNet model is not in the torch.hub cache. The message says in one sentence which URL
    to fetch and the full path to save it under."""

    def __init__(self, model_id: str, url: str, path: Path) -> None:
        super().__init__(N_("The ImageNet weights of {model} are not in the torch.hub cache: fetch {url} and save it "
                            "as {path}."), model=model_id, url=url, path=path)
        self.model_id, self.url, self.path = model_id, url, path


class ImageNetWeightsDamaged(ExplorerError, ValueError):
    """A checkpoint file is present but unreadable, or does not hold the weights of its model."""

    def __init__(self, model_id: str, url: str, path: Path, reason: str) -> None:
        super().__init__(N_("The ImageNet weights file {path} for {model} is damaged ({reason}): delete it and fetch "
                            "{url} again."), model=model_id, url=url, path=path, reason=Quoted(reason))
        self.model_id, self.url, self.path, self.reason = model_id, url, path, reason


def is_imagenet_model(model_id: str) -> bool:
    """Whether ``model_id`` has a published ImageNet checkpoint (the torchvision-compatible ids)."""
    return model_id in CHECKPOINTS


def checkpoint_path(model_id: str) -> Path:
    """Where torch.hub keeps the checkpoint of ``model_id``: ``<torch.hub.get_dir()>/checkpoints/<file name>``."""
    return Path(torch.hub.get_dir()) / "checkpoints" / checkpoint(model_id).file


def available(model_id: str) -> bool:
    """Whether the checkpoint file of ``model_id`` is present in the torch.hub cache (it is not read)."""
    return checkpoint_path(model_id).is_file()


def _short(exc: BaseException) -> str:
    """An exception as one short line for a message."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 200 else text[:197] + "..."


def read_checkpoint(model_id: str, path: Path) -> dict[str, torch.Tensor]:
    """The tensors of the checkpoint file at ``path`` for ``model_id`` (any path: the cache's, or a file to add),
    without the keys the zoo's model does not build. Never runs pickled code (``weights_only=True``); a file that
    cannot be read, or does not hold a ``state_dict`` of tensors, raises :class:`ImageNetWeightsDamaged`."""
    url = checkpoint(model_id).url
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 — any failure to read the file means the file is bad
        raise ImageNetWeightsDamaged(model_id, url, path, _short(exc)) from exc
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ImageNetWeightsDamaged(model_id, url, path, "it does not hold a state_dict of tensors")
    dropped = _DROPPED_PREFIXES.get(model_id, ())
    return {key: value for key, value in state.items() if not key.startswith(dropped)}


def load_weights(model_id: str) -> dict[str, torch.Tensor]:
    """The ImageNet ``state_dict`` of ``model_id`` from the torch.hub cache, on the CPU, keyed as the zoo's module
    expects. Raises :class:`ImageNetWeightsMissing` when the file is absent (:func:`explorer.runtime.hub.fetch`
    downloads it), :class:`ImageNetWeightsDamaged` when it cannot be read. Loading never runs pickled code
    (``weights_only=True``)."""
    path = checkpoint_path(model_id)
    if not path.is_file():
        raise ImageNetWeightsMissing(model_id, checkpoint(model_id).url, path)
    return read_checkpoint(model_id, path)


def fit_weights(model_id: str, state: dict[str, torch.Tensor], path: Path | None = None) -> nn.Module:
    """The zoo's ``model_id`` holding the tensors of ``state`` (``strict=True``; the tensors become the module's
    own), in eval mode. Keys or shapes that do not fit raise :class:`ImageNetWeightsDamaged` naming ``path``
    (default: the cache's file)."""
    with torch.device("meta"):
        model = build(model_id, **_BUILD_OVERRIDES.get(model_id, {}))
    url = checkpoint(model_id).url
    path = checkpoint_path(model_id) if path is None else path
    try:
        model.load_state_dict(state, strict=True, assign=True)
    except RuntimeError as exc:
        raise ImageNetWeightsDamaged(
            model_id, url, path, "its tensors do not fit the model: " + _short(exc)
        ) from exc
    leftover = [name for name, t in (*model.named_parameters(), *model.named_buffers()) if t.is_meta]
    if leftover:  # a tensor the checkpoint did not provide and strict loading did not catch
        raise ImageNetWeightsDamaged(model_id, url, path, f"no values for {', '.join(leftover[:5])}")
    return model.eval()


def build_pretrained(model_id: str) -> nn.Module:
    """The zoo's ``model_id`` with its ImageNet weights from the torch.hub cache loaded (``strict=True``), in eval
    mode, on the CPU.

    Same errors as :func:`load_weights`; a checkpoint whose keys or shapes do not fit the model is reported as
    :class:`ImageNetWeightsDamaged`. The module is built on the meta device and takes the loaded tensors as its own,
    so no memory or time is spent on a random initialisation.
    """
    return fit_weights(model_id, load_weights(model_id))


def resize_shorter_side(image: Image.Image, size: int = RESIZE_SIZE) -> Image.Image:
    """torchvision's ``Resize(size)`` on a PIL image: the shorter side becomes ``size``, the longer one
    ``int(size * long / short)`` (truncated), bilinear with Pillow's antialiasing."""
    width, height = image.size
    short, long = (width, height) if width <= height else (height, width)
    new_short, new_long = size, int(size * long / short)
    new_size = (new_short, new_long) if width <= height else (new_long, new_short)
    if new_size == image.size:
        return image
    return image.resize(new_size, Image.Resampling.BILINEAR)


def preprocess(image: Image.Image) -> torch.Tensor:
    """torchvision's ImageNet evaluation transform, with Pillow and torch only: 3×224×224 float32.

    ``Resize(256)`` (bilinear), ``CenterCrop(224)`` (offsets ``int(round((size - 224) / 2))``), scaling to [0, 1],
    then ``Normalize(MEAN, STD)``. The image is converted to RGB first.
    """
    if image.mode != "RGB":
        image = image.convert("RGB")
    image = resize_shorter_side(image, TRANSFORM.resize)
    width, height = image.size
    if width < CROP_SIZE or height < CROP_SIZE:  # cannot happen after the resize (256 ≥ 224); kept as a guard
        raise ValueError(f"the resized image ({width}×{height}) is smaller than the {CROP_SIZE}×{CROP_SIZE} crop")
    top = int(round((height - CROP_SIZE) / 2.0))
    left = int(round((width - CROP_SIZE) / 2.0))
    image = image.crop((left, top, left + CROP_SIZE, top + CROP_SIZE))
    array = np.asarray(image, dtype=np.uint8).transpose(2, 0, 1)  # 3 x 224 x 224
    x = torch.from_numpy(np.ascontiguousarray(array)).to(torch.float32).div_(255.0)
    mean = torch.tensor(MEAN, dtype=torch.float32).view(3, 1, 1)
    std = torch.tensor(STD, dtype=torch.float32).view(3, 1, 1)
    return x.sub_(mean).div_(std).contiguous()
