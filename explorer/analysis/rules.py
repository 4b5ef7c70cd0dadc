"""Shape arithmetic: the formula that turned a layer's input size into its output size, as a readable string.

One small rule per module type, dispatched by base class (as torchscan does for its statistics). A type without
a rule gets ``None``: the table then shows the shapes alone.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from torch import nn

Rule = Callable[[nn.Module, Sequence[int], Sequence[int]], "str | None"]


def _pair(v, n: int) -> tuple[int, ...]:
    return tuple(v) if isinstance(v, (tuple, list)) else (v,) * n


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


def _sliding(module: nn.Module, inp: Sequence[int], out: Sequence[int]) -> str | None:
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
    names = ("H", "W") if n == 2 else tuple(f"dim{i}" for i in range(n))
    return ", ".join(f"{name}: {part}" for name, part in zip(names, parts))


def _transposed(module: nn.Module, inp: Sequence[int], out: Sequence[int]) -> str | None:
    n = len(out) - 2
    k, s = _pair(module.kernel_size, n), _pair(module.stride, n)
    p, d = _pair(module.padding, n), _pair(module.dilation, n)
    op = _pair(module.output_padding, n)
    parts = [
        f"({inp[2 + i]} − 1)·{s[i]} − 2·{p[i]} + {d[i]}·({k[i]} − 1) + {op[i]} + 1 = {out[2 + i]}" for i in range(n)
    ]
    return parts[0] if len(set(parts)) == 1 else ", ".join(parts)


def _adaptive(module: nn.Module, inp: Sequence[int], out: Sequence[int]) -> str | None:
    return "adaptive: " + "×".join(str(i) for i in inp[2:]) + " → " + "×".join(str(o) for o in out[2:])


def _linear(module: nn.Module, inp: Sequence[int], out: Sequence[int]) -> str | None:
    return f"{module.in_features} → {module.out_features} features"


def _flatten(module: nn.Module, inp: Sequence[int], out: Sequence[int]) -> str | None:
    start = module.start_dim % len(inp)
    end = module.end_dim % len(inp)
    dims = inp[start:end + 1]
    if len(dims) < 2:
        return None
    return "·".join(str(v) for v in dims) + f" = {out[start]}"


RULES: tuple[tuple[type, Rule], ...] = (
    ((nn.modules.conv._ConvTransposeNd,), _transposed),
    ((nn.modules.conv._ConvNd, nn.modules.pooling._MaxPoolNd, nn.modules.pooling._AvgPoolNd), _sliding),
    ((nn.modules.pooling._AdaptiveAvgPoolNd, nn.modules.pooling._AdaptiveMaxPoolNd), _adaptive),
    ((nn.Linear,), _linear),
    ((nn.Flatten,), _flatten),
)


def shape_arithmetic(
    module: nn.Module, input_shape: Sequence[int] | None, output_shape: Sequence[int] | None
) -> str | None:
    """The formula giving ``output_shape`` from ``input_shape`` for ``module``, or ``None`` without a rule."""
    if not input_shape or not output_shape:
        return None
    for types, rule in RULES:
        if isinstance(module, types):
            try:
                return rule(module, list(input_shape), list(output_shape))
            except (AttributeError, IndexError, TypeError, ZeroDivisionError):
                return None
    return None
