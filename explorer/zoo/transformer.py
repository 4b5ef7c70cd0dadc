"""The FFN layer of a transformer (Vaswani et al., "Attention Is All You Need", NeurIPS 2017, §3.3).

FFN(x) = max(0, x W₁ + b₁) W₂ + b₂, applied to every position separately and identically: d_model 512, inner
size d_ff 2048 as in the paper's base model. 512·2048 + 2048 + 2048·512 + 512 = 2,099,712 parameters.
"""

from __future__ import annotations

import torch
from torch import nn

from ..i18n import N_
from .registry import ModelSpec, register_model

PAPER = "Vaswani et al., Attention Is All You Need, NeurIPS 2017"
D_MODEL, D_FF, SEQ_LEN = 512, 2048, 10

ACTIVATIONS: dict[str, type[nn.Module]] = {"relu": nn.ReLU, "gelu": nn.GELU}


class PositionwiseFFN(nn.Module):
    """Two linear layers with an activation between them; ``nn.Linear`` acts on the last axis only, so each of the
    T positions of an N×T×d_model input goes through the same weights on its own (names as The Annotated
    Transformer: ``w_1``, ``w_2``)."""

    def __init__(
        self, d_model: int = D_MODEL, d_ff: int = D_FF, dropout: float = 0.1, activation: str = "relu"
    ) -> None:
        super().__init__()
        self.w_1 = nn.Linear(d_model, d_ff)
        self.activation = ACTIVATIONS[activation]()
        self.dropout = nn.Dropout(dropout)
        self.w_2 = nn.Linear(d_ff, d_model)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # N x T x d_model
        hidden = self.dropout(self.activation(self.w_1(x)))  # N x T x d_ff
        return self.w_2(hidden)  # N x T x d_model


def ffn(d_model: int = D_MODEL, d_ff: int = D_FF, dropout: float = 0.1, activation: str = "relu") -> PositionwiseFFN:
    return PositionwiseFFN(d_model=d_model, d_ff=d_ff, dropout=dropout, activation=activation)


def ffn_params(d_model: int, d_ff: int) -> int:
    """(d_model + 1)·d_ff + (d_ff + 1)·d_model: W₁, b₁, W₂, b₂."""
    return (d_model + 1) * d_ff + (d_ff + 1) * d_model


register_model(ModelSpec(
    id="ffn",
    family="Transformer FFN",
    title=N_("Position-wise feed-forward network (d_model 512, d_ff 2048)"),
    year=2017,
    paper=PAPER,
    input_shape=(SEQ_LEN, D_MODEL),
    num_classes=D_MODEL,
    builder=ffn,
    params=ffn_params(D_MODEL, D_FF),
    introduced=N_("After each attention layer: two linear layers and a ReLU, applied to every position on its own."),
    notes=(
        N_("Linear(512 → 2048), ReLU, dropout, Linear(2048 → 512): (512 + 1)·2048 + (2048 + 1)·512 = 2,099,712 "
           "parameters, the same for a sequence of any length — the input here is 10 positions of 512 numbers. "
           "It transforms each position on its own through a wide ReLU layer, where attention mixes positions "
           "(softmax attention is nonlinear too, in how it weighs them).")
    ),
    source="paper",
    output_shape=(SEQ_LEN, D_MODEL),
    output=N_("a new d_model vector at every position"),
))
