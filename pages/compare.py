"""Compare: several models side by side (parameters, MACs, depth, memory)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

import explorer
from explorer.present import charts
from explorer.present import formatting as fmt
from pages.common import MODEL_IDS, try_summarize, use_app_navigation

use_app_navigation()

DEFAULT = ["lenet", "alexnet", "vgg16"]

st.title("Compare models")

# The same rule as the model picker: a link wins on arrival, the widget afterwards, no parameters keep the session's.
asked_text = st.query_params.get("models")
edited = st.session_state.pop("_compare_edited", False)
if asked_text is not None and not edited and asked_text != ",".join(st.session_state.get("compare_models", [])):
    asked = [m.strip() for m in asked_text.split(",") if m.strip()]
    unknown = [m for m in asked if m not in MODEL_IDS]
    if unknown:
        st.error(f"Unknown model id(s) in the link: {', '.join(unknown)} — ignored.", icon="⚠️")
    st.session_state["compare_models"] = [m for m in asked if m in MODEL_IDS] or DEFAULT
st.session_state.setdefault("compare_models", DEFAULT)

chosen = st.multiselect(
    "Models", MODEL_IDS, key="compare_models", persist_state="session",
    on_change=lambda: st.session_state.update(_compare_edited=True),
)
st.query_params["models"] = ",".join(chosen)
log = st.toggle("Logarithmic scale", value=True, key="compare_log")

if not chosen:
    st.info("Pick at least one model.")
    st.stop()

summaries = {}
for model_id in chosen:
    summary = try_summarize(model_id, explorer.get_spec(model_id).input_shape)
    if summary is not None:
        summaries[model_id] = summary

table = pd.DataFrame([
    {
        "model": model_id,
        "title": explorer.get_spec(model_id).title,
        "year": explorer.get_spec(model_id).year,
        "input": fmt.shape(s.input_shape),
        "parameters": fmt.exact_and_short(s.total_params),
        "MACs per image": fmt.exact_and_short(s.total_macs),
        "weight layers": s.depth,
        "activations": fmt.nbytes(s.total_memory),
        "weights": fmt.nbytes(s.param_bytes),
    }
    for model_id, s in summaries.items()
]).set_index("model")
st.table(table)
st.caption(
    "MACs: multiply–accumulates per image at each model's own input size, bias included (torchinfo's convention). "
    "Weight layers: convolutions and linear layers. Memory: float32."
)

names = list(summaries)
CHARTS = (
    ("total_params", "Parameters"),
    ("total_macs", "MACs per image"),
    ("depth", "Weight layers (convolution + linear)"),
    ("total_memory", "Activation memory (bytes)"),
)
columns = st.columns(2)
for i, (attr, title) in enumerate(CHARTS):
    values = [getattr(s, attr) for s in summaries.values()]
    columns[i % 2].plotly_chart(charts.compare_bars(names, values, title, log), key=f"compare_{attr}")
