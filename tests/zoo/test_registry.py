"""The model zoo: every registered id builds, has exactly its stated size, takes overrides, and fixes the notes' errata.

Parametrized over the whole registry (``explorer.list_models()``), so a family is tested the moment it registers.
"""

from __future__ import annotations

import dataclasses

import pytest
import torch
from torch import nn

import explorer
from explorer.zoo import registry

SPECS = explorer.list_models()
IDS = [s.id for s in SPECS]

# DESIGN.md's public table, written out literally: these numbers are facts the app must reproduce exactly.
DESIGN_TABLE: dict[str, tuple[tuple[int, int, int], int, int]] = {
    # id: ((C, H, W), classes, params)
    "lenet": ((1, 28, 28), 10, 61_706),
    "alexnet": ((3, 224, 224), 1000, 62_378_344),
    "alexnet-d2l": ((1, 224, 224), 10, 46_764_746),
    "alexnet-tv": ((3, 224, 224), 1000, 61_100_840),
    "vgg11-d2l": ((1, 224, 224), 10, 128_806_154),
    "vgg11": ((3, 224, 224), 1000, 132_863_336),
    "vgg13": ((3, 224, 224), 1000, 133_047_848),
    "vgg16": ((3, 224, 224), 1000, 138_357_544),
    "vgg19": ((3, 224, 224), 1000, 143_667_240),
    "nin": ((1, 224, 224), 10, 1_992_166),
    "googlenet": ((1, 96, 96), 10, 5_977_530),
    "googlenet-tv": ((3, 224, 224), 1000, 6_624_904),
    "resnet18": ((1, 96, 96), 10, 11_178_378),
    "resnet18-tv": ((3, 224, 224), 1000, 11_689_512),
    "resnet34-tv": ((3, 224, 224), 1000, 21_797_672),
    "resnet50-tv": ((3, 224, 224), 1000, 25_557_032),
}

# Real (CPU) forward passes only where they are cheap; the rest is checked on the meta device.
CHEAP_PARAMS = 15_000_000
CHEAP_MACS = 1_000_000_000


def n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def meta_build(model_id: str, **overrides) -> nn.Module:
    with torch.device("meta"):
        return explorer.build(model_id, **overrides)


def is_cheap(spec: explorer.ModelSpec) -> bool:
    return spec.params <= CHEAP_PARAMS and explorer.analyze(spec.id).total_macs <= CHEAP_MACS


CHEAP_IDS = [s.id for s in SPECS if is_cheap(s)]


# ---------------------------------------------------------------------------------------------------------------
# The registry against DESIGN.md
# ---------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("model_id", list(DESIGN_TABLE))
def test_design_table_ids_are_registered_with_exact_numbers(model_id):
    try:
        spec = explorer.get_spec(model_id)
    except KeyError:
        if model_id.startswith(("googlenet", "resnet")):
            pytest.skip(f"{model_id} is not registered yet")
        raise
    input_shape, num_classes, params = DESIGN_TABLE[model_id]
    assert spec.id == model_id
    assert spec.input_shape == input_shape
    assert spec.num_classes == num_classes
    assert spec.params == params
    assert n_params(meta_build(model_id)) == params


def test_registry_ids_are_unique_and_include_the_core_ids():
    core = ["lenet", "alexnet", "alexnet-d2l", "alexnet-tv", "vgg11-d2l", "vgg11", "vgg13", "vgg16", "vgg19", "nin"]
    assert set(core) <= set(IDS)
    assert len(IDS) == len(set(IDS))


def test_registry_is_in_the_notes_order():
    # list_models(): registration order, families in the notes' order: LeNet, AlexNet, VGG, NiN, GoogLeNet, ResNet.
    expected = [i for i in DESIGN_TABLE if i in IDS or not i.startswith(("googlenet", "resnet"))]
    assert [i for i in IDS if i in DESIGN_TABLE] == expected


def test_list_models_returns_a_fresh_list():
    models = explorer.list_models()
    models.clear()
    assert [s.id for s in explorer.list_models()] == IDS


@pytest.mark.parametrize("model_id", IDS)
def test_spec_is_well_formed(model_id):
    spec = explorer.get_spec(model_id)
    assert explorer.get_spec(model_id) is spec
    # (C, H, W) for images; (T, features) for the sequence models (rnn, lstm, gru, ffn)
    assert len(spec.input_shape) in (2, 3) and all(isinstance(d, int) and d > 0 for d in spec.input_shape)
    # A classifier has two classes or more, or one output unit when it is binary (the GAN's discriminator); for
    # the other models it counts the output's features per position (an autoencoder's single image channel).
    assert isinstance(spec.num_classes, int) and spec.num_classes >= 1
    assert spec.classifier or spec.output_dims != (spec.num_classes,) or len(spec.output_dims) == 1
    assert isinstance(spec.params, int) and spec.params > 0
    assert spec.family and spec.title and spec.paper and spec.introduced
    assert spec.source in ("d2l", "paper", "torchvision")
    assert 1980 < spec.year < 2030
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.params = 1  # type: ignore[misc]


