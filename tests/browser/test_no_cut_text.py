"""No text cut off with an ellipsis anywhere, on every page in both languages: metric labels and values, the
navigation's page names, captions — what a 1400×1000 browser shows after the page's first run.

The layer tables (st.dataframe) are drawn on a canvas and checked apart, by sizing their columns from the longest
value (pages/common.py ``layer_table_config``) and in tests/browser/test_architecture.py.
"""

from __future__ import annotations

import pytest

from tests.browser.conftest import assert_no_exception, open_url

PAGES = ["", "architecture?model=googlenet", "architecture?model=resnet50-tv", "compare", "playground",
         "receptive-field", "classify", "train", "feedforward", "recurrent", "hopfield", "boltzmann", "ffn", "pooling",
         "blocks", "inception", "residual-blocks", "glossary"]

CUT_JS = """() => {
  const out = [];
  for (const el of document.querySelectorAll('[data-testid="stMain"] *, [data-testid="stSidebar"] *')) {
    if (getComputedStyle(el).textOverflow === 'ellipsis' && el.scrollWidth > el.clientWidth + 1
        && el.textContent.trim()) out.push(el.textContent.trim().slice(0, 60));
  }
  return out;
}"""


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("path", PAGES, ids=lambda p: p or "home")
def test_no_text_is_cut_off(page, app_url, path, lang):
    open_url(page, f"{app_url}/{path}{'&' if '?' in path else '?'}lang={lang}")
    page.wait_for_timeout(300)  # metrics and labels measured after their fonts are in
    assert page.evaluate(CUT_JS) == []
    assert_no_exception(page)
