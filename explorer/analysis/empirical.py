"""Receptive fields measured with gradients: the proof of the analytic numbers, and the effective field.

*Theoretical* receptive field of a unit = the input pixels its value depends on = where the gradient of that unit
with respect to the input is non-zero — provided nothing cancels: weights are set positive, batch norm to an
identity, and max-pools become average pools of the same geometry (a max routes its gradient to one pixel only).

*Effective* receptive field (Luo, Li, Urtasun, Zemel, "Understanding the Effective Receptive Field in Deep
Convolutional Neural Networks", NeurIPS 2016): the magnitude of that gradient with the network's real weights —
random at initialisation, or trained — averaged over random inputs. It is a Gaussian-like blob, far smaller than
the theoretical square.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from ..i18n import N_, InvalidValue
from ..zoo.registry import get_spec
from .meta import build_meta
from .rules import rule_for


class _Captured(Exception):
    """Stops the forward pass once the watched layer has produced its output."""


@dataclass(frozen=True)
class MeasuredField:
    """The input region a unit depends on, per spatial axis as half-open pixel intervals [start, stop)."""

    layer: str
    unit: tuple[int, ...]  # the unit's position in the layer's output (spatial axes)
    output_size: tuple[int, ...]  # that layer's spatial output size
    intervals: tuple[tuple[int, int], ...]

    @property
    def sizes(self) -> tuple[int, ...]:
        return tuple(stop - start for start, stop in self.intervals)


def _module(model: str | nn.Module, **overrides) -> nn.Module:
    if isinstance(model, nn.Module):
        return copy.deepcopy(model)
    return get_spec(model).build(**overrides)


def _positive(model: nn.Module) -> nn.Module:
    """Weights 1/fan-in (positive, activations stay near 1: convolutions and transposed ones alike), biases 0, batch
    norm identity, and each layer its rule's stand-in for the proof (max → average pools)."""
    for name, child in list(model.named_children()):
        replacement = rule_for(child).gradient_proxy(child)
        if replacement is not None:
            setattr(model, name, replacement)
        else:
            _positive(child)
    with torch.no_grad():
        for p in model.parameters(recurse=False):
            if p.dim() >= 2:
                p.fill_(1.0 / (p.numel() // p.shape[0]))
            elif isinstance(model, nn.modules.batchnorm._BatchNorm) and p is model.weight:
                p.fill_(1.0)
            else:
                p.zero_()
        if isinstance(model, nn.modules.batchnorm._BatchNorm) and model.running_var is not None:
            model.running_mean.zero_()
            model.running_var.fill_(1.0)
    return model


def _run_until(model: nn.Module, x: torch.Tensor, layer: str, call: int = 0) -> torch.Tensor:
    """The output of the ``call``-th call (from 0) of ``layer`` — a module can run several times, like torchvision's
    shared ``relu`` — stopping the forward pass there (so the layers after it need not accept the input)."""
    target = dict(model.named_modules())[layer] if layer else model
    captured: list[torch.Tensor] = []

    def hook(mod, args, out):
        captured.append(out[0] if isinstance(out, (tuple, list)) else out)
        if len(captured) > call:
            raise _Captured

    handle = target.register_forward_hook(hook)
    try:
        model(x)
    except _Captured:
        pass
    finally:
        handle.remove()
    if len(captured) <= call:
        raise InvalidValue(N_("layer {layer} was not called {n} time(s) in the forward pass"), layer=repr(layer),
                           n=call + 1)
    return captured[call]


def _unit_gradient(
    model: nn.Module, x: torch.Tensor, layer: str, unit: Sequence[int] | None, call: int = 0
) -> tuple[torch.Tensor, tuple[int, ...], tuple[int, ...]]:
    """d(sum over channels of ``layer``'s output at ``unit``)/d(input); the unit defaults to the centre one."""
    x = x.clone().requires_grad_(True)
    out = _run_until(model, x, layer, call)
    spatial = tuple(out.shape[2:])
    if not spatial:
        raise InvalidValue(N_("layer {layer} has no spatial output ({shape})"), layer=repr(layer),
                           shape=tuple(out.shape))
    centre = tuple((s - 1) // 2 for s in spatial) if unit is None else tuple(unit)
    out[(0, slice(None), *centre)].sum().backward()
    return x.grad[0].abs().sum(dim=0), centre, spatial


def layer_output_size(
    model: str | nn.Module, input_shape: Sequence[int], layer: str, call: int = 0
) -> tuple[int, ...]:
    """Spatial output size of ``layer`` (its ``call``-th call, from 0) for an input of ``input_shape``, on the meta
    device."""
    # build_meta skips weight initialisation, which on the meta device is the slow part (fitting_input calls this
    # once per candidate size)
    net = build_meta(get_spec(model)) if isinstance(model, str) else copy.deepcopy(model).to("meta")
    with torch.no_grad():
        out = _run_until(net.eval(), torch.empty((1, *input_shape), device="meta"), layer, call)
    return tuple(out.shape[2:])


def fitting_input(
    model: str | nn.Module,
    input_shape: Sequence[int],
    layer: str,
    field: Sequence,
    call: int = 0,
    step: int = 16,
    limit: int = 4096,
) -> tuple[int, ...]:
    """The smallest input (growing the spatial sizes of ``input_shape`` by ``step``) in which the centre unit of
    ``layer`` sees its whole analytic ``field`` (per-axis :class:`~explorer.analysis.field.Axis`) — no pixel of it
    off the border."""
    shape = list(input_shape)
    while max(shape[1:]) <= limit:
        out = layer_output_size(model, shape, layer, call)
        fits = True
        for axis, (a, size) in enumerate(zip(field, shape[1:])):
            c = (out[axis] - 1) // 2
            start, stop = a.interval(c)
            if start < 0 or stop > size:
                fits = False
        if fits:
            return tuple(shape)
        shape = [shape[0]] + [s + step for s in shape[1:]]
    raise InvalidValue(N_("no input up to {limit} pixels holds the receptive field of {layer}"), limit=limit,
                       layer=repr(layer))


def measured_field(
    model: str | nn.Module,
    input_shape: Sequence[int],
    layer: str,
    unit: Sequence[int] | None = None,
    call: int = 0,
) -> MeasuredField:
    """Measure which input pixels ``layer``'s unit (default: the centre one) depends on, by backpropagation.
    ``call`` picks which call of a module that runs several times (from 0).

    ``model`` is a zoo id or a module (copied, never modified). Runs on the CPU in float64 so that no gradient of
    a far-away pixel underflows to zero.
    """
    net = _positive(_module(model)).double().eval()
    x = torch.ones((1, *input_shape), dtype=torch.float64)
    grad, centre, spatial = _unit_gradient(net, x, layer, unit, call)
    nonzero = grad != 0
    intervals = []
    for axis in range(nonzero.dim()):
        others = tuple(a for a in range(nonzero.dim()) if a != axis)
        hit = nonzero.any(dim=others) if others else nonzero
        idx = torch.nonzero(hit).flatten()
        intervals.append((int(idx.min()), int(idx.max()) + 1) if len(idx) else (0, 0))
    return MeasuredField(layer=layer, unit=centre, output_size=spatial, intervals=tuple(intervals))


def effective_field(
    model: str | nn.Module,
    input_shape: Sequence[int],
    layer: str,
    *,
    unit: Sequence[int] | None = None,
    call: int = 0,
    state_dict: dict[str, torch.Tensor] | None = None,
    samples: int = 4,
    seed: int = 0,
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """Luo et al.'s effective receptive field: mean |∂ unit / ∂ input| over random inputs, normalised to max 1.

    Weights are the builder's random initialisation (seeded), or ``state_dict`` (e.g. trained weights); the unit
    defaults to the centre one. Returns an H×W (or L) tensor on the CPU.
    """
    torch.manual_seed(seed)
    net = _module(model)
    if state_dict is not None:
        net.load_state_dict(state_dict)
    net = net.to(dtype).eval()
    generator = torch.Generator().manual_seed(seed)
    total = None
    for _ in range(samples):
        x = torch.randn((1, *input_shape), dtype=dtype, generator=generator)
        grad, _, _ = _unit_gradient(net, x, layer, unit, call)
        total = grad if total is None else total + grad
    peak = float(total.max())
    return total / peak if peak > 0 and math.isfinite(peak) else total
