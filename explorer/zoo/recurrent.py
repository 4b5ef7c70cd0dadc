"""The notes' feedback (recurrent) networks: a plain RNN, the LSTM and the GRU, as PyTorch builds them.

hₜ = tanh(W_xh xₜ + b_xh + W_hh hₜ₋₁ + b_hh) for the RNN (Elman, "Finding Structure in Time", 1990); the LSTM
(Hochreiter & Schmidhuber, Neural Computation 1997) computes four such blocks (input, forget, cell, output gates),
the GRU (Cho et al., EMNLP 2014) three (reset, update, new). PyTorch gives every block two biases (b_x· and b_h·),
so one layer holds gates · (h·(i + h) + 2h) parameters: with the same sizes the three ids are exactly 1 : 4 : 3.

Each id reads a 28×28 Fashion-MNIST image row by row — 28 time steps of 28 pixels — with a 64-unit hidden state, and
returns every hidden state h₁ … h_T (no classifier head, so the 1 : 4 : 3 ratio holds for the whole model).
"""

from __future__ import annotations

import torch
from torch import nn

from ..i18n import N_, InvalidValue
from .registry import ModelSpec, register_model

CELLS: dict[str, type[nn.RNNBase]] = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}
GATES: dict[str, int] = {"rnn": 1, "lstm": 4, "gru": 3}  # blocks of h rows stacked in weight_ih / weight_hh

SEQ_LEN, INPUT_SIZE, HIDDEN_SIZE = 28, 28, 64


class Recurrent(nn.Module):
    """One recurrent layer over a ``batch_first`` sequence; the output is the hidden state at every step."""

    def __init__(self, kind: str = "rnn", input_size: int = INPUT_SIZE, hidden_size: int = HIDDEN_SIZE) -> None:
        super().__init__()
        if kind not in CELLS:
            raise InvalidValue(N_("unknown recurrent kind {kind}; known: {kinds}"), kind=repr(kind),
                               kinds=", ".join(CELLS))
        self.kind = kind
        self.rnn = CELLS[kind](input_size, hidden_size, batch_first=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # N x T x input_size; the initial state h₀ (and c₀) is zero
        out, _ = self.rnn(x)  # N x T x hidden_size: h₁ … h_T
        return out


def recurrent_params(kind: str, input_size: int, hidden_size: int) -> int:
    """gates · (h·(i + h) + 2h): W_x· (h×i), W_h· (h×h) and PyTorch's two biases (b_x·, b_h·) per gate."""
    return GATES[kind] * (hidden_size * (input_size + hidden_size) + 2 * hidden_size)


def _builder(kind: str):
    def build(input_size: int = INPUT_SIZE, hidden_size: int = HIDDEN_SIZE) -> Recurrent:
        return Recurrent(kind, input_size, hidden_size)

    build.__name__ = kind
    build.__doc__ = f"``Recurrent({kind!r})``: one {kind.upper()} layer, every hidden state returned."
    return build


_COMMON = dict(
    family="RNN",
    input_shape=(SEQ_LEN, INPUT_SIZE),
    num_classes=HIDDEN_SIZE,
    output_shape=(SEQ_LEN, HIDDEN_SIZE),
    output=N_("the hidden state hₜ at every step t = 1 … T"),
    source="paper",
)

register_model(ModelSpec(
    id="rnn",
    title=N_("RNN (tanh), 28 inputs → 64 hidden"),
    year=1990,
    paper="Elman, Finding Structure in Time, Cognitive Science 1990",
    builder=_builder("rnn"),
    params=recurrent_params("rnn", INPUT_SIZE, HIDDEN_SIZE),
    introduced=N_("A hidden state carried from step to step: hₜ = tanh(W_hh hₜ₋₁ + W_xh xₜ + b)."),
    notes=(
        N_("One `nn.RNN` layer reading a 28×28 image row by row (28 steps of 28 pixels). The same weights are used at "
           "every step, so the parameter count does not depend on the sequence length: 64·(28 + 64) + 2·64 = 6,016. "
           "Gradients through many steps shrink or explode (the notes: 梯度消失), which the LSTM and GRU address.")
    ),
    **_COMMON,
))

register_model(ModelSpec(
    id="lstm",
    title=N_("LSTM, 28 inputs → 64 hidden"),
    year=1997,
    paper="Hochreiter & Schmidhuber, Long Short-Term Memory, Neural Computation 1997",
    builder=_builder("lstm"),
    params=recurrent_params("lstm", INPUT_SIZE, HIDDEN_SIZE),
    introduced=N_("Input, forget and output gates around a memory cell: gradients along the cell fade more slowly, "
                  "so long-range dependencies become easier to learn (eased, not solved)."),
    notes=(
        N_("Four blocks of the RNN's size — input gate i, forget gate f, candidate cell g, output gate o — stacked in "
           "`weight_ih_l0` (256×28) and `weight_hh_l0` (256×64): exactly 4× the RNN's 6,016 = 24,064 parameters. "
           "The cell state cₜ = f⊙cₜ₋₁ + i⊙g is updated by addition, so gradients flow over many steps.")
    ),
    **_COMMON,
))

register_model(ModelSpec(
    id="gru",
    title=N_("GRU, 28 inputs → 64 hidden"),
    year=2014,
    paper="Cho et al., Learning Phrase Representations using RNN Encoder–Decoder, EMNLP 2014",
    builder=_builder("gru"),
    params=recurrent_params("gru", INPUT_SIZE, HIDDEN_SIZE),
    introduced=N_("A lighter LSTM: reset and update gates, no separate cell state."),
    notes=(
        N_("Three blocks — reset gate r, update gate z, candidate n — so exactly 3× the RNN: 18,048 parameters. "
           "hₜ = (1 − z)⊙n + z⊙hₜ₋₁ mixes the old state with the candidate.")
    ),
    **_COMMON,
))
