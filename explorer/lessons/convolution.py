"""Watch a convolution compute: one unit of a trained network's feature map, multiplication by multiplication.

For a zoo network with weights and an input, :func:`trace_convolutions` runs the real forward pass on a private copy
of the model (the shared, cached model that serves inference is never hooked) and keeps, for every ``Conv2d``, what
it read and what it wrote, and what the network does to that output next when those are layer modules: batch norm,
the activation, the pooling that consumes it.

:func:`walkthrough` then takes one unit — out channel ``c``, row ``i``, column ``j`` — apart: the input window it
reads (stride, padding and dilation applied; padded positions are zeros and marked), the kernel per input channel,
the element-wise products, their sum, plus the bias: the unit's value, equal to the real forward pass's output.
Then the same unit through BatchNorm (the affine formula with its running mean and variance), the activation, and
the pooling window that consumes it. The unit's receptive field on the input image comes from the analysis' field
engine (:class:`explorer.analysis.field.Axis`), not from a computation of its own.

A 1×1 convolution is the notes' per-pixel fully connected layer: :func:`pointwise` shows it as a C_out × C_in
matrix applied to every pixel's channel vector. :func:`ranked_maps` orders a layer's channels by their mean (or
max) activation and gives one colour range for the whole layer, so that the maps can share a colour bar.
"""

from __future__ import annotations

import copy
import functools
import math
import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ..analysis import Summary, analyze
from ..analysis.field import Axis
from ..i18n import N_, InvalidValue, gettext
from ..runtime import inference
from ..zoo import get_spec

BATCHNORMS = (nn.BatchNorm2d,)
ACTIVATION_FORMULAS = {  # module type → how the step is written
    nn.ReLU: "ReLU(x) = max(0, x)",
    nn.ReLU6: "ReLU6(x) = min(max(0, x), 6)",
    nn.Sigmoid: "sigmoid(x) = 1 / (1 + e^(−x))",
    nn.Tanh: "tanh(x)",
    nn.LeakyReLU: "LeakyReLU(x) = x if x ≥ 0 else slope·x",
    nn.GELU: "GELU(x) = x·Φ(x)",
}
POOLINGS = (nn.MaxPool2d, nn.AvgPool2d, nn.AdaptiveMaxPool2d, nn.AdaptiveAvgPool2d)
STEPS = (N_("window"), N_("products"), N_("sum + bias"), N_("batch norm"), N_("activation"), N_("pooling"))
RANKINGS = (N_("mean"), N_("max"))  # marked: the pages show them translated


class WalkthroughError(InvalidValue):
    """The walkthrough cannot follow this layer or unit; the message is one sentence naming why."""


# --- the network's convolutions -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ConvLayer:
    """One ``Conv2d`` of a network, as the walkthrough reads it."""

    name: str  # module path (state_dict prefix)
    label: str  # display label (conv1, conv3_2, res3a/conv1)
    in_channels: int
    out_channels: int
    kernel_size: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int]  # rows, columns added on each side
    dilation: tuple[int, int]
    groups: int
    input_shape: tuple[int, int, int]  # C×H×W the layer reads
    output_shape: tuple[int, int, int]  # C×H×W it writes
    field: tuple[Axis, Axis] | None  # receptive field of its output units in input pixels (rows, columns)

    @property
    def title(self) -> str:
        return self.label if self.label == self.name else f"{self.label} ({self.name})"

    @property
    def pointwise(self) -> bool:
        """A 1×1 convolution: a fully connected layer applied at every pixel."""
        return self.kernel_size == (1, 1)


