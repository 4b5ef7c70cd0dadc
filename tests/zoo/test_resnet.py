"""ResNet: torchvision's state_dict layouts for the ``-tv`` ids, and the notes' ``Residual`` erratum fixed in
``resnet18`` (d2l)."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.nn import functional as F

import explorer
from explorer.zoo import resnet
from tests.zoo.conftest import (
    bn_keys,
    meta_build,
    meta_state_dict,
    n_params,
    strict_load_of_a_checkpoint_shaped_state_dict,
)

TV_IDS = ("resnet18-tv", "resnet34-tv", "resnet50-tv")


@pytest.mark.parametrize("model_id", ["resnet18", *TV_IDS])
def test_spec_metadata(model_id: str) -> None:
    spec = explorer.get_spec(model_id)
    source = "torchvision" if model_id in TV_IDS else "d2l"
    assert (spec.family, spec.year, spec.source) == ("ResNet", 2015, source)


# ---------------------------------------------------------------------------------------------------------------
# torchvision compatibility (the -tv ids)
# ---------------------------------------------------------------------------------------------------------------
def tv_resnet_keys(bottleneck: bool, layers: tuple[int, ...]) -> list[str]:
    convs, expansion = (3, 4) if bottleneck else (2, 1)
    keys = ["conv1.weight", *bn_keys("bn1")]
    inplanes = 64
    for i, (blocks, planes) in enumerate(zip(layers, (64, 128, 256, 512), strict=True), start=1):
        for b in range(blocks):
            p = f"layer{i}.{b}"
            for c in range(1, convs + 1):
                keys += [f"{p}.conv{c}.weight", *bn_keys(f"{p}.bn{c}")]
            if b == 0 and (i > 1 or inplanes != planes * expansion):
                keys += [f"{p}.downsample.0.weight", *bn_keys(f"{p}.downsample.1")]
        inplanes = planes * expansion
    return [*keys, "fc.weight", "fc.bias"]


TV_KEYS = {
    "resnet18-tv": tv_resnet_keys(False, (2, 2, 2, 2)),
    "resnet34-tv": tv_resnet_keys(False, (3, 4, 6, 3)),
    "resnet50-tv": tv_resnet_keys(True, (3, 4, 6, 3)),
}

# Counted by hand from torchvision's layout (6 keys per conv+bn, 2 for fc):
#   resnet18-tv:  stem 6 + 8 blocks × 12 + 3 downsample × 6 + 2 = 122
#   resnet34-tv:  stem 6 + 16 blocks × 12 + 3 downsample × 6 + 2 = 218
#   resnet50-tv:  stem 6 + 16 blocks × 18 + 4 downsample × 6 + 2 = 320 (161 parameters + 159 BN buffers)
TV_KEY_COUNTS = {"resnet18-tv": 122, "resnet34-tv": 218, "resnet50-tv": 320}

TV_SHAPES = {
    "resnet18-tv": {
        "conv1.weight": (64, 3, 7, 7),
        "layer1.0.conv1.weight": (64, 64, 3, 3),
        "layer2.0.downsample.0.weight": (128, 64, 1, 1),
        "layer4.1.bn2.running_var": (512,),
        "fc.weight": (1000, 512),
    },
    "resnet34-tv": {
        "layer3.5.conv2.weight": (256, 256, 3, 3),
        "layer4.0.downsample.0.weight": (512, 256, 1, 1),
        "fc.weight": (1000, 512),
    },
    "resnet50-tv": {
        "layer1.0.downsample.0.weight": (256, 64, 1, 1),
        "layer1.0.conv1.weight": (64, 64, 1, 1),
        "layer2.0.conv2.weight": (128, 128, 3, 3),
        "layer4.2.conv3.weight": (2048, 512, 1, 1),
        "layer4.0.downsample.1.weight": (2048,),
        "fc.weight": (1000, 2048),
    },
}


@pytest.mark.parametrize("model_id", TV_IDS)
def test_tv_state_dict_keys(model_id: str) -> None:
    state = meta_state_dict(model_id)
    expected = TV_KEYS[model_id]
    assert len(expected) == TV_KEY_COUNTS[model_id]
    assert len(set(expected)) == len(expected)
    assert list(state) == expected


@pytest.mark.parametrize("model_id", TV_IDS)
def test_tv_key_shapes(model_id: str) -> None:
    state = meta_state_dict(model_id)
    for key, shape in TV_SHAPES[model_id].items():
        assert tuple(state[key].shape) == shape, key


@pytest.mark.parametrize("model_id", TV_IDS)
def test_tv_strict_load_of_a_checkpoint_shaped_state_dict(model_id: str) -> None:
    """A state dict with torchvision's keys loads strictly into a fresh model."""
    strict_load_of_a_checkpoint_shaped_state_dict(model_id, TV_KEYS[model_id])


