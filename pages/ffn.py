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
from pages.i18n import _
from pages.notes_panel import notes_panel

use_app_navigation()


@st.cache_data(show_spinner=False, max_entries=32)
def check(d_model: int, d_ff: int, seq_len: int, activation: str) -> ffn.PositionwiseCheck:
    return ffn.positionwise(d_model, d_ff, seq_len, activation)


spec = explorer.get_spec("ffn")
st.title(_("The FFN layer of a transformer"))
st.markdown(_(
    "*{paper}* · `ffn` · FFN(x) = max(0, x W₁ + b₁) W₂ + b₂ — the second sublayer of every encoder and "
    "decoder layer. `nn.Linear` acts on the last axis only, so each position of the sequence goes through the "
    "same two layers on its own."
).format(paper=spec.paper))
notes_panel("ffn")

c1, c2, c3, c4 = st.columns(4)
d_model = c1.select_slider("d_model", [64, 128, 256, 512, 768, 1024], 512, key="ffn_d_model")
ratio = c2.select_slider("d_ff / d_model", [1, 2, 4, 8], 4, key="ffn_ratio", help=_("4 in the paper: 512 → 2048."))
seq_len = c3.slider(_("Positions T"), 1, 64, 10, key="ffn_T")
activation = c4.segmented_control(_("Activation"), ["relu", "gelu"], default="relu", key="ffn_act") or "relu"
d_ff = d_model * ratio

result = check(d_model, d_ff, seq_len, activation)
a, b, c = st.columns(3)
with a:
    exact_metric(_("FFN parameters"), result.params, help=_("The same for every sequence length."))
with b:
    exact_metric(_("MACs per position"), result.macs_per_position,
                 help=_("Weights + biases (torchinfo's convention)."))
with c:
    exact_metric(_("MACs for T = {T}").format(T=seq_len), seq_len * result.macs_per_position)
st.markdown(_(
    "**Parameters:** ({d} + 1)·{f} + ({f} + 1)·{d} = {total} — W₁ ({d}×{f}) and b₁, W₂ ({f}×{d}) and b₂. The "
    "paper's base model: {base}."
).format(d=d_model, f=d_ff, total=fmt.exact(ffn_params(d_model, d_ff)), base=fmt.exact(spec.params)))
st.caption(_(
    "The layer table of the Architecture page follows torchinfo, which counts a linear layer's MACs once per batch "
    "row whatever the number of positions; the real cost is one matrix–vector product per position, as above."
))

st.subheader(_("Position by position"))
worst = max(r.gap for r in result.rows)
st.markdown(_(
    "A random sequence of {T} positions through a randomly initialised FFN, once as a whole and once one "
    "position at a time: the largest difference is **{worst}** (float64 rounding) — each output depends on "
    "its own position only. Shuffling the positions shuffles the outputs the same way (difference "
    "{shuffled}): no information crosses between positions; mixing them is attention's job."
).format(T=seq_len, worst=f"{worst:.1e}", shuffled=f"{result.permutation_gap:.1e}"))
left, right = st.columns([2, 3])
left.dataframe(pd.DataFrame([
    {
        _("position"): r.position,
        "‖xₜ‖": round(r.input_norm, 3),
        "‖FFN(xₜ)‖": round(r.output_norm, 3),
        _("active of {n}").format(n=d_ff): r.active,
        _("whole vs alone"): f"{r.gap:.1e}",
    }
    for r in result.rows
]), hide_index=True, key="ffn_rows")
shown = min(d_ff, 256)
right.plotly_chart(
    charts.activation_map(
        result.hidden[:, :shown],
        _("Hidden layer after {activation}: first {shown} of {n} units per position").format(
            activation=activation, shown=shown, n=d_ff),
        _("hidden unit"), _("position"),
    ),
    key="ffn_hidden",
)
