"""The model zoo: importing this package registers every family, in the order of the notes."""

from __future__ import annotations

import importlib

from .registry import Erratum, ModelSpec, build, get_spec, list_models, register_model

# Registration order is the notes' order (the gallery and `list` follow it), so import explicitly, in sequence:
# the feedforward families (MLP, autoencoder, GAN), the feedback ones (RNN/LSTM/GRU, Hopfield, Boltzmann), the
# transformer's FFN layer, then the CNN chapters.
FAMILIES = (
    "feedforward", "recurrent", "energy", "transformer", "lenet", "alexnet", "vgg", "nin", "googlenet", "resnet",
)
for _family in FAMILIES:
    importlib.import_module(f"{__name__}.{_family}")

__all__ = ["FAMILIES", "Erratum", "ModelSpec", "build", "get_spec", "list_models", "register_model"]
