"""Figures for "watch a convolution compute" (:mod:`explorer.lessons.convolution`): the window on the layer's input,
the kernel, the products and their sum, a channel map to pick a unit on, and a feature-map grid with one colour
scale per layer."""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..lessons.convolution import RankedMaps, Walkthrough

WINDOW_COLOR = "#d62728"
PAD_COLOR = "#bbbbbb"
MAP_SCALE = "Viridis"
SIGNED_SCALE = "RdBu"


def _cell_text(values: np.ndarray) -> np.ndarray:
    return np.vectorize(lambda v: "pad" if not np.isfinite(v) else f"{v:.2f}")(values)


def window_on_input(w: Walkthrough, in_channel: int = 0) -> go.Figure:
    """Input channel ``in_channel`` of the layer's input (the previous feature map), its zero padding shown as a
    grey border, the cells the unit reads marked (× on padding) and outlined."""
    lay = w.layer
    _, h, width = lay.input_shape
    ph, pw = lay.padding
    fig = go.Figure()
    fig.add_trace(go.Heatmap(
        z=w.layer_input[in_channel], x=list(range(width)), y=list(range(h)), colorscale="gray", showscale=False,
        hovertemplate="row %{y}, col %{x}: %{z:.3f}<extra>input</extra>",
    ))
    if ph or pw:  # the zero padding around the map, drawn as a frame
        for x0, x1, y0, y1 in ((-pw, width + pw, -ph, 0), (-pw, width + pw, h, h + ph), (-pw, 0, 0, h),
                               (width, width + pw, 0, h)):
            if x1 > x0 and y1 > y0:
                fig.add_shape(type="rect", x0=x0 - 0.5, x1=x1 - 0.5, y0=y0 - 0.5, y1=y1 - 0.5, line={"width": 0},
                              fillcolor=PAD_COLOR, opacity=0.5, layer="below")
    taps = [(r, c) for r in w.rows for c in w.cols]
    padded = [bool(w.padded[a, b]) for a in range(len(w.rows)) for b in range(len(w.cols))]
    fig.add_trace(go.Scatter(
        x=[c for _, c in taps], y=[r for r, _ in taps], mode="markers",
        marker={"symbol": ["x" if p else "square-open" for p in padded], "size": 9, "color": WINDOW_COLOR},
        text=["(padding: 0)" if p else "" for p in padded],
        hovertemplate="reads row %{y}, col %{x} %{text}<extra>window</extra>", showlegend=False,
    ))
    fig.add_shape(type="rect", x0=w.cols[0] - 0.5, x1=w.cols[-1] + 0.5, y0=w.rows[0] - 0.5, y1=w.rows[-1] + 0.5,
                  line={"color": WINDOW_COLOR, "width": 2})
    fig.update_xaxes(range=[-pw - 0.5, width + pw - 0.5], showgrid=False, zeroline=False, constrain="domain")
    fig.update_yaxes(range=[h + ph - 0.5, -ph - 0.5], showgrid=False, zeroline=False, scaleanchor="x")
    fig.update_layout(
        title=f"{lay.label}'s input, channel {in_channel}: rows {w.rows[0]} … {w.rows[-1]}, "
              f"columns {w.cols[0]} … {w.cols[-1]}",
        margin={"t": 40, "l": 0, "r": 0, "b": 0}, height=360,
    )
    return fig


