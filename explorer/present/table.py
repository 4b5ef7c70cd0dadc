"""The layer table, built in one place for every reader: the Architecture page, the smaller tables of other pages,
the CLI's ``summary`` text and the CSV export.

What differs between them is a parameter here, not a copy there:

* which rows — every module call in execution order (``depth=None``), the leaves only (``leaves=True``), or the
  view with blocks deeper than ``depth`` collapsed into one row each, which then carries the block's totals;
* which columns — keys of :data:`COLUMNS` (``CSV_COLUMNS`` in :mod:`.export` uses the same keys);
* the cells' form — ``style``: ``"data"`` the numbers and facts themselves, ``"csv"`` the export's cells, ``"display"``
  what a page shows (counts stay numbers so they sort and sum), ``"text"`` plain strings (counts exact with
  thousands separators, or short with ``short=True``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any, Literal

from ..analysis import LayerRecord, Summary
from ..i18n import N_, InvalidValue, UnknownKey
from . import formatting as fmt

if TYPE_CHECKING:
    import pandas as pd

Style = Literal["data", "csv", "display", "text"]

COLLAPSED_MARK = "▸ "  # starts the name of a row that stands for a whole block (display style)


def _same(value: Any) -> Any:
    return value


def _axes(value: int | float | list | None) -> str:
    """A receptive field or stride as text: "7", or "1×7" when the axes differ (Inception-v3's 1×7 convolutions)."""
    return "" if value is None else "×".join(map(str, value)) if isinstance(value, list) else str(value)


def _json_or_empty(value: Any) -> str:
    return json.dumps(value) if value is not None else ""


def _or_empty(value: str | None) -> str:
    return value or ""


def _outline(r: LayerRecord) -> str:
    """The module's own name (last part of its path) and type, indented by its depth: the tree as text."""
    return "  " * r.depth + (r.name.rsplit(".", 1)[-1] + ": " if r.name else "") + r.type


@dataclass(frozen=True)
class Column:
    """One column: its header on the pages, its value (a number or a fact) for a row, and that value's form in a CSV
    cell, on a page and in plain text. ``value`` gets ``collapsed``: whether the row stands for a whole block."""

    header: str
    value: Callable[[LayerRecord, bool], Any]
    csv: Callable[[Any], Any] = _same
    display: Callable[[Any], Any] = _same
    text: Callable[[Any], str] = str
    count: bool = False  # a parameter or MAC count: text is exact ("34,944") or short ("34.9 K")


COLUMNS: dict[str, Column] = {
    "index": Column(N_("index"), lambda r, _: r.index),
    "label": Column(N_("label"), lambda r, _: r.label),  # the papers' name (conv1, fc6, res3a), beside the path
    "name": Column(N_("layer"), lambda r, _: r.name),
    "outline": Column(N_("layer"), lambda r, _: _outline(r)),
    "type": Column(N_("type"), lambda r, _: r.type),
    "depth": Column(N_("depth"), lambda r, _: r.depth),
    "output_shape": Column(
        N_("output shape"), lambda r, _: r.output_shape,
        csv=lambda s: "x".join(map(str, s)) if s else "", display=fmt.shape, text=fmt.shape,
    ),
    # A collapsed block's row carries everything inside it, so the column still sums to the model's total.
    "params": Column(N_("params"), lambda r, collapsed: r.params_total if collapsed else r.params, count=True),
    "macs": Column(N_("MACs"), lambda r, collapsed: r.macs_total if collapsed else r.macs, count=True),
    "memory_bytes": Column(
        N_("memory (KiB)"), lambda r, _: r.memory, display=lambda b: round(b / 1024, 1), text=fmt.nbytes,
    ),
    "rf": Column(N_("RF"), lambda r, _: r.rf, csv=_json_or_empty, display=_axes, text=lambda v: _axes(v) or "—"),
    "stride": Column(N_("stride"), lambda r, _: r.stride, csv=_json_or_empty, display=_axes,
                     text=lambda v: _axes(v) or "—"),
    "arithmetic": Column(N_("shape arithmetic"), lambda r, _: r.arithmetic, csv=_or_empty, display=_or_empty,
                         text=_or_empty),
    "extra": Column(N_("hyper-parameters"), lambda r, _: r.extra),
}

# The parameter count as a formula, where the analysis states one (an optional field of LayerRecord): shown when
# the records have it, so the table does not depend on it.
HAS_PARAM_FORMULA = "param_formula" in {f.name for f in fields(LayerRecord)}
if HAS_PARAM_FORMULA:
    COLUMNS["param_formula"] = Column(N_("parameter formula"), lambda r, _: getattr(r, "param_formula", None),
                                      csv=_or_empty, display=_or_empty, text=_or_empty)

# The Architecture page's table: every fact about a layer, in reading order — the display label first, its module
# path beside it. (No "depth" column: the page's block-depth slider and the ▸ rows show the hierarchy, and in the
# notes' flat nets every layer is at depth 1.)
PAGE_COLUMNS: tuple[str, ...] = (
    "label", "name", "type", "output_shape", "params", "macs", "memory_bytes", "arithmetic", "rf", "stride", "extra",
    *(("param_formula",) if HAS_PARAM_FORMULA else ()),
)
# The short table of a page about one block: what each layer is, what it outputs, what it weighs.
BRIEF_COLUMNS: tuple[str, ...] = ("name", "type", "output_shape", "params")


def visible_layers(
    summary: Summary, depth: int | None = None, leaves: bool = False
) -> list[tuple[LayerRecord, bool]]:
    """The rows in execution order, each with whether it is collapsed (stands for a whole block).

    ``depth=None``: every module call, the model itself and its containers too (as ``summary --json``).
    ``leaves=True``: the leaf layers only. ``depth=d``: what a reader sees with blocks deeper than ``d`` collapsed —
    the leaves down to depth ``d``, and each block at depth ``d`` as one row.
    """
    if leaves:
        if depth is not None:
            raise InvalidValue(N_("give either depth or leaves=True, not both"))
        return [(r, False) for r in summary.leaves]
    if depth is None:
        return [(r, False) for r in summary.layers]
    return [
        (r, not r.is_leaf) for r in summary.layers
        if r.depth >= 1 and ((r.is_leaf and r.depth <= depth) or (not r.is_leaf and r.depth == depth))
    ]


def _cell(column: Column, record: LayerRecord, collapsed: bool, style: Style, short: bool) -> Any:
    value = column.value(record, collapsed)
    if style == "data":
        return value
    if style == "csv":
        return column.csv(value)
    if style == "display":
        return column.display(value)
    if column.count:
        return fmt.short(value) if short else fmt.exact(value)
    return column.text(value)


def layer_rows(
    summary: Summary,
    columns: Sequence[str] = PAGE_COLUMNS,
    *,
    depth: int | None = None,
    leaves: bool = False,
    style: Style = "data",
    short: bool = False,
) -> list[dict[str, Any]]:
    """One dict per row (see :func:`visible_layers` for ``depth``/``leaves``), keyed by the column keys given, cells
    in ``style``. ``short`` (text style) writes counts as "62.4 M" instead of "62,378,344"."""
    unknown = [c for c in columns if c not in COLUMNS]
    if unknown:
        raise UnknownKey(N_("unknown layer-table column(s) {unknown}; known: {known}"), unknown=unknown,
                         known=list(COLUMNS))
    rows = []
    for record, collapsed in visible_layers(summary, depth, leaves):
        row = {key: _cell(COLUMNS[key], record, collapsed, style, short) for key in columns}
        marked = "label" if "label" in row else "name"  # the first name a reader reads
        if style == "display" and collapsed and marked in row:
            row[marked] = COLLAPSED_MARK + row[marked]
        rows.append(row)
    return rows


def layer_frame(
    summary: Summary, columns: Sequence[str] = PAGE_COLUMNS, *, depth: int | None = None, leaves: bool = False
) -> pd.DataFrame:
    """The display-style rows as a pandas DataFrame headed by the columns' page headers ("layer", "MACs", "RF" …)."""
    import pandas as pd  # imported here: the CLI and the exports build rows without pandas

    rows = layer_rows(summary, columns, depth=depth, leaves=leaves, style="display")
    headers = [COLUMNS[c].header for c in columns]
    return pd.DataFrame([list(row.values()) for row in rows], columns=headers)
