"""Per-layer analysis on the meta device: shapes, parameters, MACs and activation memory of every module call.

torchinfo records the module calls (execution order, depth, shapes, MACs); the model is built under
``torch.device("meta")`` so no weight is allocated and nothing is computed — VGG-19 takes milliseconds.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal, overload

import torch
import torchinfo
from torch import nn

from ..i18n import N_, InvalidValue, Message, Quoted
from ..zoo.registry import ModelSpec, get_spec
from .field import UNSUPPORTED, Axis, describe
from .fit import Failure, why_it_fails
from .labels import display_labels
from .meta import build_meta, fast_meta_forwards, meta_copy
from .receptive_field import ReceptiveFieldTracker
from .rules import rule_for, shape_arithmetic

BYTES_PER_ELEMENT = 4  # float32 activations

Shape = Sequence[int]

MAX_DIM = 8192  # largest accepted channel count / spatial size: beyond this an input is a typo, not a question


class InputShapeError(InvalidValue):
    """The network cannot take the requested input; the message names the first layer that fails and why."""


class BatchChangeError(InputShapeError):
    """A module hands on another number of images than it got — the notes' ``Reshape`` (``x.view(-1, 1, 28, 28)``)
    on a 1×224×224 input turns 1 image into 64 — so every per-image number after it (MACs per image, shapes,
    receptive fields) would be wrong. An :class:`InputShapeError`: callers that handle a bad input handle this too.
    ``layer`` is the module's path (``""`` for the network itself), ``images`` the batch it hands on."""

    @property
    def layer(self) -> str:
        return self.message.values["path"]

    @property
    def images(self) -> int:
        return self.message.values["images"]


@dataclass(frozen=True)
class LayerRecord:
    """One module call. ``params``/``macs`` are the call's own (children excluded), so columns sum to totals."""

    index: int
    name: str  # dotted path as in named_modules(); "" for the model itself
    type: str
    depth: int
    parent: int | None  # index of the enclosing container's record
    is_leaf: bool
    input_shape: tuple[int, ...] | None
    output_shape: tuple[int, ...] | None
    params: int  # parameters owned directly by this module (counted at its first call only)
    params_total: int  # including everything inside (the block's size)
    macs: int  # multiply–accumulates of this call (torchinfo's convention; containers 0)
    macs_total: int  # including everything called inside
    memory: int  # bytes of this call's output (float32)
    arithmetic: str | None  # e.g. "⌊(55 + 2·0 − 3)/2⌋ + 1 = 27"
    extra: str  # the module's extra_repr(): kernel_size=(3, 3), stride=(2, 2) …
    rf: int | list[int] | None = None  # receptive field size in input pixels (per axis when they differ)
    stride: int | float | list[int | float] | None = None  # effective stride (mean jump) in input pixels; a float
    # below 1 (or between whole numbers) after upsampling
    field: tuple[Axis, ...] | None = None  # per spatial axis: unit i sees field[a].interval(i) (r, j, u: Distill)
    rf_status: str = "not spatial"  # "ok", "not spatial" (flattened, linear) or "unsupported" (no rule on the path)
    weight_depth: int | None = None  # weight layers on the longest path from the input to this output
    call: int = 0  # which call of this module (from 0): torchvision's ResNet blocks call one ReLU twice
    finished: int = 0  # the order in which this call ended (a block ends after everything inside it)
    param_formula: str | None = None  # e.g. "(11·11·3 + 1)·96 = 34,944" (where the call counts parameters)
    macs_formula: str | None = None  # e.g. "96·55·55·(11·11·3 + 1) = 105,705,600"
    category: str = "other"  # the notes' kind of layer: convolution, fully connected, pooling, activation …
    has_rule: bool = True  # False: a leaf of a type without a rule (no formulas; torchinfo's MACs)
    label: str = ""  # display name a learner reads: conv1, fc6, res3a (analysis/labels.py); "name" stays the path

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "depth": self.depth,
            "output_shape": list(self.output_shape) if self.output_shape is not None else None,
            "params": self.params,
            "macs": self.macs,
            "rf": self.rf,
            "stride": self.stride,
            "label": self.label,
        }


