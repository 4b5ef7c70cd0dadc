"""Compare: several models side by side — parameters, MACs, depth, memory, known accuracy, ratios to a baseline,
optionally all at one input size."""

from __future__ import annotations

import pandas as pd
import streamlit as st

import explorer
from explorer.analysis.depth import LONGEST_PATH_HELP, TOTAL_HELP
from explorer.lessons import compare
from explorer.present import charts
from explorer.present import formatting as fmt
from pages.common import MODEL_IDS, use_app_navigation

use_app_navigation()

DEFAULT = ["lenet", "alexnet", "vgg16"]
SIZES = (None, 28, 32, 64, 96, 128, 224, 299)


@st.cache_data(show_spinner=False, max_entries=256)
def measure(model_id: str, size: int | None) -> compare.Measured:
    return compare.measure(model_id, size)


st.title("Compare models")

# The same rule as the model picker: a link wins on arrival, the widget afterwards, no parameters keep the session's.
asked_text = st.query_params.get("models")
edited = st.session_state.pop("_compare_edited", False)
if asked_text is not None and not edited and asked_text != ",".join(st.session_state.get("compare_models", [])):
    asked = [m.strip() for m in asked_text.split(",") if m.strip()]
    unknown = [m for m in asked if m not in MODEL_IDS]
    if unknown:
        st.error(f"Unknown model id(s) in the link: {', '.join(unknown)} — ignored.", icon="⚠️")
    st.session_state["compare_models"] = [m for m in asked if m in MODEL_IDS] or DEFAULT
st.session_state.setdefault("compare_models", DEFAULT)

chosen = st.multiselect(
    "Models", MODEL_IDS, key="compare_models", persist_state="session",
    on_change=lambda: st.session_state.update(_compare_edited=True),
)
st.query_params["models"] = ",".join(chosen)

if not chosen:
    st.info("Pick at least one model.")
    st.stop()

c1, c2, c3 = st.columns(3)
log = c1.toggle("Logarithmic scale", value=False, key="compare_log",
                help="Linear by default: bar heights in proportion. Logarithmic shows small and huge models together.")
baseline = c2.selectbox("Baseline (every number also as × this model)", chosen, key="compare_baseline")
size = c3.selectbox(
    "Input size", SIZES, key="compare_size",
    format_func=lambda s: "each model's own" if s is None else f"all at {s}×{s} (own channels)",
    help="Compare all image models at one H×W, each with its own number of input channels.",
)

measured = {m: measure(m, size) for m in chosen}
refused = {m: r for m, r in measured.items() if r.summary is None}
if refused:
    st.warning(
        f"Cannot take {size}×{size}: " + "; ".join(f"**{m}** — {r.error}" for m, r in refused.items()),
        icon="⚠️",
    )
ok = {m: r for m, r in measured.items() if r.summary is not None}
if not ok:
    st.info("None of the chosen models takes this input size: pick another, or each model's own.")
    st.stop()
if baseline not in ok:
    st.warning(f"The baseline {baseline} cannot take this input size: no ratios.", icon="⚠️")


def accuracy_text(model_id: str) -> str:
    found = compare.accuracy(model_id)
    if found is None:
        return "—"
    kind = "ImageNet top-1 (torchvision)" if found.dataset == compare.IMAGENET else "Fashion-MNIST (shipped weights)"
    return f"{found.accuracy:.2%} {kind}"


NUMBERS = (  # column, value of a Measured, text
    ("parameters", lambda r: r.summary.total_params, fmt.exact_and_short),
    ("MACs per image", lambda r: r.summary.total_macs, fmt.exact_and_short),
    ("weight layers (longest path)", lambda r: r.longest_path, str),
    ("weight layers (all)", lambda r: r.total_weight_layers, str),
    ("activations", lambda r: r.summary.total_memory, fmt.nbytes),
    ("weights", lambda r: r.summary.param_bytes, fmt.nbytes),
)
st.table(pd.DataFrame([
    {
        "model": m,
        "title": explorer.get_spec(m).title,
        "year": explorer.get_spec(m).year,
        "input": fmt.shape(r.summary.input_shape),
        **{column: text(value(r)) for column, value, text in NUMBERS},
        "accuracy": accuracy_text(m),
    }
    for m, r in ok.items()
]).set_index("model"))
st.caption(
    "MACs: multiply–accumulates per image at the input shown, bias included (torchinfo's convention). "
    f"**Weight layers (longest path)**: {LONGEST_PATH_HELP} **Weight layers (all)**: {TOTAL_HELP} "
    "Memory: float32, in binary units (1 KiB = 1024 B, 1 MiB = 2²⁰ B). Accuracy: each model on its own dataset — "
    "never compare a Fashion-MNIST number with an ImageNet one."
)

if baseline in ok:
    st.markdown(f"**The same numbers as multiples of `{baseline}`**")
    base = ok[baseline]
    st.table(pd.DataFrame([
        {"model": m, **{column: fmt.ratio(value(r), value(base)) for column, value, _ in NUMBERS}}
        for m, r in ok.items()
    ]).set_index("model"))

names = list(ok)
CHARTS = (  # value, title, unit
    (lambda r: r.summary.total_params, "Parameters", "count"),
    (lambda r: r.summary.total_macs, "MACs per image", "count"),
    (lambda r: r.longest_path, "Weight layers on the longest path (convolution, linear, recurrent)", "count"),
    (lambda r: r.summary.total_memory, "Activation memory (float32)", "bytes"),
)
columns = st.columns(2)
for i, (value, title, unit) in enumerate(CHARTS):
    fig = charts.compare_bars(names, [value(ok[m]) for m in names], title, log, unit=unit,
                              baseline=baseline if baseline in ok else None)
    columns[i % 2].plotly_chart(fig, key=f"compare_chart_{i}")

st.subheader("Parameters against accuracy")
groups = compare.accuracy_by_dataset(chosen)
if not groups:
    st.info(
        "None of the chosen models has a known accuracy. Known: the shipped Fashion-MNIST weights ("
        + ", ".join(f"`{m}`" for m in MODEL_IDS if explorer.get_spec(m).trained is not None)
        + ") and torchvision's ImageNet top-1 for " + ", ".join(f"`{m}`" for m in compare.IMAGENET_ACCURACY) + "."
    )
else:
    plots = st.columns(len(groups))
    for col, (dataset, points) in zip(plots, groups.items(), strict=True):
        title = "ImageNet-1k top-1" if dataset == compare.IMAGENET else "Fashion-MNIST test accuracy"
        col.plotly_chart(charts.accuracy_scatter(points, title), key=f"compare_acc_{dataset}")
        col.caption(f"Source: {points[0].source}.")
    missing = [m for m in chosen if compare.accuracy(m) is None]
    if missing:
        st.caption("No known accuracy for " + ", ".join(f"`{m}`" for m in missing) + " (no shipped or published "
                   "weights for these ids). One chart per dataset: the datasets are never mixed.")
