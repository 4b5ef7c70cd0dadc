"""Every page, in both languages, on a desktop (1400×1000) and a phone (390×844), as a new user opens it: no text
clipped, nothing wider than the screen, no exception box, and a first screen that shows something (not a title
over a blank).

The sweep is built to be cheap: the session's one app server and one Chromium (tests/browser/conftest.py), one
browser context and page per viewport × language reused for every page, each page checked once its first run has
settled. The pages come from ``app.py``'s navigation, so a new page is swept the moment it is registered; the
Architecture page also with the models of the longest names and numbers.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.browser.conftest import settle

APP = Path(__file__).resolve().parents[2] / "app.py"
# "" is Home; every other page by its url_path, in the navigation's order
PAGES = ["", *re.findall(r'url_path="([^"]+)"', APP.read_text(encoding="utf-8"))]
PAGES += ["architecture?model=googlenet", "architecture?model=resnet50-tv"]  # the longest layer names and counts
VIEWPORTS = {"desktop": (1400, 1000), "phone": (390, 844)}

# Text cut off with an ellipsis (metric labels and values, the navigation's names, captions): a page's own browser
# test can ask for this check alone.
CUT_JS = """() => {
  const out = [];
  for (const el of document.querySelectorAll('[data-testid="stMain"] *, [data-testid="stSidebar"] *')) {
    if (getComputedStyle(el).textOverflow === 'ellipsis' && el.scrollWidth > el.clientWidth + 1
        && el.textContent.trim()) out.push(el.textContent.trim().slice(0, 60));
  }
  return out;
}"""

# Problems of the page now on screen, as short strings (empty: none). Text elements are those with a text node of
# their own; SVG (charts, the diagram) and canvas tables are drawn, not laid out, and code blocks scroll by design.
CHECK_JS = """() => {
  const problems = [];
  const W = window.innerWidth, H = window.innerHeight;
  const main = document.querySelector('[data-testid="stMain"]');
  const roots = [main, document.querySelector('[data-testid="stSidebar"][aria-expanded="true"]')].filter(Boolean);
  const scrolls = el => ['auto', 'scroll'].includes(getComputedStyle(el).overflowX);
  // a multiselect's chosen options are chips Streamlit cuts at a fixed width by design (the options list shows them
  // whole): not laid-out text
  const inCode = el => el.closest('pre, code, svg, [data-testid="stCode"], [data-testid="stDataFrame"], '
    + '[data-testid="stMultiSelectTagsContainer"] span');
  const visible = el => { const r = el.getBoundingClientRect(); return r.width > 0 && r.height > 0; };
  const say = (kind, el) => problems.push(kind + ': ' + (el.textContent || el.tagName).trim().slice(0, 50));
  for (const root of roots) {
    for (const el of root.querySelectorAll('*')) {
      if (inCode(el) || !visible(el)) continue;
      const ownText = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
      const style = getComputedStyle(el);
      if (ownText && el.scrollWidth > el.clientWidth + 1 && el.clientWidth > 0
          && (style.textOverflow === 'ellipsis' || ['hidden', 'clip'].includes(style.overflowX))) say('clipped', el);
    }
  }
  if (main) {  // wider than the screen: the page itself, or an element sticking out of an unscrolled ancestor
    if (document.documentElement.scrollWidth > W + 1) problems.push('page wider than the screen');
    for (const el of main.querySelectorAll('*')) {
      const r = el.getBoundingClientRect();
      if (r.width === 0 || r.right <= W + 1 || inCode(el)) continue;
      let up = el.parentElement, held = false;
      while (up && up !== main) {
        const s = getComputedStyle(up).overflowX;
        if (s !== 'visible' && up.getBoundingClientRect().right <= W + 1) { held = true; break; }
        up = up.parentElement;
      }
      if (!held) { say('wider than the screen', el); break; }
    }
  }
  if (document.querySelector('[data-testid="stException"]')) say('exception', document.querySelector(
    '[data-testid="stException"]'));
  // the first screen holds content: a chart, table, image, metric, diagram, uploader or editor, or some text,
  // beyond the page's title
  if (main) {
    const content = main.querySelectorAll('[data-testid="stPlotlyChart"], [data-testid="stDataFrame"], '
      + '[data-testid="stTable"], [data-testid="stImage"], [data-testid="stMetric"], [data-testid="stGraphVizChart"], '
      + '[data-testid="stFileUploader"], [data-testid="stTextArea"], [data-testid="stCode"], svg, canvas, img');
    const inView = el => { const r = el.getBoundingClientRect(); return r.height > 20 && r.top < H && r.bottom > 0; };
    let text = 0;
    for (const p of main.querySelectorAll('p, li')) if (inView(p)) text += p.textContent.trim().length;
    if (![...content].some(inView) && text < 120) problems.push('first screen without content');
  }
  return problems;
}"""


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_every_page_reads_well(browser, app_url, viewport, lang):
    width, height = VIEWPORTS[viewport]
    context = browser.new_context(viewport={"width": width, "height": height}, locale="en-US",
                                  is_mobile=viewport == "phone", has_touch=viewport == "phone")
    try:
        page = context.new_page()  # one page for the whole sweep of this viewport and language
        found: dict[str, list[str]] = {}
        for path in PAGES:
            page.goto(f"{app_url}/{path}{'&' if '?' in path else '?'}lang={lang}")
            settle(page)
            page.evaluate("document.fonts.ready.then(() => true)")  # the fonts in before anything is measured
            problems = page.evaluate(CHECK_JS)
            if problems:
                found[path or "home"] = problems
        assert not found, f"{viewport} {lang}: {found}"
    finally:
        context.close()