@dataclass(frozen=True)
class ReceptiveField:
    size: int | list[int] | None = None
    stride: int | float | list[int | float] | None = None  # a float only below 1 / between whole numbers
    padding: int | list[int] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"size": self.size, "stride": self.stride, "padding": self.padding}


@dataclass(frozen=True)
class Summary:
    """Numbers only; formatting lives in :mod:`explorer.present.formatting`."""

    model: str
    input_shape: tuple[int, ...]  # with the batch dimension: (1, C, H, W)
    output_shape: tuple[int, ...] | None
    total_params: int
    trainable_params: int
    total_macs: int
    total_memory: int  # bytes of all leaf outputs of one forward pass
    param_bytes: int
    layers: tuple[LayerRecord, ...]
    receptive_field: ReceptiveField = field(default_factory=ReceptiveField)
    depth: int = 0  # weight layers (convolutions, linear) on the longest path: ResNet-50 → 50, GoogLeNet → 22
    rf_unsupported: tuple[str, ...] = ()  # operations without a receptive-field rule met on the way
    unsupported_types: tuple[str, ...] = ()  # leaf module types without a rule (see explorer.analysis.rules)

    @property
    def leaves(self) -> list[LayerRecord]:
        return [r for r in self.layers if r.is_leaf]

    def to_dict(self) -> dict[str, Any]:
        """Exactly the ``summary --json`` object of the CLI contract."""
        return {
            "model": self.model,
            "input": list(self.input_shape),
            "output": list(self.output_shape) if self.output_shape is not None else None,
            "total_params": self.total_params,
            "total_macs": self.total_macs,
            "receptive_field": self.receptive_field.to_dict(),
            "layers": [r.to_dict() for r in self.layers],
        }

    def _repr_html_(self) -> str:
        """Jupyter's view: the layer table (every module call, indented by depth; shape, parameters, MACs,
        receptive field) under the totals — numbers exact with thousands separators."""
        import html

        def shape(dims: tuple[int, ...] | None) -> str:
            return "—" if dims is None else "×".join(map(str, dims[1:])) or "scalar"

        cell = 'style="text-align:right;font-variant-numeric:tabular-nums"'
        rows = []
        for r in self.layers:
            if not r.name:
                continue
            rf = "" if r.rf is None else "×".join(map(str, r.rf)) if isinstance(r.rf, list) else str(r.rf)
            rows.append(
                f"<tr><td style=\"text-align:left;padding-left:{(r.depth - 1) * 1.2:.1f}em\">{html.escape(r.label)}"
                f"</td><td style=\"text-align:left\"><code>{html.escape(r.name)}</code></td>"
                f"<td style=\"text-align:left\">{html.escape(r.type)}</td><td {cell}>{shape(r.output_shape)}</td>"
                f"<td {cell}>{r.params_total if not r.is_leaf else r.params:,}</td>"
                f"<td {cell}>{r.macs_total if not r.is_leaf else r.macs:,}</td><td {cell}>{rf}</td></tr>")
        head = "".join(f"<th>{h}</th>" for h in ("label", "layer", "type", "output shape", "params", "MACs", "RF"))
        return (f"<div><p><b>{html.escape(self.model)}</b>: input {shape(self.input_shape)}, output "
                f"{shape(self.output_shape)} · {self.total_params:,} parameters · {self.total_macs:,} MACs per image"
                f"</p><table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>")


@dataclass(frozen=True)
class PartialSummary:
    """What :func:`analyze` with ``partial=True`` gives for an input the network cannot take: every module call that
    began, in execution order, up to and including the one that fails (its ``output_shape`` is ``None``, as are
    those of the blocks it sits in), and the :class:`~explorer.analysis.fit.Failure` — where and why."""

    model: str
    input_shape: tuple[int, ...]  # with the batch dimension: (1, C, H, W)
    layers: tuple[LayerRecord, ...]
    failure: Failure

    @property
    def leaves(self) -> list[LayerRecord]:
        return [r for r in self.layers if r.is_leaf]


def parse_input_shape(text: str) -> tuple[int, ...]:
    """``"3,224,224"`` → ``(3, 224, 224)``; ``ValueError`` with a clear sentence otherwise."""
    parts = [p.strip() for p in str(text).replace("x", ",").replace("×", ",").split(",")]
    try:
        dims = tuple(int(p) for p in parts)
    except ValueError:
        raise InputShapeError(N_("input size {text} is not a list of integers like 3,224,224"),
                              text=repr(text)) from None
    return check_input_shape(dims)


