"""Whether an input fits a network, and why not: the arithmetic of the layer that fails, and the smallest input
that works.

A network refuses an input in two ways: a sliding window (a convolution's kernel, a pooling window) no longer fits
in what arrives — ``⌊(1 + 2·0 − 3)/2⌋ + 1 = 0 < 1`` — or a layer of fixed size (the classifier's first linear layer,
a convolution's input channels) gets another size than the one it was built for. :func:`why_it_fails` says which, with
the numbers; :func:`smallest_input` finds the smallest square input that fits, by bisection on the meta device.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from ..i18n import N_, Message, Quoted
from ..zoo.registry import get_spec
from .meta import build_meta, fast_meta_forwards
from .rules import window_formula


@dataclass(frozen=True)
class Failure:
    """The layer where an input stops fitting, and why."""

    name: str  # module path of the layer that fails (a container when its own code fails: a residual addition)
    label: str  # its display label (conv1, pool5 …; see explorer.analysis.labels)
    type: str  # its module type: MaxPool2d, Linear …
    input_shape: tuple[int, ...] | None  # what arrives there, with the batch dimension
    reason: Message  # why, with the arithmetic: "MaxPool2d 3×3, stride 2 gets 1×1: ⌊(1 + 2·0 − 3)/2⌋ + 1 = 0 < 1 …"
    message: Message  # the whole sentence of the InputShapeError that analyze raises without partial=True


def _each_axis(value: int | Sequence[int], n: int) -> tuple[int, ...]:
    return tuple(value) if isinstance(value, (tuple, list)) else (value,) * n


def _window_out(size: int, k: int, s: int, p: int, d: int, ceil: bool) -> int:
    """PyTorch's output size of a sliding window (may be below 1: the window does not fit)."""
    span = size + 2 * p - d * (k - 1) - 1
    out = (-(-span // s) if ceil else span // s) + 1
    if ceil and out > 1 and (out - 1) * s >= size + p:
        out -= 1  # the last window would start in the right padding
    return out


def _times(dims: Sequence[int]) -> str:
    return "×".join(map(str, dims))


# The sentence of a window that no longer fits: [stride given][a convolution's kernel][padding given] → template.
_WINDOW = {
    (True, False, True): N_("{layer} {k}, stride {s} gets {shape}: {formulas} — the {span} window no longer fits in "
                            "{sizes} even with its padding"),
    (True, False, False): N_("{layer} {k}, stride {s} gets {shape}: {formulas} — the {span} window no longer fits in "
                             "{sizes}"),
    (True, True, True): N_("{layer} {k}, stride {s} gets {shape}: {formulas} — the {span} kernel no longer fits in "
                           "{sizes} even with its padding"),
    (True, True, False): N_("{layer} {k}, stride {s} gets {shape}: {formulas} — the {span} kernel no longer fits in "
                            "{sizes}"),
    (False, False, True): N_("{layer} {k} gets {shape}: {formulas} — the {span} window no longer fits in {sizes} "
                             "even with its padding"),
    (False, False, False): N_("{layer} {k} gets {shape}: {formulas} — the {span} window no longer fits in {sizes}"),
    (False, True, True): N_("{layer} {k} gets {shape}: {formulas} — the {span} kernel no longer fits in {sizes} even "
                            "with its padding"),
    (False, True, False): N_("{layer} {k} gets {shape}: {formulas} — the {span} kernel no longer fits in {sizes}"),
}


def _window_reason(module: nn.Module, shape: tuple[int, ...]) -> Message | None:
    """"MaxPool2d 3×3, stride 2 gets 256×1×1: ⌊(1 + 2·0 − 3)/2⌋ + 1 = 0 < 1" for a window that no longer fits."""
    if not hasattr(module, "kernel_size") or isinstance(getattr(module, "padding", 0), str):
        return None
    n = len(shape) - 2
    if n < 1:
        return None
    k = _each_axis(module.kernel_size, n)
    stride = getattr(module, "stride", None)
    s = _each_axis(stride if stride else module.kernel_size, n)
    p = _each_axis(getattr(module, "padding", 0), n)
    d = _each_axis(getattr(module, "dilation", 1), n)
    ceil = bool(getattr(module, "ceil_mode", False))
    sizes = shape[2:]
    outs = [_window_out(sizes[i], k[i], s[i], p[i], d[i], ceil) for i in range(n)]
    bad = [i for i in range(n) if outs[i] < 1]
    if not bad:
        return None
    formulas = list(dict.fromkeys(window_formula(sizes[i], k[i], s[i], p[i], d[i], ceil, outs[i]) for i in bad))
    span = [d[i] * (k[i] - 1) + 1 for i in range(n)]
    strided = any(v != 1 for v in s)
    template = _WINDOW[strided, "Conv" in type(module).__name__, any(p)]
    return Message(template, dict(
        layer=type(module).__name__, k=_times(k), shape=_times(shape[1:]), span=_times(span), sizes=_times(sizes),
        formulas=" and ".join(f"{f} < 1" for f in formulas), **({"s": _times(sorted(set(s)))} if strided else {})))


def _factors(count: int, channels: int) -> str:
    """9216 with 256 channels → "256·6·6 = 9,216" (a square map), else the count alone."""
    if channels and count % channels == 0:
        side = math.isqrt(count // channels)
        if side * side == count // channels:
            return f"{channels}·{side}·{side} = {count:,}"
    return f"{count:,}"


def _size_reason(module: nn.Module, shape: tuple[int, ...], before: tuple[int, ...] | None) -> Message | None:
    """What a layer of fixed size expects against what arrives: features of a Linear, channels of a Conv."""
    name = type(module).__name__
    if isinstance(module, nn.Linear) and shape and shape[-1] != module.in_features:
        got = shape[-1]
        if before is not None and len(before) >= 3 and math.prod(before[1:]) == got:
            c = before[1]
            arrives = "·".join(map(str, before[1:])) + f" = {got:,}"
            return Message(N_("the classifier's {layer} expects {expected} features, this input gives {arrives}"),
                           dict(layer=name, expected=_factors(module.in_features, c), arrives=arrives))
        return Message(N_("{layer} expects {n} input features, this input gives {got}"),
                       dict(layer=name, n=f"{module.in_features:,}", got=f"{got:,}"))
    if hasattr(module, "in_channels") and len(shape) > 1 and shape[1] != module.in_channels:
        template = (N_("{layer} expects {n} input channel, this input has {got}") if module.in_channels == 1 else
                    N_("{layer} expects {n} input channels, this input has {got}"))
        return Message(template, dict(layer=name, n=module.in_channels, got=shape[1]))
    return None


def why_it_fails(module: nn.Module, shape: tuple[int, ...] | None, error: str,
            before: tuple[int, ...] | None = None) -> Message:
    """Why ``module`` cannot take an input of ``shape`` (with the batch dimension): the window arithmetic, the
    sizes expected and given, or else PyTorch's own first line ``error`` (quoted). ``before``: the last feature-map
    shape (N, C, H, W) computed before it, which a flattening turned into the features that arrive."""
    own_words = Message("{error}", {"error": Quoted(error)})  # nothing to translate: PyTorch's words, quoted
    if shape is None:
        return own_words
    return _size_reason(module, shape, before) or _window_reason(module, shape) or own_words


def _fits(module: nn.Module, shape: tuple[int, ...]) -> bool:
    try:
        with torch.no_grad():
            module(torch.empty((1, *shape), device="meta"))
    except Exception:  # noqa: BLE001 — any failure of the forward pass means "does not fit"
        return False
    return True


def smallest_input(model_id: str, channels: int | None = None) -> tuple[int, ...] | None:
    """The smallest square input ``channels``×S×S that zoo model ``model_id`` takes (``channels`` defaults to its
    own), found by bisection between 1 and its own input size: one meta-device forward pass per try, no weights.

    ``None`` where the model's input is not an image (C, H, W) or even its own size fails with these channels.
    Assumes that an input that fits stays fitting when it grows (true of convolutions and pooling; a classifier of
    fixed size behind no adaptive pooling fits one size only, and then the answer is that size)."""
    spec = get_spec(model_id)
    if len(spec.input_shape) != 3:
        return None
    channels = spec.input_shape[0] if channels is None else channels
    module = build_meta(spec).eval()
    fast_meta_forwards(module)
    hi = max(spec.input_shape[1:])
    if not _fits(module, (channels, hi, hi)):
        return None
    lo = 0  # invariant: lo fails (or is 0), hi fits
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if _fits(module, (channels, mid, mid)) else (mid, hi)
    return (channels, hi, hi)
