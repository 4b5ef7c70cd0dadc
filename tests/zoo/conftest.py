"""Helpers shared by the zoo's tests (import them: ``from tests.zoo.conftest import meta_build, n_params``)."""

from __future__ import annotations

import torch
from torch import nn

import explorer


def n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def meta_build(model_id: str, **overrides) -> nn.Module:
    """``explorer.build`` on the meta device: every parameter exists, none is allocated."""
    with torch.device("meta"):
        return explorer.build(model_id, **overrides)


# torchvision's state_dict layouts, written out independently of the zoo's modules.
BN_KEYS = ("weight", "bias", "running_mean", "running_var", "num_batches_tracked")


def bn_keys(prefix: str) -> list[str]:
    """The five entries a BatchNorm2d puts in a state dict."""
    return [f"{prefix}.{k}" for k in BN_KEYS]


def meta_state_dict(model_id: str) -> dict[str, torch.Tensor]:
    return meta_build(model_id).state_dict()


def strict_load_of_a_checkpoint_shaped_state_dict(model_id: str, expected_keys: list[str], **build_kw) -> None:
    """A state dict with exactly ``expected_keys`` (zeros of the model's shapes) loads strictly into a fresh model."""
    spec = explorer.get_spec(model_id)
    shapes = {k: (v.shape, v.dtype) for k, v in meta_state_dict(model_id).items()}
    checkpoint = {k: torch.zeros(shape, dtype=dtype) for k, (shape, dtype) in shapes.items()}
    assert set(checkpoint) == set(expected_keys)
    spec.build(**build_kw).load_state_dict(checkpoint, strict=True)
