"""Practice: predict a layer's output shape, parameters, MACs or receptive field — then see why.

Retrieval practice (Roediger & Karpicke, "Test-Enhanced Learning", Psychological Science 2006): answering beats
re-reading. Every item asks about one real layer — of a zoo model, or of a random but valid stack drawn here (plain
convolutions and pools, the notes' VGG blocks, NiN blocks, Inception paths, residual blocks with and without a 1×1
shortcut) — and every answer is what :func:`explorer.analyze` computes, never a typed-in number.

Each item carries ``code``: a d2l-style snippet binding ``net``, an ``nn.Sequential`` whose last element is the asked
layer and whose earlier elements feed it, so anyone can check the answer with PyTorch alone (``net(X).shape``, the
last layer's ``numel()``s, torchinfo's MACs, the gradient of a centre unit). The layers are written from one
description per module type (:func:`layer_spec`) that both builds the module and writes its code.

A wrong answer is compared with the numbers the usual slips give (padding or bias forgotten, the output size taken
for the receptive field, MACs counted for a batch): where one matches, it is named.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from ..analysis import InputShapeError, LayerRecord, PartialSummary, Summary, analyze
from ..analysis import smallest_input as zoo_smallest_input
from ..analysis.meta import build_meta
from ..i18n import N_, InvalidValue, Message, render
from ..zoo.registry import get_spec, list_models
from .answers import Count, parse_count, parse_field, parse_shape, parse_side

QUESTION_KINDS = ("shape", "params", "macs", "rf", "smallest", "fails")
DEFAULT_KINDS = ("shape", "params", "macs", "rf")
QUESTION_KIND_NAMES = {
    "shape": N_("output shape"), "params": N_("parameters"), "macs": N_("MACs"),
    "rf": N_("receptive field (size / stride)"), "smallest": N_("smallest input"),
    "fails": N_("which layer fails at this input"), "count": N_("count"),
}
GENERATED = "generated"
ROUNDED_DIGITS = 2  # MAC counts of a million and more may be given to this many significant figures
PATTERNS = {
    "stack": N_("stack of convolutions and pools"), "vgg": N_("VGG block"), "nin": N_("NiN block"),
    "inception": N_("Inception block's path"), "residual": N_("residual block"),
    "residual-1x1": N_("residual block with a 1×1 shortcut"),
}


# ---------------------------------------------------------------------------------------------------------------
# One description per module type: it builds the module and writes its d2l-style code
# ---------------------------------------------------------------------------------------------------------------
def _sq(v: Any) -> Any:
    """(3, 3) → 3 for code that reads like d2l's; a non-square pair stays a tuple."""
    if isinstance(v, (tuple, list)):
        v = tuple(int(x) for x in v)
        return v[0] if len(set(v)) == 1 else v
    return v


def layer_spec(module: nn.Module) -> tuple[str, dict[str, Any]] | None:
    """``(type name, constructor arguments)`` that rebuild ``module`` (same shapes, parameters, MACs, field), or
    ``None`` for a type this module does not write (a custom block)."""
    t = type(module)
    if t is nn.Conv2d:
        if isinstance(module.padding, str) or module.padding_mode != "zeros":
            return None
        args = {"in_channels": module.in_channels, "out_channels": module.out_channels,
                "kernel_size": _sq(module.kernel_size), "stride": _sq(module.stride),
                "padding": _sq(module.padding), "dilation": _sq(module.dilation), "groups": module.groups,
                "bias": module.bias is not None}
        return "Conv2d", args
    if t is nn.Linear:
        return "Linear", {"in_features": module.in_features, "out_features": module.out_features,
                          "bias": module.bias is not None}
    if t is nn.MaxPool2d:
        return "MaxPool2d", {"kernel_size": _sq(module.kernel_size), "stride": _sq(module.stride),
                             "padding": _sq(module.padding), "dilation": _sq(module.dilation),
                             "ceil_mode": module.ceil_mode}
    if t is nn.AvgPool2d:
        return "AvgPool2d", {"kernel_size": _sq(module.kernel_size), "stride": _sq(module.stride),
                             "padding": _sq(module.padding), "ceil_mode": module.ceil_mode}
    if t in (nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d):
        return t.__name__, {"output_size": _sq(module.output_size)}
    if t is nn.BatchNorm2d:
        return "BatchNorm2d", {"num_features": module.num_features, "affine": module.affine}
    if t is nn.Flatten:
        return "Flatten", {"start_dim": module.start_dim, "end_dim": module.end_dim}
    if t is nn.Dropout:
        return "Dropout", {"p": module.p}
    if t is nn.LocalResponseNorm:
        return "LocalResponseNorm", {"size": module.size, "alpha": module.alpha, "beta": module.beta, "k": module.k}
    if t in (nn.ReLU, nn.Sigmoid, nn.Tanh, nn.Identity):
        return t.__name__, {}
    return None


# Arguments left out of the code when they have their default (d2l's style: nn.Conv2d(96, 256, kernel_size=5,
# padding=2)); the first ones of each type are written positionally.
_DEFAULTS = {
    "Conv2d": ({"stride": 1, "padding": 0, "dilation": 1, "groups": 1, "bias": True}, 2),
    "Linear": ({"bias": True}, 2),
    "MaxPool2d": ({"padding": 0, "dilation": 1, "ceil_mode": False}, 0),
    "AvgPool2d": ({"padding": 0, "ceil_mode": False}, 0),
    "AdaptiveAvgPool2d": ({}, 1),
    "AdaptiveMaxPool2d": ({}, 1),
    "BatchNorm2d": ({"affine": True}, 1),
    "Flatten": ({"start_dim": 1, "end_dim": -1}, 0),
    "Dropout": ({}, 1),
    "LocalResponseNorm": ({}, 1),
}


def spec_code(spec: tuple[str, dict[str, Any]]) -> str:
    """``("Conv2d", {...})`` → ``nn.Conv2d(96, 256, kernel_size=5, padding=2)``."""
    name, args = spec
    defaults, positional = _DEFAULTS.get(name, ({}, 0))
    parts = []
    for i, (key, value) in enumerate(args.items()):
        if key in defaults and defaults[key] == value:
            continue
        if name in ("MaxPool2d", "AvgPool2d") and key == "stride" and value == args["kernel_size"]:
            continue  # the default stride of a pool is its window
        parts.append(repr(value) if i < positional else f"{key}={value!r}")
    return f"nn.{name}({', '.join(parts)})"


