"""Architecture: one model, layer by layer — table with block hierarchy, shape flow, where parameters/MACs live."""

from __future__ import annotations

import shutil

import pandas as pd
import streamlit as st

import explorer
from explorer.analysis import graph
from explorer.present import charts, diagram, export, table
from explorer.present import formatting as fmt
from pages.common import (
    exact_metric,
    input_picker,
    model_picker,
    network_graph,
    summarize,
    try_summarize,
    use_app_navigation,
)

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

table_event = st.dataframe(
    table.layer_frame(summary, table.PAGE_COLUMNS, depth=depth),
    hide_index=True,
    column_config={
        "params": st.column_config.NumberColumn("params", format="localized"),
        "MACs": st.column_config.NumberColumn("MACs", format="localized"),
    },
    on_select="rerun",
    selection_mode="single-row",
    key=f"layer_table_{spec.id}",
)
visible = [r for r, _ in table.visible_layers(summary, depth)]  # the table's rows, in its order
picked_rows = table_event.selection.rows if table_event is not None else []
if picked_rows and picked_rows != st.session_state.get("_table_pick"):
    # A row picked in the table becomes the highlighted layer below (before that select box is drawn).
    st.session_state["_table_pick"] = picked_rows
    st.session_state[f"layer_pick_{spec.id}"] = visible[picked_rows[0]].name
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

# --- diagram, one layer in detail, downloads ------------------------------------------------------------------
st.subheader("Diagram")
traced = network_graph(spec.id, tuple(input_shape))
levels = graph.max_depth(traced) + 1
c1, c2, c3 = st.columns([2, 1, 2])
graph_depth = levels
if levels > 1:
    graph_depth = c1.slider(
        "Diagram depth", 1, levels, value=min(2, levels), key=f"graph_depth_{spec.id}",
        help="1 shows the top-level blocks; each step opens one more level of blocks.",
    )
rankdir = c2.radio("Layout", ["TB", "LR"], horizontal=True, key="graph_rankdir",
                   format_func={"TB": "top → bottom", "LR": "left → right"}.get)
layer_names = [r.name for r in summary.leaves if r.name]
highlight = c3.selectbox(
    "Highlight a layer", [None, *layer_names], key=f"layer_pick_{spec.id}",
    format_func=lambda n: "— none —" if n is None else n,
    help="Or pick a row in the layer table above.",
)
dot = diagram.to_dot(traced, depth=graph_depth, rankdir=rankdir, highlight=highlight)
st.graphviz_chart(dot, width="stretch")
st.caption("⊕ addition (a residual skip enters here), ∥ concatenation (Inception's paths meet here); edge labels "
           "are the shapes that flow. Blue boxes are collapsed blocks: raise the depth to open them.")

if highlight is not None:
    record = next(r for r in summary.layers if r.name == highlight)
    st.markdown(f"**{record.name}** — `{record.type}({record.extra})`")
    d1, d2, d3, d4 = st.columns(4)
    d1.metric("Output", fmt.shape(record.output_shape), help=f"Input {fmt.shape(record.input_shape)}")
    d2.metric("Parameters", fmt.exact(record.params))
    d3.metric("MACs", fmt.exact(record.macs))
    d4.metric("Receptive field", f"{record.rf} px" if record.rf is not None else "—",
              help=f"Effective stride {record.stride} px" if record.stride is not None else record.rf_status)
    if record.arithmetic:
        st.markdown(f"Shape arithmetic: `{record.arithmetic}`")
    if record.field is not None:
        st.markdown(f"Receptive field {record.rf} px, effective stride {record.stride} px, effective padding "
                    f"{-record.field[0].u} px.")

st.subheader("Downloads")
stem = f"{spec.id}-{'x'.join(map(str, input_shape))}"
b1, b2, b3, b4, b5, b6 = st.columns(6)
# Files are made when a button is clicked (callables), not on every rerun of the page.
b1.download_button("Layers CSV", lambda: export.layers_csv(summary), f"{stem}-layers.csv", "text/csv", key="dl_csv")
b2.download_button("Layers JSON", lambda: export.layers_json(summary), f"{stem}-layers.json", "application/json",
                   key="dl_json")
b3.download_button("Diagram DOT", dot, f"{stem}.dot", "text/vnd.graphviz", key="dl_dot")
if shutil.which("dot"):
    b4.download_button("Diagram SVG", lambda: diagram.render(dot, "svg"), f"{stem}.svg", "image/svg+xml", key="dl_svg")
    b5.download_button("Diagram PNG", lambda: diagram.render(dot, "png"), f"{stem}.png", "image/png", key="dl_png")
else:
    b4.caption("SVG/PNG need Graphviz's `dot` program on the server (apt-get install graphviz): DOT works anywhere.")
b6.download_button(
    "Model ONNX", lambda: export.onnx_bytes(spec.id, tuple(input_shape)), f"{stem}.onnx", "application/octet-stream",
    key="dl_onnx", help="Opens in Netron. Shipped trained weights when the model has them, random weights otherwise.",
)
st.caption("Every chart's toolbar has a camera button: PNG of the chart.")

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
