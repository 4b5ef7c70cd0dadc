"""The app's language: the sidebar switch (中文 / English), ``?lang=zh|en`` and the translator the pages use.

``app.py`` calls :func:`language_switch` on every run, before the page; the page then writes
``from pages.i18n import _`` and ``st.title(_("Pooling"))``. The strings, the catalog and ``make messages`` are those
of :mod:`explorer.i18n` (one catalog for the pages and the library). An error from the library is shown with
``render(exc)``: its message in the reader's language (another program's words quoted as code behind a lead-in).

Which language a run shows: a choice made in the switch, else a ``?lang=`` of the URL the user arrived with (a link,
a bookmark), else the session's earlier choice, else the browser's language (Chinese for ``zh-*``), else English.
The choice is written back to ``?lang=`` so that the URL, when shared, opens in the same language.
"""

from __future__ import annotations

import streamlit as st

from explorer.i18n import DEFAULT_LANGUAGE, LANGUAGES, N_, gettext, language, ngettext, render, set_language

_ = gettext
__all__ = ["N_", "_", "browser_language", "gettext", "language", "language_switch", "link_params", "ngettext",
           "render"]


def browser_language() -> str:
    """``zh`` when the browser asks for Chinese (``navigator.language`` zh, zh-CN, zh-TW …), else English."""
    try:
        locale = st.context.locale or ""
    except Exception:  # no browser behind this run (a bare script run)
        locale = ""
    return "zh" if locale.lower().startswith("zh") else DEFAULT_LANGUAGE


def _on_switch() -> None:
    st.session_state["_lang"] = st.session_state["lang"]
    st.session_state["_lang_picked"] = True


def language_switch() -> str:
    """The sidebar's 中文 / English switch, synced with ``?lang=``; sets and returns the run's language.

    The language lives in ``st.session_state["_lang"]``; the switch (key ``lang``) only shows and changes it, so the
    choice survives whatever happens to the widget's own state between pages.
    """
    asked = st.query_params.get("lang")
    picked = st.session_state.pop("_lang_picked", False)
    if asked in LANGUAGES and not picked:
        st.session_state["_lang"] = asked
    elif st.session_state.get("_lang") not in LANGUAGES:
        st.session_state["_lang"] = browser_language()
    code = st.session_state["_lang"]
    if st.session_state.get("lang") != code:
        st.session_state["lang"] = code
    st.sidebar.segmented_control(
        "Language · 语言", list(reversed(LANGUAGES)), format_func=LANGUAGES.get, key="lang", on_change=_on_switch,
        label_visibility="collapsed", required=True,
    )
    st.query_params["lang"] = code
    set_language(code)
    return code


def link_params(**params: str) -> dict[str, str]:
    """Query parameters for an ``st.page_link`` that keep the language: ``link_params(model="vgg16")``. English, the
    default, adds nothing (the session remembers the choice anyway; the link then reads as before)."""
    code = language()
    return {**params, "lang": code} if code != DEFAULT_LANGUAGE else dict(params)
