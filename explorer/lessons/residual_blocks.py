"""Residual block variants (He et al., "Identity Mappings in Deep Residual Networks", ECCV 2016, Fig. 4): where the
addition and the activation sit, tested on real numbers (drawn by :mod:`explorer.present.diagram` from the
same data that builds the blocks).

He et al.'s argument: when nothing follows the addition and the residual branch F outputs 0, the block is exactly
the identity, so the signal (and its gradient) passes from any block to any other unchanged. :func:`identity_gap`
measures it: zero the branch's last weight layer and see how far block(x) is from x.
"""

from __future__ import annotations

import torch
from torch import nn

from ..zoo.resnet import PlacedResidual


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
