"""The notes' claims checked with computed numbers, the comparison's accuracy data and ratios, and the smaller lesson
helpers (step ranges, Hopfield diagnosis, the notes' two residual blocks, blocks in network order)."""

from __future__ import annotations

import numpy as np
import pytest
from torch import nn

import explorer
from explorer.lessons import blocks, claims, compare, hopfield, recurrent, residual_blocks


# --- claims ------------------------------------------------------------------------------------------------------
def test_inception_v3_pair_replaces_a_seven_by_seven():
    c = claims.check("inception-v3-7x7")
    assert c.rows[0]["replacement"] == "1×7 → 7×1" and c.rows[0]["receptive field (px)"] == "7"
    assert c.rows[0]["params (192 → 192, 17×17)"] == "516,096 vs 1,806,336"  # 2·192·192·7 vs 192·192·49
    assert c.rows[1]["receptive field (px)"] == "5" and c.rows[1]["replaces"] == "5×5"


def test_inception_v4_and_inception_resnet_told_apart():
    c = claims.check("inception-v4")
    assert [r["residual connections"] for r in c.rows] == ["no", "yes"]
    assert "1 addition" in c.rows[1]["what it is"]


def test_inception_block_3a_is_cheaper_than_one_wide_convolution():
    rows = claims.check("inception-cheaper").rows
    assert [r["parameters"] for r in rows] == ["163,696", f"{(192 * 9 + 1) * 256:,}", f"{(192 * 25 + 1) * 256:,}"]
    assert [r["MACs"] for r in rows][1:] == [f"{(192 * 9 + 1) * 256 * 28 * 28:,}", f"{(192 * 25 + 1) * 256 * 784:,}"]
    assert rows[0]["MACs"] == f"{explorer.analyze('inception-v1').total_macs:,}"


def test_deeper_resnets_do_cost_more():
    rows = claims.check("resnet-complexity").rows
    assert [r["parameters"] for r in rows] == ["11,689,512", "21,797,672", "25,557,032"]
    assert [r["weight layers (longest path)"] for r in rows] == [18, 34, 50]
    macs = [int(r["MACs per image"].replace(",", "")) for r in rows]
    assert macs == sorted(macs) and macs[0] == explorer.analyze("resnet18-tv").total_macs


def test_softmax_attention_is_not_linear():
    additivity, scaling, size = claims.attention_linearity()
    assert additivity > 0.1 * size and scaling > 0.1 * size  # a linear map would give 0 for both


def test_the_notes_nin_fails_at_224_in_the_third_block():
    c = claims.check("nin-224")
    assert "cannot take input 1×224×224: layer 4.4" in c.verdict
    assert "Kernel size can't be greater than actual input size" in c.verdict
    assert c.rows[1]["parameters"] == "1,992,166"


def test_every_claim_key_of_the_notes_exists_and_unknown_ones_are_named():
    from explorer.lessons import notes

    keys = [p.claim for _, _, points in notes.SECTIONS.values() for p in points if p.claim]
    assert set(keys) == set(claims.CHECKS) - {"nin-224"} and len(keys) == 7  # NiN: on the Blocks page
    with pytest.raises(KeyError, match="unknown claim 'nope'; known: inception-v3-7x7"):
        claims.check("nope")


# --- compare ---------------------------------------------------------------------------------------------------------
def test_accuracy_per_dataset_never_mixed():
    groups = compare.accuracy_by_dataset(["lenet", "resnet50-tv", "alexnet", "vgg-fmnist", "vgg16"])
    assert [a.model for a in groups[compare.FASHION_MNIST]] == ["lenet", "vgg-fmnist"]
    assert [a.model for a in groups[compare.IMAGENET]] == ["resnet50-tv", "vgg16"]
    assert groups[compare.IMAGENET][0].accuracy == pytest.approx(0.7613)
    assert groups[compare.FASHION_MNIST][0].accuracy == explorer.get_spec("lenet").trained.accuracy
    assert compare.accuracy("alexnet") is None  # the paper's AlexNet: no weights of ours or torchvision's


def test_every_imagenet_accuracy_belongs_to_a_torchvision_checkpoint():
    from explorer.zoo.weights import CHECKPOINTS

    assert set(compare.IMAGENET_ACCURACY) == set(CHECKPOINTS)


def test_measure_at_a_common_size_names_who_cannot():
    lenet = compare.measure("lenet", 96)
    assert lenet.summary is None and str(lenet.error).startswith("lenet cannot take input 1×96×96")
    vgg = compare.measure("vgg16", 96)
    assert vgg.input_shape == (3, 96, 96) and (vgg.longest_path, vgg.total_weight_layers) == (16, 16)
    assert str(compare.measure("lstm", 96).error) == "not an image model (input 28×28)"
    assert compare.ratios({"a": 2.0, "b": 6.0}, "a") == {"a": 1.0, "b": 3.0}


# --- smaller lessons ---------------------------------------------------------------------------------------------
def test_step_ranges_fold_identical_steps():
    records = recurrent.step_shapes("lstm", 28, 64, 28)
    [only] = recurrent.step_ranges(records)
    assert (only.first, only.last, only.label, only.shapes.gates) == (1, 28, "1–28", (1, 256))
    assert [g.label for g in recurrent.step_ranges(recurrent.step_shapes("gru", 5, 7, 1))] == ["1"]


def test_hopfield_diagnosis_names_the_negative():
    rng = np.random.default_rng(0)
    patterns = np.where(rng.random((3, 100)) > 0.5, 1, -1).astype(np.int8)
    assert hopfield.diagnose(patterns[1], patterns) == hopfield.Diagnosis("exact", 1, 1.0)
    assert hopfield.diagnose(-patterns[2], patterns) == hopfield.Diagnosis("inverted", 2, -1.0)
    mixed = np.sign(patterns[0] + patterns[1] + patterns[2]).astype(np.int8)
    verdict = hopfield.diagnose(mixed, patterns)
    assert verdict.kind == "other" and 0 < verdict.overlap < 1


def test_the_notes_two_residual_blocks_counted_alike():
    first, second = residual_blocks.notes_implementations()
    assert (first.params, first.params_without_conv_bias) == (74_112, 73_984)
    assert (second.params, second.params_without_conv_bias) == (230_272, 229_888)
    assert second.params == explorer.get_spec("resblock-1x1conv").params
    assert first.params_without_conv_bias == explorer.get_spec("resblock-original").params


def test_layers_inside_a_block_in_network_order():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.block = nn.Sequential(nn.ReLU(), nn.Conv2d(1, 1, 1), nn.BatchNorm2d(1), nn.Conv2d(1, 1, 1))

        def forward(self, x):
            return self.block(x)

    tree = blocks.block_tree(explorer.analyze(Net(), (1, 4, 4)))
    assert tree[1].kinds == (("ReLU", 1), ("Conv2d", 2), ("BatchNorm2d", 1))
    assert tree[1].weight_layers == 2
