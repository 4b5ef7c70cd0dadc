"""Models on PyTorch's meta device: structure and shapes without weights, built and run in milliseconds.

torchinfo and the receptive-field tracker run a forward pass here; nothing is allocated, nothing is computed.
"""

from __future__ import annotations

import copy
from typing import Any

import torch
from torch import nn

from ..zoo.meta import SkipMetaInit
from ..zoo.registry import ModelSpec
from .rules import rule_for


def meta_copy(module: nn.Module) -> nn.Module:
    """A structural copy of ``module`` on the meta device: the user's weights are neither copied nor moved."""
    memo: dict[int, Any] = {}
    for t in list(module.parameters()) + list(module.buffers()):
        if isinstance(t, nn.Parameter):
            memo[id(t)] = nn.Parameter(torch.empty_like(t, device="meta"), requires_grad=t.requires_grad)
        else:
            memo[id(t)] = torch.empty_like(t, device="meta")
    return copy.deepcopy(module, memo)


def build_meta(spec: ModelSpec, **overrides: Any) -> nn.Module:
    """``spec``'s model with every parameter and buffer on the meta device, built without initialisation."""
    with torch.device("meta"), SkipMetaInit():
        return spec.build(**overrides)


def _same_shape(self: nn.Module, x: torch.Tensor, *args: Any, **kwargs: Any) -> torch.Tensor:
    return torch.empty_like(x)


def _rnn_shapes(self: nn.RNNBase, x: torch.Tensor, hx: Any = None) -> Any:
    """What nn.RNN/LSTM/GRU return, as empty tensors: on the meta device their step-by-step kernels take ~4 ms a
    step. (output, h_n) — (output, (h_n, c_n)) for an LSTM — with PyTorch's documented shapes."""
    directions = 2 if self.bidirectional else 1
    out_size = self.proj_size if getattr(self, "proj_size", 0) else self.hidden_size
    layers = directions * self.num_layers
    if x.dim() == 3:
        n, t = (x.shape[0], x.shape[1]) if self.batch_first else (x.shape[1], x.shape[0])
        output = x.new_empty((n, t, directions * out_size) if self.batch_first else (t, n, directions * out_size))
        h, c = x.new_empty((layers, n, out_size)), x.new_empty((layers, n, self.hidden_size))
    else:  # unbatched: (T, features)
        output = x.new_empty((x.shape[0], directions * out_size))
        h, c = x.new_empty((layers, out_size)), x.new_empty((layers, self.hidden_size))
    return (output, (h, c)) if isinstance(self, nn.LSTM) else (output, h)


def fast_meta_forwards(module: nn.Module) -> None:
    """Give modules whose output has exactly the input's shape (their rule's ``preserves_shape``) a forward that
    only makes the output tensor: on the meta device their kernels are the slow part of a forward pass (batch norm
    runs a Python decomposition: ResNet-50 takes 140 ms instead of 16 ms). Recurrent layers get their documented
    output shapes. Shapes, parameters and MACs are unchanged by construction."""
    for m in module.modules():
        if rule_for(m).preserves_shape:
            m.forward = _same_shape.__get__(m)
        elif isinstance(m, nn.RNNBase):
            m.forward = _rnn_shapes.__get__(m)
