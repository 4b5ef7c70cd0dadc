"""Plotly figures built from analysis results. Numbers in, figures out: no streamlit here."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..analysis import LayerRecord, Summary
from ..analysis.summary import final_field_layer
from ..i18n import N_, gettext
from . import formatting as fmt
from . import table

METRICS = {
    "params": (N_("Parameters"), "params_total"),
    "macs": (N_("MACs"), "macs_total"),
}


def _merging_blocks(summary: Summary) -> list[LayerRecord]:
    """Blocks whose paths run side by side and meet in a concatenation (Inception): the block's output is not its
    last layer's (more channels). Outermost first; a block inside one of them is left out."""
    leaves_inside: dict[int, LayerRecord] = {}
    parents = {r.index: r.parent for r in summary.layers}
    for r in summary.leaves:
        p = r.parent
        while p is not None:
            leaves_inside[p] = r  # execution order: the last one wins
            p = parents.get(p)
    found: list[LayerRecord] = []
    for r in summary.layers:
        last = leaves_inside.get(r.index)
        if (not r.is_leaf and r.depth >= 1 and last is not None and r.output_shape is not None
                and len(r.output_shape) == 4 and last.output_shape != r.output_shape
                and not any(_inside(r, b, parents) for b in found)):
            found.append(r)
    return found


def _inside(record: LayerRecord, block: LayerRecord, parents: Mapping[int, int | None]) -> bool:
    p = record.parent
    while p is not None:
        if p == block.index:
            return True
        p = parents.get(p)
    return False


def _integer_axis(top: float) -> dict:
    """Ticks on whole numbers only (sizes and channel counts): 0, a round step, …"""
    step = 1
    for candidate in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000):
        step = candidate
        if top / candidate <= 8:
            break
    return {"tick0": 0, "dtick": step, "tickformat": ",d", "rangemode": "tozero"}