def check_input_shape(dims: Sequence[int]) -> tuple[int, ...]:
    """Validate an input size (C, H, W …): positive integers no larger than :data:`MAX_DIM`."""
    if isinstance(dims, (str, bytes)) or not isinstance(dims, Sequence):
        raise InputShapeError(N_("input size {dims} is not a sequence of integers like (3, 224, 224)"),
                              dims=repr(dims))
    if not all(isinstance(d, int) and not isinstance(d, bool) for d in dims):
        raise InputShapeError(N_("input size {dims} has a dimension that is not an integer"), dims=repr(tuple(dims)))
    dims = tuple(dims)
    if not dims:
        raise InputShapeError(N_("input size is empty; give it as C,H,W, e.g. 3,224,224"))
    bad = [d for d in dims if d < 1]
    if bad:
        raise InputShapeError(N_("input size {dims} has a dimension below 1 ({value})"),
                              dims=",".join(map(str, dims)), value=bad[0])
    if max(dims) > MAX_DIM:
        raise InputShapeError(N_("input size {dims} exceeds the limit of {limit} per dimension"),
                              dims=",".join(map(str, dims)), limit=MAX_DIM)
    return dims


def _failing_call(model: nn.Module, x: torch.Tensor) -> tuple[nn.Module, tuple[int, ...] | None, Exception] | None:
    """Run the forward pass with a stack of module calls; on failure, the deepest module that was running, the shape
    of its first input and the exception (``None`` if the pass succeeds)."""
    stack: list[tuple[nn.Module, tuple[int, ...] | None]] = []

    def pre(mod, args):
        first = args[0] if args else None
        stack.append((mod, tuple(first.shape) if isinstance(first, torch.Tensor) else None))

    def post(mod, args, out):
        stack.pop()

    handles = []
    for mod in model.modules():
        handles.append(mod.register_forward_pre_hook(pre))
        handles.append(mod.register_forward_hook(post))
    try:
        with torch.no_grad():
            model(x)
    except Exception as exc:  # noqa: BLE001 — any failure of the network is reported, not raised raw
        return (*stack[-1], exc) if stack else None
    finally:
        for h in handles:
            h.remove()
    return None


def _cannot_take(model: str, dims: Sequence[int], exc: Exception, failed: tuple | None,
                 names: dict[int, str]) -> Message:
    """"alexnet cannot take input 3×32×32: layer 12 (MaxPool2d(…)) gets input 256×1×1: <why>" — the sentence of the
    InputShapeError: the failing call (its name, module, input) and why, in the size's words where the layer has a
    fixed input size, else in PyTorch's (quoted)."""
    values = dict(model=model, shape="×".join(map(str, dims)))
    if failed is None:
        return Message(N_("{model} cannot take input {shape}: {error}"), dict(values, error=Quoted(_first_line(exc))))
    mod, shape, raised = failed
    values.update(name=names.get(id(mod)) or type(mod).__name__, module=f"{type(mod).__name__}({mod.extra_repr()})",
                  got="×".join(map(str, shape[1:])) if shape else "?")
    in_channels = getattr(mod, "in_channels", getattr(mod, "in_features", None))
    if shape and in_channels is not None:
        axis = 1 if hasattr(mod, "in_channels") else -1
        if len(shape) > 1 and shape[axis] != in_channels:
            values.update(n=in_channels, value=shape[axis])
            if axis == 1:
                return Message(N_("{model} cannot take input {shape}: layer {name} ({module}) gets input {got}: it "
                                  "expects {n} input channels, got {value}"), values)
            return Message(N_("{model} cannot take input {shape}: layer {name} ({module}) gets input {got}: it "
                              "expects {n} input features, got {value}"), values)
    return Message(N_("{model} cannot take input {shape}: layer {name} ({module}) gets input {got}: {error}"),
                   dict(values, error=Quoted(_first_line(raised))))


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _shape(size: Any) -> tuple[int, ...] | None:
    if isinstance(size, (list, tuple)) and size and all(isinstance(v, int) for v in size):
        return tuple(size)
    if isinstance(size, (list, tuple)) and size and isinstance(size[0], (list, tuple)):
        return _shape(size[0])  # several tensors: report the first
    return None


