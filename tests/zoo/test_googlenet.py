"""GoogLeNet: torchvision's state_dict layout for ``googlenet-tv``, the Inception stage table, and the notes' errata
fixed in ``googlenet`` (d2l)."""

from __future__ import annotations

import itertools

import pytest
import torch
from torch import nn

import explorer
from explorer.zoo import googlenet
from tests.zoo.conftest import (
    bn_keys,
    meta_build,
    meta_state_dict,
    n_params,
    strict_load_of_a_checkpoint_shaped_state_dict,
)


@pytest.mark.parametrize(("model_id", "source"), [("googlenet", "d2l"), ("googlenet-tv", "torchvision")])
def test_spec_metadata(model_id: str, source: str) -> None:
    spec = explorer.get_spec(model_id)
    assert (spec.family, spec.year, spec.source) == ("GoogLeNet", 2014, source)


# ---------------------------------------------------------------------------------------------------------------
# torchvision compatibility (googlenet-tv)
# ---------------------------------------------------------------------------------------------------------------
def basic_conv2d(prefix: str) -> list[str]:
    """torchvision GoogLeNet's BasicConv2d: conv (no bias) + bn."""
    return [f"{prefix}.conv.weight", *bn_keys(f"{prefix}.bn")]


def tv_googlenet_keys() -> list[str]:
    keys = basic_conv2d("conv1") + basic_conv2d("conv2") + basic_conv2d("conv3")
    for name in ("3a", "3b", "4a", "4b", "4c", "4d", "4e", "5a", "5b"):
        p = f"inception{name}"
        for sub in ("branch1", "branch2.0", "branch2.1", "branch3.0", "branch3.1", "branch4.1"):
            keys += basic_conv2d(f"{p}.{sub}")
    return [*keys, "fc.weight", "fc.bias"]


TV_KEYS = tv_googlenet_keys()
# Counted by hand from torchvision's layout (6 keys per conv+bn, 2 for fc):
# (3 stem + 9 Inception × 6) BasicConv2d × 6 + 2 = 57 × 6 + 2 = 344 (no aux1/aux2)
TV_KEY_COUNT = 344
TV_SHAPES = {
    "conv1.conv.weight": (64, 3, 7, 7),
    "conv3.conv.weight": (192, 64, 3, 3),
    "inception3a.branch3.1.conv.weight": (32, 16, 3, 3),  # torchvision's 3×3 where the paper has 5×5
    "inception3a.branch4.1.conv.weight": (32, 192, 1, 1),
    "inception4e.branch2.1.bn.running_mean": (320,),
    "inception5b.branch1.conv.weight": (384, 832, 1, 1),
    "conv1.bn.num_batches_tracked": (),
    "fc.weight": (1000, 1024),
    "fc.bias": (1000,),
}


def test_tv_state_dict_keys() -> None:
    state = meta_state_dict("googlenet-tv")
    assert len(TV_KEYS) == TV_KEY_COUNT
    assert len(set(TV_KEYS)) == len(TV_KEYS)
    assert list(state) == TV_KEYS
    assert not any(k.startswith(("aux1.", "aux2.")) for k in state)


def test_tv_key_shapes() -> None:
    state = meta_state_dict("googlenet-tv")
    for key, shape in TV_SHAPES.items():
        assert tuple(state[key].shape) == shape, key


def test_tv_strict_load_of_a_checkpoint_shaped_state_dict() -> None:
    """A state dict with torchvision's keys loads strictly into a fresh model (built without its slow init)."""
    strict_load_of_a_checkpoint_shaped_state_dict("googlenet-tv", TV_KEYS, init_weights=False)


def test_googlenet_tv_layout() -> None:
    model = meta_build("googlenet-tv")
    assert not hasattr(model, "aux1") and not hasattr(model, "aux2")
    pools = [model.maxpool1, model.maxpool2, model.maxpool3, model.maxpool4]
    assert all(p.ceil_mode for p in pools)
    assert model.maxpool4.kernel_size == 2
    pool = model.inception3a.branch4[0]
    assert (pool.kernel_size, pool.stride, pool.padding, pool.ceil_mode) == (3, 1, 1, True)
    assert model.inception3a.branch3[1].conv.kernel_size == (3, 3)
    assert model.conv1.bn.eps == 0.001
    assert model.conv1.conv.bias is None
    assert model.dropout.p == 0.2
    model.train()
    out = model(torch.empty(2, 3, 224, 224, device="meta"))
    assert isinstance(out, torch.Tensor) and out.shape == (2, 1000)  # no aux outputs in training mode either


@pytest.mark.slow
def test_googlenet_tv_transform_input() -> None:
    """transform_input turns ImageNet-normalized input into (p - 0.5) / 0.5, as torchvision does."""
    torch.manual_seed(0)
    plain = googlenet.googlenet_tv(num_classes=5).eval()
    transformed = googlenet.googlenet_tv(num_classes=5, transform_input=True).eval()
    transformed.load_state_dict(plain.state_dict())
    pixels = torch.rand(1, 3, 64, 64)
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    with torch.no_grad():
        expected = plain((pixels - 0.5) / 0.5)
        got = transformed((pixels - mean) / std)
    torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="in_channels=3"):
        googlenet.googlenet_tv(in_channels=1, transform_input=True)


# ---------------------------------------------------------------------------------------------------------------
# The notes' GoogLeNet (d2l): its stage table, its errata recorded and really fixed
# ---------------------------------------------------------------------------------------------------------------
def test_inception_has_a_relu_module_per_conv() -> None:
    """ReLUs are modules, so forward hooks (the layer table) see every step of an Inception block."""
    inception = googlenet.Inception(*googlenet.INCEPTION_CFGS["3a"])
    assert sum(isinstance(m, nn.ReLU) for m in inception.modules()) == 6


def test_googlenet_errata_recorded_and_fixed() -> None:
    spec = explorer.get_spec("googlenet")
    assert len(spec.errata) == 2
    first, second = spec.errata
    assert "(18,32)" in first.notes_code.replace(" ", "") and "(16,32)" in first.fixed_code.replace(" ", "")
    assert "ReLU" in second.title
    for erratum in spec.errata:
        assert erratum.title and erratum.notes_code and erratum.fixed_code and erratum.why

    model = spec.build()
    inception3a = model.b3[0]
    assert isinstance(inception3a, googlenet.Inception)
    assert inception3a.p3_1.out_channels == 16
    assert tuple(inception3a.p3_2.weight.shape) == (32, 16, 5, 5)
    assert [type(m) for m in model.b2] == [nn.Conv2d, nn.ReLU, nn.Conv2d, nn.ReLU, nn.MaxPool2d]
    # With the notes' 18 the count would be 1,986 higher.
    notes_block = googlenet.Inception(192, 64, (96, 128), (18, 32), 32)
    assert n_params(model) - n_params(inception3a) + n_params(notes_block) == 5_979_516


def test_googlenet_inception_table_chains() -> None:
    cfgs = googlenet.INCEPTION_CFGS
    names = [name for stage in googlenet.STAGES.values() for name in stage]
    assert names == list(cfgs)
    for prev, nxt in itertools.pairwise(names):
        assert googlenet.inception_out_channels(cfgs[prev]) == cfgs[nxt][0], (prev, nxt)
    assert googlenet.inception_out_channels(cfgs["5b"]) == 1024
