"""A diagram you can read at any size: the SVG Graphviz draws on the server, shown in a fixed-height viewport with
wheel zoom, drag pan, +/−/1:1/fit buttons and an overview, where a click on a node reports that node's SVG id.

A components v2 component (``st.components.v2.component``) drawn in the app page itself, inside a shadow root:
no iframe, so no second document to load and no postMessage handshake before the diagram shows. Its markup,
styles and plain-JS module are the files in ``svg_viewer/`` (``viewer.html``, ``viewer.css``, ``viewer.js``),
read here and passed inline: no npm build, nothing fetched from a CDN, so the app works offline.
``st.graphviz_chart`` cannot report clicks and stretches a tall graph to the page width, which is why the
Architecture page draws through this instead.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import streamlit as st

from pages.i18n import _

_FRONTEND = Path(__file__).resolve().parent / "svg_viewer"
_component = st.components.v2.component(
    "svg_viewer",
    html=(_FRONTEND / "viewer.html").read_text(encoding="utf-8"),
    css=(_FRONTEND / "viewer.css").read_text(encoding="utf-8"),
    js=(_FRONTEND / "viewer.js").read_text(encoding="utf-8"),
    isolate_styles=True,  # a shadow root: the page's styles and the viewer's keep apart
)


def viewer_texts(clickable: bool = True) -> dict[str, tuple[str | None, str]]:
    """The viewer's words in the run's language, by element id of ``viewer.html``: (text or ``None``, tooltip);
    the hint names clicks only where a click does something (``clickable``)."""
    hint = _("wheel: zoom · drag: pan · click a layer: select it · click a blue block: open it") if clickable else \
        _("wheel: zoom · drag: pan")
    return {
        "hint": (hint, ""),
        "fit": (_("Fit"), _("Fit the whole diagram in view")),
        "actual": ("1:1", _("Natural size (100%)")),
        "zoom-in": (None, _("Zoom in")),
        "zoom-out": (None, _("Zoom out")),
        "overview": (None, _("Overview: click to move there")),
    }


def svg_viewer(
    svg: str,
    *,
    key: str,
    height: int = 620,
    selected: str | None = None,
    view_key: str = "",
    initial: str = "auto",
    on_click: Any = None,
    focus: str | None = None,
    detail: str | None = None,
) -> dict[str, Any] | None:
    """Show ``svg`` (Graphviz's SVG text) in a ``height``-px viewport; return the last click as
    ``{"id": <SVG id of the node or cluster>, "nonce": …}`` (``None`` before any click).

    ``selected`` is the SVG id to light up (and to scroll into view when it is not); the zoom and pan are kept
    while ``view_key`` stays the same (a new model or depth resets them); ``initial`` is ``"fit"`` or ``"auto"``
    (100% where the diagram is not far wider than the viewport, fitted otherwise). ``on_click`` runs before the
    page reruns, with the click in ``st.session_state[key]`` (read it with :func:`clicked`). ``focus``: an SVG id
    to bring to the middle when it changes (a block just opened); ``detail``: the key of the page's container that
    shows the clicked layer, scrolled into view after a click where it is out of view (below the diagram on a
    phone).
    """
    data = {"svg": svg, "height": height, "selected": selected, "view_key": view_key, "initial": initial,
            "focus": focus, "detail": detail, "texts": viewer_texts(clickable=on_click is not None)}
    callbacks = {"on_click_change": on_click} if on_click is not None else {}
    # a fixed height from the start: the page does not move when the diagram arrives
    result = _component(data=data, key=key, height=height, **callbacks)
    return result.get("click")


def clicked(key: str) -> str | None:
    """The SVG id of the last click reported by the viewer ``key`` (for its ``on_click`` callback)."""
    state = st.session_state.get(key)  # the component's state: {"click": {"id": …, "nonce": …}}
    value = state.get("click") if isinstance(state, dict) else None
    return value.get("id") if isinstance(value, dict) else None
