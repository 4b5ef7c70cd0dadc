"""The app as a whole, in AppTest: app.py routes to every page, each runs with its defaults, and the chosen model
follows the user from page to page."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.pages.conftest import PAGE_FILES, VGG16_PARAMS, assert_clean, assert_no_exception, metrics_with_delta


def test_app_lists_the_pages():
    assert PAGE_FILES[:3] == ["pages/home.py", "pages/architecture.py", "pages/compare.py"]


@pytest.mark.parametrize("page_file", [  # the playground's first run starts its analysis worker: seconds
    pytest.param(f, marks=pytest.mark.slow) if f == "pages/playground.py" else f for f in PAGE_FILES])
def test_every_page_runs_with_its_defaults(open_page, page_file):
    at = open_page(Path(page_file).stem)
    assert_clean(at)
    assert at.title, "every page has a title"


def test_model_survives_a_visit_to_another_page_and_a_link_wins_on_arrival(open_page):
    at = open_page("architecture", model="alexnet")
    at.selectbox(key="model").set_value("vgg16").run()
    at.switch_page("pages/home.py").run()
    at.query_params.clear()  # the sidebar navigation carries no parameters
    at.switch_page("pages/architecture.py").run()
    assert_no_exception(at)
    assert metrics_with_delta(at)["Parameters"] == (VGG16_PARAMS, "138 M")
    # A link to another model (the gallery's) wins over the session's choice.
    at.query_params["model"] = "nin"
    at.run()
    assert at.selectbox(key="model").value == "nin"
    assert metrics_with_delta(at)["Parameters"] == ("1,992,166", "1.99 M")
