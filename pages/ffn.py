"""The FFN layer of a transformer: two linear layers and an activation, the same for every position."""

from __future__ import annotations

import pandas as pd
import streamlit as st

import explorer
from explorer.lessons import ffn
from explorer.present import charts
from explorer.present import formatting as fmt
from explorer.zoo.transformer import ffn_params
from pages.common import exact_metric, use_app_navigation
from pages.notes_panel import notes_panel

use_app_navigation()


@st.cache_data(show_spinner=False, max_entries=32)
def check(d_model: int, d_ff: int, seq_len: int, activation: str) -> ffn.PositionwiseCheck:
    return ffn.positionwise(d_model, d_ff, seq_len, activation)


spec = explorer.get_spec("ffn")
st.title("The FFN layer of a transformer")
st.markdown(
    f"*{spec.paper}* · `ffn` · FFN(x) = max(0, x W₁ + b₁) W₂ + b₂ — the second sublayer of every encoder and "
    "decoder layer. `nn.Linear` acts on the last axis only, so each position of the sequence goes through the "
    "same two layers on its own."
)
notes_panel("ffn")

c1, c2, c3, c4 = st.columns(4)
d_model = c1.select_slider("d_model", [64, 128, 256, 512, 768, 1024], 512, key="ffn_d_model")
ratio = c2.select_slider("d_ff / d_model", [1, 2, 4, 8], 4, key="ffn_ratio", help="4 in the paper: 512 → 2048.")
seq_len = c3.slider("Positions T", 1, 64, 10, key="ffn_T")
activation = c4.segmented_control("Activation", ["relu", "gelu"], default="relu", key="ffn_act") or "relu"
d_ff = d_model * ratio

result = check(d_model, d_ff, seq_len, activation)
a, b, c = st.columns(3)
with a:
    exact_metric("FFN parameters", result.params, help="The same for every sequence length.")
with b:
    exact_metric("MACs per position", result.macs_per_position, help="Weights + biases (torchinfo's convention).")
with c:
    exact_metric(f"MACs for T = {seq_len}", seq_len * result.macs_per_position)
st.markdown(
    f"**Parameters:** ({d_model} + 1)·{d_ff} + ({d_ff} + 1)·{d_model} = {fmt.exact(ffn_params(d_model, d_ff))} — "
    f"W₁ ({d_model}×{d_ff}) and b₁, W₂ ({d_ff}×{d_model}) and b₂. The paper's base model: "
    f"{fmt.exact(spec.params)}."
)
st.caption(
    "The layer table of the Architecture page follows torchinfo, which counts a linear layer's MACs once per batch "
    "row whatever the number of positions; the real cost is one matrix–vector product per position, as above."
)

st.subheader("Position by position")
worst = max(r.gap for r in result.rows)
st.markdown(
    f"A random sequence of {seq_len} positions through a randomly initialised FFN, once as a whole and once one "
    f"position at a time: the largest difference is **{worst:.1e}** (float64 rounding) — each output depends on "
    f"its own position only. Shuffling the positions shuffles the outputs the same way (difference "
    f"{result.permutation_gap:.1e}): no information crosses between positions; mixing them is attention's job."
)
left, right = st.columns([2, 3])
left.dataframe(pd.DataFrame([
    {
        "position": r.position,
        "‖xₜ‖": round(r.input_norm, 3),
        "‖FFN(xₜ)‖": round(r.output_norm, 3),
        f"active of {d_ff}": r.active,
        "whole vs alone": f"{r.gap:.1e}",
    }
    for r in result.rows
]), hide_index=True, key="ffn_rows")
shown = min(d_ff, 256)
right.plotly_chart(
    charts.activation_map(
        result.hidden[:, :shown], f"Hidden layer after {activation}: first {shown} of {d_ff} units per position",
        "hidden unit", "position",
    ),
    key="ffn_hidden",
)
