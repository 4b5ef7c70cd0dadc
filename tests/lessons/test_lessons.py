"""The notes' other families: exact parameter counts by hand, the recurrent formulas against PyTorch, the unrolled
recurrence against nn.RNN/LSTM/GRU, the FFN position by position, Inception and residual variants, blocks, pooling
and the notes' quotes."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn
from torch.nn import functional as F

import explorer
from explorer.lessons import blocks, feedforward, ffn, inception, notes, pooling, recurrent, residual_blocks
from explorer.present import diagram
from explorer.zoo.googlenet import InceptionA, InceptionC, InceptionE, InceptionResNetA
from explorer.zoo.recurrent import GATES, recurrent_params
from explorer.zoo.resnet import RESIDUAL_PLACEMENTS
from explorer.zoo.transformer import ffn_params

# The learner's notes the app follows (Chinese), kept in the repository byte for byte.
NOTES = Path(__file__).resolve().parents[2] / "docs" / "notes" / "cnn-notes.zh.md"


def bn(c: int) -> int:
    return 2 * c  # scale and shift per channel (running statistics are buffers)


def conv(cin: int, cout: int, kh: int, kw: int | None = None, bias: bool = True) -> int:
    return cout * cin * kh * (kw or kh) + (cout if bias else 0)


def basic(cin: int, cout: int, kh: int, kw: int | None = None) -> int:
    """torchvision's BasicConv2d: convolution without bias + batch norm."""
    return conv(cin, cout, kh, kw, bias=False) + bn(cout)


# Every new id, its count worked out by hand from the layers.
HAND_COUNTS = {
    "mlp": (784 + 1) * 256 + (256 + 1) * 10,
    "autoencoder": conv(1, 16, 3) + conv(16, 32, 3) + (1568 + 1) * 32 + (32 + 1) * 1568 + conv(32, 16, 3)
    + conv(16, 1, 3),
    "gan-generator": 100 * 128 * 7 * 7 + bn(128) + 128 * 64 * 4 * 4 + bn(64) + 64 * 1 * 4 * 4,
    "gan-discriminator": conv(1, 64, 4, bias=False) + conv(64, 128, 4, bias=False) + bn(128)
    + conv(128, 1, 7, bias=False),
    "rnn": 64 * (28 + 64) + 2 * 64,
    "lstm": 4 * (64 * (28 + 64) + 2 * 64),
    "gru": 3 * (64 * (28 + 64) + 2 * 64),
    "hopfield": 784 * 784,
    "rbm": 784 * 64 + 64 + 784,
    "ffn": 512 * 2048 + 2048 + 2048 * 512 + 512,
    # d2l's block 3a: 1×1 64; 1×1 96 → 3×3 128; 1×1 16 → 5×5 32; pool → 1×1 32
    "inception-v1": conv(192, 64, 1) + conv(192, 96, 1) + conv(96, 128, 3) + conv(192, 16, 1) + conv(16, 32, 5)
    + conv(192, 32, 1),
    "inception-bn": sum(conv(a, b, k, bias=False) + bn(b) for a, b, k in (
        (192, 64, 1), (192, 96, 1), (96, 128, 3), (192, 16, 1), (16, 32, 5), (192, 32, 1))),
    "inception-v3-a": basic(192, 64, 1) + basic(192, 48, 1) + basic(48, 64, 5) + basic(192, 64, 1)
    + basic(64, 96, 3) + basic(96, 96, 3) + basic(192, 32, 1),
    "inception-v3-b": basic(768, 192, 1) + basic(768, 128, 1) + basic(128, 128, 1, 7) + basic(128, 192, 7, 1)
    + basic(768, 128, 1) + basic(128, 128, 7, 1) + basic(128, 128, 1, 7) + basic(128, 128, 7, 1)
    + basic(128, 192, 1, 7) + basic(768, 192, 1),
    "inception-v3-c": basic(1280, 320, 1) + basic(1280, 384, 1) + basic(384, 384, 1, 3) + basic(384, 384, 3, 1)
    + basic(1280, 448, 1) + basic(448, 384, 3) + basic(384, 384, 1, 3) + basic(384, 384, 3, 1) + basic(1280, 192, 1),
    "inception-resnet-a": basic(320, 32, 1) + basic(320, 32, 1) + basic(32, 32, 3) + basic(320, 32, 1)
    + basic(32, 48, 3) + basic(48, 64, 3) + conv(128, 320, 1),
    **{f"resblock-{p}": 2 * conv(64, 64, 3, bias=False) + 2 * bn(64) for p in RESIDUAL_PLACEMENTS},
    "resblock-1x1conv": conv(64, 128, 3) + conv(128, 128, 3) + conv(64, 128, 1) + 2 * bn(128),
}