def shape_flow(
    summary: Summary, max_depth: int | None = None, labels: Mapping[str, str] | None = None
) -> go.Figure:
    """Spatial size (H and W) and channels after every visible layer with a C×H×W output, in execution order,
    starting from the input itself, then the features after each flat layer to the last one (flatten, fc6 … fc8: the
    classifier is part of the network's flow), each step named by its display label (``labels``: module path → label,
    else the records' own ``label``).

    With ``max_depth`` below the deepest level, each block counts as one step (its output). A block whose paths run
    side by side and meet in a concatenation (Inception) is always one step: drawn one path after another, its
    branches would make the channel bars jump up and down."""
    deepest = max(r.depth for r in summary.layers) if max_depth is None else max_depth
    merging = _merging_blocks(summary)
    parents = {r.index: r.parent for r in summary.layers}
    rows: list[LayerRecord] = []
    for r, _ in table.visible_layers(summary, deepest):
        inner = next((b for b in merging if _inside(r, b, parents)), None)
        if inner is not None:
            if inner.depth <= deepest and (not rows or rows[-1] is not inner):
                rows.append(inner)  # the block's output, once, where its last layer ends
            continue
        rows.append(r)
    # a merging block's own row (at max_depth == its depth) stays; keep feature maps and flat feature vectors
    rows = [r for i, r in enumerate(rows) if r.output_shape is not None and len(r.output_shape) in (2, 4)
            and (i == 0 or rows[i - 1] is not r)]
    if len(summary.input_shape) == 4:  # the input is the first step: the sizes start where the image does
        rows = [LayerRecord(index=-1, name="input", type="input", depth=0, parent=None, is_leaf=True,
                            input_shape=None, output_shape=summary.input_shape, params=0, params_total=0, macs=0,
                            macs_total=0, memory=0, arithmetic=None, extra="", label="input"), *rows]

    def name(r: LayerRecord) -> str:
        return (labels or {}).get(r.name) or r.label or r.name or r.type

    x = list(range(len(rows)))
    names = [name(r) for r in rows]
    names = [gettext("input") if r.name == "input" and r.index == -1 else n for n, r in zip(names, rows)]
    hover = [f"{n} ({r.name}, {r.type})" if r.name not in (n, "input") else f"{n} ({r.type})"
             for n, r in zip(names, rows)]
    maps = [r.output_shape if len(r.output_shape) == 4 else None for r in rows]  # None: a flat layer
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    template = "%{text}<br>%{y:,d}<extra>%{fullData.name}</extra>"
    fig.add_trace(
        go.Scatter(x=x, y=[m[2] if m else None for m in maps], name=gettext("height"), mode="lines+markers",
                   line_shape="hv",
                   text=hover, hovertemplate=template),
        secondary_y=False,
    )
    if any(m[2] != m[3] for m in maps if m):
        fig.add_trace(
            go.Scatter(x=x, y=[m[3] if m else None for m in maps], name=gettext("width"), mode="lines+markers",
                       line_shape="hv", text=hover, hovertemplate=template),
            secondary_y=False,
        )
    fig.add_trace(
        go.Bar(x=x, y=[m[1] if m else None for m in maps], name=gettext("channels"), opacity=0.35, text=hover,
               textposition="none", hovertemplate=template),
        secondary_y=True,
    )
    if not all(maps):  # the flat layers' features, in their own colour on the same axis
        fig.add_trace(
            go.Bar(x=x, y=[None if m else r.output_shape[1] for m, r in zip(maps, rows)], name=gettext("features"),
                   opacity=0.35, text=hover, textposition="none", hovertemplate=template),
            secondary_y=True,
        )
    spatial_top = max((max(m[2:]) for m in maps if m), default=1)
    channel_top = max((r.output_shape[1] for r in rows), default=1)
    fig.update_yaxes(title_text=gettext("spatial size (px)"), secondary_y=False, **_integer_axis(spatial_top))
    fig.update_yaxes(title_text=gettext("channels") if all(maps) else gettext("channels / features"),
                     secondary_y=True, showgrid=False, **_integer_axis(channel_top))
    every = max(1, -(-len(rows) // 40))  # at most ~40 names, every n-th beyond that
    ticks = sorted({*x[::every], x[-1]})  # the last layer always named
    fig.update_xaxes(tickvals=ticks, ticktext=[names[i] for i in ticks], tickangle=-45, range=[-0.6, len(rows) - 0.4])
    fig.update_layout(
        title=gettext("Shape flow: spatial size and channels through the network"),
        hovermode="closest",
        legend={"orientation": "h", "y": 1.1},
        margin={"t": 70, "b": 10},
    )
    return fig


def feature_flow(summary: Summary, labels: Mapping[str, str] | None = None) -> go.Figure:
    """For a network without feature maps (an MLP, a recurrent net, a Hopfield net, a transformer's FFN): the
    features after every layer, starting from the input, as bars; for a sequence (N, T, features), the number of
    time steps beside them as a line — each step of a recurrent layer gives one hidden state of that many features.
    """
    steps: list[tuple[str, str, tuple[int, ...]]] = [
        (gettext("input"), gettext("the input"), tuple(summary.input_shape))]
    for r in summary.leaves:
        if r.output_shape is not None and len(r.output_shape) >= 2:
            shown = (labels or {}).get(r.name) or r.label or r.name or r.type
            steps.append((shown, f"{shown} ({r.name}, {r.type})" if r.name != shown else f"{shown} ({r.type})",
                          tuple(r.output_shape)))
    x = list(range(len(steps)))
    features = [math.prod(shape[1:]) if len(shape) == 4 else shape[-1] for _, _, shape in steps]
    sequence = [shape[1] if len(shape) == 3 else None for _, _, shape in steps]
    hover = [f"{text}: {'×'.join(map(str, shape[1:]))}" for _, text, shape in steps]
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    bars = gettext("features (per time step)") if any(sequence) else gettext("features")
    fig.add_trace(go.Bar(x=x, y=features, name=bars,
                         text=[f"{f:,}" for f in features], textposition="inside", opacity=0.45, customdata=hover,
                         hovertemplate="%{customdata}<extra></extra>"), secondary_y=False)
    if any(sequence):
        fig.add_trace(go.Scatter(x=x, y=sequence, name=gettext("time steps"), mode="lines+markers", line_shape="hv",
                                 customdata=hover, hovertemplate="%{customdata}<extra></extra>"), secondary_y=True)
        fig.update_yaxes(title_text=gettext("time steps T"), secondary_y=True, showgrid=False,
                         **_integer_axis(max(v for v in sequence if v)))
        steps_text = sorted({v for v in sequence if v})
        title = gettext("Features per time step through the network ({steps} steps, each step the same layers and "
                        "weights)").format(steps=", ".join(map(str, steps_text)))
    else:
        title = gettext("Features through the network (no feature maps here: nothing spatial to draw)")
    fig.update_yaxes(title_text=gettext("features"), secondary_y=False, **_integer_axis(max(features) * 1.15))
    fig.update_xaxes(tickvals=x, ticktext=[name for name, _, _ in steps], tickangle=-45,
                     range=[-0.6, len(steps) - 0.4])
    fig.update_layout(title=title, hovermode="closest", legend={"orientation": "h", "y": 1.1},
                      margin={"t": 70, "b": 10})
    return fig


def layer_flow(
    summary: Summary, max_depth: int | None = None, labels: Mapping[str, str] | None = None
) -> go.Figure:
    """:func:`shape_flow` where a layer outputs feature maps (C×H×W), :func:`feature_flow` otherwise."""
    if any(r.output_shape is not None and len(r.output_shape) == 4 for r in summary.leaves):
        return shape_flow(summary, max_depth, labels)
    return feature_flow(summary, labels)


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
    fig.update_layout(title=gettext("{metric} by layer type").format(metric=gettext(label)), yaxis_title=gettext(label),
                      margin={"t": 50, "b": 10})
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
        hovertemplate="%{label}<br>%{value:,}<br>" + gettext("%{percentRoot:.1%} of the model") + "<extra></extra>",
        maxdepth=3,
    ))
    fig.update_layout(title=gettext("{metric} by block").format(metric=gettext(label)),
                      margin={"t": 50, "l": 0, "r": 0, "b": 0})
    return fig


