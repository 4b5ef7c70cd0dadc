"""Analytic receptive fields over the real computation graph, branches and skips included.

Every tensor computed from the input carries, per spatial axis, the receptive field of its units in input pixels:
size ``r``, effective stride (jump) ``j`` and ``u``, the input coordinate where unit 0's field starts (so the
effective padding is ``-u``). Unit ``i`` sees input pixels ``[u + i·j, u + i·j + r)``. A convolution or pooling
with kernel ``k``, stride ``s``, padding ``p`` and dilation ``d`` maps them as

    k_eff = k + (k − 1)(d − 1),   r ← r + (k_eff − 1)·j,   u ← u − p·j,   j ← j·s

(Araujo, Norris, Sim, "Computing Receptive Fields of Convolutional Neural Networks", Distill 2019). Where paths
meet — concatenation along channels, addition, multiplication — a unit sees the union of what each path sees,
so the fields are merged (for equal jumps the union of two intervals is again an interval; unequal jumps are
reported as unsupported). Operations are followed with a ``TorchFunctionMode``, so functional code (``torch.cat``,
``out += identity``, ``F.relu``) counts as much as modules do. An operation without a rule yields
:data:`UNSUPPORTED` — never a guess — and everything computed from it stays unsupported.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch.overrides import TorchFunctionMode


@dataclass(frozen=True)
class Axis:
    """Receptive field along one spatial axis: size ``r``, jump ``j``, start ``u`` (effective padding ``-u``)."""

    r: int
    j: int
    u: int

    def window(self, k: int, s: int, p: int, d: int = 1) -> Axis:
        k_eff = k + (k - 1) * (d - 1)
        return Axis(r=self.r + (k_eff - 1) * self.j, j=self.j * s, u=self.u - p * self.j)

    def union(self, other: Axis) -> Axis | None:
        if self.j != other.j:
            return None
        u = min(self.u, other.u)
        return Axis(r=max(self.u + self.r, other.u + other.r) - u, j=self.j, u=u)


class _Marker:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


UNSUPPORTED = _Marker("UNSUPPORTED")  # an operation the analysis cannot reason about was on the path
NONSPATIAL = _Marker("NONSPATIAL")  # spatial axes were mixed away (flatten, linear): no receptive field per unit

State = "tuple[Axis, ...] | _Marker"


def _tuple(v: Any, n: int) -> tuple[int, ...]:
    if isinstance(v, (tuple, list)):
        return tuple(int(x) for x in v) if len(v) == n else tuple(int(v[0]) for _ in range(n))
    return (int(v),) * n


def _bind(sig: inspect.Signature, args: tuple, kwargs: dict) -> dict[str, Any]:
    bound = sig.bind(*args, **kwargs)
    bound.apply_defaults()
    return bound.arguments


def _conv_sig(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1): ...  # noqa: E704
def _max_pool_sig(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False): ...  # noqa: E501, E704
def _avg_pool_sig(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,  # noqa: E704
                  divisor_override=None): ...
def _adaptive_sig(input, output_size, *rest, **kw): ...  # noqa: E704
def _cat_sig(tensors, dim=0, *rest, **kw): ...  # noqa: E704


CONV_SIG = inspect.signature(_conv_sig)
MAX_POOL_SIG = inspect.signature(_max_pool_sig)
AVG_POOL_SIG = inspect.signature(_avg_pool_sig)
ADAPTIVE_SIG = inspect.signature(_adaptive_sig)
CAT_SIG = inspect.signature(_cat_sig)

# Element-wise operations (and channel-wise normalisations): each output unit sees what the same input unit sees.
ELEMENTWISE = {
    "relu", "relu_", "relu6", "hardtanh", "hardtanh_", "sigmoid", "sigmoid_", "tanh", "tanh_", "gelu", "silu",
    "leaky_relu", "leaky_relu_", "elu", "elu_", "hardswish", "hardsigmoid", "mish", "softplus", "dropout",
    "dropout2d", "dropout1d", "dropout3d", "alpha_dropout", "feature_alpha_dropout", "batch_norm", "instance_norm",
    "empty_like", "zeros_like", "ones_like", "clone", "contiguous", "detach", "to", "float", "double", "half",
    "abs", "neg", "exp", "log", "sqrt", "pow", "__pow__", "clamp", "clamp_", "clamp_min", "clamp_min_",
    "add", "add_", "__add__", "__radd__", "__iadd__", "sub", "sub_", "__sub__", "__rsub__", "__isub__",
    "mul", "mul_", "__mul__", "__rmul__", "__imul__", "div", "div_", "__truediv__", "__itruediv__",
    "maximum", "minimum", "where", "type_as",
}
# Operations that mix the spatial axes into features: their units have no receptive field of their own.
MIXING = {"flatten", "view", "reshape", "linear", "matmul", "__matmul__", "mm", "bmm", "addmm", "mean", "sum",
          "amax", "max", "unflatten", "permute", "transpose", "squeeze", "unsqueeze",
          "new_empty"}  # new_empty: the analysis' stand-in for a recurrent layer (every step mixes the sequence)
# Queries that return no tensor (or the same one) — nothing to track.
IGNORED = {"dim", "size", "numel", "__get__", "__len__", "__format__", "__repr__", "__bool__", "__index__",
           "__int__", "__float__", "is_floating_point", "requires_grad_", "__setstate__", "element_size"}


WEIGHT_LAYERS = ("conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "linear")


class ReceptiveFieldTracker(TorchFunctionMode):
    """Follows every torch operation of a forward pass and attaches to each result its receptive field and its
    depth — the number of weight layers (convolutions, linear layers) on the longest path from the input."""

    def __init__(self, spatial_dims: int) -> None:
        super().__init__()
        self.spatial_dims = spatial_dims
        self._states: dict[int, Any] = {}
        self._depths: dict[int, int] = {}
        self._alive: list[torch.Tensor] = []  # keep tracked tensors alive, so their ids are never reused
        self.unsupported: list[str] = []  # names of the operations that had no rule

    # -- public ---------------------------------------------------------------------------------------------------
    def watch_input(self, x: torch.Tensor) -> None:
        self._set(x, tuple(Axis(1, 1, 0) for _ in range(self.spatial_dims)), 0)

    def state_of(self, t: Any) -> Any:
        """The receptive field of a tensor: a tuple of :class:`Axis`, :data:`UNSUPPORTED`, :data:`NONSPATIAL`,
        or ``None`` when it does not depend on the input (a weight, a constant)."""
        t = _first_tensor(t)
        return self._states.get(id(t)) if t is not None else None

    def depth_of(self, t: Any) -> int | None:
        t = _first_tensor(t)
        return self._depths.get(id(t)) if t is not None else None

    # -- machinery ------------------------------------------------------------------------------------------------
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

    def _inputs(self, args: tuple, kwargs: dict) -> list[Any]:
        return [self._states[id(t)] for t in self._tracked(args, kwargs)]

    def __torch_function__(self, func: Callable, types: tuple, args: tuple = (), kwargs: dict | None = None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        result = _first_tensor(out)
        name = getattr(func, "__name__", "")
        if result is None or name in IGNORED:
            return out
        tracked = self._tracked(args, kwargs)
        if not tracked:
            return out  # computed from weights or constants only
        sources = [self._states[id(t)] for t in tracked]
        depth = max(self._depths[id(t)] for t in tracked) + (name in WEIGHT_LAYERS)
        try:
            state = self._rule(name, args, kwargs, sources)
        except Exception:  # noqa: BLE001 — a rule that cannot read its arguments means "unsupported", not a crash
            state = UNSUPPORTED
        if state is UNSUPPORTED and not any(s is UNSUPPORTED for s in sources):
            self.unsupported.append(name or repr(func))
        self._set(result, state, depth)
        return out

    def _merge(self, sources: list[Any]) -> Any:
        if any(s is UNSUPPORTED for s in sources):
            return UNSUPPORTED
        if any(s is NONSPATIAL for s in sources):
            return NONSPATIAL if all(s is NONSPATIAL for s in sources) else UNSUPPORTED
        merged = sources[0]
        for s in sources[1:]:
            axes = tuple(a.union(b) for a, b in zip(merged, s))
            if any(a is None for a in axes):
                return UNSUPPORTED
            merged = axes
        return merged

    def _window(self, src: Any, k, s, p, d=1) -> Any:
        if not isinstance(src, tuple):
            return src
        n = len(src)
        if isinstance(p, str):
            if p != "valid":
                return UNSUPPORTED  # padding="same": asymmetric for even kernels
            p = 0
        k, s, p, d = _tuple(k, n), _tuple(s, n), _tuple(p, n), _tuple(d, n)
        return tuple(a.window(k[i], s[i], p[i], d[i]) for i, a in enumerate(src))

    def _rule(self, name: str, args: tuple, kwargs: dict, sources: list[Any]) -> Any:
        if name.startswith("conv") and "transpose" not in name and name[-2:] in ("1d", "2d", "3d"):
            a = _bind(CONV_SIG, args, kwargs)
            src = self._merge(self._inputs((a["input"],), {}))
            return self._window(src, tuple(a["weight"].shape[2:]), a["stride"], a["padding"], a["dilation"])
        if "max_pool" in name and "adaptive" not in name:
            a = _bind(MAX_POOL_SIG, args, kwargs)
            return self._window(sources[0], a["kernel_size"], a["stride"] or a["kernel_size"], a["padding"],
                                a["dilation"])
        if "avg_pool" in name and "adaptive" not in name:
            a = _bind(AVG_POOL_SIG, args, kwargs)
            return self._window(sources[0], a["kernel_size"], a["stride"] or a["kernel_size"], a["padding"])
        if name.startswith("adaptive_") and "pool" in name:
            a = _bind(ADAPTIVE_SIG, args, kwargs)
            src = sources[0]
            if not isinstance(src, tuple):
                return src
            sizes = tuple(a["input"].shape[-len(src):])
            outs = _tuple(a["output_size"], len(src))
            outs = tuple(sizes[i] if o is None else o for i, o in enumerate(outs))
            if any(size % o for size, o in zip(sizes, outs)):
                return UNSUPPORTED  # uneven windows: units differ in size, no single receptive field
            k = tuple(size // o for size, o in zip(sizes, outs))
            return self._window(src, k, k, 0)
        if name in ("cat", "concat", "concatenate", "stack"):
            a = _bind(CAT_SIG, args, kwargs)
            ndim = a["tensors"][0].dim()
            dim = a["dim"] % (ndim + (name == "stack"))
            if dim >= ndim - self.spatial_dims and all(isinstance(s, tuple) for s in sources):
                return UNSUPPORTED  # joined along a spatial axis
            return self._merge(sources)
        if name in ELEMENTWISE:
            return self._merge(sources)
        if name in MIXING:
            if all(s is NONSPATIAL for s in sources):
                return NONSPATIAL
            return UNSUPPORTED if any(s is UNSUPPORTED for s in sources) else NONSPATIAL
        return UNSUPPORTED


def _first_tensor(v: Any) -> torch.Tensor | None:
    if isinstance(v, (tuple, list)) and v:
        v = v[0]
    return v if isinstance(v, torch.Tensor) else None


def describe(state: Any) -> tuple[int | list[int] | None, int | list[int] | None, int | list[int] | None]:
    """(size, stride, padding) for the JSON: an int when all axes agree, a per-axis list otherwise; None if none."""
    if not isinstance(state, tuple) or not state:
        return None, None, None

    def pick(values: list[int]) -> int | list[int]:
        return values[0] if len(set(values)) == 1 else values

    return pick([a.r for a in state]), pick([a.j for a in state]), pick([-a.u for a in state])
