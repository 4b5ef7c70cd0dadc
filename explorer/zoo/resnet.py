"""ResNet: residual blocks whose output is F(x) + x, so a deeper net can always fall back to the identity.

He et al., "Deep Residual Learning for Image Recognition", CVPR 2016 (arXiv:1512.03385). Two versions:

- ``resnet18``: the notes' code (d2l §7.6), 1×96×96 Fashion-MNIST input;
- ``resnet18-tv``, ``resnet34-tv``, ``resnet50-tv``: torchvision's models, same ``state_dict`` keys and shapes.
"""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn

from ..i18n import N_, InvalidValue
from .registry import Erratum, ModelSpec, register_model

PAPER = "He et al., Deep Residual Learning for Image Recognition, CVPR 2016 (arXiv:1512.03385)"

# ---------------------------------------------------------------------------------------------------------------
# Architecture as data
# ---------------------------------------------------------------------------------------------------------------
# The notes' ResNet-18 stages b2–b5: (input_channels, num_channels, num_residuals, first_block).
D2L_RESNET18_STAGES: tuple[tuple[int, int, int, bool], ...] = (
    (64, 64, 2, True),
    (64, 128, 2, False),
    (128, 256, 2, False),
    (256, 512, 2, False),
)

# torchvision: residual blocks per stage (layer1 … layer4); the block kind is in TV_CFGS below.
TV_LAYERS: dict[str, tuple[int, int, int, int]] = {
    "resnet18": (2, 2, 2, 2),
    "resnet34": (3, 4, 6, 3),
    "resnet50": (3, 4, 6, 3),
}


# ---------------------------------------------------------------------------------------------------------------
# Blocks
# ---------------------------------------------------------------------------------------------------------------
class Residual(nn.Module):
    """The notes' residual block (d2l), with their bug fixed: ``self.conv3 = None`` when there is no 1×1 conv.

    Two 3×3 convolutions with batch norm; the input is added before the last ReLU, through a 1×1 convolution
    (``conv3``) when the channels or the size change. The notes' unused ``self.relu`` (inplace) is replaced by
    two ReLU modules so that forward hooks see both; ReLU has no parameters, so the count is unchanged.
    """

    def __init__(self, input_channels: int, num_channels: int, use_1x1conv: bool = False, strides: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(input_channels, num_channels, kernel_size=3, padding=1, stride=strides)
        self.conv2 = nn.Conv2d(num_channels, num_channels, kernel_size=3, padding=1)
        self.conv3: nn.Conv2d | None
        if use_1x1conv:
            self.conv3 = nn.Conv2d(input_channels, num_channels, kernel_size=1, stride=strides)
        else:
            self.conv3 = None  # the notes write `self.conv = None`, so `self.conv3` did not exist
        self.bn1 = nn.BatchNorm2d(num_channels)
        self.bn2 = nn.BatchNorm2d(num_channels)
        self.relu1 = nn.ReLU()
        self.relu2 = nn.ReLU()

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        # N x input_channels x H x W
        Y = self.relu1(self.bn1(self.conv1(X)))  # N x num_channels x H/strides x W/strides
        Y = self.bn2(self.conv2(Y))  # N x num_channels x H/strides x W/strides
        if self.conv3 is not None:
            X = self.conv3(X)  # N x num_channels x H/strides x W/strides
        # Out of place (the notes write `Y += X`): a hook may still hold bn2's output.
        return self.relu2(Y + X)  # N x num_channels x H/strides x W/strides


def resnet_block(
    input_channels: int, num_channels: int, num_residuals: int, first_block: bool = False
) -> nn.Sequential:
    """The notes' ``resnet_block``: ``num_residuals`` blocks; the first halves H×W and changes the channels.

    ``first_block=True`` (stage b2, right after the stem's max-pool) keeps both, so it needs no 1×1 convolution.
    """
    blk: list[nn.Module] = []
    for i in range(num_residuals):
        if i == 0 and not first_block:
            blk.append(Residual(input_channels, num_channels, use_1x1conv=True, strides=2))
        else:
            blk.append(Residual(num_channels, num_channels))
    return nn.Sequential(*blk)


def conv3x3(in_planes: int, out_planes: int, stride: int = 1) -> nn.Conv2d:
    """3×3 convolution with padding 1, no bias (batch norm follows)."""
    return nn.Conv2d(in_planes, out_planes, kernel_size=3, stride=stride, padding=1, bias=False)


def conv1x1(in_planes: int, out_planes: int, stride: int = 1) -> nn.Conv2d:
    """1×1 convolution, no bias."""
    return nn.Conv2d(in_planes, out_planes, kernel_size=1, stride=stride, bias=False)


class BasicBlock(nn.Module):
    """torchvision's two-3×3 residual block (ResNet-18/34); ``downsample`` is ``Sequential(conv1x1, BN)``."""

    expansion = 1

    def __init__(self, inplanes: int, planes: int, stride: int = 1, downsample: nn.Module | None = None) -> None:
        super().__init__()
        self.conv1 = conv3x3(inplanes, planes, stride)
        self.bn1 = nn.BatchNorm2d(planes)
        # torchvision's ReLU is inplace; out of place here so backward hooks and held hook outputs stay valid.
        self.relu = nn.ReLU()
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # N x inplanes x H x W
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))  # N x planes x H/stride x W/stride
        out = self.bn2(self.conv2(out))  # N x planes x H/stride x W/stride
        if self.downsample is not None:
            identity = self.downsample(x)  # N x planes x H/stride x W/stride
        return self.relu(out + identity)  # N x planes x H/stride x W/stride


