"""Inception variants: v1's block, v2 (batch norm), v3's factorized blocks and v4's residual block, measured side by
side, with the factorizations in numbers."""

from __future__ import annotations

import pandas as pd
import streamlit as st

import explorer
from explorer.analysis import Summary, graph
from explorer.lessons import inception
from explorer.present import charts, diagram
from explorer.present import formatting as fmt
from explorer.zoo.googlenet import INCEPTION_VARIANTS
from pages.common import exact_metric, summarize, use_app_navigation
from pages.i18n import _
from pages.notes_panel import notes_panel

use_app_navigation()

IDS = list(INCEPTION_VARIANTS)


@st.cache_data(show_spinner=False, max_entries=16)
def factorizations(channels: int, size: int) -> list[inception.Factorization]:
    return inception.factorizations(channels, size)


@st.cache_data(show_spinner=False, max_entries=16)
def block_dot(model_id: str) -> str:
    return diagram.to_dot(graph.trace(model_id), shapes_on_nodes=True)


def block_field(s: Summary) -> int | list[int] | None:
    """The field of the block's output: the model's own record (the union of all its paths)."""
    return s.layers[0].rf


st.title(_("Inception variants"))
st.markdown(_(
    "GoogLeNet's Inception block and what came after it, each as one block on the grid where its network uses it. "
    "v2 adds batch normalization; v3 factorizes the large convolutions into smaller and asymmetric ones; v4's "
    "Inception-ResNet wraps the paths in a residual connection."
))
notes_panel("inception")

summaries = {i: summarize(i, explorer.get_spec(i).input_shape) for i in IDS}
st.table(pd.DataFrame([
    {
        _("block"): i,
        _("title"): _(explorer.get_spec(i).title),
        _("input"): fmt.shape(s.input_shape),
        _("output"): fmt.shape(s.output_shape),
        _("parameters"): fmt.exact_and_short(s.total_params),
        _("MACs"): fmt.exact_and_short(s.total_macs),
        _("weight layers (longest path)"): s.depth,
        _("receptive field (px)"): block_field(s),
    }
    for i, s in summaries.items()
]).set_index(_("block")))
v1, v2 = summaries["inception-v1"], summaries["inception-bn"]
st.caption(_(
    "v2 against v1 on the same 192×28×28 input: {v2} vs {v1} parameters ({difference}): batch norm adds a scale and "
    "a shift per channel, the convolutions before it drop their bias. The receptive field is that of the block's "
    "output — the widest of its paths."
).format(v2=fmt.exact(v2.total_params), v1=fmt.exact(v1.total_params),
         difference=f"{v2.total_params - v1.total_params:+,}"))

st.subheader(_("Factorization: same window, fewer weights"))
c1, c2 = st.columns(2)
channels = c1.slider(_("Channels (in = out)"), 8, 512, 64, step=8, key="inc_channels")
size = c2.slider(_("Grid size"), 8, 35, 17, key="inc_size")
rows = factorizations(channels, size)
st.table(pd.DataFrame([
    {
        _("factorization"): _(f.name),
        _("original"): _("{kernel}: {params} params, field {field}").format(
            kernel=f.original, params=fmt.exact(f.params_original), field=f.rf_original),
        _("replacement"): _("{kernel}: {params} params, field {field}").format(
            kernel=f.replacement, params=fmt.exact(f.params_replacement), field=f.rf_replacement),
        _("weights kept"): f"{f.ratio:.0%}",
        _("MACs kept"): f"{f.macs_replacement / f.macs_original:.0%}",
    }
    for f in rows
]).set_index(_("factorization")))
st.caption(_(
    "{c} → {c} channels on {n}×{n}, no bias (batch norm follows). Parameters counted on the modules, fields "
    "measured by the analysis: each stack sees exactly the window of the convolution it replaces."
).format(c=channels, n=size))

st.subheader(_("One block, path by path"))
chosen = st.selectbox(_("Block"), IDS, index=IDS.index("inception-v3-b"), key="inc_block",
                      format_func=lambda i: f"{i} — {_(explorer.get_spec(i).title)}")
spec, s = explorer.get_spec(chosen), summaries[chosen]
st.markdown(f"*{spec.paper}* · {_(spec.introduced)} {_(spec.notes)}")
a, b = st.columns(2)
with a:
    exact_metric(_("Parameters"), s.total_params)
with b:
    exact_metric(_("MACs"), s.total_macs)
st.graphviz_chart(block_dot(chosen), width="stretch")
st.caption(_("The block's traced data flow, full width: every path from the input to the concatenation (or, in "
             "Inception-ResNet, the addition), with each layer's output shape."))
st.plotly_chart(charts.by_block(s, "params"), key="inc_treemap")
