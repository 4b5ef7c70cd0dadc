"""Streamlit helpers shared by the pages: cached analysis, the sidebar model picker, number display."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import streamlit as st

import explorer
from explorer.analysis import InputShapeError, PartialSummary, Summary, graph
from explorer.analysis import smallest_input as fit_smallest_input
from explorer.analysis.labels import display_labels
from explorer.present import diagram, table
from explorer.present import formatting as fmt
from explorer.zoo.registry import unknown_model_error
from pages.i18n import _, render
from pages.layout import open_sidebar as open_sidebar  # the pages import them from here too
from pages.layout import sidebar_slot as sidebar_slot
from pages.layout import use_app_navigation as use_app_navigation

if TYPE_CHECKING:
    import pandas as pd

MODEL_IDS = [s.id for s in explorer.list_models()]
DEFAULT_MODEL = "alexnet"

@st.cache_data(show_spinner=False, max_entries=256)
def analysis(model_id: str, input_shape: tuple[int, ...]) -> Summary | PartialSummary:
    """``explorer.analyze(..., partial=True)`` cached by id + input: the summary, or for an input the network cannot
    take the layers up to the one that fails and why (a malformed size raises :class:`InputShapeError`)."""
    return explorer.analyze(model_id, input_shape, partial=True)


@st.cache_data(show_spinner=False, max_entries=256)
def summarize(model_id: str, input_shape: tuple[int, ...]) -> Summary:
    """`explorer.analyze` cached by id + input (a hashable tuple): reruns of a page cost a dictionary lookup."""
    result = analysis(model_id, tuple(input_shape))
    if isinstance(result, PartialSummary):
        raise InputShapeError(result.failure.message)
    return result


@st.cache_data(show_spinner=False, max_entries=64)
def network_graph(model_id: str, input_shape: tuple[int, ...], partial: bool = False) -> graph.Graph:
    """The traced data-flow graph of ``model_id`` (meta device), cached by id + input like the analysis; ``partial``:
    up to the layer that fails, for an input the network cannot take."""
    return graph.trace(model_id, input_shape, partial=partial)


@st.cache_data(show_spinner=False, max_entries=256)
def layer_labels(model_id: str, input_shape: tuple[int, ...]) -> dict[str, str]:
    """Module path → display label (conv1, fc6, inception3a …) of ``model_id``'s layers, cached like the analysis."""
    return display_labels(summarize(model_id, input_shape).layers, model_id)


@st.cache_data(show_spinner=False, max_entries=64)
def layer_files(model_id: str, input_shape: tuple[int, ...]) -> tuple[str, str]:
    """The layer table as CSV and as JSON (``explorer.present.export``), cached like the analysis: a few ms once per
    model and input, so that the download buttons hold their file and a click downloads at once, even mid-rerun."""
    from explorer.present import export

    summary = summarize(model_id, input_shape)
    return export.layers_csv(summary), export.layers_json(summary)


@st.cache_data(show_spinner=False, max_entries=64)
def diagram_svg(dot: str) -> str:
    """Graphviz's SVG of ``dot``, cached by the DOT text: the layout (``dot``, up to a second for ResNet-50 fully
    open) runs once per diagram, and a rerun that only changes the selected layer reuses it."""
    return diagram.render_dot(dot, "svg").decode("utf-8")


@st.cache_data(show_spinner=False, max_entries=64)
def smallest_input(model_id: str, channels: int) -> tuple[int, ...] | None:
    """:func:`explorer.analysis.smallest_input`, cached: the smallest square input ``channels``×S×S the model takes."""
    return fit_smallest_input(model_id, channels)


def try_analysis(model_id: str, input_shape: tuple[int, ...]) -> Summary | PartialSummary | None:
    """Like :func:`analysis`; an input the network cannot take is also shown as one clear error (the partial
    result returned for the page to show), a malformed one as the error alone (``None`` returned)."""
    try:
        result = analysis(model_id, tuple(input_shape))
    except InputShapeError as exc:
        st.error(render(exc), icon="⚠️")
        return None
    if isinstance(result, PartialSummary):
        st.error(render(result.failure.message), icon="⚠️")
    return result


def try_summarize(model_id: str, input_shape: tuple[int, ...]) -> Summary | None:
    """Like :func:`summarize`, but shows a bad input size as one clear message and returns ``None``."""
    try:
        return summarize(model_id, tuple(input_shape))
    except InputShapeError as exc:
        st.error(render(exc), icon="⚠️")
        return None


