"""The Blocks and layers page in AppTest: counts of layers, weight layers and blocks per nesting level."""

from __future__ import annotations

import explorer
from tests.pages.conftest import assert_clean, assert_notes_panel, metrics, text


def test_blocks_of_resnet18_the_first_screen(open_page):
    at = open_page("blocks")  # no model asked: a first visit opens on one with blocks to show
    assert_clean(at)
    assert at.selectbox(key="model").value == "resnet18"
    assert_notes_panel(at, "blocks")
    shown = metrics(at)
    counts = (shown["Layers"], shown["Weight layers (all)"], shown["Weight layers (longest path)"], shown["Blocks"],
              shown["Nesting levels"])
    assert counts == ("58", "21", "18", "13", "2")  # the three 1×1 shortcuts count in "all" only
    level1 = at.dataframe[0].value
    assert list(level1["block"]) == ["b1", "b2", "b3", "b4", "b5"]
    assert list(level1["layers"]) == [4, 12, 13, 13, 13]
    # the layers inside in the order the data meets them, not alphabetically
    assert level1["layers inside (network order)"][0] == "Conv2d×1, BatchNorm2d×1, ReLU×1, MaxPool2d×1"
    at.slider(key="blocks_level_resnet18").set_value(2).run()
    level2 = at.dataframe[0].value
    assert list(level2["layers"]) == [6, 6, 7, 6, 7, 6, 7, 6]
    assert level2["params"].sum() == explorer.get_spec("resnet18").params - 3_328 - 5_130  # minus b1 and fc


def test_blocks_of_a_model_without_blocks(open_page):
    at = open_page("blocks", model="lenet")
    assert_clean(at)
    assert metrics(at)["Layers"] == "12" and metrics(at)["Blocks"] == "0"
    assert "single block" in at.info[0].value


def test_blocks_of_nin_show_where_the_notes_code_fails(open_page):
    at = open_page("blocks", model="nin")
    assert_clean(at)
    shown = text(at)
    assert "the notes' code **cannot run at 224×224 at all**" in shown
    assert "layer 4.4 (Conv2d(384, 384, kernel_size=(3, 3), stride=(1, 1))) gets input 384×1×1" in shown
