"""Display labels: the papers' names for the notes' nets (Caffe's conv1 … fc8, VGG's conv3_2, GoogLeNet's inception4c,
ResNet's res3a), every module call labelled, paths untouched."""

from __future__ import annotations

import pytest
from torch import nn

import explorer
from explorer.analysis.labels import display_labels, label_of, with_path


def labels(model_id: str) -> dict[str, str]:
    return display_labels(explorer.analyze(model_id).layers, model_id)


def weight_labels(model_id: str) -> list[str]:
    """The labels of the convolutions and linear layers, in execution order."""
    shown = labels(model_id)
    return [shown[r.name] for r in explorer.analyze(model_id).leaves if r.type in ("Conv2d", "Linear")]


def test_alexnet_is_numbered_as_in_caffe():
    assert weight_labels("alexnet") == ["conv1", "conv2", "conv3", "conv4", "conv5", "fc6", "fc7", "fc8"]
    shown = labels("alexnet")
    assert [shown[p] for p in ("1", "2", "5", "12", "13", "16")] == ["relu1", "pool1", "pool2", "pool5", "flatten",
                                                                     "drop6"]
    assert weight_labels("alexnet-tv") == weight_labels("alexnet")  # torchvision's features/classifier: the same
    assert labels("alexnet-tv")["features.12"] == "pool5"


@pytest.mark.parametrize("model_id", ["vgg16", "vgg11-d2l"])
def test_vgg_is_numbered_by_stage(model_id):
    names = weight_labels(model_id)
    assert names[0] == "conv1_1" and names[-3:] == ["fc6", "fc7", "fc8"]
    assert ("conv3_3" in names) == (model_id == "vgg16")  # VGG-16 has three convolutions in stage 3
    pools = [v for v in labels(model_id).values() if v.startswith("pool")]
    assert pools == ["pool1", "pool2", "pool3", "pool4", "pool5"]


def test_d2l_blocks_are_named_after_their_function():
    assert labels("vgg11-d2l")["0"] == "vgg_block1"
    nin = labels("nin")
    assert [nin[p] for p in ("0", "2", "4", "7")] == ["nin_block1", "nin_block2", "nin_block3", "nin_block4"]
    assert (nin["0.0"], nin["0.2"], nin["8"]) == ("conv1_1", "conv1_2", "avgpool")  # 11×11, then 1×1; the GAP


def test_googlenet_and_resnet_blocks():
    g = labels("googlenet")
    assert (g["b3.0"], g["b3.1"], g["b4.2"], g["b5.1"]) == ("inception3a", "inception3b", "inception4c",
                                                            "inception5b")
    assert g["b3.0.p2_2"] == "inception3a/p2_2"
    r = labels("resnet18")
    assert (r["b2.0"], r["b3.1"], r["b3.0.conv3"]) == ("res2a", "res3b", "res3a/conv3")
    tv = labels("resnet50-tv")
    assert (tv["layer1"], tv["layer1.0"], tv["layer4.2"]) == ("conv2_x", "res2a", "res5c")  # layer1 is stage 2
    assert (tv["conv1"], tv["fc"]) == ("conv1", "fc")  # named by their authors: kept


@pytest.mark.parametrize("model_id", [s.id for s in explorer.list_models()])
def test_every_call_is_labelled_and_paths_are_untouched(model_id):
    summary = explorer.analyze(model_id)
    shown = display_labels(summary.layers, model_id)
    assert set(shown) == {r.name for r in summary.layers if r.name}
    assert all(isinstance(v, str) and v for v in shown.values())
    assert [r.name for r in explorer.analyze(model_id).layers] == [r.name for r in summary.layers]


def test_a_users_sequential_and_the_helpers():
    net = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(4 * 3 * 3, 10))
    summary = explorer.analyze(net, (1, 8, 8))
    shown = display_labels(summary.layers)
    assert [shown[str(i)] for i in range(5)] == ["conv1", "relu1", "pool1", "flatten", "fc2"]
    assert label_of(shown, "0#2") == "conv1" and label_of(shown, "nope") == "nope"
    assert with_path(shown, "4") == "fc2 (4)" and with_path({"a": "a"}, "a") == "a"
