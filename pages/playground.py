"""Playground: paste PyTorch (d2l style), see every layer — parameters, MACs, shapes, receptive fields, the diagram.

The code is interpreted safely by :mod:`explorer.playground` (nothing in it runs as Python), and not in this server:
in a worker process with hard limits (:mod:`explorer.present.sandbox`) that answers plain data — the summary, the
traced graph, the diagram's SVG. Code and input size live in the URL:
``/playground?code=<zlib + base64url>&input=1,28,28``.

The editor is ``st.text_area``: the Ace-based components (streamlit-ace, streamlit-code-editor) are not among the
pinned dependencies, and a text area is what AppTest and the browser tests drive natively.
"""

from __future__ import annotations

import html
from dataclasses import replace

import pandas as pd
import streamlit as st

import explorer
from explorer import playground
from explorer.analysis import InputShapeError, parse_input_shape
from explorer.i18n import Message, render
from explorer.present import diagram, export, sandbox, table
from explorer.present import formatting as fmt
from explorer.present.figure import labels_of
from explorer.runtime import coderun, jobs
from explorer.runtime import train as engine
from pages import learner
from pages.common import MODEL_IDS, exact_metric, layer_table_config, summarize, use_app_navigation
from pages.components.svg_viewer import svg_viewer
from pages.figure_panel import figure_panel, wants_figure
from pages.i18n import _, link_params

use_app_navigation()

DEFAULT = "vgg"
STARTS = {f"listing:{k}": _(v.title) for k, v in playground.LISTINGS.items()}
STARTS.update({f"zoo:{k}": _("Zoo model's code: {id} — {title}").format(id=k, title=_(explorer.get_spec(k).title))
               for k in playground.ZOO_CODE})
TABLE_COLUMNS = ("name", "type", "output_shape", "params", "macs", "rf", "stride", "arithmetic")


@st.cache_data(show_spinner=False, max_entries=64)
def build(code: str, input_shape: tuple[int, ...]) -> tuple[sandbox.Analysis | None,
                                                             playground.CodeError | Message | None]:
    """(analysis, error) for the code at this input, interpreted, analysed, traced and drawn in a worker process:
    the error is the interpreter's :class:`CodeError` (its line and reason, rendered where shown) or the analysis'
    message; errors are values, so they are cached too — but not a worker that crashed or ran out of time or memory
    (:class:`~explorer.present.sandbox.ProcessError` goes up uncached: the next run tries again)."""
    try:
        return sandbox.analyse(code, input_shape, draw="svg"), None
    except sandbox.ProcessError:
        raise
    except playground.CodeError as exc:
        return None, exc
    except InputShapeError as exc:
        return None, exc.message


def numbered_lines(code: str, line: int, around: int = 3) -> str:
    """The code near ``line`` with its line numbers, the failing line marked (HTML, every character escaped)."""
    lines = code.splitlines()
    first, last = max(1, line - around), min(len(lines), line + around)
    rows = "".join(
        f'<div class="{"bad" if n == line else ""}"><span>{n}</span>{html.escape(lines[n - 1]) or " "}</div>'
        for n in range(first, last + 1))
    return ("<style>.pg-lines{font:13px/1.5 'Source Code Pro',monospace;white-space:pre;overflow-x:auto;"
            "border:1px solid #e6e9ef;border-radius:6px;padding:4px 0}.pg-lines span{display:inline-block;"
            "width:3em;padding-right:.8em;text-align:right;color:#8a8f98;user-select:none}"
            ".pg-lines .bad{background:#fde2e1;box-shadow:inset 3px 0 #e5484d}.pg-lines .bad span{color:#c62828;"
            f"font-weight:600}}</style><div class=\"pg-lines\" data-testid=\"pg-failing-line\">{rows}</div>")


def _start_from() -> None:
    key = st.session_state.get("pg_start")
    if key is None:
        return
    kind, name = key.split(":", 1)
    if kind == "listing":
        listing = playground.LISTINGS[name]
        code, shape = listing.code, listing.input_shape
    else:
        code, shape = playground.ZOO_CODE[name], explorer.get_spec(name).input_shape
    st.session_state.update(pg_code=code, pg_input=",".join(map(str, shape)), _pg_edited=True)


def _edited() -> None:
    st.session_state["_pg_edited"] = True


st.title(_("Playground: your own network"))
st.caption(_(
    "Paste PyTorch as d2l writes it — `nn` layers, `nn.Sequential`, helper functions, `nn.Module` classes with a "
    "`forward` — and bind the network to `net`. The code is interpreted, never executed: only the subset the "
    "README lists is allowed. Every change updates the numbers; the URL carries your code."
))

