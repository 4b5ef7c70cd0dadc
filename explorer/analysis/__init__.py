"""Per-layer analysis on the meta device: shapes, parameters, MACs, memory, receptive fields and the traced data flow.

What the analysis knows about each module type lives in one place, :mod:`explorer.analysis.rules`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__all__ = [
    "BatchChangeError", "Failure", "InputShapeError", "LayerRecord", "PartialSummary", "ReceptiveField", "Rule",
    "Summary", "analyze", "check_input_shape", "parse_input_shape", "register_rule", "rule_for", "smallest_input",
    "unregister_rule",
]

if TYPE_CHECKING:
    from .fit import Failure, smallest_input
    from .rules import Rule, register_rule, rule_for, unregister_rule
    from .summary import (
        BatchChangeError,
        InputShapeError,
        LayerRecord,
        PartialSummary,
        ReceptiveField,
        Summary,
        analyze,
        check_input_shape,
        parse_input_shape,
    )


# Public name → the submodule that defines it, imported on first use (PEP 562).
_LAZY = {
    "Failure": ".fit", "smallest_input": ".fit",
    "Rule": ".rules", "register_rule": ".rules", "rule_for": ".rules", "unregister_rule": ".rules",
    **{name: ".summary" for name in ("BatchChangeError", "InputShapeError", "LayerRecord", "PartialSummary",
                                     "ReceptiveField", "Summary", "analyze", "check_input_shape",
                                     "parse_input_shape")},
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = globals()[name] = getattr(importlib.import_module(_LAZY[name], __name__), name)
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
