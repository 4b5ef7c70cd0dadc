"""Residual block variants: where the addition and the activation sit (He et al. 2016), and the notes' two
implementations (identity shortcut, 1×1 convolution on the shortcut)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

import explorer
from explorer.lessons import residual_blocks
from explorer.present import diagram, table
from explorer.present import formatting as fmt
from explorer.zoo.resnet import PLACEMENT_CIFAR10_ERROR, PLACEMENT_TITLES, RESIDUAL_PLACEMENTS
from pages.common import exact_metric, layer_table_config, summarize, use_app_navigation
from pages.i18n import _
from pages.notes_panel import notes_panel

use_app_navigation()


@st.cache_data(show_spinner=False, max_entries=16)
def checks(placement: str) -> tuple[float, float]:
    return residual_blocks.identity_gap(placement), residual_blocks.branch_minimum(placement)


st.title(_("Residual block variants"))
st.markdown(_(
    "A residual block outputs F(x) + x. Where the batch norm and the ReLU sit around that addition changes what the "
    "shortcut carries to the next block — He et al. (*Identity Mappings in Deep Residual Networks*, 2016) tried "
    "five placements with the same two 3×3 convolutions. Each is a zoo id (`resblock-…`) on ResNet's 64×56×56 "
    "conv2_x input."
))
notes_panel("residual-blocks")

placements = list(RESIDUAL_PLACEMENTS)
rows = []
for placement in placements:
    model_id = f"resblock-{placement}"
    s = summarize(model_id, explorer.get_spec(model_id).input_shape)
    gap, low = checks(placement)
    branch, after = RESIDUAL_PLACEMENTS[placement]
    rows.append({
        _("variant"): _(PLACEMENT_TITLES[placement]),
        _("residual branch F"): " → ".join(branch),
        _("after the addition"): " → ".join(after) or _("nothing"),
        _("parameters"): fmt.exact(s.total_params),
        _("identity when F = 0"): _("yes") if gap == 0 else _("no (max |out − x| = {gap})").format(gap=f"{gap:.2f}"),
        _("F can be negative"): _("yes") if low < 0 else _("no (a ReLU ends F)"),
        _("CIFAR-10 error, ResNet-110 (paper)"): f"{PLACEMENT_CIFAR10_ERROR[placement]}%",
    })
st.table(pd.DataFrame(rows).set_index(_("variant")))
st.caption(_(
    "Same parameters in every variant: only the order changes. *Identity when F = 0*: the branch's last convolution "
    "zeroed, does the block pass x through unchanged? Measured on random inputs. (a) and (b) put a ReLU (and a batch "
    "norm) on the shortcut's way; (c) keeps the shortcut clean but its F ≥ 0 can only add; (d) and (e) do both "
    "right, and (e), full pre-activation, trained best."
))

chosen = st.segmented_control(_("Variant"), placements, default="full-preact", key="res_variant",
                              format_func=lambda p: PLACEMENT_TITLES[p].split(" ", 1)[0]) or "full-preact"
left, right = st.columns([1, 2])
left.graphviz_chart(diagram.placement_dot(chosen))
model_id = f"resblock-{chosen}"
spec = explorer.get_spec(model_id)
s = summarize(model_id, spec.input_shape)
with right:
    st.markdown(_("**Residual block {placement}** · `{id}`").format(placement=_(PLACEMENT_TITLES[chosen]),
                                                                   id=model_id))
    st.markdown(_(spec.notes))
    exact_metric(_("Parameters"), s.total_params)
    layers = table.layer_frame(s, table.BRIEF_COLUMNS, leaves=True)
    st.dataframe(layers, hide_index=True, key="res_layers", column_config=layer_table_config(layers))

st.subheader(_("The notes' two implementations"))
implementations = residual_blocks.notes_implementations()
st.table(pd.DataFrame([
    {
        _("implementation"): _(i.name),
        _("the notes' code"): i.code,
        _("input → output"): f"{fmt.shape((1, *i.input_shape))} → {fmt.shape((1, *i.output_shape))}",
        _("parameters (the notes' code: conv bias)"): fmt.exact(i.params),
        _("without conv bias"): fmt.exact(i.params_without_conv_bias),
    }
    for i in implementations
]).set_index(_("implementation")))
st.caption(_(
    "Both counted the same way, on the notes' `Residual` class: with the convolution biases its `nn.Conv2d` "
    "layers have by default ({first} and {second} of them), and without — a bias right before a batch norm is "
    "cancelled by the norm's mean, so torchvision's ResNets (and the variants above, {params} parameters each) "
    "leave it out."
).format(first=fmt.exact(implementations[0].conv_biases), second=fmt.exact(implementations[1].conv_biases),
         params=fmt.exact(implementations[0].params_without_conv_bias)))
two = summarize("resblock-1x1conv", explorer.get_spec("resblock-1x1conv").input_shape)
conv3 = next(r for r in two.layers if r.name == "conv3")
st.caption(_(
    "The 1×1 stride-2 convolution (`conv3`, {params} parameters) halves H×W and doubles the channels of x so that "
    "it can be added to F(x): the notes' “高宽减半” kind of ResNet block (height and width halved), used first in "
    "each stage."
).format(params=fmt.exact(conv3.params)))