def _conv_padding(conv: nn.Conv2d) -> tuple[int, int]:
    if isinstance(conv.padding, str):  # "valid" or "same" (stride 1): PyTorch pads d·(k−1) in all, the left half first
        if conv.padding == "valid":
            return 0, 0
        return tuple(d * (k - 1) // 2 for k, d in zip(conv.kernel_size, conv.dilation))  # type: ignore[return-value]
    return tuple(conv.padding)  # type: ignore[return-value]


@functools.lru_cache(maxsize=16)
def conv_layers(model_id: str, input_shape: tuple[int, ...] | None = None) -> tuple[ConvLayer, ...]:
    """Every ``Conv2d`` of ``model_id`` in execution order (first call of each), with its display label, shapes and
    receptive field, from the analysis on the meta device."""
    summary = _analysis(model_id, input_shape)
    built = _meta_modules(model_id)
    out: list[ConvLayer] = []
    seen: set[str] = set()
    for record in summary.layers:
        if record.type != "Conv2d" or record.name in seen or record.input_shape is None:
            continue
        seen.add(record.name)
        conv = built[record.name]
        out.append(ConvLayer(
            name=record.name, label=record.label or record.name,
            in_channels=conv.in_channels, out_channels=conv.out_channels,
            kernel_size=tuple(conv.kernel_size), stride=tuple(conv.stride), padding=_conv_padding(conv),
            dilation=tuple(conv.dilation), groups=conv.groups,
            input_shape=tuple(record.input_shape[1:]), output_shape=tuple(record.output_shape[1:]),
            field=tuple(record.field) if record.field is not None and len(record.field) == 2 else None,
        ))
    return tuple(out)


@functools.lru_cache(maxsize=16)
def _analysis(model_id: str, input_shape: tuple[int, ...] | None) -> Summary:
    return analyze(model_id, input_shape)


def _meta_modules(model_id: str) -> dict[str, nn.Module]:
    with torch.device("meta"):
        model = get_spec(model_id).build()
    return dict(model.named_modules())


def module_label(model_id: str, name: str, input_shape: tuple[int, ...] | None = None) -> str:
    """The display label of module path ``name`` (relu1, pool2, res3a/bn1), or the path where none is known."""
    return next((r.label for r in _analysis(model_id, input_shape).layers if r.name == name and r.label), name)


def layer_named(model_id: str, name: str, input_shape: tuple[int, ...] | None = None) -> ConvLayer:
    for layer in conv_layers(model_id, input_shape):
        if layer.name == name or layer.label == name:
            return layer
    names = ", ".join(layer.label for layer in conv_layers(model_id, input_shape))
    raise WalkthroughError(N_("{model} has no convolution named {name}; its convolutions: {names}"),
        model=model_id, name=repr(name), names=names)


def unit_field(layer: ConvLayer, row: int, col: int) -> tuple[tuple[int, int], tuple[int, int]] | None:
    """The input pixels (rows [r0, r1), columns [c0, c1)) unit (row, col) of ``layer``'s output depends on — the
    field engine's interval, unclipped (it may reach into the padding)."""
    if layer.field is None:
        return None
    return layer.field[0].interval(row), layer.field[1].interval(col)


# --- the traced forward pass ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class FollowStep:
    """A layer module applied to a convolution's output (directly or through the previous steps)."""

    name: str
    module: nn.Module
    output: torch.Tensor  # C×H×W as it left the module (a copy: later in-place operations do not change it)


@dataclass(frozen=True)
class ConvRecord:
    layer: ConvLayer
    module: nn.Conv2d
    input: torch.Tensor  # C_in×H×W as the convolution read it
    output: torch.Tensor  # C_out×H'×W' as it wrote it
    after: tuple[FollowStep, ...]  # batch norm → activation → pooling, as far as they are layer modules
    next: str | None  # the layer module that reads the last of those outputs next (None: the model's own code does)


@dataclass(frozen=True)
class Trace:
    """One real forward pass of ``model_id`` on ``input`` with every convolution recorded."""

    model_id: str
    input: torch.Tensor  # C×H×W, as the network received it
    convs: dict[str, ConvRecord]
    logits: torch.Tensor

    def record(self, name: str) -> ConvRecord:
        """The convolution at module path ``name``, or with display label ``name`` (conv1, res3a/conv1)."""
        if name in self.convs:
            return self.convs[name]
        for rec in self.convs.values():
            if rec.layer.label == name:
                return rec
        if name not in self.convs:
            known = ", ".join(r.layer.label for r in self.convs.values())
            raise WalkthroughError(N_("{model} has no convolution named {name}; its convolutions: {names}"),
                model=self.model_id, name=repr(name), names=known)
        return self.convs[name]


_PRIVATE_COPIES: OrderedDict[str, tuple[nn.Module, threading.Lock]] = OrderedDict()
_PRIVATE_COPIES_LOCK = threading.Lock()
_PRIVATE_COPIES_KEPT = 2  # ImageNet models are hundreds of MB: keep the last two only


def _private_copy(model_id: str) -> tuple[nn.Module, threading.Lock]:
    """This module's own CPU copy of the trained model (deep-copied from the shared one under its lock)."""
    with _PRIVATE_COPIES_LOCK:
        if model_id in _PRIVATE_COPIES:
            _PRIVATE_COPIES.move_to_end(model_id)
            return _PRIVATE_COPIES[model_id]
    shared = inference.load(model_id, "cpu")
    with shared.lock:
        module = copy.deepcopy(shared.module)
    with _PRIVATE_COPIES_LOCK:
        entry = _PRIVATE_COPIES.setdefault(model_id, (module.eval(), threading.Lock()))
        _PRIVATE_COPIES.move_to_end(model_id)
        while len(_PRIVATE_COPIES) > _PRIVATE_COPIES_KEPT:
            _PRIVATE_COPIES.popitem(last=False)
        return entry


def _follows(module: nn.Module) -> bool:
    return isinstance(module, BATCHNORMS + POOLINGS) or type(module) in ACTIVATION_FORMULAS


def trace_convolutions(model_id: str, x: torch.Tensor) -> Trace:
    """Run ``model_id`` (trained weights, CPU) on ``x`` (C×H×W) and record every convolution and what follows it.

    Raises :class:`explorer.runtime.inference.NoWeights` for a model without weights."""
    if x.dim() != 3:
        shape = "×".join(map(str, x.shape))
        raise WalkthroughError(N_("the input must be C×H×W, not {shape}"), shape=shape)
    layers = {layer.name: layer for layer in conv_layers(model_id, tuple(x.shape))}
    model, lock = _private_copy(model_id)
    names = {id(m): n for n, m in model.named_modules()}
    convs: dict[str, dict] = {}
    chains: dict[int, tuple[str, torch.Tensor]] = {}  # id of a tensor at a chain's end → (conv name, tensor)

    def hook(module: nn.Module, args: tuple, out: torch.Tensor) -> None:
        name = names.get(id(module), "")
        if not args or not isinstance(args[0], torch.Tensor) or not isinstance(out, torch.Tensor):
            return
        inp = args[0]
        owner = chains.pop(id(inp), None)
        if isinstance(module, nn.Conv2d) and name in layers and name not in convs:
            convs[name] = {"module": module, "input": inp[0].detach().clone(), "output": out[0].detach().clone(),
                           "after": [], "next": None}
            chains[id(out)] = (name, out)
        if owner is None:
            return
        conv_name, _ = owner
        if not _follows(module):
            convs[conv_name]["next"] = name
            return
        steps = convs[conv_name]["after"]
        steps.append(FollowStep(name, module, out[0].detach().clone()))
        if not isinstance(module, POOLINGS):  # the chain ends at the pooling that consumes the unit
            chains[id(out)] = (conv_name, out)

    handles = [m.register_forward_hook(hook) for m in model.modules() if next(m.children(), None) is None]
    try:
        with lock, torch.inference_mode():
            logits = model(x[None].float())
    finally:
        for h in handles:
            h.remove()
    records = {
        name: ConvRecord(layers[name], c["module"], c["input"], c["output"], tuple(c["after"]), c["next"])
        for name, c in sorted(convs.items(), key=lambda kv: list(layers).index(kv[0]))
    }
    return Trace(model_id, x.detach().clone(), records, logits[0].detach().clone())


# --- one unit, step by step -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Step:
    """One operation after the convolution, on the unit's value: ``value_in`` → ``value`` by ``formula``."""

    kind: str  # "batch norm", "activation"
    name: str  # module path
    label: str  # its display label (bn1, relu1, sigmoid1)
    formula: str  # with the numbers written in
    value_in: float
    value: float  # computed here from value_in
    forward: float  # the real forward pass's output at the unit


@dataclass(frozen=True)
class PoolStep:
    """The pooling window that consumes the unit: which pooled unit, the window in the pooling input, its values."""

    name: str
    label: str
    mode: str  # "max" or "avg"
    unit: tuple[int, int]  # pooled (row, col)
    rows: tuple[int, ...]  # input rows of the window (may be outside: padding)
    cols: tuple[int, ...]
    values: np.ndarray  # len(rows) × len(cols): −inf (max) or 0 (avg) on padding
    padded: np.ndarray  # bool, same shape
    value: float  # max / average computed here
    forward: float  # the real pooled output
    divisor: int  # the average's divisor (window size, or real positions only)
    formula: str


@dataclass(frozen=True)
class Walkthrough:
    layer: ConvLayer
    channel: int
    row: int
    col: int
    rows: tuple[int, ...]  # input row read by each kernel row (stride, padding, dilation applied)
    cols: tuple[int, ...]
    window: np.ndarray  # C_in × kh × kw values read (0 on padding)
    padded: np.ndarray  # kh × kw, True where the window reads padding
    kernel: np.ndarray  # C_in × kh × kw weights of out channel ``channel``
    products: np.ndarray  # window · kernel, element-wise
    channel_sums: np.ndarray  # C_in: the products summed per input channel
    total: float  # Σ products
    bias: float
    value: float  # total + bias: the unit's pre-activation value, computed here
    forward: float  # the real forward pass's convolution output at the unit
    steps: tuple[Step, ...]  # batch norm → activation (as far as the network applies them as modules)
    pooling: PoolStep | None
    field: tuple[tuple[int, int], tuple[int, int]] | None  # the unit's receptive field (rows, cols) in input pixels
    stops: str  # what happens after the last step shown, in one sentence
    layer_input: np.ndarray  # C_in × H × W: the whole map the layer reads (the window's surroundings)

    @property
    def final(self) -> float:
        """The unit's value after every step shown (the pooled value where a pooling consumes it)."""
        if self.pooling is not None:
            return self.pooling.value
        return self.steps[-1].value if self.steps else self.value


def _taps(n_out: int, position: int, k: int, s: int, p: int, d: int) -> tuple[int, ...]:
    if not 0 <= position < n_out:
        raise WalkthroughError(N_("position {position} is outside the layer's output (0 … {last})"),
            position=position, last=n_out - 1)
    return tuple(position * s - p + t * d for t in range(k))


def _bn_step(name: str, label: str, bn: nn.BatchNorm2d, c: int, v: float, forward: float) -> Step:
    gamma = float(bn.weight[c]) if bn.weight is not None else 1.0
    beta = float(bn.bias[c]) if bn.bias is not None else 0.0
    if bn.running_mean is None or bn.running_var is None:
        return Step("batch norm", name, label,
                    gettext("normalised with the batch's own statistics (no running statistics)"),
                    v, forward, forward)
    mean, var = float(bn.running_mean[c]), float(bn.running_var[c])
    out = (v - mean) / math.sqrt(var + bn.eps) * gamma + beta
    formula = (f"(x − μ) / √(σ² + ε) · γ + β = ({v:.4f} − {mean:.4f}) / √({var:.4f} + {bn.eps:g}) · {gamma:.4f} "
               f"+ {beta:.4f} = {out:.4f}")
    return Step("batch norm", name, label, formula, v, out, forward)


def _activation_step(name: str, label: str, module: nn.Module, v: float, forward: float) -> Step:
    out = float(module(torch.tensor([v], dtype=torch.float64))[0])
    return Step("activation", name, label, f"{ACTIVATION_FORMULAS[type(module)]}: {v:.4f} → {out:.4f}", v, out, forward)


def _pool_geometry(module: nn.Module, n_in: int, n_out: int, axis: int) -> list[tuple[int, ...]]:
    """For each pooled unit along one axis, the input positions its window reads (outside [0, n_in): padding)."""
    if isinstance(module, (nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d)):
        return [tuple(range(math.floor(p * n_in / n_out), math.ceil((p + 1) * n_in / n_out))) for p in range(n_out)]

    def pick(v):
        return v[axis] if isinstance(v, (tuple, list)) else v

    k, s, p = pick(module.kernel_size), pick(module.stride or module.kernel_size), pick(module.padding)
    d = pick(getattr(module, "dilation", 1))
    return [tuple(q * s - p + t * d for t in range(k)) for q in range(n_out)]


def _pool_step(name: str, label: str, module: nn.Module, fmap: torch.Tensor, out: torch.Tensor, c: int, i: int,
               j: int) -> PoolStep | str:
    h, w = fmap.shape[-2:]
    oh, ow = out.shape[-2:]
    row_windows = _pool_geometry(module, h, oh, 0)
    col_windows = _pool_geometry(module, w, ow, 1)
    pi = next((q for q, rows in enumerate(row_windows) if i in rows), None)
    pj = next((q for q, cols in enumerate(col_windows) if j in cols), None)
    if pi is None or pj is None:
        what = gettext("row {i}").format(i=i) if pi is None else gettext("column {j}").format(j=j)
        return gettext("{label} reads no window containing {what}: the floor in its output size drops it").format(
            label=label, what=what)
    rows, cols = row_windows[pi], col_windows[pj]
    mode = N_("max") if isinstance(module, (nn.MaxPool2d, nn.AdaptiveMaxPool2d)) else N_("avg")
    padded = np.array([[not (0 <= r < h and 0 <= q < w) for q in cols] for r in rows])
    fill = -np.inf if mode == "max" else 0.0
    grid = fmap[c].double().numpy()
    values = np.array([[grid[r, q] if 0 <= r < h and 0 <= q < w else fill for q in cols] for r in rows])
    if mode == "max":
        value, divisor = float(values.max()), 1
        formula = gettext("max of the {n} values = {value}").format(n=values.size, value=f"{value:.4f}")
    else:
        include = getattr(module, "count_include_pad", True) and not isinstance(module, nn.AdaptiveAvgPool2d)
        divisor = values.size if include else int((~padded).sum())
        if getattr(module, "divisor_override", None):
            divisor = int(module.divisor_override)
        value = float(values.sum()) / divisor
        formula = gettext("sum {total} / {divisor} = {value}").format(
            total=f"{values.sum():.4f}", divisor=divisor, value=f"{value:.4f}")
    return PoolStep(name, label, mode, (pi, pj), rows, cols, values, padded, value, float(out[c, pi, pj]), divisor,
                    formula)


def walkthrough(tr: Trace, layer: str, channel: int, row: int, col: int) -> Walkthrough:
    """Unit (``channel``, ``row``, ``col``) of convolution ``layer`` (path or label) in ``tr``, step by step."""
    rec = tr.record(layer)
    lay, conv = rec.layer, rec.module
    if lay.groups != 1:
        raise WalkthroughError(
            N_("{title} is a grouped convolution (groups={groups}): the walkthrough follows groups=1 only"),
            title=lay.title, groups=lay.groups)
    if getattr(conv, "padding_mode", "zeros") != "zeros":
        raise WalkthroughError(N_("{title} pads with {mode!r}: the walkthrough follows zero padding"),
            title=lay.title, mode=conv.padding_mode)
    c_out, h_out, w_out = rec.output.shape
    if not 0 <= channel < c_out:
        raise WalkthroughError(N_(
            "channel {channel} is outside {title}'s {n} output channels (0 … {last})"),
            channel=channel, title=lay.title, n=c_out, last=c_out - 1)
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = lay.kernel_size, lay.stride, lay.padding, lay.dilation
    rows = _taps(h_out, row, kh, sh, ph, dh)
    cols = _taps(w_out, col, kw, sw, pw, dw)
    x = rec.input.double().numpy()
    _, h, w = x.shape
    padded = np.array([[not (0 <= r < h and 0 <= q < w) for q in cols] for r in rows])
    window = np.zeros((x.shape[0], kh, kw))
    for a, r in enumerate(rows):
        for b, q in enumerate(cols):
            if not padded[a, b]:
                window[:, a, b] = x[:, r, q]
    kernel = conv.weight[channel].detach().double().numpy()
    products = window * kernel
    channel_sums = products.sum(axis=(1, 2))
    total = float(products.sum())
    bias = float(conv.bias[channel]) if conv.bias is not None else 0.0
    value = total + bias

    steps: list[Step] = []
    pooling: PoolStep | None = None
    stops = ""
    v = value
    previous = rec.output
    for step in rec.after:
        module = step.module
        forward = float(step.output[channel, row, col]) if not isinstance(module, POOLINGS) else float("nan")
        label = module_label(tr.model_id, step.name, tuple(tr.input.shape))
        if isinstance(module, BATCHNORMS):
            s = _bn_step(step.name, label, module, channel, v, forward)
        elif type(module) in ACTIVATION_FORMULAS:
            s = _activation_step(step.name, label, module, v, forward)
        else:
            found = _pool_step(step.name, label, module, previous, step.output, channel, row, col)
            if isinstance(found, str):
                stops = found
            else:
                pooling = found
            break
        steps.append(s)
        v = s.value
        previous = step.output
    if not stops:
        shape = tuple(tr.input.shape)
        last = module_label(tr.model_id, pooling.name if pooling else steps[-1].name if steps else lay.name, shape)
        if pooling is not None:
            stops = gettext("{last}'s output goes on to the next layer").format(last=last)
        elif rec.next is not None:
            stops = gettext("{last}'s output goes on to {next}").format(
                last=last, next=module_label(tr.model_id, rec.next, shape))
        else:
            stops = gettext("{last}'s output goes on in the model's own code, not through a layer module (in a "
                            "residual block: added to the shortcut before the block's last activation)"
                            ).format(last=last)
    return Walkthrough(
        layer=lay, channel=channel, row=row, col=col, rows=rows, cols=cols, window=window, padded=padded,
        kernel=kernel, products=products, channel_sums=channel_sums, total=total, bias=bias, value=value,
        forward=float(rec.output[channel, row, col]), steps=tuple(steps), pooling=pooling,
        field=unit_field(lay, row, col), stops=stops, layer_input=x,
    )


# --- a 1×1 convolution is a fully connected layer at every pixel ------------------------------------------------------
@dataclass(frozen=True)
class Pointwise:
    layer: ConvLayer
    matrix: np.ndarray  # C_out × C_in
    bias: np.ndarray  # C_out
    row: int
    col: int
    pixel: np.ndarray  # C_in: the input's channel vector the output pixel (row, col) reads
    result: np.ndarray  # C_out: matrix · pixel + bias
    forward: np.ndarray  # C_out: the real convolution output at (row, col)
    everywhere: np.ndarray  # C_out × H' × W': the matrix applied to every pixel the convolution reads


def pointwise(tr: Trace, layer: str, row: int = 0, col: int = 0) -> Pointwise:
    """A 1×1 convolution as the per-pixel fully connected layer: W (C_out × C_in) applied to every pixel's vector."""
    rec = tr.record(layer)
    lay, conv = rec.layer, rec.module
    if not lay.pointwise:
        kh, kw = lay.kernel_size
        raise WalkthroughError(N_(
            "{title} is a {kh}×{kw} convolution, not 1×1: it mixes neighbouring pixels too"),
            title=lay.title, kh=kh, kw=kw)
    if lay.groups != 1:
        raise WalkthroughError(
            N_("{title} is a grouped convolution (groups={groups}): the walkthrough follows groups=1 only"),
            title=lay.title, groups=lay.groups)
    matrix = conv.weight.detach().double().numpy()[:, :, 0, 0]
    bias = conv.bias.detach().double().numpy() if conv.bias is not None else np.zeros(matrix.shape[0])
    (sh, sw), (ph, pw) = lay.stride, lay.padding
    x = np.pad(rec.input.double().numpy(), ((0, 0), (ph, ph), (pw, pw)))
    _, h_out, w_out = rec.output.shape
    sampled = x[:, ::sh, ::sw][:, :h_out, :w_out]
    everywhere = np.tensordot(matrix, sampled, axes=1) + bias[:, None, None]
    _taps(h_out, row, 1, 1, 0, 1)
    _taps(w_out, col, 1, 1, 0, 1)
    pixel = sampled[:, row, col]
    return Pointwise(lay, matrix, bias, row, col, pixel, matrix @ pixel + bias,
                     rec.output[:, row, col].double().numpy(), everywhere)


# --- feature maps that teach ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RankedMaps:
    layer: ConvLayer
    stage: str  # which tensor: "conv1 → bn → relu" (after the activation where there is one)
    by: str  # "mean" or "max"
    channels: tuple[int, ...]  # channel indices, strongest first (at most ``top``)
    scores: tuple[float, ...]  # their mean (or max) activation
    maps: np.ndarray  # len(channels) × H × W, in that order
    zmin: float  # one colour range for the whole layer (every channel, not only those shown)
    zmax: float


def activation_of(tr: Trace, layer: str) -> tuple[torch.Tensor, str]:
    """The layer's output after what follows it as modules, up to (not including) the pooling: the feature map a
    learner reads (C×H×W), and its path written as ``conv1 → bn1 → relu1``."""
    rec = tr.record(layer)
    out, stage = rec.output, [rec.layer.label]
    for step in rec.after:
        if isinstance(step.module, POOLINGS):
            break
        out = step.output
        stage.append(module_label(tr.model_id, step.name, tuple(tr.input.shape)))
    return out, " → ".join(stage)


def ranked_maps(tr: Trace, layer: str, by: str = "mean", top: int = 16) -> RankedMaps:
    """The channels of ``layer`` (after its activation) ranked by mean or max activation, the top ``top`` first,
    with the layer's overall value range for one shared colour scale."""
    if by not in RANKINGS:
        raise WalkthroughError(N_("unknown ranking {by}; known: {rankings}"), by=repr(by), rankings=", ".join(RANKINGS))
    rec = tr.record(layer)
    fmap, stage = activation_of(tr, rec.layer.name)
    values = fmap.double()
    scores = values.mean(dim=(1, 2)) if by == "mean" else values.amax(dim=(1, 2))
    order = torch.argsort(scores, descending=True, stable=True)[:max(1, top)]
    return RankedMaps(
        layer=rec.layer, stage=stage, by=by, channels=tuple(int(c) for c in order),
        scores=tuple(float(scores[c]) for c in order), maps=values[order].numpy(),
        zmin=float(values.min()), zmax=float(values.max()),
    )
