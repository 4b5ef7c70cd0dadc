"""Per-layer analysis: shapes, parameters, MACs, memory (and, as they land, receptive fields)."""

from __future__ import annotations

from .summary import (
    InputShapeError,
    LayerRecord,
    ReceptiveField,
    Summary,
    analyze,
    check_input_shape,
    parse_input_shape,
)

__all__ = [
    "InputShapeError",
    "LayerRecord",
    "ReceptiveField",
    "Summary",
    "analyze",
    "check_input_shape",
    "parse_input_shape",
]
