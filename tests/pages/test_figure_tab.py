"""The Figure tab of the Architecture page and the Playground: the paper figure with its controls and downloads; a
link with figure settings opens the tab with them."""

from __future__ import annotations

import pytest

from tests.pages.conftest import open_tab


def test_architecture_figure_tab_draws_alexnet_with_its_downloads(open_page):
    at = open_tab(open_page("architecture", model="alexnet"), "Figure")
    assert not at.exception
    assert {"Labels", "Kernels"} <= {t.label for t in at.toggle}
    assert at.session_state["fig_spatial"] == "sqrt" and at.session_state["fig_direction"] == "LR"
    buttons = [b.proto.label for b in at.get("download_button")]
    assert {"Figure SVG", "Figure PNG", "Figure LaTeX (TikZ)", "Figure spec JSON"} <= set(buttons)


def test_a_link_with_figure_settings_opens_the_tab_with_them(open_page):
    at = open_page("architecture", model="resnet18", fig_direction="TB", fig_depth="1", fig_labels="false")
    assert not at.exception
    assert at.session_state["fig_direction"] == "TB"
    assert at.session_state["fig_depth"] == "1"
    assert at.session_state["fig_labels"] is False
    assert "Figure SVG" in [b.proto.label for b in at.get("download_button")]


def test_the_figure_settings_go_into_the_url(open_page):
    at = open_tab(open_page("architecture", model="alexnet"), "Figure")
    at.session_state["fig_spatial"] = "log"
    at.session_state["fig_kernels"] = False
    at = at.run()
    assert not at.exception
    assert at.query_params["fig_spatial"] in ("log", ["log"])
    assert at.query_params["fig_kernels"] in ("0", ["0"])
    assert "fig_direction" not in at.query_params  # a default stays out of the link


@pytest.mark.slow
def test_the_playground_draws_its_network_in_a_figure_tab(open_page):
    at = open_tab(open_page("playground"), "Figure", key="pg_view")
    assert not at.exception
    assert "Figure SVG" in [b.proto.label for b in at.get("download_button")]
    assert "Diagram DOT" in [b.proto.label for b in at.get("download_button")]
