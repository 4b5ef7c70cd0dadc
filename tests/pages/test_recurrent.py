"""The Recurrent page (RNN, LSTM, GRU) in AppTest: every number it shows, computed independently here."""

from __future__ import annotations

from explorer.zoo.recurrent import recurrent_params
from tests.pages.conftest import assert_clean, assert_notes_panel, figures, metrics, text, values


def test_recurrent_defaults_and_the_1_4_3_table(open_page):
    at = open_page("recurrent")
    assert_clean(at)
    assert_notes_panel(at, "feedback")
    assert metrics(at)["LSTM parameters"] == "24,064"
    assert metrics(at)["MACs for T = 28"] == f"{28 * 24_064:,}"
    assert metrics(at)["Gate blocks"] == "4"
    table = at.table[0].value
    assert list(table["parameters"]) == ["6,016", "24,064", "18,048"]
    assert list(table["× RNN"]) == ["1", "4", "3"]
    gates = at.dataframe[0].value
    assert list(gates["gate"].str[0]) == ["i", "f", "g", "o"]
    assert gates["parameters"].sum() == 24_064
    steps = at.table[1].value  # one row per distinct step shape, not 28 copies of one row
    assert list(steps.index) == ["1–28"]
    assert steps.loc["1–28"].to_dict() == {"xₜ": "1×28", "hₜ₋₁": "1×64", "gates (stacked)": "1×256", "hₜ": "1×64",
                                           "cₜ": "1×64"}
    assert "All 28 steps traced" in text(at) and "(1 distinct here)" in text(at)
    assert at.get("graphviz_chart")
    claims = text(at)
    assert "“引入遗忘门、输入门和输出门，解决长期依赖问题”" in claims and "The gates **ease** it" in claims


def test_recurrent_length_changes_macs_not_parameters(open_page):
    at = open_page("recurrent")
    at.segmented_control(key="rnn_kind").set_value("gru").run()
    at.slider(key="rnn_T").set_value(100).run()
    assert_clean(at)
    assert metrics(at)["GRU parameters"] == "18,048"
    assert metrics(at)["MACs for T = 100"] == f"{100 * 18_048:,}"
    [sweep] = [f for f in figures(at) if f["data"][0].get("name") == "parameters"]
    assert set(values(sweep["data"][0]["y"])) == {18_048}
    assert list(values(sweep["data"][1]["y"])) == [t * 18_048 for t in values(sweep["data"][1]["x"])]
    steps = at.table[1].value
    assert list(steps.index) == ["1–100"] and "cₜ" not in steps and steps.loc["1–100", "gates (stacked)"] == "1×192"


def test_recurrent_sizes(open_page):
    at = open_page("recurrent")
    at.segmented_control(key="rnn_kind").set_value("rnn").run()
    at.number_input(key="rnn_input").set_value(10).run()
    at.number_input(key="rnn_hidden").set_value(20).run()
    assert_clean(at)
    assert metrics(at)["RNN parameters"] == f"{recurrent_params('rnn', 10, 20):,}" == "640"
    assert "20·(10 + 20) + 2·20 = 640" in text(at)
    assert list(at.table[0].value["parameters"]) == ["640", "2,560", "1,920"]
