"""CNN Explorer — entry point: page config, navigation, the shared sidebar."""

from __future__ import annotations

import streamlit as st

st.set_page_config(page_title="CNN Explorer", page_icon="🧠", layout="wide")

PAGES = [
    st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
    st.Page("pages/architecture.py", title="Architecture", icon=":material/account_tree:", url_path="architecture"),
    st.Page("pages/compare.py", title="Compare", icon=":material/compare_arrows:", url_path="compare"),
    st.Page("pages/playground.py", title="Playground: your own network", icon=":material/code:",
            url_path="playground"),
    st.Page("pages/receptive-field.py", title="Receptive field", icon=":material/center_focus_strong:",
            url_path="receptive-field"),
    st.Page("pages/classify.py", title="Classify", icon=":material/image_search:", url_path="classify"),
    st.Page("pages/train.py", title="Train", icon=":material/model_training:", url_path="train"),
    st.Page("pages/feedforward.py", title="Feedforward: MLP, autoencoder, GAN", icon=":material/arrow_forward:",
            url_path="feedforward"),
    st.Page("pages/recurrent.py", title="Recurrent: RNN, LSTM, GRU", icon=":material/replay:", url_path="recurrent"),
    st.Page("pages/hopfield.py", title="Hopfield network", icon=":material/memory:", url_path="hopfield"),
    st.Page("pages/boltzmann.py", title="Boltzmann machine", icon=":material/casino:", url_path="boltzmann"),
    st.Page("pages/ffn.py", title="Transformer FFN", icon=":material/view_column:", url_path="ffn"),
    st.Page("pages/pooling.py", title="Pooling", icon=":material/grid_view:", url_path="pooling"),
    st.Page("pages/blocks.py", title="Blocks and layers", icon=":material/view_module:", url_path="blocks"),
    st.Page("pages/inception.py", title="Inception variants", icon=":material/call_split:", url_path="inception"),
    st.Page("pages/residual-blocks.py", title="Residual blocks", icon=":material/alt_route:",
            url_path="residual-blocks"),
]

_BY_PATH = {p.url_path: p for p in PAGES}
SECTIONS = {
    "Explore the CNNs": [
        _BY_PATH[k] for k in ("", "architecture", "compare", "playground", "receptive-field", "classify", "train")
    ],
    "Building blocks": [_BY_PATH[k] for k in ("pooling", "blocks", "inception", "residual-blocks")],
    "The notes' other systems": [_BY_PATH[k] for k in ("feedforward", "recurrent", "hopfield", "boltzmann", "ffn")],
}
assert sum(map(len, SECTIONS.values())) == len(PAGES), "every page belongs to one section"

page = st.navigation(SECTIONS, expanded=True)
st.sidebar.caption(
    "MACs are multiply–accumulates per image (batch 1), bias included — torchinfo's convention. "
    "Everything is computed on PyTorch's meta device: no weights are allocated."
)
page.run()
