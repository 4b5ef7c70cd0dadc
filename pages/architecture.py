"""Architecture: one model, layer by layer — table with block hierarchy, shape flow, where parameters/MACs live."""

from __future__ import annotations

import shutil

import pandas as pd
import streamlit as st

import explorer
from explorer.analysis import LayerRecord, PartialSummary, graph
from explorer.analysis.labels import with_path
from explorer.present import charts, diagram, export, table
from explorer.present import formatting as fmt
from pages.common import (
    diagram_svg,
    exact_metric,
    input_picker,
    layer_files,
    layer_labels,
    layer_table_config,
    model_picker,
    network_graph,
    smallest_input,
    summarize,
    try_analysis,
    use_app_navigation,
)
from pages.components.svg_viewer import clicked, svg_viewer
from pages.figure_panel import figure_panel, wants_figure
from pages.i18n import N_, _, render
from pages.notes_panel import claims_panel

use_app_navigation()
# The layer detail's metric values wrap rather than be cut in a narrow column.
DETAIL_CSS = """<style>
.st-key-diagram_pick_detail [data-testid="stMetricValue"] > div { white-space: normal; overflow-wrap: anywhere; }
</style>"""
RF_STATUS = (N_("not spatial"), N_("unsupported"))  # LayerRecord.rf_status where there is no field, shown translated

spec = model_picker()
input_shape = input_picker(spec)

st.title(_(spec.title))
st.markdown(f"*{spec.paper}* · {spec.year} · `{spec.id}` · {_(spec.introduced)}")
if spec.notes:
    st.markdown(_(spec.notes))


def show_partial(spec: explorer.ModelSpec, part: PartialSummary, shape: tuple[int, ...]) -> None:
    """An input the network cannot take still teaches: where it stops, the arithmetic of why, the smallest input
    that works, and the diagram and the table up to the failing layer (marked in red)."""
    failure = part.failure
    where = f"{failure.label} ({failure.name})" if failure.name and failure.label != failure.name else \
        failure.label or failure.name
    st.subheader(_("Where it stops: {where}").format(where=where))
    st.markdown(_("**Why:** {reason}.").format(reason=render(failure.reason)))
    smallest = smallest_input(spec.id, shape[0]) if len(shape) == 3 else None
    built = "×".join(map(str, spec.input_shape))
    if smallest is not None:
        st.info(_("The smallest square input {model} takes is **{smallest}** (found by bisection on the meta "
                  "device); it is built for {built}. Every pooling window and convolution must still fit, and where "
                  "the classifier has a fixed size, the features arriving must match it.").format(
                    model=spec.id, smallest="×".join(map(str, smallest)), built=built))
    else:
        st.info(_("{model} is built for input {shape}: no square size works with {n} channel(s).").format(
            model=spec.id, shape=",".join(map(str, spec.input_shape)), n=shape[0]))
    ran = [r for r in part.leaves if r.output_shape is not None]
    st.markdown(_("The {n} layer(s) before it ran: here they are, the failing layer last (red).").format(n=len(ran)))
    left, right = st.columns([2, 3], gap="medium")
    with left:
        if shutil.which("dot"):
            traced = network_graph(spec.id, shape, partial=True)
            labels = {r.name: r.label for r in part.layers if r.name}
            svg_viewer(diagram_svg(diagram.to_dot(traced, labels=labels, shapes_on_nodes=True)),
                       key=f"partial_diagram_{spec.id}", height=520, view_key=f"{spec.id}|{shape}|partial")
    with right:
        frame = table.layer_frame(part, table.PAGE_COLUMNS, depth=max(r.depth for r in part.layers))
        failed = [i for i, (r, _collapsed) in enumerate(table.visible_layers(part, max(r.depth for r in part.layers)))
                  if r.name == failure.name and r.output_shape is None]
        if failed:
            first = table.COLUMNS["label"].header
            frame.loc[failed[-1], first] = "✗ " + str(frame.loc[failed[-1], first])

        def mark(row: pd.Series) -> list[str]:
            return ["background-color: #f8d7da; color: #8b1a1a" if failed and row.name == failed[-1] else ""] * len(row)

        decimals = list(frame.select_dtypes("float").columns)  # KiB to one decimal, as in the full table
        st.dataframe(frame.style.apply(mark, axis=1).format("{:,.1f}", subset=decimals), hide_index=True,
                     height=min(520, 38 + 35 * len(frame)),
                     key=f"partial_table_{spec.id}", column_config=layer_table_config(frame))
        st.caption(_("✗ the layer the input no longer fits: its output shape is — . Rows are the module calls "
                     "that began, in execution order."))


