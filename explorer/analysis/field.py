"""The algebra of receptive fields along one spatial axis — periodic, so that upsampling stays exact.

After convolutions and poolings the units of a layer are alike: unit ``i`` sees input pixels
``[u + i·j, u + i·j + r)`` (Araujo, Norris, Sim, "Computing Receptive Fields of Convolutional Neural Networks",
Distill 2019). After a transposed convolution or an upsampling they are not: with stride 2, even and odd output
units see different input intervals, a staircase whose mean jump is ½ pixel. An :class:`Axis` therefore holds a
*period* of ``P`` units, each with its own interval, and the *shift* ``J`` one period moves them by: unit
``q·P + t`` sees ``[start_t + q·J, stop_t + q·J)``. With ``P = 1`` it is Distill's ``(r, j, u)``.

A layer whose unit ``o`` reads the units ``deps(o)`` of the previous one, with ``deps(o + a) = deps(o) + b``
(a convolution: ``a = 1, b = stride``; a transposed convolution: ``a = stride, b = 1``), maps an axis of period
``P`` to one of period ``a·P/gcd(P, b)``, shift ``J·b/gcd(P, b)``: each new unit sees the hull of what its inputs
see. Fields are not clipped at the border: a unit near it reaches into the padding (the effective padding).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any


@dataclass(frozen=True)
class Axis:
    """Receptive fields of a layer's units along one axis: ``spans[t]`` = [start, stop) of unit ``t`` of each
    period (in input pixels), ``shift`` = how far the next period's units are moved."""

    spans: tuple[tuple[int, int], ...]
    shift: int

    @classmethod
    def uniform(cls, r: int, j: int, u: int) -> Axis:
        """Distill's field: every unit ``r`` pixels wide, ``j`` pixels after the previous one, unit 0 at ``u``."""
        return cls(((u, u + r),), j)

    @property
    def period(self) -> int:
        return len(self.spans)

    def interval(self, i: int) -> tuple[int, int]:
        """The input pixels [start, stop) that unit ``i`` (any integer: past the border too) depends on."""
        q, t = divmod(i, self.period)
        start, stop = self.spans[t]
        return start + q * self.shift, stop + q * self.shift

    @property
    def r(self) -> int:
        """The size: the largest field over the units."""
        return max(stop - start for start, stop in self.spans)

    @property
    def jump(self) -> Fraction:
        """Mean input pixels from one unit to the next (the effective stride), exactly."""
        return Fraction(self.shift, self.period)

    @property
    def j(self) -> int | float:
        """The effective stride: an int when whole, else a float (0.5 after one 2× upsampling)."""
        jump = self.jump
        return int(jump) if jump.denominator == 1 else float(jump)

    @property
    def u(self) -> int:
        """Where unit 0's field starts (the effective padding is ``-u``)."""
        return self.spans[0][0]

    def gather(self, deps: Callable[[int], Sequence[int]], a: int, b: int) -> Axis | None:
        """The axis of a layer whose unit ``o`` reads units ``deps(o)`` of this one, ``deps(o + a) = deps(o) + b``.
        ``None`` when some unit reads nothing (a transposed convolution with a kernel smaller than its stride)."""
        g = math.gcd(self.period, b)
        spans = []
        for o in range(a * self.period // g):
            reads = [self.interval(m) for m in deps(o)]
            if not reads:
                return None
            spans.append((min(s for s, _ in reads), max(e for _, e in reads)))
        return Axis(tuple(spans), self.shift * b // g).reduced()

    def union(self, other: Axis) -> Axis | None:
        """What a unit sees through two paths (concatenation, addition); ``None`` for unequal mean jumps."""
        if self.jump != other.jump:
            return None
        period = math.lcm(self.period, other.period)
        spans = []
        for t in range(period):
            (a0, a1), (b0, b1) = self.interval(t), other.interval(t)
            spans.append((min(a0, b0), max(a1, b1)))
        return Axis(tuple(spans), int(self.jump * period)).reduced()

    def reduced(self) -> Axis:
        """The same field with its shortest period, so equal fields compare equal (and uniform ones have P = 1)."""
        n = self.period
        for p in range(1, n):
            if n % p or (self.shift * p) % n:
                continue
            k = self.shift * p // n
            if all(self.spans[t + p] == (self.spans[t][0] + k, self.spans[t][1] + k) for t in range(n - p)):
                return Axis(self.spans[:p], k)
        return self


class Marker:
    """A state without a field: see :data:`UNSUPPORTED` and :data:`NONSPATIAL`."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


UNSUPPORTED = Marker("UNSUPPORTED")  # an operation the analysis cannot reason about was on the path
NONSPATIAL = Marker("NONSPATIAL")  # spatial axes were mixed away (flatten, linear): no receptive field per unit

# The receptive field of a tensor: one Axis per spatial axis, or a Marker.
State = Any


def merge(sources: Sequence[State]) -> State:
    """The field of a unit computed from the same unit of several tensors: the union, axis by axis."""
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


def mixing(sources: Sequence[State]) -> State:
    """Flatten, linear, recurrent layers: the spatial axes become features, units have no field of their own."""
    return UNSUPPORTED if any(s is UNSUPPORTED for s in sources) else NONSPATIAL


def describe(state: State) -> tuple[Any, Any, Any]:
    """(size, stride, padding) for the JSON: a number when all axes agree, a per-axis list otherwise; None if none.
    The stride is an int where whole and a float below 1 (or between whole numbers) after upsampling."""
    if not isinstance(state, tuple) or not state:
        return None, None, None

    def pick(values: list[Any]) -> Any:
        return values[0] if len(set(values)) == 1 else values

    return pick([a.r for a in state]), pick([a.j for a in state]), pick([-a.u for a in state])
