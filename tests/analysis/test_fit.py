"""An input the network cannot take still teaches: the layers up to the one that fails, why it fails (the window
arithmetic, or the sizes expected and given), and the smallest input that works."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import explorer
from explorer.analysis import InputShapeError, PartialSummary, Summary
from explorer.analysis.fit import smallest_input


def test_alexnet_too_small_stops_at_pool2_with_its_arithmetic():
    with pytest.raises(InputShapeError) as raised:
        explorer.analyze("alexnet", (3, 16, 16))
    part = explorer.analyze("alexnet", (3, 16, 16), partial=True)
    assert isinstance(part, PartialSummary)
    assert str(part.failure.message) == str(raised.value)  # the same sentence as without partial
    assert (part.failure.name, part.failure.label, part.failure.type) == ("5", "pool2", "MaxPool2d")
    assert part.failure.input_shape == (1, 256, 1, 1)
    assert str(part.failure.reason) == ("MaxPool2d 3×3, stride 2 gets 256×1×1: ⌊(1 + 2·0 − 3)/2⌋ + 1 = 0 < 1 — the 3×3 "
                                   "window no longer fits in 1×1")
    leaves = part.leaves
    assert [r.name for r in leaves] == ["0", "1", "2", "3", "4", "5"]
    assert [r.label for r in leaves] == ["conv1", "relu1", "pool1", "conv2", "relu2", "pool2"]
    assert [r.output_shape for r in leaves] == [(1, 96, 3, 3), (1, 96, 3, 3), (1, 96, 1, 1), (1, 256, 1, 1),
                                                (1, 256, 1, 1), None]
    assert leaves[-1].input_shape == (1, 256, 1, 1)
    assert leaves[0].params == 34_944 and leaves[3].params == 614_656  # the layers that ran are counted as usual
    assert leaves[0].macs == 96 * 3 * 3 * (11 * 11 * 3 + 1)
    assert leaves[2].rf == 19 and leaves[2].stride == 8  # receptive fields up to the failure too


def test_classifier_of_fixed_size_names_features_expected_and_given():
    part = explorer.analyze("alexnet", (3, 100, 100), partial=True)
    assert (part.failure.name, part.failure.label) == ("14", "fc6")
    assert str(part.failure.reason) == ("the classifier's Linear expects 256·6·6 = 9,216 features, this input gives "
                                   "256·2·2 = 1,024")
    assert part.leaves[-2].type == "Flatten" and part.leaves[-2].output_shape == (1, 1024)


@pytest.mark.parametrize(("model_id", "shape", "name", "reason"), [
    ("lenet", (1, 8, 8), "3", "Conv2d 5×5 gets 6×4×4: 4 + 2·0 − 5 + 1 = 0 < 1 — the 5×5 kernel no longer fits in 4×4"),
    ("vgg16", (3, 16, 16), "features.30",
     "MaxPool2d 2×2, stride 2 gets 512×1×1: ⌊(1 + 2·0 − 2)/2⌋ + 1 = 0 < 1 — the 2×2 window no longer fits in 1×1"),
    ("googlenet", (3, 96, 96), "b1.0", "Conv2d expects 1 input channel, this input has 3"),
])
def test_failure_reasons(model_id, shape, name, reason):
    part = explorer.analyze(model_id, shape, partial=True)
    assert part.failure.name == name
    assert str(part.failure.reason) == reason
    assert part.leaves[-1].name == name and part.leaves[-1].output_shape is None
    assert all(r.output_shape is not None for r in part.leaves[:-1])


def test_a_module_failing_in_its_own_code_is_the_failing_call():
    class Head(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(1, 4, 3)

        def forward(self, x):
            return self.conv(x).view(1, 4 * 26 * 26)  # only 28×28 inputs fit

    part = explorer.analyze(Head(), (1, 10, 10), partial=True)
    assert [r.name for r in part.leaves] == ["conv"]
    assert part.failure.name == "" and part.failure.label == "Head"
    assert "shape '[1, 2704]' is invalid for input of size 256" in str(part.failure.reason)


def test_partial_changes_nothing_on_an_input_that_fits():
    whole = explorer.analyze("resnet18-tv")
    again = explorer.analyze("resnet18-tv", partial=True)
    assert isinstance(again, Summary)
    assert again.to_dict() == whole.to_dict()
    assert again.layers == whole.layers


def test_partial_still_raises_on_a_malformed_size():
    with pytest.raises(InputShapeError, match="below 1"):
        explorer.analyze("alexnet", (3, 0, 16), partial=True)


@pytest.mark.parametrize(("model_id", "channels", "smallest"), [
    ("alexnet", 3, (3, 223, 223)),  # a classifier of fixed size (6·6·256 features) behind no adaptive pool
    ("lenet", 1, (1, 28, 28)),
    ("vgg16", 3, (3, 32, 32)),  # five 2×2 pools: 32 → 1; the adaptive pool feeds the classifier any size
    ("resnet50-tv", 3, (3, 1, 1)),  # padding everywhere and an adaptive pool: even one pixel goes through
    ("googlenet", 3, None),  # d2l's GoogLeNet takes one channel: no size works with three
    ("lstm", 1, None),  # not an image
])
def test_smallest_input(model_id, channels, smallest):
    assert smallest_input(model_id, channels) == smallest
    if smallest is not None and smallest[1] > 1:
        explorer.analyze(model_id, smallest)  # it fits …
        c, s, _ = smallest
        with pytest.raises(InputShapeError):  # … and one pixel less does not
            explorer.analyze(model_id, (c, s - 1, s - 1))


def test_smallest_input_defaults_to_the_models_channels():
    assert smallest_input("lenet") == (1, 28, 28)
    assert torch.empty(0).device.type == "cpu"  # bisection on the meta device leaves the default device alone
