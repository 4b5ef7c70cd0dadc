"""The app in a real browser: ``streamlit run app.py`` in a subprocess, Chromium driven by Playwright.

The first test opens a deep link as the very first request of the fresh server: that is when Streamlit would run the
page file alone (its legacy ``pages/`` mode) unless the page switches back to ``app.py``'s navigation; conftest.py
runs it before every other browser test.
"""

from __future__ import annotations

import re

from tests.browser.conftest import SHOW_MS, assert_no_exception, by_testid, expect, open_url, rerun_after


def assert_app_navigation(page) -> None:
    """The sidebar lists app.py's pages by title (Home, Architecture, Compare first), not the files of pages/."""
    links = by_testid(page, "stSidebarNavLink")
    for i, title in enumerate(("Home", "Architecture", "Compare")):
        expect(links.nth(i)).to_have_text(re.compile(rf"{title}$"), timeout=SHOW_MS)  # icon name, then title
    file_named = links.filter(has_text=re.compile(r"^\s*(app|common|home|architecture|compare)\s*$"))
    expect(file_named).to_have_count(0)  # the legacy pages/ mode lists bare file names, with no icons


def model_picker(page):
    return by_testid(page, "stSidebar").get_by_role("combobox", name="Model")


def input_box(page):
    return by_testid(page, "stSidebar").get_by_role("textbox", name="Input size (C,H,W)", exact=True)


def test_deep_link_as_first_request(page, app_url):
    open_url(page, f"{app_url}/architecture?model=alexnet")
    main = by_testid(page, "stMain")
    expect(main.get_by_text("62,378,344").first).to_be_visible(timeout=SHOW_MS)
    expect(main.get_by_text("62.4 M").first).to_be_visible()
    expect(main.get_by_text("224 → 55 → 27 → 13 → 6").first).to_be_visible()
    assert_app_navigation(page)
    expect(by_testid(page, "stDataFrame").first).to_be_attached(timeout=SHOW_MS)  # the Layers tab, open
    assert_no_exception(page)
    assert "/architecture" in page.url and "model=alexnet" in page.url


def test_home_gallery_links_to_architecture(page, app_url):
    open_url(page, f"{app_url}/")
    main = by_testid(page, "stMain")
    expect(main.get_by_role("heading", name="CNN Explorer")).to_be_visible(timeout=SHOW_MS)
    for model_id, title in (("lenet", "LeNet-5 (d2l)"), ("vgg16", "VGG-16 (torchvision)"),
                            ("resnet50-tv", "ResNet-50 (torchvision)")):
        card = main.locator(f".st-key-card_{model_id}")
        expect(card.get_by_role("heading", name=title)).to_be_attached()
        expect(card.get_by_role("link", name="Open in Architecture")).to_be_attached()
    expect(main.get_by_text("62,378,344").first).to_be_visible()
    assert_app_navigation(page)
    assert_no_exception(page)

    link = main.locator(".st-key-card_vgg16").get_by_role("link", name="Open in Architecture")
    link.scroll_into_view_if_needed()
    assert link.get_attribute("target") != "_blank"  # the same tab, the same session
    rerun_after(page, link.click)
    page.wait_for_url("**/architecture?model=vgg16*", timeout=SHOW_MS)
    expect(by_testid(page, "stMain").get_by_text("138,357,544").first).to_be_visible(timeout=SHOW_MS)
    expect(model_picker(page)).to_have_value("vgg16 — VGG-16 (torchvision)")
    assert_no_exception(page)

    # Away to Home and back through the sidebar: the session's model stays.
    nav = by_testid(page, "stSidebarNavLink")
    rerun_after(page, nav.filter(has_text="Home").click)
    rerun_after(page, nav.filter(has_text="Architecture").click)
    expect(by_testid(page, "stMain").get_by_text("138,357,544").first).to_be_visible(timeout=SHOW_MS)
    expect(model_picker(page)).to_have_value("vgg16 — VGG-16 (torchvision)")


def test_compare_deep_link(page, app_url):
    open_url(page, f"{app_url}/compare?models=lenet,alexnet,vgg16")
    table = by_testid(page, "stTable")
    for model_id in ("lenet", "alexnet", "vgg16"):
        expect(table.first.get_by_text(model_id, exact=True).first).to_be_visible(timeout=SHOW_MS)
    expect(table.first.get_by_text("62,378,344 (62.4 M)")).to_be_visible()
    # four comparison charts, then one params-vs-accuracy scatter per dataset (Fashion-MNIST: lenet; ImageNet: vgg16)
    expect(by_testid(page, "stPlotlyChart")).to_have_count(6, timeout=SHOW_MS)
    assert_no_exception(page)