class Bottleneck(nn.Module):
    """torchvision's 1×1–3×3–1×1 bottleneck (ResNet-50), stride on the 3×3 convolution (ResNet v1.5)."""

    expansion = 4

    def __init__(self, inplanes: int, planes: int, stride: int = 1, downsample: nn.Module | None = None) -> None:
        super().__init__()
        width = planes
        self.conv1 = conv1x1(inplanes, width)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = conv3x3(width, width, stride)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = conv1x1(width, planes * self.expansion)
        self.bn3 = nn.BatchNorm2d(planes * self.expansion)
        self.relu = nn.ReLU()  # out of place, as in BasicBlock
        self.downsample = downsample
        self.stride = stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # N x inplanes x H x W
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))  # N x planes x H x W
        out = self.relu(self.bn2(self.conv2(out)))  # N x planes x H/stride x W/stride
        out = self.bn3(self.conv3(out))  # N x 4·planes x H/stride x W/stride
        if self.downsample is not None:
            identity = self.downsample(x)  # N x 4·planes x H/stride x W/stride
        return self.relu(out + identity)  # N x 4·planes x H/stride x W/stride


TV_CFGS: dict[str, type[BasicBlock | Bottleneck]] = {
    "resnet18": BasicBlock,
    "resnet34": BasicBlock,
    "resnet50": Bottleneck,
}