# ---------------------------------------------------------------------------------------------------------------
# Building: exact size, meta device, no lazy modules
# ---------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("model_id", IDS)
def test_param_count_equals_stated(model_id):
    model = meta_build(model_id)
    assert isinstance(model, nn.Module)
    assert n_params(model) == explorer.get_spec(model_id).params


@pytest.mark.parametrize("model_id", IDS)
def test_builds_on_meta_device_without_allocating(model_id):
    model = meta_build(model_id)
    tensors = list(model.parameters()) + list(model.buffers())
    assert tensors
    off_meta = [t.shape for t in tensors if not t.is_meta]
    assert off_meta == [], f"{model_id} allocates real tensors under torch.device('meta'): {off_meta[:3]}"


@pytest.mark.parametrize("model_id", IDS)
def test_no_lazy_modules(model_id):
    model = meta_build(model_id)
    lazy = [name for name, m in model.named_modules() if isinstance(m, nn.modules.lazy.LazyModuleMixin)]
    assert lazy == []
    assert not any(isinstance(p, nn.parameter.UninitializedParameter) for p in model.parameters())


@pytest.mark.parametrize("model_id", IDS)
def test_meta_forward_gives_class_scores(model_id):
    spec = explorer.get_spec(model_id)
    model = meta_build(model_id).eval()
    with torch.no_grad():
        out = model(torch.empty(1, *spec.input_shape, device="meta"))
    assert tuple(out.shape) == (1, *spec.output_dims)  # (1, num_classes) for a classifier


@pytest.mark.parametrize("model_id", IDS)
def test_overrides_in_channels_and_num_classes(model_id):
    spec = explorer.get_spec(model_id)
    if not spec.classifier:
        pytest.skip(f"{model_id} is not a classifier (its output: {spec.output}): no num_classes to override")
    model = meta_build(model_id, in_channels=2, num_classes=7).eval()
    _, h, w = spec.input_shape
    with torch.no_grad():
        out = model(torch.empty(3, 2, h, w, device="meta"))
    assert tuple(out.shape) == (3, 7)
    assert n_params(model) != spec.params


def test_lenet_overrides_change_exactly_the_first_and_last_layer():
    # num_classes=5: the last Linear(84, 10) = 850 params becomes Linear(84, 5) = 425.
    assert n_params(explorer.build("lenet", num_classes=5)) == 61_706 - 850 + 425
    # in_channels=3: conv1's weight grows from 6·1·5·5 = 150 to 6·3·5·5 = 450.
    assert n_params(explorer.build("lenet", in_channels=3)) == 61_706 + 300


def test_lenet_num_classes_override_real_forward():
    torch.manual_seed(0)
    model = explorer.build("lenet", num_classes=5).eval()
    with torch.no_grad():
        out = model(torch.randn(1, 1, 28, 28))
    assert out.shape == (1, 5)
    assert torch.isfinite(out).all()


def test_build_returns_a_fresh_module_each_time():
    a, b = explorer.build("lenet"), explorer.build("lenet")
    assert a is not b
    assert a[0].weight.data_ptr() != b[0].weight.data_ptr()


@pytest.mark.parametrize("model_id", CHEAP_IDS)
def test_real_forward_on_cheap_models(model_id):
    spec = explorer.get_spec(model_id)
    torch.manual_seed(0)
    model = explorer.build(model_id).eval()
    assert all(not p.is_meta for p in model.parameters())
    with torch.no_grad():
        out = model(torch.randn(1, *spec.input_shape))
    assert out.shape == (1, *spec.output_dims)
    assert out.dtype == torch.float32
    assert torch.isfinite(out).all()


def test_cheap_set_contains_the_small_d2l_models():
    for model_id in ("lenet", "nin"):
        assert model_id in CHEAP_IDS
    assert "vgg16" not in CHEAP_IDS and "alexnet" not in CHEAP_IDS


# ---------------------------------------------------------------------------------------------------------------
# Registry errors
# ---------------------------------------------------------------------------------------------------------------
def _throwaway_spec(model_id: str) -> explorer.ModelSpec:
    return explorer.ModelSpec(
        id=model_id, family="Test", title="throwaway", year=2000, paper="none", input_shape=(1, 8, 8),
        num_classes=2, builder=lambda **kw: nn.Linear(1, 2), params=4, introduced="nothing",
    )


def test_duplicate_registration_raises_value_error():
    model_id = "__throwaway-duplicate__"
    assert model_id not in registry._REGISTRY
    try:
        registry.register_model(_throwaway_spec(model_id))
        with pytest.raises(ValueError, match="twice"):
            registry.register_model(_throwaway_spec(model_id))
    finally:
        registry._REGISTRY.pop(model_id, None)
    assert model_id not in [s.id for s in explorer.list_models()]


def test_duplicate_of_a_real_id_raises_and_keeps_the_original():
    original = explorer.get_spec("alexnet")
    with pytest.raises(ValueError):
        registry.register_model(dataclasses.replace(original, title="impostor"))
    assert explorer.get_spec("alexnet") is original