result = try_analysis(spec.id, input_shape) if input_shape is not None else None
if isinstance(result, PartialSummary):
    show_partial(spec, result, tuple(input_shape))
    st.stop()
if result is None:
    st.info(_("{model} is built for input {shape}.").format(model=spec.id, shape=",".join(map(str, spec.input_shape))))
    st.stop()
summary = result

labels = layer_labels(spec.id, tuple(input_shape))
PICK = f"layer_pick_{spec.id}"  # the one selection: the select box, a table row and a diagram click all set it
PICKED_IN = f"_layer_picked_in_{spec.id}"  # where the last pick was made ("table", "diagram"): its detail shows there
OPENED, CLOSED = f"_diagram_opened_{spec.id}", f"_diagram_closed_{spec.id}"

# --- totals, as torchinfo prints them -----------------------------------------------------------------------------
c1, c2, c3, _spare = st.columns([1, 1.2, 0.6, 0.8])
with c1:
    exact_metric(_("Parameters"), summary.total_params)
with c2:
    exact_metric(_("MACs per image"), summary.total_macs, help=_("Multiply–accumulates, bias included (torchinfo)."))
with c3:
    st.metric(_("Output"), fmt.shape(summary.output_shape),
              help=_("Input {shape}").format(shape=fmt.shape(summary.input_shape)))
input_bytes = 4 * int(pd.Series(summary.input_shape).prod())
totals = [
    (_("Total params"), fmt.exact(summary.total_params)),
    (_("Trainable params"), fmt.exact(summary.trainable_params)),
    (_("Non-trainable params"), fmt.exact(summary.total_params - summary.trainable_params)),
    (_("Total MACs"), fmt.exact(summary.total_macs)),
    (_("Input size"), f"{fmt.nbytes(input_bytes)} ({fmt.shape(summary.input_shape, batch=True)})"),
    (_("Activations (forward)"), fmt.nbytes(summary.total_memory)),
    (_("Parameters size"), fmt.nbytes(summary.param_bytes)),
]
# on a phone the table scrolls sideways inside its box (pages/common.py's rules for narrow screens)
st.markdown("| " + " | ".join(k for k, _v in totals) + " |\n|" + "--:|" * len(totals) + "\n| "
            + " | ".join(v for _k, v in totals) + " |")
st.caption(_("Totals as torchinfo prints them, per image (batch 1), float32; bytes in binary units (1 MiB = 2²⁰ B). "
             "Activations: every layer's output of one forward pass (a backward pass keeps them, about twice "
             "that)."))


def pick_layer(path: str | None, where: str = "diagram") -> None:
    """Make ``path`` the selected layer (the select box's value, which every view reads), picked in ``where``."""
    st.session_state[PICK] = path
    st.session_state[PICKED_IN] = where


# --- the diagram and the selected layer, side by side -----------------------------------------------------------
st.subheader(_("Diagram"))
traced = network_graph(spec.id, tuple(input_shape))
levels = graph.max_depth(traced) + 1
leaf_names = [r.name for r in summary.leaves if r.name]
st.session_state.setdefault(OPENED, [])
st.session_state.setdefault(CLOSED, [])


def _reset_blocks() -> None:
    st.session_state[OPENED], st.session_state[CLOSED] = [], []


def _on_diagram_click() -> None:
    """A layer node selects that layer; a collapsed block opens; an open block's frame closes it."""
    target = clicked(f"diagram_{spec.id}") or ""
    kind, _sep, path = target.partition(":")
    path = path.split("#", 1)[0]
    if kind == "layer" and path in leaf_names:
        pick_layer(path)
    elif kind == "block":
        st.session_state[OPENED] = [*st.session_state[OPENED], path]
        st.session_state[CLOSED] = [p for p in st.session_state[CLOSED] if p != path]
    elif kind == "cluster":
        st.session_state[CLOSED] = [*st.session_state[CLOSED], path]
        st.session_state[OPENED] = [p for p in st.session_state[OPENED] if p != path and not p.startswith(path + ".")]


