"""The model zoo: importing this package registers every family, in the order of the notes."""

from __future__ import annotations

from . import alexnet, lenet, nin, vgg  # noqa: F401  (registration side effects, the notes' order)
from .registry import Erratum, ModelSpec, build, get_spec, list_models, register_model

__all__ = ["Erratum", "ModelSpec", "build", "get_spec", "list_models", "register_model"]