def kernel_products(w: Walkthrough, channels: list[int]) -> go.Figure:
    """For each input channel in ``channels``: the window it reads (padding marked), the kernel, and their
    element-wise products, values written in the cells; each row titled with that channel's sum."""
    n = len(channels)
    titles = []
    for c in channels:
        titles += [f"in {c}: window", f"× kernel {w.channel}/{c}", f"= products, Σ {w.channel_sums[c]:.3f}"]
    fig = make_subplots(rows=n, cols=3, subplot_titles=titles, horizontal_spacing=0.06,
                        vertical_spacing=min(0.12, 0.5 / max(1, n)))
    kmax = float(np.abs(w.kernel[channels]).max()) or 1.0
    pmax = float(np.abs(w.products[channels]).max()) or 1.0
    for row, c in enumerate(channels, start=1):
        shown = np.where(w.padded, np.nan, w.window[c])
        cells = (
            (shown, "gray", None, None, "window"),
            (w.kernel[c], SIGNED_SCALE, -kmax, kmax, "weight"),
            (w.products[c], SIGNED_SCALE, -pmax, pmax, "product"),
        )
        for col, (z, scale, lo, hi, what) in enumerate(cells, start=1):
            fig.add_trace(go.Heatmap(
                z=z, colorscale=scale, zmin=lo, zmax=hi, showscale=False, xgap=1, ygap=1,
                text=_cell_text(z), texttemplate="%{text}", textfont={"size": 10},
                hovertemplate=f"tap (%{{y}}, %{{x}}): %{{z:.4f}}<extra>{what}</extra>",
            ), row=row, col=col)
            fig.update_yaxes(autorange="reversed", showticklabels=False, row=row, col=col)
            fig.update_xaxes(showticklabels=False, row=row, col=col)
    fig.update_layout(height=60 + 170 * n, margin={"t": 40, "l": 0, "r": 0, "b": 0})
    return fig


def contributions(w: Walkthrough, shown: int = 8) -> go.Figure:
    """The sum as a waterfall: the largest per-channel sums, the other channels together, the bias, and the
    unit's value; then each step after the convolution (batch norm, activation, pooling) as its own bar."""
    order = np.argsort(-np.abs(w.channel_sums), kind="stable")
    top = [int(c) for c in order[:shown]]
    rest = [int(c) for c in order[shown:]]
    x = [f"in {c}" for c in top]
    y = [float(w.channel_sums[c]) for c in top]
    measure = ["relative"] * len(top)
    if rest:
        x.append(f"{len(rest)} other channels")
        y.append(float(w.channel_sums[rest].sum()))
        measure.append("relative")
    x += ["bias", f"{w.layer.label} = Σ + b"]
    y += [w.bias, w.value]
    measure += ["relative", "total"]
    fig = go.Figure(go.Waterfall(
        x=x, y=y, measure=measure, text=[f"{v:+.3f}" if m == "relative" else f"{v:.4f}" for v, m in zip(y, measure)],
        textposition="outside", connector={"line": {"color": "#888"}},
        hovertemplate="%{x}: %{y:.4f}<extra></extra>",
    ))
    after = [(s.label, s.value) for s in w.steps]
    if w.pooling is not None:
        after.append((f"{w.pooling.label} ({w.pooling.mode})", w.pooling.value))
    if after:
        fig.add_trace(go.Bar(x=[a for a, _ in after], y=[v for _, v in after], marker_color="#2ca02c",
                             text=[f"{v:.4f}" for _, v in after], textposition="outside",
                             hovertemplate="%{x}: %{y:.4f}<extra></extra>", showlegend=False))
    fig.update_layout(title=f"Unit ({w.channel}, {w.row}, {w.col}) of {w.layer.label}: per-channel sums → value",
                      height=360, margin={"t": 40, "l": 0, "r": 0, "b": 0}, showlegend=False)
    return fig


