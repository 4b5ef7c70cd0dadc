"""Recurrent networks: RNN, LSTM and GRU — the gates' parameter blocks, the recurrence unrolled over time, shapes
per step, and a parameter count that does not depend on the sequence length."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from explorer.lessons import recurrent
from explorer.present import charts, diagram
from explorer.present import formatting as fmt
from explorer.zoo.recurrent import GATES, recurrent_params
from pages.common import exact_metric, use_app_navigation
from pages.i18n import _
from pages.notes_panel import notes_panel

use_app_navigation()

KINDS = {"rnn": "RNN", "lstm": "LSTM", "gru": "GRU"}
SWEEP = (1, 5, 10, 25, 50, 100)


@st.cache_data(show_spinner=False, max_entries=64)
def sweep(kind: str, input_size: int, hidden_size: int, lengths: tuple[int, ...]) -> list[recurrent.LengthPoint]:
    return recurrent.length_sweep(kind, input_size, hidden_size, lengths)


@st.cache_data(show_spinner=False, max_entries=64)
def steps(kind: str, input_size: int, hidden_size: int, seq_len: int) -> tuple[recurrent.StepRecord, ...]:
    return recurrent.step_shapes(kind, input_size, hidden_size, seq_len)


st.title(_("Recurrent networks: RNN, LSTM, GRU"))
st.markdown(_(
    "A recurrent layer reads a sequence one step at a time and carries a hidden state from each step to the next. "
    "The same weights serve every step, so the parameter count depends on the input and hidden sizes only — never "
    "on the length. The zoo's `rnn`, `lstm` and `gru` read a 28×28 Fashion-MNIST image row by row: 28 steps of "
    "28 pixels, 64 hidden units."
))
notes_panel("feedback")

c1, c2, c3, c4 = st.columns(4)
kind = c1.segmented_control(_("Layer"), list(KINDS), default="lstm", format_func=KINDS.get, key="rnn_kind") or "lstm"
seq_len = c2.slider(_("Sequence length T"), 1, 100, 28, key="rnn_T")
input_size = c3.number_input(_("Input size i"), 1, 1024, 28, key="rnn_input")
hidden_size = c4.number_input(_("Hidden size h"), 1, 1024, 64, key="rnn_hidden")
input_size, hidden_size = int(input_size), int(hidden_size)

points = sweep(kind, input_size, hidden_size, tuple(sorted({*SWEEP, seq_len})))
here = next(p for p in points if p.seq_len == seq_len)

m1, m2, m3 = st.columns(3)
with m1:
    exact_metric(_("{layer} parameters").format(layer=KINDS[kind]), here.params,
                 help=_("The same for every sequence length."))
with m2:
    exact_metric(_("MACs for T = {T}").format(T=seq_len), here.macs,
                 help=_("torchinfo's convention: T × parameters (bias counted)."))
with m3:
    st.metric(_("Gate blocks"), GATES[kind], help=_("Blocks of h rows stacked in weight_ih_l0 and weight_hh_l0."))
st.markdown(_("**Parameters:** {formula} — gates · (h·(i + h) + 2h): W_x (h×i), W_h (h×h) and PyTorch's two bias "
              "vectors per gate.").format(formula=recurrent.param_formula(kind, input_size, hidden_size)))

st.subheader(_("Parameters do not grow with the length"))
st.plotly_chart(charts.length_sweep(points, current=seq_len), key="rnn_sweep")
flat = {p.params for p in points}
st.caption(_(
    "Analysed on the meta device at T = {lengths}: the parameters are {params} every time; the MACs are "
    "T × {per_step}."
).format(lengths=", ".join(str(p.seq_len) for p in points), params=fmt.exact(next(iter(flat))),
         per_step=fmt.exact(here.params)))

st.subheader("RNN : LSTM : GRU = 1 : 4 : 3")
base = recurrent_params("rnn", input_size, hidden_size)
st.table(pd.DataFrame([
    {
        _("layer"): KINDS[k],
        _("gates"): GATES[k],
        _("parameters"): fmt.exact(recurrent_params(k, input_size, hidden_size)),
        "× RNN": f"{recurrent_params(k, input_size, hidden_size) / base:g}",
        _("formula"): recurrent.param_formula(k, input_size, hidden_size),
    }
    for k in KINDS
]).set_index(_("layer")))

st.subheader(_("The {layer}'s gates").format(layer=KINDS[kind]))
st.dataframe(pd.DataFrame([
    {
        _("gate"): f"{b.symbol}: {_(b.name)}",
        _("activation"): b.activation,
        "W_x": f"{b.w_x[0]}×{b.w_x[1]}",
        "W_h": f"{b.w_h[0]}×{b.w_h[1]}",
        "b_x": b.b_x,
        "b_h": b.b_h,
        _("parameters"): b.params,
        _("rows of weight_ih_l0 / weight_hh_l0"): f"{b.rows[0]} … {b.rows[1] - 1}",
    }
    for b in recurrent.gate_blocks(kind, input_size, hidden_size)
]), hide_index=True, column_config={_("parameters"): st.column_config.NumberColumn(format="localized")})
st.code("\n".join(recurrent.EQUATIONS[kind]), language=None)

st.subheader(_("Unrolled over time"))
st.graphviz_chart(diagram.unrolled_dot(kind, seq_len, input_size, hidden_size))

st.subheader(_("Shapes at every step"))
records = steps(kind, input_size, hidden_size, seq_len)
ranges = recurrent.step_ranges(records)
st.table(pd.DataFrame([
    {
        _("steps t"): g.label,
        "xₜ": fmt.shape(g.shapes.x, batch=True),
        "hₜ₋₁": fmt.shape(g.shapes.h_prev, batch=True),
        _("gates (stacked)"): fmt.shape(g.shapes.gates, batch=True),
        "hₜ": fmt.shape(g.shapes.h, batch=True),
        **({"cₜ": fmt.shape(g.shapes.c, batch=True)} if g.shapes.c is not None else {}),
    }
    for g in ranges
]).set_index(_("steps t")))
st.caption(_(
    "All {n} steps traced one at a time on the meta device, by the equations above; steps that meet the same shapes "
    "share a row ({distinct} distinct here): the weights and shapes are the same at every step, only the numbers "
    "change. Shapes include the batch axis (1). The same code, run on numbers, reproduces PyTorch's layer exactly "
    "(see the tests)."
).format(n=len(records), distinct=len(ranges)))
