"""Per-layer analysis on the meta device: shapes, parameters, MACs and activation memory of every module call.

torchinfo records the module calls (execution order, depth, shapes, MACs); the model is built under
``torch.device("meta")`` so no weight is allocated and nothing is computed — VGG-19 takes milliseconds.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
import torchinfo
from torch import nn

from ..zoo.registry import ModelSpec, get_spec
from .shapes import shape_arithmetic

BYTES_PER_ELEMENT = 4  # float32 activations

MAX_DIM = 8192  # largest accepted channel count / spatial size: beyond this an input is a typo, not a question


class InputShapeError(ValueError):
    """The network cannot take the requested input; the message names the first layer that fails and why."""


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
    rf: int | None = None  # receptive field size in input pixels (None: not spatial / not computed)
    stride: int | None = None  # effective stride (jump) in input pixels

    @property
    def label(self) -> str:
        return self.name or self.type

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
        }


@dataclass(frozen=True)
class ReceptiveField:
    size: int | None = None
    stride: int | None = None
    padding: int | None = None

    def to_dict(self) -> dict[str, int | None]:
        return {"size": self.size, "stride": self.stride, "padding": self.padding}


@dataclass(frozen=True)
class Summary:
    """Numbers only; formatting lives in :mod:`explorer.formatting`."""

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

    @property
    def leaves(self) -> list[LayerRecord]:
        return [r for r in self.layers if r.is_leaf]

    @property
    def depth(self) -> int:
        """Weight layers on the longest chain, counted the usual way: convolutions and linear layers."""
        return sum(1 for r in self.leaves if r.params and ("Conv" in r.type or r.type == "Linear"))

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


def parse_input_shape(text: str) -> tuple[int, ...]:
    """``"3,224,224"`` → ``(3, 224, 224)``; ``ValueError`` with a clear sentence otherwise."""
    parts = [p.strip() for p in str(text).replace("x", ",").replace("×", ",").split(",")]
    try:
        dims = tuple(int(p) for p in parts)
    except ValueError:
        raise InputShapeError(f"input size {text!r} is not a list of integers like 3,224,224") from None
    return check_input_shape(dims)


def check_input_shape(dims: Sequence[int]) -> tuple[int, ...]:
    dims = tuple(int(d) for d in dims)
    if not dims:
        raise InputShapeError("input size is empty; give it as C,H,W, e.g. 3,224,224")
    bad = [d for d in dims if d < 1]
    if bad:
        raise InputShapeError(f"input size {','.join(map(str, dims))} has a dimension below 1 ({bad[0]})")
    if max(dims) > MAX_DIM:
        raise InputShapeError(f"input size {','.join(map(str, dims))} exceeds the limit of {MAX_DIM} per dimension")
    return dims


def _meta_copy(module: nn.Module) -> nn.Module:
    """A structural copy of ``module`` on the meta device: the user's weights are neither copied nor moved."""
    memo: dict[int, Any] = {}
    for t in list(module.parameters()) + list(module.buffers()):
        if isinstance(t, nn.Parameter):
            memo[id(t)] = nn.Parameter(torch.empty_like(t, device="meta"), requires_grad=t.requires_grad)
        else:
            memo[id(t)] = torch.empty_like(t, device="meta")
    return copy.deepcopy(module, memo)


def _failing_layer(model: nn.Module, x: torch.Tensor, names: dict[int, str]) -> str | None:
    """Run the forward pass with a stack of module calls; on failure describe the deepest module that was running."""
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
        if not stack:
            return None
        mod, shape = stack[-1]
        name = names.get(id(mod)) or type(mod).__name__
        got = "×".join(map(str, shape[1:])) if shape else "?"
        why = _first_line(exc)
        in_channels = getattr(mod, "in_channels", getattr(mod, "in_features", None))
        if shape and in_channels is not None:
            axis = 1 if hasattr(mod, "in_channels") else -1
            if len(shape) > 1 and shape[axis] != in_channels:
                unit = "channels" if axis == 1 else "features"
                why = f"it expects {in_channels} input {unit}, got {shape[axis]}"
        return f"layer {name} ({type(mod).__name__}({mod.extra_repr()})) gets input {got}: {why}"
    finally:
        for h in handles:
            h.remove()
    return None


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _shape(size: Any) -> tuple[int, ...] | None:
    if isinstance(size, (list, tuple)) and size and all(isinstance(v, int) for v in size):
        return tuple(size)
    if isinstance(size, (list, tuple)) and size and isinstance(size[0], (list, tuple)):
        return _shape(size[0])  # several tensors: report the first
    return None


def analyze(model: str | nn.Module, input_shape: Sequence[int] | str | None = None) -> Summary:
    """Analyse a zoo id or any ``nn.Module`` on the meta device.

    ``input_shape`` is (C, H, W) without the batch dimension (a zoo id defaults to its spec's input);
    the batch size is 1, so MACs and memory are per image.
    Raises ``KeyError`` for an unknown id and :class:`InputShapeError` when the network cannot take the input.
    """
    spec: ModelSpec | None = None
    if isinstance(model, nn.Module):
        module = _meta_copy(model)
        model_name = type(model).__name__
        if input_shape is None:
            raise ValueError("input_shape is required when analysing a module")
    else:
        spec = get_spec(model)
        with torch.device("meta"):
            module = spec.build()
        model_name = spec.id
        if input_shape is None:
            input_shape = spec.input_shape
    dims = parse_input_shape(input_shape) if isinstance(input_shape, str) else check_input_shape(input_shape)
    if spec is not None and len(dims) != len(spec.input_shape):
        raise InputShapeError(
            f"{spec.id} takes a {len(spec.input_shape)}-dimensional input "
            f"({','.join(map(str, spec.input_shape))}), not {','.join(map(str, dims))}"
        )
    full = (1, *dims)
    module.eval()
    names = {id(m): n for n, m in module.named_modules(remove_duplicate=False)}

    try:
        stats = torchinfo.summary(
            module, input_size=full, device="meta", verbose=0, col_names=("output_size", "num_params", "mult_adds")
        )
    except Exception as exc:  # noqa: BLE001 — reported with the layer that failed
        x = torch.empty(full, device="meta")
        where = _failing_layer(module, x, names)
        shape_text = "×".join(map(str, dims))
        raise InputShapeError(f"{model_name} cannot take input {shape_text}: {where or _first_line(exc)}") from None

    records = _records(stats.summary_list, names)
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
    )


def _records(summary_list: list, names: dict[int, str]) -> list[LayerRecord]:
    seen: set[int] = set()
    rows: list[dict[str, Any]] = []
    parents: list[int] = []  # stack of (index) by depth
    for i, info in enumerate(summary_list):
        mod = info.module
        own = 0
        if id(mod) not in seen:
            own = sum(p.numel() for p in mod.parameters(recurse=False))
            seen.add(id(mod))
        while parents and rows[parents[-1]]["depth"] >= info.depth:
            parents.pop()
        out_shape = _shape(info.output_size)
        in_shape = _shape(info.input_size)
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
            macs=int(info.macs) if info.is_leaf_layer else 0,
            memory=math.prod(out_shape) * BYTES_PER_ELEMENT if out_shape else 0,
            arithmetic=shape_arithmetic(mod, in_shape, out_shape),
            extra=mod.extra_repr(),
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
