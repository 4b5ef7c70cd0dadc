"""The Architecture page as an instrument, in a real Chromium: bounded height whatever the model, a diagram
node clicked selects its layer with the detail in view, no number cut off, an impossible input shown up to the
layer where it fails.

The server, browser and page fixtures and the waiting helpers are tests/browser/conftest.py's (one session-scoped
``streamlit run`` for every browser test file).
"""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import SHOW_MS, assert_no_exception, by_testid, expect, open_url, rerun_after

MAX_PAGE_PX = 6_000  # the Architecture page of any model, fully expanded, stays under ~6,000 px


def main_height(page) -> int:
    return page.evaluate("document.querySelector('[data-testid=\"stMain\"]').scrollHeight")


def push_slider_to_max(page, label: str) -> None:
    """Focus the slider labelled ``label`` and press End: its maximum (a rerun)."""
    thumb = by_testid(page, "stSlider").filter(has_text=label).get_by_role("slider")
    thumb.focus()
    rerun_after(page, lambda: thumb.press("End"))


VIEWPORT = '[data-testid="diagram-viewport"]'  # the diagram viewer, in its shadow root (Playwright's CSS pierces it)


def diagram_frame(page):
    """The diagram viewer's viewport (the component, drawn in the page: its ids are looked up inside it)."""
    frame = page.locator(VIEWPORT)
    expect(frame).to_be_visible(timeout=SHOW_MS)
    return frame


def test_resnet50_fully_expanded_stays_bounded(page, app_url):
    open_url(page, f"{app_url}/architecture?model=resnet50-tv")
    push_slider_to_max(page, "Diagram depth")
    frame = diagram_frame(page)
    expect(frame.locator('g.node[id="layer:layer4.2.conv3"]')).to_be_attached(timeout=SHOW_MS)  # fully open
    viewport = frame.bounding_box()
    assert viewport is not None and viewport["height"] <= 700
    height = main_height(page)
    assert height < MAX_PAGE_PX, f"page is {height} px tall"
    assert_no_exception(page)


def test_click_a_node_selects_the_layer_with_detail_in_view(page, app_url):
    open_url(page, f"{app_url}/architecture?model=alexnet")
    frame = diagram_frame(page)
    node = frame.locator('g.node[id="layer:0"]')  # conv1 of the notes' AlexNet
    expect(node).to_be_visible(timeout=SHOW_MS)
    # the reader looks at the diagram (scrolled to it, as one does before clicking in it) …
    frame.evaluate("el => el.scrollIntoView({block: 'center'})")
    rerun_after(page, lambda: node.click())
    main = by_testid(page, "stMain")
    formula = main.get_by_text("(11·11·3 + 1)·96 = 34,944", exact=False).first
    expect(formula).to_be_visible(timeout=SHOW_MS)
    expect(main.get_by_text("⌊(224 + 2·2 − 11)/4⌋ + 1 = 55", exact=False).first).to_be_visible()
    # the detail is where the reader is looking: inside the window, beside the diagram, without scrolling
    box, frame_box = formula.bounding_box(), frame.bounding_box()
    assert box is not None and frame_box is not None
    assert 0 <= box["y"] <= 1000 - box["height"], box
    assert box["x"] > frame_box["x"] + frame_box["width"] - 5  # to the right of the diagram
    # the same selection as the select box, and the node lit in the diagram
    expect(main.get_by_text(re.compile(r"^conv1 \(0\)$")).first).to_be_visible()
    expect(frame.locator('g.node.selected[id="layer:0"]')).to_be_attached(timeout=SHOW_MS)
    assert_no_exception(page)


