"""The Residual blocks page in AppTest: the five placements of the paper's table."""

from __future__ import annotations

from tests.pages.conftest import assert_clean, assert_notes_panel, text


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
    # both counted the same way, with and without the convolution biases (2·64 and 2·128 + 128 of them)
    assert list(implementations["parameters (the notes' code: conv bias)"]) == ["74,112", "230,272"]
    assert list(implementations["without conv bias"]) == ["73,984", "229,888"]
    assert list(implementations["input → output"]) == ["64×56×56 → 64×56×56", "64×56×56 → 128×28×28"]


def test_residual_blocks_check_the_notes_complexity_claim(open_page):
    at = open_page("residual-blocks")
    shown = text(at)
    assert "“残差网络，在堆叠层数的同时不会增加模型复杂度”" in shown
    assert "| resnet18-tv | 18 | 11,689,512 | 1,814,083,944 |" in shown
    assert "| resnet50-tv | 50 | 25,557,032 | 4,089,238,376 |" in shown
    assert "nested function classes" in shown