@overload
def analyze(model: str | nn.Module, input_shape: Sequence[int] | str | None = None) -> Summary: ...
@overload
def analyze(model: str | nn.Module, input_shape: Sequence[int] | str | None = None, *,
            partial: Literal[False]) -> Summary: ...
@overload
def analyze(model: str | nn.Module, input_shape: Sequence[int] | str | None = None, *,
            partial: bool) -> Summary | PartialSummary: ...


def analyze(
    model: str | nn.Module, input_shape: Sequence[int] | str | None = None, *, partial: bool = False
) -> Summary | PartialSummary:
    """Analyse a zoo id or any ``nn.Module`` on the meta device.

    ``input_shape`` is (C, H, W) without the batch dimension (a zoo id defaults to its spec's input);
    the batch size is 1, so MACs and memory are per image.
    Raises ``KeyError`` for an unknown id and :class:`InputShapeError` when the network cannot take the input —
    unless ``partial``: then an input the network cannot take gives a :class:`PartialSummary`, the layers up to the
    one that fails and why it fails (a malformed input size still raises).
    """
    spec: ModelSpec | None = None
    if isinstance(model, nn.Module):
        module = meta_copy(model)
        model_name = type(model).__name__
        if input_shape is None:
            raise InvalidValue(N_("input_shape is required when analysing a module"))
    else:
        spec = get_spec(model)
        module = build_meta(spec)
        model_name = spec.id
        if input_shape is None:
            input_shape = spec.input_shape
    dims = parse_input_shape(input_shape) if isinstance(input_shape, str) else check_input_shape(input_shape)
    if spec is not None and len(dims) != len(spec.input_shape):
        raise InputShapeError(N_("{model} takes a {n}-dimensional input ({shape}), not {dims}"), model=spec.id,
                              n=len(spec.input_shape), shape=",".join(map(str, spec.input_shape)),
                              dims=",".join(map(str, dims)))
    full = (1, *dims)
    module.eval()
    fast_meta_forwards(module)
    names = {id(m): n for n, m in module.named_modules(remove_duplicate=False)}

    x = torch.empty(full, device="meta")
    try:
        stats = _torchinfo(module, x)
    except Exception as exc:  # noqa: BLE001 — reported with the layer that failed
        failed = _failing_call(module, x)
        message = _cannot_take(model_name, dims, exc, failed, names)
        if partial and failed is not None:
            return _partial(module, x, names, model_name, failed, message)
        raise InputShapeError(message) from None

    call_states, unsupported = _track(module, x, len(dims) - 1)
    records = _labelled(_records(stats.summary_list, names, call_states), model_name)
    changed = batch_change(records)
    if changed is not None:
        raise BatchChangeError(
            N_("{layer} ({type}) turns 1 image into {images}: per-image numbers would be wrong"),
            layer=changed.label or model_name, type=changed.type, images=changed.output_shape[0], path=changed.name)
    total_params = sum(p.numel() for p in module.parameters())
    trainable = sum(p.numel() for p in module.parameters() if p.requires_grad)
    out = records[0].output_shape if records else None
    return Summary(
        model=model_name,
        input_shape=full,
        output_shape=out,
        total_params=total_params,
        trainable_params=trainable,
        total_macs=sum(r.macs for r in records),
        total_memory=sum(r.memory for r in records if r.is_leaf),
        param_bytes=sum(p.numel() * p.element_size() for p in module.parameters()),
        layers=tuple(records),
        receptive_field=_final_field(records),
        depth=max((d for r in records if (d := r.weight_depth) is not None), default=0),
        rf_unsupported=unsupported,
        unsupported_types=tuple(dict.fromkeys(r.type for r in records if r.is_leaf and not r.has_rule)),
    )


def _torchinfo(module: nn.Module, x: torch.Tensor) -> Any:
    return torchinfo.summary(
        module, input_data=x, device="meta", verbose=0, col_names=("output_size", "num_params", "mult_adds")
    )