def n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


# ---------------------------------------------------------------------------------------------------------------
# The zoo ids
# ---------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("model_id", list(HAND_COUNTS))
def test_params_by_hand(model_id):
    spec = explorer.get_spec(model_id)
    assert spec.params == HAND_COUNTS[model_id]
    assert explorer.analyze(model_id).total_params == spec.params


def test_published_counts():
    assert explorer.get_spec("mlp").params == 203_530
    assert explorer.get_spec("ffn").params == 2_099_712
    assert [explorer.get_spec(i).params for i in ("rnn", "lstm", "gru")] == [6_016, 24_064, 18_048]


def test_non_classifiers_state_their_output():
    for model_id, shape in (("autoencoder", (1, 28, 28)), ("gan-generator", (1, 28, 28)), ("rnn", (28, 64)),
                            ("ffn", (10, 512)), ("hopfield", (784,)), ("rbm", (784,)),
                            ("inception-v3-b", (768, 17, 17)), ("resblock-1x1conv", (128, 28, 28))):
        spec = explorer.get_spec(model_id)
        assert not spec.classifier and spec.output_dims == shape
        assert explorer.analyze(model_id).output_shape == (1, *shape)
    for model_id, classes in (("mlp", 10), ("gan-discriminator", 1), ("lenet", 10)):
        spec = explorer.get_spec(model_id)
        assert spec.classifier and spec.output_dims == (classes,)


def test_notes_order_puts_the_feedforward_and_feedback_families_first():
    families_seen = list(dict.fromkeys(s.family for s in explorer.list_models()))
    assert families_seen[:7] == ["MLP", "Autoencoder", "GAN", "RNN", "Hopfield", "Boltzmann machine",
                                 "Transformer FFN"]
    assert families_seen[7:] == ["LeNet", "AlexNet", "VGG", "NiN", "GoogLeNet", "ResNet"]


# ---------------------------------------------------------------------------------------------------------------
# Recurrent layers
# ---------------------------------------------------------------------------------------------------------------
SIZES = [(1, 1), (28, 64), (100, 7), (3, 256)]


@pytest.mark.parametrize(("input_size", "hidden_size"), SIZES)
@pytest.mark.parametrize("kind", list(GATES))
def test_recurrent_formula_against_pytorch(kind, input_size, hidden_size):
    # RNN = h(i + h) + 2h (PyTorch's two biases), LSTM = 4×, GRU = 3×
    layer = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[kind](input_size, hidden_size, device="meta")
    h, i = hidden_size, input_size
    assert n_params(layer) == recurrent_params(kind, i, h) == GATES[kind] * (h * (i + h) + 2 * h)
    assert sum(b.params for b in recurrent.gate_blocks(kind, i, h)) == n_params(layer)


@pytest.mark.parametrize(("input_size", "hidden_size"), SIZES)
def test_rnn_lstm_gru_are_exactly_1_4_3(input_size, hidden_size):
    rnn, lstm, gru = (recurrent_params(k, input_size, hidden_size) for k in ("rnn", "lstm", "gru"))
    assert (lstm, gru) == (4 * rnn, 3 * rnn)


