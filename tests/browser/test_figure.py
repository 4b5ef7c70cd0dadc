"""The paper figure in a real Chromium: a link with figure settings opens the Architecture page's Figure tab, and the
figure is drawn — AlexNet's blocks with the app's shapes, GoogLeNet's nine Inception blocks of four paths, every
skip of ResNet-18 — and a screenshot of it is a picture, not a blank box. One server for all (the session fixture)."""

from __future__ import annotations

import pytest
from PIL import Image

import explorer
from tests.browser.conftest import SHOW_MS, assert_no_exception, expect, open_url

VIEWPORT = '[data-testid="diagram-viewport"]'  # the viewer the figure is shown in (in its shadow root)


@pytest.mark.parametrize("model_id, texts, counts", [
    ("alexnet", ["96×55×55", "256×27×27", "384×13×13", "256×6×6", "11×11 /4", "4096"], {"g.box": 12}),
    ("googlenet", ["inception3a", "p2_2", "832×3×3"], {"g.box.concat": 9}),
    ("resnet18", ["projection 1×1, /2", "512×3×3"], {"path.skip": 8, "g.box.add": 8}),
])
def test_a_figure_link_draws_the_paper_figure(page, app_url, tmp_path, model_id, texts, counts):
    open_url(page, f"{app_url}/architecture?model={model_id}&fig_labels=1&fig_kernels=1")
    frame = page.locator(VIEWPORT).filter(has=page.locator("g.box"))  # the figure's viewer, not the diagram's
    expect(frame).to_be_visible(timeout=SHOW_MS)
    svg = frame.locator("svg").filter(has=page.locator("g.box")).first
    for selector, n in counts.items():
        assert svg.locator(selector).count() == n, selector
    drawn = set(svg.locator("text").all_text_contents())
    assert set(texts) <= drawn, set(texts) - drawn
    assert len(svg.locator("g.box").all()) == len(explorer.figure(model_id).spec["boxes"])
    assert "fig_labels=1" not in page.url  # defaults are not written back into the link
    frame.scroll_into_view_if_needed()
    shot = tmp_path / f"{model_id}.png"
    frame.screenshot(path=str(shot))
    colors = Image.open(shot).convert("RGB").getcolors(maxcolors=1 << 20)
    assert colors is not None and len(colors) > 50  # blocks, shades, text: a picture
    assert_no_exception(page)
