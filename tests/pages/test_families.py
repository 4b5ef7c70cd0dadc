"""AppTests for the pages of the notes' other families: every number they show, computed independently here, and
how they answer their widgets."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

import explorer
from explorer.lessons import hopfield, notes, pooling
from explorer.lessons.ffn import positionwise as ffn_check
from explorer.runtime import data
from explorer.zoo.recurrent import recurrent_params
from explorer.zoo.transformer import ffn_params

TIMEOUT = 120


@pytest.fixture
def open_page(repo_root) -> Callable[..., AppTest]:
    def _open(page: str, **query: str) -> AppTest:
        at = AppTest.from_file(repo_root / "app.py", default_timeout=TIMEOUT)
        at.switch_page(f"pages/{page}.py")
        for key, value in query.items():
            at.query_params[key] = value
        return at.run()

    return _open


def clean(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def text(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown) + "\n".join(c.value for c in at.caption)


def figures(at: AppTest) -> list[dict]:
    return [json.loads(el.proto.spec) for el in at.get("plotly_chart")]


def title(fig: dict) -> str:
    return fig["layout"].get("title", {}).get("text", "")


def values(v) -> np.ndarray:
    """A plotly array from the JSON spec: a list, or numpy's typed-array encoding (dtype, base64 bytes, shape)."""
    if isinstance(v, dict) and "bdata" in v:
        out = np.frombuffer(base64.b64decode(v["bdata"]), dtype=np.dtype(v["dtype"]))
        return out.reshape([int(s) for s in str(v.get("shape", len(out))).split(",")])
    return np.array(v, dtype=float)


def has_dataset() -> bool:
    try:
        data.find("train")
        data.find("test")
        return True
    except data.DatasetNotFound:
        return False


def assert_notes_panel(at: AppTest, key: str) -> None:
    """The notes' points are shown in Chinese and in English, side by side."""
    heading_zh, heading_en, points = notes.section(key)
    [panel] = [e for e in at.expander if heading_zh in e.label]
    assert heading_en in panel.label
    shown = "\n".join(m.value for m in panel.markdown)
    for point in points:
        assert point.zh in shown and point.en in shown


# --- recurrent ----------------------------------------------------------------------------------------------------
def test_recurrent_defaults_and_the_1_4_3_table(open_page):
    at = open_page("recurrent")
    clean(at)
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
    steps = at.dataframe[1].value
    assert len(steps) == 28 and set(steps["gates (stacked)"]) == {"1×256"} and set(steps["cₜ"]) == {"1×64"}
    assert at.get("graphviz_chart")


def test_recurrent_length_changes_macs_not_parameters(open_page):
    at = open_page("recurrent")
    at.segmented_control(key="rnn_kind").set_value("gru").run()
    at.slider(key="rnn_T").set_value(100).run()
    clean(at)
    assert metrics(at)["GRU parameters"] == "18,048"
    assert metrics(at)["MACs for T = 100"] == f"{100 * 18_048:,}"
    [sweep] = [f for f in figures(at) if f["data"][0].get("name") == "parameters"]
    assert set(values(sweep["data"][0]["y"])) == {18_048}
    assert list(values(sweep["data"][1]["y"])) == [t * 18_048 for t in values(sweep["data"][1]["x"])]
    assert len(at.dataframe[1].value) == 100 and "cₜ" not in at.dataframe[1].value


def test_recurrent_sizes(open_page):
    at = open_page("recurrent")
    at.segmented_control(key="rnn_kind").set_value("rnn").run()
    at.number_input(key="rnn_input").set_value(10).run()
    at.number_input(key="rnn_hidden").set_value(20).run()
    clean(at)
    assert metrics(at)["RNN parameters"] == f"{recurrent_params('rnn', 10, 20):,}" == "640"
    assert "20·(10 + 20) + 2·20 = 640" in text(at)
    assert list(at.table[0].value["parameters"]) == ["640", "2,560", "1,920"]


# --- feedforward --------------------------------------------------------------------------------------------------
def test_feedforward_defaults_are_the_zoo_ids(open_page):
    at = open_page("feedforward")
    clean(at)
    assert_notes_panel(at, "feedforward")
    shown = metrics(at)
    for label, model_id in (("MLP parameters", "mlp"), ("Autoencoder parameters", "autoencoder"),
                            ("Generator parameters", "gan-generator"),
                            ("Discriminator parameters", "gan-discriminator")):
        assert shown[label] == f"{explorer.get_spec(model_id).params:,}", label
    assert shown["MLP parameters"] == "203,530"
    assert "(784 + 1)·256 + (256 + 1)·10 = 203,530" in text(at)
    assert shown["Compression"] == "24.5×"
    # encoder: conv 1→16 (160) + conv 16→32 (4,640) + linear 1568→32 (50,208); decoder: the rest
    assert "**Encoder** 55,008 parameters" in text(at) and "**decoder** 56,513 parameters" in text(at)
    assert 55_008 + 56_513 == explorer.get_spec("autoencoder").params