def test_param_formula_strings():
    assert recurrent.param_formula("rnn", 28, 64) == "64·(28 + 64) + 2·64 = 6,016"
    assert recurrent.param_formula("lstm", 28, 64) == "4·(64·(28 + 64) + 2·64) = 24,064"
    assert recurrent.param_formula("gru", 28, 64) == "3·(64·(28 + 64) + 2·64) = 18,048"


@pytest.mark.parametrize("kind", list(GATES))
def test_gate_blocks_are_the_stacked_rows(kind):
    torch.manual_seed(0)
    model = explorer.build(kind)
    layer = recurrent.layer_of(model)
    tensors = recurrent.blocks_of(model)
    assert list(tensors) == [symbol for symbol, _, _ in recurrent.GATE_NAMES[kind]]
    for block in recurrent.gate_blocks(kind, 28, 64):
        t = tensors[block.symbol]
        assert tuple(t["W_x"].shape) == block.w_x == (64, 28)
        assert tuple(t["W_h"].shape) == block.w_h == (64, 64)
        assert t["b_x"].numel() == block.b_x and t["b_h"].numel() == block.b_h
    stacked = torch.cat([tensors[s]["W_x"] for s in tensors])
    assert torch.equal(stacked, layer.weight_ih_l0)


@pytest.mark.parametrize("kind", list(GATES))
def test_unrolled_equations_equal_pytorch(kind):
    torch.manual_seed(0)
    model = explorer.build(kind, input_size=5, hidden_size=7).double()
    x = torch.randn(3, 9, 5, dtype=torch.float64)
    with torch.no_grad():
        unrolled = recurrent.unroll(model, x)
        reference, state = model.rnn(x)
    assert torch.allclose(unrolled.outputs, reference, atol=1e-12)
    h_n = state[0] if kind == "lstm" else state
    assert torch.allclose(unrolled.h_last, h_n[0], atol=1e-12)
    if kind == "lstm":
        assert torch.allclose(unrolled.c_last, state[1][0], atol=1e-12)
    assert len(unrolled.steps) == 9


@pytest.mark.parametrize(("kind", "gates"), [("rnn", 64), ("lstm", 256), ("gru", 192)])
def test_step_shapes(kind, gates):
    steps = recurrent.step_shapes(kind, 28, 64, 5)
    assert [s.t for s in steps] == [1, 2, 3, 4, 5]
    for s in steps:
        assert (s.x, s.h_prev, s.gates, s.h) == ((1, 28), (1, 64), (1, gates), (1, 64))
        assert s.c == ((1, 64) if kind == "lstm" else None)


def test_parameters_do_not_depend_on_the_length():
    points = recurrent.length_sweep("gru", 28, 64, [1, 7, 28, 60])
    assert {p.params for p in points} == {18_048}
    assert [p.macs for p in points] == [t * 18_048 for t in (1, 7, 28, 60)]  # torchinfo: T × params


def test_recurrent_ids_analysed_per_step_count():
    s = explorer.analyze("lstm", (50, 28))
    assert s.total_params == 24_064 and s.output_shape == (1, 50, 64) and s.total_macs == 50 * 24_064


def test_unrolled_diagram():
    short = diagram.unrolled_dot("rnn", 4, 28, 64)
    assert [f"c{t} [" in short for t in range(1, 5)] == [True] * 4 and "gap" not in short
    assert "6,016 parameters" in short
    long = diagram.unrolled_dot("lstm", 28, 28, 64)
    assert recurrent.shown_steps(28) == [1, 2, 3, None, 27, 28]
    assert all(f"c{t} [" in long for t in (1, 2, 3, 27, 28)) and "c4 [" not in long and "gap" in long
    assert "h₀ = c₀ = 0" in long and "24,064 parameters" in long


# ---------------------------------------------------------------------------------------------------------------
# FFN
# ---------------------------------------------------------------------------------------------------------------
def test_ffn_formula_against_the_module():
    for d, d_ff in ((512, 2048), (64, 256), (3, 5)):
        model = explorer.build("ffn", d_model=d, d_ff=d_ff)
        assert n_params(model) == ffn_params(d, d_ff) == 2 * d * d_ff + d_ff + d