# A link wins on arrival; after that the widgets do (and the URL follows them).
token = st.query_params.get("code")
edited = st.session_state.pop("_pg_edited", False)
if token is not None and not edited and token != st.session_state.get("_pg_token"):
    st.session_state["_pg_token"] = token
    try:
        st.session_state["pg_code"] = playground.decode_code(token)
        st.session_state["pg_input"] = st.query_params.get("input") or ",".join(
            map(str, playground.stated_input(st.session_state["pg_code"]) or (1, 224, 224)))
    except playground.CodeError as exc:
        st.error(_("The link's code could not be read: {error}.").format(error=render(exc)), icon="⚠️")
st.session_state.setdefault("pg_code", playground.LISTINGS[DEFAULT].code)
st.session_state.setdefault("pg_input", ",".join(map(str, playground.LISTINGS[DEFAULT].input_shape)))

left, right = st.columns([3, 1])
right.selectbox(_("Start from"), list(STARTS), format_func=STARTS.get, index=None, key="pg_start",
                placeholder=_("pick a listing"), on_change=_start_from,
                help=_("A listing from the notes, or a zoo model's code: it replaces the code on the left."))
input_text = right.text_input(_("Input size (C,H,W)"), key="pg_input", on_change=_edited,
                              help=_("Without the batch axis. A line '# input: C,H,W' in the code states it too."))
code = left.text_area(_("Your network (PyTorch)"), key="pg_code", height=420, on_change=_edited)

new_token = playground.encode_code(code)
st.session_state["_pg_token"] = new_token
st.query_params["code"] = new_token
st.query_params["input"] = input_text

try:
    shape = parse_input_shape(input_text)
except InputShapeError as exc:
    st.error(render(exc), icon="⚠️")
    st.stop()
sandbox.default_pool().prestart()  # a warm worker for the next edit
try:
    analysis, error = build(code, shape)
except sandbox.ProcessError as exc:  # "the snippet ran out of its 10 s" …: the server itself is unharmed
    analysis, error = None, exc
if error is not None:
    st.error(render(error), icon="⚠️")
    if isinstance(error, playground.CodeError) and error.line:
        st.html(numbered_lines(code, error.line))
    last = st.session_state.get("_pg_last_good")
    if last is None:
        st.stop()
    # the last result that worked stays, dimmed, so an error does not wipe what the reader was comparing
    with st.container(key="pg_stale"):
        st.caption(_("Below: the last result that worked (dimmed until the code runs again)."))
        st.html("<style>.st-key-pg_stale ~ div { opacity: 0.45; }</style>")
    analysis, _ignored = build(*last)
else:
    st.session_state["_pg_last_good"] = (code, shape)
assert analysis is not None
summary, traced = analysis.summary, analysis.graph
dot = diagram.to_dot(traced) if traced is not None else None

# --- totals, layers, diagram -----------------------------------------------------------------------------------
c1, c2, c3, c4 = st.columns([1.1, 1.6, 0.9, 0.9])  # the MACs of an ImageNet-sized net have 13 digits
with c1:
    exact_metric(_("Parameters"), summary.total_params)
with c2:
    exact_metric(_("MACs per image"), summary.total_macs, help=_("Multiply–accumulates, bias included (torchinfo)."))
c3.metric(_("Output"), fmt.shape(summary.output_shape))
c4.metric(_("Receptive field"), f"{summary.receptive_field.size}" if summary.receptive_field.size else "—",
          help=_("Of the deepest output larger than 1×1, in input pixels."))

st.subheader(_("Layers"))
layers = table.layer_frame(summary, TABLE_COLUMNS)
st.dataframe(layers, hide_index=True, width="stretch", column_config=layer_table_config(layers))

# the diagram, or the paper figure (drawn from the same analysis): only the open tab is drawn
diagram_tab, figure_tab = st.tabs([_("Diagram"), _("Figure")], key="pg_view", on_change="rerun",
                                  default=_("Figure") if wants_figure() else None)
if diagram_tab.open:
    with diagram_tab:
        if isinstance(analysis.drawing, str):  # drawn by the worker, with Graphviz's own timeout
            svg_viewer(analysis.drawing, key="pg_diagram", height=620)  # natural size in a bounded, zoomable viewport
        else:
            st.info(render(analysis.diagram_error), icon="ℹ️")
if figure_tab.open:
    with figure_tab:
        if traced is not None:
            figure_panel(traced, labels_of(summary), _("your network"), stem="network", key="pg_figure")
        else:
            st.info(render(analysis.diagram_error), icon="ℹ️")

b1, b2, b3 = st.columns(3)
b1.download_button(_("Layers CSV"), lambda: export.layers_csv(summary), "network-layers.csv", "text/csv", key="pg_csv")
b2.download_button(_("Layers JSON"), lambda: export.layers_json(summary), "network-layers.json", "application/json",
                   key="pg_json")
b3.download_button(_("Diagram DOT"), dot or "", "network.dot", "text/vnd.graphviz", key="pg_dot", disabled=dot is None)

