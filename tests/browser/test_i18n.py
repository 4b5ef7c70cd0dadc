"""The Chinese app in a real Chromium: ``/?lang=zh`` shows the navigation and Home in Chinese, drawn with the web font
the app serves (the machine has no CJK font of its own), and the switch turns the page back to English."""

from __future__ import annotations

import urllib.request

from tests.browser.conftest import SHOW_MS, assert_no_exception, by_testid, expect, open_url, rerun_after

FONT_URL = "/app/static/explorer-cjk.woff"
FAMILY = "Explorer CJK"


def test_chinese_home_with_the_served_font(page, app_url):
    with urllib.request.urlopen(app_url + FONT_URL, timeout=10) as resp:
        assert resp.status == 200
        assert resp.read(4) == b"wOFF"
    font_responses = []
    page.on("response", lambda r: font_responses.append(r.status) if r.url.endswith(FONT_URL) else None)
    open_url(page, app_url + "/?lang=zh")
    assert_no_exception(page)
    nav = by_testid(page, "stSidebarNav")
    expect(nav).to_contain_text("首页")
    expect(nav).to_contain_text("探索卷积神经网络")
    expect(nav).to_contain_text("术语表")
    expect(page.get_by_role("heading", name="卷积神经网络", exact=True)).to_be_visible()
    assert page.evaluate(f"""async () => {{ await document.fonts.load('16px "{FAMILY}"', '卷积');
                                            return document.fonts.check('16px "{FAMILY}"', '卷积'); }}""")
    assert 200 in font_responses
    assert FAMILY in page.evaluate("getComputedStyle(document.querySelector('h2')).fontFamily")
    # the switch turns the same page English, and the URL follows
    rerun_after(page, lambda: by_testid(page, "stSidebar").get_by_role("radio", name="English").click())
    expect(page.get_by_role("heading", name="The convolutional networks", exact=True)).to_be_visible()
    assert "lang=en" in page.url


def _architecture_numbers(page, app_url: str, lang: str) -> tuple[dict[str, str], list[str], list[str]]:
    """The metrics (label → value), the layer table's headers and the output shapes of its rows (scrolled through:
    the grid draws only the rows in view) of AlexNet's Architecture page in ``lang``."""
    open_url(page, f"{app_url}/architecture?model=alexnet&lang={lang}")
    assert_no_exception(page)
    grid = by_testid(page, "stDataFrame").first  # drawn on a canvas; its accessible table (hidden) has the text
    expect(grid.locator("[role=columnheader]").first).to_be_attached(timeout=SHOW_MS)
    metrics = by_testid(page, "stMetric")  # above the table: all drawn once the table is
    expect(metrics.first).to_be_visible()
    shown = {by_testid(m, "stMetricLabel").inner_text().strip(): by_testid(m, "stMetricValue").inner_text().strip()
             for m in metrics.all()}
    grid.scroll_into_view_if_needed()
    headers = [h.strip() for h in grid.locator("[role=columnheader]").all_text_contents()]
    shapes: list[tuple[str, str]] = []
    box = grid.bounding_box()
    for _ in range(6):
        for row in grid.locator("[role=row]").all():
            texts = [t.strip() for t in row.locator("[role=gridcell]").all_text_contents()]
            if len(texts) > 3 and texts[0] not in [s[0] for s in shapes]:
                shapes.append((texts[0], texts[3]))
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.mouse.wheel(0, 300)
        page.wait_for_timeout(300)
    return shown, headers, [shape for _, shape in shapes]


def test_chinese_architecture_shows_the_same_numbers(page, app_url):
    """AlexNet's page in Chinese: Chinese labels and headers, and exactly the numbers and shapes of the English page."""
    zh, zh_headers, zh_shapes = _architecture_numbers(page, app_url, "zh")
    expect(page.get_by_role("heading", name="结构图", exact=True)).to_be_visible()
    assert zh["参数量"] == "62,378,344" and zh["输出"] == "1000"
    assert zh_headers[:6] == ["名称", "层", "类型", "输出形状", "参数量", "乘加运算"]
    assert zh_shapes[:2] == ["96×55×55", "96×55×55"] and "256×6×6" in zh_shapes
    assert "62,378,344" in by_testid(page, "stMarkdown").filter(has_text="参数总数").first.inner_text()
    en, en_headers, en_shapes = _architecture_numbers(page, app_url, "en")
    assert en_headers[:6] == ["label", "layer", "type", "output shape", "params", "MACs"]
    assert list(en.values()) == list(zh.values()) and en["Parameters"] == "62,378,344"
    assert en_shapes == zh_shapes


def test_a_chinese_browser_opens_the_app_in_chinese(browser, app_url):
    # no ?lang= in the link: the browser's own language decides, and the choice is written into the URL
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
    try:
        page = context.new_page()
        open_url(page, app_url + "/glossary")
        expect(by_testid(page, "stSidebarNav")).to_contain_text("术语表", timeout=SHOW_MS)
        expect(page.get_by_role("heading", level=1)).to_have_text("术语表")
        assert "lang=zh" in page.url
        assert_no_exception(page)
    finally:
        context.close()