g1, g2, g3 = st.columns([2, 1.2, 1.3])
graph_depth = levels
if levels > 1:
    graph_depth = g1.slider(
        _("Diagram depth"), 1, levels, value=min(2, levels), key=f"graph_depth_{spec.id}", on_change=_reset_blocks,
        help=_("1 shows the top-level blocks; each step opens one more level. Or click a blue block to open it, "
               "and the title of an open block's frame to close it."),
    )
rankdir = g2.radio(_("Layout"), ["TB", "LR"], horizontal=True, key="graph_rankdir",
                   format_func=lambda d: _("top → bottom") if d == "TB" else _("left → right"))
opened, closed = tuple(st.session_state[OPENED]), tuple(st.session_state[CLOSED])
if opened or closed:
    g3.button(_("Back to the depth shown"), on_click=_reset_blocks, key=f"reset_blocks_{spec.id}",
              help=_("{opened} block(s) opened and {closed} closed by clicks.").format(opened=len(opened),
                                                                                       closed=len(closed)))

left, right = st.columns([3, 2], gap="medium")
with right:
    highlight = st.selectbox(
        _("Selected layer"), [None, *leaf_names], key=PICK, on_change=st.session_state.__setitem__,
        args=(PICKED_IN, "diagram"),
        format_func=lambda n: _("— none: click a node or a table row —") if n is None else with_path(labels, n),
        help=_("Click a layer in the diagram or a row of the layer table: the same selection."),
    )
dot = diagram.to_dot(traced, depth=graph_depth, rankdir=rankdir, highlight=highlight)  # the download's DOT
drawn = diagram.shown(traced, graph_depth, opened, closed)
with left:
    if shutil.which("dot"):
        view_dot = diagram.to_dot(traced, depth=graph_depth, rankdir=rankdir, opened=opened, closed=closed,
                                  labels=labels, shapes_on_nodes=True)
        svg_viewer(
            diagram_svg(view_dot), key=f"diagram_{spec.id}", height=640,
            selected=diagram.lit_element(drawn, highlight), view_key=f"{spec.id}|{input_shape}|{rankdir}",
            on_click=_on_diagram_click, focus=diagram.cluster_id(opened[-1]) if opened else None,
            detail="diagram_pick_detail",
        )
    else:  # no Graphviz program on the server: the browser lays the DOT out (no zoom, no clicks)
        st.graphviz_chart(dot, width="stretch")
    st.caption(_("⊕ addition (a residual skip enters here), ∥ concatenation (Inception's paths meet here); each "
                 "node gives its output shape (→). Blue boxes are collapsed blocks: click one to open it."))


def layer_detail(record: LayerRecord) -> None:
    """Everything about one layer, each number with the arithmetic that gives it."""
    st.markdown(f"**{with_path(labels, record.name)}** · `{record.type}({record.extra})`")
    d1, d2 = st.columns([1.3, 1])  # a shape (256×27×27) and a count (37,752,832) each whole, never cut
    d1.metric(_("Output"), fmt.shape(record.output_shape),
              help=_("Input {shape}").format(shape=fmt.shape(record.input_shape)))
    d2.metric(_("Parameters"), fmt.exact(record.params))
    lines = [_("- **Input → output:** {a} → {b}").format(a=fmt.shape(record.input_shape),
                                                        b=fmt.shape(record.output_shape))]
    if record.arithmetic:
        lines.append(_("- **Shape arithmetic:** `{text}`").format(text=record.arithmetic))
    if record.param_formula:
        lines.append(_("- **Parameters:** `{text}`").format(text=record.param_formula))
    elif record.params == 0:
        lines.append(_("- **Parameters:** none (nothing learned here)"))
    lines.append(_("- **MACs:** `{text}`").format(text=record.macs_formula) if record.macs_formula else
                 _("- **MACs:** {n}").format(n=fmt.exact(record.macs)))
    if record.field is not None:
        lines.append(_("- **Receptive field:** {rf} px, effective stride {stride} px, effective padding {pad} px "
                       "(every output unit sees that many input pixels)").format(
            rf=table.COLUMNS["rf"].text(record.rf), stride=table.COLUMNS["stride"].text(record.stride),
            pad=-record.field[0].u))
    else:
        lines.append(_("- **Receptive field:** — ({status}: a flattened or fully connected output sees the whole "
                       "input)").format(status=_(record.rf_status)))
    st.markdown("\n".join(lines))


