"""Blocks and layers: any model's block tree, with how many layers (and which kinds) each block holds."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from explorer.analysis.depth import LONGEST_PATH_HELP, TOTAL_HELP, weight_layers_on_longest_path
from explorer.i18n import use_language
from explorer.lessons import blocks
from explorer.present import charts
from explorer.present import formatting as fmt
from pages.common import model_picker, summarize, use_app_navigation
from pages.i18n import N_, _, language
from pages.notes_panel import claims_panel, notes_panel

use_app_navigation()

# The kinds of layers as the Chinese app names them (d2l's words: 汇聚层, not the notes' 池化层).
KINDS_ZH = {"convolution": N_("convolutional layer (kind)"), "fully connected": N_("fully connected layer (kind)"),
            "pooling": N_("pooling layer (kind)"), "activation": N_("activation layer (kind)"),
            "normalization": N_("normalization layer (kind)"), "recurrent": N_("recurrent layer (kind)"),
            "other": N_("other (kind)")}


FIRST_MODEL = "resnet18"  # stages of residual blocks: two nesting levels


@st.cache_data(show_spinner=False, max_entries=64)
def longest_path(model_id: str, input_shape: tuple[int, ...]) -> int:
    return weight_layers_on_longest_path(model_id, input_shape)


if "model" not in st.session_state and "model" not in st.query_params:
    st.session_state["model"] = FIRST_MODEL  # a first visit opens on blocks to look at, not on a flat network
spec = model_picker()
summary = summarize(spec.id, spec.input_shape)
tree = blocks.block_tree(summary)
root, subblocks = tree[0], tree[1:]

st.title(_("Blocks and layers"))
st.markdown(_(
    "`{model}` — {title}. A *layer* is one row of the layer table (a convolution, a ReLU, a pooling …); a "
    "*block* groups layers that do one job together (a VGG block, an Inception block, a residual block) and can "
    "hold other blocks. Pick any model in the sidebar."
).format(model=spec.id, title=_(spec.title)))
notes_panel("blocks")
if spec.family == "NiN":  # the notes' nin_block, as written: its erratum is a crash, not a few extra parameters
    claims_panel(["nin-224"])

m1, m2, m3, m4, m5 = st.columns([0.8, 1.2, 1.6, 0.8, 1])  # the long label gets room: never cut
m1.metric(_("Layers"), fmt.exact(root.layers), help=_("Leaf module calls: a module called twice counts twice."))
m2.metric(_("Weight layers (all)"), fmt.exact(root.weight_layers), help=_(TOTAL_HELP))
m3.metric(_("Weight layers (longest path)"), fmt.exact(longest_path(spec.id, spec.input_shape)),
          help=_(LONGEST_PATH_HELP))
m4.metric(_("Blocks"), fmt.exact(len(subblocks)), help=_("Containers below the model itself."))
m5.metric(_("Nesting levels"), max((b.depth for b in subblocks), default=0))

names = dict(blocks.CATEGORIES)
with use_language("zh"):  # the Chinese word beside the English one is the glossary's (汇聚层), as the Chinese page's
    chinese = {n: _(KINDS_ZH[n]) for n in names}
st.plotly_chart(
    charts.category_bars(blocks.category_counts(summary), chinese if language() == "zh"
                         else {n: f"{n} · {chinese[n]}" for n in names}),
    key="blocks_kinds",
)

if not subblocks:
    st.info(_("{model} is a single block: its {n} layers sit directly in the model, with no sub-blocks.").format(
        model=spec.id, n=root.layers))
    st.stop()

deepest = max(b.depth for b in subblocks)
level = st.slider(_("Block level"), 1, deepest, 1, key=f"blocks_level_{spec.id}") if deepest > 1 else 1
rows = [b for b in subblocks if b.depth == level]
st.dataframe(pd.DataFrame([
    {
        _("block"): b.name,
        _("type"): b.type,
        _("layers"): b.layers,
        _("weight layers (all)"): b.weight_layers,
        _("sub-blocks and layers"): b.children,
        _("params"): b.params,
        _("output"): fmt.shape(b.output_shape),
        _("layers inside (network order)"): ", ".join(f"{t}×{n}" for t, n in b.kinds),
    }
    for b in rows
]), hide_index=True, key="blocks_table",
    column_config={_("params"): st.column_config.NumberColumn(format="localized")})
loose = root.layers - sum(b.layers for b in subblocks if b.depth == 1)
st.caption(_(
    "{n} block(s) at level {level}. The level-1 blocks hold {inside} of the {total} layers; {loose} sit directly "
    "in the model (a classifier, a pooling …)."
).format(n=len(rows), level=level, inside=root.layers - loose, total=root.layers, loose=loose))
st.plotly_chart(charts.blocks_treemap(tree, spec.id), key="blocks_tree")
