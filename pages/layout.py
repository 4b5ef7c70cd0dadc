"""The app's frame, light enough for ``app.py`` and Home to import before PyTorch: the sidebar's order (the pickers'
place above the page navigation), the rules for narrow screens, and the one way every page runs (inside ``app.py``'s
navigation). The pages' shared helpers that analyse networks are :mod:`pages.common`.
"""

from __future__ import annotations

import threading
from typing import Any

import streamlit as st

_run = threading.local()  # this script run's sidebar slot (each run has its own thread)

# The sidebar's own content (the model picker first, the language switch) above the page navigation: at 1000 px the
# picker is in view without scrolling past the list of pages. And the app's rules for narrow screens.
SIDEBAR_CSS = """<style>
[data-testid="stSidebarContent"] { display: flex; flex-direction: column; }
[data-testid="stSidebarHeader"] { order: -2; }
[data-testid="stSidebarUserContent"] { order: -1; padding-bottom: 0.5rem; }
/* a table wider than a phone's screen scrolls sideways in its own box instead of widening the page */
[data-testid="stTable"], [data-testid="stMarkdownContainer"]:has(> table) { overflow-x: auto; }
</style>"""


def open_sidebar() -> None:
    """Make the top of the sidebar the pickers' place for this run (``app.py`` calls it first in every run)."""
    _run.slot = st.sidebar.container()
    st.html(SIDEBAR_CSS)


def sidebar_slot() -> Any:
    """Where the pickers go: the top of the sidebar, above the page navigation (see :func:`open_sidebar`)."""
    return getattr(_run, "slot", None) or st.sidebar


def use_app_navigation() -> None:
    """Make sure the page runs inside ``app.py``'s ``st.navigation``.

    Streamlit still has its legacy mode for a ``pages/`` folder: when the first request a server gets is a deep link
    (``/architecture?model=vgg16``), it runs that page file alone, without ``app.py``. Leave that mode and rerun:
    the same URL then goes through ``app.py`` (page hashes come from the URL path, so the page stays the same).
    """
    try:
        from streamlit.runtime.pages_manager import PagesManager
    except ImportError:  # a Streamlit without the legacy mode
        return
    if getattr(PagesManager, "uses_pages_directory", False):
        PagesManager.uses_pages_directory = False
        st.rerun()


_warm = threading.Lock()
_warmed = False


def warm_in_background() -> None:
    """Once per server process, after its first page is drawn: import what the other pages need (PyTorch, the
    analysis, the zoo, plotly) and run one meta-device analysis (PyTorch loads its compiler stack on the first one),
    in a daemon thread, so that Home is drawn without PyTorch and the next page finds it loaded."""
    global _warmed
    with _warm:
        if _warmed:
            return
        _warmed = True
    threading.Thread(target=_warm_up, name="explorer-warm-up", daemon=True).start()


def _warm_up() -> None:
    try:
        import explorer
        import pages.common  # noqa: F401  (the pages' shared helpers: the analysis, the tables, the diagram)

        explorer.analyze("lenet")
    except Exception:  # only a head start: a page that needs these imports them itself and reports its own errors
        pass