with right, st.container(key="diagram_pick_detail"):
    st.html(DETAIL_CSS)
    if highlight is not None:
        layer_detail(next(r for r in summary.layers if r.name == highlight))
    else:
        st.info(_("Click a layer in the diagram (or a row of the table below) to see its shape arithmetic, "
                  "parameter formula, MACs and receptive field here."), icon=":material/touch_app:")

# --- below the diagram: the layers, the charts and the notes' errata, one tab drawn at a time -------------------
# Only the open tab runs (its charts and code blocks are the slowest things a browser draws here), so the page
# paints quickly and stays short; the tab is remembered for the session.
HAS_NOTES = bool(spec.errata) or spec.family in ("LeNet", "AlexNet")
TAB_NAMES = [N_("Layers"), N_("Charts"), N_("Figure"), *([N_("The notes' errata and claims")] if HAS_NOTES else [])]
max_depth = max(r.depth for r in summary.layers)
# The block depth the reader chose, kept apart from the slider's own state (which Streamlit drops while the Layers
# tab is closed): the Charts tab draws at it too, and the slider comes back at it.
DEPTH_KEPT = f"_block_depth_kept_{spec.id}"
shown_depth = min(st.session_state.get(DEPTH_KEPT, max_depth), max_depth)
tabs = dict(zip(TAB_NAMES, st.tabs([_(t) for t in TAB_NAMES], key="arch_tab", on_change="rerun",
                                   default=_("Figure") if wants_figure() else None)))  # a figure's link opens it

if tabs[N_("Layers")].open:
    with tabs[N_("Layers")]:
        depth = 1
        if max_depth > 1:
            depth = st.slider(
                _("Block depth shown"), 1, max_depth, value=shown_depth, key="depth",
                on_change=lambda: st.session_state.update({DEPTH_KEPT: st.session_state["depth"]}),
                help=_("Lower it to collapse blocks into one row each (their totals shown); raise it to expand them."),
            )
        visible = table.visible_layers(summary, depth)  # the table's rows, in its order
        frame = table.layer_frame(summary, table.PAGE_COLUMNS, depth=depth)
        # The builder's frame exactly (tests/present/test_table.py holds the page to it).
        config = layer_table_config(frame)

        def _on_table_pick() -> None:
            rows = st.session_state[f"layer_table_{spec.id}"].selection.rows
            if rows:
                record, collapsed = visible[rows[0]]
                if not collapsed and record.name in leaf_names:
                    pick_layer(record.name, where="table")

        st.dataframe(
            frame, hide_index=True, column_config=config, height=min(420, 38 + 35 * len(frame)),
            on_select=_on_table_pick, selection_mode="single-row", key=f"layer_table_{spec.id}",
        )
        if highlight is not None and st.session_state.get(PICKED_IN) == "table":  # in view, where it was picked
            with st.container(border=True, key="table_pick_detail"):
                layer_detail(next(r for r in summary.layers if r.name == highlight))
        st.caption(_(
            "▸ a block collapsed into one row (its totals). Rows are module calls in execution order: *label* is the "
            "name the papers use (conv1 … fc8, conv3_2, inception4c, res3a), *layer* the module path in the model "
            "(b3.1 = second module of block b3), which state_dict keys and the JSON export keep. The params and MACs "
            "columns always sum to the totals above; pick a row: its detail shows under the table and beside the "
            "diagram."
        ))

        if len(summary.input_shape) == 4 and any(r.output_shape is not None and len(r.output_shape) == 4
                                                for r in summary.leaves):
            spatial = [summary.input_shape[2]]
            for r in summary.leaves:
                if r.output_shape is not None and len(r.output_shape) == 4 and spatial[-1] != r.output_shape[2]:
                    spatial.append(r.output_shape[2])
            st.markdown(_("**Spatial size:** {sizes}").format(sizes=" → ".join(map(str, spatial))))

if tabs[N_("Charts")].open:
    with tabs[N_("Charts")]:
        st.plotly_chart(charts.layer_flow(summary, shown_depth, labels=labels))

        metric = st.segmented_control(
            _("Distribution of"), ["params", "macs"], default="params", key="dist_metric",
            format_func=lambda m: _("Parameters") if m == "params" else _("MACs"),
        ) or "params"
        left, right = st.columns(2)
        left.plotly_chart(charts.by_type(summary, metric))
        right.plotly_chart(charts.by_block(summary, metric))
        st.caption(_("Every chart's toolbar has a camera button: PNG of the chart."))

