"""CNN Explorer — entry point: page config, navigation, the shared sidebar."""

from __future__ import annotations

import streamlit as st

st.set_page_config(page_title="CNN Explorer", page_icon="🧠", layout="wide")

PAGES = [
    st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
    st.Page("pages/architecture.py", title="Architecture", icon=":material/account_tree:", url_path="architecture"),
    st.Page("pages/compare.py", title="Compare", icon=":material/compare_arrows:", url_path="compare"),
    st.Page("pages/receptive-field.py", title="Receptive field", icon=":material/center_focus_strong:",
            url_path="receptive-field"),
    st.Page("pages/classify.py", title="Classify", icon=":material/image_search:", url_path="classify"),
]

page = st.navigation(PAGES)
st.sidebar.caption(
    "MACs are multiply–accumulates per image (batch 1), bias included — torchinfo's convention. "
    "Everything is computed on PyTorch's meta device: no weights are allocated."
)
page.run()
