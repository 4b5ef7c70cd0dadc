"""The Transformer FFN page in AppTest: its numbers, and the FFN applied position by position."""

from __future__ import annotations

from explorer.lessons.ffn import positionwise as ffn_check
from explorer.zoo.transformer import ffn_params
from tests.pages.conftest import assert_clean, assert_notes_panel, metrics, text


def test_ffn_defaults_and_position_independence(open_page):
    at = open_page("ffn")
    assert_clean(at)
    assert_notes_panel(at, "ffn")
    shown = metrics(at)
    assert shown["FFN parameters"] == "2,099,712"
    assert shown["MACs per position"] == "2,099,712"
    assert shown["MACs for T = 10"] == "20,997,120"
    rows = at.dataframe[0].value
    assert len(rows) == 10 and all(float(g) < 1e-12 for g in rows["whole vs alone"])
    reference = ffn_check(512, 2048, 10, "relu")
    assert list(rows["active of 2048"]) == [r.active for r in reference.rows]
    assert list(rows["‖xₜ‖"]) == [round(r.input_norm, 3) for r in reference.rows]
    assert "(512 + 1)·2048 + (2048 + 1)·512 = 2,099,712" in text(at)


def test_ffn_resized(open_page):
    at = open_page("ffn")
    at.select_slider(key="ffn_d_model").set_value(256).run()
    at.select_slider(key="ffn_ratio").set_value(2).run()
    at.slider(key="ffn_T").set_value(3).run()
    assert_clean(at)
    assert metrics(at)["FFN parameters"] == f"{ffn_params(256, 512):,}" == "262,912"
    assert metrics(at)["MACs for T = 3"] == f"{3 * 262_912:,}"
    assert len(at.dataframe[0].value) == 3


def test_ffn_page_checks_the_linearity_claim(open_page):
    shown = text(open_page("ffn"))
    assert "“弥补自注意力机制的线性局限性，学习更复杂的特征”" in shown
    assert "Softmax self-attention is **not** linear" in shown
    assert "| A(x + y) − A(x) − A(y) | 1.502 | 0 |" in shown
    assert "**per-token** nonlinearity and capacity" in shown
