"""Plotly figures built from analysis results. Numbers in, figures out: no streamlit here."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from . import formatting as fmt
from .analysis import LayerRecord, Summary

METRICS = {
    "params": ("Parameters", "params_total"),
    "macs": ("MACs", "macs_total"),
}


def visible_rows(summary: Summary, max_depth: int | None = None) -> list[LayerRecord]:
    """The rows a reader sees with blocks deeper than ``max_depth`` collapsed: leaves above it, blocks at it."""
    if max_depth is None:
        max_depth = max(r.depth for r in summary.layers)
    return [
        r for r in summary.layers
        if r.depth >= 1 and ((r.is_leaf and r.depth <= max_depth) or (not r.is_leaf and r.depth == max_depth))
    ]


def shape_flow(summary: Summary, max_depth: int | None = None) -> go.Figure:
    """Spatial size (H and W) and channels after every visible layer with a C×H×W output, in execution order.

    With ``max_depth`` below the deepest level, each block counts as one step (its output), so branching nets
    (Inception's four paths) read as a sequence of blocks instead of a zigzag through their branches.
    """
    rows = [r for r in visible_rows(summary, max_depth) if r.output_shape is not None and len(r.output_shape) == 4]
    x = [f"{i + 1}. {r.name} ({r.type})" for i, r in enumerate(rows)]
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_trace(
        go.Scatter(x=x, y=[r.output_shape[2] for r in rows], name="height", mode="lines+markers", line_shape="hv"),
        secondary_y=False,
    )
    if any(r.output_shape[2] != r.output_shape[3] for r in rows):
        fig.add_trace(
            go.Scatter(x=x, y=[r.output_shape[3] for r in rows], name="width", mode="lines+markers", line_shape="hv"),
            secondary_y=False,
        )
    fig.add_trace(
        go.Bar(x=x, y=[r.output_shape[1] for r in rows], name="channels", opacity=0.35),
        secondary_y=True,
    )
    fig.update_yaxes(title_text="spatial size (px)", secondary_y=False, rangemode="tozero")
    fig.update_yaxes(title_text="channels", secondary_y=True, rangemode="tozero", showgrid=False)
    fig.update_xaxes(showticklabels=len(rows) <= 40, tickangle=-45)
    fig.update_layout(
        title="Shape flow: spatial size and channels through the network",
        hovermode="x unified",
        legend={"orientation": "h", "y": 1.1},
        margin={"t": 70, "b": 10},
    )
    return fig


def by_type(summary: Summary, metric: str = "params") -> go.Figure:
    """Share of parameters or MACs per module type (Conv2d, Linear, BatchNorm2d …)."""
    label, _ = METRICS[metric]
    totals: dict[str, int] = defaultdict(int)
    for r in summary.leaves:
        totals[r.type] += getattr(r, metric)
    items = sorted(((t, v) for t, v in totals.items() if v > 0), key=lambda kv: -kv[1])
    fig = go.Figure(go.Bar(
        x=[t for t, _ in items],
        y=[v for _, v in items],
        text=[fmt.short(v) for _, v in items],
        hovertemplate="%{x}: %{y:,}<extra></extra>",
    ))
    fig.update_layout(title=f"{label} by layer type", yaxis_title=label, margin={"t": 50, "b": 10})
    return fig


def by_block(summary: Summary, metric: str = "params") -> go.Figure:
    """Treemap of parameters or MACs over the block hierarchy (click a block to zoom into it)."""
    label, total_attr = METRICS[metric]
    ids, parents, values, labels = [], [], [], []
    for r in summary.layers:
        value = getattr(r, total_attr)
        if value <= 0:
            continue
        ids.append(str(r.index))
        parents.append(str(r.parent) if r.parent is not None else "")
        values.append(value)
        name = r.name.rsplit(".", 1)[-1] if r.name else summary.model
        labels.append(f"{name}: {r.type}")
    fig = go.Figure(go.Treemap(
        ids=ids,
        parents=parents,
        values=values,
        labels=labels,
        branchvalues="total",
        hovertemplate="%{label}<br>%{value:,}<br>%{percentRoot:.1%} of the model<extra></extra>",
        maxdepth=3,
    ))
    fig.update_layout(title=f"{label} by block", margin={"t": 50, "l": 0, "r": 0, "b": 0})
    return fig


def compare_bars(names: Sequence[str], values: Sequence[float], title: str, log: bool = False) -> go.Figure:
    """One bar per model; exact values on hover, short values as labels."""
    fig = go.Figure(go.Bar(
        x=list(names),
        y=list(values),
        text=[fmt.short(v) for v in values],
        hovertemplate="%{x}: %{y:,}<extra></extra>",
    ))
    fig.update_layout(title=title, margin={"t": 50, "b": 10})
    fig.update_yaxes(type="log" if log else "linear")
    return fig