# ---------------------------------------------------------------------------------------------------------------
# Model class
# ---------------------------------------------------------------------------------------------------------------
class ResNet(nn.Module):
    """torchvision's ``ResNet`` (no groups, no dilation): identical ``state_dict`` keys and shapes."""

    def __init__(
        self,
        block: type[BasicBlock | Bottleneck],
        layers: tuple[int, int, int, int],
        in_channels: int = 3,
        num_classes: int = 1000,
        zero_init_residual: bool = False,
    ) -> None:
        super().__init__()
        self.inplanes = 64
        self.conv1 = nn.Conv2d(in_channels, self.inplanes, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(self.inplanes)
        self.relu = nn.ReLU()
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(block, 64, layers[0])
        self.layer2 = self._make_layer(block, 128, layers[1], stride=2)
        self.layer3 = self._make_layer(block, 256, layers[2], stride=2)
        self.layer4 = self._make_layer(block, 512, layers[3], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512 * block.expansion, num_classes)

        # torchvision's initialisation; these in-place inits are no-ops on the meta device.
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)
        if zero_init_residual:
            for m in self.modules():
                if isinstance(m, Bottleneck):
                    nn.init.constant_(m.bn3.weight, 0)
                elif isinstance(m, BasicBlock):
                    nn.init.constant_(m.bn2.weight, 0)

    def _make_layer(
        self, block: type[BasicBlock | Bottleneck], planes: int, blocks: int, stride: int = 1
    ) -> nn.Sequential:
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(
                conv1x1(self.inplanes, planes * block.expansion, stride),
                nn.BatchNorm2d(planes * block.expansion),
            )
        layers: list[nn.Module] = [block(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes * block.expansion
        layers += [block(self.inplanes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # N x 3 x 224 x 224; e = block.expansion (1 for ResNet-18/34, 4 for ResNet-50)
        x = self.relu(self.bn1(self.conv1(x)))  # N x 64 x 112 x 112
        x = self.maxpool(x)  # N x 64 x 56 x 56
        x = self.layer1(x)  # N x 64e x 56 x 56
        x = self.layer2(x)  # N x 128e x 28 x 28
        x = self.layer3(x)  # N x 256e x 14 x 14
        x = self.layer4(x)  # N x 512e x 7 x 7
        x = self.avgpool(x)  # N x 512e x 1 x 1
        x = torch.flatten(x, 1)  # N x 512e
        return self.fc(x)  # N x num_classes


# ---------------------------------------------------------------------------------------------------------------
# Builders
# ---------------------------------------------------------------------------------------------------------------
def resnet18(in_channels: int = 1, num_classes: int = 10) -> nn.Sequential:
    """The notes' ResNet-18 (d2l): stem ``b1``, stages ``b2`` … ``b5``, global average pool, ``fc``.

    Shapes in the comments are for a 96×96 input.
    """
    b1 = nn.Sequential(
        nn.Conv2d(in_channels, 64, kernel_size=7, stride=2, padding=3),  # N x 64 x 48 x 48
        nn.BatchNorm2d(64), nn.ReLU(),
        nn.MaxPool2d(kernel_size=3, stride=2, padding=1),  # N x 64 x 24 x 24
    )
    # b2: N x 64 x 24 x 24, b3: N x 128 x 12 x 12, b4: N x 256 x 6 x 6, b5: N x 512 x 3 x 3
    stages = {f"b{i}": resnet_block(*cfg) for i, cfg in enumerate(D2L_RESNET18_STAGES, start=2)}
    return nn.Sequential(OrderedDict(
        b1=b1,
        **stages,
        avgpool=nn.AdaptiveAvgPool2d((1, 1)),  # N x 512 x 1 x 1
        flatten=nn.Flatten(),  # N x 512
        fc=nn.Linear(D2L_RESNET18_STAGES[-1][1], num_classes),  # N x num_classes
    ))


def _resnet_tv(arch: str, in_channels: int, num_classes: int) -> ResNet:
    return ResNet(TV_CFGS[arch], TV_LAYERS[arch], in_channels=in_channels, num_classes=num_classes)


def resnet18_tv(in_channels: int = 3, num_classes: int = 1000) -> ResNet:
    """torchvision-compatible ResNet-18 (``BasicBlock``, 2-2-2-2)."""
    return _resnet_tv("resnet18", in_channels, num_classes)


def resnet34_tv(in_channels: int = 3, num_classes: int = 1000) -> ResNet:
    """torchvision-compatible ResNet-34 (``BasicBlock``, 3-4-6-3)."""
    return _resnet_tv("resnet34", in_channels, num_classes)


def resnet50_tv(in_channels: int = 3, num_classes: int = 1000) -> ResNet:
    """torchvision-compatible ResNet-50 (``Bottleneck`` v1.5, 3-4-6-3)."""
    return _resnet_tv("resnet50", in_channels, num_classes)


INTRODUCED = N_("Residual connections: each block learns F(x) and outputs F(x) + x, so networks can go 100+ layers "
                "deep.")

register_model(ModelSpec(
    id="resnet18",
    family="ResNet",
    title=N_("ResNet-18 (d2l)"),
    year=2015,
    paper=PAPER,
    input_shape=(1, 96, 96),
    num_classes=10,
    builder=resnet18,
    params=11_178_378,
    d2l_result=N_("ResNet-18 0.89–0.92 (96 px, lr 0.05, 10 epochs)"),
    introduced=INTRODUCED,
    notes=(
        N_("A 7×7 convolution stem with batch norm and max-pool, then four stages of two residual blocks each "
           "(64, 128, 256, 512 channels); every stage after the first starts with a block that halves H×W and "
           "adds the input through a 1×1 convolution. 17 convolutions + 1 linear layer = 18 weight layers. This is "
           "d2l's version: convolutions with bias, 96×96 Fashion-MNIST input.")
    ),
    errata=(Erratum(
        title=N_("Residual sets self.conv instead of self.conv3 when there is no 1×1 convolution"),
        notes_code=(
            "if use_1x1conv:\n"
            "    self.conv3 = nn.Conv2d(input_channels, num_channels, kernel_size=1, stride=strides)\n"
            "else:\n"
            "    self.conv = None\n"
            "...\n"
            "if self.conv3:\n"
            "    X = self.conv3(X)"
        ),
        fixed_code=(
            "if use_1x1conv:\n"
            "    self.conv3 = nn.Conv2d(input_channels, num_channels, kernel_size=1, stride=strides)\n"
            "else:\n"
            "    self.conv3 = None\n"
            "...\n"
            "if self.conv3 is not None:\n"
            "    X = self.conv3(X)"
        ),
        why=(
            N_("forward reads self.conv3, which a block built without use_1x1conv never sets, so the call raises "
               "AttributeError: 'Residual' object has no attribute 'conv3'. That breaks the notes' own example "
               "Residual(3, 3) and every ResNet-18 forward pass (its first residual block has no 1×1 convolution). "
               "Parameters are unaffected.")
        ),
    ),),
))

# A ResNet sized for 28×28 Fashion-MNIST on a CPU: the notes' Residual blocks, three stages, no stem max-pool.
FMNIST_RESNET_STAGES = ((32, 32, 2, True), (32, 64, 2), (64, 128, 2))


def resnet_fmnist(in_channels: int = 1, num_classes: int = 10) -> nn.Sequential:
    """ResNet-14 for 28×28: 3×3 stem (32 channels), stages of two Residual blocks (32, 64, 128 channels: 28 → 14
    → 7), global average pool, linear. 13 convolutions on the longest path + 1 linear layer."""
    stem = nn.Sequential(nn.Conv2d(in_channels, 32, kernel_size=3, padding=1), nn.BatchNorm2d(32), nn.ReLU())
    stages = {f"b{i}": resnet_block(*cfg) for i, cfg in enumerate(FMNIST_RESNET_STAGES, start=2)}
    return nn.Sequential(OrderedDict(
        b1=stem,  # N x 32 x 28 x 28
        **stages,  # b2: N x 32 x 28 x 28, b3: N x 64 x 14 x 14, b4: N x 128 x 7 x 7
        avgpool=nn.AdaptiveAvgPool2d((1, 1)),
        flatten=nn.Flatten(),
        fc=nn.Linear(FMNIST_RESNET_STAGES[-1][1], num_classes),
    ))


register_model(ModelSpec(
    id="resnet-fmnist",
    family="ResNet",
    title=N_("ResNet-14 for 28×28 Fashion-MNIST (the notes' Residual blocks)"),
    year=2015,
    paper=PAPER,
    input_shape=(1, 28, 28),
    num_classes=10,
    builder=resnet_fmnist,
    params=696_778,
    introduced=N_("The notes' residual blocks in a network small enough to train on a CPU; shipped trained."),
    notes=(
        N_("Not one of the paper's networks: d2l's Residual blocks (with the conv3 fix) in three stages of two "
           "blocks (32, 64, 128 channels) on 28×28 input, without the 7×7 stem and its max-pool. Trained on "
           "Fashion-MNIST by `python -m explorer train resnet-fmnist`; the weights ship with the app.")
    ),
    d2l_result=N_("ResNet-18 0.89–0.92 (96 px, lr 0.05, 10 epochs)"),
))

_TV_TITLES = {"resnet18": N_("ResNet-18 (torchvision)"), "resnet34": N_("ResNet-34 (torchvision)"),
              "resnet50": N_("ResNet-50 (torchvision)")}
_TV_NOTES = {  # written out so that the catalog extracts each sentence as it is shown
    "resnet18": N_("Same `state_dict` keys and shapes as `torchvision.models.resnet18`: BasicBlock ×(2, 2, 2, 2). "
                   "Convolutions have no bias (batch norm follows); where a block changes size or channels, the "
                   "shortcut is `downsample` = 1×1 convolution + batch norm."),
    "resnet34": N_("Same `state_dict` keys and shapes as `torchvision.models.resnet34`: BasicBlock ×(3, 4, 6, 3). "
                   "Convolutions have no bias (batch norm follows); where a block changes size or channels, the "
                   "shortcut is `downsample` = 1×1 convolution + batch norm."),
    "resnet50": N_("Same `state_dict` keys and shapes as `torchvision.models.resnet50`: Bottleneck ×(3, 4, 6, 3), "
                   "stride on the 3×3 conv (v1.5). Convolutions have no bias (batch norm follows); where a block "
                   "changes size or channels, the shortcut is `downsample` = 1×1 convolution + batch norm."),
}

for _id, _arch, _builder, _params in (
    ("resnet18-tv", "resnet18", resnet18_tv, 11_689_512),
    ("resnet34-tv", "resnet34", resnet34_tv, 21_797_672),
    ("resnet50-tv", "resnet50", resnet50_tv, 25_557_032),
):
    register_model(ModelSpec(
        id=_id,
        family="ResNet",
        title=_TV_TITLES[_arch],
        year=2015,
        paper=PAPER,
        input_shape=(3, 224, 224),
        num_classes=1000,
        builder=_builder,
        params=_params,
        introduced=INTRODUCED,
        notes=_TV_NOTES[_arch],
        source="torchvision",
    ))


# ===============================================================================================================
# Residual block variants: where the addition and the activation sit (the notes: 不同的残差块：可以加在不同的位置).
# He, Zhang, Ren, Sun, "Identity Mappings in Deep Residual Networks", ECCV 2016 (arXiv:1603.05027), Fig. 4 (a)–(e),
# plus the notes' second implementation (1×1 convolution on the shortcut). Each id is one block on ResNet's
# conv2_x input (64×56×56); the output is a feature map.
# ===============================================================================================================
IDENTITY_PAPER = "He, Zhang, Ren, Sun, Identity Mappings in Deep Residual Networks, ECCV 2016 (arXiv:1603.05027)"

# Architecture as data: variant → (the residual branch F, what follows the addition), in order. "conv" is a 3×3
# convolution (no bias: batch norm follows or precedes it), "bn" batch norm, "relu" ReLU.
RESIDUAL_PLACEMENTS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "original": (("conv", "bn", "relu", "conv", "bn"), ("relu",)),  # (a) the 2015 block
    "bn-after-add": (("conv", "bn", "relu", "conv"), ("bn", "relu")),  # (b)
    "relu-before-add": (("conv", "bn", "relu", "conv", "bn", "relu"), ()),  # (c)
    "relu-only-preact": (("relu", "conv", "bn", "relu", "conv", "bn"), ()),  # (d)
    "full-preact": (("bn", "relu", "conv", "bn", "relu", "conv"), ()),  # (e) ResNet v2
}
PLACEMENT_TITLES = {
    "original": N_("(a) original: addition, then ReLU"),
    "bn-after-add": N_("(b) batch norm after the addition"),
    "relu-before-add": N_("(c) ReLU before the addition"),
    "relu-only-preact": N_("(d) ReLU-only pre-activation"),
    "full-preact": N_("(e) full pre-activation (ResNet v2)"),
}
# He et al. 2016, Table 2: ResNet-110 on CIFAR-10, test error (%) with each placement.
PLACEMENT_CIFAR10_ERROR = {
    "original": "6.61", "bn-after-add": "8.17", "relu-before-add": "7.84", "relu-only-preact": "6.71",
    "full-preact": "6.37",
}


def _layer(kind: str, channels: int) -> nn.Module:
    if kind == "conv":
        return nn.Conv2d(channels, channels, kernel_size=3, padding=1, bias=False)
    if kind == "bn":
        return nn.BatchNorm2d(channels)
    if kind == "relu":
        return nn.ReLU()
    raise InvalidValue(N_("unknown layer kind {kind}: expected conv, bn or relu"), kind=repr(kind))


class PlacedResidual(nn.Module):
    """A residual block built from a placement: ``branch`` (F) on the residual path, the identity on the shortcut,
    their sum, then ``after`` (nothing for (c)–(e): the shortcut reaches the next block untouched)."""

    def __init__(self, channels: int = 64, placement: str = "original") -> None:
        super().__init__()
        branch, after = RESIDUAL_PLACEMENTS[placement]
        self.placement = placement
        self.branch = nn.Sequential(*(_layer(k, channels) for k in branch))
        self.after = nn.Sequential(*(_layer(k, channels) for k in after)) if after else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # N x C x H x W throughout
        y = self.branch(x) + x  # F(x) + x
        return self.after(y) if self.after is not None else y


def _placement_builder(placement: str):
    def build(channels: int = 64) -> PlacedResidual:
        return PlacedResidual(channels, placement)

    build.__name__ = f"resblock_{placement.replace('-', '_')}"
    return build


def resblock_1x1conv(input_channels: int = 64, num_channels: int = 128) -> Residual:
    """The notes' second implementation: ``Residual(64, 128, use_1x1conv=True, strides=2)`` — a 1×1 convolution
    on the shortcut matches the halved size and doubled channels."""
    return Residual(input_channels, num_channels, use_1x1conv=True, strides=2)


# Each placement's description, written out (the catalog extracts each sentence as it is shown; a test holds
# them to RESIDUAL_PLACEMENTS, PLACEMENT_TITLES and PLACEMENT_CIFAR10_ERROR): variant → (title, introduced, notes).
PLACEMENT_TEXTS = {
    "original": (
        N_("Residual block (a) original: addition, then ReLU"),
        N_("Residual path: conv → bn → relu → conv → bn; then add x; then relu."),
        N_("He et al. 2016, Fig. 4(a): the same two 3×3 convolutions and two batch norms, in a different "
           "order around the addition — the parameter count does not change, what the shortcut carries "
           "does. ResNet-110 on CIFAR-10 with this block: 6.61% test error (the paper's Table 2)."),
    ),
    "bn-after-add": (
        N_("Residual block (b) batch norm after the addition"),
        N_("Residual path: conv → bn → relu → conv; then add x; then bn → relu."),
        N_("He et al. 2016, Fig. 4(b): the same two 3×3 convolutions and two batch norms, in a different "
           "order around the addition — the parameter count does not change, what the shortcut carries "
           "does. ResNet-110 on CIFAR-10 with this block: 8.17% test error (the paper's Table 2)."),
    ),
    "relu-before-add": (
        N_("Residual block (c) ReLU before the addition"),
        N_("Residual path: conv → bn → relu → conv → bn → relu; then add x; nothing after the addition."),
        N_("He et al. 2016, Fig. 4(c): the same two 3×3 convolutions and two batch norms, in a different "
           "order around the addition — the parameter count does not change, what the shortcut carries "
           "does. ResNet-110 on CIFAR-10 with this block: 7.84% test error (the paper's Table 2)."),
    ),
    "relu-only-preact": (
        N_("Residual block (d) ReLU-only pre-activation"),
        N_("Residual path: relu → conv → bn → relu → conv → bn; then add x; nothing after the addition."),
        N_("He et al. 2016, Fig. 4(d): the same two 3×3 convolutions and two batch norms, in a different "
           "order around the addition — the parameter count does not change, what the shortcut carries "
           "does. ResNet-110 on CIFAR-10 with this block: 6.71% test error (the paper's Table 2)."),
    ),
    "full-preact": (
        N_("Residual block (e) full pre-activation (ResNet v2)"),
        N_("Residual path: bn → relu → conv → bn → relu → conv; then add x; nothing after the addition."),
        N_("He et al. 2016, Fig. 4(e): the same two 3×3 convolutions and two batch norms, in a different "
           "order around the addition — the parameter count does not change, what the shortcut carries "
           "does. ResNet-110 on CIFAR-10 with this block: 6.37% test error (the paper's Table 2)."),
    ),
}

_BLOCK_INPUT = (64, 56, 56)
# 2 convolutions 64·64·3·3 + 2 batch norms of 64 (scale, shift): the same in every placement.
_PLACED_PARAMS = 2 * 64 * 64 * 9 + 2 * 2 * 64

for _placement in RESIDUAL_PLACEMENTS:
    register_model(ModelSpec(
        id=f"resblock-{_placement}",
        family="ResNet",
        title=PLACEMENT_TEXTS[_placement][0],
        year=2016,
        paper=IDENTITY_PAPER,
        input_shape=_BLOCK_INPUT,
        num_classes=_BLOCK_INPUT[0],
        builder=_placement_builder(_placement),
        params=_PLACED_PARAMS,
        introduced=PLACEMENT_TEXTS[_placement][1],
        notes=PLACEMENT_TEXTS[_placement][2],
        source="paper",
        output_shape=_BLOCK_INPUT,
        output=N_("the block's feature map"),
    ))

register_model(ModelSpec(
    id="resblock-1x1conv",
    family="ResNet",
    title=N_("Residual block with a 1×1 convolution on the shortcut (the notes' second implementation)"),
    year=2015,
    paper=PAPER,
    input_shape=_BLOCK_INPUT,
    num_classes=128,
    builder=resblock_1x1conv,
    params=230_272,
    introduced=N_("Halve H×W and double the channels: a 1×1 stride-2 convolution makes x fit F(x) for the addition."),
    notes=(
        N_("The notes' `Residual(64, 128, use_1x1conv=True, strides=2)` (d2l, with the conv3 fix): 3×3 stride-2 "
           "and 3×3 convolutions with bias and batch norm on the residual path, a 1×1 stride-2 convolution on the "
           "shortcut; 64×56×56 in, 128×28×28 out.")
    ),
    output_shape=(128, 28, 28),
    output=N_("the block's feature map"),
))