def unit_picker(fmap: np.ndarray, row: int, col: int, zmin: float, zmax: float, title: str) -> go.Figure:
    """One channel's map with a clickable point on every unit (plotly selection events) and the chosen unit
    ringed; the colour range is the layer's, the same as the feature-map grid's."""
    h, w = fmap.shape
    rows, cols = np.mgrid[0:h, 0:w]
    fig = go.Figure(go.Heatmap(z=fmap, zmin=zmin, zmax=zmax, colorscale=MAP_SCALE, colorbar={"thickness": 12},
                               hoverinfo="skip"))
    fig.add_trace(go.Scatter(
        x=cols.ravel(), y=rows.ravel(), mode="markers", customdata=fmap.ravel(),
        marker={"size": max(4, min(22, 320 // max(h, w))), "color": "rgba(0,0,0,0)", "symbol": "square"},
        hovertemplate="unit (%{y}, %{x}): %{customdata:.4f}<extra>click to pick</extra>", showlegend=False,
    ))
    fig.add_trace(go.Scatter(x=[col], y=[row], mode="markers", hoverinfo="skip", showlegend=False,
                             marker={"size": 14, "symbol": "square-open", "color": WINDOW_COLOR,
                                     "line": {"width": 3}}))
    fig.update_xaxes(showgrid=False, zeroline=False, constrain="domain", range=[-0.5, w - 0.5])
    fig.update_yaxes(showgrid=False, zeroline=False, scaleanchor="x", range=[h - 0.5, -0.5])
    fig.update_layout(title=title, height=360, margin={"t": 40, "l": 0, "r": 0, "b": 0}, clickmode="event+select",
                      dragmode=False)
    return fig


def feature_map_grid(ranked: RankedMaps, columns: int = 8) -> go.Figure:
    """The ranked channels, strongest first, all on the layer's one colour scale, with its colour bar."""
    n = len(ranked.channels)
    columns = max(1, min(columns, n))
    rows = math.ceil(n / columns)
    titles = [f"ch {c} · {ranked.by} {s:.2f}" for c, s in zip(ranked.channels, ranked.scores)]
    fig = make_subplots(rows=rows, cols=columns, subplot_titles=titles, horizontal_spacing=0.01,
                        vertical_spacing=min(0.08, 0.3 / rows))
    for k, fmap in enumerate(ranked.maps):
        fig.add_trace(go.Heatmap(
            z=fmap, zmin=ranked.zmin, zmax=ranked.zmax, colorscale=MAP_SCALE, showscale=k == 0,
            colorbar={"title": {"text": "activation"}, "thickness": 12},
            hovertemplate=f"channel {ranked.channels[k]}, unit (%{{y}}, %{{x}}): %{{z:.3f}}<extra></extra>",
        ), row=k // columns + 1, col=k % columns + 1)
    fig.update_xaxes(showticklabels=False, ticks="", showgrid=False, zeroline=False, constrain="domain")
    fig.update_yaxes(showticklabels=False, ticks="", showgrid=False, zeroline=False, autorange="reversed")
    for k in range(n):
        fig.update_yaxes(scaleanchor=f"x{k + 1 if k else ''}", row=k // columns + 1, col=k % columns + 1)
    fig.update_annotations(font_size=10)
    fig.update_layout(
        title=f"{ranked.stage}: top {n} channels by {ranked.by} activation; one colour scale "
              f"{ranked.zmin:.3f} … {ranked.zmax:.3f}",
        height=40 + 150 * rows, margin={"t": 60, "l": 0, "r": 0, "b": 0},
    )
    return fig


def step_lines(w: Walkthrough) -> list[tuple[str, str]]:
    """(step, what happens, with the numbers) for each step of the walkthrough, in order."""
    lay = w.layer
    kh, kw = lay.kernel_size
    (sh, sw), (ph, pw), (dh, dw) = lay.stride, lay.padding, lay.dilation
    padded = int(w.padded.sum())
    lines = [
        ("window", f"Unit ({w.row}, {w.col}) of out channel {w.channel} reads input rows {w.rows[0]} … {w.rows[-1]} "
                   f"and columns {w.cols[0]} … {w.cols[-1]} of "
                   + (f"all {lay.in_channels} input channels" if lay.in_channels > 1 else "its one input channel")
                   + f": row = "
                   f"{w.row}·{sh} − {ph} + tap·{dh}, column = {w.col}·{sw} − {pw} + tap·{dw}"
                   + (f"; {padded} of its {kh}×{kw} positions are padding (zeros)" if padded else "")),
        ("products", f"Multiply each of the {w.window.size} values by its kernel weight "
                     f"({lay.in_channels}×{kh}×{kw} weights of out channel {w.channel})"),
        ("sum + bias", f"Σ products = {w.total:.4f}; + bias {w.bias:+.4f} = {w.value:.4f} "
                       f"(the forward pass computed {w.forward:.4f})"),
    ]
    for s in w.steps:
        lines.append((s.kind, f"{s.label}: {s.formula} (the forward pass: {s.forward:.4f})"))
    if w.pooling is not None:
        p = w.pooling
        lines.append(("pooling", f"{p.label} ({p.mode} pooling): pooled unit {p.unit} reads rows {p.rows[0]} … "
                                 f"{p.rows[-1]}, columns {p.cols[0]} … {p.cols[-1]}; {p.formula} "
                                 f"(the forward pass: {p.forward:.4f})"))
    return lines