if tabs[N_("Figure")].open:
    with tabs[N_("Figure")]:
        figure_panel(traced, labels, _(spec.title), stem=f"{spec.id}-{'x'.join(map(str, input_shape))}",
                     key=f"figure_{spec.id}")

if HAS_NOTES and tabs[N_("The notes' errata and claims")].open:
    with tabs[N_("The notes' errata and claims")]:
        if spec.errata:
            st.subheader(_("Errata in the notes' code"))
            for erratum in spec.errata:
                with st.expander(_(erratum.title), expanded=True):
                    a, b = st.columns(2)
                    a.markdown(_("**The notes**"))
                    a.code(erratum.notes_code, language="python", wrap_lines=True)
                    b.markdown(_("**Fixed in CNN Explorer**"))
                    b.code(erratum.fixed_code, language="python", wrap_lines=True)
                    st.markdown(_(erratum.why))
            if spec.family == "NiN":
                claims_panel(["nin-224"])  # the erratum's full consequence: the notes' code cannot run at 224 px at all

        if spec.family in ("LeNet", "AlexNet"):
            st.subheader(_("“10× the parameters, 260× the compute” — measured"))
            lenet = summarize("lenet", explorer.get_spec("lenet").input_shape)
            lines = []
            for other in ("alexnet", "alexnet-d2l"):
                s = summarize(other, explorer.get_spec(other).input_shape)
                lines.append({
                    _("AlexNet variant"): other,
                    _("params"): _("{a} vs {b}").format(a=fmt.exact(s.total_params), b=fmt.exact(lenet.total_params)),
                    _("params ratio"): f"{s.total_params / lenet.total_params:,.0f}×",
                    _("MACs"): _("{a} vs {b}").format(a=fmt.exact(s.total_macs), b=fmt.exact(lenet.total_macs)),
                    _("MACs ratio"): f"{s.total_macs / lenet.total_macs:,.0f}×",
                })
            st.table(pd.DataFrame(lines).set_index(_("AlexNet variant")))
            first = lines[0]
            st.markdown(_(
                "The notes say AlexNet has about 10× LeNet's parameters and 260× its compute. Measured on the notes' "
                "own models (LeNet at 28×28, AlexNet at 224×224) the ratios are {params} and {macs}: the notes' "
                "figures do not hold for these models."
            ).format(params=first[_("params ratio")], macs=first[_("MACs ratio")]))

st.subheader(_("Downloads"))
stem = f"{spec.id}-{'x'.join(map(str, input_shape))}"
b1, b2, b3, b4, b5, b6 = st.columns(6)
# The layer files are small and cached with the analysis: they are in the page, so a click downloads at once. The
# diagram's SVG/PNG and the ONNX model are made when their button is clicked (callables). No download reruns the page.
layers_csv, layers_json = layer_files(spec.id, tuple(input_shape))
b1.download_button(_("Layers CSV"), layers_csv, f"{stem}-layers.csv", "text/csv", key="dl_csv", on_click="ignore")
b2.download_button(_("Layers JSON"), layers_json, f"{stem}-layers.json", "application/json", key="dl_json",
                   on_click="ignore")
b3.download_button(_("Diagram DOT"), dot, f"{stem}.dot", "text/vnd.graphviz", key="dl_dot", on_click="ignore")
if shutil.which("dot"):
    b4.download_button(_("Diagram SVG"), lambda: diagram.render_dot(dot, "svg"), f"{stem}.svg", "image/svg+xml",
                       key="dl_svg", on_click="ignore")
    b5.download_button(_("Diagram PNG"), lambda: diagram.render_dot(dot, "png"), f"{stem}.png", "image/png",
                       key="dl_png", on_click="ignore")
else:
    b4.caption(_("SVG/PNG need Graphviz's `dot` program on the server (apt-get install graphviz): DOT works "
                 "anywhere."))
b6.download_button(
    _("Model ONNX"), lambda: export.onnx_bytes(spec.id, tuple(input_shape)), f"{stem}.onnx", "application/octet-stream",
    key="dl_onnx", on_click="ignore",
    help=_("Opens in Netron. Shipped trained weights when the model has them, random weights otherwise."),
)
