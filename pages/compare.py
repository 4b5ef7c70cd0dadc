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
from pages.i18n import N_, _, render

use_app_navigation()

DEFAULT = ["lenet", "alexnet", "vgg16"]
SIZES = (None, 28, 32, 64, 96, 128, 224, 299)


@st.cache_data(show_spinner=False, max_entries=256)
def measure(model_id: str, size: int | None) -> compare.Measured:
    return compare.measure(model_id, size)


st.title(_("Compare models"))

# The same rule as the model picker: a link wins on arrival, the widget afterwards, no parameters keep the session's.
asked_text = st.query_params.get("models")
edited = st.session_state.pop("_compare_edited", False)
if asked_text is not None and not edited and asked_text != ",".join(st.session_state.get("compare_models", [])):
    asked = [m.strip() for m in asked_text.split(",") if m.strip()]
    unknown = [m for m in asked if m not in MODEL_IDS]
    if unknown:
        st.error(_("Unknown model id(s) in the link: {ids} — ignored.").format(ids=", ".join(unknown)), icon="⚠️")
    st.session_state["compare_models"] = [m for m in asked if m in MODEL_IDS] or DEFAULT
st.session_state.setdefault("compare_models", DEFAULT)

chosen = st.multiselect(
    _("Models"), MODEL_IDS, key="compare_models", persist_state="session",
    on_change=lambda: st.session_state.update(_compare_edited=True),
)
st.query_params["models"] = ",".join(chosen)

if not chosen:
    st.info(_("Pick at least one model."))
    st.stop()

c1, c2, c3 = st.columns(3)
log = c1.toggle(_("Logarithmic scale"), value=False, key="compare_log",
                help=_("Linear by default: bar heights in proportion. Logarithmic shows small and huge models "
                       "together."))
baseline = c2.selectbox(_("Baseline (every number also as × this model)"), chosen, key="compare_baseline")
size = c3.selectbox(
    _("Input size"), SIZES, key="compare_size",
    format_func=lambda s: _("each model's own") if s is None else _("all at {s}×{s} (own channels)").format(s=s),
    help=_("Compare all image models at one H×W, each with its own number of input channels."),
)

measured = {m: measure(m, size) for m in chosen}
refused = {m: r for m, r in measured.items() if r.summary is None}
if refused:
    st.warning(
        _("Cannot take {s}×{s}: {reasons}").format(
            s=size, reasons="; ".join(f"**{m}** — {render(r.error)}" for m, r in refused.items())),
        icon="⚠️",
    )
ok = {m: r for m, r in measured.items() if r.summary is not None}
if not ok:
    st.info(_("None of the chosen models takes this input size: pick another, or each model's own."))
    st.stop()
if baseline not in ok:
    st.warning(_("The baseline {model} cannot take this input size: no ratios.").format(model=baseline), icon="⚠️")


def accuracy_text(model_id: str) -> str:
    found = compare.accuracy(model_id)
    if found is None:
        return "—"
    kind = _("ImageNet top-1 (torchvision)") if found.dataset == compare.IMAGENET else \
        _("Fashion-MNIST (shipped weights)")
    return f"{found.accuracy:.2%} {kind}"


NUMBERS = (  # column, value of a Measured, text
    (N_("parameters"), lambda r: r.summary.total_params, fmt.exact_and_short),
    (N_("MACs per image"), lambda r: r.summary.total_macs, fmt.exact_and_short),
    (N_("weight layers (longest path)"), lambda r: r.longest_path, str),
    (N_("weight layers (all)"), lambda r: r.total_weight_layers, str),
    (N_("activations"), lambda r: r.summary.total_memory, fmt.nbytes),
    (N_("weights"), lambda r: r.summary.param_bytes, fmt.nbytes),
)
st.table(pd.DataFrame([
    {
        _("model"): m,
        _("title"): _(explorer.get_spec(m).title),
        _("year"): explorer.get_spec(m).year,
        _("input"): fmt.shape(r.summary.input_shape),
        **{_(column): text(value(r)) for column, value, text in NUMBERS},
        _("accuracy"): accuracy_text(m),
    }
    for m, r in ok.items()
]).set_index(_("model")))
st.caption(_(
    "MACs: multiply–accumulates per image at the input shown, bias included (torchinfo's convention). "
    "**Weight layers (longest path)**: {longest} **Weight layers (all)**: {total} "
    "Memory: float32, in binary units (1 KiB = 1024 B, 1 MiB = 2²⁰ B). Accuracy: each model on its own dataset — "
    "never compare a Fashion-MNIST number with an ImageNet one."
).format(longest=_(LONGEST_PATH_HELP), total=_(TOTAL_HELP)))

if baseline in ok:
    st.markdown(_("**The same numbers as multiples of `{model}`**").format(model=baseline))
    base = ok[baseline]
    st.table(pd.DataFrame([
        {_("model"): m, **{_(column): fmt.ratio(value(r), value(base)) for column, value, _text in NUMBERS}}
        for m, r in ok.items()
    ]).set_index(_("model")))

names = list(ok)
CHARTS = (  # value, title, unit
    (lambda r: r.summary.total_params, N_("Parameters"), "count"),
    (lambda r: r.summary.total_macs, N_("MACs per image"), "count"),
    (lambda r: r.longest_path, N_("Weight layers (longest path)"), "count"),  # a short title: never cut
    (lambda r: r.summary.total_memory, N_("Activation memory (float32)"), "bytes"),
)
columns = st.columns(2)
for i, (value, title, unit) in enumerate(CHARTS):
    fig = charts.compare_bars(names, [value(ok[m]) for m in names], _(title), log, unit=unit,
                              baseline=baseline if baseline in ok else None)
    columns[i % 2].plotly_chart(fig, key=f"compare_chart_{i}")

st.subheader(_("Parameters against accuracy"))
groups = compare.accuracy_by_dataset(chosen)
if not groups:
    st.info(_(
        "None of the chosen models has a known accuracy. Known: the shipped Fashion-MNIST weights ({shipped}) and "
        "torchvision's ImageNet top-1 for {imagenet}."
    ).format(shipped=", ".join(f"`{m}`" for m in MODEL_IDS if explorer.get_spec(m).trained is not None),
             imagenet=", ".join(f"`{m}`" for m in compare.IMAGENET_ACCURACY)))
else:
    plots = st.columns(len(groups))
    for col, (dataset, points) in zip(plots, groups.items(), strict=True):
        title = _("ImageNet-1k top-1") if dataset == compare.IMAGENET else _("Fashion-MNIST test accuracy")
        col.plotly_chart(charts.accuracy_scatter(points, title), key=f"compare_acc_{dataset}")
        col.caption(_("Source: {source}.").format(source=_(points[0].source)))
    missing = [m for m in chosen if compare.accuracy(m) is None]
    if missing:
        st.caption(_("No known accuracy for {ids} (no shipped or published weights for these ids). One chart per "
                     "dataset: the datasets are never mixed.").format(ids=", ".join(f"`{m}`" for m in missing)))
