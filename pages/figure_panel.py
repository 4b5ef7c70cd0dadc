"""The Figure tab of the Architecture page and the Playground: the network drawn as the AlexNet paper draws it, its
controls (each bound to a ``fig_*`` query parameter, so a link reproduces the figure) and its downloads (SVG, PNG,
TikZ, the JSON spec)."""

from __future__ import annotations

from collections.abc import Mapping

import streamlit as st

from explorer.analysis.graph import Graph, max_depth
from explorer.i18n import use_language
from explorer.present import figure
from pages.components.svg_viewer import svg_viewer
from pages.i18n import N_, _

SCALE_NAMES = {"linear": N_("linear"), "sqrt": N_("square root"), "log": N_("log")}
FULL = "full"


DEFAULTS = {"fig_spatial": "sqrt", "fig_channels": "sqrt", "fig_direction": "LR", "fig_colors": "paper",
            "fig_labels": True, "fig_kernels": True, "fig_depth": FULL, "fig_spacing": 1.0, "fig_dpi": 150}
WRITTEN = "_fig_written"  # the fig_* parameters this session last wrote to the URL


def wants_figure() -> bool:
    """Whether the URL states figure settings (then the page opens its Figure tab)."""
    return any(k.startswith("fig_") for k in st.query_params)


def _read(key: str, text: str, depths: list[str]) -> object | None:
    """A ``fig_*`` parameter's value for its widget, or ``None`` when the text is not one of its values."""
    choices = {"fig_spatial": figure.SCALES, "fig_channels": figure.SCALES, "fig_direction": figure.DIRECTIONS,
               "fig_colors": tuple(figure.PALETTES), "fig_depth": tuple(depths)}
    if key in choices:
        return text if text in choices[key] else None
    if key in ("fig_labels", "fig_kernels"):
        return {"1": True, "true": True, "0": False, "false": False}.get(text.lower())
    try:
        number = float(text)
    except ValueError:
        return None
    if key == "fig_spacing":
        return number if 0.5 <= number <= 3 and (number * 4).is_integer() else None
    return int(number) if key == "fig_dpi" and number.is_integer() and 72 <= number <= 600 else None


def _from_url(depths: list[str]) -> None:
    """A link wins on arrival: each ``fig_*`` parameter this session did not write sets its widget."""
    written = st.session_state.get(WRITTEN, {})
    for key in DEFAULTS:
        text = st.query_params.get(key)
        if text is not None and (written.get(key) != text or key not in st.session_state):
            value = _read(key, text, depths)
            if value is not None:
                st.session_state[key] = value
    for key, default in DEFAULTS.items():  # the widgets take their values from here (no second default)
        if key not in st.session_state or (key == "fig_depth" and st.session_state[key] not in depths):
            st.session_state[key] = default


def _to_url() -> None:
    """The settings that differ from the defaults, written to the URL (so a link reproduces the figure)."""
    wanted = {}
    for key, default in DEFAULTS.items():
        value = st.session_state.get(key, default)
        if value != default:
            wanted[key] = ("1" if value else "0") if isinstance(value, bool) else str(value)
    for key in [k for k in st.query_params if k.startswith("fig_") and k not in wanted]:
        del st.query_params[key]
    for key, text in wanted.items():
        if st.query_params.get(key) != text:
            st.query_params[key] = text
    st.session_state[WRITTEN] = wanted


def figure_panel(traced: Graph, labels: Mapping[str, str], title: str, *, stem: str, key: str) -> None:
    """Controls, the figure in a zoomable viewport, and the downloads, for the traced network ``traced``."""
    levels = max_depth(traced)
    depths = [*map(str, range(1, levels + 1)), FULL]
    _from_url(depths)
    c1, c2, c3, c4 = st.columns([1.3, 1.3, 1.2, 1])
    spatial = c1.segmented_control(_("Scaling of H×W"), figure.SCALES, required=True,
                                   format_func=lambda s: _(SCALE_NAMES[s]), key="fig_spatial",
                                   help=_("How a block's face follows its height and width."))
    channels = c2.segmented_control(_("Scaling of the depth C"), figure.SCALES, required=True,
                                    format_func=lambda s: _(SCALE_NAMES[s]), key="fig_channels",
                                    help=_("How a block's depth follows its channels: square root or log keep 3 and "
                                           "512 channels both readable."))
    direction = c3.segmented_control(_("Direction"), figure.DIRECTIONS, required=True,
                                     format_func=lambda d: _("left → right") if d == "LR" else _("top → bottom"),
                                     key="fig_direction")
    colors = c4.selectbox(_("Colours"), list(figure.PALETTES), format_func=lambda c: _(figure.PALETTE_NAMES[c]),
                          key="fig_colors")
    d1, d2, d3, d4, d5 = st.columns([0.8, 0.8, 1.6, 1.3, 1])
    show_labels = d1.toggle(_("Labels"), key="fig_labels")
    kernels = d2.toggle(_("Kernels"), key="fig_kernels")
    depth = FULL
    if levels:
        depth = d3.select_slider(
            _("Block depth"), depths, key="fig_depth", format_func=lambda d: _("full") if d == FULL else d,
            help=_("Blocks at this level and deeper drawn as one block each, a run of equal ones as ×k."))
    spacing = d4.slider(_("Spacing"), 0.5, 3.0, step=0.25, key="fig_spacing")
    dpi = d5.number_input(_("PNG dpi"), 72, 600, step=24, key="fig_dpi")
    _to_url()
    options = figure.FigureOptions(
        spatial=spatial, channels=channels, labels=show_labels, kernels=kernels, colors=colors, direction=direction,
        depth=None if depth == FULL else int(depth), spacing=float(spacing),
    )
    drawn = figure.draw(traced, labels, options, title)
    if drawn.spec["message"]:
        st.info(drawn.spec["message"])
        return
    svg = drawn.svg()
    # a wide figure opens fitted to the page's width (about 900 px): as tall as that makes it, within 420–640 px
    fitted = drawn.spec["height"] * min(1.0, 900 / drawn.spec["width"])
    svg_viewer(svg, key=f"{key}_viewer", height=int(min(640, max(420, fitted + 80))), view_key=f"{stem}|{options}")

    b1, b2, b3, b4 = st.columns(4)
    b1.download_button(_("Figure SVG"), svg, f"{stem}-figure.svg", "image/svg+xml", key=f"{key}_svg")
    png_dpi = min(int(dpi), figure.max_dpi(drawn.spec))
    b2.download_button(_("Figure PNG"), lambda: drawn.png(png_dpi), f"{stem}-figure.png", "image/png",
                       key=f"{key}_png", help=_("At {dpi} dpi.").format(dpi=png_dpi) if png_dpi == int(dpi) else
                       _("At {dpi} dpi, the most this figure's size allows.").format(dpi=png_dpi))

    def tex() -> str:  # pdflatex writes the Latin alphabet: the LaTeX figure is drawn in English
        with use_language("en"):
            return figure.draw(traced, labels, options, title).tex()

    b3.download_button(_("Figure LaTeX (TikZ)"), tex, f"{stem}-figure.tex", "application/x-tex", key=f"{key}_tex",
                       help=_("A standalone .tex file: pdflatex makes a PDF of it. Its labels are in English."))
    b4.download_button(_("Figure spec JSON"), drawn.json(), f"{stem}-figure.json", "application/json",
                       key=f"{key}_json",
                       help=_("Boxes, links and labels with their positions and sizes, and the settings: "
                              "explorer.Figure.from_json re-renders the same figure."))
