"""Residual block variants (He et al., "Identity Mappings in Deep Residual Networks", ECCV 2016, Fig. 4): where the
addition and the activation sit, tested on real numbers (drawn by :mod:`explorer.present.diagram` from the
same data that builds the blocks).

He et al.'s argument: when nothing follows the addition and the residual branch F outputs 0, the block is exactly
the identity, so the signal (and its gradient) passes from any block to any other unchanged. :func:`identity_gap`
measures it: zero the branch's last weight layer and see how far block(x) is from x.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ..analysis import analyze
from ..i18n import N_
from ..zoo.resnet import PlacedResidual, Residual


def _zero_branch_output(block: PlacedResidual) -> None:
    """Set the residual branch's last convolution to zero (and any batch norm after it to its initial identity),
    so that F(x) = 0 — what a block contributes when it has learned nothing."""
    layers = list(block.branch)
    last_conv = max(i for i, m in enumerate(layers) if isinstance(m, nn.Conv2d))
    with torch.no_grad():
        layers[last_conv].weight.zero_()


@torch.no_grad()
def identity_gap(placement: str, channels: int = 8, size: int = 8, seed: int = 0) -> float:
    """max |block(x) − x| for a random x when the branch outputs zero (eval mode: batch norm at its initial
    statistics). 0 exactly when the shortcut is a clean identity — variants (c), (d), (e)."""
    torch.manual_seed(seed)
    block = PlacedResidual(channels, placement).eval()
    _zero_branch_output(block)
    x = torch.randn(2, channels, size, size)
    return float((block(x) - x).abs().max())


@torch.no_grad()
def branch_minimum(placement: str, channels: int = 8, size: int = 8, seed: int = 0) -> float:
    """The smallest value the residual branch F outputs for a random x (random weights): never below 0 when a ReLU
    ends the branch (variant (c)), so F can only add to x — the reason He et al. found (c) worse."""
    torch.manual_seed(seed)
    block = PlacedResidual(channels, placement).eval()
    x = torch.randn(4, channels, size, size)
    return float(block.branch(x).min())


@dataclass(frozen=True)
class Implementation:
    """One of the notes' two residual blocks, built from the notes' ``Residual`` class and counted both ways."""

    name: str
    code: str  # the notes' call
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    params: int  # as the notes' code builds it: every nn.Conv2d with its bias (PyTorch's default)
    conv_biases: int  # of which convolution biases (redundant before a batch norm)

    @property
    def params_without_conv_bias(self) -> int:
        return self.params - self.conv_biases


# The notes' two implementations on ResNet's 64×56×56 conv2_x input.
NOTES_IMPLEMENTATIONS = (
    (N_("first: x added directly (shapes must match)"), "Residual(64, 64)", {"input_channels": 64, "num_channels": 64}),
    (N_("second: 1×1 convolution on the shortcut (channels and size may change)"),
     "Residual(64, 128, use_1x1conv=True, strides=2)",
     {"input_channels": 64, "num_channels": 128, "use_1x1conv": True, "strides": 2}),
)


def notes_implementations(input_shape: tuple[int, ...] = (64, 56, 56)) -> list[Implementation]:
    """Both of the notes' implementations counted the same way: with the convolution biases the notes' code has,
    and without them (as torchvision's ResNets and the ``resblock-…`` variants build them, a batch norm following
    every convolution)."""
    rows = []
    for name, code, kwargs in NOTES_IMPLEMENTATIONS:
        with torch.device("meta"):
            block = Residual(**kwargs)
        s = analyze(block, input_shape)
        biases = sum(m.bias.numel() for m in block.modules() if isinstance(m, nn.Conv2d) and m.bias is not None)
        rows.append(Implementation(name, code, tuple(s.input_shape[1:]), tuple(s.output_shape[1:]), s.total_params,
                                   biases))
    return rows
