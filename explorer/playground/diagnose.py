"""Which line broke the network: run it once on the meta device, and when a layer cannot take its input, name the
line that built that layer (every module the interpreter builds remembers its line)."""

from __future__ import annotations

import ast
import copy
import sys
from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from ..i18n import N_, Message, Quoted
from .interpreter import CodeError, InterpretedModule, Interpreter, first_line


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


def why_layer_fails(module: nn.Module, shape: tuple[int, ...] | None, exc: BaseException) -> Message:
    """One clause: ``Conv2d(384, 384, kernel_size=(3, 3), …) gets 1×1, its kernel is 3×3``."""
    desc = f"{type(module).__name__}({module.extra_repr()})"  # the translations quote it as code
    if shape is None:
        return Message(N_("{module} fails: {error}"), {"module": desc, "error": Quoted(first_line(exc))})
    in_channels = getattr(module, "in_channels", None)
    if isinstance(in_channels, int) and len(shape) > 1 and shape[1] != in_channels:
        return Message(N_("{module} expects {n} input channels, gets {got}"),
                       {"module": desc, "n": in_channels, "got": shape[1]})
    in_features = getattr(module, "in_features", None)
    if isinstance(module, nn.Linear) and shape[-1] != in_features:
        if len(shape) == 2:  # already flat: the count is the whole input
            return Message(N_("{module} expects {n} input features, gets {got}"),
                           {"module": desc, "n": in_features, "got": shape[-1]})
        return Message(N_("{module} expects {n} input features, gets {got} ({dims})"),
                       {"module": desc, "n": in_features, "got": shape[-1], "dims": _dims(shape[1:])})
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
                padded_dims = _dims([s + 2 * p for s, p in zip(spatial, pad)])
                values = {"module": desc, "dims": _dims(spatial), "padded": padded_dims, "span": _dims(eff),
                          "kernel": _dims(k)}
                dilated, padded = any(d != 1 for d in dil), any(pad)
                template = {
                    (True, True): N_("{module} gets {dims} (padded {padded}), its kernel spans {span}"),
                    (False, True): N_("{module} gets {dims} (padded {padded}), its kernel is {kernel}"),
                    (True, False): N_("{module} gets {dims}, its kernel spans {span}"),
                    (False, False): N_("{module} gets {dims}, its kernel is {kernel}"),
                }[dilated, padded]
                return Message(template, values)
    return Message(N_("{module} fails on input {dims}: {error}"),
                   {"module": desc, "dims": _dims(shape[1:]), "error": Quoted(first_line(exc))})


def _call_text(node: ast.Call) -> str:
    """``view(-1, 1, 28, 28)`` for ``x.view(-1, 1, 28, 28)``: the call as written, without what it is called on."""
    if isinstance(node.func, ast.Attribute):
        args = [ast.unparse(a) for a in node.args] + [ast.unparse(k) for k in node.keywords]
        return f"{node.func.attr}({', '.join(args)})"
    return ast.unparse(node)


def _snippet_call() -> ast.Call | None:
    """The snippet's call being interpreted right now (the innermost ``Interpreter.eval_Call`` on the stack)."""
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code is Interpreter.eval_Call.__code__:
            return frame.f_locals.get("node")
        frame = frame.f_back
    return None


class _BatchWatch(torch.overrides.TorchFunctionMode):
    """Notes each tensor operation that hands on another number of images than its tensor got, with the snippet's
    call that ran it."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple[int, int, ast.Call | None]] = []  # (images in, images out, the call)

    def __torch_function__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        first = args[0] if args else None
        if (isinstance(first, torch.Tensor) and isinstance(out, torch.Tensor) and first.dim() and out.dim()
                and first.shape[0] != out.shape[0]):
            self.seen.append((first.shape[0], out.shape[0], _snippet_call()))
        return out


def _batch_change(net: nn.Module, input_shape: Sequence[int]) -> CodeError | None:
    """Run ``net`` once on one meta image of ``input_shape``; ``None`` when every module hands on one image, else
    the :class:`CodeError` naming the line that changed the batch (``line 3: view(-1, 1, 28, 28) turns 1 image into
    64: …`` — the call in a ``forward``, or the line that built a layer that does it)."""
    module = _meta(net)
    changed: list[tuple[nn.Module, int, int]] = []  # (module, ops seen before its call, images out) in end order
    starts: dict[int, list[int]] = {}
    watch = _BatchWatch()

    def pre(mod: nn.Module, args: Any) -> None:
        starts.setdefault(id(mod), []).append(len(watch.seen))

    def post(mod: nn.Module, args: Any, out: Any) -> None:
        start = starts[id(mod)].pop()
        first = args[0] if args else None
        out = out[0] if isinstance(out, (tuple, list)) and out else out
        if (isinstance(first, torch.Tensor) and isinstance(out, torch.Tensor) and first.dim() and out.dim()
                and first.shape[0] != out.shape[0]):
            changed.append((mod, start, out.shape[0]))

    handles = [h for m in module.modules() for h in (m.register_forward_pre_hook(pre), m.register_forward_hook(post))]
    try:
        with torch.no_grad(), watch:
            module(torch.empty((1, *input_shape), device="meta"))
    except Exception:  # noqa: BLE001 — a failing pass is locate_failure's to word
        return None
    finally:
        for h in handles:
            h.remove()
    if not changed:
        return None
    mod, start, images = changed[0]  # the first call to end: the innermost module that changed the batch
    for before, after, node in watch.seen[start:]:
        if before == 1 and after == images and node is not None:
            return CodeError(N_("{call} turns 1 image into {images}: per-image numbers would be wrong"), node.lineno,
                             call=_call_text(node), images=images)
    desc = f"{type(mod).__name__}({mod.extra_repr()})"
    return CodeError(N_("{call} turns 1 image into {images}: per-image numbers would be wrong"),
                     mod.__dict__.get("_snippet_line"), call=desc, images=images)


def locate_failure(net: nn.Module, input_shape: Sequence[int]) -> CodeError | None:
    """Run ``net`` once on a meta input of ``input_shape`` (C, H, W); ``None`` when it works, else the
    :class:`CodeError` naming the line that built the failing layer (or the line of the snippet's own code) — or,
    when it runs but turns one image into several, the line that does it (:func:`_batch_change`)."""
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
        return _batch_change(net, input_shape)
    finally:
        for h in handles:
            h.remove()
    if stack:
        mod, shape = stack[-1]
        line = mod.__dict__.get("_snippet_line")
        is_layer = not isinstance(mod, InterpretedModule) and not any(True for _ in mod.children())
        if is_layer and line:
            calls = mod.__dict__.get("_snippet_calls") or ()
            clause = why_layer_fails(mod, shape, failure)
            if calls:
                clause = Message(N_("{clause} (built in the call at line {line})"),
                                 {"clause": clause, "line": calls[-1]})
            return CodeError(clause, line)
    if isinstance(failure, CodeError):
        return failure
    for mod, shape in reversed(stack):
        line = mod.__dict__.get("_snippet_line")
        if line:
            return CodeError(why_layer_fails(mod, shape, failure), line)
    return CodeError.quoting(first_line(failure))