def test_ffn_is_applied_position_by_position():
    check = ffn.positionwise(64, 256, seq_len=6, seed=3)
    assert len(check.rows) == 6 and check.params == ffn_params(64, 256)
    assert max(r.gap for r in check.rows) < 1e-12
    assert check.permutation_gap < 1e-12
    assert all(0 < r.active < 256 for r in check.rows)  # the ReLU switches some units off
    assert check.hidden.shape == (6, 256) and (check.hidden >= 0).all()


# ---------------------------------------------------------------------------------------------------------------
# Inception variants and residual blocks
# ---------------------------------------------------------------------------------------------------------------
def test_inception_v3_blocks_have_torchvision_keys():
    a = InceptionA(192, 32).state_dict()
    assert {k.rsplit(".", 2)[0] for k in a} == {
        "branch1x1", "branch5x5_1", "branch5x5_2", "branch3x3dbl_1", "branch3x3dbl_2", "branch3x3dbl_3", "branch_pool"}
    assert tuple(a["branch5x5_2.conv.weight"].shape) == (64, 48, 5, 5)
    c = InceptionC(768, 128).state_dict()
    assert tuple(c["branch7x7_2.conv.weight"].shape) == (128, 128, 1, 7)
    assert tuple(c["branch7x7dbl_5.conv.weight"].shape) == (192, 128, 1, 7)
    e = InceptionE(1280).state_dict()
    assert tuple(e["branch3x3_2b.conv.weight"].shape) == (384, 384, 3, 1)
    assert len(e) == 9 * 6  # nine BasicConv2d: conv weight + 5 batch-norm entries each
    r = InceptionResNetA().state_dict()
    assert tuple(r["conv2d.weight"].shape) == (320, 128, 1, 1) and "conv2d.bias" in r


def test_inception_block_fields():
    # the block's field is the widest path's: 5×5 for v1/v2/v3-A, 7×1/1×7 twice = 13 for v3-B
    fields = {i: explorer.analyze(i).receptive_field.size for i in
              ("inception-v1", "inception-bn", "inception-v3-a", "inception-v3-b", "inception-v3-c",
               "inception-resnet-a")}
    assert fields == {"inception-v1": 5, "inception-bn": 5, "inception-v3-a": 5, "inception-v3-b": 13,
                      "inception-v3-c": 5, "inception-resnet-a": 5}
    s = explorer.analyze("inception-v3-c")
    assert s.layers[-1].name == "concat" and s.layers[-1].output_shape == (1, 2048, 8, 8)


def test_inception_resnet_adds_the_scaled_residual():
    torch.manual_seed(0)
    block = InceptionResNetA().eval()
    x = torch.randn(1, 320, 9, 9)
    with torch.no_grad():
        branch = block.conv2d(block.concat(block.branch0(x), block.branch1(x), block.branch2(x)))
        assert torch.allclose(block(x), torch.relu(0.17 * branch + x))


@pytest.mark.parametrize(("channels", "size"), [(64, 17), (32, 8)])
def test_factorizations(channels, size):
    rows = {f.original: f for f in inception.factorizations(channels, size)}
    c2 = channels * channels
    assert (rows["5×5"].params_original, rows["5×5"].params_replacement) == (25 * c2, 18 * c2)
    assert (rows["7×7"].params_original, rows["7×7"].params_replacement) == (49 * c2, 14 * c2)
    assert (rows["3×3"].params_original, rows["3×3"].params_replacement) == (9 * c2, 6 * c2)
    for f in rows.values():
        assert f.rf_original == f.rf_replacement  # the same window
        assert f.macs_original == f.params_original * size * size  # padding keeps size×size positions
    assert f"{rows['5×5'].ratio:.0%}" == "72%" and f"{rows['7×7'].ratio:.0%}" == "29%"


