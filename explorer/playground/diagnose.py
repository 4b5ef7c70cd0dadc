"""Which line broke the network: run it once on the meta device, and when a layer cannot take its input, name the
line that built that layer (every module the interpreter builds remembers its line)."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from .interpreter import CodeError, InterpretedModule, first_line


def _meta(module: nn.Module) -> nn.Module:
    if all(t.is_meta for t in list(module.parameters()) + list(module.buffers())):
        return module
    memo: dict[int, Any] = {}
    for t in list(module.parameters()) + list(module.buffers()):
        empty = torch.empty_like(t, device="meta")
        memo[id(t)] = nn.Parameter(empty, requires_grad=t.requires_grad) if isinstance(t, nn.Parameter) else empty
    return copy.deepcopy(module, memo)


def _dims(shape: Sequence[int]) -> str:
    return "×".join(map(str, shape))


def _as_tuple(value: Any, n: int) -> tuple[int, ...]:
    return tuple(value) if isinstance(value, (tuple, list)) else (value,) * n


def why_layer_fails(module: nn.Module, shape: tuple[int, ...] | None, exc: BaseException) -> str:
    """One clause: ``Conv2d(384, 384, kernel_size=(3, 3), …) gets 1×1, its kernel is 3×3``."""
    desc = f"{type(module).__name__}({module.extra_repr()})"
    if shape is None:
        return f"{desc} fails: {first_line(exc)}"
    in_channels = getattr(module, "in_channels", None)
    if isinstance(in_channels, int) and len(shape) > 1 and shape[1] != in_channels:
        return f"{desc} expects {in_channels} input channels, gets {shape[1]}"
    in_features = getattr(module, "in_features", None)
    if isinstance(module, nn.Linear) and shape[-1] != in_features:
        if len(shape) == 2:  # already flat: the count is the whole input
            return f"{desc} expects {in_features} input features, gets {shape[-1]}"
        return f"{desc} expects {in_features} input features, gets {shape[-1]} ({_dims(shape[1:])})"
    kernel = getattr(module, "kernel_size", None)
    spatial = tuple(shape[2:])
    if kernel is not None and spatial and not isinstance(getattr(module, "padding", 0), str):
        n = len(spatial)
        k = _as_tuple(kernel, n)
        pad = _as_tuple(getattr(module, "padding", 0), n)
        dil = _as_tuple(getattr(module, "dilation", 1), n)
        if len(k) == n == len(pad) == len(dil):
            eff = tuple(d * (kk - 1) + 1 for kk, d in zip(k, dil))
            if any(s + 2 * p < e for s, p, e in zip(spatial, pad, eff)):
                padded = f" (padded {_dims([s + 2 * p for s, p in zip(spatial, pad)])})" if any(pad) else ""
                span = f"its kernel spans {_dims(eff)}" if any(d != 1 for d in dil) else f"its kernel is {_dims(k)}"
                return f"{desc} gets {_dims(spatial)}{padded}, {span}"
    return f"{desc} fails on input {_dims(shape[1:])}: {first_line(exc)}"


def locate_failure(net: nn.Module, input_shape: Sequence[int]) -> CodeError | None:
    """Run ``net`` once on a meta input of ``input_shape`` (C, H, W); ``None`` when it works, else the
    :class:`CodeError` naming the line that built the failing layer (or the line of the snippet's own code)."""
    module = _meta(net)
    stack: list[tuple[nn.Module, tuple[int, ...] | None]] = []

    def pre(mod: nn.Module, args: Any) -> None:
        first = args[0] if args else None
        stack.append((mod, tuple(first.shape) if isinstance(first, torch.Tensor) else None))

    def post(mod: nn.Module, args: Any, out: Any) -> None:
        stack.pop()

    handles = [h for m in module.modules() for h in (m.register_forward_pre_hook(pre), m.register_forward_hook(post))]
    try:
        with torch.no_grad():
            module(torch.empty((1, *input_shape), device="meta"))
    except Exception as exc:  # noqa: BLE001 — any failure is reported, with its line
        failure: BaseException = exc
    else:
        return None
    finally:
        for h in handles:
            h.remove()
    if stack:
        mod, shape = stack[-1]
        line = mod.__dict__.get("_snippet_line")
        is_layer = not isinstance(mod, InterpretedModule) and not any(True for _ in mod.children())
        if is_layer and line:
            calls = mod.__dict__.get("_snippet_calls") or ()
            where = f" (built in the call at line {calls[-1]})" if calls else ""
            return CodeError(why_layer_fails(mod, shape, failure) + where, line)
    if isinstance(failure, CodeError):
        return failure
    for mod, shape in reversed(stack):
        line = mod.__dict__.get("_snippet_line")
        if line:
            return CodeError(why_layer_fails(mod, shape, failure), line)
    return CodeError(first_line(failure), error=first_line(failure))