def test_feedforward_resized(open_page):
    at = open_page("feedforward")
    at.text_input(key="mlp_hidden").set_value("512, 128").run()
    at.slider(key="ae_code").set_value(8).run()
    at.slider(key="gan_latent").set_value(64).run()
    clean(at)
    shown = metrics(at)
    assert shown["MLP parameters"] == f"{(784 + 1) * 512 + (512 + 1) * 128 + (128 + 1) * 10:,}"
    ae = sum(p.numel() for p in explorer.build("autoencoder", code_size=8).parameters())
    gen = sum(p.numel() for p in explorer.build("gan-generator", latent_size=64).parameters())
    assert shown["Autoencoder parameters"] == f"{ae:,}"
    assert shown["Generator parameters"] == f"{gen:,}" == f"{64 * 128 * 49 + 759_680 - 100 * 128 * 49:,}"
    assert shown["Compression"] == "98.0×"


def test_feedforward_bad_widths(open_page):
    at = open_page("feedforward")
    at.text_input(key="mlp_hidden").set_value("256, lots").run()
    assert not at.exception
    assert len(at.error) == 1 and "widths" in at.error[0].value
    assert "MLP parameters" not in metrics(at)
    assert metrics(at)["Autoencoder parameters"] == "111,521"  # the other tabs still work


# --- FFN ----------------------------------------------------------------------------------------------------------
def test_ffn_defaults_and_position_independence(open_page):
    at = open_page("ffn")
    clean(at)
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
    clean(at)
    assert metrics(at)["FFN parameters"] == f"{ffn_params(256, 512):,}" == "262,912"
    assert metrics(at)["MACs for T = 3"] == f"{3 * 262_912:,}"
    assert len(at.dataframe[0].value) == 3


# --- pooling ------------------------------------------------------------------------------------------------------
def test_pooling_defaults(open_page):
    at = open_page("pooling")
    clean(at)
    assert_notes_panel(at, "pooling")
    grid = pooling.sample_grid(6, 0)
    shown = text(at)
    assert "⌊(6 + 2·0 − 2)/2⌋ + 1 = **3**" in shown
    assert f"`{pooling.explain(grid, 'max', 2, 2, 0, 0, 0)}`" in shown
    assert f"`{pooling.explain(grid, 'avg', 2, 2, 0, 0, 0)}`" in shown
    figs = {title(f): f for f in figures(at)}
    assert np.allclose(values(figs["Max pooling 3×3"]["data"][0]["z"]), pooling.pool(grid, "max", 2, 2))
    assert np.allclose(values(figs["Average pooling 3×3"]["data"][0]["z"]), pooling.pool(grid, "avg", 2, 2))
    table = at.table[0].value
    assert list(table["parameters"]) == ["156", "89,856", "2,712,960"]


def test_pooling_window_stride_padding_and_cell(open_page):
    at = open_page("pooling")
    at.slider(key="pool_k").set_value(3).run()
    at.slider(key="pool_s").set_value(2).run()
    at.slider(key="pool_p_3").set_value(1).run()
    at.slider(key="pool_row_3").set_value(2).run()
    at.slider(key="pool_col_3").set_value(1).run()
    clean(at)
    grid = pooling.sample_grid(6, 0)
    shown = text(at)
    assert "⌊(6 + 2·1 − 3)/2⌋ + 1 = **3**" in shown
    assert f"`{pooling.explain(grid, 'max', 3, 2, 1, 2, 1)}`" in shown
    assert f"`{pooling.explain(grid, 'avg', 3, 2, 1, 2, 1)}`" in shown
    assert "count_include_pad" in shown


@pytest.mark.skipif(not has_dataset(), reason="Fashion-MNIST is not installed")
def test_pooling_an_image(open_page):
    at = open_page("pooling")
    at.radio(key="pool_source").set_value("image").run()
    clean(at)
    raw, _ = data.sample(0)
    figs = {title(f): f for f in figures(at)}
    avg = values(figs["Average pooling 14×14"]["data"][0]["z"])
    assert np.allclose(avg, pooling.pool(raw.astype(float), "avg", 2, 2))


# --- blocks -------------------------------------------------------------------------------------------------------
def test_blocks_of_resnet18(open_page):
    at = open_page("blocks", model="resnet18")
    clean(at)
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
    clean(at)
    assert metrics(at)["Layers"] == "12" and metrics(at)["Blocks"] == "0"
    assert "single block" in at.info[0].value


# --- Inception and residual variants ------------------------------------------------------------------------------
def test_inception_page(open_page):
    at = open_page("inception")
    clean(at)
    assert_notes_panel(at, "inception")
    table = at.table[0].value
    for model_id in table.index:
        s = explorer.analyze(model_id)
        assert table.loc[model_id, "parameters"].startswith(f"{s.total_params:,}")
        assert table.loc[model_id, "MACs"].startswith(f"{s.total_macs:,}")
        assert table.loc[model_id, "weight layers (longest path)"] == s.depth
        assert table.loc[model_id, "receptive field (px)"] == s.receptive_field.size
    assert list(table["weight layers (longest path)"]) == [2, 2, 3, 5, 3, 4]
    factor = at.table[1].value
    assert list(factor["weights kept"]) == ["72%", "29%", "67%"]
    assert "1×7 → 7×1: 57,344 params, field 7" in list(factor["replacement"])
    assert metrics(at)["Parameters"] == "1,297,408"
    at.selectbox(key="inc_block").set_value("inception-resnet-a").run()
    at.slider(key="inc_channels").set_value(32).run()
    clean(at)
    assert metrics(at)["Parameters"] == "123,168"
    assert "3×3 → 3×3: 18,432 params, field 5" in list(at.table[1].value["replacement"])