def spec_module(spec: tuple[str, dict[str, Any]]) -> nn.Module:
    name, args = spec
    return getattr(nn, name)(**args)


def net_code(specs: Sequence[tuple[str, dict[str, Any]]], input_shape: Sequence[int]) -> str:
    """The snippet: imports, ``net = nn.Sequential(…)`` one layer a line, and ``X`` of the input's shape."""
    lines = ["import torch", "from torch import nn", "", "net = nn.Sequential("]
    lines += [f"    {spec_code(s)}," for s in specs]
    lines += [")", f"X = torch.rand(size=(1, {', '.join(map(str, input_shape))}))",
              "# the asked layer is the last one: net(X).shape, its parameters, MACs or receptive field"]
    return "\n".join(lines)


def net_from(specs: Sequence[tuple[str, dict[str, Any]]], device: str = "meta") -> nn.Sequential:
    """The chain as modules, on the meta device by default: structure without weights (what the analysis needs;
    VGG's classifier would take seconds to initialise on the CPU)."""
    with torch.device(device):
        return nn.Sequential(*(spec_module(s) for s in specs))


def _forward_is_sequential(module: nn.Module) -> bool:
    return isinstance(module, nn.Sequential) and type(module).forward is nn.Sequential.forward


def flat_specs(module: nn.Module) -> list[tuple[str, dict[str, Any]]] | None:
    """The leaves of ``module`` as one chain of specs, when it is a plain chain (nested ``nn.Sequential``s of
    written types); ``None`` otherwise."""
    if _forward_is_sequential(module):
        out: list[tuple[str, dict[str, Any]]] = []
        for child in module.children():
            specs = flat_specs(child)
            if specs is None:
                return None
            out += specs
        return out
    spec = layer_spec(module)
    return [spec] if spec is not None else None


def chain_to(model: nn.Module, path: str) -> list[tuple[str, dict[str, Any]]] | None:
    """The chain of layers from the model's input to ``path`` (that layer last), when the model computes it as
    one: every block around the layer an ``nn.Sequential``, everything before it written as specs. ``None``
    otherwise (a branch, a custom forward)."""
    mod, chain = model, []
    for part in path.split("."):
        if not _forward_is_sequential(mod):
            return None
        for name, child in mod.named_children():
            if name == part:
                break
            specs = flat_specs(child)
            if specs is None:
                return None
            chain += specs
        mod = getattr(mod, part)
    spec = layer_spec(mod)
    return [*chain, spec] if spec is not None else None


# ---------------------------------------------------------------------------------------------------------------
# Items
# ---------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Slip:
    """A wrong answer a usual slip gives, and the slip's name."""

    answer: Any
    name: Message


@dataclass(frozen=True)
class Item:
    """One question about one layer, with its computed answer and the arithmetic that gives it."""

    kind: str
    model: str  # a zoo id, "generated", or "d2l" for the chapters' exercises
    layer: str  # the module path in explorer.build(model); in the code's ``net`` for a generated item
    label: str  # the name a learner reads: conv2, fc6, or the index in ``net``
    input: tuple[int, ...]  # (C, H, W) of ``net``'s input
    question: Message
    answer: Any  # [C, H, W] · int · {"size", "stride"} · int (the side S) · str (the failing layer's path)
    explanation: tuple[Message, ...]
    code: str
    specs: tuple[tuple[str, dict[str, Any]], ...] = ()  # net's layers (the last is the asked one)
    slips: tuple[Slip, ...] = ()
    rounded: int | None = None  # a count to this many significant figures is accepted
    choices: tuple[str, ...] = ()  # for "fails": the paths of the network's layers, in order
    labels: tuple[str, ...] = ()  # their display names
    net_layer: str = ""  # the asked layer's path in ``net`` (its last index)
    pattern: str = ""  # a generated item's pattern (PATTERNS)
    exercise: str = ""  # the d2l exercise's id

    @property
    def key(self) -> str:
        """A stable identity for the learner's boxes: the same question asked again has the same key."""
        if self.exercise:
            return f"d2l:{self.exercise}"
        digest = hashlib.sha1(json.dumps([self.code, self.layer, list(self.input)]).encode()).hexdigest()[:12]
        return f"{self.model}:{self.kind}:{self.layer}:{digest}"

    def to_dict(self) -> dict[str, Any]:
        """The CLI's JSON item (English)."""
        return {"kind": self.kind, "model": self.model, "layer": self.layer, "input": list(self.input),
                "question": str(self.question), "answer": self.answer,
                "explanation": "\n".join(str(m) for m in self.explanation), "code": self.code}

    def to_record(self) -> dict[str, Any]:
        """Everything, JSON-able, for the learner's store (texts as templates and values: shown in any language)."""
        return {
            "kind": self.kind, "model": self.model, "layer": self.layer, "label": self.label,
            "input": list(self.input), "question": _message_record(self.question), "answer": self.answer,
            "explanation": [_message_record(m) for m in self.explanation], "code": self.code,
            "specs": [[n, a] for n, a in self.specs],
            "slips": [[s.answer, _message_record(s.name)] for s in self.slips], "rounded": self.rounded,
            "choices": list(self.choices), "labels": list(self.labels), "net_layer": self.net_layer,
            "pattern": self.pattern, "exercise": self.exercise,
        }

    @classmethod
    def from_record(cls, r: dict[str, Any]) -> Item:
        return cls(
            kind=r["kind"], model=r["model"], layer=r["layer"], label=r["label"], input=tuple(r["input"]),
            question=_message_from(r["question"]), answer=r["answer"],
            explanation=tuple(_message_from(m) for m in r["explanation"]), code=r["code"],
            specs=tuple((n, dict(a)) for n, a in r["specs"]),
            slips=tuple(Slip(a, _message_from(m)) for a, m in r["slips"]), rounded=r["rounded"],
            choices=tuple(r["choices"]), labels=tuple(r["labels"]), net_layer=r["net_layer"],
            pattern=r["pattern"], exercise=r["exercise"],
        )

    def net(self) -> nn.Sequential:
        """The code's ``net`` (random weights)."""
        return net_from(self.specs)