def _track(module: nn.Module, x: torch.Tensor, spatial_dims: int) -> tuple[dict[int, list], tuple[str, ...]]:
    """A second meta pass that follows the data flow for receptive fields and depths: per module, per call, (field,
    depth, the order in which the call ended); and the operations met without a receptive-field rule. Kept apart
    from torchinfo's pass: under the tracker, torchinfo's own bookkeeping (sizes, parameter counts) would be
    tracked op by op too."""
    tracker = ReceptiveFieldTracker(spatial_dims=spatial_dims)
    tracker.watch_input(x)
    call_states: dict[int, list[tuple[Any, int | None, int]]] = defaultdict(list)  # id → per call (rf, depth, end)
    finished: list[int] = [0]  # order in which calls end: a block ends after everything inside it

    def record(mod: nn.Module, args: Any, out: Any) -> None:
        finished[0] += 1
        call_states[id(mod)].append((tracker.state_of(out), tracker.depth_of(out), finished[0]))

    handles = tracker.attach(module)  # leaf modules with a rule are one step each
    handles += [m.register_forward_hook(record) for m in module.modules()]
    try:
        with tracker, torch.no_grad():
            module(x)
    finally:
        for h in handles:
            h.remove()
    return call_states, tuple(dict.fromkeys(tracker.unsupported))


def _labelled(records: list[LayerRecord], model_name: str) -> list[LayerRecord]:
    shown = display_labels(records, model_name)
    return [replace(r, label=shown.get(r.name) or r.name or r.type) for r in records]


def _partial(
    module: nn.Module, x: torch.Tensor, names: dict[int, str], model_name: str,
    failed: tuple[nn.Module, tuple[int, ...] | None, Exception], message: Message,
) -> PartialSummary:
    """The records of every call that began before the failure, the failing one last, and why it fails. Both
    passes run again with the model's forward guarded: the exception ends the pass instead of the analysis."""
    failing, shape, exc = failed
    own_forward, replaced = module.forward, "forward" in vars(module)

    def guarded(*args: Any, **kwargs: Any) -> Any:
        try:
            return own_forward(*args, **kwargs)
        except Exception:  # noqa: BLE001 — the failure is known: the pass ends where it happens
            return None

    module.forward = guarded
    try:
        stats = _torchinfo(module, x)
        call_states, _ = _track(module, x, x.dim() - 2)
    except Exception:  # noqa: BLE001 — the records cannot be had: the plain sentence then
        raise InputShapeError(message) from None
    finally:
        if replaced:
            module.forward = own_forward
        else:
            del module.forward
    records = _records(stats.summary_list, names, call_states)
    name = names.get(id(failing), "")
    at = max((i for i, r in enumerate(records) if r.name == name and r.output_shape is None), default=0)
    records = _labelled([*records[:at], replace(records[at], input_shape=shape), *records[at + 1:]], model_name)
    before = next((r.output_shape for r in reversed(records[:at])
                   if r.is_leaf and r.output_shape is not None and len(r.output_shape) >= 3), None)
    record = records[at]
    failure = Failure(
        name=record.name, label=record.label if record.name else model_name, type=record.type,
        input_shape=shape, reason=why_it_fails(failing, shape, _first_line(exc), before), message=message,
    )
    return PartialSummary(model=model_name, input_shape=tuple(x.shape), layers=tuple(records), failure=failure)


def _macs(module: nn.Module, info: Any, in_shape: Shape | None, out_shape: Shape | None) -> tuple[int, str | None]:
    """A leaf call's MACs and their formula, from its rule; torchinfo's count where the rule has none. (The rules
    agree with torchinfo, tests/analysis/test_rules.py proves it, except that torchinfo counts a linear layer
    once per batch row: on a sequence, N×T×d as in the transformer's FFN, it runs once per position.)"""
    if not info.is_leaf_layer:
        return 0, None
    rule = rule_for(module)
    macs = _ask(rule.macs, module, in_shape, out_shape) if in_shape and out_shape else None
    if macs is None:
        return int(info.macs), None
    return macs, _ask(rule.macs_formula, module, in_shape, out_shape)


