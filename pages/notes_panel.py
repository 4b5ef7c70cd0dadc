"""The notes' key points of one family, Chinese (quoted) beside English: shown on the pages of the notes' families,
each checkable claim followed by its check, computed."""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from explorer.lessons import claims, notes
from pages.i18n import _, language


@st.cache_data(show_spinner=False, max_entries=32)
def checked(key: str, lang: str = "en") -> claims.Claim:
    """The claim computed in ``lang`` (part of the cache key: its sentences are translated when computed)."""
    return claims.check(key)


def _bullets(points: tuple[notes.Point, ...], chinese: bool) -> str:
    lines = []
    for p in points:
        label = p.label_zh if chinese else p.label_en
        text = p.zh if chinese else p.en
        lines.append(f"- **{label}**：{text}" if chinese and label else (f"- **{label}**: {text}" if label else
                                                                           f"- {text}"))
    return "\n".join(lines)


def _table(rows: Sequence[dict]) -> str:
    columns = list(rows[0])

    def cell(v: object) -> str:
        return str(v).replace("|", "\\|")

    lines = ["| " + " | ".join(map(cell, columns)) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(r[c]) for c in columns) + " |" for r in rows]
    return "\n".join(lines)


def claims_panel(keys: Sequence[str]) -> None:
    """The notes' claims ``keys`` (:data:`explorer.lessons.claims.CHECKS`), each with its measured numbers."""
    if not keys:
        return
    with st.container(border=True, key="notes_claims"):
        st.markdown(_("**The notes' claims, checked** ({n})").format(n=len(keys)))
        for key in keys:
            c = checked(key, language())
            st.markdown(_("*The notes:* “{quote}” — {claim}  \n**Checked:** {verdict}").format(
                quote=c.quote, claim=c.claim, verdict=c.verdict))
            if c.rows:  # a markdown table: the page's own tables and dataframes keep their places
                st.markdown(_table(c.rows))
            if c.explanation:
                st.caption(c.explanation)


def notes_panel(key: str, expanded: bool = False) -> None:
    """An expander with the section's points in two columns (笔记, the notes' words, and English; the Chinese app shows
    the notes' words alone), then the section's checkable claims with their numbers, in view."""
    heading_zh, heading_en, points = notes.section(key)
    if language() == "zh":  # the Chinese app shows the notes' own words only
        with st.expander(f"笔记：{heading_zh}", expanded=expanded):
            st.markdown(_bullets(points, chinese=True))
    else:
        with st.expander(f"The notes · 笔记：{heading_zh} — {heading_en}", expanded=expanded):
            zh, en = st.columns(2)
            zh.markdown("**笔记（中文）**\n\n" + _bullets(points, chinese=True))
            en.markdown("**English**\n\n" + _bullets(points, chinese=False))
    claims_panel([p.claim for p in points if p.claim])
