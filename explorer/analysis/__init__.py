"""Per-layer analysis on the meta device: shapes, parameters, MACs, memory, receptive fields and the traced data flow.

What the analysis knows about each module type lives in one place, :mod:`explorer.analysis.rules`.
"""

from __future__ import annotations

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

__all__ = [
    "BatchChangeError",
    "Failure",
    "InputShapeError",
    "LayerRecord",
    "PartialSummary",
    "ReceptiveField",
    "Rule",
    "Summary",
    "analyze",
    "check_input_shape",
    "parse_input_shape",
    "register_rule",
    "rule_for",
    "smallest_input",
    "unregister_rule",
]