def test_too_small_input_shows_error_and_keeps_state(page, app_url):
    open_url(page, f"{app_url}/architecture?model=alexnet")
    expect(by_testid(page, "stMain").get_by_text("62,378,344").first).to_be_visible(timeout=SHOW_MS)
    box = input_box(page)

    def submit():
        box.fill("3,16,16")
        box.press("Enter")

    rerun_after(page, submit)
    alert = by_testid(page, "stAlertContentError")
    expect(alert).to_have_count(1, timeout=SHOW_MS)
    expect(alert).to_contain_text("cannot take input 3×16×16")
    expect(alert).to_contain_text("layer")
    expect(alert).to_contain_text("too small")
    assert_no_exception(page)
    expect(model_picker(page)).to_have_value("alexnet — AlexNet (2012 paper, the notes' table)")
    expect(box).to_have_value("3,16,16")
    assert_app_navigation(page)
    assert "input=3%2C16%2C16" in page.url or "input=3,16,16" in page.url


def test_model_picker_switches_model(page, app_url):
    open_url(page, f"{app_url}/architecture?model=alexnet")
    expect(by_testid(page, "stMain").get_by_text("62,378,344").first).to_be_visible(timeout=SHOW_MS)
    picker = model_picker(page)

    def choose():
        picker.click()
        picker.fill("vgg16")
        page.get_by_role("option", name="vgg16 — VGG-16 (torchvision)", exact=True).click()

    rerun_after(page, choose)
    main = by_testid(page, "stMain")
    expect(main.get_by_text("138,357,544").first).to_be_visible(timeout=SHOW_MS)
    expect(main.get_by_text("138 M").first).to_be_visible()
    expect(main.get_by_role("heading", name="VGG-16 (torchvision)")).to_be_visible()
    expect(input_box(page)).to_have_value("3,224,224")
    assert "model=vgg16" in page.url
    assert_no_exception(page)


def test_receptive_field_page_renders_its_charts(page, app_url):
    open_url(page, f"{app_url}/receptive-field?model=alexnet")
    main = by_testid(page, "stMain")
    expect(main.get_by_role("heading", name="Receptive field")).to_be_visible(timeout=SHOW_MS)
    # growth chart, the unit on an image, kernel taps, growth curves, gridding heatmap
    expect(by_testid(page, "stPlotlyChart")).to_have_count(5, timeout=SHOW_MS)
    table = by_testid(page, "stTable")
    expect(table.get_by_text("195", exact=True)).to_be_visible()  # AlexNet pool5: 195 px
    expect(main.get_by_text("k_eff = 3 + (3 − 1)·(2 − 1) = 5")).to_be_visible()
    assert_app_navigation(page)
    assert_no_exception(page)


def test_upload_a_product_photo_and_get_its_class(page, app_url, tmp_path):
    import numpy as np
    from PIL import Image

    from explorer.runtime import data

    raw, label = data.sample(0)  # an ankle boot
    photo = tmp_path / "boot.jpg"
    Image.fromarray(255 - np.pad(raw, 16)).resize((320, 320)).convert("RGB").save(photo, "JPEG")
    junk = tmp_path / "junk.png"
    junk.write_bytes(b"<html><body>not an image</body></html>")

    open_url(page, f"{app_url}/classify")
    dropzone = by_testid(page, "stFileUploaderDropzoneInput")
    rerun_after(page, lambda: dropzone.set_input_files(str(photo)))
    expect(by_testid(page, "stMetricValue").first).to_have_text(data.CLASSES[label], timeout=SHOW_MS)
    expect(by_testid(page, "stTable")).to_be_visible()
    assert_no_exception(page)

    rerun_after(page, lambda: dropzone.set_input_files(str(junk)))
    alert = by_testid(page, "stAlertContentError")
    expect(alert).to_have_count(1, timeout=SHOW_MS)
    expect(alert).to_contain_text("junk.png is not an image")
    assert_no_exception(page)


def test_diagram_renders_and_a_download_works(page, app_url, tmp_path):
    open_url(page, f"{app_url}/architecture?model=googlenet")
    # The diagram viewer shows the SVG that Graphviz drew on the server, drawn in the page itself (a components v2
    # component in a shadow root): no iframe, so no second document to load before the diagram shows.
    chart = page.locator('[data-testid="diagram-viewport"]')
    expect(chart).to_have_count(1, timeout=SHOW_MS)
    expect(page.locator("iframe")).to_have_count(0)
    expect(chart.locator("svg g.node").first).to_be_attached(timeout=SHOW_MS)
    # Clicked as soon as it is there, as an impatient user would: the file is in the page, so the click downloads
    # whether or not a run is still going on, and the download does not rerun the page.
    button = by_testid(page, "stDownloadButton").filter(has_text="Layers CSV")
    with page.expect_download(timeout=SHOW_MS) as info:
        button.click()
    saved = tmp_path / "layers.csv"
    info.value.save_as(saved)
    lines = saved.read_text().splitlines()
    assert lines[0].startswith("index,name,type,depth,output_shape")
    assert len(lines) > 100  # GoogLeNet: every module call, one row each
    assert_no_exception(page)
