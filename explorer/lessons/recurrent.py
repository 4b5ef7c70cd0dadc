"""Recurrent layers step by step: the gates' parameter blocks, the recurrence unrolled by hand, its diagram.

PyTorch stacks the gates of one layer in two matrices: ``weight_ih_l0`` ((gates·h) × i) and ``weight_hh_l0``
((gates·h) × h), with one bias vector each. :func:`gate_blocks` cuts them into the per-gate blocks the papers
write — W_x·, W_h·, b_x·, b_h· — and :func:`unroll` runs the equations one time step at a time with those blocks
(Elman 1990 for the RNN; Hochreiter & Schmidhuber 1997 for the LSTM, with the forget gate of Gers et al. 2000;
Cho et al. 2014 for the GRU), checked in the tests against ``nn.RNN``/``nn.LSTM``/``nn.GRU``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from ..analysis import analyze
from ..i18n import N_, InvalidValue
from ..zoo.recurrent import GATES, Recurrent, recurrent_params

# Per kind, the gates in PyTorch's stacking order: (symbol, name, activation).
GATE_NAMES: dict[str, tuple[tuple[str, str, str], ...]] = {
    "rnn": (("h", N_("hidden state"), "tanh"),),
    "lstm": (
        ("i", N_("input gate"), "σ"), ("f", N_("forget gate"), "σ"), ("g", N_("cell candidate"), "tanh"),
        ("o", N_("output gate"), "σ"),
    ),
    "gru": (("r", N_("reset gate"), "σ"), ("z", N_("update gate"), "σ"), ("n", N_("new state candidate"), "tanh")),
}

EQUATIONS: dict[str, tuple[str, ...]] = {
    "rnn": ("hₜ = tanh(W_xh xₜ + b_xh + W_hh hₜ₋₁ + b_hh)",),
    "lstm": (
        "iₜ = σ(W_xi xₜ + b_xi + W_hi hₜ₋₁ + b_hi)",
        "fₜ = σ(W_xf xₜ + b_xf + W_hf hₜ₋₁ + b_hf)",
        "gₜ = tanh(W_xg xₜ + b_xg + W_hg hₜ₋₁ + b_hg)",
        "oₜ = σ(W_xo xₜ + b_xo + W_ho hₜ₋₁ + b_ho)",
        "cₜ = fₜ ⊙ cₜ₋₁ + iₜ ⊙ gₜ",
        "hₜ = oₜ ⊙ tanh(cₜ)",
    ),
    "gru": (
        "rₜ = σ(W_xr xₜ + b_xr + W_hr hₜ₋₁ + b_hr)",
        "zₜ = σ(W_xz xₜ + b_xz + W_hz hₜ₋₁ + b_hz)",
        "nₜ = tanh(W_xn xₜ + b_xn + rₜ ⊙ (W_hn hₜ₋₁ + b_hn))",
        "hₜ = (1 − zₜ) ⊙ nₜ + zₜ ⊙ hₜ₋₁",
    ),
}


@dataclass(frozen=True)
class GateBlock:
    """One gate's share of a recurrent layer: rows ``rows`` of ``weight_ih_l0``, ``weight_hh_l0`` and both biases."""

    symbol: str  # "i", "f", "g", "o" …
    name: str
    activation: str
    w_x: tuple[int, int]  # W_x·: hidden × input
    w_h: tuple[int, int]  # W_h·: hidden × hidden
    b_x: int
    b_h: int
    rows: tuple[int, int]  # [start, stop) in the stacked matrices

    @property
    def params(self) -> int:
        return self.w_x[0] * self.w_x[1] + self.w_h[0] * self.w_h[1] + self.b_x + self.b_h


def gate_blocks(kind: str, input_size: int, hidden_size: int) -> list[GateBlock]:
    """The per-gate blocks of one ``kind`` layer (PyTorch's order), each h·(i + h) + 2h parameters."""
    h = hidden_size
    return [
        GateBlock(symbol, name, act, (h, input_size), (h, h), h, h, (k * h, (k + 1) * h))
        for k, (symbol, name, act) in enumerate(GATE_NAMES[kind])
    ]