@pytest.mark.parametrize(
    ("wrong", "close"),
    [("alexnt", "alexnet"), ("vgg-16", "vgg16"), ("lenet5", "lenet"), ("Alexnet-TV", "alexnet-tv")],
)
def test_unknown_id_names_close_matches(wrong, close):
    with pytest.raises(KeyError) as info:
        explorer.get_spec(wrong)
    message = str(info.value.args[0])
    assert repr(wrong) in message
    assert close in message
    with pytest.raises(KeyError, match=close):
        explorer.build(wrong)


def test_unknown_id_without_close_match_lists_known_ids():
    with pytest.raises(KeyError) as info:
        explorer.get_spec("zzzzzzzz")
    message = str(info.value.args[0])
    assert "known ids" in message and "lenet" in message and "vgg19" in message


@pytest.mark.parametrize("bad", [None, 3, ["alexnet"]])
def test_non_string_id_raises_key_error(bad):
    with pytest.raises(KeyError):
        explorer.get_spec(bad)


# ---------------------------------------------------------------------------------------------------------------
# The notes' errata, fixed
# ---------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("model_id", ["nin", "alexnet", "alexnet-d2l"])
def test_errata_are_recorded(model_id):
    errata = explorer.get_spec(model_id).errata
    assert len(errata) >= 1
    for e in errata:
        assert isinstance(e, explorer.Erratum)
        assert e.title and e.notes_code and e.fixed_code and e.why
        assert e.notes_code != e.fixed_code


def test_nin_one_by_one_convs_really_are_1x1():
    model = meta_build("nin")
    blocks = [m for m in model.modules() if isinstance(m, nn.Sequential) and m is not model]
    assert len(blocks) == 4  # three NiN blocks + the class block
    for block in blocks:
        convs = [m for m in block if isinstance(m, nn.Conv2d)]
        assert len(convs) == 3
        first, *mlp = convs
        assert first.kernel_size in ((11, 11), (5, 5), (3, 3))
        for conv in mlp:
            assert conv.kernel_size == (1, 1)
            assert conv.stride == (1, 1) and conv.padding == (0, 0)
    assert "kernel_size=1" in explorer.get_spec("nin").errata[0].fixed_code


def test_nin_first_block_keeps_its_size():
    # With the notes' bug the block's 1×1 convs would be 11×11 and shrink 54 → 44 → 34.
    layers = {r.name: r for r in explorer.analyze("nin").layers}
    assert layers["0.0"].output_shape == (1, 96, 54, 54)
    assert layers["0.2"].output_shape == (1, 96, 54, 54)
    assert layers["0.4"].output_shape == (1, 96, 54, 54)
    assert layers["0"].output_shape == (1, 96, 54, 54)


def _conv_pool_shapes(model_id: str) -> list[tuple[str, int, int]]:
    return [
        (r.type, r.output_shape[1], r.output_shape[-1])
        for r in explorer.analyze(model_id).layers
        if r.type in ("Conv2d", "MaxPool2d")
    ]


def test_alexnet_follows_the_notes_table():
    # conv1 55 → pool 27 → conv2 27 → pool 13 → conv3/4/5 13 → pool 6 (the table's 55→27→13→13→13→6).
    assert _conv_pool_shapes("alexnet") == [
        ("Conv2d", 96, 55), ("MaxPool2d", 96, 27),
        ("Conv2d", 256, 27), ("MaxPool2d", 256, 13),
        ("Conv2d", 384, 13), ("Conv2d", 384, 13), ("Conv2d", 256, 13), ("MaxPool2d", 256, 6),
    ]
    flatten = [r for r in explorer.analyze("alexnet").layers if r.type == "Flatten"]
    assert [r.output_shape for r in flatten] == [(1, 9216)]  # 256·6·6


def test_alexnet_d2l_follows_the_notes_code():
    assert _conv_pool_shapes("alexnet-d2l") == [
        ("Conv2d", 96, 54), ("MaxPool2d", 96, 26),
        ("Conv2d", 256, 26), ("MaxPool2d", 256, 12),
        ("Conv2d", 384, 12), ("Conv2d", 384, 12), ("Conv2d", 256, 12), ("MaxPool2d", 256, 5),
    ]
    flatten = [r for r in explorer.analyze("alexnet-d2l").layers if r.type == "Flatten"]
    assert [r.output_shape for r in flatten] == [(1, 6400)]  # 256·5·5


def test_alexnet_d2l_first_conv_is_one_channel_pad_one():
    conv1 = meta_build("alexnet-d2l")[0]
    assert isinstance(conv1, nn.Conv2d)
    assert (conv1.in_channels, conv1.out_channels) == (1, 96)
    assert conv1.kernel_size == (11, 11) and conv1.stride == (4, 4) and conv1.padding == (1, 1)
    conv1 = meta_build("alexnet")[0]
    assert (conv1.in_channels, conv1.padding) == (3, (2, 2))