# --- train this ----------------------------------------------------------------------------------------------------
def _train_recipe() -> engine.Recipe:
    """The recipe the widgets hold: the lenet preset's, at the input's side."""
    state = st.session_state
    base = coderun.code_recipe(shape[-1] if len(shape) == 3 else 28)
    return replace(base, epochs=int(state["pg_tr_epochs"]), lr=float(state["pg_tr_lr"]),
                   batch_size=int(state["pg_tr_batch"]))


@st.cache_data(show_spinner=_("Measuring a few training steps…"), max_entries=32)
def _estimate(code: str, shape: tuple[int, ...], recipe: engine.Recipe, limit: int | None, need: int) -> float:
    return coderun.estimate_code(code, shape, recipe, "auto", limit, need)


def _train_this(code: str, summary) -> None:
    """The button's callback: the checks (channels, 10 outputs, memory, the recipe, the class's limits), then the
    run joins the queue of the Train page's runs. A refusal is one sentence; the code and the widgets stay."""
    st.session_state.pop("pg_tr_run", None)
    try:
        recipe = _train_recipe()
        trained = coderun.training_input(shape, recipe)
        recipe = replace(recipe, resize=trained[-1])
        limit = int(st.session_state["pg_tr_limit"]) or None
        engine.validate(coderun.network_spec(code, trained), recipe, limit)
        need = coderun.check_network(summary, recipe, coderun.memory_limit(learner.settings()))
        teacher = learner.teacher()
        estimate = None if teacher else _estimate(code, trained, recipe, limit, need) * recipe.epochs
        job = jobs.manager().submit_code(code, recipe, "auto", limit, memory=need, owner=learner.learner_id(),
                                         limits=None if teacher else learner.limits(), estimate_s=estimate)
    except ValueError as exc:  # rendered by the script (a callback runs before the page's language is set)
        st.session_state["pg_tr_error"] = exc
        return
    st.session_state["pg_tr_run"] = st.session_state["tr_run"] = job.run  # the Train page shows it live


st.subheader(_("Train this network"))
st.caption(_("On Fashion-MNIST, as the Train page trains the zoo's networks: d2l's LeNet recipe to start from, the "
             "images resized to the input's side. Your network must take 1 channel and end in 10 outputs. It "
             "trains in a process of its own, with its memory limited."))
st.session_state.setdefault("pg_tr_epochs", engine.PRESETS["lenet"].recipe.epochs)
st.session_state.setdefault("pg_tr_lr", float(engine.PRESETS["lenet"].recipe.lr))
st.session_state.setdefault("pg_tr_batch", engine.PRESETS["lenet"].recipe.batch_size)
st.session_state.setdefault("pg_tr_limit", 0)
t1, t2, t3, t4 = st.columns(4)
t1.number_input(_("Epochs"), min_value=1, max_value=engine.MAX_EPOCHS, step=1, key="pg_tr_epochs")
t2.number_input(_("Learning rate"), min_value=0.0, step=0.01, format="%g", key="pg_tr_lr")
t3.number_input(_("Batch size"), min_value=1, step=32, key="pg_tr_batch")
t4.number_input(_("Training images (0 = all 60,000)"), min_value=0, max_value=60_000, step=1000, key="pg_tr_limit")
need = coderun.memory_need(summary, int(st.session_state["pg_tr_batch"]))
st.caption(_("This network needs {need} for batch {batch}; the limit is {limit}.").format(
    need=coderun.size_text(need), batch=int(st.session_state["pg_tr_batch"]),
    limit=coderun.size_text(coderun.memory_limit(learner.settings()))))
st.button(_("Train this"), type="primary", key="pg_train", on_click=_train_this, args=(code, summary),
          disabled=error is not None, help=_("Fix the code first: the network above is the last one that worked.")
          if error is not None else None)
if refused := st.session_state.pop("pg_tr_error", None):
    st.error(render(refused), icon="⚠️")
if run := st.session_state.get("pg_tr_run"):
    st.success(_("Run {run} is queued: it trains in the background, as the Train page's runs do.").format(run=run),
               icon=":material/model_training:")
    st.page_link("pages/train.py", label=_("Watch it train on the Train page"), icon=":material/monitoring:",
                 query_params=link_params(run=run))

# --- beside a zoo model ------------------------------------------------------------------------------------------
st.subheader(_("Beside a zoo model"))
other_id = st.selectbox(_("Compare with"), MODEL_IDS, index=MODEL_IDS.index("lenet"), key="pg_compare")
other = summarize(other_id, explorer.get_spec(other_id).input_shape)
st.dataframe(pd.DataFrame([
    {_("network"): name, _("input"): fmt.shape(s.input_shape), _("parameters"): fmt.exact_and_short(s.total_params),
     _("MACs per image"): fmt.exact_and_short(s.total_macs), _("weight layers (longest path)"): s.depth,
     _("receptive field"): s.receptive_field.size}
    for name, s in ((_("your network"), summary), (other_id, other))
]), hide_index=True, width="stretch")