def _ask(question: Any, *args: Any) -> Any:
    """A rule's answer, or ``None`` where the rule cannot read the module (a user's subclass with other
    attributes): no formula, torchinfo's count — the analysis itself never fails on a rule."""
    try:
        return question(*args)
    except (AttributeError, IndexError, KeyError, TypeError, ValueError, ZeroDivisionError):
        return None


def batch_change(records: Sequence[LayerRecord]) -> LayerRecord | None:
    """The first call to end whose output holds another number of images than its input (``None`` when every
    call keeps the batch): the innermost module that changed it, not the blocks around it."""
    changed = [r for r in records if r.input_shape and r.output_shape and r.output_shape[0] != r.input_shape[0]]
    return min(changed, key=lambda r: r.finished) if changed else None


def final_field_layer(records: Sequence[LayerRecord]) -> LayerRecord | None:
    """The call whose receptive field is the model's final field — the one rule the summary, the tables and the
    growth chart share: the deepest output larger than 1×1 (global pooling, which makes the field "the whole input",
    and the classifier excluded, as Distill), of the calls that end last — a block whose forward ends in a
    concatenation ends after its last path. ``None`` when no output is spatial."""
    spatial = [r for r in records if r.field is not None and r.output_shape is not None
               and len(r.output_shape) >= 3 and math.prod(r.output_shape[2:]) > 1]
    return max(spatial, key=lambda r: r.finished) if spatial else None


def _final_field(records: list[LayerRecord]) -> ReceptiveField:
    final = final_field_layer(records)
    if final is None:
        return ReceptiveField()
    size, stride, padding = describe(final.field)
    return ReceptiveField(size=size, stride=stride, padding=padding)


def _records(
    summary_list: list, names: dict[int, str], call_states: dict[int, list[tuple[Any, int | None, int]]]
) -> list[LayerRecord]:
    seen: set[int] = set()
    calls: dict[int, int] = defaultdict(int)
    rows: list[dict[str, Any]] = []
    parents: list[int] = []  # indices of the enclosing containers, outermost first
    for i, info in enumerate(summary_list):
        mod = info.module
        own = 0
        if id(mod) not in seen:
            own = sum(p.numel() for p in mod.parameters(recurse=False))
            seen.add(id(mod))
        occurrence = calls[id(mod)]
        calls[id(mod)] += 1
        states = call_states.get(id(mod), [])
        state, weight_depth, finished_at = states[occurrence] if occurrence < len(states) else (None, None, 0)
        field_ = state if isinstance(state, tuple) else None
        rf, stride, _ = describe(field_)
        while parents and rows[parents[-1]]["depth"] >= info.depth:
            parents.pop()
        out_shape = _shape(info.output_size)
        in_shape = _shape(info.input_size)
        rule = rule_for(mod)
        macs, macs_formula = _macs(mod, info, in_shape, out_shape)
        rows.append(dict(
            index=i,
            name=names.get(id(mod), info.var_name),
            type=info.class_name,
            depth=info.depth,
            parent=parents[-1] if parents else None,
            is_leaf=info.is_leaf_layer,
            input_shape=in_shape,
            output_shape=out_shape,
            params=own,
            macs=macs,
            macs_formula=macs_formula,
            param_formula=_ask(rule.params, mod) if own else None,
            category=rule.category,
            has_rule=rule.supported or not info.is_leaf_layer,
            memory=math.prod(out_shape) * BYTES_PER_ELEMENT if out_shape else 0,
            arithmetic=shape_arithmetic(mod, in_shape, out_shape),
            extra=mod.extra_repr(),
            rf=rf,
            stride=stride,
            field=field_,
            rf_status="ok" if field_ is not None else ("unsupported" if state is UNSUPPORTED else "not spatial"),
            weight_depth=weight_depth,
            call=occurrence,
            finished=finished_at,
        ))
        parents.append(i)
    # Block totals: add each row's own numbers to all of its ancestors.
    params_total = [r["params"] for r in rows]
    macs_total = [r["macs"] for r in rows]
    for r in rows:
        p = r["parent"]
        while p is not None:
            params_total[p] += r["params"]
            macs_total[p] += r["macs"]
            p = rows[p]["parent"]
    return [LayerRecord(**r, params_total=params_total[r["index"]], macs_total=macs_total[r["index"]]) for r in rows]
