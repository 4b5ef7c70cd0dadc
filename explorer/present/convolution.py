"""Figures for "watch a convolution compute" (:mod:`explorer.lessons.convolution`): the window on the layer's input,
the kernel, the products and their sum, a channel map to pick a unit on, and a feature-map grid with one colour
scale per layer."""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..i18n import gettext
from ..lessons.convolution import RankedMaps, Walkthrough

WINDOW_COLOR = "#d62728"
PAD_COLOR = "#bbbbbb"
MAP_SCALE = "Viridis"
SIGNED_SCALE = "RdBu"


def _cell_text(values: np.ndarray) -> np.ndarray:
    pad = gettext("pad")
    return np.vectorize(lambda v: pad if not np.isfinite(v) else f"{v:.2f}")(values)


def window_on_input(w: Walkthrough, in_channel: int = 0) -> go.Figure:
    """Input channel ``in_channel`` of the layer's input (the previous feature map), its zero padding shown as a
    grey border, the cells the unit reads marked (× on padding) and outlined."""
    lay = w.layer
    _, h, width = lay.input_shape
    ph, pw = lay.padding
    fig = go.Figure()
    fig.add_trace(go.Heatmap(
        z=w.layer_input[in_channel], x=list(range(width)), y=list(range(h)), colorscale="gray", showscale=False,
        hovertemplate=gettext("row %{y}, col %{x}: %{z:.3f}<extra>input</extra>"),
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
        text=[gettext("(padding: 0)") if p else "" for p in padded],
        hovertemplate=gettext("reads row %{y}, col %{x} %{text}<extra>window</extra>"), showlegend=False,
    ))
    fig.add_shape(type="rect", x0=w.cols[0] - 0.5, x1=w.cols[-1] + 0.5, y0=w.rows[0] - 0.5, y1=w.rows[-1] + 0.5,
                  line={"color": WINDOW_COLOR, "width": 2})
    fig.update_xaxes(range=[-pw - 0.5, width + pw - 0.5], showgrid=False, zeroline=False, constrain="domain")
    fig.update_yaxes(range=[h + ph - 0.5, -ph - 0.5], showgrid=False, zeroline=False, scaleanchor="x")
    fig.update_layout(
        title=gettext("{layer}'s input, channel {c}: rows {r0} … {r1}, columns {c0} … {c1}").format(
            layer=lay.label, c=in_channel, r0=w.rows[0], r1=w.rows[-1], c0=w.cols[0], c1=w.cols[-1]),
        margin={"t": 40, "l": 0, "r": 0, "b": 0}, height=360,
    )
    return fig


