"""The Chinese app in a real Chromium: ``/?lang=zh`` shows the navigation and Home in Chinese, drawn with the web font
the app serves (the machine has no CJK font of its own), and the switch turns the page back to English."""

from __future__ import annotations

import urllib.request

from tests.browser.conftest import assert_no_exception, by_testid, expect, open_url, rerun_after

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
