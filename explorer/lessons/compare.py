"""Models side by side: measured size and cost, the accuracy each one is known to reach (on its own dataset), ratios
to a baseline, and a common input size.

Accuracy is never mixed across datasets: the shipped Fashion-MNIST weights carry the test accuracy measured when
they were trained (:mod:`explorer.zoo.weights`), the torchvision-compatible ids the ImageNet top-1 torchvision
documents for the checkpoints they load.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..analysis import InputShapeError, Summary, analyze
from ..analysis.depth import weight_layers
from ..i18n import N_, Message
from ..zoo.registry import get_spec
from ..zoo.weights import CHECKPOINTS, shipped

FASHION_MNIST = "Fashion-MNIST"
IMAGENET = "ImageNet-1k"

IMAGENET_SOURCE = N_(  # N_: translated where shown
    "torchvision's documentation (pytorch.org/vision/stable/models.html), IMAGENET1K_V1 weights — the checkpoints "
    "the `-tv` ids and `vgg11`…`vgg19` load; single 224×224 centre crop of the 50,000 validation images"
)
FASHION_MNIST_SOURCE = N_("measured on the 10,000 Fashion-MNIST test images with the weights shipped in the app")

# model id → (top-1, top-5) in percent, as torchvision's documentation states them for IMAGENET1K_V1 (the published
# metrics of each checkpoint's record).
IMAGENET_ACCURACY: dict[str, tuple[float, float]] = {
    model_id: (w.metrics["acc@1"], w.metrics["acc@5"]) for model_id, w in CHECKPOINTS.items()
}


@dataclass(frozen=True)
class Accuracy:
    model: str
    dataset: str  # FASHION_MNIST or IMAGENET
    accuracy: float  # fraction (top-1)
    source: str
    params: int = 0


def accuracy(model_id: str) -> Accuracy | None:
    """What ``model_id`` is known to score: its shipped Fashion-MNIST weights' test accuracy, else torchvision's
    ImageNet top-1 for a torchvision-compatible id, else ``None``."""
    spec = get_spec(model_id)
    trained = shipped(model_id)
    if trained is not None:
        return Accuracy(model_id, FASHION_MNIST, trained.accuracy, FASHION_MNIST_SOURCE, spec.params)
    if model_id in IMAGENET_ACCURACY:
        return Accuracy(model_id, IMAGENET, IMAGENET_ACCURACY[model_id][0] / 100, IMAGENET_SOURCE, spec.params)
    return None


def accuracy_by_dataset(model_ids: Sequence[str]) -> dict[str, list[Accuracy]]:
    """The known accuracies of ``model_ids``, grouped by dataset (one scatter each): datasets never mix."""
    groups: dict[str, list[Accuracy]] = {}
    for model_id in model_ids:
        found = accuracy(model_id)
        if found is not None:
            groups.setdefault(found.dataset, []).append(found)
    return groups


@dataclass(frozen=True)
class Measured:
    """One model measured at one input size, or why it cannot take that size."""

    model: str
    input_shape: tuple[int, ...]  # without the batch axis
    summary: Summary | None
    longest_path: int = 0  # weight layers on the longest path
    total_weight_layers: int = 0  # every weight-layer call
    error: Message | None = None  # why the model does not accept ``input_shape``


def common_input(model_id: str, size: int | None) -> tuple[int, ...]:
    """``model_id``'s own input, or the same channels at ``size``×``size`` (models with an image input only)."""
    own = get_spec(model_id).input_shape
    if size is None or len(own) != 3:
        return own
    return (own[0], size, size)


def measure(model_id: str, size: int | None = None) -> Measured:
    """Analyse ``model_id`` at its own input (``size=None``) or at ``size``×``size`` with its own channels. A model
    that cannot take that size gets the reason (its summary stays ``None``)."""
    spec = get_spec(model_id)
    shape = common_input(model_id, size)
    if size is not None and len(spec.input_shape) != 3:
        return Measured(model_id, shape, None, error=Message(N_("not an image model (input {shape})"),
                                                             {"shape": "×".join(map(str, shape))}))
    try:
        summary = analyze(model_id, shape)
    except InputShapeError as exc:
        return Measured(model_id, shape, None, error=exc.message)
    depth = weight_layers(model_id, shape)
    return Measured(model_id, shape, summary, depth.longest_path, depth.total)


def ratios(values: dict[str, float], baseline: str) -> dict[str, float | None]:
    """Every value divided by the baseline's (``None`` where the baseline's is 0 or the baseline is missing)."""
    base = values.get(baseline)
    return {k: (v / base if base else None) for k, v in values.items()}
