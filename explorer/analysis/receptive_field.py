"""Analytic receptive fields over the real computation graph, branches, skips and upsampling included.

Every tensor computed from the input carries, per spatial axis, the receptive field of its units in input pixels
(an :class:`~explorer.analysis.field.Axis`: for plain convolutional nets Distill's size ``r``, jump ``j`` and start
``u``; after upsampling a periodic staircase). Each step comes from :mod:`explorer.analysis.rules`:

* a leaf module whose rule has a step (convolutions, poolings, upsampling, activations …) is one step, taken in
  forward pre/post hooks — the operations inside it are not followed;
* everything else — functional code (``torch.cat``, ``out += identity``, ``F.relu``) and modules without a step of
  their own (d2l's ``Reshape``, unknown types) — is followed operation by operation with a ``TorchFunctionMode``,
  through the rules' function table.

Where paths meet — concatenation along channels, addition, multiplication — a unit sees the union of what each
path sees. An operation without a rule yields :data:`UNSUPPORTED` — never a guess — and everything computed from it
stays unsupported.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn
from torch.overrides import TorchFunctionMode
from torch.utils.hooks import RemovableHandle

from .field import NONSPATIAL, UNSUPPORTED, Axis, describe, merge
from .rules import FOLLOW, Call, Rule, function_rule, rule_for

__all__ = ["NONSPATIAL", "UNSUPPORTED", "Axis", "ReceptiveFieldTracker", "describe", "has_step"]

# Queries that return no tensor (or the same one) — nothing to track.
IGNORED = {"dim", "size", "numel", "__get__", "__len__", "__format__", "__repr__", "__bool__", "__index__",
           "__int__", "__float__", "is_floating_point", "requires_grad_", "__setstate__", "element_size"}


class ReceptiveFieldTracker(TorchFunctionMode):
    """Follows a forward pass and attaches to each result its receptive field and its depth — the number of weight
    layers (convolutions, linear layers) on the longest path from the input. Call :meth:`attach` on the model
    (module-level steps) and :meth:`watch_input` on its input, then run the model inside ``with tracker:``."""

    def __init__(self, spatial_dims: int) -> None:
        super().__init__()
        self.spatial_dims = spatial_dims
        self._states: dict[int, Any] = {}
        self._depths: dict[int, int] = {}
        self._alive: list[torch.Tensor] = []  # keep tracked tensors alive, so their ids are never reused
        self._calls: list[tuple[list[Any], int | None, tuple[int, ...] | None]] = []  # open module steps
        self._inside = 0  # > 0 while a module step runs: its own operations are not followed
        self.unsupported: list[str] = []  # names of the operations (or module types) that had no rule

    # -- public ---------------------------------------------------------------------------------------------------
    def watch_input(self, x: torch.Tensor) -> None:
        self._set(x, tuple(Axis.uniform(1, 1, 0) for _ in range(self.spatial_dims)), 0)

    def attach(self, model: nn.Module) -> list[RemovableHandle]:
        """Hooks that take each leaf module with a rule of its own as one step; returns the handles to remove."""
        handles: list[RemovableHandle] = []
        for m in model.modules():
            if next(m.children(), None) is None and has_step(m):
                handles.append(m.register_forward_pre_hook(self._enter, with_kwargs=True))
                # prepended: the output's state is set before any other hook (the analysis' records) reads it
                handles.append(m.register_forward_hook(self._leave, with_kwargs=True, prepend=True))
        return handles

    def state_of(self, t: Any) -> Any:
        """The receptive field of a tensor: a tuple of :class:`Axis`, :data:`UNSUPPORTED`, :data:`NONSPATIAL`,
        or ``None`` when it does not depend on the input (a weight, a constant)."""
        t = _first_tensor(t)
        return self._states.get(id(t)) if t is not None else None

    def depth_of(self, t: Any) -> int | None:
        t = _first_tensor(t)
        return self._depths.get(id(t)) if t is not None else None

    # -- module steps ---------------------------------------------------------------------------------------------
    def _enter(self, module: nn.Module, args: tuple, kwargs: dict) -> None:
        tracked = self._tracked(args, kwargs)
        first = _first_tensor(args) if args else (tracked[0] if tracked else None)
        self._calls.append((
            [self._states[id(t)] for t in tracked],
            max((self._depths[id(t)] for t in tracked), default=None),
            tuple(first.shape) if first is not None else None,
        ))
        self._inside += 1

    def _leave(self, module: nn.Module, args: tuple, kwargs: dict, out: Any) -> None:
        sources, depth, in_shape = self._calls.pop()
        try:
            outputs = _tensors(out)
            if not sources or not outputs:
                return  # computed from weights or constants only
            rule = rule_for(module)
            try:
                state = rule.field(module, merge(sources), in_shape, tuple(outputs[0].shape))
                state = UNSUPPORTED if state is FOLLOW else state  # too late to follow: its operations ran unseen
            except Exception:  # noqa: BLE001 — a rule that cannot read its module means "unsupported", not a crash
                state = UNSUPPORTED
            if state is UNSUPPORTED and not any(s is UNSUPPORTED for s in sources):
                self.unsupported.append(type(module).__name__)
            for t in outputs:
                self._set(t, state, depth + rule.weight_layer)
        finally:
            self._inside -= 1

    # -- operations -----------------------------------------------------------------------------------------------
    def _set(self, t: torch.Tensor, state: Any, depth: int) -> None:
        self._states[id(t)] = state
        self._depths[id(t)] = depth
        self._alive.append(t)

    def _tracked(self, args: tuple, kwargs: dict) -> list[torch.Tensor]:
        found: list[torch.Tensor] = []

        def visit(v: Any) -> None:
            if isinstance(v, torch.Tensor):
                if id(v) in self._states:
                    found.append(v)
            elif isinstance(v, (list, tuple)):
                for item in v:
                    visit(item)

        for v in list(args) + list(kwargs.values()):
            visit(v)
        return found

    def __torch_function__(self, func: Callable, types: tuple, args: tuple = (), kwargs: dict | None = None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        if self._inside:
            return out
        result = _first_tensor(out)
        name = getattr(func, "__name__", "")
        if result is None or name in IGNORED:
            return out
        tracked = self._tracked(args, kwargs)
        if not tracked:
            return out  # computed from weights or constants only
        sources = [self._states[id(t)] for t in tracked]
        rule = function_rule(name)
        depth = max(self._depths[id(t)] for t in tracked) + bool(rule is not None and rule.weight_layer)
        try:
            call = Call(name, args, kwargs, sources, self.state_of, self.spatial_dims, result)
            state = rule.step(call) if rule is not None else UNSUPPORTED
        except Exception:  # noqa: BLE001 — a rule that cannot read its arguments means "unsupported", not a crash
            state = UNSUPPORTED
        if state is UNSUPPORTED and not any(s is UNSUPPORTED for s in sources):
            self.unsupported.append(name or repr(func))
        self._set(result, state, depth)
        return out


def has_step(module: nn.Module) -> bool:
    """Whether the module's rule takes it as one step: its rule overrides :meth:`Rule.field` (the base class's
    answer, :data:`FOLLOW`, means its operations are followed)."""
    return type(rule_for(module)).field is not Rule.field


def _first_tensor(v: Any) -> torch.Tensor | None:
    if isinstance(v, (tuple, list)) and v:
        v = v[0]
    return v if isinstance(v, torch.Tensor) else None


def _tensors(v: Any) -> list[torch.Tensor]:
    """Every tensor of a module's output (an LSTM returns (output, (h, c))), the first one first."""
    if isinstance(v, torch.Tensor):
        return [v]
    if isinstance(v, (tuple, list)):
        return [t for item in v for t in _tensors(item)]
    return []