def _message_record(m: Message) -> dict[str, Any]:
    return {"t": m.template, "v": {k: _message_record(v) if isinstance(v, Message) else v
                                   for k, v in m.values.items()}}


def _message_from(r: dict[str, Any]) -> Message:
    return Message(r["t"], {k: _message_from(v) if isinstance(v, dict) and "t" in v else v
                            for k, v in r["v"].items()})


def _shape_text(dims: Sequence[int]) -> str:
    return "×".join(map(str, dims))


def _k(v: Any) -> str:
    """3 → "3×3"; (1, 7) → "1×7"."""
    v = _sq(v)
    return f"{v}×{v}" if isinstance(v, int) else "×".join(map(str, v))


def describe_layer(spec: tuple[str, dict[str, Any]]) -> Message:
    """The layer in the question's words: "a 5×5 convolution, padding 2, stride 1, 256 filters"."""
    name, a = spec
    if name == "Conv2d":
        values = {"kernel": _k(a["kernel_size"]), "padding": _sq(a["padding"]), "stride": _sq(a["stride"]),
                  "filters": a["out_channels"], "dilation": _sq(a["dilation"])}
        if a["dilation"] != 1:
            template = N_("{kernel} convolution with dilation {dilation}, padding {padding}, stride {stride}, "
                          "{filters} filters")
        else:
            template = N_("{kernel} convolution, padding {padding}, stride {stride}, {filters} filters")
            if a["out_channels"] == 1:
                template = N_("{kernel} convolution, padding {padding}, stride {stride}, one filter")
        if not a["bias"]:
            return Message(N_("{conv}, no bias"), {"conv": Message(template, values)})
        if a["groups"] != 1:
            return Message(N_("{conv} in {groups} groups"), {"conv": Message(template, values), "groups": a["groups"]})
        return Message(template, values)
    if name in ("MaxPool2d", "AvgPool2d"):
        values = {"kernel": _k(a["kernel_size"]), "padding": _sq(a["padding"]), "stride": _sq(a["stride"])}
        template = N_("{kernel} max-pooling, padding {padding}, stride {stride}") if name == "MaxPool2d" \
            else N_("{kernel} average-pooling, padding {padding}, stride {stride}")
        if a["ceil_mode"]:
            return Message(N_("{pool}, sizes rounded up (ceil_mode)"), {"pool": Message(template, values)})
        return Message(template, values)
    if name.startswith("Adaptive"):
        return Message(N_("adaptive pooling to {size}"), {"size": _k(a["output_size"])})
    if name == "Linear":
        template = N_("fully connected, {inputs} inputs → {outputs} outputs") if a["bias"] else \
            N_("fully connected, {inputs} inputs → {outputs} outputs, no bias")
        return Message(template, {"inputs": a["in_features"], "outputs": a["out_features"]})
    if name == "BatchNorm2d":
        return Message(N_("batch normalization over {channels} channels"), {"channels": a["num_features"]})
    return Message(N_("{module}"), {"module": spec_code(spec)})


