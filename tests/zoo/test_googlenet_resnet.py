"""GoogLeNet and ResNet: exact parameter counts, torchvision state_dict layouts, and the notes' errata fixed."""

from __future__ import annotations

import importlib
import itertools

import pytest
import torch
from torch import nn
from torch.nn import functional as F

googlenet = importlib.import_module("explorer.zoo.googlenet")
resnet = importlib.import_module("explorer.zoo.resnet")
registry = importlib.import_module("explorer.zoo.registry")

PARAMS = {
    "googlenet": 5_977_530,
    "googlenet-tv": 6_624_904,
    "resnet18": 11_178_378,
    "resnet18-tv": 11_689_512,
    "resnet34-tv": 21_797_672,
    "resnet50-tv": 25_557_032,
}
D2L_IDS = ("googlenet", "resnet18")
TV_IDS = ("googlenet-tv", "resnet18-tv", "resnet34-tv", "resnet50-tv")


def n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


# ---------------------------------------------------------------------------------------------------------------
# torchvision's layouts, written out independently of the zoo's modules.
# ---------------------------------------------------------------------------------------------------------------
BN_KEYS = ("weight", "bias", "running_mean", "running_var", "num_batches_tracked")


def bn(prefix: str) -> list[str]:
    return [f"{prefix}.{k}" for k in BN_KEYS]


def basic_conv2d(prefix: str) -> list[str]:
    """torchvision GoogLeNet's BasicConv2d: conv (no bias) + bn."""
    return [f"{prefix}.conv.weight", *bn(f"{prefix}.bn")]


def tv_googlenet_keys() -> list[str]:
    keys = basic_conv2d("conv1") + basic_conv2d("conv2") + basic_conv2d("conv3")
    for name in ("3a", "3b", "4a", "4b", "4c", "4d", "4e", "5a", "5b"):
        p = f"inception{name}"
        for sub in ("branch1", "branch2.0", "branch2.1", "branch3.0", "branch3.1", "branch4.1"):
            keys += basic_conv2d(f"{p}.{sub}")
    return [*keys, "fc.weight", "fc.bias"]


def tv_resnet_keys(bottleneck: bool, layers: tuple[int, ...]) -> list[str]:
    convs, expansion = (3, 4) if bottleneck else (2, 1)
    keys = ["conv1.weight", *bn("bn1")]
    inplanes = 64
    for i, (blocks, planes) in enumerate(zip(layers, (64, 128, 256, 512), strict=True), start=1):
        for b in range(blocks):
            p = f"layer{i}.{b}"
            for c in range(1, convs + 1):
                keys += [f"{p}.conv{c}.weight", *bn(f"{p}.bn{c}")]
            if b == 0 and (i > 1 or inplanes != planes * expansion):
                keys += [f"{p}.downsample.0.weight", *bn(f"{p}.downsample.1")]
        inplanes = planes * expansion
    return [*keys, "fc.weight", "fc.bias"]


TV_KEYS = {
    "googlenet-tv": tv_googlenet_keys(),
    "resnet18-tv": tv_resnet_keys(False, (2, 2, 2, 2)),
    "resnet34-tv": tv_resnet_keys(False, (3, 4, 6, 3)),
    "resnet50-tv": tv_resnet_keys(True, (3, 4, 6, 3)),
}

# Counted by hand from torchvision's layout (6 keys per conv+bn, 2 for fc):
#   googlenet-tv: (3 stem + 9 Inception × 6) BasicConv2d × 6 + 2 = 57 × 6 + 2 = 344 (no aux1/aux2)
#   resnet18-tv:  stem 6 + 8 blocks × 12 + 3 downsample × 6 + 2 = 122
#   resnet34-tv:  stem 6 + 16 blocks × 12 + 3 downsample × 6 + 2 = 218
#   resnet50-tv:  stem 6 + 16 blocks × 18 + 4 downsample × 6 + 2 = 320 (161 parameters + 159 BN buffers)
TV_KEY_COUNTS = {"googlenet-tv": 344, "resnet18-tv": 122, "resnet34-tv": 218, "resnet50-tv": 320}

