"""Glossary: the app's terms in English and Chinese, from the one table the catalog is checked against."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from explorer.lessons.glossary import TERMS
from pages.common import use_app_navigation
from pages.i18n import _

use_app_navigation()

st.title(_("Glossary"))
st.markdown(
    _("The terms of the app in both languages. The Chinese follows d2l's Chinese edition (《动手学深度学习》): "
      "汇聚层 for a pooling layer, 批量规范化 for batch normalization, 暂退法 for dropout. "
      "The last column lists the other Chinese words for the same idea, which the app does not use.")
)
table = pd.DataFrame(
    [{"English": t.en, "中文": t.zh, _("Note"): _(t.note) if t.note else "", _("Not used"): "、".join(t.avoid)}
     for t in TERMS]
)
st.dataframe(table, hide_index=True, width="stretch", height=35 * (len(TERMS) + 1) + 3,
             column_config={"English": st.column_config.TextColumn(width="medium"),
                            "中文": st.column_config.TextColumn(width="medium"),
                            _("Note"): st.column_config.TextColumn(width="large"),
                            _("Not used"): st.column_config.TextColumn(width="medium")})
st.caption(_("{n} terms.").format(n=len(TERMS)))
