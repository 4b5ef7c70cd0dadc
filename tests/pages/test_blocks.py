"""The Blocks and layers page in AppTest: counts of layers, weight layers and blocks per nesting level."""

from __future__ import annotations

import explorer
from tests.pages.conftest import assert_clean, assert_notes_panel, metrics


def test_blocks_of_resnet18(open_page):
    at = open_page("blocks", model="resnet18")
    assert_clean(at)
    assert_notes_panel(at, "blocks")
    shown = metrics(at)
    counts = (shown["Layers"], shown["Weight layers"], shown["Blocks"], shown["Nesting levels"])
    assert counts == ("58", "21", "13", "2")
    level1 = at.dataframe[0].value
    assert list(level1["block"]) == ["b1", "b2", "b3", "b4", "b5"]
    assert list(level1["layers"]) == [4, 12, 13, 13, 13]
    at.slider(key="blocks_level_resnet18").set_value(2).run()
    level2 = at.dataframe[0].value
    assert list(level2["layers"]) == [6, 6, 7, 6, 7, 6, 7, 6]
    assert level2["params"].sum() == explorer.get_spec("resnet18").params - 3_328 - 5_130  # minus b1 and fc


def test_blocks_of_a_model_without_blocks(open_page):
    at = open_page("blocks", model="lenet")
    assert_clean(at)
    assert metrics(at)["Layers"] == "12" and metrics(at)["Blocks"] == "0"
    assert "single block" in at.info[0].value