@pytest.mark.parametrize("placement", list(RESIDUAL_PLACEMENTS))
def test_residual_placements_run_in_the_stated_order(placement):
    branch, after = RESIDUAL_PLACEMENTS[placement]
    kinds = {"Conv2d": "conv", "BatchNorm2d": "bn", "ReLU": "relu"}
    leaves = [kinds[r.type] for r in explorer.analyze(f"resblock-{placement}").leaves]
    assert leaves == [*branch, *after]


def test_identity_when_the_branch_is_zero():
    gaps = {p: residual_blocks.identity_gap(p) for p in RESIDUAL_PLACEMENTS}
    assert {p for p, g in gaps.items() if g == 0} == {"relu-before-add", "relu-only-preact", "full-preact"}
    assert gaps["original"] > 0.5 and gaps["bn-after-add"] > 0.5
    lows = {p: residual_blocks.branch_minimum(p) for p in RESIDUAL_PLACEMENTS}
    assert lows["relu-before-add"] >= 0 and all(v < 0 for p, v in lows.items() if p != "relu-before-add")


def test_placement_diagram():
    dot = diagram.placement_dot("bn-after-add")
    assert dot.count("[label=\"3×3 conv\"") == 2 and "a0 [label=BN " in dot and "a1 [label=ReLU " in dot
    assert "x -> add" in dot and "-> out" in dot
    assert "a0" not in diagram.placement_dot("full-preact")


# ---------------------------------------------------------------------------------------------------------------
# Blocks and layers
# ---------------------------------------------------------------------------------------------------------------
def test_block_tree_of_resnet18():
    s = explorer.analyze("resnet18")
    tree = {b.name: b for b in blocks.block_tree(s)}
    assert tree[""].layers == len(s.leaves) == 58
    assert (tree["b2.0"].layers, tree["b2.0"].weight_layers) == (6, 2)  # conv, bn, relu, conv, bn, relu
    assert (tree["b3.0"].layers, tree["b3.0"].weight_layers) == (7, 3)  # + the 1×1 convolution
    assert tree["b3"].layers == 13 and tree["b3"].children == 2
    assert tree[""].weight_layers == 21  # 20 convolutions (17 + three 1×1) + the classifier
    assert dict(tree["b2.0"].kinds) == {"BatchNorm2d": 2, "Conv2d": 2, "ReLU": 2}
    assert tree["b5"].params == s.layers[tree["b5"].index].params_total


def test_block_tree_counts_add_up_for_every_model():
    for spec in explorer.list_models():
        s = explorer.analyze(spec.id)
        tree = blocks.block_tree(s)
        for b in tree:
            kids = [k for k in tree if k.parent == b.index]
            direct = sum(1 for r in s.leaves if r.parent == b.index)
            assert b.layers == direct + sum(k.layers for k in kids), (spec.id, b.name)
        assert sum(blocks.category_counts(s).values()) == len(s.leaves)


def test_layer_categories():
    assert [blocks.category(t) for t in ("Conv2d", "ConvTranspose2d", "Linear", "MaxPool2d", "AdaptiveAvgPool2d",
                                         "ReLU", "BatchNorm2d", "LSTM", "Flatten")] == [
        "convolution", "convolution", "fully connected", "pooling", "pooling", "activation", "normalization",
        "recurrent", "other"]
    inception_block = {b.name: b for b in blocks.block_tree(explorer.analyze("googlenet"))}["b3.0"]
    assert (inception_block.layers, inception_block.weight_layers) == (13, 6)


# ---------------------------------------------------------------------------------------------------------------
# Pooling
# ---------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("k", "s", "p"), [(2, 2, 0), (3, 2, 1), (3, 1, 1), (2, 1, 0), (4, 3, 2), (1, 1, 0)])
@pytest.mark.parametrize("mode", ["max", "avg"])
def test_pooling_by_hand_equals_pytorch(mode, k, s, p):
    grid = pooling.sample_grid(7, seed=k + s + p)
    x = torch.from_numpy(grid)[None, None]
    reference = (F.max_pool2d(x, k, s, p) if mode == "max" else F.avg_pool2d(x, k, s, p))[0, 0].numpy()
    out = pooling.pool(grid, mode, k, s, p)
    assert out.shape == reference.shape == (pooling.output_size(7, k, s, p),) * 2
    assert np.allclose(out, reference)