def layer_of(module: nn.Module) -> nn.RNNBase:
    """The ``nn.RNN``/``nn.LSTM``/``nn.GRU`` inside ``module`` (a :class:`Recurrent` or the layer itself)."""
    if isinstance(module, nn.RNNBase):
        return module
    layers = [m for m in module.modules() if isinstance(m, nn.RNNBase)]
    if len(layers) != 1:
        raise InvalidValue(N_("expected one recurrent layer, found {n}"), n=len(layers))
    return layers[0]


def kind_of(layer: nn.RNNBase) -> str:
    if isinstance(layer, nn.LSTM):
        return "lstm"
    if isinstance(layer, nn.GRU):
        return "gru"
    if isinstance(layer, nn.RNN) and layer.nonlinearity == "tanh":
        return "rnn"
    raise InvalidValue(N_("unsupported recurrent layer: {layer}"), layer=layer)


def blocks_of(module: nn.Module) -> dict[str, dict[str, torch.Tensor]]:
    """The actual tensors of each gate: ``{"i": {"W_x": …, "W_h": …, "b_x": …, "b_h": …}, …}`` (views, no copy)."""
    layer = layer_of(module)
    if layer.num_layers != 1 or layer.bidirectional or layer.proj_size or not layer.bias:
        raise InvalidValue(N_("only one unidirectional layer with biases and no projection is unrolled"))
    kind = kind_of(layer)
    h = layer.hidden_size
    out = {}
    for block in gate_blocks(kind, layer.input_size, h):
        a, b = block.rows
        out[block.symbol] = {
            "W_x": layer.weight_ih_l0[a:b], "W_h": layer.weight_hh_l0[a:b],
            "b_x": layer.bias_ih_l0[a:b], "b_h": layer.bias_hh_l0[a:b],
        }
    return out


def param_formula(kind: str, input_size: int, hidden_size: int) -> str:
    """'4·(64·(28 + 64) + 2·64) = 24,064' — gates · (h·(i + h) + 2h)."""
    h, i, g = hidden_size, input_size, GATES[kind]
    total = f"{recurrent_params(kind, i, h):,}"
    body = f"{h}·({i} + {h}) + 2·{h}"
    return f"{body} = {total}" if g == 1 else f"{g}·({body}) = {total}"


# ---------------------------------------------------------------------------------------------------------------
# The recurrence, one step at a time
# ---------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class StepRecord:
    """Shapes met at time step ``t`` (from 1): the input slice, the state before, the gates' pre-activations
    (all gates stacked, as PyTorch computes them in one matrix product) and the new state."""

    t: int
    x: tuple[int, ...]
    h_prev: tuple[int, ...]
    gates: tuple[int, ...]
    h: tuple[int, ...]
    c: tuple[int, ...] | None = None  # the LSTM's cell state


@dataclass(frozen=True)
class Unrolled:
    outputs: torch.Tensor  # N × T × h: h₁ … h_T, as the layer returns them
    steps: tuple[StepRecord, ...]
    h_last: torch.Tensor
    c_last: torch.Tensor | None = None


