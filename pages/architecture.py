"""Architecture: one model, layer by layer — table with block hierarchy, shape flow, where parameters/MACs live."""

from __future__ import annotations

import pandas as pd
import streamlit as st

import explorer
from explorer import charts
from explorer import formatting as fmt
from pages.common import exact_metric, input_picker, model_picker, summarize, try_summarize, use_app_navigation

use_app_navigation()

spec = model_picker()
input_shape = input_picker(spec)

st.title(spec.title)
st.markdown(f"*{spec.paper}* · {spec.year} · `{spec.id}` · {spec.introduced}")
if spec.notes:
    st.markdown(spec.notes)

summary = try_summarize(spec.id, input_shape) if input_shape is not None else None
if summary is None:
    st.info(f"{spec.id} is built for input {','.join(map(str, spec.input_shape))}.")
    st.stop()

c1, c2, c3, c4 = st.columns(4)
with c1:
    exact_metric("Parameters", summary.total_params)
with c2:
    exact_metric("MACs per image", summary.total_macs, help="Multiply–accumulates, bias included (torchinfo).")
with c3:
    st.metric("Activation memory", fmt.nbytes(summary.total_memory), help="Sum of all layer outputs, float32.")
with c4:
    st.metric("Output", fmt.shape(summary.output_shape), help=f"Input {fmt.shape(summary.input_shape)}")

# --- the layer table, collapsible by depth ---------------------------------------------------------------------
st.subheader("Layers")
max_depth = max(r.depth for r in summary.layers)
depth = 1
if max_depth > 1:
    depth = st.slider(
        "Block depth shown", 1, max_depth, value=max_depth, key="depth",
        help="Lower it to collapse blocks into one row each (their totals shown); raise it to expand them.",
    )
rows = []
for r in charts.visible_rows(summary, depth):
    collapsed = not r.is_leaf
    rows.append({
        "layer": ("▸ " if collapsed else "") + r.name,
        "type": r.type,
        "depth": r.depth,
        "output shape": fmt.shape(r.output_shape),
        "params": r.params_total,
        "MACs": r.macs_total,
        "memory (KiB)": round(r.memory / 1024, 1),
        "shape arithmetic": r.arithmetic or "",
        "RF": r.rf,
        "stride": r.stride,
        "hyper-parameters": r.extra,
    })
st.dataframe(
    pd.DataFrame(rows),
    hide_index=True,
    column_config={
        "params": st.column_config.NumberColumn("params", format="localized"),
        "MACs": st.column_config.NumberColumn("MACs", format="localized"),
    },
)
st.caption(
    "▸ a block collapsed into one row (its totals). Rows are module calls in execution order, named by their path "
    "in the model (b3.1 = second module of block b3); the params and MACs columns always sum to the totals above."
)

# --- the spatial progression in words, then the charts ---------------------------------------------------------
if len(summary.input_shape) == 4:
    spatial = [summary.input_shape[2]]
    for r in summary.leaves:
        if r.output_shape is not None and len(r.output_shape) == 4 and spatial[-1] != r.output_shape[2]:
            spatial.append(r.output_shape[2])
    st.markdown("**Spatial size:** " + " → ".join(map(str, spatial)))
st.plotly_chart(charts.shape_flow(summary, depth))

metric = st.segmented_control(
    "Distribution of", ["params", "macs"], default="params", key="dist_metric",
    format_func=lambda m: {"params": "Parameters", "macs": "MACs"}[m],
) or "params"
left, right = st.columns(2)
left.plotly_chart(charts.by_type(summary, metric))
right.plotly_chart(charts.by_block(summary, metric))

# --- the notes' errata and claims --------------------------------------------------------------------------------
if spec.errata:
    st.subheader("Errata in the notes' code")
    for erratum in spec.errata:
        with st.expander(erratum.title, expanded=True):
            a, b = st.columns(2)
            a.markdown("**The notes**")
            a.code(erratum.notes_code, language="python")
            b.markdown("**Fixed in CNN Explorer**")
            b.code(erratum.fixed_code, language="python")
            st.markdown(erratum.why)

if spec.family in ("LeNet", "AlexNet"):
    st.subheader("“10× the parameters, 260× the compute” — measured")
    lenet = summarize("lenet", explorer.get_spec("lenet").input_shape)
    lines = []
    for other in ("alexnet", "alexnet-d2l"):
        s = summarize(other, explorer.get_spec(other).input_shape)
        lines.append({
            "AlexNet variant": other,
            "params": f"{fmt.exact(s.total_params)} vs {fmt.exact(lenet.total_params)}",
            "params ratio": f"{s.total_params / lenet.total_params:,.0f}×",
            "MACs": f"{fmt.exact(s.total_macs)} vs {fmt.exact(lenet.total_macs)}",
            "MACs ratio": f"{s.total_macs / lenet.total_macs:,.0f}×",
        })
    st.table(pd.DataFrame(lines).set_index("AlexNet variant"))
    first = lines[0]
    st.markdown(
        "The notes say AlexNet has about 10× LeNet's parameters and 260× its compute. Measured on the notes' own "
        f"models (LeNet at 28×28, AlexNet at 224×224) the ratios are {first['params ratio']} and "
        f"{first['MACs ratio']}: the notes' figures do not hold for these models."
    )
