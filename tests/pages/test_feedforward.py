"""The Feedforward page (MLP, autoencoder, GAN) in AppTest: every number it shows, computed independently here."""

from __future__ import annotations

import explorer
from tests.pages.conftest import assert_clean, assert_notes_panel, metrics, text


def test_feedforward_defaults_are_the_zoo_ids(open_page):
    at = open_page("feedforward")
    assert_clean(at)
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
    assert_clean(at)
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


def test_feedforward_page_corrects_rnn_as_feedforward(open_page):
    shown = text(open_page("feedforward"))
    assert "“尽管严格来说，RNN有反馈环路，但其基本单元的前馈部分也是前馈神经网络的一种形式”" in shown
    assert "An RNN is a **feedback** (recurrent) network" in shown
