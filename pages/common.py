"""Streamlit helpers shared by the pages: cached analysis, the sidebar model picker, number display."""

from __future__ import annotations

import streamlit as st

import explorer
from explorer import formatting as fmt
from explorer.analysis import InputShapeError, Summary
from explorer.zoo.registry import unknown_model_error

MODEL_IDS = [s.id for s in explorer.list_models()]
DEFAULT_MODEL = "alexnet"


@st.cache_data(show_spinner=False, max_entries=256)
def summarize(model_id: str, input_shape: tuple[int, ...]) -> Summary:
    """`explorer.analyze` cached by id + input (a hashable tuple): reruns of a page cost a dictionary lookup."""
    return explorer.analyze(model_id, input_shape)


def try_summarize(model_id: str, input_shape: tuple[int, ...]) -> Summary | None:
    """Like :func:`summarize`, but shows a bad input size as one clear message and returns ``None``."""
    try:
        return summarize(model_id, tuple(input_shape))
    except InputShapeError as exc:
        st.error(str(exc), icon="⚠️")
        return None


def _model_label(model_id: str) -> str:
    spec = explorer.get_spec(model_id)
    return f"{model_id} — {spec.title}"


def _reset_input() -> None:
    st.session_state["input"] = ",".join(map(str, explorer.get_spec(st.session_state["model"]).input_shape))


def model_picker() -> explorer.ModelSpec:
    """The shared sidebar picker, bound to ``?model=``; an unknown id in the link is named, then the default used."""
    asked = st.query_params.get("model")
    if asked is not None and asked not in MODEL_IDS and "model" not in st.session_state:
        st.error(f"{unknown_model_error(asked).args[0]} — showing {DEFAULT_MODEL} instead.", icon="⚠️")
    model_id = st.sidebar.selectbox(
        "Model",
        MODEL_IDS,
        index=MODEL_IDS.index(DEFAULT_MODEL),
        format_func=_model_label,
        key="model",
        bind="query-params",
        on_change=_reset_input,
    )
    return explorer.get_spec(model_id)


def input_picker(spec: explorer.ModelSpec) -> tuple[int, ...] | None:
    """Input size as ``C,H,W`` text bound to ``?input=``; a malformed one is shown as an error and ``None`` returned."""
    default = ",".join(map(str, spec.input_shape))
    if "input" not in st.session_state and "input" not in st.query_params:
        st.session_state["input"] = default
    text = st.sidebar.text_input(
        "Input size (C,H,W)", key="input", bind="query-params", help=f"{spec.id} is built for {default}."
    )
    try:
        return explorer.analysis.parse_input_shape(text or default)
    except InputShapeError as exc:
        st.error(str(exc), icon="⚠️")
        return None


def exact_metric(label: str, n: int, help: str | None = None) -> None:
    """A metric showing the exact integer with thousands separators, the short form beside it."""
    st.metric(label, fmt.exact(n), delta=fmt.short(n), delta_color="off", delta_arrow="off", help=help)
