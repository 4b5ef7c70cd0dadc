"""CNN Explorer — entry point: page config, the language, navigation, the shared sidebar."""

from __future__ import annotations

import streamlit as st

from pages.i18n import _, language_switch
from pages.layout import open_sidebar, warm_in_background
from pages.learner import identify

st.set_page_config(page_title="CNN Explorer", page_icon="🧠", layout="wide")
open_sidebar()  # the model picker's place: first in the sidebar, above the navigation
language_switch()  # before anything translated: the titles below are in the run's language
identify()  # this browser's learner id (its cookie set on the first visit): whose runs are whose

PAGES = [
    st.Page("pages/home.py", title=_("Home"), icon=":material/home:", default=True),
    st.Page("pages/architecture.py", title=_("Architecture"), icon=":material/account_tree:",
            url_path="architecture"),
    st.Page("pages/compare.py", title=_("Compare"), icon=":material/compare_arrows:", url_path="compare"),
    st.Page("pages/playground.py", title=_("Playground: your own network"), icon=":material/code:",
            url_path="playground"),
    st.Page("pages/receptive-field.py", title=_("Receptive field"), icon=":material/center_focus_strong:",
            url_path="receptive-field"),
    st.Page("pages/classify.py", title=_("Classify"), icon=":material/image_search:", url_path="classify"),
    st.Page("pages/train.py", title=_("Train"), icon=":material/model_training:", url_path="train"),
    st.Page("pages/runs.py", title=_("Runs"), icon=":material/table_chart:", url_path="runs"),
    st.Page("pages/practice.py", title=_("Practice"), icon=":material/quiz:", url_path="practice"),
    st.Page("pages/feedforward.py", title=_("MLP, autoencoder, GAN"), icon=":material/arrow_forward:",
            url_path="feedforward"),
    st.Page("pages/recurrent.py", title=_("Recurrent: RNN, LSTM, GRU"), icon=":material/replay:",
            url_path="recurrent"),
    st.Page("pages/hopfield.py", title=_("Hopfield network"), icon=":material/memory:", url_path="hopfield"),
    st.Page("pages/boltzmann.py", title=_("Boltzmann machine"), icon=":material/casino:", url_path="boltzmann"),
    st.Page("pages/ffn.py", title=_("Transformer FFN"), icon=":material/view_column:", url_path="ffn"),
    st.Page("pages/pooling.py", title=_("Pooling"), icon=":material/grid_view:", url_path="pooling"),
    st.Page("pages/blocks.py", title=_("Blocks and layers"), icon=":material/view_module:", url_path="blocks"),
    st.Page("pages/inception.py", title=_("Inception variants"), icon=":material/call_split:", url_path="inception"),
    st.Page("pages/residual-blocks.py", title=_("Residual blocks"), icon=":material/alt_route:",
            url_path="residual-blocks"),
    st.Page("pages/glossary.py", title=_("Glossary"), icon=":material/translate:", url_path="glossary"),
]

_BY_PATH = {p.url_path: p for p in PAGES}
SECTIONS = {
    _("Explore the CNNs"): [
        _BY_PATH[k] for k in ("", "architecture", "compare", "playground", "receptive-field", "classify", "train",
                                   "runs", "practice")
    ],
    _("Building blocks"): [_BY_PATH[k] for k in ("pooling", "blocks", "inception", "residual-blocks")],
    _("The notes' other systems"): [
        _BY_PATH[k] for k in ("feedforward", "recurrent", "hopfield", "boltzmann", "ffn")
    ],
    _("Reference"): [_BY_PATH["glossary"]],
}
assert sum(map(len, SECTIONS.values())) == len(PAGES), "every page belongs to one section"

page = st.navigation(SECTIONS, expanded=True)
st.sidebar.caption(
    _("MACs are multiply–accumulates per image (batch 1), bias included — torchinfo's convention. "
      "Everything is computed on PyTorch's meta device: no weights are allocated.")
)
try:
    page.run()
finally:  # also when the page reruns or stops: the other pages' imports start once Home (or any page) was drawn
    warm_in_background()