def test_pooling_explanations():
    grid = np.array([[3, 1, 0], [4, 1, 5], [9, 2, 6]], dtype=float)
    assert pooling.explain(grid, "max", 2, 1, 0, 0, 0) == "max(3, 1, 4, 1) = 4"
    assert pooling.explain(grid, "avg", 2, 1, 0, 1, 1) == "(1 + 5 + 2 + 6)/4 = 3.5"
    assert pooling.explain(grid, "max", 3, 2, 1, 0, 0) == "max(−∞, −∞, −∞, −∞, 3, 1, −∞, 4, 1) = 4"
    assert pooling.explain(grid, "avg", 3, 2, 1, 0, 0) == "(0 + 0 + 0 + 0 + 3 + 1 + 0 + 4 + 1)/9 = 1"
    assert pooling.window(1, 2, 3, 2, 1) == (1, 4, 3, 6)
    assert pooling.output_size(28, 2, 2) == 14 and pooling.output_size(5, 3, 2, 1) == 3
    with pytest.raises(ValueError):
        pooling.output_size(5, 2, 2, 2)  # padding above half the window


def test_weight_sharing_counts():
    # LeNet's first convolution without its padding: 1×28×28 → 6×24×24
    count = pooling.conv_vs_dense(1, 28, 6, 5)
    assert count.conv_params == 6 * 25 + 6 == 156
    assert count.dense_params == 784 * 3456 + 3456 == 2_712_960
    assert count.local_params == 3456 * (25 + 1) == 89_856
    assert round(count.saving) == 17_391


# ---------------------------------------------------------------------------------------------------------------
# Resized families
# ---------------------------------------------------------------------------------------------------------------
def test_resized_families_default_to_the_zoo_ids():
    assert feedforward.mlp_summary((256,)).total_params == explorer.get_spec("mlp").params
    assert feedforward.mlp_summary((256, 256)).total_params == (784 + 1) * 256 + (256 + 1) * 256 + (256 + 1) * 10
    assert feedforward.autoencoder_summary(32).total_params == explorer.get_spec("autoencoder").params
    assert feedforward.autoencoder_summary(2).total_params == HAND_COUNTS["autoencoder"] - 30 * (1568 + 1) - 30 * 1568
    generator, discriminator = feedforward.gan_summaries()
    assert generator.total_params == explorer.get_spec("gan-generator").params
    assert discriminator.total_params == explorer.get_spec("gan-discriminator").params
    assert generator.output_shape == (1, 1, 28, 28) and discriminator.output_shape == (1, 1)


# ---------------------------------------------------------------------------------------------------------------
# The notes' words
# ---------------------------------------------------------------------------------------------------------------
def test_every_chinese_point_is_quoted_from_the_notes():
    text = notes.normalize(NOTES.read_text(encoding="utf-8"))
    for key, (_, _, points) in notes.SECTIONS.items():
        for point in points:
            assert notes.normalize(point.zh) in text, (key, point.zh)


def test_every_point_has_both_languages():
    for key, (zh_heading, en_heading, points) in notes.SECTIONS.items():
        assert zh_heading and en_heading and points, key
        for point in points:
            assert point.zh and point.en and bool(point.label_zh) == bool(point.label_en), (key, point)
    with pytest.raises(KeyError, match="known"):
        notes.section("nope")


def test_normalize():
    assert notes.normalize("**块**：`3*3` $h_t$ \\* x") == "块：3*3h_t*x"
    assert list(itertools.islice(notes.SECTIONS, 3)) == ["feedforward", "feedback", "hopfield"]