def kernel_products(w: Walkthrough, channels: list[int]) -> go.Figure:
    """For each input channel in ``channels``: the window it reads (padding marked), the kernel, and their
    element-wise products, values written in the cells; each row titled with that channel's sum."""
    n = len(channels)
    titles = []
    for c in channels:
        titles += [gettext("in {c}: window").format(c=c), gettext("× kernel {o}/{c}").format(o=w.channel, c=c),
                   gettext("= products, Σ {s}").format(s=f"{w.channel_sums[c]:.3f}")]
    fig = make_subplots(rows=n, cols=3, subplot_titles=titles, horizontal_spacing=0.06,
                        vertical_spacing=min(0.12, 0.5 / max(1, n)))
    kmax = float(np.abs(w.kernel[channels]).max()) or 1.0
    pmax = float(np.abs(w.products[channels]).max()) or 1.0
    for row, c in enumerate(channels, start=1):
        shown = np.where(w.padded, np.nan, w.window[c])
        cells = (
            (shown, "gray", None, None, gettext("window")),
            (w.kernel[c], SIGNED_SCALE, -kmax, kmax, gettext("weight")),
            (w.products[c], SIGNED_SCALE, -pmax, pmax, gettext("product")),
        )
        for col, (z, scale, lo, hi, what) in enumerate(cells, start=1):
            fig.add_trace(go.Heatmap(
                z=z, colorscale=scale, zmin=lo, zmax=hi, showscale=False, xgap=1, ygap=1,
                text=_cell_text(z), texttemplate="%{text}", textfont={"size": 10},
                hovertemplate=gettext("tap (%{y}, %{x}): %{z:.4f}") + f"<extra>{what}</extra>",
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
    x = [gettext("in {c}").format(c=c) for c in top]
    y = [float(w.channel_sums[c]) for c in top]
    measure = ["relative"] * len(top)
    if rest:
        x.append(gettext("{n} other channels").format(n=len(rest)))
        y.append(float(w.channel_sums[rest].sum()))
        measure.append("relative")
    x += [gettext("bias"), f"{w.layer.label} = Σ + b"]
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
    fig.update_layout(title=gettext("Unit ({c}, {r}, {k}) of {layer}: per-channel sums → value").format(
        c=w.channel, r=w.row, k=w.col, layer=w.layer.label),
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
        hovertemplate=gettext("unit (%{y}, %{x}): %{customdata:.4f}<extra>click to pick</extra>"), showlegend=False,
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
    titles = [gettext("ch {c} · {by} {score}").format(c=c, by=gettext(ranked.by), score=f"{s:.2f}")
              for c, s in zip(ranked.channels, ranked.scores)]
    fig = make_subplots(rows=rows, cols=columns, subplot_titles=titles, horizontal_spacing=0.01,
                        vertical_spacing=min(0.08, 0.3 / rows))
    for k, fmap in enumerate(ranked.maps):
        fig.add_trace(go.Heatmap(
            z=fmap, zmin=ranked.zmin, zmax=ranked.zmax, colorscale=MAP_SCALE, showscale=k == 0,
            colorbar={"title": {"text": gettext("activation")}, "thickness": 12},
            hovertemplate=gettext("channel {c}, unit").format(c=ranked.channels[k]) + " (%{y}, %{x}): %{z:.3f}"
            "<extra></extra>",
        ), row=k // columns + 1, col=k % columns + 1)
    fig.update_xaxes(showticklabels=False, ticks="", showgrid=False, zeroline=False, constrain="domain")
    fig.update_yaxes(showticklabels=False, ticks="", showgrid=False, zeroline=False, autorange="reversed")
    for k in range(n):
        fig.update_yaxes(scaleanchor=f"x{k + 1 if k else ''}", row=k // columns + 1, col=k % columns + 1)
    fig.update_annotations(font_size=10)
    fig.update_layout(
        title=gettext("{stage}: top {n} channels by {by} activation; one colour scale {lo} … {hi}").format(
            stage=ranked.stage, n=n, by=gettext(ranked.by), lo=f"{ranked.zmin:.3f}", hi=f"{ranked.zmax:.3f}"),
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
        ("window", gettext("Unit ({r}, {c}) of out channel {o} reads input rows {r0} … {r1} and columns {c0} … {c1} "
                           "of {which}: row = {r}·{sh} − {ph} + tap·{dh}, column = {c}·{sw} − {pw} + tap·{dw}").format(
            r=w.row, c=w.col, o=w.channel, r0=w.rows[0], r1=w.rows[-1], c0=w.cols[0], c1=w.cols[-1],
            which=(gettext("all {n} input channels").format(n=lay.in_channels) if lay.in_channels > 1
                   else gettext("its one input channel")), sh=sh, ph=ph, dh=dh, sw=sw, pw=pw, dw=dw)
            + (gettext("; {n} of its {kh}×{kw} positions are padding (zeros)").format(n=padded, kh=kh, kw=kw)
               if padded else "")),
        ("products", gettext("Multiply each of the {n} values by its kernel weight ({ci}×{kh}×{kw} weights of out "
                             "channel {o})").format(n=w.window.size, ci=lay.in_channels, kh=kh, kw=kw, o=w.channel)),
        ("sum + bias", gettext("Σ products = {total}; + bias {bias} = {value} (the forward pass computed {forward})"
                               ).format(total=f"{w.total:.4f}", bias=f"{w.bias:+.4f}", value=f"{w.value:.4f}",
                                        forward=f"{w.forward:.4f}")),
    ]
    for s in w.steps:
        lines.append((s.kind, gettext("{label}: {formula} (the forward pass: {forward})").format(
            label=s.label, formula=s.formula, forward=f"{s.forward:.4f}")))
    if w.pooling is not None:
        p = w.pooling
        lines.append(("pooling", gettext("{label} ({mode} pooling): pooled unit {unit} reads rows {r0} … {r1}, columns "
                                         "{c0} … {c1}; {formula} (the forward pass: {forward})").format(
            label=p.label, mode=gettext(p.mode), unit=p.unit, r0=p.rows[0], r1=p.rows[-1], c0=p.cols[0],
            c1=p.cols[-1], formula=p.formula, forward=f"{p.forward:.4f}")))
    return lines
