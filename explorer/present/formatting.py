"""Numbers as people read them: exact integers with separators, short forms (62.4 M), bytes, shapes."""

from __future__ import annotations

from collections.abc import Sequence

from ..i18n import gettext as _


def short(n: float, unit: str = "") -> str:
    """62378344 → '62.4 M'; 1135915368 → '1.14 G'; 61706 → '61.7 K'; 999999 → '1 M' (three significant digits)."""
    value, prefixes, i = float(n), ("", " K", " M", " G", " T"), 0
    while abs(value) >= 1000 and i < len(prefixes) - 1:
        value, i = value / 1000, i + 1
    value = float(f"{value:.3g}")
    if abs(value) >= 1000 and i < len(prefixes) - 1:  # rounding carried over: 999.9 K → 1 M
        value, i = value / 1000, i + 1
    text = f"{value:.3g}" if abs(value) < 100 else f"{value:.0f}"
    suffix = prefixes[i] + unit if prefixes[i] else (f" {unit}" if unit else "")
    return text + suffix


def exact(n: int) -> str:
    """62378344 → '62,378,344'."""
    return f"{int(n):,}"


def exact_and_short(n: int) -> str:
    """'62,378,344 (62.4 M)': the exact integer beside the short form, as the app shows every total."""
    return f"{exact(n)} ({short(n)})" if abs(n) >= 1000 else exact(n)


BYTE_UNITS = ("B", "KiB", "MiB", "GiB")


def nbytes(n: float, decimals: int = 2) -> str:
    """Bytes in binary units (1 KiB = 1024 B), the one style of every page, table and chart:
    2408448 → '2.30 MiB'; 60000 → '58.59 KiB'; ``decimals=0`` for round axis ticks: 65536 → '64 KiB'."""
    value = float(n)
    for suffix in BYTE_UNITS:
        if abs(value) < 1024 or suffix == BYTE_UNITS[-1]:
            return f"{value:.0f} {suffix}" if suffix == "B" else f"{value:.{decimals}f} {suffix}"
        value /= 1024
    raise AssertionError("unreachable")


def byte_ticks(low: float, high: float, log: bool = False) -> tuple[list[float], list[str]]:
    """Axis ticks for a chart of byte counts between ``low`` and ``high``, labelled with :func:`nbytes` — so a
    chart's axis reads like the tables beside it (binary units), never plotly's SI '60 K'.

    Linear: 0 and round multiples of one binary unit (1, 2, 5 × 10ᵏ of it). Logarithmic: powers of 4 (1, 4, 16,
    64, 256 of each unit)."""
    high = max(float(high), 1.0)
    if log:
        low = max(float(low), 1.0)
        values, v = [], 1.0
        while v <= high * 4:
            if v >= low / 4:
                values.append(v)
            v *= 4
        return values, [nbytes(v, 0) for v in values]
    unit = 1024 ** max(i for i in range(len(BYTE_UNITS)) if high >= 1024**i or i == 0)
    span = high / unit  # 1 ≤ span < 1024 in that unit
    step = next(s * 10**k for k in range(-1, 4) for s in (1, 2, 5) if span / (s * 10**k) <= 6)
    decimals = 1 if step < 1 else 0
    count = int(span / step + 1e-9) + 1
    values = [i * step * unit for i in range(count + 1)]
    return values, [nbytes(v, decimals) for v in values]


def ratio(value: float, baseline: float) -> str:
    """'12.3×' — ``value`` over ``baseline`` with three significant digits ('—' when the baseline is 0)."""
    if not baseline:
        return "—"
    r = value / baseline
    return f"{r:,.3g}×" if r < 1000 else f"{r:,.0f}×"


def shape(dims: Sequence[int] | None, batch: bool = False) -> str:
    """(1, 96, 55, 55) → '96×55×55' (the batch dimension dropped unless ``batch``)."""
    if dims is None:
        return "—"
    dims = list(dims) if batch else list(dims[1:])
    return "×".join(str(d) for d in dims) if dims else "scalar"


NONE = "—"  # a value a run does not have (yet): no accuracy before its first completed epoch


def accuracy_text(value: float | None) -> str:
    """An accuracy as every page writes it: 0.8735 → '87.35 %'; ``None`` (no completed epoch yet) → '—'."""
    return NONE if value is None else f"{100 * value:.2f} %"


def duration(seconds: float) -> str:
    """A time span as the pages write it, in the reader's language: ``42 s``, ``3 min 05 s``, ``1 h 02 min``."""
    seconds = int(round(seconds))
    if seconds >= 3600:
        return _("{h} h {min} min").format(h=seconds // 3600, min=f"{seconds % 3600 // 60:02d}")
    if seconds >= 60:
        return _("{min} min {s} s").format(min=seconds // 60, s=f"{seconds % 60:02d}")
    return _("{s} s").format(s=seconds)
