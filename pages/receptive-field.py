"""Receptive field: how much of the input each layer sees — growth with depth, a unit's field drawn on an image
with its effective field, and a dilation playground."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

import explorer
from explorer.analysis import dilation
from explorer.analysis.empirical import effective_field
from explorer.present import charts
from explorer.runtime import data, images, weights
from pages.common import MODEL_IDS, model_picker, summarize, use_app_navigation
from pages.i18n import _, render

use_app_navigation()

spec = model_picker()
summary = summarize(spec.id, spec.input_shape)

st.title(_("Receptive field"))
st.markdown(_(
    "The **receptive field** of a unit is the input region its value depends on. Each convolution or pooling with "
    "kernel k, stride s and dilation r widens it: r_field ← r_field + (k_eff − 1)·jump, jump ← jump·s. CNN Explorer "
    "follows the real computation graph, so Inception branches and residual skips are merged (the union of what "
    "each path sees), not counted as if in series; every number here is checked against the gradient of the unit."
))

# --- (a) growth with depth ----------------------------------------------------------------------------------------
st.header(_("Growth with depth"))
overlay = st.multiselect(
    _("Models"), MODEL_IDS, default=[spec.id], key="rf_models", help=_("Overlay several models on the same axes.")
)
summaries = {m: summarize(m, explorer.get_spec(m).input_shape) for m in overlay}
if summaries:
    st.plotly_chart(charts.rf_growth(summaries), key="rf_growth")
    st.table(pd.DataFrame([
        {
            _("model"): m,
            _("input"): "×".join(map(str, s.input_shape[1:])),
            _("receptive field (px)"): s.receptive_field.size,
            _("effective stride (px)"): s.receptive_field.stride,
            _("effective padding (px)"): s.receptive_field.padding,
        }
        for m, s in summaries.items()
    ]).set_index(_("model")))
    st.caption(_("Final field: the deepest output larger than 1×1 (global pooling and the classifier excluded)."))
if summary.rf_unsupported:
    st.warning(_("No receptive-field rule for: {types} — fields after it are unknown.").format(
        types=", ".join(summary.rf_unsupported)))

# --- (b) one unit on an image -------------------------------------------------------------------------------------
st.header(_("One unit, on an image"))
layers = [r for r in summary.leaves if r.field is not None and r.output_shape and len(r.output_shape) == 4]
if not layers:
    st.info(_("{model} has no layer with a spatial receptive field.").format(model=spec.id))
    st.stop()
labels = {
    r.index: _("{name} ({type}) — output {h}×{w}, field {rf} px").format(
        name=r.name, type=r.type, h=r.output_shape[2], w=r.output_shape[3], rf=r.rf) for r in layers
}
spatial = [i for i, r in enumerate(layers) if r.output_shape[2] * r.output_shape[3] > 1]
# First shown: a middle layer whose field is visibly a part of the image (the deepest at most half its side), not
# the last pooling's, which covers the whole picture.
half = min(spec.input_shape[1:]) / 2
middle = [i for i in spatial if max(np.atleast_1d(layers[i].rf)) <= half
          and layers[i].category in ("convolution", "pooling")]
layer_index = st.selectbox(
    _("Layer"), list(labels), index=(middle or spatial or [len(labels) - 1])[-1], format_func=labels.get,
    key=f"rf_layer_{spec.id}",
)
layer = next(r for r in layers if r.index == layer_index)
out_h, out_w = layer.output_shape[2], layer.output_shape[3]


def unit_slider(where, label: str, size: int, key: str) -> int:
    """Position along one axis of the layer's output (no slider for a single position)."""
    if size == 1:
        where.caption(_("{label}: 0 (the output is 1 wide)").format(label=label))
        return 0
    return where.slider(label, 0, size - 1, (size - 1) // 2, key=key)


c1, c2 = st.columns(2)
row = unit_slider(c1, _("Unit row"), out_h, f"rf_row_{spec.id}_{layer.index}")
col = unit_slider(c2, _("Unit column"), out_w, f"rf_col_{spec.id}_{layer.index}")

fy, fx = layer.field[0], layer.field[-1]
box = (*fy.interval(row), *fx.interval(col))  # per unit: after upsampling the units' fields differ
box_h, box_w = box[1] - box[0], box[3] - box[2]

C, H, W = spec.input_shape
source = st.radio(_("Image"), ["Fashion-MNIST sample", "Upload"], horizontal=True, key="rf_source",
                  format_func=lambda v: _("Fashion-MNIST sample") if v != "Upload" else _("Upload"))
picture = None
if source == "Upload":
    upload = st.file_uploader(_("An image (PNG, JPEG, WEBP, BMP, GIF, TIFF)"), key="rf_upload")
    if upload is not None:
        try:
            picture = images.fit(images.load_image(upload.getvalue(), upload.name), C, H, W)
        except images.ImageError as exc:
            st.error(render(exc), icon="⚠️")
else:
    try:
        index = st.number_input(_("Test image #"), 0, 9999, 0, key="rf_sample")
        raw, label = data.sample(int(index))
        st.caption(_("Fashion-MNIST test image {index}: {label}").format(index=index, label=_(data.CLASSES[label])))
        picture = images.fit(images.from_array(raw), C, H, W)
    except data.DatasetNotFound as exc:
        st.warning(render(exc))
if picture is None:
    picture = np.full((C, H, W), 0.5, dtype=np.float32)
display = picture[0] if C == 1 else picture[:3].transpose(1, 2, 0)

erf_choices = ["off", "random"] + (["trained"] if spec.trained is not None else [])
erf_mode = st.segmented_control(
    _("Effective receptive field"), erf_choices, default="off", key=f"rf_erf_{spec.id}",
    format_func=lambda v: {"off": _("Off"), "random": _("Random initialisation"), "trained": _("Trained weights")}[v],
    help=_("Luo et al. 2016: |∂ unit / ∂ input| averaged over random inputs — computed now, on the CPU."),
) or "off"
heat = None
if erf_mode != "off":
    @st.cache_data(show_spinner=_("Back-propagating from the unit…"), max_entries=64)
    def _erf(model_id: str, layer_name: str, call: int, unit: tuple[int, int], trained: bool) -> np.ndarray:
        shape = explorer.get_spec(model_id).input_shape
        state = weights.load_shipped(model_id) if trained else None
        return effective_field(model_id, shape, layer_name, unit=unit, call=call, samples=2, state_dict=state).numpy()

    heat = _erf(spec.id, layer.name, layer.call, (row, col), erf_mode == "trained")

st.plotly_chart(
    charts.field_on_image(display, box, heat, _("{layer}, unit ({row}, {col})").format(layer=layer.name, row=row,
                                                                                         col=col)), key="rf_image"
)
clipped = box[0] < 0 or box[2] < 0 or box[1] > H or box[3] > W
st.markdown(_(
    "Unit ({row}, {col}) of **{layer}** sees input rows **{r0} … {r1}** and columns **{c0} … {c1}**: a {h}×{w} px "
    "field, jump {jump} px, effective padding {pad} px{tail}"
).format(row=row, col=col, layer=layer.name, r0=box[0], r1=box[1] - 1, c0=box[2], c1=box[3] - 1, h=box_h, w=box_w,
         jump=fy.j, pad=-fy.u,
         tail=_(" — part of it lies in the zero padding beyond the border.") if clipped else _(".")))
if heat is not None:
    core = float((heat >= 0.05).mean()) * H * W
    st.caption(_(
        "The effective field (≥ 5% of its peak) covers about {core} px², against {square} px² for the theoretical "
        "square: the gradient concentrates in a Gaussian-like blob at the centre ({weights}).{note}"
    ).format(core=f"{core:,.0f}", square=f"{box_h * box_w:,}",
             weights=_("trained weights") if erf_mode == "trained" else _("random weights"),
             note="" if spec.trained is not None else _(" No trained weights are shipped for this model.")))

# --- (c) dilation playground --------------------------------------------------------------------------------------
st.header(_("Dilation playground"))
c1, c2 = st.columns(2)
k = c1.slider(_("Kernel size k"), 1, 7, 3, key="dil_k")
r = c2.slider(_("Dilation rate r"), 1, 8, 2, key="dil_r")
left, right = st.columns([1, 1])
left.plotly_chart(
    charts.grid_heatmap(dilation.taps(k, r), _("{k}×{k} kernel, dilation {r}: sampled taps").format(k=k, r=r),
                        label=_("tap")),
    key="dil_taps",
)
with right:
    st.markdown(_("**Effective kernel size:** {formula}").format(formula=dilation.k_eff_formula(k, r)))
    n = st.number_input(_("Input size n"), 1, 1024, 32, key="dil_n")
    s = st.number_input(_("Stride s"), 1, 8, 1, key="dil_s")
    p = st.number_input(_("Padding p"), 0, 64, 0, key="dil_p")
    out = dilation.output_size(int(n), k, r, int(s), int(p))
    if out < 1:
        st.error(_("A {k}-wide kernel does not fit in {n} + 2·{p} pixels: no output.").format(
            k=dilation.k_eff(k, r), n=n, p=p))
    else:
        st.markdown(_("**Output size:** {formula}").format(
            formula=dilation.output_formula(int(n), k, r, int(s), int(p))))

st.subheader(_("A stack of dilated layers"))
text = st.text_input(_("Dilation rates, one per layer"), "1,2,4,8", key="dil_rates")
try:
    rates = [int(v) for v in text.replace(" ", "").split(",") if v]
    if not rates or min(rates) < 1 or len(rates) > 12 or max(rates) > 64:
        raise ValueError
except ValueError:
    st.error(_("Give 1 to 12 dilation rates between 1 and 64, separated by commas (e.g. 1,2,4,8)."))
    st.stop()
curves = {
    _("dilated {rates}").format(rates=",".join(map(str, rates))): dilation.growth(rates, k),
    _("plain (rate 1) × {n}").format(n=len(rates)): dilation.growth([1] * len(rates), k),
}
a, b = st.columns(2)
a.plotly_chart(charts.growth_curves(curves), key="dil_growth")
grid = dilation.gridding(rates, k)
holes = int((grid == 0).sum())
b.plotly_chart(
    charts.paths_heatmap(grid, _("What the top unit sees ({h}×{w} px)").format(h=grid.shape[0], w=grid.shape[1])),
    key="dil_grid",
)
st.markdown(_(
    "Receptive field after {n} layers: **{dilated} px** with dilation, {plain} px without — the same {weights} "
    "weights. {gridding}"
).format(n=len(rates), dilated=curves[next(iter(curves))][-1], plain=curves[next(reversed(curves))][-1],
         weights=len(rates) * k * k,
         gridding=_("**Gridding:** {holes} of the {size} pixels inside the field are never seen (the blank "
                    "cells).").format(holes=holes, size=grid.size) if holes
         else _("Every one of the {size} pixels inside the field is seen by at least one path: no gridding (the "
                "shade says by how many).").format(size=grid.size)))