def compare_bars(
    names: Sequence[str],
    values: Sequence[float],
    title: str,
    log: bool = False,
    unit: str = "count",
    baseline: str | None = None,
) -> go.Figure:
    """One bar per model. ``unit="count"``: short values as labels (62.4 M), exact on hover; ``unit="bytes"``:
    labels, hover and axis ticks in binary units by :func:`formatting.nbytes`, as the tables print bytes.
    ``baseline`` (one of ``names``): every hover also gives the value as a multiple of the baseline's."""
    values = [float(v) for v in values]
    label = fmt.nbytes if unit == "bytes" else fmt.short
    hover = [fmt.nbytes(v) if unit == "bytes" else f"{v:,.0f}" for v in values]
    if baseline in names:
        base = values[list(names).index(baseline)]
        hover = [f"{h} · {fmt.ratio(v, base)} {baseline}" for h, v in zip(hover, values, strict=True)]
    fig = go.Figure(go.Bar(
        x=list(names), y=values, text=[label(v) for v in values], customdata=hover,
        hovertemplate="%{x}: %{customdata}<extra></extra>",
    ))
    fig.update_layout(title=title, margin={"t": 50, "b": 10})
    fig.update_yaxes(type="log" if log else "linear")
    if unit == "bytes" and values:
        positive = [v for v in values if v > 0] or [1.0]
        tickvals, ticktext = fmt.byte_ticks(min(positive), max(values), log)
        fig.update_yaxes(tickmode="array", tickvals=tickvals, ticktext=ticktext)
    else:
        fig.update_yaxes(tickformat="~s")  # 16G, as formatting.short writes 15.5 G (never plotly's "16B")
    return fig


def accuracy_scatter(points: Sequence, title: str, x_title: str = N_("parameters")) -> go.Figure:
    """Parameters against accuracy, one marker per model, for ONE dataset (never mixed): ``points`` are objects with
    ``model``, ``params`` and ``accuracy`` (a fraction)."""
    fig = go.Figure(go.Scatter(
        x=[p.params for p in points], y=[p.accuracy for p in points], mode="markers+text",
        text=[p.model for p in points], textposition="top center", marker={"size": 12},
        customdata=[fmt.exact_and_short(p.params) for p in points],
        hovertemplate="%{text}<br>" + gettext("%{customdata} parameters") + "<br>%{y:.2%}<extra></extra>",
    ))
    fig.update_layout(title=title, margin={"t": 50, "b": 10})
    xs = [np.log10(max(1, p.params)) for p in points] or [0.0]
    ys = [p.accuracy for p in points] or [0.0]
    fig.update_xaxes(title_text=gettext(x_title), type="log", tickformat="~s", dtick=1,
                     range=[min(xs) - 0.4, max(xs) + 0.4])
    fig.update_yaxes(title_text=gettext("test accuracy"), tickformat=".1%", range=[min(ys) - 0.02, max(ys) + 0.02])
    return fig


