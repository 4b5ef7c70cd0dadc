"""Model registry: one :class:`ModelSpec` per model id, filled when the family modules are imported."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass, field

from torch import nn

from ..i18n import N_, UnknownKey


@dataclass(frozen=True)
class Erratum:
    """A bug in the notes' code and how the zoo fixes it."""

    title: str
    notes_code: str  # the line(s) as the notes write them
    fixed_code: str  # what the zoo builds instead
    why: str


@dataclass(frozen=True)
class ModelSpec:
    """Everything the app knows about one model id, besides the module itself."""

    id: str
    family: str
    title: str
    year: int
    paper: str
    input_shape: tuple[int, ...]  # without the batch axis: (C, H, W) for images, (T, features) for sequences
    num_classes: int
    builder: Callable[..., nn.Module] = field(repr=False, compare=False)
    params: int  # stated parameter count; tests check it against the built module
    introduced: str  # one line: what this network introduced
    notes: str = ""  # longer description (markdown)
    errata: tuple[Erratum, ...] = ()
    source: str = "d2l"  # "d2l", "paper" or "torchvision"
    d2l_result: str = ""  # d2l's published Fashion-MNIST test accuracy for this chapter, where it has one
    # Models that are not classifiers (an autoencoder, a generator, a recurrent layer, a single block) state their
    # output without the batch axis; ``num_classes`` then counts the output features per position (channels of
    # an image, the last axis of a vector or a sequence).
    output_shape: tuple[int, ...] | None = None
    output: str = N_("class scores")  # what the output is, in words

    @property
    def classifier(self) -> bool:
        """Whether the output is ``num_classes`` scores per example (the default), not an image, sequence or state."""
        return self.output_shape is None

    @property
    def output_dims(self) -> tuple[int, ...]:
        """The output's shape without the batch axis: ``(num_classes,)`` for a classifier."""
        return self.output_shape if self.output_shape is not None else (self.num_classes,)

    def build(self, **overrides) -> nn.Module:
        return self.builder(**overrides)

    @property
    def trained(self):
        """The shipped Fashion-MNIST weights (:class:`explorer.zoo.weights.Weights`: file, hash, accuracy, recipe),
        or ``None``."""
        from .weights import shipped  # the registry is imported by weights' users first: keep the import lazy

        return shipped(self.id)

    @property
    def checkpoint(self):
        """torchvision's published ImageNet checkpoint (:class:`explorer.zoo.weights.Weights`: URL, file, hash prefix,
        transforms, accuracy) for a torchvision-compatible id, or ``None``."""
        from .weights import CHECKPOINTS

        return CHECKPOINTS.get(self.id)


_REGISTRY: dict[str, ModelSpec] = {}


def register_model(spec: ModelSpec) -> ModelSpec:
    """Add ``spec`` to the registry; a duplicate id is a programming error."""
    if spec.id in _REGISTRY:
        raise ValueError(f"model id {spec.id!r} is registered twice")
    _REGISTRY[spec.id] = spec
    return spec


class UnknownModel(UnknownKey):
    """No model has this id: the sentence names the close matches (or every id)."""


def unknown_model_error(model_id: str) -> UnknownModel:
    """The error for an id no model has, naming the close matches (``did you mean …``) or else every known id."""
    close = difflib.get_close_matches(str(model_id), list(_REGISTRY), n=3, cutoff=0.5)
    if close:
        return UnknownModel(N_("unknown model id {id}; did you mean {close}?"), id=repr(model_id),
                            close=", ".join(close))
    return UnknownModel(N_("unknown model id {id}; known ids: {ids}"), id=repr(model_id), ids=", ".join(_REGISTRY))


def get_spec(model_id: str) -> ModelSpec:
    """The spec of ``model_id``; ``KeyError`` naming close matches when there is none."""
    try:
        return _REGISTRY[model_id]
    except (KeyError, TypeError):
        raise unknown_model_error(model_id) from None


def list_models() -> list[ModelSpec]:
    """All registered specs, in registration order (families in the notes' order)."""
    return list(_REGISTRY.values())


def build(model_id: str, **overrides) -> nn.Module:
    """Build a fresh ``nn.Module`` for ``model_id``; overrides such as ``in_channels``, ``num_classes``."""
    return get_spec(model_id).build(**overrides)
