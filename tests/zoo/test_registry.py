"""The model registry as a whole: every registered id builds, has exactly its stated size, takes overrides, runs on
the meta device; the public contract's ids are all there with their exact numbers; bad ids are refused helpfully.

Parametrized over the whole registry (``explorer.list_models()``), so a model is tested the moment it registers.
What only one family has (torchvision state_dict layouts, the notes' errata) is tested in that family's file.
"""

from __future__ import annotations

import dataclasses

import pytest
import torch
from torch import nn

import explorer
from explorer.zoo import registry
from tests.contract import MODELS as CONTRACT
from tests.zoo.conftest import meta_build, n_params

SPECS = explorer.list_models()
IDS = [s.id for s in SPECS]
CLASSIFIER_IDS = [s.id for s in SPECS if s.classifier]

# Real (CPU) forward passes only where they are cheap; the rest is checked on the meta device.
CHEAP_PARAMS = 15_000_000
CHEAP_MACS = 1_000_000_000


def is_cheap(spec: explorer.ModelSpec) -> bool:
    return spec.params <= CHEAP_PARAMS and explorer.analyze(spec.id).total_macs <= CHEAP_MACS


CHEAP_IDS = [s.id for s in SPECS if is_cheap(s)]


# ---------------------------------------------------------------------------------------------------------------
# The public contract: every id of the README's Models table, with its exact numbers
# ---------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("model_id", list(CONTRACT))
def test_contract_ids_are_registered_with_exact_numbers(model_id):
    # A contract id must never disappear: fail, naming it (never skip).
    assert model_id in IDS, f"contract id {model_id!r} is not registered (explorer.list_models() lacks it)"
    spec = explorer.get_spec(model_id)
    expected = CONTRACT[model_id]
    assert spec.id == model_id
    assert spec.input_shape == expected.input_shape
    assert spec.num_classes == expected.num_classes
    assert spec.params == expected.params
    assert n_params(meta_build(model_id)) == expected.params


def test_registry_ids_are_unique_and_include_every_contract_id():
    missing = [i for i in CONTRACT if i not in IDS]
    assert missing == [], f"contract ids not registered: {missing}"
    assert len(IDS) == len(set(IDS))


def test_registry_is_in_the_notes_order():
    # list_models(): registration order, families in the notes' order: LeNet, AlexNet, VGG, NiN, GoogLeNet, ResNet.
    assert [i for i in IDS if i in CONTRACT] == list(CONTRACT)


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
    assert spec.family and spec.title and spec.paper and spec.introduced and spec.notes
    assert spec.source in ("d2l", "paper", "torchvision")
    assert 1980 < spec.year < 2030
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.params = 1  # type: ignore[misc]


@pytest.mark.parametrize("model_id", IDS)
def test_errata_are_well_formed(model_id):
    for e in explorer.get_spec(model_id).errata:
        assert isinstance(e, explorer.Erratum)
        assert e.title and e.notes_code and e.fixed_code and e.why
        assert e.notes_code != e.fixed_code


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
def test_every_leaf_module_is_called_in_forward(model_id):
    """Activations are modules, so forward hooks (the layer table) see every step of every net."""
    model = meta_build(model_id)
    called: set[str] = set()
    for name, m in model.named_modules():
        if not list(m.children()):
            m.register_forward_hook(lambda *_, name=name: called.add(name))
    model(torch.empty(1, *explorer.get_spec(model_id).input_shape, device="meta"))
    leaves = {name for name, m in model.named_modules() if not list(m.children())}
    assert called == leaves, f"{model_id}: never called: {sorted(leaves - called)[:5]}"


# Only classifiers have a num_classes to override (the others' outputs are images, sequences or energies).
@pytest.mark.parametrize("model_id", CLASSIFIER_IDS)
def test_overrides_in_channels_and_num_classes(model_id):
    spec = explorer.get_spec(model_id)
    model = meta_build(model_id, in_channels=2, num_classes=7).eval()
    _, h, w = spec.input_shape
    with torch.no_grad():
        out = model(torch.empty(3, 2, h, w, device="meta"))
    assert tuple(out.shape) == (3, 7)
    assert n_params(model) != spec.params


def test_every_contract_id_is_a_classifier():
    assert set(CONTRACT) <= set(CLASSIFIER_IDS)


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
    for model_id in ("lenet", "nin", "googlenet", "resnet18"):
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
