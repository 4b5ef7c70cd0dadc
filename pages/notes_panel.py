"""The notes' key points of one family, Chinese (quoted) beside English: shown on the pages of the notes' families."""

from __future__ import annotations

import streamlit as st

from explorer.lessons import notes


def _bullets(points: tuple[notes.Point, ...], chinese: bool) -> str:
    lines = []
    for p in points:
        label = p.label_zh if chinese else p.label_en
        text = p.zh if chinese else p.en
        lines.append(f"- **{label}**：{text}" if chinese and label else (f"- **{label}**: {text}" if label else
                                                                           f"- {text}"))
    return "\n".join(lines)


def notes_panel(key: str, expanded: bool = False) -> None:
    """An expander with the section's points in two columns: 笔记 (the notes' words) and English."""
    heading_zh, heading_en, points = notes.section(key)
    with st.expander(f"The notes · 笔记：{heading_zh} — {heading_en}", expanded=expanded):
        zh, en = st.columns(2)
        zh.markdown("**笔记（中文）**\n\n" + _bullets(points, chinese=True))
        en.markdown("**English**\n\n" + _bullets(points, chinese=False))