def test_residual_blocks_page(open_page):
    at = open_page("residual-blocks")
    clean(at)
    assert_notes_panel(at, "residual-blocks")
    table = at.table[0].value
    assert set(table["parameters"]) == {"73,984"}
    assert [v == "yes" for v in table["identity when F = 0"]] == [False, False, True, True, True]
    assert list(table["CIFAR-10 error, ResNet-110 (paper)"]) == ["6.61%", "8.17%", "7.84%", "6.71%", "6.37%"]
    assert [v == "yes" for v in table["F can be negative"]] == [True, True, False, True, True]
    at.segmented_control(key="res_variant").set_value("bn-after-add").run()
    clean(at)
    layers = at.dataframe[0].value
    assert list(layers["type"]) == ["Conv2d", "BatchNorm2d", "ReLU", "Conv2d", "BatchNorm2d", "ReLU"]
    implementations = at.table[1].value
    assert list(implementations["parameters"]) == ["73,984", "230,272"]
    assert list(implementations["input → output"]) == ["64×56×56 → 64×56×56", "64×56×56 → 128×28×28"]


# --- energy-based -------------------------------------------------------------------------------------------------
@pytest.mark.skipif(not has_dataset(), reason="Fashion-MNIST is not installed")
def test_hopfield_recalls_by_default(open_page):
    at = open_page("hopfield")
    clean(at)
    assert_notes_panel(at, "hopfield")
    shown = metrics(at)
    assert (shown["Neurons"], shown["Weights"], shown["Free weights"], shown["Stored patterns"]) == (
        "784", "614,656", "306,936", "3")
    assert "Recalled **T-shirt/top** exactly" in at.success[0].value
    overlaps = at.dataframe[0].value
    assert np.array_equal(overlaps.to_numpy(), hopfield.overlaps(hopfield.class_patterns([0, 5, 8])).round(3))
    [energy] = [f for f in figures(at) if title(f).startswith("Energy")]
    shown = values(energy["data"][0]["y"])
    assert (np.diff(shown) <= 1e-9).all() and shown[-1] < shown[0]
    patterns = hopfield.class_patterns([0, 5, 8])
    run = hopfield.recall(hopfield.hebbian(patterns), hopfield.corrupt(patterns[0], 0.2, seed=0), seed=0)
    assert np.allclose(shown, run.energies)


@pytest.mark.skipif(not has_dataset(), reason="Fashion-MNIST is not installed")
def test_hopfield_widgets(open_page):
    at = open_page("hopfield")
    at.selectbox(key="hop_target").set_value(8).run()
    clean(at)
    assert "Recalled **Bag** exactly" in at.success[0].value
    # all ten silhouettes at once: far too alike to be stored side by side
    at.multiselect(key="hop_classes").set_value(list(range(10))).run()
    assert not at.exception
    patterns = hopfield.class_patterns(range(10))
    run = hopfield.recall(hopfield.hebbian(patterns), hopfield.corrupt(patterns[8], 0.2, seed=0), seed=0)
    recalled = np.array_equal(run.final, patterns[8])
    assert bool(at.success) == recalled and bool(at.warning) == (not recalled)
    at.multiselect(key="hop_classes").set_value([]).run()
    assert at.info[0].value == "Pick at least one class to store."


@pytest.mark.skipif(not has_dataset(), reason="Fashion-MNIST is not installed")
def test_boltzmann_trains_on_arrival_and_on_submit(open_page):
    at = open_page("boltzmann")
    clean(at)
    assert_notes_panel(at, "boltzmann")
    shown = metrics(at)
    assert shown["RBM parameters"] == "51,024"
    before, after = float(shown["Reconstruction error, before"]), float(shown["After training"])
    assert after < before
    result = at.session_state["rbm_result"]
    assert result.epochs == 5 and result.images == 5000 and f"{result.errors[-1]:.4f}" == shown["After training"]
    [curve] = [f for f in figures(at) if title(f).startswith("Reconstruction error")]
    assert np.allclose(values(curve["data"][0]["y"]), result.errors)
    assert shown["Free-energy gap"] == f"{result.free_energy_gap[-1]:,.1f}"

    at.select_slider(key="rbm_hidden").set_value(16)
    at.slider(key="rbm_epochs").set_value(2)
    at.select_slider(key="rbm_images").set_value(1000)
    at.button[0].click().run()
    clean(at)
    assert metrics(at)["RBM parameters"] == f"{784 * 16 + 16 + 784:,}" == "13,344"
    result = at.session_state["rbm_result"]
    assert result.filters.shape == (16, 28, 28) and result.epochs == 2 and result.images == 1000
    assert result.errors[-1] < result.errors[0]