TV_SHAPES = {
    "googlenet-tv": {
        "conv1.conv.weight": (64, 3, 7, 7),
        "conv3.conv.weight": (192, 64, 3, 3),
        "inception3a.branch3.1.conv.weight": (32, 16, 3, 3),  # torchvision's 3×3 where the paper has 5×5
        "inception3a.branch4.1.conv.weight": (32, 192, 1, 1),
        "inception4e.branch2.1.bn.running_mean": (320,),
        "inception5b.branch1.conv.weight": (384, 832, 1, 1),
        "conv1.bn.num_batches_tracked": (),
        "fc.weight": (1000, 1024),
        "fc.bias": (1000,),
    },
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


# ---------------------------------------------------------------------------------------------------------------
# Parameter counts, forward passes, meta device
# ---------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("model_id", list(PARAMS))
def test_exact_param_count(model_id: str) -> None:
    spec = registry.get_spec(model_id)
    assert spec.params == PARAMS[model_id]
    with torch.device("meta"):
        model = spec.build()
    assert n_params(model) == PARAMS[model_id], model_id


@pytest.mark.parametrize("model_id", D2L_IDS)
def test_d2l_forward_real_tensor(model_id: str) -> None:
    spec = registry.get_spec(model_id)
    model = spec.build().eval()
    with torch.no_grad():
        out = model(torch.rand(1, *spec.input_shape))
    assert out.shape == (1, spec.num_classes)
    assert torch.isfinite(out).all()


@pytest.mark.parametrize("model_id", list(PARAMS))
def test_meta_build_and_forward(model_id: str) -> None:
    spec = registry.get_spec(model_id)
    with torch.device("meta"):
        model = spec.build()
        out = model(torch.empty(2, *spec.input_shape))
    assert out.shape == (2, spec.num_classes)
    assert not any(isinstance(m, nn.modules.lazy.LazyModuleMixin) for m in model.modules())


@pytest.mark.parametrize("model_id", list(PARAMS))
def test_overrides(model_id: str) -> None:
    spec = registry.get_spec(model_id)
    in_channels = 3 if spec.input_shape[0] == 1 else 1
    with torch.device("meta"):
        model = spec.build(in_channels=in_channels, num_classes=7)
        out = model(torch.empty(1, in_channels, *spec.input_shape[1:]))
    assert out.shape == (1, 7)


@pytest.mark.parametrize("model_id", list(PARAMS))
def test_spec_metadata(model_id: str) -> None:
    spec = registry.get_spec(model_id)
    family, year = ("GoogLeNet", 2014) if model_id.startswith("googlenet") else ("ResNet", 2015)
    assert (spec.family, spec.year) == (family, year)
    assert spec.source == ("torchvision" if model_id in TV_IDS else "d2l")
    assert spec.input_shape == ((3, 224, 224) if model_id in TV_IDS else (1, 96, 96))
    assert spec.num_classes == (1000 if model_id in TV_IDS else 10)
    assert spec.introduced and spec.notes and spec.paper


def test_every_leaf_module_is_called_in_forward() -> None:
    """ReLUs are modules, so forward hooks (the layer table) see every step of the d2l nets."""
    for model_id in D2L_IDS:
        with torch.device("meta"):
            model = registry.build(model_id)
        called: set[str] = set()
        for name, m in model.named_modules():
            if not list(m.children()):
                m.register_forward_hook(lambda *_, name=name, called=called: called.add(name))
        model(torch.empty(1, *registry.get_spec(model_id).input_shape, device="meta"))
        leaves = {name for name, m in model.named_modules() if not list(m.children())}
        assert called == leaves, model_id
    inception = googlenet.Inception(*googlenet.INCEPTION_CFGS["3a"])
    assert sum(isinstance(m, nn.ReLU) for m in inception.modules()) == 6


# ---------------------------------------------------------------------------------------------------------------
# torchvision compatibility
# ---------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("model_id", TV_IDS)
def test_tv_state_dict_keys(model_id: str) -> None:
    with torch.device("meta"):
        state = registry.build(model_id).state_dict()
    expected = TV_KEYS[model_id]
    assert len(expected) == TV_KEY_COUNTS[model_id]
    assert len(set(expected)) == len(expected)
    assert list(state) == expected
    assert not any(k.startswith(("aux1.", "aux2.")) for k in state)


@pytest.mark.parametrize("model_id", TV_IDS)
def test_tv_key_shapes(model_id: str) -> None:
    with torch.device("meta"):
        state = registry.build(model_id).state_dict()
    for key, shape in TV_SHAPES[model_id].items():
        assert tuple(state[key].shape) == shape, key


@pytest.mark.parametrize("model_id", TV_IDS)
def test_tv_strict_load_of_a_checkpoint_shaped_state_dict(model_id: str) -> None:
    """A state dict with torchvision's keys loads strictly into a fresh model."""
    spec = registry.get_spec(model_id)
    with torch.device("meta"):
        shapes = {k: (v.shape, v.dtype) for k, v in spec.build().state_dict().items()}
    checkpoint = {k: torch.zeros(shape, dtype=dtype) for k, (shape, dtype) in shapes.items()}
    assert set(checkpoint) == set(TV_KEYS[model_id])
    model = spec.build(init_weights=False) if model_id == "googlenet-tv" else spec.build()
    model.load_state_dict(checkpoint, strict=True)


def test_resnet50_bottleneck_strides_on_3x3() -> None:
    with torch.device("meta"):
        model = registry.build("resnet50-tv")
    block = model.layer2[0]
    assert block.conv1.stride == (1, 1)
    assert block.conv2.stride == (2, 2)
    assert block.downsample[0].stride == (2, 2)


def test_googlenet_tv_layout() -> None:
    with torch.device("meta"):
        model = registry.build("googlenet-tv")
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
# The notes' errata: recorded, and really fixed
# ---------------------------------------------------------------------------------------------------------------
def test_googlenet_errata_recorded_and_fixed() -> None:
    spec = registry.get_spec("googlenet")
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
    spec = registry.get_spec("resnet18")
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
    model = registry.build("resnet18")
    assert list(dict(model.named_children())) == ["b1", "b2", "b3", "b4", "b5", "avgpool", "flatten", "fc"]
    assert all(blk.conv3 is None for blk in model.b2)
    for stage in (model.b3, model.b4, model.b5):
        assert stage[0].conv3 is not None and stage[0].conv1.stride == (2, 2)
        assert stage[1].conv3 is None
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d) and m.kernel_size != (1, 1)]
    assert len(convs) == 17  # + fc = the 18 weight layers of ResNet-18
