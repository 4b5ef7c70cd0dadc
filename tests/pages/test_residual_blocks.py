"""The Residual blocks page in AppTest: the five placements of the paper's table."""

from __future__ import annotations

from tests.pages.conftest import assert_clean, assert_notes_panel


def test_residual_blocks_page(open_page):
    at = open_page("residual-blocks")
    assert_clean(at)
    assert_notes_panel(at, "residual-blocks")
    table = at.table[0].value
    assert set(table["parameters"]) == {"73,984"}
    assert [v == "yes" for v in table["identity when F = 0"]] == [False, False, True, True, True]
    assert list(table["CIFAR-10 error, ResNet-110 (paper)"]) == ["6.61%", "8.17%", "7.84%", "6.71%", "6.37%"]
    assert [v == "yes" for v in table["F can be negative"]] == [True, True, False, True, True]
    at.segmented_control(key="res_variant").set_value("bn-after-add").run()
    assert_clean(at)
    layers = at.dataframe[0].value
    assert list(layers["type"]) == ["Conv2d", "BatchNorm2d", "ReLU", "Conv2d", "BatchNorm2d", "ReLU"]
    implementations = at.table[1].value
    assert list(implementations["parameters"]) == ["73,984", "230,272"]
    assert list(implementations["input → output"]) == ["64×56×56 → 64×56×56", "64×56×56 → 128×28×28"]
