"""What the analysis knows about each module type, in one place: one rule per type, dispatched by base class.

Like torchscan's rule tables (``macs_convnd``, ``rf_aggregnd``), but one object per type holds every fact: the
shape arithmetic (``⌊(55 + 2·0 − 3)/2⌋ + 1 = 27``), the parameter count as a formula (``(11·11·3 + 1)·96 =
34,944``), the MACs (torchinfo's convention) and their formula, the receptive-field step, the diagram's label and
detail, the notes' category, whether the output keeps the input's shape, what replaces the layer in the gradient
proof of the receptive field, and whether its output is a feature map worth showing.

:func:`rule_for` walks the module's MRO, so a rule for ``_ConvNd`` serves Conv1d/2d/3d; a type with no rule gets
:data:`UNSUPPORTED_RULE` — no shape formula, no parameter formula, torchinfo's MACs, and a receptive field found by
following the torch operations of its forward pass. :func:`register_rule` adds a rule for a new type.

Functional code (``torch.cat``, ``out += identity``, ``F.relu``, ``F.max_pool2d`` in a custom ``forward``) is
covered by :data:`FUNCTIONS`, a table of torch functions that reuses the same receptive-field steps.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import torch
from torch import nn

from ..zoo.energy import SignUpdate, TiedLinear
from ..zoo.googlenet import Concat
from .field import NONSPATIAL, UNSUPPORTED, Axis, Marker, State, merge, mixing

Shape = Sequence[int]
FOLLOW = Marker("FOLLOW")  # a rule's field step that means: no module-level step, follow its torch operations


def _tuple(v: Any, n: int) -> tuple[int, ...]:
    if isinstance(v, (tuple, list)):
        return tuple(int(x) for x in v) if len(v) == n else tuple(int(v[0]) for _ in range(n))
    return (int(v),) * n


def _pair(v: Any, n: int) -> tuple[int, ...]:
    return tuple(v) if isinstance(v, (tuple, list)) else (v,) * n


def _equals(expression: str, value: int) -> str:
    return f"{expression} = {value:,}"


# ---------------------------------------------------------------------------------------------------------------
# Receptive-field steps (shared by the module rules and the function table)
# ---------------------------------------------------------------------------------------------------------------
def _per_axis(src: State, step: Callable[[Axis, int], Axis | None]) -> State:
    if not isinstance(src, tuple):
        return src  # unsupported or not spatial stays so
    axes = tuple(step(a, i) for i, a in enumerate(src))
    return UNSUPPORTED if any(a is None for a in axes) else axes


def window(src: State, k: Any, s: Any, p: Any, d: Any = 1) -> State:
    """Convolution or pooling (kernel ``k``, stride ``s``, padding ``p``, dilation ``d``): unit ``o`` reads units
    ``o·s − p + t·d``, ``t < k``. For a uniform field: r ← r + (k_eff − 1)·j, u ← u − p·j, j ← j·s (Distill)."""
    if not isinstance(src, tuple):
        return src
    n = len(src)
    if isinstance(p, str):
        if p != "valid":
            return UNSUPPORTED  # padding="same": asymmetric for even kernels
        p = 0
    k, s, p, d = _tuple(k, n), _tuple(s, n), _tuple(p, n), _tuple(d, n)
    return _per_axis(src, lambda a, i: a.gather(
        lambda o: [o * s[i] - p[i] + t * d[i] for t in range(k[i])], 1, s[i]))


def transposed(src: State, k: Any, s: Any, p: Any, d: Any = 1) -> State:
    """Transposed convolution: input unit ``i`` writes output ``i·s − p + t·d``, so output ``o`` reads the ``i``
    with ``o + p − t·d = i·s`` — a staircase of period ``s`` (``output_padding`` only adds units at the end)."""
    if not isinstance(src, tuple):
        return src
    n = len(src)
    k, s, p, d = _tuple(k, n), _tuple(s, n), _tuple(p, n), _tuple(d, n)
    return _per_axis(src, lambda a, i: a.gather(
        lambda o: [(o + p[i] - t * d[i]) // s[i] for t in range(k[i]) if (o + p[i] - t * d[i]) % s[i] == 0],
        s[i], 1))


UPSAMPLE_MODES = ("nearest", "nearest-exact", "linear", "bilinear", "trilinear")


def upsample(src: State, scales: Sequence[int], mode: str, align_corners: bool | None = None) -> State:
    """Upsampling by whole factors ``scales`` (PyTorch's index arithmetic): ``nearest`` reads ``⌊o/s⌋``,
    ``nearest-exact`` ``⌊(o + ½)/s⌋``, (bi/tri)linear with ``align_corners=False`` the two neighbours of
    ``x = (o + ½)/s − ½`` — one where ``x`` is whole, its other weight being 0. Anything else: unsupported."""
    if not isinstance(src, tuple):
        return src
    linear = mode in ("linear", "bilinear", "trilinear")
    if mode not in UPSAMPLE_MODES or (linear and align_corners) or len(scales) != len(src):
        return UNSUPPORTED

    def deps(o: int, s: int) -> list[int]:
        if mode == "nearest":
            return [o // s]
        if mode == "nearest-exact":
            return [(2 * o + 1) // (2 * s)]
        x, den = 2 * o + 1 - s, 2 * s  # x/den = (o + ½)/s − ½
        return [x // den] if x % den == 0 else [x // den, x // den + 1]

    return _per_axis(src, lambda a, i: a.gather(lambda o: deps(o, scales[i]), scales[i], 1))


def adaptive(src: State, sizes: Sequence[int], outs: Any) -> State:
    """Adaptive pooling: a plain pooling where the output divides the input, else unsupported (uneven windows)."""
    if not isinstance(src, tuple):
        return src
    outs = _pair(outs, len(src))
    outs = tuple(sizes[i] if o is None else o for i, o in enumerate(outs))
    if any(size % o for size, o in zip(sizes, outs)):
        return UNSUPPORTED
    k = tuple(size // o for size, o in zip(sizes, outs))
    return window(src, k, k, 0)


def _whole_scales(inp: Shape, out: Shape) -> tuple[int, ...] | None:
    spatial_in, spatial_out = inp[2:], out[2:]
    if not spatial_in or len(spatial_in) != len(spatial_out):
        return None
    if any(o % i for i, o in zip(spatial_in, spatial_out)):
        return None
    return tuple(o // i for i, o in zip(spatial_in, spatial_out))


# ---------------------------------------------------------------------------------------------------------------
# Shape arithmetic
# ---------------------------------------------------------------------------------------------------------------
def window_formula(size: int, k: int, s: int, p: int, d: int, ceil: bool, out: int) -> str:
    """``⌊(in + 2·p − k)/s⌋ + 1`` (``d·(k − 1) + 1`` in place of ``k`` when dilated, ``⌈⌉`` for ceil_mode)."""
    span = f"{k}" if d == 1 else f"{d}·({k} − 1) − 1"
    body = f"{size} + 2·{p} − {span}"
    if s == 1:
        return f"{body} + 1 = {out}"
    open_, close = ("⌈", "⌉") if ceil else ("⌊", "⌋")
    text = f"{open_}({body})/{s}{close} + 1"
    if ceil:
        full = -(-(size + 2 * p - d * (k - 1) - 1) // s) + 1
        if full != out:
            # PyTorch drops a last window that would start in the right padding.
            return f"{text} − 1 = {out} (the last window would start in the padding)"
    return f"{text} = {out}"


def _sliding_formula(module: nn.Module, inp: Shape, out: Shape) -> str | None:
    n = len(out) - 2
    if n < 1 or len(inp) != len(out):
        return None
    k = _pair(module.kernel_size, n)
    s = _pair(module.stride if module.stride is not None else module.kernel_size, n)
    p = _pair(module.padding, n) if not isinstance(module.padding, str) else None
    d = _pair(getattr(module, "dilation", 1), n)
    if p is None:  # padding="same" / "valid"
        return f"padding={module.padding!r} → " + "×".join(str(o) for o in out[2:])
    ceil = bool(getattr(module, "ceil_mode", False))
    parts = [window_formula(inp[2 + i], k[i], s[i], p[i], d[i], ceil, out[2 + i]) for i in range(n)]
    if len(set(zip(inp[2:], k, s, p, d))) == 1:
        return parts[0]
    return _per_axis_text(parts)


def _per_axis_text(parts: Sequence[str]) -> str:
    if len(set(parts)) == 1:
        return parts[0]
    names = ("H", "W") if len(parts) == 2 else tuple(f"dim{i}" for i in range(len(parts)))
    return ", ".join(f"{name}: {part}" for name, part in zip(names, parts))


def _pair_text(v: Any) -> str:
    v = tuple(v) if isinstance(v, (tuple, list)) else (v, v)
    return f"{v[0]}" if len(set(v)) == 1 else "×".join(map(str, v))


# ---------------------------------------------------------------------------------------------------------------
# The rule object and its registry
# ---------------------------------------------------------------------------------------------------------------
class Rule:
    """Everything the analysis knows about one module type. Subclass and override; the defaults are the answers
    for a type it knows nothing about (:data:`UNSUPPORTED_RULE` is a plain ``Rule`` marked unsupported)."""

    supported: bool = True
    category: str = "other"  # the notes' kind: convolution, fully connected, pooling, activation, normalization …
    preserves_shape: bool = False  # output shape = input shape: the meta pass may skip the kernel
    feature_map: bool = False  # its output is an image worth showing (the Classify page's feature maps)
    weight_layer: bool = False  # counts in the depth (weight layers on the longest path)

    def shape(self, module: nn.Module, inp: Shape, out: Shape) -> str | None:
        """The arithmetic that turns the input size into the output size, or ``None``."""
        return None

    def params(self, module: nn.Module) -> str | None:
        """The module's own parameter count as a formula with its numbers, ``… = N``, or ``None``."""
        return None

    def macs(self, module: nn.Module, inp: Shape, out: Shape) -> int | None:
        """Multiply–accumulates of one call (torchinfo's convention); ``None``: take torchinfo's count."""
        return None

    def macs_formula(self, module: nn.Module, inp: Shape, out: Shape) -> str | None:
        return None

    def field(self, module: nn.Module, src: State, inp: Shape, out: Shape) -> State:
        """The receptive field of the output from that of the input (``src``: the union of its tensor inputs').
        A rule that overrides this makes a leaf module one step of the tracker; the default, :data:`FOLLOW`, has it
        follow the torch operations of the module's forward pass instead (as for a type without a rule)."""
        return FOLLOW

    def detail(self, module: nn.Module) -> str:
        """Key hyper-parameters for the diagram: ``11×11, 3→96, stride 4, pad 2``."""
        return ""

    def label(self, module: nn.Module) -> str:
        return type(module).__name__

    def gradient_proxy(self, module: nn.Module) -> nn.Module | None:
        """A stand-in for the gradient proof of the receptive field (a max-pool routes its gradient to one pixel
        only, so it becomes an average pool of the same geometry), or ``None`` to keep the module."""
        return None


class _Unsupported(Rule):
    supported = False


UNSUPPORTED_RULE: Rule = _Unsupported()  # the one answer for a module type without a rule

_RULES: dict[type, Rule] = {}
R = TypeVar("R", bound="Rule | type[Rule]")


def register_rule(*types: type[nn.Module], rule: Rule | None = None) -> Any:
    """Register ``rule`` for ``types`` (and their subclasses without a rule of their own). As a decorator:
    ``@register_rule(MyLayer)`` on a :class:`Rule` subclass (instantiated) or instance. A type registered twice
    is refused: :func:`unregister_rule` it first."""
    if not types or not all(isinstance(t, type) and issubclass(t, nn.Module) for t in types):
        raise TypeError("register_rule takes nn.Module subclasses")

    def add(r: R) -> R:
        instance = r() if isinstance(r, type) else r
        if not isinstance(instance, Rule):
            raise TypeError(f"{r!r} is not a Rule")
        taken = [t.__name__ for t in types if t in _RULES]
        if taken:
            raise ValueError(f"a rule is already registered for {', '.join(taken)}")
        for t in types:
            _RULES[t] = instance
        return r

    return add(rule) if rule is not None else add


def unregister_rule(*types: type[nn.Module]) -> None:
    """Remove the rules registered for ``types`` (their subclasses fall back to a base class's rule)."""
    for t in types:
        _RULES.pop(t, None)


def rule_for(module: nn.Module | type[nn.Module]) -> Rule:
    """The rule of the nearest class in the module's MRO that has one, else :data:`UNSUPPORTED_RULE`."""
    cls = module if isinstance(module, type) else type(module)
    for base in cls.__mro__:
        if base in _RULES:
            return _RULES[base]
    return UNSUPPORTED_RULE


def category(module: nn.Module | type[nn.Module] | str) -> str:
    """The notes' kind of a layer: ``Conv2d`` → convolution, ``Linear`` → fully connected, ``MaxPool2d`` →
    pooling, ``ReLU`` → activation, ``BatchNorm2d`` → normalization, ``LSTM`` → recurrent, else other. Takes a
    module, a type, or a type's name (a registered type's or one of ``torch.nn``'s)."""
    if isinstance(module, str):
        by_name = {t.__name__: t for t in _RULES}
        found = by_name.get(module) or getattr(nn, module, None)
        if not (isinstance(found, type) and issubclass(found, nn.Module)):
            return "other"
        module = found
    return rule_for(module).category


def shape_arithmetic(module: nn.Module, input_shape: Shape | None, output_shape: Shape | None) -> str | None:
    """The formula giving ``output_shape`` from ``input_shape`` for ``module``, or ``None`` without a rule."""
    if not input_shape or not output_shape:
        return None
    try:
        return rule_for(module).shape(module, list(input_shape), list(output_shape))
    except (AttributeError, IndexError, TypeError, ZeroDivisionError, ValueError):
        return None


# ---------------------------------------------------------------------------------------------------------------
# The rules
# ---------------------------------------------------------------------------------------------------------------
@register_rule(nn.modules.conv._ConvNd)
class ConvRule(Rule):
    """Convolutions. Parameters (k·k·c_in/groups + 1)·c_out; MACs, as torchinfo counts a Conv*: parameters ×
    output positions (each weight once per position; the bias counted)."""

    category = "convolution"
    feature_map = True
    weight_layer = True

    def _fan(self, m: nn.Module) -> tuple[str, int]:
        k = "·".join(map(str, m.kernel_size))
        per_group = m.in_channels // m.groups
        text = f"{k}·{m.in_channels}" if m.groups == 1 else f"{k}·({m.in_channels}/{m.groups})"
        return text, math.prod(m.kernel_size) * per_group

    def params(self, m: nn.Module) -> str | None:
        text, fan = self._fan(m)
        if m.bias is not None:
            return _equals(f"({text} + 1)·{m.out_channels}", (fan + 1) * m.out_channels)
        return _equals(f"{text}·{m.out_channels}", fan * m.out_channels)

    def macs(self, m: nn.Module, inp: Shape, out: Shape) -> int | None:
        _, fan = self._fan(m)
        return m.out_channels * math.prod((out[0], *out[2:])) * (fan + (m.bias is not None))

    def macs_formula(self, m: nn.Module, inp: Shape, out: Shape) -> str | None:
        text, _ = self._fan(m)
        positions = "·".join(map(str, out[2:] if out[0] == 1 else (out[0], *out[2:])))
        body = f"({text} + 1)" if m.bias is not None else text
        return _equals(f"{m.out_channels}·{positions}·{body}", self.macs(m, inp, out))

    def shape(self, m: nn.Module, inp: Shape, out: Shape) -> str | None:
        return _sliding_formula(m, inp, out)

    def field(self, m: nn.Module, src: State, inp: Shape, out: Shape) -> State:
        return window(src, m.kernel_size, m.stride, m.padding, m.dilation)

    def detail(self, m: nn.Module) -> str:
        extra = [f"{m.in_channels}→{m.out_channels}"]
        if any(s != 1 for s in m.stride):
            extra.append(f"stride {_pair_text(m.stride)}")
        if not isinstance(m.padding, str) and any(p != 0 for p in m.padding):
            extra.append(f"pad {_pair_text(m.padding)}")
        if any(d != 1 for d in m.dilation):
            extra.append(f"dilation {_pair_text(m.dilation)}")
        if m.groups != 1:
            extra.append(f"groups {m.groups}")
        return "×".join(map(str, m.kernel_size)) + ", " + ", ".join(extra)


@register_rule(nn.modules.conv._ConvTransposeNd)
class ConvTransposeRule(ConvRule):
    """Transposed convolutions: the same parameters (weight c_in × c_out/groups × k…, so the same formula) and,
    as torchinfo counts them, the same MACs rule as a convolution; their own size and receptive-field steps."""

    def shape(self, m: nn.Module, inp: Shape, out: Shape) -> str | None:
        n = len(out) - 2
        k, s = _pair(m.kernel_size, n), _pair(m.stride, n)
        p, d = _pair(m.padding, n), _pair(m.dilation, n)
        op = _pair(m.output_padding, n)
        return _per_axis_text([
            f"({inp[2 + i]} − 1)·{s[i]} − 2·{p[i]} + {d[i]}·({k[i]} − 1) + {op[i]} + 1 = {out[2 + i]}"
            for i in range(n)
        ])

    def field(self, m: nn.Module, src: State, inp: Shape, out: Shape) -> State:
        return transposed(src, m.kernel_size, m.stride, m.padding, m.dilation)


_AVG_FOR_MAX: dict[type, type] = {nn.MaxPool1d: nn.AvgPool1d, nn.MaxPool2d: nn.AvgPool2d, nn.MaxPool3d: nn.AvgPool3d}
_ADAPTIVE_AVG_FOR_MAX: dict[type, type] = {nn.AdaptiveMaxPool1d: nn.AdaptiveAvgPool1d,
                                           nn.AdaptiveMaxPool2d: nn.AdaptiveAvgPool2d,
                                           nn.AdaptiveMaxPool3d: nn.AdaptiveAvgPool3d}


@register_rule(nn.modules.pooling._MaxPoolNd, nn.modules.pooling._AvgPoolNd)
class PoolRule(Rule):
    category = "pooling"
    feature_map = True

    def macs(self, m: nn.Module, inp: Shape, out: Shape) -> int | None:
        return 0

    def shape(self, m: nn.Module, inp: Shape, out: Shape) -> str | None:
        return _sliding_formula(m, inp, out)

    def field(self, m: nn.Module, src: State, inp: Shape, out: Shape) -> State:
        stride = m.stride if m.stride is not None else m.kernel_size
        return window(src, m.kernel_size, stride or m.kernel_size, m.padding, getattr(m, "dilation", 1))

    def detail(self, m: nn.Module) -> str:
        k = m.kernel_size
        text = "×".join(map(str, k)) if isinstance(k, tuple) else f"{_pair_text(k)}×{_pair_text(k)}"
        stride = m.stride if m.stride is not None else k
        text += f", stride {_pair_text(stride)}"
        if m.padding not in (0, (0, 0)):
            text += f", pad {_pair_text(m.padding)}"
        if getattr(m, "ceil_mode", False):
            text += ", ceil"
        return text

    def gradient_proxy(self, m: nn.Module) -> nn.Module | None:
        avg = _AVG_FOR_MAX.get(type(m))
        if avg is None or any(d != 1 for d in _pair(m.dilation, 1)):
            return None  # an average pool has no dilation: keep the max-pool
        return avg(m.kernel_size, m.stride, m.padding, m.ceil_mode)


@register_rule(nn.modules.pooling._AdaptiveAvgPoolNd, nn.modules.pooling._AdaptiveMaxPoolNd)
class AdaptivePoolRule(PoolRule):
    def shape(self, m: nn.Module, inp: Shape, out: Shape) -> str | None:
        return "adaptive: " + "×".join(str(i) for i in inp[2:]) + " → " + "×".join(str(o) for o in out[2:])

    def field(self, m: nn.Module, src: State, inp: Shape, out: Shape) -> State:
        if not isinstance(src, tuple):
            return src
        return adaptive(src, tuple(inp[-len(src):]), m.output_size)

    def detail(self, m: nn.Module) -> str:
        return f"→ {_pair_text(m.output_size)}"

    def gradient_proxy(self, m: nn.Module) -> nn.Module | None:
        avg = _ADAPTIVE_AVG_FOR_MAX.get(type(m))
        return avg(m.output_size) if avg is not None else None


@register_rule(nn.Upsample)
class UpsampleRule(Rule):
    """Upsampling: no parameters, no MACs; exact receptive fields for whole scale factors (see :func:`upsample`)."""

    feature_map = True

    def macs(self, m: nn.Module, inp: Shape, out: Shape) -> int | None:
        return 0

    def shape(self, m: nn.Module, inp: Shape, out: Shape) -> str | None:
        scales = _whole_scales(inp, out)
        if scales is None:
            return "×".join(map(str, inp[2:])) + " → " + "×".join(map(str, out[2:]))
        return _per_axis_text([f"{i}·{s} = {o}" for i, s, o in zip(inp[2:], scales, out[2:])])

    def field(self, m: nn.Module, src: State, inp: Shape, out: Shape) -> State:
        scales = _whole_scales(inp, out)
        if scales is None:
            return UNSUPPORTED if isinstance(src, tuple) else src
        if m.scale_factor is not None and _pair(m.scale_factor, len(scales)) != scales:
            return UNSUPPORTED if isinstance(src, tuple) else src  # a fractional factor, rounded to these sizes
        return upsample(src, scales, m.mode, m.align_corners)

    def detail(self, m: nn.Module) -> str:
        size = f"×{_pair_text(m.scale_factor)}" if m.scale_factor is not None else f"→ {_pair_text(m.size)}"
        return f"{size}, {m.mode}"


class _Mixing(Rule):
    """Layers that turn the spatial axes into features: their units have no receptive field of their own."""

    def field(self, m: nn.Module, src: State, inp: Shape, out: Shape) -> State:
        return mixing([src])


@register_rule(nn.Linear)
class LinearRule(_Mixing):
    """Parameters (in + 1)·out; MACs the same once per row — per position on a sequence (N×T×d), where torchinfo
    counts it once per batch row."""

    category = "fully connected"
    weight_layer = True

    def _body(self, m: nn.Module) -> tuple[str, int]:
        if m.bias is not None:
            return f"({m.in_features} + 1)·{m.out_features}", (m.in_features + 1) * m.out_features
        return f"{m.in_features}·{m.out_features}", m.in_features * m.out_features

    def params(self, m: nn.Module) -> str | None:
        return _equals(*self._body(m))

    def macs(self, m: nn.Module, inp: Shape, out: Shape) -> int | None:
        return math.prod(out[:-1]) * self._body(m)[1]

    def macs_formula(self, m: nn.Module, inp: Shape, out: Shape) -> str | None:
        rows = math.prod(out[:-1])
        text = self._body(m)[0]
        return _equals(text if rows == 1 else f"{rows}·{text}", self.macs(m, inp, out))

    def shape(self, m: nn.Module, inp: Shape, out: Shape) -> str | None:
        return f"{m.in_features} → {m.out_features} features"

    def detail(self, m: nn.Module) -> str:
        return f"{m.in_features}→{m.out_features}"


@register_rule(nn.Bilinear)
class BilinearRule(_Mixing):
    category = "fully connected"
    weight_layer = True

    def params(self, m: nn.Module) -> str | None:
        w = m.in1_features * m.in2_features * m.out_features
        if m.bias is None:
            return _equals(f"{m.in1_features}·{m.in2_features}·{m.out_features}", w)
        return _equals(f"({m.in1_features}·{m.in2_features} + 1)·{m.out_features}", w + m.out_features)


@register_rule(TiedLinear)
class TiedLinearRule(Rule):
    """The RBM's way back down: F.linear with the hidden layer's weight, transposed (followed op by op)."""

    category = "fully connected"

    def params(self, m: nn.Module) -> str | None:
        return f"{m.bias.shape[0]:,} (visible biases; the weight is the hidden layer's, transposed)"


@register_rule(nn.Flatten)
class FlattenRule(_Mixing):
    def macs(self, m: nn.Module, inp: Shape, out: Shape) -> int | None:
        return 0

    def shape(self, m: nn.Module, inp: Shape, out: Shape) -> str | None:
        start, end = m.start_dim % len(inp), m.end_dim % len(inp)
        dims = inp[start:end + 1]
        if len(dims) < 2:
            return None
        return "·".join(str(v) for v in dims) + f" = {out[start]}"


@register_rule(nn.Unflatten)
class UnflattenRule(_Mixing):
    def macs(self, m: nn.Module, inp: Shape, out: Shape) -> int | None:
        return 0


class _PerUnit(Rule):
    """Each output unit sees what the same input unit sees (activations, dropout, per-channel normalisations).
    Normalisations by statistics (layer, group norm) are counted per unit too, as receptive-field tables do: their
    statistics reach everywhere, but carry no position."""

    preserves_shape = True

    def macs(self, m: nn.Module, inp: Shape, out: Shape) -> int | None:
        return 0

    def field(self, m: nn.Module, src: State, inp: Shape, out: Shape) -> State:
        return src


ACTIVATIONS: tuple[type[nn.Module], ...] = (
    nn.ReLU, nn.Hardtanh, nn.Sigmoid, nn.Tanh, nn.GELU, nn.SiLU, nn.LeakyReLU, nn.ELU, nn.Hardswish, nn.Hardsigmoid,
    nn.Mish, nn.Softplus, nn.CELU, nn.SELU, nn.Softsign, nn.Tanhshrink, nn.LogSigmoid,
)


@register_rule(*ACTIVATIONS)
class ActivationRule(_PerUnit):
    category = "activation"


@register_rule(nn.Softmax, nn.LogSoftmax)
class SoftmaxRule(ActivationRule):
    """Per unit when taken over the channels; over a spatial axis every unit sees the whole axis: unsupported."""

    def field(self, m: nn.Module, src: State, inp: Shape, out: Shape) -> State:
        if not isinstance(src, tuple):
            return src
        spatial = range(len(inp) - len(src), len(inp))
        return UNSUPPORTED if m.dim is None or m.dim % len(inp) in spatial else src


@register_rule(SignUpdate)
class SignUpdateRule(Rule):
    """The Hopfield network's update, sᵢ ← sign(hᵢ): an activation (its operations are followed)."""

    category = "activation"

    def macs(self, m: nn.Module, inp: Shape, out: Shape) -> int | None:
        return 0


@register_rule(nn.modules.dropout._DropoutNd)
class DropoutRule(_PerUnit):
    def detail(self, m: nn.Module) -> str:
        return f"p={m.p}"


@register_rule(nn.Identity)
class IdentityRule(_PerUnit):
    pass


class _Norm(_PerUnit):
    """Affine normalisations: a scale and a shift per feature, 2·C parameters; MACs as torchinfo counts any
    non-convolution with weights: parameters × batch."""

    category = "normalization"

    def _body(self, m: nn.Module) -> tuple[str, int] | None:
        return None

    def params(self, m: nn.Module) -> str | None:
        body = self._body(m)
        return _equals(*body) if body is not None else None

    def macs(self, m: nn.Module, inp: Shape, out: Shape) -> int | None:
        body = self._body(m)
        return out[0] * body[1] if body is not None else 0

    def macs_formula(self, m: nn.Module, inp: Shape, out: Shape) -> str | None:
        body = self._body(m)
        if body is None:
            return None
        return _equals(body[0] if out[0] == 1 else f"{out[0]}·{body[0]}", self.macs(m, inp, out))


@register_rule(nn.modules.batchnorm._BatchNorm, nn.modules.instancenorm._InstanceNorm)
class BatchNormRule(_Norm):
    def _body(self, m: nn.Module) -> tuple[str, int] | None:
        return (f"2·{m.num_features}", 2 * m.num_features) if m.affine else None

    def detail(self, m: nn.Module) -> str:
        return f"{m.num_features}"


@register_rule(nn.GroupNorm)
class GroupNormRule(_Norm):
    def _body(self, m: nn.Module) -> tuple[str, int] | None:
        return (f"2·{m.num_channels}", 2 * m.num_channels) if m.affine else None


@register_rule(nn.LayerNorm)
class LayerNormRule(_Norm):
    def _body(self, m: nn.Module) -> tuple[str, int] | None:
        if not m.elementwise_affine:
            return None
        n = math.prod(m.normalized_shape)
        return (f"2·{n}", 2 * n) if m.bias is not None else (f"{n}", n)


@register_rule(nn.LocalResponseNorm)
class LocalResponseNormRule(_Norm):
    pass


_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


@register_rule(nn.RNNBase)
class RecurrentRule(_Mixing):
    """RNN, LSTM, GRU: gates·(h·(i + h) + 2h) per layer and direction (two bias vectors); MACs, as torchinfo
    counts them: parameters × (batch × time steps). One weight layer in the depth, however many steps it runs
    (:mod:`explorer.analysis.depth`)."""

    category = "recurrent"
    weight_layer = True

    def _body(self, m: nn.Module) -> tuple[str, int] | None:
        if getattr(m, "proj_size", 0):
            return None
        g, h, dirs = _GATES[m.mode], m.hidden_size, 2 if m.bidirectional else 1
        terms: list[tuple[str, int]] = []
        for layer in range(m.num_layers):
            i = m.input_size if layer == 0 else h * dirs
            body = f"{h}·({i} + {h}) + 2·{h}" if m.bias else f"{h}·({i} + {h})"
            value = h * (i + h) + 2 * h * m.bias
            body, value = (body, value) if g == 1 else (f"{g}·({body})", g * value)
            terms.append((body if dirs == 1 else f"2·({body})", dirs * value))
        if len(terms) == 1:
            return terms[0]
        return " + ".join(f"({t})" for t, _ in terms), sum(v for _, v in terms)

    def params(self, m: nn.Module) -> str | None:
        body = self._body(m)
        return _equals(*body) if body is not None else None

    def macs(self, m: nn.Module, inp: Shape, out: Shape) -> int | None:
        body = self._body(m)
        return math.prod(out[:2]) * body[1] if body is not None else None

    def macs_formula(self, m: nn.Module, inp: Shape, out: Shape) -> str | None:
        body = self._body(m)
        if body is None:
            return None
        return _equals(f"{math.prod(out[:2])}·({body[0]})", self.macs(m, inp, out))

    def detail(self, m: nn.Module) -> str:
        return f"{m.input_size}→{m.hidden_size}" + (f", {m.num_layers} layers" if m.num_layers > 1 else "")


@register_rule(nn.RNNCellBase)
class RecurrentCellRule(_Mixing):
    category = "recurrent"
    weight_layer = True

    def params(self, m: nn.Module) -> str | None:
        g = {nn.RNNCell: 1, nn.LSTMCell: 4, nn.GRUCell: 3}.get(type(m))
        if g is None:
            return None
        h, i = m.hidden_size, m.input_size
        body = f"{h}·({i} + {h}) + 2·{h}" if m.bias else f"{h}·({i} + {h})"
        value = g * (h * (i + h) + 2 * h * m.bias)
        return _equals(body if g == 1 else f"{g}·({body})", value)


@register_rule(nn.Embedding)
class EmbeddingRule(_Mixing):
    def params(self, m: nn.Module) -> str | None:
        return _equals(f"{m.num_embeddings}·{m.embedding_dim}", m.num_embeddings * m.embedding_dim)


@register_rule(Concat)
class ConcatRule(Rule):
    """The zoo's concatenation module: its ``torch.cat`` is followed (the union of the paths)."""

    def macs(self, m: nn.Module, inp: Shape, out: Shape) -> int | None:
        return 0


# ---------------------------------------------------------------------------------------------------------------
# Torch functions met in custom forward passes: the same steps, read from the call's arguments
# ---------------------------------------------------------------------------------------------------------------
def _bind(fn: Callable[..., None], args: tuple, kwargs: dict) -> dict[str, Any]:
    bound = inspect.signature(fn).bind(*args, **kwargs)
    bound.apply_defaults()
    return bound.arguments


def _conv_sig(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1): ...  # noqa: E704
def _conv_t_sig(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1): ...  # noqa: E501, E704
def _max_pool_sig(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False): ...  # noqa: E501, E704
def _avg_pool_sig(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,  # noqa: E704
                  divisor_override=None): ...
def _adaptive_sig(input, output_size, *rest, **kw): ...  # noqa: E704
def _cat_sig(tensors, dim=0, *rest, **kw): ...  # noqa: E704
def _interpolate_sig(input, size=None, scale_factor=None, mode="nearest", align_corners=None,  # noqa: E704
                     recompute_scale_factor=None, antialias=False): ...


@dataclass(frozen=True)
class Call:
    """One torch function call as the receptive-field tracker sees it."""

    name: str
    args: tuple
    kwargs: dict
    sources: list[State]  # the fields of its tracked tensor arguments, in order
    state_of: Callable[[Any], State]  # the field of one argument (None if untracked)
    spatial_dims: int
    result: torch.Tensor


@dataclass(frozen=True)
class FunctionRule:
    step: Callable[[Call], State]
    weight_layer: bool = False


def _conv_fn(c: Call) -> State:
    a = _bind(_conv_sig, c.args, c.kwargs)
    return window(c.state_of(a["input"]), tuple(a["weight"].shape[2:]), a["stride"], a["padding"], a["dilation"])


def _conv_t_fn(c: Call) -> State:
    a = _bind(_conv_t_sig, c.args, c.kwargs)
    return transposed(c.state_of(a["input"]), tuple(a["weight"].shape[2:]), a["stride"], a["padding"], a["dilation"])


def _max_pool_fn(c: Call) -> State:
    a = _bind(_max_pool_sig, c.args, c.kwargs)
    return window(c.sources[0], a["kernel_size"], a["stride"] or a["kernel_size"], a["padding"], a["dilation"])


def _avg_pool_fn(c: Call) -> State:
    a = _bind(_avg_pool_sig, c.args, c.kwargs)
    return window(c.sources[0], a["kernel_size"], a["stride"] or a["kernel_size"], a["padding"])


def _adaptive_fn(c: Call) -> State:
    a = _bind(_adaptive_sig, c.args, c.kwargs)
    src = c.sources[0]
    if not isinstance(src, tuple):
        return src
    return adaptive(src, tuple(a["input"].shape[-len(src):]), a["output_size"])


def _cat_fn(c: Call) -> State:
    a = _bind(_cat_sig, c.args, c.kwargs)
    ndim = a["tensors"][0].dim()
    dim = a["dim"] % (ndim + (c.name == "stack"))
    if dim >= ndim - c.spatial_dims and all(isinstance(s, tuple) for s in c.sources):
        return UNSUPPORTED  # joined along a spatial axis
    return merge(c.sources)


def _interpolate_fn(c: Call) -> State:
    a = _bind(_interpolate_sig, c.args, c.kwargs)
    src = c.state_of(a["input"])
    scales = _whole_scales(tuple(a["input"].shape), tuple(c.result.shape))
    if not isinstance(src, tuple) or scales is None or a["antialias"]:
        return src if not isinstance(src, tuple) else UNSUPPORTED
    if a["scale_factor"] is not None and _pair(a["scale_factor"], len(scales)) != scales:
        return UNSUPPORTED
    return upsample(src, scales, a["mode"], a["align_corners"])


def _elementwise_fn(c: Call) -> State:
    return merge(c.sources)


def _mixing_fn(c: Call) -> State:
    return mixing(c.sources)


# Element-wise operations (and channel-wise normalisations): each output unit sees what the same input unit sees.
ELEMENTWISE = (
    "relu", "relu_", "relu6", "hardtanh", "hardtanh_", "sigmoid", "sigmoid_", "tanh", "tanh_", "gelu", "silu",
    "leaky_relu", "leaky_relu_", "elu", "elu_", "hardswish", "hardsigmoid", "mish", "softplus", "dropout",
    "dropout2d", "dropout1d", "dropout3d", "alpha_dropout", "feature_alpha_dropout", "batch_norm", "instance_norm",
    "empty_like", "zeros_like", "ones_like", "clone", "contiguous", "detach", "to", "float", "double", "half",
    "abs", "neg", "exp", "log", "sqrt", "pow", "__pow__", "clamp", "clamp_", "clamp_min", "clamp_min_",
    "add", "add_", "__add__", "__radd__", "__iadd__", "sub", "sub_", "__sub__", "__rsub__", "__isub__",
    "mul", "mul_", "__mul__", "__rmul__", "__imul__", "div", "div_", "__truediv__", "__itruediv__",
    "maximum", "minimum", "where", "type_as",
)
# Operations that mix the spatial axes into features: their units have no receptive field of their own.
MIXING = ("flatten", "view", "reshape", "linear", "matmul", "__matmul__", "mm", "bmm", "addmm", "mean", "sum",
          "amax", "max", "unflatten", "permute", "transpose", "squeeze", "unsqueeze",
          "new_empty")  # new_empty: the meta stand-in for a recurrent layer (every step mixes the sequence)

FUNCTIONS: dict[str, FunctionRule] = {
    **{name: FunctionRule(_elementwise_fn) for name in ELEMENTWISE},
    **{name: FunctionRule(_mixing_fn, weight_layer=name == "linear") for name in MIXING},
    **{name: FunctionRule(_cat_fn) for name in ("cat", "concat", "concatenate", "stack")},
    "interpolate": FunctionRule(_interpolate_fn),
}
for _n in (1, 2, 3):
    FUNCTIONS[f"conv{_n}d"] = FunctionRule(_conv_fn, weight_layer=True)
    FUNCTIONS[f"conv_transpose{_n}d"] = FunctionRule(_conv_t_fn, weight_layer=True)
    FUNCTIONS[f"max_pool{_n}d"] = FUNCTIONS[f"max_pool{_n}d_with_indices"] = FunctionRule(_max_pool_fn)
    FUNCTIONS[f"avg_pool{_n}d"] = FunctionRule(_avg_pool_fn)
    for _kind in ("adaptive_avg_pool", "adaptive_max_pool", "adaptive_max_pool_with_indices"):
        FUNCTIONS[_kind.replace("pool", f"pool{_n}d")] = FunctionRule(_adaptive_fn)


def function_rule(name: str) -> FunctionRule | None:
    """The receptive-field rule of a torch function (by ``__name__``), or ``None``: unsupported."""
    return FUNCTIONS.get(name)


__all__ = [
    "FOLLOW", "FUNCTIONS", "NONSPATIAL", "UNSUPPORTED", "UNSUPPORTED_RULE", "Call", "FunctionRule", "Rule",
    "adaptive", "category", "function_rule", "register_rule", "rule_for", "shape_arithmetic", "transposed",
    "unregister_rule", "upsample", "window", "window_formula",
]
