"""Compare: several models side by side (parameters, MACs, depth, memory)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

import explorer
from explorer import charts
from explorer import formatting as fmt
from pages.common import MODEL_IDS, try_summarize

DEFAULT = ["lenet", "alexnet", "vgg16"]

st.title("Compare models")

if "compare_models" not in st.session_state:
    asked = [m.strip() for m in st.query_params.get("models", "").split(",") if m.strip()]
    unknown = [m for m in asked if m not in MODEL_IDS]
    if unknown:
        st.error(f"Unknown model id(s) in the link: {', '.join(unknown)} — ignored.", icon="⚠️")
    st.session_state["compare_models"] = [m for m in asked if m in MODEL_IDS] or DEFAULT

chosen = st.multiselect("Models", MODEL_IDS, key="compare_models")
st.query_params["models"] = ",".join(chosen)
log = st.toggle("Logarithmic scale", value=True, key="compare_log")

if not chosen:
    st.info("Pick at least one model.")
    st.stop()

rows = []
summaries = {}
for model_id in chosen:
    spec = explorer.get_spec(model_id)
    summary = try_summarize(model_id, spec.input_shape)
    if summary is None:
        continue
    summaries[model_id] = summary
    rows.append({
        "model": model_id,
        "title": spec.title,
        "year": spec.year,
        "input": "×".join(map(str, spec.input_shape)),
        "params": summary.total_params,
        "params (short)": fmt.short(summary.total_params),
        "MACs": summary.total_macs,
        "MACs (short)": fmt.short(summary.total_macs),
        "weight layers": summary.depth,
        "activations (MiB)": round(summary.total_memory / 2**20, 2),
        "weights (MiB)": round(summary.param_bytes / 2**20, 2),
    })

table = pd.DataFrame(rows)
st.dataframe(
    table,
    hide_index=True,
    column_config={
        "params": st.column_config.NumberColumn("params", format="localized"),
        "MACs": st.column_config.NumberColumn("MACs", format="localized"),
    },
)
st.caption("MACs: multiply–accumulates per image at each model's own input size, bias included (torchinfo).")

names = list(summaries)
left, right = st.columns(2)
left.plotly_chart(charts.compare_bars(names, [s.total_params for s in summaries.values()], "Parameters", log))
right.plotly_chart(charts.compare_bars(names, [s.total_macs for s in summaries.values()], "MACs per image", log))
left.plotly_chart(charts.compare_bars(names, [s.depth for s in summaries.values()], "Weight layers (conv + linear)", log))
right.plotly_chart(
    charts.compare_bars(names, [s.total_memory for s in summaries.values()], "Activation memory (bytes, float32)", log)
)