def test_a_tapped_node_shows_its_detail_in_view_on_a_phone(browser, app_url):
    """At 390×844 the detail sits below the diagram: after a tap it is brought into view (whole, or its top), and
    a touch drag on the diagram pans it without scrolling the page."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="en-US", is_mobile=True,
                                  has_touch=True)
    try:
        page = context.new_page()
        open_url(page, f"{app_url}/architecture?model=alexnet")
        frame = diagram_frame(page)
        assert frame.evaluate("el => getComputedStyle(el).touchAction") == "none"  # a drag pans, never scrolls
        node = frame.locator('g.node[id="layer:2"]')  # pool1
        expect(node).to_be_visible(timeout=SHOW_MS)
        frame.evaluate("el => el.scrollIntoView({block: 'center'})")
        rerun_after(page, node.tap)
        detail = page.locator(".st-key-diagram_pick_detail")
        expect(detail.get_by_text(re.compile(r"^pool1 \(2\)$")).first).to_be_visible(timeout=SHOW_MS)
        arithmetic = detail.get_by_text("⌊(55 + 2·0 − 3)/2⌋ + 1 = 27", exact=False).first
        expect(arithmetic).to_be_in_viewport(timeout=SHOW_MS)
        box = detail.bounding_box()
        assert box is not None and 0 <= box["y"] < 844 - 60, box  # the detail's top is on the screen
        assert_no_exception(page)
    finally:
        context.close()


def test_clicks_keep_the_zoom_and_reach_python_each_time(page, app_url):
    open_url(page, f"{app_url}/architecture?model=resnet18-tv")
    frame = diagram_frame(page)
    frame.evaluate("el => el.scrollIntoView({block: 'center'})")
    pick = by_testid(page, "stSelectbox").filter(has_text="Selected layer").locator("input")
    zoom = frame.locator("#zoom")
    frame.locator("#zoom-in").click()
    zoomed = zoom.inner_text()
    rerun_after(page, lambda: frame.locator('g.node[id="layer:conv1"]').click())
    expect(pick).to_have_value("conv1")
    expect(zoom).to_have_text(zoomed)  # the rerun kept the viewer, and its zoom with it
    # another layer picked in the select box, then the same node clicked again: a second click on it still counts
    pick.click()
    pick.fill("fc")
    rerun_after(page, lambda: page.keyboard.press("Enter"))
    expect(pick).to_have_value("fc")
    frame.locator("#actual").click()  # the top of the diagram in view again
    rerun_after(page, lambda: frame.locator('g.node[id="layer:conv1"]').click())
    expect(pick).to_have_value("conv1")
    expect(frame.locator('g.node.selected[id="layer:conv1"]')).to_be_attached()
    # a blue block opens on a click; its frame's title closes it again
    rerun_after(page, lambda: frame.locator('g.node[id="block:layer2.0"]').click())
    block = frame.locator('g.cluster[id="cluster:layer2.0"]')
    expect(block).to_be_attached(timeout=SHOW_MS)
    rerun_after(page, lambda: block.locator("> text").first.click())
    expect(block).to_have_count(0, timeout=SHOW_MS)
    expect(frame.locator('g.node[id="block:layer2.0"]')).to_be_attached()
    assert_no_exception(page)


def test_zoom_buttons_change_the_scale(page, app_url):
    open_url(page, f"{app_url}/architecture?model=googlenet")
    frame = diagram_frame(page)
    zoom = frame.locator("#zoom")
    before = zoom.inner_text()
    frame.locator("#zoom-in").click()
    expect(zoom).not_to_have_text(before)
    frame.locator("#fit").click()
    fitted = int(zoom.inner_text().rstrip("%"))
    frame.locator("#actual").click()
    expect(zoom).to_have_text("100%")
    assert fitted < 100  # GoogLeNet does not fit at natural size: the overview is there
    expect(frame.locator("#overview")).to_be_visible()


OVERFLOW_JS = """() => {
  const out = [];
  const sel = '[data-testid="stMetricValue"], [data-testid="stMetricLabel"], [data-testid="stMarkdownContainer"] p,'
            + ' [data-testid="stMarkdownContainer"] td, [data-testid="stCaptionContainer"], [data-testid="stCode"] pre';
  for (const el of document.querySelectorAll('[data-testid="stMain"] ' + sel)) {
    if (el.scrollWidth > el.clientWidth + 1) out.push(el.textContent.slice(0, 60));
  }
  return out;
}"""


@pytest.mark.parametrize("model_id", ["vgg16", "googlenet", "resnet50-tv"])
def test_no_number_is_cut_off(page, app_url, model_id):
    open_url(page, f"{app_url}/architecture?model={model_id}")
    page.wait_for_timeout(500)
    assert page.evaluate(OVERFLOW_JS) == []  # metrics, markdown, captions and the errata's code blocks
    if model_id == "googlenet":  # blocks collapsed: the columns are sized again, from the block totals
        push_slider_to_max(page, "Block depth shown")
        thumb = by_testid(page, "stSlider").filter(has_text="Block depth shown").get_by_role("slider")
        thumb.focus()
        rerun_after(page, lambda: thumb.press("Home"))
        page.wait_for_timeout(500)
        assert page.evaluate(OVERFLOW_JS) == []
    assert_no_exception(page)


def test_impossible_input_shows_a_partial_table(page, app_url):
    open_url(page, f"{app_url}/architecture?model=alexnet&input=3,16,16")
    main = by_testid(page, "stMain")
    expect(main.get_by_text("Where it stops: pool2 (5)")).to_be_visible(timeout=SHOW_MS)
    expect(main.get_by_text("⌊(1 + 2·0 − 3)/2⌋ + 1 = 0 < 1", exact=False).first).to_be_visible()
    expect(by_testid(page, "stDataFrame")).to_have_count(1)  # the layers up to the failing one
    expect(by_testid(page, "stDataFrame").first).to_be_visible()
    frame = diagram_frame(page)  # and the diagram, the failing layer red and last
    expect(frame.locator('g.node[id="layer:5"]')).to_be_attached(timeout=SHOW_MS)
    expect(frame.locator('g.node[id="output"]')).to_have_count(0)
    assert page.evaluate(OVERFLOW_JS) == []
    assert_no_exception(page)


def test_tabs_draw_the_charts_and_the_errata_when_opened(page, app_url):
    open_url(page, f"{app_url}/architecture?model=alexnet")
    main = by_testid(page, "stMain")
    expect(by_testid(page, "stDataFrame")).to_have_count(1)  # the Layers tab is open; nothing else is drawn …
    expect(by_testid(page, "stPlotlyChart")).to_have_count(0)
    expect(by_testid(page, "stCode")).to_have_count(0)

    rerun_after(page, lambda: main.get_by_role("tab", name="Charts").click())
    expect(by_testid(page, "stPlotlyChart")).to_have_count(3, timeout=SHOW_MS)  # … until its tab is opened
    expect(by_testid(page, "stPlotlyChart").first).to_be_in_viewport()

    rerun_after(page, lambda: main.get_by_role("tab", name="The notes' errata and claims").click())
    expect(by_testid(page, "stCode").first).to_be_visible(timeout=SHOW_MS)  # the notes' code beside the fix
    expect(main.get_by_text("Errata in the notes' code")).to_be_in_viewport()
    page.wait_for_timeout(300)
    assert page.evaluate(OVERFLOW_JS) == []  # the code blocks wrap: nothing cut at "padding="
    assert_no_exception(page)


def test_a_row_picked_in_the_table_shows_its_detail_in_view(page, app_url):
    open_url(page, f"{app_url}/architecture?model=alexnet")
    grid = by_testid(page, "stDataFrame").first
    expect(grid).to_be_visible(timeout=SHOW_MS)
    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    # the grid is drawn on a canvas: click the selection cell of the fourth row (conv2; header and rows 35 px tall)
    rerun_after(page, lambda: page.mouse.click(box["x"] + 15, box["y"] + 35 + 35 * 3 + 17))
    detail = page.locator(".st-key-table_pick_detail")
    expect(detail).to_contain_text("conv2 (3)", timeout=SHOW_MS)
    expect(detail).to_contain_text("(5·5·96 + 1)·256 = 614,656")  # the parameter formula, numbers filled in
    expect(detail).to_be_in_viewport()
    box = by_testid(page, "stSelectbox").filter(has_text="Selected layer")  # the same selection everywhere
    expect(box.locator("input")).to_have_value("conv2 (3)")
    assert_no_exception(page)
