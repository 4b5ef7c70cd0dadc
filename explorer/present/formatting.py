"""Numbers as people read them: exact integers with separators, short forms (62.4 M), bytes, shapes."""

from __future__ import annotations

from collections.abc import Sequence


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


def nbytes(n: int) -> str:
    """Bytes in binary units: 2408448 → '2.30 MiB'."""
    value = float(n)
    for suffix in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or suffix == "GiB":
            return f"{value:.0f} {suffix}" if suffix == "B" else f"{value:.2f} {suffix}"
        value /= 1024
    return f"{value:.2f} GiB"


def shape(dims: Sequence[int] | None, batch: bool = False) -> str:
    """(1, 96, 55, 55) → '96×55×55' (the batch dimension dropped unless ``batch``)."""
    if dims is None:
        return "—"
    dims = list(dims) if batch else list(dims[1:])
    return "×".join(str(d) for d in dims) if dims else "scalar"
