"""The transformer's FFN layer applied position by position (Vaswani et al. 2017, §3.3): the same two linear
layers for every position, no information crossing between positions — checked on real numbers."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..zoo.transformer import PositionwiseFFN, ffn_params


@dataclass(frozen=True)
class PositionRow:
    position: int  # from 1
    input_norm: float  # ‖xₜ‖
    output_norm: float  # ‖FFN(xₜ)‖
    active: int  # hidden units the activation lets through (> 0) out of d_ff
    gap: float  # max |FFN(X)ₜ − FFN(xₜ)|: the whole sequence at once against this position alone


@dataclass(frozen=True)
class PositionwiseCheck:
    rows: tuple[PositionRow, ...]
    params: int
    macs_per_position: int  # weights + biases (torchinfo's convention): one matrix–vector product per layer
    permutation_gap: float  # max |FFN(X[π]) − FFN(X)[π]|: shuffling positions shuffles the outputs, nothing else
    hidden: np.ndarray  # T × d_ff activations after the nonlinearity


@torch.no_grad()
def positionwise(
    d_model: int = 512, d_ff: int = 2048, seq_len: int = 10, activation: str = "relu", seed: int = 0
) -> PositionwiseCheck:
    """Run a randomly initialised FFN (seeded) on a random sequence, whole and one position at a time — in float64,
    so the gaps show what the arithmetic does (≈ 1e-15), not float32's rounding."""
    torch.manual_seed(seed)
    model = PositionwiseFFN(d_model, d_ff, dropout=0.0, activation=activation).double().eval()
    x = torch.randn(1, seq_len, d_model, dtype=torch.float64)
    whole = model(x)[0]  # T x d_model
    hidden = model.activation(model.w_1(x))[0]  # T x d_ff
    rows = []
    for t in range(seq_len):
        alone = model(x[:, t:t + 1])[0, 0]  # one position on its own
        rows.append(PositionRow(
            position=t + 1, input_norm=float(x[0, t].norm()), output_norm=float(alone.norm()),
            active=int((hidden[t] > 0).sum()), gap=float((whole[t] - alone).abs().max()),
        ))
    perm = torch.randperm(seq_len, generator=torch.Generator().manual_seed(seed + 1))
    permutation_gap = float((model(x[:, perm])[0] - whole[perm]).abs().max())
    params = sum(p.numel() for p in model.parameters())
    assert params == ffn_params(d_model, d_ff), "the module and the formula disagree"
    return PositionwiseCheck(
        rows=tuple(rows), params=params, macs_per_position=params, permutation_gap=permutation_gap,
        hidden=hidden.numpy().copy(),
    )