def _model_label(model_id: str) -> str:
    spec = explorer.get_spec(model_id)
    return f"{model_id} — {_(spec.title)}"


def _on_model_change() -> None:
    """A new model starts from its own input size and a fully expanded layer table."""
    st.session_state["_picked"] = True
    st.session_state["input"] = ",".join(map(str, explorer.get_spec(st.session_state["model"]).input_shape))
    st.session_state.pop("depth", None)


def _on_input_change() -> None:
    st.session_state["_typed"] = True


def model_picker() -> explorer.ModelSpec:
    """The shared sidebar picker, synced with ``?model=``.

    A link wins over the session's choice when the user arrives with one (``?model=vgg16`` from the gallery, a
    bookmark); a choice made in the picker wins over the stale URL; a page visited without parameters keeps the
    session's model. An unknown id in the link is named and the current (or default) model kept.
    """
    asked = st.query_params.get("model")
    picked = st.session_state.pop("_picked", False)
    if picked:
        st.query_params.pop("input", None)  # the old model's input size no longer applies
    if asked is not None and not picked and asked != st.session_state.get("model"):
        if asked in MODEL_IDS:
            st.session_state["model"] = asked
            st.session_state["input"] = st.query_params.get(
                "input", ",".join(map(str, explorer.get_spec(asked).input_shape))
            )
            st.session_state.pop("depth", None)
        else:
            keep = st.session_state.get("model", DEFAULT_MODEL)
            st.error(_("{error} — showing {keep} instead.").format(
                error=render(unknown_model_error(asked)), keep=keep), icon="⚠️")
    st.session_state.setdefault("model", DEFAULT_MODEL)
    model_id = sidebar_slot().selectbox(
        _("Model"), MODEL_IDS, format_func=_model_label, key="model", on_change=_on_model_change,
        persist_state="session",  # the choice survives a visit to another page
    )
    st.query_params["model"] = model_id
    return explorer.get_spec(model_id)


def input_picker(spec: explorer.ModelSpec) -> tuple[int, ...] | None:
    """Input size as ``C,H,W`` text synced with ``?input=``; a malformed one is shown as an error, ``None`` returned."""
    default = ",".join(map(str, spec.input_shape))
    asked = st.query_params.get("input")
    typed = st.session_state.pop("_typed", False)
    if asked is not None and not typed and asked != st.session_state.get("input"):
        st.session_state["input"] = asked
    st.session_state.setdefault("input", default)
    text = sidebar_slot().text_input(
        _("Input size (C,H,W)"), key="input",
        help=_("{model} is built for {shape}.").format(model=spec.id, shape=default),
        on_change=_on_input_change, persist_state="session",
    )
    if text.strip() == default:
        st.query_params.pop("input", None)
    else:
        st.query_params["input"] = text
    try:
        return explorer.analysis.parse_input_shape(text or default)
    except InputShapeError as exc:
        st.error(render(exc), icon="⚠️")
        return None


def exact_metric(label: str, n: int, help: str | None = None) -> None:
    """A metric showing the exact integer with thousands separators, the short form beside it."""
    st.metric(label, fmt.exact(n), delta=fmt.short(n), delta_color="off", delta_arrow="off", help=help)


def _width(values: list[Any], header: str, count: bool = False) -> int:
    """Pixels for a column: its longest formatted value (dataframe cells are drawn on a canvas and cut, not
    wrapped), at ~7.4 px a character plus the cell's padding."""
    texts = [f"{v:,}" if count and isinstance(v, (int, float)) else str(v) for v in values] + [header]
    return int(max(map(len, texts)) * 7.4 + 28)


def layer_table_config(frame: pd.DataFrame) -> dict[str, Any]:
    """``column_config`` for a layer table of :func:`explorer.present.table.layer_frame`: each header in the page's
    language (the frame keeps the builder's English headers, those of the downloads), counts as localized numbers
    with thousands separators, every column as wide as its longest formatted value (text columns at most 520 px)."""
    counts = {column.header for column in table.COLUMNS.values() if column.count}
    config: dict[str, Any] = {}
    for c in frame.columns:
        width = _width(list(frame[c]), _(c), count=c in counts)
        config[c] = st.column_config.NumberColumn(_(c), format="localized", width=width) if c in counts else \
            st.column_config.Column(_(c), width=min(width, 520))
    return config


def device_label(device: str) -> str:
    """A device choice as the select boxes show it: ``auto`` in the page's language, the device names as they are."""
    return _("auto (best available)") if device == "auto" else device