def _affine(block: dict[str, torch.Tensor], x: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
    return x @ block["W_x"].T + block["b_x"] + h @ block["W_h"].T + block["b_h"]


def unroll(module: nn.Module, x: torch.Tensor) -> Unrolled:
    """Run ``module``'s recurrent layer over ``x`` (N × T × input) with the per-gate equations of
    :data:`EQUATIONS`, from a zero state, recording the shapes of every step."""
    layer = layer_of(module)
    if not layer.batch_first:
        raise InvalidValue(N_("expected a batch_first layer (N × T × features)"))
    kind = kind_of(layer)
    w = blocks_of(layer)
    n, steps_count, _ = x.shape
    h = x.new_zeros(n, layer.hidden_size)
    c = x.new_zeros(n, layer.hidden_size) if kind == "lstm" else None
    outputs, steps = [], []
    for t in range(steps_count):
        x_t = x[:, t]  # N x input
        h_prev = h
        if kind == "rnn":
            pre = _affine(w["h"], x_t, h)
            h = torch.tanh(pre)
        elif kind == "lstm":
            pre = torch.cat([_affine(w[g], x_t, h) for g in "ifgo"], dim=1)  # N x 4h, PyTorch's stacking
            i, f, g, o = pre.chunk(4, dim=1)
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            h = torch.sigmoid(o) * torch.tanh(c)
        else:  # gru: the reset gate acts on W_hn h + b_hn only (PyTorch, and Cho et al.'s formulation)
            r = torch.sigmoid(_affine(w["r"], x_t, h))
            z = torch.sigmoid(_affine(w["z"], x_t, h))
            n_t = torch.tanh(x_t @ w["n"]["W_x"].T + w["n"]["b_x"] + r * (h @ w["n"]["W_h"].T + w["n"]["b_h"]))
            pre = torch.cat([r, z, n_t], dim=1)  # N x 3h
            h = (1 - z) * n_t + z * h
        outputs.append(h)
        steps.append(StepRecord(
            t=t + 1, x=tuple(x_t.shape), h_prev=tuple(h_prev.shape), gates=tuple(pre.shape), h=tuple(h.shape),
            c=tuple(c.shape) if c is not None else None,
        ))
    return Unrolled(outputs=torch.stack(outputs, dim=1), steps=tuple(steps), h_last=h, c_last=c)


def step_shapes(kind: str, input_size: int, hidden_size: int, seq_len: int) -> tuple[StepRecord, ...]:
    """The per-step shapes of one sequence (batch 1), traced on the meta device: no weights, no numbers."""
    with torch.device("meta"):
        model = Recurrent(kind, input_size, hidden_size)
        x = torch.empty(1, seq_len, input_size)
    with torch.no_grad():
        return unroll(model, x).steps


@dataclass(frozen=True)
class StepRange:
    """Consecutive time steps ``first`` … ``last`` (from 1) that meet the same shapes (``shapes``: one of them)."""

    first: int
    last: int
    shapes: StepRecord

    @property
    def label(self) -> str:
        return f"{self.first}" if self.first == self.last else f"{self.first}–{self.last}"


def step_ranges(records: Sequence[StepRecord]) -> list[StepRange]:
    """``records`` folded into runs of steps with identical shapes: a 28-step LSTM gives one row, t = 1–28, where
    a table of every step would repeat one row 28 times."""
    ranges: list[StepRange] = []
    for r in records:
        key = (r.x, r.h_prev, r.gates, r.h, r.c)
        if ranges:
            last = ranges[-1].shapes
            if (last.x, last.h_prev, last.gates, last.h, last.c) == key and ranges[-1].last == r.t - 1:
                ranges[-1] = StepRange(ranges[-1].first, r.t, last)
                continue
        ranges.append(StepRange(r.t, r.t, r))
    return ranges


# ---------------------------------------------------------------------------------------------------------------
# Length sweep: the parameters stay, the MACs grow
# ---------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LengthPoint:
    seq_len: int
    params: int
    macs: int


def length_sweep(kind: str, input_size: int, hidden_size: int, lengths: Sequence[int]) -> list[LengthPoint]:
    """Parameters and MACs of one layer, analysed (:func:`explorer.analyze`, on the meta device) at each length."""
    with torch.device("meta"):
        model = Recurrent(kind, input_size, hidden_size)
    points = []
    for t in lengths:
        s = analyze(model, (int(t), input_size))
        points.append(LengthPoint(seq_len=int(t), params=s.total_params, macs=s.total_macs))
    return points


# ---------------------------------------------------------------------------------------------------------------
# The unrolled diagram
# ---------------------------------------------------------------------------------------------------------------
def shown_steps(seq_len: int, limit: int = 6) -> list[int | None]:
    """The time steps a diagram draws: all of them up to ``limit``, else the first three, a gap (None), the last
    two."""
    if seq_len <= limit:
        return list(range(1, seq_len + 1))
    return [1, 2, 3, None, seq_len - 1, seq_len]
