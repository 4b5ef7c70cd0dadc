"""Pooling (池化) by hand: max and average over k×k windows with stride s and padding p, each output traced back
to its window — checked in the tests against ``F.max_pool2d`` and ``F.avg_pool2d`` (PyTorch pads a max-pool
with −∞ and counts an average-pool's zero padding in the divisor, ``count_include_pad=True``).

Also the notes' point beside pooling: a convolution's kernels are a fully connected layer's weights, applied to
local windows and shared across positions — :func:`conv_vs_dense` counts what the sharing saves.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from torch import nn

from ..i18n import N_, InvalidValue

MODES = ("max", "avg")


def output_size(n: int, k: int, s: int, p: int = 0) -> int:
    """⌊(n + 2p − k)/s⌋ + 1 (0 when the window does not fit)."""
    if k < 1 or s < 1 or p < 0:
        raise InvalidValue(N_("kernel and stride must be at least 1, padding at least 0"))
    if 2 * p > k:
        raise InvalidValue(N_("padding {p} is more than half the window {k} (PyTorch refuses it)"), p=p, k=k)
    return max(0, (n + 2 * p - k) // s + 1)


def window(i: int, j: int, k: int, s: int, p: int = 0) -> tuple[int, int, int, int]:
    """Input rows [r0, r1) and columns [c0, c1) that output (i, j) pools; may reach into the padding (< 0, ≥ n)."""
    r0, c0 = i * s - p, j * s - p
    return r0, r0 + k, c0, c0 + k


def _padded(grid: np.ndarray, mode: str, p: int) -> np.ndarray:
    fill = -np.inf if mode == "max" else 0.0
    return np.pad(grid.astype(np.float64), p, constant_values=fill)


def pool(grid: np.ndarray, mode: str = "max", k: int = 2, s: int = 2, p: int = 0) -> np.ndarray:
    """Pool a 2-D ``grid`` window by window."""
    if mode not in MODES:
        raise InvalidValue(N_("unknown pooling {mode}; known: {modes}"), mode=repr(mode), modes=", ".join(MODES))
    h, w = grid.shape
    oh, ow = output_size(h, k, s, p), output_size(w, k, s, p)
    padded = _padded(grid, mode, p)
    out = np.empty((oh, ow), dtype=np.float64)
    for i in range(oh):
        for j in range(ow):
            r0, r1, c0, c1 = window(i, j, k, s, p)
            values = padded[r0 + p:r1 + p, c0 + p:c1 + p]
            out[i, j] = values.max() if mode == "max" else values.mean()
    return out


def window_values(grid: np.ndarray, i: int, j: int, k: int, s: int, p: int = 0, mode: str = "max") -> np.ndarray:
    """The k×k values output (i, j) pools (padding included: −∞ for max, 0 for average)."""
    r0, r1, c0, c1 = window(i, j, k, s, p)
    return _padded(grid, mode, p)[r0 + p:r1 + p, c0 + p:c1 + p]


def _num(v: float) -> str:
    if np.isinf(v):
        return "−∞"
    return f"{v:g}" if float(v).is_integer() else f"{v:.4g}"


def explain(grid: np.ndarray, mode: str, k: int, s: int, p: int, i: int, j: int) -> str:
    """'max(3, 1, 4, 1) = 4' or '(3 + 1 + 4 + 1)/4 = 2.25' for output (i, j)."""
    values = window_values(grid, i, j, k, s, p, mode).ravel()
    items = [_num(v) for v in values]
    if mode == "max":
        return f"max({', '.join(items)}) = {_num(values.max())}"
    return f"({' + '.join(items)})/{values.size} = {_num(values.mean())}"


def sample_grid(size: int = 6, seed: int = 0, high: int = 9) -> np.ndarray:
    """A size×size grid of small integers (0 … high) to pool by eye."""
    return np.random.default_rng(seed).integers(0, high + 1, size=(size, size)).astype(np.float64)


# ---------------------------------------------------------------------------------------------------------------
# A convolution is a fully connected layer with local, shared weights
# ---------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SharingCount:
    in_shape: tuple[int, int, int]  # C, H, W
    out_shape: tuple[int, int, int]
    conv_params: int  # Conv2d(C, C', k): C'·C·k·k + C'
    dense_params: int  # Linear(C·H·W, C'·H'·W'): every input to every output
    local_params: int  # local windows without sharing: one k×k·C kernel (+ bias) per output unit

    @property
    def saving(self) -> float:
        return self.dense_params / self.conv_params


def conv_vs_dense(in_channels: int, size: int, out_channels: int, k: int) -> SharingCount:
    """Parameters of ``Conv2d(in_channels, out_channels, k)`` on a size×size input, against the dense layer
    mapping the same input to the same output, and against local windows without weight sharing."""
    conv = nn.Conv2d(in_channels, out_channels, k, device="meta")
    out = size - k + 1
    if out < 1:
        raise InvalidValue(N_("a {k}×{k} kernel does not fit in {size}×{size}"), k=k, size=size)
    conv_params = sum(p.numel() for p in conv.parameters())
    n_in, n_out = in_channels * size * size, out_channels * out * out
    dense = nn.Linear(n_in, n_out, device="meta")
    return SharingCount(
        in_shape=(in_channels, size, size),
        out_shape=(out_channels, out, out),
        conv_params=conv_params,
        dense_params=sum(p.numel() for p in dense.parameters()),
        local_params=n_out * (in_channels * k * k + 1),
    )
