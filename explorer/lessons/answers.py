"""A learner's typed answer read in every natural form, in either language.

Shapes: ``256x13x13``, ``256×13×13``, ``(256, 13, 13)``, ``1,256,13,13`` (a batch of 1 in front is dropped),
``[256，13，13]`` (Chinese punctuation). Counts: ``614656``, ``614,656``, ``614 656``, and rounded forms —
``0.61M``, ``614.7K``, ``6.1e5``, ``61.5万``, ``4.5亿`` — which say how precise they are (``0.61M`` is good to
±5,000). Receptive fields: ``7, 4``, ``7x7, stride 4``, ``size 7 stride 4``.

Reading never raises on a learner's text: an answer that cannot be read is ``None``, and the page says which form
it expects.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass

# Multiplication signs and the words people put between dimensions, all read as one separator.
_TIMES = "×✕✖⨯∗*·"
_SUFFIXES = {
    "k": 10**3, "thousand": 10**3, "m": 10**6, "million": 10**6, "mio": 10**6, "g": 10**9, "b": 10**9,
    "billion": 10**9, "t": 10**12, "万": 10**4, "亿": 10**8, "千": 10**3, "百万": 10**6,
}
_COUNT = re.compile(
    r"^(?P<mantissa>\d[\d,_ ]*(?:\.\d+)?|\.\d+)\s*(?:e(?P<exp>[+-]?\d+))?\s*(?P<suffix>[a-z\u4e00-\u9fff]*)$"
)
_GROUPED = re.compile(r"^\d{1,3}(?:[, _]\d{3})+$")


def normalize_answer(text: str) -> str:
    """NFKC (full-width digits and ，（）： become ASCII), Chinese list marks and multiplication signs made plain,
    lower case, outer spaces gone."""
    text = unicodedata.normalize("NFKC", str(text)).lower().strip()
    text = text.replace("、", ",").replace("；", ";").replace("。", "")
    for sign in _TIMES:
        text = text.replace(sign, "x")
    return text


@dataclass(frozen=True)
class Count:
    """A count as typed: its value and the unit of its last written digit (``1`` for an exact integer; ``10000``
    for ``0.61M``) — a rounded answer is right when the truth rounds to it at that unit."""

    value: float
    unit: float = 1.0

    @property
    def exact(self) -> bool:
        return self.unit <= 1 and float(self.value).is_integer()

    def matches(self, truth: int) -> bool:
        """Equal to ``truth`` at the precision written (an exact count: equal)."""
        if self.exact:
            return int(self.value) == truth
        return abs(self.value - truth) <= self.unit / 2 * (1 + 1e-9)

    def significant(self, truth: int) -> int:
        """How many significant figures of ``truth`` this answer gives (its unit against the truth's size)."""
        if truth <= 0:
            return 99
        return int(math.floor(math.log10(truth)) - math.floor(math.log10(self.unit)) + 1) if self.unit > 0 else 99


_WORDS = re.compile(r"(parameters?|params?|macs?|mac|flops?|个|参数|次|乘加|像素|px|pixels?)")


def parse_count(text: str) -> Count | None:
    """``"614,656"`` → Count(614656); ``"0.61M"`` → Count(610000, unit 10000); ``None`` if it is not a count."""
    t = _WORDS.sub("", normalize_answer(text)).strip()
    m = _COUNT.match(t)
    if not m:
        return None
    mantissa, exp, suffix = m["mantissa"].strip(), m["exp"], m["suffix"].strip()
    scale = 1
    if suffix:
        if suffix not in _SUFFIXES:
            return None
        scale = _SUFFIXES[suffix]
    whole, _dot, decimals = mantissa.partition(".")
    if any(c in whole for c in ", _"):
        if not _GROUPED.match(whole):  # 614,65 or 6 14: not thousands separators
            return None
        whole = re.sub(r"[, _]", "", whole)
    power = int(exp) if exp else 0
    value = float(f"{whole or 0}.{decimals or 0}") * scale * 10.0**power
    unit = 10.0 ** (-len(decimals)) * scale * 10.0**power
    if scale == 1 and not exp and not decimals:
        return Count(int(whole))
    return Count(round(value, 6), unit)


def parse_ints(text: str) -> list[int] | None:
    """Every integer of a list typed with any separators (x × , space ; brackets): ``"(256, 13, 13)"`` →
    [256, 13, 13]; ``None`` if something else is in the way (a decimal point, a letter other than x)."""
    t = normalize_answer(text)
    t = re.sub(r"[\[\](){}<>]", " ", t)
    parts = [p for p in re.split(r"[x,;\s]+", t) if p]
    if not parts or not all(p.isdigit() for p in parts):
        return None
    return [int(p) for p in parts]


def parse_shape(text: str, rank: int = 3) -> tuple[int, ...] | None:
    """A feature map's shape (C, H, W by default); a leading batch of 1 is dropped: ``"1,256,13,13"`` →
    (256, 13, 13)."""
    ints = parse_ints(text)
    if ints is None:
        return None
    if len(ints) == rank + 1 and ints[0] == 1:
        ints = ints[1:]
    return tuple(ints)


_FIELD_WORDS = re.compile(r"(receptive field|field|size|stride|jump|effective|r\s*=|j\s*=|s\s*=|感受野|大小|步幅|"
                          r"有效|尺寸|像素|px|pixels?|:)")


def parse_field(text: str) -> tuple[int, int] | None:
    """(size, stride) from ``"7, 4"``, ``"7x7, stride 4"``, ``"size 7 stride 4"``, ``"感受野 7×7，步幅 4"``."""
    t = _FIELD_WORDS.sub(" ", normalize_answer(text))
    t = re.sub(r"\b(\d+)\s*x\s*\1\b", r"\1", t)  # 7x7 → 7
    ints = parse_ints(t)
    if ints is None or len(ints) != 2:
        return None
    return ints[0], ints[1]


def parse_side(text: str) -> int | None:
    """The side S of a square input from ``"67"``, ``"67x67"``, ``"1x67x67"``, ``"(1, 67, 67)"``."""
    ints = parse_ints(text)
    if not ints:
        return None
    if len(ints) == 1:
        return ints[0]
    if len(set(ints[-2:])) == 1 and len(ints) <= 4:
        return ints[-1]
    return None