def shape_thumbnail(summary: Summary, width: int = 240, height: int = 48) -> str:
    """A small SVG of a network's shape flow for a gallery card: one bar per weight layer (convolution, linear) in
    execution order, its height the output channels (log scale), its shade the spatial size (dark = large map,
    pale = small), so LeNet's five bars, VGG's doubling stages and ResNet's long run read at a glance."""
    rows = [r for r in summary.leaves if r.category in ("convolution", "fully connected") and r.output_shape]
    if not rows:
        rows = [r for r in summary.leaves if r.output_shape]
    channels = [max(1, r.output_shape[1]) if len(r.output_shape) > 1 else 1 for r in rows]
    spatial = [max(r.output_shape[2:], default=1) if len(r.output_shape) > 2 else 1 for r in rows]
    top_c, top_s = max(channels, default=1), max(spatial, default=1)
    n = max(1, len(rows))
    gap = 1 if n > 40 else 2
    bar = max(1.0, (width - gap * (n - 1)) / n)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img"><title>{summary.model}: {len(rows)} weight layers, '
             'bar height = channels, shade = spatial size</title>']
    for i, (c, sp) in enumerate(zip(channels, spatial, strict=True)):
        h = 4 + (height - 4) * (np.log2(c) / np.log2(top_c) if top_c > 1 else 1)
        shade = 0.25 + 0.75 * (np.log2(sp) / np.log2(top_s) if top_s > 1 else 0)  # 1 = the largest map
        r, g, b = (int(235 - shade * (235 - v)) for v in (31, 119, 180))  # pale → plotly blue
        parts.append(f'<rect x="{i * (bar + gap):.1f}" y="{height - h:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                     f'fill="rgb({r},{g},{b})"/>')
    parts.append("</svg>")
    return "".join(parts)


# --- receptive fields ---------------------------------------------------------------------------------------------
def rf_growth(summaries: dict[str, Summary]) -> go.Figure:
    """Receptive field size and effective stride against depth (weight layers from the input), models overlaid.

    Each curve ends at the model's final field (:func:`explorer.analysis.summary.final_field_layer`, the one rule
    the summary's ``receptive_field`` follows too): the deepest output larger than 1×1. Global pooling after it sees
    the whole input by construction, so the curve and the table under it give the same last number."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=(gettext("Receptive field (px)"),
                                                                 gettext("Effective stride (px)")))
    strides: list[float] = []
    for i, (name, summary) in enumerate(summaries.items()):
        final = final_field_layer(summary.layers)
        if final is None or final.weight_depth is None:
            continue
        # Per depth, the widest field among the layers at that depth: branches (Inception's paths) run side by
        # side at the same depth, and the block's output sees the union of them.
        widest: dict[int, LayerRecord] = {}
        for r in summary.leaves:
            if (r.field is not None and r.weight_depth is not None and r.weight_depth <= final.weight_depth
                    and r.output_shape is not None and math.prod(r.output_shape[2:]) > 1):
                best = widest.get(r.weight_depth)
                if best is None or r.field[0].r >= best.field[0].r:
                    widest[r.weight_depth] = r
        widest[final.weight_depth] = final  # the last point is the final field itself
        x = sorted(widest)
        rows = [widest[d] for d in x]
        hover = [f"{name} · {r.label or r.name} ({r.type})" for r in rows]
        color = _COLORS[i % len(_COLORS)]
        strides += [r.field[0].j for r in rows]
        for col, values in ((1, [r.field[0].r for r in rows]), (2, [r.field[0].j for r in rows])):
            fig.add_trace(
                go.Scatter(
                    x=x, y=values, name=name, legendgroup=name, showlegend=col == 1, mode="lines+markers",
                    line={"color": color}, text=hover, hovertemplate="%{text}<br>%{y} px<extra></extra>",
                ),
                row=1, col=col,
            )
    fig.update_xaxes(title_text=gettext("weight layers from the input"))
    # powers of two, written out: a log axis would otherwise label 20 and 30 as "2" and "3"
    top = max(strides, default=1)
    ticks = [2 ** k for k in range(-4, 12) if 2 ** k <= 2 * top and 2 ** k >= min(strides, default=1) / 2]
    fig.update_yaxes(type="log", row=1, col=2, tickvals=ticks, ticktext=[f"{t:g}" for t in ticks])
    fig.update_layout(margin={"t": 40, "b": 10}, legend={"orientation": "h", "y": -0.2}, hovermode="closest")
    return fig


_COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf")


# The effective field over an image: transparent below 5 % of its peak (the threshold the page's area uses), then
# warm and more opaque towards the peak — never a tint over the whole picture.
ERF_SCALE = [[0.0, "rgba(255,90,0,0)"], [0.05, "rgba(255,90,0,0)"], [0.3, "rgba(255,110,0,0.45)"],
             [1.0, "rgba(255,235,0,0.85)"]]


def field_on_image(
    image: np.ndarray, box: tuple[int, int, int, int] | None, heat: np.ndarray | None = None, title: str = ""
) -> go.Figure:
    """An H×W (gray) or H×W×3 image in [0, 1], the theoretical field as a box (y0, y1, x0, x1; half-open, may
    reach past the border) and, optionally, the effective field as a translucent heatmap."""
    fig = go.Figure()
    if image.ndim == 2:
        fig.add_trace(go.Heatmap(z=image, colorscale="gray", showscale=False, hoverinfo="skip"))
    else:
        fig.add_trace(go.Image(z=(np.clip(image, 0, 1) * 255).astype(np.uint8), hoverinfo="skip"))
    if heat is not None:
        fig.add_trace(go.Heatmap(  # see-through where the gradient is small: the image stays readable under it
            z=heat, colorscale=ERF_SCALE, zmin=0, zmax=1, colorbar={"title": "ERF"},
            hovertemplate=gettext("row %{y}, col %{x}: %{z:.3f}") + "<extra>" + gettext("effective field")
            + "</extra>",
        ))
    if box is not None:
        y0, y1, x0, x1 = box
        fig.add_shape(type="rect", x0=x0 - 0.5, x1=x1 - 0.5, y0=y0 - 0.5, y1=y1 - 0.5,
                      line={"color": "#00e5ff", "width": 3})
    h, w = image.shape[:2]
    pad_y = max(0, -box[0], box[1] - h) if box else 0
    pad_x = max(0, -box[2], box[3] - w) if box else 0
    fig.update_xaxes(range=[-0.5 - pad_x, w - 0.5 + pad_x], showgrid=False, constrain="domain")
    fig.update_yaxes(range=[h - 0.5 + pad_y, -0.5 - pad_y], showgrid=False, scaleanchor="x")
    fig.update_layout(title=title, margin={"t": 40, "l": 0, "r": 0, "b": 0}, height=520)
    return fig


def grid_heatmap(grid: np.ndarray, title: str, colorscale: str = "Blues", label: str = "value") -> go.Figure:
    """A small integer grid (kernel taps, gridding counts) as a heatmap with square cells."""
    fig = go.Figure(go.Heatmap(
        z=grid, colorscale=colorscale, xgap=1, ygap=1, showscale=bool(grid.max() > 1),
        hovertemplate=gettext("row %{y}, col %{x}: %{z}") + f" {label}<extra></extra>",
    ))
    fig.update_yaxes(autorange="reversed", scaleanchor="x", showgrid=False)
    fig.update_xaxes(showgrid=False, constrain="domain")
    fig.update_layout(title=title, margin={"t": 40, "l": 0, "r": 0, "b": 0}, height=360)
    return fig


NEVER_SEEN = "#ffffff"  # a pixel no path reaches: blank, whatever else the scale shows
SEEN = ("#c6dbef", "#08306b")  # seen once … by the most paths: light to dark blue


def paths_heatmap(grid: np.ndarray, title: str) -> go.Figure:
    """How many paths reach the top unit from each input pixel (:func:`explorer.analysis.dilation.gridding`), on one
    scale that keeps "never seen" apart: 0 is blank, 1 already a visible blue, the most paths the darkest — so a stack
    with holes (2,2,2) and one without (1,2,4,8) read alike, and the legend names both ends."""
    top = max(int(grid.max()), 1)
    step = 0.5 / top  # counts are whole: anything below 0.5 is 0
    scale = [[0.0, NEVER_SEEN], [step, NEVER_SEEN], [step, SEEN[0]], [1.0, SEEN[1]]]
    ticks = sorted({0, 1, top, *([(top + 1) // 2] if top > 3 else [])})
    text = {0: gettext("0: never seen"), 1: gettext("1 path"), top: gettext("{n} paths").format(n=top)}
    fig = go.Figure(go.Heatmap(
        z=grid, colorscale=scale, zmin=0, zmax=top, xgap=1, ygap=1,
        colorbar={"title": gettext("paths to the top unit"), "tickvals": ticks,
                  "ticktext": [text.get(t, str(t)) for t in ticks], "outlinewidth": 1},
        hovertemplate=gettext("row %{y}, col %{x}: %{z}") + " " + gettext("paths") + "<extra></extra>",
    ))
    fig.update_yaxes(autorange="reversed", scaleanchor="x", showgrid=False)
    fig.update_xaxes(showgrid=False, constrain="domain")
    fig.update_layout(title=title, margin={"t": 40, "l": 0, "r": 0, "b": 0}, height=360, plot_bgcolor="#9e9e9e")
    return fig


def growth_curves(curves: dict[str, Sequence[int]]) -> go.Figure:
    """Receptive field after each layer, one line per stack."""
    fig = go.Figure()
    for name, sizes in curves.items():
        fig.add_trace(go.Scatter(x=list(range(1, len(sizes) + 1)), y=list(sizes), name=name, mode="lines+markers"))
    fig.update_layout(
        title=gettext("Receptive field after each layer"), xaxis_title=gettext("layer"),
        yaxis_title=gettext("receptive field (px)"),
        margin={"t": 40, "b": 10}, height=360,
    )
    return fig


# --- classification -----------------------------------------------------------------------------------------------
def top_k(top: Sequence[tuple[str, float]], title: str = "Top classes") -> go.Figure:
    """Horizontal bars of the top-k probabilities, best on top."""
    labels = [label for label, _ in top][::-1]
    probs = [p for _, p in top][::-1]
    fig = go.Figure(go.Bar(
        x=probs, y=labels, orientation="h", text=[f"{p:.1%}" for p in probs], textposition="auto",
        hovertemplate="%{y}: %{x:.2%}<extra></extra>",
    ))
    fig.update_xaxes(range=[0, 1], tickformat=".0%")
    fig.update_layout(title=title, margin={"t": 40, "b": 10}, height=60 + 40 * len(top))
    return fig


def channel_grid(maps: np.ndarray, columns: int = 8, limit: int = 64) -> np.ndarray:
    """C×H×W activations → one grayscale mosaic (each channel scaled to [0, 1] on its own, 1-px gaps)."""
    maps = maps[:limit]
    c, h, w = maps.shape
    rows = -(-c // columns)
    cols = min(columns, c)
    mosaic = np.ones((rows * (h + 1) - 1, cols * (w + 1) - 1), dtype=np.float32)
    for i, m in enumerate(maps):
        lo, hi = float(m.min()), float(m.max())
        tile = (m - lo) / (hi - lo) if hi > lo else np.zeros_like(m)
        r, q = divmod(i, cols)
        mosaic[r * (h + 1):r * (h + 1) + h, q * (w + 1):q * (w + 1) + w] = tile
    return mosaic


# --- the notes' other families: sequences, energy-based networks, pooling, blocks ---------------------------------
def length_sweep(points: Sequence, current: int | None = None) -> go.Figure:
    """Parameters and MACs of a recurrent layer against the sequence length
    (``explorer.lessons.recurrent.LengthPoint``s): the parameters are flat, the MACs grow with every step."""
    x = [p.seq_len for p in points]
    fig = make_subplots(rows=1, cols=2, subplot_titles=(gettext("Parameters"), gettext("MACs per sequence")))
    fig.add_trace(go.Scatter(x=x, y=[p.params for p in points], mode="lines+markers", name=gettext("parameters"),
                             hovertemplate=gettext("T = %{x}: %{y:,} parameters") + "<extra></extra>"), row=1, col=1)
    fig.add_trace(go.Scatter(x=x, y=[p.macs for p in points], mode="lines+markers", name="MACs",
                             hovertemplate=gettext("T = %{x}: %{y:,} MACs") + "<extra></extra>"), row=1, col=2)
    if current is not None:
        for col in (1, 2):
            fig.add_vline(x=current, line_dash="dot", line_color="#888", row=1, col=col)
    fig.update_xaxes(title_text=gettext("sequence length T"))
    fig.update_yaxes(rangemode="tozero")
    fig.update_layout(showlegend=False, margin={"t": 40, "b": 10}, height=340)
    return fig


def energy_curve(energies: Sequence[float], neurons: int, title: str = "Energy E = −(1/2) sᵀWs") -> go.Figure:
    """The Hopfield energy after every single-neuron update; dotted lines mark the end of each sweep."""
    energies = list(energies)
    fig = go.Figure(go.Scatter(
        x=list(range(len(energies))), y=energies, mode="lines", name=gettext("energy"),
        hovertemplate=gettext("after %{x:,} updates: E = %{y:.2f}") + "<extra></extra>",
    ))
    for k in range(neurons, len(energies), neurons):
        fig.add_vline(x=k, line_dash="dot", line_color="#bbb")
    fig.update_layout(title=title, xaxis_title=gettext("single-neuron updates"), yaxis_title="E",
                      margin={"t": 40, "b": 10}, height=320)
    return fig


def image_row(
    images: Sequence[np.ndarray], titles: Sequence[str], zmin: float = -1, zmax: float = 1, height: int = 200
) -> go.Figure:
    """Small grayscale images side by side (±1 states, pixel probabilities), each with its title."""
    n = max(1, len(images))
    fig = make_subplots(rows=1, cols=n, subplot_titles=list(titles), horizontal_spacing=0.02)
    for i, image in enumerate(images, start=1):
        fig.add_trace(go.Heatmap(z=image, colorscale="gray", zmin=zmin, zmax=zmax, showscale=False,
                                 hovertemplate=gettext("row %{y}, col %{x}: %{z:.2f}") + "<extra></extra>"),
                      row=1, col=i)
        fig.update_yaxes(autorange="reversed", scaleanchor=f"x{i if i > 1 else ''}", showticklabels=False,
                         row=1, col=i)
        fig.update_xaxes(showticklabels=False, row=1, col=i)
    fig.update_annotations(font_size=11)
    fig.update_layout(margin={"t": 30, "l": 0, "r": 0, "b": 0}, height=height)
    return fig


def pool_grid(
    grid: np.ndarray, box: tuple[int, int, int, int] | None, title: str, colorscale: str = "Blues",
    show_values: bool = True,
) -> go.Figure:
    """A grid of numbers as a heatmap, its values written in the cells, one window (rows [r0, r1), columns
    [c0, c1); may reach into the padding) outlined."""
    finite = np.where(np.isfinite(grid), grid, np.nan)
    fig = go.Figure(go.Heatmap(
        z=finite, colorscale=colorscale, xgap=1, ygap=1, showscale=False,
        text=np.vectorize(lambda v: f"{v:g}" if float(v).is_integer() else f"{v:.2f}")(finite) if show_values
        else None,
        texttemplate="%{text}" if show_values else None,
        hovertemplate=gettext("row %{y}, col %{x}: %{z:.3g}") + "<extra></extra>",
    ))
    if box is not None:
        r0, r1, c0, c1 = box
        fig.add_shape(type="rect", x0=c0 - 0.5, x1=c1 - 0.5, y0=r0 - 0.5, y1=r1 - 0.5,
                      line={"color": "#d62728", "width": 3})
    h, w = grid.shape
    pad_y = max(0, -box[0], box[1] - h) if box else 0
    pad_x = max(0, -box[2], box[3] - w) if box else 0
    step = 1 if max(h, w) <= 12 else None  # integer ticks: cells are rows and columns
    fig.update_xaxes(range=[-0.5 - pad_x, w - 0.5 + pad_x], showgrid=False, constrain="domain", zeroline=False,
                     dtick=step)
    fig.update_yaxes(range=[h - 0.5 + pad_y, -0.5 - pad_y], showgrid=False, scaleanchor="x", zeroline=False,
                     dtick=step)
    fig.update_layout(title=title, margin={"t": 40, "l": 0, "r": 0, "b": 0}, height=360)
    return fig


def blocks_treemap(blocks: Sequence, model: str) -> go.Figure:
    """The block tree (``explorer.lessons.blocks.Block``s), each block sized by the layers it holds."""
    ids, parents, values, labels = [], [], [], []
    for b in blocks:
        ids.append(str(b.index))
        parents.append(str(b.parent) if b.parent is not None else "")
        values.append(b.layers)
        name = b.name.rsplit(".", 1)[-1] if b.name else model
        labels.append(f"{name}: {b.type}")
    fig = go.Figure(go.Treemap(
        ids=ids, parents=parents, values=values, labels=labels, branchvalues="total",
        hovertemplate="%{label}<br>" + gettext("%{value} layers") + "<extra></extra>", maxdepth=3,
    ))
    fig.update_layout(title=gettext("Blocks, sized by the layers inside"), margin={"t": 50, "l": 0, "r": 0, "b": 0})
    return fig


def category_bars(counts: dict[str, int], labels: dict[str, str] | None = None) -> go.Figure:
    """Layer calls per kind of layer (convolution, activation, …)."""
    names = list(counts)
    fig = go.Figure(go.Bar(
        x=[labels.get(n, n) if labels else n for n in names], y=[counts[n] for n in names],
        text=[counts[n] for n in names], hovertemplate="%{x}: " + gettext("%{y} layers") + "<extra></extra>",
    ))
    fig.update_layout(title=gettext("Layers by kind"), yaxis_title=gettext("layer calls"), margin={"t": 50, "b": 10},
                      height=340)
    return fig


def error_curve(errors: Sequence[float], title: str = "Reconstruction error (held-out images)") -> go.Figure:
    """A per-epoch curve from epoch 0 (before training)."""
    fig = go.Figure(go.Scatter(
        x=list(range(len(errors))), y=list(errors), mode="lines+markers",
        hovertemplate=gettext("epoch %{x}: %{y:.4f}") + "<extra></extra>",
    ))
    fig.update_layout(title=title, xaxis_title=gettext("epoch (0 = before training)"),
                      yaxis_title=gettext("mean squared error"),
                      margin={"t": 40, "b": 10}, height=320)
    fig.update_yaxes(rangemode="tozero")
    return fig


def activation_map(values: np.ndarray, title: str, x_title: str, y_title: str) -> go.Figure:
    """A rows × columns array of activations (positions × hidden units) as a heatmap."""
    fig = go.Figure(go.Heatmap(
        z=values, y=list(range(1, values.shape[0] + 1)), colorscale="Viridis",
        hovertemplate=f"{y_title} %{{y}}, {x_title} %{{x}}: %{{z:.3f}}<extra></extra>",
    ))
    fig.update_yaxes(autorange="reversed", title_text=y_title)
    fig.update_xaxes(title_text=x_title)
    fig.update_layout(title=title, margin={"t": 40, "b": 10}, height=320)
    return fig


def filter_grid(filters: np.ndarray, columns: int = 16, limit: int = 64, title: str = "") -> go.Figure:
    """Weight maps (K × H × W) as a mosaic, each scaled by its own largest |weight| to [−1, 1] on a diverging scale:
    red where a unit wants a pixel on, blue where it wants it off, white for indifference; gaps left empty."""
    maps = filters[:limit]
    k, h, w = maps.shape
    cols = min(columns, k)
    rows = -(-k // cols)
    mosaic = np.full((rows * (h + 1) - 1, cols * (w + 1) - 1), np.nan)
    for i, m in enumerate(maps):
        scale = float(np.abs(m).max()) or 1.0
        r, q = divmod(i, cols)
        mosaic[r * (h + 1):r * (h + 1) + h, q * (w + 1):q * (w + 1) + w] = m / scale
    fig = go.Figure(go.Heatmap(z=mosaic, colorscale="RdBu", reversescale=True, zmin=-1, zmax=1, zmid=0,
                               showscale=False, hoverinfo="skip"))
    fig.update_yaxes(autorange="reversed", scaleanchor="x", visible=False)
    fig.update_xaxes(visible=False, constrain="domain")
    fig.update_layout(title=title, margin={"t": 40, "l": 0, "r": 0, "b": 0}, height=60 + 62 * rows,
                      plot_bgcolor="rgba(0,0,0,0)")
    return fig


def training_curves(runs: dict[str, Sequence[dict]], title: str = "Training on Fashion-MNIST") -> go.Figure:
    """d2l's Animator: train loss, train accuracy and test accuracy against epochs, one colour per run, one dash per
    metric. Each point is ``{"epoch": x, …}`` with any of ``loss``, ``train_acc``, ``test_acc`` (train points fall
    between epochs, several per epoch; test points at each epoch's end)."""
    palette = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf")
    metrics = (("loss", gettext("train loss"), "solid"), ("train_acc", gettext("train acc"), "dash"),
               ("test_acc", gettext("test acc"), "dot"))
    fig = go.Figure()
    for i, (name, points) in enumerate(runs.items()):
        for key, label, dash in metrics:
            shown = [p for p in points if p.get(key) is not None]
            if not shown:
                continue
            fig.add_trace(go.Scatter(
                x=[p["epoch"] for p in shown], y=[p[key] for p in shown], mode="lines+markers",
                name=f"{label} — {name}" if len(runs) > 1 else label, marker={"size": 4},
                line={"color": palette[i % len(palette)], "dash": dash},
            ))
    fig.update_xaxes(title_text=gettext("epoch"), rangemode="tozero")
    fig.update_yaxes(title_text=gettext("loss / accuracy"), rangemode="tozero")
    fig.update_layout(title=title, hovermode="x unified", legend={"orientation": "h", "y": -0.2},
                      margin={"t": 50, "b": 10})
    return fig


# --------------------------------------------------------------------------------------------------------------
# Runs, like the trackers: curves of several runs, hyper-parameters against accuracy, a confusion matrix
# --------------------------------------------------------------------------------------------------------------
RUN_AXES = {"epoch": N_("epoch"), "step": N_("step"), "seconds": N_("training time (s)")}


def runs_overlay(curves: Mapping[str, Sequence], x: str = "epoch", per: str = "step", title: str = "") -> go.Figure:
    """Several runs' curves in three panels sharing one x-axis (``x``: "epoch", "step" or "seconds", the fields of
    :class:`explorer.runtime.history.CurvePoint`): train loss, train accuracy, test accuracy; one colour per run.
    ``per`` "step" draws the training curves at every report point (a run recorded without them: per epoch), "epoch"
    at epoch ends only; test accuracy is measured per epoch either way."""
    assert x in RUN_AXES and per in ("step", "epoch"), (x, per)
    panels = (("loss", gettext("train loss")), ("train_acc", gettext("train acc")), ("test_acc", gettext("test acc")))
    fig = make_subplots(rows=3, cols=1, shared_xaxes=True, vertical_spacing=0.06,
                        subplot_titles=[label for _, label in panels])
    legend: set[str] = set()  # one legend entry per run, on its first trace
    for i, (run, points) in enumerate(curves.items()):
        color = _COLORS[i % len(_COLORS)]
        steps = [p for p in points if p.kind == "step"]
        epochs = [p for p in points if p.kind == "epoch"]
        for row, (key, label) in enumerate(panels, start=1):
            shown = steps if key != "test_acc" and per == "step" and steps else epochs
            shown = [p for p in shown if getattr(p, key) is not None]
            if not shown:
                continue
            fig.add_trace(go.Scatter(
                x=[getattr(p, x) for p in shown], y=[getattr(p, key) for p in shown], mode="lines+markers",
                name=run, legendgroup=run, showlegend=run not in legend,
                marker={"size": 4 if len(shown) > 30 else 6}, line={"color": color},
                hovertemplate=f"{run}<br>{label}: %{{y:.4f}}<br>{gettext(RUN_AXES[x])}: %{{x}}<extra></extra>",
            ), row=row, col=1)
            legend.add(run)
    for row in (2, 3):  # accuracies on one fixed scale: runs compare at a glance, a flat curve is not blown up
        fig.update_yaxes(tickformat=".0%", range=[0, 1.02], row=row, col=1)
    fig.update_yaxes(rangemode="tozero", row=1, col=1)
    fig.update_xaxes(title_text=gettext(RUN_AXES[x]), row=3, col=1, rangemode="tozero")
    fig.update_layout(title=title or None, height=720, legend={"orientation": "h", "y": -0.12},
                      margin={"t": 60 if title else 30, "b": 10})
    return fig


def runs_parallel(rows: Sequence, title: str = "") -> go.Figure:
    """TensorBoard's HParams parallel coordinates: one line per run across its hyper-parameters (model, learning rate
    on a log scale, batch size, epochs, image side, processes) to its best test accuracy, coloured by it. ``rows``
    are :class:`explorer.runtime.history.RunRow` with a test accuracy."""
    models = sorted({r.model for r in rows})
    best = [100 * r.best_test_acc for r in rows]
    lrs = [math.log10(r.lr) for r in rows]
    low, high = math.floor(min(lrs)), math.ceil(max(lrs))
    ticks = list(range(low, high + 1)) if high > low else [low, low + 1]

    def axis(label: str, values: list, **more) -> dict:
        return {"label": label, "values": values, **more}

    dimensions = [
        axis(gettext("model"), [models.index(r.model) for r in rows], tickvals=list(range(len(models))),
             ticktext=models, range=[-0.5, len(models) - 0.5] if len(models) == 1 else None),
        axis(gettext("learning rate"), lrs, tickvals=ticks, ticktext=[f"{10 ** t:g}" for t in ticks],
             range=[ticks[0], ticks[-1]]),
        axis(gettext("batch size"), [r.batch_size for r in rows]),
        axis(gettext("epochs"), [r.epochs for r in rows]),
        axis(gettext("image side (px)"), [r.resize or 0 for r in rows]),
        axis(gettext("processes"), [r.world_size for r in rows]),
        axis(gettext("best test accuracy (%)"), best, range=[0, 100]),
    ]
    dimensions = [{k: v for k, v in d.items() if v is not None} for d in dimensions]
    fig = go.Figure(go.Parcoords(
        line={"color": best, "colorscale": "Viridis", "cmin": 0, "cmax": 100, "showscale": True,
              "colorbar": {"title": {"text": "%"}, "thickness": 12}},
        dimensions=dimensions, labelangle=-20, labelside="bottom",
    ))
    fig.update_layout(title=title or None, height=380, margin={"t": 50 if title else 30, "b": 60, "l": 60, "r": 40})
    return fig


def confusion_heatmap(matrix: np.ndarray, classes: Sequence[str], title: str = "") -> go.Figure:
    """A confusion matrix: true class down, predicted class across, each cell's count written in it; the diagonal
    is what the network gets right."""
    n = len(classes)
    counts = np.asarray(matrix)
    rows = counts.sum(axis=1, keepdims=True)
    share = np.divide(counts, rows, out=np.zeros(counts.shape), where=rows > 0)
    fig = go.Figure(go.Heatmap(
        z=share, x=list(classes), y=list(classes), colorscale="Blues", zmin=0, zmax=1, text=counts,
        texttemplate="%{text}", customdata=share, showscale=False, xgap=1, ygap=1,
        hovertemplate=gettext("true {true}, predicted {predicted}: {count} images ({share} of the class)").format(
            true="%{y}", predicted="%{x}", count="%{text}", share="%{customdata:.1%}") + "<extra></extra>",
    ))
    fig.update_yaxes(title_text=gettext("true class"), autorange="reversed", tickmode="array", tickvals=list(classes))
    fig.update_xaxes(title_text=gettext("predicted class"), tickangle=-40, tickmode="array", tickvals=list(classes),
                     side="bottom")
    fig.update_layout(title=title or None, height=120 + 42 * n, margin={"t": 50 if title else 20, "b": 10})
    return fig


def per_class_accuracy(accuracies: Sequence[float], classes: Sequence[str], title: str = "") -> go.Figure:
    """Each class's accuracy on the test set (the confusion matrix's diagonal over its rows), worst first."""
    order = np.argsort(np.asarray(accuracies), kind="stable")[::-1]
    fig = go.Figure(go.Bar(
        x=[accuracies[i] for i in order], y=[classes[i] for i in order], orientation="h",
        text=[fmt.accuracy_text(accuracies[i]) for i in order], textposition="inside", insidetextanchor="end",
        hovertemplate="%{y}: %{x:.2%}<extra></extra>", marker={"color": "#1f77b4"},
    ))
    fig.update_xaxes(range=[0, 1], tickformat=".0%")
    fig.update_layout(title=title or None, height=80 + 30 * len(classes), margin={"t": 50 if title else 20, "b": 10})
    return fig