def test_resnet50_bottleneck_strides_on_3x3() -> None:
    block = meta_build("resnet50-tv").layer2[0]
    assert block.conv1.stride == (1, 1)
    assert block.conv2.stride == (2, 2)
    assert block.downsample[0].stride == (2, 2)


# ---------------------------------------------------------------------------------------------------------------
# The notes' ResNet-18 (d2l): the Residual erratum recorded and really fixed
# ---------------------------------------------------------------------------------------------------------------
class NotesResidual(nn.Module):
    """The notes' Residual, verbatim but for formatting: the bug the zoo fixes."""

    def __init__(self, input_channels: int, num_channels: int, use_1x1conv: bool = False, strides: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(input_channels, num_channels, kernel_size=3, padding=1, stride=strides)
        self.conv2 = nn.Conv2d(num_channels, num_channels, kernel_size=3, padding=1)
        if use_1x1conv:
            self.conv3 = nn.Conv2d(input_channels, num_channels, kernel_size=1, stride=strides)
        else:
            self.conv = None
        self.bn1 = nn.BatchNorm2d(num_channels)
        self.bn2 = nn.BatchNorm2d(num_channels)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        Y = F.relu(self.bn1(self.conv1(X)))
        Y = self.bn2(self.conv2(Y))
        if self.conv3:
            X = self.conv3(X)
        Y += X
        return F.relu(Y)


def test_resnet_erratum_recorded_and_fixed() -> None:
    spec = explorer.get_spec("resnet18")
    assert len(spec.errata) == 1
    erratum = spec.errata[0]
    assert "self.conv = None" in erratum.notes_code
    assert "self.conv3 = None" in erratum.fixed_code
    assert "AttributeError" in erratum.why

    X = torch.rand(4, 3, 6, 6)
    with pytest.raises(AttributeError, match="conv3"):
        NotesResidual(3, 3)(X)

    blk = resnet.Residual(3, 3)
    assert blk.conv3 is None
    assert blk(X).shape == (4, 3, 6, 6)
    blk = resnet.Residual(3, 6, use_1x1conv=True, strides=2)
    assert blk(X).shape == (4, 6, 3, 3)
    # Same parameters as the notes' block: the fix only names the attribute.
    assert n_params(resnet.Residual(3, 6, True, 2)) == n_params(NotesResidual(3, 6, True, 2))
    assert n_params(resnet.Residual(3, 3)) == n_params(NotesResidual(3, 3))


def test_resnet18_d2l_structure() -> None:
    model = explorer.build("resnet18")
    assert list(dict(model.named_children())) == ["b1", "b2", "b3", "b4", "b5", "avgpool", "flatten", "fc"]
    assert all(blk.conv3 is None for blk in model.b2)
    for stage in (model.b3, model.b4, model.b5):
        assert stage[0].conv3 is not None and stage[0].conv1.stride == (2, 2)
        assert stage[1].conv3 is None
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d) and m.kernel_size != (1, 1)]
    assert len(convs) == 17  # + fc = the 18 weight layers of ResNet-18
