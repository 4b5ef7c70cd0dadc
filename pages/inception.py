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


st.title("Inception variants")
st.markdown(
    "GoogLeNet's Inception block and what came after it, each as one block on the grid where its network uses it. "
    "v2 adds batch normalization; v3 factorizes the large convolutions into smaller and asymmetric ones; v4's "
    "Inception-ResNet wraps the paths in a residual connection."
)
notes_panel("inception")

summaries = {i: summarize(i, explorer.get_spec(i).input_shape) for i in IDS}
st.table(pd.DataFrame([
    {
        "block": i,
        "title": explorer.get_spec(i).title,
        "input": fmt.shape(s.input_shape),
        "output": fmt.shape(s.output_shape),
        "parameters": fmt.exact_and_short(s.total_params),
        "MACs": fmt.exact_and_short(s.total_macs),
        "weight layers (longest path)": s.depth,
        "receptive field (px)": block_field(s),
    }
    for i, s in summaries.items()
]).set_index("block"))
v1, v2 = summaries["inception-v1"], summaries["inception-bn"]
st.caption(
    f"v2 against v1 on the same 192×28×28 input: {fmt.exact(v2.total_params)} vs {fmt.exact(v1.total_params)} "
    f"parameters ({v2.total_params - v1.total_params:+,}): batch norm adds a scale and a shift per channel, the "
    "convolutions before it drop their bias. The receptive field is that of the block's output — the widest of its "
    "paths."
)

st.subheader("Factorization: same window, fewer weights")
c1, c2 = st.columns(2)
channels = c1.slider("Channels (in = out)", 8, 512, 64, step=8, key="inc_channels")
size = c2.slider("Grid size", 8, 35, 17, key="inc_size")
rows = factorizations(channels, size)
st.table(pd.DataFrame([
    {
        "factorization": f.name,
        "original": f"{f.original}: {fmt.exact(f.params_original)} params, field {f.rf_original}",
        "replacement": f"{f.replacement}: {fmt.exact(f.params_replacement)} params, field {f.rf_replacement}",
        "weights kept": f"{f.ratio:.0%}",
        "MACs kept": f"{f.macs_replacement / f.macs_original:.0%}",
    }
    for f in rows
]).set_index("factorization"))
st.caption(
    f"{channels} → {channels} channels on {size}×{size}, no bias (batch norm follows). Parameters counted on the "
    "modules, fields measured by the analysis: each stack sees exactly the window of the convolution it replaces."
)

st.subheader("One block, path by path")
chosen = st.selectbox("Block", IDS, index=IDS.index("inception-v3-b"), key="inc_block",
                      format_func=lambda i: f"{i} — {explorer.get_spec(i).title}")
spec, s = explorer.get_spec(chosen), summaries[chosen]
st.markdown(f"*{spec.paper}* · {spec.introduced} {spec.notes}")
a, b = st.columns(2)
with a:
    exact_metric("Parameters", s.total_params)
with b:
    exact_metric("MACs", s.total_macs)
st.graphviz_chart(block_dot(chosen), width="stretch")
st.caption("The block's traced data flow, full width: every path from the input to the concatenation (or, in "
           "Inception-ResNet, the addition), with each layer's output shape.")
st.plotly_chart(charts.by_block(s, "params"), key="inc_treemap")