def _out_size(n: int, k: int, s: int, p: int, d: int = 1, ceil: bool = False) -> int:
    span = n + 2 * p - d * (k - 1) - 1
    return (-(-span // s) if ceil else span // s) + 1


def _axis(v: Any, i: int) -> int:
    return int(v[i]) if isinstance(v, (tuple, list)) else int(v)


def _window_shape(spec: tuple[str, dict[str, Any]], in_shape: Sequence[int], **change: Any) -> list[int] | None:
    """The output [C, H, W] of a convolution or pool for ``in_shape`` (C, H, W), with some arguments changed
    (the slips: padding=0, stride=1, ceil=…)."""
    name, a = spec
    if name not in ("Conv2d", "MaxPool2d", "AvgPool2d"):
        return None
    a = {**a, **change}
    sizes = [_out_size(in_shape[1 + i], _axis(a["kernel_size"], i), _axis(a["stride"], i), _axis(a["padding"], i),
                       _axis(a.get("dilation", 1), i), bool(a.get("ceil_mode"))) for i in range(2)]
    channels = a["out_channels"] if name == "Conv2d" else in_shape[0]
    return [channels, *sizes]


def _has_feature_map(record: LayerRecord) -> bool:
    return record.output_shape is not None and len(record.output_shape) == 4


def _square_field(record: LayerRecord) -> bool:
    return (record.field is not None and isinstance(record.rf, int) and isinstance(record.stride, int)
            and "Adaptive" not in record.type)


ASKED_TYPES = {
    "shape": ("Conv2d", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "AdaptiveMaxPool2d"),
    "params": ("Conv2d", "Linear", "BatchNorm2d"),
    "macs": ("Conv2d", "Linear"),
    "rf": ("Conv2d", "MaxPool2d", "AvgPool2d"),
}


def _rf_steps(summary: Summary) -> tuple[list[Message], int]:
    """Distill's recurrence along a chain, one line per layer that changes the field: r ← r + (k − 1)·j, j ← j·s;
    and the size the strides forgotten would give (1 + Σ(k − 1))."""
    r, j, lines, naive = 1, 1, [], 1
    modules = [r_ for r_ in summary.leaves if r_.field is not None]
    for rec in modules:
        if rec.rf == r and rec.stride == j:
            continue
        k_eff = (rec.rf - r) // j + 1 if j else rec.rf
        s = rec.stride // j if j and rec.stride % j == 0 else rec.stride
        lines.append(Message(N_("{label}: r = {r0} + ({k} − 1)·{j0} = {r}, j = {j0}·{s} = {j}"), {
            "label": rec.label, "r0": r, "k": k_eff, "j0": j, "r": rec.rf, "s": s, "j": rec.stride}))
        naive += k_eff - 1
        r, j = rec.rf, rec.stride
    return lines, naive


def _asked_where(model: str, label: str, pattern: str, index: str = "") -> Message:
    if model == "d2l":  # an exercise's own layer
        return Message(N_("The layer {label}"), {"label": label})
    if model == GENERATED:
        return Message(N_("{label} (net[{index}]) of a generated {pattern}"), {
            "label": label, "index": index, "pattern": Message(PATTERNS[pattern])})
    return Message(N_("{model}'s {label}"), {"model": model, "label": label})


def layer_item(kind: str, model: str, layer: str, label: str, specs: list, input_shape: Sequence[int],
          pattern: str = "") -> Item:
    """The item about the last layer of the chain ``specs`` fed with ``input_shape``: everything from the
    analysis of that chain."""
    net = net_from(specs)
    summary = analyze(net, tuple(input_shape))
    rec = summary.leaves[-1]
    spec = specs[-1]
    in_shape = list(rec.input_shape[1:])
    if model == GENERATED:
        label = rec.label
    where = _asked_where(model, label, pattern, layer)
    layer_words = describe_layer(spec)
    received = _shape_text(in_shape) if len(in_shape) > 1 else Message(N_("{n} features"), {"n": in_shape[0]})
    base = {"where": where, "input": received, "layer": layer_words}
    slips: list[Slip] = []
    rounded = None
    if kind == "shape":
        answer = list(rec.output_shape[1:])
        question = Message(N_("{where} receives {input}: {layer}. What is its output shape (C×H×W)?"), base)
        explanation = [Message(N_("Per side: ⌊(n + 2p − d·(k − 1) − 1)/s⌋ + 1 — here {arithmetic}."),
                               {"arithmetic": rec.arithmetic or "—"})]
        if spec[0] == "Conv2d":
            explanation.append(Message(N_("Channels: one per filter, {c}."), {"c": answer[0]}))
        else:
            explanation.append(Message(N_("Channels: pooling keeps them, {c}."), {"c": answer[0]}))
        explanation.append(Message(N_("Output shape: {shape}."), {"shape": _shape_text(answer)}))
        name, a = spec
        if name in ("Conv2d", "MaxPool2d", "AvgPool2d"):
            if a["padding"] != 0:
                slips.append(Slip(_window_shape(spec, in_shape, padding=0), Message(N_("You forgot the padding."))))
            if a["stride"] != 1:
                slips.append(Slip(_window_shape(spec, in_shape, stride=1), Message(N_("You forgot the stride."))))
            slips.append(Slip(_window_shape(spec, in_shape, ceil_mode=not a.get("ceil_mode", False)),
                              Message(N_("Rounded the wrong way: the formula rounds down (up only with "
                                         "ceil_mode)."))))
            if name == "Conv2d" and a["in_channels"] != a["out_channels"]:
                slips.append(Slip([a["in_channels"], *answer[1:]],
                                  Message(N_("Kept the input's channels: a convolution gives one channel per "
                                             "filter."))))
            if rec.rf is not None and isinstance(rec.rf, int):
                slips.append(Slip([answer[0], rec.rf, rec.rf],
                                  Message(N_("That is the receptive field, not the output size."))))
    elif kind == "params":
        answer = int(rec.params)
        question = Message(N_("{where} receives {input}: {layer}. How many parameters does it have (weights and "
                              "biases)?"), base)
        explanation = [Message(N_("Parameters: {formula}."), {"formula": rec.param_formula or str(answer)})]
        name, a = spec
        if name == "Conv2d":
            explanation.append(Message(N_("Each of the {c} filters has k·k·C_in/groups weights and one bias.")
                                       if a["bias"] else N_("Each of the {c} filters has k·k·C_in/groups weights "
                                                            "(no bias here)."), {"c": a["out_channels"]}))
            if a["bias"]:
                slips.append(Slip(answer - a["out_channels"], Message(N_("You forgot the bias (one per filter)."))))
            kk = math.prod(_axis(a["kernel_size"], i) for i in range(2))
            slips.append(Slip(kk * a["out_channels"] + a["out_channels"] * a["bias"],
                              Message(N_("You forgot the input channels: each filter spans all of them."))))
            slips.append(Slip(math.prod(rec.output_shape[1:]), Message(N_("That is the output's size, not the "
                                                                          "parameters."))))
        elif name == "Linear":
            explanation.append(Message(N_("A weight per input and output, and one bias per output.")))
            if a["bias"]:
                slips.append(Slip(answer - a["out_features"], Message(N_("You forgot the bias (one per output)."))))
        elif name == "BatchNorm2d":
            explanation.append(Message(N_("γ and β per channel; the running mean and variance are buffers, not "
                                          "parameters.")))
            slips.append(Slip(2 * answer, Message(N_("You counted the running mean and variance: buffers, not "
                                                     "parameters."))))
    elif kind == "macs":
        answer = int(rec.macs)
        rounded = ROUNDED_DIGITS if answer >= 10**6 else None
        template = N_("{where} receives {input}: {layer}. How many MACs does it take per image (batch 1, bias "
                      "counted)?") if rounded is None else \
            N_("{where} receives {input}: {layer}. How many MACs does it take per image (batch 1, bias counted; "
               "exact, or to {digits} significant figures)?")
        question = Message(template, {**base, "digits": rounded} if rounded else base)
        explanation = [Message(N_("MACs: {formula}."), {"formula": rec.macs_formula or str(answer)}),
                       Message(N_("Every output value costs one multiply–accumulate per weight it uses, plus one for "
                                  "its bias (torchinfo's convention)."))]
        name, a = spec
        outputs = math.prod(rec.output_shape[1:])
        has_bias = a.get("bias", False)
        if has_bias:
            slips.append(Slip(answer - outputs, Message(N_("You left out the bias: torchinfo counts one MAC per "
                                                           "output for it."))))
        slips.append(Slip(2 * answer, Message(N_("That is FLOPs (2 per MAC), not MACs."))))
        slips.append(Slip(int(rec.params), Message(N_("That is the parameter count: MACs count every output "
                                                      "position."))))
        if name == "Conv2d":
            slips.append(Slip(answer // math.prod(rec.output_shape[2:]),
                              Message(N_("That is one output position only: multiply by H×W of the output."))))
    elif kind == "rf":
        steps, naive = _rf_steps(summary)
        answer = {"size": int(rec.rf), "stride": int(rec.stride)}
        question = Message(N_("{where}: {layer}. The path from the {input} input to it: {path}. What are the "
                              "receptive field size and the effective stride of one of its output units, in input "
                              "pixels?"), {**base, "input": _shape_text(input_shape),
                                           "path": " → ".join(_path_word(s) for s in specs if _path_word(s))})
        explanation = [Message(N_("Start with r = 1, j = 1; each layer: r ← r + (k − 1)·j, j ← j·s (k the "
                                  "effective kernel, d·(k − 1) + 1 when dilated).")), *steps,
                       Message(N_("Receptive field {size}×{size} px, effective stride {stride} px."),
                               {"size": answer["size"], "stride": answer["stride"]})]
        out = rec.output_shape[2]
        if out != answer["size"]:
            slips.append(Slip({"size": out, "stride": answer["stride"]},
                              Message(N_("That is the output size, not the receptive field."))))
        if naive != answer["size"]:
            slips.append(Slip({"size": naive, "stride": answer["stride"]},
                              Message(N_("You added the kernels but forgot that each stride multiplies the step of "
                                         "the layers after it."))))
            slips.append(Slip({"size": naive, "stride": 1},
                              Message(N_("You added the kernels but forgot that each stride multiplies the step of "
                                         "the layers after it."))))
        own = spec[1].get("stride", 1)
        if own != answer["stride"]:
            slips.append(Slip({"size": answer["size"], "stride": _sq(own)},
                              Message(N_("The effective stride is the product of all strides so far, not this "
                                         "layer's own."))))
    else:
        raise ValueError(f"unknown kind {kind!r}")
    slips = [s for s in slips if s.answer != answer and s.answer is not None]
    return Item(kind=kind, model=model, layer=layer, label=label, input=tuple(input_shape), question=question,
                answer=answer, explanation=tuple(explanation), code=net_code(specs, input_shape),
                specs=tuple(specs), slips=tuple(_unique(slips)), rounded=rounded,
                net_layer=str(len(specs) - 1), pattern=pattern)


def _unique(slips: list[Slip]) -> list[Slip]:
    seen, out = [], []
    for s in slips:
        if s.answer not in seen:
            seen.append(s.answer)
            out.append(s)
    return out


def _path_word(spec: tuple[str, dict[str, Any]]) -> str:
    """conv 3×3 s2 · max 2×2 s2 — the path of an rf question at a glance."""
    name, a = spec
    if name == "Conv2d":
        d = f" d{_sq(a['dilation'])}" if a["dilation"] != 1 else ""
        return f"conv {_k(a['kernel_size'])} s{_sq(a['stride'])}{d}"
    if name in ("MaxPool2d", "AvgPool2d"):
        return f"{'max' if name == 'MaxPool2d' else 'avg'} {_k(a['kernel_size'])} s{_sq(a['stride'])}"
    return ""


# ---------------------------------------------------------------------------------------------------------------
# Zoo items
# ---------------------------------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=256)
def _zoo_candidates(model: str, kind: str) -> tuple[tuple[LayerRecord, list | None], ...]:
    """The layers of ``model`` one can ask ``kind`` about, each with its chain from the input (``None`` where the
    model is no chain there: the layer is then asked alone, fed the shape it receives)."""
    spec = get_spec(model)
    if len(spec.input_shape) != 3:
        return []
    summary = analyze(model)
    module = build_meta(spec)
    out = []
    for rec in summary.leaves:
        if rec.type not in ASKED_TYPES[kind] or rec.call != 0 or not rec.name:
            continue
        if kind == "params" and not rec.params:
            continue
        if kind == "shape" and not _has_feature_map(rec):
            continue
        chain = chain_to(module, rec.name)
        if kind == "rf" and (chain is None or not _square_field(rec)):
            continue
        if chain is None:
            own = layer_spec(dict(module.named_modules())[rec.name])
            if own is None or rec.input_shape is None:
                continue
        out.append((rec, chain))
    return tuple(out)


def zoo_item(model: str, kind: str, layer: str) -> Item:
    """The ``kind`` question about ``layer`` (a module path) of zoo model ``model`` at its own input size."""
    spec = get_spec(model)
    found = [(r, c) for r, c in _zoo_candidates(model, kind) if r.name == layer]
    if not found:
        raise InvalidValue(N_("{model} has no layer {layer} to ask about its {kind}"), model=model, layer=layer,
                           kind=Message(QUESTION_KIND_NAMES[kind]))
    rec, chain = found[0]
    if chain is not None:
        return layer_item(kind, model, layer, rec.label, chain, spec.input_shape)
    module = build_meta(spec)
    own = layer_spec(dict(module.named_modules())[rec.name])
    shape = list(rec.input_shape[1:])
    if len(shape) == 1:  # a fully connected layer alone: fed a flattened F×1×1 map
        return layer_item(kind, model, layer, rec.label, [("Flatten", {"start_dim": 1, "end_dim": -1}), own],
                     [shape[0], 1, 1])
    return layer_item(kind, model, layer, rec.label, [own], shape)


# ---------------------------------------------------------------------------------------------------------------
# Generated stacks
# ---------------------------------------------------------------------------------------------------------------
def conv_spec(cin: int, cout: int, k: int, s: int = 1, p: int = 0, d: int = 1, bias: bool = True) -> tuple:
    return ("Conv2d", {"in_channels": cin, "out_channels": cout, "kernel_size": k, "stride": s, "padding": p,
                       "dilation": d, "groups": 1, "bias": bias})


def pool_spec(kind: str, k: int, s: int, p: int = 0, ceil: bool = False) -> tuple:
    if kind == "max":
        return ("MaxPool2d", {"kernel_size": k, "stride": s, "padding": p, "dilation": 1, "ceil_mode": ceil})
    return ("AvgPool2d", {"kernel_size": k, "stride": s, "padding": p, "ceil_mode": ceil})


RELU = ("ReLU", {})
CHANNELS = (4, 6, 8, 12, 16, 24, 32, 48, 64)


def _random_layer(rng: random.Random, cin: int) -> list[tuple]:
    """One random convolution (with its ReLU) or pool."""
    if rng.random() < 0.65:
        k = rng.choice((1, 3, 3, 5, 7))
        s = rng.choice((1, 1, 2, 2, 3))
        p = rng.randint(0, k // 2)
        d = rng.choice((1, 1, 1, 2)) if k > 1 else 1
        return [conv_spec(cin, rng.choice(CHANNELS), k, s, p, d, bias=rng.random() < 0.85), RELU]
    k = rng.choice((2, 2, 3, 3))
    s = rng.choice((1, 2, 2)) if k == 3 else 2
    p = rng.choice((0, 1)) if k == 3 else 0
    return [pool_spec(rng.choice(("max", "max", "avg")), k, s, p, ceil=rng.random() < 0.1)]


def _pattern_layers(rng: random.Random, pattern: str, cin: int) -> list[tuple]:
    """The notes' patterns as chains; a branchy block (Inception, residual) is asked along one of its paths."""
    if pattern == "stack":
        layers, c = [], cin
        for _ in range(rng.randint(1, 3)):
            new = _random_layer(rng, c)
            layers += new
            c = _out_channels(layers, c)
        return layers
    if pattern == "vgg":  # d2l's vgg_block: n × (3×3 conv, padding 1, ReLU), then a 2×2 max-pool, stride 2
        cout, layers, c = rng.choice(CHANNELS), [], cin
        for _ in range(rng.randint(1, 3)):
            layers += [conv_spec(c, cout, 3, 1, 1), RELU]
            c = cout
        return [*layers, pool_spec("max", 2, 2)]
    if pattern == "nin":  # d2l's nin_block: a k×k conv, then two 1×1 convs, each followed by a ReLU
        k = rng.choice((3, 5, 11))
        s = {3: 1, 5: 1, 11: 4}[k]
        cout = rng.choice(CHANNELS)
        return [conv_spec(cin, cout, k, s, k // 2 if k < 11 else 0), RELU, conv_spec(cout, cout, 1), RELU,
                conv_spec(cout, cout, 1), RELU]
    if pattern == "inception":  # one of the four paths of d2l's Inception block
        c1, c2 = rng.choice(CHANNELS), rng.choice(CHANNELS)
        path = rng.randrange(4)
        if path == 0:
            return [conv_spec(cin, c1, 1), RELU]
        if path == 1:
            return [conv_spec(cin, c1, 1), RELU, conv_spec(c1, c2, 3, 1, 1), RELU]
        if path == 2:
            return [conv_spec(cin, c1, 1), RELU, conv_spec(c1, c2, 5, 1, 2), RELU]
        return [pool_spec("max", 3, 1, 1), conv_spec(cin, c1, 1), RELU]
    if pattern in ("residual", "residual-1x1"):  # d2l's Residual: conv3×3(stride) BN ReLU conv3×3 BN (+ shortcut)
        if pattern == "residual":  # identity shortcut: the shape is kept (a first conv gives it channels)
            if cin < 4:
                return [conv_spec(cin, 16, 3, 1, 1), RELU, *_pattern_layers(rng, pattern, 16)]
            cout, s = cin, 1
        else:
            cout, s = rng.choice(CHANNELS), rng.choice((1, 2))
        main = [conv_spec(cin, cout, 3, s, 1), ("BatchNorm2d", {"num_features": cout, "affine": True}), RELU,
                conv_spec(cout, cout, 3, 1, 1), ("BatchNorm2d", {"num_features": cout, "affine": True})]
        if pattern == "residual-1x1" and rng.random() < 0.4:
            return [conv_spec(cin, cout, 1, s, 0)]  # the shortcut's path: a 1×1 conv with the block's stride
        return main
    raise ValueError(f"unknown pattern {pattern!r}")


def _out_channels(layers: list[tuple], c: int) -> int:
    for name, a in layers:
        if name == "Conv2d":
            c = a["out_channels"]
    return c


def generated_item(rng: random.Random, kind: str, tries: int = 200) -> Item:
    """A random but valid stack and a question about its last asked layer; a draw the analysis refuses (an output
    smaller than its window, a field that is not square) is drawn again."""
    for _ in range(tries):
        pattern = rng.choice(tuple(PATTERNS))
        c = rng.choice((1, 3, 3))
        side = rng.choice((8, 12, 16, 20, 24, 28, 32, 48, 64))
        prefix: list[tuple] = []
        for _ in range(rng.choice((0, 0, 1, 2))):
            prefix += _random_layer(rng, _out_channels(prefix, c))
        layers = prefix + _pattern_layers(rng, pattern, _out_channels(prefix, c))
        if kind in ("params", "macs") and rng.random() < 0.2 and pattern == "stack":
            # a classifier head: the fully connected layer's parameters and MACs
            try:
                flat = math.prod(analyze(net_from(layers), (c, side, side)).output_shape[1:])
            except InputShapeError:
                continue
            if flat > 4096:
                continue
            layers += [("Flatten", {"start_dim": 1, "end_dim": -1}), ("Linear", {
                "in_features": flat, "out_features": rng.choice((10, 16, 64, 120)), "bias": True})]
        asked = [i for i, (name, _a) in enumerate(layers) if name in ASKED_TYPES[kind]
                 and (i >= len(prefix) or pattern == "stack")]
        if kind == "params":
            asked = [i for i in asked if layers[i][0] != "BatchNorm2d" or rng.random() < 0.3]
        if not asked:
            continue
        at = rng.choice(asked)
        chain = layers[: at + 1]
        try:
            summary = analyze(net_from(chain), (c, side, side))
        except InputShapeError:
            continue
        rec = summary.leaves[-1]
        if kind == "shape" and not _has_feature_map(rec):
            continue
        if kind == "rf" and not _square_field(rec):
            continue
        if min(r.output_shape[-1] for r in summary.leaves if _has_feature_map(r)) < 1:
            continue
        return layer_item(kind, GENERATED, str(at), str(at), chain, (c, side, side), pattern=pattern)
    raise InvalidValue(N_("no valid stack found for {kind} after {tries} draws"), kind=kind, tries=tries)


# ---------------------------------------------------------------------------------------------------------------
# Smallest input and the failing layer (asked for by name)
# ---------------------------------------------------------------------------------------------------------------
def _takes(net: nn.Module, shape: Sequence[int]) -> bool:
    try:
        analyze(net, tuple(shape))
    except InputShapeError:
        return False
    return True


def smallest_side(net: nn.Module, channels: int, limit: int = 512) -> int | None:
    """The smallest S for which ``net`` takes a channels×S×S input (bisection: sizes that fit stay fitting)."""
    if not _takes(net, (channels, limit, limit)):
        return None
    lo, hi = 0, limit
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if _takes(net, (channels, mid, mid)) else (mid, hi)
    return hi


def _failure(net: nn.Module, shape: Sequence[int]) -> PartialSummary | None:
    result = analyze(net, tuple(shape), partial=True)
    return result if isinstance(result, PartialSummary) else None


def _whole_chain(rng: random.Random, model: str) -> tuple[list[tuple], tuple[int, ...], str] | None:
    """A whole network as a chain: a zoo model that is one (LeNet, AlexNet, VGG, NiN), or a generated stack."""
    if model != GENERATED:
        spec = get_spec(model)
        specs = flat_specs(build_meta(spec)) if len(spec.input_shape) == 3 else None
        return (specs, tuple(spec.input_shape), "") if specs else None
    c = rng.choice((1, 3))
    layers: list[tuple] = []
    for pattern in rng.sample(("stack", "vgg", "nin", "stack"), rng.randint(2, 3)):
        layers += _pattern_layers(rng, pattern, _out_channels(layers, c))
    return layers, (c, 64, 64), "stack"


def structure_item(rng: random.Random, kind: str, model: str) -> Item | None:
    """A "smallest input" or "which layer fails" item about a whole network; ``None`` if the draw does not give
    one (a model that is no chain, a stack that takes every size)."""
    whole = _whole_chain(rng, model)
    if whole is None:
        return None
    specs, input_shape, pattern = whole
    net = net_from(specs)
    c = input_shape[0]
    if model != GENERATED:
        found = zoo_smallest_input(model, c)
        side = found[1] if found else None
        where = Message(N_("{model}"), {"model": model})
    else:
        side = smallest_side(net, c)
        where = Message(N_("A generated {pattern}"), {"pattern": Message(PATTERNS["stack"])})
    if side is None or side <= 1:
        return None
    below = _failure(net, (c, side - 1, side - 1))
    if below is None:
        return None
    fail_label = _label_of(model, below.failure.name)
    names = [str(i) for i in range(len(specs))]
    labels = _labels(model, net, input_shape, names)
    if kind == "smallest":
        question = Message(N_("{where} takes square images with {channels} channel(s). What is the smallest side S "
                              "of a {channels}×S×S input it can take?"), {"where": where, "channels": c})
        explanation = (
            Message(N_("At {below}×{below}, {label} is the first layer that cannot take what it receives: "
                       "{reason}."), {"below": side - 1, "label": fail_label, "reason": below.failure.reason}),
            Message(N_("At {side}×{side} every layer fits: each window still covers its input, and the classifier "
                       "gets the features it expects."), {"side": side}),
        )
        slips = (Slip(side - 1, Message(N_("One too small: at that size a layer no longer fits."))),)
        return Item(kind=kind, model=model, layer="", label="", input=(c, side, side), question=question,
                    answer=side, explanation=explanation, code=net_code(specs, (c, side, side)),
                    specs=tuple(specs), slips=slips, net_layer="", pattern=pattern)
    # "fails": an input somewhat smaller than the smallest one
    small = rng.randint(max(1, side // 2), side - 1)
    failed = _failure(net, (c, small, small))
    if failed is None:
        return None
    at = int(failed.failure.name)
    path = _zoo_path(model, at) if model != GENERATED else str(at)
    question = Message(N_("{where} gets an input of {input}. Which layer is the first that cannot take what it "
                          "receives?"), {"where": where, "input": _shape_text((c, small, small))})
    explanation = (
        Message(N_("{label} fails: {reason}."), {"label": labels[at], "reason": failed.failure.reason}),
        Message(N_("The smallest square input this network takes is {side}×{side}."), {"side": side}),
    )
    chain = specs[: at + 1]
    return Item(kind=kind, model=model, layer=path, label=labels[at], input=(c, small, small), question=question,
                answer=path, explanation=explanation, code=net_code(chain, (c, small, small)),
                specs=tuple(chain), choices=tuple(_zoo_path(model, i) if model != GENERATED else str(i)
                                                  for i in range(len(specs))),
                labels=tuple(labels), net_layer=str(at), pattern=pattern)


def _leaf_paths(model: str) -> list[str]:
    module = build_meta(get_spec(model))
    return [n for n, m in module.named_modules() if n and not any(True for _ in m.children())]


def _zoo_path(model: str, index: int) -> str:
    return _leaf_paths(model)[index]


def _label_of(model: str, name: str) -> str:
    if model == GENERATED:
        return name
    path = _zoo_path(model, int(name))
    labels = {r.name: r.label for r in analyze(model).layers}
    return labels.get(path, path)


def _labels(model: str, net: nn.Module, input_shape: Sequence[int], names: list[str]) -> list[str]:
    if model == GENERATED:
        return [f"{i}: {type(m).__name__}" for i, m in enumerate(net)]
    labels = {r.name: r.label for r in analyze(model).layers}
    return [labels.get(p, p) for p in _leaf_paths(model)]


# ---------------------------------------------------------------------------------------------------------------
# Drawing items
# ---------------------------------------------------------------------------------------------------------------
def check_kinds(kinds: Iterable[str]) -> tuple[str, ...]:
    kinds = tuple(dict.fromkeys(k.strip() for k in kinds if k.strip()))
    bad = [k for k in kinds if k not in QUESTION_KINDS]
    if bad or not kinds:
        raise InvalidValue(N_("unknown kind {kind}: choose from {kinds}"), kind=bad[0] if bad else "''",
                           kinds=", ".join(QUESTION_KINDS))
    return kinds


def check_models(models: Iterable[str]) -> tuple[str, ...]:
    models = tuple(dict.fromkeys(m.strip() for m in models if m.strip()))
    if not models:
        raise InvalidValue(N_("no model given: a zoo id or {generated}"), generated=GENERATED)
    for m in models:
        if m != GENERATED and len(get_spec(m).input_shape) != 3:  # get_spec: a KeyError naming close matches
            raise InvalidValue(N_("{model} takes no image (C, H, W): practice asks about image networks"), model=m)
    return models


def make_items(seed: int = 0, count: int = 10, kinds: Sequence[str] = DEFAULT_KINDS,
               models: Sequence[str] = (GENERATED,)) -> list[Item]:
    """``count`` items, the kinds in turn, each about a model drawn from ``models`` (zoo ids or ``"generated"``);
    the same seed gives the same items."""
    kinds, models = check_kinds(kinds), check_models(models)
    rng = random.Random(seed)
    items = []
    for i in range(count):
        kind = kinds[i % len(kinds)]
        item = draw_item(rng, kind, models)
        if item is None:
            raise InvalidValue(N_("none of {models} has a layer to ask about its {kind}"),
                               models=", ".join(models), kind=Message(QUESTION_KIND_NAMES[kind]))
        items.append(item)
    return items


def draw_item(rng: random.Random, kind: str, models: Sequence[str]) -> Item | None:
    """One ``kind`` item about a model drawn from ``models``; ``None`` when none of them has one."""
    order = list(models)
    rng.shuffle(order)
    for model in order:
        if kind in ("smallest", "fails"):
            for _ in range(3 if model == GENERATED else 1):
                item = structure_item(rng, kind, model)
                if item is not None:
                    return item
            continue
        if model == GENERATED:
            return generated_item(rng, kind)
        candidates = _zoo_candidates(model, kind)
        if candidates:
            rec, _chain = rng.choice(candidates)
            return zoo_item(model, kind, rec.name)
    return None


# ---------------------------------------------------------------------------------------------------------------
# Checking an answer
# ---------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Verdict:
    correct: bool
    readable: bool = True  # False: the answer could not be read in the item's form
    slip: Message | None = None  # the most likely slip, where one matches
    note: Message | None = None  # e.g. a rounded count where the exact one was asked
    given: Any = None
    expected_form: Message | None = field(default=None)


FORMS = {
    "shape": N_("a shape such as 256×13×13 or (256, 13, 13)"),
    "params": N_("a count such as 614656 or 614,656"),
    "macs": N_("a count such as 448,084,224 or 0.45G"),
    "rf": N_("a size and a stride such as 7, 4"),
    "smallest": N_("a side such as 67 (or 67×67)"),
    "fails": N_("a layer"),
    "count": N_("a count such as 3"),
}


def check_answer(item: Item, text: str) -> Verdict:
    """Is ``text`` the item's answer? Every natural form is read (:mod:`explorer.lessons.answers`); a wrong one is
    matched against the item's slips."""
    form = Message(FORMS.get(item.kind, FORMS["count"]))
    given: Any
    if item.kind == "shape":
        shape = parse_shape(text, len(item.answer))
        if shape is None:
            return Verdict(False, readable=False, expected_form=form)
        given = list(shape)
        correct = given == list(item.answer)
    elif item.kind == "rf":
        pair = parse_field(text)
        if pair is None:
            return Verdict(False, readable=False, expected_form=form)
        given = {"size": pair[0], "stride": pair[1]}
        correct = given == item.answer
    elif item.kind == "smallest":
        side = parse_side(text)
        if side is None:
            return Verdict(False, readable=False, expected_form=form)
        given, correct = side, side == item.answer
    elif item.kind == "fails":
        given = text.strip()
        correct = given == item.answer or (given in item.labels and item.choices[item.labels.index(given)]
                                           == item.answer)
    else:  # counts: params, macs, and the exercises' counts
        count = parse_count(text)
        if count is None:
            return Verdict(False, readable=False, expected_form=form)
        given = count.value
        return _check_count(item, count)
    slip = next((s.name for s in item.slips if s.answer == given), None) if not correct else None
    return Verdict(correct, slip=slip, given=given)


def _check_count(item: Item, count: Count) -> Verdict:
    truth = int(item.answer)
    if count.exact:
        given = int(count.value)
        correct = given == truth
        slip = None if correct else next((s.name for s in item.slips if s.answer == given), None)
        if slip is None and not correct and item.kind == "macs" and truth and given % truth == 0 and given > truth:
            slip = Message(N_("That is for a batch of {n} images: MACs are counted per image (batch 1)."),
                           {"n": given // truth})
        return Verdict(correct, slip=slip, given=given)
    if not count.matches(truth):
        slip = next((s.name for s in item.slips if isinstance(s.answer, int) and count.matches(s.answer)), None)
        return Verdict(False, slip=slip, given=count.value)
    if item.rounded is None:
        return Verdict(False, given=count.value, note=Message(N_("That rounds right, but the exact count is asked.")))
    if count.significant(truth) < item.rounded:
        return Verdict(False, given=count.value, note=Message(
            N_("Right in size, but give at least {digits} significant figures."), {"digits": item.rounded}))
    return Verdict(True, given=count.value)


def answer_text(item: Item) -> str:
    """The answer as the page writes it: 256×13×13, 614,656, 7×7 px / stride 4."""
    a = item.answer
    if item.kind == "shape":
        return _shape_text(a)
    if item.kind == "rf":
        return f"{a['size']}×{a['size']}, stride {a['stride']}"
    if item.kind == "smallest":
        return f"{a}×{a}"
    if item.kind == "fails":
        return item.labels[item.choices.index(a)] if a in item.choices else str(a)
    return f"{int(a):,}"


def rendered(messages: Iterable[Message]) -> list[str]:
    """Each message in the current language."""
    return [render(m) for m in messages]


def torch_check(item: Item) -> dict[str, Any]:
    """What PyTorch itself says about the item's ``net`` (built from its specs, on the meta device): the asked
    layer's output shape and its parameters — a cross-check used by tests and by ``quiz --verify``."""
    net = item.net().to("meta")
    with torch.no_grad():
        out = net(torch.empty((1, *item.input), device="meta"))
    return {"shape": list(out.shape[1:]), "params": sum(p.numel() for p in net[-1].parameters())}


def zoo_ids() -> list[str]:
    """The zoo models with image inputs (C, H, W): those practice can ask about."""
    return [s.id for s in list_models() if len(s.input_shape) == 3]
