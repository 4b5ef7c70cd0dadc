"""Dilated (atrous) convolution, made tangible: effective kernel size, output size, receptive-field growth of a
stack, and the "gridding" pattern — which input pixels a unit of a dilated stack actually sees.

The notes: a k×k kernel with dilation rate r covers k_eff = k + (k − 1)(r − 1) pixels per axis.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from ..i18n import N_, InvalidValue
from .rules import window_formula


def k_eff(k: int, r: int) -> int:
    """Effective kernel size of a k-tap kernel with dilation r: k + (k − 1)(r − 1)."""
    if k < 1 or r < 1:
        raise InvalidValue(N_("kernel size and dilation must be at least 1"))
    return k + (k - 1) * (r - 1)


def k_eff_formula(k: int, r: int) -> str:
    return f"k_eff = {k} + ({k} − 1)·({r} − 1) = {k_eff(k, r)}"


def taps(k: int, r: int) -> np.ndarray:
    """k_eff×k_eff grid: 1 where the kernel samples the input, 0 in the holes."""
    size = k_eff(k, r)
    grid = np.zeros((size, size), dtype=np.int64)
    grid[::r, ::r] = 1
    return grid


def output_size(n: int, k: int, r: int = 1, s: int = 1, p: int = 0) -> int:
    """⌊(n + 2p − r(k − 1) − 1)/s⌋ + 1, as PyTorch's Conv2d computes it."""
    return (n + 2 * p - r * (k - 1) - 1) // s + 1


def output_formula(n: int, k: int, r: int = 1, s: int = 1, p: int = 0) -> str:
    out = output_size(n, k, r, s, p)
    return window_formula(n, k, s, p, r, False, out)


def stack(rates: Sequence[int], k: int = 3) -> nn.Sequential:
    """One-channel k×k convolutions with the given dilation rates, no padding (every unit sees a full window)."""
    return nn.Sequential(*[nn.Conv2d(1, 1, k, dilation=int(r), bias=False) for r in rates])


def growth(rates: Sequence[int], k: int = 3) -> list[int]:
    """Receptive field after each layer: r ← r + (k_eff − 1)·1 (stride 1 everywhere)."""
    sizes, field = [], 1
    for r in rates:
        field += k_eff(k, int(r)) - 1
        sizes.append(field)
    return sizes


def gridding(rates: Sequence[int], k: int = 3) -> np.ndarray:
    """How many paths lead from each input pixel to the single top unit of the stack (0 = never seen).

    Measured, not derived: all weights 1, an input exactly the stack's receptive field, and the gradient of the
    top unit with respect to the input — each entry is the number of kernel-tap paths through the layers.
    """
    net = stack(rates, k).double()
    with torch.no_grad():
        for conv in net:
            conv.weight.fill_(1.0)
    size = growth(rates, k)[-1] if len(rates) else 1
    x = torch.zeros((1, 1, size, size), dtype=torch.float64, requires_grad=True)
    net(x).sum().backward()
    return np.rint(x.grad[0, 0].numpy()).astype(np.int64)
